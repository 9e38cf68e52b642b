// SPDX-License-Identifier: MIT
/*
 * Commands that change the target: invalidate, `set reg` (called from
 * cmd_core's `set`), and stop/cont for targets that run.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>
#include <iommush/write.h>

#include "shell.h"

struct ish_error *ish_shell_confirm(void *arg, const struct ish_write_question *q)
{
	struct ish_shell *sh = arg;
	char line[16];

	if (sh->yes)
		return NULL;
	if (!sh->interactive)
		return ish_error_format(ISH_ERROR_REFUSED,
					"%s would write to %s of this live host (%s backend): refusing "
					"without --yes, since there is no terminal to ask",
					q->what, q->units, q->backend);
	fflush(sh->out);
	fprintf(stderr, "%s writes to %s of this live host (%s backend, %s).\n", q->what, q->units,
		q->backend, q->spec);
	if (q->evidence)
		fprintf(stderr, "  %s\n", q->evidence);
	if (q->forced)
		fprintf(stderr, "  The kernel's intel-iommu driver owns %s (written because of --force).\n",
			q->forced);
	fprintf(stderr, "Go ahead? [y/N] ");
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
		return ish_error_format(ISH_ERROR_REFUSED, "not written: %s was not confirmed",
					q->what);
	return NULL;
}

/* --- invalidate --- */

static const struct {
	const char *name;
	enum ish_inval_what what;
} inval_whats[] = {
	{ "context", ISH_INVAL_CONTEXT },
	{ "iotlb", ISH_INVAL_IOTLB },
	{ "iec", ISH_INVAL_IEC },
	{ "pasid-cache", ISH_INVAL_PASID_CACHE },
	{ "piotlb", ISH_INVAL_PIOTLB },
};

static const struct {
	const char *name;
	enum ish_inval_gran gran;
} inval_grans[] = {
	{ "global", ISH_INVAL_GLOBAL }, { "domain", ISH_INVAL_DOMAIN },
	{ "device", ISH_INVAL_DEVICE }, { "page", ISH_INVAL_PAGE },
	{ "index", ISH_INVAL_INDEX },	{ "pasid", ISH_INVAL_PASID },
};

/* How many numbers follow each granularity word, per type (see the synopsis). */
static int gran_nargs(enum ish_inval_what what, enum ish_inval_gran g)
{
	switch (g) {
	case ISH_INVAL_GLOBAL:
		return 0;
	case ISH_INVAL_DOMAIN:
		return 1;	/* DID */
	case ISH_INVAL_DEVICE:
		return 2;	/* BDF DID */
	case ISH_INVAL_INDEX:
		return 1;	/* N */
	case ISH_INVAL_PASID:
		return 2;	/* DID PASID */
	case ISH_INVAL_PAGE:
		return what == ISH_INVAL_PIOTLB ? 3 : 2;	/* DID [PASID] ADDR */
	}
	return 0;
}

static bool parse_small(const char *s, uint64_t max, uint64_t *ret)
{
	return parse_u64(s, ret) && *ret <= max;
}

static void json_qwords(struct ish_shell *sh, const char *key, const uint64_t *qw, unsigned n)
{
	json_key(&sh->json, key);
	json_begin_array(&sh->json);
	for (unsigned i = 0; i < n; i++)
		json_u64(&sh->json, qw[i]);
	json_end_array(&sh->json);
}

