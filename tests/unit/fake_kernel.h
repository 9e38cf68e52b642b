/* SPDX-License-Identifier: MIT */
/*
 * A small synthetic Linux x86-64 kernel in a mem target, laid out as the
 * real one is (Linux kernel/vmcore_info.c, scripts/kallsyms.c,
 * include/uapi/linux/btf.h, include/linux/dmar.h): a VMCOREINFO page, an
 * image mapped at phys_base (negative, as under KASLR) holding kallsyms
 * tables, page_offset_base, dmar_drhd_units and BTF, and one VT-d unit's
 * dmar_drhd_unit / intel_iommu / q_inval / ir_table in the direct map.
 * Shared by tests/unit/test_kernel.c and the kernel fuzz harnesses.
 */
#ifndef IOMMUSH_FAKE_KERNEL_H
#define IOMMUSH_FAKE_KERNEL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/mem.h>
#include <iommush/target.h>

#define FK_RAM_SIZE 0x400000ULL
#define FK_START_MAP 0xffffffff80000000ULL
#define FK_TEXT_VA 0xffffffff81000000ULL
#define FK_TEXT_PA 0x200000ULL
/* pa = va - FK_START_MAP + phys_base */
#define FK_PHYS_BASE (FK_TEXT_PA - (FK_TEXT_VA - FK_START_MAP))
#define FK_POB 0xff11000000000000ULL	/* page_offset_base, "randomized" */
#define FK_VMCI_PA 0x3fe000ULL
#define FK_DRHD_PA 0x300000ULL
#define FK_IOMMU_PA 0x301000ULL
#define FK_QI_PA 0x302000ULL
#define FK_IRT_PA 0x302100ULL
#define FK_DESC_PA 0x304000ULL
#define FK_ROOT_PA 0x305000ULL
#define FK_IRTBASE_PA 0x310000ULL

/* The kallsyms tables: one 4 KiB region at the start of the image (the fuzz harness replaces it). */
#define FK_KS_OFFSETS 0x000
#define FK_KS_BASE 0x100
#define FK_KS_NUM 0x108
#define FK_KS_NAMES 0x200
#define FK_KS_TOKTAB 0x800
#define FK_KS_TOKIDX 0xe00
#define FK_KS_SIZE 0x1000
/* Variables, after it */
#define FK_VAR_POB 0x2000
#define FK_VAR_DRHD_UNITS 0x2100
#define FK_BTF 0x3000

struct fk_sym {
	const char *name;
	uint64_t addr;
};

static const struct fk_sym fk_syms[] = {
	{ "_stext", FK_TEXT_VA + 0x0 },
	{ "page_offset_base", FK_TEXT_VA + FK_VAR_POB },
	{ "dmar_drhd_units", FK_TEXT_VA + FK_VAR_DRHD_UNITS },
	{ "__start_BTF", FK_TEXT_VA + FK_BTF },
	{ "__stop_BTF", 0 },	/* filled in */
	{ "fixed_percpu_data", 0x0 },	/* absolute per-CPU symbol */
	{ "cpu_number", 0x2000c },	/* absolute per-CPU symbol */
	{ "intel_iommu_sm", FK_TEXT_VA + 0x2200 },
	{ "intel_iommu_sm", FK_TEXT_VA + 0x2300 },	/* a duplicate: the first wins */
};
#define FK_NSYMS (sizeof(fk_syms) / sizeof(fk_syms[0]))

static inline void fk_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- a BTF writer --- */

struct fk_btf {
	uint8_t types[4096];
	size_t tlen;
	char strs[2048];
	size_t slen;
	uint32_t next_id;
};

static inline uint32_t fk_str(struct fk_btf *b, const char *s)
{
	uint32_t off = (uint32_t)b->slen;

	if (!*s)
		return 0;
	memcpy(b->strs + b->slen, s, strlen(s) + 1);
	b->slen += strlen(s) + 1;
	return off;
}

static inline uint32_t fk_type(struct fk_btf *b, const char *name, unsigned kind, unsigned vlen,
			bool kflag, uint32_t size_type)
{
	uint8_t *p = b->types + b->tlen;

	fk_put(p, fk_str(b, name), 4);
	fk_put(p + 4, (uint32_t)vlen | (uint32_t)kind << 24 | (uint32_t)kflag << 31, 4);
	fk_put(p + 8, size_type, 4);
	b->tlen += 12;
	return b->next_id++;
}

static inline void fk_u32(struct fk_btf *b, uint32_t v)
{
	fk_put(b->types + b->tlen, v, 4);
	b->tlen += 4;
}

