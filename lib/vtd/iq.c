// SPDX-License-Identifier: MIT
/*
 * Invalidation queue descriptors: one table row per type gives its name,
 * the meaning of its granularity field and its reserved bits, so decoding,
 * the reserved-bit check and the encoders agree.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <iommush/vtd/iq.h>
#include <iommush/vtd/vtd.h>

#define M ISH_GENMASK

struct qi_type_row {
	unsigned type;
	const char *name;
	unsigned gran_hi, gran_lo;	/* G field position; gran_hi == 0: none */
	const char *gran[4];
	/* Reserved bits in qw0 / qw1, excluding the type fields 3:0 and 11:9. */
	uint64_t rsvd0, rsvd1;
};

/* VT-d 6.5.2.x; positions cross-checked against Linux QI_* and QEMU VTD_INV_DESC_*. */
static const struct qi_type_row qi_types[] = {
	{ QI_CC_TYPE, "context-cache", 5, 4, { "rsvd0", "global", "domain", "device" },
	  M(8, 6) | M(15, 12) | M(63, 50), ~0ULL },
	{ QI_IOTLB_TYPE, "iotlb", 5, 4, { "rsvd0", "global", "domain", "page" },
	  M(8, 8) | M(15, 12) | M(63, 32), M(11, 7) },
	{ QI_DIOTLB_TYPE, "device-tlb", 0, 0, { NULL },
	  M(8, 4) | M(31, 21) | M(51, 48), M(11, 1) },
	{ QI_IEC_TYPE, "iec", 4, 4, { "global", "index" },
	  M(8, 5) | M(26, 12) | M(63, 48), ~0ULL },
	{ QI_IWD_TYPE, "wait", 0, 0, { NULL },
	  M(8, 8) | M(31, 12), M(1, 0) },
	{ QI_EIOTLB_TYPE, "pasid-iotlb", 5, 4, { "rsvd0", "rsvd1", "pasid", "page" },
	  M(8, 6) | M(15, 12) | M(63, 52), M(11, 7) },
	{ QI_PC_TYPE, "pasid-cache", 5, 4, { "domain", "pasid", "rsvd2", "global" },
	  M(8, 6) | M(15, 12) | M(63, 52), ~0ULL },
	{ QI_DEIOTLB_TYPE, "pasid-device-tlb", 0, 0, { NULL },
	  0, M(10, 1) },
	{ QI_PGRP_RESP_TYPE, "page-group-response", 0, 0, { NULL }, 0, 0 },
	{ QI_PSTRM_RESP_TYPE, "page-stream-response", 0, 0, { NULL }, 0, 0 },
};

static const struct qi_type_row *qi_type_find(unsigned type)
{
	for (size_t i = 0; i < sizeof(qi_types) / sizeof(qi_types[0]); i++)
		if (qi_types[i].type == type)
			return &qi_types[i];
	return NULL;
}

const char *ish_iqei_text(unsigned iqei)
{
	static const char *const texts[] = {
		"no detail recorded",
		"invalid tail pointer (IQT)",
		"descriptor fetch failed",
		"invalid descriptor type",
		"reserved bits set in a descriptor",
		"descriptor width (IQA.DW) not supported",
	};
	return iqei < sizeof(texts) / sizeof(texts[0]) ? texts[iqei] : "unknown";
}

