/* test_webpki.c - the Web PKI rules (webpki.c), their table (finding.c)
 * and what chain_verify makes of GnuTLS's status, over the conformance
 * corpus tests/webpki-corpus.sh makes at test time; and the name matchers
 * and DER reader (gnames.c) on their own, with inputs no CA tool would
 * write. */
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

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/certs.h"
#include "conf/conf.h"
#include "verdict/chain.h"
#include "verdict/check.h"
#include "verdict/verdict.h"
#include "verdict/finding.h"
#include "verdict/gnames.h"
#include "verdict/policy.h"
#include "verdict/webpki.h"
#include "testpki.h"

static struct trust *roots;

/* ---- the corpus, chain by chain ---------------------------------------- */

struct want {
	const char *word;
	int depth;
	const char *says;        /* the sentence contains this, when set */
};

#define PUB  REASON(WEBPKI)
#define NC   REASON(NAME_CONSTRAINTS)

static const struct kase {
	const char *chain;
	const char *host;         /* the name chain_verify checks */
	int verified;             /* what chain_verify says */
	uint64_t reasons;
	uint64_t issues;          /* chain issues of the whole verdict */
	struct want f[5];         /* exactly these findings */
	uint64_t pub, priv;       /* the reasons they fail with, per policy */
} cases[] = {
	{ "pass", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },

	/* name constraints */
	{ "nc-permit-ok", "www.good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "nc-permit-bad", "www.good.test", 0, NC, 0,
	  { { "name_not_permitted", 0, "do not permit DNS \"other.test\", which the leaf names" } }, NC, NC },
	{ "nc-ip", "www.good.test", 0, NC, 0,
	  { { "name_not_permitted", 0, "IP 10.0.0.1" } }, NC, NC },
	{ "nc-cn", "127.0.0.1", 0, NC, 0,
	  { { "name_not_permitted", 0, "\"evil.test\", which the leaf names in its subject CN" },
	    { "cn_not_in_san", 0, "\"evil.test\"" } }, NC | PUB, NC },
	{ "nc-invalid", "www.good.test", 1, 0, 0,
	  { { "name_constraints_unevaluable", 0, "fails closed" },
	    { "invalid_dns_name", 0, "\"bad name.good.test\"" } }, NC | PUB, NC },
	{ "nc-excluded", "good.test", 0, NC, 0,
	  { { "name_excluded", 0, "exclude DNS \"bad.test\", which the leaf names (DNS \"x.bad.test\")" } }, NC, NC },
	{ "nc-wildcard", "good.test", 1, 0, 0,
	  { { "name_excluded", 0, "exclude DNS \"secret.good.test\", which the leaf names (DNS \"*.good.test\")" } }, NC, NC },
	{ "nc-email", "good.test", 0, NC, 0,
	  { { "name_excluded", 0, "email \"a@evil.test\"" } }, NC, NC },
	{ "nc-ex-ok", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "nc-dot-ok", "www.good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "nc-dot-bad", "good.test", 0, NC, 0,
	  { { "name_not_permitted", 0, "DNS \"good.test\"" } }, NC, NC },
	{ "nc-uri", "www.good.test", 1, 0, 0,
	  { { "name_not_permitted", 0, "URI \"https://www.evil.test/\"" } }, NC, NC },
	{ "nc-int-san", "www.good.test", 1, 0, 0,
	  { { "name_not_permitted", 1, "which the intermediate \"webpki NC child\" (depth 1) names" } }, NC, NC },
	{ "nc-dn-ok", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "nc-dn", "good.test", 1, 0, 0,
	  { { "name_not_permitted", 0, "directory name \"O=Evil,CN=good.test\"" } }, NC, NC },
	{ "nc-min", "good.test", 0, NC, 0,
	  { { "name_constraints_unevaluable", 0, "minimum or maximum" } }, NC, NC },

	/* path length: the anchor, not presented, is depth 2 */
	{ "pathlen", "good.test", 0, REASON(PATH_LENGTH), 0,
	  { { "path_length_exceeded", 2, "allows 0 intermediates below it" } },
	  REASON(PATH_LENGTH), REASON(PATH_LENGTH) },

	/* extended key usage */
	{ "eku-client", "good.test", 0, REASON(PURPOSE), 0,
	  { { "no_server_auth", 0, "(clientAuth)" } }, REASON(PURPOSE), REASON(PURPOSE) },
	{ "eku-any", "good.test", 1, 0, 0,
	  { { "no_server_auth", 0, "anyExtendedKeyUsage" } }, REASON(PURPOSE), REASON(PURPOSE) },
	{ "eku-none", "good.test", 1, 0, 0, { { "no_eku", 0, NULL } }, PUB, 0 },
	{ "ca-eku", "good.test", 0, REASON(PURPOSE), 0,
	  { { "ca_eku_excludes_server_auth", 1, "cannot issue TLS server certificates" } },
	  REASON(PURPOSE), REASON(PURPOSE) },
	{ "ca-eku-ok", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "root-eku", "good.test", 1, 0, 0,
	  { { "root_has_eku", 2, "the trust anchor \"webpki Root with EKU\"" } }, PUB, 0 },

	/* basic constraints and key usage */
	{ "bc-noncrit", "good.test", 1, 0, 0,
	  { { "ca_basic_constraints", 1, "not marked critical" } }, PUB, 0 },
	{ "leaf-ca", "good.test", 1, 0, 0,
	  { { "no_eku", 0, NULL }, { "leaf_is_ca", 0, NULL }, { "leaf_key_cert_sign", 0, NULL },
	    { "leaf_key_usage", 0, "lacks digitalSignature" } }, PUB | REASON(KEY_USAGE), REASON(KEY_USAGE) },
	{ "leaf-certsign", "good.test", 1, 0, 0, { { "leaf_key_cert_sign", 0, NULL } }, PUB, 0 },
	{ "leaf-kenc", "good.test", 1, 0, 0, { { "leaf_key_usage", 0, NULL } },
	  REASON(KEY_USAGE), REASON(KEY_USAGE) },
	{ "ca-ku", "good.test", 0, REASON(KEY_USAGE), 0,
	  { { "ca_key_usage", 1, "lacks keyCertSign" } }, REASON(KEY_USAGE), REASON(KEY_USAGE) },
	{ "ca-noku", "good.test", 1, 0, 0, { { "ca_no_key_usage", 1, NULL } }, PUB, 0 },
	{ "v1-ca", "good.test", 0, REASON(SIGNER_NOT_CA), 0,
	  { { "v1_ca", 1, "version 1" } }, PUB, 0 },

	/* key identifiers */
	{ "aki-missing", "good.test", 1, 0, 0, { { "aki_missing", 0, NULL } }, PUB, 0 },
	{ "aki-crit", "good.test", 1, 0, 0, { { "aki_critical", 0, NULL } }, PUB, 0 },
	{ "ski-crit", "good.test", 1, 0, 0, { { "ski_critical", 0, NULL } }, PUB, 0 },
	{ "ski-missing", "good.test", 1, 0, 0, { { "ski_missing", 1, NULL } }, PUB, 0 },

	/* serial numbers */
	{ "serial-zero", "good.test", 1, 0, 0, { { "serial_zero", 0, NULL } }, PUB, 0 },
	{ "serial-neg", "good.test", 1, 0, 0, { { "serial_negative", 0, NULL } }, PUB, 0 },
	{ "serial-long", "good.test", 1, 0, 0, { { "serial_too_long", 0, NULL } }, PUB, 0 },
	{ "serial-20", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },

	/* names */
	{ "no-san", "good.test", 1, 0, 0, { { "no_san", 0, NULL } }, PUB, 0 },
	{ "cn-not-in-san", "good.test", 1, 0, 0,
	  { { "cn_not_in_san", 0, "\"other.test\"" } }, PUB, 0 },
	{ "underscore", "good.test", 1, 0, 0,
	  { { "underscore_in_dns_name", 0, "\"my_host.good.test\"" } }, PUB, 0 },
	{ "invalid-dns", "good.test", 1, 0, 0,
	  { { "invalid_dns_name", 0, "a label begins with a hyphen" } }, PUB, 0 },
	{ "wild-psl", "good.test", 1, 0, 0,
	  { { "wildcard_on_public_suffix", 0, "public suffix co.uk" } }, PUB, 0 },
	{ "wild-ok", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "empty-subject", "good.test", 1, 0, 0,
	  { { "empty_subject_san_not_critical", 0, NULL } }, PUB, 0 },
	{ "empty-subject-ok", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },

	/* keys and signatures */
	{ "rsa1024", "good.test", 1, 0, 0, { { "weak_key", 0, "1024 bits" } }, PUB, 0 },
	{ "rsa2048", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },
	{ "p224", "good.test", 1, 0, 0, { { "disallowed_curve", 0, "SECP224R1" } }, PUB, 0 },
	{ "ed25519", "good.test", 1, 0, 0, { { "disallowed_key_type", 0, "Ed25519" } }, PUB, 0 },
	{ "dsa", "good.test", 1, 0, 0, { { "disallowed_key_type", 0, "DSA" } }, PUB, 0 },
	{ "sha1", "good.test", 0, REASON(INSECURE_ALGORITHM), 0,
	  { { "sha1_signature", 0, NULL } }, PUB, 0 },
	{ "md5", "good.test", 0, REASON(INSECURE_ALGORITHM), 0,
	  { { "md5_signature", 0, "RSA-MD5" } }, PUB, 0 },

	/* extensions */
	{ "unknown-crit", "good.test", 0, REASON(UNKNOWN_CRITICAL_EXTENSION), 0,
	  { { "unknown_critical_extension", 0, "1.3.6.1.4.1.99999.1" } }, PUB, 0 },
	{ "aia-bad", "good.test", 1, 0, 0, { { "aia_malformed", 0, NULL } }, PUB, 0 },
	{ "aia-crit", "good.test", 1, 0, 0, { { "aia_critical", 0, NULL } }, PUB, 0 },
	{ "aia-ok", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },

	/* leaf, intermediate, cross-signed root X; the store holds X */
	{ "cross", "good.test", 1, 0, 0, { { 0 } }, 0, 0 },
};

