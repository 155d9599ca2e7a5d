/*
 * fetch.c - HTTP(S) fetches on the event loop.
 *
 * libcurl's multi interface is driven from our epoll loop: curl tells us
 * which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
 * (CURLMOPT_TIMERFUNCTION), and we hand every event back through
 * curl_multi_socket_action, so no fetch ever blocks the loop (curl's own
 * resolver runs names on a thread of its own).
 *
 * One entry per key (URL, POST body, TLS settings) holds the waiters, the
 * request in flight, and what is cached: the metadata in memory, the body
 * on disk (state_dir/fetch, cache.c), read back by a worker when a waiter
 * needs it. Every disk step of an entry runs on the worker pool, one at a
 * time per entry; while a write is pending the body stays in memory, so a
 * read never races a write. Everything else happens on the loop thread.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"
#include "fetch/cache.h"
#include "fetch/fetch.h"

#define FETCH_MAX_REDIRECTS 5
#define FETCH_SCAN_MS ((uint64_t)86400 * 1000)       /* the cache is recounted daily */
#define FETCH_IDLE_FORGET (30.0 * 86400)             /* unused entries leave memory */
#define FETCH_MAX_RETRY_AFTER (10.0 * 366 * 86400)

enum entry_state {
	E_IDLE,          /* nothing running; waiters (if any) get a kick soon */
	E_WAIT_SCAN,     /* waiting for the first count of the cache */
	E_LOADING,       /* reading the cache entry for the first time */
	E_QUEUED,        /* request waiting for a slot */
	E_RUNNING,       /* request in flight */
	E_READING,       /* reading the body back to deliver it */
	E_DELIVER,       /* about to call the waiters */
};

/* What the waiters get next. */
enum pending {
	P_NONE,
	P_CACHED,        /* fresh in the cache */
	P_OK,            /* a new body */
	P_NOT_MODIFIED,  /* revalidated */
	P_ERROR,         /* a failure (with the stale body when there is one) */
	P_STALE,         /* past its freshness, served while it is revalidated */
};

struct body {
	unsigned refs;   /* the entry and each write job in flight; loop thread only */
	size_t len;
	unsigned char *data;
};

struct fetch_waiter {
	struct fetch_waiter *prev, *next;
	struct fetch_entry *e;
	fetch_cb cb;
	void *arg;
	int delivering;     /* in the list deliver() is calling */
	int cancelled;      /* ... and cancelled by an earlier callback */
};

struct fetch_req;

struct fetch_entry {
	struct fetch *f;
	char hex[65];
	struct fetch_entry *hnext;      /* hash chain */
	char *url;
	enum fetch_kind kind;
	char *ca_file;
	int insecure, no_redirects;
	unsigned char *post;
	size_t post_len;
	char *post_type;
	char *resolve;                  /* fetch_opts.resolve, the latest */

	enum entry_state state;
	enum pending pending;
	int loaded;                     /* the disk was asked once this run */
	int revalidate;                 /* a stale body is being delivered: ask the
	                                 * server once its waiters have it */
	int have_meta;                  /* a body is cached (on disk, or in memory) */
	struct cache_meta meta;
	struct body *body;              /* in memory: see above */
	struct fetch_waiter *whead, *wtail;
	struct fetch_req *req;
	struct fetch_entry *qnext;      /* queue for a slot, or for the scan */
	struct loop_timer kick;
	/* the last failure, remembered for error_hold_ms */
	uint64_t error_until;
	enum fetch_error error;
	char *error_text;
	long http_status;
	int failing;                    /* logged as failing; cleared (and logged) on success */
	/* disk: one job at a time */
	int io_busy;
	int write_again;                /* a newer state to write once the current job is done */
	int write_body_again;
	double last_used;
};

struct fetch_sock {
	struct loop_watch w;
	struct fetch *f;
	struct fetch_sock *prev, *next;
};

struct fetch_req {
	struct fetch_entry *e;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *resolve;     /* CURLOPT_RESOLVE's one entry */
	struct buf body;
	uint64_t max;
	int too_large;
	int conditional;
	char errbuf[CURL_ERROR_SIZE];
};

struct fetch {
	struct loop *loop;
	struct work_pool *pool;
	char *dir;
	struct fetch_settings set;
	char *proxy;
	CURLM *multi;
	struct loop_timer curl_timer;
	struct fetch_sock *socks;
	struct {
		fetch_fresh_fn fn;
		void *arg;
		int stale_first;        /* fetch_set_stale_first */
	} fresh[FETCH_NKINDS];
	struct fetch_entry **table;
	size_t nbuckets, nentries;
	struct fetch_entry *qhead, *qtail;     /* waiting for a slot */
	struct fetch_entry *scan_wait;         /* waiting for the first scan */
	size_t running, queued;
	int scanned;                           /* the first scan is done (or no dir) */
	int scanning;
	int closing;
	struct loop_timer scan_timer;
	uint64_t requests[FETCH_NKINDS][FETCH_NOUTCOMES];
	uint64_t cache_entries, cache_bytes;   /* on disk; in memory without dir */
	int write_failing;
};

