/* ratelimit.h - failed password checks per client address: a token bucket
 * each, so that a client that keeps guessing waits while others do not. */
#ifndef TLSWATCH_RATELIMIT_H
#define TLSWATCH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;
struct ratelimit;

/* Each address may fail burst checks at once and one more every refill_ms;
 * at most max_addrs addresses are remembered (those waiting least are
 * forgotten first). IPv6 addresses count by their /64, the least an end
 * site has; IPv4-mapped IPv6 addresses as IPv4. */
struct ratelimit *ratelimit_new(unsigned burst, uint64_t refill_ms, size_t max_addrs);
void ratelimit_free(struct ratelimit *r);

/* Take a token for one check by sa at now: 0 when taken, else the ms until
 * one is there (nothing taken). */
uint64_t ratelimit_take(struct ratelimit *r, const struct sockaddr *sa, uint64_t now);
/* Give back the token of a check that succeeded. */
void ratelimit_refund(struct ratelimit *r, const struct sockaddr *sa, uint64_t now);
/* Addresses with less than a full bucket at now. */
size_t ratelimit_waiting(const struct ratelimit *r, uint64_t now);

#endif
