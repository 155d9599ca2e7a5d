/* probe.h - one probe of one target: resolve, connect, handshake, verify. */
#ifndef TLSWATCH_PROBE_H
#define TLSWATCH_PROBE_H

#include <stdint.h>

#include "verdict/chain.h"
#include "verdict/verdict.h"
#include "conf/conf.h"
#include "probe/resolve.h"
#include "result.h"

struct loop;
struct resolver;
struct probe;

/* Receives the result (the callee owns it). The probe is gone once this
 * returns; it is never called from inside probe_start. */
typedef void (*probe_done_fn)(void *arg, struct result *r);

/* Start probing ct. The probe ends by its deadline (ct->timeout_ms) at the
 * latest. trust verifies the chain after the handshake. prev, the target's
 * last result or NULL, lets an unchanged chain reuse its verdict; it must
 * outlive the probe. */
struct probe *probe_start(struct loop *l, struct resolver *res, const struct conf_target *ct,
                          const struct trust *trust, const struct result *prev,
                          probe_done_fn done, void *arg);

struct tls_creds;
struct resolved_addr;
struct allow;

/* What a probe may be given beside its target. */
struct probe_opts {
	const struct trust *trust;          /* verifies the chain */
	const struct result *prev;          /* the last result for what this
	                                     * probe probes (a reusable verdict),
	                                     * or NULL; must outlive the probe */
	const struct tls_creds *creds;      /* client certificate; NULL: none */
	const struct resolved_addr *addr;   /* probe this address only (copied),
	                                     * without resolving; NULL: resolve */
	double resolve_seconds;             /* with addr: what resolving it took */
	uint64_t deadline_ms;               /* monotonic ms; 0: start + timeout */
	const char *ref_prefix;             /* with addr: put before the address in
	                                     * the key rechecks name the result by
	                                     * (mail domains: "MX PORT "); NULL: none */
	const struct allow *allow;          /* /probe: connect only where this
	                                     * allows, after resolving (else the
	                                     * probe fails as connect/not_allowed);
	                                     * NULL: anywhere */
	int go_names;                       /* make the leaf's names as Go writes
	                                     * them (cert_go_names), for /probe */
};
/* probe_start with more to say: see struct probe_opts. */
struct probe *probe_start_ex(struct loop *l, struct resolver *res, const struct conf_target *ct,
                             const struct probe_opts *o, probe_done_fn done, void *arg);
/* The resolver family a target asks for (family = ...). */
enum resolve_family probe_family(const struct conf_target *ct);

/* Abandon a probe in flight; its callback will not run. Accepts NULL. */
void probe_cancel(struct probe *p);

#endif
