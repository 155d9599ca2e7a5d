/* test_certinfo.c - a certificate for people (certinfo.c): the JSON object
 * made from the interned fields, escaped whatever the subject holds, and
 * the PEM text, which decodes to the same DER. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "testlib.h"
#include "verdict/certinfo.h"
#include "verdict/certs.h"

static void
test_json(void **state)
{
	static const char *const sans[] = { "DNS:a.test", "IP:192.0.2.1", NULL };
	/* a CN chosen to break out of a JSON string if it were not escaped */
	struct tc_spec spec = { .cn = "x\",\"is_ca\":true,\"y\":\"\n", .sans = sans,
		.not_before = 1700000000, .not_after = 1700000000 + 10 * 86400 };
	struct tc a;
	struct cert *c;
	struct buf b;

	(void)state;
	tc_make(&a, &spec, NULL);
	assert_non_null(c = cert_get(a.der.data, a.der.len));
	buf_init(&b);
	certinfo_json(&b, c, 2, 1700000000 + 86400);
	assert_non_null(strstr(b.data, "{\"depth\":2,\"sha256\":\""));
	assert_non_null(strstr(b.data, c->sha256));
	/* GnuTLS's RFC 4514 escapes (\" and \,) stay, JSON-escaped again */
	assert_non_null(strstr(b.data, "\"subject\":\"CN=x\\\\\\\"\\\\,\\\\\\\"is_ca"
	    "\\\\\\\":true\\\\,\\\\\\\"y\\\\\\\":\\\\\\\"\\n\",\"issuer\""));
	assert_non_null(strstr(b.data, "\"not_before\":1700000000,"));
	assert_non_null(strstr(b.data, "\"days_left\":9.00,"));
	assert_non_null(strstr(b.data, "\"key_type\":\"EC/ECDSA\",\"key_bits\":256,"
	    "\"key_curve\":\"SECP256R1\",\"signature_algorithm\":\"ECDSA-SHA256\","
	    "\"is_ca\":false,"));
	assert_non_null(strstr(b.data, "\"sans\":[\"DNS:a.test\",\"IP:192.0.2.1\"]}"));
	assert_int_equal(b.data[b.len - 1], '}');
	buf_free(&b);
	cert_put(c);
	tc_free(&a);
}

/* A certificate made by hand (a test's, or one whose file is gone) has no
 * key details: null, not a crash. */
static void
test_json_sparse(void **state)
{
	struct cert c;
	struct buf b;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(c.sha256, 'a', 64);
	c.subject = (char *)"CN=s";
	c.issuer = (char *)"CN=i";
	c.serial = (char *)"01";
	buf_init(&b);
	certinfo_json(&b, &c, 0, 0);
	assert_non_null(strstr(b.data, "\"key_type\":null,\"key_bits\":0,\"key_curve\":null,"
	    "\"signature_algorithm\":null,\"is_ca\":false,\"sans\":[]}"));
	buf_free(&b);
}

static void
test_pem(void **state)
{
	struct tc_spec spec = { .cn = "pem.test" };
	struct tc a;
	char *pem;
	gnutls_datum_t in, out;

	(void)state;
	tc_make(&a, &spec, NULL);
	pem = certinfo_pem(a.der.data, a.der.len);
	assert_non_null(pem);
	assert_int_equal(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28), 0);
	in.data = (unsigned char *)pem;
	in.size = (unsigned)strlen(pem);
	assert_int_equal(gnutls_pem_base64_decode2("CERTIFICATE", &in, &out), 0);
	assert_int_equal(out.size, a.der.len);
	assert_memory_equal(out.data, a.der.data, a.der.len);
	gnutls_free(out.data);
	free(pem);
	tc_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_sparse),
		cmocka_unit_test(test_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
