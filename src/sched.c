/* sched.c - targets, their timers and the concurrency limit. Each target
 * has one due time in a heap; a due target starts a probe when a slot is
 * free, else waits in a FIFO, so the limit holds without starving anyone.
 * Every outcome goes to the target's history (state/history.c), which
 * decides what changed and logs it, and from there to the store; a check
 * whose data arrived later asks for a recheck here (sched_recheck).
 *
 * Targets come from the configuration and from file_sd files (replaced
 * whole by sched_set_file_targets, as a reload of only those). Probes
 * asked for by /probe requests (jobs) take the same slots and wait in
 * the same order, behind a limit of their own (probe_concurrency), so
 * scrapes cannot take every slot from the schedule. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/pin.h"
#include "core/util.h"
#include "probe/maildom.h"
#include "probe/multi.h"
#include "probe/probe.h"
#include "probe/tls.h"
#include "scanner.h"
#include "sched.h"
#include "verdict/expiry.h"
#include "serve/mailmetrics.h"
#include "serve/metrics.h"
#include "state/history.h"
#include "state/store.h"
#include "verdict/verdict.h"

/* One configured target, as the scheduler keeps it. Every field is
 * written here; what the target's results mean is its history's. A million
 * of them live at once: pointers first, the flags in bytes, and the labels
 * in the same allocation. */
struct target {
	const struct conf_target *conf;
	struct history *hist;
	struct heap_node due;    /* key: monotonic ms of the next probe */
	uint64_t due_at;         /* monotonic ms the current round fell due */
	struct probe *probe;     /* in flight, or NULL */
	struct multi *multi;     /* addresses = "all": the probes in flight, or NULL */
	struct maildom *mail;    /* a mail domain: its MX set and round; else NULL */
	struct target *qnext;    /* queue of targets due but waiting for a slot */
	uint64_t qseq;           /* when it joined the queue, in queue order */
	struct scan_job *scan;   /* scan = { }: its protocol scan (scanner.c); else NULL */
	struct sched *sched;
	uint8_t queued;
	uint8_t from_file;       /* a file_sd target (sched_set_file_targets) */
	uint8_t loaded;          /* its stored state was read (or there is none) */
	uint8_t loading;         /* in a batch of the loader (sched->loader) */
	uint8_t held;            /* due, waiting for its stored state (sched_launch) */
	char labels[];           /* escaped label pairs for every series (metrics.c) */
};

/* A probe a /probe request asked for: no target, no history. */
struct sched_job {
	struct sched *sched;
	const struct conf_target *ct;
	struct probe_opts opts;
	sched_job_fn done;
	void *arg;
	struct probe *probe;
	struct multi *multi;
	struct sched_job *qnext;
	int queued;
	uint64_t qseq;
	struct loop_timer expire;   /* its deadline while it waits in the queue */
	uint64_t start_us;
	struct sched_job *prev, *next;   /* every job of the scheduler */
};

/* A recheck asked for, run from the loop. */
struct recheck {
	char *target;
	char *address;           /* NULL: the target's result */
};

/* At most this many rechecks wait at once; more are dropped (the next
 * probe asks the checks again anyway). */
#define SCHED_MAX_RECHECKS 4096

struct sched {
	struct loop *loop;
	struct resolver *res;
	const struct conf *conf;
	struct target **targets;             /* the config's, then the files' */
	size_t ntargets;
	size_t nconf;                        /* of which from the config */
	struct target **byname;              /* sorted by name */
	struct target **byaddr;              /* sorted by host (any case) and port */
	struct heap due;
	struct loop_timer timer;             /* fires at the earliest due time */
	struct target *qhead, *qtail;        /* due, waiting for a slot */
	size_t nqueued;
	size_t in_flight;                    /* probes of targets and jobs */
	uint64_t qseq;                       /* the next queue position */
	struct sched_job *jobs;              /* every job, running or queued */
	struct sched_job *jqhead, *jqtail;   /* jobs waiting for a slot */
	size_t jobs_in_flight;
	size_t jobs_queued;
	int go_names;                        /* probe_endpoint: leaves get Go's names */
	double start_time;
	struct histogram lateness;           /* seconds from due time to start */
	uint64_t skipped;                    /* rounds skipped: target still busy */
	struct store *store;                 /* state on disk; NULL: none */
	const struct fetch *fetch;           /* its counters go to /metrics; NULL: none */
	struct recheck *rechecks;
	size_t nrechecks;
	struct loop_timer recheck_timer;
	uint64_t rechecked;                  /* rechecks run */
	/* Stored state is read on the store's thread and installed here a
	 * batch at a time, so that the daemon serves and probes from its
	 * first moment. */
	struct store_loader *loader;
	struct loop_timer load_timer;        /* the first batches, once the loop runs */
	size_t load_next;                    /* targets[] before it are in batches */
	size_t load_found;                   /* results found */
	uint64_t load_started;               /* monotonic ms */
	int load_logged;
	struct store_batch *urgent;          /* targets due before their batch */
	size_t urgent_flight;                /* such batches in flight */
	size_t held;                         /* targets held for their state */
	struct scans *scans;                 /* the protocol scans (scanner.c) */
	uint64_t gen;                        /* this set of targets' (sched_index) */
	size_t nmail;                        /* targets that are mail domains */
};

/* State files per batch: what the loop installs in one go (history_restore
 * of 64 records takes well under a millisecond). Eight batches in flight:
 * the thread reads on while the loop is busy with probes, and one turn of a
 * busy loop installs what was read meanwhile (with two, loading at 200
 * probes/s took four times as long as with nothing probing). */
#define SCHED_LOAD_BATCH 64
#define SCHED_LOAD_AHEAD 8

/* Lateness buckets: fine below a second, where a healthy scheduler lives. */
static const double lateness_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static void sched_arm(struct sched *s);
static void recheck_cb(struct loop_timer *t);
static void load_cb(struct loop_timer *t);
static void load_pump(struct sched *s);
static void target_release(struct sched *s, struct target *t);
static int scan_slot_take(void *arg);
static void scan_slot_give(void *arg);

