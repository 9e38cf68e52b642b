// SPDX-License-Identifier: MIT
/*
 * DMAR decoder tests: the fixture compiled by iasl from full.dsl (values
 * checked against that source, which `iasl -d full.bin` prints back), the
 * table QEMU 7.2 builds, tables built here for the types iasl 20200925 does
 * not know (SATC, SIDP, reserved), and hostile tables.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "check.h"

#include <iommush/vtd/dmar.h>

#define FIXTURES ISH_SOURCE_ROOT "/tests/fixtures/dmar/"

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(65536);
	size_t n;

	if (!f || !buf) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	n = fread(buf, 1, 65536, f);
	fclose(f);
	*len = n;
	return buf;
}

/* --- a little table builder for synthetic cases --- */

struct tb {
	uint8_t b[1024];
	size_t n;
};

static void put8(struct tb *t, uint8_t v)
{
	t->b[t->n++] = v;
}

static void put16(struct tb *t, uint16_t v)
{
	put8(t, (uint8_t)v);
	put8(t, (uint8_t)(v >> 8));
}

static void put32(struct tb *t, uint32_t v)
{
	put16(t, (uint16_t)v);
	put16(t, (uint16_t)(v >> 16));
}

static void put64(struct tb *t, uint64_t v)
{
	put32(t, (uint32_t)v);
	put32(t, (uint32_t)(v >> 32));
}

static void set16(struct tb *t, size_t off, uint16_t v)
{
	t->b[off] = (uint8_t)v;
	t->b[off + 1] = (uint8_t)(v >> 8);
}

static void set32(struct tb *t, size_t off, uint32_t v)
{
	set16(t, off, (uint16_t)v);
	set16(t, off + 2, (uint16_t)(v >> 16));
}

static void tb_header(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "DMAR", 4);
	t->b[8] = 1;
	memcpy(t->b + 10, "ISHTST", 6);
	memcpy(t->b + 16, "SYNTHTBL", 8);
	memcpy(t->b + 28, "ISH ", 4);
	t->b[36] = 38;	/* HAW 39 */
	t->b[37] = ISH_DMAR_INTR_REMAP;
	t->n = ISH_DMAR_HEADER_LEN;
}

/* Fixes the length and checksum. */
static void tb_finish(struct tb *t)
{
	uint8_t sum = 0;

	set32(t, 4, (uint32_t)t->n);
	t->b[9] = 0;
	for (size_t i = 0; i < t->n; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)-sum;
}

static size_t tb_begin(struct tb *t, uint16_t type)
{
	size_t at = t->n;

	put16(t, type);
	put16(t, 0);
	return at;
}

static void tb_end(struct tb *t, size_t at)
{
	set16(t, at + 2, (uint16_t)(t->n - at));
}

static void tb_scope(struct tb *t, uint8_t type, uint8_t enum_id, uint8_t bus, uint8_t dev,
		     uint8_t fn)
{
	put8(t, type);
	put8(t, 8);
	put16(t, 0);
	put8(t, enum_id);
	put8(t, bus);
	put8(t, dev);
	put8(t, fn);
}

static const struct ish_dmar_finding *find_finding(const struct ish_dmar *d, const char *needle)
{
	for (size_t i = 0; i < d->nfindings; i++)
		if (strstr(d->findings[i].message, needle))
			return &d->findings[i];
	return NULL;
}

/* --- the iasl fixture --- */

