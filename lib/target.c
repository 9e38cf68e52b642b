// SPDX-License-Identifier: MIT
/*
 * The target layer: backend selection, parameters, units, and the page cache
 * that makes a walk over a slow backend cost one request per table page.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/backend.h>
#include <iommush/vtd/dmar.h>
#include <iommush/kernel.h>
#include <iommush/regs.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "write_internal.h"

#define ISH_KREG_WORDS 1024u

/* Parameters every target understands, whatever its backend. */
static const struct ish_param_def generic_params[] = {
	{ "cache.pages", "8192", "pages the read cache holds before it is emptied" },
	{ "walk.max_pages", "1048576", "table pages one walk may visit" },
	{ "walk.max_mappings", "100000000", "mappings one walk may list" },
	{ "write.log", NULL,
	  "file every write is logged to (unset: " ISH_WRITE_LOG_DEFAULT " for root on a live host, "
	  "else none; empty: none)" },
	{ "write.syslog", "auto", "log writes to syslog too: auto (live hosts), on, off" },
	{ "iommu.sysfs", ISH_IOMMU_SYSFS_DEFAULT,
	  "Linux's IOMMU class directory: a unit registered there is owned by the kernel's driver" },
	{ "kernel.scan", NULL,
	  "physical range LO-HI searched for the kernel's VMCOREINFO (default: the target's RAM)" },
	{ NULL, NULL, NULL },
};

struct cache_slot {
	uint64_t page;		/* page frame address; ~0 = empty */
	uint8_t *data;
};

struct ish_target {
	const struct ish_backend *backend;
	char *spec;
	void *priv;
	bool writable;
	unsigned flags;			/* ISH_OPEN_* */
	struct ish_write_state *wstate;	/* lib/write.c, NULL until needed */
	/* The kernel found in memory (lib/kernel.c): opened once, on first use. */
	struct ish_kernel *kernel;
	struct ish_error *kernel_err;
	/*
	 * The kernel's copies of the registers (lib/kernel_vtd.c), read once,
	 * for units whose backend has no registers; units_from_kernel when the
	 * units themselves came from dmar_drhd_units.
	 */
	struct ish_kernel_vtd_unit *kunits;
	size_t nkunits;
	unsigned kflags;
	bool kunits_read;
	struct ish_error *kunits_err;	/* the walk failed: not walked again */
	bool units_from_kernel;

	struct ish_param *params;	/* copies */
	size_t nparams;

	struct ish_unit *units;
	unsigned nunits;
	/*
	 * CAP and ECAP of each unit once read: read-only capability registers,
	 * and every walk starts by reading them (on a gdbstub a register read
	 * is a round trip). Dropped with the page cache all the same.
	 */
	struct {
		uint64_t cap, ecap;
		bool have_cap, have_ecap;
		/* per dword of the first 4 KiB: the last read came from the kernel's copy */
		uint32_t from_kernel[ISH_KREG_WORDS / 32];
	} *idregs;
	uint8_t *dmar;
	size_t dmar_len;

	/* open-addressing hash of page -> slot, capacity a power of two */
	struct cache_slot *slots;
	size_t cache_cap;	/* slots */
	size_t cache_used;
	size_t cache_limit;	/* pages before the cache is emptied */

	/* recorded pages: open-addressing set, ~0 = empty; NULL = not recording */
	uint64_t *rec;
	size_t rec_cap, rec_used;

	struct ish_target_stats stats;
	volatile sig_atomic_t *interrupt;
	ish_progress_fn *progress;
	void *progress_arg;
};

const struct ish_backend *ish_backend_find(const char *name)
{
	for (size_t i = 0; ish_backends[i]; i++)
		if (!strcmp(ish_backends[i]->name, name))
			return ish_backends[i];
	return NULL;
}

static const struct ish_param_def *find_param_def(const struct ish_param_def *defs,
						  const char *name)
{
	for (; defs && defs->name; defs++)
		if (!strcmp(defs->name, name))
			return defs;
	return NULL;
}

