/*
 * history.c - what one target's results mean over time, and the one place
 * that logs their changes (history.h).
 *
 * Log lines, one per change and never per repetition:
 *   target T: probe failed at STAGE: REASON (DETAIL)   a new failure
 *   target T: probe ok: VERSION, CIPHER, N certificates from PEER
 *   target T: chain verified, valid until WHEN[; was: ...]
 *   target T: chain does not verify: REASONS (leaf: SUBJECT)[; was: ...]
 *   target T: chain changed at depth D: OLD (...) -> NEW (...); N -> M certificates
 * With addresses = "all" the first four name "T address A".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "core/pin.h"
#include "core/fp.h"
#include "state/history.h"
#include "verdict/certs.h"

struct haddr {
	char *address;
	struct result *result;
	struct result *last_ok;      /* while result failed: the last success */
	uint64_t success, failure;
};

struct history {
	struct result *result;       /* the target's last result */
	struct result *last_ok;      /* while it failed: the last success, whose
	                              * chain is still published */
	uint64_t success, failure;
	struct haddr *addrs;         /* addresses = "all" */
	size_t naddrs;
	struct store_record *mem;    /* NULL before the first result */
	char name[];                 /* the target's, in the same allocation */
};

struct history *
history_new(const char *name)
{
	size_t len = strlen(name);
	struct history *h = xcalloc(1, sizeof(*h) + len + 1);

	memcpy(h->name, name, len + 1);
	return h;
}

static void
addrs_free(struct haddr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].address);
		result_free(a[i].result);
		result_free(a[i].last_ok);
	}
	free(a);
}

/*
 * A scrape renders on a worker thread from the objects below (core/pin.h):
 * while one runs, nothing it may see is freed or changed in place. Results,
 * the address table and what is remembered are replaced, never edited, and
 * the old ones go to pin_free. Only the loop thread calls in here.
 */
static void
result_free_cb(void *p)
{
	result_free(p);
}

static void
record_free_cb(void *p)
{
	store_record_free(p);
}

struct dead_addrs {
	struct haddr *a;
	size_t n;
};

static void
addrs_free_cb(void *p)
{
	struct dead_addrs *d = p;

	addrs_free(d->a, d->n);
	free(d);
}

static void
addrs_retire(struct haddr *a, size_t n)
{
	struct dead_addrs *d;

	if (!pin_active()) {
		addrs_free(a, n);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->a = a;
	d->n = n;
	pin_free(addrs_free_cb, d);
}

/* What is remembered, made safe to change: a copy while a scrape runs. */
static void
mem_unshare(struct history *h)
{
	if (h->mem == NULL || !pin_active())
		return;
	pin_free(record_free_cb, h->mem);
	h->mem = store_record_dup(h->mem);
}

/* *rp, made safe to change likewise. */
static void
result_unshare(struct result **rp)
{
	if (!pin_active())
		return;
	pin_free(result_free_cb, *rp);
	*rp = result_dup(*rp);
}

/* The last result becomes r: a failure keeps the success before it (or the
 * one kept already) as the last chain presented. */
static void
set_result(struct result **cur, struct result **last_ok, struct result *r)
{
	if (r->success) {
		pin_free(result_free_cb, *last_ok);
		*last_ok = NULL;
		pin_free(result_free_cb, *cur);
	} else if (*cur && (*cur)->success) {
		pin_free(result_free_cb, *last_ok);
		*last_ok = *cur;
	} else {
		pin_free(result_free_cb, *cur);
	}
	*cur = r;
}

static void
history_free_cb(void *p)
{
	struct history *h = p;

	result_free(h->result);
	result_free(h->last_ok);
	addrs_free(h->addrs, h->naddrs);
	store_record_free(h->mem);
	free(h);
}

void
history_free(struct history *h)
{
	pin_free(history_free_cb, h);
}

const char *
history_name(const struct history *h)
{
	return h->name;
}

/* ------------------------------------------------------------ logging */

/* A verdict's line, when it differs from the one before (was: NULL when
 * unknown or the probe before failed); r presented the chain. */
static void
log_verdict(const char *name, const struct verdict *was, const struct verdict *v,
    const struct result *r)
{
	struct buf prev;

	if (was && was->verified == v->verified && was->reasons == v->reasons)
		return;
	/* what it was, when known: "verified" or the old reasons */
	buf_init(&prev);
	if (was) {
		buf_puts(&prev, "; was: ");
		if (was->verified)
			buf_puts(&prev, "verified");
		else
			verdict_words_join(&prev, VERDICT_REASON, was->reasons, ", ", NULL);
	}
	if (v->verified) {
		char when[32];

		fmt_utc_iso(when, sizeof(when), v->verified_expiry);
		log_info("target %s: chain verified, valid until %s%s", name, when,
		    prev.data ? prev.data : "");
	} else {
		struct buf why;

		buf_init(&why);
		verdict_words_join(&why, VERDICT_REASON, v->reasons, ", ", NULL);
		log_info("target %s: chain does not verify: %s (leaf: %s)%s", name,
		    why.data ? why.data : "other",
		    r->ncerts ? r->certs[0]->subject : "none", prev.data ? prev.data : "");
		buf_free(&why);
	}
	buf_free(&prev);
}

static void
log_result(const char *name, const struct result *old, const struct result *r)
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
	log_verdict(name, old && old->success ? &old->verdict : NULL, &r->verdict, r);
}

