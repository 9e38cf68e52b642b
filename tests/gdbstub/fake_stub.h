/* SPDX-License-Identifier: MIT */
/*
 * A fake GDB remote stub for unit tests, run in a thread on one end of a
 * socketpair (fake_start_pair) or behind a unix socket (fake_start_unix).
 * It behaves like QEMU 7.2's gdbstub where that matters (ack mode, '+'
 * before each reply, qqemu.PhyMemMode, 'm' of at most max_m bytes else E22,
 * E14 outside memory, MMIO accesses narrower than 4 bytes read as 0, a
 * bare "D" refused with multiprocess, a stop reply after 0x03), and can be
 * told to misbehave: corrupt checksums, refuse our packets, babble, stall,
 * truncate, close, send stop replies unasked, answer partially.
 *
 * It checks what it receives (checksums, PacketSize) and counts everything,
 * so tests can assert on the client's behaviour. Counters are read under
 * the lock with fake_lock()/fake_unlock(), or after fake_join().
 */
#ifndef IOMMUSH_TESTS_FAKE_STUB_H
#define IOMMUSH_TESTS_FAKE_STUB_H

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#define FAKE_MAX_REGIONS 8
#define FAKE_MAX_ACCESS 256

struct fake_region {
	uint64_t base;
	size_t len;
	uint8_t *bytes;
	bool mmio;	/* accesses narrower than 4 bytes read 0 and are not written */
};

struct fake_access {
	uint64_t addr;
	size_t len;
	bool write;
};

struct fake_stub {
	/* --- behaviour, set before start --- */
	const char *supported;		/* qSupported reply; NULL: "PacketSize=1000;multiprocess+" */
	bool stop_on_connect;		/* send "T02thread:01;" unasked at once */
	bool no_phys;			/* qqemu.PhyMemMode unknown: empty replies */
	size_t max_m;			/* 'm' longer than this: E22 (0: 2048) */
	int corrupt_replies;		/* this many replies go out with a bad checksum first */
	bool corrupt_always;		/* and so do their retransmissions */
	int nak_requests;		/* answer this many of our packets with '-' first */
	bool rle;			/* run-length encode replies */
	bool escape_zeros;		/* escape every '0' in replies as "}\x10" */
	const char *garbage;		/* sent before every reply */
	bool stray_stop;		/* a stop reply between the ack and each 'm' reply */
	bool stop_before_ack;		/* a stop reply before the ack of each 'm' */
	bool partial_m;			/* answer 'm' with the first half only (at least 1) */
	const char *stall_on;		/* command prefix: never answer it */
	const char *close_on;		/* command prefix: close the connection instead */
	const char *truncate_on;	/* command prefix: half a reply, then close */
	const char *flood_on;		/* command prefix: endless garbage, no '$' */
	const char *huge_on;		/* command prefix: a frame without end */
	const char *error_on;		/* command prefix: reply "E14" */
	const char *raw_reply;		/* sent verbatim as the answer to "qRaw" (and qRcmd when set) */
	/* Called (under the lock) when 'c' resumes the guest: change memory here. */
	void (*on_resume)(struct fake_stub *f);
	struct fake_region regions[FAKE_MAX_REGIONS];
	size_t nregions;

	/* --- state and counters --- */
	pthread_mutex_t lock;
	pthread_t thread;
	int fd;		/* our end */
	int client_fd;	/* the other end (socketpair), for the test */
	int listen_fd;
	char path[108];
	bool noack, multiprocess, phys, running, detached;
	unsigned packets;		/* good packets received */
	unsigned bad_checksums;		/* packets from the client with a bad checksum */
	unsigned acks, naks;		/* '+' and '-' received */
	unsigned interrupts;		/* 0x03 received */
	unsigned m_count, M_count, c_count, detach_count;
	size_t max_packet;		/* longest packet data received (encoded) */
	size_t max_m_seen;
	char last_cmd[256];
	char detach_cmd[32];
	struct fake_access access[FAKE_MAX_ACCESS];	/* MMIO accesses, in order */
	unsigned naccess;
	/* reception buffer */
	uint8_t in[4096];
	size_t in_pos, in_len;
	char *last_frame;	/* for resending after '-' */
	size_t last_frame_len;
};

static inline void fake_lock(struct fake_stub *f) { pthread_mutex_lock(&f->lock); }
static inline void fake_unlock(struct fake_stub *f) { pthread_mutex_unlock(&f->lock); }

/* Adds a zeroed region; returns its bytes. */
static inline uint8_t *fake_add_region(struct fake_stub *f, uint64_t base, size_t len, bool mmio)
{
	struct fake_region *r = &f->regions[f->nregions++];

	r->base = base;
	r->len = len;
	r->mmio = mmio;
	r->bytes = calloc(1, len);
	return r->bytes;
}

