// SPDX-License-Identifier: MIT
/*
 * The man pages' generated sections (iommush --man-section), from the same
 * tables that drive `help` and the backend registry, so they cannot drift
 * (man/meson.build).
 */
#include <stdio.h>
#include <string.h>

#include <iommush/target.h>

#include "frontend.h"

/* roff text with backslashes and leading dots/quotes made literal */
static void roff_text(FILE *f, const char *s)
{
	bool bol = true;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

static void man_commands(void)
{
	for (const struct ish_command *c = ish_command_next(NULL); c; c = ish_command_next(c)) {
		fputs(".TP\n.B ", stdout);
		roff_text(stdout, c->synopsis);
		fputc('\n', stdout);
		roff_text(stdout, c->summary);
		fputs(".\n", stdout);
		if (c->alias) {
			fputs(" Also: ", stdout);
			roff_text(stdout, c->alias);
			fputs(".\n", stdout);
		}
		if (c->help && *c->help) {
			fputs(".IP\n.nf\n", stdout);
			roff_text(stdout, c->help);
			fputs("\n.fi\n", stdout);
		}
	}
}

static void man_backends(void)
{
	for (size_t i = 0; ish_backends[i]; i++) {
		const struct ish_backend *b = ish_backends[i];

		fputs(".SS ", stdout);
		roff_text(stdout, ish_backend_name(b));
		fputc('\n', stdout);
		roff_text(stdout, ish_backend_help(b));
		fputs(ish_backend_read_only(b) ? ". Read-only.\n" : ".\n", stdout);
		for (const struct ish_param_def *p = ish_backend_params(b); p && p->name; p++) {
			fputs(".TP\n.B \\-O ", stdout);
			roff_text(stdout, p->name);
			fputs("=\\fIVALUE\\fR\n", stdout);
			roff_text(stdout, p->help);
			if (p->def) {
				fputs(" (default ", stdout);
				roff_text(stdout, p->def);
				fputc(')', stdout);
			}
			fputs("\n", stdout);
		}
	}
}

int ish_man_section(const char *what)
{
	if (!strcmp(what, "commands")) {
		man_commands();
		return 0;
	}
	if (!strcmp(what, "backends")) {
		man_backends();
		return 0;
	}
	fprintf(stderr, "iommush: --man-section wants 'commands' or 'backends'\n");
	return 2;
}
