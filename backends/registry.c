// SPDX-License-Identifier: MIT
/*
 * The backend registry. Its order is the probe order for a TARGET given
 * without a backend: the first backend whose detect() claims it opens it.
 * Backends that claim a prefix (gdb:) or an exact name (live, devmem, kcore,
 * debugfs, mem) come first; dump comes last because any regular file is at
 * least a raw image. debugfs also claims a directory holding a copy of the
 * iommu/intel files.
 */
#include "backends.h"

const struct ish_backend *const ish_backends[] = {
	&ish_backend_gdbstub,
	&ish_backend_live,
	&ish_backend_devmem,
	&ish_backend_kcore,
	&ish_backend_debugfs,
	&ish_backend_mem,
	&ish_backend_dump,
	NULL,
};
