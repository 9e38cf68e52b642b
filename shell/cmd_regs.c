// SPDX-License-Identifier: MIT
/* Registers and the ACPI DMAR table: regs, dmar. Both are printers over lib/regs.c and lib/vtd/dmar.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/dmar.h>
#include <iommush/pci.h>
#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>

#include "shell.h"

#define WRAP_COLUMN 100

/* --- regs --- */

struct regs_ctx {
	struct ish_shell *sh;
	/* Names asked for (NULL: all); which of them were seen. */
	char **names;
	int nnames;
	bool *matched;
	unsigned shown;
	bool verbose;	/* -v: each register's access (RO, RW, RW1C, WO, reserved bits) */
	unsigned unit;		/* the unit being listed */
};

/* Was v asked for? A name matches an instance ("FRCD0_HI") or its template ("FRCD_HI"). */
static bool regs_wanted(struct regs_ctx *c, const struct ish_reg_value *v)
{
	bool any = false;

	if (!c->names)
		return true;
	for (int i = 0; i < c->nnames; i++) {
		unsigned idx;
		const struct ish_reg_def *r = ish_reg_parse(c->names[i], &idx);
		bool instance = r && r->loc == ISH_REG_FRCD && strpbrk(c->names[i], "0123456789");

		if (r == v->def && (!instance || idx == v->index)) {
			c->matched[i] = true;
			any = true;
		}
	}
	return any;
}

/* "NAME+", "NAME-" or "NAME=value(meaning)" into buf. */
static void field_text(const struct ish_field_def *f, uint64_t v, char *buf, size_t len)
{
	char m[96];
	const char *meaning;

	if (f->fmt == ISH_FMT_FLAG) {
		snprintf(buf, len, "%s%c", f->name, v ? '+' : '-');
		return;
	}
	meaning = ish_field_meaning(f, v, m, sizeof(m));
	if (f->fmt == ISH_FMT_DEC || f->fmt == ISH_FMT_PLUS1 || f->fmt == ISH_FMT_POW2 ||
	    f->fmt == ISH_FMT_POW2_PLUS1 || f->fmt == ISH_FMT_ENUM)
		snprintf(buf, len, "%s=%" PRIu64, f->name, v);
	else
		snprintf(buf, len, "%s=0x%" PRIx64, f->name, v);
	if (meaning) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "(%s)", meaning);
	}
}

/*
 * "access RW1C: PRO ITE ...; RO: FRI PPF; reserved (RsvdZ) 0xffff0000": the
 * register table's access model (VT-d 11.1), the one the write gate uses.
 */
static void access_text(struct ish_shell *sh, const struct ish_reg_def *r)
{
	static const enum ish_access kinds[] = { ISH_ACCESS_RW, ISH_ACCESS_RW1C, ISH_ACCESS_WO,
						 ISH_ACCESS_RO };
	bool mixed = false;
	uint64_t rsvd = ish_reg_access_mask(r, ISH_ACCESS_RSVDZ);

	for (size_t i = 0; i < r->nfields; i++)
		if (ish_field_access(r, &r->fields[i]) != r->access)
			mixed = true;
	sh_printf(sh, "\taccess %s", ish_access_name(r->access));
	if (mixed) {
		/* The register's own kind first, then the others. */
		enum ish_access order[5];
		size_t n = 0;

		order[n++] = r->access;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (kinds[k] != r->access)
				order[n++] = kinds[k];
		for (size_t k = 0; k < n; k++) {
			bool any = false;

			for (size_t i = 0; i < r->nfields; i++) {
				if (ish_field_access(r, &r->fields[i]) != order[k])
					continue;
				if (!any && k)
					sh_printf(sh, "; %s", ish_access_name(order[k]));
				sh_printf(sh, "%s%s", any ? " " : ": ", r->fields[i].name);
				any = true;
			}
		}
	}
	if (r->access != ISH_ACCESS_RO && rsvd)
		sh_printf(sh, "; reserved (RsvdZ) %#" PRIx64, rsvd);
	sh_printf(sh, "\n");
}

