// SPDX-License-Identifier: MIT
/*
 * The snapshot writer (an ELF core with iommush notes) and the note reader.
 * The format is described in include/iommush/snapshot.h. Headers are
 * serialized field by field in little-endian order, so the file is the same
 * whatever the host's byte order.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/snapshot.h>

#define PAGE 4096u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* --- writer --- */

/* A PT_LOAD to write: consecutive input ranges that touch. */
struct segment {
	uint64_t addr, len, offset;
	size_t first, count;	/* into the sorted range index */
	bool zero;		/* ranges without bytes: p_filesz 0, no file space */
};

struct note_buf {
	uint8_t *data;
	size_t len, cap;
};

static struct ish_error *nb_reserve(struct note_buf *nb, size_t n, uint8_t **ret)
{
	if (n > SIZE_MAX / 2 - nb->len)
		return &ish_enomem;
	if (nb->len + n > nb->cap) {
		size_t cap = nb->cap ? nb->cap : 256;
		uint8_t *d;

		while (cap < nb->len + n)
			cap *= 2;
		d = realloc(nb->data, cap);
		if (!d)
			return &ish_enomem;
		nb->data = d;
		nb->cap = cap;
	}
	*ret = nb->data + nb->len;
	memset(*ret, 0, n);
	nb->len += n;
	return NULL;
}

/* Appends a note header and returns a zeroed descriptor of descsz bytes. */
static struct ish_error *nb_note(struct note_buf *nb, uint32_t type, size_t descsz, uint8_t **ret)
{
	static const char name[] = ISH_SNAPSHOT_NOTE_NAME;
	struct ish_error *err;
	uint8_t *p;

	if (descsz > UINT32_MAX)
		return ish_error_create(ISH_ERROR_LIMIT, "snapshot note larger than 4 GiB");
	err = nb_reserve(nb, 12 + pad4(sizeof(name)) + pad4(descsz), &p);
	if (err)
		return err;
	put32(p, sizeof(name));
	put32(p + 4, (uint32_t)descsz);
	put32(p + 8, type);
	memcpy(p + 12, name, sizeof(name));
	*ret = p + 12 + pad4(sizeof(name));
	return NULL;
}

struct reg_fill {
	uint8_t *p;
	uint32_t n;
};

static struct ish_error *count_reg(void *arg, uint32_t offset, uint32_t value)
{
	(void)offset;
	(void)value;
	((struct reg_fill *)arg)->n++;
	return NULL;
}

static struct ish_error *fill_reg(void *arg, uint32_t offset, uint32_t value)
{
	struct reg_fill *f = arg;

	put32(f->p, offset);
	put32(f->p + 4, 32);
	put64(f->p + 8, value);
	f->p += ISH_NT_UNIT_REG;
	return NULL;
}

static struct ish_error *build_notes(const struct ish_snapshot *snap, struct note_buf *nb)
{
	struct ish_error *err;
	uint8_t *d;

