// SPDX-License-Identifier: MIT
/*
 * GDB remote serial protocol client (see rsp.h for the contract). Facts
 * from the GDB manual's "Remote Protocol" appendix (framing, acks, escapes,
 * run-length encoding, qSupported, '?', 'm', 'M', 'c', 'D') and from QEMU's
 * gdbstub as observed on QEMU 7.2 (qqemu.PhyMemMode, the unsolicited stop
 * reply on connect, "D;1" with multiprocess).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rsp.h"

struct ish_rsp {
	int fd;
	int timeout_ms;
	size_t packet_size;	/* the peer's PacketSize, clamped */
	bool multiprocess;
	bool noack;
	bool running;		/* resumed by us, no stop reply yet */
	bool handshaken;
	bool stopped_on_connect;
	bool lost;		/* stream out of sync or closed: refuse everything */
	bool detached;
	unsigned pid;		/* from the stop reply's "thread:pPID.TID", else 1 */

	/* bytes read from the socket and not yet consumed */
	uint8_t in[4096];
	size_t in_pos, in_len;

	/* the frame being received, between '$' and '#', still encoded */
	uint8_t *raw;
	size_t raw_cap;
	/* the last reply, decoded and NUL-terminated */
	char *reply;
	size_t reply_cap, reply_len;
	/* a reply that arrived in place of the ack of our packet */
	bool pending;

	/* the last frame sent, kept for retransmission after a '-' */
	char *out;
	size_t out_cap, out_len;
	/* scratch for building 'M' requests */
	char *cmd;
	size_t cmd_cap;

	struct ish_rsp_stats stats;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline(const struct ish_rsp *r)
{
	return now_ms() + r->timeout_ms;
}

/* An error after which the byte stream cannot be trusted any more. */
static struct ish_error *lose(struct ish_rsp *r, struct ish_error *err)
{
	/*
	 * Hang up at once: QEMU serves one client at a time and listens again
	 * only when it sees us go, so `open` of the same stub can succeed while
	 * this dead target is still open.
	 */
	if (!r->lost)
		shutdown(r->fd, SHUT_RDWR);
	r->lost = true;
	return err;
}

/* The peer broke the protocol: ISH_ERROR_PROTOCOL, and the connection is lost. */
static struct ish_error *broken(struct ish_rsp *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct ish_error *broken(struct ish_rsp *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lose(r, ish_error_create(ISH_ERROR_PROTOCOL, msg));
}

static struct ish_error *check_usable(const struct ish_rsp *r)
{
	if (r->lost)
		return ish_error_create(ISH_ERROR_PROTOCOL,
					"gdbstub connection lost after an earlier error");
	if (r->detached)
		return ish_error_create(ISH_ERROR_PROTOCOL, "detached from the gdbstub");
	return NULL;
}

/* Grows *buf to hold need bytes. */
static bool reserve(void *bufp, size_t *cap, size_t need)
{
	char **buf = bufp;
	size_t n = *cap ? *cap : 256;
	char *p;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

/* The longest frame (encoded or decoded) we accept from the peer. */
static size_t reply_limit(const struct ish_rsp *r)
{
	size_t lim = 2 * r->packet_size + 64;

	return lim < 16384 ? 16384 : lim;
}

static struct ish_error *get_byte(struct ish_rsp *r, int64_t until, uint8_t *c)
{
	while (r->in_pos == r->in_len) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		int64_t left = until - now_ms();
		ssize_t n;
		int rc;

		if (left <= 0)
			return lose(r, ish_error_format(ISH_ERROR_TIMEOUT,
							"the gdbstub did not answer within %d ms",
							r->timeout_ms));
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return lose(r, ish_error_errno(errno, "waiting for the gdbstub"));
		if (rc <= 0)
			continue;
		n = recv(r->fd, r->in, sizeof(r->in), 0);
		if (n == 0)
			return broken(r, "the gdbstub closed the connection");
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return lose(r, ish_error_errno(errno, "reading from the gdbstub"));
		}
		r->in_pos = 0;
		r->in_len = (size_t)n;
	}
	*c = r->in[r->in_pos++];
	return NULL;
}