void ish_qi_decode(const uint64_t qw[4], unsigned width, struct ish_qi_desc *ret)
{
	const struct qi_type_row *row;
	uint64_t lo = qw[0], hi = qw[1];

	memset(ret, 0, sizeof(*ret));
	ret->width = width == 256 ? 256 : 128;
	memcpy(ret->qw, qw, (ret->width / 64) * sizeof(uint64_t));
	ret->type = (unsigned)(ISH_BITS(lo, 3, 0) | ISH_BITS(lo, 11, 9) << 4);
	row = qi_type_find(ret->type);
	if (!row) {
		/* Type 0 is no descriptor at all: what an unused slot holds. */
		ret->name = ret->type ? "unknown" : "none";
		return;
	}
	ret->name = row->name;
	if (row->gran_hi) {
		ret->gran = (unsigned)ISH_BITS(lo, row->gran_hi, row->gran_lo);
		ret->gran_name = row->gran[ret->gran];
	}
	ret->rsvd[0] = lo & row->rsvd0;
	ret->rsvd[1] = hi & row->rsvd1;
	/* No type defined so far uses the upper half of a 256-bit descriptor. */
	if (ret->width == 256 && ret->type <= QI_DEIOTLB_TYPE) {
		ret->rsvd[2] = qw[2];
		ret->rsvd[3] = qw[3];
	}

	switch (ret->type) {
	case QI_CC_TYPE:
		ret->did = (uint16_t)ISH_BITS(lo, 31, 16);
		ret->sid = (uint16_t)ISH_BITS(lo, 47, 32);
		ret->fm = (unsigned)ISH_BITS(lo, 49, 48);
		break;
	case QI_IOTLB_TYPE:
		ret->dw = ISH_BIT(lo, 6);
		ret->dr = ISH_BIT(lo, 7);
		ret->did = (uint16_t)ISH_BITS(lo, 31, 16);
		ret->addr = hi & M(63, 12);
		ret->ih = ISH_BIT(hi, 6);
		ret->am = (unsigned)ISH_BITS(hi, 5, 0);
		break;
	case QI_DIOTLB_TYPE:
		ret->pfsid = (uint16_t)(ISH_BITS(lo, 15, 12) | ISH_BITS(lo, 63, 52) << 4);
		ret->mip = (unsigned)ISH_BITS(lo, 20, 16);
		ret->sid = (uint16_t)ISH_BITS(lo, 47, 32);
		ret->size = ISH_BIT(hi, 0);
		ret->addr = hi & M(63, 12);
		break;
	case QI_IEC_TYPE:
		ret->im = (unsigned)ISH_BITS(lo, 31, 27);
		ret->iidx = (uint16_t)ISH_BITS(lo, 47, 32);
		break;
	case QI_IWD_TYPE:
		ret->iflag = ISH_BIT(lo, 4);
		ret->sw = ISH_BIT(lo, 5);
		ret->fn = ISH_BIT(lo, 6);
		ret->pd = ISH_BIT(lo, 7);
		ret->status_data = (uint32_t)ISH_BITS(lo, 63, 32);
		ret->status_addr = hi & M(63, 2);
		break;
	case QI_EIOTLB_TYPE:
		ret->did = (uint16_t)ISH_BITS(lo, 31, 16);
		ret->pasid = (uint32_t)ISH_BITS(lo, 51, 32);
		ret->addr = hi & M(63, 12);
		ret->ih = ISH_BIT(hi, 6);
		ret->am = (unsigned)ISH_BITS(hi, 5, 0);
		break;
	case QI_PC_TYPE:
		ret->did = (uint16_t)ISH_BITS(lo, 31, 16);
		ret->pasid = (uint32_t)ISH_BITS(lo, 51, 32);
		break;
	case QI_DEIOTLB_TYPE:
		ret->mip = (unsigned)ISH_BITS(lo, 8, 4);
		ret->pfsid = (uint16_t)(ISH_BITS(lo, 15, 12) | ISH_BITS(lo, 63, 52) << 4);
		ret->sid = (uint16_t)ISH_BITS(lo, 31, 16);
		ret->pasid = (uint32_t)ISH_BITS(lo, 51, 32);
		ret->global = ISH_BIT(hi, 0);
		ret->size = ISH_BIT(hi, 11);
		ret->addr = hi & M(63, 12);
		break;
	default:
		break;
	}
}

/* Appends to buf like snprintf, never past len. */
static void add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static const char *pm(bool b)
{
	return b ? "+" : "-";
}

