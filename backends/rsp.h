/* SPDX-License-Identifier: MIT */
/*
 * A client for the GDB remote serial protocol (RSP), as far as iommush needs
 * it to read and write a QEMU guest's physical memory through QEMU's gdbstub
 * (GDB manual, appendix "Remote Protocol"; QEMU docs/system/gdb.rst).
 *
 * Framing: "$data#cc", cc the two-hex-digit sum of the data bytes mod 256;
 * the receiver answers '+' (good) or '-' (send again) unless no-ack mode was
 * negotiated. In data, '}' escapes the next byte (XOR 0x20) and "c*n" repeats
 * c (n - 29) more times (run-length encoding, replies only).
 *
 * Every wait has a deadline (the timeout given at creation), every packet a
 * length limit, every resync and retransmission a count limit: a peer that
 * stalls, lies or babbles yields an error, never a hang or unbounded memory.
 * After a timeout or a broken frame the byte stream cannot be trusted, so the
 * connection is marked lost and every later call fails at once with
 * ISH_ERROR_PROTOCOL.
 *
 * Not thread-safe: one connection, one caller.
 */
#ifndef IOMMUSH_BACKENDS_RSP_H
#define IOMMUSH_BACKENDS_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>

struct ish_rsp;

/* Limits; a peer's PacketSize is clamped to [RSP_MIN_PACKET, RSP_MAX_PACKET]. */
#define RSP_DEFAULT_PACKET 400	/* before (or without) qSupported's PacketSize */
#define RSP_MIN_PACKET 64
#define RSP_MAX_PACKET (1u << 20)
#define RSP_MAX_RETRIES 8	/* '-' answers, bad checksums and stray stop replies in a row */
#define RSP_MAX_GARBAGE 65536	/* bytes outside any packet skipped while waiting */

/* Counters since creation, for benchmarks and tests. */
struct ish_rsp_stats {
	uint64_t packets_sent;		/* first transmissions */
	uint64_t packets_received;	/* good packets (checksum verified) */
	uint64_t retransmits;		/* packets sent again after the peer's '-' */
	uint64_t naks;			/* '-' we sent for a bad packet */
	uint64_t garbage;		/* bytes skipped outside packets */
	uint64_t mem_reads;		/* 'm' requests */
	uint64_t mem_writes;		/* 'M' requests */
};

/*
 * Connects to addr, which is "HOST:PORT" (TCP; "[v6addr]:PORT" and an empty
 * HOST for localhost allowed) or "unix:PATH" (a unix stream socket), i.e. the
 * TARGET after "gdb:". timeout_ms bounds the connect and every later wait.
 * Then ish_rsp_handshake() is still to be called.
 */
struct ish_error *ish_rsp_connect(const char *addr, int timeout_ms, struct ish_rsp **ret);

/* Wraps a connected stream socket; the rsp owns fd from now on (even on failure). */
struct ish_error *ish_rsp_create(int fd, int timeout_ms, struct ish_rsp **ret);

/* Closes the connection without a word to the peer; accepts NULL. */
void ish_rsp_destroy(struct ish_rsp *r);

/*
 * qSupported (PacketSize, multiprocess, QStartNoAckMode, which is then
 * switched on), then '?'. A stop reply the stub sent on its own before
 * answering (QEMU does so when connecting stopped a running guest) is taken
 * in and remembered, see ish_rsp_stopped_on_connect(); the target is stopped
 * afterwards in any case.
 */
struct ish_error *ish_rsp_handshake(struct ish_rsp *r);

/*
 * Switches QEMU's gdbstub to physical addresses (Qqemu.PhyMemMode:1) and
 * checks it took (qqemu.PhyMemMode answers 1). ISH_ERROR_UNSUPPORTED if the
 * stub does not know the packet (not QEMU, or a QEMU without it).
 */
struct ish_error *ish_rsp_phys_mode(struct ish_rsp *r);

