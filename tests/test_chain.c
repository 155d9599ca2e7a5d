/* test_chain.c - certificate interning, chain verdicts and chain analysis,
 * against the PKI that tests/pki.sh makes at test time. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/x509.h>

#include "verdict/certs.h"
#include "verdict/chain.h"
#include "verdict/verdict.h"
#include "core/util.h"
#include "testpki.h"

/* The subject tests/mkcert.c gives hostile.pem, as GnuTLS prints it
 * (RFC 4514: quotes and backslashes escaped, the newline left raw). */
static const char hostile_subject[] =
    "CN=evil\\\"} tlswatch_probe_success{target=\\\"forged\\\"} 1\nx\\\\y,"
    "O=org\\\"} 1\ntlswatch_up{x=\\\"\\\\\\\"} 1";

static struct trust *pki_trust;
/* Certificates interned when the test began: each test gives back all it
 * took, and a failed one does not make the next fail too. */
static size_t live0;

/* notAfter of the single certificate in NAME. */
static int64_t
not_after(const char *name)
{
	struct pem p;
	struct cert *c;
	int64_t t;

	pem_load(&p, name);
	assert_non_null(c = cert_get(p.der[0].data, p.der[0].len));
	t = c->not_after;
	cert_put(c);
	pem_free(&p);
	return t;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Verify the chain in NAME for HOST now, and check the whole verdict. */
static void
check_chain(const char *name, const char *host, int verified,
    uint64_t reasons, uint64_t issues, struct verdict *out)
{
	struct pem p;
	struct verdict v;

	pem_load(&p, name);
	assert_int_equal(verdict_verify(p.der, p.n, pki_trust, host, time(NULL),
	    &v), 0);
	if (v.verified != verified || v.reasons != reasons ||
	    v.issues != issues)
		print_error("%s for %s: verified %d reasons %#llx issues %#llx "
		    "gnutls %#x\n", name, host ? host : "(none)", v.verified,
		    (unsigned long long)v.reasons, (unsigned long long)v.issues,
		    v.gnutls_status);
	assert_int_equal(v.verified, verified);
	assert_int_equal(v.reasons, reasons);
	assert_int_equal(v.issues, issues);
	if (!verified)
		assert_int_equal(v.verified_expiry, 0);
	/* the path it verified, leaf first, a trust anchor last */
	if (verified) {
		struct cert *leaf = cert_get(p.der[0].data, p.der[0].len);

		assert_true(v.npath >= 2);
		assert_ptr_equal(v.path[0], leaf);
		assert_true(v.path[v.npath - 1] != NULL && v.path[v.npath - 1]->is_ca);
		cert_put(leaf);
	} else {
		assert_int_equal(v.npath, 0);
	}
	pem_free(&p);
	if (out != NULL) {
		*out = v;       /* its dates and bits; what it holds goes below */
		out->detail = NULL;
		out->path = NULL;
		out->npath = 0;
		out->anchor_der = NULL;
	}
	verdict_fini(&v);
	/* Verifying must not leave references behind. */
	assert_int_equal(cert_count(), live0);
}

static int
teardown(void **state)
{
	(void)state;
	trust_free(pki_trust);
	pki_trust = NULL;
	testpki_remove();
	return 0;
}

static int
setup(void **state)
{
	char *ca, *err = NULL;

	if (testpki_make("test_chain") == -1)
		return -1;
	ca = pki_path("ca.pem");
	pki_trust = trust_load(ca, &err);
	free(ca);
	if (pki_trust == NULL) {
		fprintf(stderr, "trust_load: %s\n", err);
		free(err);
		teardown(state);
		return -1;
	}
	return 0;
}

static int
note_count(void **state)
{
	(void)state;
	live0 = cert_count();
	return 0;
}

/* What certtool -i prints for one certificate. */
struct certtool_info {
	char serial[128];
	char subject[512];
	char issuer[512];
	char sha256[65];
	int64_t not_before;
	int64_t not_after;
};

static int64_t
certtool_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(s, "%a %b %d %H:%M:%S UTC %Y", &tm));
	return (int64_t)timegm(&tm);
}

