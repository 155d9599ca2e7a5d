/*
 * fuzz_escape.c - every escaper, each output checked against the grammar
 * of where it goes, by checkers written here apart from the escapers:
 *
 *   metrics_escape_label  Prometheus label value: valid UTF-8, no raw
 *                         newline, a backslash only in \\ \" \n, no bare
 *                         quote; decodes back to the input when that is
 *                         valid UTF-8
 *   html_escape           HTML text and quoted attributes: valid UTF-8,
 *                         no < > " ', & only in the entities it writes, no
 *                         control byte
 *   url_escape            a path segment: unreserved characters and %XX
 *                         only; decodes back to the input
 *   json_str              an RFC 8259 string (section 7), valid UTF-8;
 *                         decodes back to the input when that is valid UTF-8
 *   term_escape           terminal text: valid UTF-8, no C0 or C1 control,
 *                         no DEL; unchanged when there was nothing to escape
 *   store_escape          a state-file value: no control byte, % only in
 *                         %XX; store_unescape gives the input back
 *   log_warnx             one line on stderr: one newline, at the end;
 *                         the rest is terminal text as above (valid UTF-8,
 *                         no C0 or C1 control, no DEL), the input itself
 *                         when there was nothing to escape
 *
 * The input is cut at its NUL bytes; each piece is one string.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "serve/json.h"
#include "core/log.h"
#include "serve/metrics.h"
#include "serve/status.h"
#include "state/store.h"
#include "core/util.h"

static int log_fd = -1, stderr_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", 0);
	log_fd = memfd_create("fuzz-log", MFD_CLOEXEC);
	stderr_fd = dup(2);
	if (log_fd == -1 || stderr_fd == -1) {
		perror("fuzz_escape: memfd_create");
		abort();
	}
	return 0;
}

static int
hexdigit(int c, int upper_only)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (!upper_only && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
check_label(const char *in, size_t inlen)
{
	struct buf b, dec;
	const unsigned char *p;
	size_t n;

	buf_init(&b);
	buf_init(&dec);
	metrics_escape_label(&b, in);
	p = (const unsigned char *)(b.data ? b.data : "");
	n = b.data ? b.len : 0;
	FUZZ_CHECK(fuzz_utf8_valid(p, n), "label value not UTF-8");
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(p[i] != '\n', "a raw newline in a label value");
		FUZZ_CHECK(p[i] != '"', "a bare quote in a label value");
		FUZZ_CHECK(p[i] != '\0', "a NUL in a label value");
		if (p[i] == '\\') {
			FUZZ_CHECK(i + 1 < n && (p[i + 1] == '\\' || p[i + 1] == '"' ||
			    p[i + 1] == 'n'), "a stray backslash in a label value");
			buf_putc(&dec, p[i + 1] == 'n' ? '\n' : (char)p[i + 1]);
			i++;
		} else {
			buf_putc(&dec, (char)p[i]);
		}
	}
	if (fuzz_utf8_valid((const unsigned char *)in, inlen))
		FUZZ_CHECK(dec.len == inlen && (inlen == 0 || memcmp(dec.data, in, inlen) == 0),
		    "a label value does not decode to its input");
	buf_free(&b);
	buf_free(&dec);
}

static void
check_html(const char *in)
{
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
	struct buf b;
	const char *p;
	size_t n;

	buf_init(&b);
	html_escape(&b, in);
	p = b.data ? b.data : "";
	n = b.data ? b.len : 0;
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)p, n), "HTML text not UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		size_t k;

		FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'',
		    "'%c' in HTML text", c);
		FUZZ_CHECK(c >= 0x20 && c != 0x7f, "control byte 0x%02x in HTML text", c);
		if (c != '&')
			continue;
		for (k = 0; k < ARRAY_SIZE(entities); k++)
			if (strncmp(p + i, entities[k], strlen(entities[k])) == 0)
				break;
		FUZZ_CHECK(k < ARRAY_SIZE(entities), "a bare & in HTML text");
	}
	buf_free(&b);
}

static void
check_url(const char *in, size_t inlen)
{
	struct buf b, dec;
	const char *p;
	size_t n;

	buf_init(&b);
	buf_init(&dec);
	url_escape(&b, in);
	p = b.data ? b.data : "";
	n = b.data ? b.len : 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_putc(&dec, c);
			continue;
		}
		FUZZ_CHECK(c == '%' && i + 2 < n && hexdigit(p[i + 1], 1) >= 0 &&
		    hexdigit(p[i + 2], 1) >= 0, "'%c' in a path segment", c);
		buf_putc(&dec, (char)(hexdigit(p[i + 1], 1) << 4 | hexdigit(p[i + 2], 1)));
		i += 2;
	}
	FUZZ_CHECK(dec.len == inlen && (inlen == 0 || memcmp(dec.data, in, inlen) == 0),
	    "a path segment does not decode to its input");
	buf_free(&b);
	buf_free(&dec);
}

/* Append code point cp as UTF-8. */
static void
put_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | cp >> 6));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | cp >> 12));
		buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | cp >> 18));
		buf_putc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

