/* sched.c - targets, their timers and the concurrency limit. Each target
 * has one due time in a heap; a due target starts a probe when a slot is
 * free, else waits in a FIFO, so the limit holds without starving anyone. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "verdict/chain.h"
#include "core/log.h"
#include "core/loop.h"
#include "serve/metrics.h"
#include "probe/multi.h"
#include "probe/probe.h"
#include "sched.h"
#include "state/store.h"
#include "probe/tls.h"
#include "core/util.h"

struct sched {
	struct loop *loop;
	struct resolver *res;
	const struct conf *conf;
	struct target *targets;
	size_t ntargets;
	struct heap due;
	struct loop_timer timer;             /* fires at the earliest due time */
	struct target *qhead, *qtail;        /* due, waiting for a slot */
	size_t nqueued;
	size_t in_flight;
	double start_time;
	struct histogram lateness;           /* seconds from due time to start */
	uint64_t skipped;                    /* rounds skipped: target still busy */
	struct store *store;                 /* state on disk; NULL: none */
};

/* Lateness buckets: fine below a second, where a healthy scheduler lives. */
static const double lateness_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static void sched_arm(struct sched *s);

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
	/* A sharded instance keeps only its own targets (conf_in_shard). */
	for (size_t i = 0; i < c->ntargets; i++)
		if (conf_in_shard(c->targets[i].name, c->shard_k, c->shard_n))
			s->ntargets++;
	s->targets = xcalloc(s->ntargets, sizeof(*s->targets));
	for (size_t i = 0, k = 0; i < c->ntargets; i++) {
		if (!conf_in_shard(c->targets[i].name, c->shard_k, c->shard_n))
			continue;
		struct target *t = &s->targets[k];
		t->conf = &c->targets[i];
		t->sched = s;
		heap_node_init(&t->due);
		metrics_target_labels(t);
		t->has_client_cert = t->conf->tls.creds != NULL;
		t->client_cert_not_after = t->conf->tls.client_not_after;
		k++;
	}
	return s;
}

static void
log_result_named(const char *name, const struct result *old, const struct result *r)
{
	if (!r->success) {
		if (old == NULL || old->success || strcmp(old->fail_stage, r->fail_stage) != 0 ||
		    strcmp(old->fail_reason, r->fail_reason) != 0)
			log_info("target %s: probe failed at %s: %s (%s)", name, r->fail_stage,
			    r->fail_reason, r->fail_detail ? r->fail_detail : "");
		return;
	}
	if (old == NULL || !old->success)
		log_info("target %s: probe ok: %s, %s, %zu certificate%s from %s", name,
		    r->tls_version, r->cipher, r->ncerts, r->ncerts == 1 ? "" : "s",
		    r->peer ? r->peer : "?");
	if (old && old->success && old->verdict.verified == r->verdict.verified &&
	    old->verdict.reasons == r->verdict.reasons)
		return;
	/* what it was, when known: "verified" or the old reasons */
	struct buf was;
	buf_init(&was);
	if (old && old->success) {
		buf_puts(&was, "; was: ");
		if (old->verdict.verified)
			buf_puts(&was, "verified");
		else
			verdict_words_join(&was, VERDICT_REASON, old->verdict.reasons, ", ", NULL);
	}
	if (r->verdict.verified) {
		char when[32];
		fmt_utc_iso(when, sizeof(when), r->verdict.verified_expiry);
		log_info("target %s: chain verified, valid until %s%s", name, when,
		    was.data ? was.data : "");
	} else {
		struct buf why;
		buf_init(&why);
		verdict_words_join(&why, VERDICT_REASON, r->verdict.reasons, ", ", NULL);
		log_info("target %s: chain does not verify: %s (leaf: %s)%s", name,
		    why.data ? why.data : "other",
		    r->ncerts ? r->certs[0]->subject : "none", was.data ? was.data : "");
		buf_free(&why);
	}
	buf_free(&was);
}

