// SPDX-License-Identifier: MIT
/*
 * Who drives a queue and the cooperative submission (lib/vtd/queue.c) on
 * hostile queue state: the input sets a VT-d unit's GSTS, IQA, IQH and IQT,
 * the queue's 8 KiB of slots, and the synthetic kernel's struct q_inval
 * (tests/unit/fake_kernel.h: lock, free_head, free_tail, free_cnt, where
 * desc and desc_status point) and its desc_status[256]. Then the owner is
 * decided and an invalidation is tried with --force, so every refusal and
 * the submission itself run on whatever the input says. One target is
 * built once (the kernel is found once, as on a real target); its RAM is
 * restored from a copy before every input, so nothing carries over.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/invalidate.h>
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>

#include "fuzz.h"
#include "../unit/fake_kernel.h"

#define STATUS_PA 0x306000ULL

/* The hardware does nothing: every wait times out after its polls. */
static void idle(void *arg, unsigned poll)
{
	(void)arg;
	(void)poll;
}

static struct ish_target *fake;
static uint8_t *pristine;

static struct ish_target *target(void)
{
	unsigned u;

	if (fake)
		return fake;
	if (fk_build_flags(NULL, 0, ISH_OPEN_WRITE | ISH_OPEN_FORCE, &fake))
		return NULL;
	pristine = malloc(FK_RAM_SIZE);
	if (!pristine || ish_mem_add_unit(fake, 0xfed90000, 0, &u)) {
		ish_target_close(fake);
		fake = NULL;
		return NULL;
	}
	memcpy(pristine, fk_ram(fake), FK_RAM_SIZE);
	return fake;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz c = { data, size };
	struct ish_inval_req req = { .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_GLOBAL,
				     .timeout_ms = 1, .wait = idle };
	struct ish_queue_owner o;
	struct ish_inval_result res;
	struct ish_target *t = target();
	uint8_t *ram;
	unsigned u = 0;

	if (!t)
		return 0;
	memcpy(fk_ram(t), pristine, FK_RAM_SIZE);
	ish_target_cache_drop(t);
	ram = fk_ram(t);
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, 0xd2008c22260286ULL));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_ECAP_REG, 64, 0xf00f5eULL));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_GSTS_REG, 32,
					  (uint32_t)fz_bytes(&c, 4) | DMA_GSTS_QIES));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_FSTS_REG, 32, fz_bytes(&c, 1) & 0x70));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_ICS_REG, 32, 0));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_IQER_REG, 64, 0));
	/* IQA inside the fake's RAM more often than not */
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64,
					  (fz_bytes(&c, 1) & 1 ? fz_bytes(&c, 8) :
								 FK_DESC_PA | (fz_bytes(&c, 1) & 0x807))));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, fz_bytes(&c, 4)));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, fz_bytes(&c, 4)));
	ish_error_destroy(ish_mem_set_reg(t, u, DMAR_RTADDR_REG, 64, fz_bytes(&c, 1) & 1 ? 1u << 10 : 0));
	for (unsigned i = 0; i < 8192 && c.n; i++)
		ram[FK_DESC_PA + i] = (uint8_t)fz_bytes(&c, 1);
	/* struct q_inval: lock, desc, desc_status, free_head, free_tail, free_cnt */
	fk_put(ram + FK_QI_PA, fz_bytes(&c, 1) & 1 ? fz_bytes(&c, 4) : 0, 4);
	fk_put(ram + FK_QI_PA + 8, fz_bytes(&c, 1) & 1 ? fz_bytes(&c, 8) : FK_POB + FK_DESC_PA, 8);
	fk_put(ram + FK_QI_PA + 16, fz_bytes(&c, 1) & 1 ? fz_bytes(&c, 8) : FK_POB + STATUS_PA, 8);
	fk_put(ram + FK_QI_PA + 24, fz_bytes(&c, 4), 4);
	fk_put(ram + FK_QI_PA + 28, fz_bytes(&c, 4), 4);
	fk_put(ram + FK_QI_PA + 32, fz_bytes(&c, 4), 4);
	for (unsigned i = 0; i < 1024 && c.n; i++)
		ram[STATUS_PA + i] = (uint8_t)fz_bytes(&c, 1);

	ish_error_destroy(ish_queue_owner(t, 0, &o));
	ish_error_destroy(ish_invalidate(t, 0, &req, ISH_INVAL_QUEUED, &res));
	return 0;
}