static struct ish_error *copy_params(struct ish_target *t, const struct ish_param *params,
				     size_t nparams)
{
	if (!nparams)
		return NULL;
	t->params = calloc(nparams, sizeof(*t->params));
	if (!t->params)
		return &ish_enomem;
	for (size_t i = 0; i < nparams; i++) {
		if (!params[i].name || !params[i].value)
			return ish_error_create(ISH_ERROR_INVALID, "parameter without name or value");
		if (!find_param_def(generic_params, params[i].name) &&
		    !find_param_def(t->backend->params, params[i].name))
			return ish_error_format(ISH_ERROR_INVALID,
						"unknown parameter '%s' for backend %s (see 'backends -v')",
						params[i].name, t->backend->name);
		t->params[i].name = strdup(params[i].name);
		t->params[i].value = strdup(params[i].value);
		t->nparams = i + 1;
		if (!t->params[i].name || !t->params[i].value)
			return &ish_enomem;
	}
	return NULL;
}

const char *ish_target_param(const struct ish_target *t, const char *name)
{
	const struct ish_param_def *def;

	/* The last setting wins, as with repeated -O options. */
	for (size_t i = t->nparams; i-- > 0;)
		if (!strcmp(t->params[i].name, name))
			return t->params[i].value;
	def = find_param_def(t->backend->params, name);
	if (!def)
		def = find_param_def(generic_params, name);
	return def ? def->def : NULL;
}

struct ish_error *ish_target_param_u64(const struct ish_target *t, const char *name, uint64_t def,
				       uint64_t *ret)
{
	const char *s = ish_target_param(t, name);
	char *end;

	if (!s || !*s) {
		*ret = def;
		return NULL;
	}
	errno = 0;
	*ret = strtoull(s, &end, 0);
	if (errno || *end || *s == '-')
		return ish_error_format(ISH_ERROR_INVALID, "parameter %s: '%s' is not a number",
					name, s);
	return NULL;
}

static struct ish_error *add_dmar_unit(void *arg, const struct ish_unit *u)
{
	return ish_target_add_unit(arg, u, NULL);
}

static bool has_vmcoreinfo(struct ish_target *t)
{
	char *text = NULL;
	size_t len;
	const char *where;
	struct ish_error *err = ish_target_vmcoreinfo(t, &text, &len, &where);

	free(text);
	ish_error_destroy(err);
	return !err;
}

struct ish_error *ish_target_open(const char *spec, const char *backend,
				  const struct ish_param *params, size_t nparams, unsigned flags,
				  struct ish_target **ret)
{
	struct ish_target *t;
	struct ish_error *err;
	uint64_t limit;

	if (!spec)
		spec = "";
	t = calloc(1, sizeof(*t));
	if (!t)
		return &ish_enomem;
	if (backend) {
		t->backend = ish_backend_find(backend);
		if (!t->backend) {
			free(t);
			return ish_error_format(ISH_ERROR_NOT_FOUND, "no backend named '%s'", backend);
		}
	} else {
		t->backend = ish_backend_probe(spec);
		if (!t->backend) {
			free(t);
			return ish_error_create(ISH_ERROR_NOT_FOUND,
						"no such file, and not gdb:HOST:PORT or a backend name");
		}
	}
	t->writable = flags & ISH_OPEN_WRITE;
	t->flags = flags;
	t->spec = strdup(spec);
	if (!t->spec) {
		free(t);
		return &ish_enomem;
	}
	err = copy_params(t, params, nparams);
	if (!err)
		err = ish_target_param_u64(t, "cache.pages", 8192, &limit);
	if (err) {
		ish_target_close(t);
		return err;
	}
	t->cache_limit = limit;
	err = t->backend->open(t, spec);
	if (err) {
		/* The backend cleaned up after itself; don't call close. */
		t->backend = NULL;
		ish_target_close(t);
		return err;
	}
	if (!t->nunits && t->dmar) {
		err = ish_dmar_units(t->dmar, t->dmar_len, add_dmar_unit, t);
		if (err) {
			ish_target_close(t);
			return ish_error_prefix(err, "DMAR table");
		}
	}
	/*
	 * A dump or a kcore without registers may still hold the kernel:
	 * its dmar_drhd_units are then the units. Not finding it is no
	 * failure (the target has no units, as before), and is not
	 * remembered, so that a later `kernel` looks again. Only with the
	 * backend's VMCOREINFO note: a scan of RAM at every open would cost
	 * seconds on a sparse core with huge segments.
	 */
	if (!t->nunits && (t->backend->flags & ISH_BACKEND_KERNEL_UNITS) && has_vmcoreinfo(t)) {
		err = ish_target_kernel_units(t);
		if (err && (err == &ish_enomem || err->code == ISH_ERROR_INTERRUPTED)) {
			ish_target_close(t);
			return err;
		}
		ish_error_destroy(err);
	}
	*ret = t;
	return NULL;
}

