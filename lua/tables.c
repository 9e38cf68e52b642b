// SPDX-License-Identifier: MIT
/*
 * The `iommu` Lua module: Root, context and PASID entries, translation,
 * devices, PCI functions and PASID lists.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lua.h>

#include <iommush/capture.h>
#include <iommush/vtd/context.h>
#include <iommush/vtd/dmar.h>
#include <iommush/error.h>
#include <iommush/vtd/fault.h>
#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/vtd/irte.h>
#include <iommush/mem.h>
#include <iommush/pci.h>
#include <iommush/regs.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "config.h"
#include "json.h"
#include "pcinames.h"
#include "lua_internal.h"

/* --- root, context, PASID entries -------------------------------------- */

static void push_problems(lua_State *L, const struct ish_problems *p)
{
	lua_createtable(L, (int)p->n, 0);
	for (unsigned i = 0; i < p->n && i < ISH_MAX_PROBLEMS; i++) {
		lua_createtable(L, 0, 4);
		il_set_str(L, "what", p->p[i].what);
		il_set_int(L, "qword", p->p[i].qword);
		il_set_int(L, "bits", p->p[i].bits);
		il_set_bool(L, "reserved", p->p[i].reserved);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "problems");
}

/* Every field of the entry's table (data-driven, as the shell prints them). */
static void push_fields(lua_State *L, enum ish_entry_kind kind, const uint64_t *raw)
{
	const struct ish_entry_field *f = ish_entry_fields(kind);

	lua_newtable(L);
	for (; f && f->name; f++) {
		uint64_t v = ish_entry_field_get(raw, f);

		lua_pushinteger(L, (lua_Integer)(f->addr ? v << (f->lo % 64) : v));
		lua_setfield(L, -2, f->name);
	}
	lua_setfield(L, -2, "fields");
}

static void push_root_entry(lua_State *L, const struct ish_root_entry *re)
{
	lua_createtable(L, 0, 8);
	il_set_raw(L, "raw", re->raw, 2);
	il_set_bool(L, "scalable", re->scalable);
	if (re->scalable) {
		il_set_bool(L, "lower_present", re->lp);
		il_set_bool(L, "upper_present", re->up);
		il_set_int(L, "lower_ctp", re->lctp);
		il_set_int(L, "upper_ctp", re->uctp);
	} else {
		il_set_bool(L, "present", re->present);
		il_set_int(L, "ctp", re->ctp);
	}
	push_fields(L, re->scalable ? ISH_ENTRY_SM_ROOT : ISH_ENTRY_ROOT, re->raw);
	push_problems(L, &re->problems);
}

static void push_context_entry(lua_State *L, const struct ish_context_entry *ce)
{
	lua_createtable(L, 0, 16);
	il_set_raw(L, "raw", ce->raw, ce->scalable ? 4 : 2);
	il_set_bool(L, "scalable", ce->scalable);
	il_set_bool(L, "present", ce->present);
	il_set_bool(L, "fpd", ce->fpd);
	if (ce->scalable) {
		il_set_bool(L, "dte", ce->dte);
		il_set_bool(L, "paside", ce->paside);
		il_set_bool(L, "pre", ce->pre);
		il_set_int(L, "pdts", ce->pdts);
		il_set_int(L, "pasid_dir_entries", ish_pasid_dir_entries(ce));
		il_set_int(L, "pasiddirptr", ce->pasiddirptr);
		il_set_int(L, "rid_pasid", ce->rid_pasid);
		il_set_bool(L, "rid_priv", ce->rid_priv);
	} else {
		il_set_int(L, "tt", ce->tt);
		il_set_str(L, "tt_name", ish_context_tt_name(ce->tt));
		il_set_int(L, "slptptr", ce->slptptr);
		il_set_int(L, "aw", ce->aw);
		il_set_int(L, "levels", ce->aw + 2u);
		il_set_int(L, "avail", ce->avail);
		il_set_int(L, "did", ce->did);
	}
	push_fields(L, ce->scalable ? ISH_ENTRY_SM_CONTEXT : ISH_ENTRY_CONTEXT, ce->raw);
	push_problems(L, &ce->problems);
}