static void regs_text(struct ish_shell *sh, const struct ish_reg_value *v, bool verbose,
		      bool kernel)
{
	const struct ish_reg_def *r = v->def;
	unsigned col;

	sh_printf(sh, "%-18s @0x%03x ", v->name, v->offset);
	if (v->err) {
		sh_printf(sh, "%-18s %s%s\n", "unreadable", v->err->message,
			  v->present ? "" : " (not implemented per CAP/ECAP)");
		return;
	}
	if (r->width == 32)
		sh_printf(sh, "0x%08" PRIx64 "         ", v->value);
	else
		sh_printf(sh, "0x%016" PRIx64 " ", v->value);
	sh_printf(sh, "%s%s%s\n", r->desc, v->present ? "" : " (not implemented per CAP/ECAP)",
		  kernel ? " [kernel's copy]" : "");
	if (verbose)
		access_text(sh, r);
	if (!r->nfields)
		return;
	sh_printf(sh, "\t");
	col = 8;
	for (size_t i = 0; i < r->nfields; i++) {
		char buf[160];
		size_t n;

		field_text(&r->fields[i], ish_field_get(&r->fields[i], v->value), buf, sizeof(buf));
		n = strlen(buf);
		if (i && col + 1 + n > WRAP_COLUMN) {
			sh_printf(sh, "\n\t");
			col = 8;
		} else if (i) {
			sh_printf(sh, " ");
			col++;
		}
		sh_printf(sh, "%s", buf);
		col += (unsigned)n;
	}
	sh_printf(sh, "\n");
}

static void regs_json(struct ish_shell *sh, const struct ish_reg_value *v, bool kernel)
{
	struct json_writer *w = &sh->json;
	const struct ish_reg_def *r = v->def;
	bool any;

	json_begin_object(w);
	json_kv_str(w, "name", v->name);
	json_kv_u64(w, "offset", v->offset);
	json_kv_u64(w, "width", r->width);
	json_kv_str(w, "access", ish_access_name(r->access));
	/* Only the fields whose access is not the register's (FSTS: FRI and PPF are RO). */
	any = false;
	for (size_t i = 0; i < r->nfields; i++) {
		if (ish_field_access(r, &r->fields[i]) == r->access)
			continue;
		if (!any) {
			json_key(w, "field_access");
			json_begin_object(w);
		}
		any = true;
		json_kv_str(w, r->fields[i].name, ish_access_name(ish_field_access(r, &r->fields[i])));
	}
	if (any)
		json_end_object(w);
	if (!v->present)
		json_kv_bool(w, "present", false);
	if (v->err) {
		json_kv_str(w, "error", v->err->message);
	} else {
		json_kv_u64(w, "value", v->value);
		json_kv_str(w, "source", kernel ? "kernel" : "hardware");
		json_key(w, "fields");
		json_begin_object(w);
		for (size_t i = 0; i < r->nfields; i++)
			json_kv_u64(w, r->fields[i].name, ish_field_get(&r->fields[i], v->value));
		json_end_object(w);
	}
	json_end_object(w);
}

static struct ish_error *regs_one(void *arg, const struct ish_reg_value *v)
{
	struct regs_ctx *c = arg;
	bool kernel;

	if (!regs_wanted(c, v))
		return NULL;
	kernel = !v->err && !strcmp(ish_target_reg_source(c->sh->target, c->unit, v->offset),
				    "kernel");
	if (sh_json(c->sh))
		regs_json(c->sh, v, kernel);
	else
		regs_text(c->sh, v, c->verbose, kernel);
	c->shown++;
	return ish_target_check_interrupt(c->sh->target);
}

static const struct ish_command *regs_cmd(void)
{
	return ish_command_find("regs", &(bool){ false });
}

