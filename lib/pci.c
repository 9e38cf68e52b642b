// SPDX-License-Identifier: MIT
/*
 * PCI enumeration and DMAR device-scope resolution (VT-d 5.0 8.3.1). The
 * contracts, and the bounds against hostile config space, are in pci.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/pci.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#define BDF_FMT "%02x:%02x.%u"
#define BDF_ARGS(bdf) ISH_BDF_BUS(bdf), ISH_BDF_DEV(bdf), ISH_BDF_FN(bdf)

/*
 * Errors after which nothing else is worth trying: the user, the peer or
 * memory gave up. Everything else is about one function or one read.
 */
static bool fatal(const struct ish_error *err)
{
	return err == &ish_enomem || err->code == ISH_ERROR_NOMEM ||
	       err->code == ISH_ERROR_INTERRUPTED || err->code == ISH_ERROR_TIMEOUT ||
	       err->code == ISH_ERROR_PROTOCOL;
}

/* --- enumeration --- */

struct pci_build {
	struct ish_target *t;
	struct ish_pci *p;
	size_t cap, fcap;
};

static struct ish_error *add_finding(struct pci_build *b, uint16_t segment, uint16_t bdf,
				     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct ish_error *add_finding(struct pci_build *b, uint16_t segment, uint16_t bdf,
				     const char *fmt, ...)
{
	struct ish_pci *p = b->p;
	va_list ap;
	char *msg;
	int r;

	if (p->nfindings == b->fcap) {
		size_t ncap = b->fcap ? 2 * b->fcap : 8;
		void *n = realloc(p->findings, ncap * sizeof(*p->findings));

		if (!n)
			return &ish_enomem;
		p->findings = n;
		b->fcap = ncap;
	}
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return &ish_enomem;
	p->findings[p->nfindings++] = (struct ish_pci_finding){ segment, bdf, msg };
	return NULL;
}

static struct ish_error *add_func(struct pci_build *b, struct ish_pci_func **ret)
{
	struct ish_pci *p = b->p;

	if (p->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 32;
		void *n = realloc(p->funcs, ncap * sizeof(*p->funcs));

		if (!n)
			return &ish_enomem;
		p->funcs = n;
		b->cap = ncap;
	}
	*ret = &p->funcs[p->n++];
	memset(*ret, 0, sizeof(**ret));
	return NULL;
}

/*
 * One config dword. *ok false: not readable (the error's text is kept as a
 * finding when what is not NULL); a fatal error is returned.
 */
static struct ish_error *cfg32(struct pci_build *b, uint16_t seg, uint16_t bdf, uint32_t off,
			       const char *what, uint32_t *v, bool *ok)
{
	struct ish_error *err = ish_read_config(b->t, seg, bdf, off, 32, v);

	b->p->config_reads++;
	*ok = !err;
	if (!err)
		return NULL;
	/* Only "nothing there" is not an error; a target without config space is. */
	if (err->code != ISH_ERROR_NOT_FOUND && err->code != ISH_ERROR_FAULT)
		return err;
	if (what) {
		struct ish_error *e = add_finding(b, seg, bdf, BDF_FMT ": %s not readable: %s",
						  BDF_ARGS(bdf), what, err->message);

		ish_error_destroy(err);
		return e;
	}
	ish_error_destroy(err);
	return NULL;
}

/* Header type, and bus numbers of a bridge, of a function already added. */
static struct ish_error *read_header(struct pci_build *b, struct ish_pci_func *f)
{
	struct ish_error *err;
	uint32_t v;
	bool ok;

	err = cfg32(b, f->segment, f->bdf, PCI_HEADER_TYPE & ~3u, "header type", &v, &ok);
	if (err || !ok)
		return err;
	f->have_header = true;
	f->header_type = (uint8_t)(v >> 16);
	f->bridge = (f->header_type & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE;
	if (!f->bridge)
		return NULL;
	err = cfg32(b, f->segment, f->bdf, PCI_PRIMARY_BUS, "bridge bus numbers", &v, &ok);
	if (err || !ok) {
		/* The function is listed; its hierarchy is unknown. */
		f->bridge = err ? f->bridge : false;
		return err;
	}
	f->primary = (uint8_t)v;
	f->secondary = (uint8_t)(v >> 8);
	f->subordinate = (uint8_t)(v >> 16);
	return NULL;
}

/* Is a function at bdf? Adds it and returns it through *ret (NULL if absent). */
static struct ish_error *probe(struct pci_build *b, uint16_t seg, uint16_t bdf,
			       struct ish_pci_func **ret)
{
	struct ish_pci_func *f;
	struct ish_error *err;
	uint32_t id, cls;
	bool ok;

	*ret = NULL;
	err = cfg32(b, seg, bdf, PCI_VENDOR_ID, NULL, &id, &ok);
	if (err || !ok)
		return err;
	/* All ones: nothing answered; zeros: unmapped ECAM read through a stub. */
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return NULL;
	err = add_func(b, &f);
	if (err)
		return err;
	f->segment = seg;
	f->bdf = bdf;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	err = cfg32(b, seg, bdf, PCI_CLASS_REVISION, "class code", &cls, &ok);
	if (err)
		return err;
	if (ok)
		f->class = cls >> 8;
	err = read_header(b, f);
	if (!err)
		*ret = f;
	return err;
}

struct bus_queue {
	bool queued[256];
	uint8_t q[256];
	unsigned head, tail;
};

static bool enqueue(struct bus_queue *q, unsigned bus)
{
	if (q->queued[bus])
		return false;
	q->queued[bus] = true;
	q->q[q->tail++] = (uint8_t)bus;
	return true;
}

/* A bridge's secondary bus joins the scan unless config space is lying. */
static struct ish_error *follow(struct pci_build *b, struct bus_queue *q,
				const struct ish_pci_func *f)
{
	unsigned bus = ISH_BDF_BUS(f->bdf);

	if (!f->secondary && !f->subordinate)
		return NULL;	/* not configured by firmware: nothing behind it yet */
	if (f->secondary <= bus)
		return add_finding(b, f->segment, f->bdf,
				   "bridge " BDF_FMT ": secondary bus %02x is not above its own bus %02x",
				   BDF_ARGS(f->bdf), f->secondary, bus);
	if (f->subordinate < f->secondary)
		return add_finding(b, f->segment, f->bdf,
				   "bridge " BDF_FMT ": subordinate bus %02x is below secondary bus %02x",
				   BDF_ARGS(f->bdf), f->subordinate, f->secondary);
	if (!enqueue(q, f->secondary))
		return add_finding(b, f->segment, f->bdf,
				   "bridge " BDF_FMT ": secondary bus %02x was already reached (a loop or an overlap)",
				   BDF_ARGS(f->bdf), f->secondary);
	return NULL;
}

static struct ish_error *scan_device(struct pci_build *b, struct bus_queue *q, uint16_t seg,
				     unsigned bus, unsigned dev)
{
	struct ish_pci_func *f;
	struct ish_error *err = probe(b, seg, ISH_BDF(bus, dev, 0), &f);
	bool multi;

	if (err || !f)
		return err;
	multi = f->have_header && (f->header_type & PCI_HEADER_TYPE_MFD);
	if (f->bridge)
		err = follow(b, q, f);
	for (unsigned fn = 1; fn < 8 && multi && !err; fn++) {
		err = probe(b, seg, ISH_BDF(bus, dev, fn), &f);
		if (!err && f && f->bridge)
			err = follow(b, q, f);
	}
	return err;
}

static struct ish_error *scan_segment(struct pci_build *b, uint16_t seg, const struct ish_dmar *d)
{
	struct bus_queue *q = calloc(1, sizeof(*q));
	struct ish_error *err = NULL;

	if (!q)
		return &ish_enomem;
	enqueue(q, 0);
	for (int pass = 0; pass < 2 && !err; pass++) {
		/*
		 * Then the start buses of device scopes that no bridge led to (a
		 * second host bridge): queued only now, so that reaching one through
		 * a bridge is not taken for a loop.
		 */
		for (size_t i = 0; pass && d && i < d->nstructs; i++) {
			const struct ish_dmar_struct *s = &d->structs[i];

			for (size_t j = 0; s->segment == seg && j < s->nscopes; j++)
				if (s->scopes[j].type == ISH_DMAR_SCOPE_PCI_ENDPOINT ||
				    s->scopes[j].type == ISH_DMAR_SCOPE_PCI_BRIDGE)
					enqueue(q, s->scopes[j].bus);
		}
		while (q->head < q->tail && !err) {
			unsigned bus = q->q[q->head++];

			err = ish_target_check_interrupt(b->t);
			for (unsigned dev = 0; dev < 32 && !err; dev++)
				err = scan_device(b, q, seg, bus, dev);
		}
	}
	free(q);
	return err;
}

static struct ish_error *on_ident(void *arg, const struct ish_pci_ident *id)
{
	struct pci_build *b = arg;
	struct ish_pci_func *f;
	struct ish_error *err = add_func(b, &f);

	if (err)
		return err;
	f->segment = id->segment;
	f->bdf = id->bdf;
	f->vendor = id->vendor;
	f->device = id->device;
	f->class = id->class & 0xffffff;
	return NULL;
}

static int func_cmp(const void *a, const void *b)
{
	const struct ish_pci_func *x = a, *y = b;
	uint32_t kx = (uint32_t)x->segment << 16 | x->bdf, ky = (uint32_t)y->segment << 16 | y->bdf;

	return kx < ky ? -1 : kx > ky;
}

struct ish_error *ish_pci_enumerate(struct ish_target *t, struct ish_pci **ret)
{
	struct pci_build b = { .t = t };
	struct ish_dmar *dmar = NULL;
	struct ish_error *err;

	b.p = calloc(1, sizeof(*b.p));
	if (!b.p)
		return &ish_enomem;
	err = ish_pci_functions(t, on_ident, &b);
	if (!err) {
		b.p->from_backend = true;
		for (size_t i = 0; i < b.p->n && !err; i++)
			err = read_header(&b, &b.p->funcs[i]);
	} else if (err->code == ISH_ERROR_UNSUPPORTED && !b.p->n) {
		uint16_t segs[257];
		size_t nsegs = 1, len;
		const void *tbl = ish_target_dmar(t, &len);

		ish_error_destroy(err);
		err = NULL;
		/* A table that does not parse just gives no start buses. */
		if (tbl && (err = ish_dmar_parse(tbl, len, &dmar))) {
			ish_error_destroy(err);
			err = NULL;
			dmar = NULL;
		}
		segs[0] = 0;
		for (unsigned u = 0; u < ish_target_nunits(t) && nsegs < 257; u++) {
			uint16_t s = ish_target_unit(t, u)->segment;
			bool seen = false;

			for (size_t i = 0; i < nsegs; i++)
				seen = seen || segs[i] == s;
			if (!seen)
				segs[nsegs++] = s;
		}
		for (size_t i = 0; i < nsegs && !err; i++) {
			err = scan_segment(&b, segs[i], dmar);
			/* The first segment without config space says the target has none. */
			if (err && err->code == ISH_ERROR_UNSUPPORTED && i) {
				ish_error_destroy(err);
				err = NULL;
			}
		}
	}
	ish_dmar_destroy(dmar);
	if (err) {
		ish_pci_destroy(b.p);
		return err;
	}
	if (b.p->n)
		qsort(b.p->funcs, b.p->n, sizeof(*b.p->funcs), func_cmp);
	*ret = b.p;
	return NULL;
}

void ish_pci_destroy(struct ish_pci *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfindings; i++)
		free(p->findings[i].message);
	free(p->findings);
	free(p->funcs);
	free(p);
}

const struct ish_pci_func *ish_pci_find(const struct ish_pci *p, uint16_t segment, uint16_t bdf)
{
	struct ish_pci_func key = { .segment = segment, .bdf = bdf };

	if (!p || !p->n)
		return NULL;
	return bsearch(&key, p->funcs, p->n, sizeof(*p->funcs), func_cmp);
}

/* --- device scopes --- */

static struct ish_error *why(struct ish_scope_bdf *r, struct ish_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records why a scope did not resolve; err (if any) is consumed unless fatal. */
static struct ish_error *why(struct ish_scope_bdf *r, struct ish_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err && fatal(err))
		return err;
	va_start(ap, fmt);
	n = vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	if (err && n >= 0 && (size_t)n < sizeof(r->why))
		snprintf(r->why + n, sizeof(r->why) - (size_t)n, ": %s", err->message);
	ish_error_destroy(err);
	return NULL;
}

struct ish_error *ish_dmar_scope_resolve(struct ish_target *t, uint16_t segment,
					 const struct ish_dmar_scope *s, struct ish_scope_bdf *ret)
{
	unsigned bus = s->bus;
	uint16_t bdf = 0;
	uint32_t v;

	memset(ret, 0, sizeof(*ret));
	if (s->type != ISH_DMAR_SCOPE_PCI_ENDPOINT && s->type != ISH_DMAR_SCOPE_PCI_BRIDGE)
		return why(ret, NULL, "not a PCI scope");
	if (!s->npath)
		return why(ret, NULL, "empty path");
	for (size_t i = 0; i < s->npath; i++) {
		const struct ish_dmar_path *h = &s->path[i];
		struct ish_error *err;

		if (h->dev > 31 || h->fn > 7)
			return why(ret, NULL, "hop %zu names device %#x function %#x", i + 1, h->dev,
				   h->fn);
		bdf = ISH_BDF(bus, h->dev, h->fn);
		if (i + 1 == s->npath)
			break;
		err = ish_read_config(t, segment, bdf, PCI_HEADER_TYPE & ~3u, 32, &v);
		if (err)
			return why(ret, err, "bridge " BDF_FMT " not readable", BDF_ARGS(bdf));
		if ((v & 0xffff) == 0xffff)
			return why(ret, NULL, "bridge " BDF_FMT " is absent", BDF_ARGS(bdf));
		if (((v >> 16) & PCI_HEADER_TYPE_MASK) != PCI_HEADER_TYPE_BRIDGE)
			return why(ret, NULL, BDF_FMT " is not a bridge (header type %u)", BDF_ARGS(bdf),
				   (v >> 16) & PCI_HEADER_TYPE_MASK);
		err = ish_read_config(t, segment, bdf, PCI_PRIMARY_BUS, 32, &v);
		if (err)
			return why(ret, err, "bridge " BDF_FMT " not readable", BDF_ARGS(bdf));
		if (((v >> 8) & 0xff) <= bus)
			return why(ret, NULL, "bridge " BDF_FMT ": secondary bus %02x is not above %02x",
				   BDF_ARGS(bdf), (v >> 8) & 0xff, bus);
		bus = (v >> 8) & 0xff;
	}
	ret->resolved = true;
	ret->bdf = bdf;
	if (s->type == ISH_DMAR_SCOPE_PCI_BRIDGE) {
		struct ish_error *err = ish_read_config(t, segment, bdf, PCI_PRIMARY_BUS, 32, &v);
		unsigned sec = (v >> 8) & 0xff, sub = (v >> 16) & 0xff;

		if (err)
			return why(ret, err, "bus range of " BDF_FMT " not readable", BDF_ARGS(bdf));
		if (sec <= ISH_BDF_BUS(bdf) || sub < sec)
			return why(ret, NULL, "bridge " BDF_FMT " has no valid bus range (%02x-%02x)",
				   BDF_ARGS(bdf), sec, sub);
		ret->has_range = true;
		ret->secondary = (uint8_t)sec;
		ret->subordinate = (uint8_t)sub;
	}
	return NULL;
}

/* --- which unit covers a device --- */

struct unit_scope {
	unsigned unit;
	uint16_t segment;
	uint8_t type;
	struct ish_scope_bdf r;
};

struct ish_unit_scopes {
	size_t n;
	struct unit_scope *s;
};

const char *ish_cover_name(enum ish_cover how)
{
	switch (how) {
	case ISH_COVER_ENDPOINT:
		return "scope";
	case ISH_COVER_BRIDGE:
		return "bridge scope";
	case ISH_COVER_PCI_ALL:
		return "INCLUDE_PCI_ALL";
	case ISH_COVER_ONLY_UNIT:
		return "only unit";
	case ISH_COVER_NONE:
		break;
	}
	return "none";
}

static bool unit_by_base(struct ish_target *t, uint16_t segment, uint64_t base, unsigned *ret)
{
	for (unsigned u = 0; u < ish_target_nunits(t); u++) {
		const struct ish_unit *un = ish_target_unit(t, u);

		if (un->reg_base == base && un->segment == segment) {
			*ret = u;
			return true;
		}
	}
	return false;
}

struct ish_error *ish_unit_scopes_create(struct ish_target *t, struct ish_unit_scopes **ret)
{
	struct ish_unit_scopes *us = calloc(1, sizeof(*us));
	struct ish_error *err = NULL;
	struct ish_dmar *d = NULL;
	const void *tbl;
	size_t len, cap = 0;

	if (!us)
		return &ish_enomem;
	tbl = ish_target_dmar(t, &len);
	if (tbl) {
		err = ish_dmar_parse(tbl, len, &d);
		/* A malformed table names no devices: units are chosen without it. */
		if (err && err != &ish_enomem) {
			ish_error_destroy(err);
			err = NULL;
			d = NULL;
		}
	}
	for (size_t i = 0; d && i < d->nstructs && !err; i++) {
		const struct ish_dmar_struct *s = &d->structs[i];
		unsigned unit;

		/* An INCLUDE_PCI_ALL unit lists only IOAPICs and HPETs (8.3). */
		if (s->type != ISH_DMAR_TYPE_DRHD || (s->flags & ISH_DRHD_INCLUDE_PCI_ALL) ||
		    !unit_by_base(t, s->segment, s->base, &unit))
			continue;
		for (size_t j = 0; j < s->nscopes && !err; j++) {
			const struct ish_dmar_scope *sc = &s->scopes[j];
			struct unit_scope *e;

			if (sc->type != ISH_DMAR_SCOPE_PCI_ENDPOINT &&
			    sc->type != ISH_DMAR_SCOPE_PCI_BRIDGE)
				continue;
			if (us->n == cap) {
				size_t ncap = cap ? 2 * cap : 8;
				void *n = realloc(us->s, ncap * sizeof(*us->s));

				if (!n) {
					err = &ish_enomem;
					break;
				}
				us->s = n;
				cap = ncap;
			}
			e = &us->s[us->n];
			e->unit = unit;
			e->segment = s->segment;
			e->type = sc->type;
			err = ish_dmar_scope_resolve(t, s->segment, sc, &e->r);
			if (!err && e->r.resolved)
				us->n++;
		}
	}
	ish_dmar_destroy(d);
	if (err) {
		ish_unit_scopes_destroy(us);
		return err;
	}
	*ret = us;
	return NULL;
}

void ish_unit_scopes_destroy(struct ish_unit_scopes *s)
{
	if (!s)
		return;
	free(s->s);
	free(s);
}

struct ish_error *ish_unit_scopes_lookup(struct ish_target *t, const struct ish_unit_scopes *s,
					 uint16_t segment, uint16_t bdf, unsigned *ret,
					 enum ish_cover *how)
{
	unsigned n = ish_target_nunits(t), in_seg = 0, last = 0;
	enum ish_cover dummy;

	if (!how)
		how = &dummy;
	/* Table order, as Linux dmar_find_matched_drhd_unit() does. */
	for (size_t i = 0; s && i < s->n; i++) {
		const struct unit_scope *e = &s->s[i];
		unsigned b = ISH_BDF_BUS(bdf);

		if (e->segment != segment)
			continue;
		if (e->r.bdf == bdf) {
			*ret = e->unit;
			*how = e->type == ISH_DMAR_SCOPE_PCI_BRIDGE ? ISH_COVER_BRIDGE :
								     ISH_COVER_ENDPOINT;
			return NULL;
		}
		if (e->r.has_range && b >= e->r.secondary && b <= e->r.subordinate) {
			*ret = e->unit;
			*how = ISH_COVER_BRIDGE;
			return NULL;
		}
	}
	for (unsigned u = 0; u < n; u++) {
		const struct ish_unit *un = ish_target_unit(t, u);

		if (un->segment != segment)
			continue;
		if (un->drhd_flags & ISH_DRHD_INCLUDE_PCI_ALL) {
			*ret = u;
			*how = ISH_COVER_PCI_ALL;
			return NULL;
		}
		in_seg++;
		last = u;
	}
	if (in_seg == 1 || n == 1) {
		*ret = in_seg == 1 ? last : 0;
		*how = ISH_COVER_ONLY_UNIT;
		return NULL;
	}
	*how = ISH_COVER_NONE;
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"no remapping unit covers %04x:" BDF_FMT " (use --unit)", segment,
				BDF_ARGS(bdf));
}

