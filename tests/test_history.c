/* test_history.c - what a target's results mean over time (state/history.c):
 * counters, chain changes and their history, first sightings, the
 * remembered verdict, addresses = "all", rechecked verdicts, and that each
 * change is logged once and a repetition never. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "result.h"
#include "core/fp.h"
#include "state/history.h"
#include "testlib.h"
#include "verdict/certs.h"

static struct tc ca, leaf1, leaf2;

/* ---- results ---- */

static struct result *
success(const struct tc *leaf, double t, int verified, uint64_t reasons)
{
	struct result *r = xcalloc(1, sizeof(*r));

	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = 0.001;
	r->time = t;
	r->success = 1;
	r->peer = xstrdup("127.0.0.1:443");
	r->tls_version = str_intern("TLS1.3");
	r->cipher = str_intern("TLS_AES_128_GCM_SHA256");
	r->certs = xcalloc(2, sizeof(*r->certs));
	r->certs[0] = cert_get(leaf->der.data, leaf->der.len);
	r->certs[1] = cert_get(ca.der.data, ca.der.len);
	r->ncerts = 2;
	r->verdict.verified = verified;
	r->verdict.reasons = reasons;
	r->verdict.verified_expiry = verified ? 2000000000 : 0;
	r->verdict.earliest_expiry = 2000000000;
	return r;
}

static struct result *
failure(double t, const char *stage, const char *reason)
{
	struct result *r = xcalloc(1, sizeof(*r));

	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = -1;
	r->time = t;
	r->fail_stage = stage;
	r->fail_reason = reason;
	r->fail_detail = xstrdup("detail");
	return r;
}

static void
test_first_and_repeat(void **state)
{
	struct history *h = history_new("web");
	const struct store_record *st;
	uint64_t ok, bad;
	char *log;

	(void)state;
	assert_null(history_memory(h));
	assert_null(history_result(h, NULL));
	tl_log_start();
	assert_int_equal(history_record(h, success(&leaf1, 100, 1, 0)), 1);
	/* the same again: nothing to remember, nothing to say */
	assert_int_equal(history_record(h, success(&leaf1, 200, 1, 0)), 0);
	log = tl_log_stop();
	assert_int_equal(tl_count(log, "target web: probe ok: TLS1.3, TLS_AES_128_GCM_SHA256, "
	    "2 certificates from 127.0.0.1:443"), 1);
	assert_int_equal(tl_count(log, "target web: chain verified, valid until "
	    "2033-05-18T03:33:20Z\n"), 1);
	assert_int_equal(tl_count(log, "\n"), 2);
	free(log);
	st = history_memory(h);
	assert_non_null(st);
	assert_string_equal(st->name, "web");
	assert_true(st->first_seen == 100);
	assert_true(st->chain_changed == 100);
	assert_true(st->last_change == 100);
	assert_int_equal(st->chain_changes, 0);
	assert_int_equal(st->chain.n, 2);
	assert_true(st->have_verdict && st->verified);
	assert_true(history_result(h, NULL)->time == 200);
	history_counts(h, &ok, &bad);
	assert_int_equal(ok, 2);
	assert_int_equal(bad, 0);
	history_free(h);
}

static void
test_failures_and_verdicts(void **state)
{
	struct history *h = history_new("web");
	uint64_t ok, bad;
	char *log;

	(void)state;
	tl_log_start();
	history_record(h, success(&leaf1, 100, 1, 0));
	history_record(h, failure(110, "connect", "refused"));
	history_record(h, failure(120, "connect", "refused"));   /* the same: quiet */
	history_record(h, failure(130, "handshake", "closed"));  /* another: said */
	history_record(h, success(&leaf1, 140, 0, REASON(EXPIRED)));
	history_record(h, success(&leaf1, 150, 0, REASON(EXPIRED)));
	history_record(h, success(&leaf1, 160, 1, 0));
	log = tl_log_stop();
	assert_int_equal(tl_count(log, "probe failed at connect: refused (detail)"), 1);
	assert_int_equal(tl_count(log, "probe failed at handshake: closed (detail)"), 1);
	/* back from a failure: ok again, and the verdict said without a "was" */
	assert_int_equal(tl_count(log, "probe ok:"), 2);
	assert_int_equal(tl_count(log, "chain does not verify: expired (leaf: CN=leaf1.test)\n"), 1);
	assert_int_equal(tl_count(log, "chain verified, valid until 2033-05-18T03:33:20Z; "
	    "was: expired\n"), 1);
	assert_int_equal(tl_count(log, "\n"), 7);
	free(log);
	/* a failure keeps the chain and the verdict of the last success */
	assert_int_equal(history_memory(h)->chain.n, 2);
	assert_true(history_memory(h)->last_change == 160);
	history_counts(h, &ok, &bad);
	assert_int_equal(ok, 4);
	assert_int_equal(bad, 3);
	history_free(h);
}

