// SPDX-License-Identifier: MIT
/*
 * Walkers and decoders over random memory with random registers, on the mem
 * backend (include/iommush/mem.h): root -> context -> PASID -> page tables,
 * devices, translate, mappings, who-maps, the interrupt-remapping table and
 * MSI remapping, the invalidation queue, fault records, the register
 * enumerator and (when asked) a snapshot capture.
 *
 * Input (missing bytes read as zero):
 *   u8  flags	bit 0: a second unit (CAP/ECAP/GSTS only: the walkers meet
 *		       registers that cannot be read); bits 1, 6 and 7 all set:
 *		capture a snapshot (costly: a whole traversal plus a file, so
 *		only one input in eight); bit 2: count PASIDs in the device
 *		walk; bit 3: ISH_REGS_ALL
 *   u16 bdf, u32 pasid, u64 iova, u8 access, u64 hpa (who-maps),
 *   u32 msi address low bits, u32 msi data
 *   u64 CAP, ECAP, RTADDR, IQH, IQT, IQA, IQER, IRTA; u32 GSTS, FSTS, ICS, FECTL
 *   then records to the end:
 *     u8 kind, even: RAM bytes: u16 address (RAM is 64 KiB at 0), u8 n, n bytes
 *              odd:  a 64-bit register of unit 0: u16 offset (8-aligned), u64 value
 * Walk limits are small (walk.max_pages=64, walk.max_mappings=256) so one
 * input is quick however the tables loop.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/capture.h>
#include <iommush/vtd/context.h>
#include <iommush/vtd/fault.h>
#include <iommush/vtd/iq.h>
#include <iommush/vtd/irte.h>
#include <iommush/mem.h>
#include <iommush/regfile.h>
#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "fuzz.h"

#define RAM_SIZE 0x10000u

static volatile uint64_t sink;
static char snap_path[256];
static bool verbose;	/* FZ_VERBOSE set: say what happened (for writing seeds) */

struct ctx {
	struct ish_target *t;
	unsigned devices;
};

static struct ish_error *on_finding(void *arg, const struct ish_finding *f)
{
	if (verbose)
		fprintf(stderr, "finding %s: %s\n", ish_finding_kind_name(f->kind), f->text);
	sink += f->kind + f->where + f->level + f->iova + f->addr + f->bits + strlen(f->text);
	return NULL;
}

static struct ish_error *on_mapping(void *arg, const struct ish_mapping *m)
{
	if (verbose)
		fprintf(stderr, "mapping %#llx -> %#llx size %#llx\n", (unsigned long long)m->iova,
			(unsigned long long)m->hpa, (unsigned long long)m->size);
	sink += m->iova + m->hpa + m->size + m->page_size;
	return NULL;
}

static struct ish_error *on_pasid(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	sink += pasid;
	return NULL;
}

static struct ish_error *on_device(void *arg, const struct ish_device *d)
{
	struct ctx *c = arg;
	struct ish_unit_state us;
	struct ish_error *err;

	sink += d->bdf + d->npasids;
	/* The first few scalable devices: list their PASIDs too. */
	if (!d->scalable || c->devices++ >= 4)
		return NULL;
	err = ish_unit_state_read(c->t, d->unit, &us);
	if (!err)
		err = ish_device_pasids(c->t, &us, &d->ce, on_pasid, on_finding, NULL);
	ish_error_destroy(err);
	return NULL;
}

static struct ish_error *on_who(void *arg, const struct ish_who_maps *w)
{
	sink += w->bdf + w->pasid + w->iova;
	return NULL;
}

/* Every field of every register through the decoder tables ("??N" paths too). */
static struct ish_error *on_reg(void *arg, const struct ish_reg_value *v)
{
	char buf[128];

	sink += v->offset + (v->err ? 1 : v->value) + strlen(v->name);
	if (v->err || !v->def)
		return NULL;
	for (size_t i = 0; i < v->def->nfields; i++) {
		const struct ish_field_def *f = &v->def->fields[i];
		const char *m = ish_field_meaning(f, ish_field_get(f, v->value), buf, sizeof(buf));

		sink += m ? strlen(m) : 0;
	}
	return NULL;
}

/* The entry decoder tables over what a translation read. */
static void decode_steps(const struct ish_translation *tr)
{
	for (unsigned i = 0; i < tr->nsteps && i < ISH_MAX_STEPS; i++) {
		const struct ish_step *st = &tr->steps[i];
		enum ish_entry_kind kind;
		const struct ish_entry_field *f;

		switch (st->kind) {
		case ISH_STEP_ROOT: kind = tr->scalable ? ISH_ENTRY_SM_ROOT : ISH_ENTRY_ROOT; break;
		case ISH_STEP_CONTEXT: kind = tr->scalable ? ISH_ENTRY_SM_CONTEXT : ISH_ENTRY_CONTEXT; break;
		case ISH_STEP_PASID_DIR: kind = ISH_ENTRY_PASID_DIR; break;
		case ISH_STEP_PASID: kind = ISH_ENTRY_PASID; break;
		case ISH_STEP_SL_PTE: kind = ISH_ENTRY_SL_PTE; break;
		default: kind = ISH_ENTRY_FL_PTE; break;
		}
		sink += strlen(ish_step_kind_name(st->kind));
		if (st->nraw < ish_entry_qwords(kind))
			continue;
		for (f = ish_entry_fields(kind); f && f->name; f++)
			sink += ish_entry_field_get(st->raw, f);
	}
}

