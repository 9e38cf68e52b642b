// SPDX-License-Identifier: MIT
/*
 * The VT-d register table (VT-d spec 11.4), pure data: every register, its
 * location, width, access and fields. Field layouts from the spec; names
 * follow Linux drivers/iommu/intel/iommu.h and QEMU
 * hw/i386/intel_iommu_internal.h so that grep finds all three. Where a
 * section number below is only "11.4" the register is cited by the spec's
 * register title: numbering of the later subsections moved between spec
 * revisions. Lookup and enumeration over a target are lib/regs.c's.
 */
#include <stddef.h>

#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FLAG(name, bit, desc) { name, bit, bit, ISH_FMT_FLAG, desc, NULL, ISH_ACCESS_INHERIT }
#define HEX(name, hi, lo, desc) { name, hi, lo, ISH_FMT_HEX, desc, NULL, ISH_ACCESS_INHERIT }
#define DEC(name, hi, lo, desc) { name, hi, lo, ISH_FMT_DEC, desc, NULL, ISH_ACCESS_INHERIT }
#define ADDR(name, hi, lo, desc) { name, hi, lo, ISH_FMT_ADDR, desc, NULL, ISH_ACCESS_INHERIT }
#define ENUM(name, hi, lo, desc, tab) { name, hi, lo, ISH_FMT_ENUM, desc, tab, ISH_ACCESS_INHERIT }
#define BITSET(name, hi, lo, desc, tab) { name, hi, lo, ISH_FMT_BITSET, desc, tab, ISH_ACCESS_INHERIT }
#define FMT(name, hi, lo, fmt, desc) { name, hi, lo, fmt, desc, NULL, ISH_ACCESS_INHERIT }
/* Fields whose access differs from their register's. */
#define RO_FLAG(name, bit, desc) { name, bit, bit, ISH_FMT_FLAG, desc, NULL, ISH_ACCESS_RO }
#define RO_HEX(name, hi, lo, desc) { name, hi, lo, ISH_FMT_HEX, desc, NULL, ISH_ACCESS_RO }
#define RO_DEC(name, hi, lo, desc) { name, hi, lo, ISH_FMT_DEC, desc, NULL, ISH_ACCESS_RO }
#define RO_ENUM(name, hi, lo, desc, tab) { name, hi, lo, ISH_FMT_ENUM, desc, tab, ISH_ACCESS_RO }

/* --- value names --- */

/* CAP.ND: domain-id width; 2^(4+2*ND) domains. */
static const struct ish_value_name nd_names[] = {
	{ 0, "4-bit" }, { 1, "6-bit" }, { 2, "8-bit" }, { 3, "10-bit" },
	{ 4, "12-bit" }, { 5, "14-bit" }, { 6, "16-bit" }, { 0, NULL },
};

/* CAP.SAGAW bits: adjusted guest address widths (page-table levels). */
static const struct ish_value_name sagaw_bits[] = {
	{ 1, "39-bit" }, { 2, "48-bit" }, { 3, "57-bit" }, { 0, NULL },
};

/* CAP.SLLPS bits: second-level large page sizes. */
static const struct ish_value_name sllps_bits[] = {
	{ 0, "2M" }, { 1, "1G" }, { 2, "512G" }, { 3, "1T" }, { 0, NULL },
};

/* RTADDR.TTM: translation table mode. */
static const struct ish_value_name ttm_names[] = {
	{ 0, "legacy" }, { 1, "scalable" }, { 2, "reserved" }, { 3, "abort-dma" }, { 0, NULL },
};

/* CCMD.CIRG / CAIG: context-cache invalidation granularity. */
static const struct ish_value_name ccmd_gran[] = {
	{ 1, "global" }, { 2, "domain" }, { 3, "device" }, { 0, NULL },
};

/* IOTLB.IIRG / IAIG: IOTLB invalidation granularity. */
static const struct ish_value_name iotlb_gran[] = {
	{ 1, "global" }, { 2, "domain" }, { 3, "page" }, { 0, NULL },
};

/* IQERCD.IQEI: invalidation queue error information. */
static const struct ish_value_name iqei_names[] = {
	{ 0, "no-info" }, { 1, "tail-invalid" }, { 2, "fetch-error" },
	{ 3, "invalid-type" }, { 4, "reserved-set" }, { 5, "invalid-width" },
	{ 6, "tail-misaligned" }, { 7, "invalid-ttm" }, { 0, NULL },
};

