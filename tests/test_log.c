/* test_log.c - log lines: the journal's priority prefixes only when stderr
 * is the stream JOURNAL_STREAM names, plain lines otherwise, and the same
 * escaping as term_escape (C0, DEL, C1 controls, bytes that are not UTF-8). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"

/* A temporary file, unlinked at once: its device and inode name it. */
static int
tmpfile_fd(void)
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* Set JOURNAL_STREAM from a template where D stands for fd's device and I
 * for its inode, in decimal ("D:I" is the right spelling). */
static void
journal_stream_of(int fd, const char *tmpl)
{
	struct stat st;
	char v[128];
	size_t o = 0;

	assert_int_equal(fstat(fd, &st), 0);
	for (const char *p = tmpl; *p && o < sizeof(v) - 24; p++) {
		if (*p == 'D' || *p == 'I')
			o += (size_t)snprintf(v + o, sizeof(v) - o, "%llu", *p == 'D' ?
			    (unsigned long long)st.st_dev : (unsigned long long)st.st_ino);
		else
			v[o++] = *p;
	}
	v[o] = '\0';
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static int saved_stderr = -1;

/* Point stderr at fd until stop_capture, which returns what was written. */
static void
start_capture(int fd)
{
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
	assert_true(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
}

static char *
read_all(int fd)
{
	struct stat st;
	char *s;

	assert_int_equal(fstat(fd, &st), 0);
	s = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, s, (size_t)st.st_size, 0), st.st_size);
	s[st.st_size] = '\0';
	return s;
}

static char *
stop_capture(int fd)
{
	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) == STDERR_FILENO);
	close(saved_stderr);
	return read_all(fd);
}

static void
log_every_level(void)
{
	log_warnx("warn %d", 1);
	errno = ENOENT;
	log_warn("open %s", "x");
	log_notice("notice");
	log_info("info");
	log_debug("debug");
}

static void
test_plain_without_journal(void **state)
{
	int fd = tmpfile_fd();
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("tlswatchd", 1);
	start_capture(fd);
	log_every_level();
	out = stop_capture(fd);
	assert_string_equal(out, "tlswatchd: warn 1\n"
	    "tlswatchd: open x: No such file or directory\n"
	    "tlswatchd: notice\n"
	    "tlswatchd: info\n"
	    "tlswatchd: debug: debug\n");
	free(out);
	close(fd);
}

static void
test_prefixes_on_the_journal(void **state)
{
	int fd = tmpfile_fd();
	char *out;

	(void)state;
	journal_stream_of(fd, "D:I");
	log_init("tlswatchd", 1);
	start_capture(fd);
	log_every_level();
	out = stop_capture(fd);
	/* sd-daemon(3): <4> warning, <5> notice, <6> info, <7> debug; the
	 * journal names the program itself */
	assert_string_equal(out, "<4>warn 1\n"
	    "<4>open x: No such file or directory\n"
	    "<5>notice\n"
	    "<6>info\n"
	    "<7>debug: debug\n");
	free(out);
	close(fd);
	unsetenv("JOURNAL_STREAM");
}

/* Lines made elsewhere (configuration errors): as they are, one each, an
 * error or a warning prefix on the journal and no program name anywhere;
 * a control character that slipped through is escaped. */
static void
test_lines(void **state)
{
	static const char text[] = "a.conf:3: x: bad\nb.conf:4: y: \x1b[31m\n";
	int fd = tmpfile_fd();
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("tlswatchd", 0);
	start_capture(fd);
	log_lines(1, text);
	log_lines(0, "c.conf:1: listen: in use");
	out = stop_capture(fd);
	assert_string_equal(out, "a.conf:3: x: bad\nb.conf:4: y: \\x1b[31m\n"
	    "c.conf:1: listen: in use\n");
	free(out);
	journal_stream_of(fd, "D:I");
	log_init("tlswatchd", 0);
	start_capture(fd);
	log_lines(1, text);
	log_lines(0, "c.conf:1: listen: in use");
	out = stop_capture(fd);
	assert_string_equal(out, "<3>a.conf:3: x: bad\n<3>b.conf:4: y: \\x1b[31m\n"
	    "<4>c.conf:1: listen: in use\n");
	free(out);
	close(fd);
	unsetenv("JOURNAL_STREAM");
}

/* A process whose stderr was redirected keeps the variable it inherited:
 * the line must stay plain on the other stream. */
