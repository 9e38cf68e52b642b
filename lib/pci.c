// SPDX-License-Identifier: MIT
/*
 * PCI enumeration: the functions a target has, from the backend's list
 * (libpci) or by scanning config space. The contracts, and the bounds
 * against hostile config space, are in pci.h. Which unit translates a
 * function is the architecture's (lib/vtd/scope.c for VT-d).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/arch.h>
#include <iommush/pci.h>

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
		struct ish_error *e = add_finding(b, seg, bdf, ISH_BDF_FMT ": %s not readable: %s",
						  ISH_BDF_ARGS(bdf), what, err->message);

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
				   "bridge " ISH_BDF_FMT ": secondary bus %02x is not above its own bus %02x",
				   ISH_BDF_ARGS(f->bdf), f->secondary, bus);
	if (f->subordinate < f->secondary)
		return add_finding(b, f->segment, f->bdf,
				   "bridge " ISH_BDF_FMT ": subordinate bus %02x is below secondary bus %02x",
				   ISH_BDF_ARGS(f->bdf), f->subordinate, f->secondary);
	if (!enqueue(q, f->secondary))
		return add_finding(b, f->segment, f->bdf,
				   "bridge " ISH_BDF_FMT ": secondary bus %02x was already reached (a loop or an overlap)",
				   ISH_BDF_ARGS(f->bdf), f->secondary);
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

static void add_start_bus(void *arg, unsigned bus)
{
	enqueue(arg, bus);
}

static struct ish_error *scan_segment(struct pci_build *b, uint16_t seg)
{
	const struct ish_arch *arch = ish_target_arch(b->t);
	struct bus_queue *q = calloc(1, sizeof(*q));
	struct ish_error *err = NULL;

	if (!q)
		return &ish_enomem;
	enqueue(q, 0);
	for (int pass = 0; pass < 2 && !err; pass++) {
		/*
		 * Then the start buses the firmware table names that no bridge
		 * led to (a second host bridge): queued only now, so that
		 * reaching one through a bridge is not taken for a loop.
		 */
		if (pass && arch->pci_start_buses) {
			err = arch->pci_start_buses(b->t, seg, add_start_bus, q);
			if (err && !ish_error_fatal(err)) {
				/* A table that does not parse just gives no start buses. */
				ish_error_destroy(err);
				err = NULL;
			}
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
		size_t nsegs = 1;

		ish_error_destroy(err);
		err = NULL;
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
			err = scan_segment(&b, segs[i]);
			/* The first segment without config space says the target has none. */
			if (err && err->code == ISH_ERROR_UNSUPPORTED && i) {
				ish_error_destroy(err);
				err = NULL;
			}
		}
	}
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
