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
#include "lua_iommu.h"
#include "pcinames.h"

#define TARGET_MT "iommu.target"
#define UNIT_MT "iommu.unit"
#define WALK_MT "iommu.mappings"
#define BOX_MT "iommu.box"
#define HOST_KEY "iommu.host"

/* Mappings are handed to Lua in batches of this many; see mappings_next(). */
#define WALK_BATCH 1024
/* Finding positions remembered per batch, to skip the ones seen before a restart. */
#define WALK_SEEN 256

/* --- helpers ---------------------------------------------------------- */

/* nil, message, code: the liolib convention for failures of the target. */
static int push_fail(lua_State *L, struct ish_error *err)
{
	lua_pushnil(L);
	lua_pushstring(L, err->message);
	lua_pushstring(L, ish_error_code_name(err->code));
	ish_error_destroy(err);
	return 3;
}

static void set_int(lua_State *L, const char *k, uint64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static const char *fmt_bdf(uint16_t bdf, char buf[static 8])
{
	snprintf(buf, 8, "%02x:%02x.%u", ISH_BDF_BUS(bdf), ISH_BDF_DEV(bdf), ISH_BDF_FN(bdf));
	return buf;
}

static void set_bdf(lua_State *L, const char *k, uint16_t bdf)
{
	char buf[8];

	set_str(L, k, fmt_bdf(bdf, buf));
}

/* A raw array of qwords as a Lua sequence. */
static void set_raw(lua_State *L, const char *k, const uint64_t *raw, unsigned n)
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
static uint16_t check_bdf(lua_State *L, int arg)
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

static uint64_t check_u64(lua_State *L, int arg)
{
	return (uint64_t)luaL_checkinteger(L, arg);
}

static uint32_t opt_pasid(lua_State *L, int arg)
{
	lua_Integer v;

	if (lua_isnoneornil(L, arg))
		return ISH_PASID_NONE;
	v = luaL_checkinteger(L, arg);
	luaL_argcheck(L, v >= 0 && v <= ISH_PASID_MAX, arg, "PASID out of range (20 bits)");
	return (uint32_t)v;
}

/* A field of an options table: boolean (absent = false). */
static bool opt_flag(lua_State *L, int tab, const char *k)
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
static bool opt_int(lua_State *L, int tab, const char *k, lua_Integer *ret)
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

/*
 * A malloc'd object owned by Lua: freed by __gc, so a raise (out of memory
 * while building a result) between allocation and free cannot leak it.
 */
struct box {
	void *p;
	void (*destroy)(void *p);
};

static void *box_new(lua_State *L, size_t size, void (*destroy)(void *))
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

struct host {
	ish_lua_target_fn *fn;
	void *arg;
	ish_confirm_fn *confirm;
	void *confirm_arg;
};

struct ltarget {
	struct ish_target *t;	/* NULL once closed; unused when host */
	bool host;		/* iommu.target(): the embedding shell's current target */
	bool mem;		/* from iommu.mem(): the mem_* methods apply */
};

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
static struct ish_target *check_target(lua_State *L, int arg)
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

static unsigned check_unit_index(lua_State *L, struct ish_target *t, int arg)
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
		return push_fail(L, err);
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
		return push_fail(L, err);
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
				ish_target_backend(t)->name, (int)ish_target_nunits(t));
	return 1;
}

static int t_info(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);

	lua_createtable(L, 0, 6);
	set_str(L, "spec", ish_target_spec(t));
	set_str(L, "backend", ish_target_backend(t)->name);
	set_int(L, "units", ish_target_nunits(t));
	set_bool(L, "writable", ish_target_writable(t));
	set_bool(L, "force", ish_target_flags(t) & ISH_OPEN_FORCE);
	set_bool(L, "yes", ish_target_flags(t) & ISH_OPEN_YES);
	return 1;
}

static int t_stats(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	struct ish_target_stats st;

	ish_target_stats(t, &st);
	lua_createtable(L, 0, 5);
	set_int(L, "phys_requests", st.phys_requests);
	set_int(L, "phys_bytes", st.phys_bytes);
	set_int(L, "reg_requests", st.reg_requests);
	set_int(L, "cache_hits", st.cache_hits);
	set_int(L, "cache_misses", st.cache_misses);
	return 1;
}

/* t:read(addr, len) -> string */
static int t_read(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	uint64_t addr = check_u64(L, 2);
	lua_Integer len = luaL_checkinteger(L, 3);
	struct ish_error *err;
	luaL_Buffer b;
	char *p;

	luaL_argcheck(L, len >= 0 && len <= (1 << 24), 3, "length out of range (0..16 MiB)");
	p = luaL_buffinitsize(L, &b, (size_t)len);
	err = ish_read_phys(t, addr, p, (size_t)len);
	if (err)
		return push_fail(L, err);
	luaL_pushresultsize(&b, (size_t)len);
	return 1;
}

static int t_read64(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	uint64_t v;
	struct ish_error *err = ish_read_u64(t, check_u64(L, 2), &v);

	if (err)
		return push_fail(L, err);
	lua_pushinteger(L, (lua_Integer)v);
	return 1;
}

