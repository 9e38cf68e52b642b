// SPDX-License-Identifier: MIT
/*
 * Snapshot capture: traverse everything once with the target recording the
 * pages it reads, then write those pages, the registers and the DMAR table.
 * Recording the reads, rather than listing table pages by hand, keeps the
 * snapshot honest: whatever a command reads on the live target was captured.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/arch.h>
#include <iommush/capture.h>
#include <iommush/vtd/iq.h>
#include <iommush/vtd/irte.h>
#include <iommush/pci.h>
#include <iommush/regfile.h>
#include <iommush/regs.h>
#include <iommush/snapshot.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

struct capture {
	struct ish_target *t;
	struct ish_snapshot_pcicfg *cfg;	/* config space of the devices met */
	size_t ncfg;
	struct ish_capture_stats st;
	struct ish_regfile *rf;		/* the unit being read */
	struct ish_unit_state us;	/* the unit of the device being walked */
	const struct ish_device *dev;
};

static struct ish_error *on_reg(void *arg, const struct ish_reg_value *v)
{
	struct capture *c = arg;

	if (v->err)
		return NULL;	/* not readable here: not captured */
	c->st.registers++;
	return ish_regfile_set(c->rf, v->offset, v->def->width, v->value);
}

static struct ish_error *on_finding(void *arg, const struct ish_finding *f)
{
	struct capture *c = arg;

	(void)f;
	c->st.findings++;
	return NULL;
}

static struct ish_error *on_mapping(void *arg, const struct ish_mapping *m)
{
	struct capture *c = arg;

	(void)m;
	c->st.mappings++;
	return ish_target_check_interrupt(c->t);
}

/* A walk that ends in a fault or a finding is part of the picture, not a failure. */
static bool fatal(const struct ish_error *err)
{
	return err && (err->code == ISH_ERROR_NOMEM || err->code == ISH_ERROR_INTERRUPTED ||
		       err->code == ISH_ERROR_LIMIT || err->code == ISH_ERROR_PROTOCOL ||
		       err->code == ISH_ERROR_TIMEOUT || err->code == ISH_ERROR_OS);
}

static struct ish_error *walk_one(struct capture *c, unsigned unit, uint16_t bdf, uint32_t pasid)
{
	struct ish_error *err = ish_mappings(c->t, (int)unit, bdf, pasid, 0, ~0ULL, on_mapping,
					     on_finding, c, NULL, NULL);

	if (fatal(err))
		return err;
	if (err)
		c->st.findings++;
	ish_error_destroy(err);
	return NULL;
}

static struct ish_error *on_pasid(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	struct capture *c = arg;

	(void)pe;
	c->st.pasids++;
	return walk_one(c, c->dev->unit, c->dev->bdf, pasid);
}

/* The standard header of a device's config space, where the target can read it. */
static struct ish_error *capture_config(struct capture *c, uint16_t segment, uint16_t bdf)
{
	enum { LEN = 256 };
	struct ish_snapshot_pcicfg *cfg;
	uint8_t *bytes;
	uint32_t v, off;
	struct ish_error *err = ish_read_config(c->t, segment, bdf, 0, 32, &v);

	if (err || (v & 0xffff) == 0xffff) {
		bool stop = fatal(err);

		if (!stop)
			ish_error_destroy(err);
		return stop ? err : NULL;
	}
	bytes = malloc(LEN);
	cfg = realloc(c->cfg, (c->ncfg + 1) * sizeof(*cfg));
	if (!bytes || !cfg) {
		free(bytes);
		if (cfg)
			c->cfg = cfg;
		return &ish_enomem;
	}
	c->cfg = cfg;
	for (off = 0; off < LEN; off += 4) {
		err = off ? ish_read_config(c->t, segment, bdf, off, 32, &v) : NULL;
		if (err) {
			if (fatal(err)) {
				free(bytes);
				return err;
			}
			/* Keep what was readable: sysfs gives non-root users 64 bytes. */
			ish_error_destroy(err);
			break;
		}
		for (int b = 0; b < 4; b++)
			bytes[off + b] = (uint8_t)(v >> (8 * b));
	}
	cfg[c->ncfg++] = (struct ish_snapshot_pcicfg){ segment, bdf, off, bytes };
	return NULL;
}

static struct ish_error *on_device(void *arg, const struct ish_device *d)
{
	struct capture *c = arg;
	struct ish_error *err;