/* FRCD.AT: address type of the faulting request. */
static const struct ish_value_name at_names[] = {
	{ 0, "untranslated" }, { 1, "translation-request" }, { 2, "translated" }, { 0, NULL },
};

/* MTRR memory types. */
static const struct ish_value_name memtype_names[] = {
	{ 0, "UC" }, { 1, "WC" }, { 4, "WT" }, { 5, "WP" }, { 6, "WB" }, { 0, NULL },
};

/* --- fields, one array per register layout --- */

static const struct ish_field_def ver_fields[] = {
	DEC("MAX", 7, 4, "major version"),
	DEC("MIN", 3, 0, "minor version"),
};

static const struct ish_field_def cap_fields[] = {
	ENUM("ND", 2, 0, "number of domains supported", nd_names),
	FLAG("AFL", 3, "advanced fault logging"),
	FLAG("RWBF", 4, "required write-buffer flushing"),
	FLAG("PLMR", 5, "protected low-memory region"),
	FLAG("PHMR", 6, "protected high-memory region"),
	FLAG("CM", 7, "caching mode"),
	BITSET("SAGAW", 12, 8, "supported adjusted guest address widths", sagaw_bits),
	FMT("MGAW", 21, 16, ISH_FMT_PLUS1, "maximum guest address width - 1"),
	FLAG("ZLR", 22, "zero length read"),
	FMT("FRO", 33, 24, ISH_FMT_X16, "fault-recording register offset / 16"),
	BITSET("SLLPS", 37, 34, "second-level large page support", sllps_bits),
	FLAG("PSI", 39, "page selective invalidation"),
	FMT("NFR", 47, 40, ISH_FMT_PLUS1, "number of fault-recording registers - 1"),
	DEC("MAMV", 53, 48, "maximum address mask value"),
	FLAG("DWD", 54, "write draining"),
	FLAG("DRD", 55, "read draining"),
	FLAG("FL1GP", 56, "first-level 1-GByte page support"),
	FLAG("PI", 59, "posted interrupts support"),
	FLAG("FL5LP", 60, "first-level 5-level paging support"),
	FLAG("ECMDS", 61, "enhanced command support"),
	FLAG("ESIRTPS", 62, "enhanced set interrupt remap table pointer support"),
	FLAG("ESRTPS", 63, "enhanced set root table pointer support"),
};

static const struct ish_field_def ecap_fields[] = {
	FLAG("C", 0, "page-walk coherency"),
	FLAG("QI", 1, "queued invalidation support"),
	FLAG("DT", 2, "device-TLB support"),
	FLAG("IR", 3, "interrupt remapping support"),
	FLAG("EIM", 4, "extended interrupt mode (x2APIC)"),
	FLAG("PT", 6, "pass through"),
	FLAG("SC", 7, "snoop control"),
	FMT("IRO", 17, 8, ISH_FMT_X16, "IOTLB register offset / 16"),
	DEC("MHMV", 23, 20, "maximum handle mask value"),
	FLAG("MTS", 25, "memory type support"),
	FLAG("NEST", 26, "nested translation support"),
	FLAG("PRS", 29, "page request support"),
	FLAG("ERS", 30, "execute request support"),
	FLAG("SRS", 31, "supervisor request support"),
	FLAG("NWFS", 33, "no write flag support"),
	FLAG("EAFS", 34, "extended accessed flag support"),
	FMT("PSS", 39, 35, ISH_FMT_PLUS1, "PASID size supported - 1 (bits)"),
	FLAG("PASID", 40, "process address space ID support"),
	FLAG("DIT", 41, "device-TLB invalidation throttle"),
	FLAG("PDS", 42, "page-request drain support"),
	FLAG("SMTS", 43, "scalable mode translation support"),
	FLAG("VCS", 44, "virtual command support"),
	FLAG("SLADS", 45, "second-level accessed/dirty support"),
	FLAG("SLTS", 46, "second-level translation support"),
	FLAG("FLTS", 47, "first-level translation support"),
	FLAG("SMPWCS", 48, "scalable-mode page-walk coherency support"),
	FLAG("RPS", 49, "RID-PASID support"),
	FLAG("PMS", 51, "performance monitoring support"),
	FLAG("ADMS", 52, "abort DMA mode support"),
	FLAG("RPRIVS", 53, "RID_PRIV support"),
};

