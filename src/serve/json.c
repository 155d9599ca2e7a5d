/* json.c - a small JSON writer (RFC 8259) for the API and the tool. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "serve/json.h"

void
json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	while (*p) {
		unsigned char c = *p;
		int n;

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
			p++;
		} else if (c == '\n') {
			buf_puts(b, "\\n");
			p++;
		} else if (c == '\t') {
			buf_puts(b, "\\t");
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			buf_putc(b, (char)c);
			p++;
		} else if ((n = utf8_seq(p)) > 0) {
			buf_append(b, p, (size_t)n);
			p += n;
		} else {
			buf_puts(b, "\\ufffd");
			p += -n;
		}
	}
	buf_putc(b, '"');
}

void
json_key(struct buf *b, const char *key, int first)
{
	if (!first)
		buf_putc(b, ',');
	json_str(b, key);
	buf_putc(b, ':');
}

void
json_num(struct buf *b, double v, int decimals)
{
	if (!isfinite(v))
		buf_puts(b, "null");
	else
		buf_printf(b, "%.*f", decimals, v);
}

void
json_int(struct buf *b, int64_t v)
{
	buf_printf(b, "%lld", (long long)v);
}

void
json_bool(struct buf *b, int v)
{
	buf_puts(b, v ? "true" : "false");
}
