// SPDX-License-Identifier: MIT
/*
 * The printk ring reader (lib/printk.c) and the VT-d fault lines
 * (lib/vtd/kernel_log.c) on a ring laid out here as Linux 6.1 lays it out
 * (the lab guest's VMCOREINFO values): ordered records, a block that wraps
 * to data[0], descriptors being written or released, a missing layout line.
 */
#include <iommush/printk.h>
#include <iommush/vtd/kernel_log.h>

#include "check.h"

#define BASE 0xffff888000000000ULL
#define COUNT_BITS 3
#define SIZE_BITS 9

static const char layout[] =
	"OSRELEASE=6.1.0-57-amd64\nSIZE(printk_ringbuffer)=88\nOFFSET(printk_ringbuffer.desc_ring)=0\n"
	"OFFSET(printk_ringbuffer.text_data_ring)=48\nOFFSET(prb_desc_ring.count_bits)=0\n"
	"OFFSET(prb_desc_ring.descs)=8\nOFFSET(prb_desc_ring.infos)=16\n"
	"OFFSET(prb_desc_ring.head_id)=24\nOFFSET(prb_desc_ring.tail_id)=32\n"
	"SIZE(prb_desc)=24\nOFFSET(prb_desc.state_var)=0\nOFFSET(prb_desc.text_blk_lpos)=8\n"
	"OFFSET(prb_data_blk_lpos.begin)=0\nOFFSET(prb_data_blk_lpos.next)=8\n"
	"SIZE(printk_info)=88\nOFFSET(printk_info.seq)=0\nOFFSET(printk_info.ts_nsec)=8\n"
	"OFFSET(printk_info.text_len)=16\nOFFSET(printk_info.caller_id)=20\n"
	"OFFSET(prb_data_ring.size_bits)=0\nOFFSET(prb_data_ring.data)=8\n"
	"OFFSET(atomic_long_t.counter)=0\nSYMBOL(prb)=ffff888000000000\n";

static uint8_t img[0x800 + (1 << SIZE_BITS)];

static void put(size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		img[off + i] = (uint8_t)(v >> (8 * i));
}

static struct ish_error *rd(void *arg, uint64_t va, void *buf, size_t len)
{
	(void)arg;
	if (va < BASE || va - BASE > sizeof(img) || len > sizeof(img) - (va - BASE))
		return ish_error_fault(va, "outside");
	memcpy(buf, img + (va - BASE), len);
	return NULL;
}

/* Record i of n: id first + i; wrap puts the last block at data[0]. */
static void build(const char *const *texts, size_t n, const unsigned *states, bool wrap)
{
	uint64_t first = 3 << COUNT_BITS, lpos = 2 << SIZE_BITS, size = 1 << SIZE_BITS;

	memset(img, 0, sizeof(img));
	put(0, BASE + 0x10, 8);
	put(0x10, COUNT_BITS, 4);
	put(0x18, BASE + 0x100, 8);
	put(0x20, BASE + 0x400, 8);
	put(0x28, first + n - 1, 8);
	put(0x30, first, 8);
	put(0x40, SIZE_BITS, 4);
	put(0x48, BASE + 0x800, 8);
	for (size_t i = 0; i < n; i++) {
		uint64_t id = first + i, slot = id & 7, len = strlen(texts[i]);
		uint64_t blen = (8 + len + 7) & ~7ULL, begin, next, off;

		if (wrap && i == n - 1)
			lpos = (lpos | (size - 1)) + 1 - 8;
		begin = lpos;
		if (begin / size != (begin + blen) / size) {
			next = (begin / size + 1) * size + blen;
			off = 0;
		} else {
			next = begin + blen;
			off = begin % size;
		}
		put(0x100 + slot * 24, id | (uint64_t)(states ? states[i] : 2) << 62, 8);
		put(0x108 + slot * 24, begin, 8);
		put(0x110 + slot * 24, next, 8);
		put(0x400 + slot * 88, 100 + i, 8);
		put(0x408 + slot * 88, 1000000 * (i + 1), 8);
		put(0x410 + slot * 88, len, 2);
		put(0x413 + slot * 88, (i ? 6u : 3u) << 5, 1);
		put(0x800 + off, id, 8);
		memcpy(img + 0x800 + off + 8, texts[i], len);
		lpos = next;
	}
}

static const char *const lines[] = {
	"DMAR: IOMMU enabled",
	"DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x7000 "
	"[fault reason 0x05] PTE Write access is not set",
	"random: crng init done",
	"DMAR: [DMA Read PASID 0x1] Request device [01:00.0] fault addr 0xdead000 "
	"[fault reason 0x59] SM: Present bit in PASID table entry is clear",
	"DMAR: [INTR-REMAP] Request device [00:1f.0] fault index 0x12 "
	"[fault reason 0x25] Present field in the IRTE entry is clear",
};

static struct ish_printk_log *read_ring(const char *text, int level_bit, struct ish_error **errp)
{
	struct ish_vmcoreinfo *v;
	struct ish_printk_log *log = NULL;