static int regs_unit(struct ish_shell *sh, struct ish_target *t, unsigned unit, unsigned flags,
		     struct regs_ctx *c)
{
	const struct ish_unit *u = ish_target_unit(t, unit);
	struct ish_error *err;

	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "unit", u->name);
		json_kv_u64(&sh->json, "segment", u->segment);
		json_kv_u64(&sh->json, "base", u->reg_base);
		json_key(&sh->json, "registers");
		json_begin_array(&sh->json);
	} else {
		sh_printf(sh, "%s: segment %04x, registers at %#" PRIx64 "\n", u->name, u->segment,
			  u->reg_base);
	}
	c->unit = unit;
	err = ish_unit_regs(t, unit, flags, regs_one, c);
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_object(&sh->json);
	}
	if (err) {
		if (sh_json(sh))
			json_end_line(&sh->json);
		return sh_report(sh, err);
	}
	return 0;
}

static int cmd_regs(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = { { "--all", false, NULL }, { "--verbose", false, NULL } };
	struct ish_target *t = sh_target(sh);
	struct regs_ctx c = { .sh = sh };
	const struct ish_unit *unit = NULL;
	unsigned flags = 0;
	int first = 1, status = 0;

	if (!t)
		return 1;
	/* -v, the one short option (sh_getopt takes long ones): taken out first. */
	for (int i = 1, o = 1; i <= argc; i++) {
		if (i < argc && !strcmp(argv[i], "-v"))
			c.verbose = true;
		else
			argv[o++] = argv[i];
		if (i == argc)
			argc = o - 1;
	}
	if (!sh_getopt(sh, regs_cmd(), &argc, argv, opts, 2))
		return 2;
	if (opts[0].value)
		flags |= ISH_REGS_ALL;
	if (opts[1].value)
		c.verbose = true;
	/* The first argument is a unit unless it names a register. */
	if (argc > 1 && !ish_reg_find(argv[1])) {
		unit = ish_target_unit_by_name(t, argv[1]);
		if (!unit)
			return sh_error(sh, "'%s' is neither a unit nor a register (see 'units')",
					argv[1]);
		first = 2;
	}
	if (!ish_target_nunits(t))
		return sh_error(sh, "the target has no DMA remapping units");
	if (argc > first) {
		c.names = argv + first;
		c.nnames = argc - first;
		for (int i = 0; i < c.nnames; i++)
			if (!ish_reg_find(c.names[i]))
				return sh_error(sh, "no register named '%s' (see 'help regs')",
						c.names[i]);
		c.matched = calloc((size_t)c.nnames, sizeof(*c.matched));
		if (!c.matched)
			return sh_report(sh, &ish_enomem);
		/* A register asked for by name is shown even if CAP/ECAP deny it. */
		flags |= ISH_REGS_ALL;
	}
	if (unit) {
		status = regs_unit(sh, t, unit->index, flags, &c);
	} else {
		if (sh_json(sh))
			json_begin_array(&sh->json);
		for (unsigned i = 0; i < ish_target_nunits(t) && !status; i++) {
			if (i && !sh_json(sh))
				sh_printf(sh, "\n");
			status = regs_unit(sh, t, i, flags, &c);
		}
		if (sh_json(sh) && !status)
			json_end_array(&sh->json);
	}
	if (sh_json(sh) && !status)
		json_end_line(&sh->json);
	for (int i = 0; i < c.nnames && !status; i++)
		if (!c.matched[i])
			status = sh_error(sh, "%s: no such register on this unit (CAP.NFR limits FRCDn)",
					  c.names[i]);
	free(c.matched);
	return status;
}

/* --- dmar --- */

static void path_text(struct ish_shell *sh, const struct ish_dmar_scope *sc)
{
	sh_printf(sh, "bus %02x path ", sc->bus);
	if (!sc->npath)
		sh_printf(sh, "(none)");
	for (size_t i = 0; i < sc->npath; i++)
		sh_printf(sh, "%s%02x.%x", i ? "," : "", sc->path[i].dev, sc->path[i].fn);
}

