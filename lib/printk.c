// SPDX-License-Identifier: MIT
/*
 * The kernel's log: a reader of the lockless printk ring buffer (Linux
 * 5.10 and later). Layout facts from kernel/printk/printk_ringbuffer.h and
 * kernel/printk/printk.c's log_buf_vmcoreinfo_setup(), which exports every
 * size and offset needed here into VMCOREINFO so that a dump can be read
 * with no debug information:
 *
 *  printk_ringbuffer { prb_desc_ring desc_ring; prb_data_ring text_data_ring; ... }
 *  prb_desc_ring     { count_bits; descs; infos; head_id; tail_id; ... }
 *  prb_desc          { state_var (id | state << 62); text_blk_lpos { begin, next } }
 *  prb_data_ring     { size_bits; data; head_lpos; tail_lpos }
 *  printk_info       { seq; ts_nsec; text_len (u16); ...; caller_id; ... }
 *  data block        { unsigned long id; char text[]; } at data[lpos % size]
 *
 * A descriptor's id selects slot id % count. Its state (the top two bits
 * of state_var) is reserved 0, committed 1, finalized 2, reusable 3; only
 * committed and finalized records are complete. A block whose begin and
 * next lie in different wraps of the data ring starts at data[0]; an lpos
 * with bit 0 set is a record without data.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/printk.h>

#include "kernel_internal.h"

#define STATE_SHIFT 62
#define ID_MASK ((1ULL << STATE_SHIFT) - 1)
#define DESC_COMMITTED 1
#define DESC_FINALIZED 2
#define DESC_REUSABLE 3
#define MAX_STRUCT 4096u	/* no struct here is anywhere near this */

struct layout {
	uint64_t rb_size, ring_desc, ring_data;
	uint64_t dr_count_bits, dr_descs, dr_infos, dr_head_id, dr_tail_id;
	uint64_t desc_size, desc_state, desc_lpos;
	uint64_t lpos_begin, lpos_next;
	uint64_t info_size, info_seq, info_ts, info_text_len, info_caller;
	uint64_t data_size_bits, data_data;
	uint64_t atomic_counter;	/* atomic_long_t.counter: 0 on every kernel, but exported */
};

static struct ish_error *vnum(const struct ish_vmcoreinfo *v, const char *key, uint64_t *ret)
{
	struct ish_error *err = ish_vmcoreinfo_number(v, key, ret);

	if (!err && !strncmp(key, "SIZE(", 5) && (*ret == 0 || *ret > MAX_STRUCT))
		return ish_error_format(ISH_ERROR_FORMAT, "VMCOREINFO %s=%" PRIu64 " is not a size",
					key, *ret);
	if (!err && !strncmp(key, "OFFSET(", 7) && *ret >= MAX_STRUCT)
		return ish_error_format(ISH_ERROR_FORMAT,
					"VMCOREINFO %s=%" PRIu64 " is not an offset", key, *ret);
	if (err && err->code == ISH_ERROR_NOT_FOUND) {
		ish_error_destroy(err);
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"VMCOREINFO has no %s: the kernel predates the lockless "
					"printk ring buffer (Linux 5.10)", key);
	}
	return err;
}

static struct ish_error *get_layout(const struct ish_vmcoreinfo *v, struct layout *l)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
#define K(name, field) { name, offsetof(struct layout, field) }
		K("SIZE(printk_ringbuffer)", rb_size),
		K("OFFSET(printk_ringbuffer.desc_ring)", ring_desc),
		K("OFFSET(printk_ringbuffer.text_data_ring)", ring_data),
		K("OFFSET(prb_desc_ring.count_bits)", dr_count_bits),
		K("OFFSET(prb_desc_ring.descs)", dr_descs),
		K("OFFSET(prb_desc_ring.infos)", dr_infos),
		K("OFFSET(prb_desc_ring.head_id)", dr_head_id),
		K("OFFSET(prb_desc_ring.tail_id)", dr_tail_id),
		K("SIZE(prb_desc)", desc_size),
		K("OFFSET(prb_desc.state_var)", desc_state),
		K("OFFSET(prb_desc.text_blk_lpos)", desc_lpos),
		K("OFFSET(prb_data_blk_lpos.begin)", lpos_begin),
		K("OFFSET(prb_data_blk_lpos.next)", lpos_next),
		K("SIZE(printk_info)", info_size),
		K("OFFSET(printk_info.seq)", info_seq),
		K("OFFSET(printk_info.ts_nsec)", info_ts),
		K("OFFSET(printk_info.text_len)", info_text_len),
		K("OFFSET(printk_info.caller_id)", info_caller),
		K("OFFSET(prb_data_ring.size_bits)", data_size_bits),
		K("OFFSET(prb_data_ring.data)", data_data),
		K("OFFSET(atomic_long_t.counter)", atomic_counter),
