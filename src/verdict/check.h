/*
 * check.h - the interface every check of the verdict implements.
 *
 * A verdict is GnuTLS's path verification (chain.c) plus a list of checks,
 * each a module with this one small interface: the presented chain, the
 * verified path, the trust store, the target's settings and the handshake's
 * facts in; reasons, issues, a bound on the verdict's reuse and its own
 * result (which it renders itself) out. A new kind of finding is a new
 * check, registered in verdict.c's table, not an `if` in the scheduler or
 * the renderers. The first check is the chain's presentation
 * (chainissues.c: misordered, incomplete, root_included, duplicate).
 *
 * Contract of run():
 *   - It is called on the event loop thread, after the handshake (or on a
 *     recheck, see below), once per verdict evaluated in full. It must not
 *     block: no disk, no network, no sleeping. It may start asynchronous
 *     work (a fetch on the loop) and answer from what it has now.
 *   - in is valid only during the call. To be called back later it copies
 *     in->ref_target and in->ref_address and, when its data has arrived,
 *     calls verdict_request_recheck() with them (verdict.h): the scheduler
 *     then runs every check again on the same input, with no new
 *     handshake, and publishes the new verdict (a change is logged once).
 *   - It sets out->pending when its answer may change once data arrives:
 *     the verdict then keeps the chain and the handshake's facts (bounded
 *     daemon-wide by VERDICT_RETAIN_MAX; beyond that the next probe asks
 *     again) and is never reused by the next probe.
 *   - It adds words (bits of verdict.h's tables) to out->reasons (any
 *     reason makes the chain "not verified"), out->issues (the chain as a
 *     whole) and out->cert_issues[depth] (one presented certificate).
 *   - It may lower out->valid_until (seconds since the epoch): the verdict
 *     is not reused past it (revocation data's nextUpdate, say).
 *   - It may leave one allocated result in out->blob, freed by free_blob
 *     when the last verdict holding it goes; families and describe render
 *     it, so that neither metrics.c nor the pages learn about any check.
 *     It never changes once run returns: with key, equal blobs of many
 *     targets are one object (see key below).
 *   - It may set out->authenticated when it authenticated the peer by
 *     other means than the Web PKI (DANE under RFC 7672): the verdict is
 *     then verified, whatever GnuTLS's path verification said, unless a
 *     check adds a reason; out->authenticated_expiry is then the expiry
 *     the verdict is judged by.
 *   - It never touches another check's result or the input.
 *
 * A verdict is reused by the next probe presenting the same chain (see
 * verdict_holds); a check whose answer depends on data that may change
 * while the chain does not (a DNS record) says through holds() whether the
 * answer its blob records is still current.
 */
#ifndef TLSWATCH_CHECK_H
#define TLSWATCH_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/x509.h>

#include "verdict/certs.h"
#include "verdict/verdict.h"

/* At most this many presented certificates are examined, and issuer paths
 * are followed at most this deep. Real chains have 2 to 5; the bound keeps
 * quadratic analysis cheap whatever a server sends. */
#define CHECK_MAX_CERTS 64
#define CHECK_MAX_DEPTH 16

/* "0", "1", ... for a depth label (CHECK_MAX_CERTS - 1 for any beyond):
 * static strings, which a verdict's details point at. Any thread. */
const char *check_depth_text(size_t depth);

/* The presented chain, parsed once for the verification and every check. */
struct check_chain {
	size_t n;
	const struct der *der;               /* as presented, depth 0 first */
	struct cert *certs[CHECK_MAX_CERTS]; /* interned, same order */
	gnutls_x509_crt_t crt[CHECK_MAX_CERTS];
};

/* The path GnuTLS verified, leaf first and the trust anchor last, when the
 * chain verified (with the name and at the time asked). */
struct check_path {
	size_t n;                                   /* 0: not verified */
	gnutls_x509_crt_t crt[CHECK_MAX_DEPTH + 1]; /* borrowed from the chain,
	                                             * the anchor a copy */
	struct cert *certs[CHECK_MAX_DEPTH + 1];    /* interned, the anchor too */
	long index[CHECK_MAX_DEPTH + 1];            /* depth in the presented
	                                             * chain; -1: not presented */
};

struct check_input {
	const struct check_chain *chain;
	const struct check_path *path;       /* NULL when the chain did not verify */
	const struct trust *trust;
	gnutls_x509_trust_list_t trust_list; /* the store, to look up issuers */
	const struct conf_target *target;    /* settings (policy, revocation, dane,
	                                      * ... as they are added); may be NULL */
	const char *hostname;                /* the name checked, or NULL */
	int64_t now;                         /* seconds since the epoch */
	const struct tls_facts *tls;         /* never NULL (empty when unknown) */
	uint64_t base_reasons;               /* what GnuTLS's verification said */
	const char *ref_target;              /* for verdict_request_recheck */
	const char *ref_address;             /* NULL unless addresses = "all" */
	int recheck;                         /* run again on retained input */
};

