/*
 * scanner.c - the protocol scan on its own schedule (scanner.h).
 *
 * Each job has its own timer at its scan interval. When it fires, the job
 * joins a FIFO of jobs waiting for a slot of the scheduler's concurrency
 * limit; the scheduler lends a slot only when no regular probe is waiting
 * (its own queue goes first), so a scan never delays a target's probe.
 * The four handshakes of a scan run one after another, each in a slot of
 * its own and under the target's timeout, the job going to the back of the
 * FIFO between them: a scan of many targets shares the limit fairly and
 * nothing waits on the loop.
 *
 * A version whose handshake says nothing (the connection failed, the
 * deadline passed: SCAN_UNKNOWN) keeps its answer from the last scan; a scan
 * in which no version answered changes nothing, its timestamp included, so
 * a stale tlswatch_tls_scan_timestamp_seconds shows failing scans. Answers
 * live in memory only: the first scan after a start comes early instead.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "probe/probe.h"
#include "probe/scan.h"
#include "scanner.h"
#include "serve/metrics.h"

enum { KNOWN_NONE = -1 };

struct scan_job {
	struct scans *pool;
	const struct conf_target *conf;
	const char *labels;
	struct conf_target ct;      /* conf as probed for version v */
	struct loop_timer timer;    /* the next scan */
	uint64_t due;               /* monotonic ms the timer is armed for */
	int running;                /* a scan is waiting or in flight */
	int queued;
	struct scan_job *qnext;
	struct probe *probe;        /* in flight, or NULL */
	unsigned v;                 /* the version being asked */
	enum scan_answer answer[SCAN_NVERSIONS];  /* this scan's */
	int known[SCAN_NVERSIONS];  /* 1 accepted, 0 refused, KNOWN_NONE */
	double time;                /* wall clock of the last scan that answered; 0: none */
};

struct scans {
	struct loop *loop;
	struct resolver *res;
	struct scan_slots slots;
	struct scan_job **jobs;
	size_t njobs;
	struct scan_job *qhead, *qtail;
	int waking;
};

static void job_due(struct loop_timer *t);

struct scans *
scans_new(struct loop *l, struct resolver *res, const struct scan_slots *slots)
{
	struct scans *p = xcalloc(1, sizeof(*p));

	p->loop = l;
	p->res = res;
	p->slots = *slots;
	return p;
}

void
scans_free(struct scans *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->njobs; i++) {
		struct scan_job *j = p->jobs[i];

		loop_timer_cancel(p->loop, &j->timer);
		probe_cancel(j->probe);
		free(j);
	}
	free(p->jobs);
	free(p);
}

struct scan_job *
scans_add(struct scans *p, const struct conf_target *ct, const char *labels)
{
	struct scan_job *j;

	if (ct->scan_interval_ms == 0)
		return NULL;
	j = xcalloc(1, sizeof(*j));
	j->pool = p;
	j->conf = ct;
	j->labels = labels;
	loop_timer_init(&j->timer, job_due);
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++)
		j->known[v] = KNOWN_NONE;
	p->jobs = xreallocarray(p->jobs, p->njobs + 1, sizeof(*p->jobs));
	p->jobs[p->njobs++] = j;
	return j;
}

static void
job_arm(struct scan_job *j, uint64_t when)
{
	j->due = when;
	loop_timer_at(j->pool->loop, &j->timer, when);
}

void
scan_job_start(struct scan_job *j, const struct scan_job *old)
{
	uint64_t now = mono_ms();
	const char *name;

	if (j == NULL)
		return;
	if (old != NULL) {
		memcpy(j->known, old->known, sizeof(j->known));
		j->time = old->time;
		job_arm(j, old->running || !loop_timer_armed(&old->timer) ? now : old->due);
		return;
	}
	name = j->conf->name;
	job_arm(j, now + (hash64(name, strlen(name)) + j->conf->interval_ms / 2) %
	    j->conf->interval_ms);
}

static void
job_enqueue(struct scan_job *j)
{
	struct scans *p = j->pool;

	j->queued = 1;
	j->qnext = NULL;
	if (p->qtail)
		p->qtail->qnext = j;
	else
		p->qhead = j;
	p->qtail = j;
}

static void
job_due(struct loop_timer *t)
{
	struct scan_job *j = container_of(t, struct scan_job, timer);
	uint64_t now = mono_ms(), next = j->due + j->conf->scan_interval_ms;

	/* keep the phase, but replay no rounds missed in a stall */
	job_arm(j, next <= now ? now + j->conf->scan_interval_ms : next);
	if (j->running) {
		log_debug("target %s: scan still running from the last round; skipped",
		    j->conf->name);
		return;
	}
	j->running = 1;
	j->v = 0;
	job_enqueue(j);
	scans_wake(j->pool);
}

