// SPDX-License-Identifier: MIT
/*
 * iommush: the command-line front end. The contract (DESIGN.md):
 *   iommush [OPTIONS] [TARGET]
 * Exit status: 0 ok, 1 a command failed, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <inttypes.h>
#include <time.h>

#include <iommush/debugfs.h>
#include <iommush/write.h>

#include "complete.h"
#include "config.h"
#include "lineedit.h"
#include "shell.h"

static struct ish_shell *sigint_shell;

static void on_sigint(int sig)
{
	(void)sig;
	if (sigint_shell)
		sigint_shell->interrupted = 1;
}

static void usage(FILE *f)
{
	fputs("usage: iommush [OPTIONS] [TARGET]\n"
	      "Inspect Intel VT-d IOMMU state: live, in a QEMU guest, or in a dump.\n"
	      "\n"
	      "TARGET   FILE (ELF core, snapshot, raw image) | gdb:HOST:PORT | gdb:unix:PATH\n"
	      "         | live | devmem | debugfs | mem\n"
	      "  -c CMD         run CMD (repeatable), then exit\n"
	      "  -f FILE        run a command file or a .lua script, then exit\n"
	      "  -e LUA         run a Lua chunk, then exit\n"
	      "  -O KEY=VALUE   backend parameter, e.g. -O dump.regs=regs.txt\n"
	      "  -b NAME        use backend NAME instead of detecting it\n"
	      "  --json         machine-readable output (set mode json)\n"
	      "  --jsonl        JSON, listings as JSON Lines: one object per line (set json lines)\n"
	      "  --write        allow writes (invalidations, registers)\n"
	      "  --yes          do not ask before each write on a live host\n"
	      "  --force        write even to units the kernel's intel-iommu driver owns\n"
	      "  --batch        no prompt; stop at the first failing command\n"
	      "  --demo         open the bundled snapshot of a real QEMU guest\n"
	      "  -h, --help     this text;  -V, --version  the version\n"
	      "Type 'help' in the shell for the commands.\n",
	      f);
}

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
	const struct ish_command *cmd;
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
	sh->exit_status = rc;
	free(argv[0]);
	free(argv);
	free(raw);
	return rc;
}

static bool is_lua_file(const char *path)
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

	if (is_lua_file(path)) {
		if (!ish_lua_run)
			return sh_error(sh, "%s: this iommush was built without Lua", path);
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

static void end_progress(struct ish_shell *sh)
{
	if (sh->progress_shown)
		fputs("\r\033[K", stderr);
	sh->progress_shown = false;
	sh->progress_last_ns = 0;
}

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

static void repl(struct ish_shell *sh)
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
		end_progress(sh);
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

static const char *demo_path(void)
{
	static const char *const candidates[] = {
		ISH_SOURCE_ROOT "/demo/demo.snapshot",
		ISH_DATADIR "/demo.snapshot",
	};
	const char *env = getenv("IOMMUSH_DEMO");
	struct stat st;

	if (env)
		return env;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!stat(candidates[i], &st))
			return candidates[i];
	return NULL;
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
	if (sh->interactive && !(ish_target_backend(t)->flags & ISH_BACKEND_NOCACHE))
		ish_target_set_progress(t, show_progress, sh);
	return NULL;
}

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

/*
 * The man pages' generated sections, from the same tables that drive `help`
 * and the backend registry, so they cannot drift (man/meson.build).
 */
