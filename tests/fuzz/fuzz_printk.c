// SPDX-License-Identifier: MIT
/*
 * The printk ring buffer reader (lib/printk.c) and the VT-d fault lines
 * (lib/vtd/kernel_log.c). Input: a u16 length L, L bytes of VMCOREINFO
 * text (the layout, SYMBOL(prb)), one byte B (printk_info.level's bit
 * offset B - 1, or none when B is 0), then a memory image read at kernel
 * virtual address 0xffff888000000000 (a read outside it fails). Every
 * record found goes through the IOMMU-line filter and the fault-line
 * parser; the fault list is built from the log.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/kernel.h>
#include <iommush/printk.h>
#include <iommush/vtd/kernel_log.h>

#include "fuzz.h"

#define BASE 0xffff888000000000ULL

static volatile uint64_t sink;

struct image {
	const uint8_t *p;
	size_t n;
};

static struct ish_error *rd(void *arg, uint64_t va, void *buf, size_t len)
{
	const struct image *im = arg;

	if (va < BASE || va - BASE > im->n || len > im->n - (va - BASE))
		return ish_error_fault(va, "%#llx outside the image", (unsigned long long)va);
	memcpy(buf, im->p + (va - BASE), len);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz c = { data, size };
	size_t tlen = (size_t)fz_bytes(&c, 2);
	struct ish_vmcoreinfo *v;
	struct ish_printk_log *log;
	struct ish_kernel_fault *f;
	struct ish_error *err;
	struct image im;
	int level_bit;
	size_t n;

	if (tlen > c.n)
		tlen = c.n;
	err = ish_vmcoreinfo_parse((const char *)c.p, tlen, &v);
	c.p += tlen;
	c.n -= tlen;
	if (err) {
		ish_error_destroy(err);
		return 0;
	}
	level_bit = (int)fz_bytes(&c, 1) - 1;
	im.p = c.p;
	im.n = c.n;
	err = ish_printk_read_log(v, 0, level_bit, rd, &im, &log);
	if (err) {
		sink += strlen(err->message);
		ish_error_destroy(err);
		ish_vmcoreinfo_destroy(v);
		return 0;
	}
	for (size_t i = 0; i < log->n; i++) {
		struct ish_kernel_fault one;

		sink += log->rec[i].seq + log->rec[i].len + (unsigned)log->rec[i].level;
		sink += strlen(log->rec[i].text);
		sink += ish_printk_iommu_line(log->rec[i].text, log->rec[i].len);
		if (ish_vtd_parse_fault_line(log->rec[i].text, log->rec[i].len, &one))
			sink += one.addr + strlen(one.text) + strlen(one.line);
	}
	err = ish_vtd_log_faults(log, &f, &n);
	if (!err) {
		for (size_t i = 0; i < n; i++)
			sink += f[i].sid + strlen(f[i].kernel_text);
		free(f);
	}
	ish_error_destroy(err);
	ish_printk_log_destroy(log);
	ish_vmcoreinfo_destroy(v);
	return 0;
}
