/* test_sched.c - the scheduler (sched.c) on a real loop, probing GnuTLS
 * servers on loopback: probes and counters, the concurrency limit, what a
 * reload carries over (and what it does not), and a recheck: a check that
 * answered "pending" asks, once its data is there, for the same input to
 * be checked again; the new verdict goes through the history (logged once)
 * to the store, with no new handshake; the protocol scan (scanner.c) within
 * the same concurrency limit. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/tls.h"
#include "result.h"
#include "sched.h"
#include "state/history.h"
#include "state/store.h"
#include "testlib.h"
#include "verdict/check.h"
#include "verdict/verdict.h"

static struct tc ca, leaf;
static char dir[64];
static struct loop *loop;
static struct resolver *res;

/* ---- a check that waits for data, for the target named "rc" only ---- */

static int data_arrived;
static int check_runs, check_rechecks;
static char *ref_target, *ref_address;

static void
waiting_run(const struct check_input *in, struct check_output *out)
{
	if (in->ref_target == NULL || strcmp(in->ref_target, "rc") != 0)
		return;
	check_runs++;
	check_rechecks += in->recheck;
	if (!data_arrived) {
		/* "unknown for now": keep the input and ask later */
		free(ref_target);
		free(ref_address);
		ref_target = xstrdup(in->ref_target);
		ref_address = in->ref_address ? xstrdup(in->ref_address) : NULL;
		out->pending = 1;
		return;
	}
	out->reasons |= REASON(REVOKED);
}

static const struct check waiting_check = { .name = "waiting", .run = waiting_run };

/* ---- helpers ---- */

static struct conf *
load(const char *text)
{
	char *path = xasprintf("%s/t.conf", dir), *errors = NULL;
	FILE *f = fopen(path, "w");
	struct conf *c;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	c = conf_load(path, &errors);
	if (c == NULL)
		fail_msg("%s", errors);
	free(path);
	return c;
}

static const struct history *
hist_of(const struct sched *s, const char *name)
{
	for (size_t i = 0; i < sched_count(s); i++)
		if (strcmp(sched_conf(s, i)->name, name) == 0)
			return sched_history(s, i);
	fail_msg("no target %s", name);
	return NULL;
}

static uint64_t
probes(const struct sched *s, const char *name)
{
	uint64_t ok, bad;

	history_counts(hist_of(s, name), &ok, &bad);
	return ok + bad;
}

/* Run the loop until every target has been probed n times (or ms pass). */
static int
run_until_probed(struct sched *s, uint64_t n, uint64_t ms)
{
	uint64_t end = mono_ms() + ms;

	for (;;) {
		int all = 1;

		for (size_t i = 0; i < sched_count(s); i++)
			all &= probes(s, sched_conf(s, i)->name) >= n;
		if (all)
			return 0;
		if (mono_ms() >= end)
			return -1;
		loop_run_once(loop, 50);
	}
}

static void
test_probes(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct ts srv;
	struct conf *c;
	struct sched *s;
	char *text;
	uint64_t ok, bad;

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	text = xasprintf("ca_file = \"%s/ca.pem\"; interval = \"500ms\"; timeout = \"400ms\";\n"
	    "targets = ( { name = \"a\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; },\n"
	    "  { name = \"b\"; address = \"127.0.0.1:%u\"; server_name = \"wrong.test\"; } );\n",
	    dir, srv.port, srv.port);
	c = load(text);
	free(text);
	s = sched_new(loop, res, c);
	assert_int_equal(sched_count(s), 2);
	assert_null(history_result(hist_of(s, "a"), NULL));
	sched_start(s);
	assert_int_equal(run_until_probed(s, 2, 10000), 0);
	history_counts(hist_of(s, "a"), &ok, &bad);
	assert_true(ok >= 2 && bad == 0);
	assert_true(history_result(hist_of(s, "a"), NULL)->verdict.verified);
	assert_int_equal(history_result(hist_of(s, "b"), NULL)->verdict.reasons,
	    REASON(HOSTNAME_MISMATCH));
	assert_int_equal(history_memory(hist_of(s, "a"))->chain.n, 2);
	sched_free(s);
	conf_free(c);
	ts_stop(&srv);
}

