// SPDX-License-Identifier: MIT
/*
 * The kernel's per-device state (iommush/vtd/kernel_domains.h). Linux 6.1
 * keeps no global list of struct device_domain_info; each device reaches
 * its own through dev->iommu->priv (dev_iommu_priv_get()), so every device
 * on devices_kset (drivers/base/core.c) is visited. A domain's id on a
 * unit is in dmar_domain.iommu_array (an xarray by the unit's seq_id, of
 * struct iommu_domain_info; 6.1 stable and later) or, in older kernels,
 * the array iommu_did[seq_id]. Offsets come from BTF (6.12 moved pgd,
 * gaw and agaw into an anonymous union and flags became the bit
 * use_first_level); the only constants are DOMAIN_FLAG_USE_FIRST_LEVEL
 * (BIT(1) since 5.7) and the xarray's node encoding (lib/xarray.c: an
 * internal entry is (node | 2), 64 slots).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/kernel_domains.h>
#include <iommush/vtd/vtd.h>

#include "kernel_internal.h"

#define MAX_DEVICES 65536u
#define MAX_KSET 1048576u	/* kobjects on devices_kset visited at most */
#define DOMAIN_FLAG_USE_FIRST_LEVEL 2
#define XA_CHUNK_SHIFT 6

/* An error that only means "not there": false, and the error is dropped. */
static bool ok(struct ish_error *err)
{
	ish_error_destroy(err);
	return !err;
}

static bool xa_internal_node(uint64_t e)
{
	return (e & 3) == 2 && e > 4096;
}

/* The entry at index of the xarray at xa_va; 0 when none. */
static struct ish_error *xa_load(struct ish_kernel *k, uint64_t xa_va, uint64_t index,
				 uint64_t *ret)
{
	struct ish_kernel_member head, shift, slots;
	struct ish_error *err;
	uint64_t e;

	*ret = 0;
	err = ish_kernel_member(k, "struct xarray", "xa_head", &head);
	if (!err)
		err = ish_kernel_member(k, "struct xa_node", "shift", &shift);
	if (!err)
		err = ish_kernel_member(k, "struct xa_node", "slots", &slots);
	if (!err)
		err = ish_kernel_read_u64(k, xa_va + head.offset, &e);
	if (err)
		return err;
	if (!xa_internal_node(e)) {
		*ret = index == 0 && (e & 3) == 0 ? e : 0;
		return NULL;
	}
	for (unsigned depth = 0; depth < 12 && xa_internal_node(e); depth++) {
		uint64_t node = e - 2;
		uint8_t sh;

		err = ish_kernel_read(k, node + shift.offset, &sh, 1);
		if (err)
			return err;
		if (sh > 60 || (sh + XA_CHUNK_SHIFT < 64 && index >> (sh + XA_CHUNK_SHIFT)))
			return NULL;
		err = ish_kernel_read_u64(k, node + slots.offset +
					  8 * ((index >> sh) & ((1u << XA_CHUNK_SHIFT) - 1)), &e);
		if (err)
			return err;
		if (sh == 0)
			break;
	}
	*ret = (e & 3) == 0 ? e : 0;	/* values and sibling/retry entries are not ours */
	return NULL;
}

static struct ish_error *domain_did(struct ish_kernel *k, struct ish_kernel_vtd_device *d)
{
	struct ish_kernel_member m;
	struct ish_error *err;
	uint64_t e, v;

	if (d->seq_id < 0)
		return NULL;
	err = ish_kernel_member(k, "struct dmar_domain", "iommu_array", &m);
	if (!err) {
		err = xa_load(k, d->domain_va + m.offset, (uint64_t)d->seq_id, &e);
		if (err || !e)
			return err;
		err = ish_kernel_read_member(k, e, "struct iommu_domain_info", "iommu", &v);
		if (err || v != d->iommu_va)
			return err;
		err = ish_kernel_read_member(k, e, "struct iommu_domain_info", "did", &v);
		if (err)
			return err;
	} else {
		ish_error_destroy(err);
		/* before the xarray: u16 iommu_did[DMAR_UNITS_SUPPORTED] */
		err = ish_kernel_member(k, "struct dmar_domain", "iommu_did", &m);
		if (err)
			return ish_error_prefix(err, "the domain's id");
		if ((uint64_t)(d->seq_id + 1) * 2 > m.size)
			return NULL;
		v = 0;
		err = ish_kernel_read(k, d->domain_va + m.offset + 2 * (uint64_t)d->seq_id, &v, 2);
		if (err)
			return err;
	}
	d->did = (uint16_t)v;
	d->have_did = true;
	return NULL;
}

