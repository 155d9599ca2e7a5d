/* listen.h - the metrics endpoint's listeners, kept in step with the config. */
#ifndef TLSWATCH_LISTEN_H
#define TLSWATCH_LISTEN_H

#include <stdint.h>

#include "conf/conf.h"
#include "serve/httpd.h"

struct loop;
struct listeners;

struct work_pool;
/* Password checks run on pool (NULL: on the loop). */
struct listeners *listeners_new(struct loop *l, struct work_pool *pool,
                                httpd_render_fn render, void *arg);
/* Pages beside /metrics on every server, now and after any reload. */
void listeners_set_pages(struct listeners *ls, httpd_page_fn fn, void *arg);
/* /metrics rendered off the loop, on pool, on every server
 * (httpd_set_scrape). */
void listeners_set_scrape(struct listeners *ls, const struct httpd_scrape *ops, void *arg,
                          struct work_pool *pool);
/* Requests for path answered later (httpd_set_async), on every server,
 * now and after any reload; path must stay valid. */
void listeners_set_async(struct listeners *ls, const char *path, httpd_async_fn fn, void *arg);
/* Free everything, closing every socket. Accepts NULL. */
void listeners_free(struct listeners *ls);

/*
 * Serve c's listen addresses with c's web settings. New addresses are bound
 * first; an address kept with the same settings keeps its server, socket and
 * connections; one whose web settings changed gets a new server on the same
 * socket. Only then do servers of removed or changed addresses stop
 * accepting; they finish the requests they have (each answer then closes
 * its connection) and go once idle. All or nothing: -1 with *err ("FILE:LINE:
 * listen: ...", allocated) and nothing changed when any step fails.
 */
int listeners_apply(struct listeners *ls, const struct conf *c, char **err);

/* Before each wait: frees drained servers; returns a bound on the wait
 * in ms, or -1. */
int64_t listeners_prepare(struct listeners *ls);
/* Servers still finishing requests after a reload. */
unsigned listeners_draining(const struct listeners *ls);

#endif
