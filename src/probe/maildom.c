/* maildom.c - a mail domain's round: the MX lookup, then every MX host on
 * every port at every address, in parallel, each under the target's
 * timeout (the lookup has one of its own of the same length). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/dnsrec.h"
#include "probe/maildom.h"
#include "probe/stsround.h"

struct mx {
	char *host;
	uint16_t preference;
};

struct sub {
	struct maildom *md;
	struct conf_target ct;     /* maildom_sub_target's */
	char prefix[MAILDOM_KEY_MAX];   /* "MX PORT " */
	struct multi *multi;
	struct addr_result *a;
	size_t n;
	int done;
};

struct maildom {
	struct mx *mx;             /* the last answer's set, by preference */
	size_t nmx;
	uint64_t changes;
	int mx_insecure;           /* the last MX answer was not authenticated */
	struct sts *sts;           /* MTA-STS and TLS-RPT, apart from the rounds */
	/* the round in flight */
	struct loop *loop;
	struct resolver *res;
	const struct conf_target *ct;
	struct probe_opts opts;
	multi_done_fn done;
	void *arg;
	uint64_t start_us;
	struct dnsrec_req *req;
	struct loop_timer deadline;    /* the MX lookup's */
	struct sub *subs;
	size_t nsubs, running;
};

static void
mx_free(struct mx *mx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(mx[i].host);
	free(mx);
}

struct maildom *
maildom_new(void)
{
	struct maildom *md = xcalloc(1, sizeof(*md));

	loop_timer_init(&md->deadline, NULL);
	md->sts = sts_new();
	return md;
}

/* The round in flight (not the MTA-STS lookup) abandoned. */
static void
round_reset(struct maildom *md)
{
	if (md->loop)
		loop_timer_cancel(md->loop, &md->deadline);
	dnsrec_cancel(md->req);
	md->req = NULL;
	for (size_t i = 0; i < md->nsubs; i++) {
		multi_cancel(md->subs[i].multi);
		addr_results_free(md->subs[i].a, md->subs[i].n);
	}
	free(md->subs);
	md->subs = NULL;
	md->nsubs = md->running = 0;
	md->done = NULL;
}

void
maildom_cancel(struct maildom *md)
{
	if (md == NULL)
		return;
	round_reset(md);
	sts_cancel(md->sts);
}

int
maildom_busy(const struct maildom *md)
{
	return md != NULL && md->done != NULL;
}

void
maildom_free(struct maildom *md)
{
	if (md == NULL)
		return;
	maildom_cancel(md);
	sts_free(md->sts);
	mx_free(md->mx, md->nmx);
	free(md);
}

/* The round ends with a failure of the whole domain. */
static void
round_fail(struct maildom *md, const char *stage, const char *reason, char *detail)
{
	struct result *r = result_failed(stage, reason, detail, md->start_us);
	multi_done_fn done = md->done;
	void *arg = md->arg;

	round_reset(md);
	done(arg, r, NULL, 0);
}

static void
deadline_cb(struct loop_timer *t)
{
	struct maildom *md = container_of(t, struct maildom, deadline);

	round_fail(md, "timeout", "mx_lookup", xasprintf("%s: no MX answer within %llu ms",
	    md->ct->mail_domain, (unsigned long long)md->ct->timeout_ms));
}

/* Every sub-round ended: their results, in order, as one list. */
static void
round_end(struct maildom *md)
{
	struct addr_result *all;
	size_t n = 0, k = 0;
	multi_done_fn done = md->done;
	void *arg = md->arg;

	for (size_t i = 0; i < md->nsubs; i++)
		n += md->subs[i].n;
	all = xcalloc(n ? n : 1, sizeof(*all));
	/* Rows that fail (no probe, or a chain that does not verify) first,
	 * each part in MX, port and address order: the target's own result
	 * (the status page's, the state file's) is the first row's, and a
	 * failing MX host must not hide behind a good one. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < md->nsubs; i++) {
			struct sub *s = &md->subs[i];

			for (size_t j = 0; j < s->n; j++) {
				const struct result *r = s->a[j].result;
				int bad = !r->success || !r->verdict.verified;

				if (bad == (pass == 0))
					all[k++] = s->a[j];
			}
		}
	for (size_t i = 0; i < md->nsubs; i++) {
		free(md->subs[i].a);
		md->subs[i].a = NULL;
		md->subs[i].n = 0;
	}
	round_reset(md);
	done(arg, NULL, all, n);
}

static void
sub_done(void *arg, struct result *failure, struct addr_result *a, size_t n)
{
	struct sub *s = arg;
	struct maildom *md = s->md;

	s->multi = NULL;
	if (failure) {
		/* the MX host did not resolve: one row for it, "MX PORT" */
		size_t len = strlen(s->prefix);

		s->a = xcalloc(1, sizeof(*s->a));
		s->a[0].address = xstrndup(s->prefix, len - 1);
		s->a[0].result = failure;
		s->n = 1;
	} else {
		s->a = a;
		s->n = n;
	}
	if (--md->running == 0)
		round_end(md);
}