static struct ish_error *send_bytes(struct ish_rsp *r, const void *buf, size_t len, int64_t until)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = r->fd, .events = POLLOUT };
			int64_t left = until - now_ms();

			if (left <= 0)
				return lose(r, ish_error_format(ISH_ERROR_TIMEOUT,
								"the gdbstub took no data for %d ms",
								r->timeout_ms));
			if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
				return lose(r, ish_error_errno(errno, "waiting for the gdbstub"));
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return lose(r, ish_error_errno(errno, "writing to the gdbstub"));
		p += n;
		len -= (size_t)n;
	}
	return NULL;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes '}' escapes and "c*n" run lengths of raw[0..len) into r->reply. */
static struct ish_error *decode(struct ish_rsp *r, size_t len)
{
	size_t limit = reply_limit(r), o = 0;

	if (!reserve(&r->reply, &r->reply_cap, limit + 1))
		return &ish_enomem;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = r->raw[i];
		size_t n = 1;

		if (c == '}') {
			if (++i == len)
				return ish_error_create(ISH_ERROR_PROTOCOL,
							"gdbstub reply ends inside an escape");
			c = r->raw[i] ^ 0x20;
		} else if (c == '*') {
			if (!o || ++i == len)
				return ish_error_create(ISH_ERROR_PROTOCOL,
							"gdbstub reply has a run length without a character");
			if (r->raw[i] < 29 + 1 || r->raw[i] > 126)
				return ish_error_format(ISH_ERROR_PROTOCOL,
							"gdbstub reply has a bad run length byte %#x",
							r->raw[i]);
			n = r->raw[i] - 29u;
			c = (uint8_t)r->reply[o - 1];
		}
		if (n > limit - o)
			return ish_error_format(ISH_ERROR_PROTOCOL,
						"gdbstub reply longer than %zu bytes", limit);
		memset(r->reply + o, c, n);
		o += n;
	}
	r->reply[o] = '\0';
	r->reply_len = o;
	return NULL;
}

/*
 * Receives one packet into r->reply, acking it unless in no-ack mode. If
 * have_dollar, its '$' was already consumed. Bytes outside packets are
 * skipped (bounded); a '$' inside a frame means the frame was cut short, and
 * receiving starts over there; a bad checksum is answered with '-' so the
 * peer sends the packet again (bounded).
 */
static struct ish_error *recv_packet(struct ish_rsp *r, int64_t until, bool have_dollar)
{
	size_t limit = reply_limit(r), garbage = 0;
	unsigned bad = 0;
	struct ish_error *err;
	uint8_t c;

	for (;;) {
		size_t len = 0;
		uint8_t sum = 0, hi, lo;
		int h, l;

		if (!have_dollar) {
			err = get_byte(r, until, &c);
			if (err)
				return err;
			if (c != '$') {
				r->stats.garbage++;
				if (++garbage > RSP_MAX_GARBAGE)
					return broken(r, "no packet from the gdbstub in %d bytes",
						      RSP_MAX_GARBAGE);
				continue;
			}
		}
		have_dollar = false;
		for (;;) {
			err = get_byte(r, until, &c);
			if (err)
				return err;
			if (c == '#')
				break;
			if (c == '$') {
				/* The frame was cut short; a new one starts here. */
				r->stats.garbage += len + 1;
				garbage += len + 1;
				if (garbage > RSP_MAX_GARBAGE)
					return broken(r, "only broken packets from the gdbstub");
				len = 0;
				sum = 0;
				continue;
			}
			if (len >= limit)
				return broken(r, "gdbstub packet longer than %zu bytes", limit);
			if (!reserve(&r->raw, &r->raw_cap, len + 1))
				return lose(r, &ish_enomem);
			r->raw[len++] = c;
			sum += c;
		}
		err = get_byte(r, until, &hi);
		if (!err)
			err = get_byte(r, until, &lo);
		if (err)
			return err;
		h = hexval(hi);
		l = hexval(lo);
		if (h < 0 || l < 0 || (uint8_t)(h << 4 | l) != sum) {
			if (r->noack)
				return broken(r, "gdbstub packet with a bad checksum (no-ack mode)");
			if (++bad > RSP_MAX_RETRIES)
				return broken(r, "%u gdbstub packets in a row with bad checksums", bad);
			r->stats.naks++;
			err = send_bytes(r, "-", 1, until);
			if (err)
				return err;
			continue;
		}
		if (!r->noack) {
			err = send_bytes(r, "+", 1, until);
			if (err)
				return err;
		}
		r->stats.packets_received++;
		return decode(r, len);
	}
}

/* "T05...", "S05": the target stopped. */
static bool is_stop_reply(const char *p, size_t len)
{
	return len >= 3 && (p[0] == 'T' || p[0] == 'S') && hexval((uint8_t)p[1]) >= 0 &&
	       hexval((uint8_t)p[2]) >= 0;
}

