/* test_revoke.c - what the CA says, judged by the pure modules of
 * src/verdict: the DER reader, the serial set, CRLs, OCSP, must-staple,
 * ARI and AIA, on a PKI, CRLs and OCSP responses made at test time by
 * openssl ca and openssl ocsp (tests/revpki.sh). */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/aia.h"
#include "verdict/ari.h"
#include "verdict/asn1.h"
#include "verdict/chain.h"
#include "verdict/crl.h"
#include "verdict/ocsp.h"
#include "verdict/revoke.h"
#include "verdict/serials.h"
#include "verdict/x509.h"

#define BASE "http://127.0.0.1:9/pki"
#define OCSP_URL "http://127.0.0.1:9/ocsp"

static char pki_dir[256];

struct blob {
	unsigned char *data;
	size_t len;
};

static struct blob
file(const char *name)
{
	char *p = xasprintf("%s/%s", pki_dir, name);
	FILE *f = fopen(p, "rb");
	struct blob b = { NULL, 0 };
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", p);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b.data = xmalloc((size_t)n + 1);
	b.len = fread(b.data, 1, (size_t)n, f);
	b.data[b.len] = '\0';
	fclose(f);
	free(p);
	return b;
}

/* The DER of a PEM certificate file. */
static struct blob
cert(const char *name)
{
	char *fn = xasprintf("%s.pem", name);
	struct blob pem = file(fn), der;
	gnutls_datum_t in = { pem.data, (unsigned)pem.len }, out;

	assert_int_equal(gnutls_pem_base64_decode2("CERTIFICATE", &in, &out), 0);
	der.data = xmalloc(out.size);
	memcpy(der.data, out.data, out.size);
	der.len = out.size;
	gnutls_free(out.data);
	free(pem.data);
	free(fn);
	return der;
}

/* The serial of a certificate as its DER INTEGER holds it. */
static struct blob
serial_of(const struct blob *c)
{
	gnutls_x509_crt_t crt = x509_import(c->data, c->len);
	struct blob s = { xmalloc(64), 64 };

	assert_non_null(crt);
	assert_int_equal(gnutls_x509_crt_get_serial(crt, s.data, &s.len), 0);
	gnutls_x509_crt_deinit(crt);
	return s;
}

static int
run(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ?
	    0 : -1;
}

static void
rm_tree(const char *dir)
{
	char *const argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)run(argv);
}

static int
group_setup(void **state)
{
	const char *srcdir = getenv("TEST_SRCDIR"), *tmp = getenv("TMPDIR");
	char *script = srcdir && *srcdir ? xasprintf("%s/revpki.sh", srcdir) :
	    xstrdup("tests/revpki.sh");

	(void)state;
	snprintf(pki_dir, sizeof(pki_dir), "%s/test_revoke.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(pki_dir) == NULL)
		return -1;
	char *const argv[] = { "sh", script, pki_dir, BASE, OCSP_URL, NULL };
	if (run(argv) == -1) {
		fprintf(stderr, "sh %s %s failed\n", script, pki_dir);
		free(script);
		return -1;
	}
	free(script);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rm_tree(pki_dir);
	return 0;
}

/* ---- asn1 ------------------------------------------------------------ */

static void
test_asn1_lengths(void **state)
{
	static const unsigned char ok[] = { 0x04, 0x81, 0x80 };
	static const struct {
		unsigned char b[4];
		size_t n;
	} bad[] = {
		{ { 0x04, 0x80 }, 2 },                  /* indefinite */
		{ { 0x04, 0x81, 0x05 }, 3 },            /* long form for a short length */
		{ { 0x04, 0x82, 0x00, 0x90 }, 4 },      /* a leading zero in the length */
		{ { 0x1f, 0x01, 0x00 }, 3 },            /* a multi-byte tag */
		{ { 0x04, 0x05, 0x00 }, 3 },            /* longer than what is left */
		{ { 0x04, 0x85, 0x01, 0x02 }, 4 },      /* a 5-byte length */
		{ { 0x04, 0x82, 0x01 }, 3 },            /* a length cut short */
	};
	unsigned char big[3 + 128];
	struct asn1 c;
	struct asn1_tlv t;

	(void)state;
	memcpy(big, ok, 3);
	memset(big + 3, 'x', 128);
	c = (struct asn1){ big, sizeof(big) };
	assert_int_equal(asn1_next(&c, &t), 0);
	assert_int_equal(t.tag, ASN1_OCTET_STRING);
	assert_int_equal(t.len, 128);
	assert_int_equal(t.rawlen, sizeof(big));
	assert_int_equal(asn1_next(&c, &t), 1);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		c = (struct asn1){ bad[i].b, bad[i].n };
		assert_int_equal(asn1_next(&c, &t), -1);
	}
	c = (struct asn1){ ok, 1 };
	assert_int_equal(asn1_next(&c, &t), -1);
	/* asn1_get leaves the cursor where it was when the tag differs */
	c = (struct asn1){ big, sizeof(big) };
	assert_int_equal(asn1_get(&c, ASN1_INTEGER, &t), -1);
	assert_int_equal(c.n, sizeof(big));
}