static struct ish_error *read_device(struct ish_kernel *k, uint64_t info, uint64_t dev,
				     const struct ish_kernel_vtd_unit *units, size_t nunits,
				     uint64_t si_domain, struct ish_kernel_vtd_device *d)
{
	static const char I[] = "struct device_domain_info", D[] = "struct dmar_domain";
	struct ish_kernel_member dm;
	struct ish_error *err;
	uint64_t seg, bus, devfn, v;

	memset(d, 0, sizeof(*d));
	d->info_va = info;
	d->dev_va = dev;
	d->seq_id = -1;
	d->pasid_dir_pa = ~0ULL;
	d->pgd_pa = ~0ULL;
	err = ish_kernel_read_member(k, info, I, "segment", &seg);
	if (!err)
		err = ish_kernel_read_member(k, info, I, "bus", &bus);
	if (!err)
		err = ish_kernel_read_member(k, info, I, "devfn", &devfn);
	if (!err)
		err = ish_kernel_read_member(k, info, I, "iommu", &d->iommu_va);
	if (!err)
		err = ish_kernel_read_member(k, info, I, "domain", &d->domain_va);
	if (!err)
		err = ish_kernel_read_member(k, info, I, "pasid_table", &d->pasid_table_va);
	if (err)
		return err;
	d->segment = (uint16_t)seg;
	d->bdf = (uint16_t)(bus << 8 | devfn);
	/* bits the kernel may not have (absent members are not an error) */
	if (ok(ish_kernel_read_member(k, info, I, "pasid_enabled", &v)))
		d->pasid_enabled = v;
	if (ok(ish_kernel_read_member(k, info, I, "ats_enabled", &v)))
		d->ats_enabled = v;
	if (ok(ish_kernel_read_member(k, info, I, "pri_enabled", &v)))
		d->pri_enabled = v;
	for (size_t i = 0; i < nunits; i++)
		if (units[i].iommu_va && units[i].iommu_va == d->iommu_va) {
			d->seq_id = units[i].seq_id;
			snprintf(d->unit, sizeof(d->unit), "%s", units[i].name);
		}
	if (d->pasid_table_va) {
		uint64_t table;

		err = ish_kernel_read_member(k, d->pasid_table_va, "struct pasid_table", "table",
					     &table);
		if (!err)
			err = ish_kernel_read_member(k, d->pasid_table_va, "struct pasid_table",
						     "max_pasid", &v);
		if (err)
			return ish_error_prefix(err, "the PASID table");
		d->max_pasid = (uint32_t)v;
		d->pasid_dir_pa = ish_kernel_pa_or_none(k, table);
	}
	if (!d->domain_va)
		return NULL;
	d->identity = si_domain && d->domain_va == si_domain;
	err = ish_kernel_read_member(k, d->domain_va, D, "pgd", &d->pgd_va);
	if (!err)
		err = ish_kernel_read_member(k, d->domain_va, D, "gaw", &v);
	if (!err) {
		d->gaw = (int)(int32_t)v;
		err = ish_kernel_read_member(k, d->domain_va, D, "agaw", &v);
	}
	if (!err) {
		d->agaw = (int)(int32_t)v;
		/* flags & DOMAIN_FLAG_USE_FIRST_LEVEL, or (6.12) the bit use_first_level */
		if (ok(ish_kernel_read_member(k, d->domain_va, D, "flags", &v))) {
			d->flags = (int)(int32_t)v;
			d->first_level = d->flags & DOMAIN_FLAG_USE_FIRST_LEVEL;
		} else {
			err = ish_kernel_read_member(k, d->domain_va, D, "use_first_level", &v);
			d->first_level = v;
		}
	}
	if (!err)
		err = ish_kernel_member(k, D, "domain", &dm);
	if (!err)
		err = ish_kernel_read_member(k, d->domain_va + dm.offset, "struct iommu_domain",
					     "type", &v);
	if (err)
		return ish_error_prefix(err, "the domain at %#" PRIx64, d->domain_va);
	d->domain_type = (unsigned)v;
	d->pgd_pa = ish_kernel_pa_or_none(k, d->pgd_va);
	return domain_did(k, d);
}

