/* test_status.c - escaping for JSON, HTML and URLs; the status page's
 * classification and order; hostile names and subjects stay text. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verdict/certs.h"
#include "serve/json.h"
#include "serve/status.h"
#include "core/util.h"

static void
test_json_str(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	json_str(&b, "a\"b\\c\nd\te\x01\x1f\x7f \xc3\xa9 \xe2\x82\xac \xff \xc3 </script>");
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\\u007f \xc3\xa9 "
	    "\xe2\x82\xac \\ufffd \\ufffd </script>\"");
	buf_free(&b);
	buf_init(&b);
	json_str(&b, NULL);
	json_num(&b, 1.0 / 0.0, 3);
	json_num(&b, 2.5, 1);
	assert_string_equal(b.data, "nullnull2.5");
	buf_free(&b);
	/* overlong and surrogate encodings are not UTF-8 */
	buf_init(&b);
	json_str(&b, "\xc0\xaf\xed\xa0\x80");
	assert_null(strstr(b.data, "\xc0"));
	assert_null(strstr(b.data, "\xed"));
	buf_free(&b);
}

static void
test_html_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	html_escape(&b, "<img src=x onerror='a()'>&\"\n\x1b[31m\xfe\xc3\xa9");
	assert_string_equal(b.data, "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;\\n"
	    "\\x1b[31m\xef\xbf\xbd\xc3\xa9");
	buf_free(&b);
}

static void
test_url_escape(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	url_escape(&b, "a b/<c>\"?#%~._-\xc3\xa9");
	assert_string_equal(b.data, "a%20b%2F%3Cc%3E%22%3F%23%25~._-%C3%A9");
	buf_free(&b);
}

/* A cert struct made by hand: status.c only reads its fields. */
static struct cert *
fake_cert(const char *subject, int64_t not_after)
{
	struct cert *c = xcalloc(1, sizeof(*c));

	c->subject = xstrdup(subject);
	c->issuer = xstrdup("CN=issuer");
	c->serial = xstrdup("01");
	c->not_after = not_after;
	memset(c->sha256, 'a', 64);
	return c;
}

static void
fake_cert_free(struct cert *c)
{
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c);
}

static void
test_classify_and_sort(void **state)
{
	const double now = 1e9;
	struct status_view v = { NULL, 21 * 86400, 7 * 86400, now };
	struct result r[6];
	struct status_entry e[6];
	static const char *const names[6] = { "ok", "warn", "crit", "unverified", "failing",
		"pending" };
	static const enum status_state want[6] = { STATUS_OK, STATUS_WARN, STATUS_CRIT,
		STATUS_UNVERIFIED, STATUS_FAILING, STATUS_PENDING };
	int64_t exp;

	(void)state;
	memset(r, 0, sizeof(r));
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 4; i++) {
		r[i].success = 1;
		r[i].verdict.verified = i < 3;
		r[i].time = now;
	}
	r[0].verdict.verified_expiry = (int64_t)now + 100 * 86400;
	r[1].verdict.verified_expiry = (int64_t)now + 10 * 86400;
	r[2].verdict.verified_expiry = (int64_t)now + 3 * 86400;
	r[3].verdict.earliest_expiry = (int64_t)now - 86400;
	r[4].fail_stage = "connect";
	r[4].fail_reason = "refused";
	for (int i = 0; i < 6; i++) {
		e[i].name = names[i];
		e[i].r = i < 5 ? &r[i] : NULL;
		e[i].st = NULL;
		assert_int_equal(status_classify(&e[i], &v, &exp), want[i]);
	}
	status_sort(e, 6, &v);
	/* soonest expiry first; no expiry known last, by name */
	assert_string_equal(e[0].name, "unverified");
	assert_string_equal(e[1].name, "crit");
	assert_string_equal(e[2].name, "warn");
	assert_string_equal(e[3].name, "ok");
	assert_string_equal(e[4].name, "failing");
	assert_string_equal(e[5].name, "pending");
}

static void
test_hostile_page(void **state)
{
	const char *hostile = "CN=</td><script>alert(1)</script>\n\"x\\";
	struct status_view v = { NULL, 21 * 86400, 7 * 86400, 1e9 };
	struct cert *c = fake_cert(hostile, 2000000000);
	struct result r;
	struct status_entry e = { .name = "<b>name</b>", .r = &r };
	struct buf b;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.success = 1;
	r.verdict.verified = 1;
	r.verdict.verified_expiry = 2000000000;
	r.certs = &c;
	r.ncerts = 1;
	r.time = 1e9;
	buf_init(&b);
	status_html_list(&b, &e, 1, &v, NULL);
	assert_null(strstr(b.data, "<script>"));
	assert_null(strstr(b.data, "<b>"));
	assert_non_null(strstr(b.data, "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;\\n&quot;x\\"));
	assert_non_null(strstr(b.data, "href=\"/targets/%3Cb%3Ename%3C%2Fb%3E\""));
	buf_free(&b);
	buf_init(&b);
	status_json_list(&b, &e, 1, &v, NULL);
	assert_non_null(strstr(b.data, "\"leaf_subject\":\"CN=</td><script>alert(1)</script>\\n\\\"x\\\\\""));
	assert_non_null(strstr(b.data, "\"state\":\"ok\""));
	buf_free(&b);
	buf_init(&b);
	status_html_target(&b, &e, &v);
	assert_null(strstr(b.data, "<b>"));
	assert_non_null(strstr(b.data, "<title>&lt;b&gt;name&lt;/b&gt; - tlswatch</title>"));
	buf_free(&b);
	fake_cert_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_classify_and_sort),
		cmocka_unit_test(test_hostile_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
