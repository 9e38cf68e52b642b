// SPDX-License-Identifier: MIT
/*
 * ELF cores, raw images with register files, and snapshot notes: the dump
 * backend (backends/dump.c) opened through ish_target_open() on a memfd
 * holding the input, then a little use of the target (registers, fault
 * records, the device walk, reads across segment edges), plus
 * ish_snapshot_parse_notes() on the same bytes.
 *
 * Input: byte 0 is flags, then
 *   bit 0: a register file follows: u16 length, that many bytes of text
 *	    (given as dump.regs through a second memfd);
 *   bit 1: dump.format=raw (else auto: ELF if it starts with \177ELF);
 *   bit 2: dump.base=0xe0000, so a small raw image covers the BIOS area
 *	    where the RSDP is searched for (ACPI discovery of the DMAR);
 *   bit 3: dump.unit_base=0xfed90000;
 * and the rest is the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommush/vtd/dmar.h>
#include <iommush/vtd/fault.h>
#include <iommush/regs.h>
#include <iommush/snapshot.h>
#include <iommush/target.h>
#include <iommush/walk.h>

#include "fuzz.h"

static volatile uint64_t sink;

static int memfd_with(const uint8_t *p, size_t n, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

static struct ish_error *on_reg(void *arg, const struct ish_reg_value *v)
{
	sink += v->offset + (v->err ? 1 : v->value);
	return NULL;
}

static struct ish_error *on_device(void *arg, const struct ish_device *d)
{
	sink += d->bdf + d->unit;
	return NULL;
}

static struct ish_error *on_finding(void *arg, const struct ish_finding *f)
{
	sink += f->kind + f->addr;
	return NULL;
}

static void use_target(struct ish_target *t)
{
	static const uint64_t probe[] = { 0, 0xfff, 0x1000, 0xe0000, 0xfffff, 0x100000, ~0ull - 7 };
	unsigned n = ish_target_nunits(t);
	const void *dmar;
	uint8_t buf[16];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		FZ_IGNORE(ish_read_phys(t, probe[i], buf, 8));
		FZ_IGNORE(ish_read_phys(t, probe[i] + 4090, buf, 12));
	}
	dmar = ish_target_dmar(t, &len);
	if (dmar) {
		struct ish_dmar *d = NULL;

		struct ish_error *err = ish_dmar_parse(dmar, len, &d);

		if (!err)
			ish_dmar_destroy(d);
		ish_error_destroy(err);
	}
	for (unsigned u = 0; u < n && u < 4; u++) {
		struct ish_faults *f = NULL;

		struct ish_error *err;

		FZ_IGNORE(ish_unit_regs(t, u, u & 1 ? ISH_REGS_ALL : 0, on_reg, NULL));
		err = ish_faults_read(t, u, &f);
		if (!err)
			ish_faults_destroy(f);
		ish_error_destroy(err);
	}
	FZ_IGNORE(ish_devices(t, true, on_device, on_finding, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ish_param params[5];
	struct ish_snapshot_notes *notes = NULL;
	struct ish_target *t = NULL;
	struct ish_error *err;
	char path[64], regs_path[64];
	size_t np = 0;
	int fd, regs_fd = -1;
	unsigned flags;

	if (!size)
		return 0;
	flags = data[0];
	data++;
	size--;
	params[np++] = (struct ish_param){ "walk.max_pages", "16" };
	params[np++] = (struct ish_param){ "walk.max_mappings", "64" };
	if (flags & 1) {
		size_t rlen = size >= 2 ? (size_t)(data[0] | data[1] << 8) : 0;

		data += size >= 2 ? 2 : size;
		size -= size >= 2 ? 2 : size;
		if (rlen > size)
			rlen = size;
		regs_fd = memfd_with(data, rlen, regs_path, sizeof(regs_path));
		data += rlen;
		size -= rlen;
		params[np++] = (struct ish_param){ "dump.regs", regs_path };
	}
	if (flags & 2)
		params[np++] = (struct ish_param){ "dump.format", "raw" };
	if (flags & 4)
		params[np++] = (struct ish_param){ "dump.base", "0xe0000" };
	if (flags & 8 && np < 5)
		params[np++] = (struct ish_param){ "dump.unit_base", "0xfed90000" };

	err = ish_snapshot_parse_notes(data, size, &notes);
	if (!err) {
		sink += notes->nunits + notes->dmar_len + notes->version + notes->nacpi +
			(unsigned char)notes->arch[0];
		ish_snapshot_notes_destroy(notes);
	}
	ish_error_destroy(err);

	fd = memfd_with(data, size, path, sizeof(path));
	err = ish_target_open(path, "dump", params, np, 0, &t);
	if (!err) {
		use_target(t);
		ish_target_close(t);
	}
	ish_error_destroy(err);
	close(fd);
	if (regs_fd >= 0)
		close(regs_fd);
	return 0;
}