/*
 * A PCI scope of the target's own table, followed through config space
 * (lib/pci.c); false when there is nothing to resolve against.
 */
static bool resolve(struct ish_target *t, const struct ish_dmar_struct *s,
		    const struct ish_dmar_scope *sc, struct ish_scope_bdf *r)
{
	struct ish_error *err;

	if (!t || (sc->type != ISH_DMAR_SCOPE_PCI_ENDPOINT && sc->type != ISH_DMAR_SCOPE_PCI_BRIDGE))
		return false;
	err = ish_dmar_scope_resolve(t, s->segment, sc, r);
	if (err) {
		snprintf(r->why, sizeof(r->why), "%s", err->message);
		r->resolved = false;
		ish_error_destroy(err);
	}
	return true;
}

static void scopes_text(struct ish_shell *sh, struct ish_target *t, const struct ish_dmar_struct *s)
{
	for (size_t i = 0; i < s->nscopes; i++) {
		const struct ish_dmar_scope *sc = &s->scopes[i];
		const char *name = ish_dmar_scope_type_name(sc->type);
		struct ish_scope_bdf r;
		bool have = resolve(t, s, sc, &r);
		char b[8];

		sh_printf(sh, "        [0x%03x] ", sc->offset);
		if (name)
			sh_printf(sh, "%-22s", name);
		else
			sh_printf(sh, "reserved type %-8u", sc->type);
		switch (sc->type) {
		case ISH_DMAR_SCOPE_PCI_ENDPOINT:
		case ISH_DMAR_SCOPE_PCI_BRIDGE:
			if (have && r.resolved)
				sh_printf(sh, "%s  ", fmt_bdf(r.bdf, b));
			else if (!have && sc->npath == 1 && sc->path[0].dev < 32 && sc->path[0].fn < 8)
				sh_printf(sh, "%s  ",
					  fmt_bdf(ISH_BDF(sc->bus, sc->path[0].dev, sc->path[0].fn), b));
			else
				sh_printf(sh, "          ");
			break;
		case ISH_DMAR_SCOPE_IOAPIC:
			sh_printf(sh, "id %-3u    ", sc->enum_id);
			break;
		case ISH_DMAR_SCOPE_HPET:
			sh_printf(sh, "number %-3u", sc->enum_id);
			break;
		case ISH_DMAR_SCOPE_NAMESPACE:
			sh_printf(sh, "device %-3u", sc->enum_id);
			break;
		default:
			sh_printf(sh, "enum %-3u  ", sc->enum_id);
			break;
		}
		path_text(sh, sc);
		if (sc->flags)
			sh_printf(sh, " flags %#x", sc->flags);
		if (have && r.has_range)
			sh_printf(sh, " buses %02x-%02x", r.secondary, r.subordinate);
		else if (have && r.why[0])
			sh_printf(sh, " (%s: %s)", r.resolved ? "no bus range" : "unresolved", r.why);
		sh_printf(sh, "\n");
	}
}

static void size_text(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	unsigned u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
		return;
	}
	bytes /= 1024;
	while (bytes >= 1024 && !(bytes % 1024) && u < 5) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", bytes, units[u]);
}

