/*
 * fuzz_proxy.c - the HTTP CONNECT and SOCKS5 dialogues (src/probe/proxy.c)
 * against a hostile proxy, driven as the connect stage drives them:
 * proxy_next, then proxy_sent for what "went out" or proxy_input for what
 * "came in".
 *
 * Input: byte 0 picks the kind (bit 0: SOCKS5), the target (bits 1-2: a
 * name, IPv4, IPv6, a 255-byte name) and whether the proxy closes at the
 * end (bit 7); byte 1 the chunking: 0 all at once, 1 a byte at a time,
 * else chunk and write sizes from a generator seeded with it. The rest is
 * what the proxy sends.
 *
 * Invariants: WANT_WRITE always has bytes, never more than one request;
 * FAILED has a reason from the fixed set and a short printable detail;
 * DONE and FAILED are final; leftover bytes exist only after DONE and are
 * exactly the tail of the chunk that completed the answer; no more than
 * PROXY_MAX_REPLY bytes are taken before a verdict; the proxy closing
 * before the end fails as proxy_error.
 *
 * A plain libFuzzer harness (LLVMFuzzerTestOneInput); it joins the
 * tests/fuzz/ build once that lands.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/proxy.h"

#include "check.h"

/* A CONNECT line with a 255-byte name twice is the longest request. */
#define MAX_REQUEST 600

static const char *const reasons[] = { "proxy_refused", "proxy_auth", "proxy_error" };

static void
check_failed(struct proxy *p)
{
	const char *reason = proxy_reason(p), *detail = proxy_detail(p);
	size_t i, len;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reason, reasons[i]) == 0)
			break;
	CHECK(i < sizeof(reasons) / sizeof(reasons[0]), "reason \"%s\" not in the fixed set", reason);
	len = strlen(detail);
	CHECK(len > 0 && len < 320, "detail of %zu bytes", len);
	for (i = 0; i < len; i++)
		CHECK((unsigned char)detail[i] >= 0x20 && detail[i] != 0x7f,
		    "control byte 0x%02x in the detail", (unsigned char)detail[i]);
}

static void
check_final(struct proxy *p, enum proxy_status st)
{
	const void *out;
	size_t len, left;

	CHECK(proxy_next(p, &out, &len) == st, "a final state changed when asked again");
	CHECK(proxy_input(p, "HTTP/1.1 200 OK\r\n\r\n", 19) == st, "a final state changed on input");
	CHECK(proxy_input(p, "", 0) == st, "a final state changed on a close");
	(void)proxy_leftover(p, &left);
	if (st == PROXY_FAILED)
		CHECK(left == 0, "leftover bytes after a failure");
}

static uint32_t
next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char longname[256];
	const char *hosts[4] = { "good.test", "127.0.0.1", "::1", longname };
	enum proxy_kind kind;
	enum proxy_status st;
	struct proxy *p;
	uint32_t seed;
	size_t off = 2, taken = 0;
	int closes, mode;

	if (size < 2)
		return 0;
	if (longname[0] == '\0')
		memset(longname, 'a', 255);
	kind = (data[0] & 1) ? PROXY_SOCKS5 : PROXY_HTTP;
	closes = data[0] & 0x80;
	mode = data[1];
	seed = data[1];
	p = proxy_new(kind, hosts[(data[0] >> 1) & 3], 443);
	CHECK(p != NULL, "a valid host was refused");

	for (;;) {
		const void *out;
		size_t len, chunk;

		st = proxy_next(p, &out, &len);
		if (st == PROXY_WANT_WRITE) {
			size_t w = mode < 2 ? len : 1 + next_rand(&seed) % len;

			CHECK(len > 0 && len <= MAX_REQUEST, "WANT_WRITE with %zu bytes", len);
			CHECK(out != NULL, "WANT_WRITE without a buffer");
			proxy_sent(p, w);
			continue;
		}
		if (st != PROXY_WANT_READ)
			break;
		if (off == size) {
			if (!closes)
				break;
			st = proxy_input(p, "", 0);
			CHECK(st == PROXY_FAILED && strcmp(proxy_reason(p), "proxy_error") == 0,
			    "a close before the end did not fail as proxy_error");
			break;
		}
		chunk = mode == 0 ? size - off : mode == 1 ? 1 : 1 + next_rand(&seed) % (size - off);
		if (chunk > size - off)
			chunk = size - off;
		st = proxy_input(p, data + off, chunk);
		off += chunk;
		taken += chunk;
		if (st == PROXY_DONE) {
			size_t left;
			const void *l = proxy_leftover(p, &left);

			CHECK(left <= chunk, "more leftover (%zu) than the last chunk (%zu)", left, chunk);
			if (left > 0)
				CHECK(l != NULL && memcmp(l, data + off - left, left) == 0,
				    "leftover is not the tail of the last chunk");
			taken -= left;
			CHECK(taken <= PROXY_MAX_REPLY, "an answer of %zu bytes was taken", taken);
		}
	}
	if (st == PROXY_FAILED)
		check_failed(p);
	if (st == PROXY_DONE || st == PROXY_FAILED)
		check_final(p, st);
	if (st == PROXY_WANT_READ)
		CHECK(taken <= PROXY_MAX_REPLY, "still reading after %zu bytes", taken);
	proxy_free(p);
	return 0;
}
