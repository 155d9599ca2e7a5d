/* test_certs.c - the one certificate parser (certs.c): interning by SHA-256,
 * reference counts, and every field, read from certificates made here. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <gnutls/crypto.h>

#include "core/util.h"
#include "testlib.h"
#include "verdict/certs.h"

static void
test_intern(void **state)
{
	struct tc_spec spec = { .cn = "intern.test" };
	struct tc a;
	struct cert *c1, *c2;
	unsigned char digest[32];
	char hex[65];
	unsigned char *copy;

	(void)state;
	tc_make(&a, &spec, NULL);
	assert_int_equal(cert_count(), 0);
	c1 = cert_get(a.der.data, a.der.len);
	assert_non_null(c1);
	/* the same DER from another buffer is the same certificate */
	copy = xmalloc(a.der.len);
	memcpy(copy, a.der.data, a.der.len);
	c2 = cert_get(copy, a.der.len);
	free(copy);
	assert_ptr_equal(c1, c2);
	assert_int_equal(c1->refs, 2);
	assert_int_equal(cert_count(), 1);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, a.der.data, a.der.len, digest), 0);
	hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(c1->sha256, hex);
	assert_ptr_equal(cert_ref(c1), c1);
	cert_put(c1);
	cert_put(c1);
	assert_int_equal(cert_count(), 1);
	cert_put(c2);
	assert_int_equal(cert_count(), 0);
	cert_put(NULL);
	tc_free(&a);
}

static void
test_not_x509(void **state)
{
	static const unsigned char garbage[] = "certainly not DER";
	struct tc_spec spec = { .cn = "cut.test" };
	struct tc a;

	(void)state;
	assert_null(cert_get(garbage, sizeof(garbage)));
	assert_null(cert_get(NULL, 0));
	tc_make(&a, &spec, NULL);
	assert_null(cert_get(a.der.data, a.der.len / 2));   /* cut short */
	assert_null(cert_get(a.der.data, 0));
	assert_int_equal(cert_count(), 0);
	tc_free(&a);
}

static void
test_fields(void **state)
{
	static const char *const sans[] = { "DNS:a.test", "DNS:*.b.test", "IP:127.0.0.1",
		"IP:::1", "email:ops@a.test", "URI:https://a.test/x", NULL };
	/* 80 bytes: beyond the 64-byte buffer certinfo.c once used, whose
	 * serial then came out empty */
	unsigned char serial[80];
	struct tc_spec ca_spec = { .cn = "Fields CA", .ca = 1, .rsa_bits = 2048 };
	struct tc_spec leaf_spec = { .cn = "a.test", .sans = sans, .serial = serial,
		.serial_len = sizeof(serial), .not_before = 1700000000, .not_after = 2000000000 };
	struct tc ca, leaf;
	struct cert *c, *r;
	char want[161];

	(void)state;
	for (size_t i = 0; i < sizeof(serial); i++)
		serial[i] = (unsigned char)(0x40 + i);
	tc_make(&ca, &ca_spec, NULL);
	tc_make(&leaf, &leaf_spec, &ca);
	assert_non_null(c = cert_get(leaf.der.data, leaf.der.len));
	assert_non_null(r = cert_get(ca.der.data, ca.der.len));

	assert_string_equal(c->subject, "CN=a.test");
	assert_string_equal(c->issuer, "CN=Fields CA");
	hex_encode(serial, sizeof(serial), want);
	assert_string_equal(c->serial, want);
	assert_int_equal(c->not_before, 1700000000);
	assert_int_equal(c->not_after, 2000000000);
	assert_false(c->self_signed);
	assert_false(c->is_ca);
	assert_string_equal(c->key_type, "EC/ECDSA");
	assert_string_equal(c->key_curve, "SECP256R1");
	assert_int_equal(c->key_bits, 256);
	assert_string_equal(c->sig_alg, "RSA-SHA256");
	assert_int_equal(c->nsans, 6);
	assert_string_equal(c->sans[0], "DNS:a.test");
	assert_string_equal(c->sans[1], "DNS:*.b.test");
	assert_string_equal(c->sans[2], "IP:127.0.0.1");
	assert_string_equal(c->sans[3], "IP:::1");
	assert_string_equal(c->sans[4], "email:ops@a.test");
	assert_string_equal(c->sans[5], "URI:https://a.test/x");

	assert_true(r->self_signed);
	assert_true(r->is_ca);
	assert_string_equal(r->key_type, "RSA");
	assert_null(r->key_curve);
	assert_int_equal(r->key_bits, 2048);
	assert_string_equal(r->sig_alg, "RSA-SHA256");
	assert_int_equal(r->nsans, 0);
	assert_string_equal(r->serial, "01");

	cert_put(c);
	cert_put(r);
	tc_free(&leaf);
	tc_free(&ca);
	assert_int_equal(cert_count(), 0);
}

/* A certificate naming itself as issuer but signed by another key is not a
 * root: self_signed asks the signature, not the name. */
static void
test_self_signed_needs_signature(void **state)
{
	struct tc_spec other = { .cn = "twin" }, twin = { .cn = "twin" };
	struct tc o, t;
	struct cert *c;

	(void)state;
	tc_make(&o, &other, NULL);
	tc_make(&t, &twin, &o);     /* issuer DN "CN=twin", signed by o's key */
	assert_non_null(c = cert_get(t.der.data, t.der.len));
	assert_string_equal(c->subject, c->issuer);
	assert_false(c->self_signed);
	cert_put(c);
	assert_non_null(c = cert_get(o.der.data, o.der.len));
	assert_true(c->self_signed);
	cert_put(c);
	tc_free(&t);
	tc_free(&o);
}

/* An empty subject is legal; the identity is then in the SANs. */
static void
test_empty_subject(void **state)
{
	static const char *const sans[] = { "DNS:only.test", NULL };
	struct tc_spec ca_spec = { .cn = "CA", .ca = 1 };
	struct tc_spec spec = { .cn = NULL, .sans = sans };
	struct tc ca, leaf;
	struct cert *c;

	(void)state;
	tc_make(&ca, &ca_spec, NULL);
	tc_make(&leaf, &spec, &ca);
	assert_non_null(c = cert_get(leaf.der.data, leaf.der.len));
	assert_string_equal(c->subject, "");
	assert_int_equal(c->nsans, 1);
	cert_put(c);
	tc_free(&leaf);
	tc_free(&ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intern),
		cmocka_unit_test(test_not_x509),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_self_signed_needs_signature),
		cmocka_unit_test(test_empty_subject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
