// SPDX-License-Identifier: MIT
/*
 * Register blocks mapped from devmem.path, one per unit, read with volatile
 * loads of exactly the register's width (VT-d spec 10.2: software accesses
 * 64-bit registers as one 64-bit or two 32-bit accesses, and never across
 * registers). Used by devmem and kcore (registers through /dev/mem while
 * RAM comes from /proc/kcore).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>

#include "backends.h"

struct devmem_block {
	volatile uint8_t *base;	/* MAP_FAILED-free: NULL until mapped */
	size_t len;
	uint64_t phys;		/* the register base it maps */
	bool writable;		/* remapped PROT_WRITE by the first write */
};

struct ish_devmem_regs {
	int fd;
	int wfd;		/* O_RDWR, opened by the first write; -1 until then */
	char *path;
	struct devmem_block *blocks;	/* by unit index */
	size_t n;
};

static struct ish_error *map_block(struct ish_devmem_regs *m, const struct ish_unit *u,
				   size_t len, bool regular, uint64_t fsize, struct devmem_block *b,
				   bool writable)
{
	void *p;

	if (u->reg_base & 4095)
		return ish_error_format(ISH_ERROR_FORMAT,
					"%s: register base %#" PRIx64 " is not page aligned", u->name,
					u->reg_base);
	/* Touching a mapping past the end of a regular file raises SIGBUS. */
	if (regular && (u->reg_base >= fsize || len > fsize - u->reg_base))
		return ish_error_format(ISH_ERROR_FAULT,
					"%s: register block %#" PRIx64 "+%#zx lies past the end of %s",
					u->name, u->reg_base, len, m->path);
	p = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
		 writable ? m->wfd : m->fd, (off_t)u->reg_base);
	if (p == MAP_FAILED) {
		int e = errno;

		if (e == EPERM || e == EACCES) {
			/* The advice goes last, after the system's word for it. */
			struct ish_error *err = ish_error_format(
				ISH_ERROR_OS, "mapping the %s registers at %#" PRIx64 " from %s: %s: "
				"the kernel refuses MMIO a driver has claimed "
				"(CONFIG_IO_STRICT_DEVMEM or iomem=strict; the intel-iommu driver "
				"claims its register blocks): use the debugfs backend, or boot with "
				"iomem=relaxed", u->name, u->reg_base, m->path, strerror(e));

			if (err != &ish_enomem)
				err->errnum = e;
			return err;
		}
		return ish_error_errno(e, "mapping the %s registers at %#" PRIx64 " from %s", u->name,
				       u->reg_base, m->path);
	}
	b->base = p;
	b->len = len;
	b->phys = u->reg_base;
	b->writable = writable;
	return NULL;
}

/* Bytes the registers need: fault records at CAP.FRO and the IOTLB at ECAP.IRO (10.4). */
static size_t block_need(uint64_t cap, uint64_t ecap)
{
	uint64_t fro = ISH_BITS(cap, 33, 24) * 16, nfr = ISH_BITS(cap, 47, 40) + 1;
	uint64_t iro = ISH_BITS(ecap, 17, 8) * 16;
	uint64_t need = 4096;

	if (fro + nfr * 16 > need)
		need = fro + nfr * 16;
	if (iro + 16 > need)
		need = iro + 16;
	return (size_t)((need + 4095) & ~4095ULL);
}

struct ish_error *ish_devmem_map(struct ish_target *t, const struct ish_unit *units, size_t n,
				 struct ish_devmem_regs **ret)
{
	const char *path = ish_target_param(t, "devmem.path");
	struct ish_devmem_regs *m;
	struct ish_error *err = NULL;
	struct stat st;
	bool regular;