struct ish_error *ish_kernel_vtd_devices(struct ish_kernel *k, struct ish_kernel_vtd_device **ret,
					 size_t *n)
{
	struct ish_kernel_member kset_list, kobj_entry, dev_kobj, dev_iommu, priv, info_dev;
	struct ish_kernel_vtd_unit *units = NULL;
	struct ish_kernel_vtd_device *out = NULL;
	size_t nunits = 0, cnt = 0, cap = 0;
	uint64_t sym, kset, head, pos, si = 0, v;
	struct ish_error *err;

	*ret = NULL;
	*n = 0;
	err = ish_kernel_vtd_units(k, &units, &nunits);
	if (err)
		return err;
	err = ish_kernel_symbol(k, "devices_kset", &sym);
	if (!err)
		err = ish_kernel_read_u64(k, sym, &kset);
	if (!err)
		err = ish_kernel_member(k, "struct kset", "list", &kset_list);
	if (!err)
		err = ish_kernel_member(k, "struct kobject", "entry", &kobj_entry);
	if (!err)
		err = ish_kernel_member(k, "struct device", "kobj", &dev_kobj);
	if (!err)
		err = ish_kernel_member(k, "struct device", "iommu", &dev_iommu);
	if (!err)
		err = ish_kernel_member(k, "struct dev_iommu", "priv", &priv);
	if (!err)
		err = ish_kernel_member(k, "struct device_domain_info", "dev", &info_dev);
	if (err) {
		free(units);
		return ish_error_prefix(err, "the kernel's devices");
	}
	/* static in the driver; a kernel without it has no identity domain */
	if (ok(ish_kernel_symbol(k, "si_domain", &sym)) && !ok(ish_kernel_read_u64(k, sym, &si)))
		si = 0;
	head = kset + kset_list.offset;
	err = ish_kernel_read_u64(k, head, &pos);	/* list_head.next is at 0 */
	for (size_t steps = 0; !err && pos != head; steps++) {
		uint64_t dev = pos - kobj_entry.offset - dev_kobj.offset, di, info;

		if (steps == MAX_KSET) {
			err = ish_error_format(ISH_ERROR_LIMIT,
					       "devices_kset: more than %u entries (a cycle?)", MAX_KSET);
			break;
		}
		if ((err = ish_target_check_interrupt(k->t)))
			break;
		err = ish_kernel_read_u64(k, dev + dev_iommu.offset, &di);
		if (!err && di)
			err = ish_kernel_read_u64(k, di + priv.offset, &info);
		else
			info = 0;
		/* priv is the driver's: intel-iommu's points back at the device */
		if (!err && info && ok(ish_kernel_read_u64(k, info + info_dev.offset, &v)) &&
		    v == dev) {
			if (cnt == MAX_DEVICES) {
				err = ish_error_format(ISH_ERROR_LIMIT, "more than %u devices",
						       MAX_DEVICES);
				break;
			}
			if (cnt == cap) {
				size_t nc = cap ? 2 * cap : 64;
				struct ish_kernel_vtd_device *o = realloc(out, nc * sizeof(*o));

				if (!o) {
					err = &ish_enomem;
					break;
				}
				out = o;
				cap = nc;
			}
			err = read_device(k, info, dev, units, nunits, si, &out[cnt]);
			if (err)
				err = ish_error_prefix(err, "device_domain_info at %#" PRIx64, info);
			else
				cnt++;
		}
		if (!err)
			err = ish_kernel_read_u64(k, pos, &pos);
	}
	free(units);
	if (err) {
		free(out);
		return err;
	}
	*ret = out;
	*n = cnt;
	return NULL;
}

const char *ish_view_diff_name(enum ish_view_diff d)
{
	static const char *const names[] = {
		[ISH_VIEW_DETACHED] = "detached",	[ISH_VIEW_NO_KERNEL] = "no-kernel-device",
		[ISH_VIEW_NOT_PRESENT] = "not-present", [ISH_VIEW_DID] = "did",
		[ISH_VIEW_ROOT] = "root",		[ISH_VIEW_LEVELS] = "levels",
		[ISH_VIEW_MODE] = "mode",		[ISH_VIEW_PASID_DIR] = "pasid-dir",
	};

	return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "??";
}

struct collect {
	struct ish_device *hw;
	size_t n, cap;
};

static struct ish_error *collect_hw(void *arg, const struct ish_device *d)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 64;
		struct ish_device *o = realloc(c->hw, nc * sizeof(*o));

		if (!o)
			return &ish_enomem;
		c->hw = o;
		c->cap = nc;
	}
	c->hw[c->n++] = *d;
	return NULL;
}

static struct ish_error *ignore_finding(void *arg, const struct ish_finding *f)
{
	return NULL;
}

