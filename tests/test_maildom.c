/* test_maildom.c - the keys a mail domain's results are known by ("MX PORT
 * ADDRESS"), read back for labels and rechecks, and the target each MX
 * host and port is probed as. The rounds themselves run against real
 * servers in test_mail.py. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/maildom.h"
#include "probe/starttls.h"
#include "result.h"
#include "serve/mailstatus.h"
#include "state/history.h"

static void
test_split_key(void **state)
{
	char mx[MAILDOM_KEY_MAX];
	const char *addr;
	uint16_t port;

	(void)state;
	assert_int_equal(maildom_split_key("mx1.example.org 25 192.0.2.1", mx, sizeof(mx),
	    &port, &addr), 0);
	assert_string_equal(mx, "mx1.example.org");
	assert_int_equal(port, 25);
	assert_string_equal(addr, "192.0.2.1");
	assert_int_equal(maildom_split_key("mx.example.org 465 2001:db8::1", mx, sizeof(mx),
	    &port, &addr), 0);
	assert_int_equal(port, 465);
	assert_string_equal(addr, "2001:db8::1");
	/* an MX host that did not resolve: no address */
	assert_int_equal(maildom_split_key("mx.example.org 587", mx, sizeof(mx), &port, &addr),
	    0);
	assert_int_equal(port, 587);
	assert_string_equal(addr, "");
	/* not keys: an address alone, no port, a bad port, an MX too long */
	assert_int_equal(maildom_split_key("192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key(" 25 192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx 0 192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx 65536", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx 25x", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx  192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("abcdefgh 25 ::1", mx, 8, &port, &addr), -1);
	assert_int_equal(maildom_split_key("abcdefg 25 ::1", mx, 8, &port, &addr), 0);
}

static void
test_sub_target(void **state)
{
	uint16_t ports[] = { 25, 465 };
	struct conf_target parent = {
		.name = "dom", .address = "example.org", .host = "example.org", .port = 25,
		.mail_domain = "example.org", .ports = ports, .nports = 2,
		.timeout_ms = 1234, .dane = CONF_DANE_ON,
	}, sub;
	struct maildom *md = maildom_new();
	char mx[MAILDOM_KEY_MAX];

	(void)state;
	parent.tls.starttls = STARTTLS_SMTP;
	maildom_sub_target(&parent, "mx1.example.org", 465, &sub);
	assert_string_equal(sub.name, "dom");
	assert_string_equal(sub.host, "mx1.example.org");
	assert_string_equal(sub.server_name, "mx1.example.org");
	assert_int_equal(sub.port, 465);
	assert_int_equal(sub.tls.starttls, STARTTLS_NONE);     /* implicit TLS */
	assert_int_equal(sub.tls.addresses_all, 1);
	assert_int_equal(sub.timeout_ms, 1234);
	assert_int_equal(sub.dane, CONF_DANE_ON);
	assert_int_equal(conf_target_is_smtp(&sub), 1);
	maildom_sub_target(&parent, "mx1.example.org", 587, &sub);
	assert_int_equal(sub.tls.starttls, STARTTLS_SMTP);
	/* before any MX answer no key names a known MX host */
	assert_int_equal(maildom_nmx(md), 0);
	assert_int_equal(maildom_busy(md), 0);
	assert_int_equal(maildom_target_for_key(md, &parent, "mx1.example.org 25 192.0.2.1",
	    mx, sizeof(mx), &sub), -1);
	assert_int_equal(maildom_mx_changes(md), 0);
	maildom_free(md);
	maildom_cancel(NULL);
	maildom_free(NULL);
}

/* A row's result: failed at connect, or probed and not verified. */
static struct result *
row_result(int success, uint64_t reasons)
{
	struct result *r = xcalloc(1, sizeof(*r));

	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = success ? 0.001 : -1;
	r->time = 1000;
	r->success = success;
	r->fail_stage = success ? NULL : "connect";
	r->fail_reason = success ? NULL : "refused";
	r->verdict.reasons = reasons;
	return r;
}

/* The page and the API group a mail domain's rows, each field escaped;
 * nothing for a target that is no mail domain. */
static void
test_status_rows(void **state)
{
	struct maildom *md = maildom_new();
	struct history *h = history_new("d");
	struct addr_result *a = xcalloc(3, sizeof(*a));
	struct status_view v = { NULL, { 21ULL * 86400 * 1000, 0 }, { 7ULL * 86400 * 1000, 0 },
		1000, NULL };
	struct status_entry e = { .name = "d", .mail = md, .hist = h };
	struct buf b;

	(void)state;
	/* an MX name is what DNS said: hostile */
	a[0].address = xstrdup("mx<b>\"x.example 25 127.0.0.1");
	a[0].result = row_result(0, 0);
	a[1].address = xstrdup("mx2.example 465 ::1");
	a[1].result = row_result(1, REASON(DANE_MISMATCH));
	a[2].address = xstrdup("mx3.example 25");
	a[2].result = row_result(0, 0);
	history_record_all(h, NULL, a, 3);

	buf_init(&b);
	mailstatus_html_target(&b, &e, &v);
	assert_non_null(strstr(b.data, "<h2>MX hosts</h2>"));
	assert_non_null(strstr(b.data, "<tr class=\"failing mxrow\" data-state=\"failing\">"
	    "<td class=\"mxhost\">mx&lt;b&gt;&quot;x.example</td><td>-</td><td>25</td>"
	    "<td class=\"address\">127.0.0.1</td><td>failing</td>"
	    "<td>failed at connect: refused</td><td class=\"dane\">-</td>"
	    "<td class=\"mtasts\">-</td></tr>"));
	assert_non_null(strstr(b.data, "<tr class=\"unverified mxrow\""));
	assert_non_null(strstr(b.data, "<td>465</td><td class=\"address\">::1</td>"
	    "<td>unverified</td><td>not verified: dane_mismatch</td>"));
	assert_non_null(strstr(b.data, "<td class=\"address\">-</td>"));
	assert_null(strstr(b.data, "<b>"));
	b.len = 0;
	b.data[0] = '\0';
	mailstatus_html_list(&b, &e, &v, 14);
	assert_non_null(strstr(b.data, "<tr class=\"mxrows\"><td colspan=\"14\"><table class=\"mx\""));
	b.len = 0;
	b.data[0] = '\0';
	mailstatus_json(&b, &e, &v);
	assert_non_null(strstr(b.data, ",\"mta_sts\":null,\"mta_sts_mode\":null,\"mx\":[],"
	    "\"rows\":[{\"mx\":\"mx<b>\\\"x.example\",\"preference\":null,\"port\":25,"
	    "\"address\":\"127.0.0.1\",\"state\":\"failing\""));
	assert_non_null(strstr(b.data, "{\"mx\":\"mx2.example\",\"preference\":null,\"port\":465,"
	    "\"address\":\"::1\",\"state\":\"unverified\""));
	assert_non_null(strstr(b.data, "\"reasons\":[\"dane_mismatch\"]"));
	assert_non_null(strstr(b.data, "{\"mx\":\"mx3.example\",\"preference\":null,\"port\":25,"
	    "\"address\":null,"));
	/* not a mail domain: nothing */
	e.mail = NULL;
	b.len = 0;
	b.data[0] = '\0';
	mailstatus_json(&b, &e, &v);
	mailstatus_html_list(&b, &e, &v, 14);
	mailstatus_html_target(&b, &e, &v);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	history_free(h);
	maildom_free(md);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_key),
		cmocka_unit_test(test_sub_target),
		cmocka_unit_test(test_status_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
