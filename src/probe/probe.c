/* probe.c - one probe as an explicit state machine on the event loop:
 * resolve -> connect (each address in turn) -> starttls (when the target's
 * protocol has a plaintext prelude) -> handshake -> verify -> done,
 * all under one deadline. A failure is a result like any other. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "verdict/algo.h"
#include "verdict/certs.h"
#include "verdict/chain.h"
#include "core/log.h"
#include "core/loop.h"
#include "probe/allow.h"
#include "probe/probe.h"
#include "probe/proxy.h"
#include "probe/resolve.h"
#include "probe/starttls.h"
#include "probe/tls.h"
#include "probe/tlsa.h"
#include "core/util.h"


struct probe {
	struct loop *loop;
	struct resolver *res;
	const struct conf_target *ct;
	const struct trust *trust;
	const struct result *prev;   /* the target's last result, or NULL */
	const struct tls_creds *creds;  /* NULL: no client certificate */
	int fixed;                  /* probe fixed_addr only, without resolving */
	struct resolved_addr fixed_addr;
	char ref_address[320];      /* with fixed: its key (address), for rechecks */
	double resolve_seconds;     /* with fixed: measured by whoever resolved */
	const struct allow *allow;  /* /probe: what it may connect to; NULL: anything */
	int go_names;               /* the leaf's names as Go writes them (blackbox labels) */
	int via_proxy;              /* connect through proxy (ct->tls.proxy) */
	struct proxy_spec proxy;
	probe_done_fn done;
	void *arg;

	enum stage stage;
	uint64_t start_ms;          /* deadline arithmetic */
	uint64_t start_us;          /* durations */
	uint64_t stage_start_us;
	struct loop_timer deadline;  /* the whole probe */
	struct loop_timer step;      /* the first step; then one connect attempt's bound */

	struct resolve_req *req;
	struct resolved_addr *addrs;
	size_t naddrs;
	size_t next_addr;
	int last_errno;

	struct loop_watch watch;     /* watch.fd is the socket, or -1 */
	uint32_t events;             /* what watch is registered for; 0: not */
	struct tls *tls;
	struct starttls *st;         /* during STAGE_STARTTLS */
	struct proxy *px;            /* the proxy dialogue, during STAGE_CONNECT */

	struct result *r;
};

static void probe_connect_next(struct probe *p);
static void probe_handshake(struct probe *p);
static void probe_starttls(struct probe *p);
static void probe_proxy(struct probe *p);

static void
probe_stage_end(struct probe *p, enum stage s)
{
	uint64_t now = mono_us();

	p->r->stage_seconds[s] = (double)(now - p->stage_start_us) / 1e6;
	p->stage_start_us = now;
}

static void
probe_close_socket(struct probe *p)
{
	if (p->events) {
		loop_watch_del(p->loop, &p->watch);
		p->events = 0;
	}
	if (p->watch.fd != -1) {
		close(p->watch.fd);
		p->watch.fd = -1;
	}
}

static void
probe_release(struct probe *p)
{
	loop_timer_cancel(p->loop, &p->deadline);
	loop_timer_cancel(p->loop, &p->step);
	resolve_cancel(p->req);
	p->req = NULL;
	tls_free(p->tls);
	p->tls = NULL;
	starttls_free(p->st);
	p->st = NULL;
	proxy_free(p->px);
	p->px = NULL;
	proxy_spec_fini(&p->proxy);
	probe_close_socket(p);
	free(p->addrs);
	result_free(p->r);
	free(p);
}

/* Hand the result over and end the probe. */
static void
probe_finish(struct probe *p)
{
	struct result *r = p->r;
	probe_done_fn done = p->done;
	void *arg = p->arg;

	r->duration = (double)(mono_us() - p->start_us) / 1e6;
	if (p->fixed)
		r->duration += p->resolve_seconds;   /* resolved before it started */
	r->time = wall_now();
	p->r = NULL;
	probe_release(p);
	done(arg, r);
}