/* "W.."/"X..": the process exited or was killed; nothing is left to talk to. */
static bool is_exit_reply(const char *p, size_t len)
{
	return len >= 3 && (p[0] == 'W' || p[0] == 'X') && hexval((uint8_t)p[1]) >= 0 &&
	       hexval((uint8_t)p[2]) >= 0;
}

/* Takes in a stop reply: the pid of "thread:pPID.TID;", and whether it came unasked. */
static void note_stop(struct ish_rsp *r, bool asked)
{
	const char *t = strstr(r->reply, "thread:p");

	if (t) {
		unsigned long pid = strtoul(t + 8, NULL, 16);

		if (pid && pid <= 0xffffffffUL)
			r->pid = (unsigned)pid;
	}
	if (!asked && !r->handshaken)
		r->stopped_on_connect = true;
}

/*
 * Sends data as one frame and waits for its ack: '-' sends it again
 * (bounded); a stop reply in place of the ack is taken in (QEMU sends one
 * unasked when a connection stops the guest); any other packet is taken as
 * the reply, the ack having been lost.
 */
static struct ish_error *send_packet(struct ish_rsp *r, const char *data, size_t len, int64_t until)
{
	unsigned retries = 0, strays = 0;
	size_t garbage = 0;
	struct ish_error *err;
	uint8_t sum = 0;
	char tail[4];

	if (!reserve(&r->out, &r->out_cap, 2 * len + 4))
		return &ish_enomem;
	r->out_len = 0;
	r->out[r->out_len++] = '$';
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (c == '$' || c == '#' || c == '}' || c == '*') {
			r->out[r->out_len++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		r->out[r->out_len++] = c;
		sum += (uint8_t)c;
	}
	if (r->out_len - 1 > r->packet_size)
		return ish_error_format(ISH_ERROR_INVALID,
					"gdbstub packet of %zu bytes exceeds the stub's PacketSize %zu",
					r->out_len - 1, r->packet_size);
	snprintf(tail, sizeof(tail), "#%02x", sum);
	memcpy(r->out + r->out_len, tail, 3);
	r->out_len += 3;

	r->pending = false;
	r->stats.packets_sent++;
	err = send_bytes(r, r->out, r->out_len, until);
	if (err || r->noack)
		return err;
	for (;;) {
		uint8_t c;

		err = get_byte(r, until, &c);
		if (err)
			return err;
		if (c == '+')
			return NULL;
		if (c == '-') {
			if (++retries > RSP_MAX_RETRIES)
				return broken(r, "the gdbstub refused our packet %u times", retries);
			r->stats.retransmits++;
			err = send_bytes(r, r->out, r->out_len, until);
			if (err)
				return err;
			continue;
		}
		if (c == '$') {
			err = recv_packet(r, until, true);
			if (err)
				return err;
			if (is_stop_reply(r->reply, r->reply_len) && data[0] != '?') {
				note_stop(r, false);
				if (++strays > RSP_MAX_RETRIES)
					return broken(r, "the gdbstub sends stop replies without end");
				continue;
			}
			r->pending = true;
			return NULL;
		}
		r->stats.garbage++;
		if (++garbage > RSP_MAX_GARBAGE)
			return broken(r, "no ack from the gdbstub in %d bytes", RSP_MAX_GARBAGE);
	}
}

struct ish_error *ish_rsp_request(struct ish_rsp *r, const char *cmd, size_t len,
				  const char **ret, size_t *ret_len)
{
	int64_t until = deadline(r);
	struct ish_error *err = check_usable(r);
	unsigned strays = 0;

	if (err)
		return err;
	if (r->running)
		return ish_error_create(ISH_ERROR_INVALID,
					"the guest is running: stop it before talking to the gdbstub");
	if (!len)
		return ish_error_create(ISH_ERROR_INVALID, "empty gdbstub request");
	err = send_packet(r, cmd, len, until);
	if (err)
		return err;
	for (;;) {
		if (r->pending)
			r->pending = false;
		else if ((err = recv_packet(r, until, false)))
			return err;
		if (is_exit_reply(r->reply, r->reply_len))
			return broken(r, "the guest is gone (gdbstub said '%.3s')", r->reply);
		if (cmd[0] != '?' && is_stop_reply(r->reply, r->reply_len)) {
			note_stop(r, false);
			if (++strays > RSP_MAX_RETRIES)
				return broken(r, "the gdbstub sends stop replies without end");
			continue;
		}
		break;
	}
	*ret = r->reply;
	if (ret_len)
		*ret_len = r->reply_len;
	return NULL;
}

static struct ish_error *request_str(struct ish_rsp *r, const char *cmd, const char **ret,
				     size_t *ret_len)
{
	return ish_rsp_request(r, cmd, strlen(cmd), ret, ret_len);
}

struct ish_error *ish_rsp_create(int fd, int timeout_ms, struct ish_rsp **ret)
{
	struct ish_rsp *r;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;

