// SPDX-License-Identifier: MIT
/*
 * Register lookup by name and offset, access rules, field meanings, and the
 * enumeration of a unit's registers over a target, all over the table
 * ish_reg_table() gives (VT-d's: lib/vtd/regs.c). Locations that depend on
 * CAP/ECAP (fault records, IOTLB registers) are still resolved here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>

/* The table, as lib/vtd/regs.c gives it. */
static const struct ish_reg_def *regtab(void)
{
	size_t n;

	return ish_reg_table(&n);
}

static size_t nregs(void)
{
	size_t n;

	ish_reg_table(&n);
	return n;
}

const char *ish_access_name(enum ish_access a)
{
	switch (a) {
	case ISH_ACCESS_RO:
		return "RO";
	case ISH_ACCESS_RW:
		return "RW";
	case ISH_ACCESS_RW1C:
		return "RW1C";
	case ISH_ACCESS_WO:
		return "WO";
	case ISH_ACCESS_RSVDZ:
		return "RsvdZ";
	case ISH_ACCESS_INHERIT:
		break;
	}
	return "?";
}

const char *ish_access_words(enum ish_access a)
{
	switch (a) {
	case ISH_ACCESS_RO:
		return "read-only";
	case ISH_ACCESS_RW:
		return "read-write";
	case ISH_ACCESS_RW1C:
		return "write-1-to-clear";
	case ISH_ACCESS_WO:
		return "write-only";
	case ISH_ACCESS_RSVDZ:
		return "reserved";
	case ISH_ACCESS_INHERIT:
		break;
	}
	return "?";
}

enum ish_access ish_field_access(const struct ish_reg_def *r, const struct ish_field_def *f)
{
	return f->access != ISH_ACCESS_INHERIT ? f->access : r->access;
}

static uint64_t field_mask(const struct ish_field_def *f)
{
	unsigned w = (unsigned)(f->hi - f->lo) + 1;

	return (w >= 64 ? ~0ULL : ((1ULL << w) - 1)) << f->lo;
}

uint64_t ish_reg_access_mask(const struct ish_reg_def *r, enum ish_access a)
{
	uint64_t m = 0, all = 0;

	for (size_t i = 0; i < r->nfields; i++) {
		all |= field_mask(&r->fields[i]);
		if (ish_field_access(r, &r->fields[i]) == a)
			m |= field_mask(&r->fields[i]);
	}
	/* A register without a field table is one field of its own access. */
	if (!r->nfields)
		all = r->width >= 64 ? ~0ULL : (1ULL << r->width) - 1;
	if (!r->nfields && r->access == a)
		m = all;
	if (a == ISH_ACCESS_RSVDZ)
		m |= ~all & (r->width >= 64 ? ~0ULL : (1ULL << r->width) - 1);
	return m;
}

/* Does r start at offset, given CAP/ECAP (0: unknown, then only fixed registers do)? */
static bool reg_starts_at(const struct ish_reg_def *r, uint32_t offset, uint64_t cap,
			  uint64_t ecap, unsigned *index)
{
	uint32_t base;

	*index = 0;
	switch (r->loc) {
	case ISH_REG_FIXED:
		if (r->offset != offset)
			return false;
		/* A register CAP/ECAP says is absent is not there, if they are known. */
		if (r->cond_reg == ISH_COND_CAP && cap)
			return ish_reg_present(r, cap, ecap);
		if (r->cond_reg == ISH_COND_ECAP && ecap)
			return ish_reg_present(r, cap, ecap);
		return true;
	case ISH_REG_FRCD:
		if (!cap)
			return false;
		base = cap_fault_reg_offset(cap) + r->offset;
		if (offset < base || (offset - base) % 16 || (offset - base) / 16 >= cap_num_fault_regs(cap))
			return false;
		*index = (offset - base) / 16;
		return true;
	case ISH_REG_IRO:
		return ecap && ecap_iotlb_offset(ecap) + r->offset == offset;
	}
	return false;
}

const struct ish_reg_def *ish_reg_for_access(uint32_t offset, unsigned width, uint64_t cap,
					     uint64_t ecap, unsigned *index, unsigned *shift)
{
	unsigned idx = 0;

	/* The upper dword of a 64-bit register counts: VT-d 10.2 allows two dword accesses. */
	for (unsigned half = 0; half <= 4; half += 4) {
		for (size_t i = 0; i < nregs(); i++) {
			const struct ish_reg_def *r = &regtab()[i];

			if (half && (width != 32 || r->width != 64 || offset < 4))
				continue;
			if (!reg_starts_at(r, offset - half, cap, ecap, &idx))
				continue;
			if (r->width < width)
				return NULL;
			if (index)
				*index = idx;
			*shift = half * 8;
			return r;
		}
	}
	if (index)
		*index = 0;
	*shift = 0;
	return NULL;
}