static inline void fk_member(struct fk_btf *b, const char *name, uint32_t type, uint32_t bit_off,
		      unsigned bit_size)
{
	fk_u32(b, fk_str(b, name));
	fk_u32(b, type);
	fk_u32(b, bit_off | (uint32_t)bit_size << 24);
}

/* Kinds, as include/uapi/linux/btf.h numbers them. */
enum { FK_INT = 1, FK_PTR, FK_ARRAY, FK_STRUCT, FK_UNION, FK_ENUM, FK_FWD, FK_TYPEDEF,
       FK_VOLATILE, FK_CONST };

/* Writes the blob into out (at most cap bytes); returns its length. */
static inline size_t fk_build_btf(uint8_t *out, size_t cap)
{
	struct fk_btf *b = calloc(1, sizeof(*b));
	uint32_t ull, u64, sint, uchar, u8, usht, u16, uint_, u32, voidp, lh, lhp, drhd, iommu,
		 iommup, qi, qip, irt, irtp, chr, name16, rsl, rslt, cint, anon;
	size_t len, iommup_off;

	b->slen = 1;	/* offset 0 is "" */
	b->next_id = 1;
	ull = fk_type(b, "long long unsigned int", FK_INT, 0, false, 8);
	fk_u32(b, 64);
	u64 = fk_type(b, "u64", FK_TYPEDEF, 0, false, ull);
	sint = fk_type(b, "int", FK_INT, 0, false, 4);
	fk_u32(b, 1u << 24 | 32);	/* BTF_INT_SIGNED */
	uchar = fk_type(b, "unsigned char", FK_INT, 0, false, 1);
	fk_u32(b, 8);
	u8 = fk_type(b, "u8", FK_TYPEDEF, 0, false, uchar);
	usht = fk_type(b, "short unsigned int", FK_INT, 0, false, 2);
	fk_u32(b, 16);
	u16 = fk_type(b, "u16", FK_TYPEDEF, 0, false, usht);
	uint_ = fk_type(b, "unsigned int", FK_INT, 0, false, 4);
	fk_u32(b, 32);
	u32 = fk_type(b, "u32", FK_TYPEDEF, 0, false, uint_);
	voidp = fk_type(b, "", FK_PTR, 0, false, 0);
	lh = fk_type(b, "list_head", FK_STRUCT, 2, false, 16);
	lhp = lh + 1;
	fk_member(b, "next", lhp, 0, 0);
	fk_member(b, "prev", lhp, 64, 0);
	fk_type(b, "", FK_PTR, 0, false, lh);	/* lhp */
	/* struct dmar_drhd_unit, 6.1 layout, bitfields with kind_flag */
	drhd = fk_type(b, "dmar_drhd_unit", FK_STRUCT, 6, true, 56);
	iommup = drhd + 1;
	fk_member(b, "list", lh, 0, 0);
	fk_member(b, "reg_base_addr", u64, 24 * 8, 0);
	fk_member(b, "segment", u16, 44 * 8, 0);
	fk_member(b, "ignored", u8, 46 * 8, 1);
	fk_member(b, "include_all", u8, 46 * 8 + 1, 1);
	fk_member(b, "iommu", iommup, 48 * 8, 0);
	iommup_off = b->tlen;
	fk_type(b, "", FK_PTR, 0, false, 0);	/* iommup, patched below */
	chr = fk_type(b, "char", FK_INT, 0, false, 1);
	fk_u32(b, 2u << 24 | 8);	/* BTF_INT_CHAR */
	name16 = fk_type(b, "", FK_ARRAY, 0, false, 0);
	fk_u32(b, chr);
	fk_u32(b, sint);
	fk_u32(b, 16);
	/* raw_spinlock_t, for a dotted member */
	rsl = fk_type(b, "raw_spinlock", FK_STRUCT, 1, false, 4);
	fk_member(b, "raw_lock", sint, 0, 0);
	rslt = fk_type(b, "raw_spinlock_t", FK_TYPEDEF, 0, false, rsl);
	cint = fk_type(b, "", FK_CONST, 0, false, sint);
	qi = fk_type(b, "q_inval", FK_STRUCT, 6, false, 40);
	fk_member(b, "q_lock", rslt, 0, 0);
	fk_member(b, "desc", voidp, 64, 0);
	fk_member(b, "desc_status", voidp, 128, 0);
	fk_member(b, "free_head", sint, 192, 0);
	fk_member(b, "free_tail", sint, 224, 0);
	fk_member(b, "free_cnt", cint, 256, 0);
	qip = fk_type(b, "", FK_PTR, 0, false, qi);
	irt = fk_type(b, "ir_table", FK_STRUCT, 2, false, 16);
	fk_member(b, "base", voidp, 0, 0);
	fk_member(b, "bitmap", voidp, 64, 0);
	irtp = fk_type(b, "", FK_PTR, 0, false, irt);
	/* an anonymous union inside intel_iommu, as the kernel has them */
	anon = fk_type(b, "", FK_UNION, 2, false, 8);
	fk_member(b, "flags_word", u64, 0, 0);
	fk_member(b, "flags_int", sint, 0, 0);
	iommu = fk_type(b, "intel_iommu", FK_STRUCT, 12, false, 392);
	fk_member(b, "reg_phys", u64, 8 * 8, 0);
	fk_member(b, "reg_size", u64, 16 * 8, 0);
	fk_member(b, "cap", u64, 24 * 8, 0);
	fk_member(b, "ecap", u64, 32 * 8, 0);
	fk_member(b, "gcmd", u32, 48 * 8, 0);
	fk_member(b, "seq_id", sint, 56 * 8, 0);
	fk_member(b, "name", name16, 78 * 8, 0);
	fk_member(b, "root_entry", voidp, 120 * 8, 0);
	fk_member(b, "qi", qip, 272 * 8, 0);
	fk_member(b, "ir_table", irtp, 296 * 8, 0);
	fk_member(b, "", anon, 304 * 8, 0);
	fk_member(b, "flags", u32, 372 * 8, 0);
	fk_type(b, "ghost", FK_FWD, 0, false, 0);
	/* iommup points at struct intel_iommu, whose id is known only now */
	fk_put(b->types + iommup_off + 8, iommu, 4);
	(void)u32;
	len = 24 + b->tlen + b->slen;
	if (len <= cap) {
		fk_put(out, 0xeb9f, 2);
		out[2] = 1;
		out[3] = 0;
		fk_put(out + 4, 24, 4);
		fk_put(out + 8, 0, 4);
		fk_put(out + 12, b->tlen, 4);
		fk_put(out + 16, b->tlen, 4);
		fk_put(out + 20, b->slen, 4);
		memcpy(out + 24, b->types, b->tlen);
		memcpy(out + 24 + b->tlen, b->strs, b->slen);
	}
	free(b);
	return len;
}

