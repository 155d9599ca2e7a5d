/*
 * verdict.h - the verdict on a presented chain: GnuTLS's path verification
 * plus every registered check (check.h), with the words a verdict is told
 * in (reasons, chain issues, certificate issues), when it may be reused,
 * and the entry points that re-run the checks on a retained chain.
 *
 * This header is for everyone who reads or makes a verdict; it has no
 * GnuTLS types. A check's own interface is in check.h.
 */
#ifndef TLSWATCH_VERDICT_H
#define TLSWATCH_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "verdict/certs.h"

/*
 * The words, one table line each: a word's bit is its position, its text
 * the metric label value and what the state file stores (by name, so the
 * order may change between versions). Adding one is one line here (and a
 * line in README, which lists them); a set is a uint64_t, so each table
 * holds at most 64.
 */

/* Why a chain did not verify (tlswatch_chain_verify_error{reason}). */
#define VERDICT_REASONS(X) \
	X(EXPIRED, "expired") \
	X(NOT_YET_VALID, "not_yet_valid") \
	X(UNKNOWN_ISSUER, "unknown_issuer") \
	X(SELF_SIGNED, "self_signed") \
	X(SIGNER_NOT_CA, "signer_not_ca") \
	X(HOSTNAME_MISMATCH, "hostname_mismatch") \
	X(INSECURE_ALGORITHM, "insecure_algorithm") \
	X(BAD_SIGNATURE, "bad_signature") \
	X(REVOKED, "revoked") \
	X(REVOCATION_UNKNOWN, "revocation_unknown") \
	X(OTHER, "other") \
	X(NAME_CONSTRAINTS, "name_constraints") \
	X(PATH_LENGTH, "path_length") \
	X(UNKNOWN_CRITICAL_EXTENSION, "unknown_critical_extension") \
	X(PURPOSE, "purpose") \
	X(KEY_USAGE, "key_usage") \
	X(WEBPKI, "webpki") \
	X(DANE_MISMATCH, "dane_mismatch") \
	X(DANE_BOGUS, "dane_bogus")

/* What is wrong with the presented chain as a whole, trusted or not
 * (tlswatch_chain_issue{issue}). */
#define VERDICT_CHAIN_ISSUES(X) \
	X(MISORDERED, "misordered") \
	X(INCOMPLETE, "incomplete") \
	X(ROOT_INCLUDED, "root_included") \
	X(DUPLICATE, "duplicate") \
	X(MUST_STAPLE_MISSING, "must_staple_missing") \
	X(AIA_COMPLETES, "aia_completes")

/* What is wrong with one presented certificate, by depth
 * (tlswatch_cert_issue{depth,sha256,issue}): the findings of the Web PKI
 * check (finding.c holds each one's reason, policies and source); the
 * policy checks add their words here. */
#define VERDICT_CERT_ISSUES(X) \
	X(NAME_NOT_PERMITTED, "name_not_permitted") \
	X(NAME_EXCLUDED, "name_excluded") \
	X(NAME_CONSTRAINTS_UNEVALUABLE, "name_constraints_unevaluable") \
	X(PATH_LENGTH_EXCEEDED, "path_length_exceeded") \
	X(NO_SERVER_AUTH, "no_server_auth") \
	X(NO_EKU, "no_eku") \
	X(CA_EKU_EXCLUDES_SERVER_AUTH, "ca_eku_excludes_server_auth") \
	X(ROOT_HAS_EKU, "root_has_eku") \
	X(CA_BASIC_CONSTRAINTS, "ca_basic_constraints") \
	X(LEAF_IS_CA, "leaf_is_ca") \
	X(LEAF_KEY_CERT_SIGN, "leaf_key_cert_sign") \
	X(LEAF_KEY_USAGE, "leaf_key_usage") \
	X(CA_KEY_USAGE, "ca_key_usage") \
	X(CA_NO_KEY_USAGE, "ca_no_key_usage") \
	X(V1_CA, "v1_ca") \
	X(AKI_MISSING, "aki_missing") \
	X(SKI_MISSING, "ski_missing") \
	X(AKI_CRITICAL, "aki_critical") \
	X(SKI_CRITICAL, "ski_critical") \
	X(SERIAL_ZERO, "serial_zero") \
	X(SERIAL_NEGATIVE, "serial_negative") \
	X(SERIAL_TOO_LONG, "serial_too_long") \
	X(NO_SAN, "no_san") \
	X(CN_NOT_IN_SAN, "cn_not_in_san") \
	X(UNDERSCORE_IN_DNS_NAME, "underscore_in_dns_name") \
	X(INVALID_DNS_NAME, "invalid_dns_name") \
	X(WILDCARD_ON_PUBLIC_SUFFIX, "wildcard_on_public_suffix") \
	X(EMPTY_SUBJECT_SAN_NOT_CRITICAL, "empty_subject_san_not_critical") \
	X(WEAK_KEY, "weak_key") \
	X(DISALLOWED_CURVE, "disallowed_curve") \
	X(DISALLOWED_KEY_TYPE, "disallowed_key_type") \
	X(SHA1_SIGNATURE, "sha1_signature") \
	X(MD5_SIGNATURE, "md5_signature") \
	X(UNKNOWN_CRIT_EXT, "unknown_critical_extension") \
	X(AIA_MALFORMED, "aia_malformed") \
	X(AIA_CRITICAL, "aia_critical") \
	X(VALIDITY_EXCEEDS_LIMIT, "validity_exceeds_limit") \
	X(TOO_FEW_SCTS, "too_few_scts") \
	X(EXPIRED_CA_IN_CHAIN, "expired_ca_in_chain")