static void struct_text(struct ish_shell *sh, struct ish_target *t, const struct ish_dmar_struct *s)
{
	const char *name = ish_dmar_type_name(s->type);
	char b[32];

	if (name)
		sh_printf(sh, "[0x%03x] %s  %s, %u bytes\n", s->offset, name,
			  ish_dmar_type_desc(s->type), s->length);
	else
		sh_printf(sh, "[0x%03x] type %u  reserved, %u bytes\n", s->offset, s->type,
			  s->length);
	sh_printf(sh, "        ");
	switch (s->type) {
	case ISH_DMAR_TYPE_DRHD:
		sh_printf(sh, "segment %04x register base %#" PRIx64 " size %u page%s ", s->segment,
			  s->base, 1u << (s->size & 0xf), (s->size & 0xf) ? "s" : "");
		sh_flag(sh, "INCLUDE_PCI_ALL", s->flags & ISH_DRHD_INCLUDE_PCI_ALL);
		sh_printf(sh, " ");
		sh_flag(sh, "ATC_REQUIRED", s->flags & ISH_DRHD_ATC_REQUIRED);
		break;
	case ISH_DMAR_TYPE_RMRR:
		size_text(b, sizeof(b), s->limit >= s->base ? s->limit - s->base + 1 : 0);
		sh_printf(sh, "segment %04x %#" PRIx64 "-%#" PRIx64 " (%s)", s->segment, s->base,
			  s->limit, s->limit >= s->base ? b : "empty");
		break;
	case ISH_DMAR_TYPE_ATSR:
		sh_printf(sh, "segment %04x ", s->segment);
		sh_flag(sh, "ALL_PORTS", s->flags & ISH_ATSR_ALL_PORTS);
		break;
	case ISH_DMAR_TYPE_RHSA:
		sh_printf(sh, "register base %#" PRIx64 " proximity domain %u", s->base, s->proximity);
		break;
	case ISH_DMAR_TYPE_ANDD:
		sh_printf(sh, "device %u \"%s\"", s->device_number, s->object_name);
		break;
	case ISH_DMAR_TYPE_SATC:
		sh_printf(sh, "segment %04x ", s->segment);
		sh_flag(sh, "ATC_REQUIRED", s->flags & ISH_SATC_ATC_REQUIRED);
		break;
	case ISH_DMAR_TYPE_SIDP:
		sh_printf(sh, "segment %04x", s->segment);
		break;
	default:
		sh_printf(sh, "raw:");
		for (size_t i = 0; i < s->raw_len && i < 64; i++)
			sh_printf(sh, " %02x", s->raw[i]);
		if (s->raw_len > 64)
			sh_printf(sh, " ...");
		break;
	}
	sh_printf(sh, "\n");
	scopes_text(sh, t, s);
}

static void dmar_text(struct ish_shell *sh, struct ish_target *t, const struct ish_dmar *d)
{
	sh_printf(sh, "DMAR: %u bytes, revision %u, checksum %#04x (%s)\n", d->length, d->revision,
		  d->checksum, d->checksum_ok ? "ok" : "WRONG");
	sh_printf(sh, "        OEM \"%s\" \"%s\" revision %#x, creator \"%s\" revision %#x\n",
		  d->oem_id, d->oem_table_id, d->oem_revision, d->creator_id,
		  d->creator_revision);
	sh_printf(sh, "        host address width %u, flags %#x: ", d->haw + 1u, d->flags);
	sh_flag(sh, "INTR_REMAP", d->flags & ISH_DMAR_INTR_REMAP);
	sh_printf(sh, " ");
	sh_flag(sh, "X2APIC_OPT_OUT", d->flags & ISH_DMAR_X2APIC_OPT_OUT);
	sh_printf(sh, " ");
	sh_flag(sh, "DMA_CTRL_PLATFORM_OPT_IN", d->flags & ISH_DMAR_DMA_CTRL_PLATFORM_OPT_IN);
	sh_printf(sh, "\n");
	for (size_t i = 0; i < d->nstructs; i++)
		struct_text(sh, t, &d->structs[i]);
	for (size_t i = 0; i < d->nfindings; i++)
		sh_printf(sh, "finding [0x%03x]: %s\n", d->findings[i].offset, d->findings[i].message);
}

