// SPDX-License-Identifier: MIT
/*
 * VMCOREINFO: the input as note bytes (ish_kernel_find_vmcoreinfo_note),
 * and as the text itself (ish_vmcoreinfo_parse and its numbers); a text
 * that parses is then opened as a kernel over the synthetic kernel of
 * tests/unit/fake_kernel.h, so the SYMBOL() and NUMBER() values the input
 * names are chased through memory (kallsyms, page_offset_base, BTF,
 * dmar_drhd_units). The target is built once and only read.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/kernel.h>

#include "fuzz.h"
#include "../unit/fake_kernel.h"

static volatile uint64_t sink;
static struct ish_target *fake;

static const char *const keys[] = {
	"OSRELEASE", "NUMBER(phys_base)", "KERNELOFFSET", "NUMBER(pgtable_l5_enabled)",
	"SYMBOL(kallsyms_names)", "PAGESIZE",
};

static void use_text(const char *text, size_t len)
{
	struct ish_vmcoreinfo *v;
	struct ish_kernel_vtd_unit *u;
	struct ish_kernel *k;
	struct ish_error *err;
	size_t n;
	uint64_t x;

	err = ish_vmcoreinfo_parse(text, len, &v);
	if (err) {
		sink += strlen(err->message);
		ish_error_destroy(err);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = ish_vmcoreinfo_get(v, keys[i]);

		sink += s ? strlen(s) : 0;
		err = ish_vmcoreinfo_number(v, keys[i], &x);
		if (!err)
			sink += x;
		ish_error_destroy(err);
	}
	ish_vmcoreinfo_destroy(v);
	if (!fake && (err = fk_build(&fake))) {
		ish_error_destroy(err);
		return;
	}
	err = ish_kernel_open_vmcoreinfo(fake, text, len, "fuzz", &k);
	if (err) {
		ish_error_destroy(err);
		return;
	}
	FZ_IGNORE(ish_kernel_symbol(k, "dmar_drhd_units", &x));
	FZ_IGNORE(ish_kernel_read_u64(k, x, &x));
	err = ish_kernel_vtd_units(k, &u, &n);
	if (!err) {
		sink += n;
		free(u);
	}
	ish_error_destroy(err);
	ish_kernel_destroy(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *desc;
	size_t dlen;
	struct ish_error *err;

	err = ish_kernel_find_vmcoreinfo_note(data, size, &desc, &dlen);
	if (!err)
		use_text(desc, dlen);
	ish_error_destroy(err);
	use_text((const char *)data, size);
	return 0;
}