	OK(ish_vmcoreinfo_parse(text, strlen(text), &v));
	*errp = ish_printk_read_log(v, 0, level_bit, rd, NULL, &log);
	ish_vmcoreinfo_destroy(v);
	return log;
}

static void test_ring(void)
{
	struct ish_kernel_fault *f;
	struct ish_printk_log *log;
	struct ish_error *err;
	size_t n;

	build(lines, 5, NULL, false);
	log = read_ring(layout, 19 * 8 + 5, &err);
	CHECK(!err);
	if (!log)
		return;
	CHECK_EQ(log->n, 5);
	for (size_t i = 0; i < log->n && i < 5; i++) {
		CHECK_STR(log->rec[i].text, lines[i]);
		CHECK_EQ(log->rec[i].seq, 100 + i);
		CHECK_EQ(log->rec[i].ts_nsec, 1000000 * (i + 1));
		CHECK_EQ(log->rec[i].level, i ? 6 : 3);
	}
	CHECK(ish_printk_iommu_line(log->rec[0].text, log->rec[0].len));
	CHECK(!ish_printk_iommu_line(log->rec[2].text, log->rec[2].len));
	OK(ish_vtd_log_faults(log, &f, &n));
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EQ(f[0].sid, 0x0020);
		CHECK_EQ(f[0].addr, 0x7000);
		CHECK_EQ(f[0].type, ISH_FAULT_WRITE);
		CHECK_EQ(f[0].reason, 5);
		CHECK(!f[0].pasid_present);
		CHECK_STR(f[0].kernel_text, "PTE Write access is not set");
		CHECK_EQ(f[0].seq, 101);
		CHECK_EQ(f[1].sid, 0x0100);
		CHECK_EQ(f[1].type, ISH_FAULT_READ);
		CHECK(f[1].pasid_present && f[1].pasid == 1);
		CHECK_EQ(f[1].reason, 0x59);
		CHECK(f[2].irq);
		CHECK_EQ(f[2].addr, 0x12);
		CHECK_EQ(f[2].sid, 0x00f8);
	}
	free(f);
	ish_printk_log_destroy(log);
}

static void test_states_and_wrap(void)
{
	static const unsigned states[] = { 2, 0, 1, 3, 2 };
	struct ish_printk_log *log;
	struct ish_error *err;

	/* reserved (0) is counted as being written, reusable (3) is not a record */
	build(lines, 5, states, false);
	log = read_ring(layout, -1, &err);
	CHECK(!err);
	if (log) {
		CHECK_EQ(log->n, 3);
		CHECK_EQ(log->skipped, 1);
		CHECK(log->n == 3 && log->rec[1].seq == 102 && log->rec[0].level == -1);
		ish_printk_log_destroy(log);
	}
	/* the last block wraps: its text is at data[0] */
	build(lines, 3, NULL, true);
	log = read_ring(layout, -1, &err);
	CHECK(!err);
	if (log) {
		CHECK_EQ(log->n, 3);
		if (log->n == 3)
			CHECK_STR(log->rec[2].text, lines[2]);
		ish_printk_log_destroy(log);
	}
}

static void test_bad_layout(void)
{
	struct ish_printk_log *log;
	struct ish_error *err;
	char text[sizeof(layout) + 64];

	build(lines, 2, NULL, false);
	/* a kernel before 5.10 has no such lines */
	log = read_ring("OSRELEASE=5.4.0\n", -1, &err);
	CHECK(!log && err && err->code == ISH_ERROR_NOT_FOUND);
	ish_error_destroy(err);
	/* an offset past its struct */
	snprintf(text, sizeof(text), "%sOFFSET(prb_desc.state_var)=20\n", layout);
	*strstr(text, "OFFSET(prb_desc.state_var)=0") = 'X';
	log = read_ring(text, -1, &err);
	CHECK(!log && err && err->code == ISH_ERROR_FORMAT);
	ish_error_destroy(err);
	/* count_bits beyond the bound */
	put(0x10, 40, 4);
	log = read_ring(layout, -1, &err);
	CHECK(!log && err && err->code == ISH_ERROR_FORMAT);
	ish_error_destroy(err);
}

static void test_fault_lines(void)
{
	struct ish_kernel_fault f;
	static const char *const bad[] = {
		"DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x7000",
		"DMAR: [DMA Write] Request device [00:04.0] fault addr 0x7000 [fault reason 0x05] x",
		"DMAR: [DMA Write NO_PASID] Request device [00:20.0] fault addr 0x7000 [fault reason 0x05] x",
		"DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x11112222333344445 "
		"[fault reason 0x05] x",
		"DMAR: DRHD: handling fault status reg 2",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!ish_vtd_parse_fault_line(bad[i], strlen(bad[i]), &f));
	CHECK(ish_vtd_parse_fault_line(lines[1], strlen(lines[1]), &f));
	CHECK_STR(f.line, lines[1] + 6);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("ring") test_ring();
	CASE("states_and_wrap") test_states_and_wrap();
	CASE("bad_layout") test_bad_layout();
	CASE("fault_lines") test_fault_lines();
	return check_report();
}