static void cache_free(struct ish_target *t)
{
	for (size_t i = 0; i < t->cache_cap; i++)
		free(t->slots[i].data);
	free(t->slots);
	t->slots = NULL;
	t->cache_cap = t->cache_used = 0;
}

void ish_target_close(struct ish_target *t)
{
	if (!t)
		return;
	if (t->backend && t->backend->close)
		t->backend->close(t);
	ish_write_state_destroy(t->wstate);
	free(t->kunits);
	ish_error_destroy(t->kunits_err);
	ish_kernel_destroy(t->kernel);
	ish_error_destroy(t->kernel_err);
	cache_free(t);
	free(t->rec);
	for (size_t i = 0; i < t->nparams; i++) {
		free((char *)t->params[i].name);
		free((char *)t->params[i].value);
	}
	free(t->params);
	free(t->units);
	free(t->idregs);
	free(t->dmar);
	free(t->spec);
	free(t);
}

const struct ish_backend *ish_target_backend(const struct ish_target *t)
{
	return t->backend;
}

const char *ish_target_spec(const struct ish_target *t)
{
	return t->spec;
}

bool ish_target_writable(const struct ish_target *t)
{
	return t->writable;
}

void ish_target_set_writable(struct ish_target *t, bool on)
{
	t->writable = on;
	if (on)
		t->flags |= ISH_OPEN_WRITE;
	else
		t->flags &= ~(unsigned)ISH_OPEN_WRITE;
}

unsigned ish_target_flags(const struct ish_target *t)
{
	return t->flags;
}

struct ish_error *ish_target_kernel(struct ish_target *t, struct ish_kernel **ret)
{
	struct ish_error *err;

	*ret = NULL;
	if (t->kernel) {
		*ret = t->kernel;
		return NULL;
	}
	/* A kernel that was not found stays not found: the search may scan RAM. */
	if (t->kernel_err)
		return ish_error_create(t->kernel_err->code, t->kernel_err->message);
	err = ish_kernel_open(t, &t->kernel);
	if (err) {
		if (err->code == ISH_ERROR_INTERRUPTED || err == &ish_enomem)
			return err;
		t->kernel_err = err;
		return ish_error_create(err->code, err->message);
	}
	*ret = t->kernel;
	return NULL;
}

/* The kernel's units and their registers' copies, read once per target. */
static struct ish_error *kernel_regs(struct ish_target *t)
{
	struct ish_kernel *k;
	struct ish_error *err;

	if (t->kunits_read)
		return NULL;
	if (t->kunits_err)
		return ish_error_create(t->kunits_err->code, t->kunits_err->message);
	err = ish_target_kernel(t, &k);
	if (err)
		return err;
	err = ish_kernel_vtd_units(k, &t->kunits, &t->nkunits);
	if (err) {
		if (err == &ish_enomem || err->code == ISH_ERROR_INTERRUPTED)
			return err;
		t->kunits_err = err;
		return ish_error_create(err->code, err->message);
	}
	t->kflags = ish_kernel_vtd_reg_flags(k);
	t->kunits_read = true;
	return NULL;
}

