/* test_scan.c - the protocol scan's parts (src/probe/scan.c): its priority
 * strings are GnuTLS's and offer one version each, what a probe's result
 * says of a version, the target as the scan probes it. The handshakes
 * themselves run against real servers in tests/test_scan_tls.py. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>

#include "probe/scan.h"
#include "probe/tls.h"

static void
test_priorities(void **state)
{
	static const gnutls_protocol_t want[SCAN_NVERSIONS] = {
		GNUTLS_TLS1_0, GNUTLS_TLS1_1, GNUTLS_TLS1_2, GNUTLS_TLS1_3,
	};

	(void)state;
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++) {
		gnutls_priority_t prio;
		const unsigned *list;
		char *err = NULL;
		int n;

		assert_int_equal(tls_priority_check(scan_priority(v), &err), 0);
		assert_int_equal(gnutls_priority_init(&prio, scan_priority(v), NULL), 0);
		/* exactly one version enabled, the one named */
		n = gnutls_priority_protocol_list(prio, &list);
		assert_int_equal(n, 1);
		assert_int_equal(list[0], want[v]);
		assert_string_equal(scan_version_name(v), gnutls_protocol_get_name(want[v]));
		gnutls_priority_deinit(prio);
	}
	assert_null(scan_version_name(SCAN_NVERSIONS));
	assert_null(scan_priority(SCAN_NVERSIONS));
}

static void
test_answers(void **state)
{
	static const struct {
		int success;
		const char *version, *stage, *reason;
		enum scan_answer want;
	} cases[] = {
		{ 1, "TLS1.0", NULL, NULL, SCAN_ACCEPTED },
		{ 1, "TLS1.2", NULL, NULL, SCAN_UNKNOWN },   /* not what was asked */
		{ 1, NULL, NULL, NULL, SCAN_UNKNOWN },
		{ 0, NULL, "handshake", "alert_protocol_version", SCAN_REFUSED },
		{ 0, NULL, "handshake", "alert_handshake_failure", SCAN_REFUSED },
		{ 0, NULL, "handshake", "alert_internal_error", SCAN_REFUSED },
		{ 0, NULL, "handshake", "protocol_error", SCAN_REFUSED },
		{ 0, NULL, "handshake", "no_common_cipher", SCAN_REFUSED },
		{ 0, NULL, "handshake", "closed", SCAN_REFUSED },
		{ 0, NULL, "handshake", "reset", SCAN_REFUSED },
		{ 0, NULL, "handshake", "io_error", SCAN_UNKNOWN },
		{ 0, NULL, "handshake", "other", SCAN_UNKNOWN },
		{ 0, NULL, "connect", "refused", SCAN_UNKNOWN },
		{ 0, NULL, "starttls", "closed", SCAN_UNKNOWN },
		{ 0, NULL, "timeout", "handshake", SCAN_UNKNOWN },
		{ 0, NULL, "resolve", "nxdomain", SCAN_UNKNOWN },
	};
	struct result r;
	enum scan_answer a[SCAN_NVERSIONS] = { SCAN_REFUSED, SCAN_REFUSED, SCAN_ACCEPTED,
	                                       SCAN_ACCEPTED };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.success = cases[i].success;
		r.tls_version = cases[i].version;
		r.fail_stage = cases[i].stage;
		r.fail_reason = cases[i].reason;
		assert_int_equal(scan_answer(&r, SCAN_TLS1_0), cases[i].want);
	}
	assert_int_equal(scan_answer(NULL, SCAN_TLS1_0), SCAN_UNKNOWN);
	assert_int_equal(scan_answer(&r, SCAN_NVERSIONS), SCAN_UNKNOWN);
	assert_string_equal(scan_answer_name(SCAN_ACCEPTED), "accepted");
	assert_string_equal(scan_answer_name(SCAN_REFUSED), "refused");
	assert_string_equal(scan_answer_name(SCAN_UNKNOWN), "unknown");

	assert_false(scan_legacy(a));
	a[SCAN_TLS1_1] = SCAN_ACCEPTED;
	assert_true(scan_legacy(a));
	a[SCAN_TLS1_1] = SCAN_UNKNOWN;
	a[SCAN_TLS1_0] = SCAN_ACCEPTED;
	assert_true(scan_legacy(a));
}

static void
test_target(void **state)
{
	struct conf_target ct, out;

	(void)state;
	memset(&ct, 0, sizeof(ct));
	ct.name = (char *)"t";
	ct.address = (char *)"a:1";
	ct.tls.priority = (char *)"SECURE256";
	ct.tls.starttls = STARTTLS_SMTP;
	scan_target(&ct, SCAN_TLS1_1, &out);
	assert_string_equal(out.tls.priority, scan_priority(SCAN_TLS1_1));
	assert_ptr_equal(out.name, ct.name);
	assert_int_equal(out.tls.starttls, STARTTLS_SMTP);
	assert_string_equal(ct.tls.priority, "SECURE256");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
