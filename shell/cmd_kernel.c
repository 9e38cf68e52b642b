// SPDX-License-Identifier: MIT
/* The kernel's own view: kernel, kernel sym NAME, kernel type TYPE. A printer over lib/kernel.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/btf.h>
#include <iommush/kernel.h>
#include <iommush/vtd/kernel_domains.h>

#include "json.h"
#include "kernel_log.h"
#include "shell.h"

static const struct ish_command *kernel_cmd(void)
{
	return ish_command_find("kernel", &(bool){ false });
}

static struct ish_kernel *open_kernel(struct ish_shell *sh, struct ish_target *t)
{
	struct ish_kernel *k;
	/* The target's: found once (a RAM scan on a guest), kept until it closes. */
	struct ish_error *err = ish_target_kernel(t, &k);

	if (err) {
		sh_report(sh, ish_error_prefix(err, "no Linux kernel found"));
		return NULL;
	}
	return k;
}

static void json_pa(struct json_writer *w, const char *key, uint64_t pa)
{
	json_key(w, key);
	if (pa == ~0ULL)
		json_null(w);
	else
		json_u64(w, pa);
}

static void unit_json(struct json_writer *w, const struct ish_kernel_vtd_unit *u)
{
	json_begin_object(w);
	json_kv_str(w, "name", u->name);
	json_kv_u64(w, "reg_phys", u->reg_phys);
	json_kv_u64(w, "segment", u->segment);
	json_kv_bool(w, "include_all", u->include_all);
	json_kv_u64(w, "drhd", u->drhd_va);
	json_key(w, "iommu");
	if (!u->iommu_va) {
		json_null(w);
		json_end_object(w);
		return;
	}
	json_u64(w, u->iommu_va);
	json_key(w, "seq_id");
	json_i64(w, u->seq_id);
	json_kv_u64(w, "cap", u->cap);
	json_kv_u64(w, "ecap", u->ecap);
	json_kv_u64(w, "gcmd", u->gcmd);
	json_kv_u64(w, "root_entry", u->root_entry_va);
	json_pa(w, "root_entry_pa", u->root_entry_pa);
	json_key(w, "qi");
	if (u->has_qi) {
		json_begin_object(w);
		json_kv_u64(w, "va", u->qi_va);
		json_kv_u64(w, "desc", u->qi_desc_va);
		json_pa(w, "desc_pa", u->qi_desc_pa);
		json_key(w, "free_head");
		json_i64(w, u->qi_free_head);
		json_key(w, "free_tail");
		json_i64(w, u->qi_free_tail);
		json_key(w, "free_cnt");
		json_i64(w, u->qi_free_cnt);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_key(w, "ir_table");
	if (u->has_ir_table) {
		json_begin_object(w);
		json_kv_u64(w, "va", u->ir_table_va);
		json_kv_u64(w, "base", u->ir_table_base_va);
		json_pa(w, "base_pa", u->ir_table_base_pa);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_end_object(w);
}

static void text_pa(struct ish_shell *sh, uint64_t pa)
{
	if (pa == ~0ULL)
		sh_printf(sh, " (pa ?)");
	else
		sh_printf(sh, " (pa %#" PRIx64 ")", pa);
}

static void unit_text(struct ish_shell *sh, const struct ish_kernel_vtd_unit *u)
{
	sh_printf(sh, "%-6s reg_phys %#" PRIx64 " segment %u ", u->iommu_va ? u->name : "-",
		  u->reg_phys, u->segment);
	sh_flag(sh, "include_all", u->include_all);
	sh_printf(sh, "\n");
	if (!u->iommu_va) {
		sh_printf(sh, "       no struct intel_iommu\n");
		return;
	}
	sh_printf(sh, "       seq_id %d cap %#018" PRIx64 " ecap %#018" PRIx64 " gcmd %#010x\n",
		  u->seq_id, u->cap, u->ecap, u->gcmd);
	sh_printf(sh, "       root_entry %#" PRIx64, u->root_entry_va);
	if (u->root_entry_va)
		text_pa(sh, u->root_entry_pa);
	sh_printf(sh, "\n");
	if (u->has_qi) {
		sh_printf(sh, "       qi %#" PRIx64 " desc %#" PRIx64, u->qi_va, u->qi_desc_va);
		text_pa(sh, u->qi_desc_pa);
		sh_printf(sh, " free_head %d free_tail %d free_cnt %d\n", u->qi_free_head,
			  u->qi_free_tail, u->qi_free_cnt);
	} else {
		sh_printf(sh, "       qi none\n");
	}
	if (u->has_ir_table) {
		sh_printf(sh, "       ir_table %#" PRIx64 " base %#" PRIx64, u->ir_table_va,
			  u->ir_table_base_va);
		text_pa(sh, u->ir_table_base_pa);
		sh_printf(sh, "\n");
	} else {
		sh_printf(sh, "       ir_table none\n");
	}
}

static int kernel_summary(struct ish_shell *sh, struct ish_kernel *k)
{
	const char *rel = ish_kernel_vmcoreinfo(k, "OSRELEASE");
	struct ish_kernel_vtd_unit *units = NULL;
	struct ish_error *btf_err, *units_err;
	struct json_writer *w = &sh->json;
	size_t btf_size = 0, ntypes = 0, nunits = 0;
	int status = 0;

	btf_err = ish_kernel_btf_info(k, &btf_size, &ntypes);
	units_err = btf_err ? NULL : ish_kernel_vtd_units(k, &units, &nunits);
	if (sh_json(sh)) {
		json_begin_object(w);
		json_kv_str(w, "source", ish_kernel_source(k));
		json_kv_str(w, "osrelease", rel ? rel : "");
		json_kv_u64(w, "kerneloffset", ish_kernel_kaslr_offset(k));
		json_kv_u64(w, "phys_base", ish_kernel_phys_base(k));
		json_kv_u64(w, "page_offset_base", ish_kernel_page_offset_base(k));
		json_kv_u64(w, "symbols", ish_kernel_nsyms(k));
		json_key(w, "btf");
		if (btf_err) {
			json_null(w);
		} else {
			json_begin_object(w);
			json_kv_u64(w, "size", btf_size);
			json_kv_u64(w, "types", ntypes);
			json_end_object(w);
		}
		json_key(w, "units");
		if (btf_err || units_err) {
			json_null(w);
		} else {
			json_begin_array(w);
			for (size_t i = 0; i < nunits; i++)
				unit_json(w, &units[i]);
			json_end_array(w);
		}
		json_end_object(w);
		json_end_line(w);
	} else {
		sh_printf(sh, "VMCOREINFO        %s\n", ish_kernel_source(k));
		sh_printf(sh, "OSRELEASE         %s\n", rel ? rel : "?");
		sh_printf(sh, "KERNELOFFSET      %#" PRIx64 "\n", ish_kernel_kaslr_offset(k));
		/* VMCOREINFO prints it signed: under KASLR it is often negative. */
		if ((int64_t)ish_kernel_phys_base(k) < 0)
			sh_printf(sh, "phys_base         %#" PRIx64 " (-%#" PRIx64 ")\n",
				  ish_kernel_phys_base(k), (uint64_t)0 - ish_kernel_phys_base(k));
		else
			sh_printf(sh, "phys_base         %#" PRIx64 "\n", ish_kernel_phys_base(k));
		sh_printf(sh, "page_offset_base  %#" PRIx64 "\n", ish_kernel_page_offset_base(k));
		sh_printf(sh, "symbols           %zu\n", ish_kernel_nsyms(k));
		if (!btf_err)
			sh_printf(sh, "BTF               %zu bytes, %zu types\n", btf_size, ntypes);
		if (!btf_err && !units_err) {
			sh_printf(sh, "VT-d units        %zu (dmar_drhd_units)\n", nunits);
			for (size_t i = 0; i < nunits; i++)
				unit_text(sh, &units[i]);
		}
	}
	fflush(sh->out);
	if (btf_err)
		status = sh_report(sh, btf_err);
	if (units_err)
		status = sh_report(sh, units_err);
	free(units);
	return status;
}

static int kernel_sym(struct ish_shell *sh, struct ish_kernel *k, const char *name)
{
	struct ish_error *err;
	uint64_t va, pa;

	err = ish_kernel_symbol(k, name, &va);
	if (err)
		return sh_report(sh, err);
	err = ish_kernel_va_to_pa(k, va, &pa);
	if (err) {
		ish_error_destroy(err);
		pa = ~0ULL;
	}
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "name", name);
		json_kv_u64(&sh->json, "address", va);
		json_pa(&sh->json, "pa", pa);
		json_end_object(&sh->json);
		json_end_line(&sh->json);
	} else {
		sh_printf(sh, "%s %#" PRIx64, name, va);
		if (pa != ~0ULL)
			text_pa(sh, pa);
		sh_printf(sh, "\n");
	}
	return 0;
}

