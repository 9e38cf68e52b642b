// SPDX-License-Identifier: MIT
/* PCI functions with their unit and context entry: pci. A printer over lib/pci.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/pci.h>

#include "json.h"
#include "pcinames.h"
#include "shell.h"

static void func_json(struct ish_shell *sh, struct ish_target *t, const struct ish_pci_func *f,
		      const struct ish_pci_context *c, const char *name)
{
	struct json_writer *w = &sh->json;
	char b[8];

	json_begin_object(w);
	json_kv_u64(w, "segment", f->segment);
	json_kv_str(w, "bdf", fmt_bdf(f->bdf, b));
	json_kv_u64(w, "vendor_id", f->vendor);
	json_kv_u64(w, "device_id", f->device);
	json_kv_u64(w, "class", f->class);
	json_key(w, "header_type");
	if (f->have_header)
		json_u64(w, f->header_type);
	else
		json_null(w);
	json_kv_str(w, "name", name);
	json_key(w, "bridge");
	if (f->bridge) {
		json_begin_object(w);
		json_kv_u64(w, "primary", f->primary);
		json_kv_u64(w, "secondary", f->secondary);
		json_kv_u64(w, "subordinate", f->subordinate);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_key(w, "unit");
	if (c->have_unit)
		json_str(w, ish_target_unit(t, c->unit)->name);
	else
		json_null(w);
	json_kv_str(w, "cover", ish_cover_name(c->how));
	json_key(w, "context");
	if (c->read) {
		json_begin_object(w);
		json_kv_bool(w, "present", c->present);
		json_kv_str(w, "mode", c->scalable ? "scalable" : "legacy");
		json_key(w, "type");
		if (c->type)
			json_str(w, c->type);
		else
			json_null(w);
		json_key(w, "did");
		if (c->have_did)
			json_u64(w, c->did);
		else
			json_null(w);
		json_end_object(w);
	} else {
		json_null(w);
	}
	if (!c->read)
		json_kv_str(w, "why", c->why);
	json_end_object(w);
}

static void func_text(struct ish_shell *sh, struct ish_target *t, const struct ish_pci_func *f,
		      const struct ish_pci_context *c, const char *name)
{
	char b[8];

	sh_printf(sh, "%04x:%s [%04x:%04x] %06x", f->segment, fmt_bdf(f->bdf, b), f->vendor,
		  f->device, f->class);
	if (f->bridge)
		sh_printf(sh, " bridge bus %02x-%02x", f->secondary, f->subordinate);
	if (c->have_unit)
		sh_printf(sh, "  %s (%s)", ish_target_unit(t, c->unit)->name, ish_cover_name(c->how));
	else
		sh_printf(sh, "  no unit");
	if (c->read && c->present) {
		sh_printf(sh, " context+ %s %s", c->scalable ? "scalable" : "legacy",
			  c->type ? c->type : "-");
		if (c->have_did)
			sh_printf(sh, " DID %u", c->did);
	} else if (c->read) {
		sh_printf(sh, " context-");
	} else if (c->have_unit) {
		sh_printf(sh, " context? (%s)", c->why);
	}
	sh_printf(sh, "  %s\n", name);
}

struct print_state {
	struct ish_shell *sh;
	bool started;		/* the JSON array is open */
};

static void start(struct print_state *ps)
{
	if (!ps->started)
		sh_list_begin(ps->sh);
	ps->started = true;
}

static struct ish_error *print_func(void *arg, const struct ish_pci_func *f,
				    const struct ish_pci_context *c)
{
	struct print_state *ps = arg;
	struct ish_shell *sh = ps->sh;
	char name[256];

	start(ps);
	sh_pci_name(f->vendor, f->device, name, sizeof(name));
	if (sh_json(sh))
		func_json(sh, sh->target, f, c, name);
	else
		func_text(sh, sh->target, f, c, name);
	return sh_stream_broken(sh) ? ish_error_errno(sh->stream->err, "write error") : NULL;
}

static int cmd_pci(struct ish_shell *sh, int argc, char **argv)
{
	const struct ish_command *cmd = ish_command_find("pci", &(bool){ false });
	struct ish_target *t = sh_target(sh);
	struct print_state ps = { .sh = sh };
	struct ish_error *err;
	struct ish_pci *p;
	struct out_buf *ob;
	int status, werr;

	(void)argv;
	if (!t)
		return 1;
	if (argc != 1)
		return sh_usage(sh, cmd);
	ob = malloc(sizeof(*ob));
	if (!ob)
		return sh_report(sh, &ish_enomem);
	sh_stream_begin(sh, ob);
	err = ish_pci_each(t, print_func, &ps, &p);
	if (!p) {
		werr = sh_stream_end(sh);
		free(ob);
		if (werr) {
			ish_error_destroy(err);
			return sh_stream_failed(sh, werr);
		}
		return sh_report(sh, err);
	}
	start(&ps);
	sh_list_end(sh);
	if (sh_stream_broken(sh)) {
		ish_error_destroy(err);
		ish_pci_destroy(p);
		werr = sh_stream_end(sh);
		free(ob);
		return sh_stream_failed(sh, werr);
	}
	sh_flush(sh);
	for (size_t i = 0; i < p->nfindings; i++)
		fprintf(stderr, "iommush: pci: warning: %s\n", p->findings[i].message);
	if (!err && !p->n && !sh_json(sh))
		sh_printf(sh, "no PCI functions found\n");
	status = err ? sh_report(sh, err) : p->nfindings ? 1 : 0;
	ish_pci_destroy(p);
	werr = sh_stream_end(sh);
	free(ob);
	return werr ? sh_stream_failed(sh, werr) : status;
}

const struct ish_command ish_cmds_pci[] = {
	{ "pci", NULL, "pci", "list PCI functions with their unit and context entry",
	  "Lists every PCI function of the target, one line each: segment:bus:dev.fn,\n"
	  "[vendor:device], the 24-bit class code, \"bridge bus SS-UU\" for a PCI-PCI\n"
	  "bridge (its secondary and subordinate buses), the remapping unit that\n"
	  "translates it and how that unit was chosen (scope: a DMAR endpoint scope\n"
	  "names it; bridge scope: it is in a PCI sub-hierarchy scope; INCLUDE_PCI_ALL;\n"
	  "only unit), its context entry as `devices` decodes it (context+ MODE TYPE\n"
	  "DID n, context- when not present, context? and why when the tables cannot\n"
	  "be read), and the name from libpci's database.\n"
	  "On a live host the functions come from libpci over sysfs, all domains\n"
	  "(-O pci.sysfs=DIR; /sys/bus/pci when the target is this host, while a\n"
	  "live backend reading files needs pci.sysfs); elsewhere (dumps,\n"
	  "gdbstub) from config space, scanned from bus 0 and every DMAR scope's start\n"
	  "bus through bridges' secondary buses. Bridges whose bus numbers loop or go\n"
	  "backwards are warnings (exit status 1) and are not followed.\n"
	  "--json: a list of {\"segment\", \"bdf\", \"vendor_id\", \"device_id\", \"class\",\n"
	  "\"header_type\", \"name\", \"bridge\": {\"primary\", \"secondary\",\n"
	  "\"subordinate\"} or null, \"unit\", \"cover\", \"context\": {\"present\", \"mode\",\n"
	  "\"type\", \"did\"} or null (then \"why\")}; --jsonl: one such object a line.",
	  cmd_pci, CMD_NEEDS_TARGET, COMPLETE_NONE },
	{ NULL },
};
