// SPDX-License-Identifier: MIT
/* Device tables and translation: devices, context, pasid, translate, mappings, who-maps. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/context.h>
#include <iommush/vtd/fault.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "fmt.h"
#include "pcinames.h"
#include "shell.h"

static const struct ish_command *self(const char *name)
{
	for (const struct ish_command *c = ish_cmds_walk; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return ish_cmds_walk;
}

static const char *unit_name(struct ish_target *t, unsigned u)
{
	const struct ish_unit *un = ish_target_unit(t, u);

	return un ? un->name : "?";
}

/* --unit U, or the unit whose scope covers segment:bdf. */
static bool pick_unit(struct ish_shell *sh, struct ish_target *t, const char *opt,
		      uint16_t segment, uint16_t bdf, unsigned *ret)
{
	struct ish_error *err;

	if (opt) {
		const struct ish_unit *u = ish_target_unit_by_name(t, opt);

		if (!u) {
			sh_error(sh, "no unit '%s'", opt);
			return false;
		}
		*ret = u->index;
		return true;
	}
	err = ish_unit_for_device(t, segment, bdf, ret);
	if (err) {
		sh_report(sh, err);
		return false;
	}
	return true;
}

static bool parse_pasid(struct ish_shell *sh, const char *s, uint32_t *ret)
{
	uint64_t v;

	if (!s) {
		*ret = ISH_PASID_NONE;
		return true;
	}
	if (!parse_u64(s, &v) || v > ISH_PASID_MAX) {
		sh_error(sh, "'%s' is not a PASID (0..0xfffff)", s);
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

static const char *size_str(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned i = 0;

	if (size < 1024 || size % 1024) {
		snprintf(buf, len, "%#" PRIx64, size);
		return buf;
	}
	size /= 1024;
	while (size >= 1024 && !(size % 1024) && i < 5) {
		size /= 1024;
		i++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", size, units[i]);
	return buf;
}

static const char *mode_name(const struct ish_xlate_tables *x)
{
	switch (x->mode) {
	case ISH_XLATE_SL: return "second-level";
	case ISH_XLATE_FL: return "first-level";
	case ISH_XLATE_NESTED: return "nested";
	case ISH_XLATE_PT: return "pass-through";
	}
	return "??";
}

/* --- printing entries from the field tables --- */

static void entry_text(struct ish_shell *sh, const char *title, uint64_t addr,
		       enum ish_entry_kind kind, const uint64_t *raw,
		       const struct ish_problems *ps)
{
	unsigned n = ish_entry_qwords(kind);

	sh_printf(sh, "%s at %#" PRIx64 ":", title, addr);
	for (unsigned q = n; q-- > 0;)
		sh_printf(sh, " %016" PRIx64, raw[q]);
	sh_printf(sh, "\n   ");
	for (const struct ish_entry_field *f = ish_entry_fields(kind); f->name; f++) {
		uint64_t v = ish_entry_field_get(raw, f);

		if (f->hi == f->lo)
			sh_printf(sh, " %s%c", f->name, v ? '+' : '-');
		else if (f->addr)
			sh_printf(sh, " %s=%#" PRIx64, f->name, v << (f->lo % 64));
		else
			sh_printf(sh, " %s=%#" PRIx64, f->name, v);
	}
	sh_printf(sh, "\n");
	for (unsigned i = 0; ps && i < ps->n; i++) {
		sh_printf(sh, "    problem: %s", ps->p[i].what);
		if (ps->p[i].bits)
			sh_printf(sh, " (qword %u bits %#" PRIx64 ")", ps->p[i].qword, ps->p[i].bits);
		sh_printf(sh, "\n");
	}
}

static void entry_json(struct ish_shell *sh, const char *key, uint64_t addr,
		       enum ish_entry_kind kind, const uint64_t *raw,
		       const struct ish_problems *ps)
{
	struct json_writer *w = &sh->json;

	json_key(w, key);
	json_begin_object(w);
	json_kv_u64(w, "address", addr);
	json_key(w, "raw");
	json_begin_array(w);
	for (unsigned q = 0; q < ish_entry_qwords(kind); q++)
		json_u64(w, raw[q]);
	json_end_array(w);
	json_key(w, "fields");
	json_begin_object(w);
	for (const struct ish_entry_field *f = ish_entry_fields(kind); f->name; f++) {
		uint64_t v = ish_entry_field_get(raw, f);

		json_kv_u64(w, f->name, f->addr ? v << (f->lo % 64) : v);
	}
	json_end_object(w);
	json_key(w, "problems");
	json_begin_array(w);
	for (unsigned i = 0; ps && i < ps->n; i++) {
		json_begin_object(w);
		json_kv_str(w, "text", ps->p[i].what);
		json_kv_u64(w, "qword", ps->p[i].qword);
		json_kv_u64(w, "bits", ps->p[i].bits);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

static void fault_text(struct ish_shell *sh, const struct ish_translation *tr)
{
	sh_printf(sh, "fault %#x (%s)", tr->reason, ish_fault_reason_text(tr->reason, tr->scalable));
	if (tr->fault_step >= 0)
		sh_printf(sh, " at step %d", tr->fault_step);
	if (tr->unreadable)
		sh_printf(sh, "; %#" PRIx64 " is not readable on this target", tr->unreadable_addr);
	if (tr->fpd)
		sh_printf(sh, "; fault processing disabled (FPD): not recorded");
	sh_printf(sh, "\n");
}

static void fault_json(struct ish_shell *sh, const struct ish_translation *tr)
{
	struct json_writer *w = &sh->json;

	json_key(w, "fault");
	json_begin_object(w);
	json_kv_u64(w, "reason", tr->reason);
	json_kv_str(w, "text", ish_fault_reason_text(tr->reason, tr->scalable));
	json_key(w, "step");
	if (tr->fault_step >= 0)
		json_i64(w, tr->fault_step);
	else
		json_null(w);
	json_kv_u64(w, "address", tr->fault_addr);
	json_kv_bool(w, "fpd", tr->fpd);
	if (tr->unreadable)
		json_kv_u64(w, "unreadable", tr->unreadable_addr);
	json_end_object(w);
}

/* --- translate --- */

static void steps_text(struct ish_shell *sh, const struct ish_translation *tr)
{
	for (unsigned i = 0; i < tr->nsteps; i++) {
		const struct ish_step *s = &tr->steps[i];

		sh_printf(sh, "  %2u %-9s", i, ish_step_kind_name(s->kind));
		if (s->level)
			sh_printf(sh, " L%u%s", s->level, s->nested ? "n" : " ");
		else
			sh_printf(sh, "    ");
		sh_printf(sh, " table %#" PRIx64 "[%3u] @%#" PRIx64 " =", s->table, s->index,
			  s->entry_addr);
		if (!s->nraw)
			sh_printf(sh, " (unreadable)");
		for (unsigned q = s->nraw; q-- > 0;)
			sh_printf(sh, " %016" PRIx64, s->raw[q]);
		sh_printf(sh, "\n");
	}
}

static void steps_json(struct ish_shell *sh, const struct ish_translation *tr)
{
	struct json_writer *w = &sh->json;

	json_key(w, "steps");
	json_begin_array(w);
	for (unsigned i = 0; i < tr->nsteps; i++) {
		const struct ish_step *s = &tr->steps[i];

		json_begin_object(w);
		json_kv_str(w, "kind", ish_step_kind_name(s->kind));
		json_kv_u64(w, "level", s->level);
		json_kv_u64(w, "table", s->table);
		json_kv_u64(w, "index", s->index);
		json_kv_u64(w, "entry", s->entry_addr);
		json_key(w, "raw");
		json_begin_array(w);
		for (unsigned q = 0; q < s->nraw; q++)
			json_u64(w, s->raw[q]);
		json_end_array(w);
		if (s->nested)
			json_kv_bool(w, "nested", true);
		json_end_object(w);
	}
	json_end_array(w);
}

static int cmd_translate(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = {
		{ "--pasid", true, NULL }, { "--write", false, NULL }, { "--exec", false, NULL },
		{ "--unit", true, NULL },
	};
	struct ish_target *t = sh_target(sh);
	struct ish_translation *tr;
	struct ish_error *err;
	uint16_t seg = 0, bdf;
	unsigned unit, access = 0;
	uint32_t pasid;
	uint64_t iova;
	char b[8];

	if (!t)
		return 1;
	if (!sh_getopt(sh, self("translate"), &argc, argv, opts, 4))
		return 2;
	if (argc != 3)
		return sh_usage(sh, self("translate"));
	if (!parse_bdf(argv[1], &seg, &bdf))
		return sh_error(sh, "'%s' is not a BDF", argv[1]) + 1;
	if (!parse_u64(argv[2], &iova))
		return sh_error(sh, "'%s' is not an address", argv[2]) + 1;
	if (!parse_pasid(sh, opts[0].value, &pasid))
		return 2;
	if (opts[1].value)
		access |= ISH_ACCESS_WRITE;
	if (opts[2].value)
		access |= ISH_ACCESS_EXEC;
	if (!pick_unit(sh, t, opts[3].value, seg, bdf, &unit))
		return 1;
	tr = malloc(sizeof(*tr));
	if (!tr)
		return sh_report(sh, &ish_enomem);
	err = ish_translate(t, (int)unit, bdf, pasid, iova, access, tr);
	if (err) {
		free(tr);
		return sh_report(sh, err);
	}
	if (sh_json(sh)) {
		struct json_writer *w = &sh->json;

		json_begin_object(w);
		json_kv_str(w, "unit", unit_name(t, unit));
		json_kv_str(w, "bdf", fmt_bdf(bdf, b));
		json_key(w, "pasid");
		if (pasid == ISH_PASID_NONE)
			json_null(w);
		else
			json_u64(w, pasid);
		json_kv_u64(w, "iova", iova);
		json_kv_bool(w, "scalable", tr->scalable);
		json_kv_bool(w, "translation_disabled", tr->translation_disabled);
		json_kv_bool(w, "blocked", tr->blocked);
		if (tr->faulted) {
			fault_json(sh, tr);
		} else if (!tr->blocked) {
			json_kv_u64(w, "hpa", tr->hpa);
			json_kv_u64(w, "page_size", tr->page_size);
			json_kv_bool(w, "read", tr->read);
			json_kv_bool(w, "write", tr->write);
			json_kv_bool(w, "exec", tr->exec);
			json_kv_bool(w, "user", tr->user);
			json_kv_bool(w, "pass_through", tr->pass_through);
			json_kv_u64(w, "emt", tr->emt);
			json_kv_bool(w, "ipat", tr->ipat);
			json_kv_bool(w, "snp", tr->snp);
		}
		if (tr->have_tables) {
			json_kv_str(w, "mode", mode_name(&tr->tables));
			json_kv_u64(w, "did", tr->tables.did);
		}
		steps_json(sh, tr);
		json_end_object(w);
		json_end_line(w);
		free(tr);
		return 0;
	}
	sh_printf(sh, "%s %s", unit_name(t, unit), fmt_bdf(bdf, b));
	if (pasid != ISH_PASID_NONE)
		sh_printf(sh, " PASID %#x", pasid);
	sh_printf(sh, " %s %#" PRIx64 " (%s mode", access & ISH_ACCESS_WRITE ? "write" : "read",
		  iova, tr->scalable ? "scalable" : "legacy");
	if (tr->have_tables)
		sh_printf(sh, ", %s, DID %u", mode_name(&tr->tables), tr->tables.did);
	sh_printf(sh, ")\n");
	steps_text(sh, tr);
	if (tr->translation_disabled) {
		sh_printf(sh, "  => translation is disabled (GSTS.TES=0): DMA is not remapped, "
			  "HPA %#" PRIx64 "\n", tr->hpa);
	} else if (tr->blocked) {
		sh_printf(sh, "  => abort-DMA mode (RTADDR.TTM=3): every request is blocked, no "
			  "fault is recorded\n");
	} else if (tr->faulted) {
		sh_printf(sh, "  => ");
		sh_color(sh, SH_BAD);
		fault_text(sh, tr);
		sh_color(sh, SH_RESET);
	} else {
		char sz[24];

		sh_printf(sh, "  => HPA %#" PRIx64 " (%s page%s) ", tr->hpa,
			  size_str(tr->page_size, sz, sizeof(sz)),
			  tr->pass_through ? ", pass-through" : "");
		sh_flag(sh, "R", tr->read);
		sh_printf(sh, " ");
		sh_flag(sh, "W", tr->write);
		sh_printf(sh, " ");
		sh_flag(sh, "X", tr->exec);
		sh_printf(sh, " ");
		sh_flag(sh, "U", tr->user);
		if (tr->snp)
			sh_printf(sh, " SNP+");
		sh_printf(sh, "\n");
	}
	free(tr);
	return 0;
}

/* --- mappings --- */

struct map_out {
	struct ish_shell *sh;
	uint64_t count;
	/* Findings make the command's status 1: its answer is about broken tables. */
	uint64_t findings;
	/* The device, for walkers that do not know it (ish_device_pasids); -1: none. */
	int bdf;
	bool colors;		/* sh_colors(), asked once per listing */
};

/*
 * The hot path of `mappings`: a line or an object per range, a million times
 * a command, so it is formatted by hand (shell/fmt.h) into the listing's
 * buffer. The bytes are those of the printf formats they replaced (kept in the
 * comments); the transcripts hold them to it.
 */
#define MAPPING_MAX 320

/* size_str(): "%#" PRIx64 unless a whole number of KiB, else "%" PRIu64 "%c" */
static char *fmt_size(char *p, uint64_t size)
{
	static const char units[] = "KMGTPE";
	unsigned i = 0;

	if (size < 1024 || size % 1024)
		return fmt_xhex(p, size);
	size /= 1024;
	while (size >= 1024 && !(size % 1024) && i < 5) {
		size /= 1024;
		i++;
	}
	p = fmt_u64(p, size);
	*p++ = units[i];
	return p;
}

/* sh_flag() */
static char *fmt_flag(char *p, char name, bool on, bool colors)
{
	if (!on) {
		*p++ = name;
		*p++ = '-';
		return p;
	}
	if (colors)
		p = fmt_lit(p, "\033[32m");
	*p++ = name;
	*p++ = '+';
	if (colors)
		p = fmt_lit(p, "\033[0m");
	return p;
}

/*
 * "0x%016" PRIx64 "-0x%016" PRIx64 " -> 0x%012" PRIx64 " %6s (%s pages) ", then
 * R W X flags, " pass-through", " SNP+", " EMT=%u" and the newline.
 */
static char *fmt_mapping_text(char *p, const struct ish_mapping *m, bool colors)
{
	char *s;

	p = fmt_lit(p, "0x");
	p = fmt_hex(p, m->iova, 16);
	p = fmt_lit(p, "-0x");
	p = fmt_hex(p, m->iova + m->size - 1, 16);
	p = fmt_lit(p, " -> 0x");
	p = fmt_hex(p, m->hpa, 12);
	*p++ = ' ';
	s = p;
	p = fmt_rjust(s, fmt_size(s, m->size), 6);
	p = fmt_lit(p, " (");
	p = fmt_size(p, m->page_size);
	p = fmt_lit(p, " pages) ");
	p = fmt_flag(p, 'R', m->read, colors);
	*p++ = ' ';
	p = fmt_flag(p, 'W', m->write, colors);
	*p++ = ' ';
	p = fmt_flag(p, 'X', m->exec, colors);
	if (m->pass_through)
		p = fmt_lit(p, " pass-through");
	if (m->snp)
		p = fmt_lit(p, " SNP+");
	if (m->emt) {
		p = fmt_lit(p, " EMT=");
		p = fmt_u64(p, m->emt);
	}
	*p++ = '\n';
	return p;
}

/* Text the caller formatted, to the listing's buffer or the output. */
static void put_text(struct ish_shell *sh, const char *s, size_t n)
{
	if (sh->stream) {
		out_buf_write(sh->stream, s, n);
		if (n && s[n - 1] == '\n')
			out_buf_line(sh->stream);
	} else {
		sh_printf(sh, "%.*s", (int)n, s);
	}
}

static void mapping_text(struct ish_shell *sh, const struct ish_mapping *m, bool colors)
{
	char buf[MAPPING_MAX];

	if (sh->stream) {
		char *p = out_buf_room(sh->stream, MAPPING_MAX);

		out_buf_commit(sh->stream, fmt_mapping_text(p, m, colors));
		out_buf_line(sh->stream);
		return;
	}
	put_text(sh, buf, (size_t)(fmt_mapping_text(buf, m, colors) - buf));
}

static char *fmt_bool(char *p, bool v)
{
	return v ? fmt_lit(p, "true") : fmt_lit(p, "false");
}

/*
 * {"iova":N,"hpa":N,"size":N,"page_size":N,"read":b,"write":b,"exec":b,
 *  "user":b,"snp":b,"emt":N,"pass_through":b}
 */
static char *fmt_mapping_json(char *p, const struct ish_mapping *m)
{
	p = fmt_lit(p, "{\"iova\":");
	p = fmt_u64(p, m->iova);
	p = fmt_lit(p, ",\"hpa\":");
	p = fmt_u64(p, m->hpa);
	p = fmt_lit(p, ",\"size\":");
	p = fmt_u64(p, m->size);
	p = fmt_lit(p, ",\"page_size\":");
	p = fmt_u64(p, m->page_size);
	p = fmt_lit(p, ",\"read\":");
	p = fmt_bool(p, m->read);
	p = fmt_lit(p, ",\"write\":");
	p = fmt_bool(p, m->write);
	p = fmt_lit(p, ",\"exec\":");
	p = fmt_bool(p, m->exec);
	p = fmt_lit(p, ",\"user\":");
	p = fmt_bool(p, m->user);
	p = fmt_lit(p, ",\"snp\":");
	p = fmt_bool(p, m->snp);
	p = fmt_lit(p, ",\"emt\":");
	p = fmt_u64(p, m->emt);
	p = fmt_lit(p, ",\"pass_through\":");
	p = fmt_bool(p, m->pass_through);
	*p++ = '}';
	return p;
}

static void mapping_json(struct ish_shell *sh, const struct ish_mapping *m)
{
	char buf[MAPPING_MAX], *p = json_raw_begin(&sh->json, MAPPING_MAX);

	if (p)
		json_raw_end(&sh->json, fmt_mapping_json(p, m));
	else
		json_raw(&sh->json, buf, (size_t)(fmt_mapping_json(buf, m) - buf));
}

/* Stops a walk whose output nobody can take any more (sh_stream_failed says why). */
static struct ish_error *stream_stop(struct ish_shell *sh)
{
	return ish_error_errno(sh->stream->err, "write error");
}

static struct ish_error *on_mapping(void *arg, const struct ish_mapping *m)
{
	struct map_out *o = arg;

	o->count++;
	if (sh_json(o->sh))
		mapping_json(o->sh, m);
	else
		mapping_text(o->sh, m, o->colors);
	return sh_stream_broken(o->sh) ? stream_stop(o->sh) : NULL;
}

/* Findings go to stderr so that stdout stays the answer (a JSON list). */
static struct ish_error *on_finding(void *arg, const struct ish_finding *f)
{
	struct map_out *o = arg;
	char b[8];

	o->findings++;
	sh_flush(o->sh);
	fprintf(stderr, "iommush: %s: warning: %s: %s: %s L%u table %#" PRIx64 "[%u]",
		o->sh->cmd_name ? o->sh->cmd_name : "walk",
		fmt_bdf(o->bdf >= 0 ? (uint16_t)o->bdf : f->bdf, b),
		ish_finding_kind_name(f->kind), ish_step_kind_name(f->where), f->level, f->table,
		f->index);
	if (f->kind == ISH_FINDING_RESERVED)
		fprintf(stderr, " entry %#" PRIx64 " bits %#" PRIx64, f->raw, f->bits);
	else
		fprintf(stderr, " address %#" PRIx64, f->addr);
	fprintf(stderr, " (IOVA %#" PRIx64 "): %s\n", f->iova, f->text);
	return sh_stream_broken(o->sh) ? stream_stop(o->sh) : NULL;
}

/*
 * Ends a streamed listing: rc, or, when a write failed, what sh_stream_failed
 * makes of it (the walk's own error, then only the echo of that, is dropped).
 */
static int listing_end(struct ish_shell *sh, int rc)
{
	int werr = sh_stream_end(sh);

	return werr ? sh_stream_failed(sh, werr) : rc;
}

static int cmd_mappings(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = { { "--pasid", true, NULL }, { "--unit", true, NULL } };
	struct ish_target *t = sh_target(sh);
	struct map_out o = { .sh = sh, .bdf = -1 };
	struct ish_translation *tr;
	struct ish_walk_stats st;
	struct ish_error *err;
	struct out_buf *ob;
	uint64_t lo = 0, hi = ~0ULL;
	uint16_t seg = 0, bdf;
	uint32_t pasid;
	unsigned unit;
	int rc;

	if (!t)
		return 1;
	if (!sh_getopt(sh, self("mappings"), &argc, argv, opts, 2))
		return 2;
	if (argc != 2 && argc != 3)
		return sh_usage(sh, self("mappings"));
	if (!parse_bdf(argv[1], &seg, &bdf))
		return sh_error(sh, "'%s' is not a BDF", argv[1]) + 1;
	if (argc == 3 && !parse_range(argv[2], &lo, &hi))
		return sh_error(sh, "'%s' is not a range (LO-HI, LO+SIZE or LO)", argv[2]) + 1;
	if (!parse_pasid(sh, opts[0].value, &pasid))
		return 2;
	if (!pick_unit(sh, t, opts[1].value, seg, bdf, &unit))
		return 1;
	tr = malloc(sizeof(*tr));
	ob = malloc(sizeof(*ob));
	if (!tr || !ob) {
		free(tr);
		free(ob);
		return sh_report(sh, &ish_enomem);
	}
	sh_stream_begin(sh, ob);
	o.colors = sh_colors(sh);
	sh_list_begin(sh);
	err = ish_mappings(t, (int)unit, bdf, pasid, lo, hi, on_mapping, on_finding, &o, tr, &st);
	sh_list_end(sh);
	if (sh_stream_broken(sh)) {
		ish_error_destroy(err);
		rc = 0;
	} else if (err) {
		rc = sh_report(sh, err);
	} else {
		if (tr->faulted || tr->blocked) {
			char b[8];

			sh_flush(sh);
			fprintf(stderr, "iommush: mappings: %s has no mappings: ", fmt_bdf(bdf, b));
			if (tr->blocked)
				fprintf(stderr, "abort-DMA mode blocks every request\n");
			else
				fprintf(stderr, "fault %#x (%s)\n", tr->reason,
					ish_fault_reason_text(tr->reason, tr->scalable));
		} else if (!sh_json(sh)) {
			sh_printf(sh, "%" PRIu64 " ranges, %" PRIu64 " leaf entries, %" PRIu64
				  " table pages%s\n", st.mappings, st.leaves, st.pages,
				  st.findings ? " (with findings, see above)" : "");
		}
		rc = o.findings ? 1 : 0;
	}
	rc = listing_end(sh, rc);
	free(ob);
	free(tr);
	return rc;
}

/* --- devices --- */

static struct ish_error *on_device(void *arg, const struct ish_device *d)
{
	struct map_out *o = arg;
	struct ish_shell *sh = o->sh;
	struct ish_target *t = sh->target;
	const char *type = d->scalable ? (d->have_rid_pasid_entry ? ish_pgtt_name(d->pe.pgtt) :
					  "-") : ish_context_tt_name(d->ce.tt);
	unsigned levels = 0;
	uint16_t vendor, device;
	bool ids = sh_pci_ids(t, d->segment, d->bdf, &vendor, &device);
	char b[8], name[256];

	if (ids)
		sh_pci_name(vendor, device, name, sizeof(name));
	if (d->have_tables)
		levels = d->tables.mode == ISH_XLATE_FL || d->tables.mode == ISH_XLATE_NESTED ?
			 d->tables.fl_levels : d->tables.sl_levels;
	o->count++;
	if (sh_json(sh)) {
		struct json_writer *w = &sh->json;

		json_begin_object(w);
		json_kv_str(w, "unit", unit_name(t, d->unit));
		json_kv_u64(w, "segment", d->segment);
		json_kv_str(w, "bdf", fmt_bdf(d->bdf, b));
		json_kv_bool(w, "scalable", d->scalable);
		json_kv_str(w, "type", type);
		json_key(w, "did");
		if (d->have_tables)
			json_u64(w, d->tables.did);
		else
			json_null(w);
		json_kv_u64(w, "levels", levels);
		json_kv_bool(w, "valid", d->have_tables);
		if (d->scalable) {
			json_kv_bool(w, "pasid_enabled", d->ce.paside);
			json_kv_u64(w, "rid_pasid", d->ce.rid_pasid);
			json_kv_u64(w, "pasids", d->npasids);
		}
		if (ids) {
			json_kv_u64(w, "vendor_id", vendor);
			json_kv_u64(w, "device_id", device);
			json_kv_str(w, "name", name);
		}
		json_end_object(w);
		return sh_stream_broken(sh) ? stream_stop(sh) : NULL;
	}
	sh_printf(sh, "%-7s %04x:%s %-8s %-13s ", unit_name(t, d->unit), d->segment,
		  fmt_bdf(d->bdf, b), d->scalable ? "scalable" : "legacy", type);
	if (d->have_tables)
		sh_printf(sh, "%5u ", d->tables.did);
	else
		sh_printf(sh, "%5s ", "-");
	if (levels)
		sh_printf(sh, "%u-level ", levels);
	else
		sh_printf(sh, "%-7s ", "-");
	if (d->scalable)
		sh_printf(sh, "PASIDE%c RID_PASID=%#x PASIDs=%u", d->ce.paside ? '+' : '-',
			  d->ce.rid_pasid, d->npasids);
	if (!d->have_tables)
		sh_printf(sh, " (entries invalid: translate says why)");
	if (ids)
		sh_printf(sh, "  [%04x:%04x] %s", vendor, device, name);
	sh_printf(sh, "\n");
	return sh_stream_broken(sh) ? stream_stop(sh) : NULL;
}

static int cmd_devices(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_target *t = sh_target(sh);
	struct map_out o = { .sh = sh, .bdf = -1 };
	struct ish_error *err;
	struct out_buf *ob;
	int rc;

	(void)argv;
	if (!t)
		return 1;
	if (argc != 1)
		return sh_usage(sh, self("devices"));
	ob = malloc(sizeof(*ob));
	if (!ob)
		return sh_report(sh, &ish_enomem);
	sh_stream_begin(sh, ob);
	if (sh_json(sh))
		sh_list_begin(sh);
	else
		sh_printf(sh, "UNIT    DEVICE       MODE     TYPE            DID LEVELS  PASID\n");
	err = ish_devices(t, true, on_device, on_finding, &o);
	sh_list_end(sh);
	if (sh_stream_broken(sh)) {
		ish_error_destroy(err);
		rc = 0;
	} else {
		rc = err ? sh_report(sh, err) : o.findings ? 1 : 0;
	}
	rc = listing_end(sh, rc);
	free(ob);
	return rc;
}

/* --- context, pasid --- */

/*
 * The decoders cannot know CAP: an AW the unit does not implement (CAP.SAGAW,
 * 11.4.2) is the usual reason a well-formed entry is "programmed invalidly"
 * (fault 0x3 / 0x5b), so say it. Returns whether it was said.
 */
static bool sagaw_problem(struct ish_shell *sh, const struct ish_unit_state *us,
			  const struct ish_translation *tr, bool pasid_cmd)
{
	unsigned aw;

	if (pasid_cmd && tr->have_pe && (tr->pe.pgtt == PASID_ENTRY_PGTT_SL_ONLY ||
					  tr->pe.pgtt == PASID_ENTRY_PGTT_NESTED))
		aw = tr->pe.aw;
	else if (!pasid_cmd && tr->have_ce && !tr->ce.scalable && tr->ce.present &&
		 tr->ce.tt != CONTEXT_TT_PASS_THROUGH)
		aw = tr->ce.aw;
	else
		return false;
	if (aw <= 4 && (cap_sagaw(us->cap) >> aw) & 1)
		return false;
	sh_printf(sh, "    problem: AW=%#x (%u-bit, %u-level tables) is not in CAP.SAGAW=%#x\n", aw,
		  30 + 9 * aw, aw + 2, cap_sagaw(us->cap));
	return true;
}

static int show_entries(struct ish_shell *sh, const char *cmd, int argc, char **argv,
			bool pasid_cmd)
{
	struct sh_opt opts[] = { { "--unit", true, NULL } };
	struct ish_target *t = sh_target(sh);
	struct ish_unit_state us;
	struct ish_translation *tr;
	struct ish_error *err;
	uint32_t pasid = ISH_PASID_NONE;
	uint16_t seg = 0, bdf;
	unsigned unit;
	bool bad, sagaw_bad = false;
	char b[8];

	if (!t)
		return 1;
	if (!sh_getopt(sh, self(cmd), &argc, argv, opts, 1))
		return 2;
	if (argc != (pasid_cmd ? 3 : 2))
		return sh_usage(sh, self(cmd));
	if (!parse_bdf(argv[1], &seg, &bdf))
		return sh_error(sh, "'%s' is not a BDF", argv[1]) + 1;
	if (argc == 3 && !parse_pasid(sh, argv[2], &pasid))
		return 2;
	if (!pick_unit(sh, t, opts[0].value, seg, bdf, &unit))
		return 1;
	err = ish_unit_state_read(t, unit, &us);
	if (err)
		return sh_report(sh, err);
	if (pasid_cmd && !us.scalable)
		return sh_error(sh, "%s is in legacy mode: there are no PASID tables",
				unit_name(t, unit));
	tr = malloc(sizeof(*tr));
	if (!tr)
		return sh_report(sh, &ish_enomem);
	err = ish_resolve_tables(t, &us, bdf, pasid, 0, tr);
	if (err) {
		free(tr);
		return sh_report(sh, err);
	}
	if (sh_json(sh)) {
		struct json_writer *w = &sh->json;

		json_begin_object(w);
		json_kv_str(w, "unit", unit_name(t, unit));
		json_kv_str(w, "bdf", fmt_bdf(bdf, b));
		json_kv_bool(w, "scalable", us.scalable);
		if (tr->have_re && !pasid_cmd)
			entry_json(sh, "root", tr->steps[0].entry_addr,
				   us.scalable ? ISH_ENTRY_SM_ROOT : ISH_ENTRY_ROOT, tr->re.raw,
				   &tr->re.problems);
		if (tr->have_ce && !pasid_cmd)
			entry_json(sh, "context", tr->steps[1].entry_addr,
				   us.scalable ? ISH_ENTRY_SM_CONTEXT : ISH_ENTRY_CONTEXT,
				   tr->ce.raw, &tr->ce.problems);
		if (tr->have_pde)
			entry_json(sh, "pasid_dir", tr->steps[2].entry_addr, ISH_ENTRY_PASID_DIR,
				   &tr->pde.raw, &tr->pde.problems);
		if (tr->have_pe) {
			json_kv_u64(w, "pasid", tr->tables.pasid);
			entry_json(sh, "pasid_entry", tr->steps[3].entry_addr, ISH_ENTRY_PASID,
				   tr->pe.raw, &tr->pe.problems);
		}
		if (tr->faulted)
			fault_json(sh, tr);
		json_end_object(w);
		json_end_line(w);
	} else {
		sh_printf(sh, "%s %s (%s mode)\n", unit_name(t, unit), fmt_bdf(bdf, b),
			  us.scalable ? "scalable" : "legacy");
		if (tr->have_re && !pasid_cmd)
			entry_text(sh, "root entry", tr->steps[0].entry_addr,
				   us.scalable ? ISH_ENTRY_SM_ROOT : ISH_ENTRY_ROOT, tr->re.raw,
				   &tr->re.problems);
		if (tr->have_ce && !pasid_cmd) {
			entry_text(sh, "context entry", tr->steps[1].entry_addr,
				   us.scalable ? ISH_ENTRY_SM_CONTEXT : ISH_ENTRY_CONTEXT,
				   tr->ce.raw, &tr->ce.problems);
			sagaw_bad = sagaw_problem(sh, &us, tr, false);
		}
		if (tr->have_pde)
			entry_text(sh, "PASID directory entry", tr->steps[2].entry_addr,
				   ISH_ENTRY_PASID_DIR, &tr->pde.raw, &tr->pde.problems);
		if (tr->have_pe) {
			sh_printf(sh, "PASID %#x: %s, DID %u\n", tr->tables.pasid,
				  ish_pgtt_name(tr->pe.pgtt), tr->pe.did);
			entry_text(sh, "PASID entry", tr->steps[3].entry_addr, ISH_ENTRY_PASID,
				   tr->pe.raw, &tr->pe.problems);
			sagaw_bad = sagaw_problem(sh, &us, tr, true);
		}
		if (tr->have_tables)
			sh_printf(sh, "=> %s, DID %u\n", mode_name(&tr->tables), tr->tables.did);
		if (tr->faulted) {
			sh_printf(sh, "=> ");
			fault_text(sh, tr);
		}
	}
	/* An entry with a problem (reserved bits, impossible values) is a finding. */
	bad = (tr->have_re && !pasid_cmd && tr->re.problems.n) ||
	      (tr->have_ce && !pasid_cmd && tr->ce.problems.n) ||
	      (tr->have_pde && tr->pde.problems.n) || (tr->have_pe && tr->pe.problems.n);
	bad = bad || sagaw_bad;
	free(tr);
	return bad ? 1 : 0;
}

static int cmd_context(struct ish_shell *sh, int argc, char **argv)
{
	return show_entries(sh, "context", argc, argv, false);
}

static struct ish_error *on_pasid(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	struct ish_shell *sh = ((struct map_out *)arg)->sh;

	((struct map_out *)arg)->count++;
	if (sh_json(sh)) {
		struct json_writer *w = &sh->json;

		json_begin_object(w);
		json_kv_u64(w, "pasid", pasid);
		json_kv_str(w, "type", ish_pgtt_name(pe->pgtt));
		json_kv_u64(w, "did", pe->did);
		json_kv_u64(w, "slptptr", pe->slptptr);
		json_kv_u64(w, "flptptr", pe->flptptr);
		json_kv_u64(w, "problems", pe->problems.n);
		json_end_object(w);
	} else {
		sh_printf(sh, "  PASID %#7x %-13s DID %5u SLPTPTR=%#" PRIx64 " FLPTPTR=%#" PRIx64
			  "%s\n", pasid, ish_pgtt_name(pe->pgtt), pe->did, pe->slptptr,
			  pe->flptptr, pe->problems.n ? " (problems: see 'pasid BDF N')" : "");
	}
	return NULL;
}

static int cmd_pasid(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = { { "--unit", true, NULL } };
	struct ish_target *t = sh_target(sh);
	struct map_out o = { .sh = sh, .bdf = -1 };
	struct ish_translation *tr;
	struct ish_unit_state us;
	struct ish_error *err;
	uint16_t seg = 0, bdf;
	unsigned unit;
	char b[8];
	int n = argc;

	if (!t)
		return 1;
	/* With N: the entries on the way to PASID N. */
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--", 2))
			n--;
	if (n == 3 || argc < 2)
		return show_entries(sh, "pasid", argc, argv, true);
	if (!sh_getopt(sh, self("pasid"), &argc, argv, opts, 1))
		return 2;
	if (argc != 2)
		return sh_usage(sh, self("pasid"));
	if (!parse_bdf(argv[1], &seg, &bdf))
		return sh_error(sh, "'%s' is not a BDF", argv[1]) + 1;
	if (!pick_unit(sh, t, opts[0].value, seg, bdf, &unit))
		return 1;
	err = ish_unit_state_read(t, unit, &us);
	if (err)
		return sh_report(sh, err);
	if (!us.scalable)
		return sh_error(sh, "%s is in legacy mode: there are no PASID tables",
				unit_name(t, unit));
	tr = malloc(sizeof(*tr));
	if (!tr)
		return sh_report(sh, &ish_enomem);
	err = ish_resolve_tables(t, &us, bdf, ISH_PASID_NONE, 0, tr);
	if (!err && !tr->have_ce) {
		free(tr);
		return sh_error(sh, "%s has no present context entry", fmt_bdf(bdf, b));
	}
	if (err) {
		free(tr);
		return sh_report(sh, err);
	}
	if (sh_json(sh))
		sh_list_begin(sh);
	else
		sh_printf(sh, "%s %s: PASID directory %#" PRIx64 " (%u entries), PASIDE%c "
			  "RID_PASID=%#x\n", unit_name(t, unit), fmt_bdf(bdf, b),
			  tr->ce.pasiddirptr, ish_pasid_dir_entries(&tr->ce),
			  tr->ce.paside ? '+' : '-', tr->ce.rid_pasid);
	o.bdf = bdf;
	err = ish_device_pasids(t, &us, &tr->ce, on_pasid, on_finding, &o);
	sh_list_end(sh);
	free(tr);
	return err ? sh_report(sh, err) : o.findings ? 1 : 0;
}

/* --- who-maps --- */

static struct ish_error *on_who(void *arg, const struct ish_who_maps *wm)
{
	struct map_out *o = arg;
	struct ish_shell *sh = o->sh;
	char b[8], buf[MAPPING_MAX + 96], *p = buf, *s;
	const char *name;
	size_t n;

	o->count++;
	if (sh_json(sh)) {
		struct json_writer *w = &sh->json;

		json_begin_object(w);
		json_kv_str(w, "unit", unit_name(sh->target, wm->unit));
		json_kv_str(w, "bdf", fmt_bdf(wm->bdf, b));
		json_key(w, "pasid");
		if (wm->pasid == ISH_PASID_NONE)
			json_null(w);
		else
			json_u64(w, wm->pasid);
		json_kv_u64(w, "iova", wm->iova);
		json_key(w, "mapping");
		mapping_json(sh, &wm->m);
		json_end_object(w);
		return sh_stream_broken(sh) ? stream_stop(sh) : NULL;
	}
	/* "%-7s %s ", "%-13s" of "" or "PASID %#-7x", " IOVA %#" PRIx64 "  in ", the mapping */
	name = unit_name(sh->target, wm->unit);
	n = strlen(name);
	p = fmt_ljust(p, fmt_mem(p, name, n < 32 ? n : 32), 7);
	*p++ = ' ';
	p = fmt_str(p, fmt_bdf(wm->bdf, b));
	*p++ = ' ';
	if (wm->pasid == ISH_PASID_NONE) {
		p = fmt_spaces(p, 13);
	} else {
		p = fmt_lit(p, "PASID ");
		s = p;
		p = fmt_ljust(s, fmt_xhex(s, wm->pasid), 7);
	}
	p = fmt_lit(p, " IOVA ");
	p = fmt_xhex(p, wm->iova);
	p = fmt_lit(p, "  in ");
	p = fmt_mapping_text(p, &wm->m, o->colors);
	put_text(sh, buf, (size_t)(p - buf));
	return sh_stream_broken(sh) ? stream_stop(sh) : NULL;
}

static int cmd_who_maps(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_target *t = sh_target(sh);
	struct map_out o = { .sh = sh, .bdf = -1 };
	struct ish_error *err;
	struct out_buf *ob;
	uint64_t hpa;
	int rc;

	if (!t)
		return 1;
	if (argc != 2)
		return sh_usage(sh, self("who-maps"));
	if (!parse_u64(argv[1], &hpa))
		return sh_error(sh, "'%s' is not an address", argv[1]) + 1;
	ob = malloc(sizeof(*ob));
	if (!ob)
		return sh_report(sh, &ish_enomem);
	sh_stream_begin(sh, ob);
	o.colors = sh_colors(sh);
	sh_list_begin(sh);
	err = ish_who_maps(t, hpa, on_who, on_finding, &o);
	sh_list_end(sh);
	if (sh_stream_broken(sh)) {
		ish_error_destroy(err);
		rc = 0;
	} else {
		if (!sh_json(sh) && !err && !o.count)
			sh_printf(sh, "nothing maps %#" PRIx64 "\n", hpa);
		rc = err ? sh_report(sh, err) : o.findings ? 1 : 0;
	}
	rc = listing_end(sh, rc);
	free(ob);
	return rc;
}

const struct ish_command ish_cmds_walk[] = {
	{ "devices", NULL, "devices",
	  "every device with a present context entry",
	  "Lists every BDF with a present context entry on every remapping unit: the\n"
	  "unit, the mode (legacy or scalable), the translation type (TT of a legacy\n"
	  "context entry, PGTT of the RID_PASID entry in scalable mode), the domain id,\n"
	  "the page-table levels and, in scalable mode, PASID use and the number of\n"
	  "present PASID entries. Unreadable tables are warnings on stderr and make\n"
	  "the exit status 1.\n"
	  "--json: a list of {\"unit\", \"segment\", \"bdf\", \"scalable\", \"type\", \"did\"\n"
	  "(null without valid tables), \"levels\", \"valid\", in scalable mode\n"
	  "\"pasid_enabled\", \"rid_pasid\", \"pasids\", and with PCI ids \"vendor_id\",\n"
	  "\"device_id\", \"name\"}; --jsonl: one such object a line.",
	  cmd_devices, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "context", NULL, "context BDF [--unit U]",
	  "the root and context entries of a device",
	  "Decodes the root entry of the device's bus and its context entry (legacy\n"
	  "128-bit or scalable-mode 256-bit), every field and every problem found\n"
	  "(reserved bits set, impossible values), and what they make of a request.\n"
	  "A problem found makes the exit status 1.",
	  cmd_context, CMD_NEEDS_TARGET, COMPLETE_BDF },
	{ "pasid", NULL, "pasid BDF [N] [--unit U]",
	  "PASID directory and table entries of a device",
	  "Without N, lists every present PASID entry of a scalable-mode device. With\n"
	  "N, decodes the PASID directory entry and the PASID table entry used for\n"
	  "PASID N: every field, and every problem found. Warnings (unreadable\n"
	  "tables) and problems make the exit status 1.\n"
	  "--json without N: a list of {\"pasid\", \"type\", \"did\", \"slptptr\",\n"
	  "\"flptptr\", \"problems\" (a count)}; --jsonl: one such object a line.",
	  cmd_pasid, CMD_NEEDS_TARGET, COMPLETE_BDF },
	{ "translate", "xlate", "translate BDF IOVA [--pasid N] [--write] [--exec] [--unit U]",
	  "translate an address by walking the tables",
	  "Walks the tables the way the hardware would for a read (or --write, or\n"
	  "--exec) request from BDF to IOVA, and prints every step (root, context,\n"
	  "PASID directory, PASID entry, each page-table entry) and the answer: the\n"
	  "host physical address, page size and permissions, or the fault the unit\n"
	  "would record, with its reason code. A fault is an answer: the exit status\n"
	  "is 0 unless the tables cannot be read at all.\n"
	  "\n"
	  "Reason codes are the specification's (VT-d Appendix A): in scalable mode,\n"
	  "the 0x30..0x91 table. QEMU's emulation (measured on 7.2) records legacy\n"
	  "codes instead (0x1, 0x2, 0x5, 0x6, 0xb, 0xc), and 0x58 for every fault of a\n"
	  "PASID directory or table entry (not present, PGTT, AW); 'faults' marks a\n"
	  "legacy code recorded in scalable mode as unexpected.",
	  cmd_translate, CMD_NEEDS_TARGET, COMPLETE_BDF },
	{ "mappings", NULL, "mappings BDF [--pasid N] [--unit U] [RANGE]",
	  "every mapping of a device, coalesced",
	  "Streams every leaf of the device's page tables (for PASID N, or requests\n"
	  "without PASID) within RANGE (LO-HI, LO+SIZE or LO), joining neighbours\n"
	  "with contiguous host addresses and equal permissions. Cycles, pointers\n"
	  "outside memory and reserved bits are warnings on stderr; the walk goes on\n"
	  "and the exit status is 1.\n"
	  "Limits: set walk.max_pages and walk.max_mappings.\n"
	  "--json: a list of ranges {\"iova\", \"hpa\", \"size\", \"page_size\", \"read\",\n"
	  "\"write\", \"exec\", \"user\", \"snp\", \"emt\", \"pass_through\"}; --jsonl: one\n"
	  "range a line, each written as the walk finds it.",
	  cmd_mappings, CMD_NEEDS_TARGET, COMPLETE_BDF },
	{ "who-maps", NULL, "who-maps HPA",
	  "every device, PASID and IOVA that reaches a host address",
	  "Walks the tables of every device with a present context entry on every\n"
	  "unit (every present PASID in scalable mode) and lists each IOVA that\n"
	  "translates to HPA, with the range it belongs to. Pass-through devices\n"
	  "reach every address. Warnings about the tables make the exit status 1.\n"
	  "--json: a list of {\"unit\", \"bdf\", \"pasid\" (null: requests without\n"
	  "PASID), \"iova\", \"mapping\": the range as 'mappings' gives it}; --jsonl:\n"
	  "one such object a line.",
	  cmd_who_maps, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, COMPLETE_NONE },
};