struct ish_error *ish_target_kernel_units(struct ish_target *t)
{
	struct ish_error *err;

	if (t->nunits)
		return ish_error_create(ISH_ERROR_INVALID, "the target has units already");
	err = kernel_regs(t);
	if (err) {
		/* not found now, perhaps found later (a fake kernel built after open) */
		if (!t->kernel) {
			ish_error_destroy(t->kernel_err);
			t->kernel_err = NULL;
		}
		return err;
	}
	for (size_t i = 0; i < t->nkunits; i++) {
		const struct ish_kernel_vtd_unit *ku = &t->kunits[i];
		struct ish_unit u = {
			.segment = ku->segment,
			.drhd_flags = ku->include_all ? 1 : 0,
			.reg_base = ku->reg_phys,
		};

		memcpy(u.name, ku->name, sizeof(u.name));
		u.name[sizeof(u.name) - 1] = '\0';
		err = ish_target_add_unit(t, &u, NULL);
		if (err)
			return err;
	}
	t->units_from_kernel = t->nunits > 0;
	if (!t->nunits)
		return ish_error_create(ISH_ERROR_NOT_FOUND, "dmar_drhd_units is empty");
	return NULL;
}

bool ish_target_units_from_kernel(const struct ish_target *t)
{
	return t->units_from_kernel;
}

const char *ish_target_reg_source(const struct ish_target *t, unsigned unit, uint32_t offset)
{
	unsigned w = offset / 4;

	if (unit < t->nunits && w < ISH_KREG_WORDS &&
	    t->idregs[unit].from_kernel[w / 32] & (1u << (w % 32)))
		return "kernel";
	return "hardware";
}

static void mark_source(struct ish_target *t, unsigned unit, uint32_t offset, unsigned width,
			bool kernel)
{
	for (unsigned w = offset / 4; w < (offset + width / 8) / 4 && w < ISH_KREG_WORDS; w++) {
		if (kernel)
			t->idregs[unit].from_kernel[w / 32] |= 1u << (w % 32);
		else
			t->idregs[unit].from_kernel[w / 32] &= ~(1u << (w % 32));
	}
}

/* The kernel's copy of a register of unit, matched by its register base. */
static struct ish_error *kernel_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				    unsigned width, uint64_t *ret)
{
	struct ish_error *err = kernel_regs(t);

	if (err)
		return err;
	for (size_t i = 0; i < t->nkunits; i++)
		if (t->kunits[i].reg_phys == t->units[unit].reg_base)
			return ish_kernel_vtd_reg(&t->kunits[i], t->kflags, offset, width, ret);
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"dmar_drhd_units has no unit at %#" PRIx64, t->units[unit].reg_base);
}

struct ish_write_state **ish_target_wstate(struct ish_target *t)
{
	return &t->wstate;
}

unsigned ish_target_nunits(const struct ish_target *t)
{
	return t->nunits;
}

const struct ish_unit *ish_target_unit(const struct ish_target *t, unsigned index)
{
	return index < t->nunits ? &t->units[index] : NULL;
}

const struct ish_unit *ish_target_unit_by_name(const struct ish_target *t, const char *name)
{
	char *end;
	unsigned long i;

	for (unsigned u = 0; u < t->nunits; u++)
		if (!strcmp(t->units[u].name, name))
			return &t->units[u];
	i = strtoul(name, &end, 0);
	if (*name && !*end && i < t->nunits)
		return &t->units[i];
	return NULL;
}

const void *ish_target_dmar(const struct ish_target *t, size_t *len)
{
	if (len)
		*len = t->dmar_len;
	return t->dmar;
}

void *ish_target_priv(const struct ish_target *t)
{
	return t->priv;
}

void ish_target_set_priv(struct ish_target *t, void *priv)
{
	t->priv = priv;
}

