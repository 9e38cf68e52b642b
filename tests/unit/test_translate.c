// SPDX-License-Identifier: MIT
/*
 * ish_translate() against tables built in the mem backend: legacy and
 * scalable mode, 3/4/5-level second-level, 4/5-level first-level, nested,
 * pass-through, superpages, and every fault reason the tables can raise.
 */
#include <iommush/backend.h>
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "check.h"
#include "image.h"

#define RAM_SIZE (32ULL << 20)
#define REG_BASE 0xfed90000ULL

/* CAP: SAGAW 3/4/5-level, MGAW 57, SLLPS 2M+1G, FL1GP, 5LP */
#define CAP_ALL ((0xeULL << 8) | (56ULL << 16) | (3ULL << 34) | (1ULL << 56) | (1ULL << 60))
/* ECAP: PT, SC, NEST, PASID, SMTS, SLTS, FLTS */
#define ECAP_ALL ((1ULL << 6) | (1ULL << 7) | (1ULL << 26) | (1ULL << 40) | (1ULL << 43) | \
		  (1ULL << 46) | (1ULL << 47))

struct fx {
	struct ish_target *t;
	uint64_t next;		/* page allocator */
	uint64_t rta;
	bool scalable;
};

static uint64_t get(struct fx *f, uint64_t addr)
{
	return img_get(f->t, addr);
}

static void put(struct fx *f, uint64_t addr, uint64_t v)
{
	img_put(f->t, addr, v);
}

static uint64_t page(struct fx *f)
{
	return img_page(&f->next);
}

static void fx_init(struct fx *f, bool scalable, uint64_t cap, uint64_t ecap)
{
	unsigned u;

	memset(f, 0, sizeof(*f));
	f->scalable = scalable;
	OK(ish_mem_open(&f->t));
	OK(ish_mem_add_ram(f->t, 0, RAM_SIZE, NULL));
	OK(ish_mem_add_unit(f->t, REG_BASE, 0, &u));
	f->next = 0x100000;
	f->rta = page(f);
	OK(ish_mem_set_reg(f->t, 0, DMAR_CAP_REG, 64, cap));
	OK(ish_mem_set_reg(f->t, 0, DMAR_ECAP_REG, 64, ecap));
	OK(ish_mem_set_reg(f->t, 0, DMAR_GSTS_REG, 32, DMA_GSTS_TES | DMA_GSTS_RTPS));
	OK(ish_mem_set_reg(f->t, 0, DMAR_RTADDR_REG, 64, f->rta | (scalable ? 1ULL << 10 : 0)));
}

/* Legacy context for bdf: returns the SL root. */
static uint64_t legacy_dev(struct fx *f, uint16_t bdf, unsigned tt, unsigned aw, uint16_t did)
{
	uint64_t re = f->rta + ISH_BDF_BUS(bdf) * 16, ctp = get(f, re) & ~0xfffULL, sl;

	if (!ctp) {
		ctp = page(f);
		put(f, re, ctp | 1);
	}
	sl = page(f);
	put(f, ctp + ISH_BDF_DEVFN(bdf) * 16, sl | (uint64_t)tt << 2 | 1);
	put(f, ctp + ISH_BDF_DEVFN(bdf) * 16 + 8, aw | (uint64_t)did << 8);
	return sl;
}

/* Scalable context + PASID dir; returns the context entry address. */
static uint64_t sm_dev(struct fx *f, uint16_t bdf, uint32_t rid_pasid, bool paside, unsigned pdts)
{
	unsigned devfn = ISH_BDF_DEVFN(bdf);
	uint64_t re = f->rta + ISH_BDF_BUS(bdf) * 16 + (devfn >= 128 ? 8 : 0);
	uint64_t ctp = get(f, re) & ~0xfffULL, ce, dir = page(f);

	if (!ctp) {
		ctp = page(f);
		put(f, re, ctp | 1);
	}
	ce = ctp + (devfn & 0x7f) * 32;
	put(f, ce, dir | (uint64_t)pdts << 9 | (paside ? 8 : 0) | 1);
	put(f, ce + 8, rid_pasid);
	return ce;
}

/* PASID entry for pasid under the context entry ce; returns its address. */
static uint64_t sm_pasid(struct fx *f, uint64_t ce, uint32_t pasid, uint64_t v0, uint64_t v1,
			 uint64_t v2)
{
	uint64_t dir = get(f, ce) & ~0xfffULL, pde = dir + (pasid >> 6) * 8, tbl, pe;

	tbl = get(f, pde) & ~0xfffULL;
	if (!tbl) {
		tbl = page(f);
		put(f, pde, tbl | 1);
	}
	pe = tbl + (pasid & 63) * 64;
	put(f, pe, v0);
	put(f, pe + 8, v1);
	put(f, pe + 16, v2);
	return pe;
}

