/* stsround.h - a mail domain's MTA-STS (RFC 8461) and TLS-RPT (RFC 8460)
 * records and policy, looked up and fetched at each of its rounds, apart
 * from its probes: the _mta-sts TXT record, the policy from
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (through the daemon's
 * fetcher, at the address our resolver gave, verified against the target's
 * trust store for that name, no redirects), and the _smtp._tls record. */
#ifndef TLSWATCH_STSROUND_H
#define TLSWATCH_STSROUND_H

#include <stdint.h>

#include "conf/conf.h"
#include "verdict/mtasts.h"

struct loop;
struct resolver;
struct fetch;
struct sts;

/* What the last completed lookup found. */
enum sts_status {
	STS_NONE,              /* not looked up yet */
	STS_OK,
	STS_NO_RECORD,         /* no (single, valid) STSv1 record: no policy */
	STS_FETCH_ERROR,       /* the record, DNS or the fetch failed */
	STS_INVALID_POLICY,    /* fetched, but not a policy (or not text/plain) */
	STS_POLICY_CERT_INVALID,  /* the policy host's certificate did not verify */
};

/* "ok", "no_record", "fetch_error", "invalid_policy", "policy_cert_invalid". */
const char *sts_status_name(enum sts_status s);

/* The fetcher every policy comes through (the daemon's; it outlives every
 * sts). NULL: MTA-STS is not checked. */
void sts_set_fetch(struct fetch *f);

struct sts *sts_new(void);
/* Cancels what is in flight. NULL is fine. */
void sts_free(struct sts *s);
/* Look up ct's domain again, unless that is in flight already. ct must
 * stay valid until it ends or sts_cancel. */
void sts_start(struct sts *s, struct loop *l, struct resolver *res,
               const struct conf_target *ct);
void sts_cancel(struct sts *s);
/* Whether a lookup is in flight. */
int sts_busy(const struct sts *s);

/* The last completed lookup. policy is set with STS_OK only; id is the
 * record's ("" when none); tlsrpt: 1 a TLSRPTv1 record, 0 none, -1 not
 * known (not looked up, or the lookup failed). */
enum sts_status sts_result(const struct sts *s, const struct mtasts_policy **policy,
                           const char **id, int *tlsrpt);

#endif
