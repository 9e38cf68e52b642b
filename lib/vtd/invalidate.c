// SPDX-License-Identifier: MIT
/*
 * Invalidations through the register interface or the invalidation queue
 * (VT-d 5.0, 6.5). The flows follow what the spec asks of software and
 * what Linux does (drivers/iommu/intel/iommu.c __iommu_flush_context,
 * __iommu_flush_iotlb; dmar.c qi_submit_sync), with every wait bounded by a
 * timeout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <iommush/backend.h>
#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/kernel.h>
#include <iommush/vtd/vtd.h>
#include <iommush/write.h>

#include "queue_internal.h"
#include "write_internal.h"

#define DEFAULT_TIMEOUT_MS 1000

/* Hardware granularity codes of the register interface (CIRG/IIRG). */
enum { HW_GLOBAL = 1, HW_DOMAIN = 2, HW_DEVICE_OR_PAGE = 3 };

const char *ish_inval_what_name(enum ish_inval_what what)
{
	switch (what) {
	case ISH_INVAL_CONTEXT:
		return "context";
	case ISH_INVAL_IOTLB:
		return "iotlb";
	case ISH_INVAL_IEC:
		return "iec";
	case ISH_INVAL_PASID_CACHE:
		return "pasid-cache";
	case ISH_INVAL_PIOTLB:
		return "piotlb";
	}
	return "??";
}

const char *ish_inval_method_name(enum ish_inval_method m)
{
	switch (m) {
	case ISH_INVAL_AUTO:
		return "auto";
	case ISH_INVAL_REGISTER:
		return "register";
	case ISH_INVAL_QUEUED:
		return "queued";
	}
	return "??";
}

const char *ish_inval_gran_name(enum ish_inval_what what, unsigned hw_gran)
{
	static const char *const cc[] = { "none", "global", "domain", "device" };
	static const char *const tlb[] = { "none", "global", "domain", "page" };
	static const char *const pc[] = { "domain", "pasid", "??2", "global" };
	static const char *const piotlb[] = { "??0", "??1", "pasid", "page" };

	if (hw_gran > 3)
		return "??";
	switch (what) {
	case ISH_INVAL_CONTEXT:
		return cc[hw_gran];
	case ISH_INVAL_IOTLB:
		return tlb[hw_gran];
	case ISH_INVAL_IEC:
		return hw_gran == 0 ? "global" : hw_gran == 1 ? "index" : "??";
	case ISH_INVAL_PASID_CACHE:
		return pc[hw_gran];
	case ISH_INVAL_PIOTLB:
		return piotlb[hw_gran];
	}
	return "??";
}

static const char *gran_word(enum ish_inval_gran g)
{
	static const char *const names[] = { "global", "domain", "device", "page", "index", "pasid" };

	return (unsigned)g < sizeof(names) / sizeof(names[0]) ? names[g] : "??";
}

static struct ish_error *bad_gran(const struct ish_inval_req *req, const char *allowed)
{
	return ish_error_format(ISH_ERROR_INVALID, "%s invalidation is %s, not %s",
				ish_inval_what_name(req->what), allowed, gran_word(req->gran));
}

/* The CIRG/IIRG code of a context or IOTLB request, or an error. */
static struct ish_error *reg_gran(const struct ish_inval_req *req, unsigned *ret)
{
	switch (req->gran) {
	case ISH_INVAL_GLOBAL:
		*ret = HW_GLOBAL;
		return NULL;
	case ISH_INVAL_DOMAIN:
		*ret = HW_DOMAIN;
		return NULL;
	case ISH_INVAL_DEVICE:
		if (req->what == ISH_INVAL_CONTEXT) {
			*ret = HW_DEVICE_OR_PAGE;
			return NULL;
		}
		break;
	case ISH_INVAL_PAGE:
		if (req->what == ISH_INVAL_IOTLB) {
			*ret = HW_DEVICE_OR_PAGE;
			return NULL;
		}
		break;
	default:
		break;
	}
	return bad_gran(req, req->what == ISH_INVAL_CONTEXT ? "global, domain or device"
							    : "global, domain or page");
}

static bool drain_reads(const struct ish_inval_req *req, uint64_t cap)
{
	return !req->no_drain && cap_read_drain(cap);
}

static bool drain_writes(const struct ish_inval_req *req, uint64_t cap)
{
	return !req->no_drain && cap_write_drain(cap);
}

