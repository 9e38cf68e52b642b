/* SPDX-License-Identifier: MIT */
/*
 * Root, context and PASID tables (Intel VT-d 5.0, chapter 9), decoded.
 * Names follow Linux drivers/iommu/intel/iommu.h and pasid.h and QEMU
 * hw/i386/intel_iommu_internal.h.
 *
 * The decoders are pure: they take raw qwords (little-endian values as the
 * hardware reads them) and never fail. Whatever is wrong with an entry
 * (reserved bits set, impossible TT/PGTT/AW values) is listed in its
 * problems, and the raw qwords are kept beside the decoded fields.
 *
 * Every structure also has a field table (data, not code) that drives the
 * shell's printer and JSON: see ish_entry_fields().
 */
#ifndef IOMMUSH_CONTEXT_H
#define IOMMUSH_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "No PASID": a request without a PASID prefix. */
#define ISH_PASID_NONE 0xffffffffu
#define ISH_PASID_MAX 0xfffffu		/* PASIDs are 20 bits */

/* Something wrong with an entry. what is a static string (never freed). */
struct ish_problem {
	const char *what;
	uint8_t qword;		/* which raw qword the bits are in */
	uint64_t bits;		/* the offending bits, 0 if not about bits */
	bool reserved;		/* reserved bits set (else: an impossible value) */
};

#define ISH_MAX_PROBLEMS 8
struct ish_problems {
	unsigned n;		/* at most ISH_MAX_PROBLEMS are kept */
	struct ish_problem p[ISH_MAX_PROBLEMS];
};

/*
 * 9.1 root entry (legacy, 128 bits) and 9.2 scalable-mode root entry.
 * Legacy: P (0), CTP (63:12); bits 127:64 reserved.
 * Scalable: LP (0), LCTP (63:12) for devfn 0..127; UP (64), UCTP (127:76)
 * for devfn 128..255.
 */
struct ish_root_entry {
	uint64_t raw[2];
	bool scalable;
	bool present;		/* legacy P */
	uint64_t ctp;		/* legacy context-table pointer */
	bool lp, up;		/* scalable lower/upper present */
	uint64_t lctp, uctp;	/* scalable lower/upper context-table pointers */
	struct ish_problems problems;
};

/*
 * 9.3 context entry (legacy, 128 bits) and 9.4 scalable-mode context entry
 * (256 bits). Only the fields of the entry's mode are meaningful.
 */
enum {
	CONTEXT_TT_MULTI_LEVEL = 0,	/* untranslated requests walk SL tables */
	CONTEXT_TT_DEV_IOTLB = 1,	/* ... and translated/translation requests too */
	CONTEXT_TT_PASS_THROUGH = 2,
};

struct ish_context_entry {
	uint64_t raw[4];	/* legacy uses raw[0..1] */
	bool scalable;
	bool present;		/* P, bit 0 */
	bool fpd;		/* FPD, bit 1 */
	/* legacy */
	unsigned tt;		/* TT, bits 3:2 */
	uint64_t slptptr;	/* SLPTPTR, bits 63:12 */
	unsigned aw;		/* AW, bits 66:64 */
	unsigned avail;		/* AVAIL, bits 70:67 (software) */
	uint16_t did;		/* DID, bits 87:72 */
	/* scalable */
	bool dte;		/* DTE, bit 2 */
	bool paside;		/* PASIDE, bit 3 */
	bool pre;		/* PRE, bit 4 */
	unsigned pdts;		/* PDTS, bits 11:9: directory has 2^(PDTS+7) entries */
	uint64_t pasiddirptr;	/* PASIDDIRPTR, bits 63:12 */
	uint32_t rid_pasid;	/* RID_PASID, bits 83:64 */
	bool rid_priv;		/* RID_PRIV, bit 84 */
	struct ish_problems problems;
};

/* 9.5 scalable-mode PASID directory entry (64 bits). */
struct ish_pasid_dir_entry {
	uint64_t raw;
	bool present;		/* P, bit 0 */
	bool fpd;		/* FPD, bit 1 */
	uint64_t smptblptr;	/* SMPTBLPTR, bits 63:12 */
	struct ish_problems problems;
};

/* 9.6 scalable-mode PASID table entry (512 bits). Bit numbers are absolute. */
enum {
	PASID_ENTRY_PGTT_FL_ONLY = 1,
	PASID_ENTRY_PGTT_SL_ONLY = 2,
	PASID_ENTRY_PGTT_NESTED = 3,
	PASID_ENTRY_PGTT_PT = 4,
};

