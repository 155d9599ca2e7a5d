/* test_policy.c - certificate policy (src/verdict/policy.c), the words for
 * algorithms (algo.c) and the lifetime-aware thresholds (expiry.c), on
 * certificates made here with GnuTLS at exact dates: the SC-081 schedule
 * at each step's first second, Chrome's SCT counts on both sides of 180
 * days, SCTs embedded, stapled and from the TLS extension, expired CA
 * certificates presented beside a valid path; and the certificates
 * tests/pki.sh makes for the integration tests say what they are made to. */
#include "config.h"

#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/algo.h"
#include "verdict/certs.h"
#include "verdict/expiry.h"
#include "verdict/policy.h"
#include "sctbuild.h"
#include "testpki.h"

#define DAY 86400
/* 00:00:00 UTC on the first day of each SC-081 step */
#define T_2020_09_01 1598918400
#define T_2026_03_15 1773532800
#define T_2027_03_15 1805068800
#define T_2029_03_15 1868227200

static const int64_t now = 1796083200;   /* 2026-12-01 */

enum { K_P256, K_P384, K_ED25519, K_ED448, K_RSA, NKEYS };
static gnutls_x509_privkey_t keys[NKEYS];

static int
setup(void **state)
{
	static const struct {
		gnutls_pk_algorithm_t pk;
		unsigned bits;
	} kinds[NKEYS] = {
		[K_P256] = { GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1) },
		[K_P384] = { GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1) },
		[K_ED25519] = { GNUTLS_PK_EDDSA_ED25519, 256 },
		[K_ED448] = { GNUTLS_PK_EDDSA_ED448, 456 },
		[K_RSA] = { GNUTLS_PK_RSA, 2048 },
	};

	(void)state;
	for (int i = 0; i < NKEYS; i++)
		if (gnutls_x509_privkey_init(&keys[i]) < 0 ||
		    gnutls_x509_privkey_generate(keys[i], kinds[i].pk, kinds[i].bits, 0) < 0)
			return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NKEYS; i++)
		gnutls_x509_privkey_deinit(keys[i]);
	return 0;
}

struct spec {
	int key;                 /* the subject's key */
	int64_t nb, na;
	int ca;
	const struct buf *sct_ext;   /* the SCT extension's value (DER), or NULL */
	gnutls_x509_crt_t issuer;    /* NULL: self-signed */
	int issuer_key;
	gnutls_digest_algorithm_t dig;   /* 0: SHA-256 (EdDSA: its own) */
	unsigned sign_flags;     /* GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS */
};

static gnutls_x509_crt_t
make(const struct spec *s)
{
	gnutls_x509_crt_t c;
	gnutls_privkey_t signer;
	unsigned char serial[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x01 };
	static unsigned char next;
	gnutls_pk_algorithm_t pk;

	serial[7] = ++next;
	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(c, (time_t)s->nb), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(c, (time_t)s->na), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0,
	    s->ca ? "policy CA" : "policy.test", s->ca ? 9 : 11), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c, keys[s->key]), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(c, s->ca, -1), 0);
	if (s->sct_ext != NULL) {
		assert_int_equal(gnutls_x509_crt_set_extension_by_oid(c, SCT_OID_X509,
		    s->sct_ext->data, s->sct_ext->len, 0), 0);
	}
	assert_int_equal(gnutls_privkey_init(&signer), 0);
	assert_int_equal(gnutls_privkey_import_x509(signer,
	    keys[s->issuer ? s->issuer_key : s->key], 0), 0);
	pk = gnutls_privkey_get_pk_algorithm(signer, NULL);
	assert_int_equal(gnutls_x509_crt_privkey_sign(c, s->issuer ? s->issuer : c, signer,
	    s->dig ? s->dig : pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448 ?
	    GNUTLS_DIG_UNKNOWN : GNUTLS_DIG_SHA256, s->sign_flags), 0);
	gnutls_privkey_deinit(signer);
	return c;
}

/* The extension value holding n v1 SCTs. */
static void
sct_ext(struct buf *ext, unsigned n)
{
	struct buf scts, list;

	buf_init(&scts);
	buf_init(&list);
	buf_init(ext);
	for (unsigned i = 0; i < n; i++)
		sb_sct_v1(&scts, (uint8_t)(i + 1), (uint64_t)now * 1000, 0, 70);
	sb_list(&list, &scts);
	sb_der(ext, 0x04, list.data, list.len);
	buf_free(&scts);
	buf_free(&list);
}

