// SPDX-License-Identifier: MIT
/* Output helpers: text, errors, usage. JSON goes through json.c. */
#include <stdarg.h>

#include "shell.h"

void sh_printf(struct ish_shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(sh->out, fmt, ap);
	va_end(ap);
}

static void error_prefix(struct ish_shell *sh)
{
	fflush(sh->out);
	if (sh->color)
		fputs("\033[31m", stderr);
	fputs("iommush: ", stderr);
	if (sh->color)
		fputs("\033[0m", stderr);
	if (sh->cmd_name)
		fprintf(stderr, "%s: ", sh->cmd_name);
}

int sh_report(struct ish_shell *sh, struct ish_error *err)
{
	error_prefix(sh);
	fprintf(stderr, "%s\n", err ? err->message : "unknown error");
	ish_error_destroy(err);
	return 1;
}

int sh_error(struct ish_shell *sh, const char *fmt, ...)
{
	va_list ap;

	error_prefix(sh);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int sh_usage(struct ish_shell *sh, const struct ish_command *cmd)
{
	fflush(sh->out);
	fprintf(stderr, "usage: %s\n", cmd->synopsis);
	return 2;
}

bool sh_json(const struct ish_shell *sh)
{
	return sh->mode == OUT_JSON;
}

void sh_color(struct ish_shell *sh, enum sh_color c)
{
	static const char *const seq[] = { "\033[0m", "\033[32m", "\033[1;31m", "\033[2m" };

	/* The pager (less -R) passes colours through; files and pipes get none. */
	if (sh->color_out && sh->mode == OUT_TEXT && (sh->out == stdout || sh->out == sh->pager_file))
		fputs(seq[c], sh->out);
}

void sh_flag(struct ish_shell *sh, const char *name, bool on)
{
	if (on) {
		sh_color(sh, SH_GOOD);
		sh_printf(sh, "%s+", name);
		sh_color(sh, SH_RESET);
	} else {
		sh_printf(sh, "%s-", name);
	}
}

struct ish_target *sh_target(struct ish_shell *sh)
{
	if (!sh->target)
		sh_error(sh, "no target is open (give one on the command line or use 'open TARGET')");
	return sh->target;
}
