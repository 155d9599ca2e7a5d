/*
 * probeep.c - GET /probe?target=T&module=M[&hostname=SNI][&debug=true], as
 * blackbox_exporter answers it: one probe with the daemon's own code, its
 * result as blackbox's series (blackbox.c) beside tlswatch's own.
 *
 * It makes the daemon connect where a request says, so: off unless
 * probe_endpoint = true; only to what probe_allow allows (nothing when it is
 * not set), judged after resolution on every address; behind the web
 * block's TLS and authentication like every path (httpd.c checks before
 * the request gets here). The probes are scheduler jobs (sched.h): the same
 * slots and queue as scheduled probes, at most probe_concurrency at once.
 *
 * Results are kept per (target, module, hostname): a request for one that
 * is in flight waits for it, and with probe_cache one younger than that is
 * answered again (so an HA pair of Prometheus servers does not double the
 * probes); so, with probe_cache, is a scheduled target's result probed with
 * the same settings. A kept result also lets the next probe of the same
 * chain reuse its verdict, as scheduled probes do.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/ptarget.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/allow.h"
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/starttls.h"
#include "sched.h"
#include "serve/blackbox.h"
#include "serve/httpd.h"
#include "serve/metrics.h"
#include "serve/probeep.h"
#include "verdict/verdict.h"

#define PROBEEP_BUCKETS 4096
/* Results kept at most; more and the least recently used idle ones go. */
#define PROBEEP_MAX_ENTRIES 10000
/* blackbox's default scrape-timeout offset, and its timeout without the
 * header (Prometheus always sends it) */
#define PROBEEP_TIMEOUT_OFFSET 0.5
#define PROBEEP_DEFAULT_TIMEOUT 120.0
/* A request joins a probe in flight only if that ends by its own deadline
 * and this much after. */
#define PROBEEP_JOIN_SLACK_MS 100

#define TEXT "text/plain; charset=utf-8"

enum answer {
	ANSWER_PROBED,        /* a probe ran for it (or it waited for one) */
	ANSWER_CACHED,        /* the result of a /probe within probe_cache */
	ANSWER_SCHEDULED,     /* a scheduled target's result within probe_cache */
	ANSWER_BAD,           /* 400: no target, unknown module, bad target or header */
	ANSWER_FORBIDDEN,     /* 403: probe_allow */
	ANSWER_UNAVAILABLE,   /* 503: reloaded or stopping while it ran */
	ANSWER_COUNT
};

static const char *const answer_names[] = {
	[ANSWER_PROBED] = "probed",
	[ANSWER_CACHED] = "cached",
	[ANSWER_SCHEDULED] = "scheduled",
	[ANSWER_BAD] = "bad_request",
	[ANSWER_FORBIDDEN] = "forbidden",
	[ANSWER_UNAVAILABLE] = "unavailable",
};

struct entry;

/* A request waiting for its entry's probe. */
struct waiter {
	struct probeep *ep;
	struct httpd_req *rq;
	struct entry *e;
	char *target;            /* as given: the target label of tlswatch's series */
	char *module;            /* NULL: the default */
	int debug;
	uint64_t deadline_ms;
	struct waiter *next;     /* the entry's */
};

/* What is kept of one (target, module, hostname). */
struct entry {
	char *key;
	uint64_t hash;
	struct conf_target ct;   /* the target as probed; the job's */
	struct sched_job *job;   /* in flight, or NULL */
	uint64_t job_deadline;
	struct waiter *waiters;
	struct result *r;        /* the last result (addresses = "all": failure, or NULL) */
	struct addr_result *a;   /* addresses = "all": one per address */
	size_t na;
	double done_wall;        /* when r (or a) came */
	struct entry *hnext;
	struct entry *lprev, *lnext;   /* recency: head most recent */
};

struct probeep {
	struct loop *loop;
	struct sched *sched;
	const struct conf *conf;
	struct entry *buckets[PROBEEP_BUCKETS];
	struct entry *lru_head, *lru_tail;
	size_t nentries;
	uint64_t answers[ANSWER_COUNT];
};

/* ------------------------------------------------------------ entries */