/* A TLS-encoded list of n SCTs (the TLS extension's data). */
static void
sct_list(struct buf *list, unsigned n)
{
	struct buf scts;

	buf_init(&scts);
	buf_init(list);
	for (unsigned i = 0; i < n; i++)
		sb_sct_v1(&scts, (uint8_t)(0x40 + i), (uint64_t)now * 1000, 0, 70);
	sb_list(list, &scts);
	buf_free(&scts);
}

/* ---- the schedule ---- */

static void
test_schedule(void **state)
{
	const char *since;

	(void)state;
	assert_int_equal(policy_max_validity(T_2020_09_01 - 1, &since), 825 * DAY);
	assert_string_equal(since, "");
	assert_int_equal(policy_max_validity(T_2020_09_01, &since), 398 * DAY);
	assert_string_equal(since, "2020-09-01");
	assert_int_equal(policy_max_validity(T_2026_03_15 - 1, NULL), 398 * DAY);
	assert_int_equal(policy_max_validity(T_2026_03_15, &since), 200 * DAY);
	assert_string_equal(since, "2026-03-15");
	assert_int_equal(policy_max_validity(T_2027_03_15 - 1, NULL), 200 * DAY);
	assert_int_equal(policy_max_validity(T_2027_03_15, &since), 100 * DAY);
	assert_string_equal(since, "2027-03-15");
	assert_int_equal(policy_max_validity(T_2029_03_15 - 1, NULL), 100 * DAY);
	assert_int_equal(policy_max_validity(T_2029_03_15, &since), 47 * DAY);
	assert_string_equal(since, "2029-03-15");
	assert_int_equal(policy_max_validity(INT64_MAX / 2, NULL), 47 * DAY);
	assert_int_equal(policy_max_validity(-1000000000LL, NULL), 825 * DAY);

	/* notBefore through notAfter inclusive */
	assert_int_equal(policy_validity_period(1000, 1000 + 90 * DAY - 1), 90 * DAY);
	assert_int_equal(policy_scts_needed(180 * DAY), 2);
	assert_int_equal(policy_scts_needed(180 * DAY + 1), 3);
	assert_int_equal(policy_scts_needed(6 * DAY), 2);
	assert_int_equal(policy_scts_needed(398 * DAY), 3);
}

/* ---- words ---- */

