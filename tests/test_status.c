/* test_status.c - escaping for JSON, HTML and URLs; the status page's
 * classification and order; hostile names and subjects stay text. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verdict/certs.h"
#include "serve/json.h"
#include "serve/query.h"
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
	struct status_view v = { NULL, { 21ULL * 86400 * 1000, 0 }, { 7ULL * 86400 * 1000, 0 }, now, NULL };
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

/* warn = "33%", crit = "10%": a 6-day certificate and a 398-day one, each
 * judged by its own lifetime; the page and the API say so. */
static void
test_classify_fraction(void **state)
{
	const double now = 1e9;
	struct status_view v = { NULL, { 0, 3300 }, { 0, 1000 }, now, NULL };
	struct cert *six = fake_cert("CN=six", (int64_t)now + 86400);
	struct cert *long_ = fake_cert("CN=long", (int64_t)now + 130 * 86400);
	struct cert *six_ok = fake_cert("CN=six", (int64_t)now + 3 * 86400);
	struct result r;
	struct status_entry e = { .name = "t", .r = &r };
	struct buf b;
	int64_t exp;

	(void)state;
	six->not_before = six->not_after - 6 * 86400;
	six_ok->not_before = six_ok->not_after - 6 * 86400;
	long_->not_before = long_->not_after - 398 * 86400;
	memset(&r, 0, sizeof(r));
	r.success = 1;
	r.verdict.verified = 1;
	r.ncerts = 1;
	r.time = now;

	r.certs = &six;                  /* 1 day of 6 left: less than a third */
	r.verdict.verified_expiry = six->not_after;
	assert_int_equal(status_classify(&e, &v, &exp), STATUS_WARN);
	r.certs = &six_ok;               /* 3 days of 6 left */
	r.verdict.verified_expiry = six_ok->not_after;
	assert_int_equal(status_classify(&e, &v, &exp), STATUS_OK);
	r.certs = &long_;                /* 130 days of 398: under a third */
	r.verdict.verified_expiry = long_->not_after;
	assert_int_equal(status_classify(&e, &v, &exp), STATUS_WARN);
	v.warn.fraction = 3000;          /* 30%: 119.4 days */
	assert_int_equal(status_classify(&e, &v, &exp), STATUS_OK);
	v.crit.fraction = 3300;
	assert_int_equal(status_classify(&e, &v, &exp), STATUS_CRIT);
	v.warn.fraction = 3300;
	v.crit.fraction = 1000;

	buf_init(&b);
	status_html_list(&b, &e, 1, &v, NULL);
	assert_non_null(strstr(b.data, "warn with less than 33% of the lifetime left, critical with "
	    "less than 10% of the lifetime left."));
	buf_free(&b);
	buf_init(&b);
	status_json_list(&b, &e, 1, &v, NULL);
	assert_non_null(strstr(b.data, "\"warn\":\"33%\",\"warn_seconds\":null,"
	    "\"crit\":\"10%\",\"crit_seconds\":null"));
	buf_free(&b);
	buf_init(&b);
	status_json_target(&b, &e, &v);
	/* a third of 398 days, and a tenth */
	assert_non_null(strstr(b.data, "\"warn\":\"33%\",\"warn_seconds\":11347776,"
	    "\"crit\":\"10%\",\"crit_seconds\":3438720"));
	buf_free(&b);
	v.warn = (struct threshold){ 21ULL * 86400 * 1000, 0 };
	buf_init(&b);
	status_html_list(&b, &e, 1, &v, NULL);
	assert_non_null(strstr(b.data, "warn within 21 days, critical with less than 10%"));
	buf_free(&b);
	fake_cert_free(six);
	fake_cert_free(six_ok);
	fake_cert_free(long_);
}

