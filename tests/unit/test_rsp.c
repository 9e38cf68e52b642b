// SPDX-License-Identifier: MIT
/*
 * The RSP client against a fake stub (tests/gdbstub/fake_stub.h) in a
 * thread: framing, acks both ways, PacketSize, run lengths, escapes, stop
 * replies that come unasked, and every way a peer can fail us.
 */
#include <time.h>

#include "check.h"
#include "../../backends/rsp.h"
#include "../gdbstub/fake_stub.h"

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x10000u

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A stub with 64 KiB of patterned RAM at RAM_BASE. */
static uint8_t *setup(struct fake_stub *f)
{
	uint8_t *ram;

	fake_init(f);
	ram = fake_add_region(f, RAM_BASE, RAM_SIZE, false);
	for (size_t i = 0; i < RAM_SIZE; i++)
		ram[i] = (uint8_t)(i * 7 + (i >> 8));
	return ram;
}

/* Starts f on a socketpair and connects a client with timeout_ms. */
static struct ish_rsp *client(struct fake_stub *f, int timeout_ms)
{
	struct ish_rsp *r = NULL;

	fake_start_pair(f);
	OK(ish_rsp_create(f->client_fd, timeout_ms, &r));
	return r;
}

static struct ish_rsp *ready(struct fake_stub *f, int timeout_ms)
{
	struct ish_rsp *r = client(f, timeout_ms);

	OK(ish_rsp_handshake(r));
	OK(ish_rsp_phys_mode(r));
	return r;
}

static void finish(struct fake_stub *f, struct ish_rsp *r)
{
	ish_rsp_destroy(r);
	fake_join(f);
}

static void test_handshake(void)
{
	struct fake_stub f;
	struct ish_rsp *r;

	setup(&f);
	r = client(&f, 2000);
	OK(ish_rsp_handshake(r));
	CHECK_EQ(ish_rsp_packet_size(r), 0x1000);
	CHECK_EQ(ish_rsp_max_read(r), 2048);
	CHECK(ish_rsp_multiprocess(r));
	CHECK(!ish_rsp_noack(r));
	CHECK(!ish_rsp_stopped_on_connect(r));
	CHECK(!ish_rsp_running(r));
	OK(ish_rsp_phys_mode(r));
	fake_lock(&f);
	CHECK(f.phys);
	CHECK(f.multiprocess);
	CHECK_EQ(f.bad_checksums, 0);
	/* qSupported, '?', qqemu.PhyMemMode, Qqemu.PhyMemMode:1, qqemu.PhyMemMode */
	CHECK_EQ(f.packets, 5);
	fake_unlock(&f);
	finish(&f, r);
	/* Every reply was acked: one '+' per packet the stub sent. */
	CHECK_EQ(f.acks, 5);
}

static void test_stop_on_connect(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t buf[16];
	uint8_t *ram = setup(&f);

	f.stop_on_connect = true;
	r = client(&f, 2000);
	OK(ish_rsp_handshake(r));
	CHECK(ish_rsp_stopped_on_connect(r));
	/* The unasked T02 did not shift the replies: qSupported's was parsed. */
	CHECK_EQ(ish_rsp_packet_size(r), 0x1000);
	OK(ish_rsp_phys_mode(r));
	OK(ish_rsp_read(r, RAM_BASE + 0x10, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 0x10, sizeof(buf)));
	finish(&f, r);
	CHECK_EQ(f.acks, 7);	/* 5 handshake replies, the read, and the T02 too */
}