static int
is_word(const char *s)
{
	regex_t re;
	int ok;

	assert_int_equal(regcomp(&re, "^[a-z0-9_]+$", REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&re, s, 0, NULL, 0) == 0 && strlen(s) < ALGO_WORD_MAX;
	regfree(&re);
	return ok;
}

static void
test_words(void **state)
{
	char w[ALGO_WORD_MAX];
	static const struct {
		const char *gnutls, *iana;
	} schemes[] = {
		{ "RSA-PSS-RSAE-SHA256", "rsa_pss_rsae_sha256" },
		{ "RSA-PSS-RSAE-SHA512", "rsa_pss_rsae_sha512" },
		{ "RSA-PSS-SHA384", "rsa_pss_pss_sha384" },
		{ "ECDSA-SECP256R1-SHA256", "ecdsa_secp256r1_sha256" },
		{ "ECDSA-SECP384R1-SHA384", "ecdsa_secp384r1_sha384" },
		{ "ECDSA-SECP521R1-SHA512", "ecdsa_secp521r1_sha512" },
		{ "ECDSA-SHA256", "ecdsa_secp256r1_sha256" },   /* TLS 1.2's name, same code point */
		{ "ECDSA-SHA1", "ecdsa_sha1" },
		{ "EdDSA-Ed25519", "ed25519" },
		{ "EdDSA-Ed448", "ed448" },
		{ "RSA-SHA256", "rsa_pkcs1_sha256" },
		{ "RSA-SHA1", "rsa_pkcs1_sha1" },
		{ "DSA-SHA1", "dsa_sha1" },
		{ "no such thing", "unknown" },
	};
	static const struct {
		int sign;
		const char *word;
	} certsigs[] = {
		{ GNUTLS_SIGN_RSA_SHA256, "rsa_pkcs1_sha256" },
		{ GNUTLS_SIGN_RSA_SHA1, "rsa_pkcs1_sha1" },
		{ GNUTLS_SIGN_RSA_MD5, "rsa_pkcs1_md5" },
		{ GNUTLS_SIGN_RSA_PSS_SHA256, "rsa_pss_sha256" },
		{ GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, "rsa_pss_sha384" },
		{ GNUTLS_SIGN_ECDSA_SHA384, "ecdsa_sha384" },
		{ GNUTLS_SIGN_ECDSA_SHA3_256, "ecdsa_sha3_256" },
		{ GNUTLS_SIGN_DSA_SHA1, "dsa_sha1" },
		{ GNUTLS_SIGN_EDDSA_ED25519, "ed25519" },
		{ GNUTLS_SIGN_EDDSA_ED448, "ed448" },
		{ GNUTLS_SIGN_GOST_256, "gostr341012_256" },
		{ GNUTLS_SIGN_UNKNOWN, "unknown" },
		{ 9999, "unknown" },
	};
	const gnutls_sign_algorithm_t *sl;
	const gnutls_group_t *gl;

	(void)state;
	assert_string_equal(algo_key_type(GNUTLS_PK_RSA), "rsa");
	assert_string_equal(algo_key_type(GNUTLS_PK_RSA_PSS), "rsa");
	assert_string_equal(algo_key_type(GNUTLS_PK_ECDSA), "ecdsa");
	assert_string_equal(algo_key_type(GNUTLS_PK_EDDSA_ED25519), "ed25519");
	assert_string_equal(algo_key_type(GNUTLS_PK_EDDSA_ED448), "ed448");
	assert_string_equal(algo_key_type(GNUTLS_PK_DSA), "dsa");
	assert_string_equal(algo_key_type(GNUTLS_PK_UNKNOWN), "unknown");
	assert_string_equal(algo_key_type(-5), "unknown");

	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++) {
		algo_sigscheme(schemes[i].gnutls, w);
		assert_string_equal(w, schemes[i].iana);
	}
	algo_sigscheme(NULL, w);
	assert_string_equal(w, "unknown");
	for (size_t i = 0; i < ARRAY_SIZE(certsigs); i++) {
		algo_cert_signature(certsigs[i].sign, w);
		assert_string_equal(w, certsigs[i].word);
	}
	/* every algorithm GnuTLS has gives a word of the label's alphabet */
	for (sl = gnutls_sign_list(); *sl; sl++) {
		algo_cert_signature(*sl, w);
		assert_true(is_word(w));
		assert_string_not_equal(w, "unknown");
		algo_sigscheme(gnutls_sign_get_name(*sl), w);
		assert_true(is_word(w));
	}
	for (gl = gnutls_group_list(); *gl; gl++) {
		char lower[ALGO_WORD_MAX];
		const char *name = gnutls_group_get_name(*gl);
		size_t j;

		for (j = 0; name[j] && j < sizeof(lower) - 1; j++)
			lower[j] = (char)(name[j] >= 'A' && name[j] <= 'Z' ? name[j] + 32 : name[j]);
		lower[j] = '\0';
		algo_group(name, w);
		assert_true(is_word(w));
		assert_string_equal(w, lower);
	}
	algo_group("X25519", w);
	assert_string_equal(w, "x25519");
	algo_group("SECP256R1", w);
	assert_string_equal(w, "secp256r1");
	algo_group("ffdhe2048", w);     /* GnuTLS's lookup ignores case */
	assert_string_equal(w, "ffdhe2048");
	algo_group("X25519\"} 1\n", w);   /* not a name GnuTLS has */
	assert_string_equal(w, "unknown");
	algo_group(NULL, w);
	assert_string_equal(w, "unknown");
}

/* ---- facts of one certificate ---- */

static void
check_facts(int key, gnutls_digest_algorithm_t dig, unsigned flags, const char *type,
    unsigned bits, const char *sig)
{
	struct spec s = { key, now - DAY, now + 90 * DAY - 1, 0, NULL, NULL, 0, dig, flags };
	gnutls_x509_crt_t c = make(&s);
	struct policy_cert pc;

	policy_cert_read(c, &pc);
	assert_string_equal(pc.key_type, type);
	assert_int_equal(pc.key_bits, bits);
	assert_string_equal(pc.sig_alg, sig);
	assert_int_equal(pc.not_before, now - DAY);
	assert_int_equal(pc.lifetime, 91 * DAY - 1);
	assert_int_equal(pc.is_ca, 0);
	assert_int_equal(pc.scts, 0);
	gnutls_x509_crt_deinit(c);
}

static void
test_cert_facts(void **state)
{
	(void)state;
	check_facts(K_P256, 0, 0, "ecdsa", 256, "ecdsa_sha256");
	check_facts(K_P384, GNUTLS_DIG_SHA384, 0, "ecdsa", 384, "ecdsa_sha384");
	check_facts(K_ED25519, 0, 0, "ed25519", 256, "ed25519");
	check_facts(K_ED448, 0, 0, "ed448", 456, "ed448");
	check_facts(K_RSA, 0, 0, "rsa", 2048, "rsa_pkcs1_sha256");
	check_facts(K_RSA, GNUTLS_DIG_SHA384, GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS, "rsa", 2048,
	    "rsa_pss_sha384");
}

