/* sched.h - every target on its own schedule, at most `concurrency` probes at once. */
#ifndef TLSWATCH_SCHED_H
#define TLSWATCH_SCHED_H

#include <stddef.h>

#include "conf/conf.h"
#include "target.h"
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

const struct target *sched_targets(const struct sched *s, size_t *n);
/* Probes in flight now, and targets waiting for a free slot. */
size_t sched_in_flight(const struct sched *s);
size_t sched_queued(const struct sched *s);

/* For a status line: targets whose last probe failed, and targets whose
 * certificate (the verified path, else the earliest presented) expires
 * within `within` seconds of now (wall clock). */
void sched_summary(const struct sched *s, double now, double within, size_t *failing,
                   size_t *expiring);

/* The /metrics body; arg is the struct sched. */
void sched_render_metrics(struct buf *out, void *arg);

#endif