/* --- kallsyms --- */

/* The 4 KiB kallsyms region: tokens are single bytes (token i is the character i). */
static inline void fk_build_kallsyms(uint8_t *ks, uint64_t stop_btf)
{
	uint64_t base = FK_TEXT_VA;
	size_t names = FK_KS_NAMES, tt = 0;

	memset(ks, 0, FK_KS_SIZE);
	fk_put(ks + FK_KS_BASE, base, 8);
	fk_put(ks + FK_KS_NUM, FK_NSYMS, 4);
	for (unsigned i = 0; i < 256; i++) {
		fk_put(ks + FK_KS_TOKIDX + 2 * i, tt, 2);
		/* token 0 is "ab" (never used), the others one character each */
		if (i == 0) {
			memcpy(ks + FK_KS_TOKTAB + tt, "ab", 3);
			tt += 3;
		} else {
			ks[FK_KS_TOKTAB + tt] = (uint8_t)i;
			tt += 2;
		}
	}
	for (size_t s = 0; s < FK_NSYMS; s++) {
		uint64_t addr = s == 4 ? stop_btf : fk_syms[s].addr;
		size_t n = strlen(fk_syms[s].name) + 1;
		int32_t off;

		/* absolute-percpu encoding: >= 0 absolute, else base - 1 - offset */
		if (addr < 0x80000000ULL)
			off = (int32_t)addr;
		else
			off = (int32_t)(-(int64_t)(addr - base) - 1);
		fk_put(ks + FK_KS_OFFSETS + 4 * s, (uint32_t)off, 4);
		ks[names++] = (uint8_t)n;
		ks[names++] = s < 5 ? 'T' : 'D';
		memcpy(ks + names, fk_syms[s].name, n - 1);
		names += n - 1;
	}
}