static void
probe_fail(struct probe *p, const char *stage, const char *reason, char *detail)
{
	p->r->success = 0;
	p->r->fail_stage = stage;
	p->r->fail_reason = reason;
	p->r->fail_detail = detail;
	probe_finish(p);
}

static void
deadline_cb(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, deadline);

	probe_fail(p, "timeout", stage_name(p->stage),
	    xasprintf("no result within %llu ms, during %s",
	    (unsigned long long)p->ct->timeout_ms, stage_name(p->stage)));
}

static int
probe_watch(struct probe *p, uint32_t events)
{
	int rc;

	if (p->events == events)
		return 0;
	rc = p->events ? loop_watch_mod(p->loop, &p->watch, events)
	    : loop_watch_add(p->loop, &p->watch, events);
	if (rc == 0)
		p->events = events;
	return rc;
}

static const char *
connect_reason(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "refused";
	case ENETUNREACH:
		return "network_unreachable";
	case EHOSTUNREACH:
		return "host_unreachable";
	case ETIMEDOUT:
		return "timed_out";
	case ECONNRESET:
		return "reset";
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
		return "address_unavailable";
	case EACCES:
	case EPERM:
		return "denied";
	default:
		return "other";
	}
}

/* The TLS session on the connected socket, then the handshake. */
static void
start_tls(struct probe *p)
{
	char *err = NULL;
	const char *sni = NULL;

	p->stage = STAGE_HANDSHAKE;

	/* SNI carries DNS names only (RFC 6066); an IP literal is checked
	 * against the certificate but never sent. */
	if (p->ct->server_name && *p->ct->server_name) {
		struct resolved_addr lit;
		if (resolve_literal(p->ct->server_name, 0, &lit) == -1)
			sni = p->ct->server_name;
	}
	p->tls = tls_new(p->watch.fd, sni, p->ct->tls.priority, &err);
	if (p->tls == NULL || (p->creds && tls_use_creds(p->tls, p->creds, &err) == -1)) {
		probe_fail(p, "handshake", "other", err);
		return;
	}
	probe_handshake(p);
}

/* Connected to the target, or through the proxy to it: STARTTLS or TLS
 * next. left holds bytes the target sent with the proxy's answer. */
static void
tunnel_open(struct probe *p, const void *left, size_t nleft)
{
	const char *domain;
	const void *out;
	size_t len;

	probe_stage_end(p, STAGE_CONNECT);
	if (p->ct->tls.starttls == STARTTLS_NONE) {
		if (nleft > 0) {
			probe_fail(p, "handshake", "protocol_error",
			    xasprintf("the server sent %zu bytes before the TLS handshake", nleft));
			return;
		}
		start_tls(p);
		return;
	}
	p->stage = STAGE_STARTTLS;
	domain = p->ct->server_name && *p->ct->server_name ? p->ct->server_name : p->ct->host;
	p->st = starttls_new((enum starttls_proto)p->ct->tls.starttls, domain);
	/* a server that speaks first may have spoken already */
	if (nleft > 0) {
		if (starttls_next(p->st, &out, &len) != STARTTLS_WANT_READ) {
			probe_fail(p, "starttls", "protocol_error",
			    xasprintf("%s: the server spoke before its turn",
			    starttls_name((enum starttls_proto)p->ct->tls.starttls)));
			return;
		}
		starttls_input(p->st, left, nleft);
	}
	probe_starttls(p);
}

static void
connected(struct probe *p)
{
	loop_timer_cancel(p->loop, &p->step);
	/* the address tried is the peer now: one copy, not two a result */
	free(p->r->peer);
	p->r->peer = p->r->tried;
	p->r->tried = NULL;
	if (!p->via_proxy) {
		tunnel_open(p, NULL, 0);
		return;
	}
	/* the proxy gets the name as it was given: it resolves it */
	if ((p->px = proxy_new(p->proxy.kind, p->ct->host, p->ct->port)) == NULL) {
		probe_fail(p, "connect", "proxy_error",
		    xasprintf("%s proxy: cannot ask for \"%s\"", proxy_kind_name(p->proxy.kind),
		    p->ct->host));
		return;
	}
	probe_proxy(p);
}