/* Map iova -> hpa in SL (fl=false) or FL tables rooted at root. */
static void map(struct fx *f, bool fl, uint64_t root, unsigned levels, uint64_t iova, uint64_t hpa,
		uint64_t bits, unsigned leaf_level)
{
	img_map(f->t, &f->next, fl, root, levels, iova, hpa, bits, leaf_level);
}

/* The address of the leaf entry for iova (for corrupting it). */
static uint64_t leaf_entry(struct fx *f, uint64_t root, unsigned levels, uint64_t iova,
			   unsigned leaf_level)
{
	return img_leaf_entry(f->t, root, levels, iova, leaf_level);
}

static struct ish_translation tr;

static unsigned xlate(struct fx *f, uint16_t bdf, uint32_t pasid, uint64_t iova, unsigned acc)
{
	OK(ish_translate(f->t, 0, bdf, pasid, iova, acc, &tr));
	return tr.faulted ? tr.reason : 0;
}

static void test_legacy_4level(void)
{
	struct fx f;
	uint16_t bdf = ISH_BDF(0, 3, 0);
	uint64_t sl, iova = 0x12345678000ULL + 0xabc;

	fx_init(&f, false, CAP_ALL, ECAP_ALL);
	sl = legacy_dev(&f, bdf, 0, 2, 7);
	map(&f, false, sl, 4, iova & ~0xfffULL, 0x800000, 3, 1);

	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, iova, 0), 0);
	CHECK_EQ(tr.hpa, 0x800abc);
	CHECK_EQ(tr.page_size, 4096);
	CHECK(tr.read && tr.write && !tr.exec);
	CHECK_EQ(tr.tables.did, 7);
	CHECK_EQ(tr.tables.sl_levels, 4);
	CHECK_EQ(tr.nsteps, 6);
	CHECK_EQ(tr.steps[0].kind, ISH_STEP_ROOT);
	CHECK_EQ(tr.steps[0].entry_addr, f.rta);
	CHECK_EQ(tr.steps[1].kind, ISH_STEP_CONTEXT);
	CHECK_EQ(tr.steps[1].index, 0x18);
	CHECK_EQ(tr.steps[1].raw[0], sl | 1);
	CHECK_EQ(tr.steps[1].raw[1], 2 | 7 << 8);
	CHECK_EQ(tr.steps[2].kind, ISH_STEP_SL_PTE);
	CHECK_EQ(tr.steps[2].level, 4);
	CHECK_EQ(tr.steps[2].table, sl);
	CHECK_EQ(tr.steps[2].index, (iova >> 39) & 511);
	CHECK_EQ(tr.steps[3].index, (iova >> 30) & 511);
	CHECK_EQ(tr.steps[4].index, (iova >> 21) & 511);
	CHECK_EQ(tr.steps[5].index, (iova >> 12) & 511);
	CHECK_EQ(tr.steps[5].level, 1);
	CHECK_EQ(tr.steps[5].raw[0], 0x800003);
	CHECK_EQ(tr.steps[5].entry_addr, tr.steps[5].table + ((iova >> 12) & 511) * 8);

	/* Read-only page: a write faults with 0x5 at the leaf step. */
	map(&f, false, sl, 4, 0x5000, 0x900000, 1, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x5010, ISH_ACCESS_WRITE), ISH_FR_WRITE);
	CHECK_EQ(tr.fault_step, 5);
	CHECK_EQ(tr.fault_addr, 0x5010);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x5010, 0), 0);
	CHECK(tr.read && !tr.write);
	/* Write-only page: a read faults with 0x6. */
	map(&f, false, sl, 4, 0x6000, 0x901000, 2, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x6000, 0), ISH_FR_READ);
	/* Not present: read 0x6, write 0x5, at the level where it stops. */
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x7000, 0), ISH_FR_READ);
	CHECK_EQ(tr.steps[tr.fault_step].level, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 3ULL << 39, ISH_ACCESS_WRITE), ISH_FR_WRITE);
	CHECK_EQ(tr.steps[tr.fault_step].level, 4);
	/* Non-leaf write permission is cumulative: clear W in the PML4E over 0x6000. */
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x6000, ISH_ACCESS_WRITE), 0);
	put(&f, sl, get(&f, sl) & ~2ULL);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x6000, ISH_ACCESS_WRITE), ISH_FR_WRITE);
	CHECK_EQ(tr.steps[tr.fault_step].level, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, iova, ISH_ACCESS_WRITE), 0);
	/* Beyond the 48-bit AGAW. */
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 1ULL << 48, 0), ISH_FR_ADDR_BEYOND_MGAW);
	CHECK_EQ(tr.fault_step, -1);
	ish_target_close(f.t);
}

