// SPDX-License-Identifier: MIT
/* Interrupt remapping, the invalidation queue and fault records: irte, iq, faults. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/fault.h>
#include <iommush/vtd/iq.h>
#include <iommush/vtd/irte.h>
#include <iommush/vtd/vtd.h>

#include "kernel_log.h"
#include "shell.h"

/* The units a command covers: --unit U, or all of them. */
static bool pick_units(struct ish_shell *sh, struct ish_target *t, const char *opt,
		       unsigned *first, unsigned *last)
{
	const struct ish_unit *u;

	if (!ish_target_nunits(t)) {
		sh_error(sh, "the target has no DMA remapping units");
		return false;
	}
	if (!opt) {
		*first = 0;
		*last = ish_target_nunits(t) - 1;
		return true;
	}
	u = ish_target_unit_by_name(t, opt);
	if (!u) {
		sh_error(sh, "no unit '%s'", opt);
		return false;
	}
	*first = *last = u->index;
	return true;
}

static const char *unit_name(struct ish_target *t, unsigned u)
{
	return ish_target_unit(t, u)->name;
}

/* --- irte --- */

static void irte_text(struct ish_shell *sh, const struct ish_irte *e, const struct ish_pid *pid)
{
	char b[8];

	sh_printf(sh, "IRTE %u: ", e->index);
	sh_flag(sh, "P", e->present);
	sh_printf(sh, " ");
	sh_flag(sh, "FPD", e->fpd);
	if (e->posted) {
		sh_printf(sh, " posted vector=%#x ", e->vector);
		sh_flag(sh, "URG", e->urgent);
		sh_printf(sh, " PDA=%#" PRIx64, e->pda);
	} else {
		sh_printf(sh, " remapped vector=%#x dest=%#x DM=%s ", e->vector, e->dest,
			  e->dm ? "logical" : "physical");
		sh_flag(sh, "RH", e->rh);
		sh_printf(sh, " TM=%s DLM=%s", e->tm ? "level" : "edge", ish_irte_dlm_name(e->dlm));
	}
	sh_printf(sh, " AVAIL=%#x SID=%s SQ=%s SVT=%s", e->avail, fmt_bdf(e->sid, b),
		  ish_irte_sq_name(e->sq), ish_irte_svt_name(e->svt));
	if (e->rsvd_lo || e->rsvd_hi)
		sh_printf(sh, " RESERVED-BITS lo=%#" PRIx64 " hi=%#" PRIx64, e->rsvd_lo, e->rsvd_hi);
	sh_printf(sh, "\n");
	if (pid) {
		sh_printf(sh, "    PID: ");
		sh_flag(sh, "ON", pid->on);
		sh_printf(sh, " ");
		sh_flag(sh, "SN", pid->sn);
		sh_printf(sh, " NV=%#x NDST=%#x (dest %#x) PIR:", pid->nv, pid->ndst, pid->dest);
		for (unsigned v = 0; v < 256; v++)
			if (pid->pir[v / 64] >> (v % 64) & 1)
				sh_printf(sh, " %#x", v);
		if (!pid->npending)
			sh_printf(sh, " (empty)");
		sh_printf(sh, "\n");
	}
}