static int
mx_same(const struct mx *a, size_t na, const struct mx *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].preference != b[i].preference || strcmp(a[i].host, b[i].host) != 0)
			return 0;
	return 1;
}

static char *
mx_list(const struct mx *mx, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u %s", i ? ", " : "", mx[i].preference, mx[i].host);
	if (n == 0)
		buf_printf(&b, "none");
	return buf_steal(&b);
}

/* Keep the answer's MX set; log and count a change. */
static void
mx_keep(struct maildom *md, struct mx *mx, size_t n)
{
	if (md->mx != NULL && !mx_same(md->mx, md->nmx, mx, n)) {
		char *was = mx_list(md->mx, md->nmx), *now = mx_list(mx, n);

		md->changes++;
		log_warnx("target %s: the MX set of %s changed: %s, was %s", md->ct->name,
		    md->ct->mail_domain, now, was);
		free(was);
		free(now);
	}
	if (md->mx == NULL || !mx_same(md->mx, md->nmx, mx, n)) {
		mx_free(md->mx, md->nmx);
		md->mx = mx;
		md->nmx = n;
	} else {
		mx_free(mx, n);
	}
}

static void
mx_cb(void *arg, const struct dnsrec_result *res)
{
	struct maildom *md = arg;
	const struct conf_target *ct = md->ct;
	struct mx *mx;
	size_t n = 0;

	md->req = NULL;
	loop_timer_cancel(md->loop, &md->deadline);
	if (res->status == DNSREC_BOGUS || res->status == DNSREC_ERROR) {
		round_fail(md, "resolve", res->status == DNSREC_BOGUS ? "mx_bogus" : "mx_lookup",
		    xasprintf("%s MX: %s%s%s", ct->mail_domain, res->reason,
		    res->detail ? ": " : "", res->detail ? res->detail : ""));
		return;
	}
	if (res->nxdomain) {
		round_fail(md, "resolve", "nxdomain",
		    xasprintf("%s: no such domain", ct->mail_domain));
		return;
	}
	if (res->msg.n == 0 && res->msg.bad > 0) {
		round_fail(md, "resolve", "mx_malformed",
		    xasprintf("%s: %zu malformed MX record%s, none usable", ct->mail_domain,
		    res->msg.bad, res->msg.bad == 1 ? "" : "s"));
		return;
	}
	mx = xcalloc(MAILDOM_MAX_MX, sizeof(*mx));
	/* the parser sorted them by preference, then host */
	for (size_t i = 0; i < res->msg.n && n < MAILDOM_MAX_MX; i++) {
		int dup = 0;

		if (res->msg.mx[i].host[0] == '\0') {
			/* RFC 7505: a null MX, alone, says "no mail here" */
			mx_free(mx, n);
			round_fail(md, "resolve", "null_mx",
			    xasprintf("%s has a null MX: it accepts no mail (RFC 7505)",
			    ct->mail_domain));
			return;
		}
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(mx[j].host, res->msg.mx[i].host) == 0;
		if (dup)
			continue;
		mx[n].host = xstrdup(res->msg.mx[i].host);
		mx[n].preference = res->msg.mx[i].preference;
		n++;
	}
	if (n == 0 && res->msg.n == 0) {
		/* RFC 5321 section 5.1: no MX, the domain itself (the implicit MX) */
		mx[n].host = xstrdup(ct->mail_domain);
		mx[n].preference = 0;
		n++;
	}
	if (res->msg.n > MAILDOM_MAX_MX)
		log_debug("target %s: %zu MX hosts; the first %d are probed", ct->name,
		    res->msg.n, MAILDOM_MAX_MX);
	mx_keep(md, mx, n);
	/* RFC 7672 section 2.2: with an MX RRset (or, for the implicit MX, a
	 * denial) not DNSSEC-authenticated a sender does not look up TLSA for
	 * those hosts, so DANE does not apply to them: no TLSA status, and the
	 * verdict is the Web PKI's. */
	if (md->mx_insecure != (res->status == DNSREC_INSECURE))
		log_debug("target %s: the MX answer of %s is %s: DANE %s", ct->name,
		    ct->mail_domain, dnsrec_status_name(res->status),
		    res->status == DNSREC_INSECURE ? "does not apply (RFC 7672 2.2)" : "applies");
	md->mx_insecure = res->status == DNSREC_INSECURE;

	md->nsubs = md->nmx * ct->nports;
	md->subs = xcalloc(md->nsubs ? md->nsubs : 1, sizeof(*md->subs));
	for (size_t i = 0; i < md->nmx; i++)
		for (size_t p = 0; p < ct->nports; p++) {
			struct sub *s = &md->subs[i * ct->nports + p];

			s->md = md;
			maildom_sub_target(ct, md->mx[i].host, ct->ports[p], &s->ct);
			if (md->mx_insecure)
				s->ct.dane = CONF_DANE_OFF;
			snprintf(s->prefix, sizeof(s->prefix), "%s %u ", md->mx[i].host,
			    ct->ports[p]);
		}
	md->running = md->nsubs;
	for (size_t i = 0; i < md->nsubs; i++) {
		struct probe_opts o = md->opts;

		o.ref_prefix = md->subs[i].prefix;
		md->subs[i].multi = multi_start(md->loop, md->res, &md->subs[i].ct, &o, sub_done,
		    &md->subs[i]);
	}
}

