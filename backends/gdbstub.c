// SPDX-License-Identifier: MIT
/*
 * The gdbstub backend: a QEMU guest through QEMU's GDB stub in physical
 * memory mode, where 'm'/'M' reach guest RAM and MMIO alike (the remapping
 * units' registers, PCI ECAM). TARGET is gdb:HOST:PORT or gdb:unix:PATH.
 *
 * Units come from the guest's own ACPI DMAR table, found in guest memory
 * (the firmware must have run), unless gdbstub.regbase names one register
 * block. Registers are read and written with single accesses of exactly the
 * register's width: QEMU's VT-d model ignores MMIO accesses narrower than
 * 4 bytes (reads return 0) and aborts on an 8-byte write to a 32-bit
 * register, so both are prevented here.
 *
 * Connecting stops the guest (QEMU does that); closing leaves it as
 * gdbstub.leave says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/acpi.h>
#include <iommush/vtd/vtd.h>

#include "backends.h"
#include "rsp.h"

/* q35 places segment 0's ECAM window (MMCONFIG) here; pc has none. */
#define GDBSTUB_ECAM_DEFAULT "0xb0000000"

enum leave_mode {
	LEAVE_RUNNING,	/* detach: QEMU resumes the guest */
	LEAVE_STOPPED,	/* close without detaching: the guest stays paused */
	LEAVE_AUTO,	/* running if it was running when we connected */
};

struct gdbstub_priv {
	struct ish_rsp *rsp;
	enum leave_mode leave;
	uint64_t ecam;
};

static const struct ish_param_def gdbstub_params[] = {
	{ "gdbstub.timeout", "5", "seconds to wait for each answer from the stub (fractions allowed)" },
	{ "gdbstub.regbase", NULL,
	  "register base of the one remapping unit, e.g. 0xfed90000; skips the guest's DMAR table" },
	{ "acpi.dmar", NULL,
	  "a DMAR table FILE to use instead of the guest's (units, device scopes)" },
	{ "gdbstub.ecam", GDBSTUB_ECAM_DEFAULT,
	  "physical address of PCI segment 0's ECAM window (q35: 0xb0000000)" },
	{ "gdbstub.leave", "running",
	  "the guest after we disconnect: running (detach; QEMU resumes it), stopped (left paused), "
	  "or auto (running only if it was running when we connected)" },
	{ NULL, NULL, NULL },
};

static bool gdbstub_detect(const char *spec)
{
	return !strncmp(spec, "gdb:", 4);
}

static struct gdbstub_priv *priv(struct ish_target *t)
{
	return ish_target_priv(t);
}

static struct ish_error *parse_timeout(struct ish_target *t, int *ret)
{
	const char *s = ish_target_param(t, "gdbstub.timeout");
	char *end;
	double v;

	errno = 0;
	v = strtod(s ? s : "5", &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400)
		return ish_error_format(ISH_ERROR_INVALID,
					"gdbstub.timeout: '%s' is not a number of seconds (0 < t <= 86400)",
					s);
	*ret = (int)(v * 1000 + 0.5);
	if (*ret < 1)
		*ret = 1;
	return NULL;
}

static struct ish_error *parse_leave(struct ish_target *t, enum leave_mode *ret)
{
	const char *s = ish_target_param(t, "gdbstub.leave");

	if (!s || !strcmp(s, "running"))
		*ret = LEAVE_RUNNING;
	else if (!strcmp(s, "stopped"))
		*ret = LEAVE_STOPPED;
	else if (!strcmp(s, "auto"))
		*ret = LEAVE_AUTO;
	else
		return ish_error_format(ISH_ERROR_INVALID,
					"gdbstub.leave: '%s' is not running, stopped or auto", s);
	return NULL;
}