static void
time_of(const char *s, unsigned tag, int64_t want, int ok)
{
	struct asn1_tlv t = { .tag = tag, .v = (const unsigned char *)s, .len = strlen(s) };
	int64_t got = 0;

	assert_int_equal(asn1_time(&t, &got), ok ? 0 : -1);
	if (ok && got != want)
		fail_msg("%s: %lld, want %lld", s, (long long)got, (long long)want);
}

static void
test_asn1_times(void **state)
{
	(void)state;
	time_of("700101000000Z", ASN1_UTC_TIME, 0, 1);
	time_of("491231235959Z", ASN1_UTC_TIME, 2524607999LL, 1);     /* 2049 */
	time_of("500101000000Z", ASN1_UTC_TIME, -631152000LL, 1);     /* 1950 */
	time_of("20000229120000Z", ASN1_GENERALIZED, 951825600LL, 1);
	time_of("99991231235959Z", ASN1_GENERALIZED, 253402300799LL, 1);
	time_of("19000229000000Z", ASN1_GENERALIZED, 0, 0);   /* not a leap year */
	time_of("20230230000000Z", ASN1_GENERALIZED, 0, 0);
	time_of("20231301000000Z", ASN1_GENERALIZED, 0, 0);
	time_of("20230101246000Z", ASN1_GENERALIZED, 0, 0);
	time_of("2023010100000Z", ASN1_GENERALIZED, 0, 0);
	time_of("20230101000000+0100", ASN1_GENERALIZED, 0, 0);
	time_of("700101000000Z", ASN1_GENERALIZED, 0, 0);
	time_of("7001010000 0Z", ASN1_UTC_TIME, 0, 0);
}

static void
test_asn1_numbers(void **state)
{
	static const unsigned char oid[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	static const unsigned char zero[] = { 0x00 }, pad[] = { 0x00, 0x05 }, neg[] = { 0x80 };
	static const unsigned char big[] = { 0x00, 0x80 };
	struct asn1_tlv t = { .tag = ASN1_OID, .v = oid, .len = sizeof(oid) };
	char s[64];
	long v;

	(void)state;
	assert_int_equal(asn1_oid_string(&t, s, sizeof(s)), 0);
	assert_string_equal(s, "1.2.840.10045.4.3.2");
	assert_int_equal(asn1_oid_string(&t, s, 10), -1);
	t.len = 2;      /* ends inside an arc */
	assert_int_equal(asn1_oid_string(&t, s, sizeof(s)), -1);
	t = (struct asn1_tlv){ .tag = ASN1_ENUMERATED, .v = zero, .len = 1 };
	assert_int_equal(asn1_small_int(&t, &v), 0);
	assert_int_equal(v, 0);
	t.v = big;
	t.len = 2;
	assert_int_equal(asn1_small_int(&t, &v), 0);
	assert_int_equal(v, 128);
	t.v = pad;
	assert_int_equal(asn1_small_int(&t, &v), -1);
	t.v = neg;
	t.len = 1;
	assert_int_equal(asn1_small_int(&t, &v), -1);
	t.len = 0;
	assert_int_equal(asn1_small_int(&t, &v), -1);
}

/* ---- serials --------------------------------------------------------- */

static uint64_t rng = 88172645463325252ULL;

static void
random_bytes(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p[i] = (unsigned char)rng;
	}
}