#undef K
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct ish_error *err = vnum(v, keys[i].key, (uint64_t *)((char *)l + keys[i].off));

		if (err)
			return err;
	}
	/* every field read below must fit in its struct */
	if (l->ring_desc + l->dr_tail_id + 16 > MAX_STRUCT ||
	    l->ring_data + l->data_data + 8 > MAX_STRUCT || l->desc_state + 8 > l->desc_size ||
	    l->desc_lpos + l->lpos_begin + 8 > l->desc_size ||
	    l->desc_lpos + l->lpos_next + 8 > l->desc_size || l->info_seq + 8 > l->info_size ||
	    l->info_ts + 8 > l->info_size || l->info_text_len + 2 > l->info_size ||
	    l->info_caller + 4 > l->info_size || l->atomic_counter + 8 > MAX_STRUCT)
		return ish_error_create(ISH_ERROR_FORMAT,
					"VMCOREINFO's printk layout has members outside their structs");
	return NULL;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct builder {
	struct ish_printk_log *log;
	size_t cap, used, storage_cap;
	uint64_t *text_off;	/* by record, into storage (the storage moves) */
};

static struct ish_error *add_text(struct builder *b, const char *text, size_t len, size_t *off)
{
	if (b->used + len + 1 > b->storage_cap) {
		size_t cap = b->storage_cap ? b->storage_cap : 65536;
		char *s;

		while (cap < b->used + len + 1)
			cap *= 2;
		s = realloc(b->log->storage, cap);
		if (!s)
			return &ish_enomem;
		b->log->storage = s;
		b->storage_cap = cap;
	}
	memcpy(b->log->storage + b->used, text, len);
	b->log->storage[b->used + len] = '\0';
	*off = b->used;
	b->used += len + 1;
	return NULL;
}

static struct ish_error *add_record(struct builder *b, const struct ish_printk_record *r,
				    const char *text, size_t len)
{
	struct ish_printk_log *log = b->log;
	struct ish_error *err;
	size_t off;

	if (log->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;
		struct ish_printk_record *rec = realloc(log->rec, cap * sizeof(*rec));
		uint64_t *to;

		if (!rec)
			return &ish_enomem;
		log->rec = rec;
		to = realloc(b->text_off, cap * sizeof(*to));
		if (!to)
			return &ish_enomem;
		b->text_off = to;
		b->cap = cap;
	}
	err = add_text(b, text, len, &off);
	if (err)
		return err;
	log->rec[log->n] = *r;
	log->rec[log->n].len = len;
	b->text_off[log->n] = off;
	log->n++;
	return NULL;
}

/* Where the block of lpos [begin, next) lies in the ring, as the kernel's get_data() decides. */
static bool block_of(uint64_t begin, uint64_t next, unsigned size_bits, uint64_t *off,
		     uint64_t *len)
{
	uint64_t size = 1ULL << size_bits;

	if ((begin & 1) || (next & 1))
		return false;	/* a record without data (FAILED_LPOS, EMPTY_LINE_LPOS) */
	if (begin >> size_bits == next >> size_bits) {
		if (next < begin)
			return false;
		*off = begin & (size - 1);
		*len = next - begin;
	} else if ((begin + size) >> size_bits == next >> size_bits) {
		*off = 0;
		*len = next & (size - 1);
	} else {
		return false;
	}
	return *len >= 8 && *off + *len <= size;
}

struct ish_error *ish_printk_read_log(const struct ish_vmcoreinfo *v, uint64_t prb, int level_bit,
				      ish_printk_read_fn read, void *arg,
				      struct ish_printk_log **ret)
{
	uint8_t hdr[MAX_STRUCT], desc[MAX_STRUCT], info[MAX_STRUCT], word[8];
	struct builder b = { 0 };
	struct ish_error *err;
	struct layout l;
	uint64_t descs, infos, data, head, tail, count, n;
	unsigned count_bits, size_bits;
	char *text = NULL;

	*ret = NULL;
	err = get_layout(v, &l);
	if (err)
		return err;
	if (!prb) {
		uint64_t sym;

		err = vnum(v, "SYMBOL(prb)", &sym);
		if (!err)
			err = read(arg, sym, word, 8);
		if (err)
			return ish_error_prefix(err, "the printk ring buffer pointer (prb)");
		prb = le(word, 8);
	}
	err = read(arg, prb, hdr, l.rb_size);
	if (err)
		return ish_error_prefix(err, "the printk ring buffer at %#" PRIx64, prb);
#define AT(o, n) le(hdr + (o), n)
	count_bits = (unsigned)AT(l.ring_desc + l.dr_count_bits, 4);
	descs = AT(l.ring_desc + l.dr_descs, 8);
	infos = AT(l.ring_desc + l.dr_infos, 8);
	head = AT(l.ring_desc + l.dr_head_id + l.atomic_counter, 8) & ID_MASK;
	tail = AT(l.ring_desc + l.dr_tail_id + l.atomic_counter, 8) & ID_MASK;
	size_bits = (unsigned)AT(l.ring_data + l.data_size_bits, 4);
	data = AT(l.ring_data + l.data_data, 8);
#undef AT
	if (count_bits > ISH_PRINTK_MAX_COUNT_BITS || size_bits > ISH_PRINTK_MAX_SIZE_BITS ||
	    size_bits < 4)
		return ish_error_format(ISH_ERROR_FORMAT,
					"the printk ring buffer at %#" PRIx64 " is not one "
					"(count_bits %u, size_bits %u)", prb, count_bits, size_bits);
	count = 1ULL << count_bits;
	n = ((head - tail) & ID_MASK) + 1;
	if (n > count)
		n = count;	/* a torn read of head/tail: visit every slot once at most */
	b.log = calloc(1, sizeof(*b.log));
	text = malloc(65536 + 8);
	if (!b.log || !text) {
		err = &ish_enomem;
		goto out;
	}
	b.log->count_bits = count_bits;
	b.log->size_bits = size_bits;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t id = (tail + i) & ID_MASK, slot = id & (count - 1);
		uint64_t sv, begin, next, off, len, text_len;
		struct ish_printk_record r = { .level = -1 };