static inline void fk_vmcoreinfo(char *buf, size_t len)
{
	snprintf(buf, len,
		 "OSRELEASE=6.1.0-fake\n"
		 "PAGESIZE=4096\n"
		 "SYMBOL(kallsyms_names)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_num_syms)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_token_table)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_token_index)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_offsets)=%" PRIx64 "\n"
		 "SYMBOL(kallsyms_relative_base)=%" PRIx64 "\n"
		 "NUMBER(phys_base)=%" PRId64 "\n"
		 "KERNELOFFSET=0\n"
		 "NUMBER(pgtable_l5_enabled)=1\n",
		 (uint64_t)(FK_TEXT_VA + FK_KS_NAMES), (uint64_t)(FK_TEXT_VA + FK_KS_NUM),
		 (uint64_t)(FK_TEXT_VA + FK_KS_TOKTAB), (uint64_t)(FK_TEXT_VA + FK_KS_TOKIDX),
		 (uint64_t)(FK_TEXT_VA + FK_KS_OFFSETS), (uint64_t)(FK_TEXT_VA + FK_KS_BASE),
		 (int64_t)FK_PHYS_BASE);
}

/* The whole kernel in a new mem target with params; RAM is [0, FK_RAM_SIZE). */
static inline struct ish_error *fk_build_flags(const struct ish_param *params, size_t nparams,
					       unsigned flags, struct ish_target **ret);

static inline struct ish_error *fk_build_params(const struct ish_param *params, size_t nparams,
					 struct ish_target **ret)
{
	return fk_build_flags(params, nparams, ISH_OPEN_WRITE, ret);
}

/* The same, opened with flags (ISH_OPEN_WRITE | ISH_OPEN_FORCE, ...). */
static inline struct ish_error *fk_build_flags(const struct ish_param *params, size_t nparams,
					       unsigned flags, struct ish_target **ret)
{
	struct ish_target *t;
	struct ish_error *err;
	uint8_t *ram, *img, *p;
	size_t btf_len;

	err = ish_target_open("mem", "mem", params, nparams, flags, &t);
	if (err)
		return err;
	err = ish_mem_add_ram(t, 0, FK_RAM_SIZE, (void **)&ram);
	if (err) {
		ish_target_close(t);
		return err;
	}
	img = ram + FK_TEXT_PA;
	btf_len = fk_build_btf(img + FK_BTF, FK_TEXT_PA);
	fk_build_kallsyms(img, FK_TEXT_VA + FK_BTF + btf_len);
	fk_put(img + FK_VAR_POB, FK_POB, 8);
	/* dmar_drhd_units -> one unit -> back to the head */
	fk_put(img + FK_VAR_DRHD_UNITS, FK_POB + FK_DRHD_PA, 8);
	fk_put(img + FK_VAR_DRHD_UNITS + 8, FK_POB + FK_DRHD_PA, 8);
	p = ram + FK_DRHD_PA;
	fk_put(p + 0, FK_TEXT_VA + FK_VAR_DRHD_UNITS, 8);
	fk_put(p + 8, FK_TEXT_VA + FK_VAR_DRHD_UNITS, 8);
	fk_put(p + 24, 0xfed90000, 8);
	fk_put(p + 44, 0, 2);
	p[46] = 0x2 | 0x4;	/* include_all, gfx_dedicated */
	fk_put(p + 48, FK_POB + FK_IOMMU_PA, 8);
	p = ram + FK_IOMMU_PA;
	fk_put(p + 8, 0xfed90000, 8);
	fk_put(p + 24, 0xd2008c22260286ULL, 8);
	fk_put(p + 32, 0xf00f5eULL, 8);
	fk_put(p + 48, 0x86000000, 4);
	fk_put(p + 56, 0, 4);
	memcpy(p + 78, "dmar0", 6);
	fk_put(p + 120, FK_POB + FK_ROOT_PA, 8);
	fk_put(p + 272, FK_POB + FK_QI_PA, 8);
	fk_put(p + 296, FK_POB + FK_IRT_PA, 8);
	fk_put(p + 304, 0x1122334455667788ULL, 8);
	p = ram + FK_QI_PA;
	fk_put(p + 0, 0x1234, 4);
	fk_put(p + 8, FK_POB + FK_DESC_PA, 8);
	fk_put(p + 24, 37, 4);
	fk_put(p + 28, 35, 4);
	fk_put(p + 32, 254, 4);
	p = ram + FK_IRT_PA;
	fk_put(p + 0, FK_POB + FK_IRTBASE_PA, 8);
	fk_vmcoreinfo((char *)ram + FK_VMCI_PA, 4096);
	*ret = t;
	return NULL;
}

static inline struct ish_error *fk_build(struct ish_target **ret)
{
	return fk_build_params(NULL, 0, ret);
}

static inline uint8_t *fk_ram(struct ish_target *t)
{
	return ish_mem_ptr(t, 0, FK_RAM_SIZE);
}

#endif