static int
cmp_target_ptr(const void *a, const void *b)
{
	const struct target *ta = *(const struct target *const *)a;
	const struct target *tb = *(const struct target *const *)b;

	return strcmp(ta->conf->name, tb->conf->name);
}

static struct target *
find_target(const struct sched *s, const char *name)
{
	struct conf_target kc = { .name = (char *)name };
	struct target key = { .conf = &kc }, *kp = &key, **found;

	found = bsearch(&kp, s->byname, s->ntargets, sizeof(*s->byname), cmp_target_ptr);
	return found ? *found : NULL;
}

static int
cmp_addr_ptr(const void *a, const void *b)
{
	const struct conf_target *ca = (*(const struct target *const *)a)->conf;
	const struct conf_target *cb = (*(const struct target *const *)b)->conf;
	int r = strcasecmp(ca->host, cb->host);

	return r != 0 ? r : (ca->port > cb->port) - (ca->port < cb->port);
}

static uint64_t sched_gens;      /* the last set of targets' number */

/* The look-up tables, after the set of targets changed; the set's number,
 * for a scrape taken across loop turns (sched_scrape_step). */
static void
sched_index(struct sched *s)
{
	size_t n = s->ntargets ? s->ntargets : 1;

	s->gen = ++sched_gens;
	s->nmail = 0;
	for (size_t i = 0; i < s->ntargets; i++)
		s->nmail += s->targets[i]->mail != NULL;

	s->byname = xreallocarray(s->byname, n, sizeof(*s->byname));
	s->byaddr = xreallocarray(s->byaddr, n, sizeof(*s->byaddr));
	memcpy(s->byname, s->targets, s->ntargets * sizeof(*s->targets));
	memcpy(s->byaddr, s->targets, s->ntargets * sizeof(*s->targets));
	qsort(s->byname, s->ntargets, sizeof(*s->byname), cmp_target_ptr);
	qsort(s->byaddr, s->ntargets, sizeof(*s->byaddr), cmp_addr_ptr);
}

static struct target *
target_new(struct sched *s, const struct conf_target *ct, int from_file)
{
	char *labels = metrics_labels(ct);
	size_t len = strlen(labels) + 1;
	size_t size = offsetof(struct target, labels) + len;
	struct target *t = xcalloc(1, size > sizeof(*t) ? size : sizeof(*t));

	memcpy(t->labels, labels, len);
	free(labels);
	t->conf = ct;
	t->sched = s;
	t->from_file = (uint8_t)from_file;
	t->hist = history_new(ct->name);
	/* the configuration's targets only: a file's come and go, and a mail
	 * domain's hosts are its MX set's */
	if (!from_file && !ct->mail_domain)
		t->scan = scans_add(s->scans, ct, t->labels);
	if (ct->mail_domain)
		t->mail = maildom_new();
	heap_node_init(&t->due);
	return t;
}

struct sched *
sched_new(struct loop *l, struct resolver *res, const struct conf *c)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	struct scan_slots slots = { scan_slot_take, scan_slot_give, s };

	s->loop = l;
	s->res = res;
	s->conf = c;
	s->go_names = c->probe_endpoint;
	s->start_time = wall_now();
	histogram_init(&s->lateness, lateness_bounds, ARRAY_SIZE(lateness_bounds));
	heap_init(&s->due);
	loop_timer_init(&s->timer, NULL);
	loop_timer_init(&s->recheck_timer, recheck_cb);
	loop_timer_init(&s->load_timer, load_cb);
	s->scans = scans_new(l, res, &slots);
	/* A sharded instance keeps only its own targets (conf_in_shard). */
	for (size_t i = 0; i < c->ntargets; i++)
		if (conf_in_shard(c->targets[i].name, c->shard_k, c->shard_n))
			s->ntargets++;
	s->targets = xcalloc(s->ntargets ? s->ntargets : 1, sizeof(*s->targets));
	for (size_t i = 0, k = 0; i < c->ntargets; i++) {
		if (!conf_in_shard(c->targets[i].name, c->shard_k, c->shard_n))
			continue;
		s->targets[k++] = target_new(s, &c->targets[i], 0);
	}
	s->nconf = s->ntargets;
	sched_index(s);
	return s;
}

static void probe_done(void *arg, struct result *r);
static void multi_done(void *arg, struct result *failure, struct addr_result *a, size_t n);
static void job_launch(struct sched *s, struct sched_job *j);

static void load_urgent(struct sched *s, struct target *t);

static void
sched_launch(struct sched *s, struct target *t)
{
	uint64_t now = mono_ms();
	struct probe_opts o;

	/* Due before its stored state came: held until its batch comes, an
	 * urgent one (read next) if it is in none yet, a few ms. Probed
	 * first, its result would come before its stored history, which the
	 * loop would then have to read itself, from the disk. */
	if (!t->loaded && s->loader != NULL) {
		t->held = 1;
		s->held++;
		if (!t->loading)
			load_urgent(s, t);
		return;
	}
	o = (struct probe_opts){
		.trust = t->conf->trust,
		/* Safe for every address of addresses = "all" too: a verdict
		 * is reused only for the very same certificates. */
		.prev = history_result(t->hist, NULL),
		.creds = t->conf->tls.creds,
		/* a /probe may answer from this result: give it Go's names */
		.go_names = s->go_names,
	};

	histogram_observe(&s->lateness,
	    now > t->due_at ? (double)(now - t->due_at) / 1000.0 : 0.0);
	s->in_flight++;
	if (t->mail)
		maildom_start(t->mail, s->loop, s->res, t->conf, &o, multi_done, t);
	else if (t->conf->tls.addresses_all)
		t->multi = multi_start(s->loop, s->res, t->conf, &o, multi_done, t);
	else
		t->probe = probe_start_ex(s->loop, s->res, t->conf, &o, probe_done, t);
}

/* A slot freed up: start what has waited longest, a target or a job (a
 * job only while fewer than probe_concurrency jobs run). */