		err = read(arg, descs + slot * l.desc_size, desc, l.desc_size);
		if (!err)
			err = read(arg, infos + slot * l.info_size, info, l.info_size);
		if (err) {
			err = ish_error_prefix(err, "printk descriptor %" PRIu64, id);
			goto out;
		}
		sv = le(desc + l.desc_state + l.atomic_counter, 8);
		/*
		 * Another id: the ring moved on. Reusable: released (the ring's
		 * first descriptor starts so). Reserved: being written now.
		 */
		if ((sv & ID_MASK) != id || sv >> STATE_SHIFT == DESC_REUSABLE)
			continue;
		if (sv >> STATE_SHIFT != DESC_COMMITTED && sv >> STATE_SHIFT != DESC_FINALIZED) {
			b.log->skipped++;
			continue;
		}
		r.seq = le(info + l.info_seq, 8);
		r.ts_nsec = le(info + l.info_ts, 8);
		r.caller_id = (uint32_t)le(info + l.info_caller, 4);
		if (level_bit >= 0 && (uint64_t)level_bit / 8 + 1 <= l.info_size)
			r.level = (int)((info[level_bit / 8] >> (level_bit % 8)) & 7);
		text_len = le(info + l.info_text_len, 2);
		begin = le(desc + l.desc_lpos + l.lpos_begin, 8);
		next = le(desc + l.desc_lpos + l.lpos_next, 8);
		len = 0;
		if (text_len && !block_of(begin, next, size_bits, &off, &len)) {
			b.log->unreadable++;
			continue;
		}
		if (text_len > len - 8)
			text_len = len - 8;	/* the kernel truncates to its block too */
		if (text_len) {
			err = read(arg, data + off + 8, text, text_len);
			if (err) {
				ish_error_destroy(err);
				err = NULL;
				b.log->unreadable++;
				continue;
			}
		}
		err = add_record(&b, &r, text, text_len);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < b.log->n; i++)
		b.log->rec[i].text = b.log->storage + b.text_off[i];
	*ret = b.log;
	b.log = NULL;
out:
	free(text);
	free(b.text_off);
	ish_printk_log_destroy(b.log);
	return err;
}

void ish_printk_log_destroy(struct ish_printk_log *log)
{
	if (!log)
		return;
	free(log->rec);
	free(log->storage);
	free(log);
}

static struct ish_error *kread(void *arg, uint64_t va, void *buf, size_t len)
{
	return ish_kernel_read(arg, va, buf, len);
}

struct ish_error *ish_kernel_log(struct ish_kernel *k, struct ish_printk_log **ret)
{
	struct ish_kernel_member m;
	struct ish_error *err;
	uint64_t prb = 0, sym;
	int level_bit = -1;

	/* BTF only for the level; a kernel without BTF still has its log. */
	err = ish_kernel_member(k, "struct printk_info", "level", &m);
	/* the level must sit in one byte, as a u8 bitfield does */
	if (!err && m.bit_size == 3 && m.offset < MAX_STRUCT && m.bit_offset % 8 <= 5)
		level_bit = (int)(m.offset * 8 + m.bit_offset);
	ish_error_destroy(err);
	/* a VMCOREINFO without SYMBOL(prb) (a hand-made one): kallsyms knows it too */
	if (!ish_kernel_vmcoreinfo(k, "SYMBOL(prb)")) {
		err = ish_kernel_symbol(k, "prb", &sym);
		if (!err)
			err = ish_kernel_read_u64(k, sym, &prb);
		if (err)
			return ish_error_prefix(err, "the printk ring buffer pointer (prb)");
	}
	return ish_printk_read_log(k->vmci, prb, level_bit, kread, k, ret);
}

static bool has(const char *line, size_t len, const char *what)
{
	size_t n = strlen(what);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(line + i, what, n))
			return true;
	return false;
}

bool ish_printk_iommu_line(const char *line, size_t len)
{
	static const char *const prefixes[] = {
		"DMAR:", "DMAR-IR:", "AMD-Vi:", "iommu:", "arm-smmu", "intel_iommu", "IOMMU", "iommu",
		"PCI-DMA:",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (has(line, len, prefixes[i]))
			return true;
	return false;
}