static void advance(struct fetch_entry *e);
static void deliver(struct fetch_entry *e);
static void start_request(struct fetch_entry *e);

static const char *const kind_names[FETCH_NKINDS] = {
	"crl", "ocsp", "ari", "aia", "mta_sts",
};
static const char *const outcome_names[FETCH_NOUTCOMES] = { "ok", "not_modified", "error" };

const char *
fetch_kind_name(enum fetch_kind k)
{
	return (unsigned)k < FETCH_NKINDS ? kind_names[k] : "other";
}

const char *
fetch_outcome_name(enum fetch_outcome o)
{
	return (unsigned)o < FETCH_NOUTCOMES ? outcome_names[o] : "error";
}

/* ------------------------------------------------------------ bodies */

static struct body *
body_new(unsigned char *data, size_t len)
{
	struct body *b = xcalloc(1, sizeof(*b));

	b->refs = 1;
	b->data = data;
	b->len = len;
	return b;
}

static struct body *
body_ref(struct body *b)
{
	if (b)
		b->refs++;
	return b;
}

static void
body_unref(struct body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	free(b->data);
	free(b);
}

/* Drop the in-memory body when the disk holds it and nobody needs it. */
static void
maybe_drop_body(struct fetch_entry *e)
{
	if (e->f->dir == NULL || e->io_busy || e->state != E_IDLE || e->whead != NULL)
		return;
	body_unref(e->body);
	e->body = NULL;
}

/* ------------------------------------------------------------ entries */

static size_t
bucket_of(const struct fetch *f, const char *hex)
{
	return (size_t)(hash64(hex, 64) % f->nbuckets);
}

static void
table_grow(struct fetch *f)
{
	size_t n = f->nbuckets ? f->nbuckets * 2 : 64;
	struct fetch_entry **t = xcalloc(n, sizeof(*t));
	struct fetch_entry **old = f->table;
	size_t oldn = f->nbuckets;

	f->table = t;
	f->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct fetch_entry *e = old[i], *next;

		for (; e != NULL; e = next) {
			size_t b = bucket_of(f, e->hex);
			next = e->hnext;
			e->hnext = t[b];
			t[b] = e;
		}
	}
	free(old);
}

static struct fetch_entry *
entry_find(struct fetch *f, const char *hex)
{
	if (f->nbuckets == 0)
		return NULL;
	for (struct fetch_entry *e = f->table[bucket_of(f, hex)]; e != NULL; e = e->hnext)
		if (strcmp(e->hex, hex) == 0)
			return e;
	return NULL;
}

static void
kick_cb(struct loop_timer *t)
{
	struct fetch_entry *e = container_of(t, struct fetch_entry, kick);

	if (e->state == E_DELIVER)
		deliver(e);
	else if (e->state == E_IDLE && e->whead != NULL)
		advance(e);
}

/* Run the entry's next step from the loop, not from the caller's stack. */
static void
kick(struct fetch_entry *e)
{
	loop_timer_at(e->f->loop, &e->kick, loop_now(e->f->loop));
}

static struct fetch_entry *
entry_new(struct fetch *f, const char *hex, const char *url, enum fetch_kind kind,
    const struct fetch_opts *o)
{
	struct fetch_entry *e = xcalloc(1, sizeof(*e));
	size_t b;

	e->f = f;
	memcpy(e->hex, hex, 65);
	e->url = xstrdup(url);
	e->kind = kind;
	e->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	e->insecure = o->insecure;
	e->no_redirects = o->no_redirects;
	if (o->post != NULL) {
		e->post = xmalloc(o->post_len ? o->post_len : 1);
		memcpy(e->post, o->post, o->post_len);
		e->post_len = o->post_len;
		e->post_type = o->post_type ? xstrdup(o->post_type) : NULL;
	}
	e->resolve = o->resolve ? xstrdup(o->resolve) : NULL;
	e->loaded = f->dir == NULL;
	loop_timer_init(&e->kick, kick_cb);
	if (f->nentries + 1 > f->nbuckets)
		table_grow(f);
	b = bucket_of(f, hex);
	e->hnext = f->table[b];
	f->table[b] = e;
	f->nentries++;
	return e;
}