static const struct ish_field_def gcmd_fields[] = {
	FLAG("TE", 31, "translation enable"),
	FLAG("SRTP", 30, "set root table pointer"),
	FLAG("SFL", 29, "set fault log"),
	FLAG("EAFL", 28, "enable advanced fault logging"),
	FLAG("WBF", 27, "write buffer flush"),
	FLAG("QIE", 26, "queued invalidation enable"),
	FLAG("IRE", 25, "interrupt remapping enable"),
	FLAG("SIRTP", 24, "set interrupt remap table pointer"),
	FLAG("CFI", 23, "compatibility format interrupt"),
};

static const struct ish_field_def gsts_fields[] = {
	FLAG("TES", 31, "translation enable status"),
	FLAG("RTPS", 30, "root table pointer status"),
	FLAG("FLS", 29, "fault log status"),
	FLAG("AFLS", 28, "advanced fault logging status"),
	FLAG("WBFS", 27, "write buffer flush status"),
	FLAG("QIES", 26, "queued invalidation enable status"),
	FLAG("IRES", 25, "interrupt remapping enable status"),
	FLAG("IRTPS", 24, "interrupt remapping table pointer status"),
	FLAG("CFIS", 23, "compatibility format interrupt status"),
};

static const struct ish_field_def rtaddr_fields[] = {
	ADDR("RTA", 63, 12, "root table address"),
	ENUM("TTM", 11, 10, "translation table mode", ttm_names),
};

static const struct ish_field_def ccmd_fields[] = {
	FLAG("ICC", 63, "invalidate context-cache"),
	ENUM("CIRG", 62, 61, "context invalidation request granularity", ccmd_gran),
	RO_ENUM("CAIG", 60, 59, "context actual invalidation granularity", ccmd_gran),
	DEC("FM", 33, 32, "function mask"),
	HEX("SID", 31, 16, "source-id"),
	DEC("DID", 15, 0, "domain-id"),
};

/*
 * FSTS: the error and overflow bits are RW1CS; PPF is ROS, the OR of every
 * fault record's F (cleared by clearing those), and FRI is ROS. QEMU's
 * w1cmask for FSTS is 0x11 (PFO, IQE), the only bits it sets.
 */
static const struct ish_field_def fsts_fields[] = {
	RO_DEC("FRI", 15, 8, "fault record index"),
	FLAG("PRO", 7, "page request overflow (deprecated)"),
	FLAG("ITE", 6, "invalidation time-out error"),
	FLAG("ICE", 5, "invalidation completion error"),
	FLAG("IQE", 4, "invalidation queue error"),
	FLAG("APF", 3, "advanced pending fault"),
	FLAG("AFO", 2, "advanced fault overflow"),
	RO_FLAG("PPF", 1, "primary pending fault"),
	FLAG("PFO", 0, "primary fault overflow"),
};

/* FECTL, IECTL, PECTL share one layout: IM is RW, IP is RO (QEMU wmask 0x80000000). */
static const struct ish_field_def ectl_fields[] = {
	FLAG("IM", 31, "interrupt mask"),
	RO_FLAG("IP", 30, "interrupt pending"),
};

static const struct ish_field_def edata_fields[] = {
	HEX("IMD", 15, 0, "interrupt message data"),
};

static const struct ish_field_def eaddr_fields[] = {
	ADDR("MA", 31, 2, "message address"),
};

static const struct ish_field_def euaddr_fields[] = {
	HEX("MUA", 31, 0, "message upper address"),
};

static const struct ish_field_def aflog_fields[] = {
	ADDR("FLA", 63, 12, "fault log address"),
	DEC("FLS", 11, 9, "fault log size (2^FLS pages)"),
};

static const struct ish_field_def pmen_fields[] = {
	FLAG("EPM", 31, "enable protected memory"),
	RO_FLAG("PRS", 0, "protected region status"),
};

static const struct ish_field_def plmbase_fields[] = {
	HEX("PLMB", 31, 0, "protected low-memory base"),
};

static const struct ish_field_def plmlimit_fields[] = {
	HEX("PLML", 31, 0, "protected low-memory limit"),
};

static const struct ish_field_def phmbase_fields[] = {
	HEX("PHMB", 63, 0, "protected high-memory base"),
};

