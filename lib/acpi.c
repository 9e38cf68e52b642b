// SPDX-License-Identifier: MIT
/* ACPI tables in physical memory: RSDP scan, RSDT/XSDT, table lookup. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/acpi.h>

/* RSDP offsets (ACPI 5.2.5.3) */
#define RSDP_CHECKSUM 8
#define RSDP_OEMID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
/* System description table header (ACPI 5.2.6) */
#define SDT_LENGTH 4

#define EBDA_SEGMENT_PTR 0x40e	/* BDA word: EBDA segment */
#define BIOS_AREA_START 0xe0000ULL
#define BIOS_AREA_END 0x100000ULL

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

void ish_acpi_table_deinit(struct ish_acpi_table *table)
{
	if (!table)
		return;
	free(table->data);
	table->data = NULL;
	table->len = 0;
}

static void sig_text(const uint8_t *sig, char out[5])
{
	for (int i = 0; i < 4; i++)
		out[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
	out[4] = '\0';
}

struct ish_error *ish_acpi_read_table(struct ish_target *t, uint64_t addr,
				      struct ish_acpi_table *ret)
{
	uint8_t hdr[ACPI_SDT_HEADER_LEN], *data;
	struct ish_error *err;
	char sig[5];
	uint32_t len;

	err = ish_read_phys(t, addr, hdr, sizeof(hdr));
	if (err)
		return ish_error_prefix(err, "ACPI table at %#" PRIx64, addr);
	sig_text(hdr, sig);
	len = get32(hdr + SDT_LENGTH);
	if (len < ACPI_SDT_HEADER_LEN || len > ACPI_TABLE_MAX_LEN)
		return ish_error_format(ISH_ERROR_FORMAT,
					"ACPI table %s at %#" PRIx64 ": length %u is not in [%u, %u]",
					sig, addr, len, ACPI_SDT_HEADER_LEN, ACPI_TABLE_MAX_LEN);
	data = malloc(len);
	if (!data)
		return &ish_enomem;
	err = ish_read_phys(t, addr, data, len);
	if (err) {
		free(data);
		return ish_error_prefix(err, "ACPI table %s at %#" PRIx64 " (%u bytes)", sig, addr,
					len);
	}
	if (sum(data, len)) {
		free(data);
		return ish_error_format(ISH_ERROR_FORMAT,
					"ACPI table %s at %#" PRIx64 ": checksum does not add up", sig,
					addr);
	}
	ret->addr = addr;
	ret->len = len;
	ret->data = data;
	return NULL;
}

/* Validates an RSDP candidate at addr whose first 8 bytes matched. */
static bool check_rsdp(struct ish_target *t, uint64_t addr, struct ish_acpi_rsdp *ret)
{
	uint8_t b[ACPI_RSDP_V2_LEN];
	struct ish_error *err;
	uint32_t len;

	err = ish_read_phys(t, addr, b, ACPI_RSDP_V1_LEN);
	if (err || sum(b, ACPI_RSDP_V1_LEN)) {
		ish_error_destroy(err);
		return false;
	}
	memset(ret, 0, sizeof(*ret));
	ret->addr = addr;
	ret->revision = b[RSDP_REVISION];
	memcpy(ret->oem_id, b + RSDP_OEMID, 6);
	ret->rsdt = get32(b + RSDP_RSDT);
	if (ret->revision < 2)
		return true;
	/* The ACPI 2.0 part has its own checksum; if it is bad, use the RSDT. */
	err = ish_read_phys(t, addr, b, ACPI_RSDP_V2_LEN);
	if (err) {
		ish_error_destroy(err);
		return true;
	}
	len = get32(b + RSDP_LENGTH);
	if (len == ACPI_RSDP_V2_LEN && !sum(b, ACPI_RSDP_V2_LEN))
		ret->xsdt = get64(b + RSDP_XSDT);
	return true;
}

/* Scans [start, end) on 16-byte boundaries, a page at a time; holes are skipped. */
static bool scan_rsdp(struct ish_target *t, uint64_t start, uint64_t end,
		      struct ish_acpi_rsdp *ret)
{
	uint8_t page[4096];

	for (uint64_t a = start; a < end;) {
		uint64_t n = 4096 - (a & 4095);
		struct ish_error *err;

		if (n > end - a)
			n = end - a;
		err = ish_read_phys(t, a, page, (size_t)n);
		if (err) {
			ish_error_destroy(err);
			a += n;
			continue;
		}
		for (uint64_t off = (16 - (a & 15)) & 15; off + 8 <= n; off += 16)
			if (!memcmp(page + off, ACPI_RSDP_SIG, 8) && check_rsdp(t, a + off, ret))
				return true;
		a += n;
	}
	return false;
}

struct ish_error *ish_acpi_find_rsdp(struct ish_target *t, struct ish_acpi_rsdp *ret)
{
	uint8_t seg[2];
	struct ish_error *err;

	err = ish_read_phys(t, EBDA_SEGMENT_PTR, seg, 2);
	if (!err) {
		uint64_t ebda = (uint64_t)(seg[0] | seg[1] << 8) << 4;

		/* Only a plausible EBDA (below the VGA hole, above 512 KiB) is scanned. */
		if (ebda >= 0x80000 && ebda < 0xa0000 && scan_rsdp(t, ebda, ebda + 1024, ret))
			return NULL;
	}
	ish_error_destroy(err);
	if (scan_rsdp(t, BIOS_AREA_START, BIOS_AREA_END, ret))
		return NULL;
	return ish_error_create(ISH_ERROR_NOT_FOUND, "no ACPI RSDP in the EBDA or at 0xe0000-0xfffff "
						     "(no firmware tables in memory)");
}

/*
 * Looks for sig among the entries of the root table at root (entsize 4 for
 * the RSDT, 8 for the XSDT). *bad keeps the first error about a matching
 * but broken table, so that "not found" can say why.
 */
static struct ish_error *search_root(struct ish_target *t, uint64_t root, unsigned entsize,
				     const char *sig, struct ish_error **bad,
				     struct ish_acpi_table *ret)
{
	struct ish_acpi_table rt;
	struct ish_error *err;
	size_t n;

	err = ish_acpi_read_table(t, root, &rt);
	if (err)
		return err;
	if (memcmp(rt.data, entsize == 8 ? "XSDT" : "RSDT", 4)) {
		char s[5];

		sig_text(rt.data, s);
		ish_acpi_table_deinit(&rt);
		return ish_error_format(ISH_ERROR_FORMAT, "%s pointer %#" PRIx64 " leads to a '%s' table",
					entsize == 8 ? "XSDT" : "RSDT", root, s);
	}
	n = (rt.len - ACPI_SDT_HEADER_LEN) / entsize;
	if (n > ACPI_MAX_ENTRIES)
		n = ACPI_MAX_ENTRIES;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = rt.data + ACPI_SDT_HEADER_LEN + i * entsize;
		uint64_t addr = entsize == 8 ? get64(e) : get32(e);
		uint8_t hdr[4];

		if (!addr)
			continue;
		err = ish_read_phys(t, addr, hdr, 4);
		if (err) {
			ish_error_destroy(err);
			continue;
		}
		if (memcmp(hdr, sig, 4))
			continue;
		err = ish_acpi_read_table(t, addr, ret);
		if (!err) {
			ish_acpi_table_deinit(&rt);
			return NULL;
		}
		if (!*bad)
			*bad = err;
		else
			ish_error_destroy(err);
	}
	ish_acpi_table_deinit(&rt);
	return ish_error_format(ISH_ERROR_NOT_FOUND, "no %.4s table in the %s at %#" PRIx64
				" (%zu entries)", sig, entsize == 8 ? "XSDT" : "RSDT", root, n);
}

