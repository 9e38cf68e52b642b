// SPDX-License-Identifier: MIT
/*
 * The kernel's log: `log [PATTERN]`, and the faults the log recorded for
 * `faults` (sh_log_faults). A printer over lib/printk.c and
 * lib/vtd/kernel_log.c.
 */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/kernel.h>
#include <iommush/printk.h>
#include <iommush/vtd/kernel_log.h>
#include <iommush/walk.h>

#include "json.h"
#include "kernel_log.h"
#include "shell.h"

static struct ish_error *read_log(struct ish_target *t, struct ish_printk_log **ret)
{
	struct ish_kernel *k;
	struct ish_error *err = ish_target_kernel(t, &k);

	if (err)
		return ish_error_prefix(err, "no Linux kernel found");
	err = ish_kernel_log(k, ret);
	return err ? ish_error_prefix(err, "the kernel's log") : NULL;
}

static void ts_text(struct ish_shell *sh, uint64_t ns)
{
	sh_printf(sh, "[%5" PRIu64 ".%06" PRIu64 "] ", ns / 1000000000u, ns % 1000000000u / 1000u);
}

static void record_text(struct ish_shell *sh, const struct ish_printk_record *r)
{
	const char *s = r->text, *end = r->text + r->len;

	/* one line per line of the record, each with its time, as dmesg does */
	do {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		ts_text(sh, r->ts_nsec);
		sh_printf(sh, "%.*s\n", (int)(e - s), s);
		s = nl ? nl + 1 : end;
	} while (s < end);
}

static void record_json(struct json_writer *w, const struct ish_printk_record *r)
{
	json_begin_object(w);
	json_kv_u64(w, "seq", r->seq);
	json_kv_u64(w, "ts_nsec", r->ts_nsec);
	json_key(w, "level");
	if (r->level < 0)
		json_null(w);
	else
		json_i64(w, r->level);
	json_kv_u64(w, "caller_id", r->caller_id);
	json_kv_str(w, "text", r->text);
	json_end_object(w);
}

static const struct ish_command *log_cmd(void)
{
	return ish_command_find("log", &(bool){ false });
}

int ish_cmd_log(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = { { "--all", false, NULL } };
	struct ish_target *t = sh_target(sh);
	struct ish_printk_log *log;
	struct ish_error *err;
	regex_t re;
	bool all;
	size_t shown = 0;

	if (!t)
		return 1;
	if (!sh_getopt(sh, log_cmd(), &argc, argv, opts, 1))
		return 2;
	if (argc > 2)
		return sh_usage(sh, log_cmd());
	all = opts[0].value != NULL;
	if (argc == 2) {
		int rc = regcomp(&re, argv[1], REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[128];

			regerror(rc, &re, msg, sizeof(msg));
			return sh_error(sh, "bad pattern '%s': %s", argv[1], msg);
		}
	}
	err = read_log(t, &log);
	if (err) {
		if (argc == 2)
			regfree(&re);
		return sh_report(sh, err);
	}
	if (sh_json(sh))
		json_begin_array(&sh->json);
	for (size_t i = 0; i < log->n; i++) {
		const struct ish_printk_record *r = &log->rec[i];

		if (argc == 2 ? regexec(&re, r->text, 0, NULL, 0) != 0 :
				(!all && !ish_printk_iommu_line(r->text, r->len)))
			continue;
		shown++;
		if (sh_json(sh))
			record_json(&sh->json, r);
		else
			record_text(sh, r);
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	} else if (!shown) {
		sh_printf(sh, "no %s among the log's %zu records\n",
			  argc == 2 ? "line matching the pattern" : "IOMMU line", log->n);
	}
	fflush(sh->out);
	if (log->skipped || log->unreadable)
		fprintf(stderr, "log: %zu record(s) being written skipped, %zu unreadable\n",
			log->skipped, log->unreadable);
	if (argc == 2)
		regfree(&re);
	ish_printk_log_destroy(log);
	return 0;
}

/* --- faults: the kernel log's --- */

bool sh_log_faults_wanted(struct ish_target *t)
{
	char *text = NULL;
	size_t len;
	const char *src = NULL;
	struct ish_error *err = ish_target_vmcoreinfo(t, &text, &len, &src);

	/* only where the kernel is cheap to find: a note, never a RAM scan */
	free(text);
	ish_error_destroy(err);
	return !err;
}

static void walk_text(struct ish_shell *sh, const struct ish_translation *x, unsigned logged)
{
	sh_printf(sh, "    walk now: ");
	if (x->translation_disabled) {
		sh_printf(sh, "translation disabled (no remapping)\n");
	} else if (x->blocked) {
		sh_printf(sh, "blocked (abort DMA)\n");
	} else if (!x->faulted) {
		sh_printf(sh, "translates to %#" PRIx64 "%s (mapped since the fault)\n", x->hpa,
			  x->pass_through ? " (pass-through)" : "");
	} else {
		sh_printf(sh, "faults");
		if (x->fault_step >= 0 && (unsigned)x->fault_step < x->nsteps) {
			const struct ish_step *s = &x->steps[x->fault_step];

			sh_printf(sh, " at the %s", ish_step_kind_name(s->kind));
			if (s->level)
				sh_printf(sh, " level %u", s->level);
			sh_printf(sh, " entry %u of table %#" PRIx64 " (at %#" PRIx64 ")", s->index,
				  s->table, s->entry_addr);
		}
		sh_printf(sh, ": reason %#x: %s%s\n", x->reason,
			  ish_fault_reason_text(x->reason, x->scalable),
			  x->reason == logged ? "" : " (the log says otherwise: an emulator's or "
						      "another mode's code)");
	}
}

