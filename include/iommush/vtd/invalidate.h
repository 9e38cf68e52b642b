/* SPDX-License-Identifier: MIT */
/*
 * Invalidations (Intel VT-d 5.0, 6.5): context-cache, IOTLB, interrupt
 * entry cache, PASID cache and PASID-based IOTLB, submitted either through
 * the register-based interface (6.5.1: the Context Command Register, and
 * the Invalidate Address and IOTLB Invalidate Registers at ECAP.IRO*16;
 * 11.4) or through the invalidation queue (6.5.2: a descriptor at IQT, then
 * an invalidation-wait descriptor whose status write says the hardware is
 * done).
 *
 * Every access goes through ish_read_reg()/ish_write_reg()/ish_write_phys():
 * the target must be writable. Register fields follow Linux
 * drivers/iommu/intel/iommu.h (DMA_CCMD_*, DMA_TLB_*) and QEMU
 * hw/i386/intel_iommu_internal.h (VTD_CCMD_*, VTD_TLB_*).
 *
 * A queue another agent drives (an OS's driver: ish_queue_owner()) is never
 * written blindly at IQT: that leaves the agent's software tail behind
 * (its next submission lands in consumed slots and hangs). Such a
 * submission is refused, or with ISH_OPEN_FORCE on a stopped guest made
 * cooperatively, keeping the kernel's struct q_inval consistent
 * (lib/vtd/queue.c); a live host's kernel cannot be stopped, so there it is
 * always refused.
 */
#ifndef IOMMUSH_INVALIDATE_H
#define IOMMUSH_INVALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * CCMD_REG (11.4, Context Command Register): ICC 63, CIRG 62:61, CAIG 60:59,
 * FM 33:32, SID 31:16, DID 15:0.
 */
#define DMA_CCMD_ICC		(1ULL << 63)
#define DMA_CCMD_CIRG(g)	((uint64_t)((g) & 3) << 61)
#define DMA_CCMD_CAIG(v)	((unsigned)(((v) >> 59) & 3))
#define DMA_CCMD_FM(m)		((uint64_t)((m) & 3) << 32)
#define DMA_CCMD_SID(s)		((uint64_t)((s) & 0xffff) << 16)
#define DMA_CCMD_DID(d)		((uint64_t)((d) & 0xffff))
/*
 * IOTLB_REG (11.4, IOTLB Invalidate Register): IVT 63, IIRG 61:60,
 * IAIG 58:57, DR 49, DW 48, DID 47:32.
 */
#define DMA_TLB_IVT		(1ULL << 63)
#define DMA_TLB_IIRG(g)		((uint64_t)((g) & 3) << 60)
#define DMA_TLB_IAIG(v)		((unsigned)(((v) >> 57) & 3))
#define DMA_TLB_READ_DRAIN	(1ULL << 49)
#define DMA_TLB_WRITE_DRAIN	(1ULL << 48)
#define DMA_TLB_DID(d)		((uint64_t)((d) & 0xffff) << 32)
/* IVA_REG (11.4, Invalidate Address Register): ADDR 63:12, IH 6, AM 5:0. */
#define DMA_IVA_IH		(1ULL << 6)
/* FSTS (11.4, Fault Status Register): queue error bits */
#define DMA_FSTS_IQE		(1u << 4)
#define DMA_FSTS_ICE		(1u << 5)
#define DMA_FSTS_ITE		(1u << 6)
/* CAP (11.4.2): drain support, which Linux sets DR/DW by */
#define cap_write_drain(c)	((unsigned)(((c) >> 54) & 1))
#define cap_read_drain(c)	((unsigned)(((c) >> 55) & 1))

/* What to invalidate. */
enum ish_inval_what {
	ISH_INVAL_CONTEXT,	/* context-cache: global, domain, device */
	ISH_INVAL_IOTLB,	/* IOTLB: global, domain, page */
	ISH_INVAL_IEC,		/* interrupt entry cache: global, index (queued only) */
	ISH_INVAL_PASID_CACHE,	/* PASID cache: global, domain, pasid (queued only) */
	ISH_INVAL_PIOTLB,	/* PASID-based IOTLB: pasid, page (queued only) */
};

