// SPDX-License-Identifier: MIT
/*
 * The kernel's own view (contract in iommush/kernel.h): VMCOREINFO (the
 * backend's note, else a scan of RAM), the x86-64 kernel address
 * translations, BTF on demand, and members read by name.
 *
 * Facts: Linux kernel/vmcore_info.c (crash_core.c before 6.9):
 * crash_save_vmcoreinfo_init() allocates vmcoreinfo_data as one zeroed page
 * (VMCOREINFO_BYTES = PAGE_SIZE) that it fills with "OSRELEASE=..." first,
 * and vmcoreinfo_note with alloc_pages_exact(), so both start at a page
 * boundary; the note is an ELF note named "VMCOREINFO" whose desc is the
 * same text. arch/x86/kernel/machine_kexec_64.c adds NUMBER(phys_base),
 * KERNELOFFSET and NUMBER(pgtable_l5_enabled). arch/x86/include/asm/
 * page_64_types.h: __START_KERNEL_map 0xffffffff80000000, KERNEL_IMAGE_SIZE
 * 1 GiB with KASLR; the direct map starts at page_offset_base
 * (0xffff888000000000 or, with 5-level paging, 0xff11000000000000, when
 * CONFIG_RANDOMIZE_MEMORY does not move it) and spans at most
 * 2^MAX_PHYSMEM_BITS (46, or 52 with 5-level paging) bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/btf.h>
#include <iommush/kernel.h>
#include <iommush/vtd/vtd.h>

#include "kernel_internal.h"

#define START_KERNEL_MAP 0xffffffff80000000ULL
#define KERNEL_IMAGE_SIZE (1ULL << 30)
#define PAGE_OFFSET_4LEVEL 0xffff888000000000ULL
#define PAGE_OFFSET_5LEVEL 0xff11000000000000ULL
/* Pages probed in one batch, between two looks at the interrupt flag. */
#define SCAN_POLL 256
/* What one probe reads at a page start: the note header, name and padding. */
#define PROBE_LEN 24

/* --- VMCOREINFO text --- */

struct vmci_line {
	const char *key, *value;
};

struct ish_vmcoreinfo {
	char *text;		/* a copy, with '=' and '\n' replaced by NULs */
	struct vmci_line *lines;
	size_t n;
};

void ish_vmcoreinfo_destroy(struct ish_vmcoreinfo *v)
{
	if (!v)
		return;
	free(v->lines);
	free(v->text);
	free(v);
}

struct ish_error *ish_vmcoreinfo_parse(const char *text, size_t len, struct ish_vmcoreinfo **ret)
{
	struct ish_vmcoreinfo *v;
	size_t cap = 0;
	char *p, *end;

	/* The kernel's buffer is NUL-padded; the text ends at the first NUL. */
	len = strnlen(text, len);
	if (len > ISH_VMCOREINFO_MAX)
		return ish_error_format(ISH_ERROR_LIMIT, "VMCOREINFO of %zu bytes is over %u", len,
					ISH_VMCOREINFO_MAX);
	v = calloc(1, sizeof(*v));
	if (!v)
		return &ish_enomem;
	v->text = malloc(len + 1);
	if (!v->text) {
		free(v);
		return &ish_enomem;
	}
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	for (p = v->text, end = v->text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;

		if (nl)
			*nl = '\0';
		eq = strchr(p, '=');
		if (eq && eq != p) {
			for (const char *c = p; c < eq; c++) {
				if (!isprint((unsigned char)*c)) {
					ish_vmcoreinfo_destroy(v);
					return ish_error_create(ISH_ERROR_FORMAT,
								"VMCOREINFO has a key that is not text");
				}
			}
			if (v->n == cap) {
				struct vmci_line *l = realloc(v->lines, (cap = cap ? 2 * cap : 64) *
									  sizeof(*l));

				if (!l) {
					ish_vmcoreinfo_destroy(v);
					return &ish_enomem;
				}
				v->lines = l;
			}
			*eq = '\0';
			v->lines[v->n].key = p;
			v->lines[v->n].value = eq + 1;
			v->n++;
		} else if (*p) {
			ish_vmcoreinfo_destroy(v);
			return ish_error_create(ISH_ERROR_FORMAT,
						"VMCOREINFO has a line that is not KEY=VALUE");
		}
		p = nl ? nl + 1 : end;
	}
	if (!ish_vmcoreinfo_get(v, "OSRELEASE")) {
		ish_vmcoreinfo_destroy(v);
		return ish_error_create(ISH_ERROR_FORMAT, "VMCOREINFO without OSRELEASE");
	}
	*ret = v;
	return NULL;
}