/* In JSON Lines an entry is a line of its own and says its unit first (unit: NULL otherwise). */
static void irte_json(struct ish_shell *sh, const char *unit, const struct ish_irte *e,
		      const struct ish_pid *pid)
{
	struct json_writer *w = &sh->json;

	json_begin_object(w);
	if (unit)
		json_kv_str(w, "unit", unit);
	json_kv_u64(w, "index", e->index);
	json_kv_u64(w, "lo", e->lo);
	json_kv_u64(w, "hi", e->hi);
	json_kv_bool(w, "present", e->present);
	json_kv_bool(w, "fpd", e->fpd);
	json_kv_str(w, "format", e->posted ? "posted" : "remapped");
	json_kv_u64(w, "vector", e->vector);
	json_kv_u64(w, "avail", e->avail);
	json_kv_u64(w, "sid", e->sid);
	json_kv_u64(w, "sq", e->sq);
	json_kv_u64(w, "svt", e->svt);
	if (e->posted) {
		json_kv_bool(w, "urgent", e->urgent);
		json_kv_u64(w, "pda", e->pda);
	} else {
		json_kv_u64(w, "dest", e->dest);
		json_kv_bool(w, "dm", e->dm);
		json_kv_bool(w, "rh", e->rh);
		json_kv_bool(w, "tm", e->tm);
		json_kv_u64(w, "dlm", e->dlm);
		json_kv_str(w, "dlm_name", ish_irte_dlm_name(e->dlm));
	}
	json_kv_u64(w, "rsvd_lo", e->rsvd_lo);
	json_kv_u64(w, "rsvd_hi", e->rsvd_hi);
	if (pid) {
		json_key(w, "pid");
		json_begin_object(w);
		json_kv_bool(w, "on", pid->on);
		json_kv_bool(w, "sn", pid->sn);
		json_kv_u64(w, "nv", pid->nv);
		json_kv_u64(w, "ndst", pid->ndst);
		json_kv_u64(w, "dest", pid->dest);
		json_key(w, "pir");
		json_begin_array(w);
		for (unsigned v = 0; v < 256; v++)
			if (pid->pir[v / 64] >> (v % 64) & 1)
				json_u64(w, v);
		json_end_array(w);
		json_end_object(w);
	}
	json_end_object(w);
}

/*
 * One entry plus, for a posted one, its descriptor; fails only if the entry
 * is unreadable. A shown entry with reserved bits set counts in *bad.
 */
static struct ish_error *irte_show(struct ish_shell *sh, struct ish_target *t, unsigned unit,
				   const struct ish_ir_state *ir, uint32_t index, bool all,
				   unsigned *bad)
{
	struct ish_irte e;
	struct ish_pid pid;
	bool have_pid = false;
	struct ish_error *err = ish_irte_read(t, ir, index, &e);

	if (err)
		return err;
	if (all && !e.present)
		return NULL;
	if (e.rsvd_lo || e.rsvd_hi)
		++*bad;
	if (e.present && e.posted) {
		err = ish_pid_read(t, e.pda, ir->irta.eime, &pid);
		have_pid = !err;
	}
	if (sh_json(sh))
		irte_json(sh, sh_jsonl(sh) ? unit_name(t, unit) : NULL, &e, have_pid ? &pid : NULL);
	else
		irte_text(sh, &e, have_pid ? &pid : NULL);
	if (err && !sh_json(sh))
		sh_printf(sh, "    (posted descriptor unreadable: %s)\n", err->message);
	ish_error_destroy(err);
	return NULL;
}

static void msi_report(struct ish_shell *sh, const struct ish_msi_remap *r)
{
	struct json_writer *w = &sh->json;

	if (sh_json(sh)) {
		json_key(w, "msi");
		json_begin_object(w);
		json_kv_u64(w, "addr", r->addr);
		json_kv_u64(w, "data", r->data);
		json_kv_u64(w, "sid", r->sid);
		json_kv_bool(w, "remappable", r->remappable);
		json_kv_u64(w, "index", r->index);
		json_kv_bool(w, "passthrough", r->passthrough);
		if (r->fault) {
			json_key(w, "fault");
			json_begin_object(w);
			json_kv_u64(w, "reason", r->fault);
			json_kv_str(w, "text", ish_fault_reason_text(r->fault, false));
			json_kv_bool(w, "recorded", r->fault_recorded);
			json_end_object(w);
		} else {
			json_kv_u64(w, "vector", r->vector);
			json_kv_u64(w, "dest", r->dest);
			json_kv_bool(w, "posted", r->have_pid);
		}
		json_end_object(w);
		return;
	}
	sh_printf(sh, "MSI addr=%#" PRIx64 " data=%#x: %s format", r->addr, r->data,
		  r->remappable ? "remappable" : "compatibility");
	if (r->remappable)
		sh_printf(sh, ", handle=%#x%s index=%u", r->handle,
			  r->shv ? " +subhandle" : "", r->index);
	sh_printf(sh, "\n");
	if (r->fault)
		sh_printf(sh, "  fault %#x: %s%s\n", r->fault, ish_fault_reason_text(r->fault, false),
			  r->fault_recorded ? "" : " (not recorded: FPD set)");
	else if (r->have_pid)
		sh_printf(sh, "  posted: vector %#x into the PIR at %#" PRIx64
			  ", notification vector %#x to %#x%s\n", r->vector, r->irte.pda, r->pid.nv,
			  r->dest, r->pid.sn && !r->irte.urgent ? " (suppressed: SN+)" : "");
	else
		sh_printf(sh, "  %s: vector %#x dest %#x %s DLM=%s TM=%s\n",
			  r->passthrough ? "not remapped" : "remapped", r->vector, r->dest,
			  r->dm ? "logical" : "physical", ish_irte_dlm_name(r->dlm),
			  r->tm ? "level" : "edge");
}