/* The verdict a target of policy pol (conf.h) with the corpus's CA file
 * gets for the chain in p. */
static void
verdict_under(const struct pem *p, const char *host, int pol, struct verdict *v)
{
	struct conf_target t;
	struct verdict_input in;

	memset(&t, 0, sizeof(t));
	t.policy = pol;
	t.ca_file = (char *)"roots.pem";
	memset(&in, 0, sizeof(in));
	in.chain = p->der;
	in.n = p->n;
	in.trust = roots;
	in.target = &t;
	in.hostname = host;
	in.now = time(NULL);
	assert_int_equal(verdict_evaluate(&in, v), 0);
}

/* Whether the webpki check published word on the anchor with sha256. */
static int
anchor_issue(const struct verdict *v, const char *sha256, const char *word)
{
	for (size_t c = 0; c < verdict_nchecks(); c++) {
		const struct check_family *fam;
		const void *blob = verdict_blob(v, c);
		struct check_sample sm;
		size_t nf;

		if (strcmp(verdict_check_name(c), "webpki") != 0 || blob == NULL)
			continue;
		fam = verdict_check_families(c, &nf);
		assert_int_equal(nf, 1);
		assert_string_equal(fam[0].name, "tlswatch_anchor_issue");
		for (size_t i = 0; fam[0].sample(blob, i, &sm); i++)
			if (strcmp(sm.values[0], sha256) == 0 && strcmp(sm.values[1], word) == 0)
				return 1;
	}
	return 0;
}