static struct ish_error *check_page(const struct ish_inval_req *req)
{
	if (req->am > 63 - VTD_PAGE_SHIFT)
		return ish_error_format(ISH_ERROR_INVALID, "address mask %u is too large", req->am);
	if (req->addr & ((VTD_PAGE_SIZE << req->am) - 1))
		return ish_error_format(ISH_ERROR_INVALID,
					"address %#" PRIx64 " is not aligned to 2^%u pages", req->addr,
					req->am);
	return NULL;
}

struct ish_error *ish_inval_encode_reg(const struct ish_inval_req *req, uint64_t cap,
				       uint64_t *cmd, uint64_t *iva)
{
	struct ish_error *err;
	unsigned g;

	*cmd = 0;
	*iva = 0;
	if (req->what != ISH_INVAL_CONTEXT && req->what != ISH_INVAL_IOTLB)
		return ish_error_format(ISH_ERROR_INVALID,
					"%s invalidation has no register interface: it needs the "
					"invalidation queue", ish_inval_what_name(req->what));
	if ((err = reg_gran(req, &g)))
		return err;
	if (req->what == ISH_INVAL_CONTEXT) {
		if (req->fm > 3)
			return ish_error_format(ISH_ERROR_INVALID, "function mask %u is not 0..3",
						req->fm);
		if (g != HW_DEVICE_OR_PAGE && (req->sid || req->fm))
			return ish_error_create(ISH_ERROR_INVALID,
						"source-id and function mask apply to device-selective "
						"invalidation only");
		if (g == HW_GLOBAL && req->did)
			return ish_error_create(ISH_ERROR_INVALID,
						"a global invalidation takes no domain-id");
		*cmd = DMA_CCMD_ICC | DMA_CCMD_CIRG(g) | DMA_CCMD_DID(req->did);
		if (g == HW_DEVICE_OR_PAGE)
			*cmd |= DMA_CCMD_FM(req->fm) | DMA_CCMD_SID(req->sid);
		return NULL;
	}
	if (g == HW_GLOBAL && req->did)
		return ish_error_create(ISH_ERROR_INVALID, "a global invalidation takes no domain-id");
	if (g != HW_DEVICE_OR_PAGE && (req->addr || req->am || req->ih))
		return ish_error_create(ISH_ERROR_INVALID,
					"address, mask and hint apply to page-selective invalidation only");
	if (g == HW_DEVICE_OR_PAGE) {
		if ((err = check_page(req)))
			return err;
		if (!cap_psi(cap))
			return ish_error_create(ISH_ERROR_INVALID,
						"the unit has no page-selective invalidation (CAP.PSI "
						"clear): invalidate the domain");
		if (req->am > cap_max_amask_val(cap))
			return ish_error_format(ISH_ERROR_INVALID,
						"address mask %u exceeds CAP.MAMV %u", req->am,
						cap_max_amask_val(cap));
		*iva = req->addr | (req->ih ? DMA_IVA_IH : 0) | req->am;
	}
	*cmd = DMA_TLB_IVT | DMA_TLB_IIRG(g) | DMA_TLB_DID(req->did);
	if (drain_reads(req, cap))
		*cmd |= DMA_TLB_READ_DRAIN;
	if (drain_writes(req, cap))
		*cmd |= DMA_TLB_WRITE_DRAIN;
	return NULL;
}

