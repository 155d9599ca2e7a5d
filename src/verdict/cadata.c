/*
 * cadata.c - CRLs, OCSP answers, renewal windows and caIssuers
 * certificates, fetched once for every target that needs them.
 *
 * One entry per thing asked for, in one hash table keyed by what
 * identifies it ("crl URL ISSUER", "ocsp URL ISSUER SERIAL", "ari CERTID",
 * "dir URL", "aia URL", "keydir KEYID"). An entry holds what is known (a
 * parsed CRL, an OCSP answer, a window, certificates, or the last error),
 * when to ask its server again, the fetch or parse in flight, and the
 * targets to recheck when that ends. Nothing here blocks: CRLs (up to
 * fetch.max_size of them) are parsed on the worker pool, everything else
 * is small and handled on the loop.
 *
 * An answer that was good stays in use when a refresh fails, until its own
 * nextUpdate: a responder that is down for an hour costs nothing while its
 * last word still holds.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"
#include "fetch/fetch.h"
#include "verdict/aia.h"
#include "verdict/ari.h"
#include "verdict/cadata.h"
#include "verdict/crl.h"
#include "verdict/ocsp.h"
#include "verdict/serials.h"
#include "verdict/verdict.h"

#define SWEEP_MS ((uint64_t)3600 * 1000)

enum kind { K_CRL, K_OCSP, K_ARI, K_DIR, K_AIA, K_KEYDIR };

struct ref {
	char *target;
	char *address;
};

struct entry {
	struct entry *hnext;
	char *key;
	uint64_t hash;
	enum kind kind;
	char *url;                  /* what is fetched (ARI: the renewalInfo URL asked last) */
	struct fetch_waiter *w;
	int busy;                   /* a fetch or parse in flight */
	int tried;                  /* an attempt ended */
	double refresh_at;          /* ask again from then (wall clock) */
	double last_used;
	struct ref *refs;
	size_t nrefs;
	char error[160];            /* why the last attempt brought nothing; "" */
	/* K_CRL */
	struct der issuer;          /* a copy, for the parse */
	struct crl *crl;
	unsigned char sha[32];      /* of the body crl came from */
	int have_sha;
	/* K_OCSP: the body waits for the next ask, which has the certificates */
	unsigned char *body;
	size_t body_len;
	struct rev_answer ans;
	int have_ans;
	char cert_sha[65];          /* the certificate ans was checked for */
	/* K_ARI */
	char *cert_id, *key_id;
	size_t dir;                 /* the directory asked now */
	struct ari_window win;
	int have_win;
	char *answered_by;          /* directory URL */
	/* K_DIR: its renewalInfo URL, and the ARI entries waiting for it */
	char *renewal_info;
	struct entry **dependents;
	size_t ndependents;
	/* K_AIA */
	struct der *certs;
	size_t ncerts;
	/* K_KEYDIR: the directory that answers for this issuer key */
	size_t keydir;
};

/* A CRL parse on a worker. */
struct parse_job {
	struct work_job w;
	struct entry *e;            /* NULL when the module went away */
	unsigned char *body;
	size_t len;
	unsigned char sha[32];
	struct der issuer;
	struct crl *crl;
	char *err;
};

static struct {
	struct loop *loop;
	struct work_pool *pool;
	struct fetch *fetch;
	double refresh;             /* seconds */
	char **dirs;
	size_t ndirs;
	struct entry **table;
	size_t nbuckets, nentries;
	struct loop_timer sweep;
	int sweep_armed;
} m;

static void fetch_done(const struct fetch_result *r, void *arg);

/* ------------------------------------------------------------ table */

