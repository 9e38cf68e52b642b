// SPDX-License-Identifier: MIT
/*
 * The devmem backend: a live host through /dev/mem (devmem.path). Each
 * unit's register block is mapped and read with volatile loads of exactly
 * the register's width (VT-d spec 10.2: software accesses 64-bit registers
 * as one 64-bit or two 32-bit accesses, and never across registers); RAM is
 * read with pread(), page by page, because Linux checks each page on its own
 * (drivers/char/mem.c read_mem()) and a refused page must not hide the
 * pages before it. Units come from the ACPI DMAR table (acpi.dmar).
 *
 * What Linux refuses, and how it shows (arch/x86/mm/init.c
 * devmem_is_allowed(), drivers/char/mem.c):
 *  - open(): EPERM without CAP_SYS_RAWIO, or under kernel lockdown
 *    (security_locked_down(LOCKDOWN_DEV_MEM)); EACCES for a non-root user
 *    on the 0640 root:kmem node.
 *  - CONFIG_STRICT_DEVMEM: every System RAM page above 1 MiB reads EPERM
 *    (below 1 MiB it reads as zeros); MMIO such as the VT-d registers stays
 *    readable. So registers work and tables do not: use kcore.
 *  - CONFIG_IO_STRICT_DEVMEM (or iomem=strict): MMIO that a driver has
 *    claimed (the intel-iommu driver claims every register block, "dmar0" in
 *    /proc/iomem) cannot be mapped: mmap() fails with EPERM. Use debugfs.
 * The open-time probe reads the root table (or the IRT or queue) so that
 * the refusal is reported at open, where live can still choose another way.
 * The register mapper (also kcore's) is mmio.c.
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

struct devmem_priv {
	int fd;			/* RAM */
	int wfd;		/* RAM writes: O_RDWR, opened by the first one; -1 until then */
	char *path;
	bool regular;		/* a file laid out like /dev/mem (tests) */
	uint64_t size;
	struct ish_devmem_regs *regs;
	struct ish_hostpci *pci;	/* opened on first use */
};

/* --- RAM --- */

static struct ish_error *ram_error(const struct devmem_priv *p, uint64_t addr, int e)
{
	if (e == EPERM)
		return ish_error_fault(addr,
				       "%s refuses RAM at %#" PRIx64 " (CONFIG_STRICT_DEVMEM allows "
				       "only non-RAM ranges): use the kcore backend (RAM through "
				       "/proc/kcore) or debugfs",
				       p->path, addr);
	if (e == EFAULT || e == ENXIO || e == EINVAL)
		return ish_error_fault(addr, "physical address %#" PRIx64 " is not readable through %s",
				       addr, p->path);
	return ish_error_errno(e, "reading %s at %#" PRIx64, p->path, addr);
}

static struct ish_error *devmem_pread(const struct devmem_priv *p, uint64_t addr, void *buf,
				      size_t len)
{
	uint8_t *out = buf;

	if (addr + len < addr || addr + len > (uint64_t)INT64_MAX)
		return ish_error_fault(addr, "physical address %#" PRIx64 " is out of range", addr);
	while (len) {
		size_t n = 4096 - (size_t)(addr & 4095);
		size_t done;
		int rc;

		if (n > len)
			n = len;
		rc = ish_pread_all(p->fd, out, n, addr, &done);
		addr += done;
		if (rc < 0)
			return ram_error(p, addr, errno);
		if (rc > 0)
			return ish_error_fault(addr, "physical address %#" PRIx64 " lies past the end of %s",
					       addr, p->path);
		out += n;
		len -= n;
	}
	return NULL;
}

static struct ish_error *devmem_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	return devmem_pread(ish_target_priv(t), addr, buf, len);
}