static int cmd_irte(struct ish_shell *sh, int argc, char **argv)
{
	const struct ish_command *self = sh->cmd;
	struct sh_opt opts[] = {
		{ "--unit", true, NULL }, { "--msi", true, NULL }, { "--sid", true, NULL },
	};
	struct ish_target *t = sh_target(sh);
	unsigned first, last;
	bool all = true;
	uint64_t index = 0, msi_addr = 0, msi_data = 0;
	uint16_t sid = 0;
	int status = 0, werr;
	unsigned bad = 0;
	struct out_buf *ob;
	bool lines;

	if (!t)
		return 1;
	if (!sh_getopt(sh, self, &argc, argv, opts, 3))
		return 2;
	if (argc > 2)
		return sh_usage(sh, self);
	if (argc == 2 && strcmp(argv[1], "all")) {
		if (!parse_u64(argv[1], &index) || index > 0xffffffffULL)
			return sh_usage(sh, self);
		all = false;
	}
	if (opts[1].value) {
		char *comma = strchr(opts[1].value, ',');

		if (!comma)
			return sh_usage(sh, self);
		*comma = '\0';
		if (!parse_u64(opts[1].value, &msi_addr) || !parse_u64(comma + 1, &msi_data) ||
		    msi_data > 0xffffffffULL)
			return sh_usage(sh, self);
	}
	if (opts[2].value && !parse_bdf(opts[2].value, NULL, &sid))
		return sh_usage(sh, self);
	if (!pick_units(sh, t, opts[0].value, &first, &last))
		return 1;

	/* JSON Lines: a line per entry (with its unit), or per unit for --msi. */
	lines = sh_jsonl(sh) && !opts[1].value;
	ob = malloc(sizeof(*ob));
	if (!ob)
		return sh_report(sh, &ish_enomem);
	sh_stream_begin(sh, ob);
	sh_list_begin(sh);
	for (unsigned u = first; u <= last && !sh_stream_broken(sh); u++) {
		struct ish_ir_state ir;
		struct ish_error *err = ish_ir_state_read(t, u, &ir);

		if (err) {
			status = sh_report(sh, ish_error_prefix(err, "%s", unit_name(t, u)));
			continue;
		}
		if (lines) {
			/* the unit's IRTA is in `irte --json`; a line is an entry */
		} else if (sh_json(sh)) {
			json_begin_object(&sh->json);
			json_kv_str(&sh->json, "unit", unit_name(t, u));
			json_kv_u64(&sh->json, "irta", ir.irta.raw);
			json_kv_u64(&sh->json, "table", ir.irta.addr);
			json_kv_bool(&sh->json, "eime", ir.irta.eime);
			json_kv_u64(&sh->json, "size", ir.irta.s);
			json_kv_u64(&sh->json, "entries", ir.irta.entries);
			json_kv_bool(&sh->json, "enabled", ir.ires);
			json_kv_bool(&sh->json, "cfis", ir.cfis);
		} else {
			sh_printf(sh, "%s: IRTA=%#" PRIx64 " table=%#" PRIx64 " S=%u (%u entries) EIME%s"
				  " IRES%s CFIS%s\n", unit_name(t, u), ir.irta.raw, ir.irta.addr,
				  ir.irta.s, ir.irta.entries, ir.irta.eime ? "+" : "-",
				  ir.ires ? "+" : "-", ir.cfis ? "+" : "-");
		}
		if (opts[1].value) {
			struct ish_msi_remap r;

			err = ish_msi_remap(t, &ir, msi_addr, (uint32_t)msi_data, sid, &r);
			if (err)
				status = sh_report(sh, err);
			else
				msi_report(sh, &r);
		} else {
			uint32_t lo = all ? 0 : (uint32_t)index;
			uint32_t hi = all ? ir.irta.entries : (uint32_t)index + 1;
			unsigned shown = 0;

			if (sh_json(sh) && !lines) {
				json_key(&sh->json, "irtes");
				json_begin_array(&sh->json);
			}
			for (uint32_t i = lo; i < hi && !sh_stream_broken(sh); i++) {
				if (!(i & 0xfff) && (err = ish_target_check_interrupt(t)))
					break;
				err = irte_show(sh, t, u, &ir, i, all, &bad);
				if (err) {
					/* The listing stops at the first entry memory cannot give. */
					err = all ? ish_error_prefix(err, "%s: listing stopped",
								     unit_name(t, u))
						  : ish_error_prefix(err, "%s", unit_name(t, u));
					break;
				}
				shown++;
			}
			if (sh_json(sh) && !lines)
				json_end_array(&sh->json);
			if (err)
				status = sh_report(sh, err);
			else if (all && !sh_json(sh) && !ir.ires)
				sh_printf(sh, "  (interrupt remapping is not enabled)\n");
			(void)shown;
		}
		if (sh_json(sh) && !lines)
			json_end_object(&sh->json);
	}
	sh_list_end(sh);
	werr = sh_stream_end(sh);
	free(ob);
	if (werr)
		return sh_stream_failed(sh, werr);
	return status ? status : bad ? 1 : 0;
}