static uint32_t
hex4(const char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int d = hexdigit(p[i], 0);
		FUZZ_CHECK(d >= 0, "a \\u escape without four hex digits");
		v = v << 4 | (uint32_t)d;
	}
	return v;
}

/* RFC 8259 section 7: string = quotation-mark *char quotation-mark. */
static void
check_json(const char *in, size_t inlen)
{
	struct buf b, dec;
	const char *p;
	size_t n;

	buf_init(&b);
	buf_init(&dec);
	json_str(&b, in);
	p = b.data;
	n = b.len;
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)p, n), "a JSON string not UTF-8");
	FUZZ_CHECK(n >= 2 && p[0] == '"' && p[n - 1] == '"', "a JSON string not in quotes");
	FUZZ_CHECK(fuzz_json_valid(p, n), "not a JSON text: %s", p);
	for (size_t i = 1; i < n - 1; i++) {
		unsigned char c = (unsigned char)p[i];

		FUZZ_CHECK(c >= 0x20, "an unescaped control 0x%02x in a JSON string", c);
		FUZZ_CHECK(c != '"', "an unescaped quote inside a JSON string");
		if (c != '\\') {
			buf_putc(&dec, (char)c);
			continue;
		}
		FUZZ_CHECK(i + 1 < n - 1, "a JSON string ends in a backslash");
		switch (p[++i]) {
		case '"': buf_putc(&dec, '"'); break;
		case '\\': buf_putc(&dec, '\\'); break;
		case '/': buf_putc(&dec, '/'); break;
		case 'b': buf_putc(&dec, '\b'); break;
		case 'f': buf_putc(&dec, '\f'); break;
		case 'n': buf_putc(&dec, '\n'); break;
		case 'r': buf_putc(&dec, '\r'); break;
		case 't': buf_putc(&dec, '\t'); break;
		case 'u': {
			uint32_t cp;

			FUZZ_CHECK(i + 4 < n - 1, "a short \\u escape");
			cp = hex4(p + i + 1);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo;

				FUZZ_CHECK(i + 6 < n - 1 && p[i + 1] == '\\' && p[i + 2] == 'u',
				    "a lone high surrogate");
				lo = hex4(p + i + 3);
				FUZZ_CHECK(lo >= 0xdc00 && lo <= 0xdfff, "a bad low surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else {
				FUZZ_CHECK(cp < 0xdc00 || cp > 0xdfff, "a lone low surrogate");
			}
			put_utf8(&dec, cp);
			break;
		}
		default:
			FUZZ_CHECK(0, "\\%c is not a JSON escape", p[i]);
		}
	}
	if (fuzz_utf8_valid((const unsigned char *)in, inlen))
		FUZZ_CHECK(dec.len == inlen && (inlen == 0 || memcmp(dec.data, in, inlen) == 0),
		    "a JSON string does not decode to its input");
	buf_free(&b);
	buf_free(&dec);
	buf_init(&b);
	json_str(&b, NULL);
	FUZZ_CHECK(strcmp(b.data, "null") == 0, "json_str(NULL) is not null");
	buf_free(&b);
}

