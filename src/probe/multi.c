/* multi.c - addresses = "all": one resolution, then one probe per address,
 * all in flight together and all under the target's one deadline, so that
 * a black hole at one address costs the others nothing. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "probe/multi.h"
#include "probe/tlsa.h"
#include "probe/resolve.h"
#include "core/util.h"


struct child {
	struct multi *m;
	struct probe *probe;
};

struct multi {
	struct loop *loop;
	struct resolver *res;
	const struct conf_target *ct;
	struct probe_opts opts;
	multi_done_fn done;
	void *arg;
	uint64_t start_ms;
	uint64_t start_us;
	struct loop_timer first;     /* the first step runs from the loop */
	struct loop_timer deadline;  /* only while resolving; probes keep their own */
	struct resolve_req *req;
	struct addr_result *a;
	struct child *children;
	size_t n;
	size_t running;
};

static void
multi_release(struct multi *m)
{
	loop_timer_cancel(m->loop, &m->first);
	loop_timer_cancel(m->loop, &m->deadline);
	resolve_cancel(m->req);
	for (size_t i = 0; i < m->n; i++)
		probe_cancel(m->children[i].probe);
	addr_results_free(m->a, m->n);
	free(m->children);
	free(m);
}

/* Resolving failed: one result for the target, like a probe's. */
static void
multi_fail(struct multi *m, const char *stage, const char *reason, char *detail)
{
	struct result *r = result_failed(stage, reason, detail, m->start_us);
	multi_done_fn done = m->done;
	void *arg = m->arg;

	multi_release(m);
	done(arg, r, NULL, 0);
}

static void
deadline_cb(struct loop_timer *t)
{
	struct multi *m = container_of(t, struct multi, deadline);

	multi_fail(m, "timeout", "resolve", xasprintf("no result within %llu ms, during resolve",
	    (unsigned long long)m->ct->timeout_ms));
}

static void
child_done(void *arg, struct result *r)
{
	struct child *c = arg;
	struct multi *m = c->m;
	size_t i = (size_t)(c - m->children);

	c->probe = NULL;
	m->a[i].result = r;
	if (--m->running > 0)
		return;
	struct addr_result *a = m->a;
	size_t n = m->n;
	multi_done_fn done = m->done;
	void *darg = m->arg;
	m->a = NULL;
	m->n = 0;
	multi_release(m);
	done(darg, NULL, a, n);
}

static void
resolved_cb(void *arg, const struct resolved_addr *addrs, size_t n,
            const char *reason, const char *detail)
{
	struct multi *m = arg;
	struct probe_opts o = m->opts;
	char ip[INET6_ADDRSTRLEN];
	const char *prefix = m->opts.ref_prefix ? m->opts.ref_prefix : "";
	size_t k = 0, plen = strlen(prefix);

	m->req = NULL;
	if (addrs == NULL) {
		multi_fail(m, "resolve", reason, xasprintf("%s: %s", m->ct->host, detail));
		return;
	}
	loop_timer_cancel(m->loop, &m->deadline);
	if (n > MULTI_MAX_ADDRS)
		n = MULTI_MAX_ADDRS;
	m->a = xcalloc(n, sizeof(*m->a));
	m->children = xcalloc(n, sizeof(*m->children));
	/* One series set per distinct address: a name listed twice in a
	 * hosts file must not make duplicate series. */
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		resolve_ip(&addrs[i], ip, sizeof(ip));
		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(m->a[j].address + plen, ip) == 0;
		if (dup)
			continue;
		m->a[k].address = xasprintf("%s%s", prefix, ip);
		k++;
	}
	m->n = k;
	if (k == 0) {
		multi_fail(m, "resolve", "no_address", xasprintf("%s: no address", m->ct->host));
		return;
	}
	o.resolve_seconds = (double)(mono_us() - m->start_us) / 1e6;
	o.deadline_ms = m->start_ms + m->ct->timeout_ms;
	k = 0;
	for (size_t i = 0; i < n && k < m->n; i++) {
		resolve_ip(&addrs[i], ip, sizeof(ip));
		if (strcmp(ip, m->a[k].address + plen) != 0)
			continue;       /* a duplicate */
		o.addr = &addrs[i];
		m->children[k].m = m;
		m->running++;
		m->children[k].probe = probe_start_ex(m->loop, m->res, m->ct, &o, child_done,
		    &m->children[k]);
		k++;
	}
}

static void
first_cb(struct loop_timer *t)
{
	struct multi *m = container_of(t, struct multi, first);
	struct resolved_addr lit;

	/* the TLSA records, while the addresses are looked up and probed */
	tlsa_prefetch(m->ct);
	if (resolve_literal(m->ct->host, m->ct->port, &lit) == 0) {
		resolved_cb(m, &lit, 1, NULL, NULL);
		return;
	}
	m->req = resolve_start(m->res, m->ct->host, m->ct->port, probe_family(m->ct),
	    resolved_cb, m);
}

struct multi *
multi_start(struct loop *l, struct resolver *res, const struct conf_target *ct,
            const struct probe_opts *o, multi_done_fn done, void *arg)
{
	struct multi *m = xcalloc(1, sizeof(*m));

	m->loop = l;
	m->res = res;
	m->ct = ct;
	m->opts = *o;
	m->opts.addr = NULL;
	m->done = done;
	m->arg = arg;
	m->start_ms = mono_ms();
	m->start_us = mono_us();
	loop_timer_init(&m->first, first_cb);
	loop_timer_init(&m->deadline, deadline_cb);
	loop_timer_at(l, &m->deadline, m->start_ms + ct->timeout_ms);
	loop_timer_at(l, &m->first, 0);
	return m;
}

void
multi_cancel(struct multi *m)
{
	if (m)
		multi_release(m);
}
