// SPDX-License-Identifier: MIT
/*
 * VT-d fault lines of the kernel's log (iommush/vtd/kernel_log.h). The
 * format is dmar_fault_do_one()'s since Linux 5.x: one line per fault,
 * "[TYPE PASID] Request device [BB:DD.F] fault addr|index 0xN
 * [fault reason 0xRR] TEXT" after the "DMAR: " prefix of pr_fmt.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/kernel_log.h>

/* Consumes literal s at *p; false (p unchanged) when absent. */
static bool lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n))
		return false;
	*p += n;
	return true;
}

/* A hex number of at most 16 digits (no 0x). */
static bool hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned n = 0;

	while (s < end && isxdigit((unsigned char)*s) && n < 17) {
		v = v << 4 | (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' :
					  (tolower((unsigned char)*s) - 'a' + 10));
		s++;
		n++;
	}
	if (!n || n > 16)
		return false;
	*p = s;
	*ret = v;
	return true;
}

static void copy(char *dst, size_t cap, const char *s, const char *end)
{
	size_t n = (size_t)(end - s);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

bool ish_vtd_parse_fault_line(const char *line, size_t len, struct ish_kernel_fault *ret)
{
	const char *p = line, *end = line + len, *start;
	struct ish_kernel_fault f = { 0 };
	uint64_t bus, dev, fn, v;

	/* the record may end with the newline, or a continuation */
	for (const char *q = line; q < end; q++)
		if (*q == '\n') {
			end = q;
			break;
		}
	if (!lit(&p, end, "DMAR: ["))
		return false;
	start = p;
	if (lit(&p, end, "INTR-REMAP]")) {
		f.irq = true;
	} else {
		if (lit(&p, end, "DMA Read"))
			f.type = ISH_FAULT_READ;
		else if (lit(&p, end, "DMA Write"))
			f.type = ISH_FAULT_WRITE;
		else if (lit(&p, end, "Page Request"))
			f.type = ISH_FAULT_PAGE_REQ;
		else
			return false;
		if (lit(&p, end, " PASID 0x")) {
			if (!hex(&p, end, &v) || v > 0xfffff)
				return false;
			f.pasid_present = true;
			f.pasid = (uint32_t)v;
		} else if (!lit(&p, end, " NO_PASID")) {
			return false;
		}
		if (!lit(&p, end, "]"))
			return false;
	}
	if (!lit(&p, end, " Request device ["))
		return false;
	if (!hex(&p, end, &bus) || bus > 0xff || !lit(&p, end, ":") || !hex(&p, end, &dev) ||
	    dev > 0x1f || !lit(&p, end, ".") || !hex(&p, end, &fn) || fn > 7 || !lit(&p, end, "]"))
		return false;
	f.sid = (uint16_t)(bus << 8 | dev << 3 | fn);
	if (!lit(&p, end, f.irq ? " fault index 0x" : " fault addr 0x") || !hex(&p, end, &f.addr))
		return false;
	if (!lit(&p, end, " [fault reason 0x") || !hex(&p, end, &v) || v > 0xff ||
	    !lit(&p, end, "]"))
		return false;
	f.reason = (unsigned)v;
	lit(&p, end, " ");
	copy(f.kernel_text, sizeof(f.kernel_text), p, end);
	copy(f.line, sizeof(f.line), start - 1, end);
	/* the kernel picks its table by the code; so does this */
	f.text = ish_fault_reason_text(f.reason, ish_fault_reason_kind(f.reason) ==
					ISH_FAULT_KIND_SCALABLE);
	*ret = f;
	return true;
}

struct ish_error *ish_vtd_log_faults(const struct ish_printk_log *log,
				     struct ish_kernel_fault **ret, size_t *n)
{
	struct ish_kernel_fault *out = NULL, f;
	size_t cap = 0, cnt = 0;

	for (size_t i = 0; i < log->n; i++) {
		const struct ish_printk_record *r = &log->rec[i];

		if (!ish_vtd_parse_fault_line(r->text, r->len, &f))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct ish_kernel_fault *o = realloc(out, nc * sizeof(*o));

			if (!o) {
				free(out);
				return &ish_enomem;
			}
			out = o;
			cap = nc;
		}
		f.seq = r->seq;
		f.ts_nsec = r->ts_nsec;
		out[cnt++] = f;
	}
	*ret = out;
	*n = cnt;
	return NULL;
}
