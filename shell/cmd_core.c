// SPDX-License-Identifier: MIT
/* Core commands: help, units, set/show, backends, output, quit. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "config.h"
#include "shell.h"

/*
 * Every command group, in the order `help` and the man page list them. A
 * new group is one row here and its declaration in shell.h. C plugins
 * (-Dplugins, plugins/meson.build) come after them as one generated list;
 * Lua plugin commands (iommu.command, shell/cmd_lua.c) are a table that
 * grows and moves, so they are fetched on every call.
 */
static const struct ish_command *const command_groups[] = {
	ish_cmds_core,
	ish_cmds_regs,
	ish_cmds_walk,
	ish_cmds_irq,
	ish_cmds_target,
	ish_cmds_write,
	ish_cmds_pci,
	ish_cmds_kernel,
#if HAVE_LUA
	ish_cmds_lua,
#endif
};

#define NGROUPS (sizeof(command_groups) / sizeof(command_groups[0]))
#define MAX_GROUPS 40

static const struct ish_command *all_groups[MAX_GROUPS];
static size_t nstatic_groups;

static const struct ish_command *const *groups(void)
{
	if (!nstatic_groups) {
		size_t n = 0;

		for (size_t i = 0; i < NGROUPS; i++)
			all_groups[n++] = command_groups[i];
		for (size_t i = 0; ish_plugin_groups[i] && n < MAX_GROUPS - 2; i++)
			all_groups[n++] = ish_plugin_groups[i];
		nstatic_groups = n;
	}
	all_groups[nstatic_groups] = ish_lua_commands();
	return all_groups;
}

#define FOR_EACH_COMMAND(c)                                                    \
	for (const struct ish_command *const *g_ = groups(); *g_; g_++)        \
		for (const struct ish_command *c = *g_; c->name; c++)

const struct ish_command *ish_command_find(const char *name, bool *ambiguous)
{
	const struct ish_command *found = NULL;
	size_t n = strlen(name);
	unsigned matches = 0;

	*ambiguous = false;
	FOR_EACH_COMMAND(c) {
		if (!strcmp(c->name, name) || (c->alias && !strcmp(c->alias, name)))
			return c;
	}
	FOR_EACH_COMMAND(c) {
		if (!strncmp(c->name, name, n)) {
			found = c;
			matches++;
		}
	}
	if (matches > 1) {
		*ambiguous = true;
		return NULL;
	}
	return found;
}

const struct ish_command *ish_command_next(const struct ish_command *prev)
{
	bool take = !prev;

	FOR_EACH_COMMAND(c) {
		if (take)
			return c;
		if (c == prev)
			take = true;
	}
	return NULL;
}

static int cmd_help(struct ish_shell *sh, int argc, char **argv)
{
	const struct ish_command *cmd;
	bool ambiguous;
	unsigned shown = 0;

	if (argc > 2)
		return sh_usage(sh, ish_command_find("help", &ambiguous));
	if (argc == 1) {
		if (sh_json(sh)) {
			json_begin_array(&sh->json);
			FOR_EACH_COMMAND(c) {
				json_begin_object(&sh->json);
				json_kv_str(&sh->json, "name", c->name);
				json_kv_str(&sh->json, "synopsis", c->synopsis);
				json_kv_str(&sh->json, "summary", c->summary);
				json_end_object(&sh->json);
			}
			json_end_array(&sh->json);
			json_end_line(&sh->json);
			return 0;
		}
		sh_printf(sh, "Commands (abbreviate to any unique prefix; 'help CMD' for more):\n");
		FOR_EACH_COMMAND(c)
			sh_printf(sh, "  %-12s %s\n", c->name, c->summary);
		return 0;
	}
	cmd = ish_command_find(argv[1], &ambiguous);
	if (cmd && !strpbrk(argv[1], "*?[")) {
		if (sh_json(sh)) {
			json_begin_object(&sh->json);
			json_kv_str(&sh->json, "name", cmd->name);
			json_kv_str(&sh->json, "synopsis", cmd->synopsis);
			json_kv_str(&sh->json, "summary", cmd->summary);
			json_kv_str(&sh->json, "help", cmd->help);
			json_end_object(&sh->json);
			json_end_line(&sh->json);
			return 0;
		}
		sh_printf(sh, "usage: %s\n%s\n", cmd->synopsis, cmd->summary);
		if (cmd->alias)
			sh_printf(sh, "Also: %s\n", cmd->alias);
		if (cmd->help && *cmd->help)
			sh_printf(sh, "\n%s\n", cmd->help);
		return 0;
	}
	/* A pattern: names matching the glob, or commands whose text mentions the word. */
	FOR_EACH_COMMAND(c) {
		bool glob = strpbrk(argv[1], "*?[") != NULL;

		if ((glob && !fnmatch(argv[1], c->name, 0)) ||
		    (!glob && (strcasestr(c->summary, argv[1]) || strcasestr(c->help, argv[1])))) {
			sh_printf(sh, "  %-12s %s\n", c->name, c->summary);
			shown++;
		}
	}
	if (!shown)
		return sh_error(sh, "no command matches '%s'", argv[1]);
	return 0;
}