/* Appends the names of r's fields of access a that value (at shift) has bits of. */
static size_t field_list(const struct ish_reg_def *r, enum ish_access a, uint64_t bits, char *buf,
			 size_t len)
{
	size_t used = 0;

	for (size_t i = 0; i < r->nfields; i++) {
		const struct ish_field_def *f = &r->fields[i];
		int w;

		if (ish_field_access(r, f) != a || !(field_mask(f) & bits))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", f->name);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	return used;
}

const char *ish_reg_write_note(const struct ish_reg_def *r, const char *name, uint64_t value,
			       unsigned shift, char *buf, size_t len)
{
	uint64_t width_mask = shift ? 0xffffffffULL << 32 : ~0ULL;
	uint64_t v = shift < 64 ? value << shift : 0;
	uint64_t w1c = ish_reg_access_mask(r, ISH_ACCESS_RW1C) & width_mask;
	uint64_t ro = ish_reg_access_mask(r, ISH_ACCESS_RO) & width_mask;
	uint64_t rsvd = ish_reg_access_mask(r, ISH_ACCESS_RSVDZ) & width_mask;
	char list[256];
	size_t used = 0;
	int n;

	if (!len)
		return NULL;
	buf[0] = '\0';
#define ADD(...)                                                                         \
	do {                                                                             \
		n = snprintf(buf + used, len - used, __VA_ARGS__);                       \
		if (n > 0)                                                               \
			used = (size_t)n < len - used ? used + (size_t)n : len - 1;      \
	} while (0)
	if (w1c) {
		if (v & w1c) {
			field_list(r, ISH_ACCESS_RW1C, v & w1c, list, sizeof(list));
			ADD("%s is RW1C: writing 1 clears %s; 0 leaves a bit as it is", name, list);
		} else {
			ADD("%s is RW1C: %#" PRIx64 " clears nothing (writing 1 clears a bit, 0 leaves "
			    "it as it is)", name, value);
		}
	}
	if (v & ro) {
		field_list(r, ISH_ACCESS_RO, v & ro, list, sizeof(list));
		ADD("%s%s %s RO: this write does not change %s", used ? "; " : "", list,
		    strchr(list, ',') ? "are" : "is", strchr(list, ',') ? "them" : "it");
	}
	if (v & rsvd)
		ADD("%sbits %#" PRIx64 " of %s are reserved (RsvdZ): the specification says to "
		    "write 0 there", used ? "; " : "", (v & rsvd) >> shift, name);
#undef ADD
	return used ? buf : NULL;
}

/* Compares name (length len) with s, ignoring case. */
static bool name_eq(const char *name, size_t len, const char *s)
{
	return s && strlen(s) == len && !strncasecmp(name, s, len);
}

const struct ish_reg_def *ish_reg_parse(const char *name, unsigned *index)
{
	size_t len;

	if (index)
		*index = 0;
	if (!name)
		return NULL;
	if (!strncasecmp(name, "DMAR_", 5))
		name += 5;
	len = strlen(name);
	if (len > 4 && !strcasecmp(name + len - 4, "_REG"))
		len -= 4;
	if (!len || len > 40)
		return NULL;
	for (size_t i = 0; i < nregs(); i++)
		if (name_eq(name, len, regtab()[i].name) || name_eq(name, len, regtab()[i].alias))
			return &regtab()[i];
	/* "FRCD<n>_LO" / "FRCD<n>_HI": a record number between FRCD and the half. */
	if (len > 7 && !strncasecmp(name, "FRCD", 4)) {
		size_t d = 4;
		unsigned long n = 0;

		while (d < len && name[d] >= '0' && name[d] <= '9' && d < 8)
			n = n * 10 + (unsigned long)(name[d++] - '0');
		if (d == 4 || d >= len || n > 255 || len - d != 3)
			return NULL;
		for (size_t i = 0; i < nregs(); i++) {
			if (regtab()[i].loc == ISH_REG_FRCD &&
			    !strncasecmp(name + d, regtab()[i].name + 4, 3)) {
				if (index)
					*index = (unsigned)n;
				return &regtab()[i];
			}
		}
	}
	return NULL;
}

const struct ish_reg_def *ish_reg_find(const char *name)
{
	return ish_reg_parse(name, NULL);
}

struct ish_error *ish_reg_offset(const struct ish_reg_def *r, unsigned index, uint64_t cap,
				 uint64_t ecap, uint32_t *ret)
{
	switch (r->loc) {
	case ISH_REG_FIXED:
		*ret = r->offset;
		return NULL;
	case ISH_REG_FRCD:
		if (index >= cap_num_fault_regs(cap))
			return ish_error_format(ISH_ERROR_INVALID,
						"fault record %u does not exist: CAP.NFR says %u records",
						index, cap_num_fault_regs(cap));
		*ret = cap_fault_reg_offset(cap) + 16 * index + r->offset;
		return NULL;
	case ISH_REG_IRO:
		*ret = ecap_iotlb_offset(ecap) + r->offset;
		return NULL;
	}
	return ish_error_create(ISH_ERROR_INVALID, "bad register location");
}

const struct ish_reg_def *ish_reg_at(uint32_t offset, uint64_t cap, uint64_t ecap,
				     unsigned *index)
{
	const struct ish_reg_def *found = NULL;
	unsigned idx = 0;

	for (size_t i = 0; i < nregs() && !found; i++) {
		const struct ish_reg_def *r = &regtab()[i];
		uint32_t base;

		switch (r->loc) {
		case ISH_REG_FIXED:
			if (r->offset == offset)
				found = r;
			break;
		case ISH_REG_FRCD:
			if (!cap)
				break;
			base = cap_fault_reg_offset(cap);
			if (offset >= base + r->offset &&
			    (offset - base - r->offset) % 16 == 0 &&
			    (offset - base - r->offset) / 16 < cap_num_fault_regs(cap)) {
				idx = (offset - base - r->offset) / 16;
				found = r;
			}
			break;
		case ISH_REG_IRO:
			if (ecap && ecap_iotlb_offset(ecap) + r->offset == offset)
				found = r;
			break;
		}
	}
	if (index)
		*index = found ? idx : 0;
	return found;
}

bool ish_reg_present(const struct ish_reg_def *r, uint64_t cap, uint64_t ecap)
{
	switch (r->cond_reg) {
	case ISH_COND_CAP:
		return ISH_BIT(cap, r->cond_bit);
	case ISH_COND_ECAP:
		return ISH_BIT(ecap, r->cond_bit);
	default:
		return true;
	}
}

const char *ish_reg_instance_name(const struct ish_reg_def *r, unsigned index, char *buf,
				  size_t len)
{
	if (r->loc == ISH_REG_FRCD)
		snprintf(buf, len, "FRCD%u%s", index, r->name + 4);
	else
		snprintf(buf, len, "%s", r->name);
	return buf;
}

const struct ish_field_def *ish_field_find(const struct ish_reg_def *r, const char *name)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (!strcasecmp(r->fields[i].name, name))
			return &r->fields[i];
	return NULL;
}

