// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lineedit.h"

#if HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#define LE_NAME "readline"
#elif HAVE_LIBEDIT
#include <editline/readline.h>
#define LE_NAME "libedit"
#else
#define LE_NAME "stdio"
#endif

static char *history_file;
static bool use_editor;

const char *le_name(void)
{
	return LE_NAME;
}

void le_init(const char *history_path, bool interactive)
{
	use_editor = interactive && (HAVE_READLINE || HAVE_LIBEDIT);
#if HAVE_READLINE || HAVE_LIBEDIT
	if (use_editor && history_path) {
		history_file = strdup(history_path);
		using_history();
		read_history(history_file);
		stifle_history(5000);
	}
#else
	(void)history_path;
#endif
}

void le_deinit(void)
{
#if HAVE_READLINE || HAVE_LIBEDIT
	if (use_editor && history_file)
		write_history(history_file);
#endif
	free(history_file);
	history_file = NULL;
}

static char *plain_readline(const char *prompt)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (prompt) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = 0;
	return line;
}

char *le_readline(const char *prompt)
{
#if HAVE_READLINE || HAVE_LIBEDIT
	if (use_editor)
		return readline(prompt);
#endif
	return plain_readline(prompt);
}

void le_add_history(const char *line)
{
#if HAVE_READLINE || HAVE_LIBEDIT
	if (use_editor && line[strspn(line, " \t")])
		add_history(line);
#else
	(void)line;
#endif
}