static void show_result(struct ish_shell *sh, const struct ish_unit *u,
			const struct ish_inval_req *req, const struct ish_inval_result *r,
			const char *desc)
{
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "unit", u->name);
		json_kv_str(&sh->json, "what", ish_inval_what_name(req->what));
		json_kv_str(&sh->json, "method", ish_inval_method_name(r->method));
		json_kv_str(&sh->json, "descriptor", desc);
		if (r->method == ISH_INVAL_REGISTER) {
			json_kv_u64(&sh->json, "command", r->cmd);
			json_kv_u64(&sh->json, "iva", r->iva);
			json_kv_u64(&sh->json, "register_after", r->reg_after);
			json_kv_str(&sh->json, "requested_granularity",
				    ish_inval_gran_name(req->what, r->requested_gran));
			json_kv_str(&sh->json, "actual_granularity",
				    ish_inval_gran_name(req->what, r->actual_gran));
		} else {
			json_qwords(sh, "desc", r->desc, r->desc_size / 8);
			json_qwords(sh, "wait", r->wait_desc, r->desc_size / 8);
			json_kv_u64(&sh->json, "slot", r->slot);
			json_kv_u64(&sh->json, "new_tail", r->new_tail);
			json_kv_u64(&sh->json, "status_addr", r->status_addr);
			json_kv_u64(&sh->json, "status_data", r->status_data);
			json_kv_u64(&sh->json, "iqh", r->iqh_after);
			json_kv_bool(&sh->json, "cooperative", r->cooperative);
			if (r->cooperative) {
				json_kv_u64(&sh->json, "q_inval", r->q_inval_pa);
				json_kv_u64(&sh->json, "resumes", r->resumes);
				json_kv_u64(&sh->json, "free_head_before", (uint64_t)r->free_head_before);
				json_kv_u64(&sh->json, "free_head_after", (uint64_t)r->free_head_after);
				json_kv_u64(&sh->json, "free_tail_before", (uint64_t)r->free_tail_before);
				json_kv_u64(&sh->json, "free_tail_after", (uint64_t)r->free_tail_after);
				json_kv_u64(&sh->json, "free_cnt_before", (uint64_t)r->free_cnt_before);
				json_kv_u64(&sh->json, "free_cnt_after", (uint64_t)r->free_cnt_after);
			}
		}
		json_kv_u64(&sh->json, "fsts", r->fsts);
		json_kv_u64(&sh->json, "polls", r->polls);
		json_kv_u64(&sh->json, "elapsed_us", r->elapsed_us);
		json_end_object(&sh->json);
		return;
	}
	if (r->method == ISH_INVAL_REGISTER) {
		sh_printf(sh, "%s: %s through %s: %#" PRIx64 ", done after %u poll%s (%" PRIu64
			  " us); actual granularity %s (%s=%u)\n", u->name, desc,
			  req->what == ISH_INVAL_CONTEXT ? "CCMD" : "IOTLB_REG", r->cmd, r->polls,
			  r->polls == 1 ? "" : "s", r->elapsed_us,
			  ish_inval_gran_name(req->what, r->actual_gran),
			  req->what == ISH_INVAL_CONTEXT ? "CAIG" : "IAIG", r->actual_gran);
	} else {
		sh_printf(sh, "%s: %s queued in slot %u, wait in slot %u, tail now %u; status %#x at %#"
			  PRIx64 " after %u poll%s (%" PRIu64 " us)\n", u->name, desc, r->slot,
			  r->new_tail ? r->new_tail - 1 : r->slot + 1,
			  r->new_tail, r->status_data, r->status_addr, r->polls,
			  r->polls == 1 ? "" : "s", r->elapsed_us);
		if (r->cooperative)
			sh_printf(sh, "%s: submitted as the kernel would (struct q_inval at %#" PRIx64
				  "): free_head %d -> %d, free_tail %d -> %d, free_cnt %d -> %d\n",
				  u->name, r->q_inval_pa, r->free_head_before, r->free_head_after,
				  r->free_tail_before, r->free_tail_after, r->free_cnt_before,
				  r->free_cnt_after);
		if (r->cooperative && r->resumes)
			sh_printf(sh, "%s: the guest ran %u time%s for 20 ms until the kernel's queue "
				  "lock was free\n", u->name, r->resumes, r->resumes == 1 ? "" : "s");
	}
	if (r->iqe || r->ice || r->ite) {
		sh_printf(sh, "%s: FSTS %#x:", u->name, r->fsts);
		sh_flag(sh, " IQE", r->iqe);
		sh_flag(sh, " ICE", r->ice);
		sh_flag(sh, " ITE", r->ite);
		sh_printf(sh, "\n");
	}
}

