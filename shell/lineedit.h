/* SPDX-License-Identifier: MIT */
/*
 * The one line-editing seam (as Lua's lua.c lua_readline/lua_saveline):
 * GNU readline, libedit, or plain stdio, chosen at build time.
 */
#ifndef IOMMUSH_LINEEDIT_H
#define IOMMUSH_LINEEDIT_H

#include <stdbool.h>

/* Loads history from path (may be NULL). */
void le_init(const char *history_path, bool interactive);
void le_deinit(void);
/* A malloc'd line without its newline, or NULL at end of input. */
char *le_readline(const char *prompt);
void le_add_history(const char *line);
/* Which implementation was built: "readline", "libedit" or "stdio". */
const char *le_name(void);

#endif
