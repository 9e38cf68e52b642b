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

#include "complete.h"

static char *history_file;
static bool use_editor;
static le_complete_fn *completer;
static volatile sig_atomic_t *sigint_flag;

#if HAVE_READLINE || HAVE_LIBEDIT
static char **pending;		/* candidates being handed out by generate() */
static size_t pending_next;

static char *generate(const char *text, int state)
{
	(void)text;
	if (!state)
		pending_next = 0;
	if (!pending || !pending[pending_next])
		return NULL;
	/* Ownership of each string passes to the line editor. */
	return pending[pending_next++];
}

static char **attempted(const char *text, int start, int end)
{
	char **matches;

	(void)end;
	rl_attempted_completion_over = 1;
	if (!completer)
		return NULL;
	pending = completer(rl_line_buffer, (size_t)start, text);
	if (pending == SH_COMPLETE_FILES) {
		pending = NULL;
		rl_attempted_completion_over = 0;
		return NULL;
	}
	matches = rl_completion_matches(text, generate);
	/* Strings not handed out are still ours. */
	if (pending) {
		for (size_t i = pending_next; pending[i]; i++)
			free(pending[i]);
		free(pending);
		pending = NULL;
	}
	return matches;
}
#endif

#if HAVE_READLINE
/* Runs in readline's own context after a signal: safe to redraw here. */
static int on_signal_event(void)
{
	if (sigint_flag && *sigint_flag) {
		*sigint_flag = 0;
		rl_replace_line("", 0);
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}
#endif

const char *le_name(void)
{
	return LE_NAME;
}

void le_init(const char *history_path, bool interactive, le_complete_fn *complete,
	     volatile sig_atomic_t *interrupted)
{
	use_editor = interactive && (HAVE_READLINE || HAVE_LIBEDIT);
	completer = complete;
	sigint_flag = interrupted;
#if HAVE_READLINE
	if (use_editor) {
		rl_readline_name = "iommush";
		rl_signal_event_hook = on_signal_event;
	}
#endif
#if HAVE_READLINE || HAVE_LIBEDIT
	if (use_editor) {
		rl_attempted_completion_function = attempted;
		rl_basic_word_break_characters = " \t";
	}
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
