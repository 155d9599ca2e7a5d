/* test_util.c - durations, hashing, buffers, bounded file reads, the timer
 * heap and the loop. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/file.h"
#include "core/heap.h"
#include "core/loop.h"
#include "core/share.h"
#include "core/util.h"

static void
test_duration(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(parse_duration_ms("90", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(parse_duration_ms("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(parse_duration_ms("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(parse_duration_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(parse_duration_ms("1h30m", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(parse_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(parse_duration_ms("2d", &ms), 0);
	assert_int_equal(ms, 172800000);
	ms = 7;
	assert_int_equal(parse_duration_ms("0", &ms), -1);
	assert_int_equal(parse_duration_ms("0s", &ms), -1);
	assert_int_equal(parse_duration_ms("", &ms), -1);
	assert_int_equal(parse_duration_ms("-5", &ms), -1);
	assert_int_equal(parse_duration_ms("5x", &ms), -1);
	assert_int_equal(parse_duration_ms("m", &ms), -1);
	assert_int_equal(parse_duration_ms("5 m", &ms), -1);
	assert_int_equal(parse_duration_ms("1h5", &ms), -1);   /* a unit-less term only alone */
	assert_int_equal(parse_duration_ms("99999999999999999999", &ms), -1);
	/* n * unit once wrapped: 213503982339 days is about 4 days modulo 2^64 */
	assert_int_equal(parse_duration_ms("213503982339d", &ms), -1);
	assert_int_equal(parse_duration_ms("36601d", &ms), -1);
	assert_int_equal(parse_duration_ms("36600d1ms", &ms), -1);
	assert_int_equal(parse_duration_ms("18446744073709551615ms", &ms), -1);
	assert_int_equal(ms, 7);    /* untouched on failure */
	assert_int_equal(parse_duration_ms("36600d", &ms), 0);
	assert_true(ms == DURATION_MAX_MS);
}

static void
test_size(void **state)
{
	uint64_t n = 0;

	(void)state;
	assert_int_equal(parse_size_bytes("65536", &n), 0);
	assert_true(n == 65536);
	assert_int_equal(parse_size_bytes("1B", &n), 0);
	assert_true(n == 1);
	assert_int_equal(parse_size_bytes("64MB", &n), 0);
	assert_true(n == (uint64_t)64 << 20);
	assert_int_equal(parse_size_bytes("64MiB", &n), 0);
	assert_true(n == (uint64_t)64 << 20);
	assert_int_equal(parse_size_bytes("512KB", &n), 0);
	assert_true(n == 512 * 1024);
	assert_int_equal(parse_size_bytes("2GB", &n), 0);
	assert_true(n == (uint64_t)2 << 30);
	assert_int_equal(parse_size_bytes("1TB", &n), 0);
	assert_true(n == SIZE_MAX_BYTES);
	n = 7;
	assert_int_equal(parse_size_bytes("0", &n), -1);
	assert_int_equal(parse_size_bytes("0MB", &n), -1);
	assert_int_equal(parse_size_bytes("", &n), -1);
	assert_int_equal(parse_size_bytes("MB", &n), -1);
	assert_int_equal(parse_size_bytes("-1", &n), -1);
	assert_int_equal(parse_size_bytes("5 MB", &n), -1);
	assert_int_equal(parse_size_bytes("5mb", &n), -1);
	assert_int_equal(parse_size_bytes("5MBB", &n), -1);
	assert_int_equal(parse_size_bytes("1.5MB", &n), -1);
	assert_int_equal(parse_size_bytes("2TB", &n), -1);
	assert_int_equal(parse_size_bytes("1025GB", &n), -1);
	assert_int_equal(parse_size_bytes("99999999999999999999", &n), -1);
	/* n << shift once wrapped: 2^44 MB is 0 modulo 2^64 */
	assert_int_equal(parse_size_bytes("17592186044416MB", &n), -1);
	assert_true(n == 7);    /* untouched on failure */
}