const char *ish_vmcoreinfo_get(const struct ish_vmcoreinfo *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->lines[i].key, key))
			return v->lines[i].value;
	return NULL;
}

struct ish_error *ish_vmcoreinfo_number(const struct ish_vmcoreinfo *v, const char *key,
					uint64_t *ret)
{
	const char *s = ish_vmcoreinfo_get(v, key);
	bool neg = false, hex;
	unsigned long long n;
	char *end;

	if (!s)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "VMCOREINFO has no %s", key);
	/* The kernel prints SYMBOL() and KERNELOFFSET with %lx, NUMBER() with %ld. */
	hex = !strncmp(key, "SYMBOL(", 7) || !strcmp(key, "KERNELOFFSET");
	if (!hex && *s == '-') {
		neg = true;
		s++;
	}
	if (!isxdigit((unsigned char)*s))
		return ish_error_format(ISH_ERROR_FORMAT, "VMCOREINFO %s is not a number", key);
	errno = 0;
	n = strtoull(s, &end, hex ? 16 : 10);
	if (errno || *end)
		return ish_error_format(ISH_ERROR_FORMAT, "VMCOREINFO %s is not a number", key);
	*ret = neg ? (uint64_t)0 - n : n;
	return NULL;
}

/* --- finding VMCOREINFO --- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct ish_error *ish_kernel_find_vmcoreinfo_note(const void *buf, size_t len, const char **desc,
						  size_t *desc_len)
{
	const uint8_t *p = buf;
	size_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = le32(p + off), descsz = le32(p + off + 4);
		uint64_t name_pad = ((uint64_t)namesz + 3) & ~3ULL;
		uint64_t desc_pad = ((uint64_t)descsz + 3) & ~3ULL;
		const uint8_t *name = p + off + 12;

		if (name_pad > len - off - 12 || descsz > len - off - 12 - name_pad)
			return ish_error_format(ISH_ERROR_FORMAT,
						"ELF note at offset %zu runs past its segment", off);
		if (namesz == 11 && !memcmp(name, "VMCOREINFO", 11)) {
			*desc = (const char *)name + name_pad;
			*desc_len = descsz;
			return NULL;
		}
		if (desc_pad > len - off - 12 - name_pad)
			break;
		off += 12 + name_pad + desc_pad;
	}
	return ish_error_create(ISH_ERROR_NOT_FOUND, "no VMCOREINFO note");
}

/* "LO-HI", both inclusive, as the shell's ranges are. */
static struct ish_error *parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *h;
	char *end;

	errno = 0;
	*lo = strtoull(s, &end, 0);
	if (errno || end == s || *end != '-' || *s == '-')
		goto bad;
	h = end + 1;
	*hi = strtoull(h, &end, 0);
	if (errno || end == h || *end || *h == '-' || *hi < *lo)
		goto bad;
	return NULL;
bad:
	return ish_error_format(ISH_ERROR_INVALID, "kernel.scan: '%s' is not LO-HI", s);
}

/* Where to look: kernel.scan, else the backend's RAM. */
static struct ish_error *scan_ranges(struct ish_target *t, struct ish_ram_range **ret, size_t *n)
{
	const char *s = ish_target_param(t, "kernel.scan");
	struct ish_error *err;

