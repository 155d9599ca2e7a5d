/* stsround.c - MTA-STS and TLS-RPT for a mail domain (see stsround.h).
 * Steps, each bounded by its own means (the resolver's timeouts, the
 * fetcher's timeout and max_size) and by STS_DEADLINE_MS in all: the
 * _mta-sts and _smtp._tls TXT lookups in parallel, then mta-sts.DOMAIN's
 * address, then the policy. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "fetch/fetch.h"
#include "probe/dnsrec.h"
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/stsround.h"

/* The whole of one lookup, whatever its steps' own bounds say. */
#define STS_DEADLINE_MS ((uint64_t)60 * 1000)

struct sts {
	/* the last completed lookup */
	enum sts_status status;
	struct mtasts_policy policy;    /* STS_OK only */
	char id[MTASTS_ID_MAX + 1];
	int tlsrpt;
	/* in flight */
	struct loop *loop;
	const struct conf_target *ct;
	struct resolver *res;
	struct loop_timer deadline;
	int busy;
	int txt_pending;                /* TXT lookups not answered yet */
	struct dnsrec_req *sts_req, *rpt_req;
	struct resolve_req *addr_req;
	int addr_answered;
	struct fetch_waiter *waiter;
	char *url;
	/* the new values, published when the lookup ends */
	enum sts_status nstatus;
	char nid[MTASTS_ID_MAX + 1];
	int ntlsrpt;
	int have_record;
	struct mtasts_policy npolicy;
	char *detail;
};

static struct fetch *fetcher;

static const char *const status_names[] = {
	"none", "ok", "no_record", "fetch_error", "invalid_policy", "policy_cert_invalid",
};

const char *
sts_status_name(enum sts_status s)
{
	return (unsigned)s < ARRAY_SIZE(status_names) ? status_names[s] : "none";
}

void
sts_set_fetch(struct fetch *f)
{
	fetcher = f;
}

static void deadline_cb(struct loop_timer *t);

struct sts *
sts_new(void)
{
	struct sts *s = xcalloc(1, sizeof(*s));

	s->tlsrpt = -1;
	loop_timer_init(&s->deadline, deadline_cb);
	return s;
}

/* Every step in flight abandoned. */
static void
stop_steps(struct sts *s)
{
	dnsrec_cancel(s->sts_req);
	dnsrec_cancel(s->rpt_req);
	resolve_cancel(s->addr_req);
	if (s->waiter)
		fetch_cancel(fetcher, s->waiter);
	s->sts_req = s->rpt_req = NULL;
	s->addr_req = NULL;
	s->waiter = NULL;
	s->txt_pending = 0;
}

void
sts_cancel(struct sts *s)
{
	if (s == NULL || !s->busy)
		return;
	loop_timer_cancel(s->loop, &s->deadline);
	stop_steps(s);
	mtasts_policy_free(&s->npolicy);
	memset(&s->npolicy, 0, sizeof(s->npolicy));
	free(s->url);
	free(s->detail);
	s->url = s->detail = NULL;
	s->busy = 0;
}

int
sts_busy(const struct sts *s)
{
	return s->busy;
}

void
sts_free(struct sts *s)
{
	if (s == NULL)
		return;
	sts_cancel(s);
	mtasts_policy_free(&s->policy);
	free(s);
}

enum sts_status
sts_result(const struct sts *s, const struct mtasts_policy **policy, const char **id,
    int *tlsrpt)
{
	*policy = s->status == STS_OK ? &s->policy : NULL;
	*id = s->id;
	*tlsrpt = s->tlsrpt;
	return s->status;
}