struct ish_error *ish_acpi_find_table(struct ish_target *t, const char *sig,
				      struct ish_acpi_table *ret)
{
	struct ish_error *err, *bad = NULL;
	struct ish_acpi_rsdp rsdp;

	if (!sig || strlen(sig) != 4)
		return ish_error_create(ISH_ERROR_INVALID, "an ACPI signature has 4 characters");
	memset(ret, 0, sizeof(*ret));
	err = ish_acpi_find_rsdp(t, &rsdp);
	if (err)
		return err;
	if (rsdp.xsdt) {
		err = search_root(t, rsdp.xsdt, 8, sig, &bad, ret);
		/* An unusable XSDT falls back to the RSDT; a valid one is the answer. */
		if (!err || err->code == ISH_ERROR_NOT_FOUND || !rsdp.rsdt)
			goto out;
		ish_error_destroy(err);
	}
	if (!rsdp.rsdt) {
		err = ish_error_format(ISH_ERROR_NOT_FOUND, "the RSDP at %#" PRIx64 " has no RSDT",
				       rsdp.addr);
		goto out;
	}
	err = search_root(t, rsdp.rsdt, 4, sig, &bad, ret);
out:
	if (err && bad && err->code == ISH_ERROR_NOT_FOUND) {
		/* A broken table says more than "not found". */
		ish_error_destroy(err);
		return bad;
	}
	ish_error_destroy(bad);
	return err;
}