	if (s && *s) {
		uint64_t lo = 0, hi = 0;

		err = parse_range(s, &lo, &hi);
		if (err)
			return err;
		*ret = malloc(sizeof(**ret));
		if (!*ret)
			return &ish_enomem;
		(*ret)->start = lo;
		(*ret)->end = hi == UINT64_MAX ? hi : hi + 1;
		*n = 1;
		return NULL;
	}
	err = ish_target_ram_ranges(t, ret, n);
	if (err && err->code == ISH_ERROR_UNSUPPORTED)
		return ish_error_prefix(err, "cannot search for VMCOREINFO (give -O kernel.scan=LO-HI)");
	return err;
}

/* What a page's first bytes say: 0 nothing, else the text's offset in the page (0 is marked by 1). */
static size_t probe_says(const uint8_t *head)
{
	if (!memcmp(head, "OSRELEASE=", 10))
		return 1;
	if (le32(head) == 11 && !memcmp(head + 12, "VMCOREINFO\0", 12))
		return 24;
	return 0;
}

/* The VMCOREINFO text of a page whose first bytes looked like it, or NULL. */
static struct ish_error *read_page(struct ish_target *t, uint64_t page, size_t off, char **ret,
				   size_t *len)
{
	struct ish_error *err;
	uint8_t *buf;

	*ret = NULL;
	buf = malloc(VTD_PAGE_SIZE + 1);
	if (!buf)
		return &ish_enomem;
	/* Cached and recorded: a snapshot taken now keeps the page it found. */
	err = ish_read_phys(t, page, buf, VTD_PAGE_SIZE);
	if (err) {
		free(buf);
		if (err->code == ISH_ERROR_FAULT) {
			ish_error_destroy(err);
			return NULL;
		}
		return err;
	}
	buf[VTD_PAGE_SIZE] = '\0';
	if (off == 1) {
		off = 0;
	} else {
		uint32_t descsz = le32(buf + 4);

		if (descsz > VTD_PAGE_SIZE - off || memcmp(buf + off, "OSRELEASE=", 10)) {
			free(buf);
			return NULL;
		}
		buf[off + descsz] = '\0';
	}
	*len = strlen((char *)buf + off);
	memmove(buf, buf + off, *len + 1);
	*ret = (char *)buf;
	return NULL;
}

/*
 * Upwards from the bottom of RAM. Where the pages land is the page
 * allocator's business; on the lab's 256 MiB guests the two
 * (vmcoreinfo_data and vmcoreinfo_note, some 400 KiB apart) were near
 * 83 MiB in every PVH boot and 27 MiB in a KASLR boot, never near the top
 * (HACKING.md has the measured cost).
 */
static struct ish_error *scan_ram(struct ish_target *t, char **ret, size_t *len, uint64_t *where)
{
	struct ish_ram_range *r = NULL;
	uint64_t *pages = NULL, probes = 0;
	uint8_t *heads = NULL;
	bool *ok = NULL;
	struct ish_error *err;
	size_t n = 0;