static void test_packet_size(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t buf[1000], wr[1000];
	uint8_t *ram = setup(&f);
	struct ish_rsp_stats st;

	f.supported = "PacketSize=80;multiprocess+";	/* 128 bytes */
	r = ready(&f, 2000);
	CHECK_EQ(ish_rsp_packet_size(r), 128);
	CHECK_EQ(ish_rsp_max_read(r), 64);
	fake_lock(&f);
	f.m_count = 0;
	fake_unlock(&f);
	OK(ish_rsp_read(r, RAM_BASE + 3, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 3, sizeof(buf)));
	for (size_t i = 0; i < sizeof(wr); i++)
		wr[i] = (uint8_t)(0xff - i);
	OK(ish_rsp_write(r, RAM_BASE + 0x2000, wr, sizeof(wr)));
	fake_lock(&f);
	CHECK_EQ(f.m_count, (1000 + 63) / 64);
	CHECK(f.max_m_seen <= 64);
	CHECK(f.max_packet <= 128);
	/* 128-byte packets carry (128 - 35) / 2 = 46 bytes per 'M'. */
	CHECK_EQ(f.M_count, (1000 + 45) / 46);
	CHECK(!memcmp(ram + 0x2000, wr, sizeof(wr)));
	fake_unlock(&f);
	ish_rsp_stats(r, &st);
	CHECK_EQ(st.mem_reads, 16);
	CHECK_EQ(st.mem_writes, 22);
	finish(&f, r);

	/* QEMU's 0x1000: a 4 KiB page is exactly two 'm' of 2048 bytes. */
	ram = setup(&f);
	r = ready(&f, 2000);
	fake_lock(&f);
	f.m_count = 0;
	fake_unlock(&f);
	{
		uint8_t page[8192];

		OK(ish_rsp_read(r, RAM_BASE, page, sizeof(page)));
		CHECK(!memcmp(page, ram, sizeof(page)));
	}
	fake_lock(&f);
	CHECK_EQ(f.m_count, 4);
	CHECK_EQ(f.max_m_seen, 2048);
	fake_unlock(&f);
	finish(&f, r);
}

static void test_hostile_packet_size(void)
{
	static const struct {
		const char *supported;
		size_t want;
	} cases[] = {
		{ "PacketSize=ffffffffffffffffffffffff;multiprocess+", RSP_MAX_PACKET },
		{ "PacketSize=1;multiprocess+", RSP_MIN_PACKET },
		{ "PacketSize=zz;multiprocess+", RSP_DEFAULT_PACKET },
		{ "PacketSize=;multiprocess+", RSP_DEFAULT_PACKET },
		{ "", RSP_DEFAULT_PACKET },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_stub f;
		struct ish_rsp *r;
		uint8_t buf[300];
		uint8_t *ram = setup(&f);

		f.supported = cases[i].supported;
		r = ready(&f, 2000);
		CHECK_EQ(ish_rsp_packet_size(r), cases[i].want);
		OK(ish_rsp_read(r, RAM_BASE, buf, sizeof(buf)));
		CHECK(!memcmp(buf, ram, sizeof(buf)));
		finish(&f, r);
		CHECK(f.max_packet <= cases[i].want);
	}
}

static void test_checksums(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	struct ish_rsp_stats st;
	uint8_t buf[64];
	uint8_t *ram = setup(&f);

	/* Three replies arrive broken: we answer '-' and the stub sends them again. */
	f.corrupt_replies = 3;
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE + 100, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 100, sizeof(buf)));
	ish_rsp_stats(r, &st);
	CHECK_EQ(st.naks, 3);
	fake_lock(&f);
	CHECK_EQ(f.naks, 3);
	/* and every packet we sent had a good checksum */
	CHECK_EQ(f.bad_checksums, 0);
	fake_unlock(&f);
	finish(&f, r);

	/* A stub that never gets it right: bounded, then the connection is lost. */
	setup(&f);
	r = ready(&f, 2000);
	fake_lock(&f);
	f.corrupt_replies = 1000;
	f.corrupt_always = true;
	fake_unlock(&f);
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	CHECK(ish_rsp_lost(r));
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	ish_rsp_stats(r, &st);
	CHECK_EQ(st.naks, RSP_MAX_RETRIES);
	finish(&f, r);
}

static void test_peer_naks(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	struct ish_rsp_stats st;
	uint8_t buf[32];
	uint8_t *ram = setup(&f);

	r = ready(&f, 2000);
	fake_lock(&f);
	f.nak_requests = 2;
	fake_unlock(&f);
	OK(ish_rsp_read(r, RAM_BASE + 5, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 5, sizeof(buf)));
	ish_rsp_stats(r, &st);
	CHECK_EQ(st.retransmits, 2);
	fake_lock(&f);
	f.nak_requests = 1000;
	fake_unlock(&f);
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	CHECK(ish_rsp_lost(r));
	finish(&f, r);
}

