/*
 * tlsa.h - the TLSA records (RFC 6698) of every name the daemon checks with
 * DANE: one lookup per name at a time, on the loop, through the validating
 * resolver the configuration names. A probe starts the lookup as it
 * connects; the DANE check (verdict/danecheck.c) reads the answer when the
 * handshake is done, or waits for it and has the verdict checked again.
 * Owns the answers (the last one of each name) and who waits for them.
 * Used from the event loop only.
 */
#ifndef TLSWATCH_TLSA_H
#define TLSWATCH_TLSA_H

#include <stddef.h>
#include <stdint.h>

#include "probe/dnsmsg.h"
#include "probe/dnsrec.h"

struct conf_target;
struct resolver;

/* The last answer for a name. */
struct tlsa_answer {
	enum dnsrec_status status;
	int nxdomain;               /* SECURE or INSECURE: the name does not exist */
	size_t n;                   /* TLSA records (SECURE and INSECURE only) */
	struct dns_tlsa *recs;
	const char *reason;         /* BOGUS and ERROR: dnsrec's fixed word */
	char *detail;               /* what the resolver or the parser said, or NULL */
	uint64_t digest;            /* of all of the above but detail: equal answers
	                             * have equal digests */
	double time;                /* wall clock it came */
};

/* Lookups go to r from now on (NULL: none; DANE is then off). DANE needs
 * the resolver's servers to be the configuration's (resolver_trusted):
 * without them no answer could be authenticated. */
void tlsa_init(struct resolver *r);
/* Cancel the lookups in flight and forget every answer. */
void tlsa_fini(void);
/* Whether DANE can be checked: a resolver whose AD bit counts. */
int tlsa_enabled(void);

/* The TLSA name "_PORT._tcp.HOST" of ct into out (lower case): HOST is
 * the host connected to, else the server name, when a DNS name. 0, or -1
 * when ct is not checked with DANE (dane = "off", an IP address, no
 * resolver). The one copy of the rule, for probes and the check. */
int tlsa_target_name(const struct conf_target *ct, char *out, size_t size);
/* Start looking up ct's TLSA records, unless DANE does not apply or a
 * lookup of its name is in flight already. */
void tlsa_prefetch(const struct conf_target *ct);
/* The same for a TLSA name. */
void tlsa_lookup(const char *name);

/* The last answer for name, or NULL when none came yet; *pending says
 * whether a lookup is in flight (whose answer may differ). */
const struct tlsa_answer *tlsa_get(const char *name, int *pending);
/* When the lookup of name in flight ends, ask for target (and address,
 * with addresses = "all") to be checked again (verdict_request_recheck).
 * Nothing when none is in flight. */
void tlsa_wait(const char *name, const char *target, const char *address);

/* Take res as the answer for name, as the end of a lookup does (the
 * waiters are asked for): the lookups' callback, and tests. */
void tlsa_put(const char *name, const struct dnsrec_result *res);

/* Names known and lookups in flight, for tests and /metrics. */
void tlsa_counts(size_t *names, size_t *in_flight);

#endif