	err = scan_ranges(t, &r, &n);
	if (err)
		return err;
	pages = malloc(SCAN_POLL * sizeof(*pages));
	heads = malloc(SCAN_POLL * PROBE_LEN);
	ok = malloc(SCAN_POLL * sizeof(*ok));
	if (!pages || !heads || !ok) {
		err = &ish_enomem;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = (r[i].start + VTD_PAGE_SIZE - 1) & VTD_PAGE_MASK;
		uint64_t hi = r[i].end & VTD_PAGE_MASK;

		if (r[i].start > UINT64_MAX - VTD_PAGE_SIZE)
			continue;
		for (uint64_t page = lo; page < hi;) {
			size_t k = 0;

			if ((err = ish_target_check_interrupt(t)))
				goto out;
			/* A batch of page starts at a time: the backend may pipeline them. */
			for (; k < SCAN_POLL && page < hi; k++, page += VTD_PAGE_SIZE)
				pages[k] = page;
			err = ish_read_phys_scatter(t, pages, k, PROBE_LEN, heads, ok);
			if (err)
				goto out;
			probes += k;
			for (size_t j = 0; j < k; j++) {
				size_t off = ok[j] ? probe_says(heads + j * PROBE_LEN) : 0;

				if (!off)
					continue;
				err = read_page(t, pages[j], off, ret, len);
				if (err)
					goto out;
				if (*ret) {
					*where = pages[j];
					goto out;
				}
			}
		}
	}
	err = ish_error_format(ISH_ERROR_NOT_FOUND,
			       "no VMCOREINFO in %" PRIu64 " pages of RAM (not a Linux guest, "
			       "or not booted yet?)", probes);
out:
	free(ok);
	free(heads);
	free(pages);
	free(r);
	return err;
}

/* --- the kernel object --- */

void ish_kernel_destroy(struct ish_kernel *k)
{
	if (!k)
		return;
	ish_vmcoreinfo_destroy(k->vmci);
	ish_kallsyms_deinit(&k->syms);
	ish_btf_destroy(k->btf);
	free(k->btf_error);
	free(k);
}

struct ish_error *ish_kernel_open_vmcoreinfo(struct ish_target *t, const char *text, size_t len,
					     const char *source, struct ish_kernel **ret)
{
	struct ish_kernel *k = calloc(1, sizeof(*k));
	struct ish_error *err;
	uint64_t v, l5 = 0;
	long pob;

	if (!k)
		return &ish_enomem;
	k->t = t;
	snprintf(k->source, sizeof(k->source), "%s", source);
	err = ish_vmcoreinfo_parse(text, len, &k->vmci);
	if (err)
		goto fail;
	err = ish_vmcoreinfo_number(k->vmci, "NUMBER(phys_base)", &k->phys_base);
	if (err) {
		err = ish_error_prefix(err, "not an x86-64 kernel's VMCOREINFO");
		goto fail;
	}
	err = ish_vmcoreinfo_number(k->vmci, "KERNELOFFSET", &v);
	if (!err)
		k->kaslr_offset = v;
	ish_error_destroy(err);
	err = ish_vmcoreinfo_number(k->vmci, "NUMBER(pgtable_l5_enabled)", &l5);
	ish_error_destroy(err);
	/* The only thing 5-level paging changes here: the direct map's default base and span. */
	k->page_offset_base = l5 ? PAGE_OFFSET_5LEVEL : PAGE_OFFSET_4LEVEL;
	k->direct_map_size = l5 ? 1ULL << 52 : 1ULL << 46;
	err = ish_kallsyms_load(k);
	if (err)
		goto fail;
	/* CONFIG_RANDOMIZE_MEMORY moves the direct map; the variable says where. */
	pob = ish_kallsyms_find(&k->syms, "page_offset_base");
	if (pob >= 0) {
		err = ish_kernel_read_u64(k, k->syms.addr[pob], &v);
		if (err) {
			err = ish_error_prefix(err, "reading page_offset_base");
			goto fail;
		}
		k->page_offset_base = v;
	}
	k->have_page_offset_base = true;
	*ret = k;
	return NULL;
fail:
	ish_kernel_destroy(k);
	return err;
}

struct ish_error *ish_kernel_open(struct ish_target *t, struct ish_kernel **ret)
{
	const char *where = NULL;
	struct ish_error *err;
	char *text = NULL, source[64];
	size_t len = 0;
	uint64_t page = 0;

	err = ish_target_vmcoreinfo(t, &text, &len, &where);
	if (!err) {
		snprintf(source, sizeof(source), "%s", where ? where : "note");
	} else if (err->code == ISH_ERROR_NOT_FOUND || err->code == ISH_ERROR_UNSUPPORTED) {
		ish_error_destroy(err);
		err = scan_ram(t, &text, &len, &page);
		if (err)
			return err;
		snprintf(source, sizeof(source), "RAM scan at %#" PRIx64, page);
	} else {
		return err;
	}
	err = ish_kernel_open_vmcoreinfo(t, text, len, source, ret);
	free(text);
	return err;
}