/* Drive the proxy dialogue, as probe_starttls drives a STARTTLS one. */
static void
probe_proxy(struct probe *p)
{
	unsigned char in[4096];
	const void *out, *left;
	size_t len;
	ssize_t n;

	for (;;) {
		switch (proxy_next(p->px, &out, &len)) {
		case PROXY_WANT_WRITE:
			n = send(p->watch.fd, out, len, MSG_NOSIGNAL);
			if (n >= 0) {
				proxy_sent(p->px, (size_t)n);
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (probe_watch(p, EPOLLOUT) == -1)
					probe_fail(p, "connect", "other",
					    xasprintf("epoll: %s", strerror(errno)));
				return;
			}
			probe_fail(p, "connect", "proxy_error", xasprintf("send to the proxy: %s",
			    strerror(errno)));
			return;
		case PROXY_WANT_READ:
			n = recv(p->watch.fd, in, sizeof(in), 0);
			if (n >= 0) {
				proxy_input(p->px, in, (size_t)n);
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (probe_watch(p, EPOLLIN) == -1)
					probe_fail(p, "connect", "other",
					    xasprintf("epoll: %s", strerror(errno)));
				return;
			}
			probe_fail(p, "connect", "proxy_error", xasprintf("recv from the proxy: %s",
			    strerror(errno)));
			return;
		case PROXY_DONE: {
			/* the target's first bytes, if any, outlive the dialogue */
			unsigned char *copy = NULL;

			left = proxy_leftover(p->px, &len);
			if (len > 0) {
				copy = xmalloc(len);
				memcpy(copy, left, len);
			}
			proxy_free(p->px);
			p->px = NULL;
			tunnel_open(p, copy, len);
			free(copy);
			return;
		}
		case PROXY_FAILED:
			probe_fail(p, "connect", proxy_reason(p->px),
			    xasprintf("%s proxy %s: %s", proxy_kind_name(p->proxy.kind),
			    p->ct->tls.proxy, proxy_detail(p->px)));
			return;
		}
	}
}

/* Drive the plaintext dialogue: write what it has to say, read what it
 * waits for, until it lets TLS start or fails. Reads are bounded by the
 * dialogue (starttls.c); the deadline bounds the time. */
static void
probe_starttls(struct probe *p)
{
	unsigned char in[4096];
	const void *out;
	size_t len;
	ssize_t n;

	for (;;) {
		switch (starttls_next(p->st, &out, &len)) {
		case STARTTLS_WANT_WRITE:
			n = send(p->watch.fd, out, len, MSG_NOSIGNAL);
			if (n >= 0) {
				starttls_sent(p->st, (size_t)n);
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (probe_watch(p, EPOLLOUT) == -1)
					probe_fail(p, "starttls", "protocol_error",
					    xasprintf("epoll: %s", strerror(errno)));
				return;
			}
			probe_fail(p, "starttls", "closed", xasprintf("send: %s", strerror(errno)));
			return;
		case STARTTLS_WANT_READ:
			n = recv(p->watch.fd, in, sizeof(in), 0);
			if (n >= 0) {
				starttls_input(p->st, in, (size_t)n);
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (probe_watch(p, EPOLLIN) == -1)
					probe_fail(p, "starttls", "protocol_error",
					    xasprintf("epoll: %s", strerror(errno)));
				return;
			}
			probe_fail(p, "starttls", "closed", xasprintf("recv: %s", strerror(errno)));
			return;
		case STARTTLS_DONE:
			starttls_free(p->st);
			p->st = NULL;
			probe_stage_end(p, STAGE_STARTTLS);
			start_tls(p);
			return;
		case STARTTLS_FAILED:
			probe_fail(p, "starttls", starttls_reason(p->st),
			    xasprintf("%s: %s", starttls_name((enum starttls_proto)p->ct->tls.starttls),
			    starttls_detail(p->st)));
			return;
		}
	}
}

