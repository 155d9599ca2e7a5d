/* resolve.c - c-ares driven by our epoll loop: its sockets become loop
 * watches (via the socket state callback) and its timeouts a loop timer.
 *
 * Two channels with the same servers: one for addresses, one for raw
 * record queries (resolve_send). The second passes SERVFAIL, REFUSED and
 * NOTIMP answers through (ARES_FLAG_NOCHECKRESP): c-ares 1.18 would
 * otherwise report them as "could not contact DNS servers", and a
 * validating resolver's SERVFAIL is how bogus data shows. Address lookups
 * keep c-ares's habit of trying the next server on those. */
#include "config.h"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "probe/resolve.h"
#include "core/util.h"

struct chan {
	ares_channel ch;
	struct resolver *r;
};

struct sockwatch {
	struct loop_watch w;
	struct chan *c;
	struct sockwatch *next;
};

struct resolver {
	struct loop *loop;
	struct chan addr;   /* ares_getaddrinfo */
	struct chan rec;    /* ares_send, every answer passed through */
	struct sockwatch *socks;
	struct loop_timer timer;
	int starting;   /* inside ares_getaddrinfo or ares_send, from our callers */
	int trusted;    /* the servers are the configuration's (resolver_set_servers) */
};

struct resolve_req {
	struct resolver *r;
	resolve_cb cb;
	void *arg;
	/* An answer that arrived inside resolve_start, held for the loop. */
	struct loop_timer deferred;
	struct resolved_addr *addrs;
	size_t naddrs;
	const char *reason;
	char *detail;
};

struct resolve_query {
	struct resolver *r;
	resolve_raw_cb cb;
	void *arg;
	/* An answer that arrived inside resolve_send, held for the loop. */
	struct loop_timer deferred;
	unsigned char *abuf;
	size_t alen;
	const char *reason;
	const char *detail;
};

static void resolver_rearm(struct resolver *r);

static void
sock_cb(struct loop_watch *w, uint32_t events)
{
	struct sockwatch *s = (struct sockwatch *)w;
	struct resolver *r = s->c->r;
	ares_channel ch = s->c->ch;
	ares_socket_t fd = w->fd;

	/* s may be freed inside (the socket closed): nothing of it after */
	ares_process_fd(ch,
	    events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
	    events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
	resolver_rearm(r);
}

/* c-ares tells us when it opens, closes or changes interest in a socket. */
static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct chan *c = data;
	struct resolver *r = c->r;
	struct sockwatch **pp, *s;
	uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);

	for (pp = &r->socks; (s = *pp) != NULL; pp = &s->next)
		if (s->w.fd == fd && s->c == c)
			break;
	if (events == 0) {
		if (s != NULL) {
			loop_watch_del(r->loop, &s->w);
			*pp = s->next;
			free(s);
		}
		return;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->w.fd = fd;
		s->w.cb = sock_cb;
		s->c = c;
		if (loop_watch_add(r->loop, &s->w, events) == -1) {
			log_warn("resolver: cannot watch socket %d", fd);
			free(s);
			return;
		}
		s->next = r->socks;
		r->socks = s;
	} else if (loop_watch_mod(r->loop, &s->w, events) == -1) {
		log_warn("resolver: cannot watch socket %d", fd);
	}
}