static struct ish_error *devmem_write_phys(struct ish_target *t, uint64_t addr, const void *buf,
					   size_t len)
{
	struct devmem_priv *p = ish_target_priv(t);
	const uint8_t *in = buf;
	struct ish_error *err;

	if (addr + len < addr || addr + len > (uint64_t)INT64_MAX)
		return ish_error_fault(addr, "physical address %#" PRIx64 " is out of range", addr);
	/*
	 * A write(2) into a register block would reach the hardware as byte or
	 * unknown-width MMIO, which the spec forbids: registers go through
	 * write_reg only.
	 */
	for (unsigned i = 0; i < ish_target_nunits(t); i++) {
		const struct ish_unit *u = ish_target_unit(t, i);
		size_t blen = ish_devmem_block_len(p->regs, i);
		uint64_t end = u->reg_base + (blen ? blen : 4096);

		if (addr < end && addr + len > u->reg_base)
			return ish_error_format(ISH_ERROR_INVALID,
						"%#" PRIx64 "+%#zx overlaps the %s register block at %#"
						PRIx64 ": write registers with 'set reg', at their width",
						addr, len, u->name, u->reg_base);
	}
	/* A file laid out like /dev/mem must not grow. */
	if (p->regular && addr + len > p->size)
		return ish_error_fault(addr, "physical address %#" PRIx64 " lies past the end of %s",
				       addr, p->path);
	if ((err = ish_open_for_writing(t, p->path, &p->wfd)))
		return err;
	while (len) {
		size_t n = 4096 - (size_t)(addr & 4095);
		ssize_t r;

		if (n > len)
			n = len;
		r = pwrite(p->wfd, in, n, (off_t)addr);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EPERM)
			return ish_error_fault(addr,
					       "%s refuses to write RAM at %#" PRIx64 " (CONFIG_STRICT_DEVMEM "
					       "allows only non-RAM ranges): RAM cannot be written on this "
					       "kernel", p->path, addr);
		if (r < 0)
			return ish_error_errno(errno, "writing %s at %#" PRIx64, p->path, addr);
		if (!r)
			return ish_error_fault(addr, "physical address %#" PRIx64 " lies past the end of %s",
					       addr, p->path);
		in += r;
		addr += (uint64_t)r;
		len -= (size_t)r;
	}
	return NULL;
}

static struct ish_error *devmem_write_reg(struct ish_target *t, const struct ish_unit *u,
					  uint32_t offset, unsigned width, uint64_t value)
{
	struct devmem_priv *p = ish_target_priv(t);

	return ish_devmem_write_reg(t, p->regs, u->index, offset, width, value);
}

static struct ish_error *devmem_read_reg(struct ish_target *t, const struct ish_unit *u,
					 uint32_t offset, unsigned width, uint64_t *ret)
{
	struct devmem_priv *p = ish_target_priv(t);

	return ish_devmem_reg(p->regs, u->index, offset, width, ret);
}

/*
 * One table the hardware uses, read through /dev/mem: a refusal shows here
 * rather than in the middle of the first walk.
 */
static struct ish_error *probe_ram(struct devmem_priv *p, size_t nunits)
{
	static const uint32_t ptrs[] = { DMAR_RTADDR_REG, DMAR_IRTA_REG, DMAR_IQA_REG };

	for (size_t i = 0; i < nunits; i++) {
		for (size_t k = 0; k < sizeof(ptrs) / sizeof(*ptrs); k++) {
			uint64_t v, addr;
			uint8_t b[16];

			if (ish_devmem_reg(p->regs, (unsigned)i, ptrs[k], 64, &v))
				continue;
			addr = v & VTD_PAGE_MASK & ISH_GENMASK(51, 0);
			if (!addr)
				continue;
			return devmem_pread(p, addr, b, sizeof(b));
		}
	}
	return NULL;
}

static bool devmem_detect(const char *spec)
{
	return !strcmp(spec, "devmem");
}