static int cmd_invalidate(struct ish_shell *sh, int argc, char **argv)
{
	struct sh_opt opts[] = {
		{ "--unit", true, NULL },	 { "--queued", false, NULL },
		{ "--register", false, NULL },	 { "--am", true, NULL },
		{ "--ih", false, NULL },	 { "--fm", true, NULL },
		{ "--im", true, NULL },		 { "--no-drain", false, NULL },
		{ "--status-addr", true, NULL }, { "--timeout", true, NULL },
	};
	enum { O_UNIT, O_QUEUED, O_REGISTER, O_AM, O_IH, O_FM, O_IM, O_NODRAIN, O_STATUS, O_TIMEOUT };
	const struct ish_command *self = sh->cmd;
	struct ish_inval_req req = { 0 };
	enum ish_inval_method method = ISH_INVAL_AUTO;
	struct ish_target *t = sh->target;
	unsigned first = 0, last, nunits = ish_target_nunits(t);
	uint64_t v, cap = 0;
	int pos = 1, need, failures = 0;
	bool *refused;
	unsigned ntodo;
	struct ish_error *err;
	char what[64];
	size_t i;

	if (!sh_getopt(sh, self, &argc, argv, opts, sizeof(opts) / sizeof(opts[0])))
		return 2;
	if (argc < 2)
		return sh_usage(sh, self);
	for (i = 0; i < sizeof(inval_whats) / sizeof(inval_whats[0]); i++)
		if (!strcmp(argv[1], inval_whats[i].name))
			break;
	if (i == sizeof(inval_whats) / sizeof(inval_whats[0]))
		return sh_error(sh, "nothing called '%s' to invalidate (context, iotlb, iec, "
			       "pasid-cache, piotlb)", argv[1]);
	req.what = inval_whats[i].what;
	req.gran = req.what == ISH_INVAL_PIOTLB ? ISH_INVAL_PASID : ISH_INVAL_GLOBAL;
	pos = 2;
	if (argc > 2) {
		for (i = 0; i < sizeof(inval_grans) / sizeof(inval_grans[0]); i++)
			if (!strcmp(argv[2], inval_grans[i].name))
				break;
		if (i == sizeof(inval_grans) / sizeof(inval_grans[0]))
			return sh_error(sh, "'%s' is not a granularity (global, domain, device, page, "
				       "index, pasid)", argv[2]);
		req.gran = inval_grans[i].gran;
		pos = 3;
	} else if (req.what == ISH_INVAL_PIOTLB) {
		return sh_usage(sh, self);
	}
	need = gran_nargs(req.what, req.gran);
	if (argc - pos != need)
		return sh_usage(sh, self);
	if (need) {
		const char *a = argv[pos];

		switch (req.gran) {
		case ISH_INVAL_INDEX:
			if (!parse_small(a, 0xffff, &v))
				return sh_error(sh, "'%s' is not an interrupt index (0..65535)", a);
			req.index = (uint16_t)v;
			break;
		case ISH_INVAL_DEVICE: {
			uint16_t seg = 0, bdf;

			if (!parse_bdf(a, &seg, &bdf))
				return sh_error(sh, "'%s' is not a device (BB:DD.F)", a);
			req.sid = bdf;
			if (!opts[O_UNIT].value) {
				struct ish_error *uerr = ish_unit_for_device(t, seg, bdf, &first);

				if (uerr)
					return sh_report(sh, uerr);
			}
			a = argv[++pos];
		}
			__attribute__((fallthrough));	/* then the DID */
		default:
			if (!parse_small(a, 0xffff, &v))
				return sh_error(sh, "'%s' is not a domain-id (0..65535)", a);
			req.did = (uint16_t)v;
			pos++;
			if (req.gran == ISH_INVAL_PASID ||
			    (req.gran == ISH_INVAL_PAGE && req.what == ISH_INVAL_PIOTLB)) {
				if (!parse_small(argv[pos], 0xfffff, &v))
					return sh_error(sh, "'%s' is not a PASID (20 bits)", argv[pos]);
				req.pasid = (uint32_t)v;
				pos++;
			}
			if (req.gran == ISH_INVAL_PAGE && !parse_u64(argv[pos], &req.addr))
				return sh_error(sh, "'%s' is not an address", argv[pos]);
			break;
		}
	}
	if (opts[O_AM].value) {
		if (!parse_small(opts[O_AM].value, 63, &v))
			return sh_error(sh, "--am takes 0..63");
		req.am = (unsigned)v;
	}
	if (opts[O_FM].value) {
		if (!parse_small(opts[O_FM].value, 3, &v))
			return sh_error(sh, "--fm takes 0..3");
		req.fm = (unsigned)v;
	}
	if (opts[O_IM].value) {
		if (!parse_small(opts[O_IM].value, 31, &v))
			return sh_error(sh, "--im takes 0..31");
		req.im = (unsigned)v;
	}
	if (opts[O_STATUS].value && !parse_u64(opts[O_STATUS].value, &req.status_addr))
		return sh_error(sh, "--status-addr takes an address");
	if (opts[O_TIMEOUT].value) {
		if (!parse_small(opts[O_TIMEOUT].value, 600000, &v) || !v)
			return sh_error(sh, "--timeout takes milliseconds, 1..600000");
		req.timeout_ms = (unsigned)v;
	}
	req.ih = opts[O_IH].value != NULL;
	req.no_drain = opts[O_NODRAIN].value != NULL;
	if (opts[O_QUEUED].value && opts[O_REGISTER].value)
		return sh_error(sh, "--queued and --register exclude each other");
	if (opts[O_QUEUED].value)
		method = ISH_INVAL_QUEUED;
	if (opts[O_REGISTER].value)
		method = ISH_INVAL_REGISTER;

	if (opts[O_UNIT].value && !strcmp(opts[O_UNIT].value, "all")) {
		first = 0;
		last = nunits ? nunits - 1 : 0;
	} else if (opts[O_UNIT].value) {
		const struct ish_unit *u = ish_target_unit_by_name(t, opts[O_UNIT].value);

		if (!u)
			return sh_error(sh, "no unit '%s'", opts[O_UNIT].value);
		first = last = u->index;
	} else if (req.gran == ISH_INVAL_DEVICE) {
		last = first;
	} else {
		/* Global and domain requests go to every unit, as Linux flushes each. */
		first = 0;
		last = nunits ? nunits - 1 : 0;
	}
	if (!nunits)
		return sh_error(sh, "the target has no remapping units");
	for (i = 0; i < sizeof(inval_grans) / sizeof(inval_grans[0]); i++)
		if (inval_grans[i].gran == req.gran)
			break;
	snprintf(what, sizeof(what), "invalidate %s %s", argv[1],
		 i < sizeof(inval_grans) / sizeof(inval_grans[0]) ? inval_grans[i].name : "");
	/*
	 * Units the library would refuse before writing (a queue an OS drives)
	 * are reported first, so that nobody is asked about them.
	 */
	ntodo = last - first + 1;
	refused = calloc(ntodo, sizeof(*refused));
	if (!refused)
		return sh_report(sh, &ish_enomem);
	for (unsigned n = first; n <= last; n++) {
		err = ish_invalidate_check(t, n, &req, method);
		if (err && err->code == ISH_ERROR_REFUSED) {
			sh_report(sh, ish_error_prefix(err, "%s", ish_target_unit(t, n)->name));
			refused[n - first] = true;
			failures++;
			ntodo--;
		} else {
			ish_error_destroy(err);
		}
	}
	if (!ntodo) {
		free(refused);
		return 1;
	}
	/* One question for every unit and register this takes. */
	err = ish_write_begin(t, first == last ? (int)first : ISH_WRITE_ALL_UNITS, ISH_WRITE_REGS,
			      what);
	if (err) {
		free(refused);
		return sh_report(sh, err);
	}

	if (sh_json(sh))
		json_begin_array(&sh->json);
	for (unsigned n = first; n <= last; n++) {
		const struct ish_unit *u = ish_target_unit(t, n);
		struct ish_inval_result res;
		struct ish_qi_desc d;
		uint64_t qw[4];
		char desc[160] = "";

		if (refused[n - first])
			continue;
		/* The description comes from the descriptor form; CAP only tunes DR/DW. */
		ish_error_destroy(ish_read_reg(t, n, DMAR_CAP_REG, 64, &cap));
		if (!(err = ish_inval_encode_desc(&req, cap, qw))) {
			ish_qi_decode(qw, 128, &d);
			ish_qi_describe(&d, desc, sizeof(desc));
		}
		ish_error_destroy(err);
		err = ish_invalidate(t, n, &req, method, &res);
		if (err) {
			sh_report(sh, ish_error_prefix(err, "%s", u->name));
			failures++;
			continue;
		}
		show_result(sh, u, &req, &res, desc);
	}
	ish_write_end(t);
	free(refused);
	if (sh_json(sh)) {
		json_end_array(&sh->json);
		json_end_line(&sh->json);
	}
	return failures ? 1 : 0;
}