static void
socket_cb(struct loop_watch *w, uint32_t events)
{
	struct probe *p = container_of(w, struct probe, watch);
	int err = 0;
	socklen_t len = sizeof(err);

	(void)events;
	if (p->stage == STAGE_CONNECT) {
		if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (p->px != NULL) {
			probe_proxy(p);
			return;
		}
		if (err == 0) {
			connected(p);
			return;
		}
		p->last_errno = err;
		log_debug("target %s: connect to address %zu of %zu: %s", p->ct->name,
		    p->next_addr, p->naddrs, strerror(err));
		probe_close_socket(p);
		probe_connect_next(p);
		return;
	}
	if (p->stage == STAGE_STARTTLS) {
		probe_starttls(p);
		return;
	}
	probe_handshake(p);
}

/* One connect attempt ran out of its share of the time: try the next address. */
static void
attempt_cb(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, step);

	p->last_errno = ETIMEDOUT;
	probe_close_socket(p);
	probe_connect_next(p);
}

static void
probe_connect_next(struct probe *p)
{
	while (p->next_addr < p->naddrs) {
		const struct resolved_addr *a = &p->addrs[p->next_addr++];
		int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		char where[80];

		resolve_format(a, where, sizeof(where));
		free(p->r->tried);
		p->r->tried = xstrdup(where);

		if (fd == -1) {
			p->last_errno = errno;
			continue;
		}
		p->watch.fd = fd;
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
			connected(p);
			return;
		}
		if (errno != EINPROGRESS) {
			p->last_errno = errno;
			probe_close_socket(p);
			continue;
		}
		if (probe_watch(p, EPOLLOUT) == -1) {
			p->last_errno = errno;
			probe_close_socket(p);
			continue;
		}
		/* With addresses left, this one gets its share of the time left,
		 * so one black hole cannot starve the others. */
		size_t left = p->naddrs - p->next_addr;
		if (left > 0) {
			uint64_t now = mono_ms(), end = p->deadline.node.key;
			uint64_t share = end > now ? (end - now) / (left + 1) : 0;
			loop_timer_at(p->loop, &p->step, now + share);
		}
		return;
	}
	probe_fail(p, "connect", connect_reason(p->last_errno),
	    xasprintf("%s", strerror(p->last_errno ? p->last_errno : EHOSTUNREACH)));
}

static void
resolved_cb(void *arg, const struct resolved_addr *addrs, size_t n,
            const char *reason, const char *detail)
{
	struct probe *p = arg;

	p->req = NULL;
	if (addrs == NULL) {
		probe_fail(p, "resolve", reason, xasprintf("%s: %s",
		    p->via_proxy ? p->proxy.host : p->ct->host, detail));
		return;
	}
	/* Judged on every address the name gave, before any connect: a name
	 * cannot smuggle a forbidden address (a proxy's are the operator's). */
	if (p->allow != NULL && !p->via_proxy) {
		char why[64] = "";
		const char *no = allow_check(p->allow, p->ct->host, p->ct->host_is_ip, addrs, n,
		    why, sizeof(why));

		if (no != NULL) {
			probe_fail(p, "connect", "not_allowed", xasprintf("%s: %s (%s)",
			    p->ct->host, no, why));
			return;
		}
	}
	p->addrs = xreallocarray(NULL, n, sizeof(*addrs));
	memcpy(p->addrs, addrs, n * sizeof(*addrs));
	p->naddrs = n;
	probe_stage_end(p, STAGE_RESOLVE);
	if (p->fixed)
		p->r->stage_seconds[STAGE_RESOLVE] = p->resolve_seconds;
	p->stage = STAGE_CONNECT;
	probe_connect_next(p);
}