static int cmd_quit(struct ish_shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	sh->quit = true;
	return 0;
}

/* Does unit 0 answer GSTS from the kernel's copy (no registers otherwise)? */
static bool regs_from_kernel(struct ish_target *t)
{
	uint64_t v;
	struct ish_error *err;

	if (!ish_target_nunits(t))
		return false;
	err = ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v);
	ish_error_destroy(err);
	return !err && !strcmp(ish_target_reg_source(t, 0, DMAR_GSTS_REG), "kernel");
}

static int cmd_units(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_target *t = sh->target;
	unsigned n = ish_target_nunits(t);
	struct ish_error *why = NULL;
	bool kernel_regs = false;

	(void)argv;
	if (argc != 1)
		return sh_usage(sh, ish_command_find("units", &(bool){ false }));
	if (sh_json(sh))
		json_begin_array(&sh->json);
	else
		sh_printf(sh, "%-7s %-4s %-18s %-6s %-9s %-9s %s\n", "UNIT", "SEG", "BASE", "VER",
			  "TE", "MODE", "FLAGS");
	for (unsigned i = 0; i < n; i++) {
		const struct ish_unit *u = ish_target_unit(t, i);
		uint64_t ver = 0, gsts = 0, rtaddr = 0;
		struct ish_error *e1 = ish_read_reg(t, i, DMAR_VER_REG, 32, &ver);
		struct ish_error *e2 = ish_read_reg(t, i, DMAR_GSTS_REG, 32, &gsts);
		struct ish_error *e3 = ish_read_reg(t, i, DMAR_RTADDR_REG, 64, &rtaddr);
		static const char *const ttm[] = { "legacy", "scalable", "reserved", "abort-dma" };
		char verbuf[16];

		if (!e2 && !strcmp(ish_target_reg_source(t, i, DMAR_GSTS_REG), "kernel")) {
			/* The kernel keeps no copy of VER: unknown, and no failure. */
			kernel_regs = true;
			ish_error_destroy(e1);
			e1 = NULL;
			ver = ~0ULL;
		}
		snprintf(verbuf, sizeof(verbuf), "%u.%u", (unsigned)ISH_BITS(ver, 7, 4),
			 (unsigned)ISH_BITS(ver, 3, 0));
		if (sh_json(sh)) {
			json_begin_object(&sh->json);
			json_kv_str(&sh->json, "name", u->name);
			json_kv_u64(&sh->json, "index", u->index);
			json_kv_u64(&sh->json, "segment", u->segment);
			json_kv_u64(&sh->json, "base", u->reg_base);
			json_kv_bool(&sh->json, "include_pci_all", u->drhd_flags & 1);
			if (ish_target_units_from_kernel(t))
				json_kv_str(&sh->json, "from", "kernel dmar_drhd_units");
			if (!e2 && kernel_regs)
				json_kv_str(&sh->json, "registers", "kernel");
			if (!e1 && ver != ~0ULL)
				json_kv_str(&sh->json, "version", verbuf);
			if (!e2)
				json_kv_bool(&sh->json, "translation_enabled", gsts & DMA_GSTS_TES);
			if (!e3)
				json_kv_str(&sh->json, "mode", ttm[DMA_RTADDR_TTM(rtaddr)]);
			json_end_object(&sh->json);
		} else {
			sh_printf(sh, "%-7s %04x %#-18" PRIx64 " %-6s %-9s %-9s %s\n", u->name, u->segment,
				  u->reg_base, e1 || ver == ~0ULL ? "?" : verbuf,
				  e2 ? "?" : (gsts & DMA_GSTS_TES) ? "enabled" : "disabled",
				  e3 ? "?" : ttm[DMA_RTADDR_TTM(rtaddr)],
				  u->drhd_flags & 1 ? "INCLUDE_PCI_ALL" : "");
		}
		/* A '?' says little: keep the first reason, say it after the table. */
		if (!why && (e1 || e2 || e3)) {
			struct ish_error *e = e1 ? e1 : e2 ? e2 : e3;

			why = strncmp(e->message, u->name, strlen(u->name)) ?
			      ish_error_prefix(e, "%s: registers not readable", u->name) : e;
			if (e == e1)
				e1 = NULL;
			else if (e == e2)
				e2 = NULL;
			else
				e3 = NULL;
		}
		ish_error_destroy(e1);
		ish_error_destroy(e2);
		ish_error_destroy(e3);
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	} else if (!n) {
		sh_printf(sh, "no remapping units\n");
	} else if (ish_target_units_from_kernel(t)) {
		sh_printf(sh, "units from the kernel's dmar_drhd_units; registers are its copies\n");
	} else if (kernel_regs) {
		sh_printf(sh, "registers are the kernel's copies (struct intel_iommu), not the hardware's\n");
	}
	if (why) {
		fflush(sh->out);
		return sh_report(sh, why);
	}
	return 0;
}