struct ish_error *ish_inval_encode_desc(const struct ish_inval_req *req, uint64_t cap,
					uint64_t qw[4])
{
	struct ish_error *err;
	unsigned g;

	memset(qw, 0, 4 * sizeof(uint64_t));
	switch (req->what) {
	case ISH_INVAL_CONTEXT:
		if ((err = reg_gran(req, &g)))
			return err;
		if (g == HW_GLOBAL && req->did)
			return ish_error_create(ISH_ERROR_INVALID,
						"a global invalidation takes no domain-id");
		if (req->fm > 3)
			return ish_error_format(ISH_ERROR_INVALID, "function mask %u is not 0..3",
						req->fm);
		return ish_qi_encode_cc(g, req->did, g == HW_DEVICE_OR_PAGE ? req->sid : 0,
					g == HW_DEVICE_OR_PAGE ? req->fm : 0, qw);
	case ISH_INVAL_IOTLB:
		if ((err = reg_gran(req, &g)))
			return err;
		if (g == HW_GLOBAL && req->did)
			return ish_error_create(ISH_ERROR_INVALID,
						"a global invalidation takes no domain-id");
		if (g == HW_DEVICE_OR_PAGE && req->am > cap_max_amask_val(cap))
			return ish_error_format(ISH_ERROR_INVALID,
						"address mask %u exceeds CAP.MAMV %u", req->am,
						cap_max_amask_val(cap));
		return ish_qi_encode_iotlb(g, req->did, req->addr, req->am, req->ih,
					   drain_reads(req, cap), drain_writes(req, cap), qw);
	case ISH_INVAL_IEC:
		if (req->gran != ISH_INVAL_GLOBAL && req->gran != ISH_INVAL_INDEX)
			return bad_gran(req, "global or index");
		return ish_qi_encode_iec(req->gran == ISH_INVAL_INDEX, req->index, req->im, qw);
	case ISH_INVAL_PASID_CACHE:
		if (req->pasid > 0xfffff)
			return ish_error_format(ISH_ERROR_INVALID, "PASID %#x is not 20 bits",
						req->pasid);
		switch (req->gran) {
		case ISH_INVAL_GLOBAL:
			if (req->did || req->pasid)
				return ish_error_create(ISH_ERROR_INVALID,
							"a global invalidation takes no domain or PASID");
			return ish_qi_encode_pc(ISH_QI_PC_GLOBAL, 0, 0, qw);
		case ISH_INVAL_DOMAIN:
			if (req->pasid)
				return ish_error_create(ISH_ERROR_INVALID,
							"a domain invalidation takes no PASID");
			return ish_qi_encode_pc(ISH_QI_PC_DOMAIN, req->did, 0, qw);
		case ISH_INVAL_PASID:
			return ish_qi_encode_pc(ISH_QI_PC_PASID, req->did, req->pasid, qw);
		default:
			return bad_gran(req, "global, domain or pasid");
		}
	case ISH_INVAL_PIOTLB:
		if (req->pasid > 0xfffff)
			return ish_error_format(ISH_ERROR_INVALID, "PASID %#x is not 20 bits",
						req->pasid);
		if (req->gran == ISH_INVAL_PASID) {
			if (req->addr || req->am || req->ih)
				return ish_error_create(ISH_ERROR_INVALID,
							"address, mask and hint apply to page-selective "
							"invalidation only");
			return ish_qi_encode_piotlb(ISH_QI_PIOTLB_PASID, req->did, req->pasid, 0, 0,
						    false, qw);
		}
		if (req->gran == ISH_INVAL_PAGE)
			return ish_qi_encode_piotlb(ISH_QI_PIOTLB_PAGE, req->did, req->pasid,
						    req->addr, req->am, req->ih, qw);
		return bad_gran(req, "pasid or page");
	}
	return ish_error_format(ISH_ERROR_INVALID, "unknown invalidation type %d", (int)req->what);
}

/* --- polling --- */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ish_poll_init(struct ish_poller *p, const struct ish_inval_req *req)
{
	p->req = req;
	p->start = now_us();
	p->deadline = p->start + (uint64_t)(req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS) *
					 1000u;
	p->polls = 0;
}

bool ish_poll_again(struct ish_poller *p)
{
	struct timespec ts = { 0, 100000 };

	if (now_us() >= p->deadline)
		return false;
	if (p->req->wait)
		p->req->wait(p->req->wait_arg, p->polls);
	else
		nanosleep(&ts, NULL);
	p->polls++;
	return true;
}

/* Polls a register until the bit clears; ret is its last value. */
static struct ish_error *wait_bit_clear(struct ish_target *t, unsigned unit, uint32_t off,
					uint64_t bit, const char *what, struct ish_poller *p,
					uint64_t *ret)
{
	struct ish_error *err;

	for (;;) {
		if ((err = ish_read_reg(t, unit, off, 64, ret)))
			return err;
		if (!(*ret & bit))
			return NULL;
		if ((err = ish_target_check_interrupt(t)))
			return err;
		if (!ish_poll_again(p))
			return ish_error_format(ISH_ERROR_TIMEOUT,
						"%s stayed set for %u ms (register %#" PRIx64 ")", what,
						p->req->timeout_ms ? p->req->timeout_ms :
								     DEFAULT_TIMEOUT_MS,
						*ret);
	}
}

static void finish(struct ish_target *t, unsigned unit, struct ish_poller *p,
		   struct ish_inval_result *ret)
{
	uint64_t v;
	struct ish_error *err = ish_read_reg(t, unit, DMAR_FSTS_REG, 32, &v);