static void test_full(void)
{
	size_t len;
	uint8_t *buf = load(FIXTURES "full.bin", &len);
	struct ish_dmar *d;
	const struct ish_dmar_struct *s;

	OK(ish_dmar_parse(buf, len, &d));
	CHECK_STR(d->signature, "DMAR");
	CHECK_EQ(d->length, 0xcd);
	CHECK_EQ(d->revision, 1);
	CHECK(d->checksum_ok);
	CHECK_STR(d->oem_id, "ISHTST");
	CHECK_STR(d->oem_table_id, "FULLDMAR");
	CHECK_EQ(d->oem_revision, 7);
	CHECK_STR(d->creator_id, "INTL");
	CHECK_EQ(d->haw, 0x2e);
	CHECK_EQ(d->flags, ISH_DMAR_INTR_REMAP | ISH_DMAR_DMA_CTRL_PLATFORM_OPT_IN);
	CHECK_EQ(d->nfindings, 0);
	CHECK_EQ(d->nstructs, 6);
	if (d->nstructs != 6)
		goto out;

	s = &d->structs[0];
	CHECK_EQ(s->type, ISH_DMAR_TYPE_DRHD);
	CHECK_EQ(s->offset, 0x30);
	CHECK_EQ(s->length, 0x22);
	CHECK_EQ(s->flags, 0);
	CHECK_EQ(s->segment, 0);
	CHECK_EQ(s->base, 0xfed90000);
	CHECK_EQ(s->nscopes, 2);
	CHECK_EQ(s->scopes[0].type, ISH_DMAR_SCOPE_PCI_ENDPOINT);
	CHECK_EQ(s->scopes[0].offset, 0x40);
	CHECK_EQ(s->scopes[0].bus, 0);
	CHECK_EQ(s->scopes[0].npath, 1);
	CHECK_EQ(s->scopes[0].path[0].dev, 2);
	CHECK_EQ(s->scopes[0].path[0].fn, 0);
	CHECK_EQ(s->scopes[1].type, ISH_DMAR_SCOPE_PCI_BRIDGE);
	CHECK_EQ(s->scopes[1].length, 10);
	CHECK_EQ(s->scopes[1].npath, 2);
	CHECK_EQ(s->scopes[1].path[0].dev, 0x1c);
	CHECK_EQ(s->scopes[1].path[0].fn, 4);
	CHECK_EQ(s->scopes[1].path[1].dev, 0);
	CHECK_EQ(s->scopes[1].path[1].fn, 1);

	s = &d->structs[1];
	CHECK_EQ(s->type, ISH_DMAR_TYPE_DRHD);
	CHECK_EQ(s->flags, ISH_DRHD_INCLUDE_PCI_ALL);
	CHECK_EQ(s->segment, 1);
	CHECK_EQ(s->base, 0xfed91000);
	CHECK_EQ(s->nscopes, 3);
	CHECK_EQ(s->scopes[0].type, ISH_DMAR_SCOPE_IOAPIC);
	CHECK_EQ(s->scopes[0].enum_id, 2);
	CHECK_EQ(s->scopes[0].bus, 0xf0);
	CHECK_EQ(s->scopes[0].path[0].dev, 0x1f);
	CHECK_EQ(s->scopes[1].type, ISH_DMAR_SCOPE_HPET);
	CHECK_EQ(s->scopes[1].path[0].fn, 7);
	CHECK_EQ(s->scopes[2].type, ISH_DMAR_SCOPE_NAMESPACE);
	CHECK_EQ(s->scopes[2].enum_id, 1);
	CHECK_EQ(s->scopes[2].path[0].dev, 0x15);
	CHECK_EQ(s->scopes[2].path[0].fn, 1);

	s = &d->structs[2];
	CHECK_EQ(s->type, ISH_DMAR_TYPE_RMRR);
	CHECK_EQ(s->base, 0x7c000000);
	CHECK_EQ(s->limit, 0x7c7fffff);
	CHECK_EQ(s->nscopes, 1);
	CHECK_EQ(s->scopes[0].path[0].dev, 0x14);

	s = &d->structs[3];
	CHECK_EQ(s->type, ISH_DMAR_TYPE_ATSR);
	CHECK_EQ(s->flags, ISH_ATSR_ALL_PORTS);
	CHECK_EQ(s->segment, 1);
	CHECK_EQ(s->nscopes, 0);

	s = &d->structs[4];
	CHECK_EQ(s->type, ISH_DMAR_TYPE_RHSA);
	CHECK_EQ(s->base, 0xfed91000);
	CHECK_EQ(s->proximity, 1);

	s = &d->structs[5];
	CHECK_EQ(s->type, ISH_DMAR_TYPE_ANDD);
	CHECK_EQ(s->device_number, 1);
	CHECK_STR(s->object_name, "\\_SB.PCI0.UAR1");
out:
	ish_dmar_destroy(d);
	free(buf);
}