static void scope_json(struct json_writer *w, struct ish_target *t,
		       const struct ish_dmar_struct *s, const struct ish_dmar_scope *sc)
{
	const char *name = ish_dmar_scope_type_name(sc->type);
	struct ish_scope_bdf r;
	char b[8];

	json_begin_object(w);
	json_kv_u64(w, "offset", sc->offset);
	json_kv_u64(w, "type", sc->type);
	json_kv_str(w, "type_name", name ? name : "reserved");
	json_kv_u64(w, "length", sc->length);
	json_kv_u64(w, "flags", sc->flags);
	json_kv_u64(w, "enumeration_id", sc->enum_id);
	json_kv_u64(w, "bus", sc->bus);
	json_key(w, "path");
	json_begin_array(w);
	for (size_t i = 0; i < sc->npath; i++) {
		json_begin_array(w);
		json_u64(w, sc->path[i].dev);
		json_u64(w, sc->path[i].fn);
		json_end_array(w);
	}
	json_end_array(w);
	if (resolve(t, s, sc, &r)) {
		json_key(w, "resolved");
		if (r.resolved) {
			json_begin_object(w);
			json_kv_str(w, "bdf", fmt_bdf(r.bdf, b));
			if (r.has_range) {
				json_kv_u64(w, "secondary", r.secondary);
				json_kv_u64(w, "subordinate", r.subordinate);
			}
			json_end_object(w);
		} else {
			json_null(w);
		}
		if (r.why[0])
			json_kv_str(w, "why", r.why);
	}
	json_end_object(w);
}

static void struct_json(struct json_writer *w, struct ish_target *t, const struct ish_dmar_struct *s)
{
	const char *name = ish_dmar_type_name(s->type);

	json_begin_object(w);
	json_kv_u64(w, "offset", s->offset);
	json_kv_u64(w, "type", s->type);
	json_kv_str(w, "type_name", name ? name : "reserved");
	json_kv_u64(w, "length", s->length);
	switch (s->type) {
	case ISH_DMAR_TYPE_DRHD:
		json_kv_u64(w, "flags", s->flags);
		json_kv_bool(w, "include_pci_all", s->flags & ISH_DRHD_INCLUDE_PCI_ALL);
		json_kv_bool(w, "atc_required", s->flags & ISH_DRHD_ATC_REQUIRED);
		json_kv_u64(w, "size", s->size);
		json_kv_u64(w, "segment", s->segment);
		json_kv_u64(w, "base", s->base);
		break;
	case ISH_DMAR_TYPE_RMRR:
		json_kv_u64(w, "segment", s->segment);
		json_kv_u64(w, "base", s->base);
		json_kv_u64(w, "limit", s->limit);
		break;
	case ISH_DMAR_TYPE_ATSR:
		json_kv_u64(w, "flags", s->flags);
		json_kv_bool(w, "all_ports", s->flags & ISH_ATSR_ALL_PORTS);
		json_kv_u64(w, "segment", s->segment);
		break;
	case ISH_DMAR_TYPE_RHSA:
		json_kv_u64(w, "base", s->base);
		json_kv_u64(w, "proximity_domain", s->proximity);
		break;
	case ISH_DMAR_TYPE_ANDD:
		json_kv_u64(w, "device_number", s->device_number);
		json_kv_str(w, "object_name", s->object_name);
		break;
	case ISH_DMAR_TYPE_SATC:
		json_kv_u64(w, "flags", s->flags);
		json_kv_bool(w, "atc_required", s->flags & ISH_SATC_ATC_REQUIRED);
		json_kv_u64(w, "segment", s->segment);
		break;
	case ISH_DMAR_TYPE_SIDP:
		json_kv_u64(w, "segment", s->segment);
		break;
	default:
		json_key(w, "raw");
		json_begin_array(w);
		for (size_t i = 0; i < s->raw_len; i++)
			json_u64(w, s->raw[i]);
		json_end_array(w);
		break;
	}
	if (s->nscopes || s->type == ISH_DMAR_TYPE_DRHD || s->type == ISH_DMAR_TYPE_RMRR ||
	    s->type == ISH_DMAR_TYPE_ATSR || s->type == ISH_DMAR_TYPE_SATC ||
	    s->type == ISH_DMAR_TYPE_SIDP) {
		json_key(w, "scopes");
		json_begin_array(w);
		for (size_t i = 0; i < s->nscopes; i++)
			scope_json(w, t, s, &s->scopes[i]);
		json_end_array(w);
	}
	json_end_object(w);
}

