/* sched.c - targets, their timers and the concurrency limit. Each target
 * has one due time in a heap; a due target starts a probe when a slot is
 * free, else waits in a FIFO, so the limit holds without starving anyone.
 * Every outcome goes to the target's history (state/history.c), which
 * decides what changed and logs it, and from there to the store; a check
 * whose data arrived later asks for a recheck here (sched_recheck). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/multi.h"
#include "probe/probe.h"
#include "probe/tls.h"
#include "sched.h"
#include "verdict/expiry.h"
#include "serve/metrics.h"
#include "state/history.h"
#include "state/store.h"
#include "verdict/verdict.h"

/* One configured target, as the scheduler keeps it. Every field is
 * written here; what the target's results mean is its history's. */
struct target {
	const struct conf_target *conf;
	char *labels;            /* escaped label pairs for every series (metrics.c) */
	struct history *hist;
	struct heap_node due;    /* key: monotonic ms of the next probe */
	uint64_t due_at;         /* monotonic ms the current round fell due */
	struct probe *probe;     /* in flight, or NULL */
	struct multi *multi;     /* addresses = "all": the probes in flight, or NULL */
	struct target *qnext;    /* queue of targets due but waiting for a slot */
	int queued;
	struct sched *sched;
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
	struct target *targets;
	size_t ntargets;
	struct target **byname;              /* sorted by name */
	struct heap due;
	struct loop_timer timer;             /* fires at the earliest due time */
	struct target *qhead, *qtail;        /* due, waiting for a slot */
	size_t nqueued;
	size_t in_flight;
	double start_time;
	struct histogram lateness;           /* seconds from due time to start */
	uint64_t skipped;                    /* rounds skipped: target still busy */
	struct store *store;                 /* state on disk; NULL: none */
	struct recheck *rechecks;
	size_t nrechecks;
	struct loop_timer recheck_timer;
	uint64_t rechecked;                  /* rechecks run */
};

/* Lateness buckets: fine below a second, where a healthy scheduler lives. */
static const double lateness_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static void sched_arm(struct sched *s);
static void recheck_cb(struct loop_timer *t);

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

struct sched *
sched_new(struct loop *l, struct resolver *res, const struct conf *c)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	s->loop = l;
	s->res = res;
	s->conf = c;
	s->start_time = wall_now();
	histogram_init(&s->lateness, lateness_bounds, ARRAY_SIZE(lateness_bounds));
	heap_init(&s->due);
	loop_timer_init(&s->timer, NULL);
	loop_timer_init(&s->recheck_timer, recheck_cb);
	/* A sharded instance keeps only its own targets (conf_in_shard). */
	for (size_t i = 0; i < c->ntargets; i++)
		if (conf_in_shard(c->targets[i].name, c->shard_k, c->shard_n))
			s->ntargets++;
	s->targets = xcalloc(s->ntargets ? s->ntargets : 1, sizeof(*s->targets));
	s->byname = xcalloc(s->ntargets ? s->ntargets : 1, sizeof(*s->byname));
	for (size_t i = 0, k = 0; i < c->ntargets; i++) {
		if (!conf_in_shard(c->targets[i].name, c->shard_k, c->shard_n))
			continue;
		struct target *t = &s->targets[k];
		t->conf = &c->targets[i];
		t->sched = s;
		t->labels = metrics_labels(t->conf);
		t->hist = history_new(t->conf->name);
		heap_node_init(&t->due);
		s->byname[k] = t;
		k++;
	}
	qsort(s->byname, s->ntargets, sizeof(*s->byname), cmp_target_ptr);
	return s;
}

static void probe_done(void *arg, struct result *r);
static void multi_done(void *arg, struct result *failure, struct addr_result *a, size_t n);

static void
sched_launch(struct sched *s, struct target *t)
{
	uint64_t now = mono_ms();
	struct probe_opts o = {
		.trust = t->conf->trust,
		/* Safe for every address of addresses = "all" too: a verdict
		 * is reused only for the very same certificates. */
		.prev = history_result(t->hist, NULL),
		.creds = t->conf->tls.creds,
	};

	histogram_observe(&s->lateness,
	    now > t->due_at ? (double)(now - t->due_at) / 1000.0 : 0.0);
	s->in_flight++;
	if (t->conf->tls.addresses_all)
		t->multi = multi_start(s->loop, s->res, t->conf, &o, multi_done, t);
	else
		t->probe = probe_start_ex(s->loop, s->res, t->conf, &o, probe_done, t);
}

