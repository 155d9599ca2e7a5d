/* test_stream.c - the bounded queue a streamed response body goes
 * through: bytes arrive whole and in order, the producer waits while the
 * bound is reached, a consumer that takes nothing for the stall time
 * fails the stream, and one that closes wakes a waiting producer. Every
 * wait here is bounded; a hang fails the test. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "serve/stream.h"

#define PIECE 10000
#define PIECES 200
#define BOUND (3 * PIECE)

struct producer {
	struct stream *s;
	int npieces;
	size_t piece;
	uint64_t stall_ms;
	int result;             /* the last put's */
	int done;
	uint64_t took_ms;       /* of the last put */
	pthread_mutex_t lock;
};

/* Piece i of a producer: bytes that say where they are. */
static unsigned char *
make_piece(size_t start, size_t len)
{
	unsigned char *p = xmalloc(len);

	for (size_t k = 0; k < len; k++)
		p[k] = (unsigned char)((start + k) % 251);
	return p;
}

static void *
produce(void *arg)
{
	struct producer *pr = arg;
	int r = 0;

	for (int i = 0; i < pr->npieces && r == 0; i++) {
		uint64_t t0 = mono_ms();

		r = stream_put(pr->s, make_piece((size_t)i * pr->piece, pr->piece), pr->piece,
		    pr->stall_ms);
		pthread_mutex_lock(&pr->lock);
		pr->took_ms = mono_ms() - t0;
		pthread_mutex_unlock(&pr->lock);
	}
	stream_end(pr->s, r == 0);
	pthread_mutex_lock(&pr->lock);
	pr->result = r;
	pr->done = 1;
	pthread_mutex_unlock(&pr->lock);
	return NULL;
}

static int
producer_done(struct producer *pr)
{
	int d;

	pthread_mutex_lock(&pr->lock);
	d = pr->done;
	pthread_mutex_unlock(&pr->lock);
	return d;
}

static void
start(struct producer *pr, pthread_t *t, struct stream *s, int n, size_t piece, uint64_t stall)
{
	memset(pr, 0, sizeof(*pr));
	pr->s = s;
	pr->npieces = n;
	pr->piece = piece;
	pr->stall_ms = stall;
	pthread_mutex_init(&pr->lock, NULL);
	assert_int_equal(pthread_create(t, NULL, produce, pr), 0);
}

/* Wait (bounded) until the queue holds at least n bytes. */
static size_t
wait_queued(struct stream *s, size_t n)
{
	uint64_t deadline = mono_ms() + 10000;
	size_t q;

	while ((q = stream_queued(s)) < n && mono_ms() < deadline)
		usleep(1000);
	return q;
}

static void
test_order_and_bound(void **state)
{
	struct stream *s = stream_new(BOUND);
	struct producer pr;
	pthread_t t;
	unsigned char *got = xmalloc((size_t)PIECES * PIECE);
	size_t have = 0, most = 0;
	enum stream_state st = STREAM_WAIT;
	uint64_t deadline = mono_ms() + 20000;
	unsigned step = 1;

	(void)state;
	start(&pr, &t, s, PIECES, PIECE, 20000);
	/* the producer fills to the bound and waits there */
	assert_true(wait_queued(s, BOUND) >= BOUND);
	usleep(50 * 1000);
	assert_true(stream_queued(s) < BOUND + PIECE);
	assert_false(producer_done(&pr));
	/* taken in odd sizes, the bytes come whole and in order */
	while (mono_ms() < deadline) {
		size_t q = stream_queued(s), n;

		if (q > most)
			most = q;
		n = stream_get(s, got + have, step, &st);
		have += n;
		step = step * 7 % 65521 + 1;
		if (st == STREAM_END || st == STREAM_FAILED)
			break;
		if (st == STREAM_WAIT)
			usleep(100);
	}
	pthread_join(t, NULL);
	assert_int_equal(st, STREAM_END);
	assert_int_equal(pr.result, 0);
	assert_int_equal(have, (size_t)PIECES * PIECE);
	for (size_t k = 0; k < have; k++)
		if (got[k] != (unsigned char)(k % 251))
			fail_msg("byte %zu is %u, not %u", k, got[k], (unsigned)(k % 251));
	/* a piece is taken whole: the bound is passed by one piece at most */
	assert_true(most < BOUND + PIECE);
	assert_int_equal(stream_queued(s), 0);
	free(got);
	pthread_mutex_destroy(&pr.lock);
	stream_free(s);
}

