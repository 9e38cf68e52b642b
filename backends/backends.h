/* SPDX-License-Identifier: MIT */
/* Each backend is one file exporting one const table, listed in registry.c. */
#ifndef IOMMUSH_BACKENDS_H
#define IOMMUSH_BACKENDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/debugfs.h>
#include <iommush/backend.h>

extern const struct ish_backend ish_backend_gdbstub;
extern const struct ish_backend ish_backend_live;
extern const struct ish_backend ish_backend_devmem;
extern const struct ish_backend ish_backend_kcore;
extern const struct ish_backend ish_backend_debugfs;
extern const struct ish_backend ish_backend_mem;
extern const struct ish_backend ish_backend_dump;

/*
 * Shared by the live-host backends (devmem.c, kcore.c, debugfs.c, live.c).
 * Every path is a parameter, so tests point them at files.
 */
#define ISH_DEVMEM_PATH_DEFAULT "/dev/mem"
#define ISH_KCORE_PATH_DEFAULT "/proc/kcore"
#define ISH_DEBUGFS_ROOT_DEFAULT "/sys/kernel/debug/iommu/intel"
#define ISH_ACPI_DMAR_DEFAULT "/sys/firmware/acpi/tables/DMAR"
#define ISH_LOCKDOWN_PATH_DEFAULT "/sys/kernel/security/lockdown"
#define ISH_PCI_SYSFS_DEFAULT "/sys/bus/pci"

/* The parameter row every live-host backend lists. */
#define ISH_HOSTPCI_PARAM                                                                  \
	{ "pci.sysfs", NULL,                                                               \
	  "sysfs PCI tree for libpci (default " ISH_PCI_SYSFS_DEFAULT " when the target is this host)" }

/*
 * hostpci.c: PCI config space and the list of functions of a live host,
 * through libpci's sysfs method at pci.sysfs. *hp starts NULL and is opened
 * on first use (so a target opens even where PCI cannot be read); the
 * owner frees it with ish_hostpci_destroy() (NULL allowed). A missing or
 * unreadable tree is "PCI: TREE/devices: <strerror>"; libpci's own errors
 * come back as ISH_ERROR_FORMAT "PCI: ...", never as an exit. Built
 * without libpci, both say so (ISH_ERROR_UNSUPPORTED).
 */
struct ish_hostpci;
/*
 * local: the target is this host (not files laid out like it). Only then
 * does an unset pci.sysfs mean ISH_PCI_SYSFS_DEFAULT; a target read from
 * files has no PCI tree unless pci.sysfs names one.
 */
struct ish_error *ish_hostpci_read_config(struct ish_target *t, struct ish_hostpci **hp, bool local,
					 uint16_t segment, uint16_t bdf, uint32_t offset,
					 unsigned width, uint32_t *ret);
struct ish_error *ish_hostpci_functions(struct ish_target *t, struct ish_hostpci **hp, bool local,
				       ish_pci_ident_fn *fn, void *arg);
void ish_hostpci_destroy(struct ish_hostpci *hp);

/*
 * hostfiles.c, for the live-host backends. Reads the ACPI DMAR table named by acpi.dmar into the target. A missing
 * file is an error only when required.
 */
struct ish_error *ish_live_load_dmar(struct ish_target *t, bool required);
/* The DRHDs of the target's DMAR table (at most 256); *n = 0 without one. */
struct ish_error *ish_live_drhds(struct ish_target *t, struct ish_unit **ret, size_t *n);
/*
 * Why opening path (devmem.path, kcore.path) failed with errnum, in words:
 * not root, kernel lockdown (lockdown.path), no such device; what says what
 * the file gives ("registers and RAM").
 */
char *ish_live_explain_open(struct ish_target *t, const char *path, int errnum);
/*
 * Opens path O_RDWR | O_SYNC into *fd unless *fd is open already; the
 * error says why in ish_live_explain_open's words.
 */
struct ish_error *ish_open_for_writing(struct ish_target *t, const char *path, int *fd);

/* debugfs.c: the rebuilt image, also used by live.c. */
struct ish_debugfs;
struct ish_error *ish_debugfs_load(struct ish_target *t, const char *root,
				   struct ish_debugfs **ret);
void ish_debugfs_destroy(struct ish_debugfs *d);
struct ish_error *ish_debugfs_read_phys(const struct ish_debugfs *d, uint64_t addr, void *buf,
					size_t len);
struct ish_error *ish_debugfs_read_reg(const struct ish_debugfs *d, const struct ish_unit *u,
				       uint32_t offset, unsigned width, uint64_t *ret);

/*
 * mmio.c: register blocks mapped from devmem.path, one per unit, read
 * with volatile loads of exactly the register's width. Also used by kcore.c.
 */
struct ish_devmem_regs;
struct ish_error *ish_devmem_map(struct ish_target *t, const struct ish_unit *units, size_t n,
				 struct ish_devmem_regs **ret);
void ish_devmem_unmap(struct ish_devmem_regs *m);
/* The length mapped for unit, 0 when none is. */
size_t ish_devmem_block_len(const struct ish_devmem_regs *m, unsigned unit);
struct ish_error *ish_devmem_reg(const struct ish_devmem_regs *m, unsigned unit, uint32_t offset,
				 unsigned width, uint64_t *ret);
/*
 * One store of exactly width bits; a 64-bit store to a 32-bit register is
 * refused. The first write reopens devmem.path O_RDWR and remaps the block
 * PROT_WRITE (until then it is mapped read-only). The caller has passed the
 * write gate (iommush/write.h).
 */
struct ish_error *ish_devmem_write_reg(struct ish_target *t, struct ish_devmem_regs *m,
				       unsigned unit, uint32_t offset, unsigned width,
				       uint64_t value);

/* kcore.c: where a kcore target's registers come from ("devmem", ...). */
const char *ish_kcore_regs_from(const struct ish_target *t, void *priv);

/*
 * fileio.c. Reads fd to its end (at most max bytes, else ISH_ERROR_LIMIT
 * naming where) into a malloc'd NUL-terminated buffer; closes fd in every
 * case.
 */
struct ish_error *ish_backend_read_fd(int fd, const char *where, size_t max, char **ret,
				     size_t *len);
/*
 * pread() until len bytes at off are in buf, through short reads and EINTR.
 * Returns 0 when they are, 1 at the end of the file, -1 on an error (errno
 * says which); *done (may be NULL) is the count read before it stopped.
 */
int ish_pread_all(int fd, void *buf, size_t len, uint64_t off, size_t *done);

#endif
