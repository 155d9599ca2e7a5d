/* probe.h - one probe of one target: resolve, connect, handshake, verify. */
#ifndef TLSWATCH_PROBE_H
#define TLSWATCH_PROBE_H

#include <stdint.h>

#include "chain.h"
#include "conf.h"
#include "target.h"

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
/* Chain verifications done in full, and verdicts reused for an unchanged
 * chain, since the process started. */
void probe_verify_counts(uint64_t *full, uint64_t *reused);

/* Abandon a probe in flight; its callback will not run. Accepts NULL. */
void probe_cancel(struct probe *p);

#endif
