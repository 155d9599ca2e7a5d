/* gzip.c - gzip content coding: /metrics text shrinks about tenfold, which
 * is what Prometheus asks for on every scrape. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "serve/gzip.h"
#include "core/util.h"

/* Level 1: most of the size gain for a fraction of the CPU of the default;
 * the exposition is repetitive text. */
#define GZIP_LEVEL 1

int
gzip_accepted(const char *v)
{
	const char *p = v;

	if (v == NULL)
		return 0;
	while (*p) {
		const char *tok, *end;
		double q = 1;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		tok = p;
		while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		end = p;
		/* parameters: only q matters */
		while (*p && *p != ',') {
			if (*p == ';') {
				p++;
				while (*p == ' ' || *p == '\t')
					p++;
				if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
					q = strtod(p + 2, NULL);
				continue;
			}
			p++;
		}
		size_t n = (size_t)(end - tok);
		if (((n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0) ||
		    (n == 1 && *tok == '*')) && q > 0)
			return 1;
	}
	return 0;
}

struct gzip_stream {
	z_stream z;
	struct buf out;
	int failed;
};

struct gzip_stream *
gzip_stream_new(void)
{
	struct gzip_stream *g = xcalloc(1, sizeof(*g));

	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&g->z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return NULL;
	}
	buf_init(&g->out);
	return g;
}

static int
gzip_deflate(struct gzip_stream *g, const void *in, size_t len, int flush)
{
	const unsigned char *p = in;
	int rc;

	if (g->failed)
		return -1;
	do {
		/* zlib counts in uInt: feed at most 1 GiB at a time */
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		int last = chunk == len;

		g->z.next_in = (Bytef *)(uintptr_t)p;
		g->z.avail_in = (uInt)chunk;
		do {
			buf_reserve(&g->out, 65536);
			g->z.next_out = (Bytef *)g->out.data + g->out.len;
			g->z.avail_out = (uInt)(g->out.cap - g->out.len - 1);
			size_t before = g->z.avail_out;
			rc = deflate(&g->z, last ? flush : Z_NO_FLUSH);
			g->out.len += before - g->z.avail_out;
			if (rc == Z_STREAM_ERROR) {
				g->failed = 1;
				return -1;
			}
		} while (g->z.avail_out == 0 || (last && flush == Z_FINISH && rc != Z_STREAM_END));
		p += chunk;
		len -= chunk;
	} while (len > 0);
	return 0;
}

int
gzip_stream_write(struct gzip_stream *g, const void *in, size_t len)
{
	return len ? gzip_deflate(g, in, len, Z_NO_FLUSH) : (g->failed ? -1 : 0);
}

unsigned char *
gzip_stream_take(struct gzip_stream *g, size_t *outlen)
{
	*outlen = g->out.len;
	if (g->out.len == 0)
		return NULL;
	return (unsigned char *)buf_steal(&g->out);
}

unsigned char *
gzip_stream_finish(struct gzip_stream *g, size_t *outlen)
{
	unsigned char *out = NULL;

	if (gzip_deflate(g, "", 0, Z_FINISH) == 0) {
		*outlen = g->out.len;
		out = (unsigned char *)buf_steal(&g->out);
	}
	deflateEnd(&g->z);
	buf_free(&g->out);
	free(g);
	return out;
}

void
gzip_buf_flush(struct buf *b, void *arg)
{
	gzip_stream_write(arg, b->data, b->len);
	b->len = 0;
}

unsigned char *
gzip_compress(const void *in, size_t len, size_t *outlen)
{
	struct gzip_stream *g = gzip_stream_new();

	if (g == NULL)
		return NULL;
	gzip_stream_write(g, in, len);
	return gzip_stream_finish(g, outlen);
}