struct type_state {
	struct ish_shell *sh;
	const struct ish_btf *b;
};

static struct ish_error *print_field(void *arg, const struct ish_btf_field *f)
{
	struct type_state *ts = arg;
	struct ish_shell *sh = ts->sh;
	char tname[256];

	ish_btf_type_name(ts->b, f->type, tname, sizeof(tname));
	if (sh_json(sh)) {
		struct json_writer *w = &sh->json;

		json_begin_object(w);
		json_kv_str(w, "name", f->name);
		json_kv_str(w, "type", tname);
		json_kv_u64(w, "offset", f->where.offset);
		json_kv_u64(w, "size", f->where.size);
		json_key(w, "bits");
		if (f->where.bit_size) {
			json_begin_object(w);
			json_kv_u64(w, "offset", f->where.bit_offset);
			json_kv_u64(w, "size", f->where.bit_size);
			json_end_object(w);
		} else {
			json_null(w);
		}
		json_end_object(w);
	} else {
		sh_printf(sh, "  %5" PRIu64 " %5" PRIu64 "  %s %s", f->where.offset, f->where.size,
			  tname, *f->name ? f->name : "(anonymous)");
		if (f->where.bit_size)
			sh_printf(sh, " : %u (bit %u)", f->where.bit_size, f->where.bit_offset);
		sh_printf(sh, "\n");
	}
	return NULL;
}

