/* SPDX-License-Identifier: MIT */
/* Shared by lib/kernel.c, lib/kallsyms.c and lib/kernel_vtd.c; not a public interface. */
#ifndef IOMMUSH_KERNEL_INTERNAL_H
#define IOMMUSH_KERNEL_INTERNAL_H

#include <iommush/btf.h>
#include <iommush/kernel.h>

/* Every symbol, its name in one blob, and an open-addressing index by name. */
struct ish_kallsyms {
	char *names;		/* NUL-terminated names, one after another */
	size_t names_len, names_cap;
	uint32_t *name_off;	/* by symbol */
	uint64_t *addr;		/* by symbol, relocated */
	size_t n;
	uint32_t *index;	/* symbol + 1, 0 = empty; capacity a power of two */
	size_t index_cap;
};

struct ish_kernel {
	struct ish_target *t;
	struct ish_vmcoreinfo *vmci;
	char source[64];
	uint64_t phys_base;
	uint64_t kaslr_offset;
	uint64_t page_offset_base;
	uint64_t direct_map_size;	/* bytes the direct map can span (4- or 5-level) */
	bool have_page_offset_base;
	struct ish_kallsyms syms;
	struct ish_btf *btf;
	char *btf_error;	/* why BTF could not be had, once tried */
};

/* The physical address of va, or ~0 when va is NULL or not mapped (the error is dropped). */
uint64_t ish_kernel_pa_or_none(struct ish_kernel *k, uint64_t va);

/* Decodes the kallsyms tables VMCOREINFO names into k->syms. */
struct ish_error *ish_kallsyms_load(struct ish_kernel *k);
void ish_kallsyms_deinit(struct ish_kallsyms *s);
/* Symbol index, or -1. */
long ish_kallsyms_find(const struct ish_kallsyms *s, const char *name);

#endif