static void
check_set(size_t n, size_t len)
{
	struct serials_builder *b = serials_builder_new();
	unsigned char (*keys)[32] = xcalloc(n, sizeof(*keys));
	struct serials *s;
	int64_t when;
	int reason;

	for (size_t i = 0; i < n; i++) {
		random_bytes(keys[i], len);
		keys[i][0] = (unsigned char)(0x10 | (keys[i][0] & 0x6f));     /* positive, minimal */
		assert_int_equal(serials_add(b, keys[i], len, 1700000000 + (int64_t)i,
		    (int)(i % 11)), 0);
	}
	s = serials_build(b);
	assert_int_equal(serials_count(s), n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(serials_find(s, keys[i], len, &when, &reason), 1);
		assert_true(when == 1700000000 + (int64_t)i);
		assert_int_equal(reason, (int)(i % 11));
		/* one bit off: absent (the odds of a random hit are nil) */
		keys[i][len - 1] ^= 0x01;
		assert_int_equal(serials_find(s, keys[i], len, NULL, NULL), 0);
		keys[i][len - 1] ^= 0x01;
	}
	/* per entry: the key's bytes, 4 of time, 1 of reason, and the index */
	assert_true(serials_memory(s) <= n * (len + 5) + 300 * 1024);
	serials_free(s);
	free(keys);
}

static void
test_serials(void **state)
{
	unsigned char a[] = { 0x00, 0x00, 0x12 }, a2[] = { 0x12 };
	unsigned char h[] = { 0x00, 0x87, 0x65 }, h2[] = { 0x87, 0x65 };
	struct serials_builder *b;
	struct serials *s;
	int64_t when;
	int reason;

	(void)state;
	check_set(10, 16);
	check_set(5000, 18);             /* a bucket per first byte */
	check_set(300000, 20);           /* per first two bytes */

	b = serials_builder_new();
	assert_int_equal(serials_add(b, a, sizeof(a), 5, 1), 0);
	assert_int_equal(serials_add(b, a2, sizeof(a2), 6, 2), 0);     /* the same number */
	assert_int_equal(serials_add(b, h, sizeof(h), 7, 3), 0);
	assert_int_equal(serials_add(b, a, 0, 0, 0), -1);
	assert_int_equal(serials_add(b, a, SERIALS_MAX_LEN + 1, 0, 0), -1);
	s = serials_build(b);
	assert_int_equal(serials_count(s), 2);
	assert_int_equal(serials_find(s, a2, 1, &when, &reason), 1);
	assert_true(when == 5 && reason == 1);          /* the first entry stays */
	assert_int_equal(serials_find(s, a, 3, NULL, NULL), 1);    /* non-minimal finds it */
	assert_int_equal(serials_find(s, h, 3, &when, NULL), 1);
	assert_true(when == 7);
	/* 0x87 0x65 alone is a negative number: another serial */
	assert_int_equal(serials_find(s, h2, 2, NULL, NULL), 0);
	serials_free(s);

	s = serials_build(serials_builder_new());
	assert_int_equal(serials_count(s), 0);
	assert_int_equal(serials_find(s, a2, 1, NULL, NULL), 0);
	serials_free(s);
	serials_free(NULL);
}

/* ---- CRLs ------------------------------------------------------------ */

static struct crl *
load_crl(const char *name, const char *issuer)
{
	struct blob data = file(name), is = cert(issuer);
	struct crl *c = NULL;
	char *err = NULL;

	if (crl_load(data.data, data.len, is.data, is.len, &c, &err) == -1)
		fail_msg("%s: %s", name, err);
	assert_null(err);
	assert_true(c->verified);
	free(data.data);
	free(is.data);
	return c;
}

static void
expect_load_error(const char *name, const char *issuer, const char *want)
{
	struct blob data = file(name), is = { NULL, 0 };
	struct crl *c = NULL;
	char *err = NULL;

	if (issuer)
		is = cert(issuer);
	assert_int_equal(crl_load(data.data, data.len, is.data, is.len, &c, &err), -1);
	assert_null(c);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("%s: \"%s\", expected \"%s\"", name, err, want);
	free(err);
	free(data.data);
	free(is.data);
}

static void
check(const struct crl *c, const char *leaf, int is_ca, const char *url, int64_t now,
    struct rev_answer *a)
{
	struct blob lc = cert(leaf), s = serial_of(&lc);

	crl_check(c, s.data, s.len, is_ca, url, now, a);
	free(lc.data);
	free(s.data);
}

