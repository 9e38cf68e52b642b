// SPDX-License-Identifier: MIT
/*
 * Device enumeration: every present context entry of every unit (VT-d 5.0
 * 3.4.2 legacy, 3.4.3 scalable), and every present PASID entry of a
 * scalable-mode device (3.4.3, 9.5, 9.6). Tables are read a page at a time.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static struct ish_error *finding(ish_finding_fn *fn, void *arg, enum ish_finding_kind kind,
				 enum ish_step_kind where, unsigned unit, uint16_t bdf,
				 uint32_t pasid, uint64_t table, unsigned index, uint64_t addr,
				 uint64_t raw, uint64_t bits, const char *text)
{
	struct ish_finding f = {
		.kind = kind, .where = where, .table = table, .index = index, .addr = addr,
		.raw = raw, .bits = bits, .unit = unit, .bdf = bdf, .pasid = pasid, .text = text,
	};

	return fn ? fn(arg, &f) : NULL;
}

/* Reads one page; an unreadable page is reported (as OUTSIDE) and *bad set. */
static struct ish_error *read_page(struct ish_target *t, uint64_t addr, uint8_t *buf,
				   ish_finding_fn *fn, void *arg, enum ish_step_kind where,
				   unsigned unit, uint16_t bdf, uint32_t pasid, bool *bad)
{
	struct ish_error *err = ish_read_phys(t, addr, buf, VTD_PAGE_SIZE);
	char why[256];

	*bad = false;
	if (!err)
		return NULL;
	if (err->code != ISH_ERROR_FAULT)
		return err;
	snprintf(why, sizeof(why), "table page is not readable: %s", err->message);
	ish_error_destroy(err);
	*bad = true;
	return finding(fn, arg, ISH_FINDING_OUTSIDE, where, unit, bdf, pasid, addr, 0, addr, 0, 0,
		       why);
}

struct ish_error *ish_device_pasids(struct ish_target *t, const struct ish_unit_state *us,
				    const struct ish_context_entry *ce, ish_pasid_fn *fn,
				    ish_finding_fn *ffn, void *arg)
{
	uint32_t ndir = ish_pasid_dir_entries(ce);
	uint64_t max_pages, pages = 0;
	struct ish_error *err;
	uint8_t *dir, *tbl;

	if (!ce->scalable || !ce->present)
		return NULL;
	err = ish_target_param_u64(t, "walk.max_pages", 1048576, &max_pages);
	if (err)
		return err;
	dir = malloc(2 * VTD_PAGE_SIZE);
	if (!dir)
		return &ish_enomem;
	tbl = dir + VTD_PAGE_SIZE;
	/* The directory holds 2^(PDTS+7) 8-byte entries: up to 32 pages. */
	for (uint32_t d0 = 0; d0 < ndir && !err; d0 += 512) {
		uint64_t dpage = ce->pasiddirptr + (uint64_t)d0 * 8;
		bool bad;

		if (++pages > max_pages) {
			err = ish_error_format(ISH_ERROR_LIMIT, "more than %llu table pages",
					       (unsigned long long)max_pages);
			break;
		}
		err = ish_target_check_interrupt(t);
		if (!err)
			err = read_page(t, dpage, dir, ffn, arg, ISH_STEP_PASID_DIR, us->unit, 0,
					d0 << 6, &bad);
		if (err || bad)
			continue;
		for (uint32_t d = d0; d < ndir && d < d0 + 512 && !err; d++) {
			struct ish_pasid_dir_entry pde;

			ish_decode_pasid_dir_entry(get64(dir + (d - d0) * 8), us->mgaw, &pde);
			if (!pde.present)
				continue;
			if (pde.problems.n) {
				err = finding(ffn, arg, ISH_FINDING_RESERVED, ISH_STEP_PASID_DIR,
					      us->unit, 0, d << 6, dpage, d - d0,
					      dpage + (d - d0) * 8, pde.raw, pde.problems.p[0].bits,
					      pde.problems.p[0].what);
				continue;
			}
			if (++pages > max_pages) {
				err = ish_error_format(ISH_ERROR_LIMIT, "more than %llu table pages",
						       (unsigned long long)max_pages);
				break;
			}
			err = ish_target_check_interrupt(t);
			if (!err)
				err = read_page(t, pde.smptblptr, tbl, ffn, arg, ISH_STEP_PASID,
						us->unit, 0, d << 6, &bad);
			if (err || bad)
				continue;
			for (unsigned i = 0; i < 64 && !err; i++) {
				struct ish_pasid_entry pe;
				uint64_t raw[8];

				for (unsigned q = 0; q < 8; q++)
					raw[q] = get64(tbl + i * 64 + q * 8);
				if (!(raw[0] & 1))
					continue;
				ish_decode_pasid_entry(raw, us->mgaw, &pe);
				err = fn(arg, (d << 6) | i, &pe);
			}
		}
	}
	free(dir);
	return err;
}