static void push_pasid_dir_entry(lua_State *L, const struct ish_pasid_dir_entry *e)
{
	lua_createtable(L, 0, 6);
	il_set_raw(L, "raw", &e->raw, 1);
	il_set_bool(L, "present", e->present);
	il_set_bool(L, "fpd", e->fpd);
	il_set_int(L, "smptblptr", e->smptblptr);
	push_fields(L, ISH_ENTRY_PASID_DIR, &e->raw);
	push_problems(L, &e->problems);
}

static void push_pasid_entry(lua_State *L, const struct ish_pasid_entry *pe)
{
	lua_createtable(L, 0, 20);
	il_set_raw(L, "raw", pe->raw, 8);
	il_set_bool(L, "present", pe->present);
	il_set_bool(L, "fpd", pe->fpd);
	il_set_int(L, "pgtt", pe->pgtt);
	il_set_str(L, "pgtt_name", ish_pgtt_name(pe->pgtt));
	il_set_int(L, "aw", pe->aw);
	il_set_bool(L, "slee", pe->slee);
	il_set_bool(L, "slade", pe->slade);
	il_set_int(L, "slptptr", pe->slptptr);
	il_set_int(L, "did", pe->did);
	il_set_bool(L, "sre", pe->sre);
	il_set_bool(L, "ere", pe->ere);
	il_set_int(L, "flpm", pe->flpm);
	il_set_bool(L, "wpe", pe->wpe);
	il_set_int(L, "flptptr", pe->flptptr);
	il_set_bool(L, "pgsnp", pe->pgsnp);
	il_set_bool(L, "pwsnp", pe->pwsnp);
	push_fields(L, ISH_ENTRY_PASID, pe->raw);
	push_problems(L, &pe->problems);
}

static const char *mode_name(enum ish_xlate_mode m)
{
	switch (m) {
	case ISH_XLATE_SL: return "second-level";
	case ISH_XLATE_FL: return "first-level";
	case ISH_XLATE_NESTED: return "nested";
	case ISH_XLATE_PT: return "pass-through";
	}
	return "??";
}

static void push_tables(lua_State *L, const struct ish_xlate_tables *x)
{
	il_set_str(L, "mode", mode_name(x->mode));
	il_set_bool(L, "pass_through", x->mode == ISH_XLATE_PT);
	il_set_int(L, "did", x->did);
	if (x->mode == ISH_XLATE_SL || x->mode == ISH_XLATE_NESTED) {
		il_set_int(L, "sl_root", x->sl_root);
		il_set_int(L, "sl_levels", x->sl_levels);
	}
	if (x->mode == ISH_XLATE_FL || x->mode == ISH_XLATE_NESTED) {
		il_set_int(L, "fl_root", x->fl_root);
		il_set_int(L, "fl_levels", x->fl_levels);
	}
}

/* Resolve a device's tables into a Lua-owned translation; NULL on failure (pushed). */
struct ish_translation *il_resolve(lua_State *L, struct ish_target *t, uint16_t bdf,
				       uint32_t pasid, unsigned *unit, struct ish_error **errp)
{
	struct ish_translation *tr = lua_newuserdatauv(L, sizeof(*tr), 0);
	struct ish_unit_state us;
	struct ish_error *err;

	memset(tr, 0, sizeof(*tr));
	err = ish_unit_for_device(t, 0, bdf, unit);
	if (!err)
		err = ish_unit_state_read(t, *unit, &us);
	if (!err)
		err = ish_resolve_tables(t, &us, bdf, pasid, 0, tr);
	*errp = err;
	return err ? NULL : tr;
}

static void push_fault(lua_State *L, const struct ish_translation *tr)
{
	lua_createtable(L, 0, 6);
	il_set_int(L, "reason", tr->reason);
	il_set_str(L, "text", ish_fault_reason_text(tr->reason, tr->scalable));
	il_set_int(L, "addr", tr->fault_addr);
	il_set_bool(L, "recorded", !tr->fpd);
	if (tr->fault_step >= 0 && (unsigned)tr->fault_step < tr->nsteps)
		il_set_str(L, "step", ish_step_kind_name(tr->steps[tr->fault_step].kind));
	if (tr->unreadable) {
		il_set_bool(L, "unreadable", true);
		il_set_int(L, "unreadable_addr", tr->unreadable_addr);
	}
	lua_setfield(L, -2, "fault");
}