/* Publish what this lookup found, logging a change of status once. */
static void
finish(struct sts *s)
{
	enum sts_status st = s->nstatus;
	const char *detail = s->detail;

	if (st != s->status && s->status != STS_NONE)
		log_warnx("target %s: MTA-STS of %s: %s%s%s, was %s", s->ct->name,
		    s->ct->mail_domain, sts_status_name(st), detail ? ": " : "",
		    detail ? detail : "", sts_status_name(s->status));
	else if (st != s->status && st != STS_OK && st != STS_NO_RECORD)
		log_warnx("target %s: MTA-STS of %s: %s%s%s", s->ct->name, s->ct->mail_domain,
		    sts_status_name(st), detail ? ": " : "", detail ? detail : "");
	s->status = st;
	memcpy(s->id, s->nid, sizeof(s->id));
	mtasts_policy_free(&s->policy);
	s->policy = s->npolicy;
	memset(&s->npolicy, 0, sizeof(s->npolicy));
	if (st != STS_OK) {
		mtasts_policy_free(&s->policy);
		memset(&s->policy, 0, sizeof(s->policy));
	}
	s->tlsrpt = s->ntlsrpt;
	sts_cancel(s);      /* what is left of the lookup: detail */
}

/* Both TXT answers are in, or the policy step ended: done when nothing
 * is left. */
static void
maybe_finish(struct sts *s)
{
	if (s->txt_pending > 0 || s->addr_req || s->waiter || !s->busy)
		return;
	if (s->nstatus == STS_NONE)
		return;     /* the policy step has not started or ended */
	finish(s);
}

static void
fail(struct sts *s, enum sts_status st, char *detail)
{
	s->nstatus = st;
	free(s->detail);
	s->detail = detail;
	maybe_finish(s);
}

static void
deadline_cb(struct loop_timer *t)
{
	struct sts *s = container_of(t, struct sts, deadline);

	stop_steps(s);
	if (s->nstatus == STS_NONE)
		fail(s, STS_FETCH_ERROR, xasprintf("no answer within %llu s",
		    (unsigned long long)(STS_DEADLINE_MS / 1000)));
	else
		maybe_finish(s);
}

static void
fetched_cb(const struct fetch_result *r, void *arg)
{
	struct sts *s = arg;
	char err[160];

	s->waiter = NULL;
	if (r->error == FETCH_ERR_VERIFY) {
		fail(s, STS_POLICY_CERT_INVALID, xasprintf("%s: %s", s->url,
		    r->error_text ? r->error_text : "certificate not verified"));
		return;
	}
	if (r->error != FETCH_ERR_NONE) {
		fail(s, STS_FETCH_ERROR, xasprintf("%s: %s", s->url,
		    r->error_text ? r->error_text : "failed"));
		return;
	}
	/* RFC 8461 section 3.3: text/plain, at most 64 KiB */
	if (r->content_type == NULL ||
	    strncasecmp(r->content_type, "text/plain", 10) != 0 ||
	    (r->content_type[10] != '\0' && r->content_type[10] != ';' &&
	    r->content_type[10] != ' ')) {
		fail(s, STS_INVALID_POLICY, xasprintf("%s: Content-Type %s, not text/plain",
		    s->url, r->content_type ? r->content_type : "absent"));
		return;
	}
	if (r->len > MTASTS_POLICY_MAX) {
		fail(s, STS_INVALID_POLICY, xasprintf("%s: %zu bytes, more than %d", s->url,
		    r->len, MTASTS_POLICY_MAX));
		return;
	}
	if (mtasts_policy_parse((const char *)r->body, r->len, &s->npolicy, err,
	    sizeof(err)) == -1) {
		mtasts_policy_free(&s->npolicy);
		memset(&s->npolicy, 0, sizeof(s->npolicy));
		fail(s, STS_INVALID_POLICY, xasprintf("%s: %s", s->url, err));
		return;
	}
	fail(s, STS_OK, NULL);
}

static void
addr_cb(void *arg, const struct resolved_addr *addrs, size_t n, const char *reason,
    const char *detail)
{
	struct sts *s = arg;
	char ip[INET6_ADDRSTRLEN];
	struct fetch_opts o = { .ca_file = s->ct->ca_file, .no_redirects = 1 };

	s->addr_req = NULL;
	s->addr_answered = 1;
	if (addrs == NULL || n == 0) {
		fail(s, STS_FETCH_ERROR, xasprintf("mta-sts.%s: %s: %s", s->ct->mail_domain,
		    reason ? reason : "no_address", detail ? detail : "no address"));
		return;
	}
	resolve_ip(&addrs[0], ip, sizeof(ip));
	o.resolve = ip;
	s->url = xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", s->ct->mail_domain);
	s->waiter = fetch(fetcher, s->url, FETCH_MTASTS, &o, fetched_cb, s);
}

