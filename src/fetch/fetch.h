/* fetch.h - HTTP(S) fetches for the whole daemon (CRLs, OCSP, renewal
 * information, missing intermediates, policies), run by libcurl's multi
 * interface on our event loop. Owns the requests in flight (one per URL,
 * however many wait for it), the concurrency limit, and the cache in
 * state_dir/fetch that survives restarts. */
#ifndef TLSWATCH_FETCH_H
#define TLSWATCH_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct loop;
struct work_pool;
struct fetch;
struct fetch_waiter;

/* What a fetch is for: the kind label of the counters, and the freshness
 * rule its bodies are cached under (fetch_set_freshness). */
enum fetch_kind {
	FETCH_CRL,
	FETCH_OCSP,
	FETCH_ARI,
	FETCH_AIA,
	FETCH_MTASTS,            /* MTA-STS policies (RFC 8461) */
	FETCH_NKINDS
};

/* How a network request ended: the result label of the counters. */
enum fetch_outcome {
	FETCH_OUT_OK,            /* 200 with a body */
	FETCH_OUT_NOT_MODIFIED,  /* 304: the cached body still holds */
	FETCH_OUT_ERROR,         /* anything else */
	FETCH_NOUTCOMES
};

/* Why a fetch failed. */
enum fetch_error {
	FETCH_ERR_NONE,
	FETCH_ERR_HTTP,          /* an answer other than 200 (and 304 to a conditional request) */
	FETCH_ERR_TOO_LARGE,     /* the body passed max_size */
	FETCH_ERR_TIMEOUT,       /* no complete answer within the timeout */
	FETCH_ERR_CONNECT,       /* name, connection, proxy or TLS failure */
	FETCH_ERR_VERIFY,        /* the HTTPS server's certificate did not verify */
	FETCH_ERR_OTHER,
};

/* The settings of the fetch block (conf.h's struct conf_fetch, which the
 * caller copies in: this header does not depend on the configuration). */
struct fetch_settings {
	uint64_t timeout_ms;
	unsigned concurrency;
	uint64_t max_size;
	const char *proxy;       /* NULL: none; the environment's proxies are never used */
	/* how long a failure is remembered: fetches of the same URL within it
	 * get the same error without a request (0: FETCH_ERROR_HOLD_MS) */
	uint64_t error_hold_ms;
};

#define FETCH_ERROR_HOLD_MS ((uint64_t)60 * 1000)

/* Per request. The dedup key (and the cache key) is the URL, the POST body
 * and the TLS settings: two callers that agree on all of them share one
 * request and one cache entry. */
struct fetch_opts {
	const char *ca_file;        /* HTTPS trust store; NULL: the system's */
	int insecure;               /* HTTPS without verifying the server (for
	                             * signed objects: CRLs, OCSP, certificates) */
	int no_redirects;           /* do not follow 3xx (MTA-STS forbids it); else at most 5 */
	const void *post;           /* POST this body (OCSP); NULL: GET */
	size_t post_len;
	const char *post_type;      /* its Content-Type */
	/* Connect to this address instead of resolving the URL's host (curl's
	 * CURLOPT_RESOLVE): an IPv4 or IPv6 literal the caller resolved itself
	 * (Debian's libcurl resolves with glibc, not with our resolver). Only
	 * the URL's own host and port are pinned; TLS still checks the name.
	 * Not part of the dedup key: callers that share a URL share the pin
	 * of the latest fetch. NULL: curl resolves. */
	const char *resolve;
};

/* What a fetch brought. Everything points into the fetcher and is valid
 * during the callback only. */
