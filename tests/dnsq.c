/*
 * dnsq.c - run dnsrec lookups on the daemon's own event loop and print
 * what they found, for tests/test_dnsrec.py against the real NSD and
 * Unbound of tests/dns_lab.py.
 *
 * Usage: dnsq [-t MS] SERVER NAME TYPE [NAME TYPE ...]
 *   SERVER  "host:port" of the resolver, set as the configuration would
 *   TYPE    tlsa, mx or txt
 * All lookups run at once. Per lookup, in the order given:
 *   NAME TYPE STATUS nxdomain=0|1 n=N bad=B reason=R
 * then one line per record: "  tlsa U S M HEX", "  mx PREF HOST",
 * "  txt HEX" (hex: the bytes as they came). Exit status 0, or 1 when the
 * lookups were not all done within -t milliseconds (default 15000).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/util.h"
#include "probe/dnsrec.h"
#include "probe/resolve.h"

struct one {
	const char *name;
	const char *tname;
	int type;
	struct dnsrec_req *req;
	int done;
	struct buf out;
};

static size_t pending;
static struct loop *loop;

static void
hex(struct buf *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%02x", p[i]);
}

static void
done_cb(void *arg, const struct dnsrec_result *res)
{
	struct one *o = arg;
	size_t i;

	o->req = NULL;
	o->done = 1;
	buf_printf(&o->out, "%s %s %s nxdomain=%d n=%zu bad=%zu reason=%s\n", o->name, o->tname,
	    dnsrec_status_name(res->status), res->nxdomain, res->msg.n, res->msg.bad,
	    res->reason ? res->reason : "-");
	for (i = 0; i < res->msg.n; i++) {
		if (o->type == DNS_T_TLSA) {
			const struct dns_tlsa *t = &res->msg.tlsa[i];
			buf_printf(&o->out, "  tlsa %u %u %u ", t->usage, t->selector, t->mtype);
			hex(&o->out, t->data, t->len);
		} else if (o->type == DNS_T_MX) {
			buf_printf(&o->out, "  mx %u %s", res->msg.mx[i].preference,
			    res->msg.mx[i].host[0] ? res->msg.mx[i].host : ".");
		} else {
			buf_puts(&o->out, "  txt ");
			hex(&o->out, (const unsigned char *)res->msg.txt[i].text,
			    res->msg.txt[i].len);
		}
		buf_putc(&o->out, '\n');
	}
	if (--pending == 0)
		loop_stop(loop);
}

static void
deadline_cb(struct loop_timer *t)
{
	(void)t;
	loop_stop(loop);
}

int
main(int argc, char **argv)
{
	struct resolver *r;
	struct loop_timer deadline;
	struct one *ones;
	const char *server;
	char *err = NULL;
	long ms = 15000;
	size_t n, i;
	int argi = 1, status = 0;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		ms = strtol(argv[2], NULL, 10);
		argi = 3;
	}
	if (argc - argi < 3 || (argc - argi - 1) % 2 != 0) {
		fprintf(stderr, "usage: dnsq [-t MS] SERVER NAME TYPE [NAME TYPE ...]\n");
		return 2;
	}
	server = argv[argi++];
	if ((loop = loop_new()) == NULL || (r = resolver_new(loop, &err)) == NULL ||
	    resolver_set_servers(r, &server, 1, &err) == -1) {
		fprintf(stderr, "dnsq: %s\n", err ? err : "no loop");
		return 2;
	}
	n = (size_t)(argc - argi) / 2;
	ones = xcalloc(n, sizeof(*ones));
	for (i = 0; i < n; i++) {
		struct one *o = &ones[i];

		o->name = argv[argi + 2 * (int)i];
		o->tname = argv[argi + 2 * (int)i + 1];
		buf_init(&o->out);
		if (strcmp(o->tname, "tlsa") == 0)
			o->type = DNS_T_TLSA;
		else if (strcmp(o->tname, "mx") == 0)
			o->type = DNS_T_MX;
		else if (strcmp(o->tname, "txt") == 0)
			o->type = DNS_T_TXT;
		else {
			fprintf(stderr, "dnsq: %s: not tlsa, mx or txt\n", o->tname);
			return 2;
		}
	}
	pending = n;
	for (i = 0; i < n; i++)
		ones[i].req = dnsrec_lookup(r, ones[i].name, ones[i].type, done_cb, &ones[i]);
	loop_timer_init(&deadline, deadline_cb);
	loop_timer_at(loop, &deadline, mono_ms() + (uint64_t)ms);
	loop_run(loop);
	loop_timer_cancel(loop, &deadline);
	for (i = 0; i < n; i++) {
		if (ones[i].done) {
			fputs(ones[i].out.data, stdout);
		} else {
			printf("%s %s timeout\n", ones[i].name, ones[i].tname);
			dnsrec_cancel(ones[i].req);
			status = 1;
		}
		buf_free(&ones[i].out);
	}
	free(ones);
	resolver_free(r);
	loop_free(loop);
	return status;
}