struct ish_error *ish_target_add_unit(struct ish_target *t, const struct ish_unit *unit,
				      unsigned *ret)
{
	struct ish_unit *units;
	void *idregs;

	if (t->nunits >= 256)
		return ish_error_create(ISH_ERROR_LIMIT, "more than 256 remapping units");
	units = realloc(t->units, (t->nunits + 1) * sizeof(*units));
	if (!units)
		return &ish_enomem;
	t->units = units;
	idregs = realloc(t->idregs, (t->nunits + 1) * sizeof(*t->idregs));
	if (!idregs)
		return &ish_enomem;
	t->idregs = idregs;
	memset(&t->idregs[t->nunits], 0, sizeof(*t->idregs));
	units[t->nunits] = *unit;
	units[t->nunits].index = t->nunits;
	if (!units[t->nunits].name[0])
		snprintf(units[t->nunits].name, sizeof(units[t->nunits].name), "dmar%u", t->nunits);
	if (ret)
		*ret = t->nunits;
	t->nunits++;
	return NULL;
}

struct ish_error *ish_target_set_dmar(struct ish_target *t, const void *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return &ish_enomem;
	memcpy(copy, buf, len);
	free(t->dmar);
	t->dmar = copy;
	t->dmar_len = len;
	return NULL;
}

void ish_target_set_interrupt(struct ish_target *t, volatile sig_atomic_t *flag)
{
	t->interrupt = flag;
}

bool ish_target_interrupted(const struct ish_target *t)
{
	return t->interrupt && *t->interrupt;
}

struct ish_error *ish_target_check_interrupt(const struct ish_target *t)
{
	if (ish_target_interrupted(t))
		return ish_error_create(ISH_ERROR_INTERRUPTED, "interrupted");
	return NULL;
}

void ish_target_set_progress(struct ish_target *t, ish_progress_fn *fn, void *arg)
{
	t->progress = fn;
	t->progress_arg = arg;
}

void ish_target_stats(const struct ish_target *t, struct ish_target_stats *ret)
{
	*ret = t->stats;
}

/* --- the page cache --- */

static size_t cache_hash(uint64_t page, size_t cap)
{
	uint64_t h = (page >> VTD_PAGE_SHIFT) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (cap - 1);
}

void ish_target_cache_drop(struct ish_target *t)
{
	if (t->idregs)
		memset(t->idregs, 0, t->nunits * sizeof(*t->idregs));
	for (size_t i = 0; i < t->cache_cap; i++)
		t->slots[i].page = ~0ULL;
	t->cache_used = 0;
}

static struct cache_slot *cache_lookup(struct ish_target *t, uint64_t page)
{
	if (!t->cache_cap)
		return NULL;
	for (size_t i = cache_hash(page, t->cache_cap);; i = (i + 1) & (t->cache_cap - 1)) {
		if (t->slots[i].page == page)
			return &t->slots[i];
		if (t->slots[i].page == ~0ULL)
			return NULL;
	}
}

/* A free slot for page (the caller fills data); NULL if the cache is off. */
static struct cache_slot *cache_insert(struct ish_target *t, uint64_t page)
{
	size_t i;

	if (!t->cache_limit)
		return NULL;
	if (!t->cache_cap) {
		size_t cap = 64;

		while (cap < 2 * t->cache_limit && cap < ((size_t)1 << 30))
			cap *= 2;
		t->slots = calloc(cap, sizeof(*t->slots));
		if (!t->slots)
			return NULL;
		t->cache_cap = cap;
		ish_target_cache_drop(t);
	}
	if (t->cache_used >= t->cache_limit)
		ish_target_cache_drop(t);
	for (i = cache_hash(page, t->cache_cap); t->slots[i].page != ~0ULL;
	     i = (i + 1) & (t->cache_cap - 1))
		;
	if (!t->slots[i].data) {
		t->slots[i].data = malloc(VTD_PAGE_SIZE);
		if (!t->slots[i].data)
			return NULL;
	}
	return &t->slots[i];
}

