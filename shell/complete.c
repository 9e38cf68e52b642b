// SPDX-License-Identifier: MIT
/*
 * Tab completion: what a word can be, from the command table, the register
 * table, the open target (units, devices) and the backend parameters. The
 * line editor asks through sh_complete(); file names are left to it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iommush/regs.h>
#include <iommush/walk.h>

#include "complete.h"

struct candidates {
	char **v;
	size_t n, cap;
	const char *prefix;
	size_t plen;
	bool ci;	/* case-insensitive (register names) */
};

static void add(struct candidates *c, const char *s)
{
	char **nv;

	if (c->ci ? strncasecmp(s, c->prefix, c->plen) : strncmp(s, c->prefix, c->plen))
		return;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i], s))
			return;
	if (c->n + 2 > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;

		nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n] = strdup(s);
	if (c->v[c->n])
		c->n++;
	c->v[c->n] = NULL;
}

/* Options named in a synopsis: every "--word". */
static void add_options(struct candidates *c, const char *synopsis)
{
	for (const char *p = strstr(synopsis, "--"); p; p = strstr(p + 2, "--")) {
		char buf[32];
		size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-") + 2;

		if (n < sizeof(buf) && n > 2) {
			memcpy(buf, p, n);
			buf[n] = 0;
			add(c, buf);
		}
	}
}

static void add_registers(struct candidates *c)
{
	size_t n;
	const struct ish_reg_def *t = ish_reg_table(&n);

	c->ci = true;
	for (size_t i = 0; i < n; i++)
		add(c, t[i].name);
}

static void add_units(struct candidates *c, struct ish_shell *sh)
{
	for (unsigned i = 0; sh->target && i < ish_target_nunits(sh->target); i++)
		add(c, ish_target_unit(sh->target, i)->name);
}

static struct ish_error *add_device(void *arg, const struct ish_device *d)
{
	char buf[8];

	add(arg, fmt_bdf(d->bdf, buf));
	return NULL;
}

static void add_devices(struct candidates *c, struct ish_shell *sh)
{
	if (sh->target)
		ish_error_destroy(ish_devices(sh->target, false, add_device, NULL, c));
}

static void add_params(struct candidates *c, struct ish_shell *sh, const char *setting)
{
	static const char *const settings[] = { "mode", "json", "write", "pager", NULL };
	static const char *const onoff[] = { "on", "off", NULL };
	static const char *const modes[] = { "text", "json", NULL };
	static const char *const json_forms[] = { "lines", "array", NULL };
	const char *const *list = settings;

	if (setting)
		list = !strcmp(setting, "mode") ? modes : !strcmp(setting, "json") ? json_forms : onoff;
	for (; *list; list++)
		add(c, *list);
	(void)sh;
}

char **sh_complete(struct ish_shell *sh, const char *line, size_t start, const char *text)
{
	struct candidates c = { .prefix = text, .plen = strlen(text) };
	char *words[8];
	size_t nwords = 0;
	char *copy = strndup(line, start), *save = NULL;
	const struct ish_command *cmd;
	bool ambiguous;

	if (!copy)
		return NULL;
	for (char *w = strtok_r(copy, " \t", &save); w && nwords < 8; w = strtok_r(NULL, " \t", &save))
		words[nwords++] = w;
	if (nwords == 0) {
		for (cmd = ish_command_next(NULL); cmd; cmd = ish_command_next(cmd))
			add(&c, cmd->name);
		goto out;
	}
	cmd = ish_command_find(words[0], &ambiguous);
	if (!cmd)
		goto out;
	if (text[0] == '-') {
		add_options(&c, cmd->synopsis);
		goto out;
	}
	switch (cmd->complete) {
	case COMPLETE_COMMAND:
		if (nwords == 1)
			for (const struct ish_command *k = ish_command_next(NULL); k; k = ish_command_next(k))
				add(&c, k->name);
		break;
	case COMPLETE_REGISTER:
		/* regs [UNIT] [NAME...]: a unit first, registers after */
		if (nwords == 1)
			add_units(&c, sh);
		add_registers(&c);
		break;
	case COMPLETE_BDF:
		if (nwords == 1)
			add_devices(&c, sh);
		break;
	case COMPLETE_UNIT:
		add_units(&c, sh);
		break;
	case COMPLETE_PARAM:
		if (nwords <= 2)
			add_params(&c, sh, nwords == 2 ? words[1] : NULL);
		break;
	case COMPLETE_FILE:
		free(copy);
		return SH_COMPLETE_FILES;
	case COMPLETE_NONE:
		break;
	}
out:
	free(copy);
	return c.v;
}
