/* test_goname.c - Names written as Go's pkix.Name.String() writes them:
 * the order, multi-valued and repeated attributes, escaping, each string
 * type Go reads (and those it refuses), and other attributes as #HEX. The
 * Names are DER built here, byte by byte, so every case is exactly what it
 * says; the lab certificates are compared with blackbox_exporter's own
 * labels in the README's table. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verdict/goname.h"

struct der {
	unsigned char b[4096];
	size_t n;
};

static void
put_tlv(struct der *d, unsigned char tag, const void *content, size_t len)
{
	assert_true(d->n + len + 4 < sizeof(d->b));
	d->b[d->n++] = tag;
	if (len < 0x80) {
		d->b[d->n++] = (unsigned char)len;
	} else {
		d->b[d->n++] = 0x82;
		d->b[d->n++] = (unsigned char)(len >> 8);
		d->b[d->n++] = (unsigned char)len;
	}
	memcpy(d->b + d->n, content, len);
	d->n += len;
}

/* OIDs, encoded */
#define CN "\x55\x04\x03", 3
#define C "\x55\x04\x06", 3
#define O "\x55\x04\x0a", 3
#define OU "\x55\x04\x0b", 3
#define SN "\x55\x04\x05", 3
#define TITLE "\x55\x04\x0c", 3
#define EMAIL "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 9
#define DC "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", 10

/* An attribute: OID, then the value's tag and bytes. */
static void
ava(struct der *set, const char *oid, size_t oidlen, unsigned char tag, const char *v, size_t vlen)
{
	struct der a = { .n = 0 };

	put_tlv(&a, 0x06, oid, oidlen);
	put_tlv(&a, tag, v, vlen);
	put_tlv(set, 0x30, a.b, a.n);
}

/* A Name of RDNs, each a SET built by the caller. */
static char *
name_of(struct der *rdns, size_t n)
{
	struct der seq = { .n = 0 }, name = { .n = 0 };

	for (size_t i = 0; i < n; i++)
		put_tlv(&seq, 0x31, rdns[i].b, rdns[i].n);
	put_tlv(&name, 0x30, seq.b, seq.n);
	return goname_dn(name.b, name.n);
}

/* One RDN per attribute: "oid tag value" triples. */
#define PS 19
#define UTF8 12
#define IA5 22
#define T61 20
#define BMP 30
#define NUM 18

static void
expect(struct der *rdns, size_t n, const char *want)
{
	char *got = name_of(rdns, n);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("got \"%s\", want NULL (Go refuses the certificate)", got);
		return;
	}
	if (got == NULL)
		fail_msg("got NULL, want \"%s\"", want);
	if (strcmp(got, want) != 0)
		fail_msg("got  \"%s\"\nwant \"%s\"", got, want);
	free(got);
}

#define S(x) x, sizeof(x) - 1

static void
test_order(void **state)
{
	struct der r[8];

	(void)state;
	memset(r, 0, sizeof(r));
	/* certificate order C, O, OU, OU, CN, then Go's: CN first */
	ava(&r[0], C, PS, S("DE"));
	ava(&r[1], O, UTF8, S("Example GmbH"));
	ava(&r[2], OU, PS, S("b"));
	ava(&r[3], OU, PS, S("a"));
	ava(&r[4], CN, UTF8, S("www.example.de"));
	expect(r, 5, "CN=www.example.de,OU=b+OU=a,O=Example GmbH,C=DE");

	/* whatever the certificate's order */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("x"));
	ava(&r[1], SN, PS, S("42"));
	ava(&r[2], C, PS, S("FR"));
	expect(r, 3, "SERIALNUMBER=42,CN=x,C=FR");

	/* a multi-valued RDN is taken apart */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("a"));
	ava(&r[0], O, UTF8, S("b"));
	expect(r, 1, "CN=a,O=b");

	/* CN and SERIALNUMBER keep only their last value, and no empty one */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("first"));
	ava(&r[1], CN, UTF8, S("last"));
	expect(r, 2, "CN=last");
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("x"));
	ava(&r[1], CN, UTF8, "", 0);
	ava(&r[2], C, PS, "", 0);
	expect(r, 3, "C=");

	/* other attributes after, last first, their values re-encoded */
	memset(r, 0, sizeof(r));
	ava(&r[0], DC, IA5, S("org"));
	ava(&r[1], DC, IA5, S("example"));
	ava(&r[2], CN, UTF8, S("x"));
	ava(&r[3], EMAIL, IA5, S("x@y"));
	expect(r, 4, "CN=x,1.2.840.113549.1.9.1=#0c03784079,"
	    "0.9.2342.19200300.100.1.25=#13076578616d706c65,0.9.2342.19200300.100.1.25=#13036f7267");

	/* an empty Name */
	expect(r, 0, "");
}