static struct ish_error *backend_read(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	t->stats.phys_requests++;
	t->stats.phys_bytes += len;
	if (t->progress)
		t->progress(t->progress_arg, t->stats.phys_requests);
	return t->backend->read_phys(t, addr, buf, len);
}

/* --- recording --- */

static bool rec_insert(uint64_t *set, size_t cap, uint64_t page)
{
	size_t i;

	for (i = cache_hash(page, cap); set[i] != ~0ULL; i = (i + 1) & (cap - 1))
		if (set[i] == page)
			return false;
	set[i] = page;
	return true;
}

static struct ish_error *rec_add(struct ish_target *t, uint64_t page)
{
	if (2 * (t->rec_used + 1) > t->rec_cap) {
		size_t cap = 2 * t->rec_cap;
		uint64_t *set = malloc(cap * sizeof(*set));

		if (!set)
			return &ish_enomem;
		memset(set, 0xff, cap * sizeof(*set));
		for (size_t i = 0; i < t->rec_cap; i++)
			if (t->rec[i] != ~0ULL)
				rec_insert(set, cap, t->rec[i]);
		free(t->rec);
		t->rec = set;
		t->rec_cap = cap;
	}
	t->rec_used += rec_insert(t->rec, t->rec_cap, page);
	return NULL;
}

static struct ish_error *rec_range(struct ish_target *t, uint64_t addr, size_t len)
{
	if (!t->rec || !len)
		return NULL;
	for (uint64_t p = addr & VTD_PAGE_MASK; p <= ((addr + len - 1) & VTD_PAGE_MASK); p += VTD_PAGE_SIZE) {
		struct ish_error *err = rec_add(t, p);

		if (err)
			return err;
		if (p + VTD_PAGE_SIZE < p)
			break;
	}
	return NULL;
}

struct ish_error *ish_target_record_start(struct ish_target *t)
{
	free(t->rec);
	t->rec_cap = 1024;
	t->rec_used = 0;
	t->rec = malloc(t->rec_cap * sizeof(*t->rec));
	if (!t->rec)
		return &ish_enomem;
	memset(t->rec, 0xff, t->rec_cap * sizeof(*t->rec));
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct ish_error *ish_target_record_stop(struct ish_target *t, uint64_t **ret, size_t *nret)
{
	size_t n = 0;

	if (!t->rec)
		return ish_error_create(ISH_ERROR_INVALID, "not recording");
	for (size_t i = 0; i < t->rec_cap; i++)
		if (t->rec[i] != ~0ULL)
			t->rec[n++] = t->rec[i];
	qsort(t->rec, n, sizeof(*t->rec), cmp_u64);
	*ret = t->rec;
	*nret = n;
	t->rec = NULL;
	t->rec_cap = t->rec_used = 0;
	return NULL;
}

static struct ish_error *read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len);

struct ish_error *ish_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	struct ish_error *err = read_phys(t, addr, buf, len);

	return err ? err : rec_range(t, addr, len);
}

static struct ish_error *read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (len && addr + len - 1 < addr)
		return ish_error_fault(addr, "read of %zu bytes at %#" PRIx64 " wraps around", len,
				       addr);
	if (t->backend->flags & ISH_BACKEND_NOCACHE)
		return backend_read(t, addr, buf, len);
	while (len) {
		uint64_t page = addr & VTD_PAGE_MASK;
		size_t off = addr - page, n = VTD_PAGE_SIZE - off;
		struct cache_slot *slot;
		struct ish_error *err;

		if (n > len)
			n = len;
		slot = cache_lookup(t, page);
		if (slot) {
			t->stats.cache_hits++;
			memcpy(out, slot->data + off, n);
		} else {
			t->stats.cache_misses++;
			slot = cache_insert(t, page);
			err = slot ? backend_read(t, page, slot->data, VTD_PAGE_SIZE) : NULL;
			if (slot && !err) {
				slot->page = page;
				t->cache_used++;
				memcpy(out, slot->data + off, n);
			} else if (err && err->code != ISH_ERROR_FAULT) {
				/*
				 * A dead peer or an I/O error is not a hole: retrying
				 * would only hide it behind a second, vaguer error.
				 */
				return err;
			} else {
				ish_error_destroy(err);
				/*
				 * The whole page is not readable (end of RAM, a hole):
				 * read just what was asked, uncached.
				 */
				err = backend_read(t, addr, out, n);
				if (err)
					return err;
			}
		}
		out += n;
		addr += n;
		len -= n;
	}
	return NULL;
}