static void test_errors(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	struct ish_error *err;
	uint8_t buf[4096];
	uint8_t *ram = setup(&f);

	r = ready(&f, 2000);
	/* Entirely outside memory. */
	err = ish_rsp_read(r, 0x5000, buf, 16);
	CHECK(err && err->code == ISH_ERROR_FAULT && err->has_address && err->address == 0x5000);
	ish_error_destroy(err);
	/* The second 2 KiB request runs past the end: the fault names its start. */
	err = ish_rsp_read(r, RAM_BASE + RAM_SIZE - 3000, buf, 4096);
	CHECK(err && err->code == ISH_ERROR_FAULT && err->has_address &&
	      err->address == RAM_BASE + RAM_SIZE - 3000 + 2048);
	ish_error_destroy(err);
	err = ish_rsp_write(r, 0x7000, buf, 4);
	CHECK(err && err->code == ISH_ERROR_FAULT && err->has_address && err->address == 0x7000);
	ish_error_destroy(err);
	/* An E reply is an answer, not a broken connection. */
	CHECK(!ish_rsp_lost(r));
	OK(ish_rsp_read(r, RAM_BASE, buf, 16));
	CHECK(!memcmp(buf, ram, 16));
	FAILS(ish_rsp_read(r, ~0ULL - 4, buf, 16), ISH_ERROR_FAULT);
	finish(&f, r);
}

static void test_rle_and_escapes(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t buf[2048];
	uint8_t *ram = setup(&f);
	const char *rep;
	size_t len;
	static const char odd[] = "qEcho:a$b#c}d*e";

	/* Runs of every length 1..300 so that every count byte is exercised. */
	for (size_t i = 0, run = 1; i < 2048; run++) {
		for (size_t k = 0; k < run && i < 2048; k++)
			ram[i++] = (uint8_t)(run & 1 ? 0 : 0x11 * (run % 15));
	}
	f.rle = true;
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram, sizeof(buf)));
	finish(&f, r);

	ram = setup(&f);
	f.escape_zeros = true;
	memset(ram, 0, 256);
	ram[7] = 0x30;
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE, buf, 256));
	CHECK(!memcmp(buf, ram, 256));
	/* Our side escapes $ # } * (the stub unescapes, echoes, escapes again). */
	OK(ish_rsp_request(r, odd, strlen(odd), &rep, &len));
	CHECK_EQ(len, 9);
	CHECK_STR(rep, "a$b#c}d*e");
	fake_lock(&f);
	CHECK_STR(f.last_cmd, odd);
	CHECK_EQ(f.bad_checksums, 0);
	fake_unlock(&f);
	finish(&f, r);
}

/* Answers qRaw with "$<data>#<checksum>". */
static char raw_frame[256];

static const char *frame(const char *data)
{
	unsigned sum = 0;

	for (const char *p = data; *p; p++)
		sum += (uint8_t)*p;
	snprintf(raw_frame, sizeof(raw_frame), "$%s#%02x", data, sum & 0xff);
	return raw_frame;
}

static void test_bad_encodings(void)
{
	static const char *bad[] = {
		"*a",		/* run length with nothing to repeat */
		"ab}",		/* escape at the end */
		"a*",		/* run length without its count */
		"a*\x01",	/* count below the range */
	};
	static const char *good[][2] = {
		{ "a* ", "aaaa" },		/* ' ' = 3 more */
		{ "x}]y", "x}y" },		/* '}' ^ 0x20 = ']' */
		{ "0*\"1", "0000001" },	/* '"' = 5 more */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fake_stub f;
		struct ish_rsp *r;
		const char *rep;
		uint8_t buf[4];

		setup(&f);
		f.raw_reply = frame(bad[i]);
		r = ready(&f, 2000);
		FAILS(ish_rsp_request(r, "qRaw", 4, &rep, NULL), ISH_ERROR_PROTOCOL);
		/* A well-framed but undecodable reply leaves the stream in step. */
		CHECK(!ish_rsp_lost(r));
		OK(ish_rsp_read(r, RAM_BASE, buf, 4));
		finish(&f, r);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct fake_stub f;
		struct ish_rsp *r;
		const char *rep;

		setup(&f);
		f.raw_reply = frame(good[i][0]);
		r = ready(&f, 2000);
		OK(ish_rsp_request(r, "qRaw", 4, &rep, NULL));
		CHECK_STR(rep, good[i][1]);
		finish(&f, r);
	}
}

