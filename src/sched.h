/* sched.h - the targets of one configuration, each on its own schedule, at
 * most `concurrency` probes at once; every probe's outcome, and every
 * recheck a check asks for, goes from here to the target's history. */
#ifndef TLSWATCH_SCHED_H
#define TLSWATCH_SCHED_H

#include <stddef.h>

#include "conf/conf.h"
#include "core/util.h"
#include "result.h"

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
 * result is read on the store's thread and installed a batch at a time
 * (before its first new result at the latest), and every new result handed
 * to the store. */
void sched_set_store(struct sched *s, struct store *st);

struct fetch;
/* Show f's counters (fetch.h) in the /metrics body; f outlives s. */
void sched_set_fetch(struct sched *s, const struct fetch *f);

/* The targets (this shard's), in config order: each one's settings and its
 * history (state/history.h), for the status pages. */
size_t sched_count(const struct sched *s);
const struct conf_target *sched_conf(const struct sched *s, size_t i);
struct history;
const struct history *sched_history(const struct sched *s, size_t i);
struct scan_view;
/* Target i's protocol scan (scan = { }) into out: 1, or 0 when it has none. */
int sched_scan(const struct sched *s, size_t i, struct scan_view *out);
/* The mail domain state of target i (its MX set, MTA-STS), or NULL when it
 * is not a mail domain. */
struct maildom;
const struct maildom *sched_maildom(const struct sched *s, size_t i);
/* Probes in flight now, and targets waiting for a free slot. */
size_t sched_in_flight(const struct sched *s);
size_t sched_queued(const struct sched *s);

/* For a status line: targets whose last probe failed, and targets whose
 * certificate (the verified path, else the earliest presented) expires
 * within warn of now (wall clock; a fraction: of that chain's lifetime). */
struct threshold;
void sched_summary(const struct sched *s, double now, const struct threshold *warn,
                   size_t *failing, size_t *expiring);
/* The same a slice of targets (a few ms) at a time, on turns of the loop:
 * begin, then step until it returns 1; a step given another set of targets
 * (a reload, target files) starts the count again. */
struct sched_summary {
	uint64_t gen;       /* of the set counted; 0 before the first step */
	size_t next;        /* targets counted */
	double now;
	size_t failing, expiring;
};
void sched_summary_begin(struct sched_summary *p, double now);
int sched_summary_step(const struct sched *s, struct sched_summary *p,
                       const struct threshold *warn);

/* Run the checks of target's last result (address's, with addresses =
 * "all") again on its retained input, with no new handshake, soon, from the
 * loop; the new verdict goes through the target's history (a change is
 * logged once) to the store. Unknown targets and results that kept no
 * input are ignored. The scheduler started last receives the requests of
 * checks (verdict_request_recheck). */
void sched_recheck(struct sched *s, const char *target, const char *address);
/* Rechecks run since start (reloads included). */
uint64_t sched_rechecked(const struct sched *s);

/* Replace the targets that came from file_sd files with ts[0..n) (this
 * shard's of them; the caller keeps each valid until it is replaced or the
 * scheduler goes), as a reload of only those: an entry given again as the
 * same pointer goes on as it runs (state, counters, phase, a probe in
 * flight); a new name, or one whose entry changed, starts afresh within its
 * first interval from what the store kept of it; a name no longer given
 * goes. A name the configuration has, or that came earlier in ts, is
 * skipped (logged). Before sched_start: only the set changes. */
void sched_set_file_targets(struct sched *s, const struct conf_target *const *ts, size_t n);

/* A probe for a /probe request: done receives the result (single
 * address: r; addresses = "all": a[0..n), or r when resolving failed), the
 * callee owning it, once, never from inside this call. The job takes a
 * slot of `concurrency`, at most probe_concurrency jobs at once, and waits
 * in the scheduled targets' queue in arrival order; past o->deadline_ms (0:
 * now + the timeout) in the queue it ends as timeout/queued. ct and
 * o's pointers must outlive the job. */
struct sched_job;
struct probe_opts;
typedef void (*sched_job_fn)(void *arg, struct result *r, struct addr_result *a, size_t n);
struct sched_job *sched_job_start(struct sched *s, const struct conf_target *ct,
                                  const struct probe_opts *o, sched_job_fn done, void *arg);
/* Abandon a job (running or queued); done will not be called. Accepts
 * NULL. A scheduler's owner cancels its jobs before sched_free. */
void sched_job_cancel(struct sched_job *j);
/* Jobs probing now, and waiting for a slot. */
size_t sched_jobs_in_flight(const struct sched *s);
size_t sched_jobs_queued(const struct sched *s);

/* The last result of a target probed as ct would be (same host, port and
 * settings: conf_target_probes_alike; addresses = "first" only), or NULL:
 * what a /probe may answer from when it is fresh enough. */
const struct result *sched_result_alike(const struct sched *s, const struct conf_target *ct);

/* The /metrics body; arg is the struct sched. */
void sched_render_metrics(struct buf *out, void *arg);

/* The same in steps, for a scrape rendered off the loop: begin, then step
 * on later turns of the loop until it returns 1 (loop thread: what every
 * target shows, a slice of at most max targets and a few ms a step, each
 * kept as it is until release), render (any thread, from the scrape
 * alone), release (loop thread, at any point). Each step is given the
 * scheduler of now, which may be another than begin's (a reload), or whose
 * targets changed (target files): the taking then starts again on the
 * targets of now (restarts counts it; after two, the rest is taken in one
 * step). sched_scrape_take is begin and every step at once. */
struct sched_scrape;
struct sched_scrape *sched_scrape_begin(const struct sched *s);
int sched_scrape_step(const struct sched *s, struct sched_scrape *sc, size_t max);
unsigned sched_scrape_restarts(const struct sched_scrape *sc);
struct sched_scrape *sched_scrape_take(const struct sched *s);
void sched_scrape_render(struct buf *out, const struct sched_scrape *sc);
void sched_scrape_release(struct sched_scrape *sc);

#endif