/* --- iq --- */

static void desc_json(struct json_writer *w, uint32_t slot, const struct ish_qi_desc *d,
		      const char *where)
{
	char buf[256];

	json_begin_object(w);
	json_kv_u64(w, "slot", slot);
	json_kv_str(w, "where", where);
	json_kv_u64(w, "type", d->type);
	json_kv_str(w, "name", d->name);
	if (d->gran_name)
		json_kv_str(w, "granularity", d->gran_name);
	json_key(w, "qw");
	json_begin_array(w);
	for (unsigned i = 0; i < d->width / 64; i++)
		json_u64(w, d->qw[i]);
	json_end_array(w);
	json_kv_bool(w, "reserved_set", d->rsvd[0] || d->rsvd[1] || d->rsvd[2] || d->rsvd[3]);
	json_kv_str(w, "text", ish_qi_describe(d, buf, sizeof(buf)));
	json_end_object(w);
}

static struct ish_error *iq_slots(struct ish_shell *sh, struct ish_target *t,
				  const struct ish_iq_state *q, uint32_t from, uint32_t count,
				  const char *where)
{
	char buf[256];

	for (uint32_t i = 0; i < count; i++) {
		uint32_t s = (from + i) % q->nslots;
		struct ish_qi_desc d;
		struct ish_error *err;

		if (!(i & 0xfff) && (err = ish_target_check_interrupt(t)))
			return err;
		err = ish_iq_read_slot(t, q, s, &d);
		if (err)
			return err;
		if (sh_json(sh))
			desc_json(&sh->json, s, &d, where);
		else
			sh_printf(sh, "  [%u] %s\n", s, ish_qi_describe(&d, buf, sizeof(buf)));
	}
	return NULL;
}