static void
entry_free(struct fetch_entry *e)
{
	struct fetch_waiter *w, *next;

	for (w = e->whead; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	loop_timer_cancel(e->f->loop, &e->kick);
	cache_meta_free(&e->meta);
	body_unref(e->body);
	free(e->url);
	free(e->ca_file);
	free(e->post);
	free(e->post_type);
	free(e->resolve);
	free(e->error_text);
	free(e);
}

/* ------------------------------------------------------------ disk jobs */

enum io_op { IO_LOAD, IO_READ, IO_WRITE, IO_SCAN };

struct io_job {
	struct work_job w;
	struct fetch *f;
	struct fetch_entry *e;       /* NULL for a scan */
	enum io_op op;
	char *dir;
	char hex[65];
	char *url;
	/* read: what was found */
	int found;
	struct cache_meta meta;
	unsigned char *data;
	/* write: what to write */
	struct body *body;           /* NULL: the meta only */
	int rc, err;
	const char *what;
	char *path;
	struct cache_delta delta;
	/* scan */
	double now;
	uint64_t entries, bytes;
};

static void
io_run(struct work_job *w)
{
	struct io_job *j = container_of(w, struct io_job, w);

	switch (j->op) {
	case IO_LOAD:
	case IO_READ:
		j->found = cache_read(j->dir, j->hex, j->url, 1, &j->meta, &j->data, &j->delta);
		break;
	case IO_WRITE:
		j->rc = cache_write(j->dir, j->hex, &j->meta, j->body ? j->body->data : NULL,
		    &j->what, &j->path, &j->delta);
		j->err = errno;
		break;
	case IO_SCAN:
		cache_scan(j->dir, j->now, &j->entries, &j->bytes);
		break;
	}
}

static void
apply_delta(struct fetch *f, const struct cache_delta *d)
{
	int64_t ne = (int64_t)f->cache_entries + d->entries;
	int64_t nb = (int64_t)f->cache_bytes + d->bytes;

	f->cache_entries = ne > 0 ? (uint64_t)ne : 0;
	f->cache_bytes = nb > 0 ? (uint64_t)nb : 0;
}

static void io_done(struct work_job *w);

static struct io_job *
io_job_new(struct fetch *f, struct fetch_entry *e, enum io_op op)
{
	struct io_job *j = xcalloc(1, sizeof(*j));

	j->w.run = io_run;
	j->w.done = io_done;
	j->f = f;
	j->e = e;
	j->op = op;
	j->dir = xstrdup(f->dir);
	if (e != NULL) {
		memcpy(j->hex, e->hex, 65);
		j->url = xstrdup(e->url);
		e->io_busy = 1;
	}
	return j;
}

static void
io_job_free(struct io_job *j)
{
	cache_meta_free(&j->meta);
	free(j->data);
	body_unref(j->body);
	free(j->dir);
	free(j->url);
	free(j->path);
	free(j);
}

/* Write e's current state: its meta, and its body too when with_body. */
static void
submit_write(struct fetch_entry *e, int with_body)
{
	struct io_job *j;

	if (e->f->dir == NULL || !e->have_meta)
		return;
	if (e->io_busy) {
		e->write_again = 1;
		e->write_body_again |= with_body;
		return;
	}
	j = io_job_new(e->f, e, IO_WRITE);
	cache_meta_copy(&j->meta, &e->meta);
	if (with_body)
		j->body = body_ref(e->body);
	work_submit(e->f->pool, &j->w);
}

static void
write_done(struct fetch *f, struct io_job *j)
{
	if (j->rc == -1) {
		errno = j->err;
		if (!f->write_failing)
			log_warn("fetch cache: cannot %s %s (the body stays in memory "
			    "until it can be written; further errors are not logged)",
			    j->what, j->path ? j->path : j->dir);
		f->write_failing = 1;
	} else if (f->write_failing) {
		log_info("fetch cache %s: writing works again", f->dir);
		f->write_failing = 0;
	}
}

static void
load_done(struct fetch_entry *e, struct io_job *j)
{
	e->loaded = 1;
	if (j->found == 1 && !e->have_meta) {
		cache_meta_free(&e->meta);
		e->meta = j->meta;
		memset(&j->meta, 0, sizeof(j->meta));
		body_unref(e->body);
		e->body = body_new(j->data, (size_t)e->meta.body_size);
		j->data = NULL;
		e->have_meta = 1;
	} else if (j->found == -1) {
		log_debug("fetch cache: damaged entry for %s removed; fetching again", e->url);
	}
	e->state = E_IDLE;
	advance(e);
}

static void
read_done(struct fetch_entry *e, struct io_job *j)
{
	if (j->found == 1 && e->have_meta &&
	    memcmp(j->meta.body_sha256, e->meta.body_sha256, 32) == 0) {
		body_unref(e->body);
		e->body = body_new(j->data, (size_t)e->meta.body_size);
		j->data = NULL;
		deliver(e);
		return;
	}
	/* the body on disk is gone or damaged: only a refetch can help */
	if (j->found == -1)
		log_debug("fetch cache: damaged entry for %s removed; fetching again", e->url);
	e->have_meta = 0;
	cache_meta_free(&e->meta);
	if (e->pending == P_ERROR) {
		deliver(e);
		return;
	}
	e->revalidate = 0;      /* nothing stale to give: the waiters wait for the server */
	e->pending = P_NONE;
	e->state = E_IDLE;
	start_request(e);
}

static void scan_done(struct fetch *f, struct io_job *j);

static void
io_done(struct work_job *w)
{
	struct io_job *j = container_of(w, struct io_job, w);
	struct fetch *f = j->f;
	struct fetch_entry *e = j->e;

	apply_delta(f, &j->delta);
	if (e != NULL)
		e->io_busy = 0;
	if (f->closing) {
		io_job_free(j);
		return;
	}
	switch (j->op) {
	case IO_LOAD:
		load_done(e, j);
		break;
	case IO_READ:
		read_done(e, j);
		break;
	case IO_WRITE:
		write_done(f, j);
		break;
	case IO_SCAN:
		scan_done(f, j);
		break;
	}
	io_job_free(j);
	if (e != NULL && !e->io_busy && e->write_again) {
		int with_body = e->write_body_again;

		e->write_again = e->write_body_again = 0;
		submit_write(e, with_body);
	}
	if (e != NULL)
		maybe_drop_body(e);
}

static void
submit_read(struct fetch_entry *e, enum io_op op)
{
	struct io_job *j = io_job_new(e->f, e, op);

	e->state = op == IO_LOAD ? E_LOADING : E_READING;
	work_submit(e->f->pool, &j->w);
}

static void
scan_start(struct fetch *f)
{
	struct io_job *j;

	if (f->dir == NULL || f->scanning)
		return;
	j = io_job_new(f, NULL, IO_SCAN);
	j->now = wall_now();
	f->scanning = 1;
	work_submit(f->pool, &j->w);
}

static void
scan_done(struct fetch *f, struct io_job *j)
{
	struct fetch_entry *e, *next;

	f->scanning = 0;
	f->cache_entries = j->entries;
	f->cache_bytes = j->bytes;
	if (f->scanned)
		return;
	f->scanned = 1;
	for (e = f->scan_wait, f->scan_wait = NULL; e != NULL; e = next) {
		next = e->qnext;
		e->qnext = NULL;
		e->state = E_IDLE;
		advance(e);
	}
}

/* Once a day: recount the cache, drop long-unused entries from it and
 * from memory. */
static void
scan_timer_cb(struct loop_timer *t)
{
	struct fetch *f = container_of(t, struct fetch, scan_timer);
	double now = wall_now();

	for (size_t i = 0; i < f->nbuckets; i++) {
		struct fetch_entry **pp = &f->table[i];

		while (*pp != NULL) {
			struct fetch_entry *e = *pp;

			if (e->state == E_IDLE && e->whead == NULL && !e->io_busy &&
			    e->last_used + FETCH_IDLE_FORGET < now &&
			    (!e->have_meta || e->meta.fresh_until + FETCH_IDLE_FORGET < now)) {
				*pp = e->hnext;
				f->nentries--;
				if (f->dir == NULL && e->have_meta) {
					f->cache_entries--;
					f->cache_bytes -= e->meta.body_size;
				}
				entry_free(e);
			} else
				pp = &e->hnext;
		}
	}
	scan_start(f);
	loop_timer_at(f->loop, &f->scan_timer, loop_now(f->loop) + FETCH_SCAN_MS);
}

/* ------------------------------------------------------------ delivery */

static double
fresh_until(struct fetch_entry *e, const struct fetch_result *r)
{
	struct fetch *f = e->f;
	double t;

	if (f->fresh[e->kind].fn == NULL)
		return r->fetched;
	t = f->fresh[e->kind].fn(r, f->fresh[e->kind].arg);
	if (!(t >= 0))
		t = 0;          /* NaN or negative: not fresh */
	if (t > (double)TIME_MAX_EPOCH)
		t = (double)TIME_MAX_EPOCH;
	return t;
}

static void
fill_result(const struct fetch_entry *e, struct fetch_result *r)
{
	memset(r, 0, sizeof(*r));
	r->url = e->url;
	r->kind = e->kind;
	if (e->pending == P_ERROR) {
		r->error = e->error;
		r->error_text = e->error_text;
	}
	r->http_status = e->pending == P_CACHED ? 0 : e->http_status;
	r->from_cache = e->pending == P_CACHED || e->pending == P_STALE;
	r->stale = e->pending == P_STALE;
	r->not_modified = e->pending == P_NOT_MODIFIED;
	if (e->have_meta && e->body != NULL) {
		r->body = e->body->data;
		r->len = e->body->len;
		r->body_sha256 = e->meta.body_sha256;
		r->content_type = e->meta.content_type;
		r->etag = e->meta.etag;
		r->last_modified = e->meta.last_modified;
		r->retry_after = e->meta.retry_after;
		r->fetched = e->meta.fetched;
		r->fresh_until = e->meta.fresh_until;
	}
}

/* Call every waiter with the pending result. */
static void
deliver(struct fetch_entry *e)
{
	struct fetch_waiter *w, *list;
	struct fetch_result r;
	struct body *hold;

	if (e->pending == P_NOT_MODIFIED && e->have_meta && e->body != NULL) {
		/* the freshness of a revalidated body is judged with its content */
		fill_result(e, &r);
		e->meta.fresh_until = fresh_until(e, &r);
		submit_write(e, 0);
	}
	fill_result(e, &r);
	hold = body_ref(e->body);       /* r points into it, whatever a callback does */
	list = e->whead;
	e->whead = e->wtail = NULL;
	e->state = E_IDLE;
	e->pending = P_NONE;
	e->last_used = wall_now();
	for (w = list; w != NULL; w = w->next)
		w->delivering = 1;
	while (list != NULL) {
		w = list;
		list = w->next;
		if (!w->cancelled)
			w->cb(&r, w->arg);
		free(w);
	}
	body_unref(hold);
	if (e->revalidate) {
		/* the stale body is out: now the server, for whoever asks next */
		e->revalidate = 0;
		if (e->state == E_IDLE)
			start_request(e);
	} else if (e->whead != NULL) {
		kick(e);        /* fetched again from a callback */
	} else {
		maybe_drop_body(e);
	}
}

/* Deliver e->pending, reading the body back first when it is on disk only. */
static void
prepare_delivery(struct fetch_entry *e, enum pending p)
{
	e->pending = p;
	if (e->have_meta && e->body == NULL) {
		submit_read(e, IO_READ);
		return;
	}
	e->state = E_DELIVER;
	kick(e);
}

/* The next step for an idle entry with waiters. */
static void
advance(struct fetch_entry *e)
{
	struct fetch *f = e->f;

	if (e->whead == NULL || e->state != E_IDLE)
		return;
	if (!e->loaded) {
		if (!f->scanned) {
			e->state = E_WAIT_SCAN;
			e->qnext = f->scan_wait;
			f->scan_wait = e;
			return;
		}
		submit_read(e, IO_LOAD);
		return;
	}
	if (e->have_meta && wall_now() < e->meta.fresh_until) {
		prepare_delivery(e, P_CACHED);
		return;
	}
	if (e->error_until > loop_now(f->loop)) {
		prepare_delivery(e, P_ERROR);
		return;
	}
	if (e->have_meta && f->fresh[e->kind].stale_first) {
		/* what the cache holds now, the server's word after */
		e->revalidate = 1;
		prepare_delivery(e, P_STALE);
		return;
	}
	start_request(e);
}

/* ------------------------------------------------------------ curl */

static void
log_failure(struct fetch_entry *e)
{
	if (!e->failing)
		log_warnx("fetch %s (%s): %s", e->url, fetch_kind_name(e->kind), e->error_text);
	else
		log_debug("fetch %s (%s): %s", e->url, fetch_kind_name(e->kind), e->error_text);
	e->failing = 1;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_req *q = arg;
	size_t len = size * n;

	if (len > q->max || q->body.len > q->max - len) {
		q->too_large = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	buf_append(&q->body, p, len);
	return len;
}

/* A header of the last answer, when it is fit to keep (cache_value_ok). */
static char *
get_header(CURL *h, const char *name)
{
	struct curl_header *hd;

	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK ||
	    hd->value == NULL || !cache_value_ok(hd->value, strlen(hd->value)))
		return NULL;
	return xstrdup(hd->value);
}

/* Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3), as a wall time. */
static double
retry_after(CURL *h, double now)
{
	struct curl_header *hd;
	const char *v;

	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK ||
	    (v = hd->value) == NULL || strlen(v) > 64)
		return 0;
	if (*v >= '0' && *v <= '9' && strspn(v, "0123456789") == strlen(v)) {
		double d = strlen(v) > 12 ? FETCH_MAX_RETRY_AFTER : strtod(v, NULL);
		return now + (d < FETCH_MAX_RETRY_AFTER ? d : FETCH_MAX_RETRY_AFTER);
	} else {
		time_t t = curl_getdate(v, NULL);
		if (t == -1 || !time_epoch_ok((int64_t)t))
			return 0;
		return (double)t;
	}
}