/* Leaves the guest as gdbstub.leave says and drops the connection. */
static void disconnect(struct gdbstub_priv *p)
{
	bool resume;

	if (!p->rsp)
		return;
	resume = p->leave == LEAVE_RUNNING ||
		 (p->leave == LEAVE_AUTO && ish_rsp_stopped_on_connect(p->rsp));
	if (!ish_rsp_lost(p->rsp)) {
		if (resume) {
			/* Nobody is left to hear about a failure here. */
			ish_error_destroy(ish_rsp_detach(p->rsp));
		} else {
			/* Closing without a detach leaves QEMU's guest paused. */
			ish_error_destroy(ish_rsp_stop(p->rsp));
		}
	}
	ish_rsp_destroy(p->rsp);
	p->rsp = NULL;
}

static void gdbstub_close(struct ish_target *t)
{
	struct gdbstub_priv *p = priv(t);

	if (!p)
		return;
	disconnect(p);
	free(p);
	ish_target_set_priv(t, NULL);
}

static struct ish_error *find_units(struct ish_target *t)
{
	const char *regbase = ish_target_param(t, "gdbstub.regbase");
	const char *dmar_path;
	struct ish_acpi_table dmar;
	struct ish_error *err;

	if (regbase && *regbase) {
		struct ish_unit u = { .arch_flags = 1 };	/* INCLUDE_PCI_ALL: it covers everything */

		err = ish_target_param_u64(t, "gdbstub.regbase", 0, &u.reg_base);
		if (!err && (u.reg_base & (VTD_PAGE_SIZE - 1)))
			err = ish_error_format(ISH_ERROR_INVALID,
					       "gdbstub.regbase %#" PRIx64 " is not 4 KiB aligned",
					       u.reg_base);
		return err ? err : ish_target_add_unit(t, &u, NULL);
	}
	dmar_path = ish_target_param(t, "acpi.dmar");
	if (dmar_path && *dmar_path)
		return access(dmar_path, R_OK) ? ish_error_errno(errno, "acpi.dmar %s", dmar_path) :
						 ish_live_load_dmar(t, true);
	err = ish_acpi_find_table(t, "DMAR", &dmar);
	if (err)
		return ish_error_prefix(err, "no usable DMAR table in guest memory (has the firmware "
					"run? is there a -device intel-iommu? -O gdbstub.regbase=ADDR "
					"names a unit)");
	err = ish_target_set_dmar(t, dmar.data, dmar.len);
	ish_acpi_table_deinit(&dmar);
	return err;
}

static struct ish_error *gdbstub_open(struct ish_target *t, const char *spec)
{
	struct gdbstub_priv *p;
	struct ish_error *err;
	int timeout_ms = 5000;

	if (!gdbstub_detect(spec))
		return ish_error_format(ISH_ERROR_INVALID,
					"'%s' is not gdb:HOST:PORT or gdb:unix:PATH", spec);
	p = calloc(1, sizeof(*p));
	if (!p)
		return &ish_enomem;
	err = parse_timeout(t, &timeout_ms);
	if (!err)
		err = parse_leave(t, &p->leave);
	if (!err)
		err = ish_target_param_u64(t, "gdbstub.ecam", 0xb0000000, &p->ecam);
	if (!err)
		err = ish_rsp_connect(spec + 4, timeout_ms, &p->rsp);
	if (err) {
		free(p);
		return err;
	}
	ish_target_set_priv(t, p);
	err = ish_rsp_handshake(p->rsp);
	if (!err)
		err = ish_rsp_phys_mode(p->rsp);
	if (!err)
		err = find_units(t);
	if (err) {
		/* Leave the guest as we were told to, even on the way out. */
		gdbstub_close(t);
		return err;
	}
	return NULL;
}

static struct ish_error *usable(struct gdbstub_priv *p)
{
	if (ish_rsp_running(p->rsp))
		return ish_error_create(ISH_ERROR_INVALID,
					"the guest is running: stop it first (its memory is changing)");
	return NULL;
}

