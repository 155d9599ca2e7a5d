/* listen.c - the metrics endpoint's listeners, kept in step with the config
 * across reloads without dropping a request in flight. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "serve/httpd.h"
#include "serve/listen.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

struct lis {
	struct loop_watch watch;       /* first: the callback casts back */
	struct listeners *set;
	struct httpd *httpd;
	char *address;                 /* as configured, for messages */
	char *host;
	uint16_t port;
	int fd;                        /* the listening socket (MHD holds it) */
	const struct conf_web *web;    /* of the config in force */
	struct lis *next;
};

struct listeners {
	struct loop *loop;
	struct work_pool *pool;
	httpd_render_fn render;
	void *arg;
	httpd_page_fn page;       /* the status pages, or NULL */
	void *page_arg;
	const struct httpd_scrape *scrape;   /* or NULL */
	void *scrape_arg;
	struct work_pool *scrape_pool;
	const char *async_path;   /* /probe, or NULL */
	httpd_async_fn async;
	void *async_arg;
	struct lis *active;
	struct lis *draining;
	unsigned ndraining;
};

static void
lis_cb(struct loop_watch *w, uint32_t events)
{
	struct lis *l = (struct lis *)w;

	(void)events;
	httpd_run(l->httpd);
}

struct listeners *
listeners_new(struct loop *l, struct work_pool *pool, httpd_render_fn render, void *arg)
{
	struct listeners *ls = xcalloc(1, sizeof(*ls));

	ls->loop = l;
	ls->pool = pool;
	ls->render = render;
	ls->arg = arg;
	return ls;
}

static void
lis_free(struct listeners *ls, struct lis *l)
{
	if (l == NULL)
		return;
	if (l->httpd != NULL) {
		loop_watch_del(ls->loop, &l->watch);
		httpd_free(l->httpd);   /* closes the socket it still listens on */
	}
	free(l->address);
	free(l->host);
	free(l);
}

/* A server for l on fd (taken over), watched on the loop. */
static int
lis_start(struct listeners *ls, struct lis *l, int fd, const struct conf_web *web,
    char **msg)
{
	l->httpd = httpd_new_web(fd, web, ls->pool, ls->render, ls->arg, msg);
	if (l->httpd == NULL)
		return -1;
	if (ls->page)
		httpd_set_pages(l->httpd, ls->page, ls->page_arg);
	if (ls->scrape)
		httpd_set_scrape(l->httpd, ls->scrape, ls->scrape_arg, ls->scrape_pool);
	if (ls->async)
		httpd_set_async(l->httpd, ls->async_path, ls->async, ls->async_arg);
	l->fd = fd;
	l->web = web;
	l->watch.fd = httpd_fd(l->httpd);
	l->watch.cb = lis_cb;
	if (loop_watch_add(ls->loop, &l->watch, EPOLLIN) == -1) {
		*msg = xasprintf("cannot watch the server: %s", strerror(errno));
		httpd_free(l->httpd);
		l->httpd = NULL;
		return -1;
	}
	return 0;
}

/* Stop accepting and finish what is in flight, then go (listeners_prepare).
 * replaced: a new server accepts on the same socket. */
static void
lis_drain(struct listeners *ls, struct lis *l, int replaced)
{
	httpd_quiesce(l->httpd, !replaced);
	httpd_set_draining(l->httpd);
	l->next = ls->draining;
	ls->draining = l;
	ls->ndraining++;
}

static struct lis *
lis_find(struct lis *list, const struct conf_listen *cl)
{
	for (struct lis *l = list; l != NULL; l = l->next)
		if (l->port == cl->port && strcasecmp(l->host, cl->host) == 0)
			return l;
	return NULL;
}

