/*
 * fuzz_starttls.c - every STARTTLS dialogue (src/starttls.c) against a
 * hostile server, driven as probe.c drives it: starttls_next, then
 * starttls_sent for what "went out" or starttls_input for what "came in".
 *
 * Input: byte 0 picks the protocol (and bit 7: close the connection at
 * the end); byte 1 the chunking of what follows: 0 all at once, 1 a byte
 * at a time, else chunk and write sizes from a generator seeded with it.
 * The rest is what the server sends.
 *
 * Invariants: WANT_WRITE always has bytes, and never more than a command;
 * FAILED has a reason from the fixed set and a short printable detail;
 * DONE and FAILED are final (nothing is asked for after them, whatever is
 * fed); no more than STARTTLS_MAX_TOTAL bytes are taken in; the peer
 * closing before the end always fails with "closed".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "probe/starttls.h"
#include "core/util.h"

/* What one command is bounded by (starttls.c's out[]). */
#define MAX_COMMAND 512

static const char *const reasons[] = { "not_offered", "refused", "protocol_error", "closed" };

static void
check_failed(struct starttls *s)
{
	const char *reason = starttls_reason(s), *detail = starttls_detail(s);
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(reasons); i++)
		if (strcmp(reason, reasons[i]) == 0)
			break;
	FUZZ_CHECK(i < ARRAY_SIZE(reasons), "reason \"%s\" is not in the fixed set", reason);
	len = strlen(detail);
	FUZZ_CHECK(len > 0 && len < 320, "detail of %zu bytes", len);
	for (i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)detail[i] >= 0x20 && detail[i] != 0x7f,
		    "control byte 0x%02x in the detail \"%s\"", (unsigned char)detail[i], detail);
}

/* A final state stays final: asked again, or fed more, or told of a close. */
static void
check_final(struct starttls *s, enum starttls_status st)
{
	const void *out = NULL;
	size_t len = 0;

	FUZZ_CHECK(starttls_next(s, &out, &len) == st, "a final status changed");
	FUZZ_CHECK(starttls_input(s, "x\r\n", 3) == st, "input after the end was taken");
	FUZZ_CHECK(starttls_input(s, "", 0) == st, "a close after the end was taken");
	starttls_sent(s, 1);
	FUZZ_CHECK(starttls_next(s, &out, &len) == st, "a final status changed after sent");
	if (st == STARTTLS_FAILED)
		check_failed(s);
}

/* xorshift32: chunk sizes that depend only on the input. */
static unsigned
next_rand(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned b0 = fuzz_byte(&in), b1 = fuzz_byte(&in);
	enum starttls_proto proto = (enum starttls_proto)(1 + b0 % (STARTTLS_COUNT - 1));
	int close_at_end = (b0 & 0x80) != 0;
	unsigned seed = b1 * 2654435761u | 1, maxchunk = (b1 & 0x3f) + 1;
	struct starttls *s = starttls_new(proto, "good.test");
	size_t off = 0, taken = 0, written = 0, steps = 0;
	enum starttls_status st;

	for (;;) {
		const void *out = NULL;
		size_t len = 0, n;

		FUZZ_CHECK(++steps < 2 * size + 8 * MAX_COMMAND + 16, "no progress after %zu steps",
		    steps);
		st = starttls_next(s, &out, &len);
		if (st == STARTTLS_DONE || st == STARTTLS_FAILED)
			break;
		if (st == STARTTLS_WANT_WRITE) {
			FUZZ_CHECK(out != NULL && len > 0, "WANT_WRITE with %zu bytes", len);
			FUZZ_CHECK(len <= MAX_COMMAND, "a command of %zu bytes", len);
			/* touch every byte: they must be readable */
			volatile unsigned char sum = 0;
			for (size_t i = 0; i < len; i++)
				sum ^= ((const unsigned char *)out)[i];
			(void)sum;
			/* a short write now and then, as a full socket buffer gives */
			n = b1 > 1 ? 1 + next_rand(&seed) % len : len;
			written += n;
			FUZZ_CHECK(written <= 8 * MAX_COMMAND, "%zu bytes written", written);
			starttls_sent(s, n);
			continue;
		}
		FUZZ_CHECK(st == STARTTLS_WANT_READ, "unknown status %d", (int)st);
		if (in.n == 0) {
			if (!close_at_end)
				break;
			/* the peer hangs up before TLS could start */
			st = starttls_input(s, "", 0);
			FUZZ_CHECK(st == STARTTLS_FAILED, "a close did not fail the dialogue");
			FUZZ_CHECK(strcmp(starttls_reason(s), "closed") == 0,
			    "a close failed with \"%s\"", starttls_reason(s));
			break;
		}
		if (b1 == 0)
			n = in.n;
		else if (b1 == 1)
			n = 1;
		else
			n = 1 + next_rand(&seed) % maxchunk;
		if (n > in.n)
			n = in.n;
		/* a copy of exactly n bytes: a read past it is caught */
		unsigned char *chunk = xmalloc(n);
		memcpy(chunk, in.p, n);
		st = starttls_input(s, chunk, n);
		free(chunk);
		in.p += n;
		in.n -= n;
		off += n;
		if (st == STARTTLS_WANT_READ || st == STARTTLS_WANT_WRITE) {
			taken = off;
			FUZZ_CHECK(taken <= STARTTLS_MAX_TOTAL, "%zu bytes taken in", taken);
		}
	}
	if (st == STARTTLS_DONE || st == STARTTLS_FAILED)
		check_final(s, st);
	starttls_free(s);
	return 0;
}