static int print_man_section(const char *what)
{
	if (!strcmp(what, "commands")) {
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
		return 0;
	}
	if (!strcmp(what, "backends")) {
		for (size_t i = 0; ish_backends[i]; i++) {
			const struct ish_backend *b = ish_backends[i];

			fputs(".SS ", stdout);
			roff_text(stdout, b->name);
			fputc('\n', stdout);
			roff_text(stdout, b->help);
			fputs(b->write_phys || b->write_reg ? ".\n" : ". Read-only.\n", stdout);
			for (const struct ish_param_def *p = b->params; p && p->name; p++) {
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
		return 0;
	}
	fprintf(stderr, "iommush: --man-section wants 'commands' or 'backends'\n");
	return 2;
}

enum { OPT_JSON = 0x100, OPT_JSONL, OPT_WRITE, OPT_YES, OPT_FORCE, OPT_BATCH, OPT_DEMO, OPT_MAN };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "jsonl", no_argument, NULL, OPT_JSONL },
		{ "write", no_argument, NULL, OPT_WRITE },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "batch", no_argument, NULL, OPT_BATCH },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ "man-section", required_argument, NULL, OPT_MAN },
		{ "backend", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ish_shell sh = { .out = stdout, .pager = true };
	/* actions in command-line order: 'c' command, 'f' file, 'e' lua */
	struct { char kind; const char *arg; } *actions = calloc((size_t)argc + 1, sizeof(*actions));
	size_t nactions = 0;
	const char *backend = NULL, *spec = NULL;
	bool demo = false;
	int script_argc = 0;
	char **script_argv = NULL;
	struct sigaction sa = { .sa_handler = on_sigint };
	int opt, rc = 0;

	sh.params = calloc((size_t)argc + 1, sizeof(*sh.params));
	if (!actions || !sh.params) {
		fputs("iommush: out of memory\n", stderr);
		return 1;
	}
	/*
	 * Options may follow TARGET (iommush dump.elf -c units), but everything
	 * after a Lua script's name is the script's own (iommush audit.lua -v).
	 */
	int nargs = argc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] == '-' && argv[i][1] && strchr("cfeOb", argv[i][1]) && !argv[i][2]) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--backend") || !strcmp(argv[i], "--man-section")) {
			i++;
			continue;
		}
		if (argv[i][0] != '-' && is_lua_file(argv[i])) {
			nargs = i + 1;
			break;
		}
	}
	while ((opt = getopt_long(nargs, argv, "c:f:e:O:b:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
		case 'f':
		case 'e':
			actions[nactions].kind = (char)opt;
			actions[nactions++].arg = optarg;
			break;
		case 'O': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				fprintf(stderr, "iommush: -O wants KEY=VALUE, not '%s'\n", optarg);
				rc = 2;
				goto out;
			}
			*eq = 0;
			sh.params[sh.nparams].name = optarg;
			sh.params[sh.nparams++].value = eq + 1;
			break;
		}
		case 'b': backend = optarg; break;
		case OPT_JSON: sh.mode = OUT_JSON; break;
		case OPT_JSONL: sh.mode = OUT_JSONL; break;
		case OPT_WRITE: sh.write = true; break;
		case OPT_YES: sh.yes = true; break;
		case OPT_FORCE: sh.force = true; break;
		case OPT_BATCH: sh.batch = true; break;
		case OPT_DEMO: demo = true; break;
		case OPT_MAN: rc = print_man_section(optarg); goto out;
		case 'h': usage(stdout); rc = 0; goto out;
		case 'V': printf("iommush %s (%s)\n", ISH_VERSION, le_name()); rc = 0; goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (optind < nargs)
		spec = argv[optind++];
	/* "iommush script.lua ARGS": the rest are the script's arguments. */
	if (spec && is_lua_file(spec) && !demo) {
		actions[nactions].kind = 'f';
		actions[nactions++].arg = spec;
		spec = NULL;
		script_argc = argc - nargs;
		script_argv = argv + nargs;
	} else if (optind < argc) {
		fprintf(stderr, "iommush: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (demo) {
		if (spec) {
			fputs("iommush: --demo opens the bundled snapshot; give no TARGET with it\n", stderr);
			rc = 2;
			goto out;
		}
		spec = demo_path();
		if (!spec) {
			fputs("iommush: the demo snapshot is not installed (expected demo/demo.snapshot)\n",
			      stderr);
			rc = 1;
			goto out;
		}
	}

	sigint_shell = &sh;
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sh.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !nactions && !sh.batch;
	sh.color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
	sh.color_out = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && getenv("TERM") &&
		       strcmp(getenv("TERM"), "dumb");

	if (spec) {
		struct ish_error *err = ish_shell_open(&sh, spec, backend);

		if (err) {
			fprintf(stderr, "iommush: %s: %s\n", spec, err->message);
			ish_error_destroy(err);
			rc = 1;
			goto out;
		}
	}
	if (nactions) {
		sh.batch = true;
		for (size_t i = 0; i < nactions && !sh.quit; i++) {
			int r;

			switch (actions[i].kind) {
			case 'c': r = ish_shell_run_line(&sh, actions[i].arg); break;
			case 'f':
				if (is_lua_file(actions[i].arg) && ish_lua_run)
					r = ish_lua_run(&sh, NULL, actions[i].arg, script_argc, script_argv);
				else
					r = ish_shell_run_file(&sh, actions[i].arg);
				break;
			default:
				r = ish_lua_run ? ish_lua_run(&sh, actions[i].arg, NULL, 0, NULL)
						: sh_error(&sh, "this iommush was built without Lua");
			}
			if (r) {
				rc = r == 2 ? 2 : 1;
				break;
			}
		}
	} else {
		if (sh.interactive && sh.target) {
			const char *why = ish_live_choice(sh.target);

			printf("iommush %s: %s (%s backend, %u unit%s)%s\n", ISH_VERSION,
			       ish_target_spec(sh.target), ish_target_backend(sh.target)->name,
			       ish_target_nunits(sh.target), ish_target_nunits(sh.target) == 1 ? "" : "s",
			       sh.write ? (sh.force ? ", WRITES ENABLED, FORCED" : ", WRITES ENABLED") :
			       ", read-only");
			if (why)
				printf("%s\n", why);
		}
		if (sh.interactive)
			repl(&sh);
		else
			rc = ish_shell_run_file(&sh, "-") ? 1 : 0;
	}
out:
	if (sh.out != stdout)
		fclose(sh.out);
	ish_target_close(sh.target);
	free(sh.params);
	free(actions);
	return rc;
}
