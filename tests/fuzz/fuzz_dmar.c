// SPDX-License-Identifier: MIT
/*
 * ACPI DMAR tables (include/iommush/vtd/dmar.h): the input is the table. Runs
 * the full decoder, touches every decoded string and scope path (so a length
 * that lies shows up under ASan), and derives the units as the target layer
 * does. Then the table's PCI scopes are resolved through a small config
 * space with bridges (one of them looping) and units chosen for devices on
 * either side of them, as `dmar`, `pci` and ish_unit_for_device() do.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/backend.h>
#include <iommush/vtd/dmar.h>
#include <iommush/mem.h>
#include <iommush/pci.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "fuzz.h"

static volatile size_t sink;

static struct ish_error *count_unit(void *arg, const struct ish_unit *u)
{
	unsigned *n = arg;

	sink += u->reg_base + u->size_pages + u->segment;
	/* Stop part-way sometimes, to exercise the early-return path. */
	if (++*n == 200)
		return ish_error_create(ISH_ERROR_LIMIT, "enough");
	return NULL;
}

/* 00:1c.0 -> bus 1, 01:00.0 -> bus 2 (02:00.0 behind it), 00:1d.0 loops onto bus 0. */
static void config(struct ish_target *t, uint16_t bdf, uint8_t hdr, uint8_t sec, uint8_t sub)
{
	uint8_t *c;

	if (ish_mem_add_config(t, 0, bdf, &c))
		abort();
	c[0] = 0x86;
	c[1] = 0x80;
	c[PCI_HEADER_TYPE] = hdr;
	c[PCI_PRIMARY_BUS] = (uint8_t)(bdf >> 8);
	c[PCI_PRIMARY_BUS + 1] = sec;
	c[PCI_PRIMARY_BUS + 2] = sub;
}

static void resolve_scopes(const uint8_t *data, size_t size, const struct ish_dmar *d)
{
	static const uint16_t probe[] = { ISH_BDF(0, 0x1c, 0), ISH_BDF(1, 0, 0), ISH_BDF(2, 0, 0),
					  ISH_BDF(0, 2, 0), ISH_BDF(0xff, 0x1f, 7) };
	struct ish_unit_scopes *us;
	struct ish_target *t;
	struct ish_pci *p;
	unsigned u;

	if (ish_mem_open(&t))
		abort();
	config(t, ISH_BDF(0, 0x1c, 0), PCI_HEADER_TYPE_BRIDGE, 1, 2);
	config(t, ISH_BDF(1, 0, 0), PCI_HEADER_TYPE_BRIDGE, 2, 2);
	config(t, ISH_BDF(2, 0, 0), 0, 0, 0);
	config(t, ISH_BDF(0, 0x1d, 0), PCI_HEADER_TYPE_BRIDGE, 0, 0xff);
	/* Units where the table's first DRHDs put them, so scopes attach. */
	for (size_t i = 0; d && i < d->nstructs && ish_target_nunits(t) < 4; i++)
		if (d->structs[i].type == ISH_DMAR_TYPE_DRHD)
			ish_error_destroy(ish_mem_add_unit(t, d->structs[i].base & ~0xfffull,
							   d->structs[i].segment, &u));
	ish_error_destroy(ish_target_set_dmar(t, data, size));
	for (size_t i = 0; d && i < d->nstructs; i++) {
		for (size_t j = 0; j < d->structs[i].nscopes; j++) {
			struct ish_scope_bdf r;
			struct ish_error *err = ish_dmar_scope_resolve(t, d->structs[i].segment,
								       &d->structs[i].scopes[j], &r);

			sink += r.resolved + r.bdf + r.secondary + r.subordinate + strlen(r.why);
			ish_error_destroy(err);
		}
	}
	if (!ish_unit_scopes_create(t, &us)) {
		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
			enum ish_cover how;
			struct ish_error *err = ish_unit_scopes_lookup(t, us, 0, probe[i], &u, &how);

			sink += err ? strlen(err->message) : u + how;
			ish_error_destroy(err);
		}
		ish_unit_scopes_destroy(us);
	}
	if (!ish_pci_enumerate(t, &p)) {
		sink += p->n + p->nfindings;
		ish_pci_destroy(p);
	}
	ish_target_close(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ish_dmar *d = NULL;
	struct ish_error *err;
	unsigned n = 0;

	err = ish_dmar_parse(data, size, &d);
	if (!err) {
		sink += strlen(d->signature) + strlen(d->oem_id) + strlen(d->oem_table_id) +
			strlen(d->creator_id);
		for (size_t i = 0; i < d->nstructs; i++) {
			const struct ish_dmar_struct *s = &d->structs[i];
			const char *name = ish_dmar_type_name(s->type);

			sink += name ? strlen(name) : 0;
			name = ish_dmar_type_desc(s->type);
			sink += name ? strlen(name) : 0;
			if (s->object_name)
				sink += strlen(s->object_name);
			for (size_t j = 0; j < s->raw_len; j++)
				sink += s->raw[j];
			for (size_t j = 0; j < s->nscopes; j++) {
				const struct ish_dmar_scope *sc = &s->scopes[j];

				name = ish_dmar_scope_type_name(sc->type);
				sink += name ? strlen(name) : 0;
				for (size_t k = 0; k < sc->npath; k++)
					sink += sc->path[k].dev + sc->path[k].fn;
			}
		}
		for (size_t i = 0; i < d->nfindings; i++)
			sink += strlen(d->findings[i].message) + d->findings[i].offset;
		resolve_scopes(data, size, d);
		ish_dmar_destroy(d);
	} else {
		sink += strlen(err->message);
		ish_error_destroy(err);
	}
	err = ish_dmar_units(data, size, count_unit, &n);
	if (err)
		sink += strlen(err->message);
	ish_error_destroy(err);
	return 0;
}
