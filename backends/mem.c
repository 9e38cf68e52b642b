// SPDX-License-Identifier: MIT
/* The in-memory backend: regions of RAM and register files held in memory. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/mem.h>
#include <iommush/regfile.h>

#include "backends.h"

struct mem_region {
	uint64_t addr, size;
	uint8_t *bytes;
};

/* One function's configuration space (ECAM-sized). */
struct mem_config {
	uint16_t segment, bdf;
	uint8_t bytes[ISH_MEM_CONFIG_SIZE];
};

struct mem_priv {
	struct mem_config **configs;	/* sorted by segment, bdf */
	size_t nconfigs;
	struct mem_region *regions;
	size_t nregions;
	struct ish_regfile **regs;	/* one per unit index */
	size_t nregs;
};

static bool mem_detect(const char *spec)
{
	return !strcmp(spec, "mem") || !strcmp(spec, "mem:");
}

static struct ish_error *mem_open(struct ish_target *t, const char *spec)
{
	struct mem_priv *p = calloc(1, sizeof(*p));

	(void)spec;
	if (!p)
		return &ish_enomem;
	ish_target_set_priv(t, p);
	return NULL;
}

static void mem_close(struct ish_target *t)
{
	struct mem_priv *p = ish_target_priv(t);

	if (!p)
		return;
	for (size_t i = 0; i < p->nregions; i++)
		free(p->regions[i].bytes);
	for (size_t i = 0; i < p->nregs; i++)
		ish_regfile_destroy(p->regs[i]);
	free(p->regions);
	for (size_t i = 0; i < p->nconfigs; i++)
		free(p->configs[i]);
	free(p->configs);
	free(p->regs);
	free(p);
}

static uint8_t *mem_find(struct mem_priv *p, uint64_t addr, size_t len)
{
	for (size_t i = 0; i < p->nregions; i++) {
		struct mem_region *r = &p->regions[i];

		if (addr >= r->addr && addr - r->addr <= r->size && len <= r->size - (addr - r->addr))
			return r->bytes + (addr - r->addr);
	}
	return NULL;
}

static struct ish_error *mem_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	uint8_t *src = mem_find(ish_target_priv(t), addr, len);

	if (!src)
		return ish_error_fault(addr, "physical address %#" PRIx64 " is not in memory", addr);
	memcpy(buf, src, len);
	return NULL;
}

static struct ish_error *mem_write_phys(struct ish_target *t, uint64_t addr, const void *buf,
					size_t len)
{
	uint8_t *dst = mem_find(ish_target_priv(t), addr, len);

	if (!dst)
		return ish_error_fault(addr, "physical address %#" PRIx64 " is not in memory", addr);
	memcpy(dst, buf, len);
	return NULL;
}

static struct ish_error *mem_regfile(struct ish_target *t, unsigned unit, struct ish_regfile **ret)
{
	struct mem_priv *p = ish_target_priv(t);

	if (unit >= p->nregs || !p->regs[unit])
		return ish_error_format(ISH_ERROR_NOT_FOUND, "unit %u has no registers", unit);
	*ret = p->regs[unit];
	return NULL;
}

static struct ish_error *mem_read_reg(struct ish_target *t, const struct ish_unit *u,
				      uint32_t offset, unsigned width, uint64_t *ret)
{
	struct ish_regfile *rf = NULL;
	struct ish_error *err = mem_regfile(t, u->index, &rf);

	return err ? err : ish_regfile_get(rf, offset, width, ret);
}

static struct ish_error *mem_write_reg(struct ish_target *t, const struct ish_unit *u,
				       uint32_t offset, unsigned width, uint64_t value)
{
	struct ish_regfile *rf = NULL;
	struct ish_error *err = mem_regfile(t, u->index, &rf);

	return err ? err : ish_regfile_set(rf, offset, width, value);
}