/* ---- findings ---- */

struct eval {
	gnutls_x509_crt_t crt[4];
	size_t n;
	struct policy_result r;
};

static void
eval_run(struct eval *e, int public_rules, const struct buf *staple, const struct buf *tls)
{
	struct policy_input in;

	memset(&in, 0, sizeof(in));
	in.crt = e->crt;
	in.n = e->n;
	in.public_rules = public_rules;
	in.now = now;
	if (staple) {
		in.staple = (const unsigned char *)staple->data;
		in.staple_len = staple->len;
	}
	if (tls) {
		in.tls_scts = (const unsigned char *)tls->data;
		in.tls_scts_len = tls->len;
	}
	policy_result_fini(&e->r);
	policy_evaluate(&in, &e->r);
}

static void
eval_free(struct eval *e)
{
	for (size_t i = 0; i < e->n; i++)
		gnutls_x509_crt_deinit(e->crt[i]);
	policy_result_fini(&e->r);
}

#define F(id) ((uint64_t)1 << (id))

/* A leaf alone with 3 embedded SCTs (enough for any lifetime), from nb
 * for lifetime seconds: its findings under public, and under private. */
static uint64_t
leaf_findings(int64_t nb, int64_t lifetime, int public_rules)
{
	struct buf ext;
	struct spec s = { K_P256, nb, nb + lifetime, 0, &ext, NULL, 0, 0, 0 };
	struct eval e = { { NULL }, 0, { 0 } };
	uint64_t f;

	sct_ext(&ext, 3);
	e.crt[e.n++] = make(&s);
	eval_run(&e, public_rules, NULL, NULL);
	f = e.r.findings[0];
	assert_int_equal(e.r.sct_count[POLICY_SCT_EMBEDDED], 3);
	eval_free(&e);
	buf_free(&ext);
	return f;
}