/* qRcmd: console packets "O<hex>" until "OK" (QEMU's monitor through its gdbstub). */
static void test_monitor(void)
{
	static const struct {
		const char *packets[4];
		int code;	/* 0: ok */
		const char *out;
	} cases[] = {
		{ { "O6c696e65310d0a", "O6c696e6532", "OK" }, 0, "line1\r\nline2" },
		{ { "OK" }, 0, "" },
		{ { "" }, ISH_ERROR_UNSUPPORTED, NULL },
		{ { "E01" }, ISH_ERROR_PROTOCOL, NULL },
		{ { "O4" }, ISH_ERROR_PROTOCOL, NULL },		/* odd hex */
		{ { "Ozz" }, ISH_ERROR_PROTOCOL, NULL },	/* not hex */
		{ { "Q1" }, ISH_ERROR_PROTOCOL, NULL },	/* neither */
		{ { "T05thread:p01.01;", "O41", "OK" }, 0, "A" },	/* a stray stop reply */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static char raw[1024];
		struct fake_stub f;
		struct ish_rsp *r;
		char *out = NULL;
		size_t len = 0;
		struct ish_error *err;

		raw[0] = '\0';
		for (size_t j = 0; j < 4 && cases[i].packets[j]; j++)
			strcat(raw, frame(cases[i].packets[j]));
		setup(&f);
		f.raw_reply = raw;
		r = ready(&f, 2000);
		err = ish_rsp_monitor(r, "info mtree -f", &out, &len);
		if (!cases[i].code) {
			CHECK(!err);
			CHECK_STR(out, cases[i].out);
			CHECK_EQ(len, strlen(cases[i].out));
			fake_lock(&f);
			CHECK_STR(f.last_cmd, "qRcmd,696e666f206d74726565202d66");
			fake_unlock(&f);
		} else {
			CHECK(err && (int)err->code == cases[i].code);
		}
		ish_error_destroy(err);
		free(out);
		finish(&f, r);
	}
}

/* Pipelined 'm' requests, answered in order; holes come back as not ok. */
static void test_scatter(void)
{
	uint64_t addrs[100];
	uint8_t out[100 * 24];
	bool ok[100];
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t *ram = setup(&f);
	struct ish_rsp_stats st;

	for (size_t i = 0; i < 100; i++)
		addrs[i] = i % 10 == 9 ? 0x900000 + i : RAM_BASE + i * 512;
	r = ready(&f, 2000);
	OK(ish_rsp_read_scatter(r, addrs, 100, 24, out, ok));
	for (size_t i = 0; i < 100; i++) {
		if (i % 10 == 9) {
			CHECK(!ok[i]);
		} else {
			CHECK(ok[i]);
			CHECK(!memcmp(out + i * 24, ram + i * 512, 24));
		}
	}
	ish_rsp_stats(r, &st);
	CHECK_EQ(st.mem_reads, 100);
	/* the stream is still in step */
	OK(ish_rsp_read(r, RAM_BASE, out, 8));
	CHECK(!memcmp(out, ram, 8));
	FAILS(ish_rsp_read_scatter(r, addrs, 1, 0, out, ok), ISH_ERROR_INVALID);
	finish(&f, r);
	/* a stub that dies mid-window: an error, never a hang */
	setup(&f);
	f.close_on = "m100a00";
	r = ready(&f, 2000);
	{
		struct ish_error *err = ish_rsp_read_scatter(r, addrs, 100, 24, out, ok);

		CHECK(err != NULL);
		ish_error_destroy(err);
	}
	finish(&f, r);
}

static void test_dead_peers(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	struct ish_error *err;
	uint8_t buf[64];
	int64_t t0;

	/* Half a reply, then the stub hangs up. */
	setup(&f);
	f.truncate_on = "m";
	r = ready(&f, 2000);
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	CHECK(ish_rsp_lost(r));
	/* Later calls fail at once, without touching the socket. */
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	FAILS(ish_rsp_detach(r), ISH_ERROR_PROTOCOL);
	finish(&f, r);

	/* The stub hangs up in the middle of a read. */
	setup(&f);
	f.close_on = "m";
	r = ready(&f, 2000);
	err = ish_rsp_read(r, RAM_BASE, buf, 8);
	CHECK(err && err->code == ISH_ERROR_PROTOCOL && strstr(err->message, "closed"));
	ish_error_destroy(err);
	finish(&f, r);

	/* The stub stalls: the timeout fires, neither much early nor late. */
	setup(&f);
	f.stall_on = "m";
	r = ready(&f, 200);
	t0 = ms_now();
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_TIMEOUT);
	CHECK(ms_now() - t0 >= 190);
	CHECK(ms_now() - t0 < 2000);
	CHECK(ish_rsp_lost(r));
	finish(&f, r);

	/* A stub that never acks or answers at all (not even qSupported). */
	setup(&f);
	f.stall_on = "q";
	r = client(&f, 150);
	FAILS(ish_rsp_handshake(r), ISH_ERROR_TIMEOUT);
	finish(&f, r);

	/* A stub that closes before the handshake. */
	setup(&f);
	f.close_on = "qSupported";
	r = client(&f, 2000);
	FAILS(ish_rsp_handshake(r), ISH_ERROR_PROTOCOL);
	finish(&f, r);
}