		close(fd);
		return ish_error_errno(e, "gdbstub socket");
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return &ish_enomem;
	}
	r->fd = fd;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	r->packet_size = RSP_DEFAULT_PACKET;
	r->pid = 1;
	*ret = r;
	return NULL;
}

void ish_rsp_destroy(struct ish_rsp *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r->raw);
	free(r->reply);
	free(r->out);
	free(r->cmd);
	free(r);
}

/* Waits for a non-blocking connect to finish. */
static int finish_connect(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int64_t until = now_ms() + timeout_ms;
	socklen_t sl = sizeof(int);
	int rc, soerr = 0;

	for (;;) {
		int64_t left = until - now_ms();

		if (left <= 0)
			return ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR)
			return errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return errno;
	return soerr;
}

static struct ish_error *connect_unix(const char *path, int timeout_ms, int *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return ish_error_format(ISH_ERROR_INVALID, "bad unix socket path '%s'", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ish_error_errno(errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		if (e == EINPROGRESS || e == EAGAIN)
			e = finish_connect(fd, timeout_ms);
		if (e) {
			close(fd);
			return ish_error_errno(e, "connecting to gdbstub socket %s", path);
		}
	}
	*ret = fd;
	return NULL;
}

static struct ish_error *connect_tcp(const char *addr, int timeout_ms, int *ret)
{
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai, *a;
	char host[256], *end;
	unsigned long port;
	size_t hlen;
	int rc, e = 0, fd = -1;

	if (!colon)
		return ish_error_format(ISH_ERROR_INVALID,
					"'gdb:%s' names no port: use gdb:HOST:PORT or gdb:unix:PATH",
					addr);
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || !port || port > 65535)
		return ish_error_format(ISH_ERROR_INVALID, "bad port in 'gdb:%s'", addr);
	hlen = (size_t)(colon - addr);
	if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
		addr++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return ish_error_create(ISH_ERROR_INVALID, "gdbstub host name too long");
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	rc = getaddrinfo(hlen ? host : "localhost", colon + 1, &hints, &ai);
	if (rc)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "gdbstub host '%s': %s", host,
					gai_strerror(rc));
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		e = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			e = errno;
			if (e == EINPROGRESS)
				e = finish_connect(fd, timeout_ms);
		}
		if (!e)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return ish_error_errno(e ? e : ECONNREFUSED, "connecting to gdbstub %s:%lu",
				       hlen ? host : "localhost", port);
	/* Packets are small and every one waits for an answer: don't let Nagle hold them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	*ret = fd;
	return NULL;
}

struct ish_error *ish_rsp_connect(const char *addr, int timeout_ms, struct ish_rsp **ret)
{
	struct ish_error *err;
	int fd = -1;

	if (timeout_ms <= 0)
		timeout_ms = 1;
	if (!strncmp(addr, "unix:", 5))
		err = connect_unix(addr + 5, timeout_ms, &fd);
	else
		err = connect_tcp(addr, timeout_ms, &fd);
	return err ? err : ish_rsp_create(fd, timeout_ms, ret);
}

/* Applies one qSupported feature: "PacketSize=1000", "multiprocess+", ... */
static void feature(struct ish_rsp *r, const char *f, size_t len, bool *noack_offered)
{
	if (len > 11 && !strncmp(f, "PacketSize=", 11)) {
		unsigned long long v = 0;
		size_t i;

		for (i = 11; i < len && hexval((uint8_t)f[i]) >= 0; i++) {
			v = v * 16 + (unsigned)hexval((uint8_t)f[i]);
			if (v > RSP_MAX_PACKET)
				v = RSP_MAX_PACKET + 1ULL;	/* saturate: any size we clamp */
		}
		if (i == len) {
			if (v < RSP_MIN_PACKET)
				v = RSP_MIN_PACKET;
			if (v > RSP_MAX_PACKET)
				v = RSP_MAX_PACKET;
			r->packet_size = (size_t)v;
		}
	} else if (len == 13 && !strncmp(f, "multiprocess+", 13)) {
		r->multiprocess = true;
	} else if (len == 16 && !strncmp(f, "QStartNoAckMode+", 16)) {
		*noack_offered = true;
	}
}