static void
sched_dequeue(struct sched *s)
{
	while (s->in_flight < s->conf->concurrency) {
		struct target *t = s->qhead;
		struct sched_job *j = s->jobs_in_flight < s->conf->probe_concurrency ?
		    s->jqhead : NULL;

		if (j != NULL && (t == NULL || j->qseq < t->qseq)) {
			s->jqhead = j->qnext;
			if (s->jqhead == NULL)
				s->jqtail = NULL;
			j->qnext = NULL;
			j->queued = 0;
			s->jobs_queued--;
			loop_timer_cancel(s->loop, &j->expire);
			job_launch(s, j);
			continue;
		}
		if (t == NULL)
			break;
		s->qhead = t->qnext;
		if (s->qhead == NULL)
			s->qtail = NULL;
		t->qnext = NULL;
		t->queued = 0;
		s->nqueued--;
		sched_launch(s, t);
	}
	scans_wake(s->scans);
}

/* A scan's handshake takes a slot only when no target and no /probe job
 * waits for one. */
static int
scan_slot_take(void *arg)
{
	struct sched *s = arg;

	if (s->qhead != NULL || s->jqhead != NULL || s->in_flight >= s->conf->concurrency)
		return 0;
	s->in_flight++;
	return 1;
}

static void
scan_slot_give(void *arg)
{
	struct sched *s = arg;

	s->in_flight--;
	sched_dequeue(s);
}

/* Take t out of the queue (a file target removed while it waits). */
static void
sched_unqueue(struct sched *s, struct target *t)
{
	struct target **pp, *prev = NULL;

	for (pp = &s->qhead; *pp != NULL; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp != t)
			continue;
		*pp = t->qnext;
		if (s->qtail == t)
			s->qtail = prev;
		t->qnext = NULL;
		t->queued = 0;
		s->nqueued--;
		return;
	}
}

/* What the history now remembers goes to disk (when it changed). */
static void
sched_save(struct sched *s, struct target *t)
{
	if (s->store)
		store_save(s->store, history_memory(t->hist), history_result(t->hist, NULL));
}

static void
probe_done(void *arg, struct result *r)
{
	struct target *t = arg;
	struct sched *s = t->sched;

	t->probe = NULL;
	s->in_flight--;
	t->loaded = 1;   /* it was (sched_launch): a late batch never overwrites */
	/* the DER of new certificates goes to disk; none stays in memory */
	if (s->store)
		store_put_certs(s->store, r);
	else
		result_drop_ders(r);
	history_record(t->hist, r);
	sched_save(s, t);
	sched_dequeue(s);
}

/* addresses = "all" ended: what is remembered on disk is the first
 * address's result, whose DER goes to the store. */
static void
multi_done(void *arg, struct result *failure, struct addr_result *a, size_t n)
{
	struct target *t = arg;
	struct sched *s = t->sched;

	t->multi = NULL;
	s->in_flight--;
	t->loaded = 1;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 && s->store)
			store_put_certs(s->store, a[i].result);
		else
			result_drop_ders(a[i].result);
	}
	history_record_all(t->hist, failure, a, n);
	sched_save(s, t);
	sched_dequeue(s);
}

/* t is due (since t->due_at): it starts now, or waits for a slot. */
static void
sched_go(struct sched *s, struct target *t)
{
	if (s->in_flight < s->conf->concurrency) {
		sched_launch(s, t);
		return;
	}
	t->queued = 1;
	t->qseq = s->qseq++;
	if (s->qtail)
		s->qtail->qnext = t;
	else
		s->qhead = t;
	s->qtail = t;
	s->nqueued++;
}

static void
sched_due_cb(struct loop_timer *timer)
{
	struct sched *s = container_of(timer, struct sched, timer);
	uint64_t now = mono_ms();
	struct heap_node *top;

	while ((top = heap_top(&s->due)) != NULL && top->key <= now) {
		struct target *t = container_of(top, struct target, due);
		uint64_t interval = t->conf->interval_ms;
		uint64_t next = top->key + interval;
		uint64_t due = top->key;

		/* Keep the phase, but after a long stall (suspend, overload) do
		 * not replay the missed rounds: start again from now. */
		if (next <= now)
			next = now + interval;
		heap_set(&s->due, &t->due, next);
		if (t->probe || t->multi || t->queued || t->held || maildom_busy(t->mail)) {
			log_debug("target %s: still busy from the previous round; skipped", t->conf->name);
			s->skipped++;
			continue;
		}
		t->due_at = due;
		sched_go(s, t);
	}
	sched_arm(s);
}

static void
sched_arm(struct sched *s)
{
	struct heap_node *top = heap_top(&s->due);

	if (top)
		loop_timer_at(s->loop, &s->timer, top->key);
	else
		loop_timer_cancel(s->loop, &s->timer);
}

/* ------------------------------------------------------------ rechecks */

static void
recheck_hook(void *arg, const char *target, const char *address)
{
	sched_recheck(arg, target, address);
}

void
sched_recheck(struct sched *s, const char *target, const char *address)
{
	for (size_t i = 0; i < s->nrechecks; i++)
		if (strcmp(s->rechecks[i].target, target) == 0 &&
		    ((address == NULL && s->rechecks[i].address == NULL) ||
		    (address && s->rechecks[i].address &&
		    strcmp(s->rechecks[i].address, address) == 0)))
			return;     /* asked already */
	if (s->nrechecks >= SCHED_MAX_RECHECKS || find_target(s, target) == NULL)
		return;
	s->rechecks = xreallocarray(s->rechecks, s->nrechecks + 1, sizeof(*s->rechecks));
	s->rechecks[s->nrechecks].target = xstrdup(target);
	s->rechecks[s->nrechecks].address = address ? xstrdup(address) : NULL;
	s->nrechecks++;
	/* from the loop, never inside the check that asked */
	loop_timer_at(s->loop, &s->recheck_timer, 0);
}

/* Run every check again on a result's retained input and publish the new
 * verdict through the history (which logs a change once). */