#define VERDICT_BIT_ENUM(id, word) VBIT_##id,
enum { VERDICT_REASONS(VERDICT_BIT_ENUM) VERDICT_NREASONS };
enum { VERDICT_CHAIN_ISSUES(VERDICT_BIT_ENUM) VERDICT_NCHAIN_ISSUES };
enum { VERDICT_CERT_ISSUES(VERDICT_BIT_ENUM) VERDICT_NCERT_ISSUES };
#undef VERDICT_BIT_ENUM

/* The set of one word: REASON(EXPIRED) | REASON(HOSTNAME_MISMATCH). */
#define REASON(id) ((uint64_t)1 << VBIT_##id)
#define CHAIN_ISSUE(id) ((uint64_t)1 << VBIT_##id)
#define CERT_ISSUE(id) ((uint64_t)1 << VBIT_##id)

enum verdict_table {
	VERDICT_REASON,
	VERDICT_CHAIN_ISSUE,
	VERDICT_CERT_ISSUE,
};

/* The word of bit i, or NULL when the table has none there. */
const char *verdict_word(enum verdict_table t, unsigned i);
/* The bit of word, or -1 when this version does not know it. */
int verdict_word_bit(enum verdict_table t, const char *word);
/* Words past the built-in ones, for checks registered at run time (and
 * tests): the word's bit, or -1 when the table is full. Adding a word that
 * is there already returns its bit. */
int verdict_word_add(enum verdict_table t, const char *word);
/* The one text helper: the words of set in bit order, joined by sep; none
 * (may be NULL: nothing) for the empty set. */
void verdict_words_join(struct buf *b, enum verdict_table t, uint64_t set, const char *sep,
                        const char *none);
/* The words of set in bit order into out (64 entries); their number. */
size_t verdict_words(enum verdict_table t, uint64_t set, const char **out);
/* Parse "word,word" (or "-" for none) into *set: 0, or -1 for a word this
 * version does not know. */
int verdict_words_parse(enum verdict_table t, const char *text, uint64_t *set);

/* What the handshake said that later checks need, captured by tls.c. All
 * pointers are valid while the probe runs; a verdict that keeps its input
 * for a recheck copies them. */
struct tls_facts {
	const struct der *staples;   /* stapled OCSP response per certificate
	                              * index (len 0: none); the leaf's first */
	size_t nstaples;
	/* SCTs from the TLS extension (RFC 6962 3.3.1): the server's
	 * SignedCertificateTimestampList as sent (data NULL: none sent). tls.c
	 * asks for it in every handshake, but GnuTLS 3.7.9 shows it only in a
	 * TLS 1.2 (or earlier) ServerHello: scts_available says whether this
	 * handshake was one. SCTs embedded in a certificate are in its DER. */
	struct der scts;
	const char *group;           /* key exchange group ("X25519"); NULL: unknown */
	const char *sigscheme;       /* the server's signature ("ECDSA-SECP256R1-SHA256") */
	int scts_available;          /* see scts */
	int key_usage_violation;     /* GnuTLS stopped the handshake at the leaf's
	                              * key usage, after receiving the chain */
};

struct verdict_detail;

