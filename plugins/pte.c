// SPDX-License-Identifier: MIT
/*
 * Example C plugin: `pte`, decode a raw paging entry typed in by hand (from
 * a log, a debugger, a trace line) without a target. Second-level entries
 * are VT-d 5.0 9.8, first-level entries 9.7; the decoding is the library's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/walk.h>

#include "shell.h"

extern const struct ish_command ish_cmds_plugin_pte[];

static int cmd_pte(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = {
		{ "--level", true, NULL },
		{ "--first-level", false, NULL },
		{ "--slee", false, NULL },
		{ "--haw", true, NULL },
	};
	const struct ish_command *self = sh->cmd;
	struct ish_walk_caps caps = { .haw = 48, .sllps = 3, .fl1gp = true, .snp = true };
	uint64_t raw, level = 1, haw = 48;
	struct ish_pte p;
	bool fl;

	if (!sh_getopt(sh, self, &argc, argv, opts, 4))
		return 2;
	if (argc != 2 || !parse_u64(argv[1], &raw))
		return sh_usage(sh, self);
	if (opts[0].value && (!parse_u64(opts[0].value, &level) || level < 1 || level > 5))
		return sh_error(sh, "--level is 1 (PTE) to 5 (PML5E)");
	if (opts[3].value && (!parse_u64(opts[3].value, &haw) || haw < 12 || haw > 64))
		return sh_error(sh, "--haw is 12 to 64");
	fl = opts[1].value != NULL;
	caps.haw = (unsigned)haw;
	caps.slee = opts[2].value != NULL;
	if (fl)
		ish_decode_fl_pte(raw, (unsigned)level, &caps, &p);
	else
		ish_decode_sl_pte(raw, (unsigned)level, &caps, &p);
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_u64(&sh->json, "raw", raw);
		json_kv_str(&sh->json, "kind", fl ? "first-level" : "second-level");
		json_kv_u64(&sh->json, "level", p.level);
		json_kv_bool(&sh->json, "present", p.present);
		json_kv_bool(&sh->json, "leaf", p.leaf);
		json_kv_u64(&sh->json, "addr", p.addr);
		if (p.leaf)
			json_kv_u64(&sh->json, "page_size", p.page_size);
		json_kv_bool(&sh->json, "read", p.r);
		json_kv_bool(&sh->json, "write", p.w);
		json_kv_bool(&sh->json, "exec", p.x);
		json_kv_u64(&sh->json, "reserved", p.rsvd);
		json_end_object(&sh->json);
		json_end_line(&sh->json);
		return 0;
	}
	sh_printf(sh, "%s entry, level %u: %s%s\n", fl ? "first-level" : "second-level", p.level,
		  p.present ? "present" : "not present", p.present ? (p.leaf ? ", leaf" : ", table") : "");
	if (p.present) {
		sh_printf(sh, "  %s %#" PRIx64, p.leaf ? "page" : "table", p.addr);
		if (p.leaf)
			sh_printf(sh, " (%" PRIu64 " KiB)", p.page_size >> 10);
		sh_printf(sh, "\n  ");
		sh_flag(sh, "R", p.r);
		sh_printf(sh, " ");
		sh_flag(sh, "W", p.w);
		sh_printf(sh, " ");
		sh_flag(sh, "X", p.x);
		sh_printf(sh, " ");
		sh_flag(sh, "A", p.a);
		sh_printf(sh, " ");
		sh_flag(sh, "D", p.d);
		sh_printf(sh, "\n");
	}
	if (p.rsvd)
		sh_printf(sh, "  reserved bits set: %#" PRIx64 "\n", p.rsvd);
	return 0;
}

const struct ish_command ish_cmds_plugin_pte[] = {
	{ "pte", NULL, "pte VALUE [--level N] [--first-level] [--slee] [--haw BITS]",
	  "decode a raw paging entry (example C plugin)",
	  "Decodes VALUE as a second-level (default) or first-level (--first-level)\n"
	  "paging entry at level N (1 = PTE, default; 2 = PDE; 3 = PDPE; 4, 5): present,\n"
	  "leaf or table, the address, permissions and reserved bits set for a host\n"
	  "address width of BITS (default 48). --slee makes SL bit 2 execute. Needs no\n"
	  "target. This command is the example C plugin (plugins/pte.c, -Dplugins).",
	  cmd_pte, 0, COMPLETE_NONE },
	{ NULL },
};