static void
log_chain_change(const char *name, const struct store_record *st, const struct result *r)
{
	size_t d = 0;
	const struct cert *o, *n;
	char oexp[32] = "?", nexp[32] = "?";

	while (d < st->chain.n && d < r->ncerts &&
	    strcmp(st->chain.fps[d], r->certs[d]->sha256) == 0)
		d++;
	o = d < st->chain.n ? st->certs[d] : NULL;
	n = d < r->ncerts ? r->certs[d] : NULL;
	if (o)
		fmt_utc_iso(oexp, sizeof(oexp), o->not_after);
	if (n)
		fmt_utc_iso(nexp, sizeof(nexp), n->not_after);
	log_info("target %s: chain changed at depth %zu: %s (subject %s, expires %s) -> "
	    "%s (subject %s, expires %s); %zu -> %zu certificates", name, d,
	    d < st->chain.n ? st->chain.fps[d] : "none", o ? o->subject : "?", oexp,
	    n ? n->sha256 : "none", n ? n->subject : "?", nexp, st->chain.n, r->ncerts);
}

/* ------------------------------------------------------------ memory */

static int
same_chain(const struct store_chain *c, const struct result *r)
{
	if (c->n != r->ncerts)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->fps[i], r->certs[i]->sha256) != 0)
			return 0;
	return 1;
}

/* The reasons only a check that waits for data gives (a CRL, an OCSP
 * answer, a TLSA record). */
#define LATE_REASONS (REASON(REVOKED) | REASON(REVOCATION_UNKNOWN) | \
	REASON(DANE_MISMATCH) | REASON(DANE_BOGUS))

static const struct result *
last_success(const struct result *cur, const struct result *last_ok)
{
	return cur != NULL && cur->success ? cur : last_ok;
}

/* A verdict still waiting for a check's data (verdict_pending: the first
 * probe after a start, before the cached CRL is read back) does not call
 * good a chain that failed, for a reason such data gives, when it was last
 * presented: r keeps those reasons until the data arrives and
 * history_reverdict judges again. Else a restart would tell the operator,
 * for a moment, that a revoked certificate is fine. */
static void
hold_late_reasons(const struct result *prev, struct result *r)
{
	uint64_t late;

	if (prev == NULL || !prev->success || !r->success || !verdict_pending(&r->verdict) ||
	    prev->ncerts != r->ncerts || prev->certs == NULL || r->certs == NULL)
		return;
	for (size_t i = 0; i < r->ncerts; i++)
		if (prev->certs[i] == NULL || r->certs[i] == NULL ||
		    strcmp(prev->certs[i]->sha256, r->certs[i]->sha256) != 0)
			return;
	late = prev->verdict.reasons & LATE_REASONS & ~r->verdict.reasons;
	if (late == 0)
		return;
	r->verdict.reasons |= late;
	r->verdict.verified = 0;
	r->verdict.verified_expiry = 0;
}