static void
test_crl(void **state)
{
	struct crl *c = load_crl("int.crl", "int");
	struct rev_answer a;
	int64_t now = time(NULL);

	(void)state;
	assert_true(c->this_update <= now && c->this_update > now - 3600);
	assert_true(c->next_update > now + 6 * 86400);
	assert_string_equal(c->number, "1000");
	assert_false(c->idp);
	assert_int_equal(serials_count(c->revoked), 2);

	check(c, "good", 0, BASE "/int.crl", now, &a);
	assert_int_equal(a.status, REV_GOOD);
	assert_true(a.next_update == c->next_update);
	check(c, "revoked", 0, BASE "/int.crl", now, &a);
	assert_int_equal(a.status, REV_REVOKED);
	assert_string_equal(rev_reason_name(a.reason), "key_compromise");
	assert_true(a.revoked_at <= now && a.revoked_at > now - 3600);
	check(c, "hold", 0, NULL, now, &a);
	assert_int_equal(a.status, REV_REVOKED);
	assert_string_equal(rev_reason_name(a.reason), "certificate_hold");

	/* time: past nextUpdate it is stale, before thisUpdate not yet valid */
	check(c, "revoked", 0, NULL, c->next_update, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "stale CRL (nextUpdate passed)");
	assert_true(a.next_update == c->next_update);
	check(c, "good", 0, NULL, c->this_update - 3600, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "CRL not yet valid (thisUpdate in the future)");

	/* the times alone, for the cache: DER and PEM, no entries read */
	{
		struct blob der = file("int.crl"), pem = file("int-pem.crl");
		int64_t tu, nu;

		assert_int_equal(crl_times(der.data, der.len, &tu, &nu), 0);
		assert_true(tu == c->this_update && nu == c->next_update);
		assert_int_equal(crl_times(pem.data, pem.len, &tu, &nu), 0);
		assert_true(tu == c->this_update && nu == c->next_update);
		assert_int_equal(crl_times(der.data, der.len / 2, &tu, &nu), -1);
		assert_true(tu == 0 && nu == 0);
		assert_int_equal(crl_times((const unsigned char *)"junk", 4, &tu, &nu), -1);
		free(der.data);
		free(pem.data);
	}
	crl_free(c);

	/* an intermediate, revoked by the root's CRL */
	c = load_crl("root.crl", "root");
	check(c, "int2", 1, BASE "/root.crl", now, &a);
	assert_int_equal(a.status, REV_REVOKED);
	assert_string_equal(rev_reason_name(a.reason), "ca_compromise");
	check(c, "int", 1, BASE "/root.crl", now, &a);
	assert_int_equal(a.status, REV_GOOD);
	crl_free(c);

	/* PEM is the same CRL */
	c = load_crl("int-pem.crl", "int");
	assert_int_equal(serials_count(c->revoked), 2);
	crl_free(c);

	/* stale when made */
	c = load_crl("int-stale.crl", "int");
	check(c, "good", 0, NULL, now, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "stale CRL (nextUpdate passed)");
	crl_free(c);

	/* a partitioned CRL answers only for its own distribution point */
	c = load_crl("int-idp.crl", "int");
	assert_true(c->idp);
	assert_int_equal(c->nidp_urls, 1);
	assert_string_equal(c->idp_urls[0], BASE "/other.crl");
	check(c, "good", 0, BASE "/int.crl", now, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_non_null(strstr(a.error, "issuingDistributionPoint"));
	check(c, "good", 0, BASE "/other.crl", now, &a);
	assert_int_equal(a.status, REV_GOOD);
	crl_free(c);
}

static void
test_crl_refused(void **state)
{
	struct blob data = file("int.crl");
	struct crl *c;
	char *err;

	(void)state;
	expect_load_error("int-badsig.crl", "int", "bad signature");
	expect_load_error("int.crl", "root", "is not the certificate's issuer");
	expect_load_error("int.crl", "good", "is not the certificate's issuer");
	expect_load_error("int.pem", "int", "not a DER CRL");
	expect_load_error("root.cer", NULL, "malformed");
	/* every truncation is refused, none read past the end */
	for (size_t n = 0; n < data.len; n++) {
		err = NULL;
		assert_int_equal(crl_load(data.data, n, NULL, 0, &c, &err), -1);
		assert_non_null(err);
		free(err);
	}
	/* without an issuer: parsed, not verified, and not believed */
	err = NULL;
	assert_int_equal(crl_load(data.data, data.len, NULL, 0, &c, &err), 0);
	assert_false(c->verified);
	struct rev_answer a;
	check(c, "revoked", 0, NULL, time(NULL), &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "CRL signature not verified");
	crl_free(c);
	free(data.data);
}

/* Our parse agrees with GnuTLS's on every serial (on a CRL small enough
 * for gnutls_x509_crl_import). */
static void
test_crl_agrees_with_gnutls(void **state)
{
	struct blob data = file("int.crl");
	struct crl *c = NULL;
	gnutls_x509_crl_t g;
	gnutls_x509_crl_iter_t it = NULL;
	gnutls_datum_t d = { data.data, (unsigned)data.len };
	unsigned char s[64];
	size_t len = sizeof(s), n = 0;
	time_t t;
	char *err = NULL;

	(void)state;
	assert_int_equal(crl_load(data.data, data.len, NULL, 0, &c, &err), 0);
	assert_int_equal(gnutls_x509_crl_init(&g), 0);
	assert_int_equal(gnutls_x509_crl_import(g, &d, GNUTLS_X509_FMT_DER), 0);
	assert_true(gnutls_x509_crl_get_this_update(g) == c->this_update);
	assert_true(gnutls_x509_crl_get_next_update(g) == c->next_update);
	while (gnutls_x509_crl_iter_crt_serial(g, &it, s, &len, &t) == 0) {
		int64_t when;

		assert_int_equal(serials_find(c->revoked, s, len, &when, NULL), 1);
		assert_true(when == t);
		len = sizeof(s);
		n++;
	}
	assert_int_equal(n, serials_count(c->revoked));
	gnutls_x509_crl_iter_deinit(it);
	gnutls_x509_crl_deinit(g);
	crl_free(c);
	free(data.data);
}

static void
test_crl_urls(void **state)
{
	struct blob c = cert("good"), n = cert("noext"), i = cert("int");
	char **urls;

	(void)state;
	assert_int_equal(crl_urls(c.data, c.len, &urls), 1);
	assert_string_equal(urls[0], BASE "/int.crl");
	urls_free(urls, 1);
	assert_int_equal(crl_urls(i.data, i.len, &urls), 1);
	assert_string_equal(urls[0], BASE "/root.crl");
	urls_free(urls, 1);
	assert_int_equal(crl_urls(n.data, n.len, &urls), 0);
	assert_null(urls);
	assert_int_equal(crl_urls((const unsigned char *)"junk", 4, &urls), -1);
	free(c.data);
	free(n.data);
	free(i.data);
}

/* ---- OCSP ------------------------------------------------------------ */

static void
ocsp_of(const char *resp, const char *leaf, int64_t now, struct rev_answer *a)
{
	char *fn = xasprintf("ocsp-%s.der", resp);
	struct blob r = file(fn), c = cert(leaf), i = cert("int");

	ocsp_check(r.data, r.len, c.data, c.len, i.data, i.len, now, a);
	free(r.data);
	free(c.data);
	free(i.data);
	free(fn);
}

static void
test_ocsp(void **state)
{
	struct rev_answer a;
	int64_t now = time(NULL);

	(void)state;
	ocsp_of("good", "good", now, &a);
	assert_int_equal(a.status, REV_GOOD);
	assert_true(a.this_update <= now + 1 && a.this_update > now - 3600);
	assert_true(a.next_update > now + 86400 && a.next_update <= now + 2 * 86400 + 5);
	ocsp_of("revoked", "revoked", now, &a);
	assert_int_equal(a.status, REV_REVOKED);
	assert_string_equal(rev_reason_name(a.reason), "key_compromise");
	assert_true(a.revoked_at <= now && a.revoked_at > now - 3600);
	ocsp_of("hold", "hold", now, &a);
	assert_int_equal(a.status, REV_REVOKED);
	assert_string_equal(rev_reason_name(a.reason), "certificate_hold");
	ocsp_of("unknown", "unlisted", now, &a);
	assert_int_equal(a.status, REV_UNKNOWN);
	/* signed by a responder the issuer delegated to */
	ocsp_of("delegated", "good", now, &a);
	assert_int_equal(a.status, REV_GOOD);
	ocsp_of("nocerts", "good", now, &a);
	assert_int_equal(a.status, REV_GOOD);

	/* refused */
	ocsp_of("wrongsigner", "good", now, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_non_null(strstr(a.error, "OCSP response: "));
	ocsp_of("badsig", "good", now, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "OCSP response: bad signature");
	ocsp_of("good", "revoked", now, &a);       /* the right signature, another CertID */
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "OCSP response is for another certificate");
	ocsp_of("good", "good", now + 3 * 86400, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "expired OCSP response (nextUpdate passed)");
	assert_true(a.next_update > now);
	ocsp_of("good", "good", now - 3600, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "OCSP response not yet valid (thisUpdate in the future)");

	/* the times alone, for the cache */
	{
		struct blob r = file("ocsp-good.der");
		int64_t tu, nu;

		ocsp_of("good", "good", now, &a);
		assert_int_equal(ocsp_times(r.data, r.len, &tu, &nu), 0);
		assert_true(tu == a.this_update && nu == a.next_update);
		assert_int_equal(ocsp_times(r.data, r.len - 10, &tu, &nu), -1);
		assert_int_equal(ocsp_times(NULL, 0, &tu, &nu), -1);
		free(r.data);
	}
}

static void
test_ocsp_malformed(void **state)
{
	struct blob r = file("ocsp-good.der"), c = cert("good"), i = cert("int");
	struct rev_answer a;
	int64_t now = time(NULL);

	(void)state;
	/* every truncation is refused */
	for (size_t n = 0; n < r.len; n++) {
		ocsp_check(r.data, n, c.data, c.len, i.data, i.len, now, &a);
		assert_int_equal(a.status, REV_ERROR);
	}
	ocsp_check((const unsigned char *)"\x30\x03\x0a\x01\x03", 5, c.data, c.len, i.data, i.len,
	    now, &a);
	assert_int_equal(a.status, REV_ERROR);
	assert_string_equal(a.error, "the responder answered tryLater");
	ocsp_check(r.data, r.len, (const unsigned char *)"x", 1, i.data, i.len, now, &a);
	assert_string_equal(a.error, "the certificate does not parse");
	free(r.data);
	free(c.data);
	free(i.data);
}

static void
test_ocsp_request(void **state)
{
	struct blob c = cert("good"), i = cert("int"), want = file("req-good.der");
	unsigned char *der;
	size_t len;
	char *err;

	(void)state;
	/* what openssl ocsp -no_nonce asks, byte for byte */
	assert_int_equal(ocsp_request(c.data, c.len, i.data, i.len, &der, &len, &err), 0);
	assert_int_equal(len, want.len);
	assert_memory_equal(der, want.data, len);
	free(der);
	assert_int_equal(ocsp_request(c.data, c.len, (const unsigned char *)"x", 1, &der, &len,
	    &err), -1);
	assert_string_equal(err, "the issuer certificate does not parse");
	free(err);
	free(c.data);
	free(i.data);
	free(want.data);
}

static void
test_ocsp_urls_and_must_staple(void **state)
{
	struct blob g = cert("good"), m = cert("muststaple"), n = cert("noext");
	char **urls;

	(void)state;
	assert_int_equal(ocsp_urls(g.data, g.len, &urls), 1);
	assert_string_equal(urls[0], OCSP_URL);
	urls_free(urls, 1);
	assert_int_equal(ocsp_urls(n.data, n.len, &urls), 0);
	assert_int_equal(ocsp_must_staple(m.data, m.len), 1);
	assert_int_equal(ocsp_must_staple(g.data, g.len), 0);
	assert_int_equal(ocsp_must_staple((const unsigned char *)"x", 1), -1);
	free(g.data);
	free(m.data);
	free(n.data);
}

/* ---- ARI ------------------------------------------------------------- */

static void
test_ari_cert_id(void **state)
{
	/* RFC 9773 4.1's example */
	static const unsigned char kid[] = { 0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1,
		0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4 };
	static const unsigned char serial[] = { 0x00, 0x87, 0x65, 0x43, 0x21 };
	struct blob h = cert("highserial"), n = cert("int");
	gnutls_x509_crt_t crt;
	unsigned char aki[64];
	size_t aki_len = sizeof(aki);
	unsigned critical;
	char *s, *id, *key, *err, *want;

	(void)state;
	s = ari_base64url(kid, sizeof(kid));
	assert_string_equal(s, "aYhba4dGQEHhs3uEe6CuLN4ByNQ");
	free(s);
	s = ari_base64url(serial, sizeof(serial));
	assert_string_equal(s, "AIdlQyE");
	free(s);
	s = ari_base64url((const unsigned char *)"\xfb\xff", 2);
	assert_string_equal(s, "-_8");
	free(s);

	/* the same from a certificate: its AKI, its serial with the 0x00 DER keeps */
	crt = x509_import(h.data, h.len);
	assert_int_equal(gnutls_x509_crt_get_authority_key_id(crt, aki, &aki_len, &critical), 0);
	gnutls_x509_crt_deinit(crt);
	s = ari_base64url(aki, aki_len);
	want = xasprintf("%s.AIdlQyE", s);
	assert_int_equal(ari_cert_id(h.data, h.len, &id, &key, &err), 0);
	assert_string_equal(id, want);
	assert_string_equal(key, s);
	free(id);
	free(key);
	free(want);
	free(s);
	/* a root has no AKI keyIdentifier */
	free(n.data);
	n = cert("root");
	assert_int_equal(ari_cert_id(n.data, n.len, &id, NULL, &err), -1);
	assert_string_equal(err, "no authority key identifier");
	free(err);
	free(n.data);
	free(h.data);
}

static void
test_ari_directory(void **state)
{
	static const char dir[] = "{\"newNonce\": \"https://acme.example/new-nonce\",\n"
	    " \"renewalInfo\": \"https://acme.example/renewal-info\"}";
	char *url, *err, *u;

	(void)state;
	assert_int_equal(ari_directory(dir, strlen(dir), &url, &err), 0);
	assert_string_equal(url, "https://acme.example/renewal-info");
	u = ari_url(url, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	assert_string_equal(u, "https://acme.example/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	free(u);
	u = ari_url("https://acme.example/ri/", "x.y");
	assert_string_equal(u, "https://acme.example/ri/x.y");
	free(u);
	free(url);

	const char *bad[] = {
		"{\"newNonce\": \"x\"}",
		"{\"renewalInfo\": 5}",
		"{\"renewalInfo\": \"ftp://acme.example/ri\"}",
		"{\"renewalInfo\": \"https://a.example/\\u0000x\"}",
		"{\"renewalInfo\": \"https://a\", \"renewalInfo\": \"https://b\"}",
		"[\"renewalInfo\"]",
		"{\"renewalInfo\": ",
		"",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(ari_directory(bad[i], strlen(bad[i]), &url, &err), -1);
		assert_null(url);
		assert_non_null(err);
		free(err);
	}
}

static void
test_ari_window(void **state)
{
	static const char ok[] = "{\"suggestedWindow\": {\"start\": \"2025-01-02T04:00:00Z\",\n"
	    "  \"end\": \"2025-01-03T04:00:00Z\"},\n"
	    " \"explanationURL\": \"https://acme.example.com/docs/ari\"}";
	struct ari_window w;
	char *err;
	int64_t t;

	(void)state;
	assert_int_equal(ari_window_parse(ok, strlen(ok), &w, &err), 0);
	assert_true(w.start == 1735790400 && w.end == 1735876800);
	assert_string_equal(w.explanation_url, "https://acme.example.com/docs/ari");
	assert_int_equal(ari_phase_at(&w, 1735790399), ARI_BEFORE);
	assert_int_equal(ari_phase_at(&w, 1735790400), ARI_OPEN);
	assert_int_equal(ari_phase_at(&w, 1735876800), ARI_PASSED);
	ari_window_free(&w);

	assert_int_equal(ari_parse_time("2025-01-02T04:00:00.123456Z", &t), 0);
	assert_true(t == 1735790400);
	assert_int_equal(ari_parse_time("2025-01-02t05:30:00+01:30", &t), 0);
	assert_true(t == 1735790400);
	assert_int_equal(ari_parse_time("2025-01-01T23:00:00-05:00", &t), 0);
	assert_true(t == 1735790400);
	const char *bad_times[] = { "2025-01-02 04:00:00Z", "2025-01-02T04:00:00", "2025-02-29T00:00:00Z",
		"2025-13-01T00:00:00Z", "2025-01-02T04:00:00.Z", "2025-01-02T04:00:00Zjunk",
		"2025-01-02T04:00:00+1:00", "0000-01-01T00:00:00Z", "" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_times); i++)
		assert_int_equal(ari_parse_time(bad_times[i], &t), -1);

	const char *bad[] = {
		"{\"suggestedWindow\": {\"start\": \"2025-01-03T04:00:00Z\", \"end\": \"2025-01-03T04:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": \"2025-01-03T04:00:00Z\", \"end\": \"2025-01-02T04:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": \"2025-01-03T04:00:00Z\"}}",
		"{\"suggestedWindow\": {\"start\": 1, \"end\": 2}}",
		"{\"suggestedWindow\": \"soon\"}",
		"{}",
		"{\"suggestedWindow\": {\"start\": \"yesterday\", \"end\": \"tomorrow\"}}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(ari_window_parse(bad[i], strlen(bad[i]), &w, &err), -1);
		assert_non_null(err);
		free(err);
	}
	/* no explanation, or one that is not a string: the window still counts */
	static const char plain[] = "{\"suggestedWindow\": {\"start\": \"2025-01-02T04:00:00Z\","
	    " \"end\": \"2025-01-03T04:00:00Z\"}, \"explanationURL\": 7}";
	assert_int_equal(ari_window_parse(plain, strlen(plain), &w, &err), 0);
	assert_null(w.explanation_url);
	ari_window_free(&w);
}

static void
test_ari_poll(void **state)
{
	(void)state;
	assert_true(ari_next_poll(0, 1000) == 1000 + ARI_DEFAULT_POLL);
	assert_true(ari_next_poll(1010, 1000) == 1000 + ARI_MIN_POLL);
	assert_true(ari_next_poll(1000 + 21600, 1000) == 1000 + 21600);
	assert_true(ari_next_poll(1000 + 10 * 86400, 1000) == 1000 + ARI_MAX_POLL);
	assert_true(ari_next_poll(500, 1000) == 1000 + ARI_MIN_POLL);   /* in the past */
}

/* ---- AIA ------------------------------------------------------------- */

static void
test_aia(void **state)
{
	struct blob g = cert("good"), i = cert("int"), u = cert("under2"), i2 = cert("int2");
	struct blob der = file("int.cer"), p7 = file("int.p7c"), pem = file("int.pem");
	struct blob root = cert("root");
	struct der *certs;
	struct trust *t;
	size_t n;
	char **urls, *err, *ca = xasprintf("%s/root.pem", pki_dir);
	int64_t now = time(NULL);

	(void)state;
	assert_int_equal(aia_urls(g.data, g.len, &urls), 1);
	assert_string_equal(urls[0], BASE "/int.cer");
	urls_free(urls, 1);

	assert_int_equal(aia_parse(der.data, der.len, &certs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(certs[0].data, i.data, i.len);
	aia_certs_free(certs, n);
	assert_int_equal(aia_parse(p7.data, p7.len, &certs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(certs[0].len, i.len);
	assert_memory_equal(certs[0].data, i.data, i.len);
	aia_certs_free(certs, n);
	assert_int_equal(aia_parse(pem.data, pem.len, &certs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(certs[0].data, i.data, i.len);
	aia_certs_free(certs, n);
	assert_int_equal(aia_parse((const unsigned char *)"<html>", 6, &certs, &n, &err), -1);
	assert_string_equal(err, "not a certificate (DER, PEM or PKCS#7)");
	free(err);
	for (size_t k = 1; k < der.len; k += 37) {
		err = NULL;
		if (aia_parse(der.data, k, &certs, &n, &err) == 0)
			aia_certs_free(certs, n);
		else
			free(err);
	}

	t = trust_load(ca, &err);
	assert_non_null(t);
	struct der leaf = { g.data, g.len }, mid = { i.data, i.len }, other = { root.data, root.len };
	struct der leaf2 = { u.data, u.len }, mid2 = { i2.data, i2.len };
	assert_int_equal(aia_completes(&leaf, 1, &mid, 1, t, now), 1);
	assert_int_equal(aia_completes(&leaf, 1, &other, 1, t, now), 0);
	assert_int_equal(aia_completes(&leaf, 1, &mid2, 1, t, now), 0);
	assert_int_equal(aia_completes(&leaf2, 1, &mid2, 1, t, now), 1);
	assert_int_equal(aia_completes(&leaf, 1, NULL, 0, t, now), 0);
	trust_free(t);
	free(ca);
	free(g.data);
	free(i.data);
	free(u.data);
	free(i2.data);
	free(der.data);
	free(p7.data);
	free(pem.data);
	free(root.data);
}

static void
test_words(void **state)
{
	static const char *const want[] = { "unspecified", "key_compromise", "ca_compromise",
		"affiliation_changed", "superseded", "cessation_of_operation", "certificate_hold",
		"unspecified", "remove_from_crl", "privilege_withdrawn", "aa_compromise" };

	(void)state;
	for (int i = 0; i <= REV_REASON_MAX; i++)
		assert_string_equal(rev_reason_name(i), want[i]);
	assert_string_equal(rev_reason_name(-1), "unspecified");
	assert_string_equal(rev_reason_name(99), "unspecified");
	assert_string_equal(rev_status_name(REV_GOOD), "good");
	assert_string_equal(rev_status_name(REV_REVOKED), "revoked");
	assert_string_equal(rev_status_name(REV_UNKNOWN), "unknown");
	assert_string_equal(rev_status_name(REV_ERROR), "error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asn1_lengths),
		cmocka_unit_test(test_asn1_times),
		cmocka_unit_test(test_asn1_numbers),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_crl_refused),
		cmocka_unit_test(test_crl_agrees_with_gnutls),
		cmocka_unit_test(test_crl_urls),
		cmocka_unit_test(test_ocsp),
		cmocka_unit_test(test_ocsp_malformed),
		cmocka_unit_test(test_ocsp_request),
		cmocka_unit_test(test_ocsp_urls_and_must_staple),
		cmocka_unit_test(test_ari_cert_id),
		cmocka_unit_test(test_ari_directory),
		cmocka_unit_test(test_ari_window),
		cmocka_unit_test(test_ari_poll),
		cmocka_unit_test(test_aia),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