static void
test_chain_changes(void **state)
{
	struct history *h = history_new("web");
	const struct store_record *st;
	char *log;

	(void)state;
	history_record(h, success(&leaf1, 100, 1, 0));
	tl_log_start();
	assert_int_equal(history_record(h, success(&leaf2, 200, 1, 0)), 1);
	log = tl_log_stop();
	assert_int_equal(tl_count(log, "target web: chain changed at depth 0: "), 1);
	assert_int_equal(tl_count(log, "(subject CN=leaf1.test, expires "), 1);
	assert_int_equal(tl_count(log, "(subject CN=leaf2.test, expires "), 1);
	assert_int_equal(tl_count(log, "; 2 -> 2 certificates"), 1);
	free(log);
	st = history_memory(h);
	assert_int_equal(st->chain_changes, 1);
	assert_int_equal(st->nhist, 1);
	assert_true(st->hist[0].since == 100 && st->hist[0].until == 200);
	/* the CA was first seen with the first chain, the new leaf now */
	assert_true(store_cert_first_seen(history_memory(h), 0) == 200);
	assert_true(store_cert_first_seen(history_memory(h), 1) == 100);
	/* back and forth: the history keeps the newest STORE_HISTORY chains */
	for (int i = 0; i < 2 * STORE_HISTORY; i++)
		history_record(h, success(i % 2 ? &leaf2 : &leaf1, 300 + i, 1, 0));
	st = history_memory(h);
	assert_int_equal(st->chain_changes, 1 + 2 * STORE_HISTORY);
	assert_int_equal(st->nhist, STORE_HISTORY);
	assert_true(st->hist[0].until == 300 + 2 * STORE_HISTORY - 1);
	history_free(h);
}

static void
test_addresses(void **state)
{
	struct history *h = history_new("multi");
	struct addr_result *a;
	const struct result *r;
	uint64_t ok, bad;
	char *log;

	(void)state;
	tl_log_start();
	for (int round = 0; round < 2; round++) {
		a = xcalloc(2, sizeof(*a));
		/* the resolver's order may change between rounds */
		a[round].address = xstrdup("127.0.0.1");
		a[round].result = success(&leaf1, 100 + round, 1, 0);
		a[1 - round].address = xstrdup("::1");
		a[1 - round].result = failure(100 + round, "connect", "refused");
		history_record_all(h, NULL, a, 2);
	}
	log = tl_log_stop();
	assert_int_equal(tl_count(log, "target multi address 127.0.0.1: probe ok:"), 1);
	assert_int_equal(tl_count(log, "target multi address ::1: probe failed at connect"), 1);
	free(log);
	assert_int_equal(history_naddrs(h), 2);
	/* counters follow the address, not the position */
	for (size_t i = 0; i < 2; i++) {
		const char *addr = history_addr(h, i, &r, &ok, &bad);

		if (strcmp(addr, "127.0.0.1") == 0)
			assert_true(ok == 2 && bad == 0 && r->success);
		else
			assert_true(ok == 0 && bad == 2 && !r->success);
	}
	assert_non_null(history_result(h, "::1"));
	assert_null(history_result(h, "192.0.2.1"));
	/* the target's result is the first address's (::1 in the second round) */
	assert_false(history_result(h, NULL)->success);
	history_counts(h, &ok, &bad);
	assert_int_equal(ok, 1);
	assert_int_equal(bad, 1);
	/* resolving failed: one result for the target */
	history_record_all(h, failure(300, "resolve", "not_found"), NULL, 0);
	assert_int_equal(history_naddrs(h), 0);
	assert_string_equal(history_result(h, NULL)->fail_stage, "resolve");
	history_free(h);
}