static void
test_escaping(void **state)
{
	struct der r[2];

	(void)state;
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("a,b+c\"d\\e<f>g;h"));
	expect(r, 1, "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h");
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S(" #x # "));
	expect(r, 1, "CN=\\ #x #\\ ");
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("#x"));
	expect(r, 1, "CN=\\#x");
	/* newlines and quotes stay as they are: the label escaper's job */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("a\nb=c"));
	expect(r, 1, "CN=a\nb=c");
}

static void
test_types(void **state)
{
	struct der r[2];
	char longv[200];

	(void)state;
	/* BMPString (UTF-16BE): a terminator stripped, surrogate pairs
	 * joined, a lone surrogate U+FFFD, an odd length refused */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, BMP, "\x00\xe9\xd8\x3d\xde\x00\x00\x00", 8);
	expect(r, 1, "CN=\xc3\xa9\xf0\x9f\x98\x80");
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, BMP, "\xd8\x00\x00\x41", 4);
	expect(r, 1, "CN=\xef\xbf\xbd" "A");
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, BMP, "\x00\x41\x00", 3);
	expect(r, 1, NULL);

	/* T61String: bytes as they are; not UTF-8 comes out U+FFFD per byte */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, T61, S("caf\xe9\xe9"));
	expect(r, 1, "CN=caf\xef\xbf\xbd\xef\xbf\xbd");
	/* ... and an other attribute that asn1.Marshal cannot encode is OID=VALUE */
	memset(r, 0, sizeof(r));
	ava(&r[0], TITLE, T61, S("x\xe9"));
	expect(r, 1, "2.5.4.12=x\xef\xbf\xbd");

	/* PrintableString: '*' and '&' accepted as Go's x509 does, '@' not */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, PS, S("*.a&b.test"));
	expect(r, 1, "CN=*.a&b.test");
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, PS, S("a@b"));
	expect(r, 1, NULL);
	/* re-encoded, '*' is no PrintableString: UTF8String */
	memset(r, 0, sizeof(r));
	ava(&r[0], TITLE, PS, S("*"));
	expect(r, 1, "2.5.4.12=#0c012a");

	/* IA5String, NumericString, UTF8String checked; other types refused */
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, IA5, S("a\x80"));
	expect(r, 1, NULL);
	memset(r, 0, sizeof(r));
	ava(&r[0], SN, NUM, S("12 3"));
	expect(r, 1, "SERIALNUMBER=12 3");
	memset(r, 0, sizeof(r));
	ava(&r[0], SN, NUM, S("12a"));
	expect(r, 1, NULL);
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, UTF8, S("\xc0\xaf"));
	expect(r, 1, NULL);
	memset(r, 0, sizeof(r));
	ava(&r[0], CN, 28, "\x00\x00\x00\x41", 4);     /* UniversalString */
	expect(r, 1, NULL);

	/* a long other value: the DER length in long form */
	memset(longv, 'a', sizeof(longv));
	memset(r, 0, sizeof(r));
	ava(&r[0], TITLE, UTF8, longv, sizeof(longv));
	{
		char *got = name_of(r, 1);

		assert_non_null(got);
		assert_memory_equal(got, "2.5.4.12=#1381c86161", 20);
		assert_int_equal(strlen(got), 9 + 1 + 6 + 2 * sizeof(longv));
		free(got);
	}
}

static void
test_garbage(void **state)
{
	static const unsigned char notname[] = { 0x04, 0x03, 'a', 'b', 'c' };
	static const unsigned char truncated[] = { 0x30, 0x10, 0x31, 0x02 };

	(void)state;
	assert_null(goname_dn(notname, sizeof(notname)));
	assert_null(goname_dn(truncated, sizeof(truncated)));
	assert_null(goname_dn(notname, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