static void
timer_cb(struct loop_timer *t)
{
	struct resolver *r = container_of(t, struct resolver, timer);

	ares_process_fd(r->addr.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	ares_process_fd(r->rec.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_rearm(r);
}

static void
resolver_rearm(struct resolver *r)
{
	struct timeval tv, *tvp;

	struct timeval tv2, *tvp2;

	tvp = ares_timeout(r->addr.ch, NULL, &tv);
	tvp2 = ares_timeout(r->rec.ch, tvp, &tv2);
	if (tvp2 != NULL)
		tvp = tvp2;
	if (tvp == NULL) {
		loop_timer_cancel(r->loop, &r->timer);
		return;
	}
	loop_timer_at(r->loop, &r->timer, mono_ms() + (uint64_t)tvp->tv_sec * 1000 +
	    (uint64_t)(tvp->tv_usec + 999) / 1000);
}

struct resolver *
resolver_new(struct loop *l, char **err)
{
	struct resolver *r = xcalloc(1, sizeof(*r));
	struct ares_options opts;
	int rc;

	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		*err = xasprintf("c-ares: %s", ares_strerror(rc));
		free(r);
		return NULL;
	}
	r->addr.r = r;
	r->rec.r = r;
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = sock_state_cb;
	opts.sock_state_cb_data = &r->addr;
	/* The probe's own deadline bounds the whole lookup; these only keep
	 * one unanswered server from eating all of it. */
	opts.timeout = 2000;
	opts.tries = 2;
	rc = ares_init_options(&r->addr.ch, &opts,
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc == ARES_SUCCESS) {
		opts.sock_state_cb_data = &r->rec;
		opts.flags = ARES_FLAG_NOCHECKRESP;
		rc = ares_init_options(&r->rec.ch, &opts, ARES_OPT_SOCK_STATE_CB |
		    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
		if (rc != ARES_SUCCESS)
			ares_destroy(r->addr.ch);
	}
	if (rc != ARES_SUCCESS) {
		*err = xasprintf("c-ares: %s", ares_strerror(rc));
		ares_library_cleanup();
		free(r);
		return NULL;
	}
	r->loop = l;
	loop_timer_init(&r->timer, timer_cb);
	return r;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	/* Destroying the channel runs pending callbacks with ARES_EDESTRUCTION
	 * and closes its sockets through sock_state_cb. */
	ares_destroy(r->addr.ch);
	ares_destroy(r->rec.ch);
	while (r->socks) {
		struct sockwatch *s = r->socks;
		r->socks = s->next;
		loop_watch_del(r->loop, &s->w);
		free(s);
	}
	loop_timer_cancel(r->loop, &r->timer);
	ares_library_cleanup();
	free(r);
}

int
resolver_set_servers(struct resolver *r, const char *const *servers, size_t n, char **err)
{
	struct buf csv;
	int rc;

	if (n == 0 || n > 8) {
		*err = xasprintf("between 1 and 8 servers, not %zu", n);
		return -1;
	}
	buf_init(&csv);
	for (size_t i = 0; i < n; i++) {
		/* c-ares would read a comma as the next server */
		if (strchr(servers[i], ',') != NULL) {
			*err = xasprintf("%s: not an address:port", servers[i]);
			buf_free(&csv);
			return -1;
		}
		buf_printf(&csv, "%s%s", i ? "," : "", servers[i]);
	}
	rc = ares_set_servers_ports_csv(r->addr.ch, csv.data);
	if (rc == ARES_SUCCESS)
		rc = ares_set_servers_ports_csv(r->rec.ch, csv.data);
	buf_free(&csv);
	if (rc != ARES_SUCCESS) {
		*err = xasprintf("c-ares: %s", ares_strerror(rc));
		return -1;
	}
	r->trusted = 1;
	return 0;
}

int
resolver_trusted(const struct resolver *r)
{
	return r->trusted;
}

struct loop *
resolver_loop(const struct resolver *r)
{
	return r->loop;
}

static const char *
status_reason(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
		return "not_found";
	case ARES_ENODATA:
		return "no_address";
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
		return "server_failure";
	case ARES_ETIMEOUT:
	case ARES_ECONNREFUSED:
		return "no_answer";
	default:
		return "failed";
	}
}

static void
req_free(struct resolve_req *req)
{
	free(req->addrs);
	free(req->detail);
	free(req);
}

static void
req_deliver(struct resolve_req *req)
{
	if (req->cb != NULL)
		req->cb(req->arg, req->addrs, req->naddrs, req->reason, req->detail);
	req_free(req);
}

static void
deferred_cb(struct loop_timer *t)
{
	req_deliver(container_of(t, struct resolve_req, deferred));
}

static void
addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct resolve_req *req = arg;
	size_t cap = 0;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		req_free(req);
		return;
	}
	if (status != ARES_SUCCESS) {
		req->reason = status_reason(status);
		req->detail = xstrdup(ares_strerror(status));
	} else {
		for (struct ares_addrinfo_node *node = ai->nodes; node; node = node->ai_next) {
			if (node->ai_addrlen > sizeof(struct sockaddr_storage) ||
			    (node->ai_family != AF_INET && node->ai_family != AF_INET6))
				continue;
			if (req->naddrs == cap) {
				cap = cap ? cap * 2 : 4;
				req->addrs = xreallocarray(req->addrs, cap, sizeof(*req->addrs));
			}
			struct resolved_addr *a = &req->addrs[req->naddrs++];
			memset(a, 0, sizeof(*a));
			memcpy(&a->ss, node->ai_addr, node->ai_addrlen);
			a->len = node->ai_addrlen;
		}
		if (req->naddrs == 0) {
			req->reason = "no_address";
			req->detail = xstrdup("no IPv4 or IPv6 address");
		}
	}
	if (ai)
		ares_freeaddrinfo(ai);
	if (req->r->starting)
		loop_timer_at(req->r->loop, &req->deferred, 0);
	else
		req_deliver(req);
}