	err = nb_note(nb, ISH_NT_VERSION, 8, &d);
	if (err)
		return err;
	put32(d, ISH_SNAPSHOT_VERSION);
	for (size_t i = 0; i < snap->nunits; i++) {
		const struct ish_snapshot_unit *su = &snap->units[i];
		struct reg_fill f = { 0 };

		if (su->regs) {
			err = ish_regfile_foreach(su->regs, count_reg, &f);
			if (err)
				return err;
		}
		err = nb_note(nb, ISH_NT_UNIT, ISH_NT_UNIT_HEADER + (size_t)f.n * ISH_NT_UNIT_REG, &d);
		if (err)
			return err;
		memcpy(d, su->unit.name, strnlen(su->unit.name, sizeof(su->unit.name) - 1));
		put16(d + 16, su->unit.segment);
		d[18] = su->unit.arch_flags;
		d[19] = su->unit.size_pages;
		put32(d + 20, f.n);
		put64(d + 24, su->unit.reg_base);
		if (su->regs) {
			uint32_t n = f.n;

			f.p = d + ISH_NT_UNIT_HEADER;
			f.n = 0;
			err = ish_regfile_foreach(su->regs, fill_reg, &f);
			if (err)
				return err;
			if (f.p != d + ISH_NT_UNIT_HEADER + (size_t)n * ISH_NT_UNIT_REG)
				return ish_error_create(ISH_ERROR_INVALID,
							"register file changed while being written");
		}
	}
	if (snap->dmar) {
		err = nb_note(nb, ISH_NT_DMAR, snap->dmar_len, &d);
		if (err)
			return err;
		memcpy(d, snap->dmar, snap->dmar_len);
	}
	if (snap->arch) {
		size_t len = strlen(snap->arch);

		if (!len || len >= ISH_NT_ARCH_LEN)
			return ish_error_format(ISH_ERROR_INVALID, "architecture name '%s'", snap->arch);
		err = nb_note(nb, ISH_NT_ARCH, ISH_NT_ARCH_LEN, &d);
		if (err)
			return err;
		memcpy(d, snap->arch, len);
	}
	for (size_t i = 0; i < snap->nacpi; i++) {
		const struct ish_snapshot_acpi *a = &snap->acpi[i];

		if (a->len < 4 || a->len > UINT32_MAX)
			return ish_error_create(ISH_ERROR_INVALID, "an ACPI table shorter than its signature");
		for (size_t j = 0; j < i; j++)
			if (!memcmp(snap->acpi[j].bytes, a->bytes, 4))
				return ish_error_create(ISH_ERROR_INVALID, "two ACPI tables of one signature");
		err = nb_note(nb, ISH_NT_ACPI, a->len, &d);
		if (err)
			return err;
		memcpy(d, a->bytes, a->len);
	}
	for (size_t i = 0; i < snap->npcicfg; i++) {
		const struct ish_snapshot_pcicfg *pc = &snap->pcicfg[i];

		if (pc->len > ISH_PCICFG_MAX)
			return ish_error_create(ISH_ERROR_INVALID, "PCI config space over 4 KiB");
		err = nb_note(nb, ISH_NT_PCICFG, 8 + (size_t)pc->len, &d);
		if (err)
			return err;
		put16(d, pc->segment);
		put16(d + 2, pc->bdf);
		put32(d + 4, pc->len);
		memcpy(d + 8, pc->bytes, pc->len);
	}
	return NULL;
}

/* A range's position in the caller's array, sorted by address. */
struct range_key {
	uint64_t addr;
	size_t i;
};

static int cmp_range(const void *a, const void *b)
{
	uint64_t x = ((const struct range_key *)a)->addr, y = ((const struct range_key *)b)->addr;

	return x < y ? -1 : x > y;
}

/*
 * Sorts the ranges, rejects overlaps and joins ranges that touch into
 * segments. idx receives the sorted order (empty ranges left out).
 */
static struct ish_error *plan_segments(const struct ish_snapshot *snap, struct range_key *idx,
				       struct segment *segs, size_t *nidx, size_t *nsegs)
{
	size_t n = 0, ns = 0;

	for (size_t i = 0; i < snap->nranges; i++) {
		const struct ish_snapshot_range *r = &snap->ranges[i];

		if (!r->len)
			continue;
		if (r->addr + r->len - 1 < r->addr)
			return ish_error_format(ISH_ERROR_INVALID,
						"range at %#" PRIx64 " wraps around the address space",
						r->addr);
		idx[n].addr = r->addr;
		idx[n++].i = i;
	}
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_range);
	for (size_t i = 0; i < n; i++) {
		const struct ish_snapshot_range *r = &snap->ranges[idx[i].i];

		if (ns) {
			struct segment *s = &segs[ns - 1];
			uint64_t end = s->addr + s->len;

			if (r->addr < end)
				return ish_error_format(ISH_ERROR_INVALID,
							"ranges [%#" PRIx64 ", %#" PRIx64
							") and [%#" PRIx64 ", %#" PRIx64 ") overlap",
							s->addr, end, r->addr, r->addr + r->len);
			if (r->addr == end && s->len + r->len >= s->len && s->zero == !r->bytes) {
				s->len += r->len;
				s->count++;
				continue;
			}
		}
		segs[ns] = (struct segment){ .addr = r->addr, .len = r->len, .first = i, .count = 1,
					     .zero = !r->bytes };
		ns++;
	}
	*nidx = n;
	*nsegs = ns;
	return NULL;
}

static struct ish_error *pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
				    const char *path)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ish_error_errno(w < 0 ? errno : EIO, "writing %s", path);
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return NULL;
}