struct check_output {
	uint64_t reasons;        /* VERDICT_REASON bits */
	uint64_t issues;         /* VERDICT_CHAIN_ISSUE bits */
	uint64_t *cert_issues;   /* chain->n entries, zeroed: VERDICT_CERT_ISSUE bits */
	int64_t valid_until;     /* lower it to bound reuse; INT64_MAX: no bound */
	int pending;             /* data still to come: keep the input */
	void *blob;              /* this check's own result, or NULL */
	int authenticated;       /* the peer is authenticated without the Web PKI */
	int64_t authenticated_expiry;   /* then: the expiry to judge by */
};

struct check {
	const char *name;        /* "chain"; for logs and the JSON details */
	void (*run)(const struct check_input *in, struct check_output *out);
	void (*free_blob)(void *blob);               /* NULL: free() */
	const struct check_family *families;         /* may be NULL */
	size_t nfamilies;
	/* Plain-text lines for people (the tool, the status page, JSON): what
	 * the blob says, one finding per line. Renderers escape it. May be NULL. */
	void (*describe)(const void *blob, struct buf *out);
	/* The blob as one JSON value for the API (str appends a string, or
	 * null for NULL, escaped). May be NULL. */
	void (*json)(const void *blob, struct buf *out,
	             void (*str)(struct buf *out, const char *s));
	/* Whether the data blob was made from is still what the check would
	 * see now: 0 keeps the next probe from reusing the verdict. On the
	 * loop, must not block. NULL: a blob always holds. */
	int (*holds)(const void *blob);
	/* Every byte of what blob says (core/share.h's key), or NULL. With
	 * it, verdict.c keeps one copy of equal blobs for the daemon: the
	 * targets presenting one chain hold one detail between them. The
	 * blob then begins with struct share_head, and nothing in it may
	 * depend on who it was made for (a target's name, an address) unless
	 * the key says so. */
	void (*key)(const void *blob, struct buf *out);
};

/* Add a check after the built-in ones (a test's, or one that needs run-time
 * set-up). At most VERDICT_MAX_CHECKS in all; it must outlive every
 * verdict. -1 when full. */
#define VERDICT_MAX_CHECKS 16
int verdict_add_check(const struct check *c);

/* ---- the base, chain.c: verdict.c's, and available to checks ---- */

/* The trust list of a loaded store. */
gnutls_x509_trust_list_t trust_list(const struct trust *t);

/* Parse and intern der[0..n) (at most CHECK_MAX_CERTS of them): 0, or -1
 * when one does not parse (nothing is then held). */
int check_chain_load(struct check_chain *cc, const struct der *der, size_t n);
void check_chain_free(struct check_chain *cc);
/* A presented issuer of cc[i] other than itself (its index), or -1. */
long check_chain_issuer(const struct check_chain *cc, size_t i);

/* What GnuTLS's verification says of a chain. */
struct chain_base {
	int verified;
	uint64_t reasons;         /* VERDICT_REASON bits */
	unsigned gnutls_status;
	int64_t earliest_expiry;
	int64_t verified_expiry;  /* 0 unless verified */
};
/* Verify cc against t for hostname (NULL: no name check) at now; when it
 * verifies, *path is the verified path (check_path_free frees it), else
 * path->n is 0. 0, or -1 when GnuTLS could not verify at all. */
int chain_verify(const struct check_chain *cc, const struct trust *t, const char *hostname,
                 int64_t now, struct chain_base *b, struct check_path *path);
void check_path_free(struct check_path *p);
/* The path as chain_verify builds it for a verified chain, for a chain
 * that did not verify too: from the leaf through presented issuers to the
 * first one an anchor in tl issued (then that anchor, index -1), or as far
 * as the presented issuers go. check_path_free frees it. */
void check_path_build(const struct check_chain *cc, gnutls_x509_trust_list_t tl,
                      struct check_path *p);

/* The presented certificate whose issuer is neither presented nor an
 * anchor of tl, climbing from the leaf (the chain is incomplete there),
 * or -1 when the climb ends at a root or an anchor's child. */
long check_chain_gap(const struct check_chain *cc, gnutls_x509_trust_list_t tl);

/* The built-in checks. */
extern const struct check check_chain_issues;
extern const struct check check_revocation;   /* revocation.c */
extern const struct check check_renewal;      /* renewal.c: ARI */
extern const struct check check_aia;          /* aiacheck.c */
extern const struct check check_policy;      /* policy.c */
extern const struct check check_webpki;      /* webpkicheck.c */
extern const struct check check_dane;       /* danecheck.c */

#endif