/* --- the table QEMU 7.2 builds for q35 + intel-iommu,intremap=on --- */

struct units {
	unsigned n;
	struct ish_unit u[4];
	unsigned stop_after;	/* return an error after this many, 0 = never */
};

static struct ish_error *collect(void *arg, const struct ish_unit *u)
{
	struct units *us = arg;

	if (us->n < 4)
		us->u[us->n] = *u;
	us->n++;
	if (us->stop_after && us->n >= us->stop_after)
		return ish_error_create(ISH_ERROR_LIMIT, "enough");
	return NULL;
}

static void test_qemu(void)
{
	size_t len;
	uint8_t *buf = load(FIXTURES "qemu72-q35-intremap.bin", &len);
	struct ish_dmar *d;
	struct units us = { 0 };
	static const uint8_t devs[] = { 0, 0x1f, 0x1f, 0x1f }, fns[] = { 0, 0, 2, 3 };

	CHECK_EQ(len, 104);
	OK(ish_dmar_parse(buf, len, &d));
	CHECK(d->checksum_ok);
	CHECK_STR(d->oem_id, "BOCHS ");
	CHECK_STR(d->oem_table_id, "BXPC    ");
	CHECK_EQ(d->haw, 0x26);	/* 39-bit host address width */
	CHECK_EQ(d->flags, ISH_DMAR_INTR_REMAP);
	CHECK_EQ(d->nstructs, 1);
	CHECK_EQ(d->nfindings, 0);
	if (d->nstructs == 1) {
		const struct ish_dmar_struct *s = &d->structs[0];

		CHECK_EQ(s->type, ISH_DMAR_TYPE_DRHD);
		CHECK_EQ(s->length, 0x38);
		CHECK_EQ(s->flags, 0);
		CHECK_EQ(s->base, 0xfed90000);
		CHECK_EQ(s->nscopes, 5);
		if (s->nscopes == 5) {
			CHECK_EQ(s->scopes[0].type, ISH_DMAR_SCOPE_IOAPIC);
			CHECK_EQ(s->scopes[0].bus, 0xff);
			CHECK_EQ(s->scopes[0].enum_id, 0);
			for (unsigned i = 0; i < 4; i++) {
				CHECK_EQ(s->scopes[i + 1].type, ISH_DMAR_SCOPE_PCI_ENDPOINT);
				CHECK_EQ(s->scopes[i + 1].bus, 0);
				CHECK_EQ(s->scopes[i + 1].path[0].dev, devs[i]);
				CHECK_EQ(s->scopes[i + 1].path[0].fn, fns[i]);
			}
		}
	}
	ish_dmar_destroy(d);

	OK(ish_dmar_units(buf, len, collect, &us));
	CHECK_EQ(us.n, 1);
	CHECK_EQ(us.u[0].reg_base, 0xfed90000);
	CHECK_EQ(us.u[0].segment, 0);
	CHECK_EQ(us.u[0].drhd_flags, 0);
	CHECK_EQ(us.u[0].size_pages, 1);	/* Size 0: one page */
	free(buf);
}