static void
test_reverdict(void **state)
{
	struct history *h = history_new("web");
	struct verdict v;
	char *log;

	(void)state;
	history_record(h, success(&leaf1, 100, 1, 0));
	memset(&v, 0, sizeof(v));
	v.reasons = REASON(REVOKED);
	tl_log_start();
	assert_int_equal(history_reverdict(h, NULL, &v), 1);
	memset(&v, 0, sizeof(v));
	v.reasons = REASON(REVOKED);
	assert_int_equal(history_reverdict(h, NULL, &v), 0);     /* no change */
	log = tl_log_stop();
	assert_int_equal(tl_count(log, "target web: chain does not verify: revoked (leaf: "
	    "CN=leaf1.test); was: verified\n"), 1);
	assert_int_equal(tl_count(log, "\n"), 1);
	free(log);
	assert_int_equal(history_result(h, NULL)->verdict.reasons, REASON(REVOKED));
	assert_false(history_memory(h)->verified);
	assert_int_equal(history_memory(h)->reasons, REASON(REVOKED));
	/* no such address, or a failed result: nothing to recheck */
	memset(&v, 0, sizeof(v));
	assert_int_equal(history_reverdict(h, "::1", &v), -1);
	history_record(h, failure(200, "connect", "refused"));
	memset(&v, 0, sizeof(v));
	assert_int_equal(history_reverdict(h, NULL, &v), -1);
	history_free(h);
}

/* The probe history: runs of one outcome, the newest first, bounded; and
 * failing since, verified since. */
static void
test_runs(void **state)
{
	struct history *h = history_new("web");
	const struct store_record *st;

	(void)state;
	history_record(h, success(&leaf1, 100, 1, 0));
	history_record(h, success(&leaf1, 110, 1, 0));
	st = history_memory(h);
	assert_int_equal(st->nruns, 1);
	assert_true(st->runs[0].since == 100 && st->runs[0].until == 110);
	assert_int_equal(st->runs[0].count, 2);
	assert_true(st->runs[0].success && st->runs[0].verified);
	assert_true(st->verified_since == 100 && st->failing_since == 0);
	history_record(h, failure(120, "connect", "refused"));
	history_record(h, failure(130, "connect", "refused"));
	history_record(h, failure(140, "connect", "timed_out"));
	st = history_memory(h);
	assert_int_equal(st->nruns, 3);
	assert_string_equal(st->runs[0].fail_reason, "timed_out");
	assert_int_equal(st->runs[1].count, 2);
	assert_true(st->runs[1].since == 120 && st->runs[1].until == 130);
	/* failing since the first of the failures, whatever their reasons;
	 * a failed probe says nothing of the chain */
	assert_true(st->failing_since == 120);
	assert_true(st->verified_since == 100);
	history_record(h, success(&leaf1, 150, 0, REASON(EXPIRED)));
	st = history_memory(h);
	assert_true(st->failing_since == 0 && st->verified_since == 0);
	assert_false(st->runs[0].verified);
	assert_int_equal(st->runs[0].reasons, REASON(EXPIRED));
	history_record(h, success(&leaf1, 160, 0, REASON(EXPIRED) | REASON(UNKNOWN_ISSUER)));
	assert_int_equal(history_memory(h)->nruns, 5);   /* other reasons: another run */
	history_record(h, success(&leaf1, 170, 1, 0));
	assert_true(history_memory(h)->verified_since == 170);
	/* flapping: every result a run of its own, the oldest falling off */
	for (int i = 0; i < 3 * STORE_RUNS; i++)
		history_record(h, i % 2 ? success(&leaf1, 200 + i, 1, 0) :
		    failure(200 + i, "handshake", "closed"));
	st = history_memory(h);
	assert_int_equal(st->nruns, STORE_RUNS);
	assert_true(st->runs[0].since == 200 + 3 * STORE_RUNS - 1);
	assert_true(st->runs[STORE_RUNS - 1].since == 200 + 2 * STORE_RUNS);
	history_free(h);
}

/* While probes fail, the last chain presented is still the one to publish;
 * after a restart too, from what the store kept. */