/*
 * A verdict. verified, reasons and issues are the whole of it for most
 * chains; what checks say beyond that (issues per certificate, their own
 * results, the retained input of a pending check) is in detail, shared by
 * reference between the results that reuse the verdict.
 */
struct verdict {
	int verified;             /* 1 when the chain verified, hostname included, and
	                           * no check failed it */
	unsigned gnutls_status;   /* raw gnutls_certificate_status_t, for logs */
	int reused;               /* carried over from the previous result */
	uint64_t reasons;         /* VERDICT_REASON bits; 0 when verified */
	uint64_t issues;          /* VERDICT_CHAIN_ISSUE bits */
	int64_t earliest_expiry;  /* min notAfter over the presented certificates */
	int64_t verified_expiry;  /* min notAfter over leaf..anchor; 0 unless verified */
	/* It depends only on the chain, the trust store, the name checked, the
	 * time and what checks fetched; it holds for trust and name from
	 * `from` until `until` (seconds since the epoch), so the next probe
	 * presenting the same chain may reuse it. trust 0: not reusable. */
	uint64_t trust;           /* trust_id() of the store */
	uint64_t facts;           /* what the handshake said beyond the chain
	                           * (stapled responses, SCTs), hashed */
	uint64_t name_id;         /* the name checked, verdict_name_id(); 0: none */
	int64_t from;
	int64_t until;
	struct verdict_detail *detail;   /* NULL: nothing beyond the above */
	/* The path that verified, leaf first, trust anchor last (interned, one
	 * reference each); npath 0 unless verified. */
	struct cert **path;
	size_t npath;
	/* The anchor's DER when it was not presented and is not known to be
	 * stored yet, for the store to write once (verdict_take_anchor_der);
	 * never copied. */
	unsigned char *anchor_der;
	size_t anchor_len;
};

struct trust;
struct conf_target;

/* What a verdict is made from. */
struct verdict_input {
	const struct der *chain;        /* as presented, chain[0] first sent */
	size_t n;
	const struct trust *trust;
	const struct conf_target *target;   /* the target's settings; may be NULL */
	const char *hostname;           /* checked when not NULL: a DNS name or an IP literal */
	int64_t now;                    /* seconds since the epoch */
	const struct tls_facts *tls;    /* may be NULL */
	/* who this is for, so that a check whose data arrives later can ask
	 * for it to be checked again: the target and, with addresses = "all",
	 * the address */
	const char *ref_target;
	const char *ref_address;
};

/* Verify in->chain against in->trust and run every check. Always fills *v
 * (verdict_fini frees it). Returns 0, or -1 when the input could not be
 * examined at all (n == 0, a certificate that does not parse): then
 * v->reasons is REASON(OTHER) and no check ran. */
int verdict_evaluate(const struct verdict_input *in, struct verdict *v);
/* verdict_evaluate with only a chain, a store, a name and a time. */
int verdict_verify(const struct der *chain, size_t n, const struct trust *t,
                   const char *hostname, int64_t now, struct verdict *v);

/* Whether prev (the verdict for prev_certs) holds for certs, presented
 * as `presented` certificates (certs holds those that parsed) in a
 * handshake that said tls (NULL: nothing), checked against trust for name
 * at now: the same certificates in the same order (interned: the same
 * pointers), the same stapled responses and SCT extension, the same store
 * and name, now within its window, and no check waiting for data. */
int verdict_holds(const struct verdict *prev, struct cert *const *prev_certs, size_t prev_n,
                  struct cert *const *certs, size_t n, size_t presented,
                  const struct trust *trust, const char *name,
                  const struct tls_facts *tls, int64_t now);

/* The name checked as a verdict keeps it: a 64-bit hash (never 0), not a
 * copy of the name for every target; 0 for NULL. A verdict is reused only
 * by its own target's next probe, so two names of one target would have
 * to collide. */
uint64_t verdict_name_id(const char *name);

/* A verdict that is a copy of src (detail shared). */
void verdict_copy(struct verdict *dst, const struct verdict *src);
/* Free what v holds (not v). Accepts a zeroed verdict. */
void verdict_fini(struct verdict *v);

/* Hand over the anchor's DER (allocated; *len bytes) and its certificate,
 * or NULL when there is none to write. */
unsigned char *verdict_take_anchor_der(struct verdict *v, size_t *len, struct cert **anchor);
/* Set the path (references taken), as a stored verdict is loaded. */
void verdict_set_path(struct verdict *v, struct cert *const *path, size_t n);

