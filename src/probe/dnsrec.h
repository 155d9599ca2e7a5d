/* dnsrec.h - TLSA, MX and TXT lookups on the event loop, each with the
 * DNSSEC status the configured validating resolver gave it. */
#ifndef TLSWATCH_DNSREC_H
#define TLSWATCH_DNSREC_H

#include <stdint.h>

#include "probe/dnsmsg.h"

struct resolver;

enum dnsrec_status {
	DNSREC_SECURE,    /* authenticated: the records, or an authenticated denial */
	DNSREC_INSECURE,  /* answered without authentication (unsigned, or AD not trusted) */
	DNSREC_BOGUS,     /* the resolver's validation failed */
	DNSREC_ERROR,     /* no usable answer */
};

struct dnsrec_result {
	enum dnsrec_status status;
	int nxdomain;          /* the name does not exist (status SECURE or INSECURE) */
	struct dnsmsg msg;     /* the records (msg.n 0: none); SECURE and INSECURE only */
	const char *reason;    /* BOGUS and ERROR: a fixed word ("bogus", "server_failure",
	                        * "no_answer", "malformed", "refused", ...) */
	const char *detail;    /* what the resolver or the parser said */
};

/* "secure", "insecure", "bogus", "error". */
const char *dnsrec_status_name(enum dnsrec_status s);

/* Called once with the result, which is only valid during the call. */
typedef void (*dnsrec_cb)(void *arg, const struct dnsrec_result *res);

struct dnsrec_req;
/*
 * Look up name's records of type (enum dns_type), asking for the AD bit.
 * The answer is SECURE only when the AD bit is set and the resolver's
 * servers are the configuration's (resolver_trusted): AD from a resolver
 * nobody named proves nothing. A SERVFAIL is asked again with CD (checking
 * disabled): when that answers, the resolver refused the data it has, which
 * is what a validating resolver does with bogus data. cb runs later, from
 * the loop. A name that cannot be asked (too long, empty labels) fails
 * with reason "bad_name".
 */
struct dnsrec_req *dnsrec_lookup(struct resolver *r, const char *name, int type,
                                 dnsrec_cb cb, void *arg);
/* cb will not be called for req. NULL is fine. */
void dnsrec_cancel(struct dnsrec_req *req);

/* "_PORT._tcp.HOST" into out; -1 when it does not fit or host is not a
 * host name. */
int dnsrec_tlsa_name(const char *host, uint16_t port, char *out, size_t size);

#endif