/*
 * Sends cmd (len bytes, escaped as needed) and waits for the reply, which is
 * decoded (escapes, run lengths) into a buffer owned by r and valid until the
 * next call; it is NUL-terminated, *ret_len (may be NULL) is its length. An
 * empty reply means the stub does not know cmd. Stop replies that arrive
 * unasked are taken in and skipped unless cmd is '?'.
 */
struct ish_error *ish_rsp_request(struct ish_rsp *r, const char *cmd, size_t len,
				  const char **ret, size_t *ret_len);

/*
 * A QEMU monitor (HMP) command through qRcmd (gdb's "monitor CMD"): its
 * output, malloc'd and NUL-terminated (at most 4 MiB). ISH_ERROR_UNSUPPORTED
 * when the stub has no monitor.
 */
struct ish_error *ish_rsp_monitor(struct ish_rsp *r, const char *cmd, char **ret, size_t *ret_len);

/*
 * Memory through 'm' and 'M', split so that no packet exceeds the peer's
 * PacketSize. An 'E' reply is ISH_ERROR_FAULT at the first address of the
 * failing request. A read of 4 or 8 bytes at an aligned address is one
 * request, so it reaches MMIO registers as a single access of that width.
 */
struct ish_error *ish_rsp_read(struct ish_rsp *r, uint64_t addr, void *buf, size_t len);
struct ish_error *ish_rsp_write(struct ish_rsp *r, uint64_t addr, const void *buf, size_t len);

/*
 * len bytes (at most ish_rsp_max_read) at each of n addresses into out (n *
 * len bytes), with up to 32 requests in flight: for scans, where a round
 * trip per address would dominate. ok[i] is false where the stub answered
 * with an error or a short read (those bytes are zeros); a broken
 * connection is an error for the whole call. Needs a stub that takes
 * pipelined packets in order, as QEMU's does; the ack mode is kept.
 */
struct ish_error *ish_rsp_read_scatter(struct ish_rsp *r, const uint64_t *addrs, size_t n,
				       size_t len, uint8_t *out, bool *ok);

/*
 * Resume ('c': only the stub's ack comes back) and stop (the byte 0x03, then
 * wait for the stop reply). Stopping a stopped target and resuming a running
 * one do nothing. While the target runs, the stub must be sent nothing else
 * (QEMU stops the guest on any byte), so ish_rsp_request() refuses.
 */
struct ish_error *ish_rsp_resume(struct ish_rsp *r);
struct ish_error *ish_rsp_stop(struct ish_rsp *r);

/*
 * Detaches: "D;pid" with multiprocess (pid from the stop reply's thread id,
 * else 1), else "D". QEMU resumes the guest on detach; to leave it paused,
 * destroy the connection without detaching instead.
 */
struct ish_error *ish_rsp_detach(struct ish_rsp *r);

bool ish_rsp_running(const struct ish_rsp *r);
/* A stop reply came unasked during the handshake (the guest was running). */
bool ish_rsp_stopped_on_connect(const struct ish_rsp *r);
/* The connection is unusable after an earlier error. */
bool ish_rsp_lost(const struct ish_rsp *r);
bool ish_rsp_multiprocess(const struct ish_rsp *r);
bool ish_rsp_noack(const struct ish_rsp *r);
/* The peer's PacketSize after clamping (RSP_DEFAULT_PACKET if it gave none). */
size_t ish_rsp_packet_size(const struct ish_rsp *r);
/* Largest 'm' request (bytes of memory) one packet carries. */
size_t ish_rsp_max_read(const struct ish_rsp *r);
void ish_rsp_stats(const struct ish_rsp *r, struct ish_rsp_stats *ret);

struct ish_target;
/* The connection of a target opened by the gdbstub backend, else NULL (benchmarks, tests). */
struct ish_rsp *ish_gdbstub_rsp(struct ish_target *t);

/*
 * gdbstub.c: the RAM ranges of QEMU's "info mtree -f" output (the flat view
 * of AS "memory"), merged and sorted; *ret malloc'd. Exported for tests.
 */
struct ish_ram_range;
struct ish_error *ish_gdbstub_parse_mtree(const char *text, struct ish_ram_range **ret, size_t *n);

#endif