static void test_legacy_levels_superpages(void)
{
	struct fx f;
	uint16_t b3 = ISH_BDF(1, 0, 0), b5 = ISH_BDF(1, 1, 0);
	uint64_t sl3, sl5;

	fx_init(&f, false, CAP_ALL, ECAP_ALL);
	sl3 = legacy_dev(&f, b3, 1, 1, 3);
	sl5 = legacy_dev(&f, b5, 0, 3, 5);
	map(&f, false, sl3, 3, 0x40000000, 0x600000, 3, 2);	/* 2 MiB */
	map(&f, false, sl3, 3, 0x80000000, 0x40000000, 1, 3);	/* 1 GiB */
	map(&f, false, sl5, 5, 0x1ff00000000000ULL, 0x123000, 3, 1);

	CHECK_EQ(xlate(&f, b3, ISH_PASID_NONE, 0x40012345, 0), 0);
	CHECK_EQ(tr.hpa, 0x612345);
	CHECK_EQ(tr.page_size, 2 << 20);
	CHECK_EQ(tr.nsteps, 4);
	CHECK_EQ(tr.steps[3].level, 2);
	CHECK_EQ(xlate(&f, b3, ISH_PASID_NONE, 0x80000000 + 0x3456789, 0), 0);
	CHECK_EQ(tr.hpa, 0x40000000 + 0x3456789);
	CHECK_EQ(tr.page_size, 1 << 30);
	CHECK(!tr.write);
	CHECK_EQ(xlate(&f, b3, ISH_PASID_NONE, 1ULL << 39, 0), ISH_FR_ADDR_BEYOND_MGAW);

	CHECK_EQ(xlate(&f, b5, ISH_PASID_NONE, 0x1ff00000000abcULL, 0), 0);
	CHECK_EQ(tr.hpa, 0x123abc);
	CHECK_EQ(tr.nsteps, 7);
	CHECK_EQ(tr.steps[2].level, 5);

	/* A 2 MiB page with bits 20:12 set is reserved (0xc). */
	put(&f, leaf_entry(&f, sl3, 3, 0x40000000, 2), 0x601000 | 0x83);
	CHECK_EQ(xlate(&f, b3, ISH_PASID_NONE, 0x40000000, 0), ISH_FR_PAGING_ENTRY_RSVD);
	ish_target_close(f.t);

	/* Without SLLPS, PS is a reserved bit: 0xc at level 2 and 3. */
	fx_init(&f, false, CAP_ALL & ~(3ULL << 34), ECAP_ALL);
	sl3 = legacy_dev(&f, b3, 0, 1, 3);
	map(&f, false, sl3, 3, 0x40000000, 0x600000, 3, 2);
	CHECK_EQ(xlate(&f, b3, ISH_PASID_NONE, 0x40000000, 0), ISH_FR_PAGING_ENTRY_RSVD);
	CHECK_EQ(tr.steps[tr.fault_step].level, 2);
	/* SAGAW without 5-level: AW=3 is an invalid context (0x3). */
	OK(ish_mem_set_reg(f.t, 0, DMAR_CAP_REG, 64, CAP_ALL & ~(8ULL << 8)));
	sl5 = legacy_dev(&f, b5, 0, 3, 5);
	CHECK_EQ(xlate(&f, b5, ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_ENTRY_INV);
	CHECK_EQ(tr.fault_step, 1);
	ish_target_close(f.t);
}

static void test_legacy_faults(void)
{
	struct fx f;
	uint16_t bdf = ISH_BDF(2, 4, 1);
	uint64_t sl, ctp, ce;

	fx_init(&f, false, CAP_ALL, ECAP_ALL);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_ROOT_ENTRY_P);
	CHECK_EQ(tr.fault_step, 0);
	CHECK_EQ(tr.nsteps, 1);
	sl = legacy_dev(&f, bdf, 0, 2, 1);
	ctp = get(&f, f.rta + 2 * 16) & ~0xfffULL;
	ce = ctp + ISH_BDF_DEVFN(bdf) * 16;
	CHECK_EQ(xlate(&f, ISH_BDF(2, 4, 2), ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_ENTRY_P);
	CHECK_EQ(tr.fault_step, 1);
	/* A PASID in legacy mode. */
	CHECK_EQ(xlate(&f, bdf, 5, 0, 0), ISH_FR_RTADDR_INV_TTM);
	/* Root reserved bits (11:1 and the whole upper half). */
	put(&f, f.rta + 2 * 16 + 8, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_ROOT_ENTRY_RSVD);
	put(&f, f.rta + 2 * 16 + 8, 0);
	put(&f, f.rta + 2 * 16, ctp | 0x10 | 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_ROOT_ENTRY_RSVD);
	put(&f, f.rta + 2 * 16, ctp | 1);
	/* Context reserved bits: lo 11:4, hi bit 7 and 63:24. */
	put(&f, ce, sl | 0x100 | 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_ENTRY_RSVD);
	put(&f, ce, sl | 1);
	put(&f, ce + 8, 2 | 1ULL << 30);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_ENTRY_RSVD);
	put(&f, ce + 8, 2 | 1 << 8);
	/* TT 3 is invalid. */
	put(&f, ce, sl | 3 << 2 | 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_ENTRY_INV);
	/* TT 2: pass-through, identity. Without ECAP.PT it is invalid. */
	put(&f, ce, 2 << 2 | 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0x123456789ULL, ISH_ACCESS_WRITE), 0);
	CHECK(tr.pass_through);
	CHECK_EQ(tr.hpa, 0x123456789ULL);
	CHECK_EQ(tr.nsteps, 2);
	OK(ish_mem_set_reg(f.t, 0, DMAR_ECAP_REG, 64, ECAP_ALL & ~(1ULL << 6)));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_ENTRY_INV);
	OK(ish_mem_set_reg(f.t, 0, DMAR_ECAP_REG, 64, ECAP_ALL));
	put(&f, ce, sl | 1);
	/* A paging entry pointing outside memory: 0x7, marked unreadable. */
	put(&f, sl, 0x7ff00000000ULL | 3);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_PAGING_ENTRY_INV);
	CHECK(tr.unreadable);
	CHECK_EQ(tr.unreadable_addr, 0x7ff00000000ULL);
	CHECK_EQ(tr.steps[tr.fault_step].level, 3);
	/* PTE reserved bit 11 without snoop control. */
	put(&f, sl, 0);
	map(&f, false, sl, 4, 0, 0x400000, 3 | 1 << 11, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), 0);
	CHECK(tr.snp);
	OK(ish_mem_set_reg(f.t, 0, DMAR_ECAP_REG, 64, ECAP_ALL & ~(1ULL << 7)));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_PAGING_ENTRY_RSVD);
	/* A PTE address above MGAW (39 here) is reserved. */
	OK(ish_mem_set_reg(f.t, 0, DMAR_ECAP_REG, 64, ECAP_ALL));
	OK(ish_mem_set_reg(f.t, 0, DMAR_CAP_REG, 64, (CAP_ALL & ~(0x3fULL << 16)) | 38ULL << 16));
	put(&f, leaf_entry(&f, sl, 4, 0, 1), (1ULL << 40) | 3);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_PAGING_ENTRY_RSVD);
	OK(ish_mem_set_reg(f.t, 0, DMAR_CAP_REG, 64, CAP_ALL));
	/* Context table outside memory: 0x9. Root table outside: 0x8. */
	put(&f, f.rta + 2 * 16, 0x7000000000ULL | 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_CONTEXT_TABLE_INV);
	CHECK_EQ(tr.fault_step, 1);
	OK(ish_mem_set_reg(f.t, 0, DMAR_RTADDR_REG, 64, 0x7000000000ULL));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_ROOT_TABLE_INV);
	CHECK_EQ(tr.fault_step, 0);
	/* Abort-DMA mode blocks; reserved TTM is 0x30; TES=0 passes through. */
	OK(ish_mem_set_reg(f.t, 0, DMAR_RTADDR_REG, 64, f.rta | 3 << 10));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), 0);
	CHECK(tr.blocked && !tr.faulted && tr.nsteps == 0);
	OK(ish_mem_set_reg(f.t, 0, DMAR_RTADDR_REG, 64, f.rta | 2 << 10));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_RTADDR_INV);
	OK(ish_mem_set_reg(f.t, 0, DMAR_GSTS_REG, 32, 0));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0xdead000, 0), 0);
	CHECK(tr.translation_disabled);
	CHECK_EQ(tr.hpa, 0xdead000);
	/* Registers that cannot be read are an error, not a fault. */
	FAILS(ish_translate(f.t, 1, bdf, ISH_PASID_NONE, 0, 0, &tr), ISH_ERROR_NOT_FOUND);
	FAILS(ish_translate(f.t, 0, bdf, 1u << 20, 0, 0, &tr), ISH_ERROR_INVALID);
	ish_target_close(f.t);
}