	c->st.devices++;
	err = capture_config(c, d->segment, d->bdf);
	if (err)
		return err;
	err = walk_one(c, d->unit, d->bdf, ISH_PASID_NONE);
	if (err || !d->scalable)
		return err;
	err = ish_unit_state_read(c->t, d->unit, &c->us);
	if (err)
		return fatal(err) ? err : (ish_error_destroy(err), NULL);
	c->dev = d;
	err = ish_device_pasids(c->t, &c->us, &d->ce, on_pasid, on_finding, c);
	if (fatal(err))
		return err;
	ish_error_destroy(err);
	return NULL;
}

/* Reads [base, base + size) page by page; unreadable pages are skipped. */
static struct ish_error *read_region(struct capture *c, uint64_t base, uint64_t size)
{
	static uint8_t page[VTD_PAGE_SIZE];

	for (uint64_t off = 0; off < size; off += VTD_PAGE_SIZE) {
		uint64_t n = size - off < VTD_PAGE_SIZE ? size - off : VTD_PAGE_SIZE;
		struct ish_error *err = ish_read_phys(c->t, base + off, page, (size_t)n);

		if (fatal(err))
			return err;
		ish_error_destroy(err);
		err = ish_target_check_interrupt(c->t);
		if (err)
			return err;
		if (base + off + VTD_PAGE_SIZE < base)
			break;
	}
	return NULL;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * The interrupt-remapping table page by page, and the posted descriptors its
 * present entries name. Entries are decoded from the page just read: a page
 * that cannot be read costs one failed read, not one per entry (a hostile
 * IRTA of 65,536 entries outside memory would otherwise mean 65,536 more).
 */
static struct ish_error *capture_irt(struct capture *c, unsigned unit)
{
	static uint8_t page[VTD_PAGE_SIZE];
	struct ish_ir_state ir;
	struct ish_error *err = ish_ir_state_read(c->t, unit, &ir);
	uint64_t size;

	if (err || !ir.irta.addr) {
		if (fatal(err))
			return err;
		ish_error_destroy(err);
		return NULL;
	}
	size = (uint64_t)ir.irta.entries * ISH_IRTE_SIZE;
	for (uint64_t off = 0; off < size; off += VTD_PAGE_SIZE) {
		size_t n = size - off < VTD_PAGE_SIZE ? (size_t)(size - off) : VTD_PAGE_SIZE;

		err = ish_read_phys(c->t, ir.irta.addr + off, page, n);
		if (!err)
			err = ish_target_check_interrupt(c->t);
		if (fatal(err))
			return err;
		if (err) {
			ish_error_destroy(err);
			continue;
		}
		for (size_t i = 0; i + ISH_IRTE_SIZE <= n; i += ISH_IRTE_SIZE) {
			struct ish_irte e;
			struct ish_pid pid;

			ish_irte_decode(le64(page + i), le64(page + i + 8), ir.irta.eime,
					ISH_CAP_PI(ir.cap), &e);
			if (!e.present || !e.posted)
				continue;
			err = ish_pid_read(c->t, e.pda, ir.irta.eime, &pid);
			if (fatal(err))
				return err;
			ish_error_destroy(err);
		}
	}
	return NULL;
}

static struct ish_error *capture_iq(struct capture *c, unsigned unit)
{
	struct ish_iq_state q;
	struct ish_error *err = ish_iq_state_read(c->t, unit, &q);

	if (err || !q.base) {
		if (fatal(err))
			return err;
		ish_error_destroy(err);
		return NULL;
	}
	return read_region(c, q.base, q.size);
}

/*
 * Every other PCI function (bridges above all), so that a snapshot lists
 * what the target did (`pci`) and resolves DMAR scope paths through its
 * bridges. A target without config space just has none.
 */
static struct ish_error *capture_functions(struct capture *c)
{
	struct ish_error *err;
	struct ish_pci *p;

	err = ish_pci_enumerate(c->t, &p);
	if (err) {
		if (fatal(err))
			return err;
		ish_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i < p->n && !err; i++) {
		bool have = false;

		for (size_t j = 0; j < c->ncfg && !have; j++)
			have = c->cfg[j].segment == p->funcs[i].segment &&
			       c->cfg[j].bdf == p->funcs[i].bdf;
		if (!have)
			err = capture_config(c, p->funcs[i].segment, p->funcs[i].bdf);
	}
	ish_pci_destroy(p);
	return err;
}

static struct ish_error *traverse(struct capture *c, struct ish_snapshot_unit *units)
{
	unsigned n = ish_target_nunits(c->t);
	struct ish_error *err;