static void
set_chain(struct store_record *st, const struct result *r, double now)
{
	for (size_t i = 0; st->certs && i < st->chain.n; i++)
		cert_put(st->certs[i]);
	free(st->certs);
	store_chain_free(&st->chain);
	st->chain.n = r->ncerts;
	st->chain.since = now;
	st->chain.fps = xcalloc(r->ncerts ? r->ncerts : 1, sizeof(*st->chain.fps));
	st->certs = xcalloc(r->ncerts ? r->ncerts : 1, sizeof(*st->certs));
	for (size_t i = 0; i < r->ncerts; i++) {
		st->chain.fps[i] = fp_get(r->certs[i]->sha256);
		st->certs[i] = cert_ref(r->certs[i]);
	}
	st->chain_changed = now;
}

static int
same_path(const struct store_record *st, const struct verdict *v)
{
	if (st->path.n != v->npath)
		return 0;
	for (size_t i = 0; i < v->npath; i++)
		if (v->path[i] == NULL || strcmp(st->path.fps[i], v->path[i]->sha256) != 0)
			return 0;
	return 1;
}

static void
set_path(struct store_record *st, const struct verdict *v)
{
	for (size_t i = 0; st->path_certs && i < st->path.n; i++)
		cert_put(st->path_certs[i]);
	free(st->path_certs);
	store_chain_free(&st->path);
	st->path.fps = xcalloc(v->npath ? v->npath : 1, sizeof(*st->path.fps));
	st->path_certs = xcalloc(v->npath ? v->npath : 1, sizeof(*st->path_certs));
	for (size_t i = 0; i < v->npath; i++) {
		if (v->path[i] == NULL)
			continue;
		st->path.fps[st->path.n] = fp_get(v->path[i]->sha256);
		st->path_certs[st->path.n++] = cert_ref(v->path[i]);
	}
}

/* The verdict remembered, from a successful result: 1 when it changed. */
static int
remember_verdict(struct store_record *st, const struct verdict *v)
{
	if (st->have_verdict && st->verified == v->verified && st->reasons == v->reasons &&
	    st->issues == v->issues && st->path_expiry == v->verified_expiry &&
	    same_path(st, v))
		return 0;
	st->have_verdict = 1;
	st->verified = v->verified;
	st->reasons = v->reasons;
	st->issues = v->issues;
	st->path_expiry = v->verified_expiry;
	if (!same_path(st, v))
		set_path(st, v);
	return 1;
}

/* The probe history: r continues the current run or starts one (the
 * oldest falls off). 1 when a run started. */
static int
remember_run(struct store_record *st, const struct result *r, double now)
{
	struct store_run *run;

	if (st->nruns && store_run_matches(&st->runs[0], r)) {
		st->runs[0].until = now;
		st->runs[0].count++;
		return 0;
	}
	if (st->nruns < STORE_RUNS)
		st->runs = xreallocarray(st->runs, ++st->nruns, sizeof(*st->runs));
	memmove(st->runs + 1, st->runs, (st->nruns - 1) * sizeof(*st->runs));
	run = &st->runs[0];
	memset(run, 0, sizeof(*run));
	run->since = run->until = now;
	run->count = 1;
	run->success = r->success;
	run->verified = r->success && r->verdict.verified;
	run->reasons = r->success && !r->verdict.verified ? r->verdict.reasons : 0;
	run->fail_stage = r->success ? NULL : r->fail_stage ? r->fail_stage : "unknown";
	run->fail_reason = r->success ? NULL : r->fail_reason ? r->fail_reason : "unknown";
	return 1;
}

/* failing since, verified since: 1 when either changed. */
static int
remember_since(struct store_record *st, const struct result *r, double now)
{
	double failing = st->failing_since, verified = st->verified_since;

	if (!r->success) {
		if (failing == 0)
			failing = now;
	} else {
		failing = 0;
		if (!r->verdict.verified)
			verified = 0;
		else if (verified == 0)
			verified = now;
	}
	if (failing == st->failing_since && verified == st->verified_since)
		return 0;
	st->failing_since = failing;
	st->verified_since = verified;
	return 1;
}