static void
test_last_chain(void **state)
{
	struct history *h = history_new("web");
	const struct result *c;
	struct store_record *rec;
	struct result *stored;

	(void)state;
	assert_null(history_chain_result(h, NULL));
	history_record(h, failure(90, "connect", "refused"));
	assert_null(history_chain_result(h, NULL));
	history_record(h, success(&leaf1, 100, 1, 0));
	assert_ptr_equal(history_chain_result(h, NULL), history_result(h, NULL));
	history_record(h, failure(110, "connect", "refused"));
	history_record(h, failure(120, "connect", "timed_out"));
	c = history_chain_result(h, NULL);
	assert_non_null(c);
	assert_true(c->success && c->time == 100 && c->ncerts == 2);
	assert_false(history_result(h, NULL)->success);
	assert_true(history_memory(h)->chain_seen == 100);
	history_record(h, success(&leaf2, 130, 1, 0));
	assert_ptr_equal(history_chain_result(h, NULL), history_result(h, NULL));
	assert_true(history_memory(h)->chain_seen == 130);
	history_free(h);

	/* from the store: a failing result and the chain of before */
	rec = store_record_new("web");
	rec->first_seen = 50;
	rec->chain.n = 2;
	rec->chain.since = 60;
	rec->chain.fps = xcalloc(2, sizeof(*rec->chain.fps));
	rec->certs = xcalloc(2, sizeof(*rec->certs));
	rec->certs[0] = cert_get(leaf1.der.data, leaf1.der.len);
	rec->certs[1] = cert_get(ca.der.data, ca.der.len);
	rec->chain.fps[0] = fp_get(rec->certs[0]->sha256);
	rec->chain.fps[1] = fp_get(rec->certs[1]->sha256);
	rec->have_verdict = 1;
	rec->verified = 1;
	rec->path_expiry = 1900000000;
	rec->chain_seen = 70;
	stored = failure(80, "connect", "refused");
	h = history_new("web");
	history_restore(h, rec, stored);
	c = history_chain_result(h, NULL);
	assert_non_null(c);
	assert_true(c->time == 70 && c->ncerts == 2 && c->verdict.verified);
	assert_true(c->verdict.verified_expiry == 1900000000);
	assert_int_equal(c->verdict.earliest_expiry, rec->certs[0]->not_after < rec->certs[1]->not_after ?
	    rec->certs[0]->not_after : rec->certs[1]->not_after);
	/* a file from before failing_since: failing since its result at least */
	assert_true(history_memory(h)->failing_since == 80);
	history_free(h);
}

/* The verified path is remembered with the verdict: a new anchor is a
 * change. */
static void
test_path(void **state)
{
	struct history *h = history_new("web");
	struct result *r = success(&leaf1, 100, 1, 0);
	struct cert *path[3];
	const struct store_record *st;

	(void)state;
	path[0] = r->certs[0];
	path[1] = r->certs[1];
	path[2] = cert_get(leaf2.der.data, leaf2.der.len);   /* stands for an anchor */
	verdict_set_path(&r->verdict, path, 3);
	assert_int_equal(history_record(h, r), 1);
	st = history_memory(h);
	assert_int_equal(st->path.n, 3);
	assert_string_equal(st->path.fps[2], path[2]->sha256);
	assert_ptr_equal(st->path_certs[2], path[2]);
	assert_true(st->path_expiry == 2000000000);
	r = success(&leaf1, 110, 1, 0);
	verdict_set_path(&r->verdict, path, 3);
	assert_int_equal(history_record(h, r), 0);
	r = success(&leaf1, 120, 1, 0);
	verdict_set_path(&r->verdict, path, 2);
	assert_int_equal(history_record(h, r), 1);
	assert_int_equal(history_memory(h)->path.n, 2);
	assert_true(history_memory(h)->last_change == 120);
	cert_put(path[2]);
	history_free(h);
}

/* What the store kept becomes the history, quietly. */
static void
test_restore(void **state)
{
	struct history *h = history_new("web");
	struct store_record *rec = store_record_new("web");
	char *log;

	(void)state;
	rec->first_seen = 50;
	rec->chain.n = 1;
	rec->chain.since = 60;
	rec->chain.fps = xcalloc(1, sizeof(*rec->chain.fps));
	rec->chain.fps[0] = fp_get("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	rec->certs = xcalloc(1, sizeof(*rec->certs));
	tl_log_start();
	history_restore(h, rec, NULL);
	log = tl_log_stop();
	assert_string_equal(log, "");
	free(log);
	assert_ptr_equal(history_memory(h), rec);
	assert_true(store_cert_first_seen(history_memory(h), 0) == 60);
	assert_null(history_result(h, NULL));
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_and_repeat),
		cmocka_unit_test(test_failures_and_verdicts),
		cmocka_unit_test(test_chain_changes),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_reverdict),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_last_chain),
		cmocka_unit_test(test_path),
	};
	struct tc_spec ca_spec = { .cn = "History CA", .ca = 1 };
	struct tc_spec l1 = { .cn = "leaf1.test", .not_after = 2000000000 };
	struct tc_spec l2 = { .cn = "leaf2.test", .not_after = 2000000000 };
	int rc;

	log_init("test_history", 0);
	tc_make(&ca, &ca_spec, NULL);
	tc_make(&leaf1, &l1, &ca);
	tc_make(&leaf2, &l2, &ca);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tc_free(&leaf1);
	tc_free(&leaf2);
	tc_free(&ca);
	return rc == 0 && cert_count() == 0 ? 0 : 1;
}