static void
recheck_one(struct sched *s, struct target *t, const char *address)
{
	const struct result *r = history_result(t->hist, address);
	struct conf_target sub;
	const struct conf_target *ct = t->conf;
	char mx[MAILDOM_KEY_MAX];
	struct verdict v;
	struct verdict_input in;

	if (r == NULL || !r->success || !verdict_retained(&r->verdict))
		return;
	/* a mail domain's result is its MX host's, on its port */
	if (t->mail) {
		if (address == NULL ||
		    maildom_target_for_key(t->mail, t->conf, address, mx, sizeof(mx), &sub) == -1)
			return;
		ct = &sub;
	}
	in = (struct verdict_input){
		.trust = ct->trust,
		.target = ct,
		.hostname = conf_target_check_name(ct),
		.now = (int64_t)wall_now(),
		.ref_target = ct->name,
		.ref_address = address,
	};
	if (verdict_recheck(&r->verdict, &in, &v) == -1)
		return;
	s->rechecked++;
	history_reverdict(t->hist, address, &v);
	sched_save(s, t);
}

static void
recheck_cb(struct loop_timer *timer)
{
	struct sched *s = container_of(timer, struct sched, recheck_timer);
	struct recheck *list = s->rechecks;
	size_t n = s->nrechecks;

	/* requests made while these run wait for the next round */
	s->rechecks = NULL;
	s->nrechecks = 0;
	for (size_t i = 0; i < n; i++) {
		struct target *t = find_target(s, list[i].target);

		if (t)
			recheck_one(s, t, list[i].address);
		free(list[i].target);
		free(list[i].address);
	}
	free(list);
}

uint64_t
sched_rechecked(const struct sched *s)
{
	return s->rechecked;
}

/* ------------------------------------------------------------ life */

/* Where in its first interval a target's first probe falls: a stable hash
 * of its name, so no burst at start and the same phase after a restart. */
static uint64_t
first_offset(const struct conf_target *ct)
{
	return hash64(ct->name, strlen(ct->name)) % ct->interval_ms;
}

void
sched_start(struct sched *s)
{
	uint64_t now = mono_ms();

	s->timer.cb = sched_due_cb;
	verdict_set_recheck_hook(recheck_hook, s);
	/* First probes are spread over the first interval by a stable hash of
	 * the name: no burst at start, and the same phase after a restart. */
	for (size_t i = 0; i < s->ntargets; i++) {
		heap_set(&s->due, &s->targets[i]->due, now + first_offset(s->targets[i]->conf));
		scan_job_start(s->targets[i]->scan, NULL);
	}
	sched_arm(s);
}

static void
target_free(struct target *t)
{
	probe_cancel(t->probe);
	multi_cancel(t->multi);
	maildom_free(t->mail);
	history_free(t->hist);
	pin_free(free, t);   /* a scrape may be rendering its labels */
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	loop_timer_cancel(s->loop, &s->timer);
	loop_timer_cancel(s->loop, &s->recheck_timer);
	loop_timer_cancel(s->loop, &s->load_timer);
	verdict_unset_recheck_hook(s);
	scans_free(s->scans);
	s->scans = NULL;           /* a slot freed below starts no scan */
	/* Nothing waiting starts now: a cancelled job frees a slot. */
	s->qhead = s->qtail = NULL;
	s->jqhead = s->jqtail = NULL;
	/* Their owners cancel jobs first (see sched.h); any left go quietly. */
	while (s->jobs != NULL) {
		s->jobs->queued = 0;
		sched_job_cancel(s->jobs);
	}
	/* batches in flight stop and free themselves: none reaches a target */
	store_batch_free(s->urgent);
	store_loader_free(s->loader);
	heap_fini(&s->due);        /* it touches the targets' nodes */
	for (size_t i = 0; i < s->ntargets; i++)
		target_free(s->targets[i]);
	for (size_t i = 0; i < s->nrechecks; i++) {
		free(s->rechecks[i].target);
		free(s->rechecks[i].address);
	}
	free(s->rechecks);
	histogram_fini(&s->lateness);
	free(s->byname);
	free(s->byaddr);
	free(s->targets);
	free(s);
}

/* A batch read: each target still there and not loaded gets its state. */
static void
load_done(void *arg, struct store_batch *b)
{
	struct sched *s = arg;

	for (size_t i = 0; i < store_batch_size(b); i++) {
		struct target *t = find_target(s, store_batch_name(b, i));
		struct store_record *rec;
		struct result *r;

		/* gone (a file target), or its first result came first */
		if (t == NULL || t->loaded)
			continue;
		t->loaded = 1;
		if (store_batch_take(b, i, &rec, &r)) {
			history_restore(t->hist, rec, r);
			s->load_found += r != NULL;
		}
		target_release(s, t);
	}
	s->urgent_flight -= store_batch_first(b);
	store_batch_free(b);
	load_pump(s);
}

/* t waited for its stored state (sched_launch): it goes now, late by the
 * wait (its lateness counts it). */
static void
target_release(struct sched *s, struct target *t)
{
	if (!t->held)
		return;
	t->held = 0;
	s->held--;
	sched_go(s, t);
}

/* t came due before its batch: into the urgent batch, sent off once this
 * turn's due targets are in it (load_pump, from load_timer). */
static void
load_urgent(struct sched *s, struct target *t)
{
	if (s->urgent == NULL)
		s->urgent = store_batch_new(s->loader);
	t->loading = 1;
	store_batch_add(s->urgent, t->conf->name);
	if (store_batch_size(s->urgent) >= SCHED_LOAD_BATCH) {
		store_batch_submit_first(s->urgent);
		s->urgent = NULL;
		s->urgent_flight++;
	} else {
		loop_timer_at(s->loop, &s->load_timer, 0);
	}
}

/* Keep SCHED_LOAD_AHEAD batches in flight while targets wait for theirs.
 * file_sd targets come and go meanwhile: they load as they come. */
static void
load_pump(struct sched *s)
{
	if (s->loader == NULL)
		return;
	if (s->urgent != NULL) {   /* ahead of the rest: its targets are due */
		store_batch_submit_first(s->urgent);
		s->urgent = NULL;
		s->urgent_flight++;
	}
	while (store_loader_in_flight(s->loader) - s->urgent_flight < SCHED_LOAD_AHEAD &&
	    s->load_next < s->ntargets) {
		struct store_batch *b = store_batch_new(s->loader);

		while (s->load_next < s->ntargets && store_batch_size(b) < SCHED_LOAD_BATCH) {
			struct target *t = s->targets[s->load_next++];

			if (t->loaded || t->loading)
				continue;
			t->loading = 1;
			store_batch_add(b, t->conf->name);
		}
		if (store_batch_size(b) == 0) {
			store_batch_free(b);
			break;
		}
		store_batch_submit(b);
	}
	if (store_loader_in_flight(s->loader) > 0 || s->load_logged)
		return;
	s->load_logged = 1;
	log_info("state_dir %s: loaded the last result of %zu of %zu target%s in %llu ms",
	    store_dir(s->store), s->load_found, s->ntargets, s->ntargets == 1 ? "" : "s",
	    (unsigned long long)(mono_ms() - s->load_started));
}