static const struct ish_field_def phmlimit_fields[] = {
	HEX("PHML", 63, 0, "protected high-memory limit"),
};

static const struct ish_field_def iqh_fields[] = {
	HEX("QH", 18, 4, "queue head (offset / 16)"),
};

static const struct ish_field_def iqt_fields[] = {
	HEX("QT", 18, 4, "queue tail (offset / 16)"),
};

static const struct ish_field_def iqa_fields[] = {
	ADDR("IQA", 63, 12, "invalidation queue base address"),
	FLAG("DW", 11, "256-bit descriptors"),
	FMT("QS", 2, 0, ISH_FMT_POW2, "queue size (2^QS pages)"),
};

static const struct ish_field_def ics_fields[] = {
	FLAG("IWC", 0, "invalidation wait descriptor complete"),
};

static const struct ish_field_def iqercd_fields[] = {
	HEX("ICESID", 63, 48, "invalidation completion error source-id"),
	HEX("ITESID", 47, 32, "invalidation time-out error source-id"),
	ENUM("IQEI", 3, 0, "invalidation queue error info", iqei_names),
};

static const struct ish_field_def irta_fields[] = {
	ADDR("IRTA", 63, 12, "interrupt remapping table address"),
	FLAG("EIME", 11, "extended interrupt mode enable"),
	FMT("S", 3, 0, ISH_FMT_POW2_PLUS1, "table size (2^(S+1) entries)"),
};

static const struct ish_field_def pqh_fields[] = {
	HEX("PQH", 18, 5, "page queue head (offset / 32)"),
};

static const struct ish_field_def pqt_fields[] = {
	HEX("PQT", 18, 5, "page queue tail (offset / 32)"),
};

static const struct ish_field_def pqa_fields[] = {
	ADDR("PQA", 63, 12, "page request queue base address"),
	FMT("PQS", 2, 0, ISH_FMT_POW2, "queue size (2^PQS pages)"),
};

static const struct ish_field_def prs_fields[] = {
	FLAG("PRO", 1, "page request overflow"),
	FLAG("PPR", 0, "pending page request"),
};

static const struct ish_field_def mtrrcap_fields[] = {
	FLAG("WC", 10, "write combining supported"),
	FLAG("FIX", 8, "fixed range MTRRs supported"),
	DEC("VCNT", 7, 0, "variable MTRR count"),
};

static const struct ish_field_def mtrrdef_fields[] = {
	FLAG("E", 11, "MTRR enable"),
	FLAG("FE", 10, "fixed range MTRR enable"),
	ENUM("TYPE", 7, 0, "default memory type", memtype_names),
};

/* A fixed-range MTRR: eight one-byte memory types, lowest range first. */
static const struct ish_field_def mtrrfix_fields[] = {
	ENUM("R7", 63, 56, "type of range 7", memtype_names),
	ENUM("R6", 55, 48, "type of range 6", memtype_names),
	ENUM("R5", 47, 40, "type of range 5", memtype_names),
	ENUM("R4", 39, 32, "type of range 4", memtype_names),
	ENUM("R3", 31, 24, "type of range 3", memtype_names),
	ENUM("R2", 23, 16, "type of range 2", memtype_names),
	ENUM("R1", 15, 8, "type of range 1", memtype_names),
	ENUM("R0", 7, 0, "type of range 0", memtype_names),
};

static const struct ish_field_def physbase_fields[] = {
	ADDR("PHYSBASE", 63, 12, "range base"),
	ENUM("TYPE", 7, 0, "memory type", memtype_names),
};

static const struct ish_field_def physmask_fields[] = {
	ADDR("PHYSMASK", 63, 12, "range mask"),
	FLAG("V", 11, "valid"),
};

static const struct ish_field_def perfcap_fields[] = {
	DEC("CNTR_STRIDE", 54, 52, "counter stride (2^(x+10) bytes)"),
	FLAG("INTR", 50, "counter overflow interrupt support"),
	HEX("FILTERS", 36, 32, "supported filters"),
	DEC("NUM_EVENT_GROUP", 28, 24, "number of event groups"),
	DEC("CNTR_WIDTH", 22, 16, "counter width"),
	DEC("NUM_CNTR", 15, 0, "number of counters"),
};

static const struct ish_field_def perfintrsts_fields[] = {
	FLAG("PIS", 0, "performance interrupt status"),
};