/* t:context(bdf) -> {unit, bdf, scalable, root = {...}, context = {...}|nil, fault = ...} */
static int t_context(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	struct ish_error *err;
	unsigned unit;
	struct ish_translation *tr = il_resolve(L, t, bdf, ISH_PASID_NONE, &unit, &err);

	if (!tr)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 8);
	il_set_str(L, "unit", ish_target_unit(t, unit)->name);
	il_set_bdf(L, "bdf", bdf);
	il_set_bool(L, "scalable", tr->scalable);
	if (tr->have_re) {
		push_root_entry(L, &tr->re);
		lua_setfield(L, -2, "root");
	}
	if (tr->have_ce) {
		push_context_entry(L, &tr->ce);
		lua_setfield(L, -2, "context");
	}
	if (tr->have_tables)
		push_tables(L, &tr->tables);
	if (tr->faulted && !tr->have_ce)
		push_fault(L, tr);
	return 1;
}

/* t:pasid(bdf, n) -> {pasid, dir = {...}, entry = {...}, fault = ...} */
static int t_pasid(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	uint32_t pasid = il_opt_pasid(L, 3);
	struct ish_unit_state us;
	struct ish_error *err;
	unsigned unit;
	struct ish_translation *tr;

	luaL_argcheck(L, pasid != ISH_PASID_NONE, 3, "PASID expected");
	tr = il_resolve(L, t, bdf, pasid, &unit, &err);
	if (!tr)
		return il_push_fail(L, err);
	err = ish_unit_state_read(t, unit, &us);
	if (err)
		return il_push_fail(L, err);
	if (!us.scalable)
		return il_push_fail(L, ish_error_format(ISH_ERROR_UNSUPPORTED,
						     "%s is in legacy mode: no PASID tables",
						     ish_target_unit(t, unit)->name));
	lua_createtable(L, 0, 6);
	il_set_str(L, "unit", ish_target_unit(t, unit)->name);
	il_set_bdf(L, "bdf", bdf);
	il_set_int(L, "pasid", pasid);
	if (tr->have_pde) {
		push_pasid_dir_entry(L, &tr->pde);
		lua_setfield(L, -2, "dir");
	}
	if (tr->have_pe) {
		push_pasid_entry(L, &tr->pe);
		lua_setfield(L, -2, "entry");
	}
	if (tr->have_tables)
		push_tables(L, &tr->tables);
	if (tr->faulted)
		push_fault(L, tr);
	return 1;
}

/* t:translate(bdf, iova [, {pasid=, write=, exec=, priv=}]) */
static int t_translate(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	uint64_t iova = il_check_u64(L, 3);
	uint32_t pasid = ISH_PASID_NONE;
	unsigned access = 0;
	lua_Integer v;
	struct ish_translation *tr;
	struct ish_error *err;

	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		if (il_opt_int(L, 4, "pasid", &v)) {
			luaL_argcheck(L, v >= 0 && v <= ISH_PASID_MAX, 4, "PASID out of range");
			pasid = (uint32_t)v;
		}
		access |= il_opt_flag(L, 4, "write") ? ISH_ACCESS_WRITE : 0;
		access |= il_opt_flag(L, 4, "exec") ? ISH_ACCESS_EXEC : 0;
		access |= il_opt_flag(L, 4, "priv") ? ISH_ACCESS_PRIV : 0;
	}
	tr = lua_newuserdatauv(L, sizeof(*tr), 0);
	err = ish_translate(t, -1, bdf, pasid, iova, access, tr);
	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 16);
	il_set_bdf(L, "bdf", bdf);
	il_set_int(L, "iova", iova);
	if (pasid != ISH_PASID_NONE)
		il_set_int(L, "pasid", pasid);
	if (tr->faulted) {
		push_fault(L, tr);
	} else {
		il_set_int(L, "hpa", tr->hpa);
		il_set_int(L, "page_size", tr->page_size);
		il_set_bool(L, "read", tr->read);
		il_set_bool(L, "write", tr->write);
		il_set_bool(L, "exec", tr->exec);
		il_set_bool(L, "user", tr->user);
		il_set_int(L, "emt", tr->emt);
		il_set_bool(L, "snp", tr->snp);
	}
	il_set_bool(L, "translation_disabled", tr->translation_disabled);
	il_set_bool(L, "blocked", tr->blocked);
	il_set_bool(L, "scalable", tr->scalable);
	if (tr->have_tables) {
		il_set_str(L, "unit", ish_target_unit(t, tr->tables.unit)->name);
		push_tables(L, &tr->tables);
	}
	il_set_bool(L, "pass_through", tr->pass_through);
	lua_createtable(L, (int)tr->nsteps, 0);
	for (unsigned i = 0; i < tr->nsteps && i < ISH_MAX_STEPS; i++) {
		const struct ish_step *s = &tr->steps[i];

		lua_createtable(L, 0, 7);
		il_set_str(L, "kind", ish_step_kind_name(s->kind));
		il_set_int(L, "level", s->level);
		il_set_int(L, "table", s->table);
		il_set_int(L, "index", s->index);
		il_set_int(L, "entry_addr", s->entry_addr);
		il_set_raw(L, "raw", s->raw, s->nraw > 8 ? 8 : s->nraw);
		il_set_bool(L, "nested", s->nested);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "steps");
	return 1;
}

