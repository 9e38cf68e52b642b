// SPDX-License-Identifier: MIT
/*
 * The BTF reader (lib/btf.c): the input as a BTF blob. Every type (the
 * first 4096) is sized, named and, for structs and unions, listed; then
 * the lookups the kernel view makes (struct, union and typedef names;
 * plain, dotted, bitfield and anonymous members).
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/btf.h>

#include "fuzz.h"

static volatile uint64_t sink;

static struct ish_error *field(void *arg, const struct ish_btf_field *f)
{
	(void)arg;
	sink += strlen(f->name) + f->type + f->where.offset + f->where.size + f->where.bit_size;
	return NULL;
}

static const char *const types[] = {
	"struct dmar_drhd_unit", "struct intel_iommu", "struct q_inval", "struct ir_table",
	"struct list_head", "union q_inval", "u64", "enum x", "struct ghost",
};
static const char *const members[] = {
	"list", "list.next", "include_all", "q_lock.raw_lock", "flags_int", "name", "a.b.c.d",
	"iommu.x",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ish_kernel_member m;
	struct ish_btf *b;
	struct ish_error *err;
	char name[256];
	uint64_t v;
	uint32_t id;

	err = ish_btf_parse(data, size, &b);
	if (err) {
		sink += strlen(err->message);
		ish_error_destroy(err);
		return 0;
	}
	for (uint32_t t = 0; t <= ish_btf_ntypes(b) + 1 && t < 4096; t++) {
		err = ish_btf_type_size(b, t, &v);
		if (!err)
			sink += v;
		ish_error_destroy(err);
		ish_btf_type_name(b, t, name, sizeof(name));
		sink += strlen(name);
		FZ_IGNORE(ish_btf_members(b, t, field, NULL));
		FZ_IGNORE(ish_btf_member(b, t, "list.next", &m));
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		err = ish_btf_find(b, types[i], &id);
		if (err) {
			ish_error_destroy(err);
			continue;
		}
		for (size_t j = 0; j < sizeof(members) / sizeof(members[0]); j++) {
			err = ish_btf_member(b, id, members[j], &m);
			if (!err)
				sink += m.offset + m.size + m.bit_offset;
			ish_error_destroy(err);
		}
	}
	ish_btf_destroy(b);
	return 0;
}
