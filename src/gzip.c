/* gzip.c - gzip content coding: /metrics text shrinks about tenfold, which
 * is what Prometheus asks for on every scrape. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "gzip.h"
#include "util.h"

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

unsigned char *
gzip_compress(const void *in, size_t len, size_t *outlen)
{
	z_stream z;
	unsigned char *out;
	uLong bound;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer, not zlib's */
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)len);
	out = xmalloc(bound);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	/* deflateBound is enough for one Z_FINISH call; inputs above 4 GiB
	 * (uInt) are not ours to serve. */
	if (len > UINT32_MAX || deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}
