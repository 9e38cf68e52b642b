// SPDX-License-Identifier: MIT
/*
 * iommush: the command-line front end. The contract (DESIGN.md):
 *   iommush [OPTIONS] [TARGET]
 * Exit status: 0 ok, 1 a command failed, 2 usage.
 *
 * main ties the parts together: the command line (argv.c), the session
 * (session.c), the interactive loop (repl.c) and the man page (manpage.c).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "frontend.h"

static struct ish_shell *sigint_shell;

static void on_sigint(int sig)
{
	(void)sig;
	if (sigint_shell)
		sigint_shell->interrupted = 1;
}

/* -c, -f and -e in command-line order, in batch mode; the status of the first failure. */
static int run_actions(struct ish_shell *sh, const struct ish_args *a)
{
	sh->batch = true;
	for (size_t i = 0; i < a->nactions && !sh->quit; i++) {
		const struct ish_action *act = &a->actions[i];
		int r;

		switch (act->kind) {
		case 'c': r = ish_shell_run_line(sh, act->arg); break;
		case 'f':
			if (sh_is_lua_file(act->arg))
				r = ish_lua_run(sh, NULL, act->arg, a->script_argc, a->script_argv);
			else
				r = ish_shell_run_file(sh, act->arg);
			break;
		default:
			r = ish_lua_run(sh, act->arg, NULL, 0, NULL);
		}
		if (r)
			return r == 2 ? 2 : 1;
	}
	return 0;
}

static void banner(struct ish_shell *sh)
{
	printf("iommush %s: %s (%s backend, %u unit%s)%s\n", ISH_VERSION,
	       ish_target_spec(sh->target), ish_backend_name(ish_target_backend(sh->target)),
	       ish_target_nunits(sh->target), ish_target_nunits(sh->target) == 1 ? "" : "s",
	       sh->write ? (sh->force ? ", WRITES ENABLED, FORCED" : ", WRITES ENABLED") :
	       ", read-only");
	sh_describe(sh, SH_DESCRIBE_TEXT, false, NULL);
}

int main(int argc, char **argv)
{
	struct ish_shell sh = { .out = stdout, .pager = true };
	struct ish_args args;
	struct sigaction sa = { .sa_handler = on_sigint };
	int rc;

	rc = ish_args_parse(&sh, argc, argv, &args);
	if (rc >= 0)
		goto out;
	rc = 0;

	sigint_shell = &sh;
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sh.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !args.nactions && !sh.batch;
	sh.color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
	sh.color_out = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && getenv("TERM") &&
		       strcmp(getenv("TERM"), "dumb");

	if (args.spec) {
		struct ish_error *err = ish_shell_open(&sh, args.spec, args.backend);

		if (err) {
			fprintf(stderr, "iommush: %s: %s\n", args.spec, err->message);
			ish_error_destroy(err);
			rc = 1;
			goto out;
		}
	}
	if (args.nactions) {
		rc = run_actions(&sh, &args);
	} else {
		if (sh.interactive && sh.target)
			banner(&sh);
		if (sh.interactive)
			ish_repl(&sh);
		else
			rc = ish_shell_run_file(&sh, "-") ? 1 : 0;
	}
out:
	if (sh.out != stdout)
		fclose(sh.out);
	ish_target_close(sh.target);
	ish_args_deinit(&sh, &args);
	return rc;
}