/* --- a function's context entry --- */

struct ish_error *ish_pci_context(struct ish_target *t, const struct ish_unit_scopes *s,
				  uint16_t segment, uint16_t bdf, struct ish_pci_context *ret)
{
	struct ish_translation *tr;
	struct ish_unit_state us;
	struct ish_error *err;

	memset(ret, 0, sizeof(*ret));
	err = ish_unit_scopes_lookup(t, s, segment, bdf, &ret->unit, &ret->how);
	if (err) {
		snprintf(ret->why, sizeof(ret->why), "%s", err->message);
		ish_error_destroy(err);
		return NULL;
	}
	ret->have_unit = true;
	err = ish_unit_state_read(t, ret->unit, &us);
	if (err && !fatal(err)) {
		/* One unit's registers (not in a dump, say) do not hide the others. */
		snprintf(ret->why, sizeof(ret->why), "%s", err->message);
		ish_error_destroy(err);
		return NULL;
	}
	if (err)
		return err;
	ret->scalable = us.scalable;
	if (us.ttm != ISH_TTM_LEGACY && us.ttm != ISH_TTM_SCALABLE) {
		snprintf(ret->why, sizeof(ret->why), "%s is in %s mode",
			 ish_target_unit(t, ret->unit)->name,
			 us.ttm == ISH_TTM_ABORT_DMA ? "abort-DMA" : "a reserved");
		return NULL;
	}
	tr = malloc(sizeof(*tr));
	if (!tr)
		return &ish_enomem;
	err = ish_resolve_tables(t, &us, bdf, ISH_PASID_NONE, 0, tr);
	if (!err && tr->have_ce) {
		ret->read = true;
		ret->present = tr->ce.present;
		if (ret->present && !us.scalable)
			ret->type = ish_context_tt_name(tr->ce.tt);
		else if (ret->present && tr->have_pe)
			ret->type = ish_pgtt_name(tr->pe.pgtt);
		if (tr->have_tables) {
			ret->have_did = true;
			ret->did = tr->tables.did;
		}
	} else if (!err) {
		if (tr->unreadable)
			snprintf(ret->why, sizeof(ret->why), "tables not readable at %#llx",
				 (unsigned long long)tr->unreadable_addr);
		else
			snprintf(ret->why, sizeof(ret->why), "no context table (root entry not present)");
	}
	free(tr);
	return err;
}

struct ish_error *ish_pci_each(struct ish_target *t, ish_pci_func_fn *fn, void *arg,
			       struct ish_pci **ret)
{
	struct ish_unit_scopes *scopes;
	struct ish_error *err;
	struct ish_pci *p;

	*ret = NULL;
	err = ish_pci_enumerate(t, &p);
	if (err)
		return err;
	*ret = p;
	err = ish_unit_scopes_create(t, &scopes);
	if (err)
		return err;
	for (size_t i = 0; i < p->n && !err; i++) {
		struct ish_pci_context c;

		err = ish_pci_context(t, scopes, p->funcs[i].segment, p->funcs[i].bdf, &c);
		if (!err)
			err = fn(arg, &p->funcs[i], &c);
	}
	ish_unit_scopes_destroy(scopes);
	return err;
}