static int cmd_iq(struct ish_shell *sh, int argc, char **argv)
{
	const struct ish_command *self = sh->cmd;
	struct sh_opt opts[] = {
		{ "--unit", true, NULL }, { "--all", false, NULL }, { "--history", true, NULL },
	};
	struct ish_target *t = sh_target(sh);
	uint64_t history = 8;
	unsigned first, last;
	int status = 0;

	if (!t)
		return 1;
	if (!sh_getopt(sh, self, &argc, argv, opts, 3))
		return 2;
	if (argc != 1)
		return sh_usage(sh, self);
	if (opts[2].value && !parse_u64(opts[2].value, &history))
		return sh_usage(sh, self);
	if (!pick_units(sh, t, opts[0].value, &first, &last))
		return 1;

	if (sh_json(sh))
		json_begin_array(&sh->json);
	for (unsigned u = first; u <= last; u++) {
		struct ish_iq_state q;
		struct ish_error *err = ish_iq_state_read(t, u, &q);
		uint32_t hist;

		if (err) {
			status = sh_report(sh, ish_error_prefix(err, "%s", unit_name(t, u)));
			continue;
		}
		hist = history > q.nslots - q.pending ? q.nslots - q.pending : (uint32_t)history;
		if (sh_json(sh)) {
			struct json_writer *w = &sh->json;

			json_begin_object(w);
			json_kv_str(w, "unit", unit_name(t, u));
			json_kv_u64(w, "iqa", q.iqa);
			json_kv_u64(w, "iqh", q.iqh);
			json_kv_u64(w, "iqt", q.iqt);
			json_kv_u64(w, "base", q.base);
			json_kv_u64(w, "qs", q.qs);
			json_kv_bool(w, "dw", q.dw);
			json_kv_u64(w, "width", q.desc_size * 8);
			json_kv_bool(w, "width_inferred", q.width_inferred);
			json_kv_u64(w, "slots", q.nslots);
			json_kv_u64(w, "head", q.head);
			json_kv_u64(w, "tail", q.tail);
			json_kv_bool(w, "head_bad", q.head_bad);
			json_kv_bool(w, "tail_bad", q.tail_bad);
			json_kv_u64(w, "pending", q.pending);
			json_kv_bool(w, "enabled", q.qies);
			if (q.have_ics)
				json_kv_u64(w, "ics", q.ics);
			if (q.have_iqer) {
				json_kv_u64(w, "iqer", q.iqer);
				json_kv_u64(w, "iqei", DMAR_IQER_REG_IQEI(q.iqer));
			}
			if (q.have_fsts)
				json_kv_u64(w, "fsts", q.fsts);
			json_key(w, "descriptors");
			json_begin_array(w);
		} else {
			sh_printf(sh, "%s: IQA=%#" PRIx64 " base=%#" PRIx64 " QS=%u (%" PRIu64
				  " KiB) DW%s width=%u slots=%u QIES%s\n", unit_name(t, u), q.iqa,
				  q.base, q.qs, q.size / 1024, q.dw ? "+" : "-", q.desc_size * 8,
				  q.nslots, q.qies ? "+" : "-");
			if (q.width_inferred)
				sh_printf(sh, "  (256-bit descriptors inferred: the unit is in scalable mode"
					  " but IQA.DW reads 0, as QEMU 7.2 reports it)\n");
			sh_printf(sh, "  IQH=%#" PRIx64 " head=%u%s IQT=%#" PRIx64 " tail=%u%s pending=%u\n",
				  q.iqh, q.head, q.head_bad ? " (INVALID)" : "", q.iqt, q.tail,
				  q.tail_bad ? " (INVALID)" : "", q.pending);
			if (q.have_ics) {
				sh_printf(sh, "  ICS: ");
				sh_flag(sh, "IWC", q.ics & VTD_ICS_IWC);
				sh_printf(sh, "\n");
			}
			if (q.have_fsts) {
				sh_printf(sh, "  FSTS: ");
				sh_flag(sh, "IQE", q.fsts & DMA_FSTS_IQE);
				sh_printf(sh, " ");
				sh_flag(sh, "ICE", q.fsts & DMA_FSTS_ICE);
				sh_printf(sh, " ");
				sh_flag(sh, "ITE", q.fsts & DMA_FSTS_ITE);
				sh_printf(sh, "\n");
			}
			if (q.have_iqer && q.have_fsts &&
			    (q.fsts & (DMA_FSTS_IQE | DMA_FSTS_ICE | DMA_FSTS_ITE))) {
				char b1[8], b2[8];

				sh_printf(sh, "  IQERCD=%#" PRIx64 " IQEI=%u (%s) ITESID=%s ICESID=%s\n",
					  q.iqer, DMAR_IQER_REG_IQEI(q.iqer),
					  ish_iqei_text(DMAR_IQER_REG_IQEI(q.iqer)),
					  fmt_bdf(DMAR_IQER_REG_ITESID(q.iqer), b1),
					  fmt_bdf(DMAR_IQER_REG_ICESID(q.iqer), b2));
			}
		}
		if (opts[1].value) {
			if (!sh_json(sh))
				sh_printf(sh, " all %u slots:\n", q.nslots);
			err = iq_slots(sh, t, &q, 0, q.nslots, "slot");
		} else {
			if (!sh_json(sh))
				sh_printf(sh, " pending (head to tail):%s\n", q.pending ? "" : " none");
			err = iq_slots(sh, t, &q, q.head, q.pending, "pending");
			if (!err && hist) {
				if (!sh_json(sh))
					sh_printf(sh, " history (%u before head, oldest first):\n", hist);
				err = iq_slots(sh, t, &q, (q.head + q.nslots - hist) % q.nslots, hist,
					       "history");
			}
		}
		if (sh_json(sh)) {
			json_end_array(&sh->json);
			json_end_object(&sh->json);
		}
		if (err)
			status = sh_report(sh, ish_error_prefix(err, "%s", unit_name(t, u)));
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	}
	return status;
}