static void dmar_json(struct ish_shell *sh, struct ish_target *t, const struct ish_dmar *d)
{
	struct json_writer *w = &sh->json;

	json_begin_object(w);
	json_kv_u64(w, "length", d->length);
	json_kv_u64(w, "revision", d->revision);
	json_kv_u64(w, "checksum", d->checksum);
	json_kv_bool(w, "checksum_ok", d->checksum_ok);
	json_kv_str(w, "oem_id", d->oem_id);
	json_kv_str(w, "oem_table_id", d->oem_table_id);
	json_kv_u64(w, "oem_revision", d->oem_revision);
	json_kv_str(w, "creator_id", d->creator_id);
	json_kv_u64(w, "creator_revision", d->creator_revision);
	json_kv_u64(w, "host_address_width", d->haw + 1u);
	json_kv_u64(w, "flags", d->flags);
	json_kv_bool(w, "intr_remap", d->flags & ISH_DMAR_INTR_REMAP);
	json_kv_bool(w, "x2apic_opt_out", d->flags & ISH_DMAR_X2APIC_OPT_OUT);
	json_kv_bool(w, "dma_ctrl_platform_opt_in", d->flags & ISH_DMAR_DMA_CTRL_PLATFORM_OPT_IN);
	json_key(w, "structures");
	json_begin_array(w);
	for (size_t i = 0; i < d->nstructs; i++)
		struct_json(w, t, &d->structs[i]);
	json_end_array(w);
	json_key(w, "findings");
	json_begin_array(w);
	for (size_t i = 0; i < d->nfindings; i++) {
		json_begin_object(w);
		json_kv_u64(w, "offset", d->findings[i].offset);
		json_kv_str(w, "message", d->findings[i].message);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
	json_end_line(w);
}

/* Reads a DMAR table file; ACPI lengths are 32-bit, but no real DMAR comes near 1 MiB. */
static int read_table(struct ish_shell *sh, const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n;

	if (!f)
		return sh_error(sh, "%s: %s", path, strerror(errno));
	*buf = malloc(cap + 1);
	if (!*buf) {
		fclose(f);
		return sh_report(sh, &ish_enomem);
	}
	n = fread(*buf, 1, cap + 1, f);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(*buf);
		return sh_error(sh, "%s: %s", path, strerror(e));
	}
	fclose(f);
	if (n > cap) {
		free(*buf);
		return sh_error(sh, "%s: larger than 1 MiB, not a DMAR table", path);
	}
	*len = n;
	return 0;
}

static int cmd_dmar(struct ish_shell *sh, int argc, char **argv)
{
	const struct ish_command *cmd = ish_command_find("dmar", &(bool){ false });
	struct ish_target *t = NULL;	/* scopes are resolved against the target's own table */
	struct ish_dmar *d;
	struct ish_error *err;
	uint8_t *owned = NULL;
	const void *buf;
	size_t len = 0;
	int status;

	if (argc > 2)
		return sh_usage(sh, cmd);
	if (argc == 2) {
		status = read_table(sh, argv[1], &owned, &len);
		if (status)
			return status;
		buf = owned;
	} else {
		t = sh_target(sh);
		if (!t)
			return 1;
		buf = ish_target_dmar(t, &len);
		if (!buf)
			return sh_error(sh, "the target has no DMAR table (the %s backend did not find one)",
					ish_backend_name(ish_target_backend(t)));
	}
	err = ish_dmar_parse(buf, len, &d);
	free(owned);
	if (err)
		return sh_report(sh, err);
	if (sh_json(sh))
		dmar_json(sh, t, d);
	else
		dmar_text(sh, t, d);
	ish_dmar_destroy(d);
	return 0;
}