	if (!err) {
		ret->fsts = (uint32_t)v;
		ret->iqe = v & DMA_FSTS_IQE;
		ret->ice = v & DMA_FSTS_ICE;
		ret->ite = v & DMA_FSTS_ITE;
	}
	ish_error_destroy(err);
	ret->polls = p->polls;
	ret->elapsed_us = now_us() - p->start;
}

/* --- the register interface (6.5.1) --- */

static struct ish_error *by_registers(struct ish_target *t, unsigned unit,
				      const struct ish_inval_req *req, uint64_t cap, uint64_t ecap,
				      struct ish_inval_result *ret)
{
	bool context = req->what == ISH_INVAL_CONTEXT;
	uint32_t iro = ecap_iotlb_offset(ecap);
	uint32_t off = context ? DMAR_CCMD_REG : iro + 8;
	uint64_t busy = context ? DMA_CCMD_ICC : DMA_TLB_IVT;
	const char *bit = context ? "CCMD.ICC" : "IOTLB_REG.IVT";
	struct ish_error *err;
	struct ish_poller p;
	uint64_t v;

	if ((err = ish_inval_encode_reg(req, cap, &ret->cmd, &ret->iva)))
		return err;
	if (!ish_target_backend(t)->write_reg)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend cannot write registers",
					ish_target_backend(t)->name);
	ret->requested_gran = context ? (unsigned)ISH_BITS(ret->cmd, 62, 61) :
					(unsigned)ISH_BITS(ret->cmd, 61, 60);
	ish_poll_init(&p, req);
	/* An invalidation still in flight (someone else's) must finish first. */
	if ((err = wait_bit_clear(t, unit, off, busy, bit, &p, &v)))
		goto out;
	if (!context && ret->iva && (err = ish_write_reg(t, unit, iro, 64, ret->iva)))
		goto out;
	if ((err = ish_write_reg(t, unit, off, 64, ret->cmd)))
		goto out;
	if ((err = wait_bit_clear(t, unit, off, busy, bit, &p, &ret->reg_after)))
		goto out;
	ret->actual_gran = context ? DMA_CCMD_CAIG(ret->reg_after) : DMA_TLB_IAIG(ret->reg_after);
	/* IAIG 0 is the hardware saying the request was not performed. */
	if (!context && !ret->actual_gran)
		err = ish_error_format(ISH_ERROR_UNSUPPORTED,
				       "the unit did not perform the IOTLB invalidation (IAIG=0, "
				       "IOTLB_REG %#" PRIx64 ")", ret->reg_after);
out:
	finish(t, unit, &p, ret);
	return err;
}

/* --- the invalidation queue (6.5.2) --- */

struct ish_error *ish_queue_write_desc(struct ish_target *t, uint64_t addr, const uint64_t qw[4],
				       unsigned size)
{
	uint8_t b[32];

	for (unsigned i = 0; i < size; i++)
		b[i] = (uint8_t)(qw[i / 8] >> (8 * (i % 8)));
	return ish_write_phys(t, addr, b, size);
}

static struct ish_error *read_u32(struct ish_target *t, uint64_t addr, uint32_t *ret)
{
	uint8_t b[4];
	struct ish_error *err;

	/* The hardware writes behind the cache's back. */
	ish_target_cache_drop(t);
	if ((err = ish_read_phys(t, addr, b, 4)))
		return err;
	*ret = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return NULL;
}

static struct ish_error *queue_error(struct ish_target *t, unsigned unit, uint32_t fsts,
				     struct ish_inval_result *ret)
{
	uint64_t v;
	struct ish_error *err;

	if ((err = ish_read_reg(t, unit, DMAR_IQER_REG, 64, &v)) == NULL)
		ret->iqer = v;
	ish_error_destroy(err);
	if ((err = ish_read_reg(t, unit, DMAR_IQH_REG, 64, &v)) == NULL)
		ret->iqh_after = v;
	ish_error_destroy(err);
	if (fsts & DMA_FSTS_IQE)
		return ish_error_format(ISH_ERROR_FORMAT,
					"invalidation queue error (FSTS.IQE): IQEI %u, %s; the queue "
					"stopped at slot %u (clear FSTS.IQE to restart it)",
					DMAR_IQER_REG_IQEI(ret->iqer),
					ish_iqei_text(DMAR_IQER_REG_IQEI(ret->iqer)),
					(unsigned)((ret->iqh_after & VTD_IQH_QH_MASK) / ret->desc_size));
	if (fsts & DMA_FSTS_ITE)
		return ish_error_format(ISH_ERROR_TIMEOUT,
					"invalidation time-out error (FSTS.ITE), source-id %#x",
					DMAR_IQER_REG_ITESID(ret->iqer));
	return ish_error_format(ISH_ERROR_PROTOCOL,
				"invalidation completion error (FSTS.ICE), source-id %#x",
				DMAR_IQER_REG_ICESID(ret->iqer));
}