/* What r changes in what is remembered; 1 when anything did. */
static int
remember(struct history *h, const struct result *r)
{
	struct store_record *st;
	double now = r->time;
	int changed = 0, touched = 0;

	if (h->mem == NULL)
		h->mem = store_record_new(h->name);
	mem_unshare(h);
	st = h->mem;
	if (st->first_seen == 0) {
		st->first_seen = now;
		touched = 1;
	}
	touched |= remember_run(st, r, now);
	touched |= remember_since(st, r, now);
	if (!r->success)
		return touched;
	st->chain_seen = now;
	if (st->chain.n == 0 && st->chain_changed == 0) {
		set_chain(st, r, now);
		changed = 1;
	} else if (!same_chain(&st->chain, r)) {
		struct store_chain old = st->chain;

		log_chain_change(h->name, st, r);
		/* the old chain goes first in the history; the oldest falls off */
		if (st->nhist == STORE_HISTORY)
			store_chain_free(&st->hist[--st->nhist]);
		st->hist = xreallocarray(st->hist, st->nhist + 1, sizeof(*st->hist));
		memmove(st->hist + 1, st->hist, st->nhist * sizeof(*st->hist));
		st->hist[0] = old;
		st->hist[0].until = now;
		st->nhist++;
		st->chain.fps = NULL;
		st->chain.n = 0;
		for (size_t i = 0; i < old.n; i++)
			cert_put(st->certs[i]);
		free(st->certs);
		st->certs = NULL;
		set_chain(st, r, now);
		st->chain_changes++;
		changed = 1;
	}
	changed |= remember_verdict(st, &r->verdict);
	if (changed)
		st->last_change = now;
	return changed | touched;
}

/* ------------------------------------------------------------ results */

/* The last chain presented, as a result of its own, from what the store
 * kept: for a target whose stored result is a failure. NULL when no chain
 * is known. */