struct count_arg {
	uint32_t n;
};

static struct ish_error *count_one(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	(void)pasid;
	(void)pe;
	((struct count_arg *)arg)->n++;
	return NULL;
}

static struct ish_error *one_device(struct ish_target *t, const struct ish_unit_state *us,
				    uint16_t bdf, const uint64_t *raw, bool count_pasids,
				    ish_device_fn *fn, ish_finding_fn *ffn, void *arg,
				    struct ish_translation *tr)
{
	struct ish_device d;
	struct ish_error *err;

	memset(&d, 0, sizeof(d));
	d.unit = us->unit;
	d.segment = ish_target_unit(t, us->unit)->segment;
	d.bdf = bdf;
	d.scalable = us->scalable;
	ish_decode_context_entry(raw, us->scalable, us->mgaw, &d.ce);
	if (!d.ce.present)
		return NULL;
	err = ish_resolve_tables(t, us, bdf, ISH_PASID_NONE, 0, tr);
	if (err)
		return err;
	d.have_tables = tr->have_tables;
	d.tables = tr->tables;
	d.have_rid_pasid_entry = tr->have_pe;
	if (tr->have_pe)
		d.pe = tr->pe;
	if (count_pasids && us->scalable) {
		struct count_arg c = { 0 };

		/* Findings in PASID tables belong to `pasid`, not to a count. */
		err = ish_device_pasids(t, us, &d.ce, count_one, NULL, &c);
		if (err)
			return err;
		d.npasids = c.n;
	}
	return fn(arg, &d);
}

struct ish_error *ish_devices(struct ish_target *t, bool count_pasids, ish_device_fn *fn,
			      ish_finding_fn *ffn, void *arg)
{
	struct ish_translation *tr = malloc(sizeof(*tr));
	uint8_t *root = malloc(2 * VTD_PAGE_SIZE);
	struct ish_error *err = NULL;

	if (!tr || !root) {
		free(tr);
		free(root);
		return &ish_enomem;
	}
	for (unsigned u = 0; u < ish_target_nunits(t) && !err; u++) {
		uint8_t *ctx = root + VTD_PAGE_SIZE;
		struct ish_unit_state us;
		bool bad;

		err = ish_unit_state_read(t, u, &us);
		if (err)
			break;
		if (us.ttm != ISH_TTM_LEGACY && us.ttm != ISH_TTM_SCALABLE)
			continue;
		err = read_page(t, us.rta, root, ffn, arg, ISH_STEP_ROOT, u, 0, ISH_PASID_NONE,
				&bad);
		if (err || bad)
			continue;
		for (unsigned bus = 0; bus < 256 && !err; bus++) {
			uint64_t rraw[2] = { get64(root + bus * 16), get64(root + bus * 16 + 8) };
			struct ish_root_entry re;

			ish_decode_root_entry(rraw, us.scalable, us.mgaw, &re);
			for (unsigned half = 0; half < (us.scalable ? 2u : 1u) && !err; half++) {
				unsigned base = half * 128, n = us.scalable ? 128 : 256;
				uint64_t ctp;

				if (!ish_root_entry_ctp(&re, base, &ctp))
					continue;
				if (re.problems.n) {
					bool hit = false;

					for (unsigned i = 0; i < re.problems.n; i++)
						hit = hit || !us.scalable || re.problems.p[i].qword == half;
					if (hit) {
						err = finding(ffn, arg, ISH_FINDING_RESERVED, ISH_STEP_ROOT,
							      u, ISH_BDF(bus, 0, 0) | base,
							      ISH_PASID_NONE, us.rta, bus,
							      us.rta + bus * 16, rraw[half],
							      re.problems.p[0].bits,
							      re.problems.p[0].what);
						continue;
					}
				}
				err = ish_target_check_interrupt(t);
				if (!err)
					err = read_page(t, ctp, ctx, ffn, arg, ISH_STEP_CONTEXT, u,
							ISH_BDF(bus, 0, 0) | base, ISH_PASID_NONE,
							&bad);
				if (err || bad)
					continue;
				for (unsigned i = 0; i < n && !err; i++) {
					unsigned esz = us.scalable ? 32 : 16;
					uint64_t craw[4] = { 0 };

					for (unsigned q = 0; q < esz / 8; q++)
						craw[q] = get64(ctx + i * esz + q * 8);
					if (!(craw[0] & 1))
						continue;
					err = one_device(t, &us, (uint16_t)(bus << 8 | (base + i)),
							 craw, count_pasids, fn, ffn, arg, tr);
				}
			}
		}
	}
	free(tr);
	free(root);
	return err;
}
