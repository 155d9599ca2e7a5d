/* test_dane.c - DANE matching (dane.c over libgnutls-dane) on chains of
 * the PKI tests/pki.sh makes at test time: every usage, selector and
 * matching type, RFC 7672's SMTP rules, digest agility, trust anchors
 * above the intermediate, and what a bad chain gets. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/dane.h"
#include "testpki.h"

static void
recs_free(struct dns_tlsa *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].data);
}

/* Match chain file CHAIN against recs for NAME (NULL: none); the result,
 * and the matched index in *matched. */
static enum dane_result
run(const char *chain, const struct dns_tlsa *recs, size_t n, const char *name, int smtp,
    int pkix, long *matched, char *detail)
{
	struct pem p;
	struct dane_check c;
	const char *names[1] = { name };
	enum dane_result res;

	pem_load(&p, chain);
	memset(&c, 0, sizeof(c));
	c.chain = p.der;
	c.nchain = p.n;
	c.recs = recs;
	c.nrecs = n;
	c.names = names;
	c.nnames = name ? 1 : 0;
	c.smtp = smtp;
	c.pkix_verified = pkix;
	res = dane_match(&c);
	if (matched)
		*matched = c.matched;
	if (detail)
		snprintf(detail, 160, "%s", c.detail);
	if (res != DANE_MATCH)
		assert_true(strlen(c.detail) > 0);
	else
		assert_true(c.matched >= 0 && (size_t)c.matched < n);
	pem_free(&p);
	return res;
}