static void
log_result(const struct target *t, const struct result *old, const struct result *r)
{
	log_result_named(t->conf->name, old, r);
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
		.prev = t->result,
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

static void
probe_done(void *arg, struct result *r)
{
	struct target *t = arg;
	struct sched *s = t->sched;

	t->probe = NULL;
	s->in_flight--;
	if (r->success)
		t->probes_success++;
	else
		t->probes_failure++;
	log_result(t, t->result, r);
	store_result(s->store, t, r);
	result_free(t->result);
	t->result = r;
	sched_dequeue(s);
}

/*
 * addresses = "all" ended. Each address keeps its own counters across
 * rounds (by address); t->result becomes a copy of the first address's
 * result, or the failure to resolve, so that whatever reads one result per
 * target reads what addresses = "first" would give.
 */
static void
multi_done(void *arg, struct result *failure, struct addr_result *a, size_t n)
{
	struct target *t = arg;
	struct sched *s = t->sched;
	struct result *first;

	t->multi = NULL;
	s->in_flight--;
	for (size_t i = 0; i < n; i++) {
		struct result *old = NULL;
		char *name;

		for (size_t j = 0; j < t->naddrs; j++) {
			if (strcmp(t->addrs[j].address, a[i].address) == 0) {
				a[i].probes_success = t->addrs[j].probes_success;
				a[i].probes_failure = t->addrs[j].probes_failure;
				old = t->addrs[j].result;
				break;
			}
		}
		if (a[i].result->success)
			a[i].probes_success++;
		else
			a[i].probes_failure++;
		a[i].labels = metrics_address_labels(t, a[i].address);
		name = xasprintf("%s address %s", t->conf->name, a[i].address);
		log_result_named(name, old, a[i].result);
		free(name);
	}
	addr_results_free(t->addrs, t->naddrs);
	t->addrs = a;
	t->naddrs = n;
	first = failure ? failure : result_dup(a[0].result);
	if (!failure) {
		/* What is remembered on disk is the first address's result: the
		 * store writes new certificates from the DER only it holds. */
		first->ders = a[0].result->ders;
		first->nders = a[0].result->nders;
		a[0].result->ders = NULL;
		a[0].result->nders = 0;
	}
	for (size_t i = 0; i < n; i++)
		result_drop_ders(a[i].result);   /* no DER stays in memory */
	if (first->success)
		t->probes_success++;
	else
		t->probes_failure++;
	if (failure)
		log_result(t, t->result, failure);
	store_result(s->store, t, first);
	result_free(t->result);
	t->result = first;
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

void
sched_start(struct sched *s)
{
	uint64_t now = mono_ms();

	s->timer.cb = sched_due_cb;
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
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];
		probe_cancel(t->probe);
		multi_cancel(t->multi);
		addr_results_free(t->addrs, t->naddrs);
		result_free(t->result);
		store_target_free(t->st);
		free(t->labels);
	}
	heap_fini(&s->due);
	histogram_fini(&s->lateness);
	free(s->targets);
	free(s);
}

void
sched_set_store(struct sched *s, struct store *st)
{
	size_t loaded = 0;

	s->store = st;
	for (size_t i = 0; i < s->ntargets; i++)
		loaded += (size_t)store_load(st, &s->targets[i]);
	log_info("state_dir %s: loaded the last result of %zu of %zu target%s",
	    store_dir(st), loaded, s->ntargets, s->ntargets == 1 ? "" : "s");
}

const struct target *
sched_targets(const struct sched *s, size_t *n)
{
	*n = s->ntargets;
	return s->targets;
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

void
sched_render_metrics(struct buf *out, void *arg)
{
	const struct sched *s = arg;
	struct metrics_info info;

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
	};
	verdict_counts(&info.verify_full, &info.verify_reused);

	metrics_render(out, s->targets, s->ntargets, &info);
}

static int
cmp_target_ptr(const void *a, const void *b)
{
	const struct target *ta = *(const struct target *const *)a;
	const struct target *tb = *(const struct target *const *)b;

	return strcmp(ta->conf->name, tb->conf->name);
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
	struct target **byname, key, *kp;
	struct conf_target kc;
	uint64_t now = mono_ms();
	size_t kept = 0, changed = 0, added = 0;

	s->timer.cb = sched_due_cb;
	s->start_time = old->start_time;
	/* The scheduler's own series are counters: they go on, not restart. */
	s->skipped = old->skipped;
	if (s->lateness.nbounds == old->lateness.nbounds) {
		memcpy(s->lateness.counts, old->lateness.counts,
		    (old->lateness.nbounds + 1) * sizeof(*old->lateness.counts));
		s->lateness.sum = old->lateness.sum;
		s->lateness.count = old->lateness.count;
	}
	byname = xcalloc(old->ntargets ? old->ntargets : 1, sizeof(*byname));
	for (size_t i = 0; i < old->ntargets; i++)
		byname[i] = &old->targets[i];
	qsort(byname, old->ntargets, sizeof(*byname), cmp_target_ptr);

	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i], **found, *o;
		uint64_t due;

		kc.name = t->conf->name;
		key.conf = &kc;
		kp = &key;
		found = bsearch(&kp, byname, old->ntargets, sizeof(*byname), cmp_target_ptr);
		o = found ? *found : NULL;
		if (o != NULL && conf_target_equal(o->conf, t->conf)) {
			/* Unchanged: results, counters and phase carry over. */
			/* replaces what sched_set_store loaded from disk */
			result_free(t->result);
			t->result = o->result;
			o->result = NULL;
			store_target_free(t->st);
			t->st = o->st;
			o->st = NULL;
			t->addrs = o->addrs;        /* addresses = "all": each address's */
			t->naddrs = o->naddrs;
			o->addrs = NULL;
			o->naddrs = 0;
			t->probes_success = o->probes_success;
			t->probes_failure = o->probes_failure;
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
	free(byname);
	log_info("reload: %zu target%s kept, %zu changed, %zu added, %zu removed",
	    kept, kept == 1 ? "" : "s", changed, added,
	    old->ntargets - kept - changed);
	/* Nothing of old may run any more: its timer goes now, its probes
	 * when the caller frees it. */
	loop_timer_cancel(old->loop, &old->timer);
	sched_arm(s);
}

void
sched_summary(const struct sched *s, double now, double within, size_t *failing,
    size_t *expiring)
{
	*failing = 0;
	*expiring = 0;
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct result *r = s->targets[i].result;
		int64_t exp;

		if (r == NULL)
			continue;
		if (!r->success) {
			(*failing)++;
			continue;
		}
		/* the verified path when there is one, else what was presented */
		exp = verdict_expiry(&r->verdict);
		if (exp != 0 && (double)exp - now < within)
			(*expiring)++;
	}
}