/* The descriptor encoders, with values from the input: refuse or encode, never crash. */
static void encoders(uint64_t a, uint64_t b, uint32_t c)
{
	struct ish_qi_desc d;
	uint64_t qw[4];
	char buf[256];

#define ENC(call)							\
	do {								\
		struct ish_error *e_ = (call);				\
		if (!e_) {						\
			ish_qi_decode(qw, 256, &d);			\
			sink += strlen(ish_qi_describe(&d, buf, sizeof(buf))); \
		}							\
		ish_error_destroy(e_);					\
	} while (0)
	ENC(ish_qi_encode_cc(a & 3, (uint16_t)b, (uint16_t)(b >> 16), (a >> 2) & 7, qw));
	ENC(ish_qi_encode_iotlb(a & 3, (uint16_t)c, b, (a >> 8) & 127, a & 4, a & 8, a & 16, qw));
	ENC(ish_qi_encode_iec(a & 1, (uint16_t)b, (a >> 1) & 31, qw));
	ENC(ish_qi_encode_pc(a & 3, (uint16_t)b, c, qw));
	ENC(ish_qi_encode_piotlb(a & 3, (uint16_t)c, (uint32_t)a, b, (a >> 8) & 127, a & 4, qw));
	ENC(ish_qi_encode_wait(a & 1, a & 2, a & 4, c, b, qw));
#undef ENC
}

/* Translate and check what the result promises (walk.h); false on an error. */
static bool ish_translate_checked(struct ish_target *t, int unit, uint16_t bdf, uint32_t pasid,
				  uint64_t iova, unsigned access, struct ish_translation *tr)
{
	struct ish_error *err = ish_translate(t, unit, bdf, pasid, iova, access, tr);

	if (verbose)
		fprintf(stderr, "translate unit %d bdf %#x pasid %#x iova %#llx: %s%s faulted %d reason %#x "
			"step %d/%u hpa %#llx\n", unit, bdf, pasid, (unsigned long long)iova,
			err ? "error " : "", err ? err->message : "", tr->faulted, tr->reason,
			tr->fault_step, tr->nsteps, (unsigned long long)tr->hpa);
	if (err) {
		ish_error_destroy(err);
		return false;
	}
	if (tr->nsteps > ISH_MAX_STEPS || tr->fault_step < -1 ||
	    (tr->faulted && tr->fault_step >= (int)tr->nsteps) || (!tr->faulted && tr->fault_step != -1))
		abort();
	for (unsigned i = 0; i < tr->nsteps; i++)
		if (tr->steps[i].nraw > 8)
			abort();
	decode_steps(tr);
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	verbose = getenv("FZ_VERBOSE") != NULL;
	snprintf(snap_path, sizeof(snap_path), "%s/iommush-fuzz-%ld.snap", base, (long)getpid());
	return 0;
}

static void interrupts(struct ish_target *t, uint32_t msi_lo, uint32_t msi_data, uint16_t sid)
{
	struct ish_ir_state ir;
	struct ish_msi_remap mr;
	struct ish_irte e;

	struct ish_error *err = ish_ir_state_read(t, 0, &ir);

	if (err) {
		ish_error_destroy(err);
		return;
	}
	for (uint32_t i = 0; i < 8; i++)
		FZ_IGNORE(ish_irte_read(t, &ir, i, &e));
	FZ_IGNORE(ish_irte_read(t, &ir, msi_data & 0xffff, &e));
	/* No table has 2^32 entries (at most 2^16): must be refused. */
	err = ish_irte_read(t, &ir, 0xffffffffu, &e);
	if (!err)
		abort();
	ish_error_destroy(err);
	FZ_IGNORE(ish_msi_remap(t, &ir, ISH_MSI_ADDR_BASE | (msi_lo & 0xfffff), msi_data, sid, &mr));
	/* Outside the interrupt range: must be a clean error. */
	FZ_IGNORE(ish_msi_remap(t, &ir, msi_lo, msi_data, sid, &mr));
}

