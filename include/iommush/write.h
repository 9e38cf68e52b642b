/* SPDX-License-Identifier: MIT */
/*
 * Writes to a target: the gate every write passes and the log every write
 * leaves. The policy lives here, not in the shell, so that shell commands,
 * Lua and plugins are held to the same rules:
 *
 *  1. Read-only unless the target was opened with ISH_OPEN_WRITE (or
 *     ish_target_set_writable()).
 *  2. The backend must be able to write what is asked (registers, memory);
 *     a backend that cannot says why (debugfs shows, never changes).
 *  3. On a live host (ISH_BACKEND_LIVE), a unit that Linux's intel-iommu
 *     driver has registered (iommu.sysfs, default /sys/class/iommu: a
 *     dmarN/intel-iommu/address equal to the unit's register base) is
 *     refused unless the target was opened with ISH_OPEN_FORCE. A memory
 *     write counts as touching every unit: the driver's tables are in RAM.
 *  4. On a live host, each user-level write operation is confirmed once
 *     through the callback the application installs, unless ISH_OPEN_YES.
 *     Without a callback such writes are refused.
 *  5. Every register and memory write, and every refusal, is logged: one
 *     line to the file named by write.log and, when write.syslog says so, to
 *     syslog (ident "iommush", LOG_USER | LOG_NOTICE).
 *
 * A user-level operation (one `invalidate`, one `set reg`) brackets its
 * writes with ish_write_begin() / ish_write_end(): the gate runs and the
 * question is asked once, at begin; writes inside it are only checked
 * against the unit owner and logged. A write outside any bracket is an
 * operation of its own. Brackets nest (ish_invalidate() opens its own).
 */
#ifndef IOMMUSH_WRITE_H
#define IOMMUSH_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What an operation writes (ish_write_begin's kinds). */
enum {
	ISH_WRITE_REGS = 1u << 0,
	ISH_WRITE_MEMORY = 1u << 1,
};

/* ish_write_begin's unit for an operation on every unit, or on memory only. */
#define ISH_WRITE_ALL_UNITS (-1)

/* What the confirmation callback is asked about. */
struct ish_write_question {
	const char *what;	/* the operation: "invalidate", "set reg GCMD", ... */
	const char *backend;	/* "devmem" */
	const char *spec;	/* the TARGET it was opened with */
	const char *units;	/* "dmar0", or "every unit" */
	/* Units the kernel's driver owns that the user insisted on (--force), or NULL. */
	const char *forced;
	/* "GSTS TES+ QIES+ IRES+" of the unit(s), or NULL when not read. */
	const char *evidence;
};

/*
 * Returns NULL to go ahead, or the error that refuses the operation (the
 * answer was no; nobody to ask). Called at most once per operation.
 */
typedef struct ish_error *ish_confirm_fn(void *arg, const struct ish_write_question *q);
void ish_target_set_confirm(struct ish_target *t, ish_confirm_fn *fn, void *arg);

/*
 * Starts a user-level write operation on unit (or ISH_WRITE_ALL_UNITS) that
 * writes kinds (ISH_WRITE_REGS | ISH_WRITE_MEMORY); what names it in the
 * question and the log. On success the caller must call ish_write_end(). A
 * refusal is logged and returned (ISH_ERROR_READ_ONLY, ISH_ERROR_UNSUPPORTED
 * or ISH_ERROR_REFUSED); then ish_write_end() must not be called.
 */
struct ish_error *ish_write_begin(struct ish_target *t, int unit, unsigned kinds,
				  const char *what);
void ish_write_end(struct ish_target *t);

/*
 * The register access model (iommush/regs.h, VT-d 11.1): is a write of
 * width bits at offset of unit a write to a register software may write?
 * Refused, before write mode, ownership or the question are looked at:
 *   - no register at offset (ISH_ERROR_NOT_FOUND): "dmar0 has no VT-d
 *     register at offset 0x4 (a 32-bit write): refusing a write the
 *     register table cannot check";
 *   - a read-only register (ISH_ERROR_REFUSED): "CAP is read-only (RO): the
 *     hardware ignores writes to it (VT-d 11.4.2)".
 * A refusal is logged (op what, or the operation in progress when NULL).
 * ish_write_reg() asks this first; a caller that brackets its writes with
 * ish_write_begin() asks it before, so that a read-only register is
 * refused as such whatever the mode. What a permitted write does beyond
 * storing the value (RW1C bits, RO bits, reserved bits) is
 * ish_reg_write_note()'s.
 */
struct ish_error *ish_write_reg_check(struct ish_target *t, unsigned unit, uint32_t offset,
				      unsigned width, uint64_t value, const char *what);

/*
 * Memory and register writes. They pass the gate above (write mode, unit
 * ownership, confirmation), are logged, and drop the target's cache.
 */
struct ish_error *ish_write_phys(struct ish_target *t, uint64_t addr, const void *buf, size_t len);
struct ish_error *ish_write_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				unsigned width, uint64_t value);

/* Who owns a unit of a live host, and what its GSTS says. */
struct ish_unit_owner {
	bool live;		/* the target is this host (else nothing below is known) */
	bool sysfs_read;	/* iommu.sysfs could be listed */
	bool owned;		/* the intel-iommu driver registered the unit */
	char sysfs_name[256];	/* its name there ("dmar0") when owned */
	bool have_gsts;
	uint32_t gsts;
	bool tes, qies, ires;	/* GSTS: translation, queued invalidation, IR enabled */
};

/*
 * Looks the unit up under iommu.sysfs and reads its GSTS. Not an error when
 * sysfs is absent (then sysfs_read is false) or GSTS cannot be read.
 */
struct ish_error *ish_unit_owner(struct ish_target *t, unsigned unit,
				 struct ish_unit_owner *ret);

/* One logged write, for ish_write_log_format(). */
struct ish_write_record {
	int64_t time_ns;	/* CLOCK_REALTIME */
	uid_t uid;
	pid_t pid;
	const char *backend, *spec, *op;
	/* "dmar0"; for memory the operation's unit, NULL when it has none */
	const char *unit;
	/* A register write: reg is its name or NULL when unknown. */
	bool is_reg;
	const char *reg;
	uint32_t offset;
	unsigned width;
	bool have_old;
	uint64_t old, value;
	/* A memory write (!is_reg): old is NULL when not read. */
	uint64_t addr;
	const uint8_t *old_bytes, *new_bytes;
	size_t len;
	/* A refusal before any particular write: neither a register nor memory. */
	bool is_op;
	const char *result;	/* "ok", "error", "refused" */
	const char *reason;	/* the error's message, or NULL */
};

/*
 * Formats one log line (with '\n') into buf; returns its length as
 * snprintf() does. Fields, space-separated, strings quoted with \" \\ and
 * \xNN escapes:
 *   2026-11-24T08:05:40.123456Z uid=0 pid=42 backend=devmem spec="devmem"
 *   op="set reg GCMD" unit=dmar0 reg=GCMD offset=0x18 width=32 old=0x0
 *   new=0x80000000 result=ok
 * memory writes show mem=ADDR len=N old=HEX|? new=HEX (at most 64 bytes,
 * then "..."); a refused operation shows neither; result=refused|error adds
 * reason="...".
 */
int ish_write_log_format(const struct ish_write_record *r, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