static void
test_validity(void **state)
{
	int64_t issued = now - DAY;      /* after 2026-03-15 */

	(void)state;
	/* the two leaves: 400 days issued after 2026-03-15, and 390
	 * days issued before it (notBefore in the past) */
	assert_int_equal(leaf_findings(issued, 400 * DAY, 1), F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	assert_int_equal(leaf_findings(issued, 400 * DAY, 0), 0);
	assert_int_equal(leaf_findings(T_2026_03_15 - 14 * DAY, 390 * DAY, 1), 0);
	/* each step at its first second: notAfter - notBefore = N days - 1 s
	 * is a period of exactly N days (allowed), N days is one second more */
	assert_int_equal(leaf_findings(T_2026_03_15 - 1, 398 * DAY - 1, 1), 0);
	assert_int_equal(leaf_findings(T_2026_03_15 - 1, 398 * DAY, 1),
	    F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	assert_int_equal(leaf_findings(T_2026_03_15, 200 * DAY - 1, 1), 0);
	assert_int_equal(leaf_findings(T_2026_03_15, 200 * DAY, 1), F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	assert_int_equal(leaf_findings(T_2026_03_15, 398 * DAY - 1, 1),
	    F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	assert_int_equal(leaf_findings(T_2027_03_15, 100 * DAY - 1, 1), 0);
	assert_int_equal(leaf_findings(T_2027_03_15, 100 * DAY, 1), F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	assert_int_equal(leaf_findings(T_2027_03_15 - 1, 200 * DAY - 1, 1), 0);
	assert_int_equal(leaf_findings(T_2029_03_15, 47 * DAY - 1, 1), 0);
	assert_int_equal(leaf_findings(T_2029_03_15, 47 * DAY, 1), F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	/* a 6-day certificate, as Let's Encrypt issues */
	assert_int_equal(leaf_findings(issued, 6 * DAY, 1), 0);
}

/* n embedded SCTs on a leaf of that lifetime; plus what is delivered. */
static uint64_t
sct_findings(unsigned n, int64_t lifetime, int public_rules, unsigned stapled,
    unsigned in_tls, struct eval *keep)
{
	struct buf ext, list, staple, tls;
	struct spec s = { K_P256, now - DAY, now - DAY + lifetime, 0, n ? &ext : NULL, NULL, 0, 0,
	                  0 };
	struct eval e = { { NULL }, 0, { 0 } };
	unsigned char serial[8];
	size_t slen = sizeof(serial);
	uint64_t f;

	sct_ext(&ext, n);
	e.crt[e.n++] = make(&s);
	buf_init(&staple);
	sct_list(&list, stapled);
	if (stapled) {
		struct sb_single one = { serial, 0, &list, 1, 0 };

		assert_int_equal(gnutls_x509_crt_get_serial(e.crt[0], serial, &slen), 0);
		one.serial_len = slen;
		sb_ocsp(&staple, &one, 1, 1, 0);
	}
	sct_list(&tls, in_tls);
	eval_run(&e, public_rules, stapled ? &staple : NULL, in_tls ? &tls : NULL);
	assert_int_equal(e.r.sct_count[POLICY_SCT_EMBEDDED], n);
	assert_int_equal(e.r.sct_state[POLICY_SCT_EMBEDDED], n ? 1 : 0);
	assert_int_equal(e.r.sct_count[POLICY_SCT_OCSP], stapled);
	assert_int_equal(e.r.sct_state[POLICY_SCT_OCSP], stapled ? 1 : 0);
	assert_int_equal(e.r.sct_count[POLICY_SCT_TLS], in_tls);
	assert_int_equal(e.r.sct_state[POLICY_SCT_TLS], in_tls ? 1 : 0);
	f = e.r.findings[0];
	if (keep != NULL)
		*keep = e;
	else
		eval_free(&e);
	buf_free(&ext);
	buf_free(&list);
	buf_free(&staple);
	buf_free(&tls);
	return f;
}

static void
test_scts(void **state)
{
	const uint64_t few = F(POLICY_TOO_FEW_SCTS);

	(void)state;
	/* up to 180 days: 2 embedded */
	assert_int_equal(sct_findings(0, 90 * DAY, 1, 0, 0, NULL), few);
	assert_int_equal(sct_findings(1, 90 * DAY, 1, 0, 0, NULL), few);
	assert_int_equal(sct_findings(2, 90 * DAY, 1, 0, 0, NULL), 0);
	assert_int_equal(sct_findings(2, 180 * DAY, 1, 0, 0, NULL), 0);
	/* beyond: 3 */
	assert_int_equal(sct_findings(2, 180 * DAY + 1, 1, 0, 0, NULL), few);
	assert_int_equal(sct_findings(3, 180 * DAY + 1, 1, 0, 0, NULL), 0);
	/* private: no CT rule */
	assert_int_equal(sct_findings(0, 90 * DAY, 0, 0, 0, NULL), 0);
	/* delivered instead: 2 in a staple or in the TLS extension, or both together */
	assert_int_equal(sct_findings(0, 190 * DAY, 1, 2, 0, NULL), 0);
	assert_int_equal(sct_findings(0, 190 * DAY, 1, 0, 2, NULL), 0);
	assert_int_equal(sct_findings(0, 190 * DAY, 1, 1, 1, NULL), 0);
	assert_int_equal(sct_findings(1, 190 * DAY, 1, 1, 0, NULL), few);
}

/* A staple that is not for this leaf, a malformed staple, a malformed
 * embedded list. */
static void
test_scts_damaged(void **state)
{
	struct buf ext, list, staple;
	struct spec s = { K_P256, now - DAY, now + 89 * DAY, 0, &ext, NULL, 0, 0, 0 };
	struct eval e = { { NULL }, 0, { 0 } };
	static const unsigned char other[] = { 0x77 };
	struct sb_single one = { other, sizeof(other), &list, 0, 0 };

	(void)state;
	sct_ext(&ext, 2);
	ext.data[ext.len - 1] ^= 1;         /* still parses: a signature byte */
	ext.data[3] ^= 0x40;                /* an SCT's length now overruns the list */
	e.crt[e.n++] = make(&s);
	sct_list(&list, 2);
	buf_init(&staple);
	sb_ocsp(&staple, &one, 1, 0, 1);
	eval_run(&e, 1, &staple, NULL);
	assert_int_equal(e.r.sct_state[POLICY_SCT_EMBEDDED], -1);
	assert_int_equal(e.r.certs[0].scts, -1);
	assert_int_equal(e.r.sct_count[POLICY_SCT_EMBEDDED], 0);
	assert_int_equal(e.r.sct_state[POLICY_SCT_OCSP], 0);     /* no response for this serial */
	assert_int_equal(e.r.findings[0], F(POLICY_TOO_FEW_SCTS));
	staple.len -= 3;
	eval_run(&e, 1, &staple, NULL);
	assert_int_equal(e.r.sct_state[POLICY_SCT_OCSP], -1);
	eval_free(&e);
	buf_free(&ext);
	buf_free(&list);
	buf_free(&staple);
}

/* leaf <- intermediate <- root, and beside it the intermediate's older
 * cross-signature, expired, as Let's Encrypt's chains carried DST Root CA
 * X3's until 2024. */
static void
test_expired_ca(void **state)
{
	struct spec root = { K_RSA, now - 3000 * DAY, now + 3000 * DAY, 1, NULL, NULL, 0, 0, 0 };
	struct spec old = { K_ED448, now - 4000 * DAY, now - 100 * DAY, 1, NULL, NULL, 0, 0, 0 };
	struct spec inter = { K_P384, now - 400 * DAY, now + 1000 * DAY, 1, NULL, NULL, K_RSA, 0, 0 };
	struct spec cross = { K_P384, now - 1500 * DAY, now - 200, 1, NULL, NULL, K_ED448, 0, 0 };
	struct spec leaf = { K_P256, now - DAY, now + 89 * DAY, 0, NULL, NULL, K_P384, 0, 0 };
	struct spec junk = { K_P256, now - 99 * DAY, now - DAY, 0, NULL, NULL, K_P384, 0, 0 };
	gnutls_x509_crt_t r, o, i;
	struct eval e = { { NULL }, 0, { 0 } };
	struct buf text;

	(void)state;
	r = make(&root);
	o = make(&old);
	inter.issuer = r;
	i = make(&inter);
	cross.issuer = o;
	leaf.issuer = i;
	junk.issuer = i;
	e.crt[e.n++] = make(&leaf);
	e.crt[e.n++] = i;
	e.crt[e.n++] = make(&cross);
	e.crt[e.n++] = make(&junk);        /* expired, but no CA */
	for (int public_rules = 0; public_rules <= 1; public_rules++) {
		eval_run(&e, public_rules, NULL, NULL);
		assert_int_equal(e.r.findings[1], 0);
		assert_int_equal(e.r.findings[2], F(POLICY_EXPIRED_CA_IN_CHAIN));
		assert_int_equal(e.r.findings[3], 0);
		assert_true(e.r.certs[2].is_ca);
		assert_string_equal(e.r.certs[1].sig_alg, "rsa_pkcs1_sha256");
		assert_string_equal(e.r.certs[2].sig_alg, "ed448");
	}
	buf_init(&text);
	policy_describe(&e.r, &text);
	assert_non_null(strstr(text.data, "depth 0: too_few_scts: 0 embedded SCTs for a lifetime "
	    "of 90.0 days, 2 wanted"));
	assert_non_null(strstr(text.data, "depth 2: expired_ca_in_chain: a CA certificate that "
	    "expired 2026-11-30 23:56:40 UTC is presented"));
	assert_null(strstr(text.data, "depth 1"));
	buf_free(&text);
	eval_free(&e);
	gnutls_x509_crt_deinit(r);
	gnutls_x509_crt_deinit(o);
}

static void
test_describe(void **state)
{
	struct buf ext, text;
	struct spec s = { K_P256, now - DAY, now - DAY + 400 * DAY, 0, &ext, NULL, 0, 0, 0 };
	struct eval e = { { NULL }, 0, { 0 } };

	(void)state;
	sct_ext(&ext, 1);
	e.crt[e.n++] = make(&s);
	eval_run(&e, 1, NULL, NULL);
	assert_int_equal(e.r.findings[0],
	    F(POLICY_VALIDITY_EXCEEDS_LIMIT) | F(POLICY_TOO_FEW_SCTS));
	buf_init(&text);
	policy_describe(&e.r, &text);
	assert_string_equal(text.data,
	    "depth 0: validity_exceeds_limit: issued 2026-11-30 00:00:00 UTC with a validity "
	    "period of 400d1s (notBefore through notAfter inclusive); at most 200 days are "
	    "allowed from 2026-03-15 (CA/B Forum Baseline Requirements 6.3.2 as amended by "
	    "ballot SC-081v3)\n"
	    "depth 0: too_few_scts: 1 embedded SCT for a lifetime of 400.0 days, 3 wanted; 0 in "
	    "the TLS extension and 0 in a stapled OCSP response, 2 wanted (Chrome Certificate "
	    "Transparency Policy (googlechrome.github.io/CertificateTransparency))\n");
	buf_free(&text);
	eval_free(&e);
	buf_free(&ext);
	/* nothing to say, nothing said; no certificate at all */
	{
		struct policy_input in;
		struct policy_result r;

		memset(&in, 0, sizeof(in));
		policy_evaluate(&in, &r);
		assert_int_equal(r.n, 0);
		buf_init(&text);
		policy_describe(&r, &text);
		assert_int_equal(text.len, 0);
		policy_result_fini(&r);
	}
	for (unsigned id = 0; id < POLICY_NFINDINGS; id++) {
		assert_non_null(policy_rule(id));
		assert_true(is_word(policy_rule(id)->word));
	}
	assert_null(policy_rule(POLICY_NFINDINGS));
	assert_string_equal(policy_sct_source_name(POLICY_SCT_OCSP), "ocsp");
	assert_null(policy_sct_source_name(POLICY_NSCT_SOURCES));
}

/* ---- the test PKI's certificates (tests/pki.sh), as the issue lists them ---- */

/* The chain in file, read and evaluated under public at the present time. */
static void
pki_eval(const char *file, struct policy_result *r)
{
	struct pem p;
	gnutls_x509_crt_t crt[TESTPKI_MAXCERTS];
	struct policy_input in;

	pem_load(&p, file);
	for (size_t i = 0; i < p.n; i++) {
		assert_int_equal(gnutls_x509_crt_init(&crt[i]), 0);
		assert_int_equal(gnutls_x509_crt_import(crt[i], &p.raw[i], GNUTLS_X509_FMT_DER), 0);
	}
	memset(&in, 0, sizeof(in));
	in.crt = crt;
	in.n = p.n;
	in.public_rules = 1;
	in.now = (int64_t)time(NULL);
	policy_evaluate(&in, r);
	for (size_t i = 0; i < p.n; i++)
		gnutls_x509_crt_deinit(crt[i]);
	pem_free(&p);
}

static void
test_pki_certs(void **state)
{
	static const struct {
		const char *file, *type;
		unsigned bits;
	} leaves[] = {
		{ "rsa2048-chain.pem", "rsa", 2048 },
		{ "rsa4096-chain.pem", "rsa", 4096 },
		{ "p384-chain.pem", "ecdsa", 384 },
		{ "ed25519-chain.pem", "ed25519", 256 },
		{ "good-chain.pem", "ecdsa", 256 },
	};
	struct policy_result r;

	(void)state;
	if (testpki_make("test_policy") == -1)
		fail_msg("tests/pki.sh failed");
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		pki_eval(leaves[i].file, &r);
		assert_int_equal(r.n, 2);
		assert_string_equal(r.certs[0].key_type, leaves[i].type);
		assert_int_equal(r.certs[0].key_bits, leaves[i].bits);
		/* all signed by the P-256 intermediate */
		assert_string_equal(r.certs[0].sig_alg, "ecdsa_sha256");
		assert_int_equal(r.certs[0].lifetime, 91 * DAY);
		/* no SCT: too few for Chrome; nothing else */
		assert_int_equal(r.findings[0], F(POLICY_TOO_FEW_SCTS));
		assert_int_equal(r.findings[1], 0);
		policy_result_fini(&r);
	}
	/* 400 days issued after 2026-03-15; 390 days issued on 2026-03-01 */
	pki_eval("life400-chain.pem", &r);
	assert_int_equal(r.certs[0].lifetime, 400 * DAY);
	assert_true(r.findings[0] & F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	policy_result_fini(&r);
	pki_eval("life390-chain.pem", &r);
	assert_int_equal(r.certs[0].lifetime, 390 * DAY);
	assert_int_equal(r.certs[0].not_before, T_2026_03_15 - 14 * DAY);
	assert_false(r.findings[0] & F(POLICY_VALIDITY_EXCEEDS_LIMIT));
	policy_result_fini(&r);
	/* embedded lists of one and of three (mkcert -s) */
	pki_eval("sct1-chain.pem", &r);
	assert_int_equal(r.sct_state[POLICY_SCT_EMBEDDED], 1);
	assert_int_equal(r.sct_count[POLICY_SCT_EMBEDDED], 1);
	assert_int_equal(r.findings[0], F(POLICY_TOO_FEW_SCTS));
	policy_result_fini(&r);
	pki_eval("sct3-chain.pem", &r);
	assert_int_equal(r.sct_count[POLICY_SCT_EMBEDDED], 3);
	assert_int_equal(r.findings[0], 0);
	assert_int_equal(r.certs[0].sct_n, 3);
	policy_result_fini(&r);
	/* the expired cross-signed root after the valid path's intermediate */
	pki_eval("xsign-chain.pem", &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.findings[1], 0);
	assert_int_equal(r.findings[2], F(POLICY_EXPIRED_CA_IN_CHAIN));
	policy_result_fini(&r);
	testpki_remove();
}

/* ---- thresholds ---- */

static void
round_trip(const char *in, const char *out, uint64_t ms, unsigned fraction)
{
	struct threshold t;
	char text[32];

	assert_int_equal(threshold_parse(in, &t), 0);
	assert_true(t.ms == ms);
	assert_int_equal(t.fraction, fraction);
	threshold_format(text, sizeof(text), &t);
	assert_string_equal(text, out);
}

static void
test_threshold(void **state)
{
	static const char *const bad[] = { "0%", "100%", "150%", "33.333%", "%", "33%%", "x%",
	                                   "-1%", "33 %", " 33%", "33.%", ".5%", "1000%", "",
	                                   "soon", "0", "1e3%" };
	struct threshold t = { 123, 0 }, warn, crit;

	(void)state;
	round_trip("33%", "33%", 0, 3300);
	round_trip("12.5%", "12.5%", 0, 1250);
	round_trip("0.01%", "0.01%", 0, 1);
	round_trip("99.99%", "99.99%", 0, 9999);
	round_trip("21d", "21d", 21ULL * DAY * 1000, 0);
	round_trip("90", "1m30s", 90000, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(threshold_parse(bad[i], &t), -1);
		assert_true(t.ms == 123);        /* untouched */
	}
	assert_int_equal(threshold_parse(NULL, &t), -1);

	/* a third of 6 days is 2; of 398 days, 132.67 */
	assert_int_equal(threshold_parse("33%", &warn), 0);
	assert_true(threshold_seconds(&warn, 6 * DAY) == 6 * DAY * 0.33);
	assert_true(threshold_seconds(&warn, 0) < 0);
	assert_int_equal(threshold_parse("10%", &crit), 0);
	assert_int_equal(expiry_judge(&warn, &crit, now + 3 * DAY, 6 * DAY, now), EXPIRY_OK);
	assert_int_equal(expiry_judge(&warn, &crit, now + 1 * DAY, 6 * DAY, now), EXPIRY_WARN);
	assert_int_equal(expiry_judge(&warn, &crit, now + DAY / 2, 6 * DAY, now), EXPIRY_CRIT);
	assert_int_equal(expiry_judge(&warn, &crit, now + 140 * DAY, 398 * DAY, now), EXPIRY_OK);
	assert_int_equal(expiry_judge(&warn, &crit, now + 130 * DAY, 398 * DAY, now), EXPIRY_WARN);
	assert_int_equal(expiry_judge(&warn, &crit, now + 39 * DAY, 398 * DAY, now), EXPIRY_CRIT);
	/* a fraction of an unknown lifetime is never reached; expired is */
	assert_int_equal(expiry_judge(&warn, &crit, now + DAY, 0, now), EXPIRY_OK);
	/* one of each kind */
	assert_int_equal(threshold_parse("7d", &crit), 0);
	assert_int_equal(expiry_judge(&warn, &crit, now + 8 * DAY, 90 * DAY, now), EXPIRY_WARN);
	assert_int_equal(expiry_judge(&warn, &crit, now + 6 * DAY, 90 * DAY, now), EXPIRY_CRIT);
	assert_int_equal(expiry_judge(&warn, &crit, now + 6 * DAY, 0, now), EXPIRY_CRIT);
	assert_int_equal(expiry_judge(&warn, &crit, now - 1, 0, now), EXPIRY_CRIT);
	assert_true(threshold_in_order(&warn, &crit));
	assert_int_equal(threshold_parse("50%", &crit), 0);
	assert_false(threshold_in_order(&warn, &crit));
	assert_true(threshold_in_order(&crit, &warn));
	assert_int_equal(threshold_parse("21d", &warn), 0);
	assert_int_equal(threshold_parse("30d", &crit), 0);
	assert_false(threshold_in_order(&warn, &crit));
	assert_int_equal(threshold_parse("21d", &crit), 0);
	assert_true(threshold_in_order(&warn, &crit));
}

static void
test_expiry_lifetime(void **state)
{
	struct cert leaf, inter, *certs[3];

	(void)state;
	memset(&leaf, 0, sizeof(leaf));
	memset(&inter, 0, sizeof(inter));
	leaf.not_before = now - 80 * DAY;
	leaf.not_after = now + 10 * DAY;
	inter.not_before = now - 1000 * DAY;
	inter.not_after = now + 5 * DAY;
	certs[0] = &leaf;
	certs[1] = NULL;     /* did not parse */
	certs[2] = &inter;
	assert_int_equal(expiry_lifetime(certs, 3, leaf.not_after), 90 * DAY);
	assert_int_equal(expiry_lifetime(certs, 3, inter.not_after), 1005 * DAY);
	/* a trust anchor not presented ends first: the leaf's */
	assert_int_equal(expiry_lifetime(certs, 3, now + DAY), 90 * DAY);
	assert_int_equal(expiry_lifetime(certs, 0, now + DAY), 0);
	leaf.not_before = 0;
	assert_int_equal(expiry_lifetime(certs, 1, now + DAY), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_cert_facts),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_scts),
		cmocka_unit_test(test_scts_damaged),
		cmocka_unit_test(test_expired_ca),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_pki_certs),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_expiry_lifetime),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
