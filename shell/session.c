// SPDX-License-Identifier: MIT
/*
 * The session: running command lines and command files in a shell, and
 * opening its target. The command line (argv.c), the interactive loop
 * (repl.c), Lua and `source` all come through here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iommush/write.h>

#include "shell.h"

/* Splits line into words: whitespace separates, quotes group, '#' starts a comment. */
static int split_line(const char *line, char ***ret)
{
	size_t cap = 8, n = 0, len = strlen(line);
	char **argv = malloc(cap * sizeof(*argv));
	char *buf = malloc(len + 1), *w = buf;
	const char *p = line;

	if (!argv || !buf)
		goto fail;
	for (;;) {
		char quote = 0;
		bool have = false;
		char *start = w;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		while (*p && (quote || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))) {
			if (quote && *p == quote) {
				quote = 0;
			} else if (!quote && (*p == '"' || *p == '\'')) {
				quote = *p;
			} else if (*p == '\\' && p[1] && quote != '\'') {
				*w++ = *++p;
			} else {
				*w++ = *p;
			}
			have = true;
			p++;
		}
		if (quote) {
			free(argv);
			free(buf);
			return -2;
		}
		*w++ = 0;
		if (have || w - start > 1) {
			if (n + 2 > cap) {
				char **na = realloc(argv, (cap *= 2) * sizeof(*argv));

				if (!na)
					goto fail;
				argv = na;
			}
			argv[n++] = start;
		}
	}
	argv[n] = NULL;
	if (!n)
		free(buf);
	*ret = argv;
	return (int)n;
fail:
	free(argv);
	free(buf);
	return -1;
}

int ish_shell_run_line(struct ish_shell *sh, const char *line)
{
	const struct ish_command *cmd, *prev_cmd = sh->cmd;
	bool ambiguous;
	char **argv, *raw = NULL;
	int argc, rc;

	argc = split_line(line, &argv);
	if (argc == -2) {
		sh->cmd_name = NULL;
		return sh_error(sh, "unterminated quote in: %s", line);
	}
	if (argc < 0) {
		sh->cmd_name = NULL;
		return sh_report(sh, &ish_enomem);
	}
	if (argc == 0) {
		free(argv);
		return 0;
	}
	cmd = ish_command_find(argv[0], &ambiguous);
	sh->cmd_name = NULL;
	if (!cmd) {
		rc = ambiguous ? sh_error(sh, "'%s' is ambiguous: say more (see 'help')", argv[0])
			       : sh_error(sh, "unknown command '%s' (see 'help')", argv[0]);
		rc = 2;
		goto out;
	}
	sh->cmd_name = cmd->name;
	prev_cmd = sh->cmd;
	sh->cmd = cmd;
	if (cmd->flags & CMD_RAW_ARGS) {
		/* Skip the command word as typed, then the blanks after it. */
		const char *rest = line + strspn(line, " \t");

		rest += strcspn(rest, " \t");
		rest += strspn(rest, " \t");
		raw = strdup(rest);
		if (!raw) {
			rc = sh_report(sh, &ish_enomem);
			goto out;
		}
		raw[strcspn(raw, "\r\n")] = 0;
		argc = *raw ? 2 : 1;
		argv[1] = *raw ? raw : NULL;
		if (argc == 2)
			argv[2] = NULL;
	}
	if ((cmd->flags & CMD_NEEDS_TARGET) && !sh_target(sh)) {
		rc = 1;
		goto out;
	}
	/* CMD_WRITES_HW without write mode: the library's write gate refuses (and logs) it. */
	sh->interrupted = 0;
	json_init(&sh->json, sh->out);
	rc = cmd->fn(sh, argc, argv);
	fflush(sh->out);
	if (sh->interrupted && rc == 0)
		rc = 1;
out:
	sh->cmd_name = NULL;
	sh->cmd = prev_cmd;
	sh->exit_status = rc;
	free(argv[0]);
	free(argv);
	free(raw);
	return rc;
}

bool sh_is_lua_file(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && !strcmp(path + n - 4, ".lua");
}

/* Runs a file of commands, one per line; stops at the first failure in batch mode. */
int ish_shell_run_file(struct ish_shell *sh, const char *path)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (sh_is_lua_file(path)) {
		return ish_lua_run(sh, NULL, path, 0, NULL);
	}
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return sh_error(sh, "%s: %s", path, strerror(errno));
	while (!sh->quit && getline(&line, &cap, f) >= 0) {
		int r = ish_shell_run_line(sh, line);

		if (r) {
			rc = r;
			if (sh->batch)
				break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* On a slow backend, a request counter on stderr, at most five times a second. */
static void show_progress(void *arg, uint64_t requests)
{
	struct ish_shell *sh = arg;
	uint64_t now = now_ns();

	if (!sh->progress_last_ns) {
		sh->progress_last_ns = now;	/* quiet for the first 200 ms */
		return;
	}
	if (now - sh->progress_last_ns < 200000000u)
		return;
	sh->progress_last_ns = now;
	fprintf(stderr, "\r  reading target: %" PRIu64 " requests (Ctrl-C stops) ", requests);
	sh->progress_shown = true;
}

void sh_end_progress(struct ish_shell *sh)
{
	if (sh->progress_shown)
		fputs("\r\033[K", stderr);
	sh->progress_shown = false;
	sh->progress_last_ns = 0;
}

struct ish_error *ish_shell_open(struct ish_shell *sh, const char *spec, const char *backend)
{
	struct ish_target *t;
	struct ish_error *err;

	/*
	 * QEMU's gdbstub serves one client at a time: opening the target that is
	 * open now (to recover from a fault) must hang up the old connection first.
	 */
	if (sh->target && !strcmp(ish_target_spec(sh->target), spec)) {
		ish_target_close(sh->target);
		sh->target = NULL;
	}
	err = ish_target_open(spec, backend, sh->params, sh->nparams,
			      (sh->write ? ISH_OPEN_WRITE : 0) | (sh->force ? ISH_OPEN_FORCE : 0) |
			      (sh->yes ? ISH_OPEN_YES : 0),
			      &t);
	if (err)
		return err;
	ish_target_close(sh->target);
	sh->target = t;
	ish_target_set_confirm(t, ish_shell_confirm, sh);
	ish_target_set_interrupt(t, &sh->interrupted);
	if (sh->interactive && !ish_backend_cheap(ish_target_backend(t)))
		ish_target_set_progress(t, show_progress, sh);
	return NULL;
}

struct describe_sink {
	struct ish_shell *sh;
	enum sh_describe what;
	bool json;
	const char *indent;
	bool any;
};

static void describe_item(void *arg, const struct ish_describe_item *it)
{
	struct describe_sink *d = arg;
	bool want = d->what == SH_DESCRIBE_COUNTS ? !it->text : !!it->text;

	if (!want)
		return;
	if (d->json) {
		if (it->text)
			json_kv_str(&d->sh->json, it->key, it->text);
		else
			json_kv_u64(&d->sh->json, it->key, it->count);
	} else if (it->text) {
		sh_printf(d->sh, "%s%s\n", d->indent, it->text);
	} else {
		sh_printf(d->sh, "%s%s %" PRIu64, d->any ? ", " : d->indent, it->key, it->count);
	}
	d->any = true;
}

bool sh_describe(struct ish_shell *sh, enum sh_describe what, bool json, const char *indent)
{
	struct describe_sink d = { sh, what, json, indent ? indent : "", false };

	if (sh->target)
		ish_target_describe(sh->target, describe_item, &d);
	if (d.any && what == SH_DESCRIBE_COUNTS && !json)
		sh_printf(sh, "\n");
	return d.any;
}
