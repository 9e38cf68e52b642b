// SPDX-License-Identifier: MIT
/*
 * File reading every backend that reads files shares: a whole file
 * descriptor into memory, and pread() until the bytes asked for are in.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "backends.h"

struct ish_error *ish_backend_read_fd(int fd, const char *where, size_t max, char **ret,
				     size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);

	if (!buf) {
		close(fd);
		return &ish_enomem;
	}
	/* Files under /sys and debugfs report size 0: read to the end. */
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= max) {
				free(buf);
				close(fd);
				return ish_error_format(ISH_ERROR_LIMIT, "%s is larger than %zu bytes", where,
							max);
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return &ish_enomem;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			struct ish_error *err = ish_error_errno(errno, "reading %s", where);

			free(buf);
			close(fd);
			return err;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*ret = buf;
	*len = n;
	return NULL;
}

int ish_pread_all(int fd, void *buf, size_t len, uint64_t off, size_t *done)
{
	uint8_t *b = buf;
	size_t got = 0;
	int rc = 0;

	while (got < len) {
		ssize_t r = pread(fd, b + got, len - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -1 : 1;
			break;
		}
		got += (size_t)r;
	}
	if (done)
		*done = got;
	return rc;
}