struct ish_error *ish_rsp_handshake(struct ish_rsp *r)
{
	bool noack_offered = false;
	struct ish_error *err;
	const char *rep, *p;
	size_t len;

	err = request_str(r, "qSupported:multiprocess+", &rep, &len);
	if (err)
		return ish_error_prefix(err, "gdbstub handshake");
	for (p = rep; p < rep + len;) {
		const char *semi = memchr(p, ';', (size_t)(rep + len - p));
		size_t flen = semi ? (size_t)(semi - p) : (size_t)(rep + len - p);

		feature(r, p, flen, &noack_offered);
		p += flen + 1;
	}
	if (noack_offered) {
		err = request_str(r, "QStartNoAckMode", &rep, &len);
		if (err)
			return ish_error_prefix(err, "gdbstub handshake");
		if (!strcmp(rep, "OK"))
			r->noack = true;
	}
	err = request_str(r, "?", &rep, &len);
	if (err)
		return ish_error_prefix(err, "gdbstub handshake");
	if (is_exit_reply(rep, len))
		return broken(r, "the gdbstub has no process to debug");
	if (!is_stop_reply(rep, len))
		return broken(r, "gdbstub answered '?' with '%.40s', not a stop reply", rep);
	note_stop(r, true);
	r->handshaken = true;
	return NULL;
}

struct ish_error *ish_rsp_phys_mode(struct ish_rsp *r)
{
	struct ish_error *err;
	const char *rep;

	err = request_str(r, "qqemu.PhyMemMode", &rep, NULL);
	if (err)
		return err;
	if (!*rep)
		return ish_error_create(ISH_ERROR_UNSUPPORTED,
					"the gdbstub has no physical memory mode (qqemu.PhyMemMode): "
					"it is not QEMU's, or its QEMU is too old");
	if (strcmp(rep, "1")) {
		err = request_str(r, "Qqemu.PhyMemMode:1", &rep, NULL);
		if (err)
			return err;
		if (strcmp(rep, "OK"))
			return ish_error_format(ISH_ERROR_UNSUPPORTED,
						"the gdbstub refused physical memory mode ('%.40s')",
						rep);
		err = request_str(r, "qqemu.PhyMemMode", &rep, NULL);
		if (err)
			return err;
		if (strcmp(rep, "1"))
			return ish_error_format(ISH_ERROR_UNSUPPORTED,
						"the gdbstub stayed out of physical memory mode ('%.40s')",
						rep);
	}
	return NULL;
}

/* "Enn" or "E.text": the stub's error reply. */
static bool is_error_reply(const char *p, size_t len)
{
	return p[0] == 'E' && ((len == 3 && hexval((uint8_t)p[1]) >= 0 &&
				hexval((uint8_t)p[2]) >= 0) || (len >= 2 && p[1] == '.'));
}

/*
 * QEMU answers qRcmd by writing the command to its monitor, whose output
 * comes back synchronously as "O<hex>" console packets, then "OK" (QEMU
 * gdbstub handle_query_rcmd and gdb_monitor_write).
 */
#define RSP_MAX_MONITOR_OUTPUT (4u << 20)

