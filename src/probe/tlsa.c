/*
 * tlsa.c - the TLSA answers of every DANE-checked name (tlsa.h).
 *
 * A hash table of names, each with its last answer, the lookup in flight
 * (at most one: probes of many addresses of one host, or many targets on
 * one host, share it) and who waits for it. Answers are asked for again by
 * every probe: the validating resolver caches them for their TTL, and a
 * record changed at the source is then seen at the next probe. Names
 * nobody asked about for a day are forgotten.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"
#include "probe/resolve.h"
#include "probe/tlsa.h"
#include "verdict/verdict.h"

/* Bounds: names kept, and verdicts waiting on one lookup (more are left to
 * the next probe, which looks again). */
#define TLSA_MAX_NAMES (1u << 20)
#define TLSA_MAX_WAITERS 1024
/* A name unused this long is forgotten; the table is swept this often. */
#define TLSA_IDLE_MS ((uint64_t)24 * 3600 * 1000)
#define TLSA_SWEEP_MS ((uint64_t)600 * 1000)

struct waiter {
	char *target;
	char *address;           /* NULL: the target's result */
};

struct entry {
	struct entry *next;      /* in its bucket */
	char *name;
	uint64_t hash;
	struct tlsa_answer *answer;   /* the last one, or NULL */
	struct dnsrec_req *req;  /* in flight, or NULL */
	struct waiter *waiters;
	size_t nwaiters;
	uint64_t used;           /* monotonic ms it was last asked for */
};

static struct resolver *resolver;
static struct entry **buckets;
static size_t nbuckets;       /* a power of two, or 0 */
static size_t nentries, ninflight;
static uint64_t last_sweep;

static void
answer_free(struct tlsa_answer *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->recs[i].data);
	free(a->recs);
	free(a->detail);
	free(a);
}

static void
waiters_clear(struct entry *e)
{
	for (size_t i = 0; i < e->nwaiters; i++) {
		free(e->waiters[i].target);
		free(e->waiters[i].address);
	}
	free(e->waiters);
	e->waiters = NULL;
	e->nwaiters = 0;
}

static void
entry_free(struct entry *e)
{
	if (e->req) {
		dnsrec_cancel(e->req);
		ninflight--;
	}
	answer_free(e->answer);
	waiters_clear(e);
	free(e->name);
	free(e);
}

void
tlsa_init(struct resolver *r)
{
	resolver = r;
}