/* --- faults --- */

static void fault_text(struct ish_shell *sh, const struct ish_faults *f, const struct ish_fault_record *r)
{
	char b[8];

	sh_printf(sh, "  FRCD %u: %s %s", r->index, fmt_bdf(r->sid, b),
		  r->irq ? "interrupt" : ish_fault_type_name(r->type));
	if (r->irq)
		sh_printf(sh, " index %#x", r->irq_index);
	else
		sh_printf(sh, " addr %#" PRIx64, r->addr);
	if (r->pasid_present)
		sh_printf(sh, " PASID %#x%s%s", r->pasid, r->priv ? " PRIV" : "", r->exe ? " EXE" : "");
	sh_printf(sh, " reason %#x: %s%s\n", r->reason, r->text,
		  ish_fault_reason_in_mode(r->reason, f->scalable) ? "" : " (unexpected in this mode)");
}

static void fault_json(struct json_writer *w, const struct ish_faults *f,
		       const struct ish_fault_record *r)
{
	json_begin_object(w);
	json_kv_u64(w, "index", r->index);
	json_kv_u64(w, "sid", r->sid);
	json_kv_str(w, "type", r->irq ? "interrupt" : ish_fault_type_name(r->type));
	json_kv_u64(w, "addr", r->addr);
	if (r->irq)
		json_kv_u64(w, "irq_index", r->irq_index);
	json_kv_bool(w, "pasid_present", r->pasid_present);
	if (r->pasid_present) {
		json_kv_u64(w, "pasid", r->pasid);
		json_kv_bool(w, "priv", r->priv);
		json_kv_bool(w, "exe", r->exe);
	}
	json_kv_u64(w, "at", r->at);
	json_kv_u64(w, "reason", r->reason);
	json_kv_str(w, "text", r->text);
	/* QEMU records legacy codes in scalable mode (tests/edu/README.md). */
	json_kv_bool(w, "in_mode", ish_fault_reason_in_mode(r->reason, f->scalable));
	json_kv_u64(w, "lo", r->lo);
	json_kv_u64(w, "hi", r->hi);
	json_end_object(w);
}

