// SPDX-License-Identifier: MIT
/* The gdbstub backend (QEMU's GDB remote stub): being written. */
#include <string.h>

#include "backends.h"

static bool gdbstub_detect(const char *spec)
{
	return !strncmp(spec, "gdb:", 4);
}

static struct ish_error *gdbstub_open(struct ish_target *t, const char *spec)
{
	return ish_error_create(ISH_ERROR_UNSUPPORTED, "the gdbstub backend is not finished yet");
}

const struct ish_backend ish_backend_gdbstub = {
	.name = "gdbstub",
	.help = "a QEMU guest through its GDB stub: gdb:HOST:PORT or gdb:unix:PATH",
	.params = (const struct ish_param_def[]){ { NULL, NULL, NULL } },
	.detect = gdbstub_detect,
	.open = gdbstub_open,
};
