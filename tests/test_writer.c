/* test_writer.c - atomic writes off the loop (state/writer.c): the file is
 * whole or absent, writes keep their order, a file in flight keeps only its
 * newest content, failures are counted and logged once while they last,
 * and freeing drains. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "state/writer.h"
#include "testlib.h"

static char dir[256];
static struct loop *loop;

/* The outcomes heard, in order. */
struct heard {
	int order[16];
	enum writer_status status[16];
	size_t n;
};

struct tag {
	struct heard *h;
	int id;
};

static void
done(void *arg, enum writer_status st)
{
	struct tag *t = arg;

	assert_true(t->h->n < 16);
	t->h->order[t->h->n] = t->id;
	t->h->status[t->h->n] = st;
	t->h->n++;
}

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_writer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	tl_rm_rf(dir);
	return 0;
}

static struct writer *
new_writer(void)
{
	char *err = NULL;
	struct writer *w = writer_new(loop, "state_dir test", &err);

	assert_non_null(w);
	return w;
}

/* A missing directory (and its parents) is made; no temporary is left. */
static void
test_write(void **state)
{
	struct writer *w = new_writer();
	struct heard h = { { 0 }, { 0 }, 0 };
	struct tag t = { &h, 1 };
	char *sub = xasprintf("%s/a/b", dir), *path = xasprintf("%s/a/b/f.state", dir);
	char *tmp = xasprintf("%s/a/b/.f.state.tmp", dir), *text;
	struct stat sb;

	(void)state;
	writer_put(w, sub, "f.state", xstrdup("hello\n"), 6, done, &t);
	assert_int_equal(writer_pending(w), 1);
	writer_drain(w);
	assert_int_equal(writer_pending(w), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.status[0], WRITER_OK);
	assert_non_null(text = tl_slurp(path));
	assert_string_equal(text, "hello\n");
	free(text);
	assert_int_equal(stat(tmp, &sb), -1);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	assert_int_equal(writer_errors(w), 0);
	writer_free(w);
	free(sub);
	free(path);
	free(tmp);
}

/* Three contents for one file while the first is in flight: the first is
 * written, the second superseded, the third written; other files keep
 * their place in the order. */
static void
test_newest_wins(void **state)
{
	struct writer *w = new_writer();
	struct heard h = { { 0 }, { 0 }, 0 };
	struct tag t[4] = { { &h, 1 }, { &h, 2 }, { &h, 3 }, { &h, 4 } };
	char *path = xasprintf("%s/t.state", dir), *other = xasprintf("%s/c.pem", dir), *text;

	(void)state;
	writer_put(w, dir, "t.state", xstrdup("one"), 3, done, &t[0]);
	writer_put(w, dir, "c.pem", xstrdup("cert"), 4, done, &t[3]);
	writer_put(w, dir, "t.state", xstrdup("two"), 3, done, &t[1]);
	writer_put(w, dir, "t.state", xstrdup("three"), 5, done, &t[2]);
	/* the second is superseded at once, on the loop thread */
	assert_int_equal(h.n, 1);
	assert_int_equal(h.order[0], 2);
	assert_int_equal(h.status[0], WRITER_SUPERSEDED);
	writer_drain(w);
	assert_int_equal(h.n, 4);
	/* queued in that order: the first, the certificate, then the newest */
	assert_int_equal(h.order[1], 1);
	assert_int_equal(h.order[2], 4);
	assert_int_equal(h.order[3], 3);
	for (size_t i = 1; i < 4; i++)
		assert_int_equal(h.status[i], WRITER_OK);
	assert_non_null(text = tl_slurp(path));
	assert_string_equal(text, "three");
	free(text);
	assert_non_null(text = tl_slurp(other));
	assert_string_equal(text, "cert");
	free(text);
	writer_free(w);
	free(path);
	free(other);
}

/*
 * A file that cannot be written (a directory where its name is) fails each
 * time: counted every time, logged once; a directory that cannot be made
 * (under /proc) fails for the whole writer, logged once, and the next
 * success says writing works again.
 */
static void
test_failures(void **state)
{
	char *log, *blocked = xasprintf("%s/x.state", dir);
	struct writer *w;
	struct heard h = { { 0 }, { 0 }, 0 };
	struct tag t = { &h, 1 };

	(void)state;
	assert_int_equal(mkdir(blocked, 0755), 0);
	tl_log_start();
	w = new_writer();
	for (int i = 0; i < 3; i++) {
		writer_put(w, dir, "x.state", xstrdup("x"), 1, done, &t);
		writer_drain(w);
	}
	assert_int_equal(writer_errors(w), 3);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.status[2], WRITER_FAILED);
	for (int i = 0; i < 2; i++) {
		writer_put(w, "/proc/tlswatch-test/no", "y.state", xstrdup("y"), 1, done, &t);
		writer_drain(w);
	}
	assert_int_equal(writer_errors(w), 5);
	writer_put(w, dir, "ok.state", xstrdup("ok"), 2, done, &t);
	writer_drain(w);
	assert_int_equal(h.status[h.n - 1], WRITER_OK);
	writer_free(w);
	log = tl_log_stop();
	assert_int_equal(tl_count(log, "cannot rename"), 1);
	assert_int_equal(tl_count(log, "cannot create /proc/tlswatch-test"), 1);
	assert_int_equal(tl_count(log, "state_dir test: writing works again"), 1);
	rmdir(blocked);
	free(blocked);
	free(log);
}

/* What would pass the bound on queued bytes is refused, not queued. */
static void
test_bound(void **state)
{
	struct writer *w = new_writer();
	struct heard h = { { 0 }, { 0 }, 0 };
	struct tag t = { &h, 1 };
	char *big = xmalloc(WRITER_MAX_QUEUED + 1), *path = xasprintf("%s/big", dir);

	(void)state;
	memset(big, 'x', WRITER_MAX_QUEUED + 1);
	assert_int_equal(writer_put(w, dir, "big", big, WRITER_MAX_QUEUED + 1, done, &t), -1);
	assert_int_equal(writer_pending(w), 0);
	assert_int_equal(writer_queued_bytes(w), 0);
	assert_int_equal(writer_put(w, dir, "small", xstrdup("s"), 1, done, &t), 0);
	assert_int_equal(writer_queued_bytes(w), 1);
	writer_drain(w);
	assert_int_equal(writer_queued_bytes(w), 0);
	assert_int_equal(h.n, 1);     /* the refused one is not heard of */
	assert_null(tl_slurp(path));
	writer_free(w);
	free(path);
}

/* Freeing waits for everything queued. */
static void
test_free_drains(void **state)
{
	struct writer *w = new_writer();

	(void)state;
	for (int i = 0; i < 50; i++) {
		char *name = xasprintf("f%d", i);

		writer_put(w, dir, name, xasprintf("%d", i), strlen(name) - 1, NULL, NULL);
		free(name);
	}
	writer_free(w);
	for (int i = 0; i < 50; i++) {
		char *path = xasprintf("%s/f%d", dir, i), *text = tl_slurp(path);
		char want[8];

		snprintf(want, sizeof(want), "%d", i);
		assert_non_null(text);
		assert_string_equal(text, want);
		free(text);
		free(path);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_drains, setup, teardown),
	};
	int rc;

	log_init("test_writer", 0);
	if ((loop = loop_new()) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	loop_free(loop);
	return rc;
}
