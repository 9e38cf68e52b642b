// SPDX-License-Identifier: MIT
/*
 * The `iommu` Lua module: Mappings as a streaming iterator, and reverse
 * lookup (who_maps).
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

/* Mappings are handed to Lua in batches of this many; see mappings_next(). */
#define WALK_BATCH 1024
/* Finding positions remembered per batch, to skip the ones seen before a restart. */
#define WALK_SEEN 256

/* --- mappings: a streaming iterator ---------------------------------- */

static void push_mapping(lua_State *L, const struct ish_mapping *m)
{
	lua_createtable(L, 0, 12);
	il_set_int(L, "iova", m->iova);
	il_set_int(L, "hpa", m->hpa);
	il_set_int(L, "size", m->size);
	il_set_int(L, "page_size", m->page_size);
	il_set_bool(L, "read", m->read);
	il_set_bool(L, "write", m->write);
	il_set_bool(L, "exec", m->exec);
	il_set_bool(L, "user", m->user);
	il_set_int(L, "emt", m->emt);
	il_set_bool(L, "snp", m->snp);
	il_set_bool(L, "pass_through", m->pass_through);
}

static void push_finding(lua_State *L, struct ish_target *t, const struct ish_finding *f)
{
	lua_createtable(L, 0, 12);
	il_set_str(L, "kind", ish_finding_kind_name(f->kind));
	il_set_str(L, "where", ish_step_kind_name(f->where));
	il_set_int(L, "level", f->level);
	il_set_int(L, "iova", f->iova);
	il_set_int(L, "table", f->table);
	il_set_int(L, "index", f->index);
	il_set_int(L, "addr", f->addr);
	il_set_int(L, "raw", f->raw);
	il_set_int(L, "bits", f->bits);
	if (f->unit < ish_target_nunits(t))
		il_set_str(L, "unit", ish_target_unit(t, f->unit)->name);
	il_set_bdf(L, "bdf", f->bdf);
	if (f->pasid != ISH_PASID_NONE)
		il_set_int(L, "pasid", f->pasid);
	il_set_str(L, "text", f->text);
}

/*
 * The walker is callback-driven and C frames cannot be suspended, so the
 * iterator runs it in batches: a walk fills WALK_BATCH mappings and stops;
 * the next batch restarts the walk where the last mapping ended. A restart
 * re-reads only the few table pages on the path to that address (from the
 * target's cache), and memory stays bounded whatever the mapping count.
 * Mappings never straddle a restart point, since a batch ends with a
 * complete (coalesced) range. Findings met again on the way down after a
 * restart are skipped: those before the restart address, and the ones past
 * it that the previous batch had already reported while looking ahead.
 */
struct lwalk {
	struct ish_target *t;
	struct ish_xlate_tables x;
	uint64_t lo, hi;	/* what is left to walk (inclusive) */
	bool done;
	bool has_finding_fn;
	size_t n, pos;		/* mappings in buf, next to hand out */
	uint64_t skip_below;	/* findings below this were reported */
	unsigned skip_ahead;	/* this many at or above it were, too */
	unsigned nseen;
	uint64_t seen[WALK_SEEN];	/* finding addresses reported this batch */
	lua_State *L;
	bool lua_error;		/* on_finding raised: its error is on top of the stack */
	struct ish_mapping buf[WALK_BATCH];
};

/* Sentinels that stop a walk; never destroyed, never seen by callers. */
static struct ish_error walk_full = { .code = ISH_ERROR_LIMIT, .message = (char *)"batch full" };
static struct ish_error walk_cb_error = { .code = ISH_ERROR_INVALID, .message = (char *)"lua" };

static struct ish_error *walk_mapping(void *arg, const struct ish_mapping *m)
{
	struct lwalk *w = arg;

	w->buf[w->n++] = *m;
	return w->n == WALK_BATCH ? &walk_full : NULL;
}

static struct ish_error *walk_finding(void *arg, const struct ish_finding *f)
{
	struct lwalk *w = arg;
	lua_State *L = w->L;

	if (f->iova < w->skip_below)
		return NULL;
	if (w->skip_ahead) {
		w->skip_ahead--;
		return NULL;
	}
	if (w->nseen < WALK_SEEN)
		w->seen[w->nseen++] = f->iova;
	if (!w->has_finding_fn)
		return NULL;
	/* The on_finding function is user value 2 of the walk (at index 1 of the iterator call). */
	lua_getiuservalue(L, lua_upvalueindex(1), 2);
	push_finding(L, w->t, f);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		w->lua_error = true;
		return &walk_cb_error;
	}
	return NULL;
}

static int walk_next_batch(lua_State *L, struct lwalk *w)
{
	struct ish_error *err;

	w->n = w->pos = 0;
	w->nseen = 0;
	w->L = L;
	err = ish_walk_mappings(w->t, &w->x, w->lo, w->hi, walk_mapping, walk_finding, w, NULL);
	if (err == &walk_cb_error) {
		w->done = true;
		return lua_error(L);	/* the on_finding error, as it was raised */
	}
	if (err == &walk_full) {
		const struct ish_mapping *last = &w->buf[w->n - 1];
		uint64_t next = last->iova + last->size;

		if (next == 0 || next - 1 >= w->hi) {
			w->done = true;
		} else {
			w->lo = next;
			w->skip_below = next;
			w->skip_ahead = 0;
			for (unsigned i = 0; i < w->nseen; i++)
				w->skip_ahead += w->seen[i] >= next;
		}
		return 0;
	}
	w->done = true;
	if (err) {
		lua_pushstring(L, err->message);
		ish_error_destroy(err);
		return lua_error(L);
	}
	return 0;
}

