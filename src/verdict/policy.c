/*
 * policy.c - certificate policy: the facts of each presented certificate
 * and the rules of this issue's findings, each with its source.
 *
 * Under policy "public" (a target verified against the system trust
 * store) the CA/Browser Forum's and Chrome's rules apply to the leaf;
 * under "private" only what holds for any PKI (an expired CA certificate
 * among those presented). The facts are published under both.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf/conf.h"
#include "core/fp.h"
#include "core/share.h"
#include "verdict/check.h"
#include "verdict/policy.h"

static const struct policy_rule policy_rules[POLICY_NFINDINGS] = {
	[POLICY_VALIDITY_EXCEEDS_LIMIT] = { "validity_exceeds_limit", 1, "the leaf",
	    "the validity period, notBefore through notAfter inclusive, is at most what the "
	    "schedule allows on the day of notBefore: 398 days, 200 from 2026-03-15, 100 from "
	    "2027-03-15, 47 from 2029-03-15",
	    "CA/B Forum Baseline Requirements 6.3.2 as amended by ballot SC-081v3" },
	[POLICY_TOO_FEW_SCTS] = { "too_few_scts", 1, "the leaf",
	    "at least 2 embedded SCTs for a lifetime of up to 180 days and 3 beyond, or at "
	    "least 2 delivered in the TLS extension or a stapled OCSP response",
	    "Chrome Certificate Transparency Policy (googlechrome.github.io/CertificateTransparency)" },
	[POLICY_EXPIRED_CA_IN_CHAIN] = { "expired_ca_in_chain", 0, "every presented CA certificate",
	    "no presented CA certificate has expired, even one the verified path leaves out "
	    "(clients that build their path from what is sent may take it)",
	    "RFC 5280 6.1.3 (a)(2); the DST Root CA X3 cross-sign of 2021" },
};

const struct policy_rule *
policy_rule(unsigned id)
{
	return id < POLICY_NFINDINGS ? &policy_rules[id] : NULL;
}

/*
 * The maximum validity period of a subscriber (TLS server) certificate by
 * the day it is issued, as the CA/Browser Forum's Baseline Requirements
 * 6.3.2 set it, issuance read from notBefore (as zlint does):
 *   - 825 days: ballot 193, from 2018-03-01 (every certificate issued
 *     before 2020-09-01 has expired since; earlier ones are held to it too)
 *   - 398 days: ballot SC31, from 2020-09-01
 *   - 200, 100, 47 days: ballot SC-081v3 (adopted 2025-04-11), from
 *     2026-03-15, 2027-03-15 and 2029-03-15
 * A day is 86,400 seconds and any part of one more counts as one (BR 6.3.2).
 */
static const struct {
	int64_t from;       /* 00:00:00 UTC of that day */
	const char *since;
	unsigned days;
} sc081[] = {
	{ INT64_MIN, "", 825 },
	{ 1598918400, "2020-09-01", 398 },
	{ 1773532800, "2026-03-15", 200 },
	{ 1805068800, "2027-03-15", 100 },
	{ 1868227200, "2029-03-15", 47 },
};

int64_t
policy_max_validity(int64_t not_before, const char **since)
{
	size_t i = ARRAY_SIZE(sc081) - 1;

	while (i > 0 && not_before < sc081[i].from)
		i--;
	if (since != NULL)
		*since = sc081[i].since;
	return (int64_t)sc081[i].days * 86400;
}

int64_t
policy_validity_period(int64_t not_before, int64_t not_after)
{
	return not_after - not_before + 1;
}

unsigned
policy_scts_needed(int64_t lifetime)
{
	/* Chrome: "180 days or less: 2 SCTs; more than 180 days: 3 SCTs",
	 * lifetime being notAfter - notBefore */
	return lifetime > (int64_t)180 * 86400 ? 3 : 2;
}

static const char *const sct_sources[POLICY_NSCT_SOURCES] = {
	[POLICY_SCT_EMBEDDED] = "embedded",
	[POLICY_SCT_TLS] = "tls",
	[POLICY_SCT_OCSP] = "ocsp",
};

