/* test_resolve.c - names through c-ares on the event loop (probe/resolve.c).
 * The test owns the hosts file (c-ares reads CARES_HOSTS instead of
 * /etc/hosts), so no query leaves the machine; literals never reach
 * c-ares at all. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/util.h"
#include "probe/resolve.h"
#include "testlib.h"

static struct loop *loop;
static struct resolver *res;
static char hosts[64];

struct answer {
	int done;
	char addrs[8][64];
	size_t n;
	char reason[32];
};

static void
cb(void *arg, const struct resolved_addr *addrs, size_t n, const char *reason,
    const char *detail)
{
	struct answer *a = arg;

	(void)detail;
	a->done = 1;
	if (addrs == NULL) {
		snprintf(a->reason, sizeof(a->reason), "%s", reason);
		return;
	}
	for (size_t i = 0; i < n && i < 8; i++)
		resolve_format(&addrs[i], a->addrs[i], sizeof(a->addrs[i]));
	a->n = n;
}

static int
has(const struct answer *a, const char *addr)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->addrs[i], addr) == 0)
			return 1;
	return 0;
}

static void
lookup(const char *host, enum resolve_family f, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	assert_non_null(resolve_start(res, host, 853, f, cb, a));
	assert_false(a->done);      /* never from inside resolve_start */
	assert_int_equal(tl_run_until(loop, &a->done, 5000), 0);
}

static void
test_literals(void **state)
{
	struct resolved_addr ra;
	char buf[64];

	(void)state;
	assert_int_equal(resolve_literal("127.0.0.1", 443, &ra), 0);
	resolve_format(&ra, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:443");
	resolve_ip(&ra, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");
	assert_int_equal(resolve_literal("::1", 8443, &ra), 0);
	resolve_format(&ra, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:8443");
	resolve_ip(&ra, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
	assert_int_equal(resolve_literal("example.test", 443, &ra), -1);
	assert_int_equal(resolve_literal("1.2.3", 443, &ra), -1);
	assert_int_equal(resolve_literal("[::1]", 443, &ra), -1);
}

static void
test_hosts_file(void **state)
{
	struct answer a;

	(void)state;
	lookup("dual.test", RESOLVE_ANY, &a);
	assert_int_equal(a.n, 2);
	assert_true(has(&a, "127.0.0.1:853"));
	assert_true(has(&a, "[::1]:853"));
	lookup("dual.test", RESOLVE_IPV4, &a);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.addrs[0], "127.0.0.1:853");
	lookup("dual.test", RESOLVE_IPV6, &a);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.addrs[0], "[::1]:853");
	lookup("v4only.test", RESOLVE_ANY, &a);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.addrs[0], "127.0.0.1:853");
}

/* A request cancelled before its answer: the callback never runs. */
static void
test_cancel(void **state)
{
	struct answer a;
	int never = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	resolve_cancel(resolve_start(res, "dual.test", 853, RESOLVE_ANY, cb, &a));
	resolve_cancel(NULL);
	assert_int_equal(tl_run_until(loop, &never, 200), -1);
	assert_false(a.done);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_hosts_file),
		cmocka_unit_test(test_cancel),
	};
	char *err = NULL;
	FILE *f;
	int rc;

	snprintf(hosts, sizeof(hosts), "/tmp/test_resolve.%d.hosts", (int)getpid());
	if ((f = fopen(hosts, "w")) == NULL)
		return 1;
	fputs("127.0.0.1 dual.test v4only.test\n::1 dual.test\n", f);
	fclose(f);
	setenv("CARES_HOSTS", hosts, 1);
	if ((loop = loop_new()) == NULL || (res = resolver_new(loop, &err)) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	resolver_free(res);
	loop_free(loop);
	unlink(hosts);
	return rc;
}
