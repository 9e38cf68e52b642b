// SPDX-License-Identifier: MIT
/*
 * The interactive loop: the line editor (lineedit.c) with history and
 * completion, ~/.iommushrc first, and each command's output through a pager.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "complete.h"
#include "frontend.h"
#include "lineedit.h"

/* The pager for one command's output, or NULL: $PAGER, else less if it exists. */
static FILE *start_pager(void)
{
	const char *pager = getenv("PAGER");

	if (!pager || !*pager) {
		if (system("command -v less >/dev/null 2>&1"))
			return NULL;
		pager = "less";
	}
	if (!strcmp(pager, "cat"))
		return NULL;
	/* Quit at once if it fits on a screen, keep colours, don't clear the screen. */
	setenv("LESS", getenv("LESS") ? getenv("LESS") : "FRX", 0);
	return popen(pager, "w");
}

static struct ish_shell *complete_shell;

static char **repl_complete(const char *line, size_t start, const char *text)
{
	return sh_complete(complete_shell, line, start, text);
}

static void run_rc_file(struct ish_shell *sh)
{
	const char *rc = getenv("IOMMUSH_RC");
	char *path = NULL;
	struct stat st;

	if (!rc && getenv("HOME") && asprintf(&path, "%s/.iommushrc", getenv("HOME")) >= 0)
		rc = path;
	if (rc && !stat(rc, &st))
		ish_shell_run_file(sh, rc);
	free(path);
}

void ish_repl(struct ish_shell *sh)
{
	char *history = NULL;
	const char *h = getenv("IOMMUSH_HISTORY");
	char *line;

	if (!h && getenv("HOME") && asprintf(&history, "%s/.iommush_history", getenv("HOME")) >= 0)
		h = history;
	complete_shell = sh;
	le_init(h, sh->interactive, repl_complete, &sh->interrupted);
	run_rc_file(sh);
	while (!sh->quit) {
		FILE *pager = NULL;

		sh->interrupted = 0;
		line = le_readline(sh->interactive ? "iommush> " : NULL);
		if (!line) {
			if (sh->interactive)
				putchar('\n');
			break;
		}
		le_add_history(line);
		if (sh->pager && sh->out == stdout && line[strspn(line, " \t")])
			pager = start_pager();
		if (pager)
			sh->out = sh->pager_file = pager;
		ish_shell_run_line(sh, line);
		sh_end_progress(sh);
		if (pager) {
			pclose(pager);
			sh->out = stdout;
			sh->pager_file = NULL;
		}
		free(line);
	}
	le_deinit();
	free(history);
}
