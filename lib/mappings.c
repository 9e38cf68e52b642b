// SPDX-License-Identifier: MIT
/*
 * Mappings of one device (and PASID), and the reverse: who maps a host
 * physical address. Both stream through ish_walk_mappings(); nothing keeps
 * the whole list.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/walk.h>

struct ish_error *ish_mappings(struct ish_target *t, int unit, uint16_t bdf, uint32_t pasid,
			       uint64_t lo, uint64_t hi, ish_mapping_fn *fn,
			       ish_finding_fn *finding, void *arg, struct ish_translation *fault,
			       struct ish_walk_stats *stats)
{
	struct ish_translation *tr;
	struct ish_unit_state us;
	struct ish_error *err;
	unsigned u;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (unit < 0) {
		err = ish_unit_for_device(t, 0, bdf, &u);
		if (err)
			return err;
	} else {
		u = (unsigned)unit;
	}
	err = ish_unit_state_read(t, u, &us);
	if (err)
		return err;
	tr = malloc(sizeof(*tr));
	if (!tr)
		return &ish_enomem;
	err = ish_resolve_tables(t, &us, bdf, pasid, 0, tr);
	if (!err && tr->have_tables)
		err = ish_walk_mappings(t, &tr->tables, lo, hi, fn, finding, arg, stats);
	if (!err && fault)
		*fault = *tr;
	free(tr);
	return err;
}

/* --- who maps an HPA --- */

struct who {
	struct ish_target *t;
	uint64_t hpa;
	ish_who_maps_fn *fn;
	ish_finding_fn *finding;
	void *arg;
	const struct ish_xlate_tables *x;
	struct ish_translation *tr;
	const struct ish_unit_state *us;
	const struct ish_device *dev;
};

static struct ish_error *who_mapping(void *arg, const struct ish_mapping *m)
{
	struct who *w = arg;
	struct ish_who_maps r;

	if (w->hpa < m->hpa || w->hpa - m->hpa >= m->size)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.unit = w->x->unit;
	r.bdf = w->x->bdf;
	r.pasid = w->x->scalable ? w->x->pasid : ISH_PASID_NONE;
	r.iova = m->iova + (w->hpa - m->hpa);
	r.m = *m;
	return w->fn(w->arg, &r);
}

static struct ish_error *who_finding(void *arg, const struct ish_finding *f)
{
	struct who *w = arg;

	return w->finding ? w->finding(w->arg, f) : NULL;
}

static struct ish_error *who_walk(struct who *w, const struct ish_xlate_tables *x)
{
	const struct ish_xlate_tables *saved = w->x;
	struct ish_error *err;

	w->x = x;
	err = ish_walk_mappings(w->t, x, 0, ~0ULL, who_mapping, who_finding, w, NULL);
	w->x = saved;
	return err;
}

static struct ish_error *who_pasid(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	struct who *w = arg;
	struct ish_error *err;

	(void)pe;
	/*
	 * Requests without a PASID use the RID_PASID entry; with PASIDE clear
	 * that is the only way the entry is reachable, so resolve it as such.
	 */
	if (pasid == w->dev->ce.rid_pasid)
		pasid = ISH_PASID_NONE;
	else if (!w->dev->ce.paside)
		return NULL;	/* requests with a PASID are blocked: nothing reaches memory */
	err = ish_resolve_tables(w->t, w->us, w->dev->bdf, pasid, 0, w->tr);
	if (err || !w->tr->have_tables)
		return err;
	return who_walk(w, &w->tr->tables);
}

static struct ish_error *who_device(void *arg, const struct ish_device *d)
{
	struct who *w = arg;
	struct ish_unit_state us;
	struct ish_error *err;

	if (!d->scalable)
		return d->have_tables ? who_walk(w, &d->tables) : NULL;
	/* Every present PASID, RID_PASID among them. */
	err = ish_unit_state_read(w->t, d->unit, &us);
	if (err)
		return err;
	w->us = &us;
	w->dev = d;
	err = ish_device_pasids(w->t, &us, &d->ce, who_pasid, who_finding, w);
	w->us = NULL;
	w->dev = NULL;
	return err;
}

struct ish_error *ish_who_maps(struct ish_target *t, uint64_t hpa, ish_who_maps_fn *fn,
			       ish_finding_fn *finding, void *arg)
{
	struct who w = { .t = t, .hpa = hpa, .fn = fn, .finding = finding, .arg = arg };
	struct ish_error *err;

	w.tr = malloc(sizeof(*w.tr));
	if (!w.tr)
		return &ish_enomem;
	err = ish_devices(t, false, who_device, who_finding, &w);
	free(w.tr);
	return err;
}