static void diff(struct ish_vtd_view *v, enum ish_view_diff kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void diff(struct ish_vtd_view *v, enum ish_view_diff kind, const char *fmt, ...)
{
	va_list ap;

	if (v->ndiffs == ISH_VIEW_MAX_DIFFS)
		return;
	v->diffs[v->ndiffs].kind = kind;
	va_start(ap, fmt);
	vsnprintf(v->diffs[v->ndiffs].message, sizeof(v->diffs[0].message), fmt, ap);
	va_end(ap);
	v->ndiffs++;
}

static void compare_one(struct ish_vtd_view *v)
{
	const struct ish_kernel_vtd_device *k = &v->k;
	const struct ish_device *h = &v->hw;
	const struct ish_xlate_tables *tb = &h->tables;

	if (!v->in_kernel) {
		diff(v, ISH_VIEW_NO_KERNEL, "a context entry (DID %u) for a device the kernel does "
		     "not hold (a DMA alias, or a leftover)", h->ce.did);
		return;
	}
	if (!k->domain_va) {
		if (v->in_hw)
			diff(v, ISH_VIEW_DETACHED, "the kernel has detached it (no domain) but its "
			     "context entry is present (DID %u)", h->ce.did);
		return;
	}
	if (!v->in_hw || !h->have_tables) {
		diff(v, ISH_VIEW_NOT_PRESENT, "the kernel attached domain %#" PRIx64 "%s but the "
		     "%s is not usable", k->domain_va, k->identity ? " (identity)" : "",
		     v->in_hw ? "RID_PASID entry" : "context entry");
		return;
	}
	if (k->have_did && k->did != tb->did)
		diff(v, ISH_VIEW_DID, "the kernel's domain id is %u, the %s's %u", k->did,
		     h->scalable ? "RID_PASID entry" : "context entry", tb->did);
	if (k->identity != (tb->mode == ISH_XLATE_PT)) {
		diff(v, ISH_VIEW_MODE, "the kernel's domain is %s, the entry %s",
		     k->identity ? "the identity domain" : "a translated one",
		     tb->mode == ISH_XLATE_PT ? "passes through" : "translates");
		return;
	}
	if (tb->mode == ISH_XLATE_PT)
		return;
	/* identity domains in software (no pass-through) still have a pgd */
	{
		bool fl = tb->mode == ISH_XLATE_FL;
		uint64_t root = fl ? tb->fl_root : tb->sl_root;
		unsigned levels = fl ? tb->fl_levels : tb->sl_levels;

		if (k->pgd_pa != root)
			diff(v, ISH_VIEW_ROOT, "the kernel's page-table root (pgd) is at %#" PRIx64
			     ", the entry's at %#" PRIx64, k->pgd_pa, root);
		if ((unsigned)(k->agaw + 2) != levels)
			diff(v, ISH_VIEW_LEVELS, "the kernel's domain has %d levels (agaw %d), the "
			     "entry %u", k->agaw + 2, k->agaw, levels);
		if (k->first_level != fl)
			diff(v, ISH_VIEW_MODE, "the kernel's domain is %s-level, the entry %s",
			     k->first_level ? "first" : "second", fl ? "first-level" : "second-level");
	}
	if (h->scalable && k->pasid_dir_pa != ~0ULL && h->ce.pasiddirptr != k->pasid_dir_pa)
		diff(v, ISH_VIEW_PASID_DIR, "the kernel's PASID directory is at %#" PRIx64
		     ", the context entry's at %#" PRIx64, k->pasid_dir_pa, h->ce.pasiddirptr);
}

static int view_cmp(const void *a, const void *b)
{
	const struct ish_vtd_view *x = a, *y = b;

	if (x->segment != y->segment)
		return x->segment < y->segment ? -1 : 1;
	return x->bdf < y->bdf ? -1 : x->bdf > y->bdf;
}

struct ish_error *ish_kernel_vtd_compare(struct ish_target *t, struct ish_kernel *k,
					 struct ish_vtd_view **ret, size_t *n)
{
	struct ish_kernel_vtd_device *kd = NULL;
	struct collect c = { 0 };
	struct ish_vtd_view *v;
	struct ish_error *err;
	size_t nk = 0, nv = 0;

	*ret = NULL;
	*n = 0;
	err = ish_kernel_vtd_devices(k, &kd, &nk);
	if (err)
		return err;
	err = ish_devices(t, false, collect_hw, ignore_finding, &c);
	if (err) {
		free(kd);
		free(c.hw);
		return ish_error_prefix(err, "the context entries");
	}
	v = calloc(nk + c.n ? nk + c.n : 1, sizeof(*v));
	if (!v) {
		free(kd);
		free(c.hw);
		return &ish_enomem;
	}
	for (size_t i = 0; i < nk; i++) {
		v[nv].segment = kd[i].segment;
		v[nv].bdf = kd[i].bdf;
		v[nv].in_kernel = true;
		v[nv].k = kd[i];
		nv++;
	}
	for (size_t i = 0; i < c.n; i++) {
		size_t j;

		for (j = 0; j < nk; j++)
			if (v[j].segment == c.hw[i].segment && v[j].bdf == c.hw[i].bdf && !v[j].in_hw)
				break;
		if (j == nk)
			j = nv++;
		v[j].segment = c.hw[i].segment;
		v[j].bdf = c.hw[i].bdf;
		v[j].in_hw = true;
		v[j].hw = c.hw[i];
	}
	for (size_t i = 0; i < nv; i++)
		compare_one(&v[i]);
	qsort(v, nv, sizeof(*v), view_cmp);
	free(kd);
	free(c.hw);
	*ret = v;
	*n = nv;
	return NULL;
}