	if (!path || !*path)
		return ish_error_create(ISH_ERROR_INVALID, "devmem.path is empty");
	m = calloc(1, sizeof(*m));
	if (!m)
		return &ish_enomem;
	m->fd = -1;
	m->wfd = -1;
	m->path = strdup(path);
	m->blocks = calloc(n ? n : 1, sizeof(*m->blocks));
	if (!m->path || !m->blocks) {
		ish_devmem_unmap(m);
		return &ish_enomem;
	}
	m->n = n;
	/* O_SYNC: the mapping is uncached, as MMIO must be. */
	m->fd = open(path, O_RDONLY | O_SYNC | O_CLOEXEC);
	if (m->fd < 0) {
		int e = errno;
		char *why = ish_live_explain_open(t, path, e);

		ish_devmem_unmap(m);
		err = ish_error_format(ISH_ERROR_OS, "%s", why ? why : path);
		if (err != &ish_enomem)
			err->errnum = e;
		free(why);
		return err;
	}
	if (fstat(m->fd, &st) < 0) {
		err = ish_error_errno(errno, "fstat %s", path);
		ish_devmem_unmap(m);
		return err;
	}
	regular = S_ISREG(st.st_mode);
	for (size_t i = 0; i < n && !err; i++) {
		size_t len = units[i].size_pages ? (size_t)units[i].size_pages * 4096 : 4096;
		uint64_t cap, ecap;
		size_t need;

		err = map_block(m, &units[i], len, regular, (uint64_t)st.st_size, &m->blocks[i], false);
		if (err)
			break;
		/* The DRHD may understate the block; grow it to what CAP/ECAP place in it. */
		if (ish_devmem_reg(m, (unsigned)i, DMAR_CAP_REG, 64, &cap) ||
		    ish_devmem_reg(m, (unsigned)i, DMAR_ECAP_REG, 64, &ecap))
			continue;
		need = block_need(cap, ecap);
		if (need > len && need <= (1u << 20)) {
			struct devmem_block b;

			if (!map_block(m, &units[i], need, regular, (uint64_t)st.st_size, &b, false)) {
				munmap((void *)m->blocks[i].base, m->blocks[i].len);
				m->blocks[i] = b;
			}
		}
	}
	if (err) {
		ish_devmem_unmap(m);
		return err;
	}
	*ret = m;
	return NULL;
}

void ish_devmem_unmap(struct ish_devmem_regs *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->blocks[i].base)
			munmap((void *)m->blocks[i].base, m->blocks[i].len);
	if (m->fd >= 0)
		close(m->fd);
	if (m->wfd >= 0)
		close(m->wfd);
	free(m->blocks);
	free(m->path);
	free(m);
}

/* The mapped block of unit, if offset/width is an access the hardware takes there. */
static struct ish_error *block_for(const struct ish_devmem_regs *m, unsigned unit,
				   uint32_t offset, unsigned width, struct devmem_block **ret)
{
	struct devmem_block *b;

	if (unit >= m->n || !m->blocks[unit].base)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "unit %u has no mapped registers", unit);
	b = &m->blocks[unit];
	if ((width != 32 && width != 64) || offset % (width / 8))
		return ish_error_format(ISH_ERROR_INVALID,
					"register access of %u bits at offset %#x: the hardware takes "
					"only aligned 32- and 64-bit accesses", width, offset);
	if (offset >= b->len || width / 8 > b->len - offset)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"register offset %#x is outside the %#zx-byte register block",
					offset, b->len);
	*ret = b;
	return NULL;
}

struct ish_error *ish_devmem_reg(const struct ish_devmem_regs *m, unsigned unit, uint32_t offset,
				 unsigned width, uint64_t *ret)
{
	struct devmem_block *b;
	struct ish_error *err = block_for(m, unit, offset, width, &b);

	if (err)
		return err;
	if (width == 32)
		*ret = *(const volatile uint32_t *)(b->base + offset);
	else
		*ret = *(const volatile uint64_t *)(b->base + offset);
	return NULL;
}

struct ish_error *ish_devmem_write_reg(struct ish_target *t, struct ish_devmem_regs *m,
				       unsigned unit, uint32_t offset, unsigned width,
				       uint64_t value)
{
	struct devmem_block *b, nb;
	struct ish_error *err = block_for(m, unit, offset, width, &b);

	if (err)
		return err;
	if (width == 32 && value > 0xffffffffu)
		return ish_error_format(ISH_ERROR_INVALID, "%#" PRIx64 " does not fit 32 bits",
					value);
	if (!b->writable) {
		struct ish_unit u = { .reg_base = b->phys };

		snprintf(u.name, sizeof(u.name), "unit %u", unit);
		if ((err = ish_open_for_writing(t, m->path, &m->wfd)))
			return err;
		/* The file was checked at open: its size cannot make this mapping fault. */
		if ((err = map_block(m, &u, b->len, false, 0, &nb, true)))
			return err;
		munmap((void *)b->base, b->len);
		*b = nb;
	}
	if (width == 32)
		*(volatile uint32_t *)(b->base + offset) = (uint32_t)value;
	else
		*(volatile uint64_t *)(b->base + offset) = value;
	return NULL;
}

size_t ish_devmem_block_len(const struct ish_devmem_regs *m, unsigned unit)
{
	return unit < m->n ? m->blocks[unit].len : 0;
}