static void devmem_close(struct ish_target *t)
{
	struct devmem_priv *p = ish_target_priv(t);

	if (!p)
		return;
	ish_devmem_unmap(p->regs);
	ish_hostpci_destroy(p->pci);
	if (p->fd >= 0)
		close(p->fd);
	if (p->wfd >= 0)
		close(p->wfd);
	free(p->path);
	free(p);
	ish_target_set_priv(t, NULL);
}

static struct ish_error *devmem_open_priv(struct ish_target *t, struct devmem_priv *p)
{
	struct ish_unit *units = NULL;
	struct ish_error *err;
	struct stat st;
	size_t n = 0;

	err = ish_live_load_dmar(t, true);
	if (!err)
		err = ish_live_drhds(t, &units, &n);
	if (err)
		return err;
	if (!n) {
		free(units);
		return ish_error_create(ISH_ERROR_NOT_FOUND, "the DMAR table lists no DRHD");
	}
	err = ish_devmem_map(t, units, n, &p->regs);
	if (err)
		goto out;
	p->path = strdup(ish_target_param(t, "devmem.path"));
	if (!p->path) {
		err = &ish_enomem;
		goto out;
	}
	p->fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0) {
		err = ish_error_errno(errno, "%s", p->path);
		goto out;
	}
	if (fstat(p->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		p->regular = true;
		p->size = (uint64_t)st.st_size;
	}
	err = probe_ram(p, n);
	if (err)
		goto out;
	/* Units last: a failed open leaves the target as it was, for live's next try. */
	for (size_t i = 0; i < n && !err; i++)
		err = ish_target_add_unit(t, &units[i], NULL);
out:
	free(units);
	return err;
}

static struct ish_error *devmem_open(struct ish_target *t, const char *spec)
{
	struct devmem_priv *p = calloc(1, sizeof(*p));
	struct ish_error *err;

	(void)spec;
	if (!p)
		return &ish_enomem;
	p->fd = -1;
	p->wfd = -1;
	ish_target_set_priv(t, p);
	err = devmem_open_priv(t, p);
	if (err)
		devmem_close(t);
	return err;
}

/* Only this host's own devices may be named by this host's sysfs. */
static bool devmem_local(struct ish_target *t)
{
	return !((struct devmem_priv *)ish_target_priv(t))->regular;
}

static struct ish_error *devmem_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
                                            uint32_t offset, unsigned width, uint32_t *ret)
{
	struct devmem_priv *p = ish_target_priv(t);

	return ish_hostpci_read_config(t, &p->pci, devmem_local(t), segment, bdf, offset, width,
				       ret);
}

static struct ish_error *devmem_pci_functions(struct ish_target *t, ish_pci_ident_fn *fn, void *arg)
{
	struct devmem_priv *p = ish_target_priv(t);

	return ish_hostpci_functions(t, &p->pci, devmem_local(t), fn, arg);
}

static const struct ish_param_def devmem_params[] = {
	{ "devmem.path", ISH_DEVMEM_PATH_DEFAULT,
	  "physical memory device (or a file laid out like it)" },
	{ "acpi.dmar", ISH_ACPI_DMAR_DEFAULT, "the ACPI DMAR table: units, segments, scopes" },
	{ "lockdown.path", ISH_LOCKDOWN_PATH_DEFAULT,
	  "kernel lockdown state, to explain a refusal" },
	ISH_HOSTPCI_PARAM,
	{ NULL, NULL, NULL },
};

const struct ish_backend ish_backend_devmem = {
	.name = "devmem",
	.help = "live host: registers by MMIO and RAM through /dev/mem (root, no STRICT_DEVMEM)",
	.params = devmem_params,
	.flags = ISH_BACKEND_NOCACHE | ISH_BACKEND_LIVE,
	.detect = devmem_detect,
	.open = devmem_open,
	.close = devmem_close,
	.read_phys = devmem_read_phys,
	.write_phys = devmem_write_phys,
	.read_reg = devmem_read_reg,
	.read_config = devmem_read_config,
	.pci_functions = devmem_pci_functions,
	.write_reg = devmem_write_reg,
};