static int cmd_faults(struct ish_shell *sh, int argc, char **argv)
{
	const struct ish_command *self = sh->cmd;
	struct sh_opt opts[] = { { "--unit", true, NULL }, { "--log", false, NULL },
				 { "--walk", false, NULL } };
	static const struct { const char *name; uint32_t bit; } fsts_bits[] = {
		{ "PFO", DMA_FSTS_PFO }, { "PPF", DMA_FSTS_PPF }, { "AFO", DMA_FSTS_AFO },
		{ "APF", DMA_FSTS_APF }, { "IQE", DMA_FSTS_IQE }, { "ICE", DMA_FSTS_ICE },
		{ "ITE", DMA_FSTS_ITE }, { "PRO", DMA_FSTS_PRO },
	};
	struct ish_target *t = sh_target(sh);
	unsigned first, last;
	int status = 0;
	bool klog;

	if (!t)
		return 1;
	if (!sh_getopt(sh, self, &argc, argv, opts, 3))
		return 2;
	/* the kernel log's faults (shell/cmd_klog.c): asked, or where the kernel is at hand */
	klog = opts[1].value || opts[2].value || sh_log_faults_wanted(t);
	if (argc != 1)
		return sh_usage(sh, self);
	if (!pick_units(sh, t, opts[0].value, &first, &last))
		return 1;
	if (sh_json(sh))
		json_begin_array(&sh->json);
	for (unsigned u = first; u <= last; u++) {
		struct ish_faults *f;
		struct ish_error *err = ish_faults_read(t, u, &f);

		if (err && klog && (err->code == ISH_ERROR_NOT_FOUND ||
				    err->code == ISH_ERROR_UNSUPPORTED)) {
			/* a dump has no fault registers: the log still has the faults */
			fprintf(stderr, "%s: no fault registers here (%s): the kernel log's follow\n",
				unit_name(t, u), err->message);
			ish_error_destroy(err);
			continue;
		}
		if (err) {
			status = sh_report(sh, ish_error_prefix(err, "%s", unit_name(t, u)));
			continue;
		}
		if (sh_json(sh)) {
			struct json_writer *w = &sh->json;

			json_begin_object(w);
			json_kv_str(w, "unit", unit_name(t, u));
			json_kv_u64(w, "fsts", f->fsts);
			for (size_t i = 0; i < sizeof(fsts_bits) / sizeof(fsts_bits[0]); i++)
				json_kv_bool(w, fsts_bits[i].name, f->fsts & fsts_bits[i].bit);
			json_kv_u64(w, "fri", f->fri);
			if (f->have_fectl) {
				json_kv_u64(w, "fectl", f->fectl);
				json_kv_bool(w, "im", f->fectl & DMA_FECTL_IM);
				json_kv_bool(w, "ip", f->fectl & DMA_FECTL_IP);
			}
			json_kv_bool(w, "scalable", f->scalable);
			json_kv_u64(w, "fro", f->fro);
			json_kv_u64(w, "nfr", f->nfr);
			json_kv_u64(w, "unreadable", f->nunreadable);
			json_key(w, "records");
			json_begin_array(w);
			for (unsigned i = 0; i < f->nfr; i++)
				if (f->readable[i] && f->rec[i].valid)
					fault_json(w, f, &f->rec[i]);
			json_end_array(w);
			json_end_object(w);
		} else {
			sh_printf(sh, "%s: FSTS=%#x", unit_name(t, u), f->fsts);
			for (size_t i = 0; i < sizeof(fsts_bits) / sizeof(fsts_bits[0]); i++) {
				sh_printf(sh, " ");
				sh_flag(sh, fsts_bits[i].name, f->fsts & fsts_bits[i].bit);
			}
			sh_printf(sh, " FRI=%u", f->fri);
			if (f->have_fectl) {
				sh_printf(sh, "  FECTL=%#x ", f->fectl);
				sh_flag(sh, "IM", f->fectl & DMA_FECTL_IM);
				sh_printf(sh, " ");
				sh_flag(sh, "IP", f->fectl & DMA_FECTL_IP);
			}
			sh_printf(sh, "\n  %u fault recording register%s at %#x%s\n", f->nfr,
				  f->nfr == 1 ? "" : "s", f->fro,
				  f->scalable ? " (scalable mode)" : "");
			for (unsigned i = 0; i < f->nfr; i++)
				if (f->readable[i] && f->rec[i].valid)
					fault_text(sh, f, &f->rec[i]);
			if (!f->nvalid)
				sh_printf(sh, "  no fault recorded\n");
			if (f->nunreadable)
				sh_printf(sh, "  (%u record%s unreadable)\n", f->nunreadable,
					  f->nunreadable == 1 ? "" : "s");
		}
		ish_faults_destroy(f);
	}
	if (klog) {
		int s = sh_log_faults(sh, t, opts[2].value != NULL);

		if (s)
			status = s;
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	}
	return status;
}

