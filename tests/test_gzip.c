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

#include "gzip.h"
#include "util.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