static bool parse_onoff(const char *s, bool *ret)
{
	if (!strcmp(s, "on") || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "true"))
		*ret = true;
	else if (!strcmp(s, "off") || !strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "false"))
		*ret = false;
	else
		return false;
	return true;
}

static int cmd_set(struct ish_shell *sh, int argc, char **argv)
{
	bool on;

	if (argc >= 2 && !strcmp(argv[1], "reg")) {
		if (!sh_target(sh))
			return 1;
		/* Write mode, like the register's access, is the library's gate to check. */
		return ish_cmd_set_reg(sh, argc - 1, argv + 1);
	}
	if (argc != 3)
		return sh_usage(sh, ish_command_find("set", &(bool){ false }));
	if (!strcmp(argv[1], "mode")) {
		if (!strcmp(argv[2], "json"))
			sh->mode = OUT_JSON;
		else if (!strcmp(argv[2], "text"))
			sh->mode = OUT_TEXT;
		else
			return sh_error(sh, "mode is 'text' or 'json', not '%s'", argv[2]);
		return 0;
	}
	if (!strcmp(argv[1], "json")) {
		if (!strcmp(argv[2], "lines"))
			sh->mode = OUT_JSONL;
		else if (!strcmp(argv[2], "array"))
			sh->mode = OUT_JSON;
		else
			return sh_error(sh, "json is 'lines' or 'array', not '%s'", argv[2]);
		return 0;
	}
	if (!strcmp(argv[1], "write")) {
		if (!parse_onoff(argv[2], &on))
			return sh_error(sh, "write is 'on' or 'off', not '%s'", argv[2]);
		sh->write = on;
		if (sh->target)
			ish_target_set_writable(sh->target, on);
		return 0;
	}
	if (!strcmp(argv[1], "pager")) {
		if (!parse_onoff(argv[2], &on))
			return sh_error(sh, "pager is 'on' or 'off', not '%s'", argv[2]);
		sh->pager = on;
		return 0;
	}
	return sh_error(sh, "no setting '%s' (settings: mode, json, write, pager)", argv[1]);
}