static struct result *
remembered_chain(const struct store_record *st)
{
	struct result *r;

	if (st == NULL || st->chain.n == 0 || !st->have_verdict || st->certs == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = -1;
	r->time = st->chain_seen > 0 ? st->chain_seen : st->chain.since;
	r->success = 1;
	r->certs = xcalloc(st->chain.n, sizeof(*r->certs));
	for (size_t i = 0; i < st->chain.n; i++) {
		if (st->certs[i] == NULL)
			continue;
		r->certs[r->ncerts++] = cert_ref(st->certs[i]);
		if (r->ncerts == 1 || st->certs[i]->not_after < r->verdict.earliest_expiry)
			r->verdict.earliest_expiry = st->certs[i]->not_after;
	}
	if (r->ncerts == 0) {
		result_free(r);
		return NULL;
	}
	r->verdict.verified = st->verified;
	r->verdict.reasons = st->reasons;
	r->verdict.issues = st->issues;
	r->verdict.verified_expiry = st->verified ? st->path_expiry : 0;
	return r;
}

void
history_restore(struct history *h, struct store_record *rec, struct result *r)
{
	pin_free(record_free_cb, h->mem);
	h->mem = rec;
	pin_free(result_free_cb, h->result);
	h->result = r;
	pin_free(result_free_cb, h->last_ok);
	h->last_ok = r && !r->success ? remembered_chain(rec) : NULL;
	if (rec) {
		/* a file from before failing_since was kept */
		if (r && !r->success && rec->failing_since == 0)
			rec->failing_since = r->time;
	}
}

int
history_record(struct history *h, struct result *r)
{
	int changed;

	if (r->success)
		h->success++;
	else
		h->failure++;
	hold_late_reasons(last_success(h->result, h->last_ok), r);
	log_result(h->name, h->result, r);
	changed = remember(h, r);
	set_result(&h->result, &h->last_ok, r);
	return changed;
}

int
history_record_all(struct history *h, struct result *failure, struct addr_result *a,
    size_t n)
{
	struct haddr *na = xcalloc(n ? n : 1, sizeof(*na));
	struct result *first;
	int changed;

	for (size_t i = 0; i < n; i++) {
		struct result *old = NULL;
		char *name;

		na[i].address = a[i].address;
		for (size_t j = 0; j < h->naddrs; j++) {
			if (strcmp(h->addrs[j].address, a[i].address) == 0) {
				na[i].success = h->addrs[j].success;
				na[i].failure = h->addrs[j].failure;
				old = h->addrs[j].result;
				/* the address's last chain goes on with it */
				na[i].result = h->addrs[j].result;
				na[i].last_ok = h->addrs[j].last_ok;
				h->addrs[j].result = NULL;
				h->addrs[j].last_ok = NULL;
				break;
			}
		}
		if (a[i].result->success)
			na[i].success++;
		else
			na[i].failure++;
		/* after a start no address has a result yet: the target's is the
		 * first address's */
		hold_late_reasons(last_success(na[i].result, na[i].last_ok) ?
		    last_success(na[i].result, na[i].last_ok) :
		    last_success(h->result, h->last_ok), a[i].result);
		name = xasprintf("%s address %s", h->name, a[i].address);
		log_result(name, old, a[i].result);
		free(name);
		set_result(&na[i].result, &na[i].last_ok, a[i].result);
	}
	free(a);
	addrs_retire(h->addrs, h->naddrs);
	h->addrs = na;
	h->naddrs = n;
	first = failure ? failure : result_dup(na[0].result);
	if (first->success)
		h->success++;
	else
		h->failure++;
	if (failure)
		log_result(h->name, h->result, failure);
	changed = remember(h, first);
	set_result(&h->result, &h->last_ok, first);
	return changed;
}

int
history_reverdict(struct history *h, const char *address, struct verdict *v)
{
	struct result *r = NULL, **rp = NULL;
	int changed = 0, target = address == NULL;
	char *name = NULL;

	if (address == NULL) {
		rp = &h->result;
		r = h->result;
	} else {
		for (size_t i = 0; i < h->naddrs && r == NULL; i++) {
			if (strcmp(h->addrs[i].address, address) == 0) {
				rp = &h->addrs[i].result;
				r = h->addrs[i].result;
				/* the target's result is the first address's copy */
				target = i == 0 && h->result && h->result->success;
			}
		}
		name = xasprintf("%s address %s", h->name, address);
	}
	if (r == NULL || !r->success) {
		verdict_fini(v);
		free(name);
		return -1;
	}
	log_verdict(name ? name : h->name, &r->verdict, v, r);
	free(name);
	result_unshare(rp);
	r = *rp;
	verdict_fini(&r->verdict);
	r->verdict = *v;
	if (target) {
		if (r != h->result) {
			result_unshare(&h->result);
			verdict_fini(&h->result->verdict);
			verdict_copy(&h->result->verdict, v);
		}
		mem_unshare(h);
		if (h->mem && remember_verdict(h->mem, v)) {
			double now = wall_now();

			h->mem->last_change = now;
			/* a new outcome without a new probe: a run of its own */
			if (h->mem->nruns && !store_run_matches(&h->mem->runs[0], r))
				(void)remember_run(h->mem, r, now);
			(void)remember_since(h->mem, r, now);
			changed = 1;
		}
	}
	return changed;
}

const struct result *
history_chain_result(const struct history *h, const char *address)
{
	const struct result *r = NULL, *ok = NULL;

	if (address == NULL) {
		r = h->result;
		ok = h->last_ok;
	}
	for (size_t i = 0; address && i < h->naddrs; i++)
		if (strcmp(h->addrs[i].address, address) == 0) {
			r = h->addrs[i].result;
			ok = h->addrs[i].last_ok;
		}
	return r && r->success ? r : ok;
}

const struct result *
history_result(const struct history *h, const char *address)
{
	if (address == NULL)
		return h->result;
	for (size_t i = 0; i < h->naddrs; i++)
		if (strcmp(h->addrs[i].address, address) == 0)
			return h->addrs[i].result;
	return NULL;
}

void
history_counts(const struct history *h, uint64_t *success, uint64_t *failure)
{
	*success = h->success;
	*failure = h->failure;
}

size_t
history_naddrs(const struct history *h)
{
	return h->naddrs;
}

const char *
history_addr(const struct history *h, size_t i, const struct result **r, uint64_t *success,
    uint64_t *failure)
{
	*r = h->addrs[i].result;
	*success = h->addrs[i].success;
	*failure = h->addrs[i].failure;
	return h->addrs[i].address;
}

const struct store_record *
history_memory(const struct history *h)
{
	return h->mem;
}