/* --- set reg --- */

int ish_cmd_set_reg(struct ish_shell *sh, int argc, char **argv)
{
	struct ish_target *t = sh->target;
	const struct ish_reg_def *r;
	const struct ish_unit *u;
	unsigned index = 0;
	uint64_t value, back = 0, cap = 0, ecap = 0, gsts = 0;
	uint32_t off;
	struct ish_error *err, *rerr, *gerr = NULL;
	char name[32], what[48], note[512];
	const char *nt;
	const char *uname = NULL;

	if (argc == 4)
		uname = argv[1];
	else if (argc != 3)
		goto usage;
	u = uname ? ish_target_unit_by_name(t, uname) : ish_target_unit(t, 0);
	if (!u)
		return uname ? sh_error(sh, "no unit '%s'", uname)
			     : sh_error(sh, "the target has no remapping units");
	if (uname == NULL && ish_target_nunits(t) > 1)
		return sh_error(sh, "the target has %u units: name one (set reg UNIT NAME VALUE)",
				ish_target_nunits(t));
	r = ish_reg_parse(argv[argc - 2], &index);
	if (!r)
		return sh_error(sh, "no register '%s' (see 'regs --all' for names)", argv[argc - 2]);
	ish_reg_instance_name(r, index, name, sizeof(name));
	if (!parse_u64(argv[argc - 1], &value))
		return sh_error(sh, "'%s' is not a number", argv[argc - 1]);
	if (r->width == 32 && value > 0xffffffffu)
		return sh_error(sh, "%s is a 32-bit register: %#" PRIx64 " does not fit", name, value);
	if (r->loc != ISH_REG_FIXED) {
		if ((err = ish_read_reg(t, u->index, DMAR_CAP_REG, 64, &cap)) ||
		    (err = ish_read_reg(t, u->index, DMAR_ECAP_REG, 64, &ecap)))
			return sh_report(sh, ish_error_prefix(err, "%s moves with CAP/ECAP", name));
	}
	if ((err = ish_reg_offset(r, index, cap, ecap, &off)))
		return sh_report(sh, err);
	snprintf(what, sizeof(what), "set reg %s", name);
	/* The library's access model decides (RO registers), before write mode is asked. */
	if ((err = ish_write_reg_check(t, u->index, off, r->width, value, what)))
		return sh_report(sh, err);
	if ((err = ish_write_begin(t, (int)u->index, ISH_WRITE_REGS, what)))
		return sh_report(sh, err);
	err = ish_write_reg(t, u->index, off, r->width, value);
	ish_write_end(t);
	if (err)
		return sh_report(sh, ish_error_prefix(err, "%s", name));
	nt = ish_reg_write_note(r, name, value, 0, note, sizeof(note));
	rerr = ish_read_reg(t, u->index, off, r->width, &back);
	/* GCMD's effect shows in GSTS. */
	if (off == DMAR_GCMD_REG)
		gerr = ish_read_reg(t, u->index, DMAR_GSTS_REG, 32, &gsts);
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "unit", u->name);
		json_kv_str(&sh->json, "register", name);
		json_kv_u64(&sh->json, "offset", off);
		json_kv_u64(&sh->json, "width", r->width);
		json_kv_u64(&sh->json, "value", value);
		json_key(&sh->json, "readback");
		if (rerr)
			json_null(&sh->json);
		else
			json_u64(&sh->json, back);
		if (off == DMAR_GCMD_REG && !gerr)
			json_kv_u64(&sh->json, "gsts", gsts);
		json_kv_str(&sh->json, "access", ish_access_name(r->access));
		if (nt)
			json_kv_str(&sh->json, "note", nt);
		json_end_object(&sh->json);
		json_end_line(&sh->json);
	} else {
		sh_printf(sh, "%s: %s (%#x) <- %#" PRIx64, u->name, name, off, value);
		if (!rerr)
			sh_printf(sh, ", reads back %#" PRIx64, back);
		if (off == DMAR_GCMD_REG && !gerr)
			sh_printf(sh, "; GSTS %#" PRIx64, gsts);
		sh_printf(sh, "\n");
		if (nt)
			sh_printf(sh, "%s: %s\n", u->name, nt);
	}
	ish_error_destroy(rerr);
	ish_error_destroy(gerr);
	return 0;
