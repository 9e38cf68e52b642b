// SPDX-License-Identifier: MIT
/*
 * kallsyms decoding (lib/kallsyms.c): the input replaces the 4 KiB region
 * of the synthetic kernel (tests/unit/fake_kernel.h) that holds
 * kallsyms_offsets (at 0x000), _relative_base (0x100), _num_syms (0x108),
 * _names (0x200), _token_table (0x800) and _token_index (0xe00); the rest
 * of the kernel and its VMCOREINFO stay as built. Then the kernel is opened
 * (every table decoded), symbols are looked up, and dmar_drhd_units is
 * walked through whatever the decoded symbols say. The whole region is
 * rewritten for every input, so no state carries over.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/kernel.h>

#include "fuzz.h"
#include "../unit/fake_kernel.h"

static volatile uint64_t sink;
static struct ish_target *fake;
static char vmci[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ish_kernel_vtd_unit *u;
	struct ish_kernel *k;
	struct ish_error *err;
	uint8_t *region;
	size_t n;
	uint64_t x;

	if (!fake) {
		err = fk_build(&fake);
		if (err) {
			ish_error_destroy(err);
			return 0;
		}
		fk_vmcoreinfo(vmci, sizeof(vmci));
	}
	region = fk_ram(fake) + FK_TEXT_PA;
	memset(region, 0, FK_KS_SIZE);
	memcpy(region, data, size < FK_KS_SIZE ? size : FK_KS_SIZE);
	err = ish_kernel_open_vmcoreinfo(fake, vmci, strlen(vmci), "fuzz", &k);
	if (err) {
		sink += strlen(err->message);
		ish_error_destroy(err);
		return 0;
	}
	sink += ish_kernel_nsyms(k);
	FZ_IGNORE(ish_kernel_symbol(k, "page_offset_base", &x));
	FZ_IGNORE(ish_kernel_symbol(k, "", &x));
	FZ_IGNORE(ish_kernel_symbol(k, "intel_iommu_sm", &x));
	err = ish_kernel_vtd_units(k, &u, &n);
	if (!err) {
		sink += n;
		free(u);
	}
	ish_error_destroy(err);
	ish_kernel_destroy(k);
	return 0;
}