static inline struct fake_region *fake_find(struct fake_stub *f, uint64_t addr, size_t len)
{
	for (size_t i = 0; i < f->nregions; i++) {
		struct fake_region *r = &f->regions[i];

		if (addr >= r->base && addr - r->base <= r->len && len <= r->len - (addr - r->base))
			return r;
	}
	return NULL;
}

static inline void fake_write_all(struct fake_stub *f, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(f->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* the client went away: the read loop will notice */
		p += n;
		len -= (size_t)n;
	}
}

/* -1 at EOF. */
static inline int fake_getc(struct fake_stub *f)
{
	if (f->in_pos == f->in_len) {
		ssize_t n;

		do
			n = recv(f->fd, f->in, sizeof(f->in), 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		f->in_pos = 0;
		f->in_len = (size_t)n;
	}
	return f->in[f->in_pos++];
}

static inline int fake_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Frames data as a reply (with the encodings asked for) and sends it. */
static inline void fake_reply_n(struct fake_stub *f, const char *data, size_t len)
{
	char *frame = malloc(3 * len + 8);
	size_t o = 0;
	unsigned sum = 0;
	char tail[4];

	frame[o++] = '$';
	for (size_t i = 0; i < len;) {
		size_t run = 1;

		while (f->rle && i + run < len && data[i + run] == data[i] && run < 97)
			run++;
		/* GDB never uses counts that give '#' or '$' (6 and 7 more). */
		if (f->rle && run >= 4 && run != 7 && run != 8) {
			frame[o++] = data[i];
			frame[o++] = '*';
			frame[o++] = (char)(run - 1 + 29);
			i += run;
			continue;
		}
		if ((f->escape_zeros && data[i] == '0') || data[i] == '$' || data[i] == '#' ||
		    data[i] == '}' || data[i] == '*') {
			frame[o++] = '}';
			frame[o++] = data[i] ^ 0x20;
		} else {
			frame[o++] = data[i];
		}
		i++;
	}
	for (size_t i = 1; i < o; i++)
		sum += (uint8_t)frame[i];
	snprintf(tail, sizeof(tail), "#%02x", sum & 0xff);
	memcpy(frame + o, tail, 3);
	o += 3;
	free(f->last_frame);
	f->last_frame = frame;
	f->last_frame_len = o;
	if (f->garbage)
		fake_write_all(f, f->garbage, strlen(f->garbage));
	if (f->corrupt_replies > 0) {
		char bad[4];

		f->corrupt_replies--;
		fake_write_all(f, frame, o - 3);
		snprintf(bad, sizeof(bad), "#%02x", (sum + 1) & 0xff);
		fake_write_all(f, bad, 3);
		return;	/* the client's '-' makes us send last_frame */
	}
	fake_write_all(f, frame, o);
}

static inline void fake_reply(struct fake_stub *f, const char *s)
{
	fake_reply_n(f, s, strlen(s));
}

static inline bool fake_prefix(const char *cmd, const char *p)
{
	return p && !strncmp(cmd, p, strlen(p));
}

static inline void fake_mem_read(struct fake_stub *f, const char *args)
{
	static const char hex[] = "0123456789abcdef";
	unsigned long long addr, len;
	struct fake_region *r;
	char *out;

	if (sscanf(args, "%llx,%llx", &addr, &len) != 2) {
		fake_reply(f, "E22");
		return;
	}
	f->m_count++;
	if (len > f->max_m_seen)
		f->max_m_seen = len;
	if (len > (f->max_m ? f->max_m : 2048)) {
		fake_reply(f, "E22");
		return;
	}
	r = fake_find(f, addr, len);
	if (!r) {
		fake_reply(f, "E14");
		return;
	}
	if (r->mmio && f->naccess < FAKE_MAX_ACCESS)
		f->access[f->naccess++] = (struct fake_access){ addr, len, false };
	if (f->partial_m && len > 1)
		len /= 2;
	out = malloc(2 * len + 1);
	for (size_t i = 0; i < len; i++) {
		uint8_t b = (r->mmio && len < 4) ? 0 : r->bytes[addr - r->base + i];

		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	if (f->stray_stop)
		fake_reply(f, "T02thread:p01.01;");
	fake_reply_n(f, out, 2 * len);
	free(out);
}

static inline void fake_mem_write(struct fake_stub *f, const char *args, size_t alen)
{
	unsigned long long addr, len;
	const char *colon = memchr(args, ':', alen);
	struct fake_region *r;

	f->M_count++;
	if (!colon || sscanf(args, "%llx,%llx", &addr, &len) != 2 ||
	    (size_t)(args + alen - colon - 1) != 2 * len) {
		fake_reply(f, "E22");
		return;
	}
	r = fake_find(f, addr, len);
	if (!r) {
		fake_reply(f, "E14");
		return;
	}
	if (r->mmio && f->naccess < FAKE_MAX_ACCESS)
		f->access[f->naccess++] = (struct fake_access){ addr, len, true };
	if (!r->mmio || len >= 4)
		for (size_t i = 0; i < len; i++)
			r->bytes[addr - r->base + i] =
				(uint8_t)(fake_hex(colon[1 + 2 * i]) << 4 | fake_hex(colon[2 + 2 * i]));
	fake_reply(f, "OK");
}

/* Handles one decoded command; returns false to close the connection. */
static inline bool fake_handle(struct fake_stub *f, const char *cmd, size_t len)
{
	snprintf(f->last_cmd, sizeof(f->last_cmd), "%.*s", (int)len, cmd);
	if (fake_prefix(cmd, f->stall_on))
		return true;
	if (fake_prefix(cmd, f->close_on))
		return false;
	if (fake_prefix(cmd, f->truncate_on)) {
		fake_write_all(f, "$00112233", 9);
		return false;
	}
	if (fake_prefix(cmd, f->flood_on)) {
		static const char junk[64] = "junk junk junk junk junk junk junk junk junk junk junk junk..";

		for (int i = 0; i < 4096; i++)
			fake_write_all(f, junk, sizeof(junk));
		return true;
	}
	if (fake_prefix(cmd, f->huge_on)) {
		static const char aaa[64] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

		fake_write_all(f, "$", 1);
		for (int i = 0; i < 65536; i++)
			fake_write_all(f, aaa, sizeof(aaa));
		return false;
	}
	if (fake_prefix(cmd, f->error_on)) {
		fake_reply(f, "E14");
		return true;
	}
	if (!strcmp(cmd, "qRaw") || (!strncmp(cmd, "qRcmd,", 6) && f->raw_reply)) {
		/* a monitor command's "O<hex>" packets and "OK" are given raw too */
		fake_write_all(f, f->raw_reply, strlen(f->raw_reply));
	} else if (!strncmp(cmd, "qSupported", 10)) {
		const char *s = f->supported ? f->supported : "PacketSize=1000;multiprocess+";

		f->multiprocess = strstr(s, "multiprocess+") && strstr(cmd, "multiprocess+");
		fake_reply(f, s);
	} else if (!strcmp(cmd, "QStartNoAckMode")) {
		fake_reply(f, "OK");
		f->noack = true;
	} else if (!strcmp(cmd, "?")) {
		fake_reply(f, "T05thread:p01.01;");
	} else if (!strcmp(cmd, "qqemu.PhyMemMode")) {
		fake_reply(f, f->no_phys ? "" : f->phys ? "1" : "0");
	} else if (!strncmp(cmd, "Qqemu.PhyMemMode:", 17)) {
		if (!f->no_phys)
			f->phys = cmd[17] == '1';
		fake_reply(f, f->no_phys ? "" : "OK");
	} else if (!strncmp(cmd, "qEcho:", 6)) {
		fake_reply_n(f, cmd + 6, len - 6);
	} else if (cmd[0] == 'm') {
		fake_mem_read(f, cmd + 1);
	} else if (cmd[0] == 'M') {
		fake_mem_write(f, cmd + 1, len - 1);
	} else if (!strcmp(cmd, "c")) {
		f->c_count++;
		f->running = true;
		if (f->on_resume)
			f->on_resume(f);
	} else if (cmd[0] == 'D') {
		f->detach_count++;
		snprintf(f->detach_cmd, sizeof(f->detach_cmd), "%.*s", (int)len, cmd);
		/* As QEMU 7.2: with multiprocess, a bare D is refused. */
		if (f->multiprocess && strcmp(cmd, "D;1")) {
			fake_reply(f, "E22");
		} else {
			f->detached = true;
			f->running = true;
			fake_reply(f, "OK");
		}
	} else {
		fake_reply(f, "");
	}
	return true;
}

static inline void *fake_main(void *arg)
{
	struct fake_stub *f = arg;
	char *data = malloc(1 << 20);
	int c;

	if (f->listen_fd >= 0) {
		int fd = accept(f->listen_fd, NULL, NULL);

		fake_lock(f);
		f->fd = fd;
		fake_unlock(f);
		if (fd < 0)
			goto out;
	}
	fake_lock(f);
	if (f->stop_on_connect)
		fake_reply(f, "T02thread:01;");
	fake_unlock(f);
	while ((c = fake_getc(f)) >= 0) {
		size_t len = 0, dlen = 0;
		unsigned sum = 0;
		int h, l;
		bool keep;

		fake_lock(f);
		if (c == 3) {
			f->interrupts++;
			if (f->running) {
				f->running = false;
				fake_reply(f, "T02thread:p01.01;");
			}
			fake_unlock(f);
			continue;
		}
		if (c == '+') {
			f->acks++;
			fake_unlock(f);
			continue;
		}
		if (c == '-') {
			f->naks++;
			if (f->last_frame && f->corrupt_always) {
				fake_write_all(f, f->last_frame, f->last_frame_len - 2);
				fake_write_all(f, f->last_frame[f->last_frame_len - 1] == '0' ? "11" : "00", 2);
			} else if (f->last_frame) {
				fake_write_all(f, f->last_frame, f->last_frame_len);
			}
			fake_unlock(f);
			continue;
		}
		fake_unlock(f);
		if (c != '$')
			continue;
		while ((c = fake_getc(f)) >= 0 && c != '#' && len < (1 << 20) - 1)
			data[len++] = (char)c;
		h = fake_hex(fake_getc(f));
		l = fake_hex(fake_getc(f));
		if (c < 0 || h < 0 || l < 0)
			break;
		for (size_t i = 0; i < len; i++)
			sum += (uint8_t)data[i];
		fake_lock(f);
		if ((unsigned)(h << 4 | l) != (sum & 0xff)) {
			f->bad_checksums++;
			fake_write_all(f, "-", 1);
			fake_unlock(f);
			continue;
		}
		if (len > f->max_packet)
			f->max_packet = len;
		if (!f->noack) {
			if (f->nak_requests > 0) {
				f->nak_requests--;
				fake_write_all(f, "-", 1);
				fake_unlock(f);
				continue;
			}
			if (f->stop_before_ack && data[0] == 'm')
				fake_reply(f, "T02thread:p01.01;");
			fake_write_all(f, "+", 1);
		}
		f->packets++;
		/* Undo escapes: '}' then the byte XOR 0x20. */
		for (size_t i = 0; i < len; i++)
			data[dlen++] = data[i] == '}' && i + 1 < len ? data[++i] ^ 0x20 : data[i];
		data[dlen] = '\0';
		keep = fake_handle(f, data, dlen);
		fake_unlock(f);
		if (!keep)
			break;
	}
out:
	free(data);
	if (f->fd >= 0)
		shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

static inline void fake_init(struct fake_stub *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->fd = f->client_fd = f->listen_fd = -1;
}

/* Starts the stub on a socketpair; f->client_fd is the client's end. */
static inline void fake_start_pair(struct fake_stub *f)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
	f->fd = sv[0];
	f->client_fd = sv[1];
	pthread_create(&f->thread, NULL, fake_main, f);
}

/* Starts the stub behind a fresh unix socket; f->path is its name. */
static inline void fake_start_unix(struct fake_stub *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static unsigned seq;

	snprintf(f->path, sizeof(f->path), "/tmp/ish-fake-%d-%u.sock", (int)getpid(), seq++);
	unlink(f->path);
	memcpy(sa.sun_path, f->path, sizeof(f->path));
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->listen_fd, 1) < 0) {
		perror("fake stub socket");
		exit(1);
	}
	pthread_create(&f->thread, NULL, fake_main, f);
}