static void
format_ms(char *out, size_t size, uint64_t ms)
{
	if (ms % 1000)
		snprintf(out, size, "%llums", (unsigned long long)ms);
	else
		snprintf(out, size, "%llus", (unsigned long long)(ms / 1000));
}

static void
set_error(struct fetch_entry *e, enum fetch_error err, char *text)
{
	free(e->error_text);
	e->error = err;
	e->error_text = text;
	e->error_until = loop_now(e->f->loop) + (e->f->set.error_hold_ms ?
	    e->f->set.error_hold_ms : FETCH_ERROR_HOLD_MS);
}

static void
req_free(struct fetch_req *q)
{
	if (q == NULL)
		return;
	if (q->easy) {
		curl_multi_remove_handle(q->e->f->multi, q->easy);
		curl_easy_cleanup(q->easy);
	}
	curl_slist_free_all(q->headers);
	curl_slist_free_all(q->resolve);
	buf_free(&q->body);
	free(q);
}

static void start_queued(struct fetch *f);

/* A request ended: decide what it means, then let the waiters know. */
static void
req_done(struct fetch_req *q, CURLcode rc)
{
	struct fetch_entry *e = q->e;
	struct fetch *f = e->f;
	long code = 0;
	double now = wall_now();
	enum fetch_outcome out;

	curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
	e->http_status = code;
	e->req = NULL;
	f->running--;

	if (rc == CURLE_OK && code == 200) {
		struct fetch_result r;
		struct cache_meta *m = &e->meta;
		int had = e->have_meta;

		out = FETCH_OUT_OK;
		cache_meta_free(m);
		m->url = xstrdup(e->url);
		m->kind = e->kind;
		m->fetched = now;
		m->etag = get_header(q->easy, "ETag");
		m->last_modified = get_header(q->easy, "Last-Modified");
		m->content_type = get_header(q->easy, "Content-Type");
		m->retry_after = retry_after(q->easy, now);
		m->body_size = q->body.len;
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, q->body.data ? q->body.data : "",
		    q->body.len, m->body_sha256) < 0)
			abort();
		body_unref(e->body);
		e->body = body_new((unsigned char *)buf_steal(&q->body), m->body_size);
		e->have_meta = 1;
		e->pending = P_OK;
		fill_result(e, &r);
		m->fresh_until = fresh_until(e, &r);
		if (f->dir == NULL && !had) {
			f->cache_entries++;
			f->cache_bytes += m->body_size;
		}
		submit_write(e, 1);
		e->error_until = 0;
	} else if (rc == CURLE_OK && code == 304 && q->conditional && e->have_meta) {
		double ra = retry_after(q->easy, now);
		char *v;

		out = FETCH_OUT_NOT_MODIFIED;
		e->meta.fetched = now;
		if ((v = get_header(q->easy, "ETag")) != NULL) {
			free(e->meta.etag);
			e->meta.etag = v;
		}
		if ((v = get_header(q->easy, "Last-Modified")) != NULL) {
			free(e->meta.last_modified);
			e->meta.last_modified = v;
		}
		e->meta.retry_after = ra;
		e->pending = P_NOT_MODIFIED;
		e->error_until = 0;
	} else {
		char t[32];

		out = FETCH_OUT_ERROR;
		if (rc == CURLE_OK)
			set_error(e, FETCH_ERR_HTTP, xasprintf("HTTP %ld", code));
		else if ((rc == CURLE_WRITE_ERROR && q->too_large) || rc == CURLE_FILESIZE_EXCEEDED)
			set_error(e, FETCH_ERR_TOO_LARGE, xasprintf("larger than max_size (%llu bytes)",
			    (unsigned long long)q->max));
		else if (rc == CURLE_OPERATION_TIMEDOUT) {
			format_ms(t, sizeof(t), f->set.timeout_ms);
			set_error(e, FETCH_ERR_TIMEOUT, xasprintf("timed out after %s", t));
		} else {
			const char *text = q->errbuf[0] ? q->errbuf : curl_easy_strerror(rc);
			int connect = rc == CURLE_COULDNT_RESOLVE_HOST ||
			    rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_COULDNT_CONNECT ||
			    rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
			    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_RECV_ERROR ||
			    rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_PROXY;
			set_error(e, rc == CURLE_PEER_FAILED_VERIFICATION ? FETCH_ERR_VERIFY :
			    connect ? FETCH_ERR_CONNECT : FETCH_ERR_OTHER, xstrdup(text));
		}
		e->pending = P_ERROR;
	}
	f->requests[e->kind][out]++;
	if (out == FETCH_OUT_ERROR)
		log_failure(e);
	else if (e->failing) {
		log_info("fetch %s (%s): works again", e->url, fetch_kind_name(e->kind));
		e->failing = 0;
	}
	log_debug("fetch %s (%s): %s, HTTP %ld, %zu bytes", e->url, fetch_kind_name(e->kind),
	    fetch_outcome_name(out), code, e->body ? e->body->len : (size_t)0);
	req_free(q);
	prepare_delivery(e, e->pending);
	start_queued(f);
}