static void queue(struct ish_target *t)
{
	struct ish_iq_state q;
	struct ish_qi_desc d;
	char buf[256];
	struct ish_error *err = ish_iq_state_read(t, 0, &q);

	if (err) {
		ish_error_destroy(err);
		return;
	}
	/* The pending slots, at most 16, and the ends of the queue. */
	sink += strlen(ish_iqei_text((unsigned)(q.iqer & 0xf)));
	for (uint32_t i = 0, s = q.head; i < q.pending && i < 16 && q.nslots; i++, s = (s + 1) % q.nslots) {
		err = ish_iq_read_slot(t, &q, s, &d);
		if (!err)
			sink += strlen(ish_qi_describe(&d, buf, sizeof(buf)));
		ish_error_destroy(err);
	}
	FZ_IGNORE(ish_iq_read_slot(t, &q, 0, &d));
	if (q.nslots)
		FZ_IGNORE(ish_iq_read_slot(t, &q, q.nslots - 1, &d));
	err = ish_iq_read_slot(t, &q, q.nslots, &d);
	if (!err)
		abort();	/* a slot past the queue must be refused */
	ish_error_destroy(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ish_param params[] = {
		{ "walk.max_pages", "64" },
		{ "walk.max_mappings", "256" },
	};
	struct fz c = { data, size };
	struct ish_target *t = NULL;
	struct ish_translation *tr;
	struct ish_faults *faults = NULL;
	struct ish_walk_stats ws;
	struct ctx cx = { 0 };
	struct ish_error *err;
	uint8_t flags, access;
	uint16_t bdf;
	uint32_t pasid, msi_lo, msi_data;
	uint64_t iova, hpa;
	uint8_t *ram = NULL;
	unsigned u0 = 0, u1 = 0;

	flags = fz_u8(&c);
	bdf = fz_u16(&c);
	pasid = fz_u32(&c);
	iova = fz_u64(&c);
	access = fz_u8(&c);
	hpa = fz_u64(&c);
	msi_lo = fz_u32(&c);
	msi_data = fz_u32(&c);

	if (ish_target_open("mem", "mem", params, 2, ISH_OPEN_WRITE, &t) ||
	    ish_mem_add_ram(t, 0, RAM_SIZE, (void **)&ram) ||
	    ish_mem_add_unit(t, 0xfed90000, 0, &u0))
		abort();
	{
		static const struct { uint32_t off; unsigned width; } regs[] = {
			{ DMAR_CAP_REG, 64 }, { DMAR_ECAP_REG, 64 }, { DMAR_RTADDR_REG, 64 },
			{ DMAR_IQH_REG, 64 }, { DMAR_IQT_REG, 64 }, { DMAR_IQA_REG, 64 },
			{ DMAR_IQER_REG, 64 }, { DMAR_IRTA_REG, 64 }, { DMAR_GSTS_REG, 32 },
			{ DMAR_FSTS_REG, 32 }, { DMAR_ICS_REG, 32 }, { DMAR_FECTL_REG, 32 },
		};
		uint64_t v[sizeof(regs) / sizeof(regs[0])];

		for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
			v[i] = fz_bytes(&c, regs[i].width / 8);
			if (ish_mem_set_reg(t, u0, regs[i].off, regs[i].width, v[i]))
				abort();
		}
		if (flags & 1) {
			if (ish_mem_add_unit(t, 0xfed91000, 0, &u1) ||
			    ish_mem_set_reg(t, u1, DMAR_CAP_REG, 64, v[0]) ||
			    ish_mem_set_reg(t, u1, DMAR_ECAP_REG, 64, v[1]) ||
			    ish_mem_set_reg(t, u1, DMAR_GSTS_REG, 32, v[8]))
				abort();
		}
	}
	while (c.n) {
		uint8_t kind = fz_u8(&c);
		uint16_t off = fz_u16(&c);

		if (kind & 1) {
			uint64_t v = fz_u64(&c);

			if (ish_mem_set_reg(t, u0, off & ~7u, 64, v))
				abort();
		} else {
			uint8_t n = fz_u8(&c);

			for (unsigned i = 0; i < n && c.n; i++)
				ram[(uint16_t)(off + i)] = fz_u8(&c);
		}
	}

	FZ_IGNORE(ish_unit_regs(t, u0, flags & 8 ? ISH_REGS_ALL : 0, on_reg, NULL));
	cx.t = t;
	FZ_IGNORE(ish_devices(t, flags & 4, on_device, on_finding, &cx));

	tr = malloc(sizeof(*tr));
	if (!tr)
		abort();
	if (!ish_translate_checked(t, -1, bdf, pasid, iova, access & 7, tr))
		ish_translate_checked(t, 0, bdf, ISH_PASID_NONE, iova, access & 7, tr);
	FZ_IGNORE(ish_mappings(t, 0, bdf, pasid, 0, ~0ull, on_mapping, on_finding, NULL, tr, &ws));
	FZ_IGNORE(ish_mappings(t, 0, bdf, ISH_PASID_NONE, iova & ~0xfffull, iova | 0x1fffff,
			       on_mapping, on_finding, NULL, tr, &ws));
	free(tr);
	FZ_IGNORE(ish_who_maps(t, hpa, on_who, on_finding, NULL));

	interrupts(t, msi_lo, msi_data, bdf);
	queue(t);
	encoders(iova, hpa, msi_data);
	err = ish_faults_read(t, u0, &faults);
	if (!err)
		ish_faults_destroy(faults);
	ish_error_destroy(err);

	if ((flags & 0xc2) == 0xc2) {
		/* FZ_SNAPSHOT=FILE keeps the snapshot (seeds for fuzz_dump). */
		const char *keep = getenv("FZ_SNAPSHOT");
		struct ish_capture_stats cs;

		FZ_IGNORE(ish_snapshot_capture(t, keep ? keep : snap_path, &cs));
		if (!keep)
			unlink(snap_path);
	}
	ish_target_close(t);
	return 0;
}
