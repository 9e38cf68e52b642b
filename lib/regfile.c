// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include <iommush/regfile.h>

struct ish_regfile {
	uint8_t bytes[ISH_REGFILE_SIZE];
	uint8_t present[ISH_REGFILE_SIZE / 8];
};

struct ish_error *ish_regfile_create(struct ish_regfile **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? NULL : &ish_enomem;
}

void ish_regfile_destroy(struct ish_regfile *rf)
{
	free(rf);
}

static struct ish_error *check_range(uint32_t offset, unsigned width)
{
	if (width != 8 && width != 16 && width != 32 && width != 64)
		return ish_error_format(ISH_ERROR_INVALID, "register width %u is not 8, 16, 32 or 64",
					width);
	if (offset % (width / 8))
		return ish_error_format(ISH_ERROR_INVALID,
					"register offset %#x is not aligned to its width %u", offset,
					width);
	if (offset >= ISH_REGFILE_SIZE || ISH_REGFILE_SIZE - offset < width / 8)
		return ish_error_format(ISH_ERROR_INVALID,
					"register offset %#x is past the register block", offset);
	return NULL;
}

struct ish_error *ish_regfile_set(struct ish_regfile *rf, uint32_t offset, unsigned width,
				  uint64_t value)
{
	struct ish_error *err = check_range(offset, width);

	if (err)
		return err;
	for (unsigned i = 0; i < width / 8; i++) {
		rf->bytes[offset + i] = (uint8_t)(value >> (8 * i));
		rf->present[(offset + i) / 8] |= (uint8_t)(1u << ((offset + i) % 8));
	}
	return NULL;
}

struct ish_error *ish_regfile_get(const struct ish_regfile *rf, uint32_t offset, unsigned width,
				  uint64_t *ret)
{
	struct ish_error *err = check_range(offset, width);
	uint64_t v = 0;

	if (err)
		return err;
	for (unsigned i = 0; i < width / 8; i++) {
		if (!(rf->present[(offset + i) / 8] & (1u << ((offset + i) % 8))))
			return ish_error_format(ISH_ERROR_NOT_FOUND,
						"register at offset %#x was not captured", offset);
		v |= (uint64_t)rf->bytes[offset + i] << (8 * i);
	}
	*ret = v;
	return NULL;
}

bool ish_regfile_has(const struct ish_regfile *rf, uint32_t offset, unsigned width, uint64_t *ret)
{
	struct ish_error *err = ish_regfile_get(rf, offset, width, ret);

	ish_error_destroy(err);
	return !err;
}

struct ish_error *ish_regfile_foreach(const struct ish_regfile *rf,
				      struct ish_error *(*fn)(void *arg, uint32_t offset, uint32_t value),
				      void *arg)
{
	for (uint32_t off = 0; off < ISH_REGFILE_SIZE; off += 4) {
		uint64_t v;

		if ((rf->present[off / 8] >> (off % 8) & 0xf) != 0xf)
			continue;
		v = (uint32_t)rf->bytes[off] | (uint32_t)rf->bytes[off + 1] << 8 |
		    (uint32_t)rf->bytes[off + 2] << 16 | (uint32_t)rf->bytes[off + 3] << 24;
		struct ish_error *err = fn(arg, off, (uint32_t)v);
		if (err)
			return err;
	}
	return NULL;
}
