// SPDX-License-Identifier: MIT
/*
 * The command line (DESIGN.md's contract):
 *   iommush [OPTIONS] [TARGET]
 *   iommush [OPTIONS] SCRIPT.lua [SCRIPT-ARGS]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "frontend.h"
#include "lineedit.h"

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

enum { OPT_JSON = 0x100, OPT_JSONL, OPT_WRITE, OPT_YES, OPT_FORCE, OPT_BATCH, OPT_DEMO, OPT_MAN };

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

/*
 * Options may follow TARGET (iommush dump.elf -c units), but everything
 * after a Lua script's name is the script's own (iommush audit.lua -v):
 * the number of arguments that are iommush's.
 */
static int own_args(int argc, char **argv)
{
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
		if (argv[i][0] != '-' && sh_is_lua_file(argv[i]))
			return i + 1;
	}
	return argc;
}

int ish_args_parse(struct ish_shell *sh, int argc, char **argv, struct ish_args *ret)
{
	struct ish_args *a = ret;
	bool demo = false;
	int nargs, opt;

	*a = (struct ish_args){ 0 };
	a->actions = calloc((size_t)argc + 1, sizeof(*a->actions));
	sh->params = calloc((size_t)argc + 1, sizeof(*sh->params));
	if (!a->actions || !sh->params) {
		fputs("iommush: out of memory\n", stderr);
		return 1;
	}
	nargs = own_args(argc, argv);
	while ((opt = getopt_long(nargs, argv, "c:f:e:O:b:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
		case 'f':
		case 'e':
			a->actions[a->nactions].kind = (char)opt;
			a->actions[a->nactions++].arg = optarg;
			break;
		case 'O': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				fprintf(stderr, "iommush: -O wants KEY=VALUE, not '%s'\n", optarg);
				return 2;
			}
			*eq = 0;
			sh->params[sh->nparams].name = optarg;
			sh->params[sh->nparams++].value = eq + 1;
			break;
		}
		case 'b': a->backend = optarg; break;
		case OPT_JSON: sh->mode = OUT_JSON; break;
		case OPT_JSONL: sh->mode = OUT_JSONL; break;
		case OPT_WRITE: sh->write = true; break;
		case OPT_YES: sh->yes = true; break;
		case OPT_FORCE: sh->force = true; break;
		case OPT_BATCH: sh->batch = true; break;
		case OPT_DEMO: demo = true; break;
		case OPT_MAN: return ish_man_section(optarg);
		case 'h': usage(stdout); return 0;
		case 'V': printf("iommush %s (%s)\n", ISH_VERSION, le_name()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < nargs)
		a->spec = argv[optind++];
	/* "iommush script.lua ARGS": the rest are the script's arguments. */
	if (a->spec && sh_is_lua_file(a->spec) && !demo) {
		a->actions[a->nactions].kind = 'f';
		a->actions[a->nactions++].arg = a->spec;
		a->spec = NULL;
		a->script_argc = argc - nargs;
		a->script_argv = argv + nargs;
	} else if (optind < argc) {
		fprintf(stderr, "iommush: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (demo) {
		if (a->spec) {
			fputs("iommush: --demo opens the bundled snapshot; give no TARGET with it\n", stderr);
			return 2;
		}
		a->spec = demo_path();
		if (!a->spec) {
			fputs("iommush: the demo snapshot is not installed (expected demo/demo.snapshot)\n",
			      stderr);
			return 1;
		}
	}
	return -1;
}

void ish_args_deinit(struct ish_shell *sh, struct ish_args *args)
{
	free(sh->params);
	sh->params = NULL;
	sh->nparams = 0;
	free(args->actions);
	args->actions = NULL;
}