static void
certtool_info(const char *name, struct certtool_info *ci)
{
	char *path = pki_path(name), *cmd, line[1024], *s;
	int want_sha = 0;
	FILE *f;

	memset(ci, 0, sizeof(*ci));
	cmd = xasprintf("certtool -i --infile '%s'", path);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (s = line; *s == '\t' || *s == ' '; s++)
			;
		if (strncmp(s, "Serial Number (hex): ", 21) == 0)
			snprintf(ci->serial, sizeof(ci->serial), "%s", s + 21);
		else if (strncmp(s, "Subject: ", 9) == 0)
			snprintf(ci->subject, sizeof(ci->subject), "%s", s + 9);
		else if (strncmp(s, "Issuer: ", 8) == 0)
			snprintf(ci->issuer, sizeof(ci->issuer), "%s", s + 8);
		else if (strncmp(s, "Not Before: ", 12) == 0)
			ci->not_before = certtool_time(s + 12);
		else if (strncmp(s, "Not After: ", 11) == 0)
			ci->not_after = certtool_time(s + 11);
		else if (strcmp(s, "Fingerprint:") == 0)
			want_sha = 1;
		else if (want_sha && strncmp(s, "sha256:", 7) == 0) {
			snprintf(ci->sha256, sizeof(ci->sha256), "%s", s + 7);
			want_sha = 0;
		}
	}
	assert_int_equal(pclose(f), 0);
	free(cmd);
	free(path);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(verdict_word(VERDICT_REASON, 0), "expired");
	assert_string_equal(verdict_word(VERDICT_REASON, 1), "not_yet_valid");
	assert_string_equal(verdict_word(VERDICT_REASON, 2), "unknown_issuer");
	assert_string_equal(verdict_word(VERDICT_REASON, 3), "self_signed");
	assert_string_equal(verdict_word(VERDICT_REASON, 4), "signer_not_ca");
	assert_string_equal(verdict_word(VERDICT_REASON, 5), "hostname_mismatch");
	assert_string_equal(verdict_word(VERDICT_REASON, 6), "insecure_algorithm");
	assert_string_equal(verdict_word(VERDICT_REASON, 7), "bad_signature");
	assert_string_equal(verdict_word(VERDICT_REASON, 8), "revoked");
	assert_string_equal(verdict_word(VERDICT_REASON, 9), "revocation_unknown");
	assert_string_equal(verdict_word(VERDICT_REASON, 10), "other");
	assert_null(verdict_word(VERDICT_REASON, VERDICT_NREASONS));
	assert_null(verdict_word(VERDICT_REASON, 1000));
	assert_string_equal(verdict_word(VERDICT_CHAIN_ISSUE, 0), "misordered");
	assert_string_equal(verdict_word(VERDICT_CHAIN_ISSUE, 1), "incomplete");
	assert_string_equal(verdict_word(VERDICT_CHAIN_ISSUE, 2), "root_included");
	assert_string_equal(verdict_word(VERDICT_CHAIN_ISSUE, 3), "duplicate");
	assert_string_equal(verdict_word(VERDICT_CHAIN_ISSUE, 4), "must_staple_missing");
	assert_string_equal(verdict_word(VERDICT_CHAIN_ISSUE, 5), "aia_completes");
	assert_null(verdict_word(VERDICT_CHAIN_ISSUE, VERDICT_NCHAIN_ISSUES));
}

static void
test_cert_fields(void **state)
{
	static const char *const names[] = { "good.pem", "int.pem", "ca.pem",
	    "selfsigned.pem", "expired.pem", "hostile.pem" };
	struct certtool_info ci;
	struct pem p;
	struct cert *c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		pem_load(&p, names[i]);
		certtool_info(names[i], &ci);
		assert_non_null(c = cert_get(p.der[0].data, p.der[0].len));
		assert_string_equal(c->serial, ci.serial);
		assert_string_equal(c->sha256, ci.sha256);
		assert_string_equal(c->issuer, ci.issuer);
		/* certtool prints a multi-line subject over lines; compare its
		 * first line only (the hostile one is checked in full below). */
		assert_memory_equal(c->subject, ci.subject, strlen(ci.subject));
		assert_true(c->not_before - ci.not_before <= 1 &&
		    ci.not_before - c->not_before <= 1);
		assert_true(c->not_after - ci.not_after <= 1 &&
		    ci.not_after - c->not_after <= 1);
		cert_put(c);
		pem_free(&p);
	}
	assert_int_equal(cert_count(), live0);
}

