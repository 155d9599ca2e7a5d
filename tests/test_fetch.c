/* test_fetch.c - the fetcher against real servers on loopback: nginx for
 * bodies, validators (ETag, Last-Modified), conditional requests and 404;
 * tinyproxy as the proxy; a scripted peer for the one thing no server
 * plays on purpose (never answering). The cache's file format and its
 * damage are tested here too. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"
#include "fetch/cache.h"
#include "fetch/fetch.h"
#include "servers.h"

/* One completed fetch, copied out of the callback. */
struct got {
	int called;
	enum fetch_error error;
	char *error_text;
	long http_status;
	int from_cache, not_modified, stale;
	char *body;
	size_t len;
	char *etag, *last_modified, *content_type;
	double retry_after, fresh_until;
	uint64_t at_ms;
};

struct env {
	struct loop *loop;
	struct work_pool *pool;
	struct fetch *f;
	char *dir;              /* state_dir/fetch */
	char *www;              /* what nginx serves */
	struct server *nginx;
	struct fetch_settings set;
	double fresh_for;       /* the freshness rule: fetched + this (seconds) */
	int fresh_calls;
};

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void
got_cb(const struct fetch_result *r, void *arg)
{
	struct got *g = arg;

	g->called++;
	g->error = r->error;
	g->error_text = dup_or_null(r->error_text);
	g->http_status = r->http_status;
	g->from_cache = r->from_cache;
	g->not_modified = r->not_modified;
	g->stale = r->stale;
	if (r->body) {
		g->body = malloc(r->len + 1);
		memcpy(g->body, r->body, r->len);
		g->body[r->len] = '\0';
		g->len = r->len;
	}
	g->etag = dup_or_null(r->etag);
	g->last_modified = dup_or_null(r->last_modified);
	g->content_type = dup_or_null(r->content_type);
	g->retry_after = r->retry_after;
	g->fresh_until = r->fresh_until;
	g->at_ms = mono_ms();
}

static void
got_clear(struct got *g)
{
	free(g->error_text);
	free(g->body);
	free(g->etag);
	free(g->last_modified);
	free(g->content_type);
	memset(g, 0, sizeof(*g));
}

static double
fresh_rule(const struct fetch_result *r, void *arg)
{
	struct env *e = arg;

	e->fresh_calls++;
	return r->fetched + e->fresh_for;
}

static void
env_fetcher(struct env *e)
{
	e->f = fetch_new(e->loop, e->pool, e->dir, &e->set);
	for (int k = 0; k < FETCH_NKINDS; k++)
		fetch_set_freshness(e->f, (enum fetch_kind)k, fresh_rule, e);
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char *err = NULL;
	char *base = tmpdir_new("fetch");

	e->loop = loop_new();
	e->pool = work_pool_new(e->loop, 2, "test-fetch", &err);
	assert_non_null(e->pool);
	e->www = xasprintf("%s/www", base);
	e->dir = xasprintf("%s/state/fetch", base);
	assert_int_equal(mkdir(e->www, 0755), 0);
	free(base);
	e->set = (struct fetch_settings){ .timeout_ms = 5000, .concurrency = 8,
		.max_size = 1 << 20 };
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char *base = xstrdup(e->www);

	fetch_free(e->f);
	work_pool_free(e->pool);
	loop_free(e->loop);
	server_stop(e->nginx);
	*strrchr(base, '/') = '\0';
	tmpdir_remove(base);
	free(e->www);
	free(e->dir);
	free(e);
	return 0;
}

/* Run the loop until every got in gs[0..n) was called, or fail after ms. */
static void
run_until(struct env *e, struct got *gs, size_t n, int ms)
{
	uint64_t deadline = mono_ms() + (uint64_t)ms;

	for (;;) {
		size_t done = 0;

		for (size_t i = 0; i < n; i++)
			done += gs[i].called > 0;
		if (done == n)
			return;
		if (mono_ms() > deadline)
			fail_msg("%zu of %zu fetches not answered within %d ms", n - done, n, ms);
		loop_run_once(e->loop, 50);
	}
}