static void
check_case(const struct kase *k)
{
	struct pem p;
	struct check_chain cc;
	struct check_path path;
	struct chain_base base;
	struct findings f;
	char *name = xasprintf("%s-chain.pem", k->chain);
	size_t nwant = 0;

	pem_load(&p, name);
	/* GnuTLS's verdict, with the constraint bit told apart */
	assert_int_equal(check_chain_load(&cc, p.der, p.n), 0);
	assert_int_equal(chain_verify(&cc, roots, k->host, time(NULL), &base, &path), 0);
	if (base.verified != k->verified || base.reasons != k->reasons)
		fail_msg("%s: verified %d reasons %#llx (gnutls %#x); want %d %#llx",
		    k->chain, base.verified, (unsigned long long)base.reasons,
		    base.gnutls_status, k->verified, (unsigned long long)k->reasons);
	check_path_free(&path);

	/* the rules over the path */
	findings_init(&f);
	check_path_build(&cc, trust_list(roots), &path);
	webpki_evaluate_path(&cc, &path, &f);
	check_path_free(&path);
	check_chain_free(&cc);
	for (; nwant < ARRAY_SIZE(k->f) && k->f[nwant].word != NULL; nwant++) {
		const struct want *w = &k->f[nwant];
		size_t i;

		for (i = 0; i < f.n; i++)
			if (strcmp(finding_name(f.v[i].id), w->word) == 0 &&
			    f.v[i].depth == w->depth)
				break;
		if (i == f.n)
			fail_msg("%s: no %s at depth %d", k->chain, w->word, w->depth);
		if (w->says != NULL && strstr(f.v[i].text, w->says) == NULL)
			fail_msg("%s: %s says \"%s\", not \"%s\"", k->chain, w->word,
			    f.v[i].text, w->says);
		/* The finding names the certificate by its fingerprint. */
		assert_int_equal(strlen(f.v[i].sha256), 64);
	}
	if (f.n != nwant) {
		for (size_t i = 0; i < f.n; i++)
			print_error("%s: %s@%d: %s\n", k->chain, finding_name(f.v[i].id),
			    f.v[i].depth, f.v[i].text);
		fail_msg("%s: %zu findings, want %zu", k->chain, f.n, nwant);
	}
	if (findings_reasons(&f, POLICY_PUBLIC) != k->pub ||
	    findings_reasons(&f, POLICY_PRIVATE) != k->priv)
		fail_msg("%s: fails public with %#llx and private with %#llx; want %#llx, %#llx",
		    k->chain, (unsigned long long)findings_reasons(&f, POLICY_PUBLIC),
		    (unsigned long long)findings_reasons(&f, POLICY_PRIVATE),
		    (unsigned long long)k->pub, (unsigned long long)k->priv);

	/* the whole verdict, as the daemon makes it, under each policy */
	for (int pol = CONF_POLICY_PUBLIC; pol <= CONF_POLICY_PRIVATE; pol++) {
		struct verdict v;
		uint64_t want = k->reasons | (pol == CONF_POLICY_PUBLIC ? k->pub : k->priv);
		const uint64_t *ci;
		size_t nci;

		verdict_under(&p, k->host, pol, &v);
		if (v.reasons != want || v.verified != (want == 0) || v.issues != k->issues)
			fail_msg("%s, policy %s: reasons %#llx verified %d issues %#llx; want %#llx",
			    k->chain, pol == CONF_POLICY_PUBLIC ? "public" : "private",
			    (unsigned long long)v.reasons, v.verified,
			    (unsigned long long)v.issues, (unsigned long long)want);
		ci = verdict_cert_issues(&v, &nci);
		for (size_t i = 0; i < f.n; i++) {
			const struct finding *x = &f.v[i];

			if ((size_t)x->depth < p.n && nci == 0)
				fail_msg("%s: no certificate issues in the verdict", k->chain);
			if ((size_t)x->depth < p.n)
				assert_true(ci[x->depth] & ((uint64_t)1 << x->id));
			else if (!anchor_issue(&v, x->sha256, finding_name(x->id)))
				fail_msg("%s: %s on the anchor is not in tlswatch_anchor_issue",
				    k->chain, finding_name(x->id));
		}
		/* no word but those found */
		for (size_t d = 0; d < nci; d++)
			for (unsigned id = 0; id < 64; id++) {
				int found = 0;

				if (!(ci[d] & ((uint64_t)1 << id)))
					continue;
				if (policy_rule_for_issue(id) != NULL)
					continue;   /* the policy check's (test_policy.c) */
				for (size_t i = 0; i < f.n; i++)
					found |= f.v[i].id == id && (size_t)f.v[i].depth == d;
				if (!found)
					fail_msg("%s: stray issue %s at depth %zu", k->chain,
					    verdict_word(VERDICT_CERT_ISSUE, id), d);
			}
		verdict_fini(&v);
	}
	findings_fini(&f);
	pem_free(&p);
	free(name);
}

