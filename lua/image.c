// SPDX-License-Identifier: MIT
/*
 * The `iommu` Lua module: Building images for tests: the mem_* methods of
 * iommu.mem() targets.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lua.h>

#include <iommush/backend.h>
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

/* --- building images (iommu.mem() targets only) --- */

struct ish_target *il_check_mem(lua_State *L, int arg)
{
	struct ltarget *lt = luaL_checkudata(L, arg, TARGET_MT);
	struct ish_target *t = il_check_target(L, arg);

	if (!lt->mem)
		luaL_error(L, "only a target from iommu.mem() can be built");
	return t;
}

static int t_add_ram(lua_State *L)
{
	struct ish_target *t = il_check_mem(L, 1);
	uint64_t addr = il_check_u64(L, 2), size = il_check_u64(L, 3);
	struct ish_error *err;

	luaL_argcheck(L, size > 0 && size <= (1ULL << 32), 3, "size out of range (1..4 GiB)");
	err = ish_mem_add_ram(t, addr, size, NULL);
	if (err)
		return il_push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int t_add_unit(lua_State *L)
{
	struct ish_target *t = il_check_mem(L, 1);
	uint64_t base = il_check_u64(L, 2);
	lua_Integer seg = luaL_optinteger(L, 3, 0);
	unsigned idx;
	struct ish_error *err;

	luaL_argcheck(L, seg >= 0 && seg <= 0xffff, 3, "segment out of range");
	err = ish_mem_add_unit(t, base, (uint16_t)seg, &idx);
	if (err)
		return il_push_fail(L, err);
	lua_pushinteger(L, idx);
	return 1;
}

/* t:set_reg(unit, NAME|offset, value [, width]) */
static int t_set_reg(lua_State *L)
{
	struct ish_target *t = il_check_mem(L, 1);
	unsigned unit = il_check_unit_index(L, t, 2);
	uint64_t value = il_check_u64(L, 4);
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
		return il_push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int t_set_dmar(lua_State *L)
{
	struct ish_target *t = il_check_mem(L, 1);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	struct ish_error *err = ish_target_set_dmar(t, s, len);

	if (err)
		return il_push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}


const luaL_Reg ish_lua_image_target_methods[] = {
	{ "add_ram", t_add_ram },
	{ "add_unit", t_add_unit },
	{ "set_reg", t_set_reg },
	{ "set_dmar", t_set_dmar },
	{ NULL, NULL },
};
