/* test_gzip.c - Accept-Encoding negotiation and gzip output zlib can read back. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "serve/gzip.h"
#include "core/util.h"

static void
test_accepted(void **state)
{
	(void)state;
	assert_true(gzip_accepted("gzip"));
	assert_true(gzip_accepted("GZIP"));
	assert_true(gzip_accepted("deflate, gzip"));
	assert_true(gzip_accepted("gzip;q=0.5, identity"));
	assert_true(gzip_accepted("x-gzip"));
	assert_true(gzip_accepted("*"));
	/* Prometheus sends exactly this */
	assert_true(gzip_accepted("gzip"));
	assert_false(gzip_accepted(NULL));
	assert_false(gzip_accepted(""));
	assert_false(gzip_accepted("identity"));
	assert_false(gzip_accepted("deflate, br"));
	assert_false(gzip_accepted("gzip;q=0"));
	assert_false(gzip_accepted("gzip; q=0.0, identity"));
	assert_false(gzip_accepted("gzipx"));
	assert_false(gzip_accepted("xgzip"));
}

static char *
gunzip(const unsigned char *in, size_t len, size_t *outlen)
{
	z_stream z;
	struct buf b;
	unsigned char chunk[16384];
	int rc;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	buf_init(&b);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		buf_append(&b, chunk, sizeof(chunk) - z.avail_out);
	} while (rc != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);    /* one member, nothing after it */
	inflateEnd(&z);
	*outlen = b.len;
	return buf_steal(&b);
}

static void
test_roundtrip(void **state)
{
	struct buf text;
	unsigned char *gz;
	size_t gzlen, outlen;
	char *out;

	(void)state;
	buf_init(&text);
	for (int i = 0; i < 20000; i++)
		buf_printf(&text, "tlswatch_probe_success{target=\"host-%d.example.com:443\"} %d\n",
		    i, i % 2);
	gz = gzip_compress(text.data, text.len, &gzlen);
	assert_non_null(gz);
	assert_int_equal(gz[0], 0x1f);      /* gzip magic, not a zlib header */
	assert_int_equal(gz[1], 0x8b);
	assert_true(gzlen < text.len / 5);  /* the point of it */
	out = gunzip(gz, gzlen, &outlen);
	assert_int_equal(outlen, text.len);
	assert_memory_equal(out, text.data, text.len);
	free(out);
	free(gz);

	/* an empty body is still a valid gzip member */
	gz = gzip_compress("", 0, &gzlen);
	assert_non_null(gz);
	out = gunzip(gz, gzlen, &outlen);
	assert_int_equal(outlen, 0);
	free(out);
	free(gz);
	buf_free(&text);
}

/* Rendering into a buffer whose flush hook feeds the stream: what comes out
 * is one gzip member of everything written, in order. */
static void
test_stream_from_buf(void **state)
{
	struct gzip_stream *g = gzip_stream_new();
	struct buf b, want;
	unsigned char *gz;
	size_t gzlen, outlen;
	char *out;

	(void)state;
	assert_non_null(g);
	buf_init(&want);
	buf_init(&b);
	b.flush = gzip_buf_flush;
	b.flush_arg = g;
	b.flush_at = 1000;
	for (int i = 0; i < 30000; i++) {
		buf_printf(&b, "tlswatch_probes_total{target=\"t%d\",result=\"success\"} %d\n", i, i);
		buf_printf(&want, "tlswatch_probes_total{target=\"t%d\",result=\"success\"} %d\n", i, i);
	}
	assert_true(b.cap <= 2048);
	assert_int_equal(gzip_stream_write(g, b.data, b.len), 0);
	gz = gzip_stream_finish(g, &gzlen);
	assert_non_null(gz);
	out = gunzip(gz, gzlen, &outlen);
	assert_int_equal(outlen, want.len);
	assert_memory_equal(out, want.data, want.len);
	free(out);
	free(gz);
	buf_free(&b);
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_stream_from_buf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