static void
test_cert_flags(void **state)
{
	static const struct {
		const char *name;
		int self_signed, is_ca;
		const char *subject, *issuer;
	} want[] = {
		{ "ca.pem", 1, 1, "CN=tlswatch Test Root CA",
		    "CN=tlswatch Test Root CA" },
		{ "int.pem", 0, 1, "CN=tlswatch Test Intermediate CA",
		    "CN=tlswatch Test Root CA" },
		{ "int2.pem", 0, 1, "CN=tlswatch Test Intermediate 2",
		    "CN=tlswatch Test Intermediate CA" },
		{ "good.pem", 0, 0, "CN=good.test",
		    "CN=tlswatch Test Intermediate CA" },
		{ "selfsigned.pem", 1, 0, "CN=good.test", "CN=good.test" },
		{ "untrusted-ca.pem", 1, 1, "CN=Untrusted Root CA",
		    "CN=Untrusted Root CA" },
		{ "client.pem", 0, 0, "CN=tlswatch client",
		    "CN=tlswatch Test Intermediate CA" },
	};
	struct pem p;
	struct cert *c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		pem_load(&p, want[i].name);
		assert_non_null(c = cert_get(p.der[0].data, p.der[0].len));
		if (c->self_signed != want[i].self_signed ||
		    c->is_ca != want[i].is_ca)
			print_error("%s: self_signed %d is_ca %d\n",
			    want[i].name, c->self_signed, c->is_ca);
		assert_int_equal(c->self_signed, want[i].self_signed);
		assert_int_equal(c->is_ca, want[i].is_ca);
		assert_string_equal(c->subject, want[i].subject);
		assert_string_equal(c->issuer, want[i].issuer);
		cert_put(c);
		pem_free(&p);
	}
}

static void
test_cert_intern(void **state)
{
	static const unsigned char garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	struct pem p;
	struct cert *a, *b, *c;
	unsigned char *copy;

	(void)state;
	assert_int_equal(cert_count(), live0);
	pem_load(&p, "good-chain.pem");
	/* A separate copy: interning is by content, not by address. */
	copy = xmalloc(p.der[0].len);
	memcpy(copy, p.der[0].data, p.der[0].len);
	assert_non_null(a = cert_get(p.der[0].data, p.der[0].len));
	assert_non_null(b = cert_get(copy, p.der[0].len));
	assert_ptr_equal(a, b);
	assert_int_equal(a->refs, 2);
	assert_int_equal(cert_count(), live0 + 1);
	assert_non_null(c = cert_get(p.der[1].data, p.der[1].len));
	assert_ptr_not_equal(a, c);
	assert_int_equal(cert_count(), live0 + 2);
	assert_ptr_equal(cert_ref(c), c);
	assert_int_equal(c->refs, 2);
	cert_put(c);
	cert_put(c);
	assert_int_equal(cert_count(), live0 + 1);
	cert_put(b);
	assert_int_equal(a->refs, 1);
	cert_put(a);
	assert_int_equal(cert_count(), live0);
	cert_put(NULL);
	assert_null(cert_ref(NULL));

	assert_null(cert_get(garbage, sizeof(garbage)));
	assert_null(cert_get(copy, p.der[0].len / 2));
	assert_null(cert_get(copy, 0));
	copy[p.der[0].len / 2] ^= 0xff;	/* may still parse: just no crash */
	cert_put(cert_get(copy, p.der[0].len));
	assert_int_equal(cert_count(), live0);
	free(copy);
	pem_free(&p);
}

/* A self-signed certificate numbered i, made here: the intern table must
 * grow well past its first size and still find every certificate. */
static void
make_cert(gnutls_x509_privkey_t key, unsigned i, gnutls_digest_algorithm_t dig,
    gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	unsigned char serial[4] = { 0x01, (unsigned char)(i >> 16),
	    (unsigned char)(i >> 8), (unsigned char)i };
	char cn[32];
	time_t now = time(NULL);

	snprintf(cn, sizeof(cn), "n%u.test", i);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial,
	    sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + 86400),
	    0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, dig, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
	    der), 0);
	gnutls_x509_crt_deinit(crt);
}