static int walk_iter(lua_State *L)
{
	struct lwalk *w = luaL_checkudata(L, lua_upvalueindex(1), WALK_MT);

	if (w->pos == w->n) {
		if (w->done || !w->t)
			return 0;
		/* The target must still be open: it is user value 1 of the walk. */
		lua_getiuservalue(L, lua_upvalueindex(1), 1);
		if (il_check_target(L, lua_gettop(L)) != w->t)
			return luaL_error(L, "the target changed during the walk");
		lua_pop(L, 1);
		walk_next_batch(L, w);
		if (w->n == 0)
			return 0;
	}
	push_mapping(L, &w->buf[w->pos++]);
	return 1;
}

int il_walk_close(lua_State *L)
{
	struct lwalk *w = luaL_checkudata(L, 1, WALK_MT);

	w->done = true;
	w->n = w->pos = 0;
	return 0;
}

int il_walk_tostring(lua_State *L)
{
	struct lwalk *w = luaL_checkudata(L, 1, WALK_MT);
	char buf[8];

	lua_pushfstring(L, "iommu.mappings (%s%s)", il_fmt_bdf(w->x.bdf, buf),
			w->done && w->pos == w->n ? ", done" : "");
	return 1;
}

/*
 * t:mappings(bdf [, pasid [, {lo=, hi=, on_finding=fn}]]) -> iterator, nil,
 * nil, closer. Each step gives one coalesced range as a table. A device whose
 * tables cannot be resolved (the hardware would fault) returns nil, message,
 * "not_found".
 */
static int t_mappings(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint16_t bdf = il_check_bdf(L, 2);
	uint32_t pasid = il_opt_pasid(L, 3);
	lua_Integer v;
	uint64_t lo = 0, hi = ~0ULL;
	struct ish_translation *tr;
	struct ish_error *err;
	struct lwalk *w;
	unsigned unit;
	int opts = 4;

	lua_settop(L, 4);	/* what is pushed below must not pass for options */
	if (!lua_isnoneornil(L, opts)) {
		luaL_checktype(L, opts, LUA_TTABLE);
		if (il_opt_int(L, opts, "lo", &v))
			lo = (uint64_t)v;
		if (il_opt_int(L, opts, "hi", &v))
			hi = (uint64_t)v;
		luaL_argcheck(L, lo <= hi, opts, "lo is above hi");
	}
	tr = il_resolve(L, t, bdf, pasid, &unit, &err);
	if (!tr)
		return il_push_fail(L, err);
	if (!tr->have_tables) {
		char buf[8];

		return il_push_fail(L, ish_error_format(ISH_ERROR_NOT_FOUND,
						     "%s: no translation (fault %#x: %s)",
						     il_fmt_bdf(bdf, buf), tr->reason,
						     ish_fault_reason_text(tr->reason, tr->scalable)));
	}
	w = lua_newuserdatauv(L, sizeof(*w), 2);
	memset(w, 0, offsetof(struct lwalk, buf));
	w->t = t;
	w->x = tr->tables;
	w->lo = lo;
	w->hi = hi;
	luaL_setmetatable(L, WALK_MT);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	if (!lua_isnoneornil(L, opts)) {
		lua_getfield(L, opts, "on_finding");
		if (!lua_isnil(L, -1)) {
			luaL_checktype(L, -1, LUA_TFUNCTION);
			w->has_finding_fn = true;
		}
		lua_setiuservalue(L, -2, 2);
	}
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, walk_iter, 1);
	lua_insert(L, -2);
	lua_pushnil(L);
	lua_insert(L, -2);
	lua_pushnil(L);
	lua_insert(L, -2);
	return 4;	/* iterator, nil, nil, the walk as the to-be-closed value */
}

/* t:who_maps(hpa) -> array of {unit, bdf, pasid, iova, mapping} */
struct who_ctx {
	lua_State *L;
	struct ish_target *t;
	int n;
};

static struct ish_error *who_cb(void *arg, const struct ish_who_maps *w)
{
	struct who_ctx *c = arg;
	lua_State *L = c->L;

	lua_createtable(L, 0, 6);
	il_set_str(L, "unit", ish_target_unit(c->t, w->unit)->name);
	il_set_bdf(L, "bdf", w->bdf);
	if (w->pasid != ISH_PASID_NONE)
		il_set_int(L, "pasid", w->pasid);
	il_set_int(L, "iova", w->iova);
	push_mapping(L, &w->m);
	lua_setfield(L, -2, "mapping");
	lua_rawseti(L, -2, ++c->n);
	return NULL;
}

static int t_who_maps(lua_State *L)
{
	struct who_ctx c = { L, il_check_target(L, 1), 0 };
	uint64_t hpa = il_check_u64(L, 2);
	struct ish_error *err;

	lua_newtable(L);
	err = ish_who_maps(c.t, hpa, who_cb, NULL, &c);
	if (err)
		return il_push_fail(L, err);
	return 1;
}


const luaL_Reg ish_lua_walk_target_methods[] = {
	{ "mappings", t_mappings },
	{ "who_maps", t_who_maps },
	{ NULL, NULL },
};