static void
load_cb(struct loop_timer *timer)
{
	load_pump(container_of(timer, struct sched, load_timer));
}

void
sched_set_store(struct sched *s, struct store *st)
{
	s->store = st;
	s->load_next = 0;
	s->load_found = 0;
	s->load_logged = 0;
	s->load_started = mono_ms();
	store_batch_free(s->urgent);
	s->urgent = NULL;
	if (s->loader != NULL) {
		/* its batches go with it: their targets load anew, and the
		 * ones held for them wait for the new loader (or go, with none) */
		store_loader_free(s->loader);
		s->loader = NULL;
		s->urgent_flight = 0;
		for (size_t i = 0; i < s->ntargets; i++)
			s->targets[i]->loading = 0;
	}
	s->loader = st ? store_loader_new(st, load_done, s) : NULL;
	for (size_t i = 0; i < s->ntargets && s->held > 0; i++)
		target_release(s, s->targets[i]);
	/* from the loop: a reload's sched_start_from marks first what its
	 * kept targets bring from memory */
	if (st != NULL)   /* with no target too: its "loaded" line says so */
		loop_timer_at(s->loop, &s->load_timer, 0);
}

void
sched_set_fetch(struct sched *s, const struct fetch *f)
{
	s->fetch = f;
}

size_t
sched_count(const struct sched *s)
{
	return s->ntargets;
}

const struct conf_target *
sched_conf(const struct sched *s, size_t i)
{
	return s->targets[i]->conf;
}

const struct history *
sched_history(const struct sched *s, size_t i)
{
	return s->targets[i]->hist;
}

int
sched_scan(const struct sched *s, size_t i, struct scan_view *out)
{
	return scan_job_view(s->targets[i]->scan, out);
}

size_t
sched_in_flight(const struct sched *s)
{
	return s->in_flight;
}

size_t
sched_queued(const struct sched *s)
{
	return s->nqueued;
}

const struct maildom *
sched_maildom(const struct sched *s, size_t i)
{
	return s->targets[i]->mail;
}

/* What metrics.c renders: one entry per target and one row per target, or
 * per address with addresses = "all". Taken on the loop thread a slice at
 * a time (sched_scrape_step), so that a million targets do not hold the
 * loop for the second one pass over them takes: each target's entry and
 * rows in one go, so every target shows one result; pinned (core/pin.h),
 * so that what a slice took stays as it is until release, while the loop
 * goes on between slices and a worker thread renders it. When the set of
 * targets changes meanwhile (a reload, a target file), the taking starts
 * again on the new set. The mail domains' few families and the scheduler's
 * own series are taken with the last slice, as their state changes in
 * place. */
struct sched_scrape {
	struct metrics_target *mt;
	size_t n;                     /* targets taken */
	struct metrics_row *rows;
	size_t nrows, caprows;
	size_t *mailidx, nmail, capmail;   /* the mail domains' targets, by index */
	uint64_t gen;                 /* of the set of targets taken from */
	unsigned restarts;
	int done;
	struct metrics_info info;
	struct histogram lateness;    /* a copy: the loop goes on observing */
	struct fetch_stats fst;
	struct buf mail;
	uint64_t pin;
};

/* A slice takes at most this long on the loop (about 10,000 targets). */
#define SCHED_SCRAPE_SLICE_MS 4
/* Restarted this often (the targets changing faster than a pass over
 * them), the rest is taken in one go. */
#define SCHED_SCRAPE_RESTARTS 2

/* Drop what was taken: the set of targets changed under the scrape. */
static void
scrape_reset(struct sched_scrape *sc, const struct sched *s)
{
	for (size_t i = 0; i < sc->nrows; i++)
		mailmetrics_row_fini(&sc->rows[i]);
	free(sc->mt);
	free(sc->rows);
	free(sc->mailidx);
	sc->mailidx = s->nmail ? xcalloc(s->nmail, sizeof(*sc->mailidx)) : NULL;
	sc->capmail = s->nmail;
	sc->nmail = 0;
	sc->mt = xcalloc(s->ntargets ? s->ntargets : 1, sizeof(*sc->mt));
	/* one row a target, unless addresses = "all": grown as needed */
	sc->caprows = s->ntargets ? s->ntargets : 1;
	sc->rows = xcalloc(sc->caprows, sizeof(*sc->rows));
	sc->n = 0;
	sc->nrows = 0;
	sc->gen = s->gen;
}

struct sched_scrape *
sched_scrape_begin(const struct sched *s)
{
	struct sched_scrape *sc = xcalloc(1, sizeof(*sc));

	sc->pin = pin_begin();
	buf_init(&sc->mail);
	scrape_reset(sc, s);
	return sc;
}

/* Target t's entry and rows, at sc->n. */
static void
scrape_target(struct sched_scrape *sc, const struct target *t)
{
	size_t na = history_naddrs(t->hist), need = na ? na : 1;
	struct metrics_row *row;

	if (sc->nrows + need > sc->caprows) {
		while (sc->nrows + need > sc->caprows)
			sc->caprows *= 2;
		sc->rows = xreallocarray(sc->rows, sc->caprows, sizeof(*sc->rows));
	}
	sc->mt[sc->n].conf = t->conf;
	sc->mt[sc->n].labels = t->labels;
	sc->mt[sc->n].memory = history_memory(t->hist);
	if (t->mail != NULL && sc->nmail < sc->capmail)
		sc->mailidx[sc->nmail++] = sc->n;
	sc->n++;
	row = &sc->rows[sc->nrows];
	sc->nrows += need;
	if (na == 0) {
		*row = (struct metrics_row){
			.labels = t->labels,
			.result = history_result(t->hist, NULL),
			.chain = history_chain_result(t->hist, NULL),
		};
		history_counts(t->hist, &row->probes_success, &row->probes_failure);
		return;
	}
	for (size_t j = 0; j < na; j++, row++) {
		*row = (struct metrics_row){ .labels = t->labels };
		row->address = history_addr(t->hist, j, &row->result,
		    &row->probes_success, &row->probes_failure);
		row->chain = history_chain_result(t->hist, row->address);
		if (t->mail)
			mailmetrics_row(row, t->conf);
	}
}

