/* SPDX-License-Identifier: MIT */
/*
 * Error objects. Every libiommush function that can fail returns a
 * struct ish_error * (NULL on success) and hands results back through a last
 * out-parameter named ret. Out-of-memory is a static object, so reporting it
 * never allocates.
 */
#ifndef IOMMUSH_ERROR_H
#define IOMMUSH_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ish_error_code {
	ISH_ERROR_NOMEM = 1,	/* allocation failed */
	ISH_ERROR_OS,		/* a system call failed: see errnum */
	ISH_ERROR_INVALID,	/* bad argument from the caller */
	ISH_ERROR_FAULT,	/* address not readable on this target: see address */
	ISH_ERROR_FORMAT,	/* malformed input (table, file, packet) */
	ISH_ERROR_NOT_FOUND,	/* no such unit, register, device, entry */
	ISH_ERROR_UNSUPPORTED,	/* the backend or hardware cannot do this */
	ISH_ERROR_READ_ONLY,	/* a write without write mode */
	ISH_ERROR_INTERRUPTED,	/* stopped by the user (Ctrl-C) */
	ISH_ERROR_LIMIT,	/* a work limit (pages, mappings) was reached */
	ISH_ERROR_PROTOCOL,	/* the peer broke the protocol */
	ISH_ERROR_TIMEOUT,	/* the peer did not answer in time */
	ISH_ERROR_REFUSED,	/* a write the safety policy refused (owned unit, not confirmed) */
};

struct ish_error {
	enum ish_error_code code;
	int errnum;		/* errno for ISH_ERROR_OS, else 0 */
	bool has_address;
	uint64_t address;	/* the faulting physical address, if has_address */
	char *message;		/* one line, no trailing newline */
};

/* The static out-of-memory error; ish_error_destroy() ignores it. */
extern struct ish_error ish_enomem;

struct ish_error *ish_error_create(enum ish_error_code code, const char *message);
struct ish_error *ish_error_format(enum ish_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct ish_error *ish_error_vformat(enum ish_error_code code, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* message is "<fmt>: strerror(errnum)". */
struct ish_error *ish_error_errno(int errnum, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ISH_ERROR_FAULT at address. */
struct ish_error *ish_error_fault(uint64_t address, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix an error's message with "<fmt>: "; returns err (may be ish_enomem). */
struct ish_error *ish_error_prefix(struct ish_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ish_error_destroy(struct ish_error *err);

/*
 * Errors after which nothing else is worth trying: the user, the peer or
 * memory gave up (out of memory, interrupted, timed out, protocol broken).
 * Everything else is about one function or one read, and a scan goes on.
 */
bool ish_error_fatal(const struct ish_error *err);

/* Short name of a code ("fault", "format", ...), for JSON and Lua. */
const char *ish_error_code_name(enum ish_error_code code);

#ifdef __cplusplus
}
#endif

#endif