static void test_units(void)
{
	size_t len;
	uint8_t *buf = load(FIXTURES "full.bin", &len);
	struct units us = { 0 };

	OK(ish_dmar_units(buf, len, collect, &us));
	CHECK_EQ(us.n, 2);
	CHECK_EQ(us.u[0].reg_base, 0xfed90000);
	CHECK_EQ(us.u[1].reg_base, 0xfed91000);
	CHECK_EQ(us.u[1].segment, 1);
	CHECK_EQ(us.u[1].drhd_flags, ISH_DRHD_INCLUDE_PCI_ALL);
	/* The callback's error stops the walk and comes back unchanged. */
	memset(&us, 0, sizeof(us));
	us.stop_after = 1;
	FAILS(ish_dmar_units(buf, len, collect, &us), ISH_ERROR_LIMIT);
	CHECK_EQ(us.n, 1);
	free(buf);
}

/* --- types iasl 20200925 cannot compile --- */

static void test_synthetic(void)
{
	struct tb t;
	struct ish_dmar *d;
	size_t at;

	tb_header(&t);
	at = tb_begin(&t, ISH_DMAR_TYPE_DRHD);
	put8(&t, ISH_DRHD_ATC_REQUIRED);
	put8(&t, 3);	/* 8 pages */
	put16(&t, 2);
	put64(&t, 0xfed92000);
	tb_end(&t, at);
	at = tb_begin(&t, ISH_DMAR_TYPE_SATC);
	put8(&t, ISH_SATC_ATC_REQUIRED);
	put8(&t, 0);
	put16(&t, 2);
	tb_scope(&t, ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 0, 2, 0);
	tb_end(&t, at);
	at = tb_begin(&t, ISH_DMAR_TYPE_SIDP);
	put16(&t, 0);
	put16(&t, 3);
	tb_scope(&t, ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 0, 4, 1);
	t.b[t.n - 6] = 0x01;	/* scope flags byte */
	tb_end(&t, at);
	at = tb_begin(&t, 0x99);	/* reserved type: kept raw */
	put32(&t, 0xdeadbeef);
	tb_end(&t, at);
	at = tb_begin(&t, ISH_DMAR_TYPE_RMRR);
	put16(&t, 0);
	put16(&t, 0);
	put64(&t, 0x10000);
	put64(&t, 0x10fff);
	tb_scope(&t, 7, 0, 0, 1, 0);	/* reserved scope type */
	tb_end(&t, at);
	tb_finish(&t);

	OK(ish_dmar_parse(t.b, t.n, &d));
	CHECK(d->checksum_ok);
	CHECK_EQ(d->nstructs, 5);
	if (d->nstructs == 5) {
		CHECK_EQ(d->structs[0].flags, ISH_DRHD_ATC_REQUIRED);
		CHECK_EQ(d->structs[0].size, 3);
		CHECK_EQ(d->structs[1].type, ISH_DMAR_TYPE_SATC);
		CHECK_EQ(d->structs[1].flags, ISH_SATC_ATC_REQUIRED);
		CHECK_EQ(d->structs[1].segment, 2);
		CHECK_EQ(d->structs[1].nscopes, 1);
		CHECK_EQ(d->structs[2].type, ISH_DMAR_TYPE_SIDP);
		CHECK_EQ(d->structs[2].segment, 3);
		CHECK_EQ(d->structs[2].scopes[0].flags, 1);
		CHECK_EQ(d->structs[2].scopes[0].path[0].dev, 4);
		CHECK_EQ(d->structs[3].type, 0x99);
		CHECK_EQ(d->structs[3].raw_len, 4);
		CHECK_EQ(d->structs[3].raw[0], 0xef);
		CHECK_EQ(d->structs[3].raw[3], 0xde);
		CHECK_EQ(d->structs[4].scopes[0].type, 7);
	}
	CHECK(find_finding(d, "type 153 is reserved") != NULL);
	CHECK(find_finding(d, "scope type 7 is reserved") != NULL);
	CHECK_EQ(d->nfindings, 2);
	ish_dmar_destroy(d);

	{
		struct units us = { 0 };

		OK(ish_dmar_units(t.b, t.n, collect, &us));
		CHECK_EQ(us.n, 1);
		CHECK_EQ(us.u[0].size_pages, 8);
		CHECK_EQ(us.u[0].segment, 2);
	}

	/* Size 8 (256 pages) does not fit ish_unit.size_pages: reported unknown. */
	t.b[ISH_DMAR_HEADER_LEN + 5] = 8;
	tb_finish(&t);
	{
		struct units us = { 0 };

		OK(ish_dmar_units(t.b, t.n, collect, &us));
		CHECK_EQ(us.u[0].size_pages, 0);
	}
}

