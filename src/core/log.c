/* log.c - one line per event on stderr, control characters escaped; with
 * syslog priority prefixes when stderr is the journal. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static const char *log_progname = "tlswatch";
static int log_verbosity;

/* JOURNAL_STREAM's device and inode, when it has them */
static int journal_known;
static unsigned long long journal_dev, journal_ino;

/* One decimal number, digits only (strtoull alone takes signs and spaces). */
static int
parse_decimal(const char *s, const char **end, unsigned long long *v)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno != 0)
		return -1;
	*end = e;
	return 0;
}

void
log_init(const char *progname, int verbose)
{
	const char *v = getenv("JOURNAL_STREAM"), *p;

	log_progname = progname;
	log_verbosity = verbose;
	/* "DEVICE:INODE" in decimal, as systemd.exec(5) documents */
	journal_known = v != NULL && parse_decimal(v, &p, &journal_dev) == 0 && *p == ':' &&
	    parse_decimal(p + 1, &p, &journal_ino) == 0 && *p == '\0';
}

int
log_verbose(void)
{
	return log_verbosity;
}

/* stderr is the journal's stream itself, not a redirection that inherited
 * JOURNAL_STREAM (sd_journal_stream_fd(3), systemd.exec(5)). Asked at every
 * line: one fstat, and a test or a tool may move stderr after log_init. */
static int
log_to_journal(void)
{
	struct stat st;

	return journal_known && fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == journal_dev &&
	    (unsigned long long)st.st_ino == journal_ino;
}

/* Format, escape and write one line with a single write so that concurrent
 * writers (and journald) never see half a line. The journal gets "<N>"
 * (sd-daemon(3)) and adds the program's name itself. */
static void log_emit(int, const char *, const char *, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static void
log_emit(int prio, const char *level, const char *suffix, const char *fmt, va_list ap)
{
	char raw[2048];
	char line[4 * sizeof(raw) + 128];
	size_t o = 0, used;
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		return;
	if (log_to_journal())
		o = (size_t)snprintf(line, sizeof(line), "<%d>%s", prio, level);
	else
		o = (size_t)snprintf(line, sizeof(line), "%s: %s", log_progname, level);
	for (const unsigned char *p = (const unsigned char *)raw;
	    *p && o + TERM_ESCAPE_MAX < sizeof(line) - 8; p += used)
		o += term_escape_char(p, line + o, &used);
	if ((size_t)n >= sizeof(raw) && o < sizeof(line) - 8) {
		memcpy(line + o, "...", 3);
		o += 3;
	}
	if (suffix) {
		n = snprintf(line + o, sizeof(line) - o - 1, ": %s", suffix);
		if (n > 0)
			o += (size_t)n < sizeof(line) - o - 1 ? (size_t)n : sizeof(line) - o - 2;
	}
	line[o++] = '\n';
	fwrite(line, 1, o, stderr);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "", strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "", NULL, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_NOTICE, "", NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 1)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "debug: ", NULL, fmt, ap);
	va_end(ap);
}

void
log_lines(int error, const char *text)
{
	int journal = log_to_journal();
	const char *p = text, *nl;
	struct buf b;

	buf_init(&b);
	while (p && *p) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (journal)
			buf_printf(&b, "<%d>", error ? LOG_ERR : LOG_WARNING);
		/* escaped by whoever made them; term_escape leaves that as it is
		 * and catches anything that was not */
		{
			char *line = xstrndup(p, len);

			term_escape(&b, line);
			free(line);
		}
		buf_putc(&b, '\n');
		p = nl ? nl + 1 : NULL;
	}
	if (b.len) {
		fwrite(b.data, 1, b.len, stderr);
		fflush(stderr);
	}
	buf_free(&b);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "fatal: ", strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "fatal: ", NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