static void
test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check_case(&cases[i]);
	assert_int_equal(cert_count(), 0);
}

/* Every rule of the table is broken by some chain of the corpus, and
 * every rule's word, reason and effects are what README says. */
static void
test_table(void **state)
{
	(void)state;
	for (unsigned id = 0; id < VERDICT_NCERT_ISSUES; id++) {
		const struct finding_rule *r = finding_rule(id);
		const char *word = finding_name(id);
		int seen = 0;

		if (policy_rule_for_issue(id) != NULL)
			continue;       /* the policy check's (policy.c, test_policy.c) */
		assert_non_null(r);
		assert_non_null(word);
		/* every word of VERDICT_CERT_ISSUES has its line in the table */
		if (r->source == NULL)
			fail_msg("finding.c has no rule for %s", word);
		assert_non_null(r->rule);
		assert_non_null(r->applies);
		assert_string_equal(verdict_word(VERDICT_CERT_ISSUE, id), word);
		/* Under public everything fails; under private only what a
		 * client must reject, with its own reason. */
		assert_int_equal(r->effect[POLICY_PUBLIC], FINDING_FAIL);
		if (r->reason == REASON(WEBPKI))
			assert_int_equal(r->effect[POLICY_PRIVATE], FINDING_NOTE);
		else
			assert_int_equal(r->effect[POLICY_PRIVATE], FINDING_FAIL);
		assert_true(r->reason & (REASON(WEBPKI) | REASON(NAME_CONSTRAINTS) |
		    REASON(PATH_LENGTH) | REASON(PURPOSE) | REASON(KEY_USAGE)));
		for (unsigned j = 0; j < id; j++)
			assert_string_not_equal(finding_name(j), word);
		for (size_t i = 0; i < ARRAY_SIZE(cases) && !seen; i++)
			for (size_t k = 0; k < ARRAY_SIZE(cases[i].f) && cases[i].f[k].word; k++)
				if (strcmp(cases[i].f[k].word, word) == 0)
					seen = 1;
		if (!seen)
			fail_msg("no chain of the corpus breaks %s", word);
	}
	assert_null(finding_rule(VERDICT_NCERT_ISSUES));
	assert_null(finding_name(VERDICT_NCERT_ISSUES));
	/* The words issue 13 shares. */
	assert_string_equal(finding_name(VBIT_WEAK_KEY), "weak_key");
	assert_string_equal(finding_name(VBIT_SHA1_SIGNATURE), "sha1_signature");
	assert_string_equal(finding_name(VBIT_NO_SAN), "no_san");
	assert_string_equal(finding_name(VBIT_CN_NOT_IN_SAN), "cn_not_in_san");
	assert_string_equal(verdict_word(VERDICT_REASON, VBIT_NAME_CONSTRAINTS), "name_constraints");
	assert_string_equal(verdict_word(VERDICT_REASON, VBIT_PATH_LENGTH), "path_length");
	assert_string_equal(verdict_word(VERDICT_REASON, VBIT_UNKNOWN_CRITICAL_EXTENSION),
	    "unknown_critical_extension");
	assert_string_equal(verdict_word(VERDICT_REASON, VBIT_PURPOSE), "purpose");
	assert_string_equal(verdict_word(VERDICT_REASON, VBIT_KEY_USAGE), "key_usage");
	assert_string_equal(verdict_word(VERDICT_REASON, VBIT_WEBPKI), "webpki");
}

/* README's table of rules is finding.c's: each word with its source, the
 * certificates it looks at and the policies that fail the verdict. */
static void
test_readme(void **state)
{
	const char *srcdir = getenv("TEST_SRCDIR");
	char *path = xasprintf("%s/../README.md", srcdir && *srcdir ? srcdir : "tests");
	gnutls_datum_t d;
	char *text, *section;

	(void)state;
	if (gnutls_load_file(path, &d) < 0)
		fail_msg("cannot read %s", path);
	text = xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	if ((section = strstr(text, "\n## Web PKI rules\n")) == NULL)
		fail_msg("README has no section \"Web PKI rules\"");
	for (unsigned id = 0; id < VERDICT_NCERT_ISSUES; id++) {
		const struct finding_rule *r = finding_rule(id);
		char *head, *line, *end;
		struct buf want;

		if (policy_rule_for_issue(id) != NULL)
			continue;       /* the policy check's, in its own table */
		head = xasprintf("\n| `%s` | ", finding_name(id));
		if ((line = strstr(section, head)) == NULL)
			fail_msg("README's table has no row for %s", finding_name(id));
		line++;
		end = strchr(line, '\n');
		*end = '\0';
		buf_init(&want);
		buf_printf(&want, "| %s | %s | %s | %s: `", r->applies, r->rule, r->source,
		    r->effect[POLICY_PRIVATE] == FINDING_FAIL ? "both" : "public");
		verdict_words_join(&want, VERDICT_REASON, r->reason, ",", NULL);
		buf_puts(&want, "` |");
		if (strstr(line, want.data) == NULL)
			fail_msg("README's row for %s is\n%s\nnot\n%s", finding_name(id), line,
			    want.data);
		*end = '\n';
		buf_free(&want);
		free(head);
	}
	free(text);
	free(path);
}

