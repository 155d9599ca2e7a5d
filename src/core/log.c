/* log.c - one line per event on stderr, control characters escaped. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static const char *log_progname = "tlswatch";
static int log_verbosity;

void
log_init(const char *progname, int verbose)
{
	log_progname = progname;
	log_verbosity = verbose;
}

int
log_verbose(void)
{
	return log_verbosity;
}

/* Format, escape and write one line with a single write so that concurrent
 * writers (and journald) never see half a line. */
static void log_emit(const char *, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_emit(const char *level, const char *suffix, const char *fmt, va_list ap)
{
	char raw[2048];
	char line[4 * sizeof(raw) + 128];
	size_t o = 0;
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		return;
	o = (size_t)snprintf(line, sizeof(line), "%s: %s", log_progname, level);
	for (const unsigned char *p = (const unsigned char *)raw; *p && o < sizeof(line) - 8; p++) {
		if (*p == '\n') {
			line[o++] = '\\';
			line[o++] = 'n';
		} else if (*p == '\t' || *p >= 0x20) {
			line[o++] = (char)(*p == 0x7f ? '?' : *p);
		} else {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", *p);
		}
	}
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
	log_emit("", strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("", NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("", NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 1)
		return;
	va_start(ap, fmt);
	log_emit("debug: ", NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit("fatal: ", strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit("fatal: ", NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
