// SPDX-License-Identifier: MIT
/*
 * The RSP client (backends/rsp.h), fed a hostile gdbstub. Byte 0 of the
 * input chooses which requests the client makes after the handshake; the
 * rest is everything the peer ever sends, written in advance into one end
 * of a socketpair whose write side is then shut, so the client sees the
 * stream and then EOF (never a wait for the timeout). The client's own
 * packets pile up unread in the peer's receive buffer; they are small.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iommush/error.h>

#include "../../backends/rsp.h"
#include "fuzz.h"

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ish_rsp *r = NULL;
	struct ish_rsp_stats st;
	uint8_t buf[4096];
	unsigned ops;
	size_t off;
	int sv[2];

	if (!size)
		return 0;
	ops = data[0];
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* Whatever does not fit in the socket buffer is cut (the stream just ends earlier). */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	for (off = 0; off < size;) {
		ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);

	if (ish_rsp_create(sv[0], 50, &r)) {
		close(sv[1]);
		abort();	/* cannot fail on a good socket */
	}
	FZ_IGNORE(ish_rsp_handshake(r));
	if (ops & 1)
		FZ_IGNORE(ish_rsp_phys_mode(r));
	if (ops & 2)
		FZ_IGNORE(ish_rsp_read(r, 0xfed90008, buf, 8));
	if (ops & 4)
		FZ_IGNORE(ish_rsp_read(r, 0x1000, buf, sizeof(buf)));
	if (ops & 8) {
		memset(buf, 0x7d, 64);	/* 'M' sends hex, so these are just bytes */
		FZ_IGNORE(ish_rsp_write(r, 0x3000, buf, 64));
	}
	if (ops & 16) {
		FZ_IGNORE(ish_rsp_resume(r));
		FZ_IGNORE(ish_rsp_stop(r));
	}
	if (ops & 32) {
		const char *reply = NULL;
		size_t len = 0;

		struct ish_error *err = ish_rsp_request(r, "qAttached", 9, &reply, &len);

		if (!err && reply)
			sink += strlen(reply) + len;
		ish_error_destroy(err);
		/* Bytes that must be escaped on the way out ('}', '#', '$', '*'). */
		err = ish_rsp_request(r, "qRcmd,}#$*", 10, &reply, &len);
		if (!err && reply)
			sink += strlen(reply) + len;
		ish_error_destroy(err);
	}
	if (ops & 64)
		FZ_IGNORE(ish_rsp_read(r, 0xfed90000 + (ops >> 7), buf, 3));
	if (ops & 128)
		FZ_IGNORE(ish_rsp_detach(r));
	sink += ish_rsp_running(r) + ish_rsp_stopped_on_connect(r) + ish_rsp_lost(r) +
		ish_rsp_multiprocess(r) + ish_rsp_noack(r) + ish_rsp_packet_size(r) +
		ish_rsp_max_read(r);
	ish_rsp_stats(r, &st);
	sink += st.packets_received + st.garbage;
	ish_rsp_destroy(r);
	close(sv[1]);
	return 0;
}