const struct ish_command ish_cmds_irq[] = {
	{ "irte", NULL, "irte [N|all] [--unit U] [--msi ADDR,DATA [--sid BDF]]",
	  "interrupt remapping table entries, or what an MSI write would become",
	  "Shows IRTA (table address, EIME, size S: 2^(S+1) entries) and interrupt\n"
	  "remapping table entries (VT-d 9.10, 9.11). With N, entry N with every field;\n"
	  "without it or with 'all', every present entry. Posted entries (IM=1) also\n"
	  "show their posted-interrupt descriptor: ON, SN, NV, NDST and the pending PIR\n"
	  "vectors. Reserved bits set in an entry are reported (exit status 1). A\n"
	  "table that runs past memory is listed up to the first missing entry, then\n"
	  "reported.\n"
	  "--msi ADDR,DATA remaps one MSI write from requester --sid (default 00:00.0)\n"
	  "as the hardware would: compatibility or remappable format, handle and\n"
	  "subhandle, the IRTE index, and the resulting vector and destination or the\n"
	  "interrupt-remapping fault (0x20-0x27). Every unit unless --unit is given.\n"
	  "--json: a list of units {\"unit\", \"irta\", \"table\", \"eime\", \"size\",\n"
	  "\"entries\", \"enabled\", \"cfis\", \"irtes\": [entries]} (\"msi\": {...} instead\n"
	  "of \"irtes\" with --msi), an entry {\"index\", \"lo\", \"hi\", \"present\",\n"
	  "\"fpd\", \"format\", \"vector\", \"avail\", \"sid\", \"sq\", \"svt\", then \"dest\",\n"
	  "\"dm\", \"rh\", \"tm\", \"dlm\", \"dlm_name\" (remapped) or \"urgent\", \"pda\"\n"
	  "(posted), \"rsvd_lo\", \"rsvd_hi\", and \"pid\": {...} for a posted one}.\n"
	  "--jsonl: a line per entry, the entry with \"unit\" first (a line per unit\n"
	  "with --msi).",
	  cmd_irte, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "iq", NULL, "iq [--unit U] [--all] [--history N]", "the invalidation queue",
	  "Shows the invalidation queue (VT-d 6.5.2): IQA (base, QS: 2^QS pages,\n"
	  "DW: 128- or 256-bit descriptors), head and tail, ICS, and the error state\n"
	  "(FSTS IQE/ICE/ITE, IQERCD). Lists the descriptors from head to tail and the\n"
	  "N before the head (default 8), or with --all every slot. Every descriptor\n"
	  "type is decoded (context-cache, IOTLB, device-TLB, IEC, wait, PASID-IOTLB,\n"
	  "PASID-cache, PASID device-TLB); unknown types are shown raw. When IQA.DW\n"
	  "reads 0 on a unit in scalable mode, 256-bit descriptors are assumed and the\n"
	  "output says so (QEMU 7.2 drops DW on read).",
	  cmd_iq, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "faults", NULL, "faults [--unit U] [--log] [--walk]", "fault status and recorded faults",
	  "Shows FSTS (PFO, PPF, AFO, APF, IQE, ICE, ITE, PRO, FRI) and FECTL (IM, IP),\n"
	  "then every valid fault recording register (VT-d 11.4.14): requester, request\n"
	  "type (read, write, page request), address or interrupt index, PASID, and\n"
	  "the fault reason with its text, or says that none is recorded. A reason\n"
	  "from the other mode's table (QEMU records legacy codes in scalable mode)\n"
	  "is marked \"unexpected in this mode\" (JSON: in_mode false).\n"
	  "Then the DMA remapping faults the kernel logged (DMAR: [DMA Read|Write\n"
	  "NO_PASID|PASID N] Request device [..] fault addr .. [fault reason ..]; the\n"
	  "driver clears each record it logs), marked as from the kernel log: on a\n"
	  "target that carries VMCOREINFO (a dump, /proc/kcore) unasked, elsewhere\n"
	  "with --log (the kernel is found as 'kernel' finds it). A unit whose fault\n"
	  "registers are not in a dump is then noted, not an error. --walk (implies\n"
	  "--log) translates each logged address as the tables say now and shows\n"
	  "where it fails. JSON: after the units, {\"source\": \"kernel log\",\n"
	  "\"vmcoreinfo\", \"records\": [{\"seq\", \"ts_nsec\", \"sid\", \"bdf\",\n"
	  "\"type\", \"addr\" (\"irq_index\"), \"pasid_present\", \"reason\", \"text\",\n"
	  "\"kernel_text\", \"line\", \"walk\": {\"faulted\", \"reason\", \"text\",\n"
	  "\"step\"} or {\"faulted\": false, \"hpa\"}}]}.",
	  cmd_faults, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ NULL },
};