static struct ish_error *gdbstub_read_phys(struct ish_target *t, uint64_t addr, void *buf,
					   size_t len)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);

	return err ? err : ish_rsp_read(p->rsp, addr, buf, len);
}

static struct ish_error *gdbstub_read_phys_scatter(struct ish_target *t, const uint64_t *addrs,
						   size_t n, size_t len, uint8_t *out, bool *ok)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);

	return err ? err : ish_rsp_read_scatter(p->rsp, addrs, n, len, out, ok);
}

static struct ish_error *gdbstub_write_phys(struct ish_target *t, uint64_t addr, const void *buf,
					    size_t len)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);

	return err ? err : ish_rsp_write(p->rsp, addr, buf, len);
}

static struct ish_error *reg_addr(const struct ish_unit *u, uint32_t offset, unsigned width,
				  uint64_t *ret)
{
	if ((width != 32 && width != 64) || offset % (width / 8))
		return ish_error_format(ISH_ERROR_INVALID,
					"register access of width %u at %#x is not aligned", width,
					offset);
	if (u->reg_base + offset < u->reg_base)
		return ish_error_fault(u->reg_base, "register address wraps around");
	*ret = u->reg_base + offset;
	return NULL;
}

static struct ish_error *gdbstub_read_reg(struct ish_target *t, const struct ish_unit *u,
					  uint32_t offset, unsigned width, uint64_t *ret)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);
	uint8_t b[8];
	uint64_t addr = 0;

	if (!err)
		err = reg_addr(u, offset, width, &addr);
	/* One 'm' of exactly 4 or 8 bytes is one MMIO access of that width. */
	if (!err)
		err = ish_rsp_read(p->rsp, addr, b, width / 8);
	if (err)
		return err;
	*ret = 0;
	for (unsigned i = width / 8; i-- > 0;)
		*ret = *ret << 8 | b[i];
	return NULL;
}

static struct ish_error *gdbstub_write_reg(struct ish_target *t, const struct ish_unit *u,
					   uint32_t offset, unsigned width, uint64_t value)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);
	uint64_t addr = 0;
	uint8_t b[8];

	if (!err)
		err = reg_addr(u, offset, width, &addr);
	if (err)
		return err;
	for (unsigned i = 0; i < width / 8; i++)
		b[i] = (uint8_t)(value >> (8 * i));
	return ish_rsp_write(p->rsp, addr, b, width / 8);
}

static struct ish_error *gdbstub_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
					     uint32_t offset, unsigned width, uint32_t *ret)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);
	uint64_t addr;
	uint8_t b[4];
	uint32_t v;

	if (err)
		return err;
	if (segment)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"gdbstub.ecam covers PCI segment 0 only, not %u", segment);
	if ((width != 8 && width != 16 && width != 32) || offset % (width / 8) ||
	    offset + width / 8 > 4096)
		return ish_error_format(ISH_ERROR_INVALID,
					"config access of width %u at %#x is not aligned inside 4 KiB",
					width, offset);
	/* ECAM: 4 KiB per function, bus:dev.fn = bdf (PCIe base spec 7.2.2). */
	addr = p->ecam + ((uint64_t)bdf << 12) + (offset & ~3u);
	if (addr < p->ecam)
		return ish_error_fault(addr, "ECAM address wraps around");
	/* Whole dwords: narrower MMIO reads through the stub are not to be trusted. */
	err = ish_rsp_read(p->rsp, addr, b, 4);
	if (err)
		return err;
	v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	v >>= 8 * (offset & 3);
	*ret = width == 32 ? v : v & ((1u << width) - 1);
	return NULL;
}

#define MTREE_MAX_RANGES 4096