static void
test_cert_table(void **state)
{
	enum { N = 300 };
	gnutls_x509_privkey_t key;
	gnutls_datum_t der[N];
	struct cert *held[N], *c;
	char serial[16];
	unsigned i;

	(void)state;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	for (i = 0; i < N; i++) {
		make_cert(key, i, GNUTLS_DIG_SHA256, &der[i]);
		assert_non_null(held[i] = cert_get(der[i].data, der[i].size));
		assert_int_equal(cert_count(), live0 + i + 1);
	}
	for (i = 0; i < N; i++) {
		assert_non_null(c = cert_get(der[i].data, der[i].size));
		assert_ptr_equal(c, held[i]);
		assert_int_equal(c->refs, 2);
		assert_int_equal(c->self_signed, 1);
		assert_int_equal(c->is_ca, 0);
		snprintf(serial, sizeof(serial), "01%06x", i);
		assert_string_equal(c->serial, serial);
		cert_put(c);
	}
	/* The name matches but the signature does not: not self-signed. */
	{
		unsigned char *bad = xmalloc(der[0].size);

		memcpy(bad, der[0].data, der[0].size);
		bad[der[0].size - 1] ^= 0x55;
		assert_non_null(c = cert_get(bad, der[0].size));
		assert_ptr_not_equal(c, held[0]);
		assert_int_equal(c->self_signed, 0);
		cert_put(c);
		free(bad);
	}
	/* Signed with SHA-1, as old roots are: still self-signed. */
	{
		gnutls_datum_t sha1;

		make_cert(key, N, GNUTLS_DIG_SHA1, &sha1);
		assert_non_null(c = cert_get(sha1.data, sha1.size));
		assert_int_equal(c->self_signed, 1);
		cert_put(c);
		gnutls_free(sha1.data);
	}
	/* Free in an order unlike the insertion order. */
	for (i = 0; i < N; i += 2)
		cert_put(held[i]);
	for (i = 1; i < N; i += 2)
		cert_put(held[i]);
	assert_int_equal(cert_count(), live0);
	for (i = 0; i < N; i++)
		gnutls_free(der[i].data);
	gnutls_x509_privkey_deinit(key);
}

static void
test_good(void **state)
{
	struct verdict v;
	int64_t leaf, inter, root;

	(void)state;
	leaf = not_after("good.pem");
	inter = not_after("int.pem");
	root = not_after("ca.pem");
	check_chain("good-chain.pem", "good.test", 1, 0, 0, &v);
	assert_int_equal(v.gnutls_status, 0);
	assert_int_equal(v.earliest_expiry, min64(leaf, inter));
	assert_int_equal(v.verified_expiry, min64(min64(leaf, inter), root));
	check_chain("good-chain.pem", "localhost", 1, 0, 0, NULL);
	check_chain("good-chain.pem", "127.0.0.1", 1, 0, 0, NULL);
	check_chain("good-chain.pem", "::1", 1, 0, 0, NULL);
	check_chain("good-chain.pem", NULL, 1, 0, 0, NULL);
	check_chain("good-chain.pem", "", 1, 0, 0, NULL);
	check_chain("good-chain.pem", "127.0.0.2", 0,
	    REASON(HOSTNAME_MISMATCH), 0, NULL);
	check_chain("good-chain.pem", "::2", 0, REASON(HOSTNAME_MISMATCH), 0,
	    NULL);
	check_chain("good-chain.pem", "other.test", 0,
	    REASON(HOSTNAME_MISMATCH), 0, NULL);
}

/* The verdict follows `now` for the leaf even where GnuTLS uses its clock. */
static void
test_now(void **state)
{
	struct pem p;
	struct verdict v;
	int64_t leaf = not_after("good.pem");

	(void)state;
	pem_load(&p, "good-chain.pem");
	assert_int_equal(verdict_verify(p.der, p.n, pki_trust, "good.test",
	    leaf + 1, &v), 0);
	assert_int_equal(v.verified, 0);
	assert_int_equal(v.reasons, REASON(EXPIRED));
	assert_int_equal(v.verified_expiry, 0);
	assert_int_equal(v.earliest_expiry, leaf);
	verdict_fini(&v);
	assert_int_equal(verdict_verify(p.der, p.n, pki_trust, "good.test",
	    0, &v), 0);
	assert_int_equal(v.reasons, REASON(NOT_YET_VALID));
	verdict_fini(&v);
	pem_free(&p);
}

static void
test_expired(void **state)
{
	struct verdict v;

	(void)state;
	check_chain("expired-chain.pem", "good.test", 0, REASON(EXPIRED), 0, &v);
	assert_int_equal(v.earliest_expiry, not_after("expired.pem"));
	/* Issuer missing too: both reported. */
	check_chain("expired.pem", "good.test", 0,
	    REASON(EXPIRED) | REASON(UNKNOWN_ISSUER), CHAIN_ISSUE(INCOMPLETE), NULL);
	check_chain("expired-chain.pem", "wrong.test", 0,
	    REASON(EXPIRED) | REASON(HOSTNAME_MISMATCH), 0, NULL);
}