static void
test_policy(void **state)
{
	enum policy p;

	(void)state;
	assert_string_equal(policy_name(POLICY_PUBLIC), "public");
	assert_string_equal(policy_name(POLICY_PRIVATE), "private");
	assert_null(policy_name(POLICY_N));
	assert_int_equal(policy_parse("public", &p), 0);
	assert_int_equal(p, POLICY_PUBLIC);
	assert_int_equal(policy_parse("private", &p), 0);
	assert_int_equal(p, POLICY_PRIVATE);
	assert_int_equal(policy_parse("Public", &p), -1);
	assert_int_equal(policy_parse("", &p), -1);
	assert_int_equal(policy_parse(NULL, &p), -1);
}

/* A second finding of a kind on one certificate folds into the first. */
static void
test_fold(void **state)
{
	struct findings f;
	const char *sha = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

	(void)state;
	findings_init(&f);
	findings_add(&f, VBIT_NAME_EXCLUDED, 0, sha, "first %d", 1);
	findings_add(&f, VBIT_NAME_EXCLUDED, 0, sha, "second");
	findings_add(&f, VBIT_NAME_EXCLUDED, 0, sha, "third");
	findings_add(&f, VBIT_NAME_EXCLUDED, 1, sha, "other depth");
	findings_add(&f, VBIT_WEAK_KEY, 0, sha, "other rule");
	assert_int_equal(f.n, 3);
	assert_string_equal(f.v[0].text, "first 1 (and 2 more)");
	assert_int_equal(f.v[0].more, 2);
	assert_true(findings_has(&f, VBIT_WEAK_KEY));
	assert_false(findings_has(&f, VBIT_NO_SAN));
	assert_int_equal(findings_reasons(&f, POLICY_PUBLIC), NC | PUB);
	assert_int_equal(findings_reasons(&f, POLICY_PRIVATE), NC);
	findings_fini(&f);
	findings_fini(&f);      /* twice is harmless */
}

/* The cross-signed chain against a store that holds only the root that
 * signed the cross-certificate: the path goes through it, complete. */
static void
test_cross_other_root(void **state)
{
	struct pem p;
	struct verdict v;
	struct trust *y;
	char *path = pki_path("root-y.pem"), *err = NULL;

	(void)state;
	assert_non_null(y = trust_load(path, &err));
	pem_load(&p, "cross-chain.pem");
	assert_int_equal(verdict_verify(p.der, p.n, y, "good.test", time(NULL), &v), 0);
	assert_int_equal(v.verified, 1);
	assert_int_equal(v.issues, 0);
	verdict_fini(&v);
	/* Without the cross-certificate, Y cannot be reached: incomplete. */
	assert_int_equal(verdict_verify(p.der, 2, y, "good.test", time(NULL), &v), 0);
	assert_int_equal(v.reasons, REASON(UNKNOWN_ISSUER));
	assert_int_equal(v.issues, CHAIN_ISSUE(INCOMPLETE));
	verdict_fini(&v);
	pem_free(&p);
	trust_free(y);
	free(path);
}

/* ---- the matchers, directly ------------------------------------------- */

static unsigned
syn(const char *s, int wild, int lead)
{
	const char *why;

	return gn_dns_syntax((const unsigned char *)s, strlen(s), wild, lead, &why);
}

