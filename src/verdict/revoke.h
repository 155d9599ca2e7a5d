/* revoke.h - what a revocation source says about one certificate, in the
 * fixed words the metrics and pages use: a status, and for a revoked
 * certificate its time and reason (RFC 5280 CRLReason). */
#ifndef TLSWATCH_REVOKE_H
#define TLSWATCH_REVOKE_H

#include <stdint.h>

enum rev_status {
	REV_GOOD,       /* a valid answer: not revoked */
	REV_REVOKED,
	REV_UNKNOWN,    /* a valid answer that does not know the certificate */
	REV_ERROR,      /* no valid answer: fetch failed, bad signature, stale, ... */
	REV_NSTATUS
};

/* CRLReason (RFC 5280 5.3.1); 7 is unused. */
#define REV_REASON_UNSPECIFIED 0
#define REV_REASON_MAX 10

struct rev_answer {
	enum rev_status status;
	int reason;             /* for REV_REVOKED: 0..REV_REASON_MAX */
	int64_t revoked_at;     /* for REV_REVOKED: seconds since the epoch */
	int64_t this_update;    /* of the data the answer rests on; 0: unknown */
	int64_t next_update;    /* 0: none given */
	char error[160];        /* for REV_ERROR: one line, from our own words */
};

/* "good", "revoked", "unknown", "error". */
const char *rev_status_name(enum rev_status s);
/* "unspecified", "key_compromise", "ca_compromise", "affiliation_changed",
 * "superseded", "cessation_of_operation", "certificate_hold",
 * "remove_from_crl", "privilege_withdrawn", "aa_compromise"; an invalid
 * code is "unspecified". */
const char *rev_reason_name(int reason);

/* Fill a with REV_ERROR and a printf-formatted message. */
void rev_error(struct rev_answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