char *ish_qi_describe(const struct ish_qi_desc *d, char *buf, size_t len)
{
	size_t pos = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	add(buf, len, &pos, "%s", d->name);
	if (d->gran_name)
		add(buf, len, &pos, " %s", d->gran_name);
	switch (d->type) {
	case QI_CC_TYPE:
		add(buf, len, &pos, " did=%u sid=%02x:%02x.%u fm=%u", d->did, ISH_BDF_BUS(d->sid),
		    ISH_BDF_DEV(d->sid), ISH_BDF_FN(d->sid), d->fm);
		break;
	case QI_IOTLB_TYPE:
		add(buf, len, &pos, " did=%u addr=%#" PRIx64 " am=%u ih%s dr%s dw%s", d->did, d->addr,
		    d->am, pm(d->ih), pm(d->dr), pm(d->dw));
		break;
	case QI_DIOTLB_TYPE:
		add(buf, len, &pos, " sid=%02x:%02x.%u pfsid=%#x mip=%u addr=%#" PRIx64 " s%s",
		    ISH_BDF_BUS(d->sid), ISH_BDF_DEV(d->sid), ISH_BDF_FN(d->sid), d->pfsid, d->mip,
		    d->addr, pm(d->size));
		break;
	case QI_IEC_TYPE:
		if (d->gran)
			add(buf, len, &pos, " iidx=%u im=%u", d->iidx, d->im);
		break;
	case QI_IWD_TYPE:
		add(buf, len, &pos, " if%s sw%s fn%s pd%s data=%#x addr=%#" PRIx64, pm(d->iflag),
		    pm(d->sw), pm(d->fn), pm(d->pd), d->status_data, d->status_addr);
		break;
	case QI_EIOTLB_TYPE:
		add(buf, len, &pos, " did=%u pasid=%#x addr=%#" PRIx64 " am=%u ih%s", d->did, d->pasid,
		    d->addr, d->am, pm(d->ih));
		break;
	case QI_PC_TYPE:
		add(buf, len, &pos, " did=%u pasid=%#x", d->did, d->pasid);
		break;
	case QI_DEIOTLB_TYPE:
		add(buf, len, &pos,
		    " sid=%02x:%02x.%u pfsid=%#x pasid=%#x mip=%u addr=%#" PRIx64 " s%s g%s",
		    ISH_BDF_BUS(d->sid), ISH_BDF_DEV(d->sid), ISH_BDF_FN(d->sid), d->pfsid, d->pasid,
		    d->mip, d->addr, pm(d->size), pm(d->global));
		break;
	default:
		add(buf, len, &pos, " type=%u qw0=%#" PRIx64 " qw1=%#" PRIx64, d->type, d->qw[0],
		    d->qw[1]);
		if (d->width == 256)
			add(buf, len, &pos, " qw2=%#" PRIx64 " qw3=%#" PRIx64, d->qw[2], d->qw[3]);
		break;
	}
	if (d->rsvd[0] || d->rsvd[1] || d->rsvd[2] || d->rsvd[3])
		add(buf, len, &pos, " RESERVED-BITS-SET");
	return buf;
}

struct ish_error *ish_iq_state_read(struct ish_target *t, unsigned unit, struct ish_iq_state *ret)
{
	struct ish_error *err;
	uint64_t v;
	uint32_t hoff, toff;

	memset(ret, 0, sizeof(*ret));
	err = ish_read_reg(t, unit, DMAR_IQA_REG, 64, &ret->iqa);
	if (!err)
		err = ish_read_reg(t, unit, DMAR_IQH_REG, 64, &ret->iqh);
	if (!err)
		err = ish_read_reg(t, unit, DMAR_IQT_REG, 64, &ret->iqt);
	if (err)
		return err;
	/* The rest refines the report; a dump may lack any of them. */
	if (!(err = ish_read_reg(t, unit, DMAR_ICS_REG, 32, &v))) {
		ret->ics = (uint32_t)v;
		ret->have_ics = true;
	}
	ish_error_destroy(err);
	if (!(err = ish_read_reg(t, unit, DMAR_IQER_REG, 64, &v))) {
		ret->iqer = v;
		ret->have_iqer = true;
	}
	ish_error_destroy(err);
	if (!(err = ish_read_reg(t, unit, DMAR_FSTS_REG, 32, &v))) {
		ret->fsts = (uint32_t)v;
		ret->have_fsts = true;
	}
	ish_error_destroy(err);
	if (!(err = ish_read_reg(t, unit, DMAR_GSTS_REG, 32, &v))) {
		ret->gsts = (uint32_t)v;
		ret->have_gsts = true;
		ret->qies = v & DMA_GSTS_QIES;
	}
	ish_error_destroy(err);
	if (!(err = ish_read_reg(t, unit, DMAR_RTADDR_REG, 64, &v))) {
		ret->rtaddr = v;
		ret->have_rtaddr = true;
		ret->scalable = DMA_RTADDR_TTM(v) == DMA_RTADDR_SMT;
	}
	ish_error_destroy(err);