const char *ish_kernel_vmcoreinfo(const struct ish_kernel *k, const char *key)
{
	return ish_vmcoreinfo_get(k->vmci, key);
}

const char *ish_kernel_source(const struct ish_kernel *k)
{
	return k->source;
}

uint64_t ish_kernel_phys_base(const struct ish_kernel *k)
{
	return k->phys_base;
}

uint64_t ish_kernel_page_offset_base(const struct ish_kernel *k)
{
	return k->page_offset_base;
}

uint64_t ish_kernel_kaslr_offset(const struct ish_kernel *k)
{
	return k->kaslr_offset;
}

size_t ish_kernel_nsyms(const struct ish_kernel *k)
{
	return k->syms.n;
}

struct ish_error *ish_kernel_symbol(struct ish_kernel *k, const char *name, uint64_t *ret)
{
	long i = ish_kallsyms_find(&k->syms, name);

	if (i < 0)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no symbol %s in the kernel's kallsyms",
					name);
	*ret = k->syms.addr[i];
	return NULL;
}

/* The physical address of va and how many bytes after it map linearly. */
static struct ish_error *translate(const struct ish_kernel *k, uint64_t va, uint64_t *pa,
				   uint64_t *span)
{
	if (va >= START_KERNEL_MAP && va - START_KERNEL_MAP < KERNEL_IMAGE_SIZE) {
		*pa = va - START_KERNEL_MAP + k->phys_base;
		*span = KERNEL_IMAGE_SIZE - (va - START_KERNEL_MAP);
		return NULL;
	}
	if (k->have_page_offset_base && va >= k->page_offset_base &&
	    va - k->page_offset_base < k->direct_map_size) {
		*pa = va - k->page_offset_base;
		*span = k->direct_map_size - (va - k->page_offset_base);
		return NULL;
	}
	return ish_error_format(ISH_ERROR_FAULT,
				"kernel address %#" PRIx64 " is neither in the kernel image nor in "
				"the direct map", va);
}

struct ish_error *ish_kernel_va_to_pa(struct ish_kernel *k, uint64_t va, uint64_t *ret)
{
	uint64_t span;

	return translate(k, va, ret, &span);
}

uint64_t ish_kernel_pa_or_none(struct ish_kernel *k, uint64_t va)
{
	uint64_t pa;
	struct ish_error *err;

	if (!va)
		return ~0ULL;
	err = ish_kernel_va_to_pa(k, va, &pa);
	if (err) {
		ish_error_destroy(err);
		return ~0ULL;
	}
	return pa;
}

struct ish_error *ish_kernel_read(struct ish_kernel *k, uint64_t va, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t pa = 0, span = 0;
		size_t n;
		struct ish_error *err = translate(k, va, &pa, &span);

		if (err)
			return err;
		n = span < len ? (size_t)span : len;
		err = ish_read_phys(k->t, pa, out, n);
		if (err)
			return ish_error_prefix(err, "kernel address %#" PRIx64, va);
		out += n;
		va += n;
		len -= n;
	}
	return NULL;
}

struct ish_error *ish_kernel_read_u64(struct ish_kernel *k, uint64_t va, uint64_t *ret)
{
	uint8_t b[8];
	struct ish_error *err = ish_kernel_read(k, va, b, 8);

	if (err)
		return err;
	*ret = 0;
	for (int i = 7; i >= 0; i--)
		*ret = *ret << 8 | b[i];
	return NULL;
}

/* --- BTF --- */

struct ish_error *ish_kernel_btf(struct ish_kernel *k, const struct ish_btf **ret)
{
	uint64_t start, stop;
	struct ish_error *err;
	uint8_t *buf;

