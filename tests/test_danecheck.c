/* test_danecheck.c - the DANE check (danecheck.c) through the verdict, with
 * TLSA answers handed to tlsa.c as a lookup would (tlsa_put) and chains of
 * the test PKI: RFC 7672's verdict for SMTP targets (a match authenticates
 * a chain the Web PKI refuses, a mismatch or bogus records fail one it
 * accepts), what auto and on publish, the families and their labels, an
 * answer that comes after the handshake (pending, then a recheck asked
 * for), and a verdict reused only while the answer it used is current. */
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

#include "conf/conf.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/resolve.h"
#include "probe/tlsa.h"
#include "verdict/chain.h"
#include "verdict/check.h"
#include "verdict/dane.h"
#include "verdict/verdict.h"
#include "testpki.h"

#define NAME "_25._tcp.good.test"

static struct loop *loop;
static struct resolver *res;
static struct trust *trust;
static size_t dane_index;

/* An SMTP target on good.test:25, or another protocol on 443. */
static void
target(struct conf_target *t, int smtp, int dane)
{
	memset(t, 0, sizeof(*t));
	t->name = (char *)"t";
	t->host = (char *)"good.test";
	t->server_name = (char *)"good.test";
	t->port = smtp ? 25 : 443;
	t->tls.starttls = smtp ? STARTTLS_SMTP : STARTTLS_NONE;
	t->tls.verify_hostname = 1;
	t->dane = dane;
}

/* An answer as dnsrec gives it, records of files (NULL ends). */
static void
put(const char *name, enum dnsrec_status st, int nxdomain, ...)
{
	struct dns_tlsa recs[4];
	struct dnsrec_result r;
	const char *file;
	va_list ap;
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	r.status = st;
	r.nxdomain = nxdomain;
	va_start(ap, nxdomain);
	while ((file = va_arg(ap, const char *)) != NULL) {
		unsigned u = va_arg(ap, unsigned), s = va_arg(ap, unsigned), m = va_arg(ap, unsigned);

		pki_tlsa(&recs[n++], u, s, m, file);
	}
	va_end(ap);
	r.msg.type = DNS_T_TLSA;
	r.msg.tlsa = recs;
	r.msg.n = n;
	if (st == DNSREC_BOGUS) {
		r.reason = "bogus";
		r.detail = "SERVFAIL; an answer with CD";
	}
	tlsa_put(name, &r);
	for (size_t i = 0; i < n; i++)
		free(recs[i].data);
}

struct out {
	struct verdict v;
	char status[32];       /* tlswatch_dane_status's label, or "" */
	double records;        /* tlswatch_dane_tlsa_records, or -1 */
	char match[16];        /* "U S M" of tlswatch_dane_match_info, or "" */
	char findings[512];
};

static void
finding(void *arg, const char *check, const char *line)
{
	struct out *o = arg;

	if (strcmp(check, "dane") == 0)
		snprintf(o->findings + strlen(o->findings), sizeof(o->findings) -
		    strlen(o->findings), "%s\n", line);
}

/* The verdict on chain file for t, and what the check publishes. */
static void
judge(const char *chain, const struct conf_target *t, struct out *o)
{
	struct pem p;
	struct verdict_input in;
	const struct check_family *fam;
	const void *blob;
	size_t nf;

	memset(o, 0, sizeof(*o));
	o->records = -1;
	pem_load(&p, chain);
	in = (struct verdict_input){ p.der, p.n, trust, t, conf_target_check_name(t),
		(int64_t)time(NULL), NULL, t->name, NULL };
	assert_int_equal(verdict_evaluate(&in, &o->v), 0);
	pem_free(&p);
	fam = verdict_check_families(dane_index, &nf);
	assert_int_equal(nf, 3);
	if ((blob = verdict_blob(&o->v, dane_index)) == NULL)
		return;
	for (size_t f = 0; f < nf; f++) {
		struct check_sample s;

		memset(&s, 0, sizeof(s));
		if (!fam[f].sample(blob, 0, &s))
			continue;
		assert_false(fam[f].sample(blob, 1, &s));
		if (strcmp(fam[f].name, "tlswatch_dane_tlsa_records") == 0) {
			o->records = s.value;
		} else if (strcmp(fam[f].name, "tlswatch_dane_status") == 0) {
			assert_string_equal(s.names[0], "status");
			snprintf(o->status, sizeof(o->status), "%s", s.values[0]);
			assert_true(s.value == 1);
		} else {
			assert_string_equal(fam[f].name, "tlswatch_dane_match_info");
			assert_string_equal(s.names[2], "matching_type");
			snprintf(o->match, sizeof(o->match), "%s %s %s", s.values[0], s.values[1],
			    s.values[2]);
		}
	}
	verdict_details(&o->v, finding, o);
}