struct ish_error *ish_read_phys_uncached(struct ish_target *t, uint64_t addr, void *buf,
					 size_t len)
{
	if (len && addr + len - 1 < addr)
		return ish_error_fault(addr, "read of %zu bytes at %#" PRIx64 " wraps around", len,
				       addr);
	/* Not recorded either: a snapshot would otherwise hold every page a scan probed. */
	return backend_read(t, addr, buf, len);
}

struct ish_error *ish_read_phys_scatter(struct ish_target *t, const uint64_t *addrs, size_t n,
					size_t len, uint8_t *out, bool *ok)
{
	for (size_t i = 0; i < n; i++)
		if (len && addrs[i] + len - 1 < addrs[i])
			return ish_error_fault(addrs[i], "read of %zu bytes at %#" PRIx64
					       " wraps around", len, addrs[i]);
	if (t->backend->read_phys_scatter) {
		t->stats.phys_requests += n;
		t->stats.phys_bytes += n * len;
		if (t->progress)
			t->progress(t->progress_arg, t->stats.phys_requests);
		return t->backend->read_phys_scatter(t, addrs, n, len, out, ok);
	}
	for (size_t i = 0; i < n; i++) {
		struct ish_error *err = backend_read(t, addrs[i], out + i * len, len);

		ok[i] = !err;
		if (err && err->code != ISH_ERROR_FAULT)
			return err;
		if (err)
			memset(out + i * len, 0, len);
		ish_error_destroy(err);
	}
	return NULL;
}

struct ish_error *ish_read_u64(struct ish_target *t, uint64_t addr, uint64_t *ret)
{
	uint8_t b[8];
	struct ish_error *err = ish_read_phys(t, addr, b, 8);

	if (err)
		return err;
	*ret = 0;
	for (int i = 7; i >= 0; i--)
		*ret = *ret << 8 | b[i];
	return NULL;
}

struct ish_error *ish_write_phys(struct ish_target *t, uint64_t addr, const void *buf, size_t len)
{
	if (len && addr + len - 1 < addr)
		return ish_error_fault(addr, "write of %zu bytes at %#" PRIx64 " wraps around", len,
				       addr);
	return ish_write_phys_gated(t, addr, buf, len);
}

static struct ish_error *check_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				   unsigned width)
{
	if (unit >= t->nunits)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %u", unit);
	if ((width != 32 && width != 64) || offset % (width / 8))
		return ish_error_format(ISH_ERROR_INVALID,
					"register access of width %u at offset %#x is not aligned",
					width, offset);
	return NULL;
}