static void
check_done(struct fetch *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct fetch_req *q;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
		req_done(q, msg->data.result);
	}
}

static void
sock_event(struct loop_watch *w, uint32_t events)
{
	struct fetch_sock *s = container_of(w, struct fetch_sock, w);
	struct fetch *f = s->f;
	int mask = 0, running;

	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	/* s may be freed inside (CURL_POLL_REMOVE): not touched after */
	curl_multi_socket_action(f->multi, w->fd, mask, &running);
	check_done(f);
}

static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct fetch *f = userp;
	struct fetch_sock *s = socketp;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			loop_watch_del(f->loop, &s->w);
			if (s->prev)
				s->prev->next = s->next;
			else
				f->socks = s->next;
			if (s->next)
				s->next->prev = s->prev;
			free(s);
			curl_multi_assign(f->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->w.fd = fd;
		s->w.cb = sock_event;
		s->f = f;
		s->next = f->socks;
		if (f->socks)
			f->socks->prev = s;
		f->socks = s;
		curl_multi_assign(f->multi, fd, s);
		/* a descriptor number curl closed without telling may still be known */
		if (loop_watch_add(f->loop, &s->w, events) == -1 &&
		    (errno != EEXIST || loop_watch_mod(f->loop, &s->w, events) == -1))
			log_warn("fetch: cannot watch descriptor %d", fd);
	} else if (loop_watch_mod(f->loop, &s->w, events) == -1 &&
	    (errno != ENOENT || loop_watch_add(f->loop, &s->w, events) == -1)) {
		log_warn("fetch: cannot watch descriptor %d", fd);
	}
	return 0;
}