struct ish_error *ish_rsp_monitor(struct ish_rsp *r, const char *cmd, char **ret, size_t *ret_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(cmd), out_len = 0, out_cap = 0, packets = 0;
	int64_t until = deadline(r);
	struct ish_error *err = check_usable(r);
	char *out = NULL, *req;

	if (err)
		return err;
	if (r->running)
		return ish_error_create(ISH_ERROR_INVALID,
					"the guest is running: stop it before talking to the gdbstub");
	if (!n || 6 + 2 * n > r->packet_size)
		return ish_error_format(ISH_ERROR_INVALID, "monitor command of %zu bytes", n);
	req = malloc(6 + 2 * n + 1);
	if (!req)
		return &ish_enomem;
	memcpy(req, "qRcmd,", 6);
	for (size_t i = 0; i < n; i++) {
		req[6 + 2 * i] = hex[(uint8_t)cmd[i] >> 4];
		req[7 + 2 * i] = hex[(uint8_t)cmd[i] & 15];
	}
	err = send_packet(r, req, 6 + 2 * n, until);
	free(req);
	if (err)
		return err;
	for (;;) {
		const char *p;
		size_t len, add;

		if (r->pending)
			r->pending = false;
		else if ((err = recv_packet(r, until, false)))
			goto fail;
		p = r->reply;
		len = r->reply_len;
		if (is_exit_reply(p, len)) {
			err = broken(r, "the guest is gone (gdbstub said '%.3s')", p);
			goto fail;
		}
		if (is_stop_reply(p, len)) {
			note_stop(r, false);
			continue;
		}
		if (len == 2 && !memcmp(p, "OK", 2))
			break;
		if (!len) {
			err = ish_error_create(ISH_ERROR_UNSUPPORTED,
					       "the gdbstub has no monitor (qRcmd)");
			goto fail;
		}
		if (is_error_reply(p, len)) {
			err = ish_error_format(ISH_ERROR_PROTOCOL,
					       "the gdbstub refused monitor command '%s' (%.20s)", cmd, p);
			goto fail;
		}
		if (p[0] != 'O' || len % 2 == 0) {
			err = broken(r, "unexpected gdbstub reply to qRcmd ('%.20s')", p);
			goto fail;
		}
		add = (len - 1) / 2;
		if (++packets > RSP_MAX_MONITOR_OUTPUT || out_len + add > RSP_MAX_MONITOR_OUTPUT) {
			err = broken(r, "monitor output longer than %u bytes", RSP_MAX_MONITOR_OUTPUT);
			goto fail;
		}
		if (!reserve(&out, &out_cap, out_len + add + 1)) {
			err = &ish_enomem;
			goto fail;
		}
		for (size_t i = 0; i < add; i++) {
			int h = hexval((uint8_t)p[1 + 2 * i]), l = hexval((uint8_t)p[2 + 2 * i]);

			if (h < 0 || l < 0) {
				err = broken(r, "monitor output that is not hex");
				goto fail;
			}
			out[out_len++] = (char)(h << 4 | l);
		}
	}
	if (!reserve(&out, &out_cap, out_len + 1)) {
		err = &ish_enomem;
		goto fail;
	}
	out[out_len] = '\0';
	*ret = out;
	if (ret_len)
		*ret_len = out_len;
	return NULL;
fail:
	free(out);
	return err;
}

size_t ish_rsp_max_read(const struct ish_rsp *r)
{
	/* The reply is two hex digits per byte and must fit one packet. */
	return r->packet_size / 2;
}

/* Longest "M<addr>,<len>:" header. */
#define M_HEADER_MAX (1 + 16 + 1 + 16 + 1)

static size_t max_write(const struct ish_rsp *r)
{
	return (r->packet_size - M_HEADER_MAX) / 2;
}

struct ish_error *ish_rsp_read(struct ish_rsp *r, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t max = ish_rsp_max_read(r);

	if (len && addr + len - 1 < addr)
		return ish_error_fault(addr, "read of %zu bytes at %#" PRIx64 " wraps around", len,
				       addr);
	while (len) {
		size_t n = len < max ? len : max, rlen, got;
		struct ish_error *err;
		const char *rep;
		char cmd[48];

		snprintf(cmd, sizeof(cmd), "m%" PRIx64 ",%zx", addr, n);
		r->stats.mem_reads++;
		err = request_str(r, cmd, &rep, &rlen);
		if (err)
			return err;
		if (!rlen)
			return ish_error_create(ISH_ERROR_UNSUPPORTED,
						"the gdbstub does not support 'm' (read memory)");
		if (is_error_reply(rep, rlen))
			return ish_error_fault(addr,
					       "gdbstub cannot read %zu bytes at %#" PRIx64 " (%.20s)",
					       n, addr, rep);
		if (rlen % 2 || rlen > 2 * n)
			return ish_error_format(ISH_ERROR_PROTOCOL,
						"gdbstub answered a read of %zu bytes with %zu characters",
						n, rlen);
		got = rlen / 2;
		for (size_t i = 0; i < got; i++) {
			int h = hexval((uint8_t)rep[2 * i]), l = hexval((uint8_t)rep[2 * i + 1]);

			if (h < 0 || l < 0)
				return ish_error_format(ISH_ERROR_PROTOCOL,
							"gdbstub read reply is not hex at character %zu",
							2 * i);
			out[i] = (uint8_t)(h << 4 | l);
		}
		/* A shorter reply is a partial read (allowed by the protocol): go on from there. */
		out += got;
		addr += got;
		len -= got;
	}
	return NULL;
}

