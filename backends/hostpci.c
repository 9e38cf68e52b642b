// SPDX-License-Identifier: MIT
/*
 * PCI on a live host, through libpci's linux-sysfs method pointed at
 * pci.sysfs (its "sysfs.path" parameter), shared by devmem, kcore and
 * debugfs (live delegates to whichever it chose).
 *
 * libpci reports failures through pci_access.error, declared noreturn: its
 * default prints and exits, and the code after each call assumes it never
 * comes back (pciutils lib/sysfs.c, lib/init.c: pci_init on an unknown
 * method, sysfs_scan on an unreadable devices/ directory or an entry that is
 * not domain:bus:dev.fn, pci_fill_info on a missing vendor, device or class
 * file). So the handler here keeps the message and longjmp()s back to the
 * call that was made; nothing of ours is on the stack in between. The
 * conditions libpci would fail on are checked first wherever we can, so
 * that the message is ours and no half-built device is left behind.
 *
 * sysfs gives the first 64 bytes of a function's config file to users
 * without CAP_SYS_ADMIN (Linux drivers/pci/pci-sysfs.c pci_read_config):
 * header type and bus numbers are inside, capabilities are not.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"
#include "config.h"

#if HAVE_LIBPCI
#include <setjmp.h>

#include <pci/pci.h>

struct ish_hostpci {
	struct pci_access *pacc;
	char *root;		/* pci.sysfs */
	bool scanned;
	jmp_buf jb;
	char msg[512];		/* the last error */
	char warn[512];		/* the last warning */
};

/* The handle whose libpci call is running (libpci's callbacks get no argument). */
static __thread struct ish_hostpci *current;

static void __attribute__((noreturn, format(printf, 1, 2))) on_error(char *fmt, ...)
{
	va_list ap;

	/* Only guarded() calls into libpci with the handlers armed. */
	if (!current)
		abort();
	va_start(ap, fmt);
	vsnprintf(current->msg, sizeof(current->msg), fmt, ap);
	va_end(ap);
	longjmp(current->jb, 1);
}

static void __attribute__((format(printf, 1, 2))) on_warning(char *fmt, ...)
{
	va_list ap;

	if (!current)
		return;
	va_start(ap, fmt);
	vsnprintf(current->warn, sizeof(current->warn), fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2))) on_debug(char *fmt, ...)
{
	(void)fmt;
}

/*
 * Runs fn with the handlers armed; a libpci error becomes an ish_error.
 * Not inlined, so that no caller's variable lives across the longjmp.
 */
typedef void libpci_fn(struct pci_access *a, void *arg);

static __attribute__((noinline)) struct ish_error *guarded(struct ish_hostpci *hp, libpci_fn *fn,
							   void *arg)
{
	struct ish_error *volatile err = NULL;

	current = hp;
	if (setjmp(hp->jb))
		err = ish_error_format(ISH_ERROR_FORMAT, "PCI: %s", hp->msg);
	else
		fn(hp->pacc, arg);
	current = NULL;
	return err;
}

static void do_init(struct pci_access *a, void *arg)
{
	pci_init(a);
}

static void do_scan(struct pci_access *a, void *arg)
{
	pci_scan_bus(a);
}

static void do_fill(struct pci_access *a, void *arg)
{
	pci_fill_info(arg, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT);
}

struct read_arg {
	struct pci_dev *d;
	int pos;
	uint8_t *buf;
	int ok;
};

static void do_read(struct pci_access *a, void *arg)
{
	struct read_arg *r = arg;

	r->ok = pci_read_block(r->d, r->pos, r->buf, 4);
}

void ish_hostpci_destroy(struct ish_hostpci *hp)
{
	if (!hp)
		return;
	if (hp->pacc)
		pci_cleanup(hp->pacc);
	free(hp->root);
	free(hp);
}

/*
 * libpci's sysfs scan stops the process on an entry it cannot parse and
 * truncates bus, device and function numbers it does not check: refuse such
 * a tree with the entry's name. A missing or unreadable devices/ says which
 * errno, as libpci does not.
 */
static struct ish_error *check_entries(const char *root)
{
	struct ish_error *err = NULL;
	struct dirent *e;
	char *path;
	DIR *dir;

	if (asprintf(&path, "%s/devices", root) < 0)
		return &ish_enomem;
	dir = opendir(path);
	if (!dir) {
		err = ish_error_errno(errno, "PCI: %s", path);
		free(path);
		return err;
	}
	while (!err && (e = readdir(dir))) {
		unsigned dom, bus, dev, fn;
		char tail;

		if (e->d_name[0] == '.')
			continue;
		if (sscanf(e->d_name, "%x:%x:%x.%u%c", &dom, &bus, &dev, &fn, &tail) != 4 ||
		    dom > 0x7fffffff || bus > 255 || dev > 31 || fn > 7)
			err = ish_error_format(ISH_ERROR_FORMAT,
					       "PCI: %s/%s: not a PCI address (domain:bus:device.function)",
					       path, e->d_name);
	}
	closedir(dir);
	free(path);
	return err;
}

static struct ish_error *hostpci_open(struct ish_target *t, bool local, struct ish_hostpci **ret)
{
	const char *root = ish_target_param(t, "pci.sysfs");
	struct ish_hostpci *hp;
	struct ish_error *err;

