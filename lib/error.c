// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/error.h>

struct ish_error ish_enomem = {
	.code = ISH_ERROR_NOMEM,
	.message = (char *)"out of memory",
};

struct ish_error *ish_error_create(enum ish_error_code code, const char *message)
{
	struct ish_error *err = calloc(1, sizeof(*err));

	if (!err)
		return &ish_enomem;
	err->code = code;
	err->message = strdup(message ? message : "");
	if (!err->message) {
		free(err);
		return &ish_enomem;
	}
	return err;
}

static struct ish_error *error_vformat(enum ish_error_code code, int errnum, const char *fmt,
				       va_list ap)
{
	struct ish_error *err = calloc(1, sizeof(*err));

	if (!err)
		return &ish_enomem;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &ish_enomem;
	}
	err->code = code;
	err->errnum = errnum;
	return err;
}

struct ish_error *ish_error_vformat(enum ish_error_code code, const char *fmt, va_list ap)
{
	return error_vformat(code, 0, fmt, ap);
}

struct ish_error *ish_error_format(enum ish_error_code code, const char *fmt, ...)
{
	struct ish_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = error_vformat(code, 0, fmt, ap);
	va_end(ap);
	return err;
}

struct ish_error *ish_error_errno(int errnum, const char *fmt, ...)
{
	struct ish_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = error_vformat(ISH_ERROR_OS, errnum, fmt, ap);
	va_end(ap);
	if (err != &ish_enomem) {
		char *m;

		if (asprintf(&m, "%s: %s", err->message, strerror(errnum)) >= 0) {
			free(err->message);
			err->message = m;
		}
	}
	return err;
}

struct ish_error *ish_error_fault(uint64_t address, const char *fmt, ...)
{
	struct ish_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = error_vformat(ISH_ERROR_FAULT, 0, fmt, ap);
	va_end(ap);
	if (err != &ish_enomem) {
		err->has_address = true;
		err->address = address;
	}
	return err;
}

struct ish_error *ish_error_prefix(struct ish_error *err, const char *fmt, ...)
{
	char *prefix, *m;
	va_list ap;
	int r;

	if (!err || err == &ish_enomem)
		return err;
	va_start(ap, fmt);
	r = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (r < 0)
		return err;
	if (asprintf(&m, "%s: %s", prefix, err->message) >= 0) {
		free(err->message);
		err->message = m;
	}
	free(prefix);
	return err;
}

void ish_error_destroy(struct ish_error *err)
{
	if (!err || err == &ish_enomem)
		return;
	free(err->message);
	free(err);
}

const char *ish_error_code_name(enum ish_error_code code)
{
	static const char *const names[] = {
		[ISH_ERROR_NOMEM] = "nomem",
		[ISH_ERROR_OS] = "os",
		[ISH_ERROR_INVALID] = "invalid",
		[ISH_ERROR_FAULT] = "fault",
		[ISH_ERROR_FORMAT] = "format",
		[ISH_ERROR_NOT_FOUND] = "not-found",
		[ISH_ERROR_UNSUPPORTED] = "unsupported",
		[ISH_ERROR_READ_ONLY] = "read-only",
		[ISH_ERROR_INTERRUPTED] = "interrupted",
		[ISH_ERROR_LIMIT] = "limit",
		[ISH_ERROR_PROTOCOL] = "protocol",
		[ISH_ERROR_TIMEOUT] = "timeout",
		[ISH_ERROR_REFUSED] = "refused",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}

bool ish_error_fatal(const struct ish_error *err)
{
	return err == &ish_enomem || err->code == ISH_ERROR_NOMEM ||
	       err->code == ISH_ERROR_INTERRUPTED || err->code == ISH_ERROR_TIMEOUT ||
	       err->code == ISH_ERROR_PROTOCOL;
}
