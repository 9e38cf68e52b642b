// SPDX-License-Identifier: MIT
/*
 * What the live-host backends (devmem, kcore, debugfs, live) share: the
 * ACPI DMAR table of this host and its DRHDs, and why opening /dev/mem or
 * /proc/kcore failed, in words.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/vtd/dmar.h>

#include "backends.h"

#define DMAR_MAX_BYTES (1u << 20)

static struct ish_error *slurp(const char *path, size_t max, char **ret, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ish_error_errno(errno, "%s", path);
	return ish_backend_read_fd(fd, path, max, ret, len);
}

struct ish_error *ish_live_load_dmar(struct ish_target *t, bool required)
{
	const char *path = ish_target_param(t, "acpi.dmar");
	struct ish_error *err;
	char *buf;
	size_t len;

	if (!path || !*path) {
		if (required)
			return ish_error_create(ISH_ERROR_INVALID, "acpi.dmar is empty: no DMAR table");
		return NULL;
	}
	err = slurp(path, DMAR_MAX_BYTES, &buf, &len);
	if (err) {
		if (err->code == ISH_ERROR_OS && err->errnum == ENOENT) {
			if (!required) {
				ish_error_destroy(err);
				return NULL;
			}
			return ish_error_prefix(err, "no ACPI DMAR table (no VT-d in this machine, or "
						"it is disabled in the firmware setup)");
		}
		return err;
	}
	if (len < 48 || memcmp(buf, "DMAR", 4)) {
		free(buf);
		return ish_error_format(ISH_ERROR_FORMAT, "%s is not an ACPI DMAR table", path);
	}
	err = ish_target_set_dmar(t, buf, len);
	free(buf);
	return err;
}

struct drhd_acc {
	struct ish_unit *u;
	size_t n;
};

static struct ish_error *add_drhd(void *arg, const struct ish_unit *u)
{
	struct drhd_acc *a = arg;
	struct ish_unit *n;

	if (a->n >= 256)
		return ish_error_create(ISH_ERROR_LIMIT, "more than 256 DRHDs");
	n = realloc(a->u, (a->n + 1) * sizeof(*n));
	if (!n)
		return &ish_enomem;
	a->u = n;
	a->u[a->n] = *u;
	if (!a->u[a->n].name[0])
		snprintf(a->u[a->n].name, sizeof(a->u[a->n].name), "dmar%zu", a->n);
	a->u[a->n].index = (unsigned)a->n;
	a->n++;
	return NULL;
}

struct ish_error *ish_live_drhds(struct ish_target *t, struct ish_unit **ret, size_t *n)
{
	struct drhd_acc a = { 0 };
	size_t len;
	const void *dmar = ish_target_dmar(t, &len);
	struct ish_error *err;

	*ret = NULL;
	*n = 0;
	if (!dmar)
		return NULL;
	err = ish_dmar_units(dmar, len, add_drhd, &a);
	if (err) {
		free(a.u);
		return ish_error_prefix(err, "DMAR table");
	}
	*ret = a.u;
	*n = a.n;
	return NULL;
}

/* The lockdown mode in brackets ("none [integrity] confidentiality"), or NULL. */
static char *lockdown_mode(struct ish_target *t)
{
	const char *path = ish_target_param(t, "lockdown.path");
	char *buf, *open, *close, *mode = NULL;
	size_t len;
	struct ish_error *err;

	if (!path || !*path)
		return NULL;
	err = slurp(path, 4096, &buf, &len);
	if (err) {
		ish_error_destroy(err);
		return NULL;
	}
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (close) {
		*close = '\0';
		mode = strdup(open + 1);
	}
	free(buf);
	return mode;
}

char *ish_live_explain_open(struct ish_target *t, const char *path, int errnum)
{
	char *lock = NULL, *msg = NULL;
	int r;

	if (errnum == EACCES || errnum == EPERM) {
		lock = lockdown_mode(t);
		if (geteuid() != 0)
			r = asprintf(&msg, "%s: %s: reading it needs root (CAP_SYS_RAWIO); without root "
				     "only a dump or a copy of debugfs can be read",
				     path, strerror(errnum));
		else if (lock && strcmp(lock, "none"))
			r = asprintf(&msg, "%s: %s: the kernel is locked down (%s mode%s); %s",
				     path, strerror(errnum), lock,
				     strcmp(lock, "integrity") ? "" : ", e.g. by Secure Boot",
				     strcmp(lock, "integrity") ?
				     "only a dump taken another way can be read" :
				     "use the debugfs backend (its read-only files stay readable)");
		else
			r = asprintf(&msg, "%s: %s: refused although running as root (a security "
				     "module, or the file's permissions)", path, strerror(errnum));
	} else if (errnum == ENOENT) {
		r = asprintf(&msg, "%s: %s: the kernel does not provide it (CONFIG_DEVMEM or "
			     "CONFIG_PROC_KCORE is off)", path, strerror(errnum));
	} else {
		r = asprintf(&msg, "%s: %s", path, strerror(errnum));
	}
	free(lock);
	return r < 0 ? NULL : msg;
}

/*
 * Opens path for writing once. The block stays mapped read-only until
 * a write has passed the gate (iommush/write.h): a stray store through a
 * read-only mapping faults instead of reaching the hardware.
 */
struct ish_error *ish_open_for_writing(struct ish_target *t, const char *path, int *fd)
{
	if (*fd >= 0)
		return NULL;
	*fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		char *why = ish_live_explain_open(t, path, e);
		struct ish_error *err = ish_error_format(ISH_ERROR_OS, "opening for writing: %s",
							 why ? why : path);

		if (err != &ish_enomem)
			err->errnum = e;
		free(why);
		return err;
	}
	return NULL;
}
