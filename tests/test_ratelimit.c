/* test_ratelimit.c - failed password checks per address: the burst, the
 * refill, refunds, how addresses are grouped, and the table's bound. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/util.h"
#include "serve/ratelimit.h"

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void
test_burst_and_refill(void **state)
{
	struct ratelimit *r = ratelimit_new(3, 1000, 16);
	struct sockaddr_storage a = addr("192.0.2.1"), b = addr("192.0.2.2");

	(void)state;
	assert_int_equal(ratelimit_waiting(r, 0), 0);
	/* three at once, then the fourth waits until a token is back */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(r, SA(a), 0), 0);
	assert_int_equal(ratelimit_take(r, SA(a), 0), 1000);
	assert_int_equal(ratelimit_take(r, SA(a), 400), 600);
	/* a refused attempt takes nothing: the wait does not grow */
	assert_int_equal(ratelimit_take(r, SA(a), 400), 600);
	/* another address is not affected */
	assert_int_equal(ratelimit_take(r, SA(b), 400), 0);
	assert_int_equal(ratelimit_waiting(r, 400), 2);
	/* one token a second */
	assert_int_equal(ratelimit_take(r, SA(a), 1000), 0);
	assert_int_equal(ratelimit_take(r, SA(a), 1000), 1000);
	assert_int_equal(ratelimit_take(r, SA(a), 2000), 0);
	/* long quiet: a full bucket again, no more */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(r, SA(a), 100000), 0);
	assert_true(ratelimit_take(r, SA(a), 100000) > 0);
	ratelimit_free(r);
	ratelimit_free(NULL);
}

static void
test_refund(void **state)
{
	struct ratelimit *r = ratelimit_new(2, 1000, 16);
	struct sockaddr_storage a = addr("192.0.2.1");

	(void)state;
	/* a check that passes costs nothing: the right password always gets
	 * through an address that never failed */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(ratelimit_take(r, SA(a), 10), 0);
		ratelimit_refund(r, SA(a), 10);
	}
	assert_int_equal(ratelimit_waiting(r, 10), 0);
	/* failures then count, and a refund gives back exactly one */
	assert_int_equal(ratelimit_take(r, SA(a), 10), 0);
	assert_int_equal(ratelimit_take(r, SA(a), 10), 0);
	assert_true(ratelimit_take(r, SA(a), 10) > 0);
	ratelimit_refund(r, SA(a), 10);
	assert_int_equal(ratelimit_take(r, SA(a), 10), 0);
	assert_true(ratelimit_take(r, SA(a), 10) > 0);
	/* a refund for an address not tracked is a no-op */
	{
		struct sockaddr_storage z = addr("198.51.100.7");

		ratelimit_refund(r, SA(z), 10);
		assert_int_equal(ratelimit_take(r, SA(z), 10), 0);
	}
	ratelimit_free(r);
}

static void
test_grouping(void **state)
{
	struct ratelimit *r = ratelimit_new(1, 60000, 16);
	struct sockaddr_storage v6a = addr("2001:db8:1:2::1"), v6b = addr("2001:db8:1:2:ffff::9");
	struct sockaddr_storage v6c = addr("2001:db8:1:3::1");
	struct sockaddr_storage v4 = addr("192.0.2.9"), mapped = addr("::ffff:192.0.2.9");

	(void)state;
	/* an IPv6 /64 is one client */
	assert_int_equal(ratelimit_take(r, SA(v6a), 0), 0);
	assert_true(ratelimit_take(r, SA(v6b), 0) > 0);
	assert_int_equal(ratelimit_take(r, SA(v6c), 0), 0);
	/* an IPv4-mapped address is its IPv4 address */
	assert_int_equal(ratelimit_take(r, SA(v4), 0), 0);
	assert_true(ratelimit_take(r, SA(mapped), 0) > 0);
	/* no address at all: one shared bucket, not none */
	assert_int_equal(ratelimit_take(r, NULL, 0), 0);
	assert_true(ratelimit_take(r, NULL, 0) > 0);
	ratelimit_free(r);
}

static void
test_bounded(void **state)
{
	struct ratelimit *r = ratelimit_new(1, 1000, 4);
	struct sockaddr_storage a[6];
	char text[32];

	(void)state;
	for (int i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "192.0.2.%d", i + 1);
		a[i] = addr(text);
	}
	/* four waiting addresses fill the table, each a bit later */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_take(r, SA(a[i]), (uint64_t)i * 100), 0);
	assert_int_equal(ratelimit_waiting(r, 300), 4);
	/* a fifth takes the place of the one closest to full (a[0]) */
	assert_int_equal(ratelimit_take(r, SA(a[4]), 400), 0);
	assert_int_equal(ratelimit_waiting(r, 400), 4);
	assert_int_equal(ratelimit_take(r, SA(a[0]), 400), 0);   /* forgotten: full */
	assert_true(ratelimit_take(r, SA(a[2]), 400) > 0);       /* remembered */
	/* once refilled, entries are free to take */
	assert_int_equal(ratelimit_take(r, SA(a[5]), 5000), 0);
	assert_int_equal(ratelimit_waiting(r, 5000), 1);
	ratelimit_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_and_refill),
		cmocka_unit_test(test_refund),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