static void put_ehdr(uint8_t *e, uint64_t nphdr, uint64_t shoff)
{
	memset(e, 0, sizeof(Elf64_Ehdr));
	memcpy(e, ELFMAG, SELFMAG);
	e[EI_CLASS] = ELFCLASS64;
	e[EI_DATA] = ELFDATA2LSB;
	e[EI_VERSION] = EV_CURRENT;
	e[EI_OSABI] = ELFOSABI_NONE;
	put16(e + offsetof(Elf64_Ehdr, e_type), ET_CORE);
	put16(e + offsetof(Elf64_Ehdr, e_machine), EM_X86_64);
	put32(e + offsetof(Elf64_Ehdr, e_version), EV_CURRENT);
	put64(e + offsetof(Elf64_Ehdr, e_phoff), sizeof(Elf64_Ehdr));
	put64(e + offsetof(Elf64_Ehdr, e_shoff), shoff);
	put16(e + offsetof(Elf64_Ehdr, e_ehsize), sizeof(Elf64_Ehdr));
	put16(e + offsetof(Elf64_Ehdr, e_phentsize), sizeof(Elf64_Phdr));
	put16(e + offsetof(Elf64_Ehdr, e_phnum), nphdr >= PN_XNUM ? PN_XNUM : (uint16_t)nphdr);
	put16(e + offsetof(Elf64_Ehdr, e_shentsize), shoff ? sizeof(Elf64_Shdr) : 0);
	put16(e + offsetof(Elf64_Ehdr, e_shnum), shoff ? 1 : 0);
	put16(e + offsetof(Elf64_Ehdr, e_shstrndx), SHN_UNDEF);
}

static void put_phdr(uint8_t *p, uint32_t type, uint64_t offset, uint64_t paddr, uint64_t filesz,
		     uint64_t len, uint64_t align)
{
	memset(p, 0, sizeof(Elf64_Phdr));
	put32(p + offsetof(Elf64_Phdr, p_type), type);
	put32(p + offsetof(Elf64_Phdr, p_flags), PF_R);
	put64(p + offsetof(Elf64_Phdr, p_offset), offset);
	put64(p + offsetof(Elf64_Phdr, p_vaddr), 0);
	put64(p + offsetof(Elf64_Phdr, p_paddr), paddr);
	put64(p + offsetof(Elf64_Phdr, p_filesz), filesz);
	put64(p + offsetof(Elf64_Phdr, p_memsz), len);
	put64(p + offsetof(Elf64_Phdr, p_align), align);
}

static struct ish_error *write_file(int fd, const char *path, const struct ish_snapshot *snap,
				    const struct range_key *idx, const struct segment *segs, size_t nsegs,
				    const struct note_buf *nb)
{
	uint64_t nphdr = 1 + (uint64_t)nsegs, off, notes_off, shoff = 0;
	struct ish_error *err;
	uint8_t *hdr;
	size_t hdr_len;

	if (nphdr > UINT32_MAX)
		return ish_error_create(ISH_ERROR_LIMIT, "too many segments for one ELF file");
	hdr_len = sizeof(Elf64_Ehdr) + (size_t)nphdr * sizeof(Elf64_Phdr);
	if (nphdr >= PN_XNUM) {
		shoff = hdr_len;
		hdr_len += sizeof(Elf64_Shdr);
	}
	notes_off = (hdr_len + 7) & ~7ULL;
	hdr = calloc(1, notes_off);
	if (!hdr)
		return &ish_enomem;
	put_ehdr(hdr, nphdr, shoff);
	if (shoff) {
		/* gABI extended numbering: the real phnum is in section 0's sh_info. */
		put32(hdr + shoff + offsetof(Elf64_Shdr, sh_info), (uint32_t)nphdr);
	}
	put_phdr(hdr + sizeof(Elf64_Ehdr), PT_NOTE, notes_off, 0, nb->len, nb->len, 4);
	off = notes_off + nb->len;
	for (size_t s = 0; s < nsegs; s++) {
		uint64_t want = segs[s].addr % PAGE;

		/* offset congruent to the address modulo the page size */
		off += (want - off % PAGE + PAGE) % PAGE;
		put_phdr(hdr + sizeof(Elf64_Ehdr) + (1 + s) * sizeof(Elf64_Phdr), PT_LOAD, off,
			 segs[s].addr, segs[s].zero ? 0 : segs[s].len, segs[s].len, PAGE);
		if (segs[s].zero)
			continue;
		err = NULL;
		for (size_t k = 0; k < segs[s].count && !err; k++) {
			const struct ish_snapshot_range *r = &snap->ranges[idx[segs[s].first + k].i];

			if (r->len > SIZE_MAX)
				err = ish_error_create(ISH_ERROR_LIMIT, "range too large");
			else
				err = pwrite_all(fd, r->bytes, (size_t)r->len, off, path);
			off += r->len;
		}
		if (err) {
			free(hdr);
			return err;
		}
	}
	err = pwrite_all(fd, hdr, notes_off, 0, path);
	if (!err)
		err = pwrite_all(fd, nb->data, nb->len, notes_off, path);
	free(hdr);
	return err;
}

