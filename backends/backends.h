/* SPDX-License-Identifier: MIT */
/* Each backend is one file exporting one const table, listed in registry.c. */
#ifndef IOMMUSH_BACKENDS_H
#define IOMMUSH_BACKENDS_H

#include <iommush/target.h>

extern const struct ish_backend ish_backend_gdbstub;
extern const struct ish_backend ish_backend_mem;
extern const struct ish_backend ish_backend_dump;

#endif
