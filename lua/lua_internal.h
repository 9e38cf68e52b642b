/* SPDX-License-Identifier: MIT */
/*
 * Between the files of the `iommu` Lua module (lua/): the helpers every
 * part uses, the userdata types, and each part's method table, which
 * lua/core.c puts together into the metatables.
 */
#ifndef IOMMUSH_LUA_INTERNAL_H
#define IOMMUSH_LUA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include <iommush/error.h>
#include <iommush/target.h>
#include <iommush/walk.h>
#include <iommush/write.h>

#include "lua_iommu.h"

#define TARGET_MT "iommu.target"
#define UNIT_MT "iommu.unit"
#define WALK_MT "iommu.mappings"
#define BOX_MT "iommu.box"
#define HOST_KEY "iommu.host"

/*
 * A malloc'd object owned by Lua: freed by __gc, so a raise (out of memory
 * while building a result) between allocation and free cannot leak it.
 */
struct box {
	void *p;
	void (*destroy)(void *p);
};

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

int il_push_fail(lua_State *L, struct ish_error *err);
void il_set_int(lua_State *L, const char *k, uint64_t v);
void il_set_bool(lua_State *L, const char *k, bool v);
void il_set_str(lua_State *L, const char *k, const char *v);
const char *il_fmt_bdf(uint16_t bdf, char buf[static 8]);
void il_set_bdf(lua_State *L, const char *k, uint16_t bdf);
void il_set_raw(lua_State *L, const char *k, const uint64_t *raw, unsigned n);
uint16_t il_check_bdf(lua_State *L, int arg);
uint64_t il_check_u64(lua_State *L, int arg);
uint32_t il_opt_pasid(lua_State *L, int arg);
bool il_opt_flag(lua_State *L, int tab, const char *k);
bool il_opt_int(lua_State *L, int tab, const char *k, lua_Integer *ret);
void *il_box_new(lua_State *L, size_t size, void (*destroy)(void *));
struct ish_target *il_check_target(lua_State *L, int arg);
unsigned il_check_unit_index(lua_State *L, struct ish_target *t, int arg);
struct ish_target *il_check_mem(lua_State *L, int arg);
unsigned il_check_unit(lua_State *L, int arg, struct ish_target **t);
int il_u_index(lua_State *L);
int il_u_tostring(lua_State *L);
void il_push_access(lua_State *L, const struct ish_reg_def *r);
struct ish_translation *il_resolve(lua_State *L, struct ish_target *t, uint16_t bdf,
				       uint32_t pasid, unsigned *unit, struct ish_error **errp);
int il_walk_close(lua_State *L);
int il_walk_tostring(lua_State *L);

/* Each part's methods of targets (TARGET_MT) and units (UNIT_MT). */
extern const luaL_Reg ish_lua_image_target_methods[];
extern const luaL_Reg ish_lua_irq_target_methods[];
extern const luaL_Reg ish_lua_irq_unit_methods[];
extern const luaL_Reg ish_lua_kernel_target_methods[];
extern const luaL_Reg ish_lua_tables_target_methods[];
extern const luaL_Reg ish_lua_units_target_methods[];
extern const luaL_Reg ish_lua_units_unit_methods[];
extern const luaL_Reg ish_lua_walk_target_methods[];

#endif
