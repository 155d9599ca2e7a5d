/*
 * dnsrec.c - TLSA, MX and TXT lookups with their DNSSEC status.
 *
 * We trust the AD bit of a validating resolver the configuration names,
 * as Postfix does (smtp_dns_support_level = dnssec), rather than validate
 * in process with libunbound: the resolver a mail host already uses is the
 * one whose view senders share, c-ares already runs on our loop, and the
 * daemon keeps no trust anchor of its own to roll over. The cost is the
 * usual one: the path to that resolver must be trusted (loopback, or a
 * network the operator controls); README says so.
 *
 * A validating resolver answers bogus data with SERVFAIL. To tell that
 * from a resolver that failed, a SERVFAIL is asked again with CD set: an
 * answer then means the data is there and did not validate (bogus).
 */
#include "config.h"

#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/util.h"
#include "probe/dnsrec.h"
#include "probe/resolve.h"

/* Our EDNS buffer size: what DNS flag day 2020 settled on, so answers
 * above it come over TCP rather than as fragments. */
#define DNSREC_UDP_SIZE 1232

struct dnsrec_req {
	struct resolver *r;
	struct resolve_query *q;
	dnsrec_cb cb;
	void *arg;
	char *name;
	int type;
	int cd;          /* this is the retry with checking disabled */
	struct loop_timer bad;   /* a name that cannot be asked: failed from the loop */
};

const char *
dnsrec_status_name(enum dnsrec_status s)
{
	switch (s) {
	case DNSREC_SECURE:
		return "secure";
	case DNSREC_INSECURE:
		return "insecure";
	case DNSREC_BOGUS:
		return "bogus";
	default:
		return "error";
	}
}

int
dnsrec_tlsa_name(const char *host, uint16_t port, char *out, size_t size)
{
	int n;

	if (!dns_hostname_ok(host))
		return -1;
	n = snprintf(out, size, "_%u._tcp.%s", (unsigned)port, host);
	return n < 0 || (size_t)n >= size || n > 253 ? -1 : 0;
}

static void raw_cb(void *arg, const unsigned char *abuf, size_t alen, const char *reason,
                   const char *detail);

/* Build and send the query; -1 when the name cannot be asked. */
static int
dnsrec_send(struct dnsrec_req *req)
{
	unsigned char *q = NULL;
	int qlen = 0;

	if (ares_create_query(req->name, 1 /* IN */, req->type, 0, 1, &q, &qlen,
	    DNSREC_UDP_SIZE) != ARES_SUCCESS || qlen < 12)
		return -1;
	/* RFC 6840 section 5.7: AD in a query asks for AD in the answer. */
	q[3] |= 0x20;
	if (req->cd)
		q[3] |= 0x10;
	req->q = resolve_send(req->r, q, (size_t)qlen, raw_cb, req);
	ares_free_string(q);
	return 0;
}

static void
finish(struct dnsrec_req *req, struct dnsrec_result *res)
{
	req->cb(req->arg, res);
	dnsmsg_free(&res->msg);
	free(req->name);
	free(req);
}

static void
raw_cb(void *arg, const unsigned char *abuf, size_t alen, const char *reason,
       const char *detail)
{
	struct dnsrec_req *req = arg;
	struct dnsrec_result res;
	const char *err = NULL;

	req->q = NULL;
	memset(&res, 0, sizeof(res));
	res.status = DNSREC_ERROR;
	if (abuf == NULL) {
		res.reason = reason;
		res.detail = detail;
	} else if (dnsmsg_parse(abuf, alen, req->type, &res.msg, &err) == -1) {
		res.reason = "malformed";
		res.detail = err;
	} else if (res.msg.rcode == 2 && !req->cd) {
		/* Ask again without validation to tell bogus from broken. */
		dnsmsg_free(&res.msg);
		req->cd = 1;
		if (dnsrec_send(req) == 0)
			return;
		res.reason = "server_failure";
		res.detail = "SERVFAIL";
	} else if (res.msg.tc) {
		res.reason = "truncated";
		res.detail = "the answer was truncated, also over TCP";
	} else if (res.msg.rcode != 0 && res.msg.rcode != 3) {
		res.reason = res.msg.rcode == 5 ? "refused" : "server_failure";
		res.detail = dns_rcode_name(res.msg.rcode);
	} else if (req->cd) {
		/* SERVFAIL without CD, an answer with it: the data is bogus. */
		res.status = DNSREC_BOGUS;
		res.reason = "bogus";
		res.detail = "the resolver's DNSSEC validation failed (SERVFAIL; an answer with CD)";
	} else {
		res.status = res.msg.ad && resolver_trusted(req->r) ? DNSREC_SECURE :
		    DNSREC_INSECURE;
		res.nxdomain = res.msg.rcode == 3;
	}
	if (res.status != DNSREC_SECURE && res.status != DNSREC_INSECURE)
		dnsmsg_free(&res.msg);
	finish(req, &res);
}

static void
bad_cb(struct loop_timer *t)
{
	struct dnsrec_req *req = container_of(t, struct dnsrec_req, bad);
	struct dnsrec_result res;

	memset(&res, 0, sizeof(res));
	res.status = DNSREC_ERROR;
	res.reason = "bad_name";
	res.detail = "not a name that can be asked for";
	finish(req, &res);
}

struct dnsrec_req *
dnsrec_lookup(struct resolver *r, const char *name, int type, dnsrec_cb cb, void *arg)
{
	struct dnsrec_req *req = xcalloc(1, sizeof(*req));

	req->r = r;
	req->cb = cb;
	req->arg = arg;
	req->type = type;
	req->name = xstrdup(name);
	loop_timer_init(&req->bad, bad_cb);
	if (strlen(name) > 253 || dnsrec_send(req) == -1)
		loop_timer_at(resolver_loop(r), &req->bad, 0);
	return req;
}

void
dnsrec_cancel(struct dnsrec_req *req)
{
	if (req == NULL)
		return;
	if (loop_timer_armed(&req->bad))
		loop_timer_cancel(resolver_loop(req->r), &req->bad);
	resolve_query_cancel(req->q);
	free(req->name);
	free(req);
}
