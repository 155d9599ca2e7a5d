/* sched.h - the targets of one configuration, each on its own schedule, at
 * most `concurrency` probes at once; every probe's outcome, and every
 * recheck a check asks for, goes from here to the target's history. */
#ifndef TLSWATCH_SCHED_H
#define TLSWATCH_SCHED_H

#include <stddef.h>

#include "conf/conf.h"
#include "core/util.h"

struct loop;
struct resolver;
struct sched;

/* Targets for every entry of c (loaded by conf_load, which loaded their
 * trust stores and client certificates; it must outlive the scheduler).
 * Nothing runs until sched_start. */
struct sched *sched_new(struct loop *l, struct resolver *res, const struct conf *c);
/* Arm the first probes, spread over each target's first interval. */
void sched_start(struct sched *s);
/* Start s (made by sched_new for a reloaded config) in place of old,
 * which the caller frees next, cancelling its probes. Targets with the same
 * name and settings keep their results, counters and phase (a probe in
 * flight is cancelled and run again at once); removed ones go with old; new
 * and changed ones start afresh within their first interval. */
void sched_start_from(struct sched *s, struct sched *old);
/* Cancel probes in flight and free everything. Accepts NULL. */
void sched_free(struct sched *s);

struct store;
/* Keep state in st (which must outlive the scheduler): each target's stored
 * result is loaded now, and every new result handed to the store. */
void sched_set_store(struct sched *s, struct store *st);

/* The targets (this shard's), in config order: each one's settings and its
 * history (state/history.h), for the status pages. */
size_t sched_count(const struct sched *s);
const struct conf_target *sched_conf(const struct sched *s, size_t i);
struct history;
const struct history *sched_history(const struct sched *s, size_t i);
/* Probes in flight now, and targets waiting for a free slot. */
size_t sched_in_flight(const struct sched *s);
size_t sched_queued(const struct sched *s);

/* For a status line: targets whose last probe failed, and targets whose
 * certificate (the verified path, else the earliest presented) expires
 * within warn of now (wall clock; a fraction: of that chain's lifetime). */
struct threshold;
void sched_summary(const struct sched *s, double now, const struct threshold *warn,
                   size_t *failing, size_t *expiring);

/* Run the checks of target's last result (address's, with addresses =
 * "all") again on its retained input, with no new handshake, soon, from the
 * loop; the new verdict goes through the target's history (a change is
 * logged once) to the store. Unknown targets and results that kept no
 * input are ignored. The scheduler started last receives the requests of
 * checks (verdict_request_recheck). */
void sched_recheck(struct sched *s, const char *target, const char *address);
/* Rechecks run since start (reloads included). */
uint64_t sched_rechecked(const struct sched *s);

/* The /metrics body; arg is the struct sched. */
void sched_render_metrics(struct buf *out, void *arg);

#endif
