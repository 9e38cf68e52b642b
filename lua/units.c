// SPDX-License-Identifier: MIT
/*
 * The `iommu` Lua module: Units, their registers and state, and the DMAR
 * table.
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
unsigned il_check_unit(lua_State *L, int arg, struct ish_target **t)
{
	unsigned *u = luaL_checkudata(L, arg, UNIT_MT);

	lua_getiuservalue(L, arg, 1);
	*t = il_check_target(L, lua_gettop(L));
	if (*u >= ish_target_nunits(*t))
		luaL_error(L, "the unit no longer exists (the target changed)");
	return *u;
}

static int t_units(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
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
	struct ish_target *t = il_check_target(L, 1);

	push_unit(L, 1, il_check_unit_index(L, t, 2));
	return 1;
}

int il_u_index(lua_State *L)
{
	struct ish_target *t;
	unsigned i = il_check_unit(L, 1, &t);
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
		lua_pushboolean(L, u->arch_flags & ISH_DRHD_INCLUDE_PCI_ALL);
	else {
		/* methods */
		luaL_getmetatable(L, UNIT_MT);
		lua_getfield(L, -1, "methods");
		lua_getfield(L, -1, k);
	}
	return 1;
}

int il_u_tostring(lua_State *L)
{
	struct ish_target *t;
	unsigned i = il_check_unit(L, 1, &t);
	const struct ish_unit *u = ish_target_unit(t, i);

	char buf[64];

	snprintf(buf, sizeof(buf), "iommu.unit (%s at %#" PRIx64 ")", u->name, u->reg_base);
	lua_pushstring(L, buf);
	return 1;
}

/* access = "RW1C" and field_access = {F = "RO", ...} into the table on top. */
void il_push_access(lua_State *L, const struct ish_reg_def *r)
{
	il_set_str(L, "access", ish_access_name(r->access));
	lua_createtable(L, 0, (int)r->nfields);
	for (size_t i = 0; i < r->nfields; i++)
		il_set_str(L, r->fields[i].name, ish_access_name(ish_field_access(r, &r->fields[i])));
	lua_setfield(L, -2, "field_access");
}

static void push_reg_value(lua_State *L, const struct ish_reg_def *r, const char *name,
			   uint32_t offset, uint64_t v)
{
	char buf[64];

	lua_createtable(L, 0, 8);
	il_set_str(L, "name", name);
	il_set_int(L, "value", v);
	il_set_int(L, "offset", offset);
	il_set_int(L, "width", r->width);
	il_set_str(L, "desc", r->desc);
	il_set_str(L, "spec", r->spec);
	il_push_access(L, r);
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
			il_set_str(L, r->fields[i].name, m);
	}
	lua_setfield(L, -2, "meanings");
}

/* u:reg(NAME) -> {name, value, offset, width, access, field_access = {F = "RO"}, fields = {F = v}, meanings} */
static int u_reg(lua_State *L)
{
	struct ish_target *t;
	unsigned unit = il_check_unit(L, 1, &t);
	unsigned index;
	const struct ish_reg_def *r = ish_reg_parse(luaL_checkstring(L, 2), &index);
	uint64_t cap = 0, ecap = 0, v;
	uint32_t off = 0;
	struct ish_error *err;
	char name[32];

	luaL_argcheck(L, r != NULL, 2, "unknown register");
	err = ish_unit_reg_read(t, unit, r, index, &v);
	if (err)
		return il_push_fail(L, err);
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
	il_set_bool(c->L, "present", v->present);
	lua_rawseti(c->L, -2, ++c->n);
	return NULL;
}

/* u:regs([all]) -> every readable register, in table order */
static int u_regs(lua_State *L)
{
	struct ish_target *t;
	unsigned unit = il_check_unit(L, 1, &t);
	struct regs_ctx c = { L, 0 };
	struct ish_error *err;

	lua_newtable(L);
	err = ish_unit_regs(t, unit, lua_toboolean(L, 2) ? ISH_REGS_ALL : 0, regs_cb, &c);
	if (err)
		return il_push_fail(L, err);
	return 1;
}

static const char *const ttm_names[] = { "legacy", "scalable", "reserved", "abort-dma" };

static int u_state(lua_State *L)
{
	struct ish_target *t;
	unsigned unit = il_check_unit(L, 1, &t);
	struct ish_unit_state us;
	struct ish_error *err = ish_unit_state_read(t, unit, &us);

	if (err)
		return il_push_fail(L, err);
	lua_createtable(L, 0, 10);
	il_set_int(L, "cap", us.cap);
	il_set_int(L, "ecap", us.ecap);
	il_set_int(L, "gsts", us.gsts);
	il_set_int(L, "rtaddr", us.rtaddr);
	il_set_str(L, "mode", ttm_names[us.ttm & 3]);
	il_set_bool(L, "scalable", us.scalable);
	il_set_bool(L, "translation_enabled", us.te);
	il_set_int(L, "root_table", us.rta);
	il_set_int(L, "mgaw", us.mgaw);
	return 1;
}

/* --- the DMAR table --------------------------------------------------- */