static const struct ish_field_def perfevntcap_fields[] = {
	HEX("ES", 27, 0, "supported events of group 0"),
};

static const struct ish_field_def ecmd_fields[] = {
	HEX("OA", 63, 16, "operand"),
	HEX("CMD", 7, 0, "command"),
};

/* ECMD is written to submit a command and reads as 0 (ECRSP has the answer). */
static const struct ish_field_def ecrsp_fields[] = {
	HEX("SC", 7, 1, "status code"),
	FLAG("IP", 0, "in progress"),
};

static const struct ish_field_def eccap3_fields[] = {
	FLAG("UFCNTS", 53, "unfreeze performance counters supported"),
	FLAG("FCNTS", 52, "freeze performance counters supported"),
	FLAG("DCNTS", 49, "disable performance counters supported"),
	FLAG("ECNTS", 48, "enable performance counters supported"),
};

static const struct ish_field_def vccap_fields[] = {
	FLAG("PAS", 0, "PASID allocation support"),
};

static const struct ish_field_def vcmd_fields[] = {
	HEX("OP", 63, 8, "operand"),
	HEX("CMD", 7, 0, "command"),
};

static const struct ish_field_def vcrsp_fields[] = {
	HEX("RSLT", 63, 8, "result"),
	HEX("SC", 2, 1, "status code"),
	FLAG("IP", 0, "in progress"),
};

static const struct ish_field_def frcd_lo_fields[] = {
	ADDR("FI", 63, 12, "fault info: page address of the faulting request"),
};

/* A fault record: F is RW1CS (QEMU w1cmask bit 63), the rest ROS. */
static const struct ish_field_def frcd_hi_fields[] = {
	FLAG("F", 63, "fault"),
	RO_FLAG("T1", 62, "type bit 1: 0 write, 1 read (with T2)"),
	RO_ENUM("AT", 61, 60, "address type", at_names),
	RO_HEX("PV", 59, 40, "PASID value"),
	RO_HEX("FR", 39, 32, "fault reason"),
	RO_FLAG("PP", 31, "PASID present"),
	RO_FLAG("EXE", 30, "execute permission requested"),
	RO_FLAG("PRIV", 29, "privileged mode requested"),
	RO_FLAG("T2", 28, "type bit 2"),
	RO_HEX("SID", 15, 0, "source-id"),
};

static const struct ish_field_def iva_fields[] = {
	ADDR("ADDR", 63, 12, "page address to invalidate"),
	FLAG("IH", 6, "invalidation hint"),
	DEC("AM", 5, 0, "address mask (2^AM pages)"),
};

static const struct ish_field_def iotlb_fields[] = {
	FLAG("IVT", 63, "invalidate IOTLB"),
	ENUM("IIRG", 61, 60, "IOTLB invalidation request granularity", iotlb_gran),
	RO_ENUM("IAIG", 58, 57, "IOTLB actual invalidation granularity", iotlb_gran),
	FLAG("DR", 49, "drain reads"),
	FLAG("DW", 48, "drain writes"),
	DEC("DID", 47, 32, "domain-id"),
};

/* --- the register table --- */

#define F(a) a, N(a)
#define NOF NULL, 0
#define REG(name, off, w, fields, desc, spec, acc) \
	{ name, NULL, off, w, ISH_REG_FIXED, ISH_COND_ALWAYS, 0, fields, desc, spec, acc }
#define REGC(name, off, w, cr, cb, fields, desc, spec, acc) \
	{ name, NULL, off, w, ISH_REG_FIXED, cr, cb, fields, desc, spec, acc }
#define A_RO ISH_ACCESS_RO
#define A_RW ISH_ACCESS_RW
#define A_RW1C ISH_ACCESS_RW1C
#define A_WO ISH_ACCESS_WO
#define CAPC ISH_COND_CAP
#define ECAPC ISH_COND_ECAP
/* ECAP bits that gate registers */
#define E_QI 1
#define E_IR 3
#define E_MTS 25
#define E_PRS 29
#define E_VCS 44
#define E_PMS 51
#define C_AFL 3
#define C_PLMR 5
#define C_PHMR 6
#define C_ECMDS 61

#define MTRRFIX(name, off) \
	REGC(name, off, 64, ECAPC, E_MTS, F(mtrrfix_fields), "fixed-range MTRR", "11.4 MTRR Registers", \
	     A_RW)
