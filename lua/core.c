// SPDX-License-Identifier: MIT
/*
 * The `iommu` Lua module: libiommush for scripts. Shaped after Lua's own
 * liolib.c: userdata checked with luaL_checkudata, method and metamethod
 * tables, __gc/__close/__tostring. Bad arguments raise; anything the
 * target says no to comes back as nil, message, code.
 *
 * Everything here is a thin client: decoding and walking happen in lib/.
 * Results are plain tables whose keys follow the shell's JSON output, so a
 * script and `iommush --json` speak the same language.
 *
 * lua/ is split by concern: this file holds targets (open, mem, the shell's
 * target), their memory and register access, refresh, record, snapshots, the
 * JSON encoder and the module's registration; units.c, tables.c, walk.c,
 * irq.c and image.c each add their methods (lua_internal.h).
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

/* --- helpers ---------------------------------------------------------- */

/* nil, message, code: the liolib convention for failures of the target. */
int il_push_fail(lua_State *L, struct ish_error *err)
{
	lua_pushnil(L);
	lua_pushstring(L, err->message);
	lua_pushstring(L, ish_error_code_name(err->code));
	ish_error_destroy(err);
	return 3;
}

void il_set_int(lua_State *L, const char *k, uint64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

void il_set_bool(lua_State *L, const char *k, bool v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

void il_set_str(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

const char *il_fmt_bdf(uint16_t bdf, char buf[static 8])
{
	snprintf(buf, 8, "%02x:%02x.%u", ISH_BDF_BUS(bdf), ISH_BDF_DEV(bdf), ISH_BDF_FN(bdf));
	return buf;
}

void il_set_bdf(lua_State *L, const char *k, uint16_t bdf)
{
	char buf[8];

	il_set_str(L, k, il_fmt_bdf(bdf, buf));
}

/* A raw array of qwords as a Lua sequence. */
void il_set_raw(lua_State *L, const char *k, const uint64_t *raw, unsigned n)
{
	lua_createtable(L, (int)n, 0);
	for (unsigned i = 0; i < n; i++) {
		lua_pushinteger(L, (lua_Integer)raw[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, k);
}

/*
 * A BDF argument: a requester id (number), or "bb:dd.f", "ssss:bb:dd.f",
 * "dd.f" (bus 0). Anything else raises.
 */
uint16_t il_check_bdf(lua_State *L, int arg)
{
	unsigned s, b, d, f;
	char tail;

	if (lua_type(L, arg) == LUA_TNUMBER) {
		lua_Integer v = luaL_checkinteger(L, arg);

		luaL_argcheck(L, v >= 0 && v <= 0xffff, arg, "requester id out of range");
		return (uint16_t)v;
	}
	const char *str = luaL_checkstring(L, arg);

	if (sscanf(str, "%x:%x:%x.%x%c", &s, &b, &d, &f, &tail) == 4 && s <= 0xffff)
		;
	else if (sscanf(str, "%x:%x.%x%c", &b, &d, &f, &tail) == 3)
		;
	else if (sscanf(str, "%x.%x%c", &d, &f, &tail) == 2)
		b = 0;
	else
		return (uint16_t)luaL_argerror(L, arg, "not a BDF (bb:dd.f)");
	luaL_argcheck(L, b <= 0xff && d <= 0x1f && f <= 7, arg, "BDF out of range");
	return ISH_BDF(b, d, f);
}

uint64_t il_check_u64(lua_State *L, int arg)
{
	return (uint64_t)luaL_checkinteger(L, arg);
}

uint32_t il_opt_pasid(lua_State *L, int arg)
{
	lua_Integer v;

	if (lua_isnoneornil(L, arg))
		return ISH_PASID_NONE;
	v = luaL_checkinteger(L, arg);
	luaL_argcheck(L, v >= 0 && v <= ISH_PASID_MAX, arg, "PASID out of range (20 bits)");
	return (uint32_t)v;
}

/* A field of an options table: boolean (absent = false). */
bool il_opt_flag(lua_State *L, int tab, const char *k)
{
	bool v;

	if (lua_isnoneornil(L, tab))
		return false;
	lua_getfield(L, tab, k);
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/* A field of an options table: integer, or def when absent. */
bool il_opt_int(lua_State *L, int tab, const char *k, lua_Integer *ret)
{
	bool have = false;

	if (lua_isnoneornil(L, tab))
		return false;
	lua_getfield(L, tab, k);
	if (!lua_isnil(L, -1)) {
		if (!lua_isinteger(L, -1))
			luaL_error(L, "option '%s' must be an integer", k);
		*ret = lua_tointeger(L, -1);
		have = true;
	}
	lua_pop(L, 1);
	return have;
}


void *il_box_new(lua_State *L, size_t size, void (*destroy)(void *))
{
	struct box *b = lua_newuserdatauv(L, sizeof(*b), 0);

	b->p = NULL;
	b->destroy = destroy;
	luaL_setmetatable(L, BOX_MT);
	if (size) {
		b->p = calloc(1, size);
		if (!b->p)
			luaL_error(L, "out of memory");
	}
	return b->p;
}

static int box_gc(lua_State *L)
{
	struct box *b = luaL_checkudata(L, 1, BOX_MT);

	if (b->p && b->destroy)
		b->destroy(b->p);
	b->p = NULL;
	return 0;
}

/* --- targets ------------------------------------------------------------ */



static struct host *get_host(lua_State *L)
{
	struct host *h;

	lua_getfield(L, LUA_REGISTRYINDEX, HOST_KEY);
	h = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return h;
}

void ish_lua_set_target_fn(lua_State *L, ish_lua_target_fn *fn, void *arg)
{
	struct host *h = lua_newuserdatauv(L, sizeof(*h), 0);

	h->fn = fn;
	h->arg = arg;
	h->confirm = NULL;
	h->confirm_arg = NULL;
	lua_setfield(L, LUA_REGISTRYINDEX, HOST_KEY);
}

void ish_lua_set_confirm(lua_State *L, ish_confirm_fn *fn, void *arg)
{
	struct host *h = get_host(L);

	if (h) {
		h->confirm = fn;
		h->confirm_arg = arg;
	}
}

/* The open target of the userdata at arg; raises if it was closed. */
struct ish_target *il_check_target(lua_State *L, int arg)
{
	struct ltarget *lt = luaL_checkudata(L, arg, TARGET_MT);

	if (lt->host) {
		struct host *h = get_host(L);
		struct ish_target *t = h ? h->fn(h->arg) : NULL;

		if (!t)
			luaL_error(L, "no target is open");
		return t;
	}
	if (!lt->t)
		luaL_error(L, "attempt to use a closed target");
	return lt->t;
}

static struct ltarget *push_target(lua_State *L, struct ish_target *t, bool host, bool mem)
{
	struct ltarget *lt = lua_newuserdatauv(L, sizeof(*lt), 0);

	lt->t = t;
	lt->host = host;
	lt->mem = mem;
	luaL_setmetatable(L, TARGET_MT);
	return lt;
}

unsigned il_check_unit_index(lua_State *L, struct ish_target *t, int arg)
{
	const struct ish_unit *u;

	if (lua_type(L, arg) == LUA_TNUMBER) {
		lua_Integer i = luaL_checkinteger(L, arg);

		luaL_argcheck(L, i >= 0 && (lua_Unsigned)i < ish_target_nunits(t), arg, "no such unit");
		return (unsigned)i;
	}
	if (luaL_testudata(L, arg, UNIT_MT)) {
		unsigned i = *(unsigned *)lua_touserdata(L, arg);

		luaL_argcheck(L, i < ish_target_nunits(t), arg, "no such unit");
		return i;
	}
	u = ish_target_unit_by_name(t, luaL_checkstring(L, arg));
	luaL_argcheck(L, u != NULL, arg, "no such unit");
	return u->index;
}

/* iommu.open(spec [, params]): params holds backend parameters ("dump.regs"),
 * and the options backend = NAME, write = true, force = true (write to units
 * the kernel's driver owns) and yes = true (do not confirm live writes). */
static int l_open(lua_State *L)
{
	const char *spec = luaL_checkstring(L, 1);
	const char *backend = NULL;
	struct ish_param params[64];
	size_t n = 0;
	unsigned flags = 0;
	struct ish_target *t;
	struct ish_error *err;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 2)) {
			const char *k;

			luaL_argcheck(L, lua_type(L, -2) == LUA_TSTRING, 2, "parameter names are strings");
			k = lua_tostring(L, -2);
			if (!strcmp(k, "backend")) {
				backend = luaL_checkstring(L, -1);
			} else if (!strcmp(k, "write")) {
				if (lua_toboolean(L, -1))
					flags |= ISH_OPEN_WRITE;
			} else if (!strcmp(k, "force")) {
				if (lua_toboolean(L, -1))
					flags |= ISH_OPEN_FORCE;
			} else if (!strcmp(k, "yes")) {
				if (lua_toboolean(L, -1))
					flags |= ISH_OPEN_YES;
			} else {
				luaL_argcheck(L, n < sizeof(params) / sizeof(params[0]), 2, "too many parameters");
				/* Strings only: a number converted here would not stay anchored. */
				luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 2,
					      "parameter values are strings");
				params[n].name = k;
				params[n++].value = lua_tostring(L, -1);	/* the table keeps it */
			}
			lua_pop(L, 1);
		}
	}
	err = ish_target_open(spec, backend, params, n, flags, &t);
	if (err)
		return il_push_fail(L, err);
	{
		struct host *h = get_host(L);

		if (h && h->confirm)
			ish_target_set_confirm(t, h->confirm, h->confirm_arg);
	}
	push_target(L, t, false, false);
	return 1;
}

/* iommu.mem(): an empty, writable in-memory target, to build images in. */
static int l_mem(lua_State *L)
{
	struct ltarget *lt = push_target(L, NULL, false, true);
	struct ish_error *err = ish_mem_open(&lt->t);

	if (err)
		return il_push_fail(L, err);
	return 1;
}

/* iommu.target(): the shell's current target, or nil outside the shell. */
static int l_target(lua_State *L)
{
	struct host *h = get_host(L);

	if (!h || !h->fn(h->arg)) {
		lua_pushnil(L);
		return 1;
	}
	push_target(L, NULL, true, false);
	return 1;
}

static int t_close(lua_State *L)
{
	struct ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);

	if (!lt->host) {
		ish_target_close(lt->t);
		lt->t = NULL;
	}
	return 0;
}

static int t_tostring(lua_State *L)
{
	struct ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);
	struct ish_target *t = lt->t;

	if (lt->host) {
		struct host *h = get_host(L);

		t = h ? h->fn(h->arg) : NULL;
	}
	if (!t)
		lua_pushfstring(L, "iommu.target (%s)", lt->host ? "none open" : "closed");
	else
		lua_pushfstring(L, "iommu.target (%s, %s backend, %d units)", ish_target_spec(t),
				ish_backend_name(ish_target_backend(t)), (int)ish_target_nunits(t));
	return 1;
}

