/* expiry.h - when a certificate is close enough to its end to say so: the
 * warn and crit thresholds, each a duration ("21d") or a fraction of the
 * certificate's lifetime ("33%"), and the one judgement the status page
 * and the tool share. */
#ifndef TLSWATCH_EXPIRY_H
#define TLSWATCH_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/certs.h"

/* A fraction is kept in hundredths of a percent: "33%" is 3300, "12.5%"
 * is 1250. */
#define THRESHOLD_SCALE 10000

struct threshold {
	uint64_t ms;          /* a duration; 0 when a fraction */
	unsigned fraction;    /* of THRESHOLD_SCALE, 1 to 9999; 0 when a duration */
};

/* A duration as parse_duration_ms reads it ("21d", "90"), or a percentage
 * above 0 and below 100 with at most two decimals ("33%", "12.5%"). 0, or
 * -1 when s is neither. */
int threshold_parse(const char *s, struct threshold *t);
/* As threshold_parse reads it back: "21d", "33%", "12.5%". */
void threshold_format(char *out, size_t size, const struct threshold *t);
/* How many seconds before notAfter t is reached, for a certificate of
 * that lifetime (seconds); -1 when t is a fraction and lifetime is 0
 * (unknown). */
double threshold_seconds(const struct threshold *t, int64_t lifetime);
/* crit may not be above warn: checked when both are of one kind (two
 * durations, two fractions); across kinds it depends on the certificate.
 * 1 when in order. */
int threshold_in_order(const struct threshold *warn, const struct threshold *crit);

enum expiry_state {
	EXPIRY_OK,
	EXPIRY_WARN,
	EXPIRY_CRIT,
};

/* The state of a certificate ending at expiry, of that lifetime (0:
 * unknown; a fraction then judges as not reached), at now: CRIT when less
 * than crit remains, else WARN when less than warn remains. */
enum expiry_state expiry_judge(const struct threshold *warn, const struct threshold *crit,
                               int64_t expiry, int64_t lifetime, double now);

/* The lifetime (notAfter - notBefore) a chain's expiry is judged by: that
 * of the first of certs (as presented; NULL entries skipped) ending at
 * expiry, else the leaf's (a trust anchor that was not presented ends
 * first); 0 when neither is known. */
int64_t expiry_lifetime(struct cert *const *certs, size_t n, int64_t expiry);

#endif