/* concurrency = 1: never two probes at once, the others wait their turn
 * and all get theirs. */
static void
test_concurrency(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct ts srv;
	struct conf *c;
	struct sched *s;
	char *text;
	size_t max_flight = 0, max_queued = 0;
	uint64_t end;

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_SILENT), 0);
	text = xasprintf("ca_file = \"%s/ca.pem\"; concurrency = 1;\n"
	    "interval = \"3s\"; timeout = \"600ms\";\n"
	    "targets = ( { name = \"x\"; address = \"127.0.0.1:%u\"; },\n"
	    "  { name = \"y\"; address = \"127.0.0.1:%u\"; },\n"
	    "  { name = \"z\"; address = \"127.0.0.1:%u\"; } );\n",
	    dir, srv.port, srv.port, srv.port);
	c = load(text);
	free(text);
	s = sched_new(loop, res, c);
	sched_start(s);
	end = mono_ms() + 8000;
	while (mono_ms() < end && (probes(s, "x") < 1 || probes(s, "y") < 1 || probes(s, "z") < 1)) {
		loop_run_once(loop, 20);
		if (sched_in_flight(s) > max_flight)
			max_flight = sched_in_flight(s);
		if (sched_queued(s) > max_queued)
			max_queued = sched_queued(s);
	}
	assert_int_equal(max_flight, 1);
	assert_true(probes(s, "x") >= 1 && probes(s, "y") >= 1 && probes(s, "z") >= 1);
	assert_string_equal(history_result(hist_of(s, "x"), NULL)->fail_stage, "timeout");
	sched_free(s);
	conf_free(c);
	ts_stop(&srv);
}

/* /probe jobs: at most probe_concurrency at once however many slots are
 * free; the others wait in order, and one still waiting at its deadline
 * ends as timeout/queued without a probe. */
static int jobs_done;
static const char *job_reason[3];

static void
job_cb(void *arg, struct result *r, struct addr_result *a, size_t n)
{
	int i = (int)(intptr_t)arg;

	assert_int_equal(n, 0);
	assert_null(a);
	assert_non_null(r);
	job_reason[i] = r->fail_reason;     /* static strings */
	result_free(r);
	jobs_done++;
}

static void
test_jobs(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct ts srv;
	struct conf *c;
	struct sched *s;
	struct sched_job *j[3];
	char *text;
	uint64_t end;

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_SILENT), 0);
	text = xasprintf("ca_file = \"%s/ca.pem\"; concurrency = 4; probe_concurrency = 1;\n"
	    "interval = \"1h\"; timeout = \"600ms\";\n"
	    "targets = ( { name = \"j\"; address = \"127.0.0.1:%u\"; } );\n", dir, srv.port);
	c = load(text);
	free(text);
	s = sched_new(loop, res, c);
	for (int i = 0; i < 3; i++) {
		struct probe_opts o = {
			.trust = c->targets[0].trust,
			/* the first may take its timeout; the others only wait 300 ms */
			.deadline_ms = mono_ms() + (i == 0 ? 600 : 300),
		};

		j[i] = sched_job_start(s, &c->targets[0], &o, job_cb, (void *)(intptr_t)i);
		assert_non_null(j[i]);
	}
	assert_int_equal(sched_jobs_in_flight(s), 1);
	assert_int_equal(sched_jobs_queued(s), 2);
	assert_int_equal(sched_in_flight(s), 1);
	end = mono_ms() + 5000;
	while (jobs_done < 3 && mono_ms() < end)
		loop_run_once(loop, 20);
	assert_int_equal(jobs_done, 3);
	assert_string_equal(job_reason[1], "queued");
	assert_string_equal(job_reason[2], "queued");
	assert_non_null(job_reason[0]);
	assert_string_not_equal(job_reason[0], "queued");
	assert_int_equal(sched_jobs_in_flight(s), 0);
	assert_int_equal(sched_jobs_queued(s), 0);
	assert_int_equal(sched_in_flight(s), 0);
	sched_free(s);
	conf_free(c);
	ts_stop(&srv);
}