/* DANE-EE(3): every selector and matching type; no name or date check. */
static void
test_ee(void **state)
{
	struct dns_tlsa r[1];
	static const unsigned sm[][2] = { { 0, 0 }, { 0, 1 }, { 0, 2 }, { 1, 0 }, { 1, 1 },
	                                   { 1, 2 } };
	long m;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sm); i++) {
		pki_tlsa(&r[0], 3, sm[i][0], sm[i][1], "good.pem");
		assert_int_equal(run("good-chain.pem", r, 1, "good.test", 1, 0, &m, NULL),
		    DANE_MATCH);
		assert_int_equal(m, 0);
		/* the leaf alone is enough */
		assert_int_equal(run("noint-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
		    DANE_MATCH);
		/* another leaf is not */
		assert_int_equal(run("soon-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
		    DANE_MISMATCH);
		recs_free(r, 1);
	}
	/* RFC 7672 3.1.1: an expired leaf, a wrong name, an untrusted root:
	 * DANE-EE still matches */
	pki_tlsa(&r[0], 3, 1, 1, "expired.pem");
	assert_int_equal(run("expired-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	recs_free(r, 1);
	pki_tlsa(&r[0], 3, 1, 1, "wrongname.pem");
	assert_int_equal(run("wrongname-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	recs_free(r, 1);
	pki_tlsa(&r[0], 3, 0, 1, "untrusted.pem");
	assert_int_equal(run("untrusted-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	recs_free(r, 1);
	/* the rollover mistake: the record is of a previous key */
	pki_tlsa(&r[0], 3, 1, 1, "expired.pem");
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	recs_free(r, 1);
}

/* DANE-TA(2): at any depth above the leaf; the path to it must verify,
 * for the name, with dates. */
static void
test_ta(void **state)
{
	struct dns_tlsa r[1];
	char detail[160];
	long m;

	(void)state;
	pki_tlsa(&r[0], 2, 0, 1, "int.pem");
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 1, 0, &m, NULL), DANE_MATCH);
	/* a name the leaf does not carry */
	assert_int_equal(run("good-chain.pem", r, 1, "other.test", 1, 0, NULL, detail),
	    DANE_MISMATCH);
	assert_non_null(strstr(detail, "DANE-TA"));
	/* without names to check, the path alone */
	assert_int_equal(run("good-chain.pem", r, 1, NULL, 1, 0, NULL, NULL), DANE_MATCH);
	/* expired leaf under a matching anchor */
	assert_int_equal(run("expired-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	/* wrong name */
	assert_int_equal(run("wrongname-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	/* the anchor is not presented */
	assert_int_equal(run("noint-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	/* two above the leaf (deep, int2, int): beyond the one level
	 * gnutls-dane looks at by itself */
	assert_int_equal(run("deep-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	/* and out of order (deep, int, int2): GnuTLS sorts the path */
	assert_int_equal(run("misordered-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	recs_free(r, 1);

	pki_tlsa(&r[0], 2, 1, 2, "int2.pem");
	assert_int_equal(run("deep-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL), DANE_MATCH);
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	recs_free(r, 1);

	/* the root, when the server sends it */
	pki_tlsa(&r[0], 2, 0, 0, "ca.pem");
	assert_int_equal(run("rootincl-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	recs_free(r, 1);

	/* a trust anchor assertion needs no other trust: an untrusted root */
	pki_tlsa(&r[0], 2, 1, 1, "untrusted-ca.pem");
	assert_int_equal(run("untrusted-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MATCH);
	recs_free(r, 1);
	/* a leaf record under a TA usage is not the leaf */
	pki_tlsa(&r[0], 2, 1, 1, "good.pem");
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	recs_free(r, 1);
}

/* PKIX-TA(0) and PKIX-EE(1): unusable under SMTP; elsewhere they need
 * the chain to verify too. */
static void
test_pkix(void **state)
{
	struct dns_tlsa r[2];
	long m;

	(void)state;
	pki_tlsa(&r[0], 0, 0, 1, "int.pem");
	pki_tlsa(&r[1], 1, 1, 1, "good.pem");
	assert_int_equal(run("good-chain.pem", r, 2, "good.test", 1, 1, NULL, NULL),
	    DANE_UNUSABLE);
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 0, 1, &m, NULL), DANE_MATCH);
	assert_int_equal(m, 0);
	assert_int_equal(run("good-chain.pem", r + 1, 1, "good.test", 0, 1, &m, NULL),
	    DANE_MATCH);
	assert_int_equal(run("good-chain.pem", r, 1, "good.test", 0, 0, NULL, NULL),
	    DANE_MISMATCH);
	assert_int_equal(run("good-chain.pem", r + 1, 1, "good.test", 0, 0, NULL, NULL),
	    DANE_MISMATCH);
	recs_free(r, 2);
}

/* Unknown parameters are unusable; the usable ones still decide. */
static void
test_unusable(void **state)
{
	struct dns_tlsa r[4];
	long m;

	(void)state;
	pki_tlsa(&r[0], 4, 1, 1, "good.pem");
	pki_tlsa(&r[1], 3, 2, 1, "good.pem");
	pki_tlsa(&r[2], 3, 1, 3, "good.pem");
	r[2].mtype = 3;
	pki_tlsa(&r[3], 3, 1, 1, "good.pem");
	r[1].selector = 2;
	assert_int_equal(run("good-chain.pem", r, 3, "good.test", 1, 0, NULL, NULL),
	    DANE_UNUSABLE);
	assert_int_equal(run("good-chain.pem", r, 4, "good.test", 1, 0, &m, NULL), DANE_MATCH);
	assert_int_equal(m, 3);
	/* empty data */
	free(r[3].data);
	r[3].data = xmalloc(1);
	r[3].len = 0;
	assert_int_equal(run("good-chain.pem", r + 3, 1, "good.test", 1, 0, NULL, NULL),
	    DANE_UNUSABLE);
	recs_free(r, 4);
}

/* RFC 7671 section 9: with SHA2-512 for a usage and selector, SHA2-256
 * records of the same are not used. Several records: the first match. */
static void
test_agility(void **state)
{
	struct dns_tlsa r[3];
	long m;

	(void)state;
	pki_tlsa(&r[0], 3, 1, 1, "good.pem");     /* right */
	pki_tlsa(&r[1], 3, 1, 2, "soon.pem");     /* wrong, and stronger */
	assert_int_equal(run("good-chain.pem", r, 2, "good.test", 1, 0, NULL, NULL),
	    DANE_MISMATCH);
	recs_free(r, 2);
	pki_tlsa(&r[0], 3, 1, 1, "soon.pem");
	pki_tlsa(&r[1], 3, 1, 2, "good.pem");
	pki_tlsa(&r[2], 3, 0, 1, "good.pem");     /* another selector: used too */
	assert_int_equal(run("good-chain.pem", r, 3, "good.test", 1, 0, &m, NULL), DANE_MATCH);
	assert_int_equal(m, 1);
	recs_free(r, 3);
	/* the next rollover done right: old and new key both published */
	pki_tlsa(&r[0], 3, 1, 1, "soon.pem");
	pki_tlsa(&r[1], 3, 1, 1, "good.pem");
	assert_int_equal(run("good-chain.pem", r, 2, "good.test", 1, 0, &m, NULL), DANE_MATCH);
	assert_int_equal(m, 1);
	recs_free(r, 2);
}

static void
test_bad_chain(void **state)
{
	struct dns_tlsa r[1];
	struct dane_check c;
	struct der junk = { (const unsigned char *)"not a certificate", 17 };

	(void)state;
	pki_tlsa(&r[0], 3, 1, 1, "good.pem");
	memset(&c, 0, sizeof(c));
	c.recs = r;
	c.nrecs = 1;
	assert_int_equal(dane_match(&c), DANE_ERROR);
	c.chain = &junk;
	c.nchain = 1;
	assert_int_equal(dane_match(&c), DANE_ERROR);
	assert_true(strlen(c.detail) > 0);
	/* full certificate matching needs no parsing: junk does not match */
	recs_free(r, 1);
	pki_tlsa(&r[0], 3, 0, 0, "good.pem");
	assert_int_equal(dane_match(&c), DANE_MISMATCH);
	recs_free(r, 1);
	assert_string_equal(dane_result_name(DANE_MATCH), "match");
	assert_string_equal(dane_result_name(DANE_MISMATCH), "mismatch");
	assert_string_equal(dane_result_name(DANE_UNUSABLE), "unusable");
}

static int
teardown(void **state)
{
	(void)state;
	dane_fini();
	testpki_remove();
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	return testpki_make("test_dane");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ee),
		cmocka_unit_test(test_ta),
		cmocka_unit_test(test_pkix),
		cmocka_unit_test(test_unusable),
		cmocka_unit_test(test_agility),
		cmocka_unit_test(test_bad_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
