// SPDX-License-Identifier: MIT
/*
 * DMAR device-scope resolution (VT-d 5.0 8.3.1): which unit translates a
 * PCI function (the context summary of `pci` is lib/vtd/summary.c). Moved out
 * of lib/pci.c, which is PCI enumeration only. Contracts in
 * iommush/vtd/scope.h and (ish_pci_each) iommush/pci.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/pci.h>
#include <iommush/vtd/scope.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

/* --- device scopes --- */

static struct ish_error *why(struct ish_scope_bdf *r, struct ish_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records why a scope did not resolve; err (if any) is consumed unless fatal. */
static struct ish_error *why(struct ish_scope_bdf *r, struct ish_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err && ish_error_fatal(err))
		return err;
	va_start(ap, fmt);
	n = vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	if (err && n >= 0 && (size_t)n < sizeof(r->why))
		snprintf(r->why + n, sizeof(r->why) - (size_t)n, ": %s", err->message);
	ish_error_destroy(err);
	return NULL;
}

struct ish_error *ish_dmar_scope_resolve(struct ish_target *t, uint16_t segment,
					 const struct ish_dmar_scope *s, struct ish_scope_bdf *ret)
{
	unsigned bus = s->bus;
	uint16_t bdf = 0;
	uint32_t v;

	memset(ret, 0, sizeof(*ret));
	if (s->type != ISH_DMAR_SCOPE_PCI_ENDPOINT && s->type != ISH_DMAR_SCOPE_PCI_BRIDGE)
		return why(ret, NULL, "not a PCI scope");
	if (!s->npath)
		return why(ret, NULL, "empty path");
	for (size_t i = 0; i < s->npath; i++) {
		const struct ish_dmar_path *h = &s->path[i];
		struct ish_error *err;

		if (h->dev > 31 || h->fn > 7)
			return why(ret, NULL, "hop %zu names device %#x function %#x", i + 1, h->dev,
				   h->fn);
		bdf = ISH_BDF(bus, h->dev, h->fn);
		if (i + 1 == s->npath)
			break;
		err = ish_read_config(t, segment, bdf, PCI_HEADER_TYPE & ~3u, 32, &v);
		if (err)
			return why(ret, err, "bridge " ISH_BDF_FMT " not readable", ISH_BDF_ARGS(bdf));
		if ((v & 0xffff) == 0xffff)
			return why(ret, NULL, "bridge " ISH_BDF_FMT " is absent", ISH_BDF_ARGS(bdf));
		if (((v >> 16) & PCI_HEADER_TYPE_MASK) != PCI_HEADER_TYPE_BRIDGE)
			return why(ret, NULL, ISH_BDF_FMT " is not a bridge (header type %u)", ISH_BDF_ARGS(bdf),
				   (v >> 16) & PCI_HEADER_TYPE_MASK);
		err = ish_read_config(t, segment, bdf, PCI_PRIMARY_BUS, 32, &v);
		if (err)
			return why(ret, err, "bridge " ISH_BDF_FMT " not readable", ISH_BDF_ARGS(bdf));
		if (((v >> 8) & 0xff) <= bus)
			return why(ret, NULL, "bridge " ISH_BDF_FMT ": secondary bus %02x is not above %02x",
				   ISH_BDF_ARGS(bdf), (v >> 8) & 0xff, bus);
		bus = (v >> 8) & 0xff;
	}
	ret->resolved = true;
	ret->bdf = bdf;
	if (s->type == ISH_DMAR_SCOPE_PCI_BRIDGE) {
		struct ish_error *err = ish_read_config(t, segment, bdf, PCI_PRIMARY_BUS, 32, &v);
		unsigned sec = (v >> 8) & 0xff, sub = (v >> 16) & 0xff;

		if (err)
			return why(ret, err, "bus range of " ISH_BDF_FMT " not readable", ISH_BDF_ARGS(bdf));
		if (sec <= ISH_BDF_BUS(bdf) || sub < sec)
			return why(ret, NULL, "bridge " ISH_BDF_FMT " has no valid bus range (%02x-%02x)",
				   ISH_BDF_ARGS(bdf), sec, sub);
		ret->has_range = true;
		ret->secondary = (uint8_t)sec;
		ret->subordinate = (uint8_t)sub;
	}
	return NULL;
}

/* --- which unit covers a device --- */

struct unit_scope {
	unsigned unit;
	uint16_t segment;
	uint8_t type;
	struct ish_scope_bdf r;
};

struct ish_unit_scopes {
	size_t n;
	struct unit_scope *s;
};