static void
probe_verify(struct probe *p)
{
	struct result *r = p->r;
	const struct der *chain;
	struct tls_facts facts;
	char word[ALGO_WORD_MAX];
	size_t n;
	const char *check;
	int64_t now;

	chain = tls_peer_chain(p->tls, &n);
	r->tls_version = str_intern(tls_version_name(p->tls));
	r->cipher = str_intern(tls_cipher_name(p->tls));
	tls_facts(p->tls, &facts);
	if (facts.group != NULL) {
		algo_group(facts.group, word);
		r->tls_group = str_intern(word);
	}
	if (facts.sigscheme != NULL) {
		algo_sigscheme(facts.sigscheme, word);
		r->tls_sigscheme = str_intern(word);
	}
	tls_bye(p->tls);
	if (n == 0) {
		probe_fail(p, "handshake", "no_certificate",
		    xstrdup("the peer presented no X.509 certificate"));
		return;
	}
	p->stage = STAGE_VERIFY;
	r->certs = xcalloc(n, sizeof(*r->certs));
	r->ders = xcalloc(n, sizeof(*r->ders));
	for (size_t i = 0; i < n; i++) {
		struct cert *c = cert_get(chain[i].data, chain[i].len);
		if (c && i == 0 && p->go_names)
			cert_go_names(c, chain[i].data, chain[i].len);
		if (c) {
			/* The store writes a certificate once; only one it does
			 * not have yet needs its DER kept until then. */
			if (!c->stored) {
				unsigned char *copy = xmalloc(chain[i].len);

				memcpy(copy, chain[i].data, chain[i].len);
				r->ders[r->ncerts].data = copy;
				r->ders[r->ncerts].len = chain[i].len;
			}
			r->certs[r->ncerts++] = c;
		}
	}
	r->nders = r->ncerts;
	check = conf_target_check_name(p->ct);
	now = (int64_t)wall_now();
	/* Signature checks dominate a probe's CPU and give the same answer for
	 * the same chain: reuse the last verdict while nothing it depends on
	 * has changed. The handshake itself still proved the peer holds the
	 * leaf's key (except one stopped at a key-usage violation, whose
	 * verdict is made afresh and not reused: see tls.c). */
	if (p->prev && p->prev->success && !facts.key_usage_violation &&
	    verdict_holds(&p->prev->verdict, p->prev->certs, p->prev->ncerts, r->certs,
	    r->ncerts, n, p->trust, check, &facts, now)) {
		verdict_copy(&r->verdict, &p->prev->verdict);
		r->verdict.reused = 1;
		verdict_count_reuse();
	} else {
		struct verdict_input in = {
			.chain = chain, .n = n, .trust = p->trust, .target = p->ct,
			.hostname = check, .now = now, .tls = &facts,
			.ref_target = p->ct->name, .ref_address = p->fixed ? p->ref_address : NULL,
		};
		verdict_evaluate(&in, &r->verdict);
	}
	probe_stage_end(p, STAGE_VERIFY);
	r->success = 1;
	probe_finish(p);
}

static void
probe_handshake(struct probe *p)
{
	const char *reason = NULL;
	char *detail = NULL;

	switch (tls_handshake(p->tls, &reason, &detail)) {
	case TLS_WANT_READ:
		if (probe_watch(p, EPOLLIN) == -1)
			probe_fail(p, "handshake", "other", xasprintf("epoll: %s", strerror(errno)));
		return;
	case TLS_WANT_WRITE:
		if (probe_watch(p, EPOLLOUT) == -1)
			probe_fail(p, "handshake", "other", xasprintf("epoll: %s", strerror(errno)));
		return;
	case TLS_FAILED:
		probe_fail(p, "handshake", reason, detail);
		return;
	case TLS_DONE:
		probe_stage_end(p, STAGE_HANDSHAKE);
		probe_verify(p);
		return;
	}
}

enum resolve_family
probe_family(const struct conf_target *ct)
{
	switch (ct->tls.family) {
	case CONF_FAMILY_IPV4:
		return RESOLVE_IPV4;
	case CONF_FAMILY_IPV6:
		return RESOLVE_IPV6;
	default:
		return RESOLVE_ANY;
	}
}