	if (k->btf) {
		*ret = k->btf;
		return NULL;
	}
	if (k->btf_error)
		return ish_error_create(ISH_ERROR_NOT_FOUND, k->btf_error);
	err = ish_kernel_symbol(k, "__start_BTF", &start);
	if (!err)
		err = ish_kernel_symbol(k, "__stop_BTF", &stop);
	if (err) {
		ish_error_destroy(err);
		err = ish_error_create(ISH_ERROR_NOT_FOUND,
				       "the kernel has no BTF (__start_BTF: CONFIG_DEBUG_INFO_BTF is off)");
		goto fail;
	}
	if (stop <= start || stop - start > ISH_BTF_MAX_SIZE) {
		err = ish_error_format(ISH_ERROR_FORMAT, "kernel BTF of %" PRId64 " bytes",
				       (int64_t)(stop - start));
		goto fail;
	}
	buf = malloc(stop - start);
	if (!buf)
		return &ish_enomem;
	err = ish_kernel_read(k, start, buf, stop - start);
	if (!err)
		err = ish_btf_parse(buf, stop - start, &k->btf);
	free(buf);
	if (err) {
		/* An interruption is not a fact about the kernel: try again next time. */
		if (err->code == ISH_ERROR_INTERRUPTED || err->code == ISH_ERROR_NOMEM)
			return err;
		err = ish_error_prefix(err, "kernel BTF");
		goto fail;
	}
	*ret = k->btf;
	return NULL;
fail:
	free(k->btf_error);
	k->btf_error = strdup(err->message);
	return err;
}

struct ish_error *ish_kernel_btf_info(struct ish_kernel *k, size_t *size, size_t *ntypes)
{
	const struct ish_btf *b;
	struct ish_error *err = ish_kernel_btf(k, &b);

	if (err)
		return err;
	*size = ish_btf_size(b);
	*ntypes = ish_btf_ntypes(b);
	return NULL;
}

static struct ish_error *find_type(struct ish_kernel *k, const char *type, const struct ish_btf **b,
				   uint32_t *id)
{
	struct ish_error *err = ish_kernel_btf(k, b);

	return err ? err : ish_btf_find(*b, type, id);
}

struct ish_error *ish_kernel_member(struct ish_kernel *k, const char *type, const char *member,
				    struct ish_kernel_member *ret)
{
	const struct ish_btf *b;
	uint32_t id;
	struct ish_error *err = find_type(k, type, &b, &id);

	return err ? err : ish_btf_member(b, id, member, ret);
}

struct ish_error *ish_kernel_type_size(struct ish_kernel *k, const char *type, uint64_t *ret)
{
	const struct ish_btf *b;
	uint32_t id;
	struct ish_error *err = find_type(k, type, &b, &id);

	return err ? err : ish_btf_type_size(b, id, ret);
}

struct ish_error *ish_kernel_read_member(struct ish_kernel *k, uint64_t va, const char *type,
					 const char *member, uint64_t *ret)
{
	struct ish_kernel_member m;
	uint8_t b[8];
	uint64_t v = 0;
	struct ish_error *err = ish_kernel_member(k, type, member, &m);

	if (err)
		return err;
	if (!m.size || m.size > 8)
		return ish_error_format(ISH_ERROR_INVALID, "%s.%s is %" PRIu64 " bytes, not a number",
					type, member, m.size);
	if (va + m.offset < va)
		return ish_error_fault(va, "%s at %#" PRIx64 " wraps around", type, va);
	err = ish_kernel_read(k, va + m.offset, b, m.size);
	if (err)
		return ish_error_prefix(err, "%s.%s", type, member);
	for (size_t i = m.size; i-- > 0;)
		v = v << 8 | b[i];
	if (m.bit_size) {
		v >>= m.bit_offset;
		if (m.bit_size < 64)
			v &= (1ULL << m.bit_size) - 1;
	}
	*ret = v;
	return NULL;
}