static bool unit_by_base(struct ish_target *t, uint16_t segment, uint64_t base, unsigned *ret)
{
	for (unsigned u = 0; u < ish_target_nunits(t); u++) {
		const struct ish_unit *un = ish_target_unit(t, u);

		if (un->reg_base == base && un->segment == segment) {
			*ret = u;
			return true;
		}
	}
	return false;
}

struct ish_error *ish_unit_scopes_create(struct ish_target *t, struct ish_unit_scopes **ret)
{
	struct ish_unit_scopes *us = calloc(1, sizeof(*us));
	struct ish_error *err = NULL;
	struct ish_dmar *d = NULL;
	const void *tbl;
	size_t len, cap = 0;

	if (!us)
		return &ish_enomem;
	tbl = ish_target_dmar(t, &len);
	if (tbl) {
		err = ish_dmar_parse(tbl, len, &d);
		/* A malformed table names no devices: units are chosen without it. */
		if (err && err != &ish_enomem) {
			ish_error_destroy(err);
			err = NULL;
			d = NULL;
		}
	}
	for (size_t i = 0; d && i < d->nstructs && !err; i++) {
		const struct ish_dmar_struct *s = &d->structs[i];
		unsigned unit;

		/* An INCLUDE_PCI_ALL unit lists only IOAPICs and HPETs (8.3). */
		if (s->type != ISH_DMAR_TYPE_DRHD || (s->flags & ISH_DRHD_INCLUDE_PCI_ALL) ||
		    !unit_by_base(t, s->segment, s->base, &unit))
			continue;
		for (size_t j = 0; j < s->nscopes && !err; j++) {
			const struct ish_dmar_scope *sc = &s->scopes[j];
			struct unit_scope *e;

			if (sc->type != ISH_DMAR_SCOPE_PCI_ENDPOINT &&
			    sc->type != ISH_DMAR_SCOPE_PCI_BRIDGE)
				continue;
			if (us->n == cap) {
				size_t ncap = cap ? 2 * cap : 8;
				void *n = realloc(us->s, ncap * sizeof(*us->s));

				if (!n) {
					err = &ish_enomem;
					break;
				}
				us->s = n;
				cap = ncap;
			}
			e = &us->s[us->n];
			e->unit = unit;
			e->segment = s->segment;
			e->type = sc->type;
			err = ish_dmar_scope_resolve(t, s->segment, sc, &e->r);
			if (!err && e->r.resolved)
				us->n++;
		}
	}
	ish_dmar_destroy(d);
	if (err) {
		ish_unit_scopes_destroy(us);
		return err;
	}
	*ret = us;
	return NULL;
}

void ish_unit_scopes_destroy(struct ish_unit_scopes *s)
{
	if (!s)
		return;
	free(s->s);
	free(s);
}

struct ish_error *ish_unit_scopes_lookup(struct ish_target *t, const struct ish_unit_scopes *s,
					 uint16_t segment, uint16_t bdf, unsigned *ret,
					 enum ish_cover *how)
{
	unsigned n = ish_target_nunits(t), in_seg = 0, last = 0;
	enum ish_cover dummy;

	if (!how)
		how = &dummy;
	/* Table order, as Linux dmar_find_matched_drhd_unit() does. */
	for (size_t i = 0; s && i < s->n; i++) {
		const struct unit_scope *e = &s->s[i];
		unsigned b = ISH_BDF_BUS(bdf);

		if (e->segment != segment)
			continue;
		if (e->r.bdf == bdf) {
			*ret = e->unit;
			*how = e->type == ISH_DMAR_SCOPE_PCI_BRIDGE ? ISH_COVER_BRIDGE :
								     ISH_COVER_ENDPOINT;
			return NULL;
		}
		if (e->r.has_range && b >= e->r.secondary && b <= e->r.subordinate) {
			*ret = e->unit;
			*how = ISH_COVER_BRIDGE;
			return NULL;
		}
	}
	for (unsigned u = 0; u < n; u++) {
		const struct ish_unit *un = ish_target_unit(t, u);

		if (un->segment != segment)
			continue;
		if (un->arch_flags & ISH_DRHD_INCLUDE_PCI_ALL) {
			*ret = u;
			*how = ISH_COVER_PCI_ALL;
			return NULL;
		}
		in_seg++;
		last = u;
	}
	if (in_seg == 1 || n == 1) {
		*ret = in_seg == 1 ? last : 0;
		*how = ISH_COVER_ONLY_UNIT;
		return NULL;
	}
	*how = ISH_COVER_NONE;
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"no remapping unit covers %04x:" ISH_BDF_FMT " (use --unit)", segment,
				ISH_BDF_ARGS(bdf));
}