struct ish_pasid_entry {
	uint64_t raw[8];
	bool present;		/* P, 0 */
	bool fpd;		/* FPD, 1 */
	unsigned aw;		/* AW, 4:2 (second-level) */
	bool slee;		/* SLEE, 5: second-level execute enable */
	unsigned pgtt;		/* PGTT, 8:6 */
	bool slade;		/* SLADE, 9: second-level A/D enable */
	uint64_t slptptr;	/* SLPTPTR, 63:12 */
	uint16_t did;		/* DID, 79:64 */
	bool pwsnp;		/* PWSNP, 87: page-walk snoop */
	bool pgsnp;		/* PGSNP, 88: page snoop */
	bool cd;		/* CD, 89 */
	bool emte;		/* EMTE, 90 */
	unsigned emt;		/* EMT, 93:91 */
	bool pwt;		/* PWT, 94 */
	bool pcd;		/* PCD, 95 */
	uint32_t pat;		/* PAT, 127:96 */
	bool sre;		/* SRE, 128: supervisor requests */
	bool ere;		/* ERE, 129: execute requests */
	unsigned flpm;		/* FLPM, 131:130: 0 = 4-level, 1 = 5-level */
	bool wpe;		/* WPE, 132 */
	bool eafe;		/* EAFE, 135 */
	uint64_t flptptr;	/* FLPTPTR, 191:140 */
	struct ish_problems problems;
};

/*
 * haw: the host address width used to check pointer fields (bits haw..63
 * of an address field must be 0); pass 64 to skip that check. The unit's
 * MGAW is a reasonable value: the real HAW is not in any register.
 */
void ish_decode_root_entry(const uint64_t raw[2], bool scalable, unsigned haw,
			   struct ish_root_entry *ret);
void ish_decode_context_entry(const uint64_t raw[4], bool scalable, unsigned haw,
			      struct ish_context_entry *ret);
void ish_decode_pasid_dir_entry(uint64_t raw, unsigned haw, struct ish_pasid_dir_entry *ret);
void ish_decode_pasid_entry(const uint64_t raw[8], unsigned haw, struct ish_pasid_entry *ret);

/* Root/context entry helpers on decoded entries. */
/* The context table pointer that covers devfn, and whether it is present. */
bool ish_root_entry_ctp(const struct ish_root_entry *re, unsigned devfn, uint64_t *ctp);
/* Where a context entry lives: table + index * (16 or 32). */
uint64_t ish_context_entry_addr(uint64_t ctp, unsigned devfn, bool scalable);
/* Number of PASID directory entries a scalable context entry allows. */
static inline uint32_t ish_pasid_dir_entries(const struct ish_context_entry *ce)
{
	return 1u << (ce->pdts + 7);
}

/* Readers: one entry from memory, decoded. Errors are read errors only. */
struct ish_error *ish_read_root_entry(struct ish_target *t, uint64_t rta, unsigned bus,
				      bool scalable, unsigned haw, struct ish_root_entry *ret);
struct ish_error *ish_read_context_entry(struct ish_target *t, uint64_t ctp, unsigned devfn,
					 bool scalable, unsigned haw,
					 struct ish_context_entry *ret);
struct ish_error *ish_read_pasid_dir_entry(struct ish_target *t, uint64_t dir, uint32_t pasid,
					   unsigned haw, struct ish_pasid_dir_entry *ret);
struct ish_error *ish_read_pasid_entry(struct ish_target *t, uint64_t table, uint32_t pasid,
				       unsigned haw, struct ish_pasid_entry *ret);

/* Names for printing; unknown values give "??N" in buf-free static form. */
const char *ish_context_tt_name(unsigned tt);	/* "multi-level", "dev-iotlb", "pass-through" */
const char *ish_pgtt_name(unsigned pgtt);	/* "fl-only", "sl-only", "nested", "pass-through" */

/*
 * Field tables: each structure as data. A field is bits hi..lo (absolute
 * bit numbers inside the entry, so a 512-bit PASID entry has bits up to
 * 511). Tables end with { NULL }.
 */
enum ish_entry_kind {
	ISH_ENTRY_ROOT,
	ISH_ENTRY_SM_ROOT,
	ISH_ENTRY_CONTEXT,
	ISH_ENTRY_SM_CONTEXT,
	ISH_ENTRY_PASID_DIR,
	ISH_ENTRY_PASID,
	ISH_ENTRY_SL_PTE,
	ISH_ENTRY_FL_PTE,
};

struct ish_entry_field {
	const char *name;	/* as in the spec / Linux / QEMU */
	uint16_t hi, lo;	/* absolute bit numbers */
	bool addr;		/* the value is an address: print value << lo */
};

const struct ish_entry_field *ish_entry_fields(enum ish_entry_kind kind);
/* The number of 64-bit words of an entry kind (2, 4, 1, 8, 1, 1). */
unsigned ish_entry_qwords(enum ish_entry_kind kind);
/* Value of f in raw (fields never cross a qword boundary). */
uint64_t ish_entry_field_get(const uint64_t *raw, const struct ish_entry_field *f);

#ifdef __cplusplus
}
#endif

#endif