static int t_info(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);

	lua_createtable(L, 0, 6);
	il_set_str(L, "spec", ish_target_spec(t));
	il_set_str(L, "backend", ish_backend_name(ish_target_backend(t)));
	il_set_int(L, "units", ish_target_nunits(t));
	il_set_bool(L, "writable", ish_target_writable(t));
	il_set_bool(L, "force", ish_target_flags(t) & ISH_OPEN_FORCE);
	il_set_bool(L, "yes", ish_target_flags(t) & ISH_OPEN_YES);
	return 1;
}

static int t_stats(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	struct ish_target_stats st;

	ish_target_stats(t, &st);
	lua_createtable(L, 0, 5);
	il_set_int(L, "phys_requests", st.phys_requests);
	il_set_int(L, "phys_bytes", st.phys_bytes);
	il_set_int(L, "reg_requests", st.reg_requests);
	il_set_int(L, "cache_hits", st.cache_hits);
	il_set_int(L, "cache_misses", st.cache_misses);
	return 1;
}

/* t:read(addr, len) -> string */
static int t_read(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint64_t addr = il_check_u64(L, 2);
	lua_Integer len = luaL_checkinteger(L, 3);
	struct ish_error *err;
	luaL_Buffer b;
	char *p;

	luaL_argcheck(L, len >= 0 && len <= (1 << 24), 3, "length out of range (0..16 MiB)");
	p = luaL_buffinitsize(L, &b, (size_t)len);
	err = ish_read_phys(t, addr, p, (size_t)len);
	if (err)
		return il_push_fail(L, err);
	luaL_pushresultsize(&b, (size_t)len);
	return 1;
}

