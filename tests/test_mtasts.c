/* test_mtasts.c - MTA-STS policies and _mta-sts records (RFC 8461),
 * TLS-RPT records (RFC 8460) and MX patterns, read by mtasts.c: what
 * the RFCs allow, what they refuse, and the bounds. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "verdict/mtasts.h"

static int
parse(const char *text, struct mtasts_policy *p, char *err)
{
	return mtasts_policy_parse(text, strlen(text), p, err, 160);
}

static void
test_policy_good(void **state)
{
	struct mtasts_policy p;
	char err[160];

	(void)state;
	/* RFC 8461 section 3.2's example, CRLF */
	assert_int_equal(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	    "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n", &p, err), 0);
	assert_int_equal(p.mode, MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 3);
	assert_string_equal(p.mx[0], "mail.example.com");
	assert_string_equal(p.mx[1], "*.example.net");
	assert_string_equal(p.mx[2], "backupmx.example.com");
	assert_true(mtasts_policy_covers(&p, "mail.example.com"));
	assert_true(mtasts_policy_covers(&p, "a.example.net"));
	assert_false(mtasts_policy_covers(&p, "example.net"));
	assert_false(mtasts_policy_covers(&p, "mx.example.org"));
	mtasts_policy_free(&p);

	/* LF, any order, spaces and tabs around values, no final newline,
	 * empty lines, an extension, upper-case mx lowercased */
	assert_int_equal(parse("mx:\tMX1.Example.ORG \n\nmax_age:0\nmode:  testing\n"
	    "ext_1.x-y: some value\twith spaces\nversion: STSv1", &p, err), 0);
	assert_int_equal(p.mode, MTASTS_TESTING);
	assert_int_equal(p.max_age, 0);
	assert_int_equal(p.nmx, 1);
	assert_string_equal(p.mx[0], "mx1.example.org");
	mtasts_policy_free(&p);

	/* mode none needs no mx; the largest max_age */
	assert_int_equal(parse("version: STSv1\nmode: none\nmax_age: 31557600\n", &p, err), 0);
	assert_int_equal(p.mode, MTASTS_NONE);
	assert_int_equal(p.max_age, MTASTS_MAX_AGE_MAX);
	assert_int_equal(p.nmx, 0);
	mtasts_policy_free(&p);

	/* a repeated field other than mx: the first counts */
	assert_int_equal(parse("version: STSv1\nmode: testing\nmode: enforce\nmode: bogus\n"
	    "max_age: 10\nmax_age: 99999999999\nmx: a.example\n", &p, err), 0);
	assert_int_equal(p.mode, MTASTS_TESTING);
	assert_int_equal(p.max_age, 10);
	mtasts_policy_free(&p);
	assert_string_equal(mtasts_mode_name(MTASTS_ENFORCE), "enforce");
	assert_string_equal(mtasts_mode_name(MTASTS_NONE), "none");
}

static void
bad(const char *text, const char *want)
{
	struct mtasts_policy p;
	char err[160];

	err[0] = '\0';
	if (parse(text, &p, err) != -1)
		fail_msg("accepted: %s", text);
	assert_int_equal(p.nmx, 0);
	assert_null(p.mx);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" for: %s", err, want, text);
}