	if ((!root || !*root) && !local)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"PCI: the %s target is read from files, not this host: "
					"give its sysfs PCI tree with -O pci.sysfs=DIR",
					ish_target_backend(t)->name);
	if (!root || !*root)
		root = ISH_PCI_SYSFS_DEFAULT;
	err = check_entries(root);
	if (err)
		return err;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return &ish_enomem;
	hp->root = strdup(root);
	hp->pacc = pci_alloc();
	if (!hp->root || !hp->pacc) {
		ish_hostpci_destroy(hp);
		return &ish_enomem;
	}
	hp->pacc->error = on_error;
	hp->pacc->warning = on_warning;
	hp->pacc->debug = on_debug;
	hp->pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	if (pci_set_param(hp->pacc, "sysfs.path", hp->root)) {
		ish_hostpci_destroy(hp);
		return ish_error_create(ISH_ERROR_UNSUPPORTED,
					"PCI: this libpci has no linux-sysfs method");
	}
	err = guarded(hp, do_init, NULL);
	if (err) {
		ish_hostpci_destroy(hp);
		return err;
	}
	*ret = hp;
	return NULL;
}

static struct ish_error *scan(struct ish_hostpci *hp)
{
	struct ish_error *err;

	if (hp->scanned)
		return NULL;
	err = guarded(hp, do_scan, NULL);
	if (!err)
		hp->scanned = true;
	return err;
}

static struct ish_error *get(struct ish_target *t, struct ish_hostpci **hpp, bool local)
{
	struct ish_error *err = NULL;

	if (!*hpp)
		err = hostpci_open(t, local, hpp);
	return err ? err : scan(*hpp);
}

struct ish_error *ish_hostpci_functions(struct ish_target *t, struct ish_hostpci **hpp, bool local,
				       ish_pci_ident_fn *fn, void *arg)
{
	struct ish_error *err = get(t, hpp, local);
	struct ish_hostpci *hp = *hpp;

	for (struct pci_dev *d = hp && !err ? hp->pacc->devices : NULL; d && !err; d = d->next) {
		struct ish_pci_ident id;

		/* Domains above 0xffff (Intel VMD) are not DMAR segments: not ours. */
		if (d->domain < 0 || d->domain > 0xffff)
			continue;
		err = guarded(hp, do_fill, d);
		if (err)
			break;
		id.segment = (uint16_t)d->domain;
		id.bdf = (uint16_t)(d->bus << 8 | d->dev << 3 | d->func);
		id.vendor = d->vendor_id;
		id.device = d->device_id;
		id.class = (uint32_t)d->device_class << 8 | d->prog_if;
		err = fn(arg, &id);
	}
	return err;
}

struct ish_error *ish_hostpci_read_config(struct ish_target *t, struct ish_hostpci **hpp, bool local,
					 uint16_t segment, uint16_t bdf, uint32_t offset,
					 unsigned width, uint32_t *ret)
{
	struct ish_error *err;
	struct ish_hostpci *hp;
	struct pci_dev *d;
	struct read_arg r;
	uint8_t b[4];
	uint32_t v;

	if ((width != 8 && width != 16 && width != 32) || offset % (width / 8) ||
	    offset + width / 8 > 4096)
		return ish_error_format(ISH_ERROR_INVALID,
					"config access of width %u at %#x is not aligned inside 4 KiB",
					width, offset);
	err = get(t, hpp, local);
	if (err)
		return err;
	hp = *hpp;
	for (d = hp->pacc->devices; d; d = d->next)
		if (d->domain == segment && d->bus == bdf >> 8 && d->dev == ((bdf >> 3) & 0x1f) &&
		    d->func == (bdf & 7))
			break;
	if (!d)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"PCI: no function %04x:%02x:%02x.%u in %s/devices", segment,
					bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, hp->root);
	hp->warn[0] = 0;
	r.d = d;
	r.pos = (int)(offset & ~3u);
	r.buf = b;
	err = guarded(hp, do_read, &r);
	if (err)
		return err;
	if (!r.ok) {
		if (hp->warn[0])
			return ish_error_format(ISH_ERROR_FAULT, "PCI: %s", hp->warn);
		if (offset >= 64 && geteuid() != 0)
			return ish_error_format(ISH_ERROR_FAULT,
						"PCI: %04x:%02x:%02x.%u: config offset %#x needs root "
						"(sysfs shows other users only the first 64 bytes)",
						segment, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, offset);
		return ish_error_format(ISH_ERROR_FAULT,
					"PCI: %04x:%02x:%02x.%u: config offset %#x is past the end of its config file",
					segment, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, offset);
	}
	v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	v >>= 8 * (offset & 3);
	*ret = width == 32 ? v : v & ((1u << width) - 1);
	return NULL;
}

#else /* !HAVE_LIBPCI */

struct ish_hostpci {
	int unused;
};

static struct ish_error *without(void)
{
	return ish_error_create(ISH_ERROR_UNSUPPORTED,
				"PCI on a live host needs libpci: iommush was built without libpci");
}

void ish_hostpci_destroy(struct ish_hostpci *hp)
{
	free(hp);
}

struct ish_error *ish_hostpci_functions(struct ish_target *t, struct ish_hostpci **hpp, bool local,
				       ish_pci_ident_fn *fn, void *arg)
{
	return without();
}

struct ish_error *ish_hostpci_read_config(struct ish_target *t, struct ish_hostpci **hpp, bool local,
					 uint16_t segment, uint16_t bdf, uint32_t offset,
					 unsigned width, uint32_t *ret)
{
	return without();
}

#endif