static void test_garbage(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	struct ish_rsp_stats st;
	uint8_t buf[64];
	uint8_t *ram = setup(&f);

	/* Noise before every reply, including stray acks and a cut-off frame. */
	f.garbage = "noise+-\x03\xff$0011";
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE + 9, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 9, sizeof(buf)));
	ish_rsp_stats(r, &st);
	CHECK(st.garbage > 0);
	finish(&f, r);

	/* Noise in place of the checksum: '-' and the stub sends again. */
	ram = setup(&f);
	f.garbage = "$12#";
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram, sizeof(buf)));
	finish(&f, r);

	/* Endless noise without a packet: bounded. */
	setup(&f);
	f.flood_on = "m";
	r = ready(&f, 5000);
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	finish(&f, r);

	/* A frame that never ends: bounded by the packet limit. */
	setup(&f);
	f.huge_on = "m";
	r = ready(&f, 5000);
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 8), ISH_ERROR_PROTOCOL);
	finish(&f, r);
}

static void test_no_phys_mode(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	struct ish_error *err;

	setup(&f);
	f.no_phys = true;
	r = client(&f, 2000);
	OK(ish_rsp_handshake(r));
	err = ish_rsp_phys_mode(r);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED && strstr(err->message, "PhyMemMode"));
	ish_error_destroy(err);
	finish(&f, r);
}

static void test_stray_stops(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t buf[32];
	uint8_t *ram = setup(&f);

	f.stray_stop = true;
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE + 1, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 1, sizeof(buf)));
	/* '?' takes the stop reply as its answer. */
	finish(&f, r);

	ram = setup(&f);
	f.stop_before_ack = true;
	r = ready(&f, 2000);
	OK(ish_rsp_read(r, RAM_BASE + 2, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 2, sizeof(buf)));
	OK(ish_rsp_read(r, RAM_BASE + 40, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 40, sizeof(buf)));
	finish(&f, r);

	/* Partial 'm' answers: the client goes on from where the stub stopped. */
	ram = setup(&f);
	f.partial_m = true;
	r = ready(&f, 2000);
	fake_lock(&f);
	f.m_count = 0;
	fake_unlock(&f);
	OK(ish_rsp_read(r, RAM_BASE + 3, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram + 3, sizeof(buf)));
	fake_lock(&f);
	CHECK(f.m_count > 1);
	fake_unlock(&f);
	finish(&f, r);
}

static void change_ram(struct fake_stub *f)
{
	f->regions[0].bytes[0] = 0x5a;
}

static void test_stop_resume_detach(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t buf[4];
	const char *rep;

	setup(&f);
	f.on_resume = change_ram;
	r = ready(&f, 2000);
	OK(ish_rsp_stop(r));	/* not running: nothing sent */
	OK(ish_rsp_resume(r));
	CHECK(ish_rsp_running(r));
	OK(ish_rsp_resume(r));	/* already running: nothing sent */
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 4), ISH_ERROR_INVALID);
	FAILS(ish_rsp_request(r, "?", 1, &rep, NULL), ISH_ERROR_INVALID);
	OK(ish_rsp_stop(r));
	CHECK(!ish_rsp_running(r));
	OK(ish_rsp_read(r, RAM_BASE, buf, 4));
	CHECK_EQ(buf[0], 0x5a);
	fake_lock(&f);
	CHECK_EQ(f.c_count, 1);
	CHECK_EQ(f.interrupts, 1);
	CHECK(!f.running);
	fake_unlock(&f);
	/* Detach from a running guest stops it first. */
	OK(ish_rsp_resume(r));
	OK(ish_rsp_detach(r));
	FAILS(ish_rsp_read(r, RAM_BASE, buf, 4), ISH_ERROR_PROTOCOL);
	finish(&f, r);
	CHECK_EQ(f.interrupts, 2);
	CHECK_EQ(f.detach_count, 1);
	CHECK_STR(f.detach_cmd, "D;1");
	CHECK(f.detached);

	/* Without multiprocess the detach is a bare D. */
	setup(&f);
	f.supported = "PacketSize=1000";
	r = ready(&f, 2000);
	CHECK(!ish_rsp_multiprocess(r));
	OK(ish_rsp_detach(r));
	finish(&f, r);
	CHECK_STR(f.detach_cmd, "D");
}