static void
test_notyet_soon(void **state)
{
	struct verdict v;
	int64_t soon;

	(void)state;
	check_chain("notyet-chain.pem", "good.test", 0, REASON(NOT_YET_VALID), 0,
	    NULL);
	soon = not_after("soon.pem");
	check_chain("soon-chain.pem", "good.test", 1, 0, 0, &v);
	assert_int_equal(v.verified_expiry, soon);
	assert_int_equal(v.earliest_expiry, soon);
	assert_true(soon - (int64_t)time(NULL) > 4 * 86400 &&
	    soon - (int64_t)time(NULL) <= 5 * 86400);
}

static void
test_wrongname(void **state)
{
	(void)state;
	check_chain("wrongname-chain.pem", "good.test", 0,
	    REASON(HOSTNAME_MISMATCH), 0, NULL);
	check_chain("wrongname-chain.pem", "wrong.test", 1, 0, 0, NULL);
	check_chain("wrongname-chain.pem", "127.0.0.1", 0,
	    REASON(HOSTNAME_MISMATCH), 0, NULL);
}

static void
test_selfsigned(void **state)
{
	struct pem p;
	struct der twice[2];
	struct verdict v;

	(void)state;
	check_chain("selfsigned.pem", "good.test", 0, REASON(SELF_SIGNED), 0,
	    NULL);
	check_chain("selfsigned.pem", "wrong.test", 0,
	    REASON(SELF_SIGNED) | REASON(HOSTNAME_MISMATCH), 0, NULL);
	pem_load(&p, "selfsigned.pem");
	twice[0] = twice[1] = p.der[0];
	assert_int_equal(verdict_verify(twice, 2, pki_trust, "good.test",
	    time(NULL), &v), 0);
	assert_int_equal(v.reasons, REASON(SELF_SIGNED));
	assert_int_equal(v.issues, CHAIN_ISSUE(DUPLICATE));
	verdict_fini(&v);
	/* Past its end it is both self-signed and expired. */
	assert_int_equal(verdict_verify(p.der, 1, pki_trust, "good.test",
	    not_after("selfsigned.pem") + 1, &v), 0);
	assert_int_equal(v.reasons, REASON(SELF_SIGNED) | REASON(EXPIRED));
	verdict_fini(&v);
	pem_free(&p);
	assert_int_equal(cert_count(), live0);
}

static void
test_untrusted(void **state)
{
	(void)state;
	check_chain("untrusted-chain.pem", "good.test", 0,
	    REASON(UNKNOWN_ISSUER), CHAIN_ISSUE(ROOT_INCLUDED), NULL);
	check_chain("untrusted.pem", "good.test", 0, REASON(UNKNOWN_ISSUER),
	    CHAIN_ISSUE(INCOMPLETE), NULL);
}

static void
test_noint(void **state)
{
	struct verdict v;

	(void)state;
	check_chain("noint-chain.pem", "good.test", 0, REASON(UNKNOWN_ISSUER),
	    CHAIN_ISSUE(INCOMPLETE), &v);
	assert_int_equal(v.earliest_expiry, not_after("good.pem"));
}

static void
test_deep_misordered(void **state)
{
	struct verdict v;
	int64_t want;

	(void)state;
	want = min64(min64(not_after("deep.pem"), not_after("int2.pem")),
	    min64(not_after("int.pem"), not_after("ca.pem")));
	check_chain("deep-chain.pem", "good.test", 1, 0, 0, &v);
	assert_int_equal(v.verified_expiry, want);
	check_chain("misordered-chain.pem", "good.test", 1, 0,
	    CHAIN_ISSUE(MISORDERED), &v);
	assert_int_equal(v.verified_expiry, want);
	/* deep without int2: int cannot be reached from the leaf. */
	check_chain("deep.pem", "good.test", 0, REASON(UNKNOWN_ISSUER),
	    CHAIN_ISSUE(INCOMPLETE), NULL);
}

static void
test_rootincl_dup(void **state)
{
	struct verdict v;

	(void)state;
	check_chain("rootincl-chain.pem", "good.test", 1, 0,
	    CHAIN_ISSUE(ROOT_INCLUDED), &v);
	assert_int_equal(v.verified_expiry, min64(min64(not_after("good.pem"),
	    not_after("int.pem")), not_after("ca.pem")));
	check_chain("dup-chain.pem", "good.test", 1, 0, CHAIN_ISSUE(DUPLICATE), NULL);
}

