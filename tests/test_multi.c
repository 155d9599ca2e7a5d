/* test_multi.c - addresses = "all" (probe/multi.c): one resolution, one
 * probe per distinct address, all at once, each with its own result. A name
 * of the test's hosts file (CARES_HOSTS) resolves to 127.0.0.1 (listed
 * twice) and ::1; on the same port 127.0.0.1 serves a chain and ::1 closes
 * at once. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/tlsctx.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "probe/multi.h"
#include "probe/resolve.h"
#include "probe/tls.h"
#include "result.h"
#include "testlib.h"

static struct tc ca, leaf;
static char ca_path[64], hosts[64];
static struct loop *loop;
static struct resolver *res;
static struct tlsctx *tls;

struct got {
	int done;
	struct result *failure;
	struct addr_result *a;
	size_t n;
};

static void
done_cb(void *arg, struct result *failure, struct addr_result *a, size_t n)
{
	struct got *g = arg;

	g->done = 1;
	g->failure = failure;
	g->a = a;
	g->n = n;
}

static void
run(const char *address, uint64_t timeout_ms, struct got *g, struct conf_target *ct)
{
	struct probe_opts o = { 0 };
	char *err = NULL;

	memset(g, 0, sizeof(*g));
	if (conf_target_for(address, "leaf.test", -1, ca_path, timeout_ms, tls, ct, &err) == -1)
		fail_msg("%s", err);
	ct->tls.addresses_all = 1;
	o.trust = ct->trust;
	assert_non_null(multi_start(loop, res, ct, &o, done_cb, g));
	assert_false(g->done);
	assert_int_equal(tl_run_until(loop, &g->done, 10000), 0);
}

static void
test_every_address(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct conf_target ct;
	struct ts v4, v6;
	struct got g;
	char addr[64];
	int found4 = 0, found6 = 0;

	(void)state;
	assert_int_equal(ts_start(&v4, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	if (ts_start_at(&v6, "::1", v4.port, chain, 2, NULL, 0, TS_CLOSE) == -1) {
		ts_stop(&v4);
		skip();     /* no IPv6 loopback, or the port is taken there */
	}
	snprintf(addr, sizeof(addr), "dual.test:%u", v4.port);
	run(addr, 5000, &g, &ct);
	assert_null(g.failure);
	/* 127.0.0.1 is listed twice: one probe, one set of series */
	assert_int_equal(g.n, 2);
	for (size_t i = 0; i < g.n; i++) {
		if (strcmp(g.a[i].address, "127.0.0.1") == 0) {
			found4 = 1;
			assert_true(g.a[i].result->success);
			assert_true(g.a[i].result->verdict.verified);
		} else if (strcmp(g.a[i].address, "::1") == 0) {
			found6 = 1;
			assert_false(g.a[i].result->success);
			assert_string_equal(g.a[i].result->fail_stage, "handshake");
		}
	}
	assert_true(found4 && found6);
	assert_int_equal(ts_wait_handshakes(&v4, 1, 2000), 1);
	addr_results_free(g.a, g.n);
	conf_target_fini(&ct);
	ts_stop(&v4);
	ts_stop(&v6);
}

/* An IP literal is its only address; it is not resolved. */
static void
test_literal(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct conf_target ct;
	struct ts v4;
	struct got g;
	char addr[64];

	(void)state;
	assert_int_equal(ts_start(&v4, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", v4.port);
	run(addr, 5000, &g, &ct);
	assert_null(g.failure);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.a[0].address, "127.0.0.1");
	assert_true(g.a[0].result->success);
	addr_results_free(g.a, g.n);
	conf_target_fini(&ct);
	ts_stop(&v4);
}

/* Every address under the one deadline: a black hole at one costs the
 * others nothing, and ends by the deadline. */
static void
test_deadline(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct conf_target ct;
	struct ts v4, v6;
	struct got g;
	char addr[64];
	uint64_t t0;

	(void)state;
	assert_int_equal(ts_start(&v4, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	if (ts_start_at(&v6, "::1", v4.port, chain, 2, NULL, 0, TS_SILENT) == -1) {
		ts_stop(&v4);
		skip();
	}
	snprintf(addr, sizeof(addr), "dual.test:%u", v4.port);
	t0 = mono_ms();
	run(addr, 500, &g, &ct);
	assert_true(mono_ms() - t0 < 3000);
	assert_int_equal(g.n, 2);
	for (size_t i = 0; i < g.n; i++) {
		if (strcmp(g.a[i].address, "::1") == 0)
			assert_string_equal(g.a[i].result->fail_stage, "timeout");
		else
			assert_true(g.a[i].result->success);
	}
	addr_results_free(g.a, g.n);
	conf_target_fini(&ct);
	ts_stop(&v4);
	ts_stop(&v6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_address),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_deadline),
	};
	static const char *const sans[] = { "DNS:leaf.test", NULL };
	struct tc_spec cs = { .cn = "Multi Test CA", .ca = 1 };
	struct tc_spec ls = { .cn = "leaf.test", .sans = sans };
	char *err = NULL;
	FILE *f;
	int rc;

	log_init("test_multi", 0);
	snprintf(hosts, sizeof(hosts), "/tmp/test_multi.%d.hosts", (int)getpid());
	if ((f = fopen(hosts, "w")) == NULL)
		return 1;
	fputs("127.0.0.1 dual.test\n::1 dual.test\n127.0.0.1 dual.test\n", f);
	fclose(f);
	setenv("CARES_HOSTS", hosts, 1);
	if (tls_init(&err) == -1 || (loop = loop_new()) == NULL ||
	    (res = resolver_new(loop, &err)) == NULL)
		return 1;
	tc_make(&ca, &cs, NULL);
	tc_make(&leaf, &ls, &ca);
	snprintf(ca_path, sizeof(ca_path), "/tmp/test_multi.%d.pem", (int)getpid());
	tc_write(&ca, NULL, ca_path, NULL);
	tls = tlsctx_new();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tlsctx_free(tls);
	unlink(ca_path);
	unlink(hosts);
	tc_free(&leaf);
	tc_free(&ca);
	resolver_free(res);
	loop_free(loop);
	tls_fini();
	return rc;
}