/* A slot freed up: start the longest-waiting target. */
static void
sched_dequeue(struct sched *s)
{
	while (s->qhead && s->in_flight < s->conf->concurrency) {
		struct target *t = s->qhead;
		s->qhead = t->qnext;
		if (s->qhead == NULL)
			s->qtail = NULL;
		t->qnext = NULL;
		t->queued = 0;
		s->nqueued--;
		sched_launch(s, t);
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
		if (t->probe || t->multi || t->queued) {
			log_debug("target %s: still busy from the previous round; skipped", t->conf->name);
			s->skipped++;
			continue;
		}
		t->due_at = due;
		if (s->in_flight < s->conf->concurrency) {
			sched_launch(s, t);
			continue;
		}
		t->queued = 1;
		if (s->qtail)
			s->qtail->qnext = t;
		else
			s->qhead = t;
		s->qtail = t;
		s->nqueued++;
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
	struct verdict v;
	struct verdict_input in = {
		.trust = t->conf->trust,
		.target = t->conf,
		.hostname = conf_target_check_name(t->conf),
		.now = (int64_t)wall_now(),
		.ref_target = t->conf->name,
		.ref_address = address,
	};

	if (r == NULL || !r->success || !verdict_retained(&r->verdict))
		return;
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

void
sched_start(struct sched *s)
{
	uint64_t now = mono_ms();

	s->timer.cb = sched_due_cb;
	verdict_set_recheck_hook(recheck_hook, s);
	/* First probes are spread over the first interval by a stable hash of
	 * the name: no burst at start, and the same phase after a restart. */
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];
		const char *name = t->conf->name;
		uint64_t offset = hash64(name, strlen(name)) % t->conf->interval_ms;
		heap_set(&s->due, &t->due, now + offset);
	}
	sched_arm(s);
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	loop_timer_cancel(s->loop, &s->timer);
	loop_timer_cancel(s->loop, &s->recheck_timer);
	verdict_unset_recheck_hook(s);
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];
		probe_cancel(t->probe);
		multi_cancel(t->multi);
		history_free(t->hist);
		free(t->labels);
	}
	for (size_t i = 0; i < s->nrechecks; i++) {
		free(s->rechecks[i].target);
		free(s->rechecks[i].address);
	}
	free(s->rechecks);
	heap_fini(&s->due);
	histogram_fini(&s->lateness);
	free(s->byname);
	free(s->targets);
	free(s);
}

void
sched_set_store(struct sched *s, struct store *st)
{
	size_t loaded = 0;

	s->store = st;
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];
		struct store_record *rec;
		struct result *r;

		if (store_load(st, t->conf->name, &rec, &r)) {
			history_restore(t->hist, rec, r);
			loaded += r != NULL;
		}
	}
	log_info("state_dir %s: loaded the last result of %zu of %zu target%s",
	    store_dir(st), loaded, s->ntargets, s->ntargets == 1 ? "" : "s");
}

size_t
sched_count(const struct sched *s)
{
	return s->ntargets;
}

const struct conf_target *
sched_conf(const struct sched *s, size_t i)
{
	return s->targets[i].conf;
}

const struct history *
sched_history(const struct sched *s, size_t i)
{
	return s->targets[i].hist;
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

/* What metrics.c renders: one entry per target and one row per target, or
 * per address with addresses = "all". */
void
sched_render_metrics(struct buf *out, void *arg)
{
	const struct sched *s = arg;
	struct metrics_target *mt = xcalloc(s->ntargets ? s->ntargets : 1, sizeof(*mt));
	struct metrics_row *rows;
	struct metrics_info info;
	size_t nrows = 0, k = 0;

	for (size_t i = 0; i < s->ntargets; i++) {
		size_t na = history_naddrs(s->targets[i].hist);

		nrows += na ? na : 1;
	}
	rows = xcalloc(nrows ? nrows : 1, sizeof(*rows));
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct target *t = &s->targets[i];
		size_t na = history_naddrs(t->hist);

		mt[i].conf = t->conf;
		mt[i].labels = t->labels;
		mt[i].memory = history_memory(t->hist);
		mt[i].cert_first_seen = history_cert_first_seen(t->hist);
		if (na == 0) {
			rows[k].labels = t->labels;
			rows[k].result = history_result(t->hist, NULL);
			rows[k].chain = history_chain_result(t->hist, NULL);
			history_counts(t->hist, &rows[k].probes_success, &rows[k].probes_failure);
			k++;
			continue;
		}
		for (size_t j = 0; j < na; j++, k++) {
			rows[k].labels = t->labels;
			rows[k].address = history_addr(t->hist, j, &rows[k].result,
			    &rows[k].probes_success, &rows[k].probes_failure);
			rows[k].chain = history_chain_result(t->hist, rows[k].address);
		}
	}
	info = (struct metrics_info){
		.version = PACKAGE_VERSION,
		.gnutls_version = tls_library_version(),
		.start_time = s->start_time,
		.in_flight = s->in_flight,
		.queued = s->nqueued,
		.lateness = &s->lateness,
		.skipped = s->skipped,
		.have_store = s->store != NULL,
		.state_write_errors = store_write_errors(s->store),
		.warn = &s->conf->warn,
		.crit = &s->conf->crit,
	};
	verdict_counts(&info.verify_full, &info.verify_reused);
	metrics_render(out, mt, s->ntargets, rows, nrows, &info);
	free(rows);
	free(mt);
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
		struct target *t = &s->targets[i], *o = find_target(old, t->conf->name);
		uint64_t due;

		if (o != NULL && conf_target_equal(o->conf, t->conf)) {
			/* Unchanged: its history (results, counters, what is
			 * remembered, each address's) and its phase carry over,
			 * replacing what sched_set_store loaded from disk. */
			struct history *h = t->hist;

			t->hist = o->hist;
			o->hist = h;
			due = heap_contains(&o->due) ? o->due.key : now;
			if (o->probe != NULL || o->multi != NULL || o->queued)
				due = now;   /* cancelled with old: run it again */
			kept++;
		} else {
			/* New or changed: a fresh start within its first interval. */
			const char *name = t->conf->name;

			due = now + hash64(name, strlen(name)) % t->conf->interval_ms;
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
sched_summary(const struct sched *s, double now, const struct threshold *warn,
    size_t *failing, size_t *expiring)
{
	*failing = 0;
	*expiring = 0;
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct result *r = history_result(s->targets[i].hist, NULL);
		int64_t exp;

		if (r == NULL)
			continue;
		if (!r->success) {
			(*failing)++;
			continue;
		}
		exp = verdict_expiry(&r->verdict);
		if (exp != 0 && (double)exp - now <
		    threshold_seconds(warn, expiry_lifetime(r->certs, r->ncerts, exp)))
			(*expiring)++;
	}
}