static void
test_policy_bad(void **state)
{
	(void)state;
	bad("mode: enforce\nmx: a.example\nmax_age: 1\n", "no version");
	bad("version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode");
	bad("version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age");
	bad("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx");
	bad("version: STSv1\nmode: testing\nmax_age: 1\n", "no mx");
	bad("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "line 1: version");
	bad("version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", "line 1");
	bad("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", "line 2: mode");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", "line 4");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
	    "10 digits");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "not a number");
	bad("version: STSv1\nmode: enforce\nmx: a.example\nmax_age:\n", "no value");
	bad("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "line 3: mx");
	bad("version: STSv1\nmode: enforce\nmx: *.\nmax_age: 1\n", "line 3: mx");
	bad("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", "line 3: mx");
	bad("version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n", "line 3: mx");
	bad("version: STSv1\nmode: enforce\nmx: a.example.\nmax_age: 1\n", "line 3: mx");
	bad("version: STSv1\nmode: enforce\nmx: a_b.example\nmax_age: 1\n", "line 3: mx");
	bad("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n", "line 2: not");
	bad("version: STSv1\n-mode: enforce\nmx: a.example\nmax_age: 1\n", "line 2: not a field");
	bad("version: STSv1\r\rmode: enforce\n", "line 1: a control");
	bad("version: STSv1\nmode: enf\x01orce\n", "line 2");
	bad("<html><body>Not Found</body></html>\n", "line 1");
	bad("", "no version");
	{
		/* a NUL in the middle */
		struct mtasts_policy p;
		char err[160];
		static const char t[] = "version: STSv1\nmode: enforce\0\nmx: a.example\nmax_age: 1\n";
		assert_int_equal(mtasts_policy_parse(t, sizeof(t) - 1, &p, err, sizeof(err)), -1);
	}
}