static struct entry **
bucket(struct probeep *ep, uint64_t hash)
{
	return &ep->buckets[hash % PROBEEP_BUCKETS];
}

static void
lru_unlink(struct probeep *ep, struct entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		ep->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		ep->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
lru_front(struct probeep *ep, struct entry *e)
{
	if (ep->lru_head == e)
		return;
	if (e->lprev || e->lnext || ep->lru_tail == e)
		lru_unlink(ep, e);
	e->lnext = ep->lru_head;
	if (e->lnext)
		e->lnext->lprev = e;
	ep->lru_head = e;
	if (ep->lru_tail == NULL)
		ep->lru_tail = e;
}

static void
entry_results_free(struct entry *e)
{
	result_free(e->r);
	e->r = NULL;
	addr_results_free(e->a, e->na);
	e->a = NULL;
	e->na = 0;
}

/* Out of the table and freed; it must have no job and no waiter. */
static void
entry_free(struct probeep *ep, struct entry *e)
{
	struct entry **pp = bucket(ep, e->hash);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(ep, e);
	ep->nentries--;
	entry_results_free(e);
	conf_target_fini(&e->ct);
	free(e->key);
	free(e);
}

static struct entry *
entry_find(struct probeep *ep, const char *key)
{
	uint64_t h = hash64(key, strlen(key));

	for (struct entry *e = *bucket(ep, h); e != NULL; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static struct entry *
entry_new(struct probeep *ep, const char *key)
{
	struct entry *e = xcalloc(1, sizeof(*e)), **b;

	/* room first: the least recently used idle ones go */
	for (struct entry *v = ep->lru_tail, *prev; v != NULL &&
	    ep->nentries >= PROBEEP_MAX_ENTRIES; v = prev) {
		prev = v->lprev;
		if (v->job == NULL && v->waiters == NULL)
			entry_free(ep, v);
	}
	e->key = xstrdup(key);
	e->hash = hash64(key, strlen(key));
	b = bucket(ep, e->hash);
	e->hnext = *b;
	*b = e;
	ep->nentries++;
	lru_front(ep, e);
	return e;
}

/* ------------------------------------------------------------ answers */

static void
answer_text(struct probeep *ep, struct httpd_req *rq, enum answer a, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
answer_text(struct probeep *ep, struct httpd_req *rq, enum answer a, unsigned status,
    const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_putc(&b, '\n');
	ep->answers[a]++;
	httpd_req_answer(rq, status, TEXT, buf_steal(&b), b.len);
}

/* tlswatch's own series for the rows of one answer, labelled with the
 * target as the request gave it. */
static void
render_rows(struct buf *b, const char *target, const struct result *r,
    const struct addr_result *a, size_t na)
{
	struct conf_target lt = { .name = (char *)target };
	char *labels = metrics_labels(&lt);
	struct metrics_row *rows = xcalloc(na ? na : 1, sizeof(*rows));
	size_t n = 0;

	if (na == 0) {
		rows[n].labels = labels;
		rows[n++].result = r;
	}
	for (size_t i = 0; i < na; i++) {
		rows[n].labels = labels;
		rows[n].address = a[i].address;
		rows[n++].result = a[i].result;
	}
	metrics_render_rows(b, rows, n);
	free(rows);
	free(labels);
}

/* The probe's story for debug=true, from what the result says. */
static void
render_log(struct buf *b, const struct conf_target *ct, const char *module,
    const struct result *r, enum answer how)
{
	static const enum stage order[] = {
		STAGE_RESOLVE, STAGE_CONNECT, STAGE_STARTTLS, STAGE_HANDSHAKE, STAGE_VERIFY,
	};

	buf_printf(b, "Logs for the probe:\n");
	buf_printf(b, "target=%s module=%s address=%s server_name=%s starttls=%s "
	    "timeout_seconds=%.3f\n", ct->name, module ? module : "(default)", ct->address,
	    ct->server_name ? ct->server_name : "(none)",
	    starttls_name((enum starttls_proto)ct->tls.starttls), (double)ct->timeout_ms / 1000.0);
	if (how == ANSWER_CACHED || how == ANSWER_SCHEDULED)
		buf_printf(b, "answered from %s result of %.3f s ago\n",
		    how == ANSWER_CACHED ? "a cached /probe" : "the scheduled target's",
		    wall_now() - r->time);
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (r->stage_seconds[order[i]] >= 0)
			buf_printf(b, "stage %s done in %.6f s\n", stage_name(order[i]),
			    r->stage_seconds[order[i]]);
	if (r->peer)
		buf_printf(b, "connected to %s\n", r->peer);
	if (r->tls_version)
		buf_printf(b, "negotiated %s, %s\n", r->tls_version, r->cipher ? r->cipher : "?");
	if (!r->success) {
		buf_printf(b, "probe failed: stage %s, reason %s: %s\n",
		    r->fail_stage ? r->fail_stage : "?", r->fail_reason ? r->fail_reason : "?",
		    r->fail_detail ? r->fail_detail : "");
	} else if (r->verdict.verified) {
		buf_printf(b, "chain verified (%zu certificates presented)\n", r->ncerts);
	} else {
		buf_printf(b, "chain not verified:");
		verdict_words_join(b, VERDICT_REASON, r->verdict.reasons, " ", NULL);
		buf_putc(b, '\n');
	}
	buf_printf(b, "probe %s, duration_seconds=%.6f\n",
	    r->success && r->verdict.verified ? "succeeded" : "failed", r->duration);
}

static void
render_module(struct buf *b, const char *module, const struct conf_target *ct)
{
	buf_printf(b, "Module configuration:\nmodule: %s\n", module ? module : "(default)");
	buf_printf(b, "timeout: %.3fs\nstarttls: %s\nserver_name: %s\nca_file: %s\n",
	    (double)ct->timeout_ms / 1000.0,
	    starttls_name((enum starttls_proto)ct->tls.starttls),
	    ct->server_name ? ct->server_name : "(none)",
	    ct->ca_file ? ct->ca_file : "(system trust store)");
	buf_printf(b, "family: %s\naddresses: %s\nverify_hostname: %s\n",
	    ct->tls.family == CONF_FAMILY_IPV4 ? "ipv4" :
	    ct->tls.family == CONF_FAMILY_IPV6 ? "ipv6" : "any",
	    ct->tls.addresses_all ? "all" : "first", ct->tls.verify_hostname ? "true" : "false");
	if (ct->tls.priority)
		buf_printf(b, "priority: %s\n", ct->tls.priority);
	if (ct->tls.client_cert)
		buf_printf(b, "client_cert: %s\n", ct->tls.client_cert);
	if (ct->tls.proxy)
		buf_printf(b, "proxy: %s\n", ct->tls.proxy);
}

/* The answer to a request whose probe is done: 200 whatever it found,
 * 403 when probe_allow stopped it after resolution. */
static void
answer_result(struct probeep *ep, struct httpd_req *rq, const char *target,
    const char *module, int debug, const struct conf_target *ct, const struct result *r,
    const struct addr_result *a, size_t na, enum answer how)
{
	/* the first address stands for the target, as in /metrics */
	const struct result *first = na > 0 ? a[0].result : r;
	struct buf b, expo;

	for (size_t i = 0; i < na; i++)
		if (a[i].result->fail_reason && strcmp(a[i].result->fail_reason, "not_allowed") == 0)
			first = a[i].result;
	if (first->fail_reason && strcmp(first->fail_reason, "not_allowed") == 0) {
		answer_text(ep, rq, ANSWER_FORBIDDEN, 403, "Target \"%s\" is not allowed: %s",
		    target, first->fail_detail ? first->fail_detail : "probe_allow");
		return;
	}
	buf_init(&expo);
	blackbox_render(&expo, first);
	render_rows(&expo, target, r, a, na);
	ep->answers[how]++;
	if (!debug) {
		httpd_req_answer(rq, 200, METRICS_CONTENT_TYPE, buf_steal(&expo), expo.len);
		return;
	}
	buf_init(&b);
	render_log(&b, ct, module, first, how);
	buf_printf(&b, "\n\n\nMetrics that would have been returned:\n%s\n\n\n",
	    expo.data ? expo.data : "");
	render_module(&b, module, ct);
	buf_free(&expo);
	httpd_req_answer(rq, 200, TEXT, buf_steal(&b), b.len);
}

/* ------------------------------------------------------------ probes */

static void
waiter_free(struct waiter *w)
{
	free(w->target);
	free(w->module);
	free(w);
}

/* A waiting request's connection went: it waits no more. */
static void
waiter_gone(void *arg)
{
	struct waiter *w = arg, **pp;

	for (pp = &w->e->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	waiter_free(w);
}

static void
job_done(void *arg, struct result *r, struct addr_result *a, size_t n)
{
	struct entry *e = arg;
	struct probeep *ep;
	struct waiter *w, *next;

	e->job = NULL;
	entry_results_free(e);
	e->r = r;
	e->a = a;
	e->na = n;
	e->done_wall = wall_now();
	w = e->waiters;
	e->waiters = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		ep = w->ep;
		httpd_req_on_gone(w->rq, NULL, NULL);
		answer_result(ep, w->rq, w->target, w->module, w->debug, &e->ct, e->r, e->a, e->na,
		    ANSWER_PROBED);
		waiter_free(w);
	}
}

/* Whether a name or address may be probed without resolving it first:
 * 1 yes, 0 no, -1 only its addresses can tell (the probe checks them). */
static int
allowed_before(const struct allow *allow, const struct conf_target *ct)
{
	struct resolved_addr lit;

	if (ct->host_is_ip)
		return resolve_literal(ct->host, ct->port, &lit) == 0 &&
		    allow_address(allow, (const struct sockaddr *)&lit.ss);
	if (allow_name(allow, ct->host))
		return 1;
	return -1;
}

/* A scheduled result answers only when what it reached is allowed too. */
static int
allowed_result(const struct allow *allow, const struct conf_target *ct, const struct result *r)
{
	struct resolved_addr a;

	if (allowed_before(allow, ct) == 1)
		return 1;
	return ct->tls.proxy == NULL && resolve_parse_peer(r->peer, &a) == 0 &&
	    allow_address(allow, (const struct sockaddr *)&a.ss);
}

/* X-Prometheus-Scrape-Timeout-Seconds less half a second, capped by the
 * module's timeout (as blackbox_exporter's getTimeout): ms, or -1. */
int64_t
probeep_timeout_ms(const char *header, uint64_t module_ms)
{
	double t = PROBEEP_DEFAULT_TIMEOUT, m = (double)module_ms / 1000.0, max;
	char *end;

	if (header != NULL) {
		errno = 0;
		t = strtod(header, &end);
		if (end == header || *end != '\0' || errno != 0 || !isfinite(t) || t < 0)
			return -1;
		if (t == 0)
			t = PROBEEP_DEFAULT_TIMEOUT;
	}
	max = t - PROBEEP_TIMEOUT_OFFSET;
	t = (m < max && m > 0) || max < 0 ? m : max;
	if (t > (double)DURATION_MAX_MS / 1000.0)
		t = (double)DURATION_MAX_MS / 1000.0;
	return t * 1000.0 < 1 ? 1 : (int64_t)(t * 1000.0);
}

static int
handle(void *arg, struct httpd_req *rq)
{
	struct probeep *ep = arg;
	const struct conf *c = ep->conf;
	const char *method = httpd_req_method(rq);
	const char *target, *modname, *hostname, *dbg, *msg;
	const struct conf_module *m;
	const struct result *sr;
	struct ptarget pt;
	struct conf_target ct;
	struct entry *e;
	struct waiter *w;
	struct buf key;
	int64_t timeout_ms;
	uint64_t now = mono_ms();
	int debug, before;

	if (c == NULL || !c->probe_endpoint)
		return 0;               /* a 404, as any unknown path */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		answer_text(ep, rq, ANSWER_BAD, 405, "method not allowed");
		return 1;
	}
	target = httpd_req_arg(rq, "target");
	modname = httpd_req_arg(rq, "module");
	hostname = httpd_req_arg(rq, "hostname");
	dbg = httpd_req_arg(rq, "debug");
	debug = dbg != NULL && strcmp(dbg, "true") == 0;
	if (target == NULL || *target == '\0') {
		answer_text(ep, rq, ANSWER_BAD, 400, "Target parameter is missing");
		return 1;
	}
	if (modname != NULL && *modname == '\0')
		modname = NULL;
	if ((m = conf_module_find(c, modname)) == NULL) {
		answer_text(ep, rq, ANSWER_BAD, 400, "Unknown module \"%s\"", modname);
		return 1;
	}
	if (hostname != NULL && *hostname == '\0')
		hostname = NULL;
	timeout_ms = probeep_timeout_ms(httpd_req_header(rq, "X-Prometheus-Scrape-Timeout-Seconds"),
	    m->t.timeout_ms);
	if (timeout_ms < 0) {
		answer_text(ep, rq, ANSWER_BAD, 400, "Failed to parse timeout from Prometheus "
		    "header X-Prometheus-Scrape-Timeout-Seconds");
		return 1;
	}
	if ((msg = ptarget_parse(target, &pt)) != NULL) {
		answer_text(ep, rq, ANSWER_BAD, 400, "Bad target \"%s\": %s", target, msg);
		return 1;
	}
	msg = ptarget_conf(&pt, target, m, hostname, NULL, 0, &ct);
	ptarget_fini(&pt);
	if (msg != NULL) {
		answer_text(ep, rq, ANSWER_BAD, 400, "Bad target \"%s\": %s", target, msg);
		return 1;
	}
	ct.timeout_ms = (uint64_t)timeout_ms;
	if (c->probe_allow == NULL || (before = allowed_before(c->probe_allow, &ct)) == 0 ||
	    (before == -1 && ct.tls.proxy != NULL)) {
		answer_text(ep, rq, ANSWER_FORBIDDEN, 403, "Target \"%s\" is not allowed: %s",
		    target, c->probe_allow == NULL ? "probe_allow is not set, so /probe may "
		    "connect nowhere" : ct.host_is_ip ? "address not in probe_allow" :
		    "name not in probe_allow (a proxy resolves it, so only a name pattern can "
		    "allow it)");
		conf_target_fini(&ct);
		return 1;
	}

	buf_init(&key);
	buf_printf(&key, "%s\n%s\n%s", target, m->name ? m->name : "", hostname ? hostname : "");
	e = entry_find(ep, key.data);
	/* a fresh enough result, of a /probe or of the schedule */
	if (e != NULL && e->job == NULL && (e->r || e->na) && c->probe_cache_ms > 0 &&
	    (wall_now() - e->done_wall) * 1000.0 < (double)c->probe_cache_ms) {
		lru_front(ep, e);
		answer_result(ep, rq, target, m->name, debug, &e->ct, e->r, e->a, e->na,
		    ANSWER_CACHED);
		goto out;
	}
	if (c->probe_cache_ms > 0 && (sr = sched_result_alike(ep->sched, &ct)) != NULL &&
	    (wall_now() - sr->time) * 1000.0 < (double)c->probe_cache_ms &&
	    (!sr->success || sr->ncerts == 0 || sr->certs[0]->go_done) &&
	    allowed_result(c->probe_allow, &ct, sr)) {
		answer_result(ep, rq, target, m->name, debug, &ct, sr, NULL, 0, ANSWER_SCHEDULED);
		goto out;
	}
	if (e == NULL)
		e = entry_new(ep, key.data);
	lru_front(ep, e);
	w = xcalloc(1, sizeof(*w));
	w->ep = ep;
	w->rq = rq;
	w->e = e;
	w->target = xstrdup(target);
	w->module = m->name ? xstrdup(m->name) : NULL;
	w->debug = debug;
	w->deadline_ms = now + (uint64_t)timeout_ms;
	/* a probe in flight for the same that ends in time: wait for it */
	if (e->job == NULL || e->job_deadline > w->deadline_ms + PROBEEP_JOIN_SLACK_MS) {
		struct probe_opts o;

		if (e->job != NULL) {
			/* it would end too late for this request: the request
			 * waits for a probe of its own, the others with it */
			sched_job_cancel(e->job);
			e->job = NULL;
		}
		conf_target_fini(&e->ct);
		e->ct = ct;
		memset(&ct, 0, sizeof(ct));
		o = (struct probe_opts){
			.trust = e->ct.trust,
			.creds = e->ct.tls.creds,
			/* the last result of the same lets an unchanged chain
			 * keep its verdict */
			.prev = e->na == 0 ? e->r : NULL,
			.deadline_ms = w->deadline_ms,
			.allow = before == 1 ? NULL : c->probe_allow,
		};
		e->job_deadline = w->deadline_ms;
		e->job = sched_job_start(ep->sched, &e->ct, &o, job_done, e);
	}
	w->next = e->waiters;
	e->waiters = w;
	httpd_req_on_gone(rq, waiter_gone, w);
out:
	conf_target_fini(&ct);
	buf_free(&key);
	return 1;
}

/* ------------------------------------------------------------ life */

struct probeep *
probeep_new(struct loop *l)
{
	struct probeep *ep = xcalloc(1, sizeof(*ep));

	ep->loop = l;
	return ep;
}

/* Every request still waiting is answered 503, every job cancelled and
 * every kept result dropped: they belong to the configuration going. */
static void
probeep_flush(struct probeep *ep, const char *why)
{
	while (ep->lru_head != NULL) {
		struct entry *e = ep->lru_head;
		struct waiter *w = e->waiters, *next;

		sched_job_cancel(e->job);
		e->job = NULL;
		e->waiters = NULL;
		for (; w != NULL; w = next) {
			next = w->next;
			httpd_req_on_gone(w->rq, NULL, NULL);
			answer_text(ep, w->rq, ANSWER_UNAVAILABLE, 503, "%s", why);
			waiter_free(w);
		}
		entry_free(ep, e);
	}
}

void
probeep_set(struct probeep *ep, struct sched *s, const struct conf *c)
{
	if (ep->sched != NULL)
		probeep_flush(ep, "the configuration was reloaded during the probe; try again");
	ep->sched = s;
	ep->conf = c;
	if (c->probe_endpoint && (c->probe_allow == NULL || allow_empty(c->probe_allow)))
		log_warnx("probe_endpoint = true but probe_allow allows nothing: every /probe "
		    "request is refused (403)");
}

int
probeep_handle(void *arg, struct httpd_req *rq)
{
	return handle(arg, rq);
}

void
probeep_free(struct probeep *ep)
{
	if (ep == NULL)
		return;
	probeep_flush(ep, "tlswatchd is stopping");
	free(ep);
}

void
probeep_render_metrics(struct buf *b, const struct probeep *ep)
{
	if (ep->conf == NULL || !ep->conf->probe_endpoint)
		return;
	buf_printf(b, "# HELP tlswatch_probe_requests_total /probe requests answered, by how: "
	    "probed, cached (probe_cache), scheduled (a configured target's result), "
	    "bad_request, forbidden (probe_allow), unavailable (a reload or stop).\n"
	    "# TYPE tlswatch_probe_requests_total counter\n");
	for (int i = 0; i < ANSWER_COUNT; i++)
		buf_printf(b, "tlswatch_probe_requests_total{answer=\"%s\"} %llu\n",
		    answer_names[i], (unsigned long long)ep->answers[i]);
	buf_printf(b, "# HELP tlswatch_probe_requests_in_flight_probes /probe probes running now; "
	    "at most probe_concurrency.\n# TYPE tlswatch_probe_requests_in_flight_probes gauge\n"
	    "tlswatch_probe_requests_in_flight_probes %zu\n", sched_jobs_in_flight(ep->sched));
	buf_printf(b, "# HELP tlswatch_probe_requests_queued /probe probes waiting for a slot.\n"
	    "# TYPE tlswatch_probe_requests_queued gauge\ntlswatch_probe_requests_queued %zu\n",
	    sched_jobs_queued(ep->sched));
	buf_printf(b, "# HELP tlswatch_probe_cache_entries Results kept for /probe.\n"
	    "# TYPE tlswatch_probe_cache_entries gauge\ntlswatch_probe_cache_entries %zu\n",
	    ep->nentries);
}