const char *ish_value_lookup(const struct ish_value_name *t, uint64_t v)
{
	for (; t && t->name; t++)
		if (t->value == v)
			return t->name;
	return NULL;
}

const char *ish_field_meaning(const struct ish_field_def *f, uint64_t v, char *buf, size_t len)
{
	const char *s;
	size_t used = 0;

	if (!len)
		return NULL;
	buf[0] = 0;
	switch (f->fmt) {
	case ISH_FMT_ENUM:
		s = ish_value_lookup(f->values, v);
		if (s)
			snprintf(buf, len, "%s", s);
		else
			snprintf(buf, len, "??%" PRIu64, v);
		return buf;
	case ISH_FMT_BITSET:
		for (unsigned b = 0; b < 64; b++) {
			int w;

			if (!(v >> b & 1))
				continue;
			s = ish_value_lookup(f->values, b);
			if (s)
				w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", s);
			else
				w = snprintf(buf + used, len - used, "%s??%u", used ? "," : "", b);
			if (w < 0 || (size_t)w >= len - used)
				break;
			used += (size_t)w;
		}
		if (!used)
			snprintf(buf, len, "none");
		return buf;
	case ISH_FMT_ADDR:
		snprintf(buf, len, "0x%" PRIx64, f->lo < 64 ? v << f->lo : 0);
		return buf;
	case ISH_FMT_PLUS1:
		snprintf(buf, len, "%" PRIu64, v + 1);
		return buf;
	case ISH_FMT_X16:
		snprintf(buf, len, "0x%" PRIx64, v * 16);
		return buf;
	case ISH_FMT_POW2_PLUS1:
		if (v + 1 < 64)
			snprintf(buf, len, "%" PRIu64 " entries", (uint64_t)1 << (v + 1));
		else
			snprintf(buf, len, "??%" PRIu64, v);
		return buf;
	case ISH_FMT_POW2:
		if (v < 64)
			snprintf(buf, len, "%" PRIu64 " page%s", (uint64_t)1 << v, v ? "s" : "");
		else
			snprintf(buf, len, "??%" PRIu64, v);
		return buf;
	case ISH_FMT_FLAG:
	case ISH_FMT_HEX:
	case ISH_FMT_DEC:
		break;
	}
	return NULL;
}

