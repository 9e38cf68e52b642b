// SPDX-License-Identifier: MIT
/*
 * The `iommu` Lua module: Interrupt remapping, the invalidation queue, fault
 * records and invalidation.
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

/* --- interrupt remapping ------------------------------------------------ */

static void push_irte(lua_State *L, struct ish_target *t, unsigned unit, const struct ish_irte *e)
{
	lua_createtable(L, 0, 20);
	il_set_str(L, "unit", ish_target_unit(t, unit)->name);
	il_set_int(L, "index", e->index);
	il_set_int(L, "lo", e->lo);
	il_set_int(L, "hi", e->hi);
	il_set_bool(L, "present", e->present);
	il_set_bool(L, "fpd", e->fpd);
	il_set_bool(L, "posted", e->posted);
	il_set_int(L, "vector", e->vector);
	il_set_int(L, "sid", e->sid);
	il_set_bdf(L, "source", e->sid);
	il_set_int(L, "sq", e->sq);
	il_set_int(L, "svt", e->svt);
	il_set_str(L, "svt_name", ish_irte_svt_name(e->svt));
	if (e->posted) {
		il_set_bool(L, "urgent", e->urgent);
		il_set_int(L, "pda", e->pda);
	} else {
		il_set_bool(L, "dm", e->dm);
		il_set_bool(L, "rh", e->rh);
		il_set_bool(L, "tm", e->tm);
		il_set_int(L, "dlm", e->dlm);
		il_set_str(L, "dlm_name", ish_irte_dlm_name(e->dlm));
		il_set_int(L, "dest", e->dest);
	}
	il_set_int(L, "rsvd_lo", e->rsvd_lo);
	il_set_int(L, "rsvd_hi", e->rsvd_hi);
}

/* t:irte(index [, unit]) */
static int t_irte(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	lua_Integer idx = luaL_checkinteger(L, 2);
	unsigned unit = lua_isnoneornil(L, 3) ? 0 : il_check_unit_index(L, t, 3);
	struct ish_ir_state ir;
	struct ish_irte e;
	struct ish_error *err;

	luaL_argcheck(L, idx >= 0 && idx <= 0xffffffffLL, 2, "index out of range");
	if (!ish_target_nunits(t))
		return il_push_fail(L, ish_error_create(ISH_ERROR_NOT_FOUND, "no remapping units"));
	err = ish_ir_state_read(t, unit, &ir);
	if (!err)
		err = ish_irte_read(t, &ir, (uint32_t)idx, &e);
	if (err)
		return il_push_fail(L, err);
	push_irte(L, t, unit, &e);
	return 1;
}

/* t:irtes([unit]) -> array of the present IRTEs (of every unit with IR enabled, or of unit) */
static int t_irtes(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	unsigned first = 0, last = ish_target_nunits(t);
	int n = 0;

	if (!lua_isnoneornil(L, 2)) {
		first = il_check_unit_index(L, t, 2);
		last = first + 1;
	}
	lua_newtable(L);
	for (unsigned u = first; u < last; u++) {
		struct ish_ir_state ir;
		struct ish_error *err = ish_ir_state_read(t, u, &ir);

		if (err) {
			if (last - first == 1)
				return il_push_fail(L, err);
			ish_error_destroy(err);
			continue;
		}
		/* All units: only those that use a table; one unit: whatever IRTA says. */
		if (last - first > 1 && !ir.ires && !ir.irtps)
			continue;
		for (uint32_t i = 0; i < ir.irta.entries; i++) {
			struct ish_irte e;

			err = ish_irte_read(t, &ir, i, &e);
			if (err)
				return il_push_fail(L, err);
			if (!e.present)
				continue;
			push_irte(L, t, u, &e);
			lua_rawseti(L, -2, ++n);
		}
	}
	return 1;
}

/* --- invalidation queue and faults -------------------------------------- */