static void
test_hostile(void **state)
{
	struct pem p;
	struct cert *c;

	(void)state;
	check_chain("hostile-chain.pem", "good.test", 1, 0, 0, NULL);
	pem_load(&p, "hostile.pem");
	assert_non_null(c = cert_get(p.der[0].data, p.der[0].len));
	assert_non_null(strchr(c->subject, '\n'));
	assert_non_null(strchr(c->subject, '"'));
	assert_string_equal(c->subject, hostile_subject);
	assert_string_equal(c->issuer, "CN=tlswatch Test Intermediate CA");
	cert_put(c);
	pem_free(&p);
}

static void
test_bad_input(void **state)
{
	static const unsigned char garbage[] = "not a certificate";
	struct pem p;
	struct der d[2];
	struct verdict v;

	(void)state;
	memset(&v, 0xa5, sizeof(v));
	assert_int_equal(verdict_verify(NULL, 0, pki_trust, "good.test",
	    time(NULL), &v), -1);
	assert_int_equal(v.reasons, REASON(OTHER));
	assert_int_equal(v.verified, 0);
	assert_int_equal(v.issues, 0);

	pem_load(&p, "good-chain.pem");
	assert_int_equal(verdict_verify(p.der, 0, pki_trust, "good.test",
	    time(NULL), &v), -1);
	assert_int_equal(v.reasons, REASON(OTHER));
	d[0] = p.der[0];
	d[1].data = garbage;
	d[1].len = sizeof(garbage);
	assert_int_equal(verdict_verify(d, 2, pki_trust, "good.test",
	    time(NULL), &v), -1);
	assert_int_equal(v.reasons, REASON(OTHER));
	assert_int_equal(v.verified, 0);
	pem_free(&p);
	assert_int_equal(cert_count(), live0);
}

static void
test_trust_load(void **state)
{
	struct trust *t;
	struct pem p;
	struct verdict v;
	char *err = NULL, *path;
	FILE *f;

	(void)state;
	t = trust_load(NULL, &err);
	if (t == NULL)
		print_error("system trust: %s\n", err);
	assert_non_null(t);
	assert_null(err);
	/* Our test root is not in the system store. */
	pem_load(&p, "good-chain.pem");
	assert_int_equal(verdict_verify(p.der, p.n, t, "good.test", time(NULL),
	    &v), 0);
	assert_int_equal(v.reasons, REASON(UNKNOWN_ISSUER));
	verdict_fini(&v);
	pem_free(&p);
	trust_free(t);
	trust_free(NULL);

	path = pki_path("missing.pem");
	assert_null(trust_load(path, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, path));
	free(err);
	free(path);

	path = pki_path("empty.pem");
	assert_non_null(f = fopen(path, "w"));
	fputs("nothing to see here\n", f);
	fclose(f);
	err = NULL;
	assert_null(trust_load(path, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "no certificates found in"));
	assert_non_null(strstr(err, path));
	free(err);
	free(path);

	/* A key file is PEM, but not a certificate. */
	path = pki_path("good.key");
	err = NULL;
	assert_null(trust_load(path, &err));
	assert_non_null(err);
	free(err);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_names, note_count),
		cmocka_unit_test_setup(test_cert_fields, note_count),
		cmocka_unit_test_setup(test_cert_flags, note_count),
		cmocka_unit_test_setup(test_cert_intern, note_count),
		cmocka_unit_test_setup(test_cert_table, note_count),
		cmocka_unit_test_setup(test_good, note_count),
		cmocka_unit_test_setup(test_now, note_count),
		cmocka_unit_test_setup(test_expired, note_count),
		cmocka_unit_test_setup(test_notyet_soon, note_count),
		cmocka_unit_test_setup(test_wrongname, note_count),
		cmocka_unit_test_setup(test_selfsigned, note_count),
		cmocka_unit_test_setup(test_untrusted, note_count),
		cmocka_unit_test_setup(test_noint, note_count),
		cmocka_unit_test_setup(test_deep_misordered, note_count),
		cmocka_unit_test_setup(test_rootincl_dup, note_count),
		cmocka_unit_test_setup(test_hostile, note_count),
		cmocka_unit_test_setup(test_bad_input, note_count),
		cmocka_unit_test_setup(test_trust_load, note_count),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