static void test_scalable_sl_pt(void)
{
	struct fx f;
	uint16_t bdf = ISH_BDF(0, 0x1f, 6);	/* devfn 0xfe: upper half of the root entry */
	uint64_t ce, sl = 0, pe;

	fx_init(&f, true, CAP_ALL, ECAP_ALL);
	ce = sm_dev(&f, bdf, 0, true, 0);
	sl = page(&f);
	pe = sm_pasid(&f, ce, 0, sl | 2 << 6 | 2 << 2 | 1, 42, 0);
	map(&f, false, sl, 4, 0xfee00000, 0x3000000, 3, 1);

	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0xfee00123, 0), 0);
	CHECK_EQ(tr.hpa, 0x3000123);
	CHECK(tr.scalable);
	CHECK_EQ(tr.tables.did, 42);
	CHECK_EQ(tr.tables.pasid, 0);
	CHECK_EQ(tr.nsteps, 8);
	CHECK_EQ(tr.steps[0].entry_addr, f.rta);
	CHECK_EQ(tr.steps[1].kind, ISH_STEP_CONTEXT);
	CHECK_EQ(tr.steps[1].index, 0x7e);
	CHECK_EQ(tr.steps[1].nraw, 4);
	CHECK_EQ(tr.steps[2].kind, ISH_STEP_PASID_DIR);
	CHECK_EQ(tr.steps[3].kind, ISH_STEP_PASID);
	CHECK_EQ(tr.steps[3].entry_addr, pe);
	CHECK_EQ(tr.steps[3].nraw, 8);
	CHECK_EQ(tr.steps[3].raw[1], 42);
	/* Explicit PASID 0 is the same entry; PASID 64 is beyond one table but in the dir. */
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00123, 0), 0);
	CHECK_EQ(xlate(&f, bdf, 64, 0, 0), ISH_FR_PASID_DIR_ENTRY_P);
	/* PDTS 0: 128 dir entries = 8192 PASIDs. */
	CHECK_EQ(xlate(&f, bdf, 8192, 0, 0), ISH_FR_SM_PASID_TOO_BIG);
	CHECK_EQ(xlate(&f, bdf, 1, 0, 0), ISH_FR_PASID_ENTRY_P);
	/* SL faults in scalable mode */
	CHECK_EQ(xlate(&f, bdf, 0, 0x1000, 0), ISH_FR_SS_PAGING_ENTRY_RW);
	put(&f, leaf_entry(&f, sl, 4, 0xfee00000, 1), 0x3000000 | 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, ISH_ACCESS_WRITE), ISH_FR_SM_WRITE);
	put(&f, leaf_entry(&f, sl, 4, 0xfee00000, 1), 0x3000000 | 2);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, 0), ISH_FR_SM_READ);
	put(&f, leaf_entry(&f, sl, 4, 0xfee00000, 1), 0x3000000 | 3 | 1ULL << 7 | 0);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, 0), 0);	/* bit 7 of a 4K PTE is ignored */
	CHECK_EQ(xlate(&f, bdf, 0, 1ULL << 48, 0), ISH_FR_SM_ADDR_BEYOND_HAW);
	/* Exec: ERE clear -> 0x5c; with ERE, SLEE and X -> allowed */
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, ISH_ACCESS_EXEC), ISH_FR_PASID_ENTRY_ERE_CLEAR);
	put(&f, pe + 16, 2);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, ISH_ACCESS_EXEC), ISH_FR_SM_EXECUTE);
	put(&f, pe, sl | 2 << 6 | 2 << 2 | 1 << 5 | 1);
	put(&f, leaf_entry(&f, sl, 4, 0xfee00000, 1), 0x3000000 | 7);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, ISH_ACCESS_EXEC), 0);
	CHECK(tr.exec);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, ISH_ACCESS_PRIV), ISH_FR_PASID_ENTRY_SRE_CLEAR);
	/* SLPTPTR outside memory -> 0x7b */
	put(&f, pe, 0x7000000000ULL | 2 << 6 | 2 << 2 | 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0, 0), ISH_FR_SS_PTPTR_INV);
	CHECK(tr.unreadable);
	/* PGTT: 0, 5 invalid; AW unsupported; PGTT 3 without ECAP.NEST */
	put(&f, pe, sl | 5 << 6 | 2 << 2 | 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0, 0), ISH_FR_PASID_TABLE_ENTRY_INV);
	put(&f, pe, sl | 2 << 6 | 4 << 2 | 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0, 0), ISH_FR_PASID_TABLE_ENTRY_INV);
	OK(ish_mem_set_reg(f.t, 0, DMAR_ECAP_REG, 64, ECAP_ALL & ~(1ULL << 26)));
	put(&f, pe, sl | 3 << 6 | 2 << 2 | 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0, 0), ISH_FR_PASID_TABLE_ENTRY_INV);
	OK(ish_mem_set_reg(f.t, 0, DMAR_ECAP_REG, 64, ECAP_ALL));
	/* PASID entry reserved bits (qword 1 bits 22:16; qwords 3..7) */
	put(&f, pe, sl | 2 << 6 | 2 << 2 | 1);
	put(&f, pe + 8, 42 | 1 << 18);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, 0), ISH_FR_PASID_ENTRY_RSVD);
	put(&f, pe + 8, 42);
	put(&f, pe + 40, 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0xfee00000, 0), ISH_FR_PASID_ENTRY_RSVD);
	put(&f, pe + 40, 0);
	/* Pass-through PGTT 4 */
	put(&f, pe, 4 << 6 | 1);
	CHECK_EQ(xlate(&f, bdf, 0, 0xabcdef000ULL, ISH_ACCESS_WRITE), 0);
	CHECK(tr.pass_through);
	CHECK_EQ(tr.hpa, 0xabcdef000ULL);
	CHECK_EQ(tr.nsteps, 4);
	/* PASID requests need PASIDE */
	put(&f, ce, (get(&f, ce) & ~8ULL));
	CHECK_EQ(xlate(&f, bdf, 0, 0, 0), ISH_FR_SM_PASIDE_CLEAR);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), 0);
	/* Context reserved (bits 8:5, qword 2) and not present; root upper half */
	put(&f, ce + 16, 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_CONTEXT_ENTRY_RSVD);
	put(&f, ce + 16, 0);
	put(&f, ce, get(&f, ce) | 1 << 6);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_CONTEXT_ENTRY_RSVD);
	put(&f, ce, get(&f, ce) & ~1ULL);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_CONTEXT_ENTRY_P);
	/* devfn 0x7e uses the lower half, not present */
	CHECK_EQ(xlate(&f, ISH_BDF(0, 0x0f, 6), ISH_PASID_NONE, 0, 0), ISH_FR_SM_ROOT_ENTRY_P);
	CHECK_EQ(tr.fault_step, 0);
	put(&f, f.rta + 8, get(&f, f.rta + 8) | 0x20);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_ROOT_ENTRY_RSVD);
	put(&f, f.rta + 8, 0x7000000000ULL | 1);
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_CONTEXT_ACCESS_ERR);
	OK(ish_mem_set_reg(f.t, 0, DMAR_RTADDR_REG, 64, 0x7000000000ULL | 1 << 10));
	CHECK_EQ(xlate(&f, bdf, ISH_PASID_NONE, 0, 0), ISH_FR_SM_ROOT_ACCESS_ERR);
	ish_target_close(f.t);
}

