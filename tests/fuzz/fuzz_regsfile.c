// SPDX-License-Identifier: MIT
/*
 * Register files (include/iommush/regsfile.h): debugfs iommu_regset text and
 * NAME=VALUE lines, mixed as the parser allows. The input is the text; every
 * parsed register is read back through the regfile.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/regfile.h>
#include <iommush/regsfile.h>

#include "fuzz.h"

static volatile uint64_t sink;

static struct ish_error *each_reg(void *arg, uint32_t offset, uint32_t value)
{
	const struct ish_regfile *rf = arg;
	uint64_t v = 0;

	sink += offset + value;
	/* Read each captured word back at every width that fits its alignment. */
	for (unsigned w = 8; w <= 64; w *= 2)
		if (!(offset % (w / 8))) {
			struct ish_error *err = ish_regfile_get(rf, offset, w, &v);

			if (!err)
				sink += v;
			ish_error_destroy(err);
		}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ish_regsfile *rf = NULL;
	struct ish_error *err;

	err = ish_regsfile_parse((const char *)data, size, "fuzz", &rf);
	if (err) {
		sink += strlen(err->message);
		ish_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < rf->nunits; i++) {
		const struct ish_regsfile_unit *u = &rf->units[i];

		sink += strlen(u->name) + u->reg_base;
		if (u->regs)
			ish_error_destroy(ish_regfile_foreach(u->regs, each_reg, u->regs));
	}
	ish_regsfile_destroy(rf);
	return 0;
}
