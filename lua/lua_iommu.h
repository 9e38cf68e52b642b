/* SPDX-License-Identifier: MIT */
/*
 * The Lua binding of libiommush: the `iommu` module. The same code is the
 * module plain lua5.4 loads (`require "iommu"`, scripts/meson.build builds
 * iommu.so) and the one embedded in the shell (shell/cmd_lua.c). The API is
 * documented in man/iommush-lua.7.in.
 *
 * Conventions (Lua's own liolib.c): targets, units and mapping walks are
 * userdata with __gc, __close and __tostring; bad arguments raise; failures
 * of the target (unreadable memory, a backend error, a read-only target)
 * return nil, message, code, where code is ish_error_code_name().
 */
#ifndef IOMMUSH_LUA_IOMMU_H
#define IOMMUSH_LUA_IOMMU_H

#include <lua.h>

#include <iommush/target.h>
#include <iommush/write.h>

struct ish_command;

/* Opens the module: leaves the `iommu` table on the stack. */
int luaopen_iommu(lua_State *L);

/*
 * The embedding program's current target, for iommu.target(): called each
 * time a target method runs on the object iommu.target() returned, so that
 * object always follows the shell's `open`/`close`. NULL means none is open.
 */
typedef struct ish_target *ish_lua_target_fn(void *arg);
void ish_lua_set_target_fn(lua_State *L, ish_lua_target_fn *fn, void *arg);

/*
 * The confirmation callback installed on targets iommu.open() opens
 * (iommush/write.h), so a script's writes to a live host are asked about as
 * the shell's own are. Call after ish_lua_set_target_fn(). Without it such
 * writes need iommu.open(spec, {yes = true}).
 */
void ish_lua_set_confirm(lua_State *L, ish_confirm_fn *fn, void *arg);

/*
 * Commands registered by Lua plugins (iommu.command{...}), for the shell's
 * dispatcher: a table that ends with { NULL }, or NULL when there are none.
 * It moves when a command is added, so callers must not keep the pointer
 * across commands. Defined in shell/cmd_lua.c; the first call loads the
 * plugin files (see ish_lua_plugin_dirs below). A shell built without
 * Lua has shell/nolua.c's, which returns NULL.
 */
const struct ish_command *ish_lua_commands(void);

/*
 * The directories plugins are loaded from, in order, separated by ':':
 * $IOMMUSH_PLUGIN_PATH if set (empty: no plugins), else
 * $XDG_CONFIG_HOME/iommush/plugins (or ~/.config/iommush/plugins), then
 * DATADIR/iommush/plugins. Every *.lua file in each is run, in name order.
 */

#endif
