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

const struct ish_backend *ish_backend_probe(const char *spec)
{
	for (size_t i = 0; ish_backends[i]; i++)
		if (ish_backends[i]->detect && ish_backends[i]->detect(spec))
			return ish_backends[i];
	return NULL;
}

const char *ish_backend_name(const struct ish_backend *b)
{
	return b->name;
}

const char *ish_backend_help(const struct ish_backend *b)
{
	return b->help;
}

const struct ish_param_def *ish_backend_params(const struct ish_backend *b)
{
	return b->params;
}

bool ish_backend_read_only(const struct ish_backend *b)
{
	return !b->write_phys && !b->write_reg;
}

bool ish_backend_cheap(const struct ish_backend *b)
{
	return b->flags & ISH_BACKEND_NOCACHE;
}

void ish_target_describe(struct ish_target *t, ish_describe_fn *fn, void *arg)
{
	const struct ish_backend *b = ish_target_backend(t);

	if (b->describe)
		b->describe(t, fn, arg);
}

bool ish_backend_can_stop(const struct ish_backend *b)
{
	return b->stop && b->resume;
}
