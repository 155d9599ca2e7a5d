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

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[256];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", path, e->d_name);
		rm_rf(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
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
	rm_rf(dir);
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
	assert_non_null(text = slurp(path));
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
	assert_non_null(text = slurp(path));
	assert_string_equal(text, "three");
	free(text);
	assert_non_null(text = slurp(other));
	assert_string_equal(text, "cert");
	free(text);
	writer_free(w);
	free(path);
	free(other);
}

/* Count the lines of the captured log that hold needle. */
static size_t
count_in(const char *path, const char *needle)
{
	char *text = slurp(path);
	size_t n = 0;

	for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
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
	char *log = xasprintf("%s/log", dir), *blocked = xasprintf("%s/x.state", dir);
	struct writer *w;
	struct heard h = { { 0 }, { 0 }, 0 };
	struct tag t = { &h, 1 };
	int saved = dup(2), fd;

	(void)state;
	assert_int_equal(mkdir(blocked, 0755), 0);
	assert_true((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
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
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_int_equal(count_in(log, "cannot rename"), 1);
	assert_int_equal(count_in(log, "cannot create /proc/tlswatch-test"), 1);
	assert_int_equal(count_in(log, "state_dir test: writing works again"), 1);
	rmdir(blocked);
	free(blocked);
	free(log);
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
		char *path = xasprintf("%s/f%d", dir, i), *text = slurp(path);
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