static int push_iq(lua_State *L, struct ish_target *t, unsigned unit)
{
	struct ish_iq_state q;
	struct ish_error *err = ish_iq_state_read(t, unit, &q);
	char buf[160];

	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 20);
	il_set_str(L, "unit", ish_target_unit(t, unit)->name);
	il_set_bool(L, "enabled", q.qies);
	il_set_int(L, "base", q.base);
	il_set_int(L, "qs", q.qs);
	il_set_int(L, "size", q.size);
	il_set_int(L, "slots", q.nslots);
	il_set_int(L, "desc_size", q.desc_size);
	il_set_bool(L, "width_inferred", q.width_inferred);
	il_set_int(L, "head", q.head);
	il_set_int(L, "tail", q.tail);
	il_set_bool(L, "head_bad", q.head_bad);
	il_set_bool(L, "tail_bad", q.tail_bad);
	il_set_int(L, "pending", q.pending);
	if (q.have_iqer) {
		il_set_int(L, "iqer", q.iqer);
		il_set_str(L, "iqei_text", DMAR_IQER_REG_IQEI(q.iqer) ? ish_iqei_text(DMAR_IQER_REG_IQEI(q.iqer)) : NULL);
	}
	if (q.have_ics)
		il_set_bool(L, "iwc", q.ics & VTD_ICS_IWC);
	lua_newtable(L);
	for (uint32_t i = 0, s = q.head; i < q.pending && !q.head_bad && q.nslots; i++) {
		struct ish_qi_desc d;

		err = ish_iq_read_slot(t, &q, s, &d);
		if (err) {
			ish_error_destroy(err);
			break;
		}
		lua_createtable(L, 0, 6);
		il_set_int(L, "slot", s);
		il_set_int(L, "type", d.type);
		il_set_str(L, "name", d.name);
		il_set_raw(L, "raw", d.qw, d.width == 256 ? 4 : 2);
		il_set_str(L, "text", ish_qi_describe(&d, buf, sizeof(buf)));
		lua_rawseti(L, -2, i + 1);
		s = (s + 1) % q.nslots;
	}
	lua_setfield(L, -2, "descriptors");
	return 1;
}

/* t:iq([unit]) -> the queue of unit, or an array with every unit's queue */
static int t_iq(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	unsigned n = ish_target_nunits(t);

	if (!lua_isnoneornil(L, 2))
		return push_iq(L, t, il_check_unit_index(L, t, 2));
	lua_createtable(L, (int)n, 0);
	for (unsigned u = 0; u < n; u++) {
		int r = push_iq(L, t, u);

		if (r == 3)
			return r;
		lua_rawseti(L, -2, u + 1);
	}
	return 1;
}

static void faults_destroy(void *p)
{
	ish_faults_destroy(p);
}

/* t:faults([unit]) -> array of the recorded (F=1) faults, each with its unit */
static int t_faults(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	unsigned first = 0, last = ish_target_nunits(t);
	int n = 0;

	if (!lua_isnoneornil(L, 2)) {
		first = il_check_unit_index(L, t, 2);
		last = first + 1;
	}
	lua_newtable(L);
	for (unsigned u = first; u < last; u++) {
		struct box *b;
		struct ish_faults *f;
		struct ish_error *err;

		il_box_new(L, 0, faults_destroy);
		b = lua_touserdata(L, -1);
		err = ish_faults_read(t, u, (struct ish_faults **)&b->p);
		if (err)
			return il_push_fail(L, err);
		f = b->p;
		for (unsigned i = 0; i < f->nfr && i < 256; i++) {
			const struct ish_fault_record *r = &f->rec[i];

			if (!f->readable[i] || !r->valid)
				continue;
			lua_createtable(L, 0, 14);
			il_set_str(L, "unit", ish_target_unit(t, u)->name);
			il_set_int(L, "index", r->index);
			il_set_int(L, "reason", r->reason);
			il_set_str(L, "text", r->text);
			il_set_int(L, "sid", r->sid);
			il_set_bdf(L, "bdf", r->sid);
			il_set_str(L, "type", ish_fault_type_name(r->type));
			il_set_bool(L, "irq", r->irq);
			if (r->irq)
				il_set_int(L, "irq_index", r->irq_index);
			else
				il_set_int(L, "addr", r->addr);
			if (r->pasid_present)
				il_set_int(L, "pasid", r->pasid);
			il_set_bool(L, "priv", r->priv);
			il_set_bool(L, "exe", r->exe);
			il_set_int(L, "at", r->at);
			il_set_int(L, "lo", r->lo);
			il_set_int(L, "hi", r->hi);
			lua_rawseti(L, -3, ++n);
		}
		lua_pop(L, 1);	/* the box: freed by the collector */
	}
	return 1;
}


/* --- invalidation -------------------------------------------------------- */

/*
 * t:invalidate{what = "context"|"iotlb"|"iec"|"pasid-cache"|"piotlb",
 * granularity, did, sid, addr, am, pasid, ...}: builds the descriptor with
 * the library's encoders. Writing it needs write mode; libiommush has no
 * submission path yet, so on a writable target this is "unsupported".
 */
/*
 * t:invalidate{what=, granularity=, did=, sid=, fm=, addr=, am=, ih=, pasid=,
 * index=, im=, unit=, method="auto"|"register"|"queued"} -> result table,
 * or nil, msg, code. Respects write mode: a read-only target refuses.
 */