/* Starts the stub behind a TCP socket on 127.0.0.1; returns the port. */
static inline unsigned fake_start_tcp(struct fake_stub *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->listen_fd, 1) < 0 || getsockname(f->listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("fake stub tcp socket");
		exit(1);
	}
	pthread_create(&f->thread, NULL, fake_main, f);
	return ntohs(sa.sin_port);
}

/* Waits for the stub to finish (the client must have closed) and frees it. */
static inline void fake_join(struct fake_stub *f)
{
	bool connected;

	fake_lock(f);
	connected = f->fd >= 0;
	fake_unlock(f);
	if (f->listen_fd >= 0 && f->path[0] && !connected) {
		/* Nobody connected: wake accept() up by connecting ourselves. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		memcpy(sa.sun_path, f->path, sizeof(f->path));
		connect(s, (struct sockaddr *)&sa, sizeof(sa));
		close(s);
	}
	pthread_join(f->thread, NULL);
	if (f->fd >= 0)
		close(f->fd);
	if (f->listen_fd >= 0) {
		close(f->listen_fd);
		if (f->path[0])
			unlink(f->path);
	}
	for (size_t i = 0; i < f->nregions; i++)
		free(f->regions[i].bytes);
	free(f->last_frame);
	pthread_mutex_destroy(&f->lock);
}

#endif
