// SPDX-License-Identifier: MIT
/* Switching targets within a session: open, close. */
#include <string.h>

#include "shell.h"

struct ish_error *ish_shell_open(struct ish_shell *sh, const char *spec, const char *backend);

static int cmd_open(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = { { "--backend", true, NULL } };
	const struct ish_command *self = &ish_cmds_target[0];
	struct ish_error *err;

	if (!sh_getopt(sh, self, &argc, argv, opts, 1))
		return 2;
	if (argc != 2)
		return sh_usage(sh, self);
	err = ish_shell_open(sh, argv[1], opts[0].value);
	if (err)
		return sh_report(sh, ish_error_prefix(err, "%s", argv[1]));
	if (!sh_json(sh))
		sh_printf(sh, "%s: %s backend, %u unit%s\n", argv[1], ish_target_backend(sh->target)->name,
			  ish_target_nunits(sh->target), ish_target_nunits(sh->target) == 1 ? "" : "s");
	return 0;
}

static int cmd_close(struct ish_shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return sh_usage(sh, &ish_cmds_target[1]);
	ish_target_close(sh->target);
	sh->target = NULL;
	return 0;
}

const struct ish_command ish_cmds_target[] = {
	{ "open", NULL, "open [--backend NAME] TARGET", "open a target, closing the current one",
	  "TARGET is a dump or snapshot file, a raw image, gdb:HOST:PORT, gdb:unix:PATH,\n"
	  "or a backend name (live, devmem, debugfs, mem). The backend is recognised from\n"
	  "TARGET unless --backend names it. The -O parameters given on the command line\n"
	  "apply. If opening fails, the current target stays open.",
	  cmd_open, 0, COMPLETE_FILE },
	{ "close", NULL, "close", "close the current target", "Closes the current target.",
	  cmd_close, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ NULL },
};