/* --- findings: problems that do not stop decoding --- */

static void test_findings(void)
{
	size_t len;
	uint8_t *buf = load(FIXTURES "full.bin", &len);
	uint8_t *big = calloc(1, len + 16);
	struct ish_dmar *d;
	const struct ish_dmar_finding *f;

	buf[9] ^= 0x5a;	/* break the checksum */
	OK(ish_dmar_parse(buf, len, &d));
	CHECK(!d->checksum_ok);
	f = find_finding(d, "checksum");
	CHECK(f && f->offset == 9);
	CHECK_EQ(d->nstructs, 6);
	ish_dmar_destroy(d);
	buf[9] ^= 0x5a;

	/* Bytes past the table's length are ignored and said so. */
	memcpy(big, buf, len);
	OK(ish_dmar_parse(big, len + 16, &d));
	CHECK(d->checksum_ok);
	CHECK_EQ(d->length, len);
	f = find_finding(d, "16 bytes after");
	CHECK(f && f->offset == len);
	ish_dmar_destroy(d);
	free(big);

	/* DRHD register base 0 and RMRR base above its limit. */
	memset(buf + 0x38, 0, 8);
	memcpy(buf + 0x7a + 8, "\x00\x00\x00\x80\x00\x00\x00\x00", 8);
	OK(ish_dmar_parse(buf, len, &d));
	f = find_finding(d, "register base address is 0");
	CHECK(f && f->offset == 0x38);
	f = find_finding(d, "below its base");
	CHECK(f && f->offset == 0x7a + 16);
	ish_dmar_destroy(d);
	free(buf);
}

/* --- hostile tables: a clear FORMAT error naming the offset --- */

static void expect_format(const void *buf, size_t len, const char *offset_text)
{
	struct ish_dmar *d = NULL;
	struct ish_error *err = ish_dmar_parse(buf, len, &d);

	CHECK(err != NULL);
	if (!err) {
		ish_dmar_destroy(d);
		return;
	}
	CHECK_EQ(err->code, ISH_ERROR_FORMAT);
	if (!strstr(err->message, offset_text)) {
		fprintf(stderr, "message \"%s\" does not name \"%s\"\n", err->message,
			offset_text);
		CHECK(0);
	}
	ish_error_destroy(err);
}