const char *
policy_sct_source_name(unsigned s)
{
	return s < POLICY_NSCT_SOURCES ? sct_sources[s] : NULL;
}

void
policy_cert_read(gnutls_x509_crt_t crt, struct policy_cert *pc)
{
	gnutls_datum_t ext = { NULL, 0 };
	char word[ALGO_WORD_MAX];
	unsigned bits = 0, critical = 0, ca = 0;
	int pk, sign, ret;

	memset(pc, 0, sizeof(*pc));
	pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	pc->key_type = algo_key_type(pk < 0 ? GNUTLS_PK_UNKNOWN : pk);
	pc->key_bits = pk < 0 ? 0 : bits;
	sign = gnutls_x509_crt_get_signature_algorithm(crt);
	algo_cert_signature(sign < 0 ? GNUTLS_SIGN_UNKNOWN : sign, word);
	pc->sig_alg = str_intern(word);     /* GnuTLS's set: bounded */
	pc->not_before = time_epoch_or_zero(gnutls_x509_crt_get_activation_time(crt));
	pc->not_after = time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(crt));
	if (pc->not_before != 0 && pc->not_after != 0 && pc->not_after >= pc->not_before)
		pc->lifetime = pc->not_after - pc->not_before;
	ret = gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, NULL);
	pc->is_ca = ret >= 0 && ca;
	ret = gnutls_x509_crt_get_extension_by_oid2(crt, SCT_OID_X509, 0, &ext, &critical);
	if (ret >= 0) {
		struct sct_list list;

		pc->scts = sct_list_from_ext(ext.data, ext.size, &list) == 0 ? 1 : -1;
		pc->sct_n = pc->scts == 1 ? list.n : 0;
	}
	gnutls_free(ext.data);
}

/* The leaf's serial number as its INTEGER's content bytes; 0 when unknown. */
static size_t
leaf_serial(gnutls_x509_crt_t crt, unsigned char *out, size_t size)
{
	size_t len = size;

	return gnutls_x509_crt_get_serial(crt, out, &len) < 0 ? 0 : len;
}

void
policy_evaluate(const struct policy_input *in, struct policy_result *out)
{
	struct sct_list list;
	struct policy_cert *leaf;

	memset(out, 0, sizeof(*out));
	out->public_rules = in->public_rules;
	out->n = in->n;
	if (in->n == 0)
		return;
	out->certs = xcalloc(in->n, sizeof(*out->certs));
	out->findings = xcalloc(in->n, sizeof(*out->findings));
	for (size_t i = 0; i < in->n; i++)
		policy_cert_read(in->crt[i], &out->certs[i]);
	leaf = &out->certs[0];

	out->sct_state[POLICY_SCT_EMBEDDED] = leaf->scts;
	out->sct_count[POLICY_SCT_EMBEDDED] = leaf->sct_n;
	out->sct_known[POLICY_SCT_EMBEDDED] = 1;
	out->sct_known[POLICY_SCT_TLS] = in->tls_scts_available || in->tls_scts != NULL;
	out->sct_known[POLICY_SCT_OCSP] = in->staple != NULL;
	if (in->tls_scts != NULL) {
		out->sct_state[POLICY_SCT_TLS] =
		    sct_list_parse(in->tls_scts, in->tls_scts_len, &list) == 0 ? 1 : -1;
		out->sct_count[POLICY_SCT_TLS] = list.n;
	}
	if (in->staple != NULL) {
		unsigned char serial[64];
		size_t slen = leaf_serial(in->crt[0], serial, sizeof(serial));

		out->sct_state[POLICY_SCT_OCSP] = sct_list_from_ocsp(in->staple, in->staple_len,
		    slen ? serial : NULL, slen, &list);
		out->sct_count[POLICY_SCT_OCSP] = list.n;
	}

	if (in->public_rules && !leaf->is_ca && leaf->lifetime > 0 &&
	    policy_validity_period(leaf->not_before, leaf->not_after) >
	    policy_max_validity(leaf->not_before, NULL))
		out->findings[0] |= (uint64_t)1 << POLICY_VALIDITY_EXCEEDS_LIMIT;
	if (in->public_rules && leaf->lifetime > 0 &&
	    out->sct_count[POLICY_SCT_EMBEDDED] < policy_scts_needed(leaf->lifetime) &&
	    out->sct_count[POLICY_SCT_TLS] + out->sct_count[POLICY_SCT_OCSP] <
	    POLICY_SCTS_DELIVERED)
		out->findings[0] |= (uint64_t)1 << POLICY_TOO_FEW_SCTS;
	for (size_t i = 1; i < in->n; i++) {
		const struct policy_cert *c = &out->certs[i];

		if (c->is_ca && c->not_after != 0 && c->not_after < in->now)
			out->findings[i] |= (uint64_t)1 << POLICY_EXPIRED_CA_IN_CHAIN;
	}
}