/* scan = { }: each target's four scan handshakes run through the same
 * limit (concurrency = 1: never two at once, probes included), every
 * target gets its probe and its scan, and the scans' series say what the
 * GnuTLS server accepts; the probes' counters know nothing of the scans. */
static void
test_scan(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct ts srv;
	struct conf *c;
	struct sched *s;
	struct buf m;
	char *text;
	size_t max_flight = 0;
	uint64_t end, ok, bad;
	const char *const names[] = { "x", "y", "z" };

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	text = xasprintf("ca_file = \"%s/ca.pem\"; concurrency = 1;\n"
	    "interval = \"2s\"; timeout = \"1s\"; scan = { interval = \"1h\"; };\n"
	    "targets = ( { name = \"x\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; },\n"
	    "  { name = \"y\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; },\n"
	    "  { name = \"z\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; "
	    "scan = false; } );\n",
	    dir, srv.port, srv.port, srv.port);
	c = load(text);
	free(text);
	s = sched_new(loop, res, c);
	sched_start(s);
	buf_init(&m);
	end = mono_ms() + 10000;
	for (;;) {
		loop_run_once(loop, 20);
		if (sched_in_flight(s) > max_flight)
			max_flight = sched_in_flight(s);
		m.len = 0;
		sched_render_metrics(&m, s);
		if ((tl_count(m.data, "tlswatch_tls_scan_timestamp_seconds{") == 2 &&
		    probes(s, "x") >= 1 && probes(s, "y") >= 1 && probes(s, "z") >= 1) ||
		    mono_ms() >= end)
			break;
	}
	assert_int_equal(max_flight, 1);
	for (size_t i = 0; i < 3; i++) {
		char *want = xasprintf("tlswatch_tls_version_supported{target=\"%s\","
		    "version=\"TLS1.3\"} 1\n", names[i]);
		char *stamp = xasprintf("tlswatch_tls_scan_timestamp_seconds{target=\"%s\"} ",
		    names[i]);

		history_counts(hist_of(s, names[i]), &ok, &bad);
		assert_true(ok >= 1 && bad == 0);
		assert_int_equal(tl_count(m.data, want), i < 2);
		assert_int_equal(tl_count(m.data, stamp), i < 2);
		free(want);
		free(stamp);
	}
	assert_int_equal(tl_count(m.data, "version=\"TLS1.2\"} 1\n"), 2);
	buf_free(&m);
	sched_free(s);
	conf_free(c);
	ts_stop(&srv);
}

/* A reload keeps what an unchanged target had, down to its history; a
 * changed or new one starts afresh; a removed one goes. */
static void
test_reload(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct ts srv;
	struct conf *c1, *c2;
	struct sched *s1, *s2;
	const struct history *ha;
	const struct result *ra;
	uint64_t ok, bad, ok2, bad2;
	char *text;

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	text = xasprintf("ca_file = \"%s/ca.pem\"; interval = \"1s\"; timeout = \"500ms\";\n"
	    "targets = ( { name = \"a\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; },\n"
	    "  { name = \"b\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; },\n"
	    "  { name = \"gone\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; } );\n",
	    dir, srv.port, srv.port, srv.port);
	c1 = load(text);
	free(text);
	s1 = sched_new(loop, res, c1);
	sched_start(s1);
	assert_int_equal(run_until_probed(s1, 1, 10000), 0);
	ha = hist_of(s1, "a");
	ra = history_result(ha, NULL);
	history_counts(ha, &ok, &bad);

	text = xasprintf("ca_file = \"%s/ca.pem\"; interval = \"1s\"; timeout = \"500ms\";\n"
	    "targets = ( { name = \"a\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; },\n"
	    "  { name = \"b\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\";\n"
	    "    interval = \"2s\"; },\n"
	    "  { name = \"new\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; } );\n",
	    dir, srv.port, srv.port, srv.port);
	c2 = load(text);
	free(text);
	s2 = sched_new(loop, res, c2);
	sched_start_from(s2, s1);
	sched_free(s1);          /* cancels its probes */
	conf_free(c1);           /* nothing of it is held any more */
	/* unchanged: the same history, result and counters */
	assert_ptr_equal(hist_of(s2, "a"), ha);
	assert_ptr_equal(history_result(hist_of(s2, "a"), NULL), ra);
	history_counts(hist_of(s2, "a"), &ok2, &bad2);
	assert_int_equal(ok2, ok);
	assert_int_equal(bad2, bad);
	/* changed and new: nothing yet */
	assert_null(history_result(hist_of(s2, "b"), NULL));
	assert_null(history_result(hist_of(s2, "new"), NULL));
	assert_int_equal(sched_count(s2), 3);
	/* and all of them go on, the kept one on its old phase */
	assert_int_equal(run_until_probed(s2, ok + bad + 1, 10000), 0);
	history_counts(hist_of(s2, "a"), &ok2, &bad2);
	assert_true(ok2 > ok);
	sched_free(s2);
	conf_free(c2);
	ts_stop(&srv);
}