static void test_noack(void)
{
	struct fake_stub f;
	struct ish_rsp *r;
	uint8_t buf[300];
	uint8_t *ram = setup(&f);
	unsigned acks;

	f.supported = "PacketSize=1000;QStartNoAckMode+;multiprocess+";
	r = ready(&f, 2000);
	CHECK(ish_rsp_noack(r));
	fake_lock(&f);
	acks = f.acks;
	fake_unlock(&f);
	OK(ish_rsp_read(r, RAM_BASE, buf, sizeof(buf)));
	CHECK(!memcmp(buf, ram, sizeof(buf)));
	OK(ish_rsp_detach(r));
	finish(&f, r);
	/* qSupported and QStartNoAckMode's OK are the only replies acked. */
	CHECK_EQ(acks, 2);
	CHECK_EQ(f.acks, 2);
}

static void test_connect(void)
{
	struct fake_stub f;
	struct ish_rsp *r = NULL;
	char addr[160];
	char longpath[200];
	unsigned port;
	uint8_t buf[8];
	uint8_t *ram;

	FAILS(ish_rsp_connect("unix:/nonexistent/ish.sock", 500, &r), ISH_ERROR_OS);
	FAILS(ish_rsp_connect("localhost", 500, &r), ISH_ERROR_INVALID);
	FAILS(ish_rsp_connect("localhost:99999", 500, &r), ISH_ERROR_INVALID);
	FAILS(ish_rsp_connect("localhost:", 500, &r), ISH_ERROR_INVALID);
	FAILS(ish_rsp_connect("unix:", 500, &r), ISH_ERROR_INVALID);
	memset(longpath, 'x', sizeof(longpath) - 1);
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	FAILS(ish_rsp_connect(longpath, 500, &r), ISH_ERROR_INVALID);

	ram = setup(&f);
	fake_start_unix(&f);
	snprintf(addr, sizeof(addr), "unix:%s", f.path);
	OK(ish_rsp_connect(addr, 2000, &r));
	OK(ish_rsp_handshake(r));
	OK(ish_rsp_phys_mode(r));
	OK(ish_rsp_read(r, RAM_BASE, buf, 8));
	CHECK(!memcmp(buf, ram, 8));
	finish(&f, r);

	ram = setup(&f);
	port = fake_start_tcp(&f);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	OK(ish_rsp_connect(addr, 2000, &r));
	OK(ish_rsp_handshake(r));
	OK(ish_rsp_phys_mode(r));
	OK(ish_rsp_read(r, RAM_BASE + 8, buf, 8));
	CHECK(!memcmp(buf, ram + 8, 8));
	finish(&f, r);

	/* An empty host means localhost. */
	setup(&f);
	port = fake_start_tcp(&f);
	snprintf(addr, sizeof(addr), ":%u", port);
	r = NULL;
	{
		struct ish_error *err = ish_rsp_connect(addr, 2000, &r);

		/* localhost may resolve to ::1 first; the fake listens on IPv4 only. */
		CHECK(!err);
		ish_error_destroy(err);
	}
	if (r)
		OK(ish_rsp_handshake(r));
	finish(&f, r);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("handshake") test_handshake();
	CASE("stop_on_connect") test_stop_on_connect();
	CASE("packet_size") test_packet_size();
	CASE("hostile_packet_size") test_hostile_packet_size();
	CASE("checksums") test_checksums();
	CASE("peer_naks") test_peer_naks();
	CASE("errors") test_errors();
	CASE("rle_and_escapes") test_rle_and_escapes();
	CASE("bad_encodings") test_bad_encodings();
	CASE("monitor") test_monitor();
	CASE("scatter") test_scatter();
	CASE("dead_peers") test_dead_peers();
	CASE("garbage") test_garbage();
	CASE("no_phys_mode") test_no_phys_mode();
	CASE("stray_stops") test_stray_stops();
	CASE("stop_resume_detach") test_stop_resume_detach();
	CASE("noack") test_noack();
	CASE("connect") test_connect();
	return check_report();
}
