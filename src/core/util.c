/* util.c - memory, strings, clocks and growable buffers. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

/* The one place an allocation failure is handled: the process ends. */
static void *
oom(size_t n)
{
	fatalx("out of memory allocating %zu bytes", n);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	return p ? p : oom(nmemb * size);
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		fatalx("allocation overflow: %zu * %zu", nmemb, size);
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_steal(&b);
}

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Largest units first, each once: 90061000 ms is "1d1h1m1s". */
void
format_duration(char *out, size_t size, uint64_t ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(units) && len < size; i++) {
		if (ms >= units[i].ms) {
			int n = snprintf(out + len, size - len, "%llu%s",
			    (unsigned long long)(ms / units[i].ms), units[i].unit);
			if (n < 0)
				break;
			len += (size_t)n;
			ms %= units[i].ms;
		}
	}
}

int
parse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;
	int terms = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p) {
		uint64_t n = 0, unit;
		int digits = 0;

		while (isdigit((unsigned char)*p)) {
			if (n > DURATION_MAX_MS)
				return -1;      /* no unit makes this short enough */
			n = n * 10 + (uint64_t)(*p - '0');
			p++;
			digits++;
		}
		if (!digits)
			return -1;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			unit = 86400 * 1000;
			p++;
		} else if (*p == '\0' && terms == 0) {
			unit = 1000;    /* a bare number is seconds */
		} else {
			return -1;
		}
		/* each step is checked before it can wrap */
		if (n > DURATION_MAX_MS / unit || n * unit > DURATION_MAX_MS - total)
			return -1;
		total += n * unit;
		terms++;
	}
	if (total == 0)
		return -1;
	*ms = total;
	return 0;
}

int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	/* H. Hinnant's days_from_civil: years start in March */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
parse_size_bytes(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = {
		{ "B", 0 }, { "KB", 10 }, { "MB", 20 }, { "GB", 30 }, { "TB", 40 },
		{ "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	uint64_t n = 0;
	const char *p = s;
	unsigned shift = 0;

	if (s == NULL || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > SIZE_MAX_BYTES)
			return -1;      /* no unit makes this small enough */
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0') {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (strcmp(p, units[i].unit) == 0)
				break;
		if (i == ARRAY_SIZE(units))
			return -1;
		shift = units[i].shift;
	}
	if (n == 0 || n > SIZE_MAX_BYTES >> shift)
		return -1;
	*bytes = n << shift;
	return 0;
}

int
utf8_seq(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int need;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		if (p[0] == 0xe0)
			lo = 0xa0;      /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;      /* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		if (p[0] == 0xf0)
			lo = 0x90;      /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;      /* above U+10FFFF */
	} else {
		return -1;
	}
	for (int i = 1; i <= need; i++) {
		if (p[i] < lo || p[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/* Text for a terminal: ASCII and C1 control characters and bytes that are
 * not UTF-8 are shown as \xNN (\n for a newline); nothing else changes,
 * as in the log (distinguished names already escape their backslashes). */
size_t
term_escape_char(const unsigned char *p, char *out, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int n = 0, k;

	if (*p == '\n') {
		out[0] = '\\';
		out[1] = 'n';
		*used = 1;
		return 2;
	}
	if (*p >= 0x20 && *p < 0x7f) {
		out[0] = (char)*p;
		*used = 1;
		return 1;
	}
	if (*p >= 0x80 && (n = utf8_seq(p)) > 0 && !(p[0] == 0xc2 && p[1] < 0xa0)) {
		memcpy(out, p, (size_t)n);
		*used = (size_t)n;
		return (size_t)n;
	}
	/* a C0 control, DEL, a C1 control (U+0080..U+009F) or bytes that are
	 * not UTF-8 */
	k = *p < 0x80 ? 1 : n > 0 ? n : -n;
	for (int i = 0; i < k; i++) {
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 0xf];
	}
	*used = (size_t)k;
	return o;
}

void
term_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		buf_putc(b, '-');
		return;
	}
	while (*p) {
		char e[TERM_ESCAPE_MAX];
		size_t used, n = term_escape_char(p, e, &used);

		buf_append(b, e, n);
		p += used;
	}
}

int
time_epoch_ok(int64_t t)
{
	return t >= TIME_MIN_EPOCH && t <= TIME_MAX_EPOCH;
}

int64_t
time_epoch_or_zero(int64_t t)
{
	return time_epoch_ok(t) ? t : 0;
}

/* The one place a time becomes text; 0 when t is outside what X.509 and
 * time_t can express (checked before the cast: a double beyond time_t's
 * range is undefined). */
static int
utc_format(char *out, size_t size, double t, int iso)
{
	time_t tt;
	struct tm tm;

	if (!(t >= (double)TIME_MIN_EPOCH && t <= (double)TIME_MAX_EPOCH))
		return 0;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL)
		return 0;
	return (iso ? strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) :
	    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm)) != 0;
}

void
fmt_utc(char *out, size_t size, double t)
{
	if (!(t > 0) || !utc_format(out, size, t, 0))
		snprintf(out, size, "-");
}

void
fmt_utc_iso(char *out, size_t size, int64_t t)
{
	if (!utc_format(out, size, (double)t, 1))
		snprintf(out, size, "%lld", (long long)t);
}

uint64_t
hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* A hash table of words, never freed: see util.h. */
struct word {
	struct word *next;
	char s[];
};
static struct word *words_tab[STR_INTERN_MAX];
static size_t words_read;      /* new words str_intern_read made */
static pthread_mutex_t words_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *
intern_word(const char *s, int from_file)
{
	size_t len = strlen(s), b;
	struct word *w;

	if (from_file && len > STR_INTERN_MAX_LEN)
		return NULL;
	b = (size_t)(hash64(s, len) % STR_INTERN_MAX);
	pthread_mutex_lock(&words_lock);
	for (w = words_tab[b]; w != NULL; w = w->next)
		if (strcmp(w->s, s) == 0)
			break;
	if (w == NULL && (!from_file || words_read < STR_INTERN_MAX)) {
		w = xmalloc(sizeof(*w) + len + 1);
		memcpy(w->s, s, len + 1);
		w->next = words_tab[b];
		words_tab[b] = w;
		words_read += from_file;
	}
	pthread_mutex_unlock(&words_lock);
	return w ? w->s : NULL;
}

const char *
str_intern(const char *s)
{
	return intern_word(s, 0);
}

const char *
str_intern_read(const char *s)
{
	return intern_word(s, 1);
}

const char *
peer_text(const void *s, size_t len, char *tmp, size_t size)
{
	const unsigned char *p = s;
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++)
		tmp[i] = (char)(p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i]);
	tmp[n] = '\0';
	return tmp;
}

int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void
histogram_init(struct histogram *h, const double *bounds, size_t nbounds)
{
	h->bounds = bounds;
	h->nbounds = nbounds;
	h->counts = xcalloc(nbounds + 1, sizeof(*h->counts));
	h->sum = 0;
	h->count = 0;
}

void
histogram_fini(struct histogram *h)
{
	free(h->counts);
	h->counts = NULL;
}

void
histogram_observe(struct histogram *h, double v)
{
	size_t i = 0;

	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->flush = NULL;
	b->flush_arg = NULL;
	b->flush_at = 0;
	b->cut = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need;

	if (b->flush && b->len > 0 && b->len + extra + 1 > b->flush_at)
		b->flush(b, b->flush_arg);
	if (extra > SIZE_MAX - b->len - 1)
		fatalx("buffer overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	buf_reserve(b, 64);
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	buf_init(b);
	return p;
}