static int t_read64(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint64_t v;
	struct ish_error *err = ish_read_u64(t, il_check_u64(L, 2), &v);

	if (err)
		return il_push_fail(L, err);
	lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

/* t:write(addr, bytes): through the target, so only in write mode. */
static int t_write(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint64_t addr = il_check_u64(L, 2);
	size_t len;
	const char *s = luaL_checklstring(L, 3, &len);
	struct ish_error *err = ish_write_phys(t, addr, s, len);

	if (err)
		return il_push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int t_write64(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	uint64_t addr = il_check_u64(L, 2), v = il_check_u64(L, 3);
	uint8_t b[8];
	struct ish_error *err;

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	err = ish_write_phys(t, addr, b, 8);
	if (err)
		return il_push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * t:write_reg(unit, name_or_offset, value [, width]): one register write at
 * the register's own width (a name) or width (an offset; default 32), through
 * the write gate like every other write (read-only registers and unknown
 * offsets are refused there). -> true [, note] (what the write does beyond
 * storing the value: RW1C, RO or reserved bits), or nil, msg, code.
 */
static int t_write_reg(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	unsigned unit = il_check_unit_index(L, t, 2);
	uint64_t value = il_check_u64(L, 4), cap = 0, ecap = 0;
	unsigned width = 32, index = 0, shift = 0;
	const struct ish_reg_def *r = NULL;
	struct ish_error *err;
	char name[32], note[512];
	const char *nt = NULL;
	uint32_t off;

	if (lua_type(L, 3) == LUA_TSTRING) {
		r = ish_reg_parse(lua_tostring(L, 3), &index);

		luaL_argcheck(L, r != NULL, 3, "no such register");
		width = r->width;
		if (r->loc != ISH_REG_FIXED &&
		    ((err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap)) ||
		     (err = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ecap))))
			return il_push_fail(L, err);
		if ((err = ish_reg_offset(r, index, cap, ecap, &off)))
			return il_push_fail(L, err);
	} else {
		lua_Integer o = luaL_checkinteger(L, 3);

		luaL_argcheck(L, o >= 0 && o < (1 << 20), 3, "offset out of range");
		off = (uint32_t)o;
		width = (unsigned)luaL_optinteger(L, 5, 32);
		luaL_argcheck(L, width == 32 || width == 64, 5, "width is 32 or 64");
	}
	err = ish_write_reg(t, unit, off, width, value);
	if (err)
		return il_push_fail(L, err);
	if (!r) {
		ish_error_destroy(ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap));
		ish_error_destroy(ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ecap));
		r = ish_reg_for_access(off, width, cap, ecap, &index, &shift);
	}
	if (r)
		nt = ish_reg_write_note(r, ish_reg_instance_name(r, index, name, sizeof(name)), value,
					shift, note, sizeof(note));
	lua_pushboolean(L, 1);
	if (!nt)
		return 1;
	lua_pushstring(L, nt);
	return 2;
}