static struct ish_error *queued(struct ish_target *t, unsigned unit,
				const struct ish_inval_req *req, uint64_t cap,
				struct ish_inval_result *ret)
{
	struct ish_iq_state q;
	struct ish_error *err;
	struct ish_poller p;
	uint32_t wslot, word;
	uint8_t init[4];
	uint64_t v;

	if ((err = ish_inval_encode_desc(req, cap, ret->desc)))
		return err;
	if (!ish_target_backend(t)->write_phys || !ish_target_backend(t)->write_reg)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"the %s backend cannot write descriptors and IQT",
					ish_target_backend(t)->name);
	if ((err = ish_iq_state_read(t, unit, &q)))
		return ish_error_prefix(err, "reading the invalidation queue");
	if (!q.qies)
		return ish_error_create(ISH_ERROR_INVALID,
					"the invalidation queue is not enabled (GSTS.QIES clear): "
					"enable it (IQA, then GCMD.QIE) or use the registers");
	if (q.have_fsts && (q.fsts & DMA_FSTS_IQE))
		return ish_error_create(ISH_ERROR_INVALID,
					"the invalidation queue is stopped by an earlier error "
					"(FSTS.IQE): clear it first");
	if (q.head_bad || q.tail_bad)
		return ish_error_format(ISH_ERROR_FORMAT,
					"IQH %#" PRIx64 " or IQT %#" PRIx64 " does not name a slot of "
					"the %u-slot queue", q.iqh, q.iqt, q.nslots);
	/* One slot always stays empty: full is tail + 1 == head. */
	if (q.pending + 2 > q.nslots - 1)
		return ish_error_format(ISH_ERROR_LIMIT,
					"the invalidation queue has no room for two descriptors "
					"(%u of %u slots pending)", q.pending, q.nslots);
	ret->desc_size = q.desc_size;
	ret->old_tail = q.tail;
	ret->slot = q.tail;
	wslot = (q.tail + 1) % q.nslots;
	ret->new_tail = (q.tail + 2) % q.nslots;
	ret->status_addr = req->status_addr ? req->status_addr :
					      q.base + (uint64_t)ret->new_tail * q.desc_size;
	if (ret->status_addr & 3)
		return ish_error_format(ISH_ERROR_INVALID,
					"status address %#" PRIx64 " is not 4-byte aligned",
					ret->status_addr);
	/* Different for each tail position, so an old status write cannot pass for ours. */
	ret->status_data = ISH_QI_STATUS_MAGIC | ret->new_tail;
	if ((err = ish_qi_encode_wait(false, true, true, ret->status_data, ret->status_addr,
				      ret->wait_desc)))
		return err;
	for (unsigned i = 0; i < 4; i++)
		init[i] = (uint8_t)(~ret->status_data >> (8 * i));
	if ((err = ish_write_phys(t, ret->status_addr, init, 4)))
		return ish_error_prefix(err, "status word");
	if ((err = ish_queue_write_desc(t, q.base + (uint64_t)ret->slot * q.desc_size, ret->desc,
			      q.desc_size)))
		return ish_error_prefix(err, "descriptor slot %u", ret->slot);
	if ((err = ish_queue_write_desc(t, q.base + (uint64_t)wslot * q.desc_size, ret->wait_desc,
			      q.desc_size)))
		return ish_error_prefix(err, "wait descriptor slot %u", wslot);
	ish_poll_init(&p, req);
	if ((err = ish_write_reg(t, unit, DMAR_IQT_REG, 64,
				 (uint64_t)ret->new_tail * q.desc_size)))
		goto out;
	for (;;) {
		if ((err = read_u32(t, ret->status_addr, &word)))
			goto out;
		if (word == ret->status_data)
			break;
		if ((err = ish_read_reg(t, unit, DMAR_FSTS_REG, 32, &v)))
			goto out;
		if (v & (DMA_FSTS_IQE | DMA_FSTS_ITE | DMA_FSTS_ICE)) {
			err = queue_error(t, unit, (uint32_t)v, ret);
			goto out;
		}
		if ((err = ish_target_check_interrupt(t)))
			goto out;
		if (!ish_poll_again(&p)) {
			err = ish_error_format(ISH_ERROR_TIMEOUT,
					       "the invalidation-wait status word at %#" PRIx64
					       " was not written within %u ms (it reads %#x)",
					       ret->status_addr,
					       req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS,
					       word);
			goto out;
		}
	}
	if (!(err = ish_read_reg(t, unit, DMAR_IQH_REG, 64, &v)))
		ret->iqh_after = v;