/* t:write(addr, bytes): through the target, so only in write mode. */
static int t_write(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	uint64_t addr = check_u64(L, 2);
	size_t len;
	const char *s = luaL_checklstring(L, 3, &len);
	struct ish_error *err = ish_write_phys(t, addr, s, len);

	if (err)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int t_write64(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	uint64_t addr = check_u64(L, 2), v = check_u64(L, 3);
	uint8_t b[8];
	struct ish_error *err;

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	err = ish_write_phys(t, addr, b, 8);
	if (err)
		return push_fail(L, err);
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
	struct ish_target *t = check_target(L, 1);
	unsigned unit = check_unit_index(L, t, 2);
	uint64_t value = check_u64(L, 4), cap = 0, ecap = 0;
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
			return push_fail(L, err);
		if ((err = ish_reg_offset(r, index, cap, ecap, &off)))
			return push_fail(L, err);
	} else {
		lua_Integer o = luaL_checkinteger(L, 3);

		luaL_argcheck(L, o >= 0 && o < (1 << 20), 3, "offset out of range");
		off = (uint32_t)o;
		width = (unsigned)luaL_optinteger(L, 5, 32);
		luaL_argcheck(L, width == 32 || width == 64, 5, "width is 32 or 64");
	}
	err = ish_write_reg(t, unit, off, width, value);
	if (err)
		return push_fail(L, err);
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

/* --- building images (iommu.mem() targets only) --- */

static struct ish_target *check_mem(lua_State *L, int arg)
{
	struct ltarget *lt = luaL_checkudata(L, arg, TARGET_MT);
	struct ish_target *t = check_target(L, arg);

	if (!lt->mem)
		luaL_error(L, "only a target from iommu.mem() can be built");
	return t;
}

static int t_add_ram(lua_State *L)
{
	struct ish_target *t = check_mem(L, 1);
	uint64_t addr = check_u64(L, 2), size = check_u64(L, 3);
	struct ish_error *err;

	luaL_argcheck(L, size > 0 && size <= (1ULL << 32), 3, "size out of range (1..4 GiB)");
	err = ish_mem_add_ram(t, addr, size, NULL);
	if (err)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int t_add_unit(lua_State *L)
{
	struct ish_target *t = check_mem(L, 1);
	uint64_t base = check_u64(L, 2);
	lua_Integer seg = luaL_optinteger(L, 3, 0);
	unsigned idx;
	struct ish_error *err;

	luaL_argcheck(L, seg >= 0 && seg <= 0xffff, 3, "segment out of range");
	err = ish_mem_add_unit(t, base, (uint16_t)seg, &idx);
	if (err)
		return push_fail(L, err);
	lua_pushinteger(L, idx);
	return 1;
}

/* t:set_reg(unit, NAME|offset, value [, width]) */
static int t_set_reg(lua_State *L)
{
	struct ish_target *t = check_mem(L, 1);
	unsigned unit = check_unit_index(L, t, 2);
	uint64_t value = check_u64(L, 4);
	unsigned width = 0;
	uint32_t off;
	struct ish_error *err;

	if (lua_type(L, 3) == LUA_TNUMBER) {
		lua_Integer o = luaL_checkinteger(L, 3);

		luaL_argcheck(L, o >= 0 && o < 0x10000, 3, "offset out of range");
		off = (uint32_t)o;
		width = (off & 7) ? 32 : 64;
	} else {
		unsigned index;
		const struct ish_reg_def *r = ish_reg_parse(luaL_checkstring(L, 3), &index);

		luaL_argcheck(L, r != NULL, 3, "unknown register");
		luaL_argcheck(L, r->loc == ISH_REG_FIXED, 3,
			      "a register whose offset depends on CAP/ECAP: give its offset");
		off = r->offset;
		width = r->width;
	}
	width = (unsigned)luaL_optinteger(L, 5, width);
	luaL_argcheck(L, width == 32 || width == 64, 5, "width is 32 or 64");
	err = ish_mem_set_reg(t, unit, off, width, value);
	if (err)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int t_set_dmar(lua_State *L)
{
	struct ish_target *t = check_mem(L, 1);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	struct ish_error *err = ish_target_set_dmar(t, s, len);

	if (err)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/* --- units ------------------------------------------------------------ */

/* A unit: its index, with the target userdata as user value 1. */
static void push_unit(lua_State *L, int target_arg, unsigned index)
{
	unsigned *u = lua_newuserdatauv(L, sizeof(*u), 1);

	*u = index;
	lua_pushvalue(L, target_arg);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, UNIT_MT);
}

/* Leaves the target userdata on the stack top; returns the unit index. */
static unsigned check_unit(lua_State *L, int arg, struct ish_target **t)
{
	unsigned *u = luaL_checkudata(L, arg, UNIT_MT);

	lua_getiuservalue(L, arg, 1);
	*t = check_target(L, lua_gettop(L));
	if (*u >= ish_target_nunits(*t))
		luaL_error(L, "the unit no longer exists (the target changed)");
	return *u;
}

static int t_units(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	unsigned n = ish_target_nunits(t);

	lua_createtable(L, (int)n, 0);
	for (unsigned i = 0; i < n; i++) {
		push_unit(L, 1, i);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int t_unit(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);

	push_unit(L, 1, check_unit_index(L, t, 2));
	return 1;
}

static int u_index(lua_State *L)
{
	struct ish_target *t;
	unsigned i = check_unit(L, 1, &t);
	const struct ish_unit *u = ish_target_unit(t, i);
	const char *k = luaL_checkstring(L, 2);

	if (!strcmp(k, "name"))
		lua_pushstring(L, u->name);
	else if (!strcmp(k, "index"))
		lua_pushinteger(L, u->index);
	else if (!strcmp(k, "segment"))
		lua_pushinteger(L, u->segment);
	else if (!strcmp(k, "base"))
		lua_pushinteger(L, (lua_Integer)u->reg_base);
	else if (!strcmp(k, "include_pci_all"))
		lua_pushboolean(L, u->drhd_flags & ISH_DRHD_INCLUDE_PCI_ALL);
	else {
		/* methods */
		luaL_getmetatable(L, UNIT_MT);
		lua_getfield(L, -1, "methods");
		lua_getfield(L, -1, k);
	}
	return 1;
}

static int u_tostring(lua_State *L)
{
	struct ish_target *t;
	unsigned i = check_unit(L, 1, &t);
	const struct ish_unit *u = ish_target_unit(t, i);

	char buf[64];

	snprintf(buf, sizeof(buf), "iommu.unit (%s at %#" PRIx64 ")", u->name, u->reg_base);
	lua_pushstring(L, buf);
	return 1;
}

/* access = "RW1C" and field_access = {F = "RO", ...} into the table on top. */
static void push_access(lua_State *L, const struct ish_reg_def *r)
{
	set_str(L, "access", ish_access_name(r->access));
	lua_createtable(L, 0, (int)r->nfields);
	for (size_t i = 0; i < r->nfields; i++)
		set_str(L, r->fields[i].name, ish_access_name(ish_field_access(r, &r->fields[i])));
	lua_setfield(L, -2, "field_access");
}

static void push_reg_value(lua_State *L, const struct ish_reg_def *r, const char *name,
			   uint32_t offset, uint64_t v)
{
	char buf[64];

	lua_createtable(L, 0, 8);
	set_str(L, "name", name);
	set_int(L, "value", v);
	set_int(L, "offset", offset);
	set_int(L, "width", r->width);
	set_str(L, "desc", r->desc);
	set_str(L, "spec", r->spec);
	push_access(L, r);
	lua_createtable(L, 0, (int)r->nfields);
	for (size_t i = 0; i < r->nfields; i++) {
		lua_pushinteger(L, (lua_Integer)ish_field_get(&r->fields[i], v));
		lua_setfield(L, -2, r->fields[i].name);
	}
	lua_setfield(L, -2, "fields");
	/* The human reading of the fields that have one ("scalable", "39-bit,48-bit"). */
	lua_createtable(L, 0, 0);
	for (size_t i = 0; i < r->nfields; i++) {
		const char *m = ish_field_meaning(&r->fields[i], ish_field_get(&r->fields[i], v), buf,
						  sizeof(buf));

		if (m)
			set_str(L, r->fields[i].name, m);
	}
	lua_setfield(L, -2, "meanings");
}

/* u:reg(NAME) -> {name, value, offset, width, access, field_access = {F = "RO"}, fields = {F = v}, meanings} */
static int u_reg(lua_State *L)
{
	struct ish_target *t;
	unsigned unit = check_unit(L, 1, &t);
	unsigned index;
	const struct ish_reg_def *r = ish_reg_parse(luaL_checkstring(L, 2), &index);
	uint64_t cap = 0, ecap = 0, v;
	uint32_t off = 0;
	struct ish_error *err;
	char name[32];

	luaL_argcheck(L, r != NULL, 2, "unknown register");
	err = ish_unit_reg_read(t, unit, r, index, &v);
	if (err)
		return push_fail(L, err);
	if (r->loc == ISH_REG_FIXED) {
		off = r->offset;
	} else {
		ish_error_destroy(ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap));
		ish_error_destroy(ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ecap));
		ish_error_destroy(ish_reg_offset(r, index, cap, ecap, &off));
	}
	push_reg_value(L, r, ish_reg_instance_name(r, index, name, sizeof(name)), off, v);
	return 1;
}

struct regs_ctx {
	lua_State *L;
	int n;
};

static struct ish_error *regs_cb(void *arg, const struct ish_reg_value *v)
{
	struct regs_ctx *c = arg;

	if (v->err)
		return NULL;	/* not captured / unreadable: u:reg() says why */
	push_reg_value(c->L, v->def, v->name, v->offset, v->value);
	set_bool(c->L, "present", v->present);
	lua_rawseti(c->L, -2, ++c->n);
	return NULL;
}

/* u:regs([all]) -> every readable register, in table order */
static int u_regs(lua_State *L)
{
	struct ish_target *t;
	unsigned unit = check_unit(L, 1, &t);
	struct regs_ctx c = { L, 0 };
	struct ish_error *err;

	lua_newtable(L);
	err = ish_unit_regs(t, unit, lua_toboolean(L, 2) ? ISH_REGS_ALL : 0, regs_cb, &c);
	if (err)
		return push_fail(L, err);
	return 1;
}

static const char *const ttm_names[] = { "legacy", "scalable", "reserved", "abort-dma" };

static int u_state(lua_State *L)
{
	struct ish_target *t;
	unsigned unit = check_unit(L, 1, &t);
	struct ish_unit_state us;
	struct ish_error *err = ish_unit_state_read(t, unit, &us);

	if (err)
		return push_fail(L, err);
	lua_createtable(L, 0, 10);
	set_int(L, "cap", us.cap);
	set_int(L, "ecap", us.ecap);
	set_int(L, "gsts", us.gsts);
	set_int(L, "rtaddr", us.rtaddr);
	set_str(L, "mode", ttm_names[us.ttm & 3]);
	set_bool(L, "scalable", us.scalable);
	set_bool(L, "translation_enabled", us.te);
	set_int(L, "root_table", us.rta);
	set_int(L, "mgaw", us.mgaw);
	return 1;
}

/* --- the DMAR table --------------------------------------------------- */

static void dmar_destroy(void *p)
{
	ish_dmar_destroy(p);
}

static int t_dmar(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	size_t len;
	const void *buf = ish_target_dmar(t, &len);
	struct ish_dmar **slot, *d;
	struct ish_error *err;

	if (!buf)
		return push_fail(L, ish_error_create(ISH_ERROR_NOT_FOUND,
						     "the target has no DMAR table"));
	box_new(L, 0, dmar_destroy);
	slot = (struct ish_dmar **)&((struct box *)lua_touserdata(L, -1))->p;
	err = ish_dmar_parse(buf, len, slot);
	if (err)
		return push_fail(L, err);
	d = *slot;
	lua_createtable(L, 0, 12);
	set_str(L, "signature", d->signature);
	set_int(L, "length", d->length);
	set_int(L, "revision", d->revision);
	set_bool(L, "checksum_ok", d->checksum_ok);
	set_str(L, "oem_id", d->oem_id);
	set_str(L, "oem_table_id", d->oem_table_id);
	set_int(L, "oem_revision", d->oem_revision);
	set_str(L, "creator_id", d->creator_id);
	set_int(L, "creator_revision", d->creator_revision);
	set_int(L, "haw", d->haw + 1u);
	set_int(L, "flags", d->flags);
	set_bool(L, "intr_remap", d->flags & ISH_DMAR_INTR_REMAP);
	set_bool(L, "x2apic_opt_out", d->flags & ISH_DMAR_X2APIC_OPT_OUT);
	lua_createtable(L, (int)d->nstructs, 0);
	for (size_t i = 0; i < d->nstructs; i++) {
		const struct ish_dmar_struct *s = &d->structs[i];
		const char *tn = ish_dmar_type_name(s->type);

		lua_createtable(L, 0, 10);
		set_int(L, "offset", s->offset);
		set_str(L, "type", tn ? tn : "reserved");
		set_int(L, "type_code", s->type);
		set_int(L, "length", s->length);
		set_int(L, "flags", s->flags);
		set_int(L, "segment", s->segment);
		switch (s->type) {
		case ISH_DMAR_TYPE_DRHD:
			set_int(L, "base", s->base);
			set_int(L, "size", s->size);
			set_bool(L, "include_pci_all", s->flags & ISH_DRHD_INCLUDE_PCI_ALL);
			break;
		case ISH_DMAR_TYPE_RMRR:
			set_int(L, "base", s->base);
			set_int(L, "limit", s->limit);
			break;
		case ISH_DMAR_TYPE_ATSR:
			set_bool(L, "all_ports", s->flags & ISH_ATSR_ALL_PORTS);
			break;
		case ISH_DMAR_TYPE_RHSA:
			set_int(L, "base", s->base);
			set_int(L, "proximity", s->proximity);
			break;
		case ISH_DMAR_TYPE_ANDD:
			set_int(L, "device_number", s->device_number);
			set_str(L, "object_name", s->object_name);
			break;
		default:
			break;
		}
		lua_createtable(L, (int)s->nscopes, 0);
		for (size_t j = 0; j < s->nscopes; j++) {
			const struct ish_dmar_scope *sc = &s->scopes[j];
			const char *sn = ish_dmar_scope_type_name(sc->type);

			lua_createtable(L, 0, 7);
			set_str(L, "type", sn ? sn : "reserved");
			set_int(L, "type_code", sc->type);
			set_int(L, "enum_id", sc->enum_id);
			set_int(L, "bus", sc->bus);
			lua_createtable(L, (int)sc->npath, 0);
			for (size_t k = 0; k < sc->npath; k++) {
				lua_createtable(L, 0, 2);
				set_int(L, "dev", sc->path[k].dev);
				set_int(L, "fn", sc->path[k].fn);
				lua_rawseti(L, -2, (lua_Integer)k + 1);
			}
			lua_setfield(L, -2, "path");
			/* A one-hop path names the device directly. */
			if (sc->npath == 1)
				set_bdf(L, "bdf", ISH_BDF(sc->bus, sc->path[0].dev & 0x1f, sc->path[0].fn & 7));
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_setfield(L, -2, "scopes");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "structs");
	lua_createtable(L, (int)d->nfindings, 0);
	for (size_t i = 0; i < d->nfindings; i++) {
		lua_createtable(L, 0, 2);
		set_int(L, "offset", d->findings[i].offset);
		set_str(L, "message", d->findings[i].message);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "findings");
	return 1;
}

/* --- root, context, PASID entries -------------------------------------- */

static void push_problems(lua_State *L, const struct ish_problems *p)
{
	lua_createtable(L, (int)p->n, 0);
	for (unsigned i = 0; i < p->n && i < ISH_MAX_PROBLEMS; i++) {
		lua_createtable(L, 0, 4);
		set_str(L, "what", p->p[i].what);
		set_int(L, "qword", p->p[i].qword);
		set_int(L, "bits", p->p[i].bits);
		set_bool(L, "reserved", p->p[i].reserved);
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
	set_raw(L, "raw", re->raw, 2);
	set_bool(L, "scalable", re->scalable);
	if (re->scalable) {
		set_bool(L, "lower_present", re->lp);
		set_bool(L, "upper_present", re->up);
		set_int(L, "lower_ctp", re->lctp);
		set_int(L, "upper_ctp", re->uctp);
	} else {
		set_bool(L, "present", re->present);
		set_int(L, "ctp", re->ctp);
	}
	push_fields(L, re->scalable ? ISH_ENTRY_SM_ROOT : ISH_ENTRY_ROOT, re->raw);
	push_problems(L, &re->problems);
}

static void push_context_entry(lua_State *L, const struct ish_context_entry *ce)
{
	lua_createtable(L, 0, 16);
	set_raw(L, "raw", ce->raw, ce->scalable ? 4 : 2);
	set_bool(L, "scalable", ce->scalable);
	set_bool(L, "present", ce->present);
	set_bool(L, "fpd", ce->fpd);
	if (ce->scalable) {
		set_bool(L, "dte", ce->dte);
		set_bool(L, "paside", ce->paside);
		set_bool(L, "pre", ce->pre);
		set_int(L, "pdts", ce->pdts);
		set_int(L, "pasid_dir_entries", ish_pasid_dir_entries(ce));
		set_int(L, "pasiddirptr", ce->pasiddirptr);
		set_int(L, "rid_pasid", ce->rid_pasid);
		set_bool(L, "rid_priv", ce->rid_priv);
	} else {
		set_int(L, "tt", ce->tt);
		set_str(L, "tt_name", ish_context_tt_name(ce->tt));
		set_int(L, "slptptr", ce->slptptr);
		set_int(L, "aw", ce->aw);
		set_int(L, "levels", ce->aw + 2u);
		set_int(L, "avail", ce->avail);
		set_int(L, "did", ce->did);
	}
	push_fields(L, ce->scalable ? ISH_ENTRY_SM_CONTEXT : ISH_ENTRY_CONTEXT, ce->raw);
	push_problems(L, &ce->problems);
}

static void push_pasid_dir_entry(lua_State *L, const struct ish_pasid_dir_entry *e)
{
	lua_createtable(L, 0, 6);
	set_raw(L, "raw", &e->raw, 1);
	set_bool(L, "present", e->present);
	set_bool(L, "fpd", e->fpd);
	set_int(L, "smptblptr", e->smptblptr);
	push_fields(L, ISH_ENTRY_PASID_DIR, &e->raw);
	push_problems(L, &e->problems);
}

static void push_pasid_entry(lua_State *L, const struct ish_pasid_entry *pe)
{
	lua_createtable(L, 0, 20);
	set_raw(L, "raw", pe->raw, 8);
	set_bool(L, "present", pe->present);
	set_bool(L, "fpd", pe->fpd);
	set_int(L, "pgtt", pe->pgtt);
	set_str(L, "pgtt_name", ish_pgtt_name(pe->pgtt));
	set_int(L, "aw", pe->aw);
	set_bool(L, "slee", pe->slee);
	set_bool(L, "slade", pe->slade);
	set_int(L, "slptptr", pe->slptptr);
	set_int(L, "did", pe->did);
	set_bool(L, "sre", pe->sre);
	set_bool(L, "ere", pe->ere);
	set_int(L, "flpm", pe->flpm);
	set_bool(L, "wpe", pe->wpe);
	set_int(L, "flptptr", pe->flptptr);
	set_bool(L, "pgsnp", pe->pgsnp);
	set_bool(L, "pwsnp", pe->pwsnp);
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
	set_str(L, "mode", mode_name(x->mode));
	set_bool(L, "pass_through", x->mode == ISH_XLATE_PT);
	set_int(L, "did", x->did);
	if (x->mode == ISH_XLATE_SL || x->mode == ISH_XLATE_NESTED) {
		set_int(L, "sl_root", x->sl_root);
		set_int(L, "sl_levels", x->sl_levels);
	}
	if (x->mode == ISH_XLATE_FL || x->mode == ISH_XLATE_NESTED) {
		set_int(L, "fl_root", x->fl_root);
		set_int(L, "fl_levels", x->fl_levels);
	}
}

/* Resolve a device's tables into a Lua-owned translation; NULL on failure (pushed). */
static struct ish_translation *resolve(lua_State *L, struct ish_target *t, uint16_t bdf,
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
	set_int(L, "reason", tr->reason);
	set_str(L, "text", ish_fault_reason_text(tr->reason, tr->scalable));
	set_int(L, "addr", tr->fault_addr);
	set_bool(L, "recorded", !tr->fpd);
	if (tr->fault_step >= 0 && (unsigned)tr->fault_step < tr->nsteps)
		set_str(L, "step", ish_step_kind_name(tr->steps[tr->fault_step].kind));
	if (tr->unreadable) {
		set_bool(L, "unreadable", true);
		set_int(L, "unreadable_addr", tr->unreadable_addr);
	}
	lua_setfield(L, -2, "fault");
}

/* t:context(bdf) -> {unit, bdf, scalable, root = {...}, context = {...}|nil, fault = ...} */
static int t_context(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	struct ish_error *err;
	unsigned unit;
	struct ish_translation *tr = resolve(L, t, bdf, ISH_PASID_NONE, &unit, &err);

	if (!tr)
		return push_fail(L, err);
	lua_createtable(L, 0, 8);
	set_str(L, "unit", ish_target_unit(t, unit)->name);
	set_bdf(L, "bdf", bdf);
	set_bool(L, "scalable", tr->scalable);
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
	struct ish_target *t = check_target(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	uint32_t pasid = opt_pasid(L, 3);
	struct ish_unit_state us;
	struct ish_error *err;
	unsigned unit;
	struct ish_translation *tr;

	luaL_argcheck(L, pasid != ISH_PASID_NONE, 3, "PASID expected");
	tr = resolve(L, t, bdf, pasid, &unit, &err);
	if (!tr)
		return push_fail(L, err);
	err = ish_unit_state_read(t, unit, &us);
	if (err)
		return push_fail(L, err);
	if (!us.scalable)
		return push_fail(L, ish_error_format(ISH_ERROR_UNSUPPORTED,
						     "%s is in legacy mode: no PASID tables",
						     ish_target_unit(t, unit)->name));
	lua_createtable(L, 0, 6);
	set_str(L, "unit", ish_target_unit(t, unit)->name);
	set_bdf(L, "bdf", bdf);
	set_int(L, "pasid", pasid);
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
	struct ish_target *t = check_target(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	uint64_t iova = check_u64(L, 3);
	uint32_t pasid = ISH_PASID_NONE;
	unsigned access = 0;
	lua_Integer v;
	struct ish_translation *tr;
	struct ish_error *err;

	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		if (opt_int(L, 4, "pasid", &v)) {
			luaL_argcheck(L, v >= 0 && v <= ISH_PASID_MAX, 4, "PASID out of range");
			pasid = (uint32_t)v;
		}
		access |= opt_flag(L, 4, "write") ? ISH_ACCESS_WRITE : 0;
		access |= opt_flag(L, 4, "exec") ? ISH_ACCESS_EXEC : 0;
		access |= opt_flag(L, 4, "priv") ? ISH_ACCESS_PRIV : 0;
	}
	tr = lua_newuserdatauv(L, sizeof(*tr), 0);
	err = ish_translate(t, -1, bdf, pasid, iova, access, tr);
	if (err)
		return push_fail(L, err);
	lua_createtable(L, 0, 16);
	set_bdf(L, "bdf", bdf);
	set_int(L, "iova", iova);
	if (pasid != ISH_PASID_NONE)
		set_int(L, "pasid", pasid);
	if (tr->faulted) {
		push_fault(L, tr);
	} else {
		set_int(L, "hpa", tr->hpa);
		set_int(L, "page_size", tr->page_size);
		set_bool(L, "read", tr->read);
		set_bool(L, "write", tr->write);
		set_bool(L, "exec", tr->exec);
		set_bool(L, "user", tr->user);
		set_int(L, "emt", tr->emt);
		set_bool(L, "snp", tr->snp);
	}
	set_bool(L, "translation_disabled", tr->translation_disabled);
	set_bool(L, "blocked", tr->blocked);
	set_bool(L, "scalable", tr->scalable);
	if (tr->have_tables) {
		set_str(L, "unit", ish_target_unit(t, tr->tables.unit)->name);
		push_tables(L, &tr->tables);
	}
	set_bool(L, "pass_through", tr->pass_through);
	lua_createtable(L, (int)tr->nsteps, 0);
	for (unsigned i = 0; i < tr->nsteps && i < ISH_MAX_STEPS; i++) {
		const struct ish_step *s = &tr->steps[i];

		lua_createtable(L, 0, 7);
		set_str(L, "kind", ish_step_kind_name(s->kind));
		set_int(L, "level", s->level);
		set_int(L, "table", s->table);
		set_int(L, "index", s->index);
		set_int(L, "entry_addr", s->entry_addr);
		set_raw(L, "raw", s->raw, s->nraw > 8 ? 8 : s->nraw);
		set_bool(L, "nested", s->nested);
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
	set_str(L, "unit", ish_target_unit(c->t, d->unit)->name);
	set_int(L, "segment", d->segment);
	set_bdf(L, "bdf", d->bdf);
	set_int(L, "rid", d->bdf);
	set_bool(L, "scalable", d->scalable);
	set_bool(L, "fpd", d->ce.fpd);
	if (!d->scalable) {
		set_int(L, "did", d->ce.did);
		set_int(L, "tt", d->ce.tt);
	}
	set_bool(L, "have_tables", d->have_tables);
	if (d->have_tables)
		push_tables(L, &d->tables);
	if (d->scalable) {
		set_int(L, "rid_pasid", d->ce.rid_pasid);
		set_int(L, "pasids", d->npasids);
		if (d->have_rid_pasid_entry)
			set_bool(L, "rid_pasid_fpd", d->pe.fpd);
	}
	push_context_entry(L, &d->ce);
	lua_setfield(L, -2, "context");
	lua_rawseti(L, -2, ++c->n);
	return NULL;
}

/* t:devices([count_pasids]) -> array of devices with a present context entry */
static int t_devices(lua_State *L)
{
	struct devs_ctx c = { L, check_target(L, 1), 0 };
	struct ish_error *err;

	lua_newtable(L);
	err = ish_devices(c.t, lua_toboolean(L, 2), devs_cb, NULL, &c);
	if (err)
		return push_fail(L, err);
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
	set_int(L, "segment", f->segment);
	set_bdf(L, "bdf", f->bdf);
	set_int(L, "rid", f->bdf);
	set_int(L, "vendor", f->vendor);
	set_int(L, "device", f->device);
	set_int(L, "class", f->class);
	if (f->have_header)
		set_int(L, "header_type", f->header_type);
	set_str(L, "name", sh_pci_name(f->vendor, f->device, name, sizeof(name)));
	if (f->bridge) {
		lua_createtable(L, 0, 3);
		set_int(L, "primary", f->primary);
		set_int(L, "secondary", f->secondary);
		set_int(L, "subordinate", f->subordinate);
		lua_setfield(L, -2, "bridge");
	}
	if (c->have_unit)
		set_str(L, "unit", ish_target_unit(pp->t, c->unit)->name);
	set_str(L, "cover", ish_cover_name(c->how));
	if (c->read) {
		lua_createtable(L, 0, 4);
		set_bool(L, "present", c->present);
		set_str(L, "mode", c->scalable ? "scalable" : "legacy");
		if (c->type)
			set_str(L, "type", c->type);
		if (c->have_did)
			set_int(L, "did", c->did);
		lua_setfield(L, -2, "context");
	} else {
		set_str(L, "why", c->why);
	}
	lua_rawseti(L, -2, ++pp->n);
	return NULL;
}

/* t:pci() -> array of functions (lib/pci.c), then an array of finding texts */
static int t_pci(lua_State *L)
{
	struct pci_push pp = { .L = L, .t = check_target(L, 1) };
	struct ish_error *err;
	struct ish_pci *p;

	lua_newtable(L);
	err = ish_pci_each(pp.t, push_func, &pp, &p);
	if (err) {
		ish_pci_destroy(p);
		lua_pop(L, 1);
		return push_fail(L, err);
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
	struct ish_target *t = check_target(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	lua_Integer off = luaL_checkinteger(L, 3), width = luaL_optinteger(L, 4, 32);
	lua_Integer seg = luaL_optinteger(L, 5, 0);
	struct ish_error *err;
	uint32_t v;

	luaL_argcheck(L, off >= 0 && off < 4096, 3, "offset out of range (0..4095)");
	luaL_argcheck(L, width == 8 || width == 16 || width == 32, 4, "width is 8, 16 or 32");
	luaL_argcheck(L, seg >= 0 && seg <= 0xffff, 5, "segment out of range");
	err = ish_read_config(t, (uint16_t)seg, bdf, (uint32_t)off, (unsigned)width, &v);
	if (err)
		return push_fail(L, err);
	lua_pushinteger(L, v);
	return 1;
}

/* t:add_config(bdf, bytes [, segment]): a function's config space on a mem target */
static int t_add_config(lua_State *L)
{
	struct ish_target *t = check_mem(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	size_t len;
	const char *bytes = luaL_checklstring(L, 3, &len);
	lua_Integer seg = luaL_optinteger(L, 4, 0);
	struct ish_error *err;
	uint8_t *c;

	luaL_argcheck(L, len <= ISH_MEM_CONFIG_SIZE, 3, "more than 4096 bytes");
	luaL_argcheck(L, seg >= 0 && seg <= 0xffff, 4, "segment out of range");
	err = ish_mem_add_config(t, (uint16_t)seg, bdf, &c);
	if (err)
		return push_fail(L, err);
	memcpy(c, bytes, len);
	lua_pushboolean(L, 1);
	return 1;
}

/* --- mappings: a streaming iterator ---------------------------------- */

static void push_mapping(lua_State *L, const struct ish_mapping *m)
{
	lua_createtable(L, 0, 12);
	set_int(L, "iova", m->iova);
	set_int(L, "hpa", m->hpa);
	set_int(L, "size", m->size);
	set_int(L, "page_size", m->page_size);
	set_bool(L, "read", m->read);
	set_bool(L, "write", m->write);
	set_bool(L, "exec", m->exec);
	set_bool(L, "user", m->user);
	set_int(L, "emt", m->emt);
	set_bool(L, "snp", m->snp);
	set_bool(L, "pass_through", m->pass_through);
}

static void push_finding(lua_State *L, struct ish_target *t, const struct ish_finding *f)
{
	lua_createtable(L, 0, 12);
	set_str(L, "kind", ish_finding_kind_name(f->kind));
	set_str(L, "where", ish_step_kind_name(f->where));
	set_int(L, "level", f->level);
	set_int(L, "iova", f->iova);
	set_int(L, "table", f->table);
	set_int(L, "index", f->index);
	set_int(L, "addr", f->addr);
	set_int(L, "raw", f->raw);
	set_int(L, "bits", f->bits);
	if (f->unit < ish_target_nunits(t))
		set_str(L, "unit", ish_target_unit(t, f->unit)->name);
	set_bdf(L, "bdf", f->bdf);
	if (f->pasid != ISH_PASID_NONE)
		set_int(L, "pasid", f->pasid);
	set_str(L, "text", f->text);
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
		if (check_target(L, lua_gettop(L)) != w->t)
			return luaL_error(L, "the target changed during the walk");
		lua_pop(L, 1);
		walk_next_batch(L, w);
		if (w->n == 0)
			return 0;
	}
	push_mapping(L, &w->buf[w->pos++]);
	return 1;
}

static int walk_close(lua_State *L)
{
	struct lwalk *w = luaL_checkudata(L, 1, WALK_MT);

	w->done = true;
	w->n = w->pos = 0;
	return 0;
}

static int walk_tostring(lua_State *L)
{
	struct lwalk *w = luaL_checkudata(L, 1, WALK_MT);
	char buf[8];

	lua_pushfstring(L, "iommu.mappings (%s%s)", fmt_bdf(w->x.bdf, buf),
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
	struct ish_target *t = check_target(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	uint32_t pasid = opt_pasid(L, 3);
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
		if (opt_int(L, opts, "lo", &v))
			lo = (uint64_t)v;
		if (opt_int(L, opts, "hi", &v))
			hi = (uint64_t)v;
		luaL_argcheck(L, lo <= hi, opts, "lo is above hi");
	}
	tr = resolve(L, t, bdf, pasid, &unit, &err);
	if (!tr)
		return push_fail(L, err);
	if (!tr->have_tables) {
		char buf[8];

		return push_fail(L, ish_error_format(ISH_ERROR_NOT_FOUND,
						     "%s: no translation (fault %#x: %s)",
						     fmt_bdf(bdf, buf), tr->reason,
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
	set_str(L, "unit", ish_target_unit(c->t, w->unit)->name);
	set_bdf(L, "bdf", w->bdf);
	if (w->pasid != ISH_PASID_NONE)
		set_int(L, "pasid", w->pasid);
	set_int(L, "iova", w->iova);
	push_mapping(L, &w->m);
	lua_setfield(L, -2, "mapping");
	lua_rawseti(L, -2, ++c->n);
	return NULL;
}

static int t_who_maps(lua_State *L)
{
	struct who_ctx c = { L, check_target(L, 1), 0 };
	uint64_t hpa = check_u64(L, 2);
	struct ish_error *err;

	lua_newtable(L);
	err = ish_who_maps(c.t, hpa, who_cb, NULL, &c);
	if (err)
		return push_fail(L, err);
	return 1;
}

/* --- interrupt remapping ------------------------------------------------ */

static void push_irte(lua_State *L, struct ish_target *t, unsigned unit, const struct ish_irte *e)
{
	lua_createtable(L, 0, 20);
	set_str(L, "unit", ish_target_unit(t, unit)->name);
	set_int(L, "index", e->index);
	set_int(L, "lo", e->lo);
	set_int(L, "hi", e->hi);
	set_bool(L, "present", e->present);
	set_bool(L, "fpd", e->fpd);
	set_bool(L, "posted", e->posted);
	set_int(L, "vector", e->vector);
	set_int(L, "sid", e->sid);
	set_bdf(L, "source", e->sid);
	set_int(L, "sq", e->sq);
	set_int(L, "svt", e->svt);
	set_str(L, "svt_name", ish_irte_svt_name(e->svt));
	if (e->posted) {
		set_bool(L, "urgent", e->urgent);
		set_int(L, "pda", e->pda);
	} else {
		set_bool(L, "dm", e->dm);
		set_bool(L, "rh", e->rh);
		set_bool(L, "tm", e->tm);
		set_int(L, "dlm", e->dlm);
		set_str(L, "dlm_name", ish_irte_dlm_name(e->dlm));
		set_int(L, "dest", e->dest);
	}
	set_int(L, "rsvd_lo", e->rsvd_lo);
	set_int(L, "rsvd_hi", e->rsvd_hi);
}

/* t:irte(index [, unit]) */
static int t_irte(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	lua_Integer idx = luaL_checkinteger(L, 2);
	unsigned unit = lua_isnoneornil(L, 3) ? 0 : check_unit_index(L, t, 3);
	struct ish_ir_state ir;
	struct ish_irte e;
	struct ish_error *err;

	luaL_argcheck(L, idx >= 0 && idx <= 0xffffffffLL, 2, "index out of range");
	if (!ish_target_nunits(t))
		return push_fail(L, ish_error_create(ISH_ERROR_NOT_FOUND, "no remapping units"));
	err = ish_ir_state_read(t, unit, &ir);
	if (!err)
		err = ish_irte_read(t, &ir, (uint32_t)idx, &e);
	if (err)
		return push_fail(L, err);
	push_irte(L, t, unit, &e);
	return 1;
}

/* t:irtes([unit]) -> array of the present IRTEs (of every unit with IR enabled, or of unit) */
static int t_irtes(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	unsigned first = 0, last = ish_target_nunits(t);
	int n = 0;

	if (!lua_isnoneornil(L, 2)) {
		first = check_unit_index(L, t, 2);
		last = first + 1;
	}
	lua_newtable(L);
	for (unsigned u = first; u < last; u++) {
		struct ish_ir_state ir;
		struct ish_error *err = ish_ir_state_read(t, u, &ir);

		if (err) {
			if (last - first == 1)
				return push_fail(L, err);
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
				return push_fail(L, err);
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
		return push_fail(L, err);
	lua_createtable(L, 0, 20);
	set_str(L, "unit", ish_target_unit(t, unit)->name);
	set_bool(L, "enabled", q.qies);
	set_int(L, "base", q.base);
	set_int(L, "qs", q.qs);
	set_int(L, "size", q.size);
	set_int(L, "slots", q.nslots);
	set_int(L, "desc_size", q.desc_size);
	set_bool(L, "width_inferred", q.width_inferred);
	set_int(L, "head", q.head);
	set_int(L, "tail", q.tail);
	set_bool(L, "head_bad", q.head_bad);
	set_bool(L, "tail_bad", q.tail_bad);
	set_int(L, "pending", q.pending);
	if (q.have_iqer) {
		set_int(L, "iqer", q.iqer);
		set_str(L, "iqei_text", DMAR_IQER_REG_IQEI(q.iqer) ? ish_iqei_text(DMAR_IQER_REG_IQEI(q.iqer)) : NULL);
	}
	if (q.have_ics)
		set_bool(L, "iwc", q.ics & VTD_ICS_IWC);
	lua_newtable(L);
	for (uint32_t i = 0, s = q.head; i < q.pending && !q.head_bad && q.nslots; i++) {
		struct ish_qi_desc d;

		err = ish_iq_read_slot(t, &q, s, &d);
		if (err) {
			ish_error_destroy(err);
			break;
		}
		lua_createtable(L, 0, 6);
		set_int(L, "slot", s);
		set_int(L, "type", d.type);
		set_str(L, "name", d.name);
		set_raw(L, "raw", d.qw, d.width == 256 ? 4 : 2);
		set_str(L, "text", ish_qi_describe(&d, buf, sizeof(buf)));
		lua_rawseti(L, -2, i + 1);
		s = (s + 1) % q.nslots;
	}
	lua_setfield(L, -2, "descriptors");
	return 1;
}

/* t:iq([unit]) -> the queue of unit, or an array with every unit's queue */
static int t_iq(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	unsigned n = ish_target_nunits(t);

	if (!lua_isnoneornil(L, 2))
		return push_iq(L, t, check_unit_index(L, t, 2));
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
	struct ish_target *t = check_target(L, 1);
	unsigned first = 0, last = ish_target_nunits(t);
	int n = 0;

	if (!lua_isnoneornil(L, 2)) {
		first = check_unit_index(L, t, 2);
		last = first + 1;
	}
	lua_newtable(L);
	for (unsigned u = first; u < last; u++) {
		struct box *b;
		struct ish_faults *f;
		struct ish_error *err;

		box_new(L, 0, faults_destroy);
		b = lua_touserdata(L, -1);
		err = ish_faults_read(t, u, (struct ish_faults **)&b->p);
		if (err)
			return push_fail(L, err);
		f = b->p;
		for (unsigned i = 0; i < f->nfr && i < 256; i++) {
			const struct ish_fault_record *r = &f->rec[i];

			if (!f->readable[i] || !r->valid)
				continue;
			lua_createtable(L, 0, 14);
			set_str(L, "unit", ish_target_unit(t, u)->name);
			set_int(L, "index", r->index);
			set_int(L, "reason", r->reason);
			set_str(L, "text", r->text);
			set_int(L, "sid", r->sid);
			set_bdf(L, "bdf", r->sid);
			set_str(L, "type", ish_fault_type_name(r->type));
			set_bool(L, "irq", r->irq);
			if (r->irq)
				set_int(L, "irq_index", r->irq_index);
			else
				set_int(L, "addr", r->addr);
			if (r->pasid_present)
				set_int(L, "pasid", r->pasid);
			set_bool(L, "priv", r->priv);
			set_bool(L, "exe", r->exe);
			set_int(L, "at", r->at);
			set_int(L, "lo", r->lo);
			set_int(L, "hi", r->hi);
			lua_rawseti(L, -3, ++n);
		}
		lua_pop(L, 1);	/* the box: freed by the collector */
	}
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
	set_int(c->L, "pasid", pasid);
	push_pasid_entry(c->L, pe);
	lua_setfield(c->L, -2, "entry");
	lua_rawseti(c->L, -2, ++c->n);
	return NULL;
}

static int t_pasids(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	uint16_t bdf = check_bdf(L, 2);
	struct pasids_ctx c = { L, 0 };
	struct ish_unit_state us;
	struct ish_translation *tr;
	struct ish_error *err;
	unsigned unit;

	tr = resolve(L, t, bdf, ISH_PASID_NONE, &unit, &err);
	if (!tr)
		return push_fail(L, err);
	lua_newtable(L);
	if (!tr->have_ce || !tr->scalable)
		return 1;
	err = ish_unit_state_read(t, unit, &us);
	if (!err)
		err = ish_device_pasids(t, &us, &tr->ce, pasids_cb, NULL, &c);
	if (err)
		return push_fail(L, err);
	return 1;
}

/* t:refresh(): forget cached memory, to see a live target change. */
static int t_refresh(lua_State *L)
{
	ish_target_cache_drop(check_target(L, 1));
	return 0;
}

/*
 * t:record(fn) -> pages: runs fn() and returns the sorted addresses of every
 * 4 KiB page the target read meanwhile (the tables a traversal touched).
 */
static int t_record(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	struct ish_error *err;
	struct box *b;
	size_t n = 0;
	int rc;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	err = ish_target_record_start(t);
	if (err)
		return push_fail(L, err);
	lua_pushvalue(L, 2);
	rc = lua_pcall(L, 0, 0, 0);
	box_new(L, 0, free);
	b = lua_touserdata(L, -1);
	err = ish_target_record_stop(t, (uint64_t **)&b->p, &n);
	if (rc != LUA_OK) {
		ish_error_destroy(err);
		lua_pop(L, 1);
		return lua_error(L);
	}
	if (err)
		return push_fail(L, err);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushinteger(L, (lua_Integer)((uint64_t *)b->p)[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
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
	struct ish_target *t = check_target(L, 1);
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
	opt_int(L, 2, "did", &did);
	opt_int(L, 2, "sid", &sid);
	opt_int(L, 2, "addr", &addr);
	opt_int(L, 2, "am", &am);
	opt_int(L, 2, "pasid", &pasid);
	opt_int(L, 2, "fm", &fm);
	opt_int(L, 2, "index", &index);
	opt_int(L, 2, "im", &im);
	opt_int(L, 2, "unit", &unit);
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
	req.ih = opt_flag(L, 2, "ih");
	req.pasid = (uint32_t)pasid;
	req.index = (uint16_t)index;
	req.im = (unsigned)im;
	err = ish_invalidate(t, (unsigned)unit, &req, (enum ish_inval_method)method, &res);
	if (err)
		return push_fail(L, err);
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

/* --- snapshots ---------------------------------------------------------- */

static int t_snapshot(lua_State *L)
{
	struct ish_target *t = check_target(L, 1);
	const char *path = luaL_checkstring(L, 2);
	struct ish_capture_stats st;
	struct ish_error *err = ish_snapshot_capture(t, path, &st);

	if (err)
		return push_fail(L, err);
	lua_createtable(L, 0, 7);
	set_int(L, "units", st.units);
	set_int(L, "registers", st.registers);
	set_int(L, "devices", st.devices);
	set_int(L, "pasids", st.pasids);
	set_int(L, "mappings", st.mappings);
	set_int(L, "findings", st.findings);
	set_int(L, "pages", st.pages);
	return 1;
}

/* --- unit methods that take the unit instead of an index --- */

#define UNIT_FORWARD(name, fn)                                                   \
	static int name(lua_State *L)                                             \
	{                                                                         \
		struct ish_target *t;                                             \
		unsigned u = check_unit(L, 1, &t);                                \
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

	(void)check_unit(L, 1, &t);
	lua_settop(L, 2);
	lua_getiuservalue(L, 1, 1);	/* 3: target */
	lua_insert(L, 1);		/* target, unit, i */
	lua_insert(L, 2);		/* target, i, unit */
	return t_irte(L);
}

UNIT_FORWARD(u_faults, t_faults)
UNIT_FORWARD(u_iq, t_iq)
UNIT_FORWARD(u_irtes, t_irtes)

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
	bool uns = opt_flag(L, 2, "unsigned");
	struct json_writer w;
	struct membuf *m;

	luaL_checkany(L, 1);
	lua_settop(L, 2);
	m = box_new(L, sizeof(*m), membuf_destroy);
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
	uint16_t bdf = check_bdf(L, 1);
	char buf[8];

	lua_pushstring(L, fmt_bdf(bdf, buf));
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
		set_str(L, "name", r[i].name);
		set_int(L, "offset", r[i].offset);
		set_int(L, "width", r[i].width);
		set_str(L, "desc", r[i].desc);
		push_access(L, &r[i]);
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
	{ "units", t_units },
	{ "unit", t_unit },
	{ "dmar", t_dmar },
	{ "devices", t_devices },
	{ "pci", t_pci },
	{ "read_config", t_read_config },
	{ "context", t_context },
	{ "pasid", t_pasid },
	{ "mappings", t_mappings },
	{ "translate", t_translate },
	{ "who_maps", t_who_maps },
	{ "pasids", t_pasids },
	{ "refresh", t_refresh },
	{ "record", t_record },
	{ "irte", t_irte },
	{ "irtes", t_irtes },
	{ "iq", t_iq },
	{ "faults", t_faults },
	{ "invalidate", t_invalidate },
	{ "snapshot", t_snapshot },
	{ "read", t_read },
	{ "read64", t_read64 },
	{ "write", t_write },
	{ "write64", t_write64 },
	{ "write_reg", t_write_reg },
	{ "add_ram", t_add_ram },
	{ "add_unit", t_add_unit },
	{ "set_reg", t_set_reg },
	{ "set_dmar", t_set_dmar },
	{ "add_config", t_add_config },
	{ NULL, NULL },
};

static const luaL_Reg target_metameth[] = {
	{ "__index", NULL },	/* the method table */
	{ "__gc", t_close },
	{ "__close", t_close },
	{ "__tostring", t_tostring },
	{ NULL, NULL },
};

static const luaL_Reg unit_meth[] = {
	{ "reg", u_reg },
	{ "regs", u_regs },
	{ "state", u_state },
	{ "faults", u_faults },
	{ "iq", u_iq },
	{ "irtes", u_irtes },
	{ "irte", t_irte_of_unit },
	{ NULL, NULL },
};

static const luaL_Reg unit_metameth[] = {
	{ "__index", u_index },
	{ "__tostring", u_tostring },
	{ NULL, NULL },
};

static const luaL_Reg walk_metameth[] = {
	{ "__gc", walk_close },
	{ "__close", walk_close },
	{ "__tostring", walk_tostring },
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
	luaL_newlibtable(L, target_meth);
	luaL_setfuncs(L, target_meth, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);

	luaL_newmetatable(L, UNIT_MT);
	luaL_setfuncs(L, unit_metameth, 0);
	luaL_newlibtable(L, unit_meth);
	luaL_setfuncs(L, unit_meth, 0);
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