void
maildom_start(struct maildom *md, struct loop *l, struct resolver *res,
    const struct conf_target *ct, const struct probe_opts *o, multi_done_fn done, void *arg)
{
	round_reset(md);
	md->loop = l;
	md->res = res;
	md->ct = ct;
	md->opts = *o;
	md->opts.prev = NULL;
	md->opts.addr = NULL;
	md->done = done;
	md->arg = arg;
	md->start_us = mono_us();
	md->deadline.cb = deadline_cb;
	loop_timer_at(l, &md->deadline, mono_ms() + ct->timeout_ms);
	/* answered from the loop, never from here */
	md->req = dnsrec_lookup(res, ct->mail_domain, DNS_T_MX, mx_cb, md);
	/* MTA-STS, unless the last round's lookup still runs */
	sts_start(md->sts, l, res, ct);
}

int
maildom_split_key(const char *key, char *mx, size_t mxsize, uint16_t *port,
    const char **address)
{
	const char *sp = strchr(key, ' ');
	char *end;
	unsigned long p;

	if (sp == NULL || (size_t)(sp - key) >= mxsize || sp == key)
		return -1;
	p = strtoul(sp + 1, &end, 10);
	if (end == sp + 1 || p < 1 || p > 65535 || (*end != ' ' && *end != '\0'))
		return -1;
	memcpy(mx, key, (size_t)(sp - key));
	mx[sp - key] = '\0';
	*port = (uint16_t)p;
	*address = *end ? end + 1 : end;
	return 0;
}

void
maildom_sub_target(const struct conf_target *parent, const char *mx, uint16_t port,
    struct conf_target *out)
{
	*out = *parent;
	out->address = (char *)mx;
	out->host = (char *)mx;
	out->host_is_ip = 0;
	out->server_name = (char *)mx;
	out->port = port;
	out->tls.starttls = conf_mail_starttls(port);
	out->tls.addresses_all = 1;
}

int
maildom_target_for_key(const struct maildom *md, const struct conf_target *parent,
    const char *key, char *mx, size_t mxsize, struct conf_target *out)
{
	const char *address;
	uint16_t port;
	int known = 0;

	if (maildom_split_key(key, mx, mxsize, &port, &address) == -1)
		return -1;
	for (size_t i = 0; i < md->nmx && !known; i++)
		known = strcmp(md->mx[i].host, mx) == 0;
	for (size_t i = 0; i < parent->nports && known == 1; i++)
		known += parent->ports[i] == port;
	if (known != 2)
		return -1;
	maildom_sub_target(parent, mx, port, out);
	if (md->mx_insecure)
		out->dane = CONF_DANE_OFF;
	return 0;
}

size_t
maildom_nmx(const struct maildom *md)
{
	return md->nmx;
}

const char *
maildom_mx(const struct maildom *md, size_t i, uint16_t *preference)
{
	*preference = md->mx[i].preference;
	return md->mx[i].host;
}

uint64_t
maildom_mx_changes(const struct maildom *md)
{
	return md->changes;
}

const struct sts *
maildom_sts(const struct maildom *md)
{
	return md->sts;
}