static void dmar_destroy(void *p)
{
	ish_dmar_destroy(p);
}

static int t_dmar(lua_State *L)
{
	struct ish_target *t = il_check_target(L, 1);
	size_t len;
	const void *buf = ish_target_dmar(t, &len);
	struct ish_dmar **slot, *d;
	struct ish_error *err;

	if (!buf)
		return il_push_fail(L, ish_error_create(ISH_ERROR_NOT_FOUND,
						     "the target has no DMAR table"));
	il_box_new(L, 0, dmar_destroy);
	slot = (struct ish_dmar **)&((struct box *)lua_touserdata(L, -1))->p;
	err = ish_dmar_parse(buf, len, slot);
	if (err)
		return il_push_fail(L, err);
	d = *slot;
	lua_createtable(L, 0, 12);
	il_set_str(L, "signature", d->signature);
	il_set_int(L, "length", d->length);
	il_set_int(L, "revision", d->revision);
	il_set_bool(L, "checksum_ok", d->checksum_ok);
	il_set_str(L, "oem_id", d->oem_id);
	il_set_str(L, "oem_table_id", d->oem_table_id);
	il_set_int(L, "oem_revision", d->oem_revision);
	il_set_str(L, "creator_id", d->creator_id);
	il_set_int(L, "creator_revision", d->creator_revision);
	il_set_int(L, "haw", d->haw + 1u);
	il_set_int(L, "flags", d->flags);
	il_set_bool(L, "intr_remap", d->flags & ISH_DMAR_INTR_REMAP);
	il_set_bool(L, "x2apic_opt_out", d->flags & ISH_DMAR_X2APIC_OPT_OUT);
	lua_createtable(L, (int)d->nstructs, 0);
	for (size_t i = 0; i < d->nstructs; i++) {
		const struct ish_dmar_struct *s = &d->structs[i];
		const char *tn = ish_dmar_type_name(s->type);

		lua_createtable(L, 0, 10);
		il_set_int(L, "offset", s->offset);
		il_set_str(L, "type", tn ? tn : "reserved");
		il_set_int(L, "type_code", s->type);
		il_set_int(L, "length", s->length);
		il_set_int(L, "flags", s->flags);
		il_set_int(L, "segment", s->segment);
		switch (s->type) {
		case ISH_DMAR_TYPE_DRHD:
			il_set_int(L, "base", s->base);
			il_set_int(L, "size", s->size);
			il_set_bool(L, "include_pci_all", s->flags & ISH_DRHD_INCLUDE_PCI_ALL);
			break;
		case ISH_DMAR_TYPE_RMRR:
			il_set_int(L, "base", s->base);
			il_set_int(L, "limit", s->limit);
			break;
		case ISH_DMAR_TYPE_ATSR:
			il_set_bool(L, "all_ports", s->flags & ISH_ATSR_ALL_PORTS);
			break;
		case ISH_DMAR_TYPE_RHSA:
			il_set_int(L, "base", s->base);
			il_set_int(L, "proximity", s->proximity);
			break;
		case ISH_DMAR_TYPE_ANDD:
			il_set_int(L, "device_number", s->device_number);
			il_set_str(L, "object_name", s->object_name);
			break;
		default:
			break;
		}
		lua_createtable(L, (int)s->nscopes, 0);
		for (size_t j = 0; j < s->nscopes; j++) {
			const struct ish_dmar_scope *sc = &s->scopes[j];
			const char *sn = ish_dmar_scope_type_name(sc->type);

			lua_createtable(L, 0, 7);
			il_set_str(L, "type", sn ? sn : "reserved");
			il_set_int(L, "type_code", sc->type);
			il_set_int(L, "enum_id", sc->enum_id);
			il_set_int(L, "bus", sc->bus);
			lua_createtable(L, (int)sc->npath, 0);
			for (size_t k = 0; k < sc->npath; k++) {
				lua_createtable(L, 0, 2);
				il_set_int(L, "dev", sc->path[k].dev);
				il_set_int(L, "fn", sc->path[k].fn);
				lua_rawseti(L, -2, (lua_Integer)k + 1);
			}
			lua_setfield(L, -2, "path");
			/* A one-hop path names the device directly. */
			if (sc->npath == 1)
				il_set_bdf(L, "bdf", ISH_BDF(sc->bus, sc->path[0].dev & 0x1f, sc->path[0].fn & 7));
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_setfield(L, -2, "scopes");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "structs");
	lua_createtable(L, (int)d->nfindings, 0);
	for (size_t i = 0; i < d->nfindings; i++) {
		lua_createtable(L, 0, 2);
		il_set_int(L, "offset", d->findings[i].offset);
		il_set_str(L, "message", d->findings[i].message);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "findings");
	return 1;
}


const luaL_Reg ish_lua_units_target_methods[] = {
	{ "units", t_units },
	{ "unit", t_unit },
	{ "dmar", t_dmar },
	{ NULL, NULL },
};

const luaL_Reg ish_lua_units_unit_methods[] = {
	{ "reg", u_reg },
	{ "regs", u_regs },
	{ "state", u_state },
	{ NULL, NULL },
};