static void
check_term(const char *in, size_t inlen)
{
	struct buf b;
	const unsigned char *p;
	size_t n;
	int plain = fuzz_utf8_valid((const unsigned char *)in, inlen);

	buf_init(&b);
	term_escape(&b, in);
	p = (const unsigned char *)(b.data ? b.data : "");
	n = b.data ? b.len : 0;
	FUZZ_CHECK(fuzz_utf8_valid(p, n), "terminal text not UTF-8");
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int k = fuzz_utf8_decode(p + i, &cp);

		FUZZ_CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f),
		    "control U+%04X in terminal text", (unsigned)cp);
		i += (size_t)k;
	}
	/* nothing to escape: shown as it is */
	for (size_t i = 0; plain && i < inlen;) {
		uint32_t cp;
		int k = fuzz_utf8_decode((const unsigned char *)in + i, &cp);

		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			plain = 0;
		i += (size_t)k;
	}
	if (plain)
		FUZZ_CHECK(n == inlen && (n == 0 || memcmp(p, in, n) == 0),
		    "terminal text changed with nothing to escape");
	buf_free(&b);
}

static void
check_store(const char *in)
{
	struct buf b;
	char *back;

	buf_init(&b);
	store_escape(&b, in);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		FUZZ_CHECK(c >= 0x20 && c != 0x7f, "control byte 0x%02x in a state value", c);
		if (c == '%')
			FUZZ_CHECK(i + 2 < b.len && hexdigit(b.data[i + 1], 1) >= 0 &&
			    hexdigit(b.data[i + 2], 1) >= 0, "a bare %% in a state value");
	}
	back = store_unescape(b.data ? b.data : "");
	FUZZ_CHECK(back != NULL && strcmp(back, in) == 0, "a state value does not come back");
	free(back);
	buf_free(&b);
}

static void
check_log(const char *in, size_t inlen)
{
	static const char prefix[] = "fuzz: ";
	struct stat sb;
	char *out;
	size_t n;
	int plain = inlen < 2048;   /* log.c formats at most 2047 bytes */

	fflush(stderr);
	if (ftruncate(log_fd, 0) == -1 || lseek(log_fd, 0, SEEK_SET) == -1 ||
	    dup2(log_fd, 2) == -1)
		abort();
	log_warnx("%s", in);
	fflush(stderr);
	if (dup2(stderr_fd, 2) == -1 || fstat(log_fd, &sb) == -1)
		abort();
	n = (size_t)sb.st_size;
	out = xmalloc(n + 1);
	FUZZ_CHECK(pread(log_fd, out, n, 0) == (ssize_t)n, "cannot read the log back");
	out[n] = '\0';
	FUZZ_CHECK(n >= sizeof(prefix) && memcmp(out, prefix, sizeof(prefix) - 1) == 0,
	    "a log line without its prefix");
	FUZZ_CHECK(out[n - 1] == '\n', "a log line without its newline");
	FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)out, n - 1), "a log line not UTF-8");
	for (size_t i = 0; i + 1 < n;) {
		uint32_t cp;
		int k = fuzz_utf8_decode((const unsigned char *)out + i, &cp);

		FUZZ_CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f),
		    "control U+%04X in a log line", (unsigned)cp);
		i += (size_t)k;
	}
	plain = plain && fuzz_utf8_valid((const unsigned char *)in, inlen);
	for (size_t i = 0; plain && i < inlen;) {
		uint32_t cp;
		int k = fuzz_utf8_decode((const unsigned char *)in + i, &cp);

		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			plain = 0;
		i += (size_t)k;
	}
	if (plain)
		FUZZ_CHECK(n == sizeof(prefix) + inlen &&
		    memcmp(out + sizeof(prefix) - 1, in, inlen) == 0,
		    "a log line changed with nothing to escape");
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *all = fuzz_str(data, size);

	/* each NUL-terminated piece, the last one too */
	for (size_t off = 0; off <= size;) {
		char *s = all + off;
		size_t len = strlen(s);

		check_label(s, len);
		check_html(s);
		check_url(s, len);
		check_json(s, len);
		check_term(s, len);
		check_store(s);
		check_log(s, len);
		off += len + 1;
	}
	free(all);
	return 0;
}