static void
put_www(struct env *e, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", e->www, name);

	write_file(p, text, strlen(text));
	free(p);
}

static char *
url_of(struct env *e, const char *path)
{
	return xasprintf("http://127.0.0.1:%d/%s", e->nginx->port, path);
}

static void
fetch_one(struct env *e, const char *url, enum fetch_kind kind, const struct fetch_opts *o,
    struct got *g)
{
	got_clear(g);
	fetch(e->f, url, kind, o, got_cb, g);
	run_until(e, g, 1, 10000);
	assert_int_equal(g->called, 1);
}

static uint64_t
requests(struct env *e, enum fetch_kind k, enum fetch_outcome o)
{
	struct fetch_stats st;

	fetch_get_stats(e->f, &st);
	return st.requests[k][o];
}

/* A body, its validators, and the cache files written off the loop. */
static void
test_get(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct fetch_stats st;
	char *url, *meta;
	char hex[65];

	put_www(e, "a.crl", "certificate revocation list\n");
	e->nginx = nginx_start(e->www, NULL);
	env_fetcher(e);
	url = url_of(e, "a.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_null(g.error_text);
	assert_int_equal(g.http_status, 200);
	assert_false(g.from_cache);
	assert_string_equal(g.body, "certificate revocation list\n");
	assert_non_null(g.etag);
	assert_true(g.etag[0] == '"');
	assert_non_null(g.last_modified);
	assert_string_equal(g.content_type, "application/pkix-crl");
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_OK), 1);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_ERROR), 0);
	assert_int_equal(log_wait(e->nginx, "GET /a.crl 200", 1, 2000), 1);

	/* the write runs on a worker: drain, then the files are there */
	work_drain(e->pool);
	cache_key(url, NULL, 0, NULL, 0, hex);
	char *mp = xasprintf("%s/%s.meta", e->dir, hex);
	char *bp = xasprintf("%s/%s.body", e->dir, hex);
	size_t blen;
	char *body = read_file(bp, &blen);
	assert_non_null(body);
	assert_string_equal(body, "certificate revocation list\n");
	meta = read_file(mp, NULL);
	assert_non_null(meta);
	assert_non_null(strstr(meta, url));
	assert_non_null(strstr(meta, "kind crl\n"));
	fetch_get_stats(e->f, &st);
	assert_int_equal(st.cache_entries, 1);
	assert_int_equal(st.cache_bytes, blen + strlen(meta));
	free(body);
	free(meta);
	free(mp);
	free(bp);
	free(url);
	got_clear(&g);
}

/* Not fresh: the next fetch asks with If-None-Match and If-Modified-Since,
 * gets 304 and the cached body; a changed file comes back as 200. */
static void
test_conditional(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *url, *etag, *inm;

	put_www(e, "b.crl", "first version\n");
	e->nginx = nginx_start(e->www, NULL);
	e->fresh_for = 0;
	env_fetcher(e);
	url = url_of(e, "b.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.http_status, 200);
	etag = xstrdup(g.etag);

	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_true(g.not_modified);
	assert_false(g.from_cache);
	assert_int_equal(g.http_status, 304);
	assert_string_equal(g.body, "first version\n");
	assert_string_equal(g.etag, etag);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_NOT_MODIFIED), 1);
	/* nginx saw the validators it gave */
	inm = xasprintf("GET /b.crl 304 0 inm=[%s] ims=[%s]", etag, g.last_modified);
	assert_int_equal(log_wait(e->nginx, inm, 1, 2000), 1);
	assert_int_equal(e->fresh_calls, 2);   /* judged again after the 304 */

	/* a new file (new size, so a new ETag whatever the clock says) */
	sleep(1);
	put_www(e, "b.crl", "second version, longer\n");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.http_status, 200);
	assert_false(g.not_modified);
	assert_string_equal(g.body, "second version, longer\n");
	assert_string_not_equal(g.etag, etag);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_OK), 2);
	assert_int_equal(log_wait(e->nginx, "GET /b.crl 200", 2, 2000), 2);
	free(inm);
	free(etag);
	free(url);
	got_clear(&g);
}