/* --- devices ------------------------------------------------------------ */

struct devs_ctx {
	lua_State *L;
	struct ish_target *t;
	int n;
};

static struct ish_error *devs_cb(void *arg, const struct ish_device *d)
{
	struct devs_ctx *c = arg;
	lua_State *L = c->L;

	lua_createtable(L, 0, 16);
	il_set_str(L, "unit", ish_target_unit(c->t, d->unit)->name);
	il_set_int(L, "segment", d->segment);
	il_set_bdf(L, "bdf", d->bdf);
	il_set_int(L, "rid", d->bdf);
	il_set_bool(L, "scalable", d->scalable);
	il_set_bool(L, "fpd", d->ce.fpd);
	if (!d->scalable) {
		il_set_int(L, "did", d->ce.did);
		il_set_int(L, "tt", d->ce.tt);
	}
	il_set_bool(L, "have_tables", d->have_tables);
	if (d->have_tables)
		push_tables(L, &d->tables);
	if (d->scalable) {
		il_set_int(L, "rid_pasid", d->ce.rid_pasid);
		il_set_int(L, "pasids", d->npasids);
		if (d->have_rid_pasid_entry)
			il_set_bool(L, "rid_pasid_fpd", d->pe.fpd);
	}
	push_context_entry(L, &d->ce);
	lua_setfield(L, -2, "context");
	lua_rawseti(L, -2, ++c->n);
	return NULL;
}

/* t:devices([count_pasids]) -> array of devices with a present context entry */
static int t_devices(lua_State *L)
{
	struct devs_ctx c = { L, il_check_target(L, 1), 0 };
	struct ish_error *err;

	lua_newtable(L);
	err = ish_devices(c.t, lua_toboolean(L, 2), devs_cb, NULL, &c);
	if (err)
		return il_push_fail(L, err);
	return 1;
}

/* --- PCI functions ---------------------------------------------------- */

struct pci_push {
	lua_State *L;
	struct ish_target *t;
	lua_Integer n;
};

/* One function as a table, appended to the array on the top of the stack. */
static struct ish_error *push_func(void *arg, const struct ish_pci_func *f,
				   const struct ish_pci_context *c)
{
	struct pci_push *pp = arg;
	lua_State *L = pp->L;
	char name[256];

	lua_createtable(L, 0, 16);
	il_set_int(L, "segment", f->segment);
	il_set_bdf(L, "bdf", f->bdf);
	il_set_int(L, "rid", f->bdf);
	il_set_int(L, "vendor", f->vendor);
	il_set_int(L, "device", f->device);
	il_set_int(L, "class", f->class);
	if (f->have_header)
		il_set_int(L, "header_type", f->header_type);
	il_set_str(L, "name", sh_pci_name(f->vendor, f->device, name, sizeof(name)));
	if (f->bridge) {
		lua_createtable(L, 0, 3);
		il_set_int(L, "primary", f->primary);
		il_set_int(L, "secondary", f->secondary);
		il_set_int(L, "subordinate", f->subordinate);
		lua_setfield(L, -2, "bridge");
	}
	if (c->have_unit)
		il_set_str(L, "unit", ish_target_unit(pp->t, c->unit)->name);
	il_set_str(L, "cover", ish_cover_name(c->how));
	if (c->read) {
		lua_createtable(L, 0, 4);
		il_set_bool(L, "present", c->present);
		il_set_str(L, "mode", c->scalable ? "scalable" : "legacy");
		if (c->type)
			il_set_str(L, "type", c->type);
		if (c->have_did)
			il_set_int(L, "did", c->did);
		lua_setfield(L, -2, "context");
	} else {
		il_set_str(L, "why", c->why);
	}
	lua_rawseti(L, -2, ++pp->n);
	return NULL;
}