out:
	finish(t, unit, &p, ret);
	return err;
}

/*
 * A queue an OS drives (ish_queue_owner()): never a blind write at IQT.
 * Without --force, refused; with it, submitted cooperatively at a stop
 * (lib/vtd/queue.c), which a live host cannot give. Returns the refusal (not
 * yet logged), or NULL when a cooperative submission may go ahead.
 */
static struct ish_error *os_queue_refusal(struct ish_target *t, unsigned unit,
					  const struct ish_queue_owner *o, const char *what)
{
	const char *name = ish_target_unit(t, unit)->name;
	struct ish_error *err;

	if (ish_target_backend(t)->flags & ISH_BACKEND_LIVE) {
		err = ish_error_format(ISH_ERROR_REFUSED,
				       "%s: %s, so this host's kernel drives the invalidation queue; a "
				       "descriptor written at IQT would leave the kernel's software "
				       "tail behind and its next invalidation would be lost or hang "
				       "a CPU. A running kernel cannot be stopped to submit "
				       "cooperatively, so iommush never writes into this queue, even "
				       "with --force. Instead: let the kernel invalidate (unbind and "
				       "rebind the device's driver), or debug the same setup in a QEMU "
				       "guest through its gdbstub",
				       what, o->evidence);
		return err;
	}
	if (!(ish_target_flags(t) & ISH_OPEN_FORCE)) {
		err = ish_error_format(ISH_ERROR_REFUSED,
				       "%s: an operating system drives %s's invalidation queue (%s). "
				       "A descriptor written at the hardware tail would leave the "
				       "OS's software tail behind, and its next invalidation would "
				       "be lost or hang its CPU. Instead: give --force to submit "
				       "cooperatively (iommush then keeps the kernel's queue "
				       "bookkeeping, found through its BTF, at this stop), "
				       "invalidate through a queue iommush owns on an idle unit, use "
				       "register-based invalidation where QI is off, or stop the "
				       "guest's driver first",
				       what, name, o->evidence);
		return err;
	}
	return NULL;
}

static struct ish_error *os_queue(struct ish_target *t, unsigned unit,
				  const struct ish_inval_req *req, uint64_t cap, const char *what,
				  struct ish_inval_result *ret)
{
	struct ish_kernel *k;
	struct ish_iq_state q;
	struct ish_error *err;
	struct ish_poller p;
	uint64_t v;

	if ((err = ish_inval_encode_desc(req, cap, ret->desc)))
		return err;
	if ((err = ish_iq_state_read(t, unit, &q)))
		return ish_error_prefix(err, "reading the invalidation queue");
	if (q.have_fsts && (q.fsts & DMA_FSTS_IQE))
		return ish_error_create(ISH_ERROR_INVALID,
					"the invalidation queue is stopped by an earlier error "
					"(FSTS.IQE): clear it first");
	if ((err = ish_write_begin(t, (int)unit, ISH_WRITE_REGS | ISH_WRITE_MEMORY, what)))
		return err;
	/* The kernel is found once per target (a RAM scan): not part of the timing. */
	if (!(err = ish_target_kernel(t, &k))) {
		ish_poll_init(&p, req);
		err = ish_queue_submit_cooperative(t, unit, &q, ret->desc, &p, ret);
	}
	if (!err && !(err = ish_read_reg(t, unit, DMAR_IQH_REG, 64, &v)))
		ret->iqh_after = v;
	if (!err) {
		finish(t, unit, &p, ret);
		if (ret->iqe || ret->ite || ret->ice)
			err = queue_error(t, unit, ret->fsts, ret);
	}
	ish_write_end(t);
	if (err && err->code == ISH_ERROR_NOT_FOUND && !ret->cooperative)
		err = ish_error_prefix(err,
				       "%s: --force submits into a queue an OS drives only "
				       "cooperatively, and that needs the kernel's layout of its "
				       "queue", what);
	if (err && err->code == ISH_ERROR_REFUSED)
		ish_write_log_refusal(t, (int)unit, what, err);
	return err;
}