/* RFC 7672 for SMTP: the match decides, whatever the Web PKI says. */
static void
test_smtp(void **state)
{
	struct conf_target t;
	struct out o;
	struct cert *leaf;
	struct pem p;

	(void)state;
	target(&t, 1, CONF_DANE_AUTO);

	put(NAME, DNSREC_SECURE, 0, "good.pem", 3u, 1u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_string_equal(o.status, "match");
	assert_true(o.records == 1);
	assert_string_equal(o.match, "3 1 1");
	verdict_fini(&o.v);

	/* a chain from a root nobody trusts, named in DNSSEC: authenticated,
	 * judged by the leaf's expiry, and the finding says what the Web PKI
	 * alone would */
	put(NAME, DNSREC_SECURE, 0, "untrusted.pem", 3u, 1u, 1u, NULL);
	judge("untrusted-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_int_equal(o.v.reasons, 0);
	pem_load(&p, "untrusted.pem");
	leaf = cert_get(p.der[0].data, p.der[0].len);
	assert_int_equal(o.v.verified_expiry, leaf->not_after);
	cert_put(leaf);
	pem_free(&p);
	assert_non_null(strstr(o.findings, NAME ": match: TLSA 3 1 1 matched the leaf\n"));
	assert_non_null(strstr(o.findings, "authenticated by DANE (RFC 7672); the Web PKI "
	    "alone says: unknown_issuer"));
	verdict_fini(&o.v);

	/* the rollover mistake: the record of another key fails a chain the
	 * Web PKI accepts */
	put(NAME, DNSREC_SECURE, 0, "soon.pem", 3u, 1u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_false(o.v.verified);
	assert_int_equal(o.v.reasons, REASON(DANE_MISMATCH));
	assert_string_equal(o.status, "mismatch");
	assert_string_equal(o.match, "");
	verdict_fini(&o.v);

	/* DANE-TA on the intermediate */
	put(NAME, DNSREC_SECURE, 0, "int.pem", 2u, 0u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_string_equal(o.match, "2 0 1");
	assert_non_null(strstr(o.findings, "matched a CA certificate of the chain"));
	verdict_fini(&o.v);

	/* records none can use under SMTP: a mismatch */
	put(NAME, DNSREC_SECURE, 0, "good.pem", 1u, 1u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_false(o.v.verified);
	assert_string_equal(o.status, "mismatch");
	assert_non_null(strstr(o.findings, "none of the 1 TLSA records is usable for SMTP"));
	verdict_fini(&o.v);

	/* bogus records: a DANE sender defers; auto says so too */
	put(NAME, DNSREC_BOGUS, 0, NULL);
	judge("good-chain.pem", &t, &o);
	assert_false(o.v.verified);
	assert_int_equal(o.v.reasons, REASON(DANE_BOGUS));
	assert_string_equal(o.status, "bogus");
	assert_true(o.records == -1);
	verdict_fini(&o.v);
}

/* What auto keeps to itself and on reports; DANE off; other protocols. */
static void
test_modes(void **state)
{
	struct conf_target t;
	struct out o;

	(void)state;
	target(&t, 1, CONF_DANE_AUTO);
	put(NAME, DNSREC_SECURE, 1, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_string_equal(o.status, "");
	assert_true(o.records == -1);
	assert_string_equal(o.findings, "");
	verdict_fini(&o.v);
	t.dane = CONF_DANE_ON;
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_string_equal(o.status, "no_records");
	assert_true(o.records == 0);
	verdict_fini(&o.v);

	/* an unsigned zone's records are read but not used */
	put(NAME, DNSREC_INSECURE, 0, "soon.pem", 3u, 1u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_string_equal(o.status, "insecure");
	assert_true(o.records == 1);
	verdict_fini(&o.v);
	t.dane = CONF_DANE_AUTO;
	judge("good-chain.pem", &t, &o);
	assert_string_equal(o.status, "");
	verdict_fini(&o.v);

	t.dane = CONF_DANE_OFF;
	put(NAME, DNSREC_SECURE, 0, "soon.pem", 3u, 1u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_null(verdict_blob(&o.v, dane_index));
	verdict_fini(&o.v);

	/* not SMTP: reported, the verdict stays the Web PKI's */
	target(&t, 0, CONF_DANE_AUTO);
	put("_443._tcp.good.test", DNSREC_SECURE, 0, "soon.pem", 3u, 1u, 1u, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(o.v.verified);
	assert_string_equal(o.status, "mismatch");
	verdict_fini(&o.v);
	put("_443._tcp.good.test", DNSREC_SECURE, 0, "untrusted.pem", 3u, 1u, 1u, NULL);
	judge("untrusted-chain.pem", &t, &o);
	assert_false(o.v.verified);
	assert_string_equal(o.status, "match");
	verdict_fini(&o.v);

	/* the TLSA name: the host, lower case; none for an IP address */
	{
		char name[256];

		t.host = (char *)"MX1.Example.ORG.";
		t.port = 587;
		assert_int_equal(tlsa_target_name(&t, name, sizeof(name)), 0);
		assert_string_equal(name, "_587._tcp.mx1.example.org");
		t.host = (char *)"192.0.2.1";
		t.host_is_ip = 1;
		t.server_name = NULL;
		assert_int_equal(tlsa_target_name(&t, name, sizeof(name)), -1);
		t.server_name = (char *)"named.example";
		assert_int_equal(tlsa_target_name(&t, name, sizeof(name)), 0);
		assert_string_equal(name, "_587._tcp.named.example");
	}
}

static char *asked;

static void
hook(void *arg, const char *tgt, const char *address)
{
	(void)arg;
	free(asked);
	asked = xasprintf("%s %s", tgt, address ? address : "-");
}

/* The answer comes after the handshake: pending, then a recheck. A
 * verdict is reused only while its answer is the current one. */
static void
test_pending_and_reuse(void **state)
{
	struct conf_target t;
	struct out o;
	struct cert *certs[2];
	struct pem p;
	int pending;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	target(&t, 1, CONF_DANE_AUTO);
	t.host = t.server_name = (char *)"localhost";
	/* a lookup in flight (to a resolver that never answers), no answer yet */
	tlsa_lookup("_25._tcp.localhost");
	assert_null(tlsa_get("_25._tcp.localhost", &pending));
	assert_true(pending);
	verdict_set_recheck_hook(hook, NULL);
	judge("good-chain.pem", &t, &o);
	assert_true(verdict_pending(&o.v));
	assert_true(o.v.verified);           /* the Web PKI's, meanwhile */
	assert_null(verdict_blob(&o.v, dane_index));
	assert_null(asked);
	put("_25._tcp.localhost", DNSREC_SECURE, 0, "soon.pem", 3u, 1u, 1u, NULL);
	assert_non_null(asked);
	assert_string_equal(asked, "t -");
	verdict_fini(&o.v);

	/* with an answer known and a new lookup in flight: judged by the
	 * answer known, pending until the new one comes */
	judge("good-chain.pem", &t, &o);
	assert_true(verdict_pending(&o.v));
	assert_string_equal(o.status, "mismatch");
	verdict_fini(&o.v);
	verdict_unset_recheck_hook(NULL);

	/* settled (no lookup in flight): reused while the answer stays */
	put(NAME, DNSREC_SECURE, 0, "good.pem", 3u, 1u, 1u, NULL);
	target(&t, 1, CONF_DANE_AUTO);
	judge("good-chain.pem", &t, &o);
	assert_false(verdict_pending(&o.v));
	pem_load(&p, "good-chain.pem");
	certs[0] = cert_get(p.der[0].data, p.der[0].len);
	certs[1] = cert_get(p.der[1].data, p.der[1].len);
	assert_true(verdict_holds(&o.v, certs, 2, certs, 2, 2, trust, "good.test", NULL, now));
	put(NAME, DNSREC_SECURE, 0, "good.pem", 3u, 1u, 1u, NULL);   /* the same again */
	assert_true(verdict_holds(&o.v, certs, 2, certs, 2, 2, trust, "good.test", NULL, now));
	put(NAME, DNSREC_SECURE, 0, "good.pem", 3u, 1u, 1u, "soon.pem", 3u, 1u, 1u, NULL);
	assert_false(verdict_holds(&o.v, certs, 2, certs, 2, 2, trust, "good.test", NULL, now));
	cert_put(certs[0]);
	cert_put(certs[1]);
	pem_free(&p);
	verdict_fini(&o.v);
	free(asked);
	asked = NULL;
}

static int
setup(void **state)
{
	const char *servers[] = { "127.0.0.1:9" };
	char *err = NULL, *ca;

	(void)state;
	if (testpki_make("test_danecheck") == -1)
		return -1;
	ca = pki_path("ca.pem");
	trust = trust_load(ca, &err);
	free(ca);
	if (trust == NULL || (loop = loop_new()) == NULL ||
	    (res = resolver_new(loop, &err)) == NULL ||
	    resolver_set_servers(res, servers, 1, &err) == -1) {
		fprintf(stderr, "set-up: %s\n", err ? err : "?");
		return -1;
	}
	tlsa_init(res);
	for (dane_index = 0; dane_index < verdict_nchecks(); dane_index++)
		if (strcmp(verdict_check_name(dane_index), "dane") == 0)
			break;
	return dane_index < verdict_nchecks() ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	tlsa_fini();
	resolver_free(res);
	loop_free(loop);
	trust_free(trust);
	dane_fini();
	testpki_remove();
	return cert_count() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_pending_and_reuse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