void
policy_result_fini(struct policy_result *r)
{
	if (r == NULL)
		return;
	free(r->certs);
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

static void
describe_one(const struct policy_result *r, size_t depth, unsigned id, struct buf *out)
{
	const struct policy_cert *c = &r->certs[depth];
	const struct policy_rule *rule = policy_rule(id);
	char when[64];
	const char *since;

	buf_printf(out, "depth %zu: %s: ", depth, rule->word);
	switch (id) {
	case POLICY_VALIDITY_EXCEEDS_LIMIT: {
		int64_t max = policy_max_validity(c->not_before, &since);
		char period[64];

		fmt_utc(when, sizeof(when), (double)c->not_before);
		format_duration(period, sizeof(period),
		    (uint64_t)policy_validity_period(c->not_before, c->not_after) * 1000);
		buf_printf(out, "issued %s with a validity period of %s (notBefore through "
		    "notAfter inclusive); at most %lld days are allowed %s%s", when, period,
		    (long long)(max / 86400), *since ? "from " : "before 2020-09-01", since);
		break;
	}
	case POLICY_TOO_FEW_SCTS:
		buf_printf(out, "%u embedded SCT%s for a lifetime of %.1f days, %u wanted; "
		    "%u in the TLS extension and %u in a stapled OCSP response, %u wanted",
		    r->sct_count[POLICY_SCT_EMBEDDED],
		    r->sct_count[POLICY_SCT_EMBEDDED] == 1 ? "" : "s",
		    (double)c->lifetime / 86400.0, policy_scts_needed(c->lifetime),
		    r->sct_count[POLICY_SCT_TLS], r->sct_count[POLICY_SCT_OCSP],
		    POLICY_SCTS_DELIVERED);
		break;
	case POLICY_EXPIRED_CA_IN_CHAIN:
		fmt_utc(when, sizeof(when), (double)c->not_after);
		buf_printf(out, "a CA certificate that expired %s is presented", when);
		break;
	}
	buf_printf(out, " (%s)\n", rule->source);
}

void
policy_describe(const struct policy_result *r, struct buf *out)
{
	for (size_t i = 0; i < r->n; i++)
		for (unsigned id = 0; id < POLICY_NFINDINGS; id++)
			if (r->findings[i] & ((uint64_t)1 << id))
				describe_one(r, i, id, out);
}

/* ------------------------------------------------------------ the check */

/* The words of verdict.h's cert issue table, in enum policy_finding order. */
static const uint64_t finding_issue[POLICY_NFINDINGS] = {
	[POLICY_VALIDITY_EXCEEDS_LIMIT] = CERT_ISSUE(VALIDITY_EXCEEDS_LIMIT),
	[POLICY_TOO_FEW_SCTS] = CERT_ISSUE(TOO_FEW_SCTS),
	[POLICY_EXPIRED_CA_IN_CHAIN] = CERT_ISSUE(EXPIRED_CA_IN_CHAIN),
};

const struct policy_rule *
policy_rule_for_issue(unsigned bit)
{
	for (unsigned id = 0; id < POLICY_NFINDINGS; id++)
		if (finding_issue[id] == (uint64_t)1 << bit)
			return &policy_rules[id];
	return NULL;
}

uint64_t
policy_cert_issues(uint64_t findings)
{
	uint64_t set = 0;

	for (unsigned id = 0; id < POLICY_NFINDINGS; id++)
		if (findings & ((uint64_t)1 << id))
			set |= finding_issue[id];
	return set;
}

int
policy_public(const struct conf_target *ct)
{
	if (ct == NULL)
		return 0;       /* no target: what holds for any PKI */
	switch (ct->policy) {
	case CONF_POLICY_PUBLIC:
		return 1;
	case CONF_POLICY_PRIVATE:
		return 0;
	default:
		/* the system trust store: the Web PKI's rules; a CA of one's own: not */
		return ct->ca_file == NULL;
	}
}

/* What the check leaves in a verdict: the facts and findings, and what the
 * series are labelled with. */
struct policy_blob {
	struct share_head head;    /* shared: see key() */
	struct policy_result res;
	const char **sha256;       /* res.n of them, interned (core/fp.h) */
};

static void
blob_free(void *p)
{
	struct policy_blob *b = p;

	if (b == NULL)
		return;
	policy_result_fini(&b->res);
	for (size_t i = 0; i < b->res.n; i++)
		fp_put(b->sha256[i]);
	free(b->sha256);
	free(b);
}

static void
run(const struct check_input *in, struct check_output *out)
{
	const struct check_chain *cc = in->chain;
	const struct tls_facts *f = in->tls;
	struct policy_input pi = {
		.crt = (gnutls_x509_crt_t *)cc->crt,
		.n = cc->n,
		.tls_scts_available = in->tls->scts_available,
		.public_rules = policy_public(in->target),
		.now = in->now,
	};
	struct policy_blob *b;

	if (f->nstaples > 0 && f->staples[0].len > 0) {
		pi.staple = f->staples[0].data;
		pi.staple_len = f->staples[0].len;
	}
	if (f->scts.data != NULL) {
		pi.tls_scts = f->scts.data;
		pi.tls_scts_len = f->scts.len;
	}
	b = xcalloc(1, sizeof(*b));
	policy_evaluate(&pi, &b->res);
	b->sha256 = xcalloc(cc->n ? cc->n : 1, sizeof(*b->sha256));
	for (size_t i = 0; i < cc->n; i++) {
		b->sha256[i] = fp_get(cc->certs[i]->sha256);
		out->cert_issues[i] |= policy_cert_issues(b->res.findings[i]);
	}
	out->blob = b;
}

const struct policy_result *
policy_of(const struct verdict *v)
{
	for (size_t i = 0; i < verdict_nchecks(); i++)
		if (strcmp(verdict_check_name(i), check_policy.name) == 0) {
			const struct policy_blob *b = verdict_blob(v, i);

			return b ? &b->res : NULL;
		}
	return NULL;
}

/* The i-th of the certificates for which ok() holds, or -1. */
static long
nth_cert(const struct policy_blob *b, size_t i, int (*ok)(const struct policy_cert *))
{
	for (size_t k = 0; k < b->res.n; k++)
		if (ok(&b->res.certs[k]) && i-- == 0)
			return (long)k;
	return -1;
}

static int
known_key(const struct policy_cert *c)
{
	return c->key_bits > 0;
}

static int
any_cert(const struct policy_cert *c)
{
	(void)c;
	return 1;
}

static int
known_lifetime(const struct policy_cert *c)
{
	return c->lifetime > 0;
}

/* depth and sha256, the labels every family starts with */
static void
cert_labels(const struct policy_blob *b, size_t k, struct check_sample *s)
{
	s->names[0] = "depth";
	s->values[0] = check_depth_text(k);
	s->names[1] = "sha256";
	s->values[1] = b->sha256[k];
}

static int
sample_key(const void *blob, size_t i, struct check_sample *s)
{
	const struct policy_blob *b = blob;
	long k = nth_cert(b, i, known_key);

	if (k < 0)
		return 0;
	cert_labels(b, (size_t)k, s);
	s->names[2] = "key_type";
	s->values[2] = b->res.certs[k].key_type;
	s->value = b->res.certs[k].key_bits;
	return 1;
}

static int
sample_signature(const void *blob, size_t i, struct check_sample *s)
{
	const struct policy_blob *b = blob;
	long k = nth_cert(b, i, any_cert);

	if (k < 0)
		return 0;
	cert_labels(b, (size_t)k, s);
	s->names[2] = "algorithm";
	s->values[2] = b->res.certs[k].sig_alg;
	s->value = 1;
	return 1;
}

static int
sample_lifetime(const void *blob, size_t i, struct check_sample *s)
{
	const struct policy_blob *b = blob;
	long k = nth_cert(b, i, known_lifetime);

	if (k < 0)
		return 0;
	cert_labels(b, (size_t)k, s);
	s->value = (double)b->res.certs[k].lifetime;
	return 1;
}

/* The leaf's SCTs, one sample per source that could be seen. */
static int
sample_scts(const void *blob, size_t i, struct check_sample *s)
{
	const struct policy_blob *b = blob;

	for (unsigned src = 0; src < POLICY_NSCT_SOURCES; src++) {
		if (b->res.n == 0 || !b->res.sct_known[src] || i-- > 0)
			continue;
		cert_labels(b, 0, s);
		s->names[2] = "source";
		s->values[2] = policy_sct_source_name(src);
		s->value = b->res.sct_count[src];
		return 1;
	}
	return 0;
}

static const char *const labels_key[] = { "depth", "sha256", "key_type", NULL };
static const char *const labels_sig[] = { "depth", "sha256", "algorithm", NULL };
static const char *const labels_cert[] = { "depth", "sha256", NULL };
static const char *const labels_sct[] = { "depth", "sha256", "source", NULL };

static const struct check_family families[] = {
	{ "tlswatch_cert_key_size", "gauge",
	  "Public key size in bits of each presented certificate, by key type.",
	  labels_key, sample_key },
	{ "tlswatch_cert_signature_info", "gauge",
	  "Signature algorithm of each presented certificate.", labels_sig, sample_signature },
	{ "tlswatch_cert_lifetime_seconds", "gauge",
	  "notAfter - notBefore of each presented certificate, in seconds.",
	  labels_cert, sample_lifetime },
	{ "tlswatch_cert_scts", "gauge",
	  "Signed Certificate Timestamps of the leaf, by where they came from "
	  "(embedded; tls only for TLS 1.2 and earlier; ocsp when a response was stapled).",
	  labels_sct, sample_scts },
};

static void
describe(const void *blob, struct buf *out)
{
	const struct policy_blob *b = blob;
	static const char *const where[POLICY_NSCT_SOURCES] = {
		[POLICY_SCT_EMBEDDED] = "embedded in the leaf",
		[POLICY_SCT_TLS] = "in the TLS extension",
		[POLICY_SCT_OCSP] = "in the stapled OCSP response",
	};

	policy_describe(&b->res, out);
	for (unsigned src = 0; src < POLICY_NSCT_SOURCES; src++)
		if (b->res.sct_state[src] < 0)
			buf_printf(out, "depth 0: the SCT list %s does not parse; none of it is "
			    "counted\n", where[src]);
}

/* What the blob says: the chain's facts and findings, nothing the target's. */
static void
key(const void *blob, struct buf *out)
{
	const struct policy_blob *b = blob;
	const struct policy_result *r = &b->res;

	SHARE_KEY(out, r->n);
	for (size_t i = 0; i < r->n; i++) {
		const struct policy_cert *c = &r->certs[i];

		SHARE_KEY(out, b->sha256[i]);      /* interned */
		SHARE_KEY(out, r->findings[i]);
		share_key_str(out, c->key_type);
		SHARE_KEY(out, c->key_bits);
		share_key_str(out, c->sig_alg);
		SHARE_KEY(out, c->not_before);
		SHARE_KEY(out, c->not_after);
		SHARE_KEY(out, c->lifetime);
		SHARE_KEY(out, c->is_ca);
		SHARE_KEY(out, c->scts);
		SHARE_KEY(out, c->sct_n);
	}
	SHARE_KEY(out, r->sct_state);
	SHARE_KEY(out, r->sct_count);
	SHARE_KEY(out, r->sct_known);
	SHARE_KEY(out, r->public_rules);
}

const struct check check_policy = {
	.name = "policy",
	.run = run,
	.free_blob = blob_free,
	.families = families,
	.nfamilies = ARRAY_SIZE(families),
	.describe = describe,
	.key = key,
};
