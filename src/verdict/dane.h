/* dane.h - does a presented chain match its TLSA records (RFC 6698,
 * RFC 7671; RFC 7672 for SMTP)? Matching by libgnutls-dane. */
#ifndef TLSWATCH_DANE_H
#define TLSWATCH_DANE_H

#include <stddef.h>
#include <stdint.h>

#include "probe/dnsmsg.h"
#include "verdict/chain.h"

enum dane_result {
	DANE_MATCH,     /* a usable record matched: the peer is authenticated */
	DANE_MISMATCH,  /* usable records, none matched */
	DANE_UNUSABLE,  /* no usable record (unknown parameters, or 0 and 1 under SMTP) */
	DANE_ERROR,     /* the chain could not be examined (empty, unparsable) */
};

struct dane_check {
	/* in */
	const struct der *chain;      /* as presented, leaf first */
	size_t nchain;
	const struct dns_tlsa *recs;  /* the authenticated TLSA records */
	size_t nrecs;
	/* The reference identifiers a DANE-TA (and PKIX) match must name
	 * (RFC 7672 section 3.2.2: the MX host, or the TLSA base domain). */
	const char *const *names;
	size_t nnames;
	int smtp;                     /* RFC 7672: PKIX-TA(0), PKIX-EE(1) are unusable */
	int pkix_verified;            /* the chain verified by the target's trust store
	                               * and name: what PKIX-TA and PKIX-EE add to */
	/* out */
	long matched;                 /* the record that matched, or -1 */
	size_t matched_depth;         /* the presented certificate it matched
	                               * (0: the leaf; a DANE-TA's depth) */
	size_t usable;                /* records that took part */
	char detail[160];             /* why not, for logs and the tool */
};

/*
 * Match c->chain against c->recs:
 * - DANE-EE(3): the leaf's certificate or public key matches; nothing else
 *   is checked (no name, no dates: RFC 7672 section 3.1.1).
 * - DANE-TA(2): a presented certificate above the leaf matches, and the
 *   chain from the leaf up to it verifies with it as the only trust
 *   anchor, for one of the names, at the current time (section 3.1.2).
 *   A trust anchor that is not in the presented chain (2 1 0 of a key
 *   alone) is not looked for.
 * - PKIX-TA(0), PKIX-EE(1): as 2 and 3, and the chain must verify with
 *   the target's trust store too; unusable when c->smtp.
 * - Unknown usages, selectors and matching types are unusable; where a
 *   usage and selector have both SHA2-256 and SHA2-512 records, only the
 *   SHA2-512 ones are used (RFC 7671 section 9, digest agility).
 * Returns the result; c->matched and c->detail say more.
 */
enum dane_result dane_match(struct dane_check *c);

/* Free what dane_match keeps between calls (libgnutls-dane's state). */
void dane_fini(void);

/* "match", "mismatch", "unusable", "error". */
const char *dane_result_name(enum dane_result r);

#endif
