/* util.h - memory, strings, clocks and growable buffers shared by every module. */
#ifndef TLSWATCH_UTIL_H
#define TLSWATCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The struct of type that holds member at ptr. */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Allocation never fails for callers: out of memory ends the process here. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic clock in milliseconds; for deadlines and schedules. */
uint64_t mono_ms(void);
/* Monotonic clock in microseconds; for measuring durations. */
uint64_t mono_us(void);
/* Wall clock in seconds since the epoch, with sub-second precision. */
double wall_now(void);

/* The longest duration accepted anywhere: 100 years, far beyond any
 * interval or threshold, and far below where milliseconds overflow. */
#define DURATION_MAX_MS ((uint64_t)100 * 366 * 86400 * 1000)

/* Parse a duration: a bare number of seconds ("90") or a sum of terms with
 * units ms, s, m, h, d ("500ms", "90s", "5m", "1h30m"). Stores milliseconds.
 * Returns 0, or -1 when the text is not a duration, not above zero, or
 * longer than DURATION_MAX_MS. */
int parse_duration_ms(const char *s, uint64_t *ms);
/* ms as parse_duration_ms reads it back, largest units first ("1d1h");
 * "" for 0. */
void format_duration(char *out, size_t size, uint64_t ms);

/* The largest size accepted anywhere: 1 TiB, far beyond any cap we set. */
#define SIZE_MAX_BYTES ((uint64_t)1 << 40)

/* Parse a size: a bare number of bytes ("65536") or a number with one unit,
 * B, KB, MB, GB, TB (powers of 1024, as Prometheus's size settings count)
 * or KiB, MiB, GiB, TiB ("64MB", "512KiB"). Stores bytes. Returns 0, or -1
 * when the text is not a size, is zero, or exceeds SIZE_MAX_BYTES. */
int parse_size_bytes(const char *s, uint64_t *bytes);

/* Length of the well-formed UTF-8 sequence at p (2 to 4; p[0] >= 0x80), or
 * minus the length of its maximal invalid subpart, to be replaced by one
 * U+FFFD as Unicode recommends. Overlongs, surrogates and code points above
 * U+10FFFF are invalid; a NUL ends any sequence, so it never reads past a
 * C string. */
int utf8_seq(const unsigned char *p);

/* The range of times the daemon accepts from outside (state files,
 * certificates): 0001-01-01 to 9999-12-31T23:59:59Z, the last second X.509
 * can express. Anything beyond is damage, and casting it to time_t later
 * would be undefined. */
#define TIME_MIN_EPOCH (-62135596800LL)
#define TIME_MAX_EPOCH 253402300799LL
/* Whether t lies in that range. */
int time_epoch_ok(int64_t t);
/* t when it lies in that range, else 0 (unknown): for times GnuTLS reports
 * from certificates, which come from the peer. */
int64_t time_epoch_or_zero(int64_t t);

/* Days from 1970-01-01 to the (proleptic Gregorian) date y-m-d, for
 * parsers of dates written as text (X.509 times, RFC 3339). */
int64_t days_from_civil(int64_t y, int m, int d);

/* "2026-11-22 10:16:32 UTC", or "-" for t <= 0 and for times out of range:
 * for people (the tool, the status page). */
void fmt_utc(char *out, size_t size, double t);
/* "2026-11-22T10:16:32Z", or the number itself when out of range: for log
 * lines, which machines read too. Both come from one formatter. */
void fmt_utc_iso(char *out, size_t size, int64_t t);

/* 64-bit FNV-1a: stable across versions and machines (used for spreading). */
uint64_t hash64(const void *data, size_t len);

/* The value of hex digit c (either case), or -1. */
int hex_value(int c);

/* What a peer sent, for a message: the first size - 1 bytes of s[0..len)
 * with control characters as '?', NUL-terminated in tmp (size > 0);
 * returns tmp. */
const char *peer_text(const void *s, size_t len, char *tmp, size_t size);
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* Words from small sets (a TLS version, a suite, a group, a failure's
 * stage), kept once for the process's life and shared by every result
 * that names them: the one copy of s. Any thread.
 * str_intern is for words of the program's own or GnuTLS's tables, a set
 * bounded by construction. str_intern_read is for words read from a file:
 * NULL when s is longer than STR_INTERN_MAX_LEN, or when it is new and
 * STR_INTERN_MAX words read so far were new (only a damaged state
 * directory holds that many), so that no file fills memory, nor keeps the
 * program's own words out. */
#define STR_INTERN_MAX 4096
#define STR_INTERN_MAX_LEN 255
const char *str_intern(const char *s);
const char *str_intern_read(const char *s);

/* A Prometheus-style histogram: counts per upper bound (not cumulative),
 * the last slot for values above every bound. */
struct histogram {
	const double *bounds;   /* ascending */
	size_t nbounds;
	uint64_t *counts;       /* nbounds + 1 */
	double sum;
	uint64_t count;
};
void histogram_init(struct histogram *h, const double *bounds, size_t nbounds);
void histogram_fini(struct histogram *h);
void histogram_observe(struct histogram *h, double v);

/* A growable byte buffer, always NUL-terminated after the first append.
 * With a flush hook, a buffer about to grow past flush_at first hands its
 * contents to flush (which must empty it: len = 0), so output can stream
 * to a consumer (a compressor) without ever being whole in memory. A
 * flush that finds its consumer gone sets cut: what is written after it
 * is not wanted, and a long writer may stop early. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	void (*flush)(struct buf *b, void *arg);
	void *flush_arg;
	size_t flush_at;
	int cut;
};
void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hand the data to the caller (who frees it) and reset the buffer. */
char *buf_steal(struct buf *b);

/* Text for a terminal: ASCII and C1 control characters and bytes that are
 * not UTF-8 as \xNN (a newline as \n), the rest as it is; NULL as "-". */
void term_escape(struct buf *b, const char *s);
/* The same rule for the character at p (not NUL), into out (at least
 * TERM_ESCAPE_MAX bytes, not terminated): returns the length written and
 * sets *used to the bytes of p it took. */
#define TERM_ESCAPE_MAX 16
size_t term_escape_char(const unsigned char *p, char *out, size_t *used);

#endif
