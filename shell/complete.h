/* SPDX-License-Identifier: MIT */
#ifndef IOMMUSH_COMPLETE_H
#define IOMMUSH_COMPLETE_H

#include <stddef.h>

#include "shell.h"

/* Returned when the word is a file name: let the line editor complete it. */
#define SH_COMPLETE_FILES ((char **)-1)

/*
 * Candidates for the word text that starts at byte start of line: a
 * NULL-terminated malloc'd array of malloc'd strings, NULL if none, or
 * SH_COMPLETE_FILES.
 */
char **sh_complete(struct ish_shell *sh, const char *line, size_t start, const char *text);

#endif