static void
test_dns_syntax(void **state)
{
	static const char *const bad[] = {
		"", ".", "a..b", "a.b.", "-a.b", "a-.b", "a b.c", "a*.b", "*", "*.",
		"a.*.b", "**.b", "\xc3\xa9.test", "a\001.b",
	};
	char label[70], big[300];

	(void)state;
	assert_int_equal(syn("good.test", 0, 0), 0);
	assert_int_equal(syn("a", 0, 0), 0);
	assert_int_equal(syn("1a.2b", 0, 0), 0);
	assert_int_equal(syn("xn--e1afmkfd.test", 0, 0), 0);
	assert_int_equal(syn("*.good.test", 1, 0), GN_DNS_WILDCARD);
	assert_int_equal(syn("*.good.test", 0, 0), GN_DNS_BAD);
	assert_int_equal(syn("a_b.test", 0, 0), GN_DNS_UNDERSCORE);
	assert_int_equal(syn(".good.test", 0, 1), 0);
	assert_int_equal(syn(".good.test", 0, 0), GN_DNS_BAD);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (!(syn(bad[i], 1, 0) & GN_DNS_BAD))
			fail_msg("\"%s\" passed as a host name", bad[i]);
	memset(label, 'a', 63);
	label[63] = '\0';
	assert_int_equal(syn(label, 0, 0), 0);
	label[63] = 'a';
	label[64] = '\0';
	assert_int_equal(syn(label, 0, 0), GN_DNS_BAD);
	for (size_t i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = '\0';
	assert_int_equal(syn(big, 0, 0), 0);
	big[253] = 'a';
	big[254] = '\0';
	assert_int_equal(syn(big, 0, 0), GN_DNS_BAD);
}

static int
dns(const char *name, const char *c, int excluded)
{
	struct gn_name x = { .kind = GN_DNS, .v = (const unsigned char *)name, .n = strlen(name) };
	struct gn_name k = { .kind = GN_DNS, .v = (const unsigned char *)c, .n = strlen(c) };
	const char *why = NULL;

	return gn_within(&x, &k, excluded, &why);
}

static void
test_dns_match(void **state)
{
	(void)state;
	assert_int_equal(dns("good.test", "good.test", 0), 1);
	assert_int_equal(dns("GOOD.Test", "good.TEST", 0), 1);
	assert_int_equal(dns("good.test.", "good.test", 0), 1);
	assert_int_equal(dns("good.test", "good.test.", 0), 1);
	assert_int_equal(dns("www.good.test", "good.test", 0), 1);
	assert_int_equal(dns("a.b.good.test", "good.test", 0), 1);
	assert_int_equal(dns("notgood.test", "good.test", 0), 0);
	assert_int_equal(dns("good.test", "www.good.test", 0), 0);
	assert_int_equal(dns("anything.example", "", 0), 1);
	/* A leading period: only the names below. */
	assert_int_equal(dns("good.test", ".good.test", 0), 0);
	assert_int_equal(dns("www.good.test", ".good.test", 0), 1);
	/* Wildcards: within a subtree that holds every name it matches;
	 * excluded when it could match an excluded name. */
	assert_int_equal(dns("*.good.test", "good.test", 0), 1);
	assert_int_equal(dns("*.good.test", ".good.test", 0), 1);
	assert_int_equal(dns("*.good.test", "www.good.test", 0), 0);
	assert_int_equal(dns("*.good.test", "www.good.test", 1), 1);
	assert_int_equal(dns("*.good.test", "a.www.good.test", 1), 0);
	assert_int_equal(dns("*.good.test", ".www.good.test", 1), 0);
	assert_int_equal(dns("*.good.test", "good.test", 1), 1);
	assert_int_equal(dns("*.good.test", "other.test", 1), 0);
	/* A constraint not in DNS syntax cannot be compared. */
	assert_int_equal(dns("good.test", "bad name", 0), -1);
	assert_int_equal(dns("good.test", "*.good.test", 0), -1);
}

static int
ip(const unsigned char *a, size_t an, const unsigned char *c, size_t cn)
{
	struct gn_name x = { .kind = GN_IP, .v = a, .n = an };
	struct gn_name k = { .kind = GN_IP, .v = c, .n = cn };
	const char *why = NULL;

	return gn_within(&x, &k, 0, &why);
}

static void
test_ip_match(void **state)
{
	static const unsigned char lo[4] = { 127, 0, 0, 1 }, ten[4] = { 10, 1, 2, 3 };
	static const unsigned char net8[8] = { 127, 0, 0, 0, 255, 0, 0, 0 };
	static const unsigned char host[8] = { 127, 0, 0, 1, 255, 255, 255, 255 };
	static const unsigned char any4[8] = { 0 };
	static const unsigned char holes[8] = { 127, 0, 0, 0, 255, 0, 255, 0 };
	unsigned char v6[16] = { 0 }, any6[32] = { 0 }, doc6[32] = { 0x20, 0x01, 0x0d, 0xb8 };

	(void)state;
	v6[15] = 1;
	memset(doc6 + 16, 0xff, 4);
	assert_int_equal(ip(lo, 4, net8, 8), 1);
	assert_int_equal(ip(ten, 4, net8, 8), 0);
	assert_int_equal(ip(lo, 4, host, 8), 1);
	assert_int_equal(ip(ten, 4, any4, 8), 1);
	assert_int_equal(ip(v6, 16, net8, 8), 0);      /* the other family */
	assert_int_equal(ip(v6, 16, any6, 32), 1);
	assert_int_equal(ip(v6, 16, doc6, 32), 0);
	assert_int_equal(ip(lo, 4, any6, 32), 0);
	assert_int_equal(ip(lo, 4, holes, 8), -1);     /* not a contiguous mask */
	assert_int_equal(ip(lo, 4, net8, 5), -1);
	assert_int_equal(gn_mask_bits(net8 + 4, 4), 8);
	assert_int_equal(gn_mask_bits(host + 4, 4), 32);
	assert_int_equal(gn_mask_bits(any4 + 4, 4), 0);
	assert_int_equal(gn_mask_bits((const unsigned char *)"\xff\xf0\x00\x00", 4), 12);
	assert_int_equal(gn_mask_bits((const unsigned char *)"\xff\x0f\x00\x00", 4), -1);
}

static int
named(unsigned kind, const char *name, const char *c)
{
	struct gn_name x = { .kind = kind, .v = (const unsigned char *)name, .n = strlen(name) };
	struct gn_name k = { .kind = kind, .v = (const unsigned char *)c, .n = strlen(c) };
	const char *why = NULL;

	return gn_within(&x, &k, 0, &why);
}

static void
test_email_uri_match(void **state)
{
	(void)state;
	assert_int_equal(named(GN_EMAIL, "a@good.test", "good.test"), 1);
	assert_int_equal(named(GN_EMAIL, "a@GOOD.test", "good.test"), 1);
	assert_int_equal(named(GN_EMAIL, "a@www.good.test", "good.test"), 0);
	assert_int_equal(named(GN_EMAIL, "a@www.good.test", ".good.test"), 1);
	assert_int_equal(named(GN_EMAIL, "a@good.test", ".good.test"), 0);
	assert_int_equal(named(GN_EMAIL, "a@good.test", "a@good.test"), 1);
	assert_int_equal(named(GN_EMAIL, "A@good.test", "a@good.test"), 0);
	assert_int_equal(named(GN_EMAIL, "b@good.test", "a@good.test"), 0);
	assert_int_equal(named(GN_EMAIL, "\"x@y\"@good.test", "good.test"), 1);
	assert_int_equal(named(GN_EMAIL, "nobody", "good.test"), -1);
	assert_int_equal(named(GN_EMAIL, "@good.test", "good.test"), -1);
	assert_int_equal(named(GN_EMAIL, "a@bad host", "good.test"), -1);

	assert_int_equal(named(GN_URI, "https://good.test/x", "good.test"), 1);
	assert_int_equal(named(GN_URI, "https://user@good.test:8443/x?q#f", "good.test"), 1);
	assert_int_equal(named(GN_URI, "https://www.good.test/", "good.test"), 0);
	assert_int_equal(named(GN_URI, "https://www.good.test/", ".good.test"), 1);
	assert_int_equal(named(GN_URI, "https://good.test", ".good.test"), 0);
	assert_int_equal(named(GN_URI, "ldap://good.test:389", "good.test"), 1);
	assert_int_equal(named(GN_URI, "urn:uuid:1234", "good.test"), -1);
	assert_int_equal(named(GN_URI, "https://[::1]/", "good.test"), -1);
	assert_int_equal(named(GN_URI, "https:///path", "good.test"), -1);
	assert_int_equal(named(GN_URI, "1http://good.test/", "good.test"), -1);
}

static gnutls_x509_dn_t
dn_of(const char *str)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	gnutls_x509_dn_t dn;

	/* GnuTLS builds a Name from RFC 4514 text through a certificate. */
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_dn(crt, str, NULL), 0);
	assert_int_equal(gnutls_x509_crt_get_raw_dn(crt, &der), 0);
	assert_non_null(dn = gn_dn_import(der.data, der.size));
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	return dn;
}