/* What ish_invalidate() decides before it writes anything. */
struct plan {
	enum ish_inval_method method;
	uint64_t cap, ecap;
	bool os;		/* the queue is an OS's: cooperative submission */
	struct ish_queue_owner owner;
	char what[48];
};

/* The checks before any write; a refusal of the queue's owner is logged. */
static struct ish_error *prepare(struct ish_target *t, unsigned unit,
				 const struct ish_inval_req *req, enum ish_inval_method method,
				 struct plan *p)
{
	struct ish_error *err;
	uint64_t gsts;
	bool qies, reg_ok;

	memset(p, 0, sizeof(*p));
	if (unit >= ish_target_nunits(t))
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %u", unit);
	if (!ish_target_writable(t))
		return ish_error_create(ISH_ERROR_READ_ONLY,
					"invalidating writes to the target: it needs --write or "
					"'set write on'");
	if ((err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &p->cap)) ||
	    (err = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &p->ecap)) ||
	    (err = ish_read_reg(t, unit, DMAR_GSTS_REG, 32, &gsts)))
		return err;
	qies = gsts & DMA_GSTS_QIES;
	reg_ok = req->what == ISH_INVAL_CONTEXT || req->what == ISH_INVAL_IOTLB;
	if (method == ISH_INVAL_AUTO)
		method = qies || !reg_ok ? ISH_INVAL_QUEUED : ISH_INVAL_REGISTER;
	p->method = method;
	if (method == ISH_INVAL_REGISTER) {
		if (!reg_ok)
			return ish_error_format(ISH_ERROR_INVALID,
						"%s invalidation has no register interface: it needs "
						"the invalidation queue", ish_inval_what_name(req->what));
		/* 6.5.1: the registers are not to be used while the queue is on (QEMU ignores them). */
		if (qies)
			return ish_error_create(ISH_ERROR_INVALID,
						"register-based invalidation is not allowed while the "
						"invalidation queue is enabled (GSTS.QIES): use the queue");
	} else if (!ecap_qis(p->ecap)) {
		return ish_error_create(ISH_ERROR_INVALID,
					"the unit has no invalidation queue (ECAP.QI clear)");
	}
	snprintf(p->what, sizeof(p->what), "invalidate %s", ish_inval_what_name(req->what));
	if (method != ISH_INVAL_QUEUED)
		return NULL;
	if ((err = ish_queue_owner(t, unit, &p->owner)))
		return ish_error_prefix(err, "deciding who drives the queue");
	if (p->owner.agent != ISH_QUEUE_OS)
		return NULL;
	p->os = true;
	if ((err = os_queue_refusal(t, unit, &p->owner, p->what)))
		ish_write_log_refusal(t, (int)unit, p->what, err);
	return err;
}

struct ish_error *ish_invalidate_check(struct ish_target *t, unsigned unit,
				       const struct ish_inval_req *req, enum ish_inval_method method)
{
	struct plan p;

	return prepare(t, unit, req, method, &p);
}

struct ish_error *ish_invalidate(struct ish_target *t, unsigned unit,
				 const struct ish_inval_req *req, enum ish_inval_method method,
				 struct ish_inval_result *ret)
{
	struct ish_error *err;
	struct plan p;

	memset(ret, 0, sizeof(*ret));
	if ((err = prepare(t, unit, req, method, &p)))
		return err;
	ret->method = p.method;
	if (p.os)
		return os_queue(t, unit, req, p.cap, p.what, ret);
	/* One operation: a live host asks once for all the writes it takes. */
	if ((err = ish_write_begin(t, (int)unit,
				   ISH_WRITE_REGS | (p.method == ISH_INVAL_QUEUED ? ISH_WRITE_MEMORY : 0),
				   p.what)))
		return err;
	if (p.method == ISH_INVAL_REGISTER)
		err = by_registers(t, unit, req, p.cap, p.ecap, ret);
	else
		err = queued(t, unit, req, p.cap, ret);
	ish_write_end(t);
	return err;
}
