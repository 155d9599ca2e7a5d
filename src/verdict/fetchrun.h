/* fetchrun.h - revocation data, renewal information and caIssuers
 * certificates for a one-shot probe (`tlswatch check`): a fetcher (in
 * memory, no cache on disk) and cadata on the caller's loop, set up before
 * the probe; after it, the fetches its verdict waits for run to their end
 * and the verdict is judged again on what came. The daemon does the same
 * through sched_recheck. */
#ifndef TLSWATCH_FETCHRUN_H
#define TLSWATCH_FETCHRUN_H

#include <stdint.h>

#include "verdict/cadata.h"

struct loop;
struct conf_target;
struct verdict;
struct fetchrun;

/* Fetch on l, each request bounded by timeout_ms; NULL with *err when the
 * worker thread cannot start. */
struct fetchrun *fetchrun_start(struct loop *l, const struct cadata_settings *cs,
                                uint64_t timeout_ms, char **err);
/* While *v (ct's, probed with fr set up) waits for data and wait_ms have
 * not passed: run the loop, judge again when data comes. */
void fetchrun_settle(struct fetchrun *fr, const struct conf_target *ct, struct verdict *v,
                     uint64_t wait_ms);
/* Accepts NULL. */
void fetchrun_free(struct fetchrun *fr);

#endif