static void
test_stall_fails(void **state)
{
	struct stream *s = stream_new(BOUND);
	struct producer pr;
	pthread_t t;
	unsigned char buf[PIECE];
	enum stream_state st;
	size_t n, taken = 0;
	uint64_t deadline = mono_ms() + 10000;

	(void)state;
	/* nothing is taken: the put past the bound gives up after 200 ms */
	start(&pr, &t, s, 10, PIECE, 200);
	while (!producer_done(&pr) && mono_ms() < deadline)
		usleep(1000);
	assert_true(producer_done(&pr));
	pthread_join(t, NULL);
	assert_int_equal(pr.result, -1);
	assert_true(pr.took_ms >= 190 && pr.took_ms < 5000);
	assert_true(stream_closed(s));
	/* what was queued still goes out, then the stream says it failed */
	while ((n = stream_get(s, buf, sizeof(buf), &st)) > 0)
		taken += n;
	assert_int_equal(taken, (size_t)BOUND);
	assert_int_equal(st, STREAM_FAILED);
	pthread_mutex_destroy(&pr.lock);
	stream_free(s);
}

static void
test_slow_consumer_is_not_a_stall(void **state)
{
	struct stream *s = stream_new(BOUND);
	struct producer pr;
	pthread_t t;
	unsigned char buf[1000];
	enum stream_state st = STREAM_WAIT;
	size_t taken = 0;
	uint64_t deadline = mono_ms() + 20000;

	(void)state;
	/* a consumer that takes a little every 20 ms, far slower than the
	 * producer, never lets 300 ms pass without a take: no failure */
	start(&pr, &t, s, 8, PIECE, 300);
	while (mono_ms() < deadline) {
		taken += stream_get(s, buf, sizeof(buf), &st);
		if (st == STREAM_END || st == STREAM_FAILED)
			break;
		usleep(20 * 1000);
	}
	pthread_join(t, NULL);
	assert_int_equal(st, STREAM_END);
	assert_int_equal(pr.result, 0);
	assert_int_equal(taken, (size_t)8 * PIECE);
	pthread_mutex_destroy(&pr.lock);
	stream_free(s);
}

static void
test_close_wakes_producer(void **state)
{
	struct stream *s = stream_new(BOUND);
	struct producer pr;
	pthread_t t;
	unsigned char buf[16];
	enum stream_state st;
	uint64_t deadline = mono_ms() + 10000, t0;

	(void)state;
	start(&pr, &t, s, 100, PIECE, 60000);
	assert_true(wait_queued(s, BOUND) >= BOUND);
	usleep(20 * 1000);
	assert_false(producer_done(&pr));
	t0 = mono_ms();
	stream_close(s);
	while (!producer_done(&pr) && mono_ms() < deadline)
		usleep(1000);
	assert_true(producer_done(&pr));
	/* woken at once, not after its 60 s stall time */
	assert_true(mono_ms() - t0 < 5000);
	pthread_join(t, NULL);
	assert_int_equal(pr.result, -1);
	/* what was queued is dropped; later puts are refused */
	assert_int_equal(stream_queued(s), 0);
	assert_int_equal(stream_get(s, buf, sizeof(buf), &st), 0);
	assert_int_equal(stream_put(s, make_piece(0, 8), 8, 10), -1);
	pthread_mutex_destroy(&pr.lock);
	stream_free(s);
}

static void
test_end_states(void **state)
{
	struct stream *s = stream_new(100);
	unsigned char buf[64];
	enum stream_state st;

	(void)state;
	assert_int_equal(stream_get(s, buf, sizeof(buf), &st), 0);
	assert_int_equal(st, STREAM_WAIT);
	assert_int_equal(stream_put(s, make_piece(0, 40), 40, 10), 0);
	assert_int_equal(stream_put(s, NULL, 0, 10), 0);   /* an empty piece is nothing */
	stream_end(s, 1);
	assert_int_equal(stream_get(s, buf, 30, &st), 30);
	assert_int_equal(st, STREAM_DATA);
	assert_int_equal(stream_get(s, buf, sizeof(buf), &st), 10);
	assert_int_equal(buf[9], 39);
	assert_int_equal(stream_get(s, buf, sizeof(buf), &st), 0);
	assert_int_equal(st, STREAM_END);
	stream_free(s);

	/* cut short: the bytes, then the failure */
	s = stream_new(100);
	assert_int_equal(stream_put(s, make_piece(0, 5), 5, 10), 0);
	stream_end(s, 0);
	assert_int_equal(stream_get(s, buf, sizeof(buf), &st), 5);
	assert_int_equal(stream_get(s, buf, sizeof(buf), &st), 0);
	assert_int_equal(st, STREAM_FAILED);
	/* freed with bytes still queued: no leak (ASan) */
	stream_free(s);
	s = stream_new(100);
	assert_int_equal(stream_put(s, make_piece(0, 50), 50, 10), 0);
	stream_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_bound),
		cmocka_unit_test(test_stall_fails),
		cmocka_unit_test(test_slow_consumer_is_not_a_stall),
		cmocka_unit_test(test_close_wakes_producer),
		cmocka_unit_test(test_end_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
