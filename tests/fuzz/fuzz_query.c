/*
 * fuzz_query.c - the status pages' query string, as any requester writes
 * it (src/serve/query.c), and the list selected and rendered by it
 * (src/serve/statuslist.c).
 *
 * Input: "name=value&name&..." as the HTTP server hands it over, decoded
 * (a parameter without '=' has no value); split at '&'.
 *
 * Invariants: refused queries have one printable line saying why and leave
 * the query empty; accepted ones are within query.h's bounds; the selection
 * of six targets (pending and failing) is a page of the matches and the
 * counts add up; the HTML page is UTF-8, the JSON one JSON text.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "serve/query.h"
#include "serve/status.h"
#include "core/util.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[6] = { "a", "b.example", "CN=x", "t<1>", "\xc3\xa9", "" };
	struct query_arg args[QUERY_MAX_ARGS + 2];
	struct status_view v = { NULL, { 21ULL * 86400 * 1000, 0 }, { 7ULL * 86400 * 1000, 0 }, 1e9,
		NULL };
	struct status_entry e[6];
	struct status_selection sel;
	struct result fail;
	struct query q;
	struct buf b;
	char *s, *p, *err;
	size_t n = 0, sum = 0;

	if (size > 64 * 1024)
		return 0;
	s = fuzz_str(data, size);
	for (p = s; n < ARRAY_SIZE(args); ) {
		char *amp = strchr(p, '&'), *eq;

		if (amp)
			*amp = '\0';
		eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		args[n].name = p;
		args[n++].value = eq;
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	if (query_parse(&q, args, n, status_query_names(), &err) == -1) {
		FUZZ_CHECK(err && fuzz_printable_line(err), "a refusal says why, printably");
		FUZZ_CHECK(q.nlabels == 0 && q.text == NULL && q.ncolumns == 0, "refused, not empty");
		free(err);
		free(s);
		return 0;
	}
	FUZZ_CHECK(err == NULL, "accepted with an error");
	FUZZ_CHECK(n <= QUERY_MAX_ARGS, "%zu parameters accepted", n);
	FUZZ_CHECK(q.states < ((uint64_t)1 << STATUS_NSTATES), "a state beyond the table");
	FUZZ_CHECK(q.sort >= -1 && q.sort < (int)status_query_names()->ncolumns, "sort %d", q.sort);
	FUZZ_CHECK(q.page >= 1 && q.page <= QUERY_MAX_PAGE, "page %zu", q.page);
	FUZZ_CHECK(q.per_page <= QUERY_MAX_PER_PAGE, "per_page %zu", q.per_page);
	FUZZ_CHECK(q.refresh == 0 || (q.refresh >= QUERY_MIN_REFRESH &&
	    q.refresh <= QUERY_MAX_REFRESH), "refresh %u", q.refresh);
	FUZZ_CHECK(q.nlabels <= QUERY_MAX_LABELS && q.ncolumns <= QUERY_MAX_COLUMNS, "counts");
	FUZZ_CHECK(q.text == NULL || strlen(q.text) <= QUERY_MAX_VALUE, "text too long");
	for (size_t i = 0; i < q.ncolumns; i++)
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(q.columns[i] != q.columns[j], "a column twice");

	memset(e, 0, sizeof(e));
	memset(&fail, 0, sizeof(fail));
	fail.fail_stage = "connect";
	fail.fail_reason = "refused";
	for (size_t i = 0; i < ARRAY_SIZE(e); i++) {
		e[i].name = names[i];
		e[i].r = i % 2 ? &fail : NULL;
	}
	status_select(e, ARRAY_SIZE(e), &v, &q, 2, &sel);
	for (size_t i = 0; i < STATUS_NSTATES; i++)
		sum += sel.counts[i];
	FUZZ_CHECK(sum == ARRAY_SIZE(e) && sel.matched <= sel.total, "counts do not add up");
	FUZZ_CHECK(sel.first + sel.count <= sel.matched && sel.page >= 1 &&
	    sel.page <= (sel.pages ? sel.pages : 1), "the page is not of the matches");
	buf_init(&b);
	status_html_list(&b, e, ARRAY_SIZE(e), &v, &q);
	FUZZ_CHECK(b.data && fuzz_utf8_valid((const unsigned char *)b.data, b.len), "HTML not UTF-8");
	FUZZ_CHECK(strstr(b.data, "t<1>") == NULL, "a name as markup");
	buf_free(&b);
	buf_init(&b);
	status_json_list(&b, e, ARRAY_SIZE(e), &v, &q);
	FUZZ_CHECK(b.data && fuzz_json_valid(b.data, b.len), "the API's answer is no JSON");
	buf_free(&b);
	query_fini(&q);
	free(s);
	return 0;
}
