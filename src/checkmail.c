/* checkmail.c - `tlswatch check --mail-domain` (see checkmail.h): the
 * daemon's mail domain round (maildom.c, stsround.c) on a loop of its
 * own, DANE answers that come after a handshake rechecked as the daemon's
 * scheduler would, then the whole picture printed. The status of each row
 * is the status page's (status_classify); MTA-STS adds its own. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmail.h"
#include "conf/conf.h"
#include "conf/tlsctx.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"
#include "fetch/fetch.h"
#include "probe/maildom.h"
#include "probe/resolve.h"
#include "probe/starttls.h"
#include "probe/stsround.h"
#include "probe/tls.h"
#include "probe/tlsa.h"
#include "result.h"
#include "serve/status.h"
#include "verdict/verdict.h"

enum { P_OK, P_WARNING, P_CRITICAL, P_UNKNOWN };
static const char *const pnames[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

struct run {
	struct loop *loop;
	struct maildom *md;
	const struct conf_target *ct;
	int done;
	struct result *failure;
	struct addr_result *a;
	size_t n;
	char **rechecks;           /* keys whose DANE answer came late */
	size_t nrechecks;
};

/* Where everything goes: stdout, but for the body, which is written
 * after the first line although it is made before. */
static FILE *outf;

static void
out(const char *s)
{
	struct buf b;

	buf_init(&b);
	term_escape(&b, s);
	if (b.data)
		fputs(b.data, outf);
	buf_free(&b);
}

static int
unknown(const char *what, const char *detail)
{
	fprintf(outf, "TLS UNKNOWN - ");
	out(what);
	if (detail) {
		fprintf(outf, ": ");
		out(detail);
	}
	fprintf(outf, "\n");
	return P_UNKNOWN;
}

static void
round_done(void *arg, struct result *failure, struct addr_result *a, size_t n)
{
	struct run *run = arg;

	run->done = 1;
	run->failure = failure;
	run->a = a;
	run->n = n;
}

static void
recheck_hook(void *arg, const char *target, const char *address)
{
	struct run *run = arg;

	(void)target;
	if (address == NULL || run->nrechecks >= 4096)
		return;
	run->rechecks = xreallocarray(run->rechecks, run->nrechecks + 1, sizeof(*run->rechecks));
	run->rechecks[run->nrechecks++] = xstrdup(address);
}

/* The verdicts the late answers change, as the scheduler's recheck. */
static void
apply_rechecks(struct run *run)
{
	for (size_t i = 0; i < run->nrechecks; i++) {
		for (size_t j = 0; j < run->n; j++) {
			struct result *r = run->a[j].result;
			struct conf_target sub;
			char mx[MAILDOM_KEY_MAX];
			struct verdict v;

			if (strcmp(run->a[j].address, run->rechecks[i]) != 0 || !r->success ||
			    !verdict_retained(&r->verdict) ||
			    maildom_target_for_key(run->md, run->ct, run->a[j].address, mx,
			    sizeof(mx), &sub) == -1)
				continue;
			struct verdict_input in = {
				.trust = sub.trust, .target = &sub,
				.hostname = conf_target_check_name(&sub),
				.now = (int64_t)wall_now(), .ref_target = sub.name,
				.ref_address = run->a[j].address,
			};
			if (verdict_recheck(&r->verdict, &in, &v) == 0) {
				verdict_fini(&r->verdict);
				r->verdict = v;
			}
		}
		free(run->rechecks[i]);
	}
	run->nrechecks = 0;
}

static int
any_pending(const struct run *run)
{
	for (size_t j = 0; j < run->n; j++)
		if (run->a[j].result->success && verdict_pending(&run->a[j].result->verdict))
			return 1;
	return 0;
}

static void
finding(void *arg, const char *check, const char *line)
{
	(void)arg;
	fprintf(outf, "    %s: ", check);
	out(line);
	fprintf(outf, "\n");
}