static void
test_plain_on_another_stream(void **state)
{
	int journal = tmpfile_fd(), other = tmpfile_fd();
	char *out;

	(void)state;
	journal_stream_of(journal, "D:I");
	log_init("tlswatch", 0);
	start_capture(other);
	log_warnx("redirected");
	out = stop_capture(other);
	assert_string_equal(out, "tlswatch: redirected\n");
	free(out);
	/* the same process, its stderr back on the journal's stream */
	start_capture(journal);
	log_warnx("back");
	out = stop_capture(journal);
	assert_string_equal(out, "<4>back\n");
	free(out);
	close(journal);
	close(other);
	unsetenv("JOURNAL_STREAM");
}

static void
test_malformed_journal_stream(void **state)
{
	static const char *const bad[] = {
		" D:I", "+D:I", "D:I ", "D;I", "D:I:1", "D:+I", "D:", ":DI", "DI", "0xD:I",
		"D:-I", "",
	};
	int fd = tmpfile_fd();
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		journal_stream_of(fd, bad[i]);
		log_init("tlswatch", 0);
		start_capture(fd);
		log_warnx("%zu", i);
		out = stop_capture(fd);
		char want[64];
		snprintf(want, sizeof(want), "tlswatch: %zu\n", i);
		if (strcmp(out, want) != 0)
			fail_msg("JOURNAL_STREAM=\"%s\": got \"%s\"", getenv("JOURNAL_STREAM"), out);
		free(out);
	}
	close(fd);
	unsetenv("JOURNAL_STREAM");
}

static void
test_fatal_is_err(void **state)
{
	int fd = tmpfile_fd(), status;
	pid_t pid;
	char *out;

	(void)state;
	journal_stream_of(fd, "D:I");
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDERR_FILENO);
		log_init("tlswatchd", 0);
		fatalx("cannot %s", "start");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	out = read_all(fd);
	assert_string_equal(out, "<3>fatal: cannot start\n");
	free(out);
	close(fd);
	unsetenv("JOURNAL_STREAM");
}

/* The body of a log line is term_escape's text of the message. */
static void
test_escaping(void **state)
{
	static const char *const in[] = {
		"a\nb\tc\177d",
		"C1 \xc2\x85 NEL, \xc2\x9b CSI, \xc2\x80 and \xc2\x9f",
		"kept: \xc2\xa0 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
		"not UTF-8: \xff \xc0\xaf \xed\xa0\x80 \xe2\x82 end",
		"\x1b[31mred\x1b[0m",
	};
	int fd = tmpfile_fd();
	char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("t", 0);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct buf want;

		buf_init(&want);
		buf_puts(&want, "t: ");
		term_escape(&want, in[i]);
		buf_putc(&want, '\n');
		start_capture(fd);
		log_warnx("%s", in[i]);
		out = stop_capture(fd);
		assert_string_equal(out, want.data);
		free(out);
		buf_free(&want);
	}
	/* and what term_escape (so the log) makes of them, spelled out */
	start_capture(fd);
	log_warnx("%s", in[0]);
	log_warnx("%s", in[1]);
	log_warnx("%s", in[2]);
	log_warnx("%s", in[3]);
	out = stop_capture(fd);
	assert_string_equal(out,
	    "t: a\\nb\\x09c\\x7fd\n"
	    "t: C1 \\xc2\\x85 NEL, \\xc2\\x9b CSI, \\xc2\\x80 and \\xc2\\x9f\n"
	    "t: kept: \xc2\xa0 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\n"
	    "t: not UTF-8: \\xff \\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82 end\n");
	free(out);
	close(fd);
}

static void
test_long_line(void **state)
{
	char in[3000], *out;
	int fd = tmpfile_fd();

	(void)state;
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	/* four bytes of escape each: the line still ends in one newline */
	char ctl[3000];
	memset(ctl, '\x01', sizeof(ctl) - 1);
	ctl[sizeof(ctl) - 1] = '\0';
	unsetenv("JOURNAL_STREAM");
	log_init("t", 0);
	start_capture(fd);
	log_warnx("%s", in);
	out = stop_capture(fd);
	assert_int_equal(strlen(out), 3 + 2047 + 3 + 1);
	assert_memory_equal(out + 3 + 2047, "...\n", 4);
	free(out);
	start_capture(fd);
	log_warn("%s", ctl);
	out = stop_capture(fd);
	assert_int_equal(strlen(out), 3 + 4 * 2047 + 3 + strlen(": ") + strlen(strerror(errno)) + 1);
	assert_true(strchr(out, '\n') == out + strlen(out) - 1);
	free(out);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_without_journal),
		cmocka_unit_test(test_prefixes_on_the_journal),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_plain_on_another_stream),
		cmocka_unit_test(test_malformed_journal_stream),
		cmocka_unit_test(test_fatal_is_err),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