/* t:pci() -> array of functions (lib/pci.c), then an array of finding texts */
static int t_pci(lua_State *L)
{
	struct pci_push pp = { .L = L, .t = il_check_target(L, 1) };
	struct ish_error *err;
	struct ish_pci *p;

	lua_newtable(L);
	err = ish_pci_each(pp.t, push_func, &pp, &p);
	if (err) {
		ish_pci_destroy(p);
		lua_pop(L, 1);
		return il_push_fail(L, err);
	}
	lua_createtable(L, (int)p->nfindings, 0);
	for (size_t i = 0; i < p->nfindings; i++) {
		lua_pushstring(L, p->findings[i].message);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	ish_pci_destroy(p);
	return 2;
}

/* t:read_config(bdf, offset [, width [, segment]]) -> value, or nil, msg, code */
static int t_read_config(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	lua_Integer off = luaL_checkinteger(L, 3), width = luaL_optinteger(L, 4, 32);
	lua_Integer seg = luaL_optinteger(L, 5, 0);
	struct ish_error *err;
	uint32_t v;

	luaL_argcheck(L, off >= 0 && off < 4096, 3, "offset out of range (0..4095)");
	luaL_argcheck(L, width == 8 || width == 16 || width == 32, 4, "width is 8, 16 or 32");
	luaL_argcheck(L, seg >= 0 && seg <= 0xffff, 5, "segment out of range");
	err = ish_read_config(t, (uint16_t)seg, bdf, (uint32_t)off, (unsigned)width, &v);
	if (err)
		return il_push_fail(L, err);
	lua_pushinteger(L, v);
	return 1;
}

/* t:add_config(bdf, bytes [, segment]): a function's config space on a mem target */
static int t_add_config(lua_State *L)
{
	struct ish_target *t = il_check_mem(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	size_t len;
	const char *bytes = luaL_checklstring(L, 3, &len);
	lua_Integer seg = luaL_optinteger(L, 4, 0);
	struct ish_error *err;
	uint8_t *c;

	luaL_argcheck(L, len <= ISH_MEM_CONFIG_SIZE, 3, "more than 4096 bytes");
	luaL_argcheck(L, seg >= 0 && seg <= 0xffff, 4, "segment out of range");
	err = ish_mem_add_config(t, (uint16_t)seg, bdf, &c);
	if (err)
		return il_push_fail(L, err);
	memcpy(c, bytes, len);
	lua_pushboolean(L, 1);
	return 1;
}

/* t:pasids(bdf) -> array of {pasid, entry} for every present PASID of a scalable-mode device */
struct pasids_ctx {
	lua_State *L;
	int n;
};

static struct ish_error *pasids_cb(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	struct pasids_ctx *c = arg;

	lua_createtable(c->L, 0, 2);
	il_set_int(c->L, "pasid", pasid);
	push_pasid_entry(c->L, pe);
	lua_setfield(c->L, -2, "entry");
	lua_rawseti(c->L, -2, ++c->n);
	return NULL;
}

static int t_pasids(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	struct pasids_ctx c = { L, 0 };
	struct ish_unit_state us;
	struct ish_translation *tr;
	struct ish_error *err;
	unsigned unit;

	tr = il_resolve(L, t, bdf, ISH_PASID_NONE, &unit, &err);
	if (!tr)
		return il_push_fail(L, err);
	lua_newtable(L);
	if (!tr->have_ce || !tr->scalable)
		return 1;
	err = ish_unit_state_read(t, unit, &us);
	if (!err)
		err = ish_device_pasids(t, &us, &tr->ce, pasids_cb, NULL, &c);
	if (err)
		return il_push_fail(L, err);
	return 1;
}

/* t:refresh(): forget cached memory, to see a live target change. */

const luaL_Reg ish_lua_tables_target_methods[] = {
	{ "devices", t_devices },
	{ "pci", t_pci },
	{ "read_config", t_read_config },
	{ "context", t_context },
	{ "pasid", t_pasid },
	{ "translate", t_translate },
	{ "pasids", t_pasids },
	{ "add_config", t_add_config },
	{ NULL, NULL },
};