static void note_count(void *arg, const struct ish_describe_item *it)
{
	if (!it->text)
		*(bool *)arg = true;
}

/* Does the target's backend keep counts of its own (ish_target_describe)? */
static bool backend_counts(struct ish_target *t)
{
	bool any = false;

	ish_target_describe(t, note_count, &any);
	return any;
}

static int cmd_show(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_target_stats st;

	(void)argv;
	if (argc > 2)
		return sh_usage(sh, ish_command_find("show", &(bool){ false }));
	if (argc == 2 && !strcmp(argv[1], "stats")) {
		if (!sh_target(sh))
			return 1;
		ish_target_stats(sh->target, &st);
		if (sh_json(sh)) {
			json_begin_object(&sh->json);
			json_kv_u64(&sh->json, "phys_requests", st.phys_requests);
			json_kv_u64(&sh->json, "phys_bytes", st.phys_bytes);
			json_kv_u64(&sh->json, "reg_requests", st.reg_requests);
			json_kv_u64(&sh->json, "cache_hits", st.cache_hits);
			json_kv_u64(&sh->json, "cache_misses", st.cache_misses);
			if (backend_counts(sh->target)) {
				json_key(&sh->json, "backend");
				json_begin_object(&sh->json);
				sh_describe(sh, SH_DESCRIBE_COUNTS, true, NULL);
				json_end_object(&sh->json);
			}
			json_end_object(&sh->json);
			json_end_line(&sh->json);
		} else {
			sh_printf(sh, "phys requests %" PRIu64 " (%" PRIu64 " bytes), register requests %" PRIu64
				  ", cache hits %" PRIu64 ", misses %" PRIu64 "\n",
				  st.phys_requests, st.phys_bytes, st.reg_requests, st.cache_hits,
				  st.cache_misses);
			sh_describe(sh, SH_DESCRIBE_COUNTS, false, "backend: ");
		}
		return 0;
	}
	if (argc == 2)
		return sh_error(sh, "nothing to show about '%s' (try 'show' or 'show stats')", argv[1]);
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "mode", sh_jsonl(sh) ? "jsonl" : "json");
		json_kv_bool(&sh->json, "write", sh->write);
		json_key(&sh->json, "target");
		if (sh->target) {
			json_begin_object(&sh->json);
			json_kv_str(&sh->json, "spec", ish_target_spec(sh->target));
			json_kv_str(&sh->json, "backend", ish_backend_name(ish_target_backend(sh->target)));
			sh_describe(sh, SH_DESCRIBE_TEXT, true, NULL);
			if (regs_from_kernel(sh->target))
				json_kv_str(&sh->json, "registers", "kernel");
			if (ish_target_units_from_kernel(sh->target))
				json_kv_str(&sh->json, "units", "kernel");
			json_end_object(&sh->json);
		} else {
			json_null(&sh->json);
		}
		json_end_object(&sh->json);
		json_end_line(&sh->json);
		return 0;
	}
	sh_printf(sh, "mode    text\nwrite   %s\npager   %s\n", sh->write ? "on" : "off",
		  sh->pager ? "on" : "off");
	if (sh->target) {
		const struct ish_param_def *p = ish_backend_params(ish_target_backend(sh->target));

		sh_printf(sh, "target  %s (%s backend)\n", ish_target_spec(sh->target),
			  ish_backend_name(ish_target_backend(sh->target)));
		sh_describe(sh, SH_DESCRIBE_TEXT, false, "  ");
		if (ish_target_units_from_kernel(sh->target))
			sh_printf(sh, "  units from the kernel's dmar_drhd_units\n");
		if (regs_from_kernel(sh->target))
			sh_printf(sh, "  registers from the kernel's own copies (struct intel_iommu), "
				  "not the hardware\n");
		for (; p && p->name; p++) {
			const char *v = ish_target_param(sh->target, p->name);

			sh_printf(sh, "  %-20s %s\n", p->name, v ? v : "(unset)");
		}
	} else {
		sh_printf(sh, "target  (none)\n");
	}
	return 0;
}