/* Granularities; which apply depends on what (see above). */
enum ish_inval_gran {
	ISH_INVAL_GLOBAL,
	ISH_INVAL_DOMAIN,	/* did */
	ISH_INVAL_DEVICE,	/* did, sid, fm */
	ISH_INVAL_PAGE,		/* did, addr, am, ih (+ pasid for piotlb) */
	ISH_INVAL_INDEX,	/* index, im */
	ISH_INVAL_PASID,	/* did, pasid */
};

enum ish_inval_method {
	ISH_INVAL_AUTO,		/* queued when GSTS.QIES, registers otherwise */
	ISH_INVAL_REGISTER,
	ISH_INVAL_QUEUED,
};

/* Hook called between two polls; the default sleeps 100 us. */
typedef void ish_inval_wait_fn(void *arg, unsigned poll);

struct ish_inval_req {
	enum ish_inval_what what;
	enum ish_inval_gran gran;
	uint16_t did;
	uint16_t sid;		/* device: the source-id (BDF) */
	unsigned fm;		/* device: function mask, 0..3 */
	uint64_t addr;		/* page: aligned to 2^am pages */
	unsigned am;		/* page: address mask */
	bool ih;		/* page: invalidation hint (leaf entries only changed) */
	uint32_t pasid;
	uint16_t index;		/* iec index */
	unsigned im;		/* iec index mask */
	bool no_drain;		/* IOTLB: do not set DR/DW (set by default when CAP allows) */
	/*
	 * Queued: where the wait descriptor writes its status word. 0 picks
	 * the queue slot just after the wait descriptor: the new tail, which
	 * hardware never reads while it is the tail (one slot of a queue is
	 * always empty), so the word clobbers nothing of anyone's.
	 */
	uint64_t status_addr;
	unsigned timeout_ms;	/* for each poll loop; 0 = 1000 ms */
	ish_inval_wait_fn *wait;	/* NULL = sleep; tests use it to play hardware */
	void *wait_arg;
};

struct ish_inval_result {
	enum ish_inval_method method;	/* the one used */
	/* Register-based: */
	uint64_t cmd;			/* value written to CCMD / IOTLB_REG */
	uint64_t iva;			/* value written to IVA (page), else 0 */
	uint64_t reg_after;		/* CCMD / IOTLB_REG once ICC / IVT cleared */
	unsigned requested_gran;	/* CIRG / IIRG */
	unsigned actual_gran;		/* CAIG / IAIG as the hardware reported it */
	/* Queued: */
	uint64_t desc[4];		/* the invalidation descriptor */
	uint64_t wait_desc[4];		/* the invalidation-wait descriptor */
	unsigned desc_size;		/* 16 or 32 */
	uint32_t slot;			/* slot of the descriptor (the wait follows) */
	uint32_t old_tail, new_tail;	/* slots */
	uint64_t status_addr;
	uint32_t status_data;
	uint64_t iqh_after;		/* IQH once done (or stopped) */
	uint64_t iqer;			/* IQERCD, read on a queue error */
	/*
	 * Queued into a queue the kernel drives (--force): submitted as the
	 * kernel's qi_submit_sync() would, its struct q_inval kept consistent.
	 */
	bool cooperative;
	unsigned resumes;		/* the guest resumed and stopped again until q_lock was free */
	uint64_t q_inval_pa;		/* the kernel's struct q_inval */
	int32_t free_head_before, free_head_after;
	int32_t free_tail_before, free_tail_after;
	int32_t free_cnt_before, free_cnt_after;
	/* Both: */
	uint32_t fsts;			/* FSTS after the operation */
	bool iqe, ice, ite;		/* FSTS error bits after the operation */
	unsigned polls;
	uint64_t elapsed_us;
};

/*
 * The status data of iommush's own invalidation-wait descriptors:
 * ISH_QI_STATUS_MAGIC | the new tail slot. It marks the queue's slots as
 * iommush's, so that a later session can tell its own queue from one an OS
 * drives (ish_queue_owner()).
 */