/* A pre-resolved address: a name no resolver knows reaches nginx at the
 * address given, and the Host header still names it. */
static void
test_resolve(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct fetch_opts o = { .resolve = "127.0.0.1" };
	char *url;

	put_www(e, "p.crl", "pinned\n");
	e->nginx = nginx_start(e->www, NULL);
	env_fetcher(e);
	url = xasprintf("http://pinned.invalid:%d/p.crl", e->nginx->port);
	fetch_one(e, url, FETCH_CRL, &o, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_int_equal(g.http_status, 200);
	assert_string_equal(g.body, "pinned\n");
	assert_int_equal(log_wait(e->nginx, "GET /p.crl 200", 1, 2000), 1);
	free(url);

	/* without the pin the name does not resolve */
	url = xasprintf("http://unpinned.invalid:%d/p.crl", e->nginx->port);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_CONNECT);
	free(url);
	got_clear(&g);
}

/* Fresh: served from the cache, no request. */
static void
test_fresh(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *url;

	put_www(e, "c.crl", "fresh\n");
	e->nginx = nginx_start(e->www, NULL);
	e->fresh_for = 3600;
	env_fetcher(e);
	url = url_of(e, "c.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_false(g.from_cache);
	for (int i = 0; i < 3; i++) {
		fetch_one(e, url, FETCH_CRL, NULL, &g);
		assert_true(g.from_cache);
		assert_int_equal(g.http_status, 0);
		assert_string_equal(g.body, "fresh\n");
		assert_true(g.fresh_until > wall_now() + 3500);
	}
	usleep(200 * 1000);
	assert_int_equal(log_count(e->nginx, "/c.crl"), 1);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_OK), 1);
	free(url);
	got_clear(&g);
}

/* 404 is an error, remembered for error_hold_ms without asking again. */
static void
test_not_found(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *url;

	e->nginx = nginx_start(e->www, NULL);
	e->set.error_hold_ms = 500;
	env_fetcher(e);
	url = url_of(e, "missing.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_HTTP);
	assert_int_equal(g.http_status, 404);
	assert_string_equal(g.error_text, "HTTP 404");
	assert_null(g.body);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_ERROR), 1);
	assert_int_equal(log_wait(e->nginx, "GET /missing.crl 404", 1, 2000), 1);

	/* within the hold: the same answer, no request */
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_HTTP);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_ERROR), 1);
	usleep(600 * 1000);
	assert_int_equal(log_count(e->nginx, "/missing.crl"), 1);

	/* after it: asked again, and now it is there */
	put_www(e, "missing.crl", "here now\n");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_string_equal(g.body, "here now\n");
	assert_int_equal(log_wait(e->nginx, "GET /missing.crl 200", 1, 2000), 1);
	free(url);
	got_clear(&g);
}

/* A body past max_size is abandoned: with a Content-Length (curl stops
 * before reading) and without one (chunked: the write callback stops it). */