static int cmd_backends(struct ish_shell *sh, int argc, char **argv)
{
	bool verbose = argc == 2 && !strcmp(argv[1], "-v");

	if (argc > 2 || (argc == 2 && !verbose))
		return sh_usage(sh, ish_command_find("backends", &(bool){ false }));
	if (sh_json(sh))
		json_begin_array(&sh->json);
	for (size_t i = 0; ish_backends[i]; i++) {
		const struct ish_backend *b = ish_backends[i];

		if (sh_json(sh)) {
			json_begin_object(&sh->json);
			json_kv_str(&sh->json, "name", ish_backend_name(b));
			json_kv_str(&sh->json, "help", ish_backend_help(b));
			json_kv_bool(&sh->json, "writable", !ish_backend_read_only(b));
			json_key(&sh->json, "params");
			json_begin_array(&sh->json);
			for (const struct ish_param_def *p = ish_backend_params(b); p && p->name; p++) {
				json_begin_object(&sh->json);
				json_kv_str(&sh->json, "name", p->name);
				json_kv_str(&sh->json, "default", p->def);
				json_kv_str(&sh->json, "help", p->help);
				json_end_object(&sh->json);
			}
			json_end_array(&sh->json);
			json_end_object(&sh->json);
			continue;
		}
		sh_printf(sh, "%-9s %s%s\n", ish_backend_name(b), ish_backend_help(b),
			  ish_backend_read_only(b) ? " (read-only)" : "");
		if (verbose)
			for (const struct ish_param_def *p = ish_backend_params(b); p && p->name; p++)
				sh_printf(sh, "    -O %-20s %s%s%s%s\n", p->name, p->help,
					  p->def ? " [default " : "", p->def ? p->def : "",
					  p->def ? "]" : "");
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	}
	return 0;
}

static int cmd_output(struct ish_shell *sh, int argc, char **argv)
{
	FILE *f;

	if (argc != 2)
		return sh_usage(sh, ish_command_find("output", &(bool){ false }));
	if (!strcmp(argv[1], "-") || !strcmp(argv[1], "stdout")) {
		if (sh->out != stdout)
			fclose(sh->out);
		sh->out = stdout;
		return 0;
	}
	f = fopen(argv[1], "w");
	if (!f)
		return sh_error(sh, "%s: %m", argv[1]);
	if (sh->out != stdout)
		fclose(sh->out);
	sh->out = f;
	return 0;
}

static int cmd_source(struct ish_shell *sh, int argc, char **argv)
{
	if (argc != 2)
		return sh_usage(sh, ish_command_find("source", &(bool){ false }));
	return ish_shell_run_file(sh, argv[1]) ? 1 : 0;
}

static int cmd_echo(struct ish_shell *sh, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		sh_printf(sh, "%s%s", argv[i], i + 1 < argc ? " " : "");
	sh_printf(sh, "\n");
	return 0;
}