static int t_invalidate(lua_State *L)
{
	static const char *const whats[] = { "context", "iotlb", "iec", "pasid-cache", "piotlb", NULL };
	static const char *const grans[] = { "global", "domain", "device", "page", "index", "pasid",
					     NULL };
	static const char *const methods[] = { "auto", "register", "queued", NULL };
	struct ish_target *t = il_check_target(L, 1);
	lua_Integer did = 0, sid = 0, addr = 0, am = 0, pasid = 0, fm = 0, index = 0, im = 0;
	lua_Integer unit = 0;
	struct ish_inval_req req = { 0 };
	struct ish_inval_result res;
	struct ish_error *err;
	int what, gran, method;

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "what");
	what = luaL_checkoption(L, -1, NULL, whats);
	lua_getfield(L, 2, "granularity");
	gran = luaL_checkoption(L, -1, "global", grans);
	lua_getfield(L, 2, "method");
	method = luaL_checkoption(L, -1, "auto", methods);
	lua_pop(L, 3);
	il_opt_int(L, 2, "did", &did);
	il_opt_int(L, 2, "sid", &sid);
	il_opt_int(L, 2, "addr", &addr);
	il_opt_int(L, 2, "am", &am);
	il_opt_int(L, 2, "pasid", &pasid);
	il_opt_int(L, 2, "fm", &fm);
	il_opt_int(L, 2, "index", &index);
	il_opt_int(L, 2, "im", &im);
	il_opt_int(L, 2, "unit", &unit);
	luaL_argcheck(L, did >= 0 && did <= 0xffff && sid >= 0 && sid <= 0xffff && am >= 0 &&
			 am <= 63 && pasid >= 0 && pasid <= ISH_PASID_MAX && fm >= 0 && fm <= 3 &&
			 index >= 0 && index <= 0xffff && im >= 0 && im <= 31 && unit >= 0 &&
			 unit < 256, 2, "field out of range");
	req.what = (enum ish_inval_what)what;
	req.gran = (enum ish_inval_gran)gran;
	req.did = (uint16_t)did;
	req.sid = (uint16_t)sid;
	req.fm = (unsigned)fm;
	req.addr = (uint64_t)addr;
	req.am = (unsigned)am;
	req.ih = il_opt_flag(L, 2, "ih");
	req.pasid = (uint32_t)pasid;
	req.index = (uint16_t)index;
	req.im = (unsigned)im;
	err = ish_invalidate(t, (unsigned)unit, &req, (enum ish_inval_method)method, &res);
	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, methods[res.method]);
	lua_setfield(L, -2, "method");
	if (res.method == ISH_INVAL_REGISTER) {
		lua_pushinteger(L, (lua_Integer)res.cmd);
		lua_setfield(L, -2, "cmd");
		lua_pushinteger(L, (lua_Integer)res.actual_gran);
		lua_setfield(L, -2, "actual_granularity");
	} else {
		lua_pushinteger(L, (lua_Integer)res.slot);
		lua_setfield(L, -2, "slot");
		lua_pushinteger(L, (lua_Integer)res.new_tail);
		lua_setfield(L, -2, "tail");
	}
	return 1;
}

/* --- unit methods that take the unit instead of an index --- */

#define UNIT_FORWARD(name, fn)                                                   \
	static int name(lua_State *L)                                             \
	{                                                                         \
		struct ish_target *t;                                             \
		unsigned u = il_check_unit(L, 1, &t);                                \
		lua_settop(L, 1);                                                 \
		lua_getiuservalue(L, 1, 1);                                       \
		lua_insert(L, 1);	/* target, unit */                        \
		(void)t;                                                          \
		(void)u;                                                          \
		return fn(L);                                                     \
	}

static int t_irte_of_unit(lua_State *L)
{
	/* u:irte(i) -> t:irte(i, u) */
	struct ish_target *t;

	(void)il_check_unit(L, 1, &t);
	lua_settop(L, 2);
	lua_getiuservalue(L, 1, 1);	/* 3: target */
	lua_insert(L, 1);		/* target, unit, i */
	lua_insert(L, 2);		/* target, i, unit */
	return t_irte(L);
}

UNIT_FORWARD(u_faults, t_faults)
UNIT_FORWARD(u_iq, t_iq)
UNIT_FORWARD(u_irtes, t_irtes)


const luaL_Reg ish_lua_irq_target_methods[] = {
	{ "irte", t_irte },
	{ "irtes", t_irtes },
	{ "iq", t_iq },
	{ "faults", t_faults },
	{ "invalidate", t_invalidate },
	{ NULL, NULL },
};

const luaL_Reg ish_lua_irq_unit_methods[] = {
	{ "faults", u_faults },
	{ "iq", u_iq },
	{ "irtes", u_irtes },
	{ "irte", t_irte_of_unit },
	{ NULL, NULL },
};
