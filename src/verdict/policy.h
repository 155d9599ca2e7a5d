/* policy.h - certificate policy: what an auditor reads off each presented
 * certificate (key, signature, lifetime, SCTs) and the rules it is held
 * to: the CA/Browser Forum's maximum validity (ballot SC-081), Chrome's
 * Certificate Transparency policy, and expired CA certificates among those
 * presented. */
#ifndef TLSWATCH_POLICY_H
#define TLSWATCH_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/algo.h"
#include "verdict/sct.h"

/* The findings, words of tlswatch_cert_issue{depth,sha256,issue}; one
 * line each in policy.c's table, in this order. */
enum policy_finding {
	POLICY_VALIDITY_EXCEEDS_LIMIT,
	POLICY_TOO_FEW_SCTS,
	POLICY_EXPIRED_CA_IN_CHAIN,
	POLICY_NFINDINGS
};

struct policy_rule {
	const char *word;       /* the issue label value */
	int public_only;        /* 1: only under policy "public" */
	const char *applies;    /* to which certificates */
	const char *rule;       /* what it asks, in a line */
	const char *source;     /* where it comes from */
};
/* The rule of finding id; NULL past the end. */
const struct policy_rule *policy_rule(unsigned id);

/* The most seconds of validity (BR's inclusive period, see below) that the
 * SC-081 schedule allows a certificate whose notBefore is not_before, and
 * the first day ("2026-03-15") of the step that sets it ("" for the first
 * step). */
int64_t policy_max_validity(int64_t not_before, const char **since);
/* The Baseline Requirements' validity period: notBefore through notAfter
 * inclusive, so one second more than their difference (BR 1.6.1, 6.3.2). */
int64_t policy_validity_period(int64_t not_before, int64_t not_after);
/* The embedded SCTs Chrome's CT policy asks of a certificate whose
 * lifetime (notAfter - notBefore) is lifetime: 2 up to 180 days, 3 beyond. */
unsigned policy_scts_needed(int64_t lifetime);
/* SCTs delivered in the TLS handshake or a stapled OCSP response that
 * Chrome accepts instead of embedded ones, whatever the lifetime. */
#define POLICY_SCTS_DELIVERED 2

/* What one certificate says. */
struct policy_cert {
	const char *key_type;         /* algo_key_type() */
	unsigned key_bits;            /* the modulus, the curve's field; 0 unknown */
	const char *sig_alg;          /* algo_cert_signature(), interned (str_intern) */
	int64_t not_before, not_after;   /* 0: unknown */
	int64_t lifetime;             /* not_after - not_before; 0 when unknown */
	int is_ca;                    /* basicConstraints cA TRUE */
	int scts;                     /* embedded SCT list: 1 parsed, -1 malformed, 0 none */
	unsigned sct_n;               /* its v1 SCTs that parse (the list itself is not
	                               * kept: a verdict holds this for every target) */
};

/* Read crt into pc. Never fails: what cannot be read is "unknown" or 0. */
void policy_cert_read(gnutls_x509_crt_t crt, struct policy_cert *pc);

struct policy_input {
	gnutls_x509_crt_t *crt;       /* as presented, depth 0 first */
	size_t n;
	const unsigned char *staple;  /* the leaf's stapled OCSP response, or NULL */
	size_t staple_len;
	const unsigned char *tls_scts;  /* the signed_certificate_timestamp
	                                 * extension's data, or NULL */
	size_t tls_scts_len;
	int tls_scts_available;       /* the handshake could have delivered
	                               * them (TLS 1.2 or earlier) */
	int public_rules;             /* policy "public": the CA/B and CT rules apply */
	int64_t now;                  /* seconds since the epoch */
};

/* Where the leaf's SCTs came from: the label values of source. */
enum policy_sct_source {
	POLICY_SCT_EMBEDDED,
	POLICY_SCT_TLS,
	POLICY_SCT_OCSP,
	POLICY_NSCT_SOURCES
};
const char *policy_sct_source_name(unsigned s);   /* "embedded", "tls", "ocsp" */

struct policy_result {
	size_t n;
	struct policy_cert *certs;    /* n of them, depth 0 first */
	uint64_t *findings;           /* n sets of (1 << enum policy_finding) */
	/* the leaf's SCTs by source; state 1 parsed, -1 malformed, 0 none
	 * (for embedded: the same as certs[0].scts) */
	int sct_state[POLICY_NSCT_SOURCES];
	unsigned sct_count[POLICY_NSCT_SOURCES];
	/* whether the count is known: embedded always; tls when the handshake
	 * could deliver them (tls_scts_available or data seen); ocsp when a
	 * response was stapled */
	int sct_known[POLICY_NSCT_SOURCES];
	int public_rules;
};

/* Read every certificate and apply the rules. Never fails; out is freed
 * with policy_result_fini. */
void policy_evaluate(const struct policy_input *in, struct policy_result *out);
void policy_result_fini(struct policy_result *r);

/* One line per finding, for people: "depth 0: validity of 400 days is more
 * than the 200 days allowed from 2026-03-15 (BR 6.3.2, ballot SC-081)".
 * Plain ASCII, no certificate field in it. */
void policy_describe(const struct policy_result *r, struct buf *out);

/* ---- the check (check.h's check_policy) ---- */

struct conf_target;
struct verdict;

/* Whether the CA/B and CT rules apply to a target: its policy setting,
 * "public" (the default with the system trust store) or "private" (the
 * default with a ca_file of its own). NULL: private. */
int policy_public(const struct conf_target *ct);
/* The rule of the verdict.h cert issue word of bit, when it is one of
 * the policy check's; NULL for the other checks' words. */
const struct policy_rule *policy_rule_for_issue(unsigned bit);
/* The verdict.h cert issue words of a set of policy findings. */
uint64_t policy_cert_issues(uint64_t findings);
/* What the policy check found for a verdict, or NULL (not run; a result
 * read back from the state file). */
const struct policy_result *policy_of(const struct verdict *v);

#endif
