/* test_allow.c - probe_allow: networks, name patterns, and the decision on
 * every resolved address (a name cannot smuggle a forbidden address). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/allow.h"
#include "probe/resolve.h"

static struct resolved_addr
addr(const char *ip)
{
	struct resolved_addr a;

	assert_int_equal(resolve_literal(ip, 443, &a), 0);
	return a;
}

static struct allow *
make(const char *const *entries, size_t n)
{
	struct allow *a = allow_new();

	for (size_t i = 0; i < n; i++) {
		const char *msg = allow_add(a, entries[i]);

		if (msg != NULL)
			fail_msg("%s: %s", entries[i], msg);
	}
	return a;
}

static int
allowed(const struct allow *a, const char *ip)
{
	struct resolved_addr r = addr(ip);

	return allow_address(a, (const struct sockaddr *)&r.ss);
}

static void
test_networks(void **state)
{
	static const char *const entries[] = {
		"10.0.0.0/8", "192.0.2.7", "198.51.100.0/25", "2001:db8::/32", "::1", "fc00::/7",
	};
	static const struct {
		const char *ip;
		int ok;
	} cases[] = {
		{ "10.0.0.1", 1 }, { "10.255.255.255", 1 }, { "11.0.0.0", 0 }, { "9.255.255.255", 0 },
		{ "192.0.2.7", 1 }, { "192.0.2.8", 0 },
		{ "198.51.100.127", 1 }, { "198.51.100.128", 0 },
		{ "2001:db8::1", 1 }, { "2001:db8:ffff::1", 1 }, { "2001:db9::1", 0 },
		{ "::1", 1 }, { "::2", 0 }, { "fc00::1", 1 }, { "fdff::1", 1 }, { "fe00::1", 0 },
		/* the IPv4 host an IPv4-mapped address reaches is what counts */
		{ "::ffff:10.1.2.3", 1 }, { "::ffff:127.0.0.1", 0 },
		{ "127.0.0.1", 0 }, { "0.0.0.0", 0 },
	};
	struct allow *a = make(entries, sizeof(entries) / sizeof(entries[0]));

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (allowed(a, cases[i].ip) != cases[i].ok)
			fail_msg("%s: %s", cases[i].ip, cases[i].ok ? "refused" : "allowed");
	allow_free(a);

	/* /0 allows a whole family, and only that family */
	a = allow_new();
	assert_null(allow_add(a, "0.0.0.0/0"));
	assert_true(allowed(a, "203.0.113.9"));
	assert_false(allowed(a, "2001:db8::1"));
	assert_true(allowed(a, "::ffff:203.0.113.9"));
	allow_free(a);
	allow_free(NULL);
}

static void
test_names(void **state)
{
	static const char *const entries[] = { "*.example.org", "exact.example.net" };
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{ "www.example.org", 1 }, { "a.b.example.org", 1 }, { "WWW.Example.ORG", 1 },
		{ "www.example.org.", 1 }, { "example.org", 0 }, { "badexample.org", 0 },
		{ "www.example.org.evil.test", 0 }, { "exact.example.net", 1 },
		{ "Exact.Example.Net.", 1 }, { "a.exact.example.net", 0 }, { "example.net", 0 },
		{ "", 0 },
	};
	struct allow *a = make(entries, 2);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (allow_name(a, cases[i].name) != cases[i].ok)
			fail_msg("%s: %s", cases[i].name, cases[i].ok ? "refused" : "allowed");
	allow_free(a);
}

static void
test_bad_entries(void **state)
{
	static const struct {
		const char *entry;
		const char *msg;
	} cases[] = {
		{ "", "empty entry" },
		{ "10.0.0.1/8", "address has bits set past the prefix length" },
		{ "2001:db8::1/32", "address has bits set past the prefix length" },
		{ "10.0.0.0/33", "bad prefix length" },
		{ "::/129", "bad prefix length" },
		{ "10.0.0.0/", "bad prefix length" },
		{ "10.0.0.0/08", "bad prefix length" },
		{ "10.0.0.0/8x", "bad host name pattern" },
		{ "10.0.0/8", "bad network address" },
		{ "300.0.0.0/8", "bad network address" },
		{ "gggg::/16", "bad network address" },
		{ "*", "\"*\" only as the first label: \"*.example.org\"" },
		{ "*.", "bad host name pattern" },
		{ "a.*.example.org", "\"*\" only as the first label: \"*.example.org\"" },
		{ "*example.org", "\"*\" only as the first label: \"*.example.org\"" },
		{ "exa mple.org", "bad host name pattern" },
		{ "https://example.org", "bad network address" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct allow *a = allow_new();
		const char *msg = allow_add(a, cases[i].entry);

		if (msg == NULL)
			fail_msg("\"%s\" accepted", cases[i].entry);
		assert_string_equal(msg, cases[i].msg);
		allow_free(a);
	}
}

/* Every address of a name is checked; a matching name pattern trusts what
 * its names resolve to; an IP literal is judged by address only. */
static void
test_check(void **state)
{
	static const char *const entries[] = { "10.0.0.0/8", "*.lab.test" };
	struct allow *a = make(entries, 2);
	struct resolved_addr one_bad[2], good[2];
	char why[64] = "";

	(void)state;
	good[0] = addr("10.0.0.1");
	good[1] = addr("10.0.0.2");
	one_bad[0] = addr("10.0.0.1");
	one_bad[1] = addr("127.0.0.1");

	assert_null(allow_check(a, "svc.corp.test", 0, good, 2, why, sizeof(why)));
	assert_string_equal(allow_check(a, "svc.corp.test", 0, one_bad, 2, why, sizeof(why)),
	    "name resolves to an address not in probe_allow");
	assert_string_equal(why, "127.0.0.1");
	assert_null(allow_check(a, "www.lab.test", 0, one_bad, 2, why, sizeof(why)));
	/* a literal never passes by a name pattern */
	assert_string_equal(allow_check(a, "127.0.0.1", 1, &one_bad[1], 1, NULL, 0),
	    "address not in probe_allow");
	assert_null(allow_check(a, "10.0.0.1", 1, good, 1, NULL, 0));

	/* the IPv6 form of a refused address is refused too */
	one_bad[0] = addr("::ffff:127.0.0.1");
	assert_non_null(allow_check(a, "svc.corp.test", 0, one_bad, 1, why, sizeof(why)));
	assert_string_equal(why, "::ffff:127.0.0.1");
	allow_free(a);

	/* an empty list allows nothing: the caller decides what unset means */
	a = allow_new();
	assert_non_null(allow_check(a, "x.test", 0, good, 1, NULL, 0));
	allow_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