static int
dnm(const char *name, const char *c)
{
	struct gn_name x = { .kind = GN_DN }, k = { .kind = GN_DN };
	const char *why = NULL;
	int r;

	x.dn = dn_of(name);
	k.dn = dn_of(c);
	r = gn_within(&x, &k, 0, &why);
	gnutls_x509_dn_deinit(x.dn);
	gnutls_x509_dn_deinit(k.dn);
	return r;
}

static void
test_dn_match(void **state)
{
	(void)state;
	/* RFC 4514 lists the last RDN first: "CN=x,O=Good" is O=Good, CN=x. */
	assert_int_equal(dnm("CN=x,O=Good,C=DE", "O=Good,C=DE"), 1);
	assert_int_equal(dnm("CN=x,O=Good,C=DE", "C=DE"), 1);
	assert_int_equal(dnm("CN=x,O=Good,C=DE", "O=Evil,C=DE"), 0);
	assert_int_equal(dnm("CN=x,O=Good,C=DE", "O=Good,C=FR"), 0);
	assert_int_equal(dnm("O=Good,C=DE", "CN=x,O=Good,C=DE"), 0);
	assert_int_equal(dnm("CN=x,O=good  co,C=DE", "O=Good Co,C=DE"), 1);
	assert_int_equal(dnm("CN=x,O= Good Co ,C=DE", "O=Good Co,C=DE"), 1);
	assert_int_equal(dnm("CN=x,O=GoodCo,C=DE", "O=Good Co,C=DE"), 0);
	/* Non-ASCII that differs by bytes only normalisation could judge. */
	assert_int_equal(dnm("CN=x,O=G\xc3\xbc" "t,C=DE", "O=G\xc3\x9c" "t,C=DE"), -1);
	assert_int_equal(dnm("CN=x,O=G\xc3\xbc" "t,C=DE", "O=G\xc3\xbc" "t,C=DE"), 1);
}

/* NameConstraints DER, hand-made: what the reader accepts and refuses. */
static void
nc_parse(const unsigned char *der, size_t n, struct gn_constraints *nc)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)n };

	memset(nc, 0, sizeof(*nc));
	gn_parse_constraints(&d, nc);
}