/* The mail domains' targets, for mailmetrics_render. */
struct scrape_mail {
	const struct sched *s;
	const size_t *index;
};

static const struct maildom *
scrape_maildom(const void *arg, size_t i)
{
	const struct scrape_mail *m = arg;

	return m->s->targets[m->index[i]]->mail;
}

/* The last slice: what changes in place, and the scheduler's own series. */
static void
scrape_finish(struct sched_scrape *sc, const struct sched *s)
{
	struct metrics_target *mt;

	sc->lateness = s->lateness;
	sc->lateness.counts = xcalloc(s->lateness.nbounds + 1, sizeof(*sc->lateness.counts));
	memcpy(sc->lateness.counts, s->lateness.counts,
	    (s->lateness.nbounds + 1) * sizeof(*sc->lateness.counts));
	sc->info = (struct metrics_info){
		.version = PACKAGE_VERSION,
		.gnutls_version = tls_library_version(),
		.start_time = s->start_time,
		.in_flight = s->in_flight,
		.queued = s->nqueued,
		.lateness = &sc->lateness,
		.skipped = s->skipped,
		.have_store = s->store != NULL,
		.state_write_errors = store_write_errors(s->store),
		.warn = &s->conf->warn,
		.crit = &s->conf->crit,
	};
	verdict_counts(&sc->info.verify_full, &sc->info.verify_reused);
	if (s->fetch) {
		fetch_get_stats(s->fetch, &sc->fst);
		sc->info.fetch = &sc->fst;
	}
	/* the scans' and the mail domains' state changes in place: here */
	scans_render_metrics(&sc->mail, s->scans);
	if (sc->nmail > 0) {
		mt = xcalloc(sc->nmail, sizeof(*mt));
		for (size_t i = 0; i < sc->nmail; i++)
			mt[i] = sc->mt[sc->mailidx[i]];
		mailmetrics_render(&sc->mail, mt, sc->nmail, scrape_maildom,
		    &(struct scrape_mail){ s, sc->mailidx });
		free(mt);
	}
	sc->done = 1;
}

int
sched_scrape_step(const struct sched *s, struct sched_scrape *sc, size_t max)
{
	uint64_t until = mono_ms() + SCHED_SCRAPE_SLICE_MS;
	size_t taken = 0;

	if (sc->done)
		return 1;
	if (sc->gen != s->gen) {
		sc->restarts++;
		scrape_reset(sc, s);
	}
	while (sc->n < s->ntargets) {
		if (sc->restarts < SCHED_SCRAPE_RESTARTS && (taken == max ||
		    (taken % 256 == 255 && mono_ms() >= until)))
			return 0;
		scrape_target(sc, s->targets[sc->n]);
		taken++;
	}
	scrape_finish(sc, s);
	return 1;
}

struct sched_scrape *
sched_scrape_take(const struct sched *s)
{
	struct sched_scrape *sc = sched_scrape_begin(s);

	while (!sched_scrape_step(s, sc, SIZE_MAX))
		;
	return sc;
}

unsigned
sched_scrape_restarts(const struct sched_scrape *sc)
{
	return sc->restarts;
}

void
sched_scrape_render(struct buf *out, const struct sched_scrape *sc)
{
	metrics_render(out, sc->mt, sc->n, sc->rows, sc->nrows, &sc->info);
	if (sc->mail.len > 0 && !out->cut)
		buf_append(out, sc->mail.data, sc->mail.len);
}

void
sched_scrape_release(struct sched_scrape *sc)
{
	if (sc == NULL)
		return;
	pin_end(sc->pin);
	for (size_t i = 0; i < sc->nrows; i++)
		mailmetrics_row_fini(&sc->rows[i]);
	buf_free(&sc->mail);
	free(sc->mailidx);
	free(sc->lateness.counts);
	free(sc->rows);
	free(sc->mt);
	free(sc);
}

void
sched_render_metrics(struct buf *out, void *arg)
{
	struct sched_scrape *sc = sched_scrape_take(arg);

	sched_scrape_render(out, sc);
	sched_scrape_release(sc);
}

/*
 * Probes in flight hold pointers into the old struct conf (their
 * conf_target) and into the old trust stores. Rather than keep the old
 * config alive until they end, they are cancelled when the caller frees old
 * and their targets, if kept, are due at once here: the old config can be
 * freed as soon as old is, and a kept target loses at most the partial work
 * of one probe.
 */