static void
test_time_range(void **state)
{
	char out[64];

	(void)state;
	assert_true(time_epoch_ok(0));
	assert_true(time_epoch_ok(TIME_MAX_EPOCH));
	assert_false(time_epoch_ok(TIME_MAX_EPOCH + 1));
	assert_true(time_epoch_ok(TIME_MIN_EPOCH));
	assert_false(time_epoch_ok(INT64_MIN));
	assert_int_equal(time_epoch_or_zero(INT64_MAX), 0);
	assert_int_equal(time_epoch_or_zero(1700000000), 1700000000);
	fmt_utc(out, sizeof(out), 1e19);    /* once cast to time_t: undefined */
	assert_string_equal(out, "-");
	fmt_utc(out, sizeof(out), -1e300);
	assert_string_equal(out, "-");
	fmt_utc(out, sizeof(out), 0.0 / 0.0);
	assert_string_equal(out, "-");
	fmt_utc(out, sizeof(out), (double)TIME_MAX_EPOCH);
	assert_string_equal(out, "9999-12-31 23:59:59 UTC");
	fmt_utc(out, sizeof(out), 1763806592);
	assert_string_equal(out, "2025-11-22 10:16:32 UTC");
	/* the log lines' form, from the same formatter */
	fmt_utc_iso(out, sizeof(out), 1763806592);
	assert_string_equal(out, "2025-11-22T10:16:32Z");
	fmt_utc_iso(out, sizeof(out), 0);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	fmt_utc_iso(out, sizeof(out), INT64_MAX);
	assert_string_equal(out, "9223372036854775807");
}

