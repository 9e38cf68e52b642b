/* SPDX-License-Identifier: MIT */
/*
 * VT-d remapping-unit registers as data (Intel VT-d spec 5.0, chapter 11;
 * names as in Linux drivers/iommu/intel/iommu.h DMAR_*_REG and QEMU
 * hw/i386/intel_iommu_internal.h). One table drives the text printer, the
 * JSON output, Lua's reg.fields, the dump parser and the tests.
 *
 * Most registers sit at a fixed offset from the unit's register base. Two
 * groups move with the capability registers:
 *   - fault recording registers: CAP.NFR+1 records of 128 bits at CAP.FRO*16,
 *     each split here into FRCD<n>_LO (+0) and FRCD<n>_HI (+8);
 *   - IVA (+0) and IOTLB (+8) at ECAP.IRO*16.
 * ish_reg_offset() resolves both.
 */
#ifndef IOMMUSH_REGS_H
#define IOMMUSH_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A named value of a field; tables end with { 0, NULL }. */
struct ish_value_name {
	uint64_t value;
	const char *name;
};

/* How a field's value reads to a human (the "(meaning)" in regs output). */
enum ish_field_fmt {
	ISH_FMT_FLAG,	/* 1-bit flag: Name+ / Name- */
	ISH_FMT_HEX,	/* a number best read in hex, no meaning */
	ISH_FMT_DEC,	/* a count, no meaning */
	ISH_FMT_ENUM,	/* values names the value; unknown values read "??N" */
	ISH_FMT_BITSET,	/* values names each bit (value = bit number) */
	ISH_FMT_ADDR,	/* meaning: value << lo, the address the field holds the top bits of */
	ISH_FMT_PLUS1,	/* meaning: value + 1 (MGAW is width-1, NFR is count-1) */
	ISH_FMT_X16,	/* meaning: value * 16, a register offset (FRO, IRO) */
	ISH_FMT_POW2_PLUS1,	/* meaning: 2^(value+1) entries (IRTA.S) */
	ISH_FMT_POW2,	/* meaning: 2^value (IQA.QS, PQA.PQS pages) */
};

/*
 * What software may do with a register or a field (VT-d spec 5.0, 11.1
 * "Register Attributes"; the sticky variants RW1CS, ROS are listed here as
 * RW1C and RO: stickiness is about resets, not about writes). Which bits
 * QEMU lets software write is in hw/i386/intel_iommu.c vtd_init() (wmask,
 * w1cmask, womask), and agrees with the table where QEMU implements a bit.
 */
enum ish_access {
	ISH_ACCESS_INHERIT = 0,	/* a field: as its register */
	ISH_ACCESS_RO,		/* read-only: writes have no effect */
	ISH_ACCESS_RW,		/* read-write */
	ISH_ACCESS_RW1C,	/* write 1 to clear; writing 0 leaves the bit alone */
	ISH_ACCESS_WO,		/* write-only: reads return 0; the effect shows elsewhere (GSTS) */
	ISH_ACCESS_RSVDZ,	/* reserved: software must write 0 */
};

/* "RO", "RW", "RW1C", "WO", "RsvdZ" (INHERIT reads "?"). */
const char *ish_access_name(enum ish_access a);
/* "read-only", "read-write", "write-1-to-clear", "write-only", "reserved". */
const char *ish_access_words(enum ish_access a);

/* One field: bits hi..lo of the register. */
struct ish_field_def {
	const char *name;	/* as in the spec / Linux: "TES", "SAGAW" */
	uint8_t hi, lo;
	enum ish_field_fmt fmt;
	const char *desc;	/* short description */
	const struct ish_value_name *values;	/* for ENUM and BITSET, else NULL */
	enum ish_access access;	/* INHERIT: the register's access */
};

/* Where a register is. */
enum ish_reg_loc {
	ISH_REG_FIXED,	/* offset from the register base */
	ISH_REG_FRCD,	/* offset inside fault record n, at CAP.FRO*16 + 16*n */
	ISH_REG_IRO,	/* offset from ECAP.IRO*16 */
};

/*
 * Whether the hardware implements a register, from a CAP or ECAP bit. On a
 * unit whose CAP/ECAP cannot be read every register counts as present.
 */
enum ish_reg_cond_reg {
	ISH_COND_ALWAYS,
	ISH_COND_CAP,
	ISH_COND_ECAP,
};

struct ish_reg_def {
	const char *name;	/* "GSTS"; DMAR_<name>_REG in Linux */
	const char *alias;	/* another accepted name ("IQER" for IQERCD), or NULL */
	uint32_t offset;	/* see loc */
	uint8_t width;		/* 32 or 64 */
	enum ish_reg_loc loc;
	enum ish_reg_cond_reg cond_reg;
	uint8_t cond_bit;	/* CAP/ECAP bit that says the register exists */
	const struct ish_field_def *fields;
	size_t nfields;
	const char *desc;	/* "Global Status" */
	const char *spec;	/* VT-d 5.0 section, "11.4.4.2" */
	/*
	 * The register's access: RO registers refuse every write; a register
	 * with fields of several kinds (FSTS: RW1C and RO) names the kind
	 * that writes do, and its fields say the rest. Bits in no field are
	 * reserved (RsvdZ).
	 */
	enum ish_access access;
};

/* The register table: fixed registers in offset order, then IVA, IOTLB, FRCD_LO, FRCD_HI. */
const struct ish_reg_def *ish_reg_table(size_t *n);

/*
 * Finds a register by name, case-insensitively, with or without the Linux
 * spelling "DMAR_..._REG": "gsts", "DMAR_GSTS_REG", "IQER", "FRCD3_HI",
 * "IOTLB_REG". For fault records the record number is stored in *index
 * (index may be NULL; it is 0 for every other register). NULL if unknown.
 */