static void
curl_timer_cb(struct loop_timer *t)
{
	struct fetch *f = container_of(t, struct fetch, curl_timer);
	int running;

	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch *f = userp;

	(void)multi;
	if (timeout_ms < 0)
		loop_timer_cancel(f->loop, &f->curl_timer);
	else
		loop_timer_at(f->loop, &f->curl_timer, mono_ms() + (uint64_t)timeout_ms);
	return 0;
}

static void
add_header(struct fetch_req *q, const char *name, const char *value)
{
	char *h = xasprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(q->headers, h);

	free(h);
	if (l == NULL)
		fatalx("out of memory");
	q->headers = l;
}

/* "HOST:PORT:ADDRESS" pinning url's host to address (brackets around an
 * IPv6 one, as curl wants), or NULL when url has no host (curl then fails
 * the request itself). */
static char *
resolve_entry(const char *url, const char *address)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *out = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		out = xasprintf("%s:%s:%s%s%s", host, port, strchr(address, ':') ? "[" : "",
		    address, strchr(address, ':') ? "]" : "");
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* Start e's request now: a slot is free. */
static void
run_request(struct fetch_entry *e)
{
	struct fetch *f = e->f;
	struct fetch_req *q = xcalloc(1, sizeof(*q));
	CURL *h;

	q->e = e;
	q->max = f->set.max_size;
	buf_init(&q->body);
	if ((h = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	q->easy = h;
	curl_easy_setopt(h, CURLOPT_URL, e->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, q);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)f->set.timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)f->set.timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, e->no_redirects ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->set.max_size);
	/* "" disables proxies, the environment's (http_proxy, ...) included */
	curl_easy_setopt(h, CURLOPT_PROXY, f->proxy ? f->proxy : "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	if (e->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->ca_file);
	if (e->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (e->post != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)e->post_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, e->post);
		if (e->post_type)
			add_header(q, "Content-Type", e->post_type);
		add_header(q, "Expect", "");
	}
	if (e->have_meta && e->meta.etag) {
		add_header(q, "If-None-Match", e->meta.etag);
		q->conditional = 1;
	}
	if (e->have_meta && e->meta.last_modified) {
		add_header(q, "If-Modified-Since", e->meta.last_modified);
		q->conditional = 1;
	}
	if (q->headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, q->headers);
	if (e->resolve) {
		char *pin = resolve_entry(e->url, e->resolve);

		if (pin) {
			q->resolve = curl_slist_append(NULL, pin);
			free(pin);
			if (q->resolve == NULL)
				fatalx("curl_slist_append: out of memory");
			curl_easy_setopt(h, CURLOPT_RESOLVE, q->resolve);
		}
	}
	e->req = q;
	e->state = E_RUNNING;
	f->running++;
	if (curl_multi_add_handle(f->multi, h) != CURLM_OK) {
		/* only misuse makes this fail; end the request as an error */
		f->running--;
		e->req = NULL;
		curl_easy_cleanup(h);
		q->easy = NULL;
		req_free(q);
		set_error(e, FETCH_ERR_OTHER, xstrdup("curl_multi_add_handle failed"));
		f->requests[e->kind][FETCH_OUT_ERROR]++;
		log_failure(e);
		prepare_delivery(e, P_ERROR);
	}
}