static int t_refresh(lua_State *L)
{
	ish_target_cache_drop(il_check_target(L, 1));
	return 0;
}

/*
 * t:record(fn) -> pages: runs fn() and returns the sorted addresses of every
 * 4 KiB page the target read meanwhile (the tables a traversal touched).
 */
static int t_record(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	struct ish_error *err;
	struct box *b;
	size_t n = 0;
	int rc;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	err = ish_target_record_start(t);
	if (err)
		return il_push_fail(L, err);
	lua_pushvalue(L, 2);
	rc = lua_pcall(L, 0, 0, 0);
	il_box_new(L, 0, free);
	b = lua_touserdata(L, -1);
	err = ish_target_record_stop(t, (uint64_t **)&b->p, &n);
	if (rc != LUA_OK) {
		ish_error_destroy(err);
		lua_pop(L, 1);
		return lua_error(L);
	}
	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushinteger(L, (lua_Integer)((uint64_t *)b->p)[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* --- snapshots ---------------------------------------------------------- */

static int t_snapshot(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	const char *path = luaL_checkstring(L, 2);
	struct ish_capture_stats st;
	struct ish_error *err = ish_snapshot_capture(t, path, &st);

	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 7);
	il_set_int(L, "units", st.units);
	il_set_int(L, "registers", st.registers);
	il_set_int(L, "devices", st.devices);
	il_set_int(L, "pasids", st.pasids);
	il_set_int(L, "mappings", st.mappings);
	il_set_int(L, "findings", st.findings);
	il_set_int(L, "pages", st.pages);
	return 1;
}

/* --- JSON ---------------------------------------------------------------- */

static void json_value(lua_State *L, struct json_writer *w, int idx, int depth, bool uns);

/* A table is an array when its keys are exactly 1..n (an empty table is an array). */
static bool is_array(lua_State *L, int idx, lua_Integer *n)
{
	lua_Integer count = 0;

	*n = (lua_Integer)lua_rawlen(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		count++;
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > *n) {
			lua_pop(L, 1);
			return false;
		}
	}
	return count == *n;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void json_table(lua_State *L, struct json_writer *w, int idx, int depth, bool uns)
{
	lua_Integer n;

	if (depth >= JSON_MAX_DEPTH - 1)
		luaL_error(L, "iommu.json: nested too deep (or a cycle)");
	if (is_array(L, idx, &n)) {
		json_begin_array(w);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, i);
			json_value(L, w, lua_gettop(L), depth + 1, uns);
			lua_pop(L, 1);
		}
		json_end_array(w);
		return;
	}
	/* Objects: string keys only, sorted, so output is stable. */
	size_t nk = 0, cap = 16;
	const char **keys;
	int keys_idx;

	keys = lua_newuserdatauv(L, cap * sizeof(*keys), 0);
	keys_idx = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "iommu.json: object keys must be strings");
		if (nk == cap) {
			const char **nkeys = lua_newuserdatauv(L, 2 * cap * sizeof(*keys), 0);

			memcpy(nkeys, keys, nk * sizeof(*keys));
			lua_replace(L, keys_idx);
			keys = nkeys;
			cap *= 2;
		}
		keys[nk++] = lua_tostring(L, -1);	/* anchored by the table */
	}
	qsort(keys, nk, sizeof(*keys), cmp_keys);
	json_begin_object(w);
	for (size_t i = 0; i < nk; i++) {
		json_key(w, keys[i]);
		lua_getfield(L, idx, keys[i]);
		json_value(L, w, lua_gettop(L), depth + 1, uns);
		lua_pop(L, 1);
	}
	json_end_object(w);
	lua_pop(L, 1);	/* keys */
}