static void
test_hash_and_hex(void **state)
{
	char hex[9];

	(void)state;
	/* FNV-1a reference values: the spread of first probes depends on them. */
	assert_true(hash64("", 0) == 0xcbf29ce484222325ull);
	assert_true(hash64("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(hash64("foobar", 6) == 0x85944171f73967e8ull);
	hex_encode((const unsigned char *)"\x00\xab\x10\xff", 4, hex);
	assert_string_equal(hex, "00ab10ff");
}

static void
test_buf(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_memory_equal(b.data, "0,1,2,", 6);
	assert_string_equal(b.data + b.len - 4, "999,");
	buf_putc(&b, 'x');
	buf_append(&b, "\0y", 2);
	assert_int_equal(b.data[b.len - 2], '\0');
	s = buf_steal(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	s = xasprintf("%s-%03d", "a", 7);
	assert_string_equal(s, "a-007");
	free(s);
	s = buf_steal(&b);     /* an empty buffer gives an empty string */
	assert_string_equal(s, "");
	free(s);
}

struct sink {
	struct buf got;
	size_t calls;
	size_t max_len;
};

static void
sink_flush(struct buf *b, void *arg)
{
	struct sink *k = arg;

	buf_append(&k->got, b->data, b->len);
	k->calls++;
	if (b->len > k->max_len)
		k->max_len = b->len;
	b->len = 0;
}

static void
test_buf_flush(void **state)
{
	struct buf b, want;
	struct sink k = { .calls = 0 };

	(void)state;
	buf_init(&k.got);
	buf_init(&want);
	buf_init(&b);
	b.flush = sink_flush;
	b.flush_arg = &k;
	b.flush_at = 4096;
	for (int i = 0; i < 50000; i++) {
		buf_printf(&b, "line %d\n", i);
		buf_printf(&want, "line %d\n", i);
	}
	buf_append(&b, "tail", 4);
	buf_append(&want, "tail", 4);
	/* the consumer drains what is left */
	sink_flush(&b, &k);
	assert_int_equal(k.got.len, want.len);
	assert_memory_equal(k.got.data, want.data, want.len);
	assert_true(k.calls > 50);
	assert_true(k.max_len <= 4096);
	assert_true(b.cap <= 8192);     /* it never grew past the piece size */
	buf_free(&b);
	buf_free(&k.got);
	buf_free(&want);
}

struct item {
	struct heap_node node;
	int id;
};

static void
test_heap(void **state)
{
	enum { N = 2000 };
	struct item *items = calloc(N, sizeof(*items));
	struct heap h;
	uint64_t last = 0;
	size_t count = 0;

	(void)state;
	heap_init(&h);
	srand(42);
	for (int i = 0; i < N; i++) {
		heap_node_init(&items[i].node);
		items[i].id = i;
		heap_set(&h, &items[i].node, (uint64_t)(rand() % 10000));
	}
	/* Move some, remove some: the order must still hold. */
	for (int i = 0; i < N; i += 3)
		heap_set(&h, &items[i].node, (uint64_t)(rand() % 10000));
	for (int i = 1; i < N; i += 7)
		heap_remove(&h, &items[i].node);
	heap_remove(&h, &items[1].node);      /* twice: a no-op */
	assert_false(heap_contains(&items[1].node));
	for (struct heap_node *n; (n = heap_pop(&h)) != NULL; count++) {
		assert_true(n->key >= last);
		assert_false(heap_contains(n));
		last = n->key;
	}
	assert_int_equal(count, N - (N + 5) / 7);
	assert_null(heap_top(&h));
	heap_fini(&h);
	free(items);
}

static struct loop *test_loop;

struct tagged {
	struct loop_timer t;
	int tag;
};

static int order[4];
static int norder;

static void
tagged_cb(struct loop_timer *t)
{
	struct tagged *x = (struct tagged *)t;

	order[norder++] = x->tag;
	if (norder == 3)
		loop_stop(test_loop);
}

static void
test_loop_timers(void **state)
{
	struct tagged a = { .tag = 1 }, b = { .tag = 2 }, c = { .tag = 3 }, d = { .tag = 4 };
	uint64_t start = mono_ms();

	(void)state;
	test_loop = loop_new();
	assert_non_null(test_loop);
	loop_timer_init(&a.t, tagged_cb);
	loop_timer_init(&b.t, tagged_cb);
	loop_timer_init(&c.t, tagged_cb);
	loop_timer_init(&d.t, tagged_cb);
	loop_timer_at(test_loop, &a.t, start + 60);
	loop_timer_at(test_loop, &b.t, start + 20);
	loop_timer_at(test_loop, &c.t, start + 40);
	loop_timer_at(test_loop, &d.t, start + 30);
	loop_timer_cancel(test_loop, &d.t);     /* a cancelled timer never fires */
	assert_int_equal(loop_run(test_loop), 0);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 1);
	assert_true(mono_ms() - start >= 60);
	loop_free(test_loop);
}

struct pipe_watch {
	struct loop_watch w;
	int reads;
	struct loop_watch *victim;
};

static void
pipe_cb(struct loop_watch *w, uint32_t events)
{
	struct pipe_watch *pw = (struct pipe_watch *)w;
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(w->fd, &c, 1), 1);
	pw->reads++;
	/* Deleting another watch whose event is already fetched this round
	 * must keep it from being delivered. */
	if (pw->victim) {
		loop_watch_del(test_loop, pw->victim);
		pw->victim = NULL;
	}
	loop_stop(test_loop);
}

static void
test_loop_watch_del_in_round(void **state)
{
	int p1[2], p2[2];
	struct pipe_watch a = { 0 }, b = { 0 };

	(void)state;
	test_loop = loop_new();
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	a.w.fd = p1[0];
	a.w.cb = pipe_cb;
	b.w.fd = p2[0];
	b.w.cb = pipe_cb;
	a.victim = &b.w;
	b.victim = &a.w;
	assert_int_equal(loop_watch_add(test_loop, &a.w, EPOLLIN), 0);
	assert_int_equal(loop_watch_add(test_loop, &b.w, EPOLLIN), 0);
	assert_int_equal(write(p1[1], "x", 1), 1);
	assert_int_equal(write(p2[1], "y", 1), 1);
	assert_int_equal(loop_run_once(test_loop, 1000), 0);
	/* Exactly one of the two ran; it removed the other before delivery. */
	assert_int_equal(a.reads + b.reads, 1);
	loop_free(test_loop);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
}

/* Words are kept once; words read from files are bounded, and never keep
 * the program's own words out. */
static void
test_str_intern(void **state)
{
	char w[STR_INTERN_MAX_LEN + 2];
	const char *a, *own;

	(void)state;
	a = str_intern("TLS1.3");
	assert_string_equal(a, "TLS1.3");
	assert_ptr_equal(str_intern("TLS1.3"), a);
	assert_ptr_equal(str_intern_read("TLS1.3"), a);
	memset(w, 'x', sizeof(w) - 1);
	w[sizeof(w) - 1] = '\0';
	assert_null(str_intern_read(w));          /* too long to be a word */
	for (int i = 0; i < STR_INTERN_MAX; i++) {
		snprintf(w, sizeof(w), "damaged-%d", i);
		assert_non_null(str_intern_read(w));
	}
	assert_null(str_intern_read("one-too-many"));
	assert_ptr_equal(str_intern_read("damaged-7"), str_intern_read("damaged-7"));
	assert_ptr_equal(str_intern_read("TLS1.3"), a);   /* known words still found */
	own = str_intern("TLS_AES_128_GCM_SHA256");
	assert_non_null(own);
	assert_string_equal(own, "TLS_AES_128_GCM_SHA256");
}

/* share.c: equal objects are one, counted; a duplicate is freed at once,
 * the shared one with its last reference; a text in a key is told apart
 * from NULL and from a longer text. */
struct sh {
	struct share_head head;
	int value;
	const char *word;
};

static int sh_freed;

static void
sh_key(const void *p, struct buf *out)
{
	const struct sh *o = p;

	SHARE_KEY(out, o->value);
	share_key_str(out, o->word);
}

static void
sh_free(void *p)
{
	sh_freed++;
	free(p);
}

static struct sh *
sh_new(int value, const char *word)
{
	struct sh *o = xcalloc(1, sizeof(*o));

	o->value = value;
	o->word = word;
	return o;
}

static void
test_share(void **state)
{
	static struct share_table t = SHARE_TABLE(sh_key, sh_free);
	struct sh *a, *b, *c, *d, *e, *many[600];

	(void)state;
	assert_null(share_get(&t, NULL));
	a = share_get(&t, sh_new(1, "x"));
	b = share_get(&t, sh_new(1, "x"));
	assert_ptr_equal(a, b);
	assert_int_equal(sh_freed, 1);          /* the duplicate */
	c = share_get(&t, sh_new(2, "x"));
	d = share_get(&t, sh_new(1, NULL));
	e = share_get(&t, sh_new(1, "xy"));
	assert_true(c != a && d != a && e != a && d != e);
	assert_int_equal(share_count(&t), 4);
	assert_ptr_equal(share_ref(a), a);
	share_put(&t, a);
	share_put(&t, b);
	assert_int_equal(share_count(&t), 4);   /* one reference left */
	assert_int_equal(sh_freed, 1);
	share_put(&t, a);
	assert_int_equal(share_count(&t), 3);
	assert_int_equal(sh_freed, 2);
	share_put(&t, c);
	share_put(&t, d);
	share_put(&t, e);
	share_put(&t, NULL);
	assert_int_equal(share_count(&t), 0);
	assert_int_equal(sh_freed, 5);
	/* past the first table's size: it grows, and every one is found again */
	for (int i = 0; i < 600; i++)
		many[i] = share_get(&t, sh_new(i, "n"));
	assert_int_equal(share_count(&t), 600);
	for (int i = 0; i < 600; i++) {
		assert_ptr_equal(share_get(&t, sh_new(i, "n")), many[i]);
		share_put(&t, many[i]);
		share_put(&t, many[i]);
	}
	assert_int_equal(share_count(&t), 0);
	assert_int_equal(sh_freed, 5 + 1200);
}

/* Only a regular file is read: a FIFO (whose open would wait for a
 * writer for ever, in the store's thread or at a config load) and a device
 * are refused at once, a directory too; a symbolic link is not followed;
 * more than max bytes is EFBIG. */
static void
test_file_read_bounded(void **state)
{
	char dir[] = "/tmp/test_util.XXXXXX", path[64];
	size_t len = 0;
	char *text;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/plain", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("twelve bytes", f);
	fclose(f);
	assert_non_null(text = file_read_bounded(path, 12, &len));
	assert_int_equal(len, 12);
	assert_string_equal(text, "twelve bytes");
	free(text);
	errno = 0;
	assert_null(file_read_bounded(path, 11, &len));
	assert_int_equal(errno, EFBIG);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	errno = 0;
	assert_null(file_read_bounded(path, 1024, &len));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(file_strerror(errno), "not a regular file");
	assert_int_equal(unlink(path), 0);

	errno = 0;
	assert_null(file_read_bounded("/dev/zero", 1024, &len));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(file_read_bounded(dir, 1024, &len));
	assert_int_equal(errno, EISDIR);

	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("plain", path), 0);
	errno = 0;
	assert_null(file_read_bounded(path, 1024, &len));
	assert_int_equal(errno, ELOOP);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/plain", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_time_range),
		cmocka_unit_test(test_hash_and_hex),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_buf_flush),
		cmocka_unit_test(test_str_intern),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_file_read_bounded),
		cmocka_unit_test(test_heap),
		cmocka_unit_test(test_loop_timers),
		cmocka_unit_test(test_loop_watch_del_in_round),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