#define ISH_QI_STATUS_MAGIC	0x15500000u
#define ISH_QI_STATUS_MAGIC_MASK 0xfff00000u

/* Who drives a unit's invalidation queue. */
enum ish_queue_agent {
	ISH_QUEUE_OFF,		/* queued invalidation is not enabled (GSTS.QIES clear) */
	ISH_QUEUE_UNUSED,	/* enabled, IQH = IQT = 0 and every slot empty */
	ISH_QUEUE_ISH,		/* every wait descriptor in it is iommush's */
	ISH_QUEUE_OS,		/* someone else submits: the kernel's driver, a guest's OS */
};

struct ish_queue_owner {
	enum ish_queue_agent agent;
	/* A live host whose kernel driver registered the unit (iommush/write.h). */
	bool live_driver;
	/* What decided it, for messages: "the kernel's intel-iommu driver registered
	 * dmar0 (/sys/class/iommu/dmar0)", "slot 121 holds a wait descriptor that
	 * writes 0x2 to 0x3f6c9004, not iommush's". */
	char evidence[512];
};

/*
 * Decides who drives unit's queue: on a live host the kernel's driver
 * (sysfs, as the write gate decides ownership); elsewhere by what the queue
 * holds: a wait descriptor whose status data is not iommush's, descriptors
 * with no wait, or descriptors pending between IQH and IQT mean another
 * agent. Reads registers and the queue's pages; writes nothing.
 */
struct ish_error *ish_queue_owner(struct ish_target *t, unsigned unit, struct ish_queue_owner *ret);
const char *ish_queue_agent_name(enum ish_queue_agent a);

/* "global", "domain", "device"/"page"/"index"/"pasid"; "??N" for others. */
const char *ish_inval_gran_name(enum ish_inval_what what, unsigned hw_gran);
const char *ish_inval_what_name(enum ish_inval_what what);
const char *ish_inval_method_name(enum ish_inval_method m);

/*
 * Validates req against what (granularity allowed, fields in range) and
 * encodes it: for the register interface into cmd and iva (what is context
 * or iotlb only), for the queue into qw[4]. cap supplies DR/DW support and
 * MAMV/PSI for the register path. Pure: no target access.
 */
struct ish_error *ish_inval_encode_reg(const struct ish_inval_req *req, uint64_t cap,
				       uint64_t *cmd, uint64_t *iva);
struct ish_error *ish_inval_encode_desc(const struct ish_inval_req *req, uint64_t cap,
					uint64_t qw[4]);

/*
 * Performs one invalidation on unit. Fails with ISH_ERROR_READ_ONLY on a
 * read-only target before touching anything, ISH_ERROR_INVALID on a request
 * that does not fit the chosen interface (e.g. IEC through registers, the
 * registers while QI is enabled, QI not enabled), ISH_ERROR_TIMEOUT when
 * ICC/IVT stays set or the status word is not written in time, and
 * ISH_ERROR_FORMAT (IQE), ISH_ERROR_TIMEOUT (ITE) or ISH_ERROR_PROTOCOL (ICE)
 * when FSTS reports a queue error; IAIG 0 (request not performed) is
 * ISH_ERROR_UNSUPPORTED. *ret is filled as far as the operation got, on
 * failure too, so callers can show what the hardware said.
 */
struct ish_error *ish_invalidate(struct ish_target *t, unsigned unit,
				 const struct ish_inval_req *req, enum ish_inval_method method,
				 struct ish_inval_result *ret);

/*
 * The refusals ish_invalidate() would give before it writes anything (read
 * only, no such interface, a queue an OS drives without --force or on a
 * live host), for a caller that confirms once for several units and must
 * not ask about a unit that will be refused. A refusal is logged.
 */
struct ish_error *ish_invalidate_check(struct ish_target *t, unsigned unit,
				       const struct ish_inval_req *req, enum ish_inval_method method);

#ifdef __cplusplus
}
#endif

#endif