/* One row: its status, and a line for the summary when it is the worst. */
static int
print_row(const struct addr_result *a, const struct checkmail_opts *o, double now,
    char *worst, size_t wsize, int *worst_status)
{
	const struct result *r = a->result;
	struct status_view v = { .warn = o->warn, .crit = o->crit, .now = now };
	struct status_entry e = { .name = a->address, .r = r };
	int64_t expiry = 0;
	enum status_state st = status_classify(&e, &v, &expiry);
	int ps = st == STATUS_OK ? P_OK : st == STATUS_WARN ? P_WARNING : P_CRITICAL;
	char line[600], when[64];

	if (!r->success) {
		snprintf(line, sizeof(line), "%s: %s failed: %s (%s)", a->address, r->fail_stage,
		    r->fail_reason, r->fail_detail ? r->fail_detail : "");
	} else if (!r->verdict.verified) {
		struct buf why;

		buf_init(&why);
		verdict_words_join(&why, VERDICT_REASON, r->verdict.reasons, ",", NULL);
		snprintf(line, sizeof(line), "%s: chain does not verify: %s", a->address,
		    why.data ? why.data : "other");
		buf_free(&why);
	} else {
		fmt_utc(when, sizeof(when), (double)expiry);
		snprintf(line, sizeof(line), "%s: verified, expires in %.1f days (%s)",
		    a->address, ((double)expiry - now) / 86400.0, when);
	}
	fprintf(outf, "  [%s] ", pnames[ps]);
	out(line);
	fprintf(outf, "\n");
	if (r->success) {
		fprintf(outf, "    ");
		out(r->tls_version);
		fprintf(outf, ", ");
		out(r->cipher);
		if (r->ncerts > 0) {
			fprintf(outf, ", leaf ");
			out(r->certs[0]->subject);
		}
		fprintf(outf, "\n");
		(void)verdict_details(&r->verdict, finding, NULL);
	}
	if (ps > *worst_status) {
		*worst_status = ps;
		snprintf(worst, wsize, "%s", line);
	}
	return ps;
}

/* MTA-STS and TLS-RPT: printed, and their part of the status. */
static int
print_sts(const struct maildom *md, char *worst, size_t wsize)
{
	const struct mtasts_policy *p;
	const char *id;
	int rpt, ps = P_OK;
	enum sts_status st = sts_result(maildom_sts(md), &p, &id, &rpt);

	fprintf(outf, "\nMTA-STS: %s", sts_status_name(st));
	if (st == STS_FETCH_ERROR || st == STS_INVALID_POLICY || st == STS_POLICY_CERT_INVALID ||
	    st == STS_NONE) {
		ps = P_WARNING;
		snprintf(worst, wsize, "MTA-STS %s", sts_status_name(st));
	}
	if (p) {
		fprintf(outf, ", mode %s, id ", mtasts_mode_name(p->mode));
		out(id);
		fprintf(outf, ", max_age %u\n", (unsigned)p->max_age);
		for (size_t i = 0; i < maildom_nmx(md); i++) {
			uint16_t pref;
			const char *mx = maildom_mx(md, i, &pref);
			int covered = mtasts_policy_covers(p, mx);

			fprintf(outf, "  ");
			out(mx);
			fprintf(outf, ": %s\n", covered ? "covered" : "NOT covered");
			if (!covered && p->mode != MTASTS_NONE) {
				int s = p->mode == MTASTS_ENFORCE ? P_CRITICAL : P_WARNING;

				if (s > ps) {
					ps = s;
					snprintf(worst, wsize, "MX %s not covered by the MTA-STS "
					    "policy (mode %s)", mx, mtasts_mode_name(p->mode));
				}
			}
		}
	} else {
		fprintf(outf, "\n");
	}
	fprintf(outf, "TLS-RPT: %s\n", rpt == 1 ? "record present" : rpt == 0 ? "no record" :
	    "not known (lookup failed)");
	return ps;
}

