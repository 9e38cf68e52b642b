// SPDX-License-Identifier: MIT
/*
 * The backend registry. Its order is the probe order for a TARGET given
 * without a backend: the first backend whose detect() claims it opens it.
 * Backends that claim a prefix or an exact name come first; dump comes last
 * because any regular file is at least a raw image.
 */
#include "backends.h"

const struct ish_backend *const ish_backends[] = {
	&ish_backend_gdbstub,
	&ish_backend_mem,
	&ish_backend_dump,
	NULL,
};