int
listeners_apply(struct listeners *ls, const struct conf *c, char **err)
{
	struct lis **fresh = xcalloc(c->nlisten ? c->nlisten : 1, sizeof(*fresh));
	struct lis **old = xcalloc(c->nlisten ? c->nlisten : 1, sizeof(*old));
	struct lis *kept = NULL, **tail = &kept, *l, *next;
	char *msg = NULL, *where;
	size_t i;

	*err = NULL;
	/* Phase 1: everything that can fail, nothing visible changes. */
	for (i = 0; i < c->nlisten; i++) {
		const struct conf_listen *cl = &c->listen[i];
		int fd;

		old[i] = lis_find(ls->active, cl);
		if (old[i] != NULL && conf_web_equal(old[i]->web, &c->web))
			continue;       /* kept as it is */
		if (old[i] != NULL) {
			/* Same socket, new settings: both servers accept on it
			 * until the old one is quiesced below. */
			fd = fcntl(old[i]->fd, F_DUPFD_CLOEXEC, 0);
			if (fd == -1)
				msg = xasprintf("cannot duplicate the socket of %s: %s",
				    cl->address, strerror(errno));
		} else {
			fd = httpd_listen(cl->host, cl->port, &msg);
		}
		if (fd == -1)
			goto fail;
		fresh[i] = xcalloc(1, sizeof(*fresh[i]));
		fresh[i]->set = ls;
		fresh[i]->address = xstrdup(cl->address);
		fresh[i]->host = xstrdup(cl->host);
		fresh[i]->port = cl->port;
		if (lis_start(ls, fresh[i], fd, &c->web, &msg) == -1)
			goto fail;
		log_info("serving metrics on %s://%s/metrics%s",
		    c->web.tls_cert_pem ? "https" : "http", cl->address,
		    c->web.nusers ? " (basic auth)" : "");
	}

	/* Phase 2: commit. Servers replaced or removed drain (lis_drain
	 * relinks them), then the active list is rebuilt in config order. */
	for (l = ls->active; l != NULL; l = next) {
		int in_use = 0, replaced = 0;

		next = l->next;
		for (i = 0; i < c->nlisten; i++) {
			if (old[i] == l && fresh[i] == NULL)
				in_use = 1;
			if (old[i] == l && fresh[i] != NULL)
				replaced = 1;
		}
		if (!in_use)
			lis_drain(ls, l, replaced);
	}
	for (i = 0; i < c->nlisten; i++) {
		if (fresh[i] != NULL) {
			*tail = fresh[i];
		} else {
			*tail = old[i];
			old[i]->web = &c->web;
		}
		tail = &(*tail)->next;
	}
	*tail = NULL;
	ls->active = kept;
	free(fresh);
	free(old);
	return 0;

fail:
	where = conf_listen_where(c, i);
	*err = xasprintf("%s: %s", where, msg ? msg : "cannot start the HTTP server");
	free(where);
	free(msg);
	for (size_t j = 0; j <= i && j < c->nlisten; j++)
		lis_free(ls, fresh[j]);
	free(fresh);
	free(old);
	return -1;
}

int64_t
listeners_prepare(struct listeners *ls)
{
	struct lis **pp = &ls->draining, *l;
	int64_t wait = -1;

	while ((l = *pp) != NULL) {
		if (httpd_connections(l->httpd) == 0) {
			*pp = l->next;
			ls->ndraining--;
			log_debug("listener %s: old server drained", l->address);
			lis_free(ls, l);
			continue;
		}
		pp = &l->next;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (l = pass ? ls->draining : ls->active; l != NULL; l = l->next) {
			int64_t t = httpd_timeout_ms(l->httpd);

			/* A timeout that is due makes no descriptor readable:
			 * MHD must run for it to close idle connections. */
			if (t == 0) {
				httpd_run(l->httpd);
				t = httpd_timeout_ms(l->httpd);
			}
			if (t >= 0 && (wait < 0 || t < wait))
				wait = t;
		}
	}
	return wait;
}

unsigned
listeners_draining(const struct listeners *ls)
{
	return ls->ndraining;
}

void
listeners_set_pages(struct listeners *ls, httpd_page_fn fn, void *arg)
{
	ls->page = fn;
	ls->page_arg = arg;
	for (struct lis *l = ls->active; l; l = l->next)
		httpd_set_pages(l->httpd, fn, arg);
}

void
listeners_set_scrape(struct listeners *ls, const struct httpd_scrape *ops, void *arg,
    struct work_pool *pool)
{
	ls->scrape = ops;
	ls->scrape_arg = arg;
	ls->scrape_pool = pool;
	for (struct lis *l = ls->active; l; l = l->next)
		httpd_set_scrape(l->httpd, ops, arg, pool);
}

void
listeners_set_async(struct listeners *ls, const char *path, httpd_async_fn fn, void *arg)
{
	ls->async_path = path;
	ls->async = fn;
	ls->async_arg = arg;
	for (struct lis *l = ls->active; l; l = l->next)
		httpd_set_async(l->httpd, path, fn, arg);
}

void
listeners_free(struct listeners *ls)
{
	struct lis *l, *next;

	if (ls == NULL)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (l = pass ? ls->draining : ls->active; l != NULL; l = next) {
			next = l->next;
			lis_free(ls, l);
		}
	}
	free(ls);
}