static void test_scalable_fl_nested(void)
{
	struct fx f;
	uint16_t bdf = ISH_BDF(0, 2, 0);
	uint64_t ce, fl4, fl5, sl, pe, upper = 0xffff800000001000ULL;

	fx_init(&f, true, CAP_ALL, ECAP_ALL);
	ce = sm_dev(&f, bdf, 0, true, 1);
	fl4 = page(&f);
	fl5 = page(&f);
	/* PASID 3: FL only, 4-level; PASID 4: FL 5-level */
	pe = sm_pasid(&f, ce, 3, 1 << 6 | 1, 9, fl4);
	sm_pasid(&f, ce, 4, 1 << 6 | 1, 9, fl5 | 1 << 2);
	map(&f, true, fl4, 4, 0x7000, 0x2000000, 7, 1);
	map(&f, true, fl4, 4, upper, 0x2001000, 5, 1);	/* read-only user */
	map(&f, true, fl4, 4, 0x40000000, 0x1400000, 7, 2);	/* 2 MiB */
	map(&f, true, fl4, 4, 0x80000000, 0x40000000, 7, 3);	/* 1 GiB */
	map(&f, true, fl5, 5, 0x0080000000000000ULL, 0x2002000, 7, 1);

	CHECK_EQ(xlate(&f, bdf, 3, 0x7abc, ISH_ACCESS_WRITE), 0);
	CHECK_EQ(tr.hpa, 0x2000abc);
	CHECK(tr.user && tr.write && tr.read && tr.exec);
	CHECK_EQ(tr.nsteps, 8);
	CHECK_EQ(tr.steps[4].kind, ISH_STEP_FL_PTE);
	CHECK_EQ(tr.steps[4].level, 4);
	CHECK_EQ(xlate(&f, bdf, 3, upper + 8, 0), 0);
	CHECK_EQ(tr.hpa, 0x2001008);
	CHECK_EQ(xlate(&f, bdf, 3, upper, ISH_ACCESS_WRITE), ISH_FR_SM_WRITE);
	CHECK_EQ(xlate(&f, bdf, 3, 0x0000800000000000ULL, 0), ISH_FR_FS_NON_CANONICAL);
	CHECK_EQ(tr.fault_step, -1);
	CHECK_EQ(xlate(&f, bdf, 3, 0x40123456, 0), 0);
	CHECK_EQ(tr.hpa, 0x1523456);
	CHECK_EQ(tr.page_size, 2 << 20);
	CHECK_EQ(xlate(&f, bdf, 3, 0x80000000 + 0x12345678, 0), 0);
	CHECK_EQ(tr.hpa, 0x40000000 + 0x12345678);
	CHECK_EQ(tr.page_size, 1 << 30);
	CHECK_EQ(xlate(&f, bdf, 3, 0x9000, 0), ISH_FR_FS_PAGING_ENTRY_P);
	CHECK_EQ(xlate(&f, bdf, 4, 0x0080000000000123ULL, 0), 0);
	CHECK_EQ(tr.hpa, 0x2002123);
	CHECK_EQ(tr.nsteps, 9);
	/* FL faults: U/S clear, XD for exec, reserved, FLPTPTR unreadable */
	put(&f, leaf_entry(&f, fl4, 4, 0x7000, 1), 0x2000000 | 3);
	CHECK_EQ(xlate(&f, bdf, 3, 0x7000, 0), ISH_FR_FS_PAGING_ENTRY_US);
	CHECK_EQ(xlate(&f, bdf, 3, 0x7000, ISH_ACCESS_PRIV), ISH_FR_PASID_ENTRY_SRE_CLEAR);
	put(&f, pe + 16, fl4 | 1);
	CHECK_EQ(xlate(&f, bdf, 3, 0x7000, ISH_ACCESS_PRIV), 0);
	put(&f, leaf_entry(&f, fl4, 4, 0x7000, 1), 0x2000000 | 7 | 1ULL << 63);
	CHECK_EQ(xlate(&f, bdf, 3, 0x7000, 0), 0);
	CHECK(!tr.exec);
	put(&f, pe + 16, fl4 | 3);
	CHECK_EQ(xlate(&f, bdf, 3, 0x7000, ISH_ACCESS_EXEC), ISH_FR_SM_EXECUTE);
	put(&f, leaf_entry(&f, fl4, 4, 0x40000000, 2), 0x1402000 | 0x87);
	CHECK_EQ(xlate(&f, bdf, 3, 0x40000000, 0), ISH_FR_FS_PAGING_ENTRY_RSVD);
	put(&f, leaf_entry(&f, fl4, 4, 0x40000000, 2), 0x1400000 | 0x87 | 0x1000);	/* PAT */
	CHECK_EQ(xlate(&f, bdf, 3, 0x40000000, 0), 0);
	put(&f, pe + 16, 0x7000000000ULL);
	CHECK_EQ(xlate(&f, bdf, 3, 0x7000, 0), ISH_FR_PASID_ENTRY_FSPTPTR_INV);
	put(&f, pe + 16, fl4);
	/* 1 GiB without FL1GP: reserved. 5-level without 5LP: invalid entry. */
	OK(ish_mem_set_reg(f.t, 0, DMAR_CAP_REG, 64, CAP_ALL & ~(1ULL << 56)));
	CHECK_EQ(xlate(&f, bdf, 3, 0x80000000, 0), ISH_FR_FS_PAGING_ENTRY_RSVD);
	OK(ish_mem_set_reg(f.t, 0, DMAR_CAP_REG, 64, CAP_ALL & ~(1ULL << 60)));
	CHECK_EQ(xlate(&f, bdf, 4, 0, 0), ISH_FR_PASID_TABLE_ENTRY_INV);
	OK(ish_mem_set_reg(f.t, 0, DMAR_CAP_REG, 64, CAP_ALL));

	/*
	 * Nested (PASID 5): FL tables live at GPAs; the SL maps GPA
	 * 0x10000000.. to where they really are. FL maps IOVA 0x5000 to GPA
	 * 0x20000000, which SL maps to HPA 0x2800000.
	 */
	{
		uint64_t gfl = 0x10000000, hfl[4], iova = 0x5000;

		sl = page(&f);
		for (int i = 0; i < 4; i++)
			hfl[i] = page(&f);
		sm_pasid(&f, ce, 5, sl | 3 << 6 | 2 << 2 | 1, 11, gfl);
		for (int i = 0; i < 4; i++)
			map(&f, false, sl, 4, gfl + i * 0x1000, hfl[i], 1, 1);
		/* FL tables by hand: PML4 at gfl (hfl[0]) -> gfl+0x1000 ... */
		put(&f, hfl[0] + 0, (gfl + 0x1000) | 7);
		put(&f, hfl[1] + 0, (gfl + 0x2000) | 7);
		put(&f, hfl[2] + 0, (gfl + 0x3000) | 7);
		put(&f, hfl[3] + 5 * 8, 0x20000000 | 7);
		map(&f, false, sl, 4, 0x20000000, 0x2800000, 3, 1);

		CHECK_EQ(xlate(&f, bdf, 5, iova + 0x44, ISH_ACCESS_WRITE), 0);
		CHECK_EQ(tr.hpa, 0x2800044);
		CHECK_EQ(tr.tables.did, 11);
		/* 4 ctx steps + 4 x (4 SL + 1 FL) + 4 SL for the final GPA */
		CHECK_EQ(tr.nsteps, 4 + 4 * 5 + 4);
		CHECK_EQ(tr.steps[4].kind, ISH_STEP_SL_PTE);
		CHECK(tr.steps[4].nested);
		CHECK_EQ(tr.steps[8].kind, ISH_STEP_FL_PTE);
		CHECK_EQ(tr.steps[8].table, hfl[0]);
		CHECK_EQ(tr.steps[tr.nsteps - 1].kind, ISH_STEP_SL_PTE);
		CHECK(!tr.steps[tr.nsteps - 1].nested);
		/* Final GPA read-only in SL: write faults 0x85. */
		put(&f, leaf_entry(&f, sl, 4, 0x20000000, 1), 0x2800000 | 1);
		CHECK_EQ(xlate(&f, bdf, 5, iova, ISH_ACCESS_WRITE), ISH_FR_SM_WRITE);
		CHECK_EQ(xlate(&f, bdf, 5, iova, 0), 0);
		CHECK(!tr.write);
		/* Final GPA unmapped in SL: 0x79. */
		put(&f, leaf_entry(&f, sl, 4, 0x20000000, 1), 0);
		CHECK_EQ(xlate(&f, bdf, 5, iova, 0), ISH_FR_SS_PAGING_ENTRY_RW);
		/* An FL table GPA unmapped in SL: 0x76 (0x75 for the top table). */
		put(&f, leaf_entry(&f, sl, 4, gfl + 0x2000, 1), 0);
		CHECK_EQ(xlate(&f, bdf, 5, iova, 0), ISH_FR_NESTED_FS_READ);
		CHECK(tr.steps[tr.fault_step].nested);
		put(&f, leaf_entry(&f, sl, 4, gfl, 1), 0);
		CHECK_EQ(xlate(&f, bdf, 5, iova, 0), ISH_FR_NESTED_FSPTPTR_READ);
		/* FL table GPA beyond the SL address width: 0x74 */
		put(&f, pe + 16 + 64 * 2, 1ULL << 50);
		CHECK_EQ(xlate(&f, bdf, 5, iova, 0), ISH_FR_NESTED_FS_BEYOND_MGAW);
	}
	ish_target_close(f.t);
}

