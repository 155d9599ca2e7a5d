/* test_probe.c - one probe as a state machine (probe/probe.c) against a
 * GnuTLS server on loopback: a verified chain and its stages, a verdict
 * reused for the same chain, a name that does not match, a refused port, a
 * peer that never answers (the deadline), and cancelling. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/tlsctx.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/tls.h"
#include "result.h"
#include "testlib.h"
#include "verdict/verdict.h"

static struct tc ca, leaf;
static char ca_path[64];
static struct loop *loop;
static struct resolver *res;
static struct tlsctx *tls;

struct got {
	int done;
	struct result *r;
};

static void
done_cb(void *arg, struct result *r)
{
	struct got *g = arg;

	g->r = r;
	g->done = 1;
}

static void
target(struct conf_target *ct, uint16_t port, const char *name, uint64_t timeout_ms)
{
	char addr[32], *err = NULL;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	if (conf_target_for(addr, name, -1, ca_path, timeout_ms, tls, ct, &err) == -1)
		fail_msg("%s", err);
}

static struct result *
probe(const struct conf_target *ct, const struct result *prev)
{
	struct got g = { 0, NULL };

	probe_start(loop, res, ct, ct->trust, prev, done_cb, &g);
	/* never from inside probe_start */
	assert_false(g.done);
	assert_int_equal(tl_run_until(loop, &g.done, 10000), 0);
	return g.r;
}

/* A closed port of loopback. */
static uint16_t
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void
test_verified_and_reused(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct conf_target ct;
	struct ts s;
	struct result *r, *r2;
	uint64_t full0, reused0, full, reused;
	char peer[32];

	(void)state;
	assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	target(&ct, s.port, "leaf.test", 5000);
	verdict_counts(&full0, &reused0);
	r = probe(&ct, NULL);
	assert_true(r->success);
	assert_null(r->fail_stage);
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", s.port);
	assert_string_equal(r->peer, peer);
	assert_int_equal(r->ncerts, 2);
	assert_string_equal(r->certs[0]->subject, "CN=leaf.test");
	/* the DER of certificates not stored yet, for the store */
	assert_int_equal(r->nders, 2);
	assert_int_equal(r->ders[0].len, leaf.der.len);
	assert_true(r->verdict.verified);
	assert_false(r->verdict.reused);
	assert_true(r->verdict.name_id == verdict_name_id("leaf.test"));
	assert_true(r->verdict.name_id != verdict_name_id("other.test"));
	assert_true(r->verdict.name_id != verdict_name_id(NULL));
	for (int st = 0; st < STAGE_COUNT; st++)
		if (st != STAGE_STARTTLS)
			assert_true(r->stage_seconds[st] >= 0);
	assert_true(r->stage_seconds[STAGE_STARTTLS] < 0);
	assert_true(r->duration > 0 && r->time > 0);
	verdict_counts(&full, &reused);
	assert_int_equal(full, full0 + 1);

	/* the same chain, store and name: the verdict carries over */
	r2 = probe(&ct, r);
	assert_true(r2->success);
	assert_true(r2->verdict.reused);
	assert_true(r2->verdict.verified);
	assert_ptr_equal(r2->certs[0], r->certs[0]);
	verdict_counts(&full, &reused);
	assert_int_equal(full, full0 + 1);
	assert_int_equal(reused, reused0 + 1);
	assert_int_equal(ts_wait_handshakes(&s, 2, 2000), 2);   /* every probe shakes hands */
	result_free(r);
	result_free(r2);
	conf_target_fini(&ct);
	ts_stop(&s);
}

static void
test_wrong_name(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct conf_target ct;
	struct ts s;
	struct result *r;

	(void)state;
	assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	target(&ct, s.port, "other.test", 5000);
	r = probe(&ct, NULL);
	assert_true(r->success);            /* the probe succeeded ... */
	assert_false(r->verdict.verified);  /* ... and the chain does not verify */
	assert_int_equal(r->verdict.reasons, REASON(HOSTNAME_MISMATCH));
	result_free(r);
	conf_target_fini(&ct);
	ts_stop(&s);
}

static void
test_refused(void **state)
{
	struct conf_target ct;
	struct result *r;

	(void)state;
	target(&ct, closed_port(), "leaf.test", 5000);
	r = probe(&ct, NULL);
	assert_false(r->success);
	assert_string_equal(r->fail_stage, "connect");
	assert_string_equal(r->fail_reason, "refused");
	assert_int_equal(r->ncerts, 0);
	result_free(r);
	conf_target_fini(&ct);
}

/* A peer that accepts and says nothing: the deadline ends the probe, in
 * the stage it was in. */
static void
test_deadline(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct conf_target ct;
	struct ts s;
	struct result *r;
	uint64_t t0 = mono_ms();

	(void)state;
	assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, NULL, 0, TS_SILENT), 0);
	target(&ct, s.port, "leaf.test", 300);
	r = probe(&ct, NULL);
	assert_false(r->success);
	assert_string_equal(r->fail_stage, "timeout");
	assert_string_equal(r->fail_reason, "handshake");
	assert_true(mono_ms() - t0 >= 300 && mono_ms() - t0 < 3000);
	result_free(r);
	conf_target_fini(&ct);
	ts_stop(&s);
}

static void
test_cancel(void **state)
{
	struct conf_target ct;
	struct got g = { 0, NULL };
	struct probe *p;
	int never = 0;

	(void)state;
	target(&ct, closed_port(), "leaf.test", 5000);
	p = probe_start(loop, res, &ct, ct.trust, NULL, done_cb, &g);
	probe_cancel(p);
	probe_cancel(NULL);
	/* a while of the loop: the callback stays uncalled */
	assert_int_equal(tl_run_until(loop, &never, 200), -1);
	assert_false(g.done);
	conf_target_fini(&ct);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verified_and_reused),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_cancel),
	};
	static const char *const sans[] = { "DNS:leaf.test", NULL };
	struct tc_spec cs = { .cn = "Probe Test CA", .ca = 1 };
	struct tc_spec ls = { .cn = "leaf.test", .sans = sans };
	char *err = NULL;
	int rc;

	log_init("test_probe", 0);
	if (tls_init(&err) == -1 || (loop = loop_new()) == NULL ||
	    (res = resolver_new(loop, &err)) == NULL)
		return 1;
	tc_make(&ca, &cs, NULL);
	tc_make(&leaf, &ls, &ca);
	snprintf(ca_path, sizeof(ca_path), "/tmp/test_probe.%d.pem", (int)getpid());
	tc_write(&ca, NULL, ca_path, NULL);
	tls = tlsctx_new();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tlsctx_free(tls);
	unlink(ca_path);
	tc_free(&leaf);
	tc_free(&ca);
	resolver_free(res);
	loop_free(loop);
	tls_fini();
	return rc;
}