static void
start_queued(struct fetch *f)
{
	while (f->qhead != NULL && f->running < f->set.concurrency) {
		struct fetch_entry *e = f->qhead;

		f->qhead = e->qnext;
		if (f->qhead == NULL)
			f->qtail = NULL;
		e->qnext = NULL;
		f->queued--;
		run_request(e);
	}
}

static void
start_request(struct fetch_entry *e)
{
	struct fetch *f = e->f;

	if (f->running < f->set.concurrency) {
		run_request(e);
		return;
	}
	e->state = E_QUEUED;
	e->qnext = NULL;
	if (f->qtail)
		f->qtail->qnext = e;
	else
		f->qhead = e;
	f->qtail = e;
	f->queued++;
}

/* ------------------------------------------------------------ interface */

static void
copy_settings(struct fetch *f, const struct fetch_settings *s)
{
	free(f->proxy);
	f->set = *s;
	f->proxy = s->proxy ? xstrdup(s->proxy) : NULL;
	f->set.proxy = f->proxy;
	if (f->set.concurrency == 0)
		f->set.concurrency = 1;
	if (f->set.timeout_ms == 0)
		f->set.timeout_ms = 10000;
	if (f->set.max_size == 0)
		f->set.max_size = (uint64_t)64 << 20;
}