/* Index of the first image not below segment:bdf (binary search). */
static size_t config_find(const struct mem_priv *p, uint16_t segment, uint16_t bdf)
{
	uint32_t key = (uint32_t)segment << 16 | bdf;
	size_t lo = 0, hi = p->nconfigs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mem_config *c = p->configs[mid];

		if (((uint32_t)c->segment << 16 | c->bdf) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ish_error *mem_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
					 uint32_t offset, unsigned width, uint32_t *ret)
{
	struct mem_priv *p = ish_target_priv(t);
	uint32_t v = 0;
	size_t i;

	if (!p->nconfigs)
		return ish_error_create(ISH_ERROR_UNSUPPORTED,
					"this mem target has no PCI configuration space");
	if ((width != 8 && width != 16 && width != 32) || offset % (width / 8) ||
	    offset + width / 8 > ISH_MEM_CONFIG_SIZE)
		return ish_error_format(ISH_ERROR_INVALID, "config access of width %u at %#x", width,
					offset);
	i = config_find(p, segment, bdf);
	if (i < p->nconfigs && p->configs[i]->segment == segment && p->configs[i]->bdf == bdf) {
		for (unsigned b = 0; b < width / 8; b++)
			v |= (uint32_t)p->configs[i]->bytes[offset + b] << (8 * b);
		*ret = v;
		return NULL;
	}
	return ish_error_format(ISH_ERROR_NOT_FOUND, "no function %04x:%02x:%02x.%u", segment,
				bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);
}

static int cmp_range(const void *a, const void *b)
{
	const struct ish_ram_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static struct ish_error *mem_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					size_t *n)
{
	struct mem_priv *p = ish_target_priv(t);

	*ret = malloc((p->nregions ? p->nregions : 1) * sizeof(**ret));
	if (!*ret)
		return &ish_enomem;
	for (size_t i = 0; i < p->nregions; i++) {
		(*ret)[i].start = p->regions[i].addr;
		(*ret)[i].end = p->regions[i].addr + p->regions[i].size;
	}
	qsort(*ret, p->nregions, sizeof(**ret), cmp_range);
	*n = p->nregions;
	return NULL;
}

const struct ish_backend ish_backend_mem = {
	.name = "mem",
	.help = "in-memory image built by tests and benchmarks",
	.params = (const struct ish_param_def[]){ { NULL, NULL, NULL } },
	.flags = ISH_BACKEND_NOCACHE,
	.detect = mem_detect,
	.open = mem_open,
	.close = mem_close,
	.read_phys = mem_read_phys,
	.write_phys = mem_write_phys,
	.read_reg = mem_read_reg,
	.write_reg = mem_write_reg,
	.read_config = mem_read_config,
	.ram_ranges = mem_ram_ranges,
};

struct ish_error *ish_mem_open(struct ish_target **ret)
{
	return ish_target_open("mem", "mem", NULL, 0, ISH_OPEN_WRITE, ret);
}

static struct mem_priv *mem_priv(struct ish_target *t)
{
	return ish_target_backend(t) == &ish_backend_mem ? ish_target_priv(t) : NULL;
}

struct ish_error *ish_mem_add_ram(struct ish_target *t, uint64_t addr, uint64_t size, void **ret)
{
	struct mem_priv *p = mem_priv(t);
	struct mem_region *r;

	if (!p)
		return ish_error_create(ISH_ERROR_INVALID, "not a mem target");
	if (!size || addr + size - 1 < addr)
		return ish_error_create(ISH_ERROR_INVALID, "bad RAM region");
	for (size_t i = 0; i < p->nregions; i++)
		if (addr < p->regions[i].addr + p->regions[i].size &&
		    p->regions[i].addr < addr + size)
			return ish_error_format(ISH_ERROR_INVALID,
						"RAM region at %#" PRIx64 " overlaps another", addr);
	r = realloc(p->regions, (p->nregions + 1) * sizeof(*r));
	if (!r)
		return &ish_enomem;
	p->regions = r;
	r = &p->regions[p->nregions];
	r->bytes = calloc(1, size);
	if (!r->bytes)
		return &ish_enomem;
	r->addr = addr;
	r->size = size;
	p->nregions++;
	if (ret)
		*ret = r->bytes;
	ish_target_cache_drop(t);
	return NULL;
}

struct ish_error *ish_mem_add_unit(struct ish_target *t, uint64_t reg_base, uint16_t segment,
				   unsigned *ret)
{
	struct mem_priv *p = mem_priv(t);
	struct ish_unit u = { .segment = segment, .reg_base = reg_base, .arch_flags = 1 };
	struct ish_regfile **regs;
	struct ish_error *err;
	unsigned index;

	if (!p)
		return ish_error_create(ISH_ERROR_INVALID, "not a mem target");
	err = ish_target_add_unit(t, &u, &index);
	if (err)
		return err;
	regs = realloc(p->regs, (index + 1) * sizeof(*regs));
	if (!regs)
		return &ish_enomem;
	p->regs = regs;
	while (p->nregs <= index)
		p->regs[p->nregs++] = NULL;
	err = ish_regfile_create(&p->regs[index]);
	if (err)
		return err;
	if (ret)
		*ret = index;
	return NULL;
}

struct ish_error *ish_mem_set_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				  unsigned width, uint64_t value)
{
	struct ish_regfile *rf = NULL;
	struct ish_error *err;

	if (!mem_priv(t))
		return ish_error_create(ISH_ERROR_INVALID, "not a mem target");
	err = mem_regfile(t, unit, &rf);
	/* The caller is playing hardware: forget what was read before. */
	ish_target_cache_drop(t);
	return err ? err : ish_regfile_set(rf, offset, width, value);
}

void *ish_mem_ptr(struct ish_target *t, uint64_t addr, size_t len)
{
	struct mem_priv *p = mem_priv(t);

	return p ? mem_find(p, addr, len) : NULL;
}

bool ish_mem_put64(struct ish_target *t, uint64_t addr, uint64_t value)
{
	uint8_t *d = ish_mem_ptr(t, addr, 8);

	if (!d)
		return false;
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(value >> (8 * i));
	return true;
}

struct ish_error *ish_mem_add_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
				     uint8_t **ret)
{
	struct mem_priv *p = mem_priv(t);
	struct mem_config **v, *c;
	size_t i;

	if (!p)
		return ish_error_create(ISH_ERROR_INVALID, "not a mem target");
	i = config_find(p, segment, bdf);
	if (i < p->nconfigs && p->configs[i]->segment == segment && p->configs[i]->bdf == bdf) {
		*ret = p->configs[i]->bytes;
		return NULL;
	}
	v = realloc(p->configs, (p->nconfigs + 1) * sizeof(*v));
	if (!v)
		return &ish_enomem;
	p->configs = v;
	c = calloc(1, sizeof(*c));
	if (!c)
		return &ish_enomem;
	c->segment = segment;
	c->bdf = bdf;
	memmove(&v[i + 1], &v[i], (p->nconfigs - i) * sizeof(*v));
	v[i] = c;
	p->nconfigs++;
	*ret = c->bytes;
	return NULL;
}