struct fetch_result {
	const char *url;
	enum fetch_kind kind;
	enum fetch_error error;     /* FETCH_ERR_NONE: body is current */
	const char *error_text;     /* one line for logs and pages; NULL when none */
	long http_status;           /* of the last answer; 0: none (or from the cache) */
	int from_cache;             /* no request was made: the cache was fresh */
	int not_modified;           /* a request was made and answered 304 */
	int stale;                  /* from the cache past its freshness, while a
	                             * request revalidates it (fetch_set_stale_first) */
	/* The body: current when error is FETCH_ERR_NONE; with an error, the
	 * last good body (stale, may still be usable to the caller) or NULL. */
	const unsigned char *body;
	size_t len;
	const unsigned char *body_sha256;  /* 32 bytes, NULL without a body */
	const char *content_type;   /* NULL when absent */
	const char *etag;
	const char *last_modified;
	double retry_after;         /* wall time Retry-After names; 0: none */
	double fetched;             /* wall time the body was last fetched or revalidated */
	double fresh_until;         /* served from the cache until then */
};

/* A freshness rule: the wall time until which r's body may be served from
 * the cache without asking the server again (a CRL's nextUpdate, an OCSP
 * response's nextUpdate, ARI's Retry-After). Called on the loop thread for
 * every new or revalidated body; a time not after r->fetched means "ask
 * again next time" (conditionally). */
typedef double (*fetch_fresh_fn)(const struct fetch_result *r, void *arg);

/* Called once per fetch, on the loop thread, never from inside fetch(). */
typedef void (*fetch_cb)(const struct fetch_result *r, void *arg);

/* A fetcher on loop l, doing its file I/O on pool p (both outlive it),
 * caching under dir (created when needed; NULL: in memory only). */
struct fetch *fetch_new(struct loop *l, struct work_pool *p, const char *dir,
                        const struct fetch_settings *s);
/* Requests in flight are cancelled, their waiters never called; drains p.
 * Accepts NULL. Not from a fetch callback. */
void fetch_free(struct fetch *f);
/* New settings (a reload) for requests started from now on. */
void fetch_set_settings(struct fetch *f, const struct fetch_settings *s);
/* The freshness rule of kind (default: none, every fetch asks the server,
 * conditionally when it can). */
void fetch_set_freshness(struct fetch *f, enum fetch_kind kind, fetch_fresh_fn fn, void *arg);
/* When on, a fetch of kind whose cached body is past its freshness gets
 * that body at once (from_cache and stale set, no error), and the request
 * that revalidates it runs after: for bodies that judge their own validity
 * (a CRL's or an OCSP response's nextUpdate), so a restart never waits for
 * the network to know what the cache already says. Default off. */
void fetch_set_stale_first(struct fetch *f, enum fetch_kind kind, int on);

/* Fetch url for cb: from the cache when fresh, else joining the request in
 * flight for it, else a new (conditional when possible) request, queued
 * while `concurrency` are running. opts may be NULL. cb is called exactly
 * once, later, unless the returned handle is cancelled first. */
struct fetch_waiter *fetch(struct fetch *f, const char *url, enum fetch_kind kind,
                           const struct fetch_opts *opts, fetch_cb cb, void *arg);
/* Forget the waiter: its callback will not be called. The request goes on
 * for the cache. Accepts NULL; not after its callback was called (the
 * handle is gone then). */
void fetch_cancel(struct fetch *f, struct fetch_waiter *w);

/* Counters and gauges for /metrics. */
struct fetch_stats {
	uint64_t requests[FETCH_NKINDS][FETCH_NOUTCOMES];
	uint64_t cache_entries;     /* bodies in state_dir/fetch (or memory) */
	uint64_t cache_bytes;       /* their size on disk, metadata included */
	size_t in_flight;           /* requests running */
	size_t queued;              /* requests waiting for a slot */
};
void fetch_get_stats(const struct fetch *f, struct fetch_stats *st);

const char *fetch_kind_name(enum fetch_kind k);        /* "crl", "ocsp", "ari", "aia", "mta_sts" */
const char *fetch_outcome_name(enum fetch_outcome o);  /* "ok", "not_modified", "error" */

/* Whether s names a proxy libcurl can use: [SCHEME://][USER[:PASS]@]HOST[:PORT]
 * with SCHEME http, https, socks4, socks4a, socks5 or socks5h. NULL when it
 * does, else a static message. */
const char *fetch_check_proxy(const char *s);

#endif