/* _mta-sts.DOMAIN: exactly one STSv1 record, valid, or no policy (RFC 8461
 * section 3.1). */
static void
sts_txt_cb(void *arg, const struct dnsrec_result *res)
{
	struct sts *s = arg;
	size_t nsts = 0;
	int valid = 0;
	char err[160] = "", id[MTASTS_ID_MAX + 1] = "";

	s->sts_req = NULL;
	s->txt_pending--;
	if (res->status == DNSREC_BOGUS || res->status == DNSREC_ERROR) {
		fail(s, STS_FETCH_ERROR, xasprintf("_mta-sts.%s TXT: %s%s%s", s->ct->mail_domain,
		    res->reason, res->detail ? ": " : "", res->detail ? res->detail : ""));
		return;
	}
	for (size_t i = 0; i < res->msg.n; i++) {
		int v;
		char e[160], rid[MTASTS_ID_MAX + 1];

		if (mtasts_record_parse(res->msg.txt[i].text, res->msg.txt[i].len, &v, rid, e,
		    sizeof(e)) != 1)
			continue;
		if (nsts++ == 0) {
			valid = v;
			memcpy(id, rid, sizeof(id));
			memcpy(err, e, sizeof(err));
		}
	}
	if (nsts != 1 || !valid) {
		fail(s, STS_NO_RECORD, nsts == 0 ? NULL : nsts > 1 ?
		    xasprintf("_mta-sts.%s: %zu STSv1 records, not one", s->ct->mail_domain, nsts) :
		    xasprintf("_mta-sts.%s: %s", s->ct->mail_domain, err));
		return;
	}
	memcpy(s->nid, id, sizeof(s->nid));
	if (fetcher == NULL) {
		fail(s, STS_FETCH_ERROR, xstrdup("no fetcher"));
		return;
	}
	{
		char host[300];
		struct resolve_req *req;

		snprintf(host, sizeof(host), "mta-sts.%s", s->ct->mail_domain);
		s->addr_answered = 0;
		req = resolve_start(s->res, host, 443, probe_family(s->ct), addr_cb, s);
		if (!s->addr_answered)
			s->addr_req = req;
	}
}

/* _smtp._tls.DOMAIN: exactly one TLSRPTv1 record (RFC 8460 section 3). */
static void
rpt_txt_cb(void *arg, const struct dnsrec_result *res)
{
	struct sts *s = arg;
	size_t n = 0;
	int valid = 0;

	s->rpt_req = NULL;
	s->txt_pending--;
	if (res->status == DNSREC_SECURE || res->status == DNSREC_INSECURE) {
		for (size_t i = 0; i < res->msg.n; i++) {
			int v;
			char e[160];

			if (tlsrpt_record_parse(res->msg.txt[i].text, res->msg.txt[i].len, &v, e,
			    sizeof(e)) == 1 && n++ == 0)
				valid = v;
		}
		s->ntlsrpt = n == 1 && valid;
	}
	maybe_finish(s);
}

void
sts_start(struct sts *s, struct loop *l, struct resolver *res, const struct conf_target *ct)
{
	char name[300];

	if (s->busy)
		return;
	s->busy = 1;
	s->loop = l;
	s->ct = ct;
	s->res = res;
	s->nstatus = STS_NONE;
	s->nid[0] = '\0';
	s->ntlsrpt = -1;
	s->txt_pending = 2;
	loop_timer_at(l, &s->deadline, mono_ms() + STS_DEADLINE_MS);
	snprintf(name, sizeof(name), "_mta-sts.%s", ct->mail_domain);
	s->sts_req = dnsrec_lookup(res, name, DNS_T_TXT, sts_txt_cb, s);
	snprintf(name, sizeof(name), "_smtp._tls.%s", ct->mail_domain);
	s->rpt_req = dnsrec_lookup(res, name, DNS_T_TXT, rpt_txt_cb, s);
}
