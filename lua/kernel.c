// SPDX-License-Identifier: MIT
/*
 * The kernel's own view for scripts: t:vmcoreinfo(), t:kernel(),
 * t:kernel_devices(), t:log([pattern | {all = true}]). Each returns the table whose JSON is
 * what `--json -c kernel`, `kernel devices` and `log` print (the keys the
 * shell prints null are absent), or nil, message, code.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/kernel.h>
#include <iommush/printk.h>
#include <iommush/regs.h>
#include <iommush/vtd/kernel_domains.h>

#include "lua_internal.h"

static struct ish_kernel *check_kernel(lua_State *L, struct ish_target **tp,
				       struct ish_error **errp)
{
	struct ish_target *t = il_check_target(L, 1);
	struct ish_kernel *k = NULL;

	*tp = t;
	*errp = ish_target_kernel(t, &k);
	if (*errp)
		*errp = ish_error_prefix(*errp, "no Linux kernel found");
	return k;
}

static void set_pa(lua_State *L, const char *key, uint64_t pa)
{
	if (pa != ~0ULL)
		il_set_int(L, key, pa);
}

static void push_unit(lua_State *L, const struct ish_kernel_vtd_unit *u)
{
	lua_createtable(L, 0, 16);
	il_set_str(L, "name", u->name);
	il_set_int(L, "reg_phys", u->reg_phys);
	il_set_int(L, "segment", u->segment);
	il_set_bool(L, "include_all", u->include_all);
	il_set_int(L, "drhd", u->drhd_va);
	if (!u->iommu_va)
		return;
	il_set_int(L, "iommu", u->iommu_va);
	il_set_int(L, "seq_id", (uint64_t)(int64_t)u->seq_id);
	il_set_int(L, "cap", u->cap);
	il_set_int(L, "ecap", u->ecap);
	il_set_int(L, "gcmd", u->gcmd);
	il_set_int(L, "root_entry", u->root_entry_va);
	set_pa(L, "root_entry_pa", u->root_entry_pa);
	if (u->has_qi) {
		lua_createtable(L, 0, 6);
		il_set_int(L, "va", u->qi_va);
		il_set_int(L, "desc", u->qi_desc_va);
		set_pa(L, "desc_pa", u->qi_desc_pa);
		il_set_int(L, "free_head", (uint64_t)(int64_t)u->qi_free_head);
		il_set_int(L, "free_tail", (uint64_t)(int64_t)u->qi_free_tail);
		il_set_int(L, "free_cnt", (uint64_t)(int64_t)u->qi_free_cnt);
		lua_setfield(L, -2, "qi");
	}
	if (u->has_ir_table) {
		lua_createtable(L, 0, 3);
		il_set_int(L, "va", u->ir_table_va);
		il_set_int(L, "base", u->ir_table_base_va);
		set_pa(L, "base_pa", u->ir_table_base_pa);
		lua_setfield(L, -2, "ir_table");
	}
}

/* t:kernel() -> { source, osrelease, kerneloffset, ..., btf = {size, types}, units = {...} } */
static int t_kernel(lua_State *L)
{
	struct ish_kernel_vtd_unit *units = NULL;
	struct ish_target *t;
	struct ish_error *err;
	size_t size = 0, ntypes = 0, nunits = 0;
	const char *rel;
	struct ish_kernel *k = check_kernel(L, &t, &err);

	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 8);
	il_set_str(L, "source", ish_kernel_source(k));
	rel = ish_kernel_vmcoreinfo(k, "OSRELEASE");
	il_set_str(L, "osrelease", rel ? rel : "");
	il_set_int(L, "kerneloffset", ish_kernel_kaslr_offset(k));
	il_set_int(L, "phys_base", ish_kernel_phys_base(k));
	il_set_int(L, "page_offset_base", ish_kernel_page_offset_base(k));
	il_set_int(L, "symbols", ish_kernel_nsyms(k));
	/* as the shell: what is missing is absent, not a failure of the whole */
	err = ish_kernel_btf_info(k, &size, &ntypes);
	if (err) {
		ish_error_destroy(err);
		return 1;
	}
	lua_createtable(L, 0, 2);
	il_set_int(L, "size", size);
	il_set_int(L, "types", ntypes);
	lua_setfield(L, -2, "btf");
	err = ish_kernel_vtd_units(k, &units, &nunits);
	if (err) {
		ish_error_destroy(err);
		return 1;
	}
	lua_createtable(L, (int)nunits, 0);
	for (size_t i = 0; i < nunits; i++) {
		push_unit(L, &units[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "units");
	free(units);
	return 1;
}

static void push_view(lua_State *L, struct ish_target *t, const struct ish_vtd_view *v)
{
	const struct ish_kernel_vtd_device *d = &v->k;
	const struct ish_xlate_tables *tb = &v->hw.tables;
	char b[8];

	lua_createtable(L, 0, 5);
	il_set_int(L, "segment", v->segment);
	il_set_str(L, "bdf", il_fmt_bdf(v->bdf, b));
	if (v->in_kernel) {
		lua_createtable(L, 0, 20);
		il_set_str(L, "unit", d->unit);
		il_set_int(L, "info", d->info_va);
		il_set_int(L, "device", d->dev_va);
		if (d->domain_va)
			il_set_int(L, "domain", d->domain_va);
		il_set_str(L, "kind", !d->domain_va ? "none" : d->identity ? "identity" :
				      d->first_level ? "first-level" : "second-level");
		if (d->domain_va) {
			il_set_int(L, "type", d->domain_type);
			if (d->have_did)
				il_set_int(L, "did", d->did);
			il_set_int(L, "pgd", d->pgd_va);
			set_pa(L, "pgd_pa", d->pgd_pa);
			il_set_int(L, "gaw", (uint64_t)(int64_t)d->gaw);
			il_set_int(L, "agaw", (uint64_t)(int64_t)d->agaw);
			il_set_int(L, "levels", (uint64_t)(int64_t)(d->agaw + 2));
			il_set_int(L, "flags", (uint64_t)(int64_t)d->flags);
		}
		il_set_bool(L, "pasid_enabled", d->pasid_enabled);
		il_set_bool(L, "ats_enabled", d->ats_enabled);
		il_set_bool(L, "pri_enabled", d->pri_enabled);
		set_pa(L, "pasid_dir_pa", d->pasid_dir_pa);
		il_set_int(L, "max_pasid", d->max_pasid);
		lua_setfield(L, -2, "kernel");
	}
	if (v->in_hw) {
		static const char *const modes[] = { "second-level", "first-level", "nested",
						     "pass-through" };
		const struct ish_unit *un = ish_target_unit(t, v->hw.unit);

		lua_createtable(L, 0, 9);
		il_set_str(L, "unit", un ? un->name : "?");
		il_set_bool(L, "scalable", v->hw.scalable);
		il_set_int(L, "context_did", v->hw.ce.did);
		il_set_bool(L, "resolved", v->hw.have_tables);
		if (v->hw.have_tables) {
			il_set_int(L, "did", tb->did);
			il_set_str(L, "mode", modes[tb->mode & 3]);
			il_set_int(L, "root", tb->mode == ISH_XLATE_FL ? tb->fl_root : tb->sl_root);
			il_set_int(L, "levels", tb->mode == ISH_XLATE_FL ? tb->fl_levels :
								   tb->sl_levels);
		}
		if (v->hw.scalable)
			il_set_int(L, "pasid_dir", v->hw.ce.pasiddirptr);
		lua_setfield(L, -2, "hardware");
	}
	lua_createtable(L, (int)v->ndiffs, 0);
	for (unsigned i = 0; i < v->ndiffs; i++) {
		lua_createtable(L, 0, 2);
		il_set_str(L, "kind", ish_view_diff_name(v->diffs[i].kind));
		il_set_str(L, "message", v->diffs[i].message);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "disagreements");
}

static void free_views(void *p)
{
	free(*(struct ish_vtd_view **)p);
	free(p);
}

/* t:kernel_devices() -> { {segment, bdf, kernel = {...}, hardware = {...}, disagreements}, ... } */
static int t_kernel_devices(lua_State *L)
{
	struct ish_vtd_view **box;
	struct ish_target *t;
	struct ish_error *err;
	size_t n;
	struct ish_kernel *k = check_kernel(L, &t, &err);

	if (err)
		return il_push_fail(L, err);
	box = il_box_new(L, sizeof(*box), free_views);	/* freed even if a push raises */
	err = ish_kernel_vtd_compare(t, k, box, &n);
	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		push_view(L, t, &(*box)[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

struct log_box {
	struct ish_printk_log *log;
	regex_t re;
	bool have_re;
};

static void free_log_box(void *p)
{
	struct log_box *b = p;

	ish_printk_log_destroy(b->log);
	if (b->have_re)
		regfree(&b->re);
	free(b);
}

/* t:log([pattern | {all = true}]) -> { {seq, ts_nsec, level, caller_id, text}, ... } */
static int t_log(lua_State *L)
{
	struct ish_target *t;
	struct ish_error *err;
	struct log_box *b;
	struct ish_kernel *k;
	bool all = lua_istable(L, 2) && il_opt_flag(L, 2, "all");
	const char *pattern = lua_isstring(L, 2) ? lua_tostring(L, 2) : NULL;
	lua_Integer n = 0;

	if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2) && !pattern)
		return luaL_argerror(L, 2, "a pattern or {all = true}");
	b = il_box_new(L, sizeof(*b), free_log_box);
	if (pattern) {
		if (regcomp(&b->re, pattern, REG_EXTENDED | REG_NOSUB))
			return luaL_argerror(L, 2, "not a regular expression");
		b->have_re = true;
	}
	k = check_kernel(L, &t, &err);
	if (!err)
		err = ish_kernel_log(k, &b->log);
	if (err)
		return il_push_fail(L, ish_error_prefix(err, "the kernel's log"));
	lua_newtable(L);
	for (size_t i = 0; i < b->log->n; i++) {
		const struct ish_printk_record *r = &b->log->rec[i];

		if (pattern ? regexec(&b->re, r->text, 0, NULL, 0) != 0 :
			      (!all && !ish_printk_iommu_line(r->text, r->len)))
			continue;
		lua_createtable(L, 0, 5);
		il_set_int(L, "seq", r->seq);
		il_set_int(L, "ts_nsec", r->ts_nsec);
		if (r->level >= 0)
			il_set_int(L, "level", (uint64_t)r->level);
		il_set_int(L, "caller_id", r->caller_id);
		lua_pushlstring(L, r->text, r->len);
		lua_setfield(L, -2, "text");
		lua_rawseti(L, -2, ++n);
	}
	return 1;
}

/*
 * t:vmcoreinfo() -> text, where: the VMCOREINFO the backend carries (a
 * dump's note, /proc/kcore's), or nil: cheap, never a RAM scan.
 */
static int t_vmcoreinfo(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	const char *where = NULL;
	char *text = NULL;
	size_t len = 0;
	struct ish_error *err = ish_target_vmcoreinfo(t, &text, &len, &where);

	if (err) {
		free(text);
		return il_push_fail(L, err);
	}
	lua_pushlstring(L, text, len);
	free(text);
	lua_pushstring(L, where ? where : "");
	return 2;
}

const luaL_Reg ish_lua_kernel_target_methods[] = {
	{ "vmcoreinfo", t_vmcoreinfo },
	{ "kernel", t_kernel },
	{ "kernel_devices", t_kernel_devices },
	{ "log", t_log },
	{ NULL, NULL },
};