/* "TLS1.0 accepted, TLS1.1 refused, ..." of what is known */
static void
known_text(const int known[SCAN_NVERSIONS], struct buf *b)
{
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++)
		buf_printf(b, "%s%s %s", v ? ", " : "", scan_version_name(v),
		    known[v] == KNOWN_NONE ? "unknown" : known[v] ? "accepted" : "refused");
}

static int
known_legacy(const int known[SCAN_NVERSIONS])
{
	return known[SCAN_TLS1_0] == 1 || known[SCAN_TLS1_1] == 1;
}

/* The four answers are in: what they change. */
static void
job_finish(struct scan_job *j)
{
	int known[SCAN_NVERSIONS], answered = 0;

	memcpy(known, j->known, sizeof(known));
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++) {
		if (j->answer[v] == SCAN_UNKNOWN)
			continue;
		known[v] = j->answer[v] == SCAN_ACCEPTED;
		answered = 1;
	}
	j->running = 0;
	if (!answered) {
		log_debug("target %s: scan: no version answered; nothing changed",
		    j->conf->name);
		return;
	}
	j->time = wall_now();
	if (memcmp(known, j->known, sizeof(known)) != 0) {
		struct buf b;

		buf_init(&b);
		known_text(known, &b);
		if (known_legacy(known) && !known_legacy(j->known))
			log_warnx("target %s: scan: %s: legacy_tls_enabled", j->conf->name, b.data);
		else
			log_info("target %s: scan: %s", j->conf->name, b.data);
		buf_free(&b);
	}
	memcpy(j->known, known, sizeof(known));
}

static void
job_probe_done(void *arg, struct result *r)
{
	struct scan_job *j = arg;
	struct scans *p = j->pool;

	j->probe = NULL;
	j->answer[j->v] = scan_answer(r, j->v);
	if (r != NULL && !r->success)
		log_debug("target %s: scan %s: %s: %s", j->conf->name, scan_version_name(j->v),
		    r->fail_stage ? r->fail_stage : "?", r->fail_reason ? r->fail_reason : "?");
	result_free(r);
	if (++j->v < SCAN_NVERSIONS)
		job_enqueue(j);        /* the next version waits its turn */
	else
		job_finish(j);
	p->slots.give(p->slots.arg);   /* the scheduler wakes the queue */
}

/* j holds a slot: ask version j->v. */
static void
job_launch(struct scan_job *j)
{
	struct probe_opts o = { .trust = j->conf->trust, .creds = j->conf->tls.creds };

	scan_target(j->conf, j->v, &j->ct);
	j->ct.tls.addresses_all = 0;   /* one address: the first, as a probe's */
	j->probe = probe_start_ex(j->pool->loop, j->pool->res, &j->ct, &o, job_probe_done, j);
}

void
scans_wake(struct scans *p)
{
	if (p == NULL || p->waking)
		return;
	p->waking = 1;
	while (p->qhead != NULL && p->slots.take(p->slots.arg)) {
		struct scan_job *j = p->qhead;

		p->qhead = j->qnext;
		if (p->qhead == NULL)
			p->qtail = NULL;
		j->qnext = NULL;
		j->queued = 0;
		job_launch(j);
	}
	p->waking = 0;
}

int
scan_job_view(const struct scan_job *j, struct scan_view *out)
{
	if (j == NULL)
		return 0;
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++)
		out->answer[v] = j->known[v] == KNOWN_NONE ? SCAN_UNKNOWN :
		    j->known[v] ? SCAN_ACCEPTED : SCAN_REFUSED;
	out->time = j->time;
	return 1;
}

void
scans_render_metrics(struct buf *out, const struct scans *p)
{
	struct metrics_family supported = { "tlswatch_tls_version_supported", "gauge",
		"Whether the last protocol scan completed a handshake restricted to this "
		"TLS version (1) or the server refused it (0).", 0 };
	struct metrics_family stamp = { "tlswatch_tls_scan_timestamp_seconds", "gauge",
		"When the last protocol scan that got an answer ended, in seconds since "
		"the epoch.", 0 };
	struct metrics_family issue = { "tlswatch_target_issue", "gauge",
		"Problems of a target as a whole, beyond its certificates.", 0 };

	for (size_t i = 0; i < p->njobs; i++)
		for (unsigned v = 0; v < SCAN_NVERSIONS; v++)
			if (p->jobs[i]->known[v] != KNOWN_NONE)
				metrics_series(out, &supported, p->jobs[i]->labels, "version",
				    scan_version_name(v), p->jobs[i]->known[v]);
	for (size_t i = 0; i < p->njobs; i++)
		if (p->jobs[i]->time > 0)
			metrics_series(out, &stamp, p->jobs[i]->labels, NULL, NULL,
			    (double)(int64_t)p->jobs[i]->time);
	for (size_t i = 0; i < p->njobs; i++)
		if (known_legacy(p->jobs[i]->known))
			metrics_series(out, &issue, p->jobs[i]->labels, "issue",
			    SCAN_LEGACY_ISSUE, 1);
}