static int kernel_type(struct ish_shell *sh, struct ish_kernel *k, const char *type)
{
	struct type_state ts = { .sh = sh };
	struct ish_error *err;
	uint64_t size = 0;
	uint32_t id;

	err = ish_kernel_btf(k, &ts.b);
	if (!err)
		err = ish_btf_find(ts.b, type, &id);
	if (!err)
		err = ish_btf_type_size(ts.b, id, &size);
	if (err)
		return sh_report(sh, err);
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "type", type);
		json_kv_u64(&sh->json, "size", size);
		json_key(&sh->json, "members");
		json_begin_array(&sh->json);
	} else {
		sh_printf(sh, "%s: %" PRIu64 " bytes\n  offset  size  type member\n", type, size);
	}
	err = ish_btf_members(ts.b, id, print_field, &ts);
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_object(&sh->json);
		json_end_line(&sh->json);
	}
	fflush(sh->out);
	return err ? sh_report(sh, err) : 0;
}

static const char *domain_kind(const struct ish_kernel_vtd_device *d)
{
	if (!d->domain_va)
		return "none";
	if (d->identity)
		return "identity";
	return d->first_level ? "first-level" : "second-level";
}

static void kdev_json(struct json_writer *w, struct ish_target *t, const struct ish_vtd_view *v)
{
	const struct ish_kernel_vtd_device *d = &v->k;
	const struct ish_xlate_tables *tb = &v->hw.tables;
	char b[8];

	json_begin_object(w);
	json_kv_u64(w, "segment", v->segment);
	json_kv_str(w, "bdf", fmt_bdf(v->bdf, b));
	json_key(w, "kernel");
	if (v->in_kernel) {
		json_begin_object(w);
		json_kv_str(w, "unit", d->unit);
		json_kv_u64(w, "info", d->info_va);
		json_kv_u64(w, "device", d->dev_va);
		json_key(w, "domain");
		if (d->domain_va)
			json_u64(w, d->domain_va);
		else
			json_null(w);
		json_kv_str(w, "kind", domain_kind(d));
		if (d->domain_va) {
			json_kv_u64(w, "type", d->domain_type);
			json_key(w, "did");
			if (d->have_did)
				json_u64(w, d->did);
			else
				json_null(w);
			json_kv_u64(w, "pgd", d->pgd_va);
			json_pa(w, "pgd_pa", d->pgd_pa);
			json_key(w, "gaw");
			json_i64(w, d->gaw);
			json_key(w, "agaw");
			json_i64(w, d->agaw);
			json_key(w, "levels");
			json_i64(w, d->agaw + 2);
			json_key(w, "flags");
			json_i64(w, d->flags);
		}
		json_kv_bool(w, "pasid_enabled", d->pasid_enabled);
		json_kv_bool(w, "ats_enabled", d->ats_enabled);
		json_kv_bool(w, "pri_enabled", d->pri_enabled);
		json_pa(w, "pasid_dir_pa", d->pasid_dir_pa);
		json_kv_u64(w, "max_pasid", d->max_pasid);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_key(w, "hardware");
	if (v->in_hw) {
		const struct ish_unit *un = ish_target_unit(t, v->hw.unit);

		json_begin_object(w);
		json_kv_str(w, "unit", un ? un->name : "?");
		json_kv_bool(w, "scalable", v->hw.scalable);
		json_kv_u64(w, "context_did", v->hw.ce.did);
		json_kv_bool(w, "resolved", v->hw.have_tables);
		if (v->hw.have_tables) {
			static const char *const modes[] = { "second-level", "first-level", "nested",
							     "pass-through" };

			json_kv_u64(w, "did", tb->did);
			json_kv_str(w, "mode", modes[tb->mode & 3]);
			json_kv_u64(w, "root", tb->mode == ISH_XLATE_FL ? tb->fl_root : tb->sl_root);
			json_kv_u64(w, "levels", tb->mode == ISH_XLATE_FL ? tb->fl_levels :
								       tb->sl_levels);
		}
		if (v->hw.scalable)
			json_kv_u64(w, "pasid_dir", v->hw.ce.pasiddirptr);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_key(w, "disagreements");
	json_begin_array(w);
	for (unsigned i = 0; i < v->ndiffs; i++) {
		json_begin_object(w);
		json_kv_str(w, "kind", ish_view_diff_name(v->diffs[i].kind));
		json_kv_str(w, "message", v->diffs[i].message);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

static void kdev_text(struct ish_shell *sh, const struct ish_vtd_view *v)
{
	const struct ish_kernel_vtd_device *d = &v->k;
	const struct ish_xlate_tables *tb = &v->hw.tables;
	char b[8];

	sh_printf(sh, "%04x:%s  ", v->segment, fmt_bdf(v->bdf, b));
	if (!v->in_kernel)
		sh_printf(sh, "%-40s", "-");
	else if (!d->domain_va)
		sh_printf(sh, "%-6s %-33s", d->unit, "no domain");
	else if (d->have_did)
		sh_printf(sh, "%-6s %-12s %5u %#10" PRIx64 " %d  ", d->unit, domain_kind(d), d->did,
			  d->pgd_pa, d->agaw + 2);
	else
		sh_printf(sh, "%-6s %-12s %5s %#10" PRIx64 " %d  ", d->unit, domain_kind(d), "?",
			  d->pgd_pa, d->agaw + 2);
	if (!v->in_hw)
		sh_printf(sh, "| -");
	else if (!v->hw.have_tables)
		sh_printf(sh, "| DID %u, not resolved", v->hw.ce.did);
	else if (tb->mode == ISH_XLATE_PT)
		sh_printf(sh, "| %5u pass-through", tb->did);
	else
		sh_printf(sh, "| %5u %#10" PRIx64 " %u", tb->did,
			  tb->mode == ISH_XLATE_FL ? tb->fl_root : tb->sl_root,
			  tb->mode == ISH_XLATE_FL ? tb->fl_levels : tb->sl_levels);
	sh_printf(sh, "  %s\n", v->ndiffs ? "DIFFER" : "agree");
	for (unsigned i = 0; i < v->ndiffs; i++)
		sh_printf(sh, "    %s: %s\n", ish_view_diff_name(v->diffs[i].kind),
			  v->diffs[i].message);
}

static int kernel_devices(struct ish_shell *sh, struct ish_kernel *k, struct ish_target *t)
{
	struct ish_vtd_view *v;
	struct ish_error *err;
	size_t n, ndiff = 0;

	err = ish_kernel_vtd_compare(t, k, &v, &n);
	if (err)
		return sh_report(sh, err);
	if (sh_json(sh))
		json_begin_array(&sh->json);
	else
		sh_printf(sh, "%-14s%-7s%-13s%5s %10s %s  | %5s %10s %s\n", "DEVICE", "UNIT",
			  "DOMAIN", "DID", "PGD", "LV", "DID", "ROOT", "LV");
	for (size_t i = 0; i < n; i++) {
		ndiff += v[i].ndiffs != 0;
		if (sh_json(sh))
			kdev_json(&sh->json, t, &v[i]);
		else
			kdev_text(sh, &v[i]);
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	} else {
		sh_printf(sh, "%zu device(s), %zu where the kernel and the tables disagree\n", n,
			  ndiff);
	}
	free(v);
	return 0;
}

static int cmd_kernel(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_target *t = sh_target(sh);
	struct ish_kernel *k;
	char type[256] = "";
	int status;

	if (!t)
		return 1;
	if (argc > 1 && strcmp(argv[1], "sym") && strcmp(argv[1], "type") &&
	    strcmp(argv[1], "devices"))
		return sh_usage(sh, kernel_cmd());
	if (argc > 2 && !strcmp(argv[1], "devices"))
		return sh_usage(sh, kernel_cmd());
	if (argc > 1 && !strcmp(argv[1], "sym") && argc != 3)
		return sh_usage(sh, kernel_cmd());
	if (argc > 1 && !strcmp(argv[1], "type")) {
		/* "struct q_inval" quoted or as two words */
		if (argc < 3)
			return sh_usage(sh, kernel_cmd());
		for (int i = 2; i < argc; i++) {
			if (strlen(type) + strlen(argv[i]) + 2 > sizeof(type))
				return sh_error(sh, "type name too long");
			if (i > 2)
				strcat(type, " ");
			strcat(type, argv[i]);
		}
	}
	k = open_kernel(sh, t);
	if (!k)
		return 1;
	if (argc == 1)
		status = kernel_summary(sh, k);
	else if (!strcmp(argv[1], "sym"))
		status = kernel_sym(sh, k, argv[2]);
	else if (!strcmp(argv[1], "devices"))
		status = kernel_devices(sh, k, t);
	else
		status = kernel_type(sh, k, type);
	return status;
}

const struct ish_command ish_cmds_kernel[] = {
	{ "kernel", NULL, "kernel [sym NAME | type TYPE | devices]",
	  "the Linux kernel's own view: VMCOREINFO, symbols, types, its VT-d units",
	  "Finds the Linux kernel in the target's memory and shows what it knows.\n"
	  "VMCOREINFO comes from the target's note when it has one (an ELF dump made\n"
	  "with QEMU's -device vmcoreinfo, a kdump vmcore, /proc/kcore), else from a\n"
	  "scan of the first bytes of every page of RAM (the backend's RAM: QEMU's\n"
	  "\"info mtree -f\" through the gdbstub, a dump's segments; or\n"
	  "-O kernel.scan=LO-HI); Ctrl-C stops the scan. Symbols are kallsyms,\n"
	  "decoded from memory at the addresses VMCOREINFO gives (Linux 6.0 and\n"
	  "later); types are the kernel's BTF (__start_BTF..__stop_BTF).\n"
	  "Without arguments: where VMCOREINFO came from, OSRELEASE, KERNELOFFSET,\n"
	  "phys_base, page_offset_base, the number of symbols, the BTF's size and\n"
	  "type count, and every unit on the driver's dmar_drhd_units list: its\n"
	  "name, reg_phys, cap, ecap, gcmd (the driver's copy: GCMD reads 0),\n"
	  "root_entry, the queue (qi: desc and the software free_head, free_tail,\n"
	  "free_cnt) and the interrupt remapping table (ir_table base), each pointer\n"
	  "with its physical address. Offsets come from BTF, never from a table here.\n"
	  "kernel sym NAME: the symbol's address (and physical address).\n"
	  "kernel type TYPE: the members of \"struct NAME\" or \"union NAME\" with\n"
	  "their offsets and sizes in bytes (bitfields: bits and bit position).\n"
	  "kernel devices: the driver's view of every device (device_domain_info\n"
	  "reached through devices_kset and dev->iommu, its dmar_domain: kind, domain\n"
	  "id on its unit, pgd, levels (agaw + 2), PASID table) next to the context\n"
	  "entry (legacy) or RID_PASID entry (scalable), and where they disagree:\n"
	  "detached (context present, the kernel has no domain), no-kernel-device,\n"
	  "not-present, did, root, levels, mode, pasid-dir. JSON: [{\"segment\",\n"
	  "\"bdf\", \"kernel\": {...} or null, \"hardware\": {...} or null,\n"
	  "\"disagreements\": [{\"kind\", \"message\"}]}].\n"
	  "Exit status 1 when no kernel is found or something it names is missing.\n"
	  "--json: {\"source\", \"osrelease\", \"kerneloffset\", \"phys_base\",\n"
	  "\"page_offset_base\", \"symbols\", \"btf\": {\"size\", \"types\"}, \"units\":\n"
	  "[{\"name\", \"reg_phys\", \"segment\", \"include_all\", \"drhd\", \"iommu\",\n"
	  "\"seq_id\", \"cap\", \"ecap\", \"gcmd\", \"root_entry\", \"root_entry_pa\", \"qi\":\n"
	  "{\"va\", \"desc\", \"desc_pa\", \"free_head\", \"free_tail\", \"free_cnt\"},\n"
	  "\"ir_table\": {\"va\", \"base\", \"base_pa\"}}]}; sym: {\"name\", \"address\",\n"
	  "\"pa\"}; type: {\"type\", \"size\", \"members\": [{\"name\", \"type\", \"offset\",\n"
	  "\"size\", \"bits\"}]}. Unknown values are null.",
	  cmd_kernel, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "log", NULL, "log [PATTERN] [--all]", "the kernel's log: its IOMMU lines, or those matching PATTERN",
	  "Reads the kernel's log from its printk ring buffer (Linux 5.10 and later),\n"
	  "found and laid out through VMCOREINFO (SYMBOL(prb), SIZE() and OFFSET() of\n"
	  "the ring's structs) as 'kernel' finds it: a dump's or /proc/kcore's note,\n"
	  "else a scan of RAM. Without PATTERN, the IOMMU lines (DMAR:, DMAR-IR:,\n"
	  "AMD-Vi:, iommu, IOMMU, arm-smmu, PCI-DMA:); with PATTERN (an extended\n"
	  "regular expression; a plain word is a substring) the records it matches;\n"
	  "--all every record. Each line with its time as dmesg prints it. Records\n"
	  "the kernel was writing or had released are skipped and counted on stderr.\n"
	  "--json: [{\"seq\", \"ts_nsec\", \"level\" (from BTF, null without it),\n"
	  "\"caller_id\", \"text\"}].",
	  ish_cmd_log, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ NULL },
};