static void walk_json(struct json_writer *w, const struct ish_translation *x)
{
	json_key(w, "walk");
	json_begin_object(w);
	json_kv_bool(w, "faulted", x->faulted);
	if (x->faulted) {
		json_kv_u64(w, "reason", x->reason);
		json_kv_str(w, "text", ish_fault_reason_text(x->reason, x->scalable));
		json_key(w, "step");
		if (x->fault_step >= 0 && (unsigned)x->fault_step < x->nsteps) {
			const struct ish_step *s = &x->steps[x->fault_step];

			json_begin_object(w);
			json_kv_str(w, "kind", ish_step_kind_name(s->kind));
			json_kv_u64(w, "level", s->level);
			json_kv_u64(w, "table", s->table);
			json_kv_u64(w, "index", s->index);
			json_kv_u64(w, "entry_addr", s->entry_addr);
			json_end_object(w);
		} else {
			json_null(w);
		}
	} else {
		json_kv_bool(w, "translation_disabled", x->translation_disabled);
		if (!x->translation_disabled)
			json_kv_u64(w, "hpa", x->hpa);
	}
	json_end_object(w);
}

int sh_log_faults(struct ish_shell *sh, struct ish_target *t, bool walk)
{
	struct ish_printk_log *log;
	struct ish_kernel_fault *f = NULL;
	struct ish_error *err;
	struct ish_kernel *k;
	size_t n = 0;
	int status = 0;
	char b[8];

	err = read_log(t, &log);
	if (!err) {
		err = ish_vtd_log_faults(log, &f, &n);
		ish_printk_log_destroy(log);
	}
	if (err)
		return sh_report(sh, err);
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "source", "kernel log");
		json_key(&sh->json, "vmcoreinfo");
		if (!ish_target_kernel(t, &k))
			json_str(&sh->json, ish_kernel_source(k));
		else
			json_null(&sh->json);
		json_key(&sh->json, "records");
		json_begin_array(&sh->json);
	} else {
		sh_printf(sh, "kernel log: %zu DMA remapping fault%s logged\n", n, n == 1 ? "" : "s");
	}
	for (size_t i = 0; i < n; i++) {
		const struct ish_kernel_fault *x = &f[i];
		struct ish_translation tr;
		bool walked = false;

		if (walk && !x->irq) {
			/*
			 * PASID 0 is Linux's RID_PASID (PASID_RID2PASID), never given
			 * to a device; QEMU 7.2 records it for requests without PASID
			 * (tests/edu/README.md): walked as such a request.
			 */
			bool with_pasid = x->pasid_present && x->pasid;

			err = ish_translate(t, -1, x->sid, with_pasid ? x->pasid : ISH_PASID_NONE,
					    x->addr, x->type == ISH_FAULT_WRITE ? ISH_ACCESS_WRITE : 0,
					    &tr);
			if (err) {
				status = sh_report(sh, ish_error_prefix(err, "walk of %s %#" PRIx64,
									  fmt_bdf(x->sid, b), x->addr));
			} else {
				walked = true;
			}
		}
		if (sh_json(sh)) {
			struct json_writer *w = &sh->json;

			json_begin_object(w);
			json_kv_u64(w, "seq", x->seq);
			json_kv_u64(w, "ts_nsec", x->ts_nsec);
			json_kv_u64(w, "sid", x->sid);
			json_kv_str(w, "bdf", fmt_bdf(x->sid, b));
			json_kv_str(w, "type", x->irq ? "interrupt" : ish_fault_type_name(x->type));
			json_kv_u64(w, x->irq ? "irq_index" : "addr", x->addr);
			json_kv_bool(w, "pasid_present", x->pasid_present);
			if (x->pasid_present)
				json_kv_u64(w, "pasid", x->pasid);
			json_kv_u64(w, "reason", x->reason);
			json_kv_str(w, "text", x->text);
			json_kv_str(w, "kernel_text", x->kernel_text);
			json_kv_str(w, "line", x->line);
			if (walked)
				walk_json(w, &tr);
			json_end_object(w);
		} else {
			sh_printf(sh, "  ");
			ts_text(sh, x->ts_nsec);
			sh_printf(sh, "%s %s", fmt_bdf(x->sid, b),
				  x->irq ? "interrupt" : ish_fault_type_name(x->type));
			sh_printf(sh, x->irq ? " index %#" PRIx64 : " addr %#" PRIx64, x->addr);
			if (x->pasid_present)
				sh_printf(sh, " PASID %#x", x->pasid);
			sh_printf(sh, " reason %#x: %s", x->reason, x->text);
			if (strcmp(x->text, x->kernel_text))
				sh_printf(sh, " (kernel: %s)", x->kernel_text);
			sh_printf(sh, "\n");
			if (walked)
				walk_text(sh, &tr, x->reason);
		}
	}
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_object(&sh->json);
	}
	free(f);
	return status;
}