static void
test_hostile_page(void **state)
{
	const char *hostile = "CN=</td><script>alert(1)</script>\n\"x\\";
	struct status_view v = { NULL, { 21ULL * 86400 * 1000, 0 }, { 7ULL * 86400 * 1000, 0 }, 1e9, NULL };
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

/* Parse "a=b&c&..." (no decoding: the HTTP server decodes) with the list's
 * names: 0 or -1 with *err. */
static int
parse(struct query *q, const char *qs, char **err)
{
	char *copy = xstrdup(qs), *save = NULL;
	struct query_arg a[QUERY_MAX_ARGS + 2];
	size_t n = 0;
	int rc;

	for (char *t = strtok_r(copy, "&", &save); t && n < ARRAY_SIZE(a);
	    t = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(t, '=');

		if (eq)
			*eq++ = '\0';
		a[n].name = t;
		a[n++].value = eq;
	}
	rc = query_parse(q, a, n, status_query_names(), err);
	free(copy);
	return rc;
}

static void
test_query(void **state)
{
	struct query q;
	struct buf b;
	char *err;

	(void)state;
	assert_int_equal(parse(&q, "state=failing,unverified&state=crit&label=team=a%b&"
	    "label=env=&q=Ex&sort=name&order=desc&page=3&per_page=100&refresh=30&"
	    "columns=name,state,name&format=pem&unknown=1&x", &err), 0);
	assert_true(q.states == ((1u << STATUS_FAILING) | (1u << STATUS_UNVERIFIED) |
	    (1u << STATUS_CRIT)));
	assert_int_equal(q.nlabels, 2);
	assert_string_equal(q.labels[0].name, "team");
	assert_string_equal(q.labels[0].value, "a%b");
	assert_string_equal(q.labels[1].value, "");
	assert_string_equal(q.text, "Ex");
	assert_string_equal(status_query_names()->columns[q.sort], "name");
	assert_true(q.desc && q.page == 3 && q.per_page == 100 && q.refresh == 30 && q.pem);
	assert_int_equal(q.ncolumns, 2);        /* a column once */
	query_fini(&q);
	/* issue= goes on in every link and in the form, as the other filters */
	assert_int_equal(parse(&q, "issue=weak_key&per_page=1", &err), 0);
	assert_string_equal(q.issue, "weak_key");
	{
		struct status_view v = { NULL, { 21ULL * 86400 * 1000, 0 },
			{ 7ULL * 86400 * 1000, 0 }, 1e9, "weak_key" };
		struct status_entry e[2];

		memset(e, 0, sizeof(e));
		e[0].name = "a";
		e[1].name = "b";
		buf_init(&b);
		status_html_list(&b, e, 2, &v, &q);
		assert_non_null(strstr(b.data, "<a rel=\"next\" href=\"/?issue=weak_key&amp;per_page=1&amp;page=2\">"));
		assert_non_null(strstr(b.data, "<input type=\"hidden\" name=\"issue\" value=\"weak_key\">"));
		buf_free(&b);
	}
	query_fini(&q);
	/* empty form fields are no filter */
	assert_int_equal(parse(&q, "state=&label=&q=&sort=&page=&per_page=&refresh=", &err), 0);
	assert_true(q.states == 0 && q.nlabels == 0 && q.text == NULL && q.sort == -1 &&
	    q.page == 1 && q.per_page == 0 && q.refresh == 0);
	query_fini(&q);
	/* refused whole, naming the parameter */
	static const char *const bad[][2] = {
		{ "state=ok,nope", "state: unknown value \"nope\" (one of: pending, ok," },
		{ "sort=evil\x1b[1m", "sort: unknown value \"evil?[1m\"" },
		{ "state=ok,n\xc3\xa9", "state: unknown value \"n??\" (one of: pending," },
		{ "label=team", "label: NAME=VALUE wanted" },
		{ "label=1x=y", "label: the name is not a label name" },
		{ "page=0", "page: a number from 1 to" },
		{ "page=-1", "page: a number from 1 to" },
		{ "page=99999999999999999999", "page: a number from 1 to" },
		{ "per_page=5001", "per_page: a number from 1 to 5000" },
		{ "per_page=1e3", "per_page: a number from 1 to 5000" },
		{ "refresh=4", "refresh: 0 (none) or seconds from 5 to 86400" },
		{ "order=up", "order: asc or desc" },
		{ "format=der", "format: pem or html" },
		{ "columns=name,,bogus", "columns: unknown value \"bogus\"" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse(&q, bad[i][0], &err), -1);
		if (strncmp(err, bad[i][1], strlen(bad[i][1])) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", bad[i][0], err, bad[i][1]);
		assert_true(q.nlabels == 0 && q.text == NULL);
		free(err);
	}
	buf_init(&b);
	for (int i = 0; i <= QUERY_MAX_LABELS; i++)
		buf_printf(&b, "%slabel=l%d=v", i ? "&" : "", i);
	assert_int_equal(parse(&q, b.data, &err), -1);
	assert_string_equal(err, "label: at most 8");
	free(err);
	buf_free(&b);
	buf_init(&b);
	for (int i = 0; i <= QUERY_MAX_ARGS; i++)
		buf_printf(&b, "%sq=%d", i ? "&" : "", i);
	assert_int_equal(parse(&q, b.data, &err), -1);
	assert_string_equal(err, "more than 64 parameters");
	free(err);
	buf_free(&b);
	buf_init(&b);
	buf_puts(&b, "q=");
	for (int i = 0; i <= QUERY_MAX_VALUE; i++)
		buf_putc(&b, 'x');
	assert_int_equal(parse(&q, b.data, &err), -1);
	assert_string_equal(err, "q: longer than 256 bytes");
	free(err);
	buf_free(&b);
	/* text: a substring, ASCII letters of either case alike */
	assert_true(query_text_match("CN=Example.ORG", "example.org"));
	assert_true(query_text_match("abc", ""));
	assert_false(query_text_match("abc", "abcd"));
	assert_false(query_text_match(NULL, "a"));
	assert_false(query_text_match("\xc3\xa9", "\xc3\x89"));   /* not ASCII: as is */
}

/* Filter, sort and page over entries that are not probed yet and failing
 * ones; the page numbers clamp. */
static void
test_select(void **state)
{
	struct status_view v = { NULL, { 21ULL * 86400 * 1000, 0 }, { 7ULL * 86400 * 1000, 0 }, 1e9,
		NULL };
	struct status_entry e[7];
	struct result fail;
	struct status_selection sel;
	struct query q;
	char name[7][16], *err;

	(void)state;
	memset(e, 0, sizeof(e));
	memset(&fail, 0, sizeof(fail));
	fail.fail_stage = "connect";
	fail.fail_reason = "refused";
	for (int i = 0; i < 7; i++) {
		snprintf(name[i], sizeof(name[i]), "n%d%s", i, i % 2 ? "-Odd" : "");
		e[i].name = name[i];
		e[i].r = i < 3 ? &fail : NULL;
	}
	assert_int_equal(parse(&q, "state=pending&q=odd&sort=name&order=desc&per_page=1&page=2",
	    &err), 0);
	status_select(e, 7, &v, &q, 250, &sel);
	assert_int_equal(sel.total, 7);
	assert_int_equal(sel.counts[STATUS_FAILING], 3);
	assert_int_equal(sel.counts[STATUS_PENDING], 4);
	assert_int_equal(sel.matched, 2);     /* n3-Odd, n5-Odd */
	assert_int_equal(sel.pages, 2);
	assert_int_equal(sel.count, 1);
	assert_string_equal(e[sel.first].name, "n3-Odd");
	query_fini(&q);
	assert_int_equal(parse(&q, "page=99", &err), 0);
	status_select(e, 7, &v, &q, 5, &sel);
	assert_true(sel.page == 2 && sel.pages == 2 && sel.first == 5 && sel.count == 2);
	query_fini(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_classify_and_sort),
		cmocka_unit_test(test_classify_fraction),
		cmocka_unit_test(test_hostile_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
