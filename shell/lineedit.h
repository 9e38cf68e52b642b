/* SPDX-License-Identifier: MIT */
/*
 * The one line-editing seam (as Lua's lua.c lua_readline/lua_saveline):
 * GNU readline, libedit, or plain stdio, chosen at build time.
 */
#ifndef IOMMUSH_LINEEDIT_H
#define IOMMUSH_LINEEDIT_H

#include <stdbool.h>

#include <signal.h>
#include <stddef.h>

/*
 * Completion: candidates for the word text starting at byte start of line,
 * as sh_complete() returns them (complete.h).
 */
typedef char **le_complete_fn(const char *line, size_t start, const char *text);

/*
 * Loads history from path (may be NULL). complete may be NULL. interrupted
 * is the flag the SIGINT handler sets: at the prompt, Ctrl-C discards the
 * line being typed and gives a fresh prompt.
 */
void le_init(const char *history_path, bool interactive, le_complete_fn *complete,
	     volatile sig_atomic_t *interrupted);
void le_deinit(void);
/* A malloc'd line without its newline, or NULL at end of input. */
char *le_readline(const char *prompt);
void le_add_history(const char *line);
/* Which implementation was built: "readline", "libedit" or "stdio". */
const char *le_name(void);

#endif