usage:
	fflush(sh->out);
	fprintf(stderr, "usage: set reg [UNIT] NAME VALUE\n");
	return 2;
}

/* --- stop / cont --- */

static int run_control(struct ish_shell *sh, int argc, bool stop)
{
	struct ish_target *t = sh->target;
	const struct ish_backend *b = ish_target_backend(t);
	struct ish_error *err;

	if (argc != 1) {
		fflush(sh->out);
		fprintf(stderr, "usage: %s\n", stop ? "stop" : "cont");
		return 2;
	}
	if (!ish_backend_can_stop(b))
		return sh_error(sh, "the %s backend has nothing to %s", ish_backend_name(b),
				stop ? "stop" : "resume");
	err = stop ? ish_target_stop(t) : ish_target_resume(t);
	if (err)
		return sh_report(sh, err);
	if (sh_json(sh)) {
		json_begin_object(&sh->json);
		json_kv_str(&sh->json, "state", stop ? "stopped" : "running");
		json_end_object(&sh->json);
		json_end_line(&sh->json);
	} else {
		sh_printf(sh, "%s\n", stop ? "stopped" : "running");
	}
	return 0;
}

static int cmd_stop(struct ish_shell *sh, int argc, char **argv)
{
	(void)argv;
	return run_control(sh, argc, true);
}