struct ish_error *ish_snapshot_write_elf(const char *path, const struct ish_snapshot *snap)
{
	struct note_buf nb = { 0 };
	struct segment *segs = NULL;
	struct range_key *idx = NULL;
	size_t nidx = 0, nsegs = 0;
	struct ish_error *err;
	char *tmp = NULL;
	int fd = -1;

	if (!path || !*path || !snap)
		return ish_error_create(ISH_ERROR_INVALID, "snapshot: no path or no contents");
	if (snap->nranges) {
		idx = calloc(snap->nranges, sizeof(*idx));
		segs = calloc(snap->nranges, sizeof(*segs));
		if (!idx || !segs) {
			err = &ish_enomem;
			goto out;
		}
	}
	err = plan_segments(snap, idx, segs, &nidx, &nsegs);
	if (!err)
		err = build_notes(snap, &nb);
	if (err)
		goto out;
	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		tmp = NULL;
		err = &ish_enomem;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = ish_error_errno(errno, "creating %s", tmp);
		goto out;
	}
	err = write_file(fd, tmp, snap, idx, segs, nsegs, &nb);
	if (!err && fsync(fd) < 0)
		err = ish_error_errno(errno, "flushing %s", tmp);
	if (close(fd) < 0 && !err)
		err = ish_error_errno(errno, "closing %s", tmp);
	fd = -1;
	if (!err && rename(tmp, path) < 0)
		err = ish_error_errno(errno, "renaming %s to %s", tmp, path);
	if (err)
		unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(nb.data);
	free(segs);
	free(idx);
	return err;
}

/* --- reader --- */

void ish_snapshot_notes_destroy(struct ish_snapshot_notes *notes)
{
	if (!notes)
		return;
	for (size_t i = 0; i < notes->nunits; i++)
		ish_regfile_destroy(notes->regs[i]);
	free(notes->regs);
	free(notes->units);
	free(notes->dmar);
	for (size_t i = 0; i < notes->npcicfg; i++)
		free((uint8_t *)notes->pcicfg[i].bytes);
	free(notes->pcicfg);
	for (size_t i = 0; i < notes->nacpi; i++)
		free((uint8_t *)notes->acpi[i].bytes);
	free(notes->acpi);
	free(notes);
}