void
sched_start_from(struct sched *s, struct sched *old)
{
	uint64_t now = mono_ms();
	size_t kept = 0, changed = 0, added = 0;

	s->timer.cb = sched_due_cb;
	s->start_time = old->start_time;
	/* The scheduler's own series are counters: they go on, not restart. */
	s->skipped = old->skipped;
	s->rechecked = old->rechecked;
	if (s->lateness.nbounds == old->lateness.nbounds) {
		memcpy(s->lateness.counts, old->lateness.counts,
		    (old->lateness.nbounds + 1) * sizeof(*old->lateness.counts));
		s->lateness.sum = old->lateness.sum;
		s->lateness.count = old->lateness.count;
	}
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = s->targets[i], *o = find_target(old, t->conf->name);
		uint64_t due;

		if (o != NULL && conf_target_equal(o->conf, t->conf)) {
			/* Unchanged: its history (results, counters, what is
			 * remembered, each address's) and its phase carry over;
			 * the loader reads its file only if old had not. */
			struct history *h = t->hist;
			struct maildom *md = t->mail;

			t->hist = o->hist;
			o->hist = h;
			t->loaded = o->loaded;   /* else its batch comes */
			due = heap_contains(&o->due) ? o->due.key : now;
			if (o->probe != NULL || o->multi != NULL || o->queued || o->held ||
			    maildom_busy(o->mail))
				due = now;   /* cancelled with old: run it again */
			scan_job_start(t->scan, o->scan);
			/* the MX set too, its round (on old's config) cancelled */
			maildom_cancel(o->mail);
			t->mail = o->mail;
			o->mail = md;
			kept++;
		} else {
			/* New or changed: a fresh start within its first interval. */
			due = now + first_offset(t->conf);
			scan_job_start(t->scan, NULL);
			if (o != NULL)
				changed++;
			else
				added++;
		}
		heap_set(&s->due, &t->due, due);
	}
	log_info("reload: %zu target%s kept, %zu changed, %zu added, %zu removed",
	    kept, kept == 1 ? "" : "s", changed, added,
	    old->ntargets - kept - changed);
	/* Nothing of old may run any more: its timer goes now, its probes
	 * when the caller frees it; rechecks come here from now on. */
	loop_timer_cancel(old->loop, &old->timer);
	verdict_set_recheck_hook(recheck_hook, s);
	sched_arm(s);
}

void
sched_summary_begin(struct sched_summary *p, double now)
{
	*p = (struct sched_summary){ .now = now };
}

int
sched_summary_step(const struct sched *s, struct sched_summary *p, const struct threshold *warn)
{
	uint64_t until = mono_ms() + SCHED_SCRAPE_SLICE_MS;

	if (p->gen != s->gen) {     /* another set of targets: from the start */
		p->gen = s->gen;
		p->next = p->failing = p->expiring = 0;
	}
	for (size_t k = 0; p->next < s->ntargets; k++) {
		const struct result *r;
		int64_t exp;

		if (k % 256 == 255 && mono_ms() >= until)
			return 0;
		if ((r = history_result(s->targets[p->next++]->hist, NULL)) == NULL)
			continue;
		if (!r->success) {
			p->failing++;
			continue;
		}
		exp = verdict_expiry(&r->verdict);
		if (exp != 0 && (double)exp - p->now <
		    threshold_seconds(warn, expiry_lifetime(r->certs, r->ncerts, exp)))
			p->expiring++;
	}
	return 1;
}

void
sched_summary(const struct sched *s, double now, const struct threshold *warn,
    size_t *failing, size_t *expiring)
{
	struct sched_summary p;

	sched_summary_begin(&p, now);
	while (!sched_summary_step(s, &p, warn))
		;
	*failing = p.failing;
	*expiring = p.expiring;
}

/* ------------------------------------------------------------ /probe jobs */

static void
job_unlink(struct sched *s, struct sched_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		s->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
}

/* The job ends: counted out, then its owner told (who may start others). */
static void
job_end(struct sched_job *j, struct result *r, struct addr_result *a, size_t n)
{
	struct sched *s = j->sched;
	sched_job_fn done = j->done;
	void *arg = j->arg;

	if (r != NULL)
		result_drop_ders(r);       /* /probe stores nothing */
	for (size_t i = 0; i < n; i++)
		result_drop_ders(a[i].result);
	job_unlink(s, j);
	free(j);
	done(arg, r, a, n);
	sched_dequeue(s);
}

static void
job_probe_done(void *arg, struct result *r)
{
	struct sched_job *j = arg;

	j->probe = NULL;
	j->sched->in_flight--;
	j->sched->jobs_in_flight--;
	job_end(j, r, NULL, 0);
}

static void
job_multi_done(void *arg, struct result *failure, struct addr_result *a, size_t n)
{
	struct sched_job *j = arg;

	j->multi = NULL;
	j->sched->in_flight--;
	j->sched->jobs_in_flight--;
	job_end(j, failure, a, n);
}

static void
job_launch(struct sched *s, struct sched_job *j)
{
	s->in_flight++;
	s->jobs_in_flight++;
	if (j->ct->tls.addresses_all)
		j->multi = multi_start(s->loop, s->res, j->ct, &j->opts, job_multi_done, j);
	else
		j->probe = probe_start_ex(s->loop, s->res, j->ct, &j->opts, job_probe_done, j);
}

/* Take a queued job out of the queue. */
static void
job_unqueue(struct sched *s, struct sched_job *j)
{
	struct sched_job **pp, *prev = NULL;

	for (pp = &s->jqhead; *pp != NULL; prev = *pp, pp = &(*pp)->qnext) {
		if (*pp != j)
			continue;
		*pp = j->qnext;
		if (s->jqtail == j)
			s->jqtail = prev;
		break;
	}
	j->qnext = NULL;
	j->queued = 0;
	s->jobs_queued--;
}

/* Its deadline passed in the queue: a timeout, without a probe. */
static void
job_expire_cb(struct loop_timer *t)
{
	struct sched_job *j = container_of(t, struct sched_job, expire);
	struct sched *s = j->sched;
	struct result *r = xcalloc(1, sizeof(*r));

	job_unqueue(s, j);
	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = -1;
	r->time = wall_now();
	r->duration = (double)(mono_us() - j->start_us) / 1e6;
	r->fail_stage = "timeout";
	r->fail_reason = "queued";
	r->fail_detail = xasprintf("waited for a free probe slot until the deadline "
	    "(concurrency %u, probe_concurrency %u)", s->conf->concurrency,
	    s->conf->probe_concurrency);
	job_end(j, r, NULL, 0);
}

struct sched_job *
sched_job_start(struct sched *s, const struct conf_target *ct, const struct probe_opts *o,
    sched_job_fn done, void *arg)
{
	struct sched_job *j = xcalloc(1, sizeof(*j));

	j->sched = s;
	j->ct = ct;
	j->opts = *o;
	j->opts.go_names = 1;
	if (j->opts.deadline_ms == 0)
		j->opts.deadline_ms = mono_ms() + ct->timeout_ms;
	j->done = done;
	j->arg = arg;
	j->start_us = mono_us();
	loop_timer_init(&j->expire, job_expire_cb);
	j->next = s->jobs;
	if (j->next)
		j->next->prev = j;
	s->jobs = j;
	if (s->in_flight < s->conf->concurrency &&
	    s->jobs_in_flight < s->conf->probe_concurrency) {
		job_launch(s, j);
		return j;
	}
	j->queued = 1;
	j->qseq = s->qseq++;
	if (s->jqtail)
		s->jqtail->qnext = j;
	else
		s->jqhead = j;
	s->jqtail = j;
	s->jobs_queued++;
	loop_timer_at(s->loop, &j->expire, j->opts.deadline_ms);
	return j;
}