	ret->base = ret->iqa & M(63, 12);
	ret->qs = (unsigned)(ret->iqa & VTD_IQA_QS);
	ret->dw = ret->iqa & VTD_IQA_DW;
	ret->width_inferred = !ret->dw && ret->scalable;
	ret->desc_size = (ret->dw || ret->width_inferred) ? 32 : 16;
	ret->size = VTD_PAGE_SIZE << ret->qs;
	ret->nslots = (uint32_t)(ret->size / ret->desc_size);
	hoff = (uint32_t)(ret->iqh & VTD_IQH_QH_MASK);
	toff = (uint32_t)(ret->iqt & VTD_IQH_QH_MASK);
	ret->head = hoff / ret->desc_size;
	ret->tail = toff / ret->desc_size;
	ret->head_bad = hoff >= ret->size || hoff % ret->desc_size;
	ret->tail_bad = toff >= ret->size || toff % ret->desc_size;
	if (ret->head_bad || ret->tail_bad) {
		ret->head %= ret->nslots;
		ret->tail %= ret->nslots;
	}
	ret->pending = (ret->tail + ret->nslots - ret->head) % ret->nslots;
	return NULL;
}

struct ish_error *ish_iq_read_slot(struct ish_target *t, const struct ish_iq_state *q,
				   uint32_t slot, struct ish_qi_desc *ret)
{
	uint64_t qw[4] = { 0 };
	uint64_t addr;
	struct ish_error *err;

	if (slot >= q->nslots)
		return ish_error_format(ISH_ERROR_INVALID, "slot %u is beyond the queue (%u slots)",
					slot, q->nslots);
	addr = q->base + (uint64_t)slot * q->desc_size;
	for (unsigned i = 0; i < q->desc_size / 8; i++) {
		err = ish_read_u64(t, addr + 8 * i, &qw[i]);
		if (err)
			return ish_error_prefix(err, "descriptor %u at %#" PRIx64, slot, addr);
	}
	ish_qi_decode(qw, q->desc_size * 8, ret);
	return NULL;
}

/* --- encoders --- */

static struct ish_error *bad(const char *what)
{
	return ish_error_format(ISH_ERROR_INVALID, "%s", what);
}

struct ish_error *ish_qi_encode_cc(unsigned gran, uint16_t did, uint16_t sid, unsigned fm,
				   uint64_t qw[4])
{
	if (gran < ISH_QI_CC_GLOBAL || gran > ISH_QI_CC_DEVICE)
		return bad("context-cache granularity must be global, domain or device");
	if (fm > 3)
		return bad("function mask must be 0..3");
	memset(qw, 0, 4 * sizeof(uint64_t));
	qw[0] = QI_CC_TYPE | (uint64_t)gran << 4 | (uint64_t)did << 16 | (uint64_t)sid << 32 |
		(uint64_t)fm << 48;
	return NULL;
}

static struct ish_error *check_page(uint64_t addr, unsigned am)
{
	if (am > 51)
		return bad("address mask must be 0..51");
	if (addr & ((VTD_PAGE_SIZE << am) - 1))
		return ish_error_format(ISH_ERROR_INVALID,
					"address %#" PRIx64 " is not aligned to 2^%u pages", addr,
					am);
	return NULL;
}