static void
test_recheck(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	char *sd = xasprintf("%s/state", dir), *text, *file;
	struct store *st;
	struct ts srv;
	struct conf *c;
	struct sched *s;
	const struct result *r;
	unsigned handshakes;
	uint64_t end;

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	/* a long interval: no second probe during the test */
	text = xasprintf("ca_file = \"%s/ca.pem\"; interval = \"5s\"; timeout = \"1s\";\n"
	    "targets = ( { name = \"rc\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; } );\n",
	    dir, srv.port);
	c = load(text);
	free(text);
	assert_non_null(st = store_new(loop, sd, 3600 * 1000, &text));
	s = sched_new(loop, res, c);
	sched_set_store(s, st);
	sched_start(s);
	assert_int_equal(run_until_probed(s, 1, 10000), 0);
	r = history_result(hist_of(s, "rc"), NULL);
	assert_true(r->success);
	assert_true(r->verdict.verified);       /* unknown for now: verified */
	assert_true(verdict_pending(&r->verdict));
	assert_true(verdict_retained(&r->verdict));
	assert_true(verdict_retained_bytes() >= leaf.der.len + ca.der.len);
	assert_string_equal(ref_target, "rc");
	assert_null(ref_address);
	assert_int_equal(check_runs, 1);
	handshakes = ts_wait_handshakes(&srv, 1, 2000);

	/* the data is there: the check asks, and the scheduler runs it again */
	tl_log_start();
	data_arrived = 1;
	verdict_request_recheck(ref_target, ref_address);
	verdict_request_recheck(ref_target, ref_address);   /* once is enough */
	assert_int_equal(sched_rechecked(s), 0);            /* from the loop, later */
	end = mono_ms() + 5000;
	while (sched_rechecked(s) == 0 && mono_ms() < end)
		loop_run_once(loop, 20);
	store_drain(st);
	text = tl_log_stop();
	assert_int_equal(sched_rechecked(s), 1);
	assert_int_equal(check_runs, 2);
	assert_int_equal(check_rechecks, 1);
	assert_int_equal(ts_handshakes(&srv), handshakes);   /* no new handshake */
	r = history_result(hist_of(s, "rc"), NULL);
	assert_false(r->verdict.verified);
	assert_int_equal(r->verdict.reasons, REASON(REVOKED));
	assert_false(verdict_pending(&r->verdict));
	assert_int_equal(verdict_retained_bytes(), 0);
	/* logged once, through the history */
	assert_int_equal(tl_count(text, "target rc: chain does not verify: revoked (leaf: "
	    "CN=leaf.test); was: verified"), 1);
	free(text);
	/* and remembered on disk */
	file = xasprintf("%s/targets/rc.state", sd);
	{
		FILE *f = fopen(file, "r");
		char line[256];
		int found = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			found |= strcmp(line, "reasons revoked\n") == 0;
		fclose(f);
		assert_true(found);
	}
	free(file);

	/* nothing retained any more, an unknown target: nothing to do */
	sched_recheck(s, "rc", NULL);
	sched_recheck(s, "nope", NULL);
	end = mono_ms() + 200;
	while (mono_ms() < end)
		loop_run_once(loop, 20);
	assert_int_equal(sched_rechecked(s), 1);
	sched_free(s);
	store_free(st);
	conf_free(c);
	ts_stop(&srv);
	free(sd);
}