struct ish_error *ish_read_reg(struct ish_target *t, unsigned unit, uint32_t offset, unsigned width,
			       uint64_t *ret)
{
	struct ish_error *err = check_reg(t, unit, offset, width);

	if (err)
		return err;
	if (t->units_from_kernel) {
		err = kernel_reg(t, unit, offset, width, ret);
		if (err)
			return ish_error_prefix(err, "%s", t->units[unit].name);
		mark_source(t, unit, offset, width, true);
		return NULL;
	}
	if (!t->backend->read_reg)
		err = ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend has no registers",
				       t->backend->name);
	else if (width == 64 && offset == DMAR_CAP_REG && t->idregs[unit].have_cap) {
		*ret = t->idregs[unit].cap;
		return NULL;
	}
	if (width == 64 && offset == DMAR_ECAP_REG && t->idregs[unit].have_ecap) {
		*ret = t->idregs[unit].ecap;
		return NULL;
	}
	if (!err) {
		t->stats.reg_requests++;
		err = t->backend->read_reg(t, &t->units[unit], offset, width, ret);
	}
	/*
	 * A backend without this register (a dump without dump.regs, kcore
	 * where devmem refuses MMIO) falls back on the kernel's copy when the
	 * kernel is in memory; a dead peer or an I/O error does not. Without
	 * a copy the backend's reason stands.
	 */
	if (err && (err->code == ISH_ERROR_NOT_FOUND || err->code == ISH_ERROR_UNSUPPORTED)) {
		struct ish_error *kerr = kernel_reg(t, unit, offset, width, ret);

		if (!kerr) {
			ish_error_destroy(err);
			mark_source(t, unit, offset, width, true);
			return NULL;
		}
		if (kerr == &ish_enomem || kerr->code == ISH_ERROR_INTERRUPTED) {
			ish_error_destroy(err);
			return kerr;
		}
		ish_error_destroy(kerr);
	}
	if (err)
		return ish_error_prefix(err, "%s", t->units[unit].name);
	mark_source(t, unit, offset, width, false);
	if (width == 64 && offset == DMAR_CAP_REG) {
		t->idregs[unit].cap = *ret;
		t->idregs[unit].have_cap = true;
	} else if (width == 64 && offset == DMAR_ECAP_REG) {
		t->idregs[unit].ecap = *ret;
		t->idregs[unit].have_ecap = true;
	}
	return NULL;
}

struct ish_error *ish_write_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				unsigned width, uint64_t value)
{
	struct ish_error *err = check_reg(t, unit, offset, width);

	if (err)
		return err;
	if (width == 32 && value > 0xffffffffu)
		return ish_error_format(ISH_ERROR_INVALID,
					"%#" PRIx64 " does not fit a 32-bit register access", value);
	/*
	 * A 32-bit register takes no 64-bit store (VT-d 10.2): undefined on
	 * hardware, and QEMU 7.2 aborts on it. Refused for every backend.
	 */
	if (width == 64) {
		const struct ish_reg_def *r = ish_reg_at(offset, 0, 0, NULL);

		if (r && r->loc == ISH_REG_FIXED && r->width == 32)
			return ish_error_format(ISH_ERROR_INVALID,
						"%s at %#x is a 32-bit register: refusing a 64-bit "
						"write", r->name, offset);
	}
	return ish_write_reg_gated(t, unit, offset, width, value);
}

struct ish_error *ish_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
				  uint32_t offset, unsigned width, uint32_t *ret)
{
	if (!t->backend->read_config)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"the %s backend cannot read PCI configuration space",
					t->backend->name);
	return t->backend->read_config(t, segment, bdf, offset, width, ret);
}

struct ish_error *ish_pci_functions(struct ish_target *t, ish_pci_ident_fn *fn, void *arg)
{
	if (!t->backend->pci_functions)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"the %s backend cannot list PCI functions", t->backend->name);
	return t->backend->pci_functions(t, fn, arg);
}

struct ish_error *ish_target_vmcoreinfo(struct ish_target *t, char **ret, size_t *len,
					const char **where)
{
	if (!t->backend->vmcoreinfo)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend carries no VMCOREINFO",
					t->backend->name);
	return t->backend->vmcoreinfo(t, ret, len, where);
}

struct ish_error *ish_target_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					size_t *n)
{
	if (!t->backend->ram_ranges)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend does not know its RAM",
					t->backend->name);
	return t->backend->ram_ranges(t, ret, n);
}

struct ish_error *ish_target_stop(struct ish_target *t)
{
	if (!t->backend->stop)
		return NULL;
	return t->backend->stop(t);
}

struct ish_error *ish_target_resume(struct ish_target *t)
{
	if (!t->backend->resume)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "the %s backend cannot resume",
					t->backend->name);
	ish_target_cache_drop(t);
	/* A kernel not found yet may be booted by the time the guest stops again. */
	ish_error_destroy(t->kernel_err);
	t->kernel_err = NULL;
	return t->backend->resume(t);
}