static void test_hostile(void)
{
	size_t len;
	uint8_t *full = load(FIXTURES "full.bin", &len);
	uint8_t *b = malloc(len);
	struct ish_dmar *d;

	/* Truncated header, wrong signature, lying table lengths. */
	expect_format(full, 0, "offset 0x0: table header truncated");
	expect_format(full, 47, "offset 0x0: table header truncated");
	memcpy(b, full, len);
	memcpy(b, "RMAD", 4);
	expect_format(b, len, "offset 0x0: signature");
	memcpy(b, full, len);
	b[4] = 47;
	b[5] = 0;
	expect_format(b, len, "offset 0x4: table length 47 is shorter");
	memcpy(b, full, len);
	expect_format(b, len - 1, "offset 0x4: table length 205 runs past");
	b[4] = 0xff;
	b[5] = 0xff;
	b[6] = 0xff;
	b[7] = 0xff;
	expect_format(b, len, "offset 0x4");

	/* Structure length 0 (would loop forever), shorter than DRHD, past the end. */
	memcpy(b, full, len);
	b[0x32] = 0;
	expect_format(b, len, "offset 0x30: structure length 0");
	b[0x32] = 8;
	expect_format(b, len, "offset 0x30: DRHD length 8 is shorter");
	memcpy(b, full, len);
	b[0xb8] = 0xff;	/* ANDD length 0x17 -> 0xff */
	expect_format(b, len, "offset 0xb6: structure length 255 runs past");
	/* A structure header cut by the table length: 3 bytes left. */
	{
		struct tb t;

		tb_header(&t);
		put16(&t, 0);
		put8(&t, 0);
		tb_finish(&t);
		expect_format(t.b, t.n, "offset 0x30: remapping structure header truncated");
	}

	/* Device scopes: shorter than their header, past their structure, odd. */
	memcpy(b, full, len);
	b[0x41] = 2;
	expect_format(b, len, "offset 0x40: device scope length 2");
	b[0x41] = 0;
	expect_format(b, len, "offset 0x40: device scope length 0");
	b[0x41] = 0x30;
	expect_format(b, len, "offset 0x40: device scope length 48 runs past the end of DRHD");
	b[0x41] = 9;
	expect_format(b, len, "offset 0x40: device scope length 9 leaves half");
	/* A DRHD claiming fewer bytes than its scopes: the next structure starts mid-scope. */
	memcpy(b, full, len);
	b[0x32] = 0x22 - 4;
	expect_format(b, len, "offset 0x4e");
	/* A scope header cut short by its structure's length. */
	{
		struct tb t;
		size_t at;

		tb_header(&t);
		at = tb_begin(&t, ISH_DMAR_TYPE_ATSR);
		put32(&t, 0);
		put32(&t, 0x01020304);
		tb_end(&t, at);
		tb_finish(&t);
		expect_format(t.b, t.n, "offset 0x38: device scope header truncated: 4 bytes");
	}

	/* ANDD name without a NUL: decoded, bounded, and a finding. */
	memcpy(b, full, len);
	b[len - 1] = 'X';
	OK(ish_dmar_parse(b, len, &d));
	CHECK_STR(d->structs[5].object_name, "\\_SB.PCI0.UAR1X");
	CHECK(find_finding(d, "not NUL-terminated") != NULL);
	ish_dmar_destroy(d);

	/* Every truncation of the table: error or success, never a read past the end. */
	for (size_t n = 0; n <= len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		struct ish_error *err;

		memcpy(cut, full, n);
		err = ish_dmar_parse(cut, n, &d);
		if (err)
			ish_error_destroy(err);
		else
			ish_dmar_destroy(d);
		CHECK(n == len ? !err : err != NULL);
		free(cut);
	}

	/* Random corruption, many times: must neither crash nor leak (ASan). */
	srand(1);
	for (unsigned iter = 0; iter < 20000; iter++) {
		struct ish_error *err;

		memcpy(b, full, len);
		for (unsigned k = 0, nk = 1 + (unsigned)rand() % 6; k < nk; k++)
			b[(size_t)rand() % len] = (uint8_t)rand();
		err = ish_dmar_parse(b, len, &d);
		if (err) {
			if (err->code != ISH_ERROR_FORMAT)
				CHECK_EQ(err->code, ISH_ERROR_FORMAT);
			ish_error_destroy(err);
		} else {
			ish_dmar_destroy(d);
		}
	}
	check_passed++;
	free(b);
	free(full);
}

static void test_names(void)
{
	CHECK_STR(ish_dmar_type_name(ISH_DMAR_TYPE_RHSA), "RHSA");
	CHECK(ish_dmar_type_name(7) == NULL);
	CHECK_STR(ish_dmar_scope_type_name(ISH_DMAR_SCOPE_HPET), "HPET");
	CHECK(ish_dmar_scope_type_name(0) == NULL);
	CHECK(ish_dmar_scope_type_name(6) == NULL);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("full") test_full();
	CASE("qemu") test_qemu();
	CASE("units") test_units();
	CASE("synthetic") test_synthetic();
	CASE("findings") test_findings();
	CASE("hostile") test_hostile();
	CASE("names") test_names();
	return check_report();
}