/* How many of s's targets have their stored record. */
static size_t
count_loaded(const struct sched *s)
{
	size_t loaded = 0;

	for (size_t i = 0; i < sched_count(s); i++)
		loaded += history_memory(sched_history(s, i)) != NULL;
	return loaded;
}

static size_t
index_of(const struct sched *s, const char *name)
{
	for (size_t i = 0; i < sched_count(s); i++)
		if (strcmp(sched_conf(s, i)->name, name) == 0)
			return i;
	fail_msg("no target %s", name);
	return 0;
}

/* Stored state is read on the store's thread and installed by the loop in
 * batches: nothing before the loop runs, everything within a deadline,
 * each target its own result and first_seen. A target due before its batch
 * waits for its stored state (an urgent batch, ahead of the rest: the loop
 * never reads a state file itself), and keeps its new result; a reload in the middle of loading cancels the old
 * scheduler's batches (ASan: no leak, no use after free) and the new one
 * loads the rest. */
static void
test_load_off_loop(void **state)
{
	enum { N = 3000 };
	const struct tc *chain[] = { &leaf, &ca };
	char *sd = xasprintf("%s/slices", dir), *text, early[32];
	struct buf b;
	struct store *st;
	struct conf *c;
	struct sched *s, *ns;
	struct ts srv;
	size_t loaded, ei, mid;
	uint64_t end;
	double first_seen, started;
	int saw_probe = 0;

	(void)state;
	assert_int_equal(ts_start(&srv, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	/* a name whose first probe falls in the first 20 ms of its hour, so
	 * that it comes due long before its batch, the last of 3,000 files */
	for (unsigned i = 0;; i++) {
		snprintf(early, sizeof(early), "early%u", i);
		if (hash64(early, strlen(early)) % 3600000 < 20)
			break;
	}
	/* a run before: the early target's verdict and chain are stored */
	text = xasprintf("ca_file = \"%s/ca.pem\"; interval = \"1h\";\n"
	    "targets = ( { name = \"%s\"; address = \"127.0.0.1:%u\"; "
	    "server_name = \"leaf.test\"; } );\n", dir, early, srv.port);
	c = load(text);
	free(text);
	assert_non_null(st = store_new(loop, sd, 3600 * 1000, &text));
	s = sched_new(loop, res, c);
	sched_set_store(s, st);
	sched_start(s);
	assert_int_equal(run_until_probed(s, 1, 10000), 0);
	assert_true(history_result(hist_of(s, early), NULL)->verdict.verified);
	first_seen = history_memory(hist_of(s, early))->first_seen;
	sched_free(s);
	conf_free(c);
	for (int i = 0; i < N; i++) {
		char *name = xasprintf("s%d", i);
		struct store_record *rec = store_record_new(name);
		struct result *r = xcalloc(1, sizeof(*r));

		rec->first_seen = 1e9 + i;
		r->time = 1e9 + i;
		r->fail_stage = "connect";
		r->fail_reason = "refused";
		for (int k = 0; k < STAGE_COUNT; k++)
			r->stage_seconds[k] = -1;
		store_save(st, rec, r);
		store_record_free(rec);
		result_free(r);
		free(name);
	}
	store_drain(st);
	store_free(st);

	/* the restart: a store read afresh */
	assert_non_null(st = store_new(loop, sd, 3600 * 1000, &text));
	buf_init(&b);
	buf_printf(&b, "ca_file = \"%s/ca.pem\"; interval = \"1h\";\ntargets = (\n", dir);
	for (int i = 0; i < N; i++)
		buf_printf(&b, "%s{ name = \"s%d\"; address = \"127.0.0.1:9\"; }\n",
		    i ? "," : "", i);
	/* last in the load order */
	buf_printf(&b, ",{ name = \"%s\"; address = \"127.0.0.1:%u\"; server_name = \"leaf.test\"; }\n"
	    ");\n", early, srv.port);
	c = load(b.data);
	buf_free(&b);
	s = sched_new(loop, res, c);
	sched_set_store(s, st);
	started = wall_now();
	sched_start(s);
	ei = index_of(s, early);
	assert_int_equal(count_loaded(s), 0);   /* nothing before the loop runs */
	/* the early target's probe ends while the others load; it starts
	 * only once its stored state is in (no other target is due so soon:
	 * a probe in flight is its) */
	end = mono_ms() + 30000;
	while (history_result(sched_history(s, ei), NULL) == NULL ||
	    history_result(sched_history(s, ei), NULL)->time < started) {
		assert_true(mono_ms() < end);
		if (sched_in_flight(s) > 0 && history_memory(sched_history(s, ei)) == NULL)
			fail_msg("%s was probed before its stored state was read", early);
		saw_probe |= sched_in_flight(s) > 0;
		loop_run_once(loop, 10);
	}
	loaded = count_loaded(s);
	print_message("early probe ended with %zu of %d stored records loaded\n", loaded, N + 1);
	assert_true(saw_probe);
	/* its result is new, and first_seen the stored one */
	assert_true(history_result(sched_history(s, ei), NULL)->verdict.verified);
	assert_true(fabs(history_memory(sched_history(s, ei))->first_seen - first_seen) < 0.001);
	/* a reload in the middle: s's batches in flight are cancelled */
	mid = count_loaded(s);
	ns = sched_new(loop, res, c);
	sched_set_store(ns, st);
	sched_start_from(ns, s);
	sched_free(s);
	s = ns;
	print_message("reloaded with %zu of %d loaded\n", mid, N + 1);
	end = mono_ms() + 30000;
	while ((loaded = count_loaded(s)) < N + 1 && mono_ms() < end)
		loop_run_once(loop, 10);
	assert_int_equal(loaded, N + 1);
	for (size_t i = 0; i < sched_count(s); i++) {
		const struct result *r = history_result(sched_history(s, i), NULL);
		const char *name = sched_conf(s, i)->name;

		assert_non_null(r);
		if (i == index_of(s, early)) {
			assert_true(r->time >= started);     /* the new result stays */
			assert_true(fabs(history_memory(sched_history(s, i))->first_seen -
			    first_seen) < 0.001);   /* the file keeps ms */
		} else {
			assert_true(r->time == 1e9 + atoi(name + 1));
			assert_true(history_memory(sched_history(s, i))->first_seen ==
			    1e9 + atoi(name + 1));
		}
	}
	sched_free(s);
	store_free(st);
	conf_free(c);
	ts_stop(&srv);
	free(sd);
}

/* How often needle is in hay. */
static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* n targets named PREFIX0.. on port 9, which refuses at once. */
static struct conf *
refusing(const char *prefix, int n)
{
	struct buf b;
	struct conf *c;

	buf_init(&b);
	buf_printf(&b, "interval = \"500ms\"; timeout = \"400ms\";\ntargets = (\n");
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s{ name = \"%s%d\"; address = \"127.0.0.1:9\"; }\n",
		    i ? "," : "", prefix, i);
	buf_printf(&b, ");\n");
	c = load(b.data);
	buf_free(&b);
	return c;
}

/* What sc renders, and sc released. */
static char *
rendered(struct sched_scrape *sc)
{
	struct buf out;

	buf_init(&out);
	sched_scrape_render(&out, sc);
	sched_scrape_release(sc);
	return buf_steal(&out);
}

/* A scrape is taken a slice of targets a step: each step takes at most
 * its share, the rendered scrape shows every target once; when the set of
 * targets changes between steps (a reload), the taking starts again on
 * the new set, and what the old set's targets were is kept alive by the
 * pin until the scrape is released (ASan: no use after free); after two
 * restarts the rest goes in one step. The status line's count restarts
 * likewise. */
static void
test_scrape_slices(void **state)
{
	enum { N = 50, M = 30 };
	char *text;
	struct conf *c, *c2;
	struct sched *s, *ns;
	struct sched_scrape *sc;
	struct sched_summary sum;
	int steps = 0;
	char name[32];

	(void)state;
	c = refusing("old", N);
	c2 = refusing("new", M);
	s = sched_new(loop, res, c);
	sched_start(s);
	assert_int_equal(run_until_probed(s, 1, 10000), 0);

	/* seven targets a step: eight steps, the last complete */
	sc = sched_scrape_begin(s);
	while (!sched_scrape_step(s, sc, 7)) {
		steps++;
		assert_true(steps < N);
		loop_run_once(loop, 0);      /* the loop goes on between slices */
	}
	assert_int_equal(steps + 1, (N + 6) / 7);
	assert_int_equal(sched_scrape_restarts(sc), 0);
	text = rendered(sc);
	assert_non_null(strstr(text, "\ntlswatch_targets 50\n"));
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "target=\"old%d\"", i);
		if (!strstr(text, name))
			fail_msg("no series of %s", name);
	}
	assert_int_equal(count_of(text, "tlswatch_probe_success{"), N);
	free(text);

	/* the status line's count, likewise: port 9 refuses, all fail */
	sched_summary_begin(&sum, wall_now());
	assert_int_equal(sched_summary_step(s, &sum, &c->warn), 1);
	assert_int_equal(sum.failing, N);
	assert_int_equal(sum.expiring, 0);

	/* a reload after two steps: the new set, each target once */
	sc = sched_scrape_begin(s);
	assert_int_equal(sched_scrape_step(s, sc, 7), 0);
	assert_int_equal(sched_scrape_step(s, sc, 7), 0);
	ns = sched_new(loop, res, c2);
	sched_start_from(ns, s);
	sched_free(s);                   /* its targets are pinned by sc */
	s = ns;
	assert_int_equal(run_until_probed(s, 1, 10000), 0);
	steps = 0;
	while (!sched_scrape_step(s, sc, 7)) {
		steps++;
		assert_true(steps < M);
	}
	assert_int_equal(steps + 1, (M + 6) / 7);
	assert_int_equal(sched_scrape_restarts(sc), 1);
	text = rendered(sc);
	assert_non_null(strstr(text, "\ntlswatch_targets 30\n"));
	assert_null(strstr(text, "target=\"old"));
	assert_int_equal(count_of(text, "tlswatch_probe_success{"), M);
	free(text);
	/* a count given another set starts again */
	assert_int_equal(sched_summary_step(s, &sum, &c2->warn), 1);
	assert_int_equal(sum.failing, M);

	/* changed under it twice: the rest in one step */
	sc = sched_scrape_begin(s);
	assert_int_equal(sched_scrape_step(s, sc, 7), 0);
	for (int k = 0; k < 2; k++) {
		ns = sched_new(loop, res, k == 0 ? c : c2);
		sched_start_from(ns, s);
		sched_free(s);
		s = ns;
		if (k == 0)
			assert_int_equal(sched_scrape_step(s, sc, 7), 0);
	}
	assert_int_equal(sched_scrape_step(s, sc, 7), 1);
	assert_int_equal(sched_scrape_restarts(sc), 2);
	text = rendered(sc);
	assert_non_null(strstr(text, "\ntlswatch_targets 30\n"));
	free(text);
	sched_free(s);
	conf_free(c2);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_recheck),
		cmocka_unit_test(test_load_off_loop),
		cmocka_unit_test(test_scrape_slices),
	};
	static const char *const sans[] = { "DNS:leaf.test", NULL };
	struct tc_spec cs = { .cn = "Sched Test CA", .ca = 1 };
	struct tc_spec ls = { .cn = "leaf.test", .sans = sans };
	char *err = NULL, *ca_path;
	int rc;

	log_init("test_sched", 0);
	snprintf(dir, sizeof(dir), "/tmp/test_sched.XXXXXX");
	if (mkdtemp(dir) == NULL || tls_init(&err) == -1 || (loop = loop_new()) == NULL ||
	    (res = resolver_new(loop, &err)) == NULL || verdict_add_check(&waiting_check) == -1)
		return 1;
	tc_make(&ca, &cs, NULL);
	tc_make(&leaf, &ls, &ca);
	ca_path = xasprintf("%s/ca.pem", dir);
	tc_write(&ca, NULL, ca_path, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(ref_target);
	free(ref_address);
	tc_free(&leaf);
	tc_free(&ca);
	resolver_free(res);
	loop_free(loop);
	tls_fini();
	tl_rm_rf(dir);
	free(ca_path);
	return rc;
}