static struct ish_error *parse_unit(struct ish_snapshot_notes *n, const uint8_t *d, size_t descsz,
				    size_t at)
{
	struct ish_unit u = { 0 };
	struct ish_regfile *rf;
	struct ish_error *err;
	struct ish_unit *units;
	struct ish_regfile **regs;
	uint32_t nregs;

	if (descsz < ISH_NT_UNIT_HEADER)
		return ish_error_format(ISH_ERROR_FORMAT,
					"snapshot note at %#zx: unit descriptor of %zu bytes is too short",
					at, descsz);
	if (n->nunits >= 256)
		return ish_error_format(ISH_ERROR_FORMAT, "snapshot note at %#zx: more than 256 units",
					at);
	nregs = get32(d + 20);
	if (nregs > (descsz - ISH_NT_UNIT_HEADER) / ISH_NT_UNIT_REG)
		return ish_error_format(ISH_ERROR_FORMAT,
					"snapshot note at %#zx: %u registers do not fit in %zu bytes",
					at, nregs, descsz);
	memcpy(u.name, d, sizeof(u.name) - 1);
	for (size_t i = 0; i < sizeof(u.name) - 1 && u.name[i]; i++)
		if ((unsigned char)u.name[i] < 0x20 || (unsigned char)u.name[i] > 0x7e)
			u.name[i] = '?';
	u.segment = (uint16_t)(d[16] | d[17] << 8);
	u.arch_flags = d[18];
	u.size_pages = d[19];
	u.reg_base = get64(d + 24);
	err = ish_regfile_create(&rf);
	if (err)
		return err;
	for (uint32_t i = 0; i < nregs; i++) {
		const uint8_t *r = d + ISH_NT_UNIT_HEADER + (size_t)i * ISH_NT_UNIT_REG;
		uint32_t width = get32(r + 4);
		uint64_t value = get64(r + 8);

		if (width != 8 && width != 16 && width != 32 && width != 64)
			err = ish_error_format(ISH_ERROR_FORMAT, "bad register width %u", width);
		else if (width < 64 && value >> width)
			err = ish_error_format(ISH_ERROR_FORMAT, "value %#" PRIx64 " wider than %u bits",
					       value, width);
		else
			err = ish_regfile_set(rf, get32(r), width, value);
		if (err) {
			ish_regfile_destroy(rf);
			/* A bad offset is bad input here, not a bad argument. */
			if (err != &ish_enomem && err->code == ISH_ERROR_INVALID)
				err->code = ISH_ERROR_FORMAT;
			return ish_error_prefix(err, "snapshot note at %#zx, register %u", at, i);
		}
	}
	units = realloc(n->units, (n->nunits + 1) * sizeof(*units));
	if (units)
		n->units = units;
	regs = realloc(n->regs, (n->nunits + 1) * sizeof(*regs));
	if (regs)
		n->regs = regs;
	if (!units || !regs) {
		ish_regfile_destroy(rf);
		return &ish_enomem;
	}
	u.index = (unsigned)n->nunits;
	units[n->nunits] = u;
	regs[n->nunits] = rf;
	n->nunits++;
	return NULL;
}

static struct ish_error *parse_acpi(struct ish_snapshot_notes *n, const uint8_t *d, size_t descsz,
				    size_t at)
{
	struct ish_snapshot_acpi *a;
	uint8_t *bytes;

	if (descsz < 4)
		return ish_error_format(ISH_ERROR_FORMAT,
					"snapshot note at %#zx: ACPI table shorter than its signature", at);
	for (size_t i = 0; i < n->nacpi; i++)
		if (!memcmp(n->acpi[i].bytes, d, 4))
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: a second %.4s table", at,
						n->acpi[i].signature);
	if (n->nacpi >= 64)
		return ish_error_format(ISH_ERROR_FORMAT, "snapshot note at %#zx: too many ACPI tables",
					at);
	a = realloc(n->acpi, (n->nacpi + 1) * sizeof(*a));
	if (!a)
		return &ish_enomem;
	n->acpi = a;
	bytes = malloc(descsz);
	if (!bytes)
		return &ish_enomem;
	memcpy(bytes, d, descsz);
	a = &n->acpi[n->nacpi++];
	memcpy(a->signature, d, 4);
	a->signature[4] = '\0';
	/* Printable in messages whatever the bytes. */
	for (int i = 0; i < 4; i++)
		if (a->signature[i] < 0x20 || a->signature[i] > 0x7e)
			a->signature[i] = '?';
	a->bytes = bytes;
	a->len = descsz;
	return NULL;
}