/* --- enumeration over a target --- */

static struct ish_error *emit(ish_reg_fn *fn, void *arg, const struct ish_reg_def *r,
			      unsigned index, uint32_t offset, bool present, uint64_t value,
			      const struct ish_error *err)
{
	struct ish_reg_value v = {
		.def = r,
		.index = index,
		.offset = offset,
		.present = present,
		.value = err ? 0 : value,
		.err = err,
	};

	ish_reg_instance_name(r, index, v.name, sizeof(v.name));
	return fn(arg, &v);
}

/* Reads one register and hands it on; a read error goes into the record. */
static struct ish_error *read_emit(struct ish_target *t, unsigned unit, ish_reg_fn *fn, void *arg,
				   const struct ish_reg_def *r, unsigned index, uint32_t offset,
				   bool present)
{
	uint64_t value = 0;
	struct ish_error *rerr = ish_read_reg(t, unit, offset, r->width, &value);
	struct ish_error *err;

	if (rerr == &ish_enomem)
		return rerr;
	err = emit(fn, arg, r, index, offset, present, value, rerr);
	ish_error_destroy(rerr);
	return err;
}

struct ish_error *ish_unit_regs(struct ish_target *t, unsigned unit, unsigned flags,
				ish_reg_fn *fn, void *arg)
{
	struct ish_error *cap_err, *ecap_err, *err = NULL;
	uint64_t cap = 0, ecap = 0;

	if (unit >= ish_target_nunits(t))
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %u", unit);
	cap_err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap);
	ecap_err = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ecap);
	if (cap_err == &ish_enomem || ecap_err == &ish_enomem) {
		ish_error_destroy(cap_err);
		ish_error_destroy(ecap_err);
		return &ish_enomem;
	}
	for (size_t i = 0; i < nregs() && !err; i++) {
		const struct ish_reg_def *r = &regtab()[i];
		/* Without CAP/ECAP nobody knows: show the register and let its read decide. */
		bool known = r->cond_reg == ISH_COND_ALWAYS ||
			     (r->cond_reg == ISH_COND_CAP ? !cap_err : !ecap_err);
		bool present = !known || ish_reg_present(r, cap, ecap);
		const struct ish_error *why;

		if (!present && !(flags & ISH_REGS_ALL))
			continue;
		switch (r->loc) {
		case ISH_REG_FIXED:
			err = read_emit(t, unit, fn, arg, r, 0, r->offset, present);
			break;
		case ISH_REG_FRCD:
			if (cap_err) {
				why = cap_err;
				err = emit(fn, arg, r, 0, 0, present, 0, why);
				break;
			}
			for (unsigned n = 0; n < cap_num_fault_regs(cap) && !err; n++)
				err = read_emit(t, unit, fn, arg, r, n,
						cap_fault_reg_offset(cap) + 16 * n + r->offset, present);
			break;
		case ISH_REG_IRO:
			if (ecap_err) {
				why = ecap_err;
				err = emit(fn, arg, r, 0, 0, present, 0, why);
				break;
			}
			err = read_emit(t, unit, fn, arg, r, 0, ecap_iotlb_offset(ecap) + r->offset,
					present);
			break;
		}
	}
	ish_error_destroy(cap_err);
	ish_error_destroy(ecap_err);
	return err;
}

struct ish_error *ish_unit_reg_read(struct ish_target *t, unsigned unit,
				    const struct ish_reg_def *r, unsigned index, uint64_t *ret)
{
	uint64_t cap = 0, ecap = 0;
	uint32_t offset;
	struct ish_error *err;

	if (r->loc == ISH_REG_FRCD) {
		err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap);
		if (err)
			return ish_error_prefix(err, "%s needs CAP", r->name);
	} else if (r->loc == ISH_REG_IRO) {
		err = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ecap);
		if (err)
			return ish_error_prefix(err, "%s needs ECAP", r->name);
	}
	err = ish_reg_offset(r, index, cap, ecap, &offset);
	if (err)
		return err;
	return ish_read_reg(t, unit, offset, r->width, ret);
}