void
sched_job_cancel(struct sched_job *j)
{
	struct sched *s;

	if (j == NULL)
		return;
	s = j->sched;
	if (j->queued)
		job_unqueue(s, j);
	if (j->probe != NULL || j->multi != NULL) {
		probe_cancel(j->probe);
		multi_cancel(j->multi);
		s->in_flight--;
		s->jobs_in_flight--;
	}
	loop_timer_cancel(s->loop, &j->expire);
	job_unlink(s, j);
	free(j);
	/* not from inside a callback of ours: a slot may be free now */
	sched_dequeue(s);
}

size_t
sched_jobs_in_flight(const struct sched *s)
{
	return s->jobs_in_flight;
}

size_t
sched_jobs_queued(const struct sched *s)
{
	return s->jobs_queued;
}

/* ------------------------------------------------------------ file targets */

/* Take t out of the schedule and free it (a file target no file names). */
static void
target_remove(struct sched *s, struct target *t)
{
	if (t->probe != NULL || t->multi != NULL || maildom_busy(t->mail))
		s->in_flight--;
	if (t->queued)
		sched_unqueue(s, t);
	if (heap_contains(&t->due))
		heap_remove(&s->due, &t->due);
	s->held -= t->held;
	target_free(t);
}

/* ts[i] by name, the earlier first among equal names. */
struct named {
	const char *name;
	size_t index;
};

static int
cmp_named(const void *a, const void *b)
{
	const struct named *na = a, *nb = b;
	int r = strcmp(na->name, nb->name);

	return r != 0 ? r : (na->index > nb->index) - (na->index < nb->index);
}

static int
cmp_name_key(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct target *const *)elem)->conf->name);
}

void
sched_set_file_targets(struct sched *s, const struct conf_target *const *ts, size_t n)
{
	size_t nold = s->ntargets - s->nconf, k = s->nconf;
	size_t kept = 0, changed = 0, added = 0, removed = 0;
	struct target **old = xcalloc(nold ? nold : 1, sizeof(*old));
	struct target **nt = xcalloc(s->nconf + n ? s->nconf + n : 1, sizeof(*nt));
	struct named *order = xcalloc(n ? n : 1, sizeof(*order));
	unsigned char *skip = xcalloc(n ? n : 1, 1), *keep = xcalloc(nold ? nold : 1, 1);
	int started = s->timer.cb != NULL;
	uint64_t now = mono_ms();

	memcpy(old, s->targets + s->nconf, nold * sizeof(*old));
	qsort(old, nold, sizeof(*old), cmp_target_ptr);
	/* one target per name: the first file's (files come in order) */
	for (size_t i = 0; i < n; i++)
		order[i] = (struct named){ ts[i]->name, i };
	qsort(order, n, sizeof(*order), cmp_named);
	for (size_t i = 1; i < n; i++)
		if (strcmp(order[i].name, order[i - 1].name) == 0)
			skip[order[i].index] = 1;
	memcpy(nt, s->targets, s->nconf * sizeof(*nt));
	for (size_t i = 0; i < n; i++) {
		const struct conf_target *ct = ts[i];
		struct target **found, *t;

		if (skip[i] || !conf_in_shard(ct->name, s->conf->shard_k, s->conf->shard_n))
			continue;
		if (find_target(s, ct->name) != NULL && !find_target(s, ct->name)->from_file) {
			log_warnx("target_files: target %s is in the configuration file already; "
			    "the target file's entry is ignored", ct->name);
			continue;
		}
		found = bsearch(ct->name, old, nold, sizeof(*old), cmp_name_key);
		if (found != NULL && (*found)->conf == ct) {
			/* the very same entry: it goes on as it runs */
			keep[found - old] = 1;
			nt[k++] = *found;
			kept++;
			continue;
		}
		/* new, or changed (its old self goes below): a fresh start,
		 * with what the store kept of the name, as a reload does */
		changed += found != NULL;
		added += found == NULL;
		t = target_new(s, ct, 1);
		if (started)
			heap_set(&s->due, &t->due, now + first_offset(ct));
		nt[k++] = t;
	}
	for (size_t i = 0; i < nold; i++) {
		if (keep[i])
			continue;
		removed++;
		target_remove(s, old[i]);
	}
	removed -= changed;
	free(s->targets);
	s->targets = nt;
	s->ntargets = k;
	sched_index(s);
	/* the files' targets follow the configuration's: read again from
	 * there, past the ones loaded or in a batch */
	if (s->load_next > s->nconf)
		s->load_next = s->nconf;
	if (s->loader != NULL && s->timer.cb != NULL)
		load_pump(s);
	if (started) {
		log_info("target_files: %zu target%s kept, %zu changed, %zu added, %zu removed",
		    kept, kept == 1 ? "" : "s", changed, added, removed);
		sched_arm(s);
		sched_dequeue(s);
	}
	free(old);
	free(order);
	free(skip);
	free(keep);
}

/* ------------------------------------------------------------ answering /probe */

const struct result *
sched_result_alike(const struct sched *s, const struct conf_target *ct)
{
	struct conf_target key = { .host = ct->host, .port = ct->port };
	struct target kt = { .conf = &key }, *kp = &kt;
	size_t lo = 0, hi = s->ntargets;

	if (ct->tls.addresses_all)
		return NULL;
	/* the first entry of the host and port, then every one of them */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_addr_ptr(&s->byaddr[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->ntargets && cmp_addr_ptr(&s->byaddr[lo], &kp) == 0; lo++) {
		const struct target *t = s->byaddr[lo];

		if (conf_target_probes_alike(t->conf, ct))
			return history_result(t->hist, NULL);
	}
	return NULL;
}