struct fetch *
fetch_new(struct loop *l, struct work_pool *p, const char *dir, const struct fetch_settings *s)
{
	static int curl_ready;
	struct fetch *f = xcalloc(1, sizeof(*f));

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("curl_global_init failed");
		curl_ready = 1;
	}
	f->loop = l;
	f->pool = p;
	f->dir = dir ? xstrdup(dir) : NULL;
	copy_settings(f, s);
	if ((f->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	loop_timer_init(&f->curl_timer, curl_timer_cb);
	loop_timer_init(&f->scan_timer, scan_timer_cb);
	f->scanned = f->dir == NULL;
	scan_start(f);
	loop_timer_at(l, &f->scan_timer, loop_now(l) + FETCH_SCAN_MS);
	return f;
}

void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	f->closing = 1;
	work_drain(f->pool);
	for (size_t i = 0; i < f->nbuckets; i++) {
		struct fetch_entry *e, *next;

		for (e = f->table[i]; e != NULL; e = next) {
			next = e->hnext;
			req_free(e->req);
			entry_free(e);
		}
	}
	free(f->table);
	curl_multi_cleanup(f->multi);
	while (f->socks != NULL) {
		struct fetch_sock *s = f->socks;

		f->socks = s->next;
		loop_watch_del(f->loop, &s->w);
		free(s);
	}
	loop_timer_cancel(f->loop, &f->curl_timer);
	loop_timer_cancel(f->loop, &f->scan_timer);
	free(f->proxy);
	free(f->dir);
	free(f);
}

void
fetch_set_settings(struct fetch *f, const struct fetch_settings *s)
{
	copy_settings(f, s);
	start_queued(f);
}

void
fetch_set_freshness(struct fetch *f, enum fetch_kind kind, fetch_fresh_fn fn, void *arg)
{
	if ((unsigned)kind >= FETCH_NKINDS)
		return;
	f->fresh[kind].fn = fn;
	f->fresh[kind].arg = arg;
}

void
fetch_set_stale_first(struct fetch *f, enum fetch_kind kind, int on)
{
	if ((unsigned)kind < FETCH_NKINDS)
		f->fresh[kind].stale_first = on != 0;
}

struct fetch_waiter *
fetch(struct fetch *f, const char *url, enum fetch_kind kind, const struct fetch_opts *opts,
    fetch_cb cb, void *arg)
{
	static const struct fetch_opts none;
	const struct fetch_opts *o = opts ? opts : &none;
	struct fetch_waiter *w = xcalloc(1, sizeof(*w));
	struct fetch_entry *e;
	char hex[65];

	if ((unsigned)kind >= FETCH_NKINDS)
		kind = FETCH_AIA;
	cache_key(url, o->post, o->post_len, o->ca_file, o->insecure, hex);
	if ((e = entry_find(f, hex)) == NULL) {
		e = entry_new(f, hex, url, kind, o);
	} else if (o->resolve && (e->resolve == NULL || strcmp(e->resolve, o->resolve) != 0)) {
		free(e->resolve);
		e->resolve = xstrdup(o->resolve);
	}
	if (strlen(url) > CACHE_MAX_URL && e->state == E_IDLE && e->error_until == 0) {
		/* refused before any request: held like any failure */
		set_error(e, FETCH_ERR_OTHER, xasprintf("URL longer than %d bytes", CACHE_MAX_URL));
	}
	w->e = e;
	w->cb = cb;
	w->arg = arg;
	w->prev = e->wtail;
	if (e->wtail)
		e->wtail->next = w;
	else
		e->whead = w;
	e->wtail = w;
	e->last_used = wall_now();
	if (e->state == E_IDLE)
		kick(e);
	return w;
}

void
fetch_cancel(struct fetch *f, struct fetch_waiter *w)
{
	struct fetch_entry *e;

	(void)f;
	if (w == NULL)
		return;
	if (w->delivering) {
		w->cancelled = 1;       /* deliver() frees it */
		return;
	}
	e = w->e;
	if (w->prev)
		w->prev->next = w->next;
	else
		e->whead = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		e->wtail = w->prev;
	free(w);
}

void
fetch_get_stats(const struct fetch *f, struct fetch_stats *st)
{
	memcpy(st->requests, f->requests, sizeof(st->requests));
	st->cache_entries = f->cache_entries;
	st->cache_bytes = f->cache_bytes;
	st->in_flight = f->running;
	st->queued = f->queued;
}

const char *
fetch_check_proxy(const char *s)
{
	static const char *const schemes[] = {
		"http", "https", "socks4", "socks4a", "socks5", "socks5h",
	};
	const char *msg = NULL;
	char *scheme = NULL, *host = NULL, *path = NULL;
	CURLU *u;
	size_t i;

	if (*s == '\0')
		return "must not be empty (leave it out for no proxy)";
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return "must not contain spaces or control characters";
	if ((u = curl_url()) == NULL)
		fatalx("out of memory");
	/* a proxy without a scheme is HTTP, as curl takes it */
	if (curl_url_set(u, CURLUPART_URL, s, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || *host == '\0') {
		msg = "not a proxy URL (use e.g. \"http://proxy:3128\")";
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strcmp(scheme, schemes[i]) == 0)
			break;
	if (i == ARRAY_SIZE(schemes)) {
		msg = "unsupported proxy scheme (use http, https, socks4, socks4a, socks5 or socks5h)";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strcmp(path, "/") != 0 && *path != '\0')
		msg = "a proxy URL has no path";
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	return msg;
}