#define MTRRVAR(n, off) \
	REGC("MTRR_PHYSBASE" #n, off, 64, ECAPC, E_MTS, F(physbase_fields), "variable-range MTRR base", \
	     "11.4 MTRR Registers", A_RW), \
	REGC("MTRR_PHYSMASK" #n, off + 8, 64, ECAPC, E_MTS, F(physmask_fields), \
	     "variable-range MTRR mask", "11.4 MTRR Registers", A_RW)

static const struct ish_reg_def reg_table[] = {
	REG("VER", 0x00, 32, F(ver_fields), "version", "11.4.1", A_RO),
	REG("CAP", 0x08, 64, F(cap_fields), "capability", "11.4.2", A_RO),
	REG("ECAP", 0x10, 64, F(ecap_fields), "extended capability", "11.4.3", A_RO),
	REG("GCMD", 0x18, 32, F(gcmd_fields), "global command", "11.4.4.1", A_WO),
	REG("GSTS", 0x1c, 32, F(gsts_fields), "global status", "11.4.4.2", A_RO),
	REG("RTADDR", 0x20, 64, F(rtaddr_fields), "root table address", "11.4.5", A_RW),
	REG("CCMD", 0x28, 64, F(ccmd_fields), "context command", "11.4 Context Command Register", A_RW),
	REG("FSTS", 0x34, 32, F(fsts_fields), "fault status", "11.4 Fault Status Register", A_RW1C),
	REG("FECTL", 0x38, 32, F(ectl_fields), "fault event control",
	    "11.4 Fault Event Control Register", A_RW),
	REG("FEDATA", 0x3c, 32, F(edata_fields), "fault event data",
	    "11.4 Fault Event Data Register", A_RW),
	REG("FEADDR", 0x40, 32, F(eaddr_fields), "fault event address",
	    "11.4 Fault Event Address Register", A_RW),
	REG("FEUADDR", 0x44, 32, F(euaddr_fields), "fault event upper address",
	    "11.4 Fault Event Upper Address Register", A_RW),
	REGC("AFLOG", 0x58, 64, CAPC, C_AFL, F(aflog_fields), "advanced fault log",
	     "11.4 Advanced Fault Log Register", A_RW),
	REG("PMEN", 0x64, 32, F(pmen_fields), "protected memory enable",
	    "11.4 Protected Memory Enable Register", A_RW),
	REGC("PLMBASE", 0x68, 32, CAPC, C_PLMR, F(plmbase_fields), "protected low-memory base",
	     "11.4 Protected Low-Memory Base Register", A_RW),
	REGC("PLMLIMIT", 0x6c, 32, CAPC, C_PLMR, F(plmlimit_fields), "protected low-memory limit",
	     "11.4 Protected Low-Memory Limit Register", A_RW),
	REGC("PHMBASE", 0x70, 64, CAPC, C_PHMR, F(phmbase_fields), "protected high-memory base",
	     "11.4 Protected High-Memory Base Register", A_RW),
	REGC("PHMLIMIT", 0x78, 64, CAPC, C_PHMR, F(phmlimit_fields), "protected high-memory limit",
	     "11.4 Protected High-Memory Limit Register", A_RW),
	REGC("IQH", 0x80, 64, ECAPC, E_QI, F(iqh_fields), "invalidation queue head",
	     "11.4 Invalidation Queue Head Register", A_RO),
	REGC("IQT", 0x88, 64, ECAPC, E_QI, F(iqt_fields), "invalidation queue tail",
	     "11.4 Invalidation Queue Tail Register", A_RW),
	REGC("IQA", 0x90, 64, ECAPC, E_QI, F(iqa_fields), "invalidation queue address",
	     "11.4 Invalidation Queue Address Register", A_RW),
	REGC("ICS", 0x9c, 32, ECAPC, E_QI, F(ics_fields), "invalidation completion status",
	     "11.4 Invalidation Completion Status Register", A_RW1C),
	REGC("IECTL", 0xa0, 32, ECAPC, E_QI, F(ectl_fields), "invalidation event control",
	     "11.4 Invalidation Event Control Register", A_RW),
	REGC("IEDATA", 0xa4, 32, ECAPC, E_QI, F(edata_fields), "invalidation event data",
	     "11.4 Invalidation Event Data Register", A_RW),
	REGC("IEADDR", 0xa8, 32, ECAPC, E_QI, F(eaddr_fields), "invalidation event address",
	     "11.4 Invalidation Event Address Register", A_RW),
	REGC("IEUADDR", 0xac, 32, ECAPC, E_QI, F(euaddr_fields), "invalidation event upper address",
	     "11.4 Invalidation Event Upper Address Register", A_RW),
	{ "IQERCD", "IQER", 0xb0, 64, ISH_REG_FIXED, ECAPC, E_QI, F(iqercd_fields),
	  "invalidation queue error record", "11.4 Invalidation Queue Error Record Register", A_RO },
	REGC("IRTA", 0xb8, 64, ECAPC, E_IR, F(irta_fields), "interrupt remapping table address",
	     "11.4 Interrupt Remapping Table Address Register", A_RW),
	REGC("PQH", 0xc0, 64, ECAPC, E_PRS, F(pqh_fields), "page request queue head",
	     "11.4 Page Request Queue Head Register", A_RW),
	REGC("PQT", 0xc8, 64, ECAPC, E_PRS, F(pqt_fields), "page request queue tail",
	     "11.4 Page Request Queue Tail Register", A_RO),
	REGC("PQA", 0xd0, 64, ECAPC, E_PRS, F(pqa_fields), "page request queue address",
	     "11.4 Page Request Queue Address Register", A_RW),
	REGC("PRS", 0xdc, 32, ECAPC, E_PRS, F(prs_fields), "page request status",
	     "11.4 Page Request Status Register", A_RW1C),
	REGC("PECTL", 0xe0, 32, ECAPC, E_PRS, F(ectl_fields), "page request event control",
	     "11.4 Page Request Event Control Register", A_RW),
	REGC("PEDATA", 0xe4, 32, ECAPC, E_PRS, F(edata_fields), "page request event data",
	     "11.4 Page Request Event Data Register", A_RW),
	REGC("PEADDR", 0xe8, 32, ECAPC, E_PRS, F(eaddr_fields), "page request event address",
	     "11.4 Page Request Event Address Register", A_RW),
	REGC("PEUADDR", 0xec, 32, ECAPC, E_PRS, F(euaddr_fields),
	     "page request event upper address", "11.4 Page Request Event Upper Address Register", A_RW),
	REGC("MTRRCAP", 0x100, 64, ECAPC, E_MTS, F(mtrrcap_fields), "MTRR capability",
	     "11.4 MTRR Capability Register", A_RO),
	REGC("MTRRDEF", 0x108, 64, ECAPC, E_MTS, F(mtrrdef_fields), "MTRR default type",
	     "11.4 MTRR Default Type Register", A_RW),
	MTRRFIX("MTRR_FIX64K_00000", 0x120),
	MTRRFIX("MTRR_FIX16K_80000", 0x128),
	MTRRFIX("MTRR_FIX16K_A0000", 0x130),
	MTRRFIX("MTRR_FIX4K_C0000", 0x138),
	MTRRFIX("MTRR_FIX4K_C8000", 0x140),
	MTRRFIX("MTRR_FIX4K_D0000", 0x148),
	MTRRFIX("MTRR_FIX4K_D8000", 0x150),
	MTRRFIX("MTRR_FIX4K_E0000", 0x158),
	MTRRFIX("MTRR_FIX4K_E8000", 0x160),
	MTRRFIX("MTRR_FIX4K_F0000", 0x168),
	MTRRFIX("MTRR_FIX4K_F8000", 0x170),
	MTRRVAR(0, 0x180),
	MTRRVAR(1, 0x190),
	MTRRVAR(2, 0x1a0),
	MTRRVAR(3, 0x1b0),
	MTRRVAR(4, 0x1c0),
	MTRRVAR(5, 0x1d0),
	MTRRVAR(6, 0x1e0),
	MTRRVAR(7, 0x1f0),
	MTRRVAR(8, 0x200),
	MTRRVAR(9, 0x210),
	REGC("PERFCAP", 0x300, 64, ECAPC, E_PMS, F(perfcap_fields), "performance monitoring capability",
	     "11.4 Performance Monitoring Capability Register", A_RO),
	REGC("PERFCFGOFF", 0x310, 32, ECAPC, E_PMS, NOF, "performance counter configuration offset",
	     "11.4 Performance Monitoring Counter Configuration Offset Register", A_RO),
	REGC("PERFOVFOFF", 0x318, 32, ECAPC, E_PMS, NOF, "performance overflow status offset",
	     "11.4 Performance Monitoring Overflow Status Offset Register", A_RO),
	REGC("PERFCNTROFF", 0x31c, 32, ECAPC, E_PMS, NOF, "performance counter offset",
	     "11.4 Performance Monitoring Counter Offset Register", A_RO),
	REGC("PERFINTRSTS", 0x324, 32, ECAPC, E_PMS, F(perfintrsts_fields),
	     "performance interrupt status", "11.4 Performance Monitoring Interrupt Status Register", A_RW1C),
	REGC("PERFINTRCTL", 0x328, 32, ECAPC, E_PMS, F(ectl_fields), "performance interrupt control",
	     "11.4 Performance Monitoring Interrupt Control Register", A_RW),
	REGC("PERFEVNTCAP", 0x380, 64, ECAPC, E_PMS, F(perfevntcap_fields),
	     "performance event capability (group 0)",
	     "11.4 Performance Monitoring Event Capability Register", A_RO),
	REGC("ECMD", 0x400, 64, CAPC, C_ECMDS, F(ecmd_fields), "enhanced command",
	     "11.4 Enhanced Command Register", A_WO),
	REGC("ECEO", 0x408, 64, CAPC, C_ECMDS, NOF, "enhanced command extended operand",
	     "11.4 Enhanced Command Extended Operand Register", A_RW),
	REGC("ECRSP", 0x410, 64, CAPC, C_ECMDS, F(ecrsp_fields), "enhanced command response",
	     "11.4 Enhanced Command Response Register", A_RO),
	{ "ECCAP0", "ECCAP", 0x430, 64, ISH_REG_FIXED, CAPC, C_ECMDS, NOF,
	  "enhanced command capability 0", "11.4 Enhanced Command Capability Register", A_RO },
	REGC("ECCAP1", 0x438, 64, CAPC, C_ECMDS, NOF, "enhanced command capability 1",
	     "11.4 Enhanced Command Capability Register", A_RO),
	REGC("ECCAP2", 0x440, 64, CAPC, C_ECMDS, NOF, "enhanced command capability 2",
	     "11.4 Enhanced Command Capability Register", A_RO),
	REGC("ECCAP3", 0x448, 64, CAPC, C_ECMDS, F(eccap3_fields), "enhanced command capability 3",
	     "11.4 Enhanced Command Capability Register", A_RO),
	/* Linux moved these to the spec 3.1+ offsets; older headers had 0xe00/0xe10/0xe20. */
	REGC("VCMD", 0xe00, 64, ECAPC, E_VCS, F(vcmd_fields), "virtual command",
	     "11.4 Virtual Command Register", A_RW),
	REGC("VCRSP", 0xe10, 64, ECAPC, E_VCS, F(vcrsp_fields), "virtual command response",
	     "11.4 Virtual Command Response Register", A_RO),
	REGC("VCCAP", 0xe30, 64, ECAPC, E_VCS, F(vccap_fields), "virtual command capability",
	     "11.4 Virtual Command Capability Register", A_RO),
	/* Dynamic: IOTLB registers at ECAP.IRO*16. */
	{ "IVA", NULL, 0, 64, ISH_REG_IRO, ISH_COND_ALWAYS, 0, F(iva_fields), "invalidate address",
	  "11.4 Invalidate Address Register", A_WO },
	{ "IOTLB", NULL, 8, 64, ISH_REG_IRO, ISH_COND_ALWAYS, 0, F(iotlb_fields),
	  "IOTLB invalidate", "11.4 IOTLB Invalidate Register", A_RW },
	/* Dynamic: 128-bit fault records at CAP.FRO*16, CAP.NFR+1 of them. */
	{ "FRCD_LO", NULL, 0, 64, ISH_REG_FRCD, ISH_COND_ALWAYS, 0, F(frcd_lo_fields),
	  "fault recording, low qword", "11.4 Fault Recording Registers [n]", A_RO },
	{ "FRCD_HI", NULL, 8, 64, ISH_REG_FRCD, ISH_COND_ALWAYS, 0, F(frcd_hi_fields),
	  "fault recording, high qword", "11.4 Fault Recording Registers [n]", A_RW1C },
};

const struct ish_reg_def *ish_reg_table(size_t *n)
{
	*n = N(reg_table);
	return reg_table;
}