void
tlsa_fini(void)
{
	for (size_t i = 0; i < nbuckets; i++) {
		struct entry *e = buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	free(buckets);
	buckets = NULL;
	nbuckets = nentries = ninflight = 0;
	resolver = NULL;
}

int
tlsa_enabled(void)
{
	return resolver != NULL && resolver_trusted(resolver);
}

void
tlsa_counts(size_t *names, size_t *in_flight)
{
	*names = nentries;
	*in_flight = ninflight;
}

/* ------------------------------------------------------------ the table */

static uint64_t
name_hash(const char *name)
{
	return hash64(name, strlen(name));
}

static struct entry *
find(const char *name)
{
	uint64_t h;

	if (nbuckets == 0)
		return NULL;
	h = name_hash(name);
	for (struct entry *e = buckets[h & (nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void
grow(void)
{
	size_t size = nbuckets ? nbuckets * 2 : 256;
	struct entry **nb = xcalloc(size, sizeof(*nb));

	for (size_t i = 0; i < nbuckets; i++) {
		struct entry *e = buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = nb[e->hash & (size - 1)];
			nb[e->hash & (size - 1)] = e;
		}
	}
	free(buckets);
	buckets = nb;
	nbuckets = size;
}

/* Forget names nobody asked about for TLSA_IDLE_MS (none in flight, none
 * waited for), at most once every TLSA_SWEEP_MS. */
static void
sweep(uint64_t now)
{
	if (now - last_sweep < TLSA_SWEEP_MS && nentries < TLSA_MAX_NAMES)
		return;
	last_sweep = now;
	for (size_t i = 0; i < nbuckets; i++) {
		struct entry **pp = &buckets[i];

		while (*pp) {
			struct entry *e = *pp;

			if (e->req == NULL && e->nwaiters == 0 && now - e->used > TLSA_IDLE_MS) {
				*pp = e->next;
				entry_free(e);
				nentries--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static struct entry *
find_or_add(const char *name)
{
	struct entry *e = find(name);
	uint64_t now = mono_ms();

	if (e != NULL) {
		e->used = now;
		return e;
	}
	sweep(now);
	if (nentries >= TLSA_MAX_NAMES)
		return NULL;
	if (nentries >= nbuckets)
		grow();
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(name);
	e->hash = name_hash(name);
	e->used = now;
	e->next = buckets[e->hash & (nbuckets - 1)];
	buckets[e->hash & (nbuckets - 1)] = e;
	nentries++;
	return e;
}

/* ------------------------------------------------------------ answers */

static uint64_t
answer_digest(const struct tlsa_answer *a)
{
	struct buf b;
	uint64_t h;

	buf_init(&b);
	buf_printf(&b, "%d %d %s %zu", (int)a->status, a->nxdomain, a->reason ? a->reason : "-",
	    a->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct dns_tlsa *r = &a->recs[i];

		buf_printf(&b, "|%u %u %u %zu:", r->usage, r->selector, r->mtype, r->len);
		buf_append(&b, r->data, r->len);
	}
	h = hash64(b.data, b.len);
	buf_free(&b);
	return h;
}

static struct tlsa_answer *
answer_new(const struct dnsrec_result *res)
{
	struct tlsa_answer *a = xcalloc(1, sizeof(*a));
	const struct dnsmsg *m = &res->msg;

	a->status = res->status;
	a->nxdomain = res->nxdomain;
	a->reason = res->reason;
	a->detail = res->detail ? xstrdup(res->detail) : NULL;
	if ((res->status == DNSREC_SECURE || res->status == DNSREC_INSECURE) &&
	    m->type == DNS_T_TLSA && m->n > 0) {
		a->recs = xcalloc(m->n, sizeof(*a->recs));
		for (size_t i = 0; i < m->n; i++) {
			a->recs[i] = m->tlsa[i];
			a->recs[i].data = xmalloc(m->tlsa[i].len ? m->tlsa[i].len : 1);
			memcpy(a->recs[i].data, m->tlsa[i].data, m->tlsa[i].len);
		}
		a->n = m->n;
	}
	a->digest = answer_digest(a);
	a->time = wall_now();
	return a;
}

void
tlsa_put(const char *name, const struct dnsrec_result *res)
{
	struct entry *e = find_or_add(name);
	struct waiter *w;
	size_t n;

	if (e == NULL)
		return;
	answer_free(e->answer);
	e->answer = answer_new(res);
	/* the waiters may ask again (a recheck is run later, from the loop) */
	w = e->waiters;
	n = e->nwaiters;
	e->waiters = NULL;
	e->nwaiters = 0;
	for (size_t i = 0; i < n; i++) {
		verdict_request_recheck(w[i].target, w[i].address);
		free(w[i].target);
		free(w[i].address);
	}
	free(w);
}

static void
lookup_cb(void *arg, const struct dnsrec_result *res)
{
	struct entry *e = arg;

	e->req = NULL;
	ninflight--;
	if (res->status == DNSREC_ERROR || res->status == DNSREC_BOGUS)
		log_debug("TLSA %s: %s: %s (%s)", e->name, dnsrec_status_name(res->status),
		    res->reason ? res->reason : "?", res->detail ? res->detail : "");
	tlsa_put(e->name, res);
}

void
tlsa_lookup(const char *name)
{
	struct entry *e;

	if (!tlsa_enabled() || (e = find_or_add(name)) == NULL || e->req != NULL)
		return;
	ninflight++;
	e->req = dnsrec_lookup(resolver, name, DNS_T_TLSA, lookup_cb, e);
}

const struct tlsa_answer *
tlsa_get(const char *name, int *pending)
{
	struct entry *e = find(name);

	*pending = e != NULL && e->req != NULL;
	if (e == NULL)
		return NULL;
	e->used = mono_ms();
	return e->answer;
}

void
tlsa_wait(const char *name, const char *target, const char *address)
{
	struct entry *e = find(name);

	if (e == NULL || e->req == NULL || target == NULL || e->nwaiters >= TLSA_MAX_WAITERS)
		return;
	for (size_t i = 0; i < e->nwaiters; i++)
		if (strcmp(e->waiters[i].target, target) == 0 &&
		    ((address == NULL && e->waiters[i].address == NULL) ||
		    (address && e->waiters[i].address &&
		    strcmp(address, e->waiters[i].address) == 0)))
			return;
	e->waiters = xreallocarray(e->waiters, e->nwaiters + 1, sizeof(*e->waiters));
	e->waiters[e->nwaiters].target = xstrdup(target);
	e->waiters[e->nwaiters].address = address ? xstrdup(address) : NULL;
	e->nwaiters++;
}

/* ------------------------------------------------------------ targets */

int
tlsa_target_name(const struct conf_target *ct, char *out, size_t size)
{
	const char *host = NULL;
	char lower[254];
	size_t len;

	if (ct == NULL || ct->dane == CONF_DANE_OFF || !tlsa_enabled())
		return -1;
	if (ct->host && !ct->host_is_ip)
		host = ct->host;
	else if (ct->server_name && *ct->server_name && !conf_is_ip_literal(ct->server_name))
		host = ct->server_name;
	if (host == NULL || (len = strlen(host)) == 0 || len >= sizeof(lower))
		return -1;
	for (size_t i = 0; i <= len; i++)
		lower[i] = (char)tolower((unsigned char)host[i]);
	if (len > 1 && lower[len - 1] == '.')
		lower[len - 1] = '\0';
	return dnsrec_tlsa_name(lower, ct->port, out, size);
}

void
tlsa_prefetch(const struct conf_target *ct)
{
	char name[256];

	if (tlsa_target_name(ct, name, sizeof(name)) == 0)
		tlsa_lookup(name);
}