const struct ish_command ish_cmds_core[] = {
	{ "help", "?", "help [COMMAND|PATTERN]", "list commands, or explain one",
	  "Without an argument, lists every command with a one-line summary. With a command\n"
	  "name (or a unique prefix), shows its synopsis and full description. With a\n"
	  "glob pattern (help 'inv*') or a word (help fault), lists the commands whose\n"
	  "names match the pattern or whose description mentions the word.",
	  cmd_help, 0, COMPLETE_COMMAND },
	{ "units", NULL, "units", "list the DMA-remapping units (DRHDs) of the target",
	  "One line per unit: its name (dmar0...), PCI segment, register base address,\n"
	  "architecture version, whether translation is enabled (GSTS.TES) and the\n"
	  "translation table mode (RTADDR.TTM: legacy, scalable, abort-dma). Units come\n"
	  "from the target's DMAR table or, for dumps, its register file.",
	  cmd_units, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "set", NULL, "set mode text|json | set json lines|array | set write on|off | set pager on|off | set reg [UNIT] NAME VALUE",
	  "change a session setting, or write a register",
	  "mode   text for people, json for programs (one JSON value per command).\n"
	  "json   lines (--jsonl): JSON output, and a listing (mappings,\n"
	  "       who-maps, devices, pasid BDF, irte, pci) is JSON Lines: one complete\n"
	  "       JSON object per line per item, equal to that item of the --json\n"
	  "       array, written as the walk finds it; an empty listing is no line.\n"
	  "       Other commands print their one JSON value, on one line, as in json.\n"
	  "       array: JSON output, one array per listing (as 'set mode json').\n"
	  "write  allow commands that write to the target (invalidate, set reg). Off by\n"
	  "       default; --write on the command line turns it on.\n"
	  "pager  page long output through $PAGER (or less) on a terminal; on by default.\n"
	  "reg    write VALUE to register NAME of UNIT (default: the only unit), at the\n"
	  "       register's own width; needs write mode. Example: set reg dmar0 FECTL 0.\n"
	  "       The register table's access model decides first, whatever the mode\n"
	  "       (regs -v shows it): a read-only (RO) register is refused (CAP is\n"
	  "       read-only (RO): the hardware ignores writes to it ...); WO registers\n"
	  "       (GCMD, IVA) are written and read back as 0, GCMD's effect shown in GSTS;\n"
	  "       for RW1C registers (FSTS, ICS, PRS, FRCDn_HI.F) a note says which bits\n"
	  "       the value clears (writing 1 clears a bit, 0 leaves it), and notes name\n"
	  "       RO fields the value cannot change and reserved bits it sets.\n"
	  "\n"
	  "On a live host (devmem, kcore, debugfs, live) every write is also asked about\n"
	  "once per command unless --yes (and refused without a terminal to ask), refused\n"
	  "on a unit the kernel's intel-iommu driver owns unless --force (or 'open\n"
	  "--force'), and logged with its old and new value (-O write.log=FILE).",
	  cmd_set, 0, COMPLETE_PARAM },
	{ "show", NULL, "show [stats]", "show session settings, or the target's request counters",
	  "Without an argument: output mode, write mode, the open target, its backend\n"
	  "(for live, which way in it chose and why) and its parameters. 'show stats':\n"
	  "requests sent to the backend, bytes read and the page cache's hits and misses\n"
	  "since the target was opened, then the backend's own counts, if it keeps any\n"
	  "(debugfs: files parsed, entries placed, conflicts, skipped lines).",
	  cmd_show, 0, COMPLETE_NONE },
	{ "backends", NULL, "backends [-v]", "list the backends, in probe order",
	  "Lists every backend in the order used to recognise a TARGET. With -v, also\n"
	  "each backend's parameters (set them with -O KEY=VALUE) and their defaults.",
	  cmd_backends, 0, COMPLETE_NONE },
	{ "output", NULL, "output FILE|-", "send command output to FILE (- for the terminal)",
	  "Redirects the output of the following commands to FILE (created or\n"
	  "truncated). 'output -' goes back to standard output. Errors still go to\n"
	  "standard error.",
	  cmd_output, 0, COMPLETE_FILE },
	{ "source", NULL, "source FILE", "run the commands in FILE, or a Lua script",
	  "Runs FILE one line at a time as if typed; a FILE ending in .lua is run as a Lua\n"
	  "script. Failing lines are reported and the rest still run, unless in batch\n"
	  "mode (-c, --batch), where the first failure stops the file.",
	  cmd_source, 0, COMPLETE_FILE },
	{ "echo", NULL, "echo TEXT...", "print TEXT", "Prints its arguments, for command files.",
	  cmd_echo, 0, COMPLETE_NONE },
	{ "quit", "exit", "quit", "leave the shell", "Leaves the shell. End of input (Ctrl-D) does the same.",
	  cmd_quit, 0, COMPLETE_NONE },
	{ NULL },
};