static void
test_nc_der(void **state)
{
	/* permitted DNS good.test; excluded IP 10.0.0.0/8 */
	static const unsigned char ok[] = {
		0x30, 0x1d, 0xa0, 0x0d, 0x30, 0x0b, 0x82, 0x09,
		'g', 'o', 'o', 'd', '.', 't', 'e', 's', 't',
		0xa1, 0x0c, 0x30, 0x0a, 0x87, 0x08, 10, 0, 0, 0, 255, 0, 0, 0,
	};
	/* permitted x400Address (a3) and, after it, DNS good.test: GnuTLS
	 * stops at the first; we read both. */
	static const unsigned char x400[] = {
		0x30, 0x13, 0xa0, 0x11, 0x30, 0x04, 0xa3, 0x02, 0x30, 0x00,
		0x30, 0x09, 0x82, 0x07, 'g', 'o', 'o', 'd', '.', 't', 'e',
	};
	static const unsigned char empty[] = { 0x30, 0x02, 0xa0, 0x00 };
	static const unsigned char order[] = {
		0x30, 0x0c, 0xa1, 0x04, 0x30, 0x02, 0x82, 0x00, 0xa0, 0x04, 0x30, 0x02, 0x82, 0x00,
	};
	static const unsigned char maxed[] = {
		0x30, 0x09, 0xa0, 0x07, 0x30, 0x05, 0x82, 0x00, 0x81, 0x01, 0x05,
	};
	static const unsigned char min0[] = {
		0x30, 0x09, 0xa0, 0x07, 0x30, 0x05, 0x82, 0x00, 0x80, 0x01, 0x00,
	};
	static const unsigned char trailing[] = { 0x30, 0x00, 0x00 };
	static const unsigned char indef[] = { 0x30, 0x80, 0x00, 0x00 };
	static const unsigned char prim_dn[] = {
		0x30, 0x06, 0xa0, 0x04, 0x30, 0x02, 0x84, 0x00,
	};
	static const unsigned char overlong[] = { 0x30, 0x84, 0xff, 0xff, 0xff, 0xff };
	struct gn_constraints nc;
	struct gn_name x = { .kind = GN_DNS, .v = (const unsigned char *)"a.good.te", .n = 9 };
	const struct gn_name *hit;
	const char *why;

	(void)state;
	nc_parse(ok, sizeof(ok), &nc);
	assert_false(nc.bad);
	assert_int_equal(nc.sub[0].n, 1);
	assert_int_equal(nc.sub[1].n, 1);
	assert_int_equal(nc.sub[0].v[0].kind, GN_DNS);
	assert_int_equal(nc.sub[1].v[0].kind, GN_IP);
	assert_int_equal(nc.kinds, (1u << GN_DNS) | (1u << GN_IP));
	gn_constraints_fini(&nc);

	nc_parse(x400, sizeof(x400), &nc);
	assert_false(nc.bad);
	assert_int_equal(nc.sub[0].n, 2);
	assert_int_equal(nc.sub[0].v[0].kind, GN_X400);
	assert_int_equal(gn_check(&nc, &x, &hit, &why), GN_OK);
	x.v = (const unsigned char *)"a.evil.te";
	assert_int_equal(gn_check(&nc, &x, &hit, &why), GN_NOT_PERMITTED);
	gn_constraints_fini(&nc);

	nc_parse(maxed, sizeof(maxed), &nc);
	assert_false(nc.bad);
	assert_true(nc.sub[0].v[0].unsupported);
	assert_int_equal(gn_check(&nc, &x, &hit, &why), GN_UNEVALUABLE);
	gn_constraints_fini(&nc);
	nc_parse(min0, sizeof(min0), &nc);
	assert_false(nc.bad);
	assert_false(nc.sub[0].v[0].unsupported);
	assert_int_equal(gn_check(&nc, &x, &hit, &why), GN_OK);   /* "" permits all */
	gn_constraints_fini(&nc);

	nc_parse(empty, sizeof(empty), &nc);
	assert_true(nc.bad);
	gn_constraints_fini(&nc);
	nc_parse(order, sizeof(order), &nc);
	assert_true(nc.bad);
	gn_constraints_fini(&nc);
	nc_parse(trailing, sizeof(trailing), &nc);
	assert_true(nc.bad);
	gn_constraints_fini(&nc);
	nc_parse(indef, sizeof(indef), &nc);
	assert_true(nc.bad);
	gn_constraints_fini(&nc);
	nc_parse(prim_dn, sizeof(prim_dn), &nc);
	assert_true(nc.bad);
	gn_constraints_fini(&nc);
	nc_parse(overlong, sizeof(overlong), &nc);
	assert_true(nc.bad);
	gn_constraints_fini(&nc);
	for (size_t n = 0; n < sizeof(ok); n++) {
		nc_parse(ok, n, &nc);           /* every truncation is refused */
		assert_true(nc.bad);
		gn_constraints_fini(&nc);
	}
}

static void
test_show(void **state)
{
	char out[GN_SHOWBUF];
	unsigned char big[300];

	(void)state;
	gn_show(out, (const unsigned char *)"a\"b\\c\nd\xc3\xa9", 9);
	assert_string_equal(out, "a\\x22b\\x5cc\\x0ad\\xc3\\xa9");
	memset(big, 0xff, sizeof(big));
	gn_show(out, big, sizeof(big));
	assert_int_equal(strlen(out), GN_SHOW * 4 + 3);
	assert_string_equal(out + GN_SHOW * 4, "...");
}

/* An empty path and a path longer than the engine reads: no crash, and
 * the long one is read up to the bound. */
static void
test_bounds(void **state)
{
	struct webpki_input in = { NULL, 0, 0 };
	struct webpki_cert path[WEBPKI_MAX_PATH + 3];
	struct findings f;
	struct pem p;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;

	(void)state;
	findings_init(&f);
	webpki_evaluate(&in, &f);
	webpki_evaluate(NULL, &f);
	assert_int_equal(f.n, 0);
	pem_load(&p, "v1-ca.pem");
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	d.data = p.raw[0].data;
	d.size = p.raw[0].size;
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER), 0);
	for (size_t i = 0; i < ARRAY_SIZE(path); i++) {
		path[i].crt = crt;
		path[i].depth = (int)i;
	}
	in.path = path;
	in.npath = ARRAY_SIZE(path);
	in.anchored = 1;
	webpki_evaluate(&in, &f);
	for (size_t i = 0; i < f.n; i++)
		assert_true(f.v[i].depth < WEBPKI_MAX_PATH);
	findings_fini(&f);
	gnutls_x509_crt_deinit(crt);
	pem_free(&p);
}

/* ---- set-up --------------------------------------------------------- */

static int
teardown(void **state)
{
	(void)state;
	trust_free(roots);
	roots = NULL;
	testpki_remove();
	return 0;
}

static int
setup(void **state)
{
	char *path, *err = NULL;

	if (testpki_make_script("webpki-corpus.sh", "test_webpki") == -1)
		return -1;
	path = pki_path("roots.pem");
	roots = trust_load(path, &err);
	free(path);
	if (roots == NULL) {
		fprintf(stderr, "trust_load: %s\n", err);
		free(err);
		teardown(state);
		return -1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_readme),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_cross_other_root),
		cmocka_unit_test(test_dns_syntax),
		cmocka_unit_test(test_dns_match),
		cmocka_unit_test(test_ip_match),
		cmocka_unit_test(test_email_uri_match),
		cmocka_unit_test(test_dn_match),
		cmocka_unit_test(test_nc_der),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