static void json_value(lua_State *L, struct json_writer *w, int idx, int depth, bool uns)
{
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		json_null(w);
		break;
	case LUA_TBOOLEAN:
		json_bool(w, lua_toboolean(L, idx));
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			lua_Integer v = lua_tointeger(L, idx);

			if (uns)
				json_u64(w, (uint64_t)v);
			else
				json_i64(w, v);
		} else {
			lua_Number d = lua_tonumber(L, idx);
			lua_Integer v;
			char buf[32];

			if (lua_numbertointeger(d, &v)) {
				json_i64(w, v);
			} else {
				/* The house JSON has integers only; other numbers go as text. */
				snprintf(buf, sizeof(buf), "%.14g", (double)d);
				json_str(w, buf);
			}
		}
		break;
	case LUA_TSTRING:
		json_str(w, lua_tostring(L, idx));
		break;
	case LUA_TTABLE:
		json_table(L, w, idx, depth, uns);
		break;
	default:
		luaL_error(L, "iommu.json: cannot encode a %s", luaL_typename(L, idx));
	}
}

struct membuf {
	char *p;
	size_t len;
	FILE *f;
};

static void membuf_destroy(void *p)
{
	struct membuf *m = p;

	if (m->f)
		fclose(m->f);
	free(m->p);
	free(m);
}

/* iommu.json(value [, {unsigned = true}]) -> string (one line, no newline) */
static int l_json(lua_State *L)
{
	bool uns = il_opt_flag(L, 2, "unsigned");
	struct json_writer w;
	struct membuf *m;

	luaL_checkany(L, 1);
	lua_settop(L, 2);
	m = il_box_new(L, sizeof(*m), membuf_destroy);
	m->f = open_memstream(&m->p, &m->len);
	if (!m->f)
		return luaL_error(L, "iommu.json: out of memory");
	json_init(&w, m->f);
	json_value(L, &w, 1, 0, uns);
	if (fflush(m->f))
		return luaL_error(L, "iommu.json: out of memory");
	lua_pushlstring(L, m->p, m->len);
	return 1;
}

/* iommu.reason(code [, scalable]) -> text, kind */
static int l_reason(lua_State *L)
{
	lua_Integer code = luaL_checkinteger(L, 1);
	static const char *const kinds[] = { "unknown", "legacy", "ir", "scalable" };

	luaL_argcheck(L, code >= 0 && code <= 0xff, 1, "fault reasons are 8 bits");
	lua_pushstring(L, ish_fault_reason_text((unsigned)code, lua_toboolean(L, 2)));
	lua_pushstring(L, kinds[ish_fault_reason_kind((unsigned)code) & 3]);
	return 2;
}