/* The target the daemon would make of { mail_domain = DOMAIN; ports = ...; }. */
static int
make_target(const struct checkmail_opts *o, struct tlsctx *tls, struct conf_target *ct,
    char **err)
{
	char *addr = xasprintf("%s:25", o->domain);
	int rc = conf_target_for(addr, NULL, STARTTLS_SMTP, o->cafile, o->timeout_ms, tls, ct,
	    err);
	size_t len;

	free(addr);
	if (rc == -1)
		return -1;
	ct->mail_domain = xstrdup(o->domain);
	len = strlen(ct->mail_domain);
	if (len > 1 && ct->mail_domain[len - 1] == '.')
		ct->mail_domain[len - 1] = '\0';
	for (char *p = ct->mail_domain; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	ct->nports = o->nports ? o->nports : 1;
	ct->ports = xcalloc(ct->nports, sizeof(*ct->ports));
	for (size_t i = 0; i < ct->nports; i++)
		ct->ports[i] = o->nports ? o->ports[i] : 25;
	ct->port = ct->ports[0];
	ct->dane = o->resolver ? CONF_DANE_ON : CONF_DANE_OFF;
	ct->policy = o->policy;
	return 0;
}

int
checkmail_run(const struct checkmail_opts *o)
{
	struct tlsctx *tls = tlsctx_new();
	struct conf_target ct;
	struct resolver *res = NULL;
	struct work_pool *pool = NULL;
	struct fetch *f = NULL;
	struct run run = { 0 };
	struct probe_opts po = { 0 };
	char *err = NULL, worst[700] = "", sworst[300] = "";
	int rc = P_UNKNOWN, worst_status = P_OK;
	uint64_t deadline;
	double now;

	outf = stdout;
	if (make_target(o, tls, &ct, &err) == -1) {
		rc = unknown("bad mail domain", err);
		free(err);
		tlsctx_free(tls);
		return rc;
	}
	if (tls_init(&err) == -1 || (run.loop = loop_new()) == NULL ||
	    (res = resolver_new(run.loop, &err)) == NULL ||
	    (o->resolver && resolver_set_servers(res, &o->resolver, 1, &err) == -1) ||
	    (pool = work_pool_new(run.loop, 1, "tlswatch-work", &err)) == NULL) {
		rc = unknown("cannot set up", err ? err : "the event loop");
		goto out;
	}
	{
		struct fetch_settings fs = {
			.timeout_ms = o->timeout_ms, .concurrency = 2, .max_size = MTASTS_POLICY_MAX + 1,
		};

		f = fetch_new(run.loop, pool, NULL, &fs);
	}
	sts_set_fetch(f);
	tlsa_init(res);
	verdict_set_recheck_hook(recheck_hook, &run);
	run.md = maildom_new();
	run.ct = &ct;
	po.trust = ct.trust;
	maildom_start(run.md, run.loop, res, &ct, &po, round_done, &run);
	/* the MX lookup, the probes, MTA-STS and late DANE answers, each
	 * bounded by its own timeout; this bounds them all */
	deadline = mono_ms() + 3 * o->timeout_ms + 1000;
	for (uint64_t t = mono_ms(); t < deadline; t = mono_ms()) {
		if (run.done)
			apply_rechecks(&run);
		if (run.done && !sts_busy(maildom_sts(run.md)) && !any_pending(&run))
			break;
		if (loop_run_once(run.loop, (int64_t)(deadline - t)) == -1)
			break;
	}
	if (!run.done) {
		rc = unknown(ct.mail_domain, "no result within the time allowed");
		goto out;
	}
	now = wall_now();
	if (run.failure) {
		struct result *r = run.failure;

		snprintf(worst, sizeof(worst), "%s: %s failed: %s (%s)", ct.mail_domain,
		    r->fail_stage, r->fail_reason, r->fail_detail ? r->fail_detail : "");
		fprintf(outf, "TLS CRITICAL - ");
		out(worst);
		fprintf(outf, "\n");
		print_sts(run.md, sworst, sizeof(sworst));
		rc = P_CRITICAL;
		goto out;
	}
	/* everything is printed after the first line, which needs the worst */
	{
		char *body = NULL;
		size_t blen = 0;
		FILE *mem = open_memstream(&body, &blen);
		int sts_status;
		size_t failing = 0;

		if (mem == NULL) {
			rc = unknown("cannot buffer the output", NULL);
			goto out;
		}
		outf = mem;
		fprintf(outf, "MX hosts of ");
		out(ct.mail_domain);
		fprintf(outf, " (DANE %s):\n", o->resolver ? "checked" : "not checked: no --resolver");
		for (size_t i = 0; i < maildom_nmx(run.md); i++) {
			uint16_t pref;
			const char *mx = maildom_mx(run.md, i, &pref);

			fprintf(outf, "  %u ", pref);
			out(mx);
			fprintf(outf, "\n");
		}
		fprintf(outf, "\nEach MX host, port and address:\n");
		for (size_t j = 0; j < run.n; j++)
			failing += print_row(&run.a[j], o, now, worst, sizeof(worst),
			    &worst_status) != P_OK;
		sts_status = print_sts(run.md, sworst, sizeof(sworst));
		fclose(mem);
		outf = stdout;
		rc = worst_status;
		if (sts_status > rc)
			rc = sts_status;
		fprintf(outf, "TLS %s - ", pnames[rc]);
		out(ct.mail_domain);
		fprintf(outf, ": %zu MX host%s, %zu row%s", maildom_nmx(run.md),
		    maildom_nmx(run.md) == 1 ? "" : "s", run.n, run.n == 1 ? "" : "s");
		if (rc != P_OK) {
			fprintf(outf, ", %zu not OK: ", failing);
			out(worst_status >= sts_status ? worst : sworst);
		}
		fprintf(outf, " | rows=%zu failing=%zu\n", run.n, failing);
		fwrite(body, 1, blen, outf);
		free(body);
	}
out:
	verdict_unset_recheck_hook(&run);
	for (size_t i = 0; i < run.nrechecks; i++)
		free(run.rechecks[i]);
	free(run.rechecks);
	result_free(run.failure);
	addr_results_free(run.a, run.n);
	maildom_free(run.md);
	sts_set_fetch(NULL);
	fetch_free(f);
	tlsa_fini();
	resolver_free(res);
	work_pool_free(pool);
	loop_free(run.loop);
	conf_target_fini(&ct);
	tlsctx_free(tls);
	tls_fini();
	return rc;
}
