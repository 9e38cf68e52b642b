// SPDX-License-Identifier: MIT
/*
 * ACPI DMAR tables (include/iommush/dmar.h): the input is the table. Runs
 * the full decoder, touches every decoded string and scope path (so a length
 * that lies shows up under ASan), and derives the units as the target layer
 * does.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/dmar.h>

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
