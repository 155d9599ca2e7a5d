/* sched.c - targets, their timers and the concurrency limit. Each target
 * has one due time in a heap; a due target starts a probe when a slot is
 * free, else waits in a FIFO, so the limit holds without starving anyone. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "probe.h"
#include "sched.h"
#include "store.h"
#include "tls.h"
#include "util.h"

struct trust_entry {
	char *path;             /* NULL: the system store */
	struct trust *trust;
};

struct sched {
	struct loop *loop;
	struct resolver *res;
	const struct conf *conf;
	struct target *targets;
	size_t ntargets;
	const struct trust **target_trust;   /* per target, borrowed from trusts */
	struct trust_entry *trusts;
	size_t ntrusts;
	struct heap due;
	struct loop_timer timer;             /* fires at the earliest due time */
	struct target *qhead, *qtail;        /* due, waiting for a slot */
	size_t nqueued;
	size_t in_flight;
	double start_time;
	struct store *store;                 /* state on disk; NULL: none */
};

static void sched_arm(struct sched *s);

static const struct trust *
trust_for(struct sched *s, const char *path, int line, char **err)
{
	char *msg = NULL;
	struct trust *t;

	for (size_t i = 0; i < s->ntrusts; i++) {
		const char *p = s->trusts[i].path;
		if ((p == NULL && path == NULL) || (p && path && strcmp(p, path) == 0))
			return s->trusts[i].trust;
	}
	t = trust_load(path, &msg);
	if (t == NULL) {
		if (path) {
			*err = xasprintf("%s:%d: ca_file: %s", s->conf->path, line, msg);
			free(msg);
		} else {
			*err = msg;
		}
		return NULL;
	}
	s->trusts = xreallocarray(s->trusts, s->ntrusts + 1, sizeof(*s->trusts));
	s->trusts[s->ntrusts].path = path ? xstrdup(path) : NULL;
	s->trusts[s->ntrusts].trust = t;
	s->ntrusts++;
	return t;
}

struct sched *
sched_new(struct loop *l, struct resolver *res, const struct conf *c, char **err)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	s->loop = l;
	s->res = res;
	s->conf = c;
	s->start_time = wall_now();
	heap_init(&s->due);
	loop_timer_init(&s->timer, NULL);
	s->ntargets = c->ntargets;
	s->targets = xcalloc(c->ntargets, sizeof(*s->targets));
	s->target_trust = xcalloc(c->ntargets, sizeof(*s->target_trust));
	for (size_t i = 0; i < c->ntargets; i++) {
		struct target *t = &s->targets[i];
		t->conf = &c->targets[i];
		t->sched = s;
		heap_node_init(&t->due);
		metrics_target_labels(t);
		/* Trust stores are shared by every target naming the same file. */
		s->target_trust[i] = trust_for(s, t->conf->ca_file, t->conf->ca_file_line, err);
		if (s->target_trust[i] == NULL) {
			sched_free(s);
			return NULL;
		}
	}
	return s;
}

static void
log_result(const struct target *t, const struct result *old, const struct result *r)
{
	const char *name = t->conf->name;

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
		for (unsigned i = 0; i < CHAIN_NREASONS; i++)
			if (old->verdict.reasons & (1u << i))
				buf_printf(&was, "%s%s", was.data[was.len - 1] == ' ' ? "" : ", ",
				    chain_reason_name(i));
	}
	if (r->verdict.verified) {
		char when[32];
		time_t exp = (time_t)r->verdict.verified_expiry;
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&exp, &tm));
		log_info("target %s: chain verified, valid until %s%s", name, when,
		    was.data ? was.data : "");
	} else {
		struct buf why;
		buf_init(&why);
		for (unsigned i = 0; i < CHAIN_NREASONS; i++)
			if (r->verdict.reasons & (1u << i))
				buf_printf(&why, "%s%s", why.len ? ", " : "", chain_reason_name(i));
		log_info("target %s: chain does not verify: %s (leaf: %s)%s", name,
		    why.data ? why.data : "other",
		    r->ncerts ? r->certs[0]->subject : "none", was.data ? was.data : "");
		buf_free(&why);
	}
	buf_free(&was);
}

static void probe_done(void *arg, struct result *r);

static void
sched_launch(struct sched *s, struct target *t)
{
	size_t i = (size_t)(t - s->targets);

	s->in_flight++;
	t->probe = probe_start(s->loop, s->res, t->conf, s->target_trust[i], probe_done, t);
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

static void
sched_due_cb(struct loop_timer *timer)
{
	struct sched *s = (struct sched *)((char *)timer - offsetof(struct sched, timer));
	uint64_t now = mono_ms();
	struct heap_node *top;

	while ((top = heap_top(&s->due)) != NULL && top->key <= now) {
		struct target *t = (struct target *)((char *)top - offsetof(struct target, due));
		uint64_t interval = t->conf->interval_ms;
		uint64_t next = top->key + interval;

		/* Keep the phase, but after a long stall (suspend, overload) do
		 * not replay the missed rounds: start again from now. */
		if (next <= now)
			next = now + interval;
		heap_set(&s->due, &t->due, next);
		if (t->probe || t->queued) {
			log_debug("target %s: still busy from the previous round; skipped", t->conf->name);
			continue;
		}
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
		result_free(t->result);
		store_target_free(t->st);
		free(t->labels);
	}
	heap_fini(&s->due);
	for (size_t i = 0; i < s->ntrusts; i++) {
		free(s->trusts[i].path);
		trust_free(s->trusts[i].trust);
	}
	free(s->trusts);
	free(s->target_trust);
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
	struct metrics_info info = {
		.version = PACKAGE_VERSION,
		.gnutls_version = tls_library_version(),
		.start_time = s->start_time,
		.in_flight = s->in_flight,
		.queued = s->nqueued,
		.have_store = s->store != NULL,
		.state_write_errors = store_write_errors(s->store),
	};

	metrics_render(out, s->targets, s->ntargets, &info);
}