struct resolve_req *
resolve_start(struct resolver *r, const char *host, uint16_t port,
              enum resolve_family family, resolve_cb cb, void *arg)
{
	struct resolve_req *req = xcalloc(1, sizeof(*req));
	struct ares_addrinfo_hints hints;
	char service[8];

	req->r = r;
	req->cb = cb;
	req->arg = arg;
	loop_timer_init(&req->deferred, deferred_cb);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family == RESOLVE_IPV4 ? AF_INET : family == RESOLVE_IPV6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* ENVHOSTS: the CARES_HOSTS environment variable may name a hosts file
	 * to read instead of /etc/hosts (names pinned by operators and tests). */
	hints.ai_flags = ARES_AI_NUMERICSERV | ARES_AI_ENVHOSTS;
	snprintf(service, sizeof(service), "%u", (unsigned)port);
	/* c-ares may answer at once (hosts file, a bad name): the callback then
	 * runs inside this call. Callers are promised it never does, so such an
	 * answer is held and delivered from the loop like any other. */
	r->starting = 1;
	ares_getaddrinfo(r->addr.ch, host, service, &hints, addrinfo_cb, req);
	r->starting = 0;
	resolver_rearm(r);
	return req;
}

void
resolve_cancel(struct resolve_req *req)
{
	if (req == NULL)
		return;
	if (loop_timer_armed(&req->deferred)) {
		loop_timer_cancel(req->r->loop, &req->deferred);
		req_free(req);
		return;
	}
	req->cb = NULL;
}

static void
query_free(struct resolve_query *q)
{
	free(q->abuf);
	free(q);
}

static void
query_deliver(struct resolve_query *q)
{
	if (q->cb != NULL)
		q->cb(q->arg, q->abuf, q->alen, q->reason, q->detail);
	query_free(q);
}

static void
query_deferred_cb(struct loop_timer *t)
{
	query_deliver(container_of(t, struct resolve_query, deferred));
}

static void
send_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct resolve_query *q = arg;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		query_free(q);
		return;
	}
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		q->abuf = xmalloc((size_t)alen);
		memcpy(q->abuf, abuf, (size_t)alen);
		q->alen = (size_t)alen;
	} else {
		q->reason = status_reason(status == ARES_SUCCESS ? ARES_EBADRESP : status);
		q->detail = ares_strerror(status == ARES_SUCCESS ? ARES_EBADRESP : status);
	}
	if (q->r->starting)
		loop_timer_at(q->r->loop, &q->deferred, 0);
	else
		query_deliver(q);
}

struct resolve_query *
resolve_send(struct resolver *r, const unsigned char *qbuf, size_t qlen, resolve_raw_cb cb,
             void *arg)
{
	struct resolve_query *q = xcalloc(1, sizeof(*q));

	q->r = r;
	q->cb = cb;
	q->arg = arg;
	loop_timer_init(&q->deferred, query_deferred_cb);
	/* As in resolve_start: an answer given at once is held for the loop. */
	r->starting = 1;
	ares_send(r->rec.ch, qbuf, qlen > 65535 ? 65535 : (int)qlen, send_cb, q);
	r->starting = 0;
	resolver_rearm(r);
	return q;
}

void
resolve_query_cancel(struct resolve_query *q)
{
	if (q == NULL)
		return;
	if (loop_timer_armed(&q->deferred)) {
		loop_timer_cancel(q->r->loop, &q->deferred);
		query_free(q);
		return;
	}
	q->cb = NULL;
}

int
resolve_literal(const char *host, uint16_t port, struct resolved_addr *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

void
resolve_ip(const struct resolved_addr *ra, char *buf, size_t size)
{
	const void *p = ra->ss.ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)&ra->ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)&ra->ss)->sin6_addr;

	if (inet_ntop(ra->ss.ss_family, p, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

void
resolve_format(const struct resolved_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "?");
	}
}

int
resolve_parse_peer(const char *peer, struct resolved_addr *a)
{
	char host[64];
	const char *end;

	if (peer == NULL)
		return -1;
	if (peer[0] == '[') {
		if ((end = strchr(peer, ']')) == NULL || (size_t)(end - peer - 1) >= sizeof(host))
			return -1;
		memcpy(host, peer + 1, (size_t)(end - peer - 1));
		host[end - peer - 1] = '\0';
	} else {
		if ((end = strrchr(peer, ':')) == NULL || (size_t)(end - peer) >= sizeof(host))
			return -1;
		memcpy(host, peer, (size_t)(end - peer));
		host[end - peer] = '\0';
	}
	return resolve_literal(host, 0, a);
}