struct ish_error *ish_qi_encode_iotlb(unsigned gran, uint16_t did, uint64_t addr, unsigned am,
				      bool ih, bool dr, bool dw, uint64_t qw[4])
{
	struct ish_error *err;

	if (gran < ISH_QI_IOTLB_GLOBAL || gran > ISH_QI_IOTLB_PAGE)
		return bad("IOTLB granularity must be global, domain or page");
	if (gran == ISH_QI_IOTLB_PAGE && (err = check_page(addr, am)))
		return err;
	if (gran != ISH_QI_IOTLB_PAGE && (addr || am || ih))
		return bad("address, mask and hint apply to page-selective invalidation only");
	memset(qw, 0, 4 * sizeof(uint64_t));
	qw[0] = QI_IOTLB_TYPE | (uint64_t)gran << 4 | (uint64_t)dw << 6 | (uint64_t)dr << 7 |
		(uint64_t)did << 16;
	qw[1] = addr | (uint64_t)ih << 6 | am;
	return NULL;
}

struct ish_error *ish_qi_encode_iec(bool selective, uint16_t index, unsigned im, uint64_t qw[4])
{
	if (im > 31)
		return bad("index mask must be 0..31");
	if (!selective && (index || im))
		return bad("index and mask apply to index-selective invalidation only");
	if (selective && (index & (im >= 16 ? 0xffffu : (1u << im) - 1)))
		return bad("index must be aligned to 2^mask entries");
	memset(qw, 0, 4 * sizeof(uint64_t));
	qw[0] = QI_IEC_TYPE | (uint64_t)selective << 4 | (uint64_t)im << 27 | (uint64_t)index << 32;
	return NULL;
}

struct ish_error *ish_qi_encode_pc(unsigned gran, uint16_t did, uint32_t pasid, uint64_t qw[4])
{
	if (gran != ISH_QI_PC_DOMAIN && gran != ISH_QI_PC_PASID && gran != ISH_QI_PC_GLOBAL)
		return bad("PASID-cache granularity must be domain, pasid or global");
	if (pasid > 0xfffff)
		return bad("PASID must fit in 20 bits");
	memset(qw, 0, 4 * sizeof(uint64_t));
	qw[0] = QI_PC_TYPE | (uint64_t)gran << 4 | (uint64_t)did << 16 | (uint64_t)pasid << 32;
	return NULL;
}

struct ish_error *ish_qi_encode_piotlb(unsigned gran, uint16_t did, uint32_t pasid, uint64_t addr,
				       unsigned am, bool ih, uint64_t qw[4])
{
	struct ish_error *err;

	if (gran != ISH_QI_PIOTLB_PASID && gran != ISH_QI_PIOTLB_PAGE)
		return bad("PASID-IOTLB granularity must be pasid or page");
	if (pasid > 0xfffff)
		return bad("PASID must fit in 20 bits");
	if (gran == ISH_QI_PIOTLB_PAGE && (err = check_page(addr, am)))
		return err;
	if (gran != ISH_QI_PIOTLB_PAGE && (addr || am || ih))
		return bad("address, mask and hint apply to page-selective invalidation only");
	memset(qw, 0, 4 * sizeof(uint64_t));
	qw[0] = QI_EIOTLB_TYPE | (uint64_t)gran << 4 | (uint64_t)did << 16 | (uint64_t)pasid << 32;
	qw[1] = addr | (uint64_t)ih << 6 | am;
	return NULL;
}

struct ish_error *ish_qi_encode_wait(bool iflag, bool sw, bool fn, uint32_t status_data,
				     uint64_t status_addr, uint64_t qw[4])
{
	if (status_addr & 3)
		return bad("status address must be 4-byte aligned");
	if (!sw && (status_addr || status_data))
		return bad("status address and data apply only with status write (SW)");
	memset(qw, 0, 4 * sizeof(uint64_t));
	qw[0] = QI_IWD_TYPE | (uint64_t)iflag << 4 | (uint64_t)sw << 5 | (uint64_t)fn << 6 |
		(uint64_t)status_data << 32;
	qw[1] = status_addr;
	return NULL;
}