static void
test_policy_bounds(void **state)
{
	struct mtasts_policy p;
	struct buf b;
	char err[160];
	int i;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "version: STSv1\nmode: enforce\nmax_age: 86400\n");
	for (i = 0; i < MTASTS_MAX_MX; i++)
		buf_printf(&b, "mx: mx%d.example.org\n", i);
	assert_int_equal(mtasts_policy_parse(b.data, b.len, &p, err, sizeof(err)), 0);
	assert_int_equal(p.nmx, MTASTS_MAX_MX);
	assert_true(mtasts_policy_covers(&p, "mx63.example.org"));
	mtasts_policy_free(&p);
	buf_puts(&b, "mx: one-too-many.example.org\n");
	assert_int_equal(mtasts_policy_parse(b.data, b.len, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 64"));
	buf_free(&b);

	/* the size cap, whatever the content */
	buf_init(&b);
	buf_puts(&b, "version: STSv1\nmode: none\nmax_age: 1\n");
	while (b.len <= MTASTS_POLICY_MAX)
		buf_puts(&b, "x-padding: ................................................\n");
	assert_int_equal(mtasts_policy_parse(b.data, b.len, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bytes"));
	assert_int_equal(mtasts_policy_parse(b.data, MTASTS_POLICY_MAX - 100, &p, err,
	    sizeof(err)), 0);
	mtasts_policy_free(&p);
	buf_free(&b);

	/* an error message fits whatever size it is given */
	assert_int_equal(mtasts_policy_parse("x", 1, &p, err, 4), -1);
	assert_int_equal(strlen(err), 3);
	assert_int_equal(mtasts_policy_parse("x", 1, &p, NULL, 0), -1);
}

static void
test_mx_match(void **state)
{
	(void)state;
	assert_true(mtasts_mx_match("mail.example.com", "mail.example.com"));
	assert_true(mtasts_mx_match("mail.example.com", "MAIL.Example.COM."));
	assert_true(mtasts_mx_match("*.example.com", "mx1.example.com"));
	assert_true(mtasts_mx_match("*.example.com", "MX1.EXAMPLE.COM."));
	/* one label only in place of the star, and not none */
	assert_false(mtasts_mx_match("*.example.com", "a.b.example.com"));
	assert_false(mtasts_mx_match("*.example.com", "example.com"));
	assert_false(mtasts_mx_match("*.example.com", ".example.com"));
	assert_false(mtasts_mx_match("*.example.com", "mx1.example.com.evil"));
	assert_false(mtasts_mx_match("*.example.com", "mx1example.com"));
	assert_false(mtasts_mx_match("mail.example.com", "mail.example.co"));
	assert_false(mtasts_mx_match("mail.example.com", "xmail.example.com"));
	assert_false(mtasts_mx_match("mail.example.com", ""));
	assert_false(mtasts_mx_match("", "a"));
	/* a star is a star only at the front */
	assert_false(mtasts_mx_match("mx.*.com", "mx.example.com"));
}

static void
record(const char *text, int want_is, int want_valid, const char *want_id)
{
	char id[MTASTS_ID_MAX + 1], err[160] = "";
	int valid = -1, is;

	is = mtasts_record_parse(text, strlen(text), &valid, id, err, sizeof(err));
	if (is != want_is || (is && valid != want_valid))
		fail_msg("\"%s\": is %d valid %d (%s)", text, is, valid, err);
	if (is && valid)
		assert_string_equal(id, want_id);
	if (is && !valid)
		assert_true(strlen(err) > 0);
}

static void
test_sts_record(void **state)
{
	(void)state;
	record("v=STSv1; id=20160831085700Z;", 1, 1, "20160831085700Z");
	record("v=STSv1;id=1", 1, 1, "1");
	record("v=STSv1 ;\tid=abc ; ", 1, 1, "abc");
	record("v=STSv1; ext=val; id=x1; id=second", 1, 1, "x1");
	record("v=STSv1; id=12345678901234567890123456789012", 1, 1,
	    "12345678901234567890123456789012");
	record("v=STSv1; id=123456789012345678901234567890123", 1, 0, NULL);
	record("v=STSv1; id=", 1, 0, NULL);
	record("v=STSv1; id=a-b", 1, 0, NULL);
	record("v=STSv1;", 1, 0, NULL);
	record("v=STSv1", 1, 0, NULL);
	record("v=STSv1; ext=1", 1, 0, NULL);
	record("v=STSv1; id=1 x", 1, 0, NULL);
	record("v=STSv1; id=1; novalue", 1, 0, NULL);
	record("v=STSv1; id=1; bad=a=b", 1, 0, NULL);
	record("v=STSv1 id=1", 1, 0, NULL);
	/* other records: discarded */
	record("v=spf1 -all", 0, 0, NULL);
	record("v=STSv10; id=1", 0, 0, NULL);
	record("V=STSv1; id=1", 0, 0, NULL);
	record(" v=STSv1; id=1", 0, 0, NULL);
	record("", 0, 0, NULL);
}

static void
rpt(const char *text, int want_is, int want_valid)
{
	char err[160] = "";
	int valid = -1, is;

	is = tlsrpt_record_parse(text, strlen(text), &valid, err, sizeof(err));
	if (is != want_is || (is && valid != want_valid))
		fail_msg("\"%s\": is %d valid %d (%s)", text, is, valid, err);
}

static void
test_tlsrpt_record(void **state)
{
	(void)state;
	rpt("v=TLSRPTv1; rua=mailto:reports@example.com", 1, 1);
	rpt("v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt;", 1, 1);
	rpt("v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.com/x", 1, 1);
	rpt("v=TLSRPTv1; rua=mailto:a@example.com,mailto:b@example.com; ext=1", 1, 1);
	rpt("v=TLSRPTv1; rua=http://insecure.example.com/", 1, 0);
	rpt("v=TLSRPTv1; rua=mailto:", 1, 0);
	rpt("v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com", 1, 0);
	rpt("v=TLSRPTv1; rua=mailto:a@example.com,", 1, 0);
	rpt("v=TLSRPTv1; ext=1", 1, 0);
	rpt("v=TLSRPTv1", 1, 0);
	rpt("v=TLSRPTv2; rua=mailto:a@example.com", 0, 0);
	rpt("v=STSv1; id=1", 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_good),
		cmocka_unit_test(test_policy_bad),
		cmocka_unit_test(test_policy_bounds),
		cmocka_unit_test(test_mx_match),
		cmocka_unit_test(test_sts_record),
		cmocka_unit_test(test_tlsrpt_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
