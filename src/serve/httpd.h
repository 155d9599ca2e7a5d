/* httpd.h - the embedded HTTP server (libmicrohttpd), driven from our event loop. */
#ifndef TLSWATCH_HTTPD_H
#define TLSWATCH_HTTPD_H

#include <stdint.h>

#include "core/util.h"

/* Fill out with the /metrics body. Called on the event loop thread, unless
 * the server renders off the loop (httpd_set_scrape). */
typedef void (*httpd_render_fn)(struct buf *out, void *arg);

/* A bound, listening, non-blocking TCP socket for host:port, or -1 with *err
 * set (allocated). host may be an IPv4/IPv6 literal or a name. */
int httpd_listen(const char *host, uint16_t port, char **err);

struct httpd;
/* Serve on the listening socket fd (taken over). NULL with *err on failure. */
struct httpd *httpd_new(int fd, httpd_render_fn render, void *arg, char **err);
struct conf_web;
struct work_pool;
/* The same, served as web says (TLS, client certificates, basic auth,
 * limits); web NULL: plain HTTP with default limits. web is copied.
 * Password checks run on pool's workers (NULL: on the caller's thread). */
struct httpd *httpd_new_web(int fd, const struct conf_web *web, struct work_pool *pool,
                            httpd_render_fn render, void *arg, char **err);
void httpd_free(struct httpd *h);
/* Stop accepting; connections already accepted are served to their end.
 * With stop_listening the socket refuses new connections at once (leave it
 * unset when another server shares the socket). httpd_free closes it. */
void httpd_quiesce(struct httpd *h, int stop_listening);
/* After httpd_quiesce: answers close their connection, so that clients
 * reconnect to the server that replaced this one. */
void httpd_set_draining(struct httpd *h);
/* Connections open now. */
unsigned httpd_connections(const struct httpd *h);
/* Pages beside /metrics and /healthz: fn returns 0 when url is not one of
 * its pages, else the HTTP status, with the body in out. args are the
 * query string's parameters, decoded, in order (at most QUERY_MAX_ARGS + 1:
 * a count above QUERY_MAX_ARGS means there were too many). */
struct query_arg;
typedef int (*httpd_page_fn)(void *arg, const char *url, const struct query_arg *args,
                             size_t nargs, struct buf *out, const char **content_type);
void httpd_set_pages(struct httpd *h, httpd_page_fn fn, void *arg);
/* /metrics off the event loop: take (loop thread: begins a snapshot of
 * what is published, kept alive until release) and release (loop thread)
 * bracket render (a worker thread of pool, from the snapshot alone, and
 * compressed there). The body streams to the client as it is rendered,
 * at most a megabyte of it queued: a slow client holds up the render, not
 * the loop, and one that takes nothing for the connection timeout is cut
 * off. take may complete the snapshot across
 * later turns of the loop: it calls taken(token) once the snapshot is
 * complete, from within take or later, and the render starts then; if the
 * server goes first, release comes before taken, which must not be called
 * after it. Without a pool, or before this is set, the httpd_render_fn
 * renders on the loop. */
typedef void (*httpd_taken_fn)(void *token);
struct httpd_scrape {
	void *(*take)(void *arg, httpd_taken_fn taken, void *token);
	void (*render)(struct buf *out, void *snap);
	void (*release)(void *snap);
};
void httpd_set_scrape(struct httpd *h, const struct httpd_scrape *ops, void *arg,
                      struct work_pool *pool);
/* Requests for path (e.g. "/probe") answered later: fn takes the request
 * (returns 1) and answers it once with httpd_req_answer, then or later
 * from the loop, its connection suspended meanwhile; or returns 0 and the
 * request goes on as any other (a 404 without pages). After auth and the
 * client certificate check, as every path. */
struct httpd_req;
typedef int (*httpd_async_fn)(void *arg, struct httpd_req *rq);
void httpd_set_async(struct httpd *h, const char *path, httpd_async_fn fn, void *arg);
/* While fn runs: the method, a query argument (decoded; NULL when absent)
 * and a request header (NULL when absent). */
const char *httpd_req_method(const struct httpd_req *rq);
const char *httpd_req_arg(const struct httpd_req *rq, const char *name);
const char *httpd_req_header(const struct httpd_req *rq, const char *name);
/* The answer (body allocated, taken; content_type static); rq is gone
 * after it. */
void httpd_req_answer(struct httpd_req *rq, unsigned status, const char *content_type,
                      char *body, size_t len);
/* fn(arg) when rq goes unanswered (its connection or server went); rq is
 * gone after it. */
void httpd_req_on_gone(struct httpd_req *rq, void (*fn)(void *arg), void *arg);

/* A descriptor that becomes readable when httpd_run has work to do (a
 * request, or a connection to accept). */
int httpd_fd(const struct httpd *h);
/* Do all pending work without blocking. */
void httpd_run(struct httpd *h);
/* Milliseconds until httpd_run must be called again, or -1 for none. */
int64_t httpd_timeout_ms(const struct httpd *h);

#endif