/* iommu.sleep(seconds): for polling scripts; Ctrl-C ends it early. */
static int l_sleep(lua_State *L)
{
	lua_Number sec = luaL_checknumber(L, 1);
	struct timespec ts;

	luaL_argcheck(L, sec >= 0 && sec <= 86400, 1, "0 to 86400 seconds");
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)((sec - (lua_Number)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);	/* EINTR (Ctrl-C) ends it: the hook then stops the script */
	return 0;
}

/* iommu.bdf(x) -> "bb:dd.f", rid */
static int l_bdf(lua_State *L)
{
	uint16_t bdf = il_check_bdf(L, 1);
	char buf[8];

	lua_pushstring(L, il_fmt_bdf(bdf, buf));
	lua_pushinteger(L, bdf);
	return 2;
}

/* iommu.registers() -> array of {name, offset, width, desc, access, field_access, fields = {names}} */
static int l_registers(lua_State *L)
{
	size_t n;
	const struct ish_reg_def *r = ish_reg_table(&n);

	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 5);
		il_set_str(L, "name", r[i].name);
		il_set_int(L, "offset", r[i].offset);
		il_set_int(L, "width", r[i].width);
		il_set_str(L, "desc", r[i].desc);
		il_push_access(L, &r[i]);
		lua_createtable(L, (int)r[i].nfields, 0);
		for (size_t j = 0; j < r[i].nfields; j++) {
			lua_pushstring(L, r[i].fields[j].name);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_setfield(L, -2, "fields");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* --- registration -------------------------------------------------------- */

static const luaL_Reg target_meth[] = {
	{ "close", t_close },
	{ "info", t_info },
	{ "stats", t_stats },
	{ "refresh", t_refresh },
	{ "record", t_record },
	{ "snapshot", t_snapshot },
	{ "read", t_read },
	{ "read64", t_read64 },
	{ "write", t_write },
	{ "write64", t_write64 },
	{ "write_reg", t_write_reg },
	{ NULL, NULL },
};

static const luaL_Reg *const target_parts[] = {
	target_meth, ish_lua_units_target_methods, ish_lua_tables_target_methods,
	ish_lua_walk_target_methods, ish_lua_irq_target_methods, ish_lua_image_target_methods,
	ish_lua_kernel_target_methods,
};

static const luaL_Reg *const unit_parts[] = {
	ish_lua_units_unit_methods, ish_lua_irq_unit_methods,
};

static const luaL_Reg target_metameth[] = {
	{ "__index", NULL },	/* the method table */
	{ "__gc", t_close },
	{ "__close", t_close },
	{ "__tostring", t_tostring },
	{ NULL, NULL },
};

static const luaL_Reg unit_metameth[] = {
	{ "__index", il_u_index },
	{ "__tostring", il_u_tostring },
	{ NULL, NULL },
};

static const luaL_Reg walk_metameth[] = {
	{ "__gc", il_walk_close },
	{ "__close", il_walk_close },
	{ "__tostring", il_walk_tostring },
	{ NULL, NULL },
};

static const luaL_Reg box_metameth[] = {
	{ "__gc", box_gc },
	{ NULL, NULL },
};

static const luaL_Reg iommu_funcs[] = {
	{ "open", l_open },
	{ "mem", l_mem },
	{ "target", l_target },
	{ "json", l_json },
	{ "reason", l_reason },
	{ "bdf", l_bdf },
	{ "sleep", l_sleep },
	{ "registers", l_registers },
	{ NULL, NULL },
};

static void create_metatables(lua_State *L)
{
	luaL_newmetatable(L, TARGET_MT);
	luaL_setfuncs(L, target_metameth, 0);
	lua_newtable(L);
	for (size_t i = 0; i < sizeof(target_parts) / sizeof(target_parts[0]); i++)
		luaL_setfuncs(L, target_parts[i], 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);

	luaL_newmetatable(L, UNIT_MT);
	luaL_setfuncs(L, unit_metameth, 0);
	lua_newtable(L);
	for (size_t i = 0; i < sizeof(unit_parts) / sizeof(unit_parts[0]); i++)
		luaL_setfuncs(L, unit_parts[i], 0);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);

	luaL_newmetatable(L, WALK_MT);
	luaL_setfuncs(L, walk_metameth, 0);
	lua_pop(L, 1);

	luaL_newmetatable(L, BOX_MT);
	luaL_setfuncs(L, box_metameth, 0);
	lua_pop(L, 1);
}

int luaopen_iommu(lua_State *L)
{
	luaL_newlib(L, iommu_funcs);
	create_metatables(L);
	lua_pushstring(L, ISH_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