/*
 * Scans pay a round trip per probe; QEMU's gdbstub takes the packets that
 * arrive together in one go and answers each in order ('+', then the
 * reply), so keeping a window of requests in flight pays one wakeup per
 * window instead. Small, so neither side's socket buffer can fill.
 */
#define SCATTER_WINDOW 32

/* The reply to one pipelined request: acks skipped, stray stop replies taken in. */
static struct ish_error *recv_reply(struct ish_rsp *r, int64_t until)
{
	unsigned strays = 0;
	size_t garbage = 0;

	for (;;) {
		struct ish_error *err;
		uint8_t c;

		err = get_byte(r, until, &c);
		if (err)
			return err;
		if (c == '+')
			continue;
		if (c == '-')
			return broken(r, "the gdbstub refused a pipelined request");
		if (c != '$') {
			r->stats.garbage++;
			if (++garbage > RSP_MAX_GARBAGE)
				return broken(r, "no packet from the gdbstub in %d bytes", RSP_MAX_GARBAGE);
			continue;
		}
		err = recv_packet(r, until, true);
		if (err)
			return err;
		if (is_exit_reply(r->reply, r->reply_len))
			return broken(r, "the guest is gone (gdbstub said '%.3s')", r->reply);
		if (is_stop_reply(r->reply, r->reply_len)) {
			note_stop(r, false);
			if (++strays > RSP_MAX_RETRIES)
				return broken(r, "the gdbstub sends stop replies without end");
			continue;
		}
		return NULL;
	}
}

struct ish_error *ish_rsp_read_scatter(struct ish_rsp *r, const uint64_t *addrs, size_t n,
				       size_t len, uint8_t *out, bool *ok)
{
	struct ish_error *err = check_usable(r);
	char *frames;
	size_t cap;

	if (err)
		return err;
	if (r->running)
		return ish_error_create(ISH_ERROR_INVALID,
					"the guest is running: stop it before talking to the gdbstub");
	if (!len || len > ish_rsp_max_read(r))
		return ish_error_format(ISH_ERROR_INVALID, "scatter read of %zu bytes", len);
	cap = SCATTER_WINDOW * 48;
	frames = malloc(cap);
	if (!frames)
		return &ish_enomem;
	r->pending = false;
	for (size_t done = 0; done < n && !err;) {
		size_t w = n - done < SCATTER_WINDOW ? n - done : SCATTER_WINDOW, flen = 0;
		int64_t until = deadline(r);

		for (size_t i = 0; i < w; i++) {
			char cmd[40];
			uint8_t sum = 0;
			int k = snprintf(cmd, sizeof(cmd), "m%" PRIx64 ",%zx", addrs[done + i], len);

			for (int j = 0; j < k; j++)
				sum += (uint8_t)cmd[j];
			flen += (size_t)snprintf(frames + flen, cap - flen, "$%s#%02x", cmd, sum);
		}
		r->stats.packets_sent += w;
		r->stats.mem_reads += w;
		err = send_bytes(r, frames, flen, until);
		for (size_t i = 0; i < w && !err; i++) {
			uint8_t *o = out + (done + i) * len;
			size_t rlen;

			err = recv_reply(r, until);
			if (err)
				break;
			rlen = r->reply_len;
			ok[done + i] = false;
			memset(o, 0, len);
			if (!rlen) {
				err = ish_error_create(ISH_ERROR_UNSUPPORTED,
						       "the gdbstub does not support 'm' (read memory)");
				/* the rest of the window is still on its way */
				for (size_t j = i + 1; j < w; j++)
					ish_error_destroy(recv_reply(r, until));
				break;
			}
			if (is_error_reply(r->reply, rlen) || rlen != 2 * len)
				continue;	/* a hole, or a partial read: not these bytes */
			ok[done + i] = true;
			for (size_t b = 0; b < len; b++) {
				int h = hexval((uint8_t)r->reply[2 * b]), l = hexval((uint8_t)r->reply[2 * b + 1]);

				if (h < 0 || l < 0) {
					ok[done + i] = false;
					memset(o, 0, len);
					break;
				}
				o[b] = (uint8_t)(h << 4 | l);
			}
		}
		done += w;
	}
	free(frames);
	return err;
}

