// SPDX-License-Identifier: MIT
/* Switching targets within a session: open, close. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <iommush/capture.h>

#include "shell.h"

/*
 * Is the -O setting p for backend b (or for the target layer)? Settings are
 * kept for `open`, but those of another backend (gdbstub.regbase when the
 * dump is opened after QEMU died) would make every later open fail.
 */
static bool param_for(const struct ish_param *p, const struct ish_backend *b)
{
	const struct ish_backend *owner;
	size_t n = strcspn(p->name, ".");
	char prefix[32];

	if (!b || !p->name[n] || n >= sizeof(prefix))
		return true;
	memcpy(prefix, p->name, n);
	prefix[n] = '\0';
	owner = ish_backend_find(prefix);
	return !owner || owner == b;
}

static struct ish_error *open_filtered(struct ish_shell *sh, const char *spec,
				       const char *backend)
{
	const struct ish_backend *b = backend ? ish_backend_find(backend) : ish_backend_probe(spec);
	struct ish_param *all = sh->params, *mine;
	size_t nall = sh->nparams, n = 0;
	struct ish_error *err;

	mine = calloc(nall ? nall : 1, sizeof(*mine));
	if (!mine)
		return &ish_enomem;
	for (size_t i = 0; i < nall; i++)
		if (param_for(&all[i], b))
			mine[n++] = all[i];
	sh->params = mine;
	sh->nparams = n;
	err = ish_shell_open(sh, spec, backend);
	sh->params = all;
	sh->nparams = nall;
	free(mine);
	return err;
}

static int cmd_open(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = { { "--backend", true, NULL }, { "--force", false, NULL } };
	const struct ish_command *self = sh->cmd;
	struct ish_error *err;
	bool force = sh->force;

	if (!sh_getopt(sh, self, &argc, argv, opts, 2))
		return 2;
	if (argc != 2)
		return sh_usage(sh, self);
	/* --force holds for the target it opens, not for later ones. */
	if (opts[1].value)
		sh->force = true;
	err = open_filtered(sh, argv[1], opts[0].value);
	sh->force = force;
	if (err)
		return sh_report(sh, ish_error_prefix(err, "%s", argv[1]));
	if (!sh_json(sh)) {
		sh_printf(sh, "%s: %s backend, %u unit%s\n", argv[1],
			  ish_backend_name(ish_target_backend(sh->target)), ish_target_nunits(sh->target),
			  ish_target_nunits(sh->target) == 1 ? "" : "s");
		sh_describe(sh, SH_DESCRIBE_TEXT, false, NULL);
	}
	return 0;
}

static int cmd_close(struct ish_shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return sh_usage(sh, sh->cmd);
	ish_target_close(sh->target);
	sh->target = NULL;
	return 0;
}

static int cmd_snapshot(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_capture_stats st;
	struct ish_error *err;
	struct stat sb;

	if (argc != 2)
		return sh_usage(sh, sh->cmd);
	err = ish_snapshot_capture(sh->target, argv[1], &st);
	if (err)
		return sh_report(sh, ish_error_prefix(err, "%s", argv[1]));
	if (stat(argv[1], &sb))
		sb.st_size = 0;
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "file", argv[1]);
		json_kv_u64(&sh->json, "units", st.units);
		json_kv_u64(&sh->json, "registers", st.registers);
		json_kv_u64(&sh->json, "devices", st.devices);
		json_kv_u64(&sh->json, "pasids", st.pasids);
		json_kv_u64(&sh->json, "mappings", st.mappings);
		json_kv_u64(&sh->json, "findings", st.findings);
		json_kv_u64(&sh->json, "pages", st.pages);
		json_kv_u64(&sh->json, "bytes", (uint64_t)sb.st_size);
		json_end_object(&sh->json);
		json_end_line(&sh->json);
	} else {
		sh_printf(sh,
			  "%s: %" PRIu64 " unit%s, %" PRIu64 " registers, %" PRIu64 " devices, %" PRIu64
			  " PASIDs, %" PRIu64 " mappings, %" PRIu64 " pages; %" PRIu64 " KiB written%s\n",
			  argv[1], st.units, st.units == 1 ? "" : "s", st.registers, st.devices, st.pasids,
			  st.mappings, st.pages, ((uint64_t)sb.st_size + 1023) / 1024,
			  st.findings ? "; the tables have findings" : "");
	}
	return 0;
}

const struct ish_command ish_cmds_target[] = {
	{ "open", NULL, "open [--backend NAME] [--force] TARGET", "open a target, closing the current one",
	  "TARGET is a dump or snapshot file, a raw image, gdb:HOST:PORT, gdb:unix:PATH,\n"
	  "or a backend name (live, devmem, debugfs, mem). The backend is recognised from\n"
	  "TARGET unless --backend names it. The -O parameters given on the command line\n"
	  "apply. If opening fails, the current target stays open.\n"
	  "\n"
	  "--force lets writes (with write mode on) reach units of this host that the\n"
	  "kernel's intel-iommu driver owns, as the command-line --force does; it holds\n"
	  "for this target only. Without it such writes are refused.",
	  cmd_open, 0, COMPLETE_FILE },
	{ "close", NULL, "close", "close the current target", "Closes the current target.",
	  cmd_close, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "snapshot", NULL, "snapshot FILE", "save the target's VT-d state as a snapshot file",
	  "Writes an ELF core holding every register of every unit, the DMAR table, and\n"
	  "every page a full traversal reads: root, context and PASID tables, the page\n"
	  "tables of every device and PASID, the interrupt-remapping table with the\n"
	  "posted descriptors it names, and the invalidation queue. Open the file later\n"
	  "(iommush FILE) and every command answers as the target did. The file is\n"
	  "written under a temporary name and renamed, so an interrupted snapshot leaves\n"
	  "no partial file.",
	  cmd_snapshot, CMD_NEEDS_TARGET, COMPLETE_FILE },
	{ NULL },
};