static void
test_size_cap(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *big = malloc(5001), *url;

	memset(big, 'x', 5000);
	big[5000] = '\0';
	put_www(e, "big.crl", big);
	char *sub = xasprintf("%s/chunked", e->www);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(sub);
	put_www(e, "chunked/big.crl", big);
	put_www(e, "small.crl", "small\n");
	/* sub_filter rewrites the body, so nginx cannot know its length */
	e->nginx = nginx_start(e->www, "location /chunked/ { sub_filter_types *; "
	    "sub_filter 'x' 'y'; sub_filter_once off; }");
	e->set.max_size = 1000;
	env_fetcher(e);

	url = url_of(e, "big.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_TOO_LARGE);
	assert_string_equal(g.error_text, "larger than max_size (1000 bytes)");
	assert_null(g.body);
	free(url);

	url = url_of(e, "chunked/big.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_TOO_LARGE);
	assert_null(g.body);
	assert_int_equal(log_wait(e->nginx, "GET /chunked/big.crl 200", 1, 2000), 1);
	free(url);

	url = url_of(e, "small.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_ERROR), 2);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_OK), 1);
	free(url);
	free(big);
	got_clear(&g);
}

/* A scripted peer, because no server fails to answer on purpose: it
 * listens (the kernel completes the TCP handshake) and never reads or
 * writes. */
static int
silent_peer(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

struct tick {
	struct loop_timer t;
	struct loop *l;
	int fired;
};

static void
tick_cb(struct loop_timer *t)
{
	struct tick *k = container_of(t, struct tick, t);

	k->fired++;
	loop_timer_at(k->l, t, loop_now(k->l) + 50);
}

/* A peer that never answers: the timeout ends it, and the loop keeps
 * running meanwhile (a 50 ms timer fires all along). */
static void
test_never_answers(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct tick k = { .fired = 0 };
	int port, fd = silent_peer(&port);
	uint64_t start;
	char *url = xasprintf("http://127.0.0.1:%d/never.crl", port);

	e->set.timeout_ms = 600;
	env_fetcher(e);
	k.l = e->loop;
	loop_timer_init(&k.t, tick_cb);
	loop_timer_at(e->loop, &k.t, loop_now(e->loop) + 50);
	start = mono_ms();
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	loop_timer_cancel(e->loop, &k.t);
	assert_int_equal(g.error, FETCH_ERR_TIMEOUT);
	assert_string_equal(g.error_text, "timed out after 600ms");
	assert_true(g.at_ms - start >= 590);
	assert_true(g.at_ms - start < 3000);
	assert_true(k.fired >= 8);
	close(fd);
	free(url);
	got_clear(&g);
}

/* At most `concurrency` requests at once; the rest wait their turn. */
static void
test_concurrency(void **state)
{
	struct env *e = *state;
	struct got g[6] = { 0 };
	struct fetch_stats st;
	int port, fd = silent_peer(&port);
	size_t max_flight = 0, max_queued = 0;
	uint64_t start = mono_ms(), deadline = start + 10000;

	e->set.timeout_ms = 300;
	e->set.concurrency = 2;
	env_fetcher(e);
	for (int i = 0; i < 6; i++) {
		char *url = xasprintf("http://127.0.0.1:%d/%d.crl", port, i);
		fetch(e->f, url, FETCH_CRL, NULL, got_cb, &g[i]);
		free(url);
	}
	for (;;) {
		int done = 0;

		fetch_get_stats(e->f, &st);
		if (st.in_flight > max_flight)
			max_flight = st.in_flight;
		if (st.queued > max_queued)
			max_queued = st.queued;
		for (int i = 0; i < 6; i++)
			done += g[i].called;
		if (done == 6)
			break;
		if (mono_ms() > deadline)
			fail_msg("only %d of 6 answered", done);
		loop_run_once(e->loop, 20);
	}
	assert_int_equal(max_flight, 2);
	assert_int_equal(max_queued, 4);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(g[i].error, FETCH_ERR_TIMEOUT);
		got_clear(&g[i]);
	}
	/* three rounds of two */
	assert_true(mono_ms() - start >= 880);
	close(fd);
}

/* N waiters, one request (nginx's access log counts it); a cancelled
 * waiter is not called, the others are. */
static void
test_dedup(void **state)
{
	struct env *e = *state;
	struct got g[20] = { 0 };
	struct fetch_waiter *w[20];
	char *url;

	put_www(e, "shared.crl", "one for all\n");
	e->nginx = nginx_start(e->www, NULL);
	env_fetcher(e);
	url = url_of(e, "shared.crl");
	for (int i = 0; i < 20; i++)
		w[i] = fetch(e->f, url, FETCH_CRL, NULL, got_cb, &g[i]);
	fetch_cancel(e->f, w[7]);
	g[7].called = 1;        /* not expected: run_until must not wait for it */
	run_until(e, g, 20, 10000);
	for (int i = 0; i < 20; i++) {
		if (i == 7) {
			assert_null(g[i].body);
			continue;
		}
		assert_int_equal(g[i].called, 1);
		assert_string_equal(g[i].body, "one for all\n");
		got_clear(&g[i]);
	}
	usleep(200 * 1000);
	assert_int_equal(log_count(e->nginx, "GET /shared.crl"), 1);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_OK), 1);
	free(url);
}

/* POST (as OCSP asks): the body and its type reach the server. */
static void
test_post(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct fetch_opts o = { .post = "\x30\x03\x02\x01\x01", .post_len = 5,
		.post_type = "application/ocsp-request" };
	char *url;

	e->nginx = nginx_start(e->www, "location = /ocsp { return 200 \"answered\"; }");
	env_fetcher(e);
	url = url_of(e, "ocsp");
	fetch_one(e, url, FETCH_OCSP, &o, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_string_equal(g.body, "answered");
	assert_int_equal(log_wait(e->nginx,
	    "POST /ocsp 200 8 inm=[] ims=[] via=[] ct=[application/ocsp-request] cl=[5]",
	    1, 2000), 1);
	assert_int_equal(requests(e, FETCH_OCSP, FETCH_OUT_OK), 1);
	free(url);
	got_clear(&g);
}

/* Through a real proxy (tinyproxy): nginx sees its Via header; a proxy
 * that is down fails the fetch, proving no direct connection is tried. */
static void
test_proxy(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct server *proxy = tinyproxy_start();
	char *url, *purl = xasprintf("http://127.0.0.1:%d", proxy->port);

	put_www(e, "p.crl", "via the proxy\n");
	e->nginx = nginx_start(e->www, NULL);
	e->set.proxy = purl;
	env_fetcher(e);
	url = url_of(e, "p.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_string_equal(g.body, "via the proxy\n");
	assert_int_equal(log_wait(e->nginx, "tlswatch-test-proxy", 1, 2000), 1);
	assert_true(log_wait(proxy, url, 1, 2000) >= 1);
	free(url);

	/* proxy settings apply to the next request */
	free(purl);
	purl = xasprintf("http://127.0.0.1:%d", free_port());
	e->set.proxy = purl;
	fetch_set_settings(e->f, &e->set);
	url = url_of(e, "p2.crl");
	put_www(e, "p2.crl", "never reached\n");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_CONNECT);
	usleep(200 * 1000);
	assert_int_equal(log_count(e->nginx, "/p2.crl"), 0);
	free(url);
	free(purl);
	server_stop(proxy);
	got_clear(&g);
}

/* The cache survives a restart: a fresh entry is served by a new fetcher
 * on the same directory without a request. */
static void
test_restart(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct fetch_stats st;
	char *url;

	put_www(e, "r.crl", "kept across restarts\n");
	e->nginx = nginx_start(e->www, NULL);
	e->fresh_for = 3;
	env_fetcher(e);
	url = url_of(e, "r.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_false(g.from_cache);
	fetch_free(e->f);       /* drains the pool: the write is done */

	env_fetcher(e);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_true(g.from_cache);
	assert_string_equal(g.body, "kept across restarts\n");
	assert_non_null(g.etag);
	assert_true(g.fresh_until > wall_now());
	fetch_get_stats(e->f, &st);
	assert_int_equal(st.cache_entries, 1);
	assert_true(st.cache_bytes > strlen("kept across restarts\n"));
	usleep(200 * 1000);
	assert_int_equal(log_count(e->nginx, "/r.crl"), 1);

	/* stale after a restart: asked again, conditionally */
	fetch_free(e->f);
	while (wall_now() < g.fresh_until + 0.1)
		usleep(100 * 1000);
	env_fetcher(e);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_true(g.not_modified);
	assert_string_equal(g.body, "kept across restarts\n");
	assert_int_equal(log_wait(e->nginx, "GET /r.crl 304", 1, 2000), 1);
	fetch_free(e->f);
	e->f = NULL;
	free(url);
	got_clear(&g);
}

/* Stale-first (CRLs and OCSP answers in the daemon): after a restart a
 * stale body is handed over at once, then revalidated behind it; the next
 * fetch has the revalidated body, fresh, with no request of its own. */
static void
test_stale_first(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *url;

	put_www(e, "s.crl", "used while revalidated\n");
	e->nginx = nginx_start(e->www, NULL);
	e->fresh_for = 0;       /* stale as soon as it is cached */
	env_fetcher(e);
	url = url_of(e, "s.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_false(g.stale);
	fetch_free(e->f);

	env_fetcher(e);
	fetch_set_stale_first(e->f, FETCH_CRL, 1);
	e->fresh_for = 3600;
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_true(g.from_cache);
	assert_true(g.stale);
	assert_int_equal(g.http_status, 0);
	assert_string_equal(g.body, "used while revalidated\n");
	/* the revalidation, behind it, on the loop */
	for (uint64_t end = mono_ms() + 5000;
	    requests(e, FETCH_CRL, FETCH_OUT_NOT_MODIFIED) < 1 && mono_ms() < end;)
		loop_run_once(e->loop, 50);
	assert_int_equal(requests(e, FETCH_CRL, FETCH_OUT_NOT_MODIFIED), 1);
	assert_int_equal(log_wait(e->nginx, "GET /s.crl 304", 1, 2000), 1);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_true(g.from_cache);
	assert_false(g.stale);
	assert_true(g.fresh_until > wall_now() + 3500);
	usleep(200 * 1000);
	assert_int_equal(log_count(e->nginx, "/s.crl"), 2);   /* the 200 and the 304 */

	/* off (the default, other kinds): a stale body waits for the server */
	fetch_set_stale_first(e->f, FETCH_CRL, 0);
	e->fresh_for = 0;
	fetch_one(e, url, FETCH_CRL, NULL, &g);     /* fresh for an hour yet */
	assert_true(g.from_cache);
	free(url);
	got_clear(&g);
}

/* A damaged entry costs a refetch, nothing more. */
static void
test_damaged(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char hex[65], *url, *bp, *mp, *text;
	size_t len;

	put_www(e, "d.crl", "original body\n");
	e->nginx = nginx_start(e->www, NULL);
	e->fresh_for = 3600;
	env_fetcher(e);
	url = url_of(e, "d.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	fetch_free(e->f);
	cache_key(url, NULL, 0, NULL, 0, hex);
	bp = xasprintf("%s/%s.body", e->dir, hex);
	mp = xasprintf("%s/%s.meta", e->dir, hex);

	/* one byte of the body changed: the SHA-256 no longer matches */
	text = read_file(bp, &len);
	text[0] = 'O';
	write_file(bp, text, len);
	free(text);
	env_fetcher(e);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_false(g.from_cache);
	assert_string_equal(g.body, "original body\n");
	assert_int_equal(log_wait(e->nginx, "GET /d.crl 200", 2, 2000), 2);
	fetch_free(e->f);

	/* the meta torn in half */
	text = read_file(mp, &len);
	write_file(mp, text, len / 2);
	free(text);
	/* and junk beside it, which the scan leaves alone */
	char *junk = xasprintf("%s/not-ours.txt", e->dir);
	write_file(junk, "x", 1);
	env_fetcher(e);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	assert_false(g.from_cache);
	assert_int_equal(log_wait(e->nginx, "GET /d.crl 200", 3, 2000), 3);
	fetch_free(e->f);

	/* rewritten whole: a restart serves it from the cache again */
	env_fetcher(e);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_true(g.from_cache);
	assert_string_equal(g.body, "original body\n");
	text = read_file(junk, NULL);
	assert_non_null(text);
	free(text);
	free(junk);
	free(bp);
	free(mp);
	free(url);
	got_clear(&g);
}

/* A failure brings the last good body along, marked by the error. */
static void
test_stale_on_error(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *url, *p;

	put_www(e, "s.crl", "last good\n");
	e->nginx = nginx_start(e->www, NULL);
	e->fresh_for = 0;
	env_fetcher(e);
	url = url_of(e, "s.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	p = xasprintf("%s/s.crl", e->www);
	assert_int_equal(unlink(p), 0);
	work_drain(e->pool);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_int_equal(g.error, FETCH_ERR_HTTP);
	assert_int_equal(g.http_status, 404);
	assert_string_equal(g.body, "last good\n");
	free(p);
	free(url);
	got_clear(&g);
}

/* Retry-After, delta-seconds and HTTP-date (ARI's freshness). */
static void
test_retry_after(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	char *url;
	double now;

	e->nginx = nginx_start(e->www,
	    "location = /ari1 { add_header Retry-After 21600 always; return 200 \"{}\"; }\n"
	    "location = /ari2 { add_header Retry-After \"Wed, 21 Oct 2065 07:28:00 GMT\" always; "
	    "return 200 \"{}\"; }\n"
	    "location = /ari3 { add_header Retry-After \"soon\" always; return 200 \"{}\"; }");
	env_fetcher(e);
	url = url_of(e, "ari1");
	now = wall_now();
	fetch_one(e, url, FETCH_ARI, NULL, &g);
	assert_true(g.retry_after >= now + 21600 - 1 && g.retry_after <= wall_now() + 21600 + 1);
	free(url);
	url = url_of(e, "ari2");
	fetch_one(e, url, FETCH_ARI, NULL, &g);
	assert_true(g.retry_after == 3023335680.0);
	free(url);
	url = url_of(e, "ari3");
	fetch_one(e, url, FETCH_ARI, NULL, &g);
	assert_true(g.retry_after == 0);
	assert_int_equal(g.error, FETCH_ERR_NONE);
	free(url);
	got_clear(&g);
}

/* Without a directory the cache lives in memory (tlswatch check). */
static void
test_memory_only(void **state)
{
	struct env *e = *state;
	struct got g = { 0 };
	struct fetch_stats st;
	char *url;

	put_www(e, "m.crl", "in memory\n");
	e->nginx = nginx_start(e->www, NULL);
	free(e->dir);
	e->dir = NULL;
	e->fresh_for = 3600;
	env_fetcher(e);
	url = url_of(e, "m.crl");
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	fetch_one(e, url, FETCH_CRL, NULL, &g);
	assert_true(g.from_cache);
	assert_string_equal(g.body, "in memory\n");
	fetch_get_stats(e->f, &st);
	assert_int_equal(st.cache_entries, 1);
	assert_int_equal(st.cache_bytes, strlen("in memory\n"));
	free(url);
	got_clear(&g);
}

/* The .meta format: a round trip, and every kind of damage refused. */
static void
test_meta_format(void **state)
{
	struct cache_meta m = { 0 }, back;
	struct buf b;
	char *damaged;

	(void)state;
	m.url = xstrdup("http://crl.example/with%percent\nand newline");
	m.kind = FETCH_OCSP;
	m.fetched = 1763800000.5;
	m.fresh_until = 1763900000;
	m.retry_after = 1763850000;
	m.etag = xstrdup("\"abc\"");
	m.last_modified = xstrdup("Wed, 21 Oct 2015 07:28:00 GMT");
	m.body_size = 42;
	memset(m.body_sha256, 0xab, 32);
	buf_init(&b);
	cache_meta_render(&b, &m);
	assert_int_equal(cache_meta_parse(b.data, b.len, &back), 0);
	assert_string_equal(back.url, m.url);
	assert_int_equal(back.kind, FETCH_OCSP);
	assert_true(back.fetched == m.fetched);
	assert_true(back.fresh_until == m.fresh_until);
	assert_true(back.retry_after == m.retry_after);
	assert_string_equal(back.etag, m.etag);
	assert_string_equal(back.last_modified, m.last_modified);
	assert_null(back.content_type);
	assert_int_equal(back.body_size, 42);
	assert_memory_equal(back.body_sha256, m.body_sha256, 32);
	cache_meta_free(&back);

	/* torn: any prefix short of the whole is refused */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(cache_meta_parse(b.data, n, &back), -1);
	/* a key twice, a bad value, a bad version, text after end, a NUL */
	const char *subs[][2] = {
		{ "kind ocsp\n", "kind ocsp\nkind crl\n" },
		{ "kind ocsp", "kind other" },
		{ "body_size 42", "body_size -42" },
		{ "body_size 42", "body_size 99999999999999999999" },
		{ "fetched 1763800000.500", "fetched 1e300" },
		{ "fetched 1763800000.500", "fetched nan" },
		{ "tlswatch-fetch 1", "tlswatch-fetch 2" },
		{ "end\n", "end\nmore\n" },
		{ "etag \"abc\"", "etag \"a%07c\"" },
		{ "etag \"abc\"", "etag %00" },
		{ "body_sha256 abab", "body_sha256 zzab" },
		{ "body_size 42\n", "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		char *at = strstr(b.data, subs[i][0]);
		assert_non_null(at);
		damaged = xasprintf("%.*s%s%s", (int)(at - b.data), b.data, subs[i][1],
		    at + strlen(subs[i][0]));
		assert_int_equal(cache_meta_parse(damaged, strlen(damaged), &back), -1);
		free(damaged);
	}
	char nul[] = "tlswatch-fetch 1\n\0url x\n";
	assert_int_equal(cache_meta_parse(nul, sizeof(nul) - 1, &back), -1);
	/* unknown keys are a newer version's: ignored */
	char *at = strstr(b.data, "end\n");
	damaged = xasprintf("%.*snew_key whatever\nend\n", (int)(at - b.data), b.data);
	assert_int_equal(cache_meta_parse(damaged, strlen(damaged), &back), 0);
	cache_meta_free(&back);
	free(damaged);
	buf_free(&b);
	cache_meta_free(&m);
}

static void
test_check_proxy(void **state)
{
	(void)state;
	assert_null(fetch_check_proxy("http://proxy:3128"));
	assert_null(fetch_check_proxy("proxy.example:3128"));
	assert_null(fetch_check_proxy("https://user:secret@proxy.example"));
	assert_null(fetch_check_proxy("socks5h://127.0.0.1:1080"));
	assert_null(fetch_check_proxy("http://[::1]:3128/"));
	assert_non_null(fetch_check_proxy(""));
	assert_non_null(fetch_check_proxy("ftp://proxy:21"));
	assert_non_null(fetch_check_proxy("http://proxy:3128/path"));
	assert_non_null(fetch_check_proxy("http://pro xy:3128"));
	assert_non_null(fetch_check_proxy("http://proxy:99999"));
	assert_non_null(fetch_check_proxy("http://"));
	assert_non_null(fetch_check_proxy("http://proxy\n:3128"));
}

static void
test_key(void **state)
{
	char a[65], b[65];

	(void)state;
	cache_key("http://x/a", NULL, 0, NULL, 0, a);
	assert_int_equal(strlen(a), 64);
	cache_key("http://x/a", NULL, 0, NULL, 0, b);
	assert_string_equal(a, b);
	cache_key("http://x/a", "", 0, NULL, 0, b);     /* an empty POST is not a GET */
	assert_string_not_equal(a, b);
	cache_key("http://x/a", NULL, 0, NULL, 1, b);
	assert_string_not_equal(a, b);
	cache_key("http://x/a", NULL, 0, "/ca.pem", 0, b);
	assert_string_not_equal(a, b);
	cache_key("http://x/b", NULL, 0, NULL, 0, b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_format),
		cmocka_unit_test(test_check_proxy),
		cmocka_unit_test(test_key),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conditional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_on_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