const struct ish_command ish_cmds_regs[] = {
	{ "regs", "reg", "regs [UNIT] [NAME...] [--all] [-v|--verbose]",
	  "show remapping-unit registers with every field decoded",
	  "Reads the registers of UNIT (a name such as dmar0, or an index; default:\n"
	  "every unit) and decodes each field (VT-d 11.4): one-bit fields lspci-style\n"
	  "as TES+ or TES-, wider ones as NAME=value(meaning), e.g. TTM=1(scalable),\n"
	  "SAGAW=0x6(39-bit,48-bit), MGAW=38(39), FRO=0x22(0x220). Unknown values\n"
	  "read ??N.\n"
	  "Fault recording registers are listed as FRCD0_LO/FRCD0_HI... (CAP.NFR+1\n"
	  "records at CAP.FRO*16) and IVA/IOTLB at ECAP.IRO*16. Registers the unit\n"
	  "does not implement according to CAP/ECAP (MTRRs without ECAP.MTS, page\n"
	  "request registers without ECAP.PRS, ...) are left out unless --all is given\n"
	  "or they are named. A register the target cannot read (not captured in a\n"
	  "dump) is shown as unreadable; the listing goes on.\n"
	  "-v adds each register's access (VT-d 11.1) under its line: RO (writes are\n"
	  "refused: the hardware ignores them), RW, RW1C (writing 1 clears a bit, 0\n"
	  "leaves it), WO (reads as 0; GCMD's effect shows in GSTS), the fields whose\n"
	  "access differs (FSTS: RW1C, but FRI and PPF RO), and the reserved bits\n"
	  "(RsvdZ: write 0). The same table decides what 'set reg' and t:write_reg\n"
	  "may write.\n"
	  "NAMEs select registers, listed in table order: GSTS, dmar_gsts_reg, IQER,\n"
	  "FRCD3_HI, FRCD_HI (every record), IOTLB_REG. With --json: per unit\n"
	  "{\"unit\", \"segment\", \"base\", \"registers\": [{\"name\", \"offset\",\n"
	  "\"width\", \"access\", \"field_access\": {NAME: \"RO\"} (the fields whose\n"
	  "access differs), \"value\",\n"
	  "\"fields\": {NAME: value}}]} (an \"error\" instead of\n"
	  "value and fields when unreadable); one object when UNIT is given, else an\n"
	  "array of them. Field values are the raw bits (RTA is the address >> 12).",
	  cmd_regs, CMD_NEEDS_TARGET, COMPLETE_UNIT },
	{ "dmar", NULL, "dmar [FILE]", "decode the ACPI DMAR table",
	  "Decodes the target's ACPI DMAR table (VT-d chapter 8), or a raw table in\n"
	  "FILE (/sys/firmware/acpi/tables/DMAR, acpidump -b output, a compiled .aml):\n"
	  "the header (host address width, INTR_REMAP, X2APIC_OPT_OUT,\n"
	  "DMA_CTRL_PLATFORM_OPT_IN) and every remapping structure with its byte\n"
	  "offset, as iasl -d would but shorter: DRHD (segment, register base, size,\n"
	  "INCLUDE_PCI_ALL), RMRR (reserved range), ATSR (ALL_PORTS), RHSA (proximity\n"
	  "domain), ANDD (ACPI object name), SATC, SIDP, reserved types as raw bytes;\n"
	  "each device scope with its type, enumeration id, start bus and path.\n"
	  "For the target's own table, PCI scopes are followed through config space\n"
	  "(VT-d 8.3.1: every hop but the last is a bridge, the next hop is on its\n"
	  "secondary bus) and show the BDF they name, \"buses SS-UU\" for a PCI\n"
	  "sub-hierarchy, or \"(unresolved: why)\", e.g. a bridge that cannot be read;\n"
	  "in JSON \"resolved\": {\"bdf\", \"secondary\", \"subordinate\"} or null, and \"why\".\n"
	  "A wrong checksum, reserved bits or types and unaligned addresses are listed\n"
	  "as findings; lengths that lie or a truncated table are an error naming the\n"
	  "byte offset. --json gives the same as one object of integers.",
	  cmd_dmar, 0, COMPLETE_FILE },
	{ NULL },
};