/* Unit selection from a DMAR device scope. */
static void test_unit_selection(void)
{
	struct ish_target *t;
	uint8_t dmar[48 + 16 + 8 + 16] = { 'D', 'M', 'A', 'R' };
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_add_unit(t, 0xfed91000, 0, &u));
	/* Both mem units claim INCLUDE_PCI_ALL: the first wins without a DMAR. */
	OK(ish_unit_for_device(t, 0, ISH_BDF(0, 2, 0), &u));
	CHECK_EQ(u, 0);
	/* DRHD for unit 1 (not include-all) with an endpoint scope 00:02.0 */
	dmar[4] = 48 + 24;	/* table length: the scopes are read from the parsed table */
	dmar[48] = 0;
	dmar[50] = 16 + 8;
	dmar[52] = 0;
	dmar[56] = 0x00;
	dmar[57] = 0x10;
	dmar[58] = 0xd9;
	dmar[59] = 0xfe;	/* 0xfed91000 */
	dmar[64] = 1;	/* endpoint */
	dmar[65] = 8;
	dmar[69] = 0;	/* start bus */
	dmar[70] = 2;	/* device */
	dmar[71] = 0;	/* function */
	OK(ish_target_set_dmar(t, dmar, 48 + 24));
	OK(ish_unit_for_device(t, 0, ISH_BDF(0, 2, 0), &u));
	CHECK_EQ(u, 1);
	OK(ish_unit_for_device(t, 0, ISH_BDF(0, 3, 0), &u));
	CHECK_EQ(u, 0);
	FAILS(ish_unit_for_device(t, 1, ISH_BDF(0, 3, 0), &u), ISH_ERROR_NOT_FOUND);
	/* A lying scope length is ignored, not read past. */
	dmar[65] = 200;
	OK(ish_target_set_dmar(t, dmar, 48 + 24));
	OK(ish_unit_for_device(t, 0, ISH_BDF(0, 2, 0), &u));
	CHECK_EQ(u, 0);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("legacy_4level") test_legacy_4level();
	CASE("legacy_levels_superpages") test_legacy_levels_superpages();
	CASE("legacy_faults") test_legacy_faults();
	CASE("scalable_sl_pt") test_scalable_sl_pt();
	CASE("scalable_fl_nested") test_scalable_fl_nested();
	CASE("unit_selection") test_unit_selection();
	return check_report();
}