static int cmp_range(const void *a, const void *b)
{
	const struct ish_ram_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * "info mtree -f" prints one flat view per distinct address-space root;
 * the one listing AS "memory" is the CPUs' physical address space, and its
 * lines "  START-END (prio N, ram): NAME" (END inclusive) are RAM. Other
 * kinds (i/o, rom, romd) are not scanned for the kernel.
 */
struct ish_error *ish_gdbstub_parse_mtree(const char *text, struct ish_ram_range **ret, size_t *n)
{
	struct ish_ram_range *r = NULL;
	size_t nr = 0, cap = 0;
	bool in_memory = false, done = false;

	for (const char *line = text; *line && !done;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		unsigned long long start, end;
		char kind[8];
		int used = 0;

		if (len >= 9 && !memcmp(line, "FlatView ", 9)) {
			done = in_memory;
			in_memory = false;
		} else if (len >= 12 && !memcmp(line, " AS \"memory\"", 12)) {
			in_memory = true;
		} else if (in_memory && len < 256 &&
			   sscanf(line, " %llx-%llx (prio %*d, %7[a-z/])%n", &start, &end, kind,
				  &used) == 3 && used && (size_t)used <= len && !strcmp(kind, "ram") &&
			   start <= end) {
			if (nr == MTREE_MAX_RANGES) {
				free(r);
				return ish_error_format(ISH_ERROR_LIMIT, "more than %u RAM ranges",
							MTREE_MAX_RANGES);
			}
			if (nr == cap) {
				void *q = realloc(r, (cap = cap ? 2 * cap : 16) * sizeof(*r));

				if (!q) {
					free(r);
					return &ish_enomem;
				}
				r = q;
			}
			r[nr].start = start;
			r[nr].end = end == UINT64_MAX ? UINT64_MAX : end + 1;
			nr++;
		}
		line += len + (eol != NULL);
	}
	if (!nr) {
		free(r);
		return ish_error_create(ISH_ERROR_NOT_FOUND,
					"no RAM in the monitor's \"info mtree -f\" (no AS \"memory\")");
	}
	qsort(r, nr, sizeof(*r), cmp_range);
	/* Adjacent and overlapping pieces (aliases of one RAM block) become one range. */
	size_t k = 0;

	for (size_t i = 1; i < nr; i++) {
		if (r[i].start <= r[k].end) {
			if (r[i].end > r[k].end)
				r[k].end = r[i].end;
		} else {
			r[++k] = r[i];
		}
	}
	*ret = r;
	*n = k + 1;
	return NULL;
}

static struct ish_error *gdbstub_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					    size_t *n)
{
	struct gdbstub_priv *p = priv(t);
	struct ish_error *err = usable(p);
	char *text;

	if (!err)
		err = ish_rsp_monitor(p->rsp, "info mtree -f", &text, NULL);
	if (err)
		return ish_error_prefix(err, "asking QEMU's monitor for the guest's RAM");
	err = ish_gdbstub_parse_mtree(text, ret, n);
	free(text);
	return err;
}

static struct ish_error *gdbstub_stop(struct ish_target *t)
{
	return ish_rsp_stop(priv(t)->rsp);
}

static struct ish_error *gdbstub_resume(struct ish_target *t)
{
	return ish_rsp_resume(priv(t)->rsp);
}

const struct ish_backend ish_backend_gdbstub = {
	.name = "gdbstub",
	.help = "a QEMU guest through its GDB stub: gdb:HOST:PORT or gdb:unix:PATH",
	.params = gdbstub_params,
	.detect = gdbstub_detect,
	.open = gdbstub_open,
	.close = gdbstub_close,
	.read_phys = gdbstub_read_phys,
	.write_phys = gdbstub_write_phys,
	.read_reg = gdbstub_read_reg,
	.write_reg = gdbstub_write_reg,
	.stop = gdbstub_stop,
	.resume = gdbstub_resume,
	.read_config = gdbstub_read_config,
	.ram_ranges = gdbstub_ram_ranges,
	.read_phys_scatter = gdbstub_read_phys_scatter,
};

struct ish_rsp *ish_gdbstub_rsp(struct ish_target *t)
{
	return ish_target_backend(t) == &ish_backend_gdbstub ? priv(t)->rsp : NULL;
}