struct ish_error *ish_rsp_write(struct ish_rsp *r, uint64_t addr, const void *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *in = buf;
	size_t max = max_write(r);

	if (len && addr + len - 1 < addr)
		return ish_error_fault(addr, "write of %zu bytes at %#" PRIx64 " wraps around",
				       len, addr);
	if (!reserve(&r->cmd, &r->cmd_cap, r->packet_size + 1))
		return &ish_enomem;
	while (len) {
		size_t n = len < max ? len : max, rlen;
		struct ish_error *err;
		const char *rep;
		int h;

		h = snprintf(r->cmd, r->cmd_cap, "M%" PRIx64 ",%zx:", addr, n);
		for (size_t i = 0; i < n; i++) {
			r->cmd[h + 2 * i] = hex[in[i] >> 4];
			r->cmd[h + 2 * i + 1] = hex[in[i] & 15];
		}
		r->stats.mem_writes++;
		err = ish_rsp_request(r, r->cmd, (size_t)h + 2 * n, &rep, &rlen);
		if (err)
			return err;
		if (!rlen)
			return ish_error_create(ISH_ERROR_UNSUPPORTED,
						"the gdbstub does not support 'M' (write memory)");
		if (is_error_reply(rep, rlen))
			return ish_error_fault(addr,
					       "gdbstub cannot write %zu bytes at %#" PRIx64 " (%.20s)",
					       n, addr, rep);
		if (strcmp(rep, "OK"))
			return ish_error_format(ISH_ERROR_PROTOCOL,
						"gdbstub answered a write with '%.40s'", rep);
		in += n;
		addr += n;
		len -= n;
	}
	return NULL;
}

struct ish_error *ish_rsp_resume(struct ish_rsp *r)
{
	struct ish_error *err = check_usable(r);

	if (err || r->running)
		return err;
	/* 'c' has no reply until the target stops again; only its ack comes back. */
	err = send_packet(r, "c", 1, deadline(r));
	if (err)
		return err;
	if (r->pending) {
		/* It stopped at once (or the stub answered oddly): either way, not running. */
		r->pending = false;
		if (is_stop_reply(r->reply, r->reply_len)) {
			note_stop(r, true);
			return NULL;
		}
		return broken(r, "gdbstub answered 'c' with '%.40s'", r->reply);
	}
	r->running = true;
	return NULL;
}

struct ish_error *ish_rsp_stop(struct ish_rsp *r)
{
	int64_t until = deadline(r);
	struct ish_error *err = check_usable(r);
	unsigned others = 0;

	if (err || !r->running)
		return err;
	/* The interrupt is a bare byte, outside any packet, and is not acked. */
	err = send_bytes(r, "\x03", 1, until);
	if (err)
		return err;
	for (;;) {
		err = recv_packet(r, until, false);
		if (err)
			return err;
		if (is_stop_reply(r->reply, r->reply_len)) {
			note_stop(r, true);
			r->running = false;
			return NULL;
		}
		if (is_exit_reply(r->reply, r->reply_len))
			return broken(r, "the guest is gone (gdbstub said '%.3s')", r->reply);
		/* Console output ('O' packets) and the like: not what we wait for. */
		if (++others > RSP_MAX_RETRIES)
			return broken(r, "no stop reply from the gdbstub after an interrupt");
	}
}

struct ish_error *ish_rsp_detach(struct ish_rsp *r)
{
	struct ish_error *err = ish_rsp_stop(r);
	const char *rep;
	char cmd[24];

	if (err)
		return err;
	if (r->multiprocess)
		snprintf(cmd, sizeof(cmd), "D;%x", r->pid);
	else
		snprintf(cmd, sizeof(cmd), "D");
	err = request_str(r, cmd, &rep, NULL);
	if (err)
		return err;
	if (strcmp(rep, "OK"))
		return ish_error_format(ISH_ERROR_PROTOCOL, "the gdbstub refused '%s' ('%.40s')", cmd,
					rep);
	r->detached = true;
	return NULL;
}

bool ish_rsp_running(const struct ish_rsp *r)
{
	return r->running;
}

bool ish_rsp_stopped_on_connect(const struct ish_rsp *r)
{
	return r->stopped_on_connect;
}

bool ish_rsp_lost(const struct ish_rsp *r)
{
	return r->lost;
}

bool ish_rsp_multiprocess(const struct ish_rsp *r)
{
	return r->multiprocess;
}

bool ish_rsp_noack(const struct ish_rsp *r)
{
	return r->noack;
}

size_t ish_rsp_packet_size(const struct ish_rsp *r)
{
	return r->packet_size;
}

void ish_rsp_stats(const struct ish_rsp *r, struct ish_rsp_stats *ret)
{
	*ret = r->stats;
}