static struct ish_error *parse_note(struct ish_snapshot_notes *n, uint32_t type, const uint8_t *d,
				    size_t descsz, size_t at)
{
	switch (type) {
	case ISH_NT_VERSION: {
		uint32_t v;

		if (descsz < 4)
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: version note too short", at);
		v = get32(d);
		if (v >> 16 != ISH_SNAPSHOT_VERSION >> 16)
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot format %u.%u is not supported (this is %u.x)",
						v >> 16, v & 0xffff, ISH_SNAPSHOT_VERSION >> 16);
		n->version = v;
		return NULL;
	}
	case ISH_NT_UNIT:
		return parse_unit(n, d, descsz, at);
	case ISH_NT_DMAR:
		if (n->dmar)
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: a second DMAR table", at);
		n->dmar = malloc(descsz ? descsz : 1);
		if (!n->dmar)
			return &ish_enomem;
		memcpy(n->dmar, d, descsz);
		n->dmar_len = descsz;
		return NULL;
	case ISH_NT_ARCH:
		if (n->arch[0])
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: a second architecture note", at);
		if (descsz != ISH_NT_ARCH_LEN || !d[0] || memchr(d, 0, ISH_NT_ARCH_LEN) == NULL)
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: bad architecture note", at);
		for (size_t i = 0; d[i]; i++)
			if (d[i] < 0x21 || d[i] > 0x7e)
				return ish_error_format(ISH_ERROR_FORMAT,
							"snapshot note at %#zx: bad architecture note", at);
		memcpy(n->arch, d, ISH_NT_ARCH_LEN);
		return NULL;
	case ISH_NT_ACPI:
		return parse_acpi(n, d, descsz, at);
	case ISH_NT_PCICFG: {
		struct ish_snapshot_pcicfg *pc;
		uint8_t *bytes;
		uint32_t len;

		if (descsz < 8 || (len = get32(d + 4)) > ISH_PCICFG_MAX || descsz - 8 < len)
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: bad PCI config space note", at);
		if (n->npcicfg >= 65536)
			return ish_error_format(ISH_ERROR_FORMAT,
						"snapshot note at %#zx: too many PCI devices", at);
		pc = realloc(n->pcicfg, (n->npcicfg + 1) * sizeof(*pc));
		if (!pc)
			return &ish_enomem;
		n->pcicfg = pc;
		bytes = malloc(len ? len : 1);
		if (!bytes)
			return &ish_enomem;
		memcpy(bytes, d + 8, len);
		pc[n->npcicfg++] = (struct ish_snapshot_pcicfg){ get16(d), get16(d + 2), len, bytes };
		return NULL;
	}
	default:
		/* A newer minor version may add note types; skip them. */
		return NULL;
	}
}

struct ish_error *ish_snapshot_parse_notes(const void *buf, size_t len,
					   struct ish_snapshot_notes **ret)
{
	static const char name[] = ISH_SNAPSHOT_NOTE_NAME;
	const uint8_t *p = buf;
	struct ish_snapshot_notes *n;
	size_t pos = 0;

	if (len > ISH_SNAPSHOT_MAX_NOTES)
		return ish_error_format(ISH_ERROR_FORMAT, "note segment of %zu bytes is too large",
					len);
	n = calloc(1, sizeof(*n));
	if (!n)
		return &ish_enomem;
	while (len - pos >= 12) {
		uint32_t namesz = get32(p + pos), descsz = get32(p + pos + 4), type = get32(p + pos + 8);
		size_t name_at = pos + 12, desc_at, end;
		struct ish_error *err;

		/* Every size is checked against what is left before it is added. */
		if (pad4(namesz) > len - name_at) {
			ish_snapshot_notes_destroy(n);
			return ish_error_format(ISH_ERROR_FORMAT,
						"note at %#zx: name of %u bytes runs past the segment",
						pos, namesz);
		}
		desc_at = name_at + pad4(namesz);
		if (descsz > len - desc_at) {
			ish_snapshot_notes_destroy(n);
			return ish_error_format(ISH_ERROR_FORMAT,
						"note at %#zx: descriptor of %u bytes runs past the segment",
						pos, descsz);
		}
		end = desc_at + descsz;
		end = pad4(end) > len ? len : pad4(end);
		if (namesz == sizeof(name) && !memcmp(p + name_at, name, sizeof(name))) {
			err = parse_note(n, type, p + desc_at, descsz, pos);
			if (err) {
				ish_snapshot_notes_destroy(n);
				return err;
			}
		}
		pos = end;
	}
	for (size_t i = 0; !n->dmar && i < n->nacpi; i++) {
		if (memcmp(n->acpi[i].bytes, "DMAR", 4))
			continue;
		n->dmar = malloc(n->acpi[i].len);
		if (!n->dmar) {
			ish_snapshot_notes_destroy(n);
			return &ish_enomem;
		}
		memcpy(n->dmar, n->acpi[i].bytes, n->acpi[i].len);
		n->dmar_len = n->acpi[i].len;
	}
	*ret = n;
	return NULL;
}