/* The expiry to judge a verdict by: the verified path's when the chain
 * verified, else the earliest presented notAfter. The one copy of the rule
 * that the status line, the status page and the tool apply. */
int64_t verdict_expiry(const struct verdict *v);

/* Issues per presented certificate (VERDICT_CERT_ISSUE bits): NULL when
 * there are none, else *n entries, depth 0 first. */
const uint64_t *verdict_cert_issues(const struct verdict *v, size_t *n);
/* Set them (a copy) on a verdict with no detail yet, as a stored result is
 * loaded; a verdict with one is left as it is (details are shared). */
void verdict_set_cert_issues(struct verdict *v, const uint64_t *issues, size_t n);

/* A check waits for data (revocation, DANE) that arrives later; then the
 * verdict has kept its input, unless the retention bound was reached. */
int verdict_pending(const struct verdict *v);
int verdict_retained(const struct verdict *v);
/* Bytes of retained input daemon-wide; at most VERDICT_RETAIN_MAX. */
#define VERDICT_RETAIN_MAX ((size_t)16 * 1024 * 1024)
size_t verdict_retained_bytes(void);
/* Distinct details held daemon-wide (one for every set of targets whose
 * verdicts say the same), and in *blobs (may be NULL) the distinct blobs of
 * the checks that share theirs: for tests and benchmarks. */
unsigned long verdict_shared_count(unsigned long *blobs);

/*
 * Run every check again on old's retained input (no new handshake), with
 * the store, settings, name and time of in (whose chain and tls are
 * ignored). 0 with *v the new verdict, or -1 when old kept no input.
 */
int verdict_recheck(const struct verdict *old, const struct verdict_input *in,
                    struct verdict *v);

/* Someone (a check whose fetch ended) asks for target (and address, with
 * addresses = "all") to be checked again: the hook the scheduler sets
 * receives it. Without a hook the request is dropped. */
typedef void (*verdict_recheck_fn)(void *arg, const char *target, const char *address);
void verdict_set_recheck_hook(verdict_recheck_fn fn, void *arg);
/* Remove the hook if it is arg's. */
void verdict_unset_recheck_hook(void *arg);
void verdict_request_recheck(const char *target, const char *address);

/* Chain verifications done in full, and verdicts reused, since start. */
void verdict_counts(uint64_t *full, uint64_t *reused);
/* Count one reuse (the probe decides, with verdict_holds). */
void verdict_count_reuse(void);

/* ---- what checks publish, for the renderers (metrics, JSON, pages) ---- */

/* One sample of a check's metric family: up to four labels of its own
 * (after the target's) and a value. */
#define CHECK_SAMPLE_LABELS 4
struct check_sample {
	const char *names[CHECK_SAMPLE_LABELS];   /* NULL ends the list */
	const char *values[CHECK_SAMPLE_LABELS];  /* escaped by the renderer */
	double value;
};

/* A metric family a check publishes from its blob. sample fills the i-th
 * sample of blob (i from 0) and returns 1, or returns 0 when there are no
 * more. The label names are reserved for configured labels. */
struct check_family {
	const char *name;
	const char *type;        /* "gauge", "counter" */
	const char *help;
	const char *const *labels;   /* the label names sample uses, NULL-terminated */
	int (*sample)(const void *blob, size_t i, struct check_sample *s);
};

/* Registered checks, in the order they run (check.h). */
size_t verdict_nchecks(void);
const char *verdict_check_name(size_t i);
/* Check i's metric families (none: NULL and *n 0). */
const struct check_family *verdict_check_families(size_t i, size_t *n);
/* The result check i left in v (its own blob), or NULL. */
const void *verdict_blob(const struct verdict *v, size_t i);
/* What check i's blob says, as plain-text lines appended to out (the
 * caller escapes them); nothing when the check says nothing. */
void verdict_describe(size_t i, const void *blob, struct buf *out);
/* Check i's blob as one JSON value appended to out (str appends a JSON
 * string, or null for NULL): 1, or 0 (nothing appended) when the check
 * has no JSON form. */
int verdict_check_json(size_t i, const void *blob, struct buf *out,
                       void (*str)(struct buf *out, const char *s));
/* Every line every check says of v, in check order: fn(arg, check name,
 * line) for each (lines are the check's plain text; the caller escapes).
 * Returns the number of lines. */
size_t verdict_details(const struct verdict *v,
                       void (*fn)(void *arg, const char *check, const char *line), void *arg);

#endif