const struct ish_reg_def *ish_reg_parse(const char *name, unsigned *index);
/* ish_reg_parse() without the index. */
const struct ish_reg_def *ish_reg_find(const char *name);

/*
 * The offset of a register (instance index for FRCD) from the register base,
 * given CAP and ECAP. ISH_ERROR_INVALID for a record number past CAP.NFR.
 */
struct ish_error *ish_reg_offset(const struct ish_reg_def *r, unsigned index, uint64_t cap,
				 uint64_t ecap, uint32_t *ret);
/*
 * The register at offset from the register base, given CAP and ECAP (0 when
 * unknown: then only fixed registers are found); for a fault record its
 * number goes to *index (may be NULL). NULL if no register starts there.
 */
const struct ish_reg_def *ish_reg_at(uint32_t offset, uint64_t cap, uint64_t ecap,
				     unsigned *index);
/* Does the hardware with these CAP/ECAP implement r? */
bool ish_reg_present(const struct ish_reg_def *r, uint64_t cap, uint64_t ecap);
/* "GSTS", or "FRCD3_HI" for an instance; buf of at least 32 bytes. */
const char *ish_reg_instance_name(const struct ish_reg_def *r, unsigned index, char *buf,
				  size_t len);

/* A field's access, with INHERIT resolved to the register's. */
enum ish_access ish_field_access(const struct ish_reg_def *r, const struct ish_field_def *f);
/* The bits of r whose access is a (RSVDZ: the bits in no field, or RsvdZ fields). */
uint64_t ish_reg_access_mask(const struct ish_reg_def *r, enum ish_access a);

/*
 * The register that an access of width bits at offset touches: one that
 * starts there, or (a 32-bit access) the upper half of a 64-bit register;
 * *shift gets 0 or 32, the position of the access in the register. CAP and
 * ECAP as for ish_reg_at(). NULL if no register covers the access.
 */
const struct ish_reg_def *ish_reg_for_access(uint32_t offset, unsigned width, uint64_t cap,
					     uint64_t ecap, unsigned *index, unsigned *shift);

/*
 * What writing value (at bit shift of the register, see ish_reg_for_access)
 * does beyond storing it, for a register that may be written: RW1C bits
 * ("FSTS is RW1C: writing 1 clears IQE; 0 leaves a bit as it is; PPF, FRI
 * are RO"), reserved bits set, RO bits that the write cannot change. The
 * note goes into buf; returns buf, or NULL when there is nothing to say.
 * name is the instance name ("FRCD0_HI").
 */
const char *ish_reg_write_note(const struct ish_reg_def *r, const char *name, uint64_t value,
			       unsigned shift, char *buf, size_t len);

/* A field by name (case-insensitive), or NULL. */
const struct ish_field_def *ish_field_find(const struct ish_reg_def *r, const char *name);
/* The field's value in a register value: bits hi..lo. */
static inline uint64_t ish_field_get(const struct ish_field_def *f, uint64_t reg)
{
	unsigned w = (unsigned)(f->hi - f->lo) + 1;

	return (reg >> f->lo) & (w >= 64 ? ~0ULL : ((1ULL << w) - 1));
}

/* The name of v in a { 0, NULL }-terminated table, or NULL. */
const char *ish_value_lookup(const struct ish_value_name *t, uint64_t v);
/*
 * The human meaning of a field value into buf ("scalable", "39-bit,48-bit",
 * "0x220", "??3"): unknown enum values and unnamed set bits read "??N", as
 * pciutils does. Returns buf, or NULL if the field has no meaning to show
 * (FLAG, HEX, DEC).
 */
const char *ish_field_meaning(const struct ish_field_def *f, uint64_t v, char *buf, size_t len);

/* One register of one unit, as enumerated by ish_unit_regs(). */
struct ish_reg_value {
	const struct ish_reg_def *def;
	char name[32];		/* instance name: "GSTS", "FRCD0_HI" */
	unsigned index;		/* record number for FRCD, else 0 */
	uint32_t offset;	/* resolved offset from the register base */
	bool present;		/* the hardware says it implements this register */
	uint64_t value;		/* valid if err is NULL */
	/*
	 * Why the register could not be read (not captured in a dump, bus
	 * error, ...), or NULL. Owned by the enumerator: valid during the
	 * callback only.
	 */
	const struct ish_error *err;
};

enum {
	/* Also list registers the unit does not implement per CAP/ECAP. */
	ISH_REGS_ALL = 1u << 0,
};

/*
 * Reads every register of unit (fixed ones, then FRCD0..NFR, IVA, IOTLB with
 * offsets resolved from CAP/ECAP) and calls fn for each, in table order. A
 * register that cannot be read is passed with err set, not fatal. Registers
 * whose offset depends on an unreadable CAP/ECAP are passed once with err
 * set. Stops and returns the first error fn returns; an unknown unit is
 * ISH_ERROR_NOT_FOUND.
 */
typedef struct ish_error *ish_reg_fn(void *arg, const struct ish_reg_value *v);
struct ish_error *ish_unit_regs(struct ish_target *t, unsigned unit, unsigned flags,
				ish_reg_fn *fn, void *arg);
/*
 * Reads one register instance of unit (resolving a dynamic offset through
 * CAP/ECAP read from the unit).
 */
struct ish_error *ish_unit_reg_read(struct ish_target *t, unsigned unit,
				    const struct ish_reg_def *r, unsigned index, uint64_t *ret);

#ifdef __cplusplus
}
#endif

#endif