static int cmd_cont(struct ish_shell *sh, int argc, char **argv)
{
	(void)argv;
	return run_control(sh, argc, false);
}

const struct ish_command ish_cmds_write[] = {
	{ "invalidate", NULL,
	  "invalidate context|iotlb|iec|pasid-cache|piotlb [GRANULARITY ARGS] [--unit U|all] "
	  "[--queued|--register] [--am N] [--ih] [--fm N] [--im N] [--no-drain] "
	  "[--status-addr ADDR] [--timeout MS]",
	  "invalidate a remapping unit's caches (needs --write)",
	  "Invalidates cached translations the way an OS does, through the registers\n"
	  "(CCMD, IVA/IOTLB_REG at ECAP.IRO*16) or the invalidation queue (a descriptor\n"
	  "at IQT, then an invalidation-wait descriptor whose status write is polled).\n"
	  "The queue is used when GSTS.QIES is set, the registers otherwise, unless\n"
	  "--queued or --register says which. IEC, PASID-cache and PIOTLB work only\n"
	  "through the queue; the registers are refused while the queue is on.\n"
	  "\n"
	  "Granularities (default global; piotlb has no global):\n"
	  "  context      global | domain DID | device BDF DID [--fm N]\n"
	  "  iotlb        global | domain DID | page DID ADDR [--am N] [--ih]\n"
	  "  iec          global | index N [--im N]\n"
	  "  pasid-cache  global | domain DID | pasid DID PASID\n"
	  "  piotlb       pasid DID PASID | page DID PASID ADDR [--am N] [--ih]\n"
	  "\n"
	  "--am N covers 2^N pages from ADDR (aligned to them); --ih hints that only\n"
	  "leaf entries changed. IOTLB requests drain reads and writes when CAP says\n"
	  "the unit can (DRD/DWD), unless --no-drain. Without --unit, a device request\n"
	  "goes to the device's unit and every other request to every unit.\n"
	  "\n"
	  "Register-based: prints the command written, and the granularity the\n"
	  "hardware reports it performed (CAIG/IAIG; IAIG 0 means not performed).\n"
	  "Queued: the status word is written to the queue slot after the wait\n"
	  "descriptor (the new tail, which the hardware does not read) unless\n"
	  "--status-addr names another 4-byte aligned address; errors come from\n"
	  "FSTS (IQE, ICE, ITE) and IQERCD. Each wait gives up after --timeout ms\n"
	  "(default 1000). Stop a guest whose OS uses the queue before queuing.\n"
	  "\n"
	  "On a live host this is one write operation: asked about once for every unit\n"
	  "and register it writes (unless --yes), refused on units the kernel's driver\n"
	  "owns (unless --force), and each register and memory write logged.\n"
	  "\n"
	  "Examples:\n"
	  "  invalidate context global\n"
	  "  invalidate context device 00:03.0 1\n"
	  "  invalidate iotlb domain 1 --register\n"
	  "  invalidate iotlb page 1 0x100000 --am 2 --queued\n"
	  "  invalidate iec index 32 --im 3\n"
	  "  invalidate piotlb pasid 1 5",
	  cmd_invalidate, CMD_NEEDS_TARGET | CMD_WRITES_HW, COMPLETE_NONE },
	{ "stop", NULL, "stop", "stop a running target (a QEMU guest)",
	  "Stops the guest behind the target (the gdbstub backend sends 0x03). The\n"
	  "gdbstub backend stops the guest when it connects; 'cont' lets it run and\n"
	  "drops the read cache, since a running guest changes its tables.",
	  cmd_stop, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ "cont", "continue", "cont", "let a stopped target run again",
	  "Resumes the guest behind the target and drops the read cache. Reads while\n"
	  "it runs see a moving system; 'stop' it again for a consistent view.",
	  cmd_cont, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ NULL },
};