static struct entry *
find(const char *key, uint64_t h)
{
	if (m.nbuckets == 0)
		return NULL;
	for (struct entry *e = m.table[h % m.nbuckets]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
grow(void)
{
	size_t n = m.nbuckets ? m.nbuckets * 2 : 256;
	struct entry **t = xcalloc(n, sizeof(*t));

	for (size_t i = 0; i < m.nbuckets; i++) {
		struct entry *e, *next;

		for (e = m.table[i]; e; e = next) {
			next = e->hnext;
			e->hnext = t[e->hash % n];
			t[e->hash % n] = e;
		}
	}
	free(m.table);
	m.table = t;
	m.nbuckets = n;
}

/* The entry for key, made when absent. */
static struct entry *
get(enum kind k, const char *key, const char *url)
{
	uint64_t h = hash64(key, strlen(key));
	struct entry *e = find(key, h);

	if (e == NULL) {
		if (m.nentries + 1 > m.nbuckets)
			grow();
		e = xcalloc(1, sizeof(*e));
		e->key = xstrdup(key);
		e->hash = h;
		e->kind = k;
		e->url = url ? xstrdup(url) : NULL;
		e->hnext = m.table[h % m.nbuckets];
		m.table[h % m.nbuckets] = e;
		m.nentries++;
	}
	e->last_used = wall_now();
	return e;
}

/* get(), or without a fetcher only what is there: nothing is made that
 * could never be filled. */
static struct entry *
lookup(enum kind k, const char *key, const char *url)
{
	struct entry *e;

	if (m.fetch != NULL)
		return get(k, key, url);
	if ((e = find(key, hash64(key, strlen(key)))) != NULL)
		e->last_used = wall_now();
	return e;
}

static void
refs_free(struct entry *e)
{
	for (size_t i = 0; i < e->nrefs; i++) {
		free(e->refs[i].target);
		free(e->refs[i].address);
	}
	free(e->refs);
	e->refs = NULL;
	e->nrefs = 0;
}

static void
entry_free(struct entry *e)
{
	if (e->w && m.fetch)
		fetch_cancel(m.fetch, e->w);
	refs_free(e);
	free(e->key);
	free(e->url);
	free((void *)e->issuer.data);
	crl_free(e->crl);
	free(e->body);
	free(e->cert_id);
	free(e->key_id);
	ari_window_free(&e->win);
	free(e->answered_by);
	free(e->renewal_info);
	free(e->dependents);
	aia_certs_free(e->certs, e->ncerts);
	free(e);
}

/* Remember ref to recheck when e's work ends. */
static void
add_ref(struct entry *e, const struct cadata_ref *ref)
{
	if (ref == NULL || ref->target == NULL || e->nrefs >= CADATA_MAX_REFS)
		return;
	/* the same asker twice in a row (several certificates, several
	 * methods of one verdict) is remembered once */
	for (size_t i = e->nrefs > 8 ? e->nrefs - 8 : 0; i < e->nrefs; i++)
		if (strcmp(e->refs[i].target, ref->target) == 0 &&
		    ((e->refs[i].address == NULL && ref->address == NULL) ||
		    (e->refs[i].address && ref->address &&
		    strcmp(e->refs[i].address, ref->address) == 0)))
			return;
	e->refs = xreallocarray(e->refs, e->nrefs + 1, sizeof(*e->refs));
	e->refs[e->nrefs].target = xstrdup(ref->target);
	e->refs[e->nrefs].address = ref->address ? xstrdup(ref->address) : NULL;
	e->nrefs++;
}

/* e's work ended: everyone who asked is rechecked. */
static void
notify(struct entry *e)
{
	struct ref *refs = e->refs;
	size_t n = e->nrefs;

	e->refs = NULL;
	e->nrefs = 0;
	for (size_t i = 0; i < n; i++) {
		verdict_request_recheck(refs[i].target, refs[i].address);
		free(refs[i].target);
		free(refs[i].address);
	}
	free(refs);
}

static void
set_error(struct entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_error(struct entry *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->error, sizeof(e->error), fmt, ap);
	va_end(ap);
	/* our words, and fetch.c's, which are printable already; a URL is the
	 * operator's business but not ours to trust */
	for (char *p = e->error; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

/* When to ask again after an answer (fresh_until: the cache's word). */
static double
next_refresh(double fresh_until, double now)
{
	return fresh_until > now + CADATA_RETRY_SECONDS ? fresh_until : now + CADATA_RETRY_SECONDS;
}

static int64_t
until_of(double t)
{
	return t >= (double)INT64_MAX ? INT64_MAX : (int64_t)t;
}

/* Fetch e's URL unless it is fresh, busy or there is no fetcher. 1 when
 * a fetch is (now) on its way. */
static int
maybe_fetch(struct entry *e, enum fetch_kind kind, const struct fetch_opts *o, double now)
{
	if (e->busy)
		return 1;
	if (m.fetch == NULL || e->url == NULL || (e->tried && now < e->refresh_at))
		return 0;
	e->busy = 1;
	e->w = fetch(m.fetch, e->url, kind, o, fetch_done, e);
	return 1;
}

/* ------------------------------------------------------------ freshness */

double
cadata_crl_fresh(const unsigned char *body, size_t len, double fetched, double refresh)
{
	int64_t tu, nu;

	if (body == NULL || crl_times(body, len, &tu, &nu) == -1 || nu == 0)
		return fetched;
	return (double)nu < fetched + refresh ? (double)nu : fetched + refresh;
}

double
cadata_ocsp_fresh(const unsigned char *body, size_t len, double fetched, double refresh)
{
	int64_t tu, nu;

	if (body == NULL || ocsp_times(body, len, &tu, &nu) == -1)
		return fetched;
	if (nu == 0)
		nu = tu + OCSP_NO_NEXT_UPDATE_VALID;
	return (double)nu < fetched + refresh ? (double)nu : fetched + refresh;
}

static double
fresh_crl(const struct fetch_result *r, void *arg)
{
	(void)arg;
	return cadata_crl_fresh(r->body, r->len, r->fetched, m.refresh);
}

static double
fresh_ocsp(const struct fetch_result *r, void *arg)
{
	(void)arg;
	return cadata_ocsp_fresh(r->body, r->len, r->fetched, m.refresh);
}

/* A directory is fetched daily; a RenewalInfo when its Retry-After says. */
static double
fresh_ari(const struct fetch_result *r, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < m.ndirs; i++)
		if (strcmp(r->url, m.dirs[i]) == 0)
			return r->fetched + CADATA_STATIC_SECONDS;
	return ari_next_poll(r->retry_after, r->fetched);
}

static double
fresh_aia(const struct fetch_result *r, void *arg)
{
	(void)arg;
	return r->fetched + CADATA_STATIC_SECONDS;
}

/* ------------------------------------------------------------ CRLs */

static void
parse_run(struct work_job *w)
{
	struct parse_job *j = container_of(w, struct parse_job, w);

	(void)crl_load(j->body, j->len, j->issuer.data, j->issuer.len, &j->crl, &j->err);
}

static void
parse_done(struct work_job *w)
{
	struct parse_job *j = container_of(w, struct parse_job, w);
	struct entry *e = j->e;

	if (e != NULL) {
		e->busy = 0;
		e->tried = 1;
		crl_free(e->crl);
		e->crl = j->crl;
		j->crl = NULL;
		memcpy(e->sha, j->sha, sizeof(e->sha));
		e->have_sha = 1;
		if (e->crl == NULL) {
			set_error(e, "CRL refused: %s", j->err ? j->err : "?");
			log_warnx("CRL %s: %s", e->url, e->error);
		} else {
			e->error[0] = '\0';
			log_debug("CRL %s: %zu entries, %zu bytes", e->url,
			    serials_count(e->crl->revoked), serials_memory(e->crl->revoked));
		}
		notify(e);
	}
	crl_free(j->crl);
	free(j->err);
	free(j->body);
	free(j);
}

/* When to ask again after r: a stale body (a restart's cache, fetch.h's
 * fetch_set_stale_first) is used at once and asked for again at the next
 * use, which joins the request revalidating it. */
static double
refresh_after(const struct fetch_result *r, double now)
{
	if (r->error)
		return now + CADATA_RETRY_SECONDS;
	return r->stale ? now : next_refresh(r->fresh_until, now);
}

static void
crl_fetched(struct entry *e, const struct fetch_result *r, double now)
{
	struct parse_job *j;

	e->refresh_at = refresh_after(r, now);
	if (r->body == NULL || (e->have_sha && memcmp(e->sha, r->body_sha256, 32) == 0)) {
		/* nothing new: what was parsed still says what it said */
		e->busy = 0;
		e->tried = 1;
		if (r->error && e->crl == NULL)
			set_error(e, "CRL fetch failed: %s", r->error_text ? r->error_text : "?");
		notify(e);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->w.run = parse_run;
	j->w.done = parse_done;
	j->e = e;
	j->body = xmalloc(r->len ? r->len : 1);
	memcpy(j->body, r->body, r->len);
	j->len = r->len;
	memcpy(j->sha, r->body_sha256, 32);
	j->issuer = e->issuer;      /* the entry outlives the job: it is busy */
	work_submit(m.pool, &j->w);
}

void
cadata_crl(const char *url, const struct der *issuer, const char *issuer_sha256,
    const unsigned char *serial, size_t serial_len, int is_ca, int64_t now,
    const struct cadata_ref *ref, struct cadata_got *g)
{
	static const struct fetch_opts opts = { .insecure = 1 };
	char *key = xasprintf("crl %s %s", url, issuer_sha256);
	struct entry *e = lookup(K_CRL, key, url);
	double t = (double)now;

	free(key);
	memset(g, 0, sizeof(*g));
	g->valid_until = INT64_MAX;
	if (e == NULL)
		return;
	if (e->issuer.data == NULL) {
		unsigned char *copy = xmalloc(issuer->len);

		memcpy(copy, issuer->data, issuer->len);
		e->issuer.data = copy;
		e->issuer.len = issuer->len;
	}
	if (m.pool == NULL)
		;               /* no workers: nothing is parsed */
	else if (maybe_fetch(e, FETCH_CRL, &opts, t)) {
		g->waiting = 1;
		add_ref(e, ref);
	}
	if (e->crl != NULL) {
		g->have = 1;
		crl_check(e->crl, serial, serial_len, is_ca, url, now, &g->a);
		if (g->a.status != REV_ERROR && e->crl->next_update < g->valid_until)
			g->valid_until = e->crl->next_update;
	} else if (e->tried) {
		g->have = 1;
		rev_error(&g->a, "%s", e->error[0] ? e->error : "no CRL");
	}
	if (g->have && e->refresh_at < (double)g->valid_until)
		g->valid_until = until_of(e->refresh_at);
}

/* ------------------------------------------------------------ OCSP */

static void
ocsp_fetched(struct entry *e, const struct fetch_result *r, double now)
{
	e->busy = 0;
	e->tried = 1;
	e->refresh_at = refresh_after(r, now);
	if (r->error && (r->body == NULL || e->have_ans)) {
		/* a last good answer (kept, or the cache's) holds until it expires */
		if (!e->have_ans)
			set_error(e, "OCSP fetch failed: %s", r->error_text ? r->error_text : "?");
	} else if (r->body != NULL) {
		/* judged at the next ask, which has the certificates */
		free(e->body);
		e->body = xmalloc(r->len ? r->len : 1);
		memcpy(e->body, r->body, r->len);
		e->body_len = r->len;
		e->error[0] = '\0';
	}
	notify(e);
}

void
cadata_ocsp(const char *url, const struct der *cert, const struct cert *c,
    const struct der *issuer, const struct cert *ic, int64_t now,
    const struct cadata_ref *ref, struct cadata_got *g)
{
	char *key = xasprintf("ocsp %s %s %s", url, ic->sha256, c->serial);
	struct entry *e = lookup(K_OCSP, key, url);
	const char *cert_sha256 = c->sha256;
	double t = (double)now;

	free(key);
	memset(g, 0, sizeof(*g));
	g->valid_until = INT64_MAX;
	if (e == NULL)
		return;
	if (e->body != NULL) {
		/* a new response: checked once, then only its times */
		ocsp_check(e->body, e->body_len, cert->data, cert->len, issuer->data, issuer->len,
		    now, &e->ans);
		e->have_ans = 1;
		snprintf(e->cert_sha, sizeof(e->cert_sha), "%s", cert_sha256);
		free(e->body);
		e->body = NULL;
		if (e->ans.status == REV_ERROR)
			log_warnx("OCSP %s: %s", url, e->ans.error);
	} else if (e->have_ans && strcmp(e->cert_sha, cert_sha256) != 0) {
		e->have_ans = 0;        /* another certificate with this serial: ask */
		e->tried = 0;
	}
	if (!e->busy && !(e->tried && t < e->refresh_at) && m.fetch != NULL) {
		unsigned char *req;
		size_t len;
		char *err = NULL;

		if (ocsp_request(cert->data, cert->len, issuer->data, issuer->len, &req, &len,
		    &err) == 0) {
			struct fetch_opts o = { .insecure = 1, .post = req, .post_len = len,
				.post_type = "application/ocsp-request" };

			(void)maybe_fetch(e, FETCH_OCSP, &o, t);
			free(req);
		} else {
			e->tried = 1;
			e->refresh_at = t + CADATA_STATIC_SECONDS;
			set_error(e, "%s", err);
			free(err);
		}
	}
	if (e->busy) {
		g->waiting = 1;
		add_ref(e, ref);
	}
	if (e->have_ans) {
		g->have = 1;
		g->a = e->ans;
		if (g->a.status != REV_ERROR && (g->a.next_update ? now >= g->a.next_update :
		    now >= g->a.this_update + OCSP_NO_NEXT_UPDATE_VALID)) {
			int64_t tu = g->a.this_update, nu = g->a.next_update;

			rev_error(&g->a, "expired OCSP response (nextUpdate passed)");
			g->a.this_update = tu;
			g->a.next_update = nu;
		}
		if (g->a.status != REV_ERROR)
			g->valid_until = g->a.next_update ? g->a.next_update :
			    g->a.this_update + OCSP_NO_NEXT_UPDATE_VALID;
	} else if (e->tried) {
		g->have = 1;
		rev_error(&g->a, "%s", e->error[0] ? e->error : "no OCSP answer");
	}
	if (g->have && e->refresh_at < (double)g->valid_until)
		g->valid_until = until_of(e->refresh_at);
}

/* ------------------------------------------------------------ ARI */

static void ari_step(struct entry *e, double now);

static struct entry *
keydir_entry(const char *key_id)
{
	char *key = xasprintf("keydir %s", key_id);
	struct entry *k = find(key, hash64(key, strlen(key)));

	free(key);
	return k;
}

static void
ari_finish(struct entry *e, double now, double refresh_at)
{
	e->busy = 0;
	e->tried = 1;
	e->refresh_at = refresh_at > now + CADATA_RETRY_SECONDS ? refresh_at :
	    now + CADATA_RETRY_SECONDS;
	notify(e);
	(void)now;
}

/* A directory came back: its dependents go on. */
static void
dir_fetched(struct entry *d, const struct fetch_result *r, double now)
{
	struct entry **deps = d->dependents;
	size_t n = d->ndependents;
	char *url = NULL, *err = NULL;

	d->dependents = NULL;
	d->ndependents = 0;
	d->busy = 0;
	d->tried = 1;
	d->refresh_at = next_refresh(r->error ? 0 : r->fresh_until, now);
	if (r->body != NULL && ari_directory((const char *)r->body, r->len, &url, &err) == 0) {
		free(d->renewal_info);
		d->renewal_info = url;
		d->error[0] = '\0';
	} else if (d->renewal_info == NULL) {
		set_error(d, "ACME directory %s: %s", d->url,
		    r->body ? err : r->error_text ? r->error_text : "no answer");
	}
	free(err);
	for (size_t i = 0; i < n; i++)
		ari_step(deps[i], now);
	free(deps);
}

/* Ask the next directory for e's window, or end. */
static void
ari_step(struct entry *e, double now)
{
	struct entry *k = keydir_entry(e->key_id), *d;
	char *url;

	if (k != NULL)
		e->dir = k->keydir;
	if (e->dir >= m.ndirs || m.fetch == NULL) {
		set_error(e, "no ACME directory answers for this certificate");
		ari_finish(e, now, now + ARI_DEFAULT_POLL);
		return;
	}
	url = xasprintf("dir %s", m.dirs[e->dir]);
	d = get(K_DIR, url, m.dirs[e->dir]);
	free(url);
	if (d->renewal_info == NULL || (!d->busy && now >= d->refresh_at)) {
		if (d->tried && !d->busy && now < d->refresh_at) {
			/* the directory failed lately: the next one */
			if (k == NULL) {
				e->dir++;
				ari_step(e, now);
			} else {
				set_error(e, "%s", d->error);
				ari_finish(e, now, d->refresh_at);
			}
			return;
		}
		if (!d->busy && d->renewal_info == NULL) {
			d->dependents = xreallocarray(d->dependents, d->ndependents + 1,
			    sizeof(*d->dependents));
			d->dependents[d->ndependents++] = e;
			(void)maybe_fetch(d, FETCH_ARI, NULL, now);
			return;
		}
		if (d->busy && d->renewal_info == NULL) {
			d->dependents = xreallocarray(d->dependents, d->ndependents + 1,
			    sizeof(*d->dependents));
			d->dependents[d->ndependents++] = e;
			return;
		}
		/* stale but usable: refresh it on the side */
		(void)maybe_fetch(d, FETCH_ARI, NULL, now);
	}
	free(e->url);
	e->url = ari_url(d->renewal_info, e->cert_id);
	e->w = fetch(m.fetch, e->url, FETCH_ARI, NULL, fetch_done, e);
}

static void
ari_fetched(struct entry *e, const struct fetch_result *r, double now)
{
	struct ari_window w;
	struct entry *k;
	char *err = NULL;

	if (e->dir >= m.ndirs) {
		/* the directories changed (a reload) while this was asked */
		set_error(e, "no ACME directory answers for this certificate");
		ari_finish(e, now, now + CADATA_RETRY_SECONDS);
		return;
	}
	if (r->body != NULL && ari_window_parse((const char *)r->body, r->len, &w, &err) == 0) {
		char *key = xasprintf("keydir %s", e->key_id);

		ari_window_free(&e->win);
		e->win = w;
		e->have_win = 1;
		e->error[0] = '\0';
		free(e->answered_by);
		e->answered_by = xstrdup(m.dirs[e->dir]);
		/* this directory answers for the issuer from now on */
		k = get(K_KEYDIR, key, NULL);
		k->keydir = e->dir;
		k->tried = 1;
		free(key);
		ari_finish(e, now, r->error ? now + CADATA_RETRY_SECONDS :
		    ari_next_poll(r->retry_after, now));
		return;
	}
	if (e->have_win && r->error != FETCH_ERR_HTTP) {
		/* a network failure: the window we had holds for now */
		ari_finish(e, now, now + CADATA_RETRY_SECONDS);
		free(err);
		return;
	}
	k = keydir_entry(e->key_id);
	if (k == NULL && e->dir + 1 < m.ndirs) {
		/* not this directory's certificate (or it is down): the next one */
		free(err);
		e->dir++;
		ari_step(e, now);
		return;
	}
	e->have_win = 0;
	if (err != NULL)
		set_error(e, "renewal information from %s: %s", m.dirs[e->dir], err);
	else
		set_error(e, "renewal information from %s: %s", m.dirs[e->dir],
		    r->error_text ? r->error_text : "no answer");
	free(err);
	ari_finish(e, now, r->retry_after > now ? ari_next_poll(r->retry_after, now) :
	    now + (r->error == FETCH_ERR_HTTP ? ARI_DEFAULT_POLL : CADATA_RETRY_SECONDS));
}

void
cadata_ari(const struct der *leaf, int64_t now, const struct cadata_ref *ref,
    struct cadata_ari *out)
{
	char *id = NULL, *key_id = NULL, *err = NULL, *key;
	struct entry *e;
	double t = (double)now;

	memset(out, 0, sizeof(*out));
	out->valid_until = INT64_MAX;
	if (m.ndirs == 0)
		return;
	if (ari_cert_id(leaf->data, leaf->len, &id, &key_id, &err) == -1) {
		out->have = 1;
		snprintf(out->error, sizeof(out->error), "no renewal information: %s", err);
		free(err);
		return;
	}
	key = xasprintf("ari %s", id);
	e = lookup(K_ARI, key, NULL);
	free(key);
	if (e == NULL) {
		free(id);
		free(key_id);
		return;
	}
	if (e->cert_id == NULL) {
		e->cert_id = id;
		e->key_id = key_id;
	} else {
		free(id);
		free(key_id);
	}
	if (!e->busy && m.fetch != NULL && !(e->tried && t < e->refresh_at)) {
		e->busy = 1;
		if (!e->have_win && keydir_entry(e->key_id) == NULL)
			e->dir = 0;     /* from the first directory */
		ari_step(e, t);
	}
	if (e->busy) {
		out->waiting = 1;
		add_ref(e, ref);
	}
	if (e->have_win) {
		out->have = out->ok = 1;
		out->start = e->win.start;
		out->end = e->win.end;
		snprintf(out->explanation, sizeof(out->explanation), "%s",
		    e->win.explanation_url ? e->win.explanation_url : "");
		snprintf(out->directory, sizeof(out->directory), "%s",
		    e->answered_by ? e->answered_by : "");
	} else if (e->tried) {
		out->have = 1;
		snprintf(out->error, sizeof(out->error), "%s", e->error);
	}
	if (out->have && e->tried)
		out->valid_until = until_of(e->refresh_at);
}

/* ------------------------------------------------------------ AIA */

static void
aia_fetched(struct entry *e, const struct fetch_result *r, double now)
{
	struct der *certs = NULL;
	size_t n = 0;
	char *err = NULL;

	e->busy = 0;
	e->tried = 1;
	e->refresh_at = r->error ? now + CADATA_RETRY_SECONDS : next_refresh(r->fresh_until, now);
	if (r->body != NULL && (r->error == FETCH_ERR_NONE || e->ncerts == 0)) {
		if (aia_parse(r->body, r->len, &certs, &n, &err) == 0) {
			aia_certs_free(e->certs, e->ncerts);
			e->certs = certs;
			e->ncerts = n;
			e->error[0] = '\0';
		} else {
			aia_certs_free(e->certs, e->ncerts);
			e->certs = NULL;
			e->ncerts = 0;
			set_error(e, "caIssuers %s", err);
		}
	} else if (r->error && e->ncerts == 0) {
		set_error(e, "caIssuers fetch failed: %s", r->error_text ? r->error_text : "?");
	}
	free(err);
	notify(e);
}

void
cadata_aia(const char *url, int64_t now, const struct cadata_ref *ref, struct cadata_aia *out)
{
	char *key = xasprintf("aia %s", url);
	struct entry *e = lookup(K_AIA, key, url);
	static const struct fetch_opts opts = { .insecure = 1 };

	free(key);
	memset(out, 0, sizeof(*out));
	out->valid_until = INT64_MAX;
	if (e == NULL)
		return;
	if (maybe_fetch(e, FETCH_AIA, &opts, (double)now)) {
		out->waiting = 1;
		add_ref(e, ref);
	}
	if (e->tried) {
		out->have = 1;
		out->certs = e->certs;
		out->ncerts = e->ncerts;
		snprintf(out->error, sizeof(out->error), "%s", e->error);
		out->valid_until = until_of(e->refresh_at);
	}
}

/* ------------------------------------------------------------ fetches */

static void
fetch_done(const struct fetch_result *r, void *arg)
{
	struct entry *e = arg;
	double now = wall_now();

	e->w = NULL;
	switch (e->kind) {
	case K_CRL:
		crl_fetched(e, r, now);
		break;
	case K_OCSP:
		ocsp_fetched(e, r, now);
		break;
	case K_ARI:
		ari_fetched(e, r, now);
		break;
	case K_DIR:
		dir_fetched(e, r, now);
		break;
	case K_AIA:
		aia_fetched(e, r, now);
		break;
	case K_KEYDIR:
		break;
	}
}

/* ------------------------------------------------------------ life */

/* Entries nobody asked for lately go; what they held stays in the cache. */
static void
sweep_cb(struct loop_timer *t)
{
	double now = wall_now();

	(void)t;
	for (size_t i = 0; i < m.nbuckets; i++) {
		struct entry **pp = &m.table[i];

		while (*pp) {
			struct entry *e = *pp;

			if (!e->busy && e->kind != K_KEYDIR && e->kind != K_DIR &&
			    now - e->last_used > CADATA_IDLE_SECONDS) {
				*pp = e->hnext;
				m.nentries--;
				entry_free(e);
			} else {
				pp = &e->hnext;
			}
		}
	}
	if (m.loop)
		loop_timer_at(m.loop, &m.sweep, loop_now(m.loop) + SWEEP_MS);
}

void
cadata_setup(struct loop *l, struct work_pool *p, struct fetch *f,
    const struct cadata_settings *s)
{
	if (m.fetch != NULL && f != m.fetch) {
		/* another fetcher: nothing of the old one is waited for */
		for (size_t i = 0; i < m.nbuckets; i++)
			for (struct entry *e = m.table[i]; e; e = e->hnext)
				if (e->w || (e->kind == K_ARI && e->busy)) {
					/* (an ARI entry may wait for its directory) */
					fetch_cancel(m.fetch, e->w);
					e->w = NULL;
					e->busy = 0;
					free(e->dependents);
					e->dependents = NULL;
					e->ndependents = 0;
				}
	}
	m.loop = l;
	m.pool = p;
	m.fetch = f;
	m.refresh = s ? (double)s->refresh_ms / 1000.0 : 3600.0;
	for (size_t i = 0; i < m.ndirs; i++)
		free(m.dirs[i]);
	free(m.dirs);
	m.dirs = NULL;
	m.ndirs = 0;
	if (s && s->nacme_directories) {
		m.dirs = xcalloc(s->nacme_directories, sizeof(*m.dirs));
		for (size_t i = 0; i < s->nacme_directories; i++)
			m.dirs[i] = xstrdup(s->acme_directories[i]);
		m.ndirs = s->nacme_directories;
	}
	/* what a changed list of directories said for an issuer no longer holds */
	for (size_t i = 0; i < m.nbuckets; i++)
		for (struct entry *e = m.table[i]; e; e = e->hnext)
			if (e->kind == K_KEYDIR && e->keydir >= m.ndirs)
				e->keydir = 0;
	if (f != NULL) {
		fetch_set_freshness(f, FETCH_CRL, fresh_crl, NULL);
		fetch_set_freshness(f, FETCH_OCSP, fresh_ocsp, NULL);
		/* both judge their own validity (nextUpdate): a restart uses the
		 * cache's copy at once instead of calling a revoked leaf good
		 * while the copy is revalidated */
		fetch_set_stale_first(f, FETCH_CRL, 1);
		fetch_set_stale_first(f, FETCH_OCSP, 1);
		fetch_set_freshness(f, FETCH_ARI, fresh_ari, NULL);
		fetch_set_freshness(f, FETCH_AIA, fresh_aia, NULL);
	}
	if (l != NULL && !m.sweep_armed) {
		loop_timer_init(&m.sweep, sweep_cb);
		loop_timer_at(l, &m.sweep, loop_now(l) + SWEEP_MS);
		m.sweep_armed = 1;
	}
}

void
cadata_shutdown(void)
{
	/* parses in flight end first: their entries are still there */
	if (m.pool)
		work_drain(m.pool);
	for (size_t i = 0; i < m.nbuckets; i++) {
		struct entry *e, *next;

		for (e = m.table[i]; e; e = next) {
			next = e->hnext;
			entry_free(e);
		}
	}
	free(m.table);
	for (size_t i = 0; i < m.ndirs; i++)
		free(m.dirs[i]);
	free(m.dirs);
	if (m.sweep_armed && m.loop)
		loop_timer_cancel(m.loop, &m.sweep);
	memset(&m, 0, sizeof(m));
}

void
cadata_get_stats(struct cadata_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < m.nbuckets; i++)
		for (struct entry *e = m.table[i]; e; e = e->hnext) {
			st->busy += e->busy;
			if (e->kind == K_CRL && e->crl) {
				st->crls++;
				st->crl_entries += serials_count(e->crl->revoked);
				st->crl_bytes += serials_memory(e->crl->revoked);
			} else if (e->kind == K_OCSP && e->have_ans) {
				st->ocsp++;
			} else if (e->kind == K_ARI && e->have_win) {
				st->ari++;
			}
		}
}