/* The first step runs from the loop, so that probe_start never calls back. */
static void
first_step_cb(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, step);
	struct resolved_addr lit;

	t->cb = attempt_cb;
	if (p->via_proxy) {
		/* The proxy resolves the target's name: only a name pattern
		 * can allow a name, a network only an address literal. */
		if (p->allow != NULL) {
			int ok = p->ct->host_is_ip ?
			    resolve_literal(p->ct->host, p->ct->port, &lit) == 0 &&
			    allow_address(p->allow, (const struct sockaddr *)&lit.ss) :
			    allow_name(p->allow, p->ct->host);

			if (!ok) {
				probe_fail(p, "connect", "not_allowed", xasprintf("%s: %s", p->ct->host,
				    p->ct->host_is_ip ? "address not in probe_allow" :
				    "name not in probe_allow (a proxy resolves it, so only a "
				    "name pattern can allow it)"));
				return;
			}
		}
		if (resolve_literal(p->proxy.host, p->proxy.port, &lit) == 0) {
			resolved_cb(p, &lit, 1, NULL, NULL);
			return;
		}
		p->req = resolve_start(p->res, p->proxy.host, p->proxy.port, RESOLVE_ANY,
		    resolved_cb, p);
		return;
	}
	if (p->fixed) {
		/* multi.c asked for the TLSA records of all its addresses */
		resolved_cb(p, &p->fixed_addr, 1, NULL, NULL);
		return;
	}
	/* DANE: the TLSA records come while we connect and shake hands */
	tlsa_prefetch(p->ct);
	if (resolve_literal(p->ct->host, p->ct->port, &lit) == 0) {
		resolved_cb(p, &lit, 1, NULL, NULL);
		return;
	}
	p->req = resolve_start(p->res, p->ct->host, p->ct->port,
	    probe_family(p->ct), resolved_cb, p);
}

struct probe *
probe_start(struct loop *l, struct resolver *res, const struct conf_target *ct,
            const struct trust *trust, const struct result *prev,
            probe_done_fn done, void *arg)
{
	struct probe_opts o = { .trust = trust, .prev = prev };

	return probe_start_ex(l, res, ct, &o, done, arg);
}

struct probe *
probe_start_ex(struct loop *l, struct resolver *res, const struct conf_target *ct,
               const struct probe_opts *o, probe_done_fn done, void *arg)
{
	struct probe *p = xcalloc(1, sizeof(*p));

	p->loop = l;
	p->res = res;
	p->ct = ct;
	p->trust = o->trust;
	p->prev = o->prev;
	p->creds = o->creds;
	p->allow = o->allow;
	p->go_names = o->go_names;
	/* conf.c checked the setting: parsed again here, where it is used */
	if (ct->tls.proxy != NULL && proxy_parse(ct->tls.proxy, &p->proxy) == NULL)
		p->via_proxy = 1;
	if (o->addr) {
		p->fixed = 1;
		p->fixed_addr = *o->addr;
		p->resolve_seconds = o->resolve_seconds;
		char ip[INET6_ADDRSTRLEN];

		resolve_ip(o->addr, ip, sizeof(ip));
		snprintf(p->ref_address, sizeof(p->ref_address), "%s%s",
		    o->ref_prefix ? o->ref_prefix : "", ip);
	}
	p->done = done;
	p->arg = arg;
	p->stage = STAGE_RESOLVE;
	p->watch.fd = -1;
	p->watch.cb = socket_cb;
	p->start_ms = mono_ms();
	p->start_us = p->stage_start_us = mono_us();
	p->r = xcalloc(1, sizeof(*p->r));
	for (int s = 0; s < STAGE_COUNT; s++)
		p->r->stage_seconds[s] = -1;
	loop_timer_init(&p->deadline, deadline_cb);
	loop_timer_init(&p->step, first_step_cb);
	loop_timer_at(l, &p->deadline, o->deadline_ms ? o->deadline_ms : p->start_ms + ct->timeout_ms);
	loop_timer_at(l, &p->step, 0);
	return p;
}

void
probe_cancel(struct probe *p)
{
	if (p)
		probe_release(p);
}