	for (unsigned u = 0; u < n; u++) {
		units[u].unit = *ish_target_unit(c->t, u);
		err = ish_regfile_create((struct ish_regfile **)&units[u].regs);
		if (err)
			return err;
		c->rf = (struct ish_regfile *)units[u].regs;
		err = ish_unit_regs(c->t, u, 0, on_reg, c);
		if (fatal(err))
			return err;
		ish_error_destroy(err);
		c->st.units++;
	}
	err = ish_devices(c->t, false, on_device, on_finding, c);
	if (fatal(err))
		return err;
	ish_error_destroy(err);
	err = capture_functions(c);
	if (err)
		return err;
	for (unsigned u = 0; u < n; u++) {
		err = capture_irt(c, u);
		if (!err)
			err = capture_iq(c, u);
		if (err)
			return err;
	}
	return NULL;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[VTD_PAGE_SIZE];

	return !memcmp(p, zero, VTD_PAGE_SIZE);
}

struct ish_error *ish_snapshot_capture(struct ish_target *t, const char *path,
				       struct ish_capture_stats *stats)
{
	struct capture c = { .t = t };
	unsigned nunits = ish_target_nunits(t);
	struct ish_snapshot_unit *units = calloc(nunits ? nunits : 1, sizeof(*units));
	struct ish_snapshot_range *ranges = NULL;
	struct ish_snapshot snap = { 0 };
	struct ish_snapshot_acpi fw = { 0 };
	uint64_t *pages = NULL;
	uint8_t *bytes = NULL;
	size_t npages = 0;
	struct ish_error *err;

	if (!units)
		return &ish_enomem;
	err = ish_target_record_start(t);
	if (!err)
		err = traverse(&c, units);
	{
		struct ish_error *e2 = ish_target_record_stop(t, &pages, &npages);

		if (!err)
			err = e2;
		else
			ish_error_destroy(e2);
	}
	if (err)
		goto out;
	ranges = calloc(npages ? npages : 1, sizeof(*ranges));
	bytes = malloc(npages ? npages * VTD_PAGE_SIZE : 1);
	if (!ranges || !bytes) {
		err = &ish_enomem;
		goto out;
	}
	for (size_t i = 0; i < npages; i++) {
		/* Served from the cache on slow backends: each page was just read. */
		err = ish_read_phys(t, pages[i], bytes + i * VTD_PAGE_SIZE, VTD_PAGE_SIZE);
		if (err)
			goto out;
		ranges[i].addr = pages[i];
		ranges[i].len = VTD_PAGE_SIZE;
		ranges[i].bytes = page_is_zero(bytes + i * VTD_PAGE_SIZE) ? NULL : bytes + i * VTD_PAGE_SIZE;
	}
	snap.ranges = ranges;
	snap.nranges = npages;
	snap.units = units;
	snap.nunits = nunits;
	snap.dmar = ish_target_dmar(t, &snap.dmar_len);
	snap.arch = ish_target_arch(t)->name;
	/* A firmware table other than DMAR (later architectures') goes in the generic note. */
	if (snap.dmar && (snap.dmar_len < 4 || memcmp(snap.dmar, "DMAR", 4))) {
		fw.bytes = snap.dmar;
		fw.len = snap.dmar_len;
		memcpy(fw.signature, snap.dmar, snap.dmar_len < 4 ? snap.dmar_len : 4);
		snap.dmar = NULL;
		snap.dmar_len = 0;
		if (fw.len >= 4) {
			snap.acpi = &fw;
			snap.nacpi = 1;
		}
	}
	snap.pcicfg = c.cfg;
	snap.npcicfg = c.ncfg;
	err = ish_snapshot_write_elf(path, &snap);
	c.st.pages = npages;
	if (stats)
		*stats = c.st;
out:
	for (unsigned u = 0; u < nunits; u++)
		ish_regfile_destroy((struct ish_regfile *)units[u].regs);
	for (size_t i = 0; i < c.ncfg; i++)
		free((uint8_t *)c.cfg[i].bytes);
	free(c.cfg);
	free(units);
	free(ranges);
	free(bytes);
	free(pages);
	return err;
}
