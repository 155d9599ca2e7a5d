/*
 * statuslist.c - the list of targets on the status page and in the API,
 * filtered, sorted and paged on the server so that a page stays small and
 * quick with hundreds of thousands of targets, and works without a script.
 *
 * One table of columns: each has its name (for sort= and columns=), its
 * heading, its order and its cell. A new column is a line in that table; a
 * new state (status.h) is a filter and a colour by itself. Every value a
 * cell or a link shows is escaped (html_escape, url_escape).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "probe/starttls.h"
#include "serve/json.h"
#include "serve/mailstatus.h"
#include "serve/query.h"
#include "serve/status.h"

/* ------------------------------------------------------------ values */

static const char *
entry_sni(const struct status_entry *e)
{
	return e->conf && e->conf->server_name && *e->conf->server_name ?
	    e->conf->server_name : NULL;
}

static double
failing_since(const struct status_entry *e)
{
	return e->st && e->r && !e->r->success ? e->st->failing_since : 0;
}

static double
verified_since(const struct status_entry *e)
{
	return e->st && e->r && e->r->success && e->r->verdict.verified ?
	    e->st->verified_since : 0;
}

static double
chain_changed(const struct status_entry *e)
{
	return e->st ? e->st->chain_changed : 0;
}

static double
last_probe(const struct status_entry *e)
{
	return e->r ? e->r->time : 0;
}

/* ------------------------------------------------------------ orders */

static int
cmp_num(double a, double b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int
cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int
by_name(const struct status_entry *a, const struct status_entry *b)
{
	return strcmp(a->name, b->name);
}

static int
by_state(const struct status_entry *a, const struct status_entry *b)
{
	return status_state_rank(a->state) - status_state_rank(b->state);
}

static int
by_expiry(const struct status_entry *a, const struct status_entry *b)
{
	return cmp_num((double)a->expiry, (double)b->expiry);
}

static int
no_expiry(const struct status_entry *e)
{
	return e->expiry == 0;
}

/* Failed first (by stage, then reason), then chains that do not verify
 * (by their reasons), then verified ones. */
static int
verdict_class(const struct result *r)
{
	return !r->success ? 0 : !r->verdict.verified ? 1 : 2;
}

static int
by_verdict(const struct status_entry *a, const struct status_entry *b)
{
	int ca = verdict_class(a->r), cb = verdict_class(b->r), c;

	if (ca != cb)
		return ca - cb;
	if (ca == 0)
		return (c = cmp_str(a->r->fail_stage, b->r->fail_stage)) != 0 ? c :
		    cmp_str(a->r->fail_reason, b->r->fail_reason);
	return cmp_num((double)a->r->verdict.reasons, (double)b->r->verdict.reasons);
}

static int
no_result(const struct status_entry *e)
{
	return e->r == NULL;
}

static int
by_subject(const struct status_entry *a, const struct status_entry *b)
{
	return cmp_str(status_leaf_subject(a), status_leaf_subject(b));
}

static int
no_subject(const struct status_entry *e)
{
	return status_leaf_subject(e) == NULL;
}

static int
no_conf(const struct status_entry *e)
{
	return e->conf == NULL;
}

static int
by_address(const struct status_entry *a, const struct status_entry *b)
{
	return cmp_str(a->conf->address, b->conf->address);
}

static int
by_sni(const struct status_entry *a, const struct status_entry *b)
{
	return cmp_str(entry_sni(a), entry_sni(b));
}

static int
no_sni(const struct status_entry *e)
{
	return entry_sni(e) == NULL;
}

static int
by_starttls(const struct status_entry *a, const struct status_entry *b)
{
	return cmp_str(starttls_name((enum starttls_proto)a->conf->tls.starttls),
	    starttls_name((enum starttls_proto)b->conf->tls.starttls));
}

/* Label by label (configs keep them sorted by name): names, then values. */
static int
by_labels(const struct status_entry *a, const struct status_entry *b)
{
	size_t na = a->conf->nlabels, nb = b->conf->nlabels;
	int c;

	for (size_t i = 0; i < na && i < nb; i++) {
		if ((c = strcmp(a->conf->labels[i].name, b->conf->labels[i].name)) != 0 ||
		    (c = strcmp(a->conf->labels[i].value, b->conf->labels[i].value)) != 0)
			return c;
	}
	return na < nb ? -1 : na > nb ? 1 : 0;
}

static int
no_labels(const struct status_entry *e)
{
	return e->conf == NULL || e->conf->nlabels == 0;
}

#define BY_TIME(f)                                                              \
static int by_##f(const struct status_entry *a, const struct status_entry *b)   \
{                                                                               \
	return cmp_num(f(a), f(b));                                             \
}                                                                               \
static int no_##f(const struct status_entry *e)                                 \
{                                                                               \
	return !(f(e) > 0);                                                     \
}
BY_TIME(last_probe)
BY_TIME(failing_since)
BY_TIME(verified_since)
BY_TIME(chain_changed)
#undef BY_TIME

/* ------------------------------------------------------------ cells */

static void
put_time(struct buf *b, double t)
{
	char when[64];

	fmt_utc(when, sizeof(when), t);
	buf_puts(b, when);
}

static void
cell_name(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	buf_puts(b, "<a href=\"/targets/");
	url_escape(b, e->name);
	buf_puts(b, "\">");
	html_escape(b, e->name);
	buf_puts(b, "</a>");
}

static void
cell_state(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	buf_puts(b, status_state_label(e->state));
}

static void
cell_days(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	if (e->expiry)
		buf_printf(b, "%.1f", ((double)e->expiry - v->now) / 86400.0);
	else
		buf_putc(b, '-');
}

static void
cell_expires(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	put_time(b, (double)e->expiry);
}

static void
cell_verdict(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct result *r = e->r;

	(void)v;
	if (r == NULL) {
		buf_putc(b, '-');
	} else if (!r->success) {
		buf_puts(b, "failed at ");
		html_escape(b, r->fail_stage);
		buf_puts(b, ": ");
		html_escape(b, r->fail_reason);
	} else if (r->verdict.verified) {
		buf_puts(b, "verified");
	} else {
		buf_puts(b, "not verified: ");
		verdict_words_join(b, VERDICT_REASON, r->verdict.reasons, ", ", "-");
	}
}

static void
cell_subject(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	html_escape(b, status_leaf_subject(e));
}

static void
cell_address(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	html_escape(b, e->conf ? e->conf->address : "-");
}

static void
cell_sni(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	html_escape(b, entry_sni(e) ? entry_sni(e) : "-");
}

static void
cell_starttls(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	buf_puts(b, e->conf ? starttls_name((enum starttls_proto)e->conf->tls.starttls) : "-");
}

static void
cell_labels(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	(void)v;
	for (size_t i = 0; e->conf && i < e->conf->nlabels; i++) {
		if (i)
			buf_puts(b, ", ");
		html_escape(b, e->conf->labels[i].name);
		buf_putc(b, '=');
		html_escape(b, e->conf->labels[i].value);
	}
}

#define CELL_TIME(f)                                                            \
static void cell_##f(struct buf *b, const struct status_entry *e,               \
    const struct status_view *v)                                                \
{                                                                               \
	(void)v;                                                                \
	put_time(b, f(e));                                                      \
}
CELL_TIME(last_probe)
CELL_TIME(failing_since)
CELL_TIME(verified_since)
CELL_TIME(chain_changed)
#undef CELL_TIME

/* ------------------------------------------------------------ columns */

struct column {
	const char *key;           /* sort=KEY, columns=KEY,... */
	const char *title;
	int dflt;                  /* shown when columns= is not given */
	int (*cmp)(const struct status_entry *a, const struct status_entry *b);
	int (*missing)(const struct status_entry *e);   /* these go last; NULL: none */
	void (*cell)(struct buf *b, const struct status_entry *e, const struct status_view *v);
	const char *cls;           /* the cells' class, or NULL */
};

enum { COL_NAME, COL_STATE, COL_DAYS };

static const struct column columns[] = {
	[COL_NAME] = { "name", "Target", 1, by_name, NULL, cell_name, "name" },
	[COL_STATE] = { "state", "State", 1, by_state, NULL, cell_state, NULL },
	[COL_DAYS] = { "days", "Days left", 1, by_expiry, no_expiry, cell_days, NULL },
	{ "expires", "Expires", 1, by_expiry, no_expiry, cell_expires, NULL },
	{ "verdict", "Verdict", 1, by_verdict, no_result, cell_verdict, NULL },
	{ "subject", "Leaf subject", 1, by_subject, no_subject, cell_subject, "subject" },
	{ "address", "Address", 1, by_address, no_conf, cell_address, "address" },
	{ "sni", "SNI", 1, by_sni, no_sni, cell_sni, "sni" },
	{ "starttls", "STARTTLS", 1, by_starttls, no_conf, cell_starttls, NULL },
	{ "labels", "Labels", 1, by_labels, no_labels, cell_labels, "labels" },
	{ "last_probe", "Last probe", 1, by_last_probe, no_last_probe, cell_last_probe, NULL },
	{ "failing_since", "Failing since", 1, by_failing_since, no_failing_since,
	  cell_failing_since, NULL },
	{ "verified_since", "Verified since", 1, by_verified_since, no_verified_since,
	  cell_verified_since, NULL },
	{ "chain_changed", "Chain changed", 1, by_chain_changed, no_chain_changed,
	  cell_chain_changed, NULL },
};

_Static_assert(ARRAY_SIZE(columns) <= QUERY_MAX_COLUMNS, "columns= holds them all");

static const char *const *
column_keys(void)
{
	static const char *keys[ARRAY_SIZE(columns)];

	for (size_t i = 0; i < ARRAY_SIZE(columns); i++)
		keys[i] = columns[i].key;
	return keys;
}

const struct query_names *
status_query_names(void)
{
	static struct query_names names;

	if (names.columns == NULL) {
		names.states = status_state_names;
		names.nstates = STATUS_NSTATES;
		names.columns = column_keys();
		names.ncolumns = ARRAY_SIZE(columns);
	}
	return &names;
}

/* ------------------------------------------------------------ select */

/* qsort has no argument for the order; the list is made on one thread. */
static const struct column *sort_col;
static int sort_desc;

static int
cmp_entries(const void *pa, const void *pb)
{
	const struct status_entry *a = pa, *b = pb;
	int ma = sort_col->missing && sort_col->missing(a);
	int mb = sort_col->missing && sort_col->missing(b);
	int c = 0;

	if (ma != mb)
		return ma ? 1 : -1;    /* unknown last, either way */
	if (!ma) {
		c = sort_col->cmp(a, b);
		if (sort_desc)
			c = -c;
	}
	return c ? c : strcmp(a->name, b->name);
}

static int
labels_match(const struct status_entry *e, const struct query *q)
{
	for (size_t i = 0; i < q->nlabels; i++) {
		size_t j;

		if (e->conf == NULL)
			return 0;
		for (j = 0; j < e->conf->nlabels; j++)
			if (strcmp(e->conf->labels[j].name, q->labels[i].name) == 0 &&
			    strcmp(e->conf->labels[j].value, q->labels[i].value) == 0)
				break;
		if (j == e->conf->nlabels)
			return 0;
	}
	return 1;
}

static int
text_match(const struct status_entry *e, const char *text)
{
	return query_text_match(e->name, text) || query_text_match(status_leaf_subject(e), text) ||
	    (e->conf && (query_text_match(e->conf->address, text) ||
	    query_text_match(entry_sni(e), text)));
}

static int
entry_matches(const struct status_entry *e, const struct query *q)
{
	return q == NULL || ((q->states == 0 || (q->states & ((uint64_t)1 << e->state))) &&
	    labels_match(e, q) && (q->text == NULL || text_match(e, q->text)));
}

void
status_select(struct status_entry *e, size_t n, const struct status_view *v,
    const struct query *q, size_t default_per_page, struct status_selection *sel)
{
	size_t k = 0;

	memset(sel, 0, sizeof(*sel));
	sel->total = n;
	for (size_t i = 0; i < n; i++) {
		e[i].state = status_classify(&e[i], v, &e[i].expiry);
		sel->counts[e[i].state]++;
		if (entry_matches(&e[i], q)) {
			if (i != k) {
				struct status_entry t = e[k];

				e[k] = e[i];
				e[i] = t;
			}
			k++;
		}
	}
	sel->matched = k;
	sort_col = &columns[q && q->sort >= 0 ? (size_t)q->sort : COL_DAYS];
	sort_desc = q && q->sort >= 0 && q->desc;
	qsort(e, k, sizeof(*e), cmp_entries);
	sort_col = NULL;
	sel->per_page = q && q->per_page ? q->per_page : default_per_page;
	sel->pages = sel->per_page && k ? (k + sel->per_page - 1) / sel->per_page : 1;
	sel->page = q && q->page > 1 ? q->page : 1;
	if (sel->page > sel->pages)
		sel->page = sel->pages;
	sel->first = sel->per_page ? (sel->page - 1) * sel->per_page : 0;
	sel->count = sel->per_page && k - sel->first > sel->per_page ? sel->per_page :
	    k - sel->first;
}

/* ------------------------------------------------------------ links */

/* What a link changes of the current query. */
struct link {
	int sort;            /* -2: keep */
	int desc;
	size_t page;         /* 0: keep the current */
	int states_set;      /* replace the state filter with states */
	uint64_t states;
};

static const struct link keep = { -2, 0, 0, 0, 0 };

/* "?a=b&c=d" for q changed by l, values URL-encoded, HTML-escaped as a
 * whole for the attribute. Empty parameters are left out. */
static void
put_href(struct buf *b, const char *path, const struct query *q, const struct link *l,
    size_t page)
{
	struct buf u;
	uint64_t states = l->states_set ? l->states : q->states;
	int sort = l->sort == -2 ? q->sort : l->sort;
	int desc = l->sort == -2 ? q->desc : l->desc;
	char sep = '?';

	buf_init(&u);
	buf_puts(&u, path);
#define PARAM(name) do { buf_putc(&u, sep); sep = '&'; buf_puts(&u, name "="); } while (0)
	if (states) {
		int first = 1;

		PARAM("state");
		for (size_t i = 0; i < STATUS_NSTATES; i++)
			if (states & ((uint64_t)1 << i)) {
				buf_printf(&u, "%s%s", first ? "" : ",", status_state_names[i]);
				first = 0;
			}
	}
	for (size_t i = 0; i < q->nlabels; i++) {
		struct buf lv;

		buf_init(&lv);
		buf_printf(&lv, "%s=%s", q->labels[i].name, q->labels[i].value);
		PARAM("label");
		url_escape(&u, lv.data);
		buf_free(&lv);
	}
	if (q->text) {
		PARAM("q");
		url_escape(&u, q->text);
	}
	if (q->issue) {
		PARAM("issue");
		url_escape(&u, q->issue);
	}
	if (sort >= 0) {
		PARAM("sort");
		buf_puts(&u, columns[sort].key);
		if (desc) {
			PARAM("order");
			buf_puts(&u, "desc");
		}
	}
	if (q->per_page) {
		PARAM("per_page");
		buf_printf(&u, "%zu", q->per_page);
	}
	if (q->refresh) {
		PARAM("refresh");
		buf_printf(&u, "%u", q->refresh);
	}
	if (q->ncolumns) {
		PARAM("columns");
		for (size_t i = 0; i < q->ncolumns; i++)
			buf_printf(&u, "%s%s", i ? "," : "", columns[q->columns[i]].key);
	}
	if (page > 1) {
		PARAM("page");
		buf_printf(&u, "%zu", page);
	}
#undef PARAM
	html_escape(b, u.data);
	buf_free(&u);
}

/* ------------------------------------------------------------ HTML */

/* The columns shown, in order: columns= or the default set. */
static size_t
shown_columns(const struct query *q, int *out)
{
	size_t n = 0;

	if (q && q->ncolumns) {
		memcpy(out, q->columns, q->ncolumns * sizeof(*out));
		return q->ncolumns;
	}
	for (size_t i = 0; i < ARRAY_SIZE(columns); i++)
		if (columns[i].dflt)
			out[n++] = (int)i;
	return n;
}

static void
html_counts(struct buf *b, const struct query *q, const struct status_selection *sel)
{
	int first = 1;

	buf_puts(b, "<p id=\"counts\">By state:");
	for (size_t i = 0; i < STATUS_NSTATES; i++) {
		struct link l = keep;

		if (sel->counts[i] == 0)
			continue;
		l.states_set = 1;
		l.states = (uint64_t)1 << i;
		buf_printf(b, "%s <a class=\"%s\" href=\"", first ? "" : ",", status_state_names[i]);
		put_href(b, "/", q, &l, 1);
		buf_printf(b, "\">%s %zu</a>", status_state_names[i], sel->counts[i]);
		first = 0;
	}
	if (q->states) {
		struct link l = keep;

		l.states_set = 1;
		buf_puts(b, " (<a id=\"allstates\" href=\"");
		put_href(b, "/", q, &l, 1);
		buf_puts(b, "\">every state</a>)");
	}
	buf_puts(b, "</p>\n");
}

/* The filters as a plain GET form: no script needed. */
static void
html_form(struct buf *b, const struct query *q, const struct status_selection *sel)
{
	static const unsigned refreshes[] = { 0, 10, 30, 60, 300, 900 };
	int have_refresh = 0;

	buf_puts(b, "<form id=\"filter\" method=\"get\" action=\"/\">\n<span>State:</span>\n");
	for (size_t i = 0; i < STATUS_NSTATES; i++)
		buf_printf(b, "<label><input type=\"checkbox\" name=\"state\" value=\"%s\"%s> %s</label>\n",
		    status_state_names[i], q->states & ((uint64_t)1 << i) ? " checked" : "",
		    status_state_names[i]);
	for (size_t i = 0; i <= q->nlabels && i < QUERY_MAX_LABELS; i++) {
		buf_puts(b, "<label>Label <input type=\"text\" name=\"label\" "
		    "placeholder=\"name=value\" value=\"");
		if (i < q->nlabels) {
			html_escape(b, q->labels[i].name);
			buf_putc(b, '=');
			html_escape(b, q->labels[i].value);
		}
		buf_puts(b, "\"></label>\n");
	}
	buf_puts(b, "<label>Text <input type=\"search\" name=\"q\" "
	    "placeholder=\"name, address, server name or subject\" value=\"");
	html_escape(b, q->text);
	buf_printf(b, "\"></label>\n<label>Rows per page <input type=\"number\" name=\"per_page\" "
	    "min=\"1\" max=\"%d\" value=\"%zu\"></label>\n<label>Refresh <select name=\"refresh\">",
	    QUERY_MAX_PER_PAGE, sel->per_page);
	for (size_t i = 0; i < ARRAY_SIZE(refreshes); i++) {
		int on = q->refresh == refreshes[i];

		have_refresh |= on;
		if (refreshes[i])
			buf_printf(b, "<option value=\"%u\"%s>every %u s</option>", refreshes[i],
			    on ? " selected" : "", refreshes[i]);
		else
			buf_printf(b, "<option value=\"0\"%s>off</option>", on ? " selected" : "");
	}
	if (!have_refresh)
		buf_printf(b, "<option value=\"%u\" selected>every %u s</option>", q->refresh,
		    q->refresh);
	buf_puts(b, "</select></label>\n");
	if (q->issue) {
		buf_puts(b, "<input type=\"hidden\" name=\"issue\" value=\"");
		html_escape(b, q->issue);
		buf_puts(b, "\">\n");
	}
	if (q->sort >= 0) {
		buf_printf(b, "<input type=\"hidden\" name=\"sort\" value=\"%s\">\n",
		    columns[q->sort].key);
		if (q->desc)
			buf_puts(b, "<input type=\"hidden\" name=\"order\" value=\"desc\">\n");
	}
	if (q->ncolumns) {
		buf_puts(b, "<input type=\"hidden\" name=\"columns\" value=\"");
		for (size_t i = 0; i < q->ncolumns; i++)
			buf_printf(b, "%s%s", i ? "," : "", columns[q->columns[i]].key);
		buf_puts(b, "\">\n");
	}
	buf_puts(b, "<button type=\"submit\">Show</button> <a href=\"/\">reset</a>\n</form>\n");
}

static void
html_pages(struct buf *b, const struct query *q, const struct status_selection *sel)
{
	static const struct {
		const char *rel, *text;
	} links[] = { { "first", "first" }, { "prev", "previous" }, { "next", "next" },
		{ "last", "last" } };
	size_t to[4] = { 1, sel->page - 1, sel->page + 1, sel->pages };
	int on[4] = { sel->page > 1, sel->page > 1, sel->page < sel->pages,
		sel->page < sel->pages };

	buf_puts(b, "<nav class=\"pages\">");
	for (size_t i = 0; i < 4; i++) {
		if (i == 2)
			buf_printf(b, "<span class=\"page\">page %zu of %zu</span>", sel->page,
			    sel->pages);
		if (!on[i]) {
			buf_printf(b, "<span>%s</span>", links[i].text);
			continue;
		}
		buf_printf(b, "<a rel=\"%s\" href=\"", links[i].rel);
		put_href(b, "/", q, &keep, to[i]);
		buf_printf(b, "\">%s</a>", links[i].text);
	}
	buf_puts(b, "</nav>\n");
}

/* A heading: a link that sorts by it, up, or down when it sorts up now. */
static void
html_heading(struct buf *b, const struct query *q, int col)
{
	int current = (q->sort >= 0 ? q->sort : COL_DAYS) == col;
	int desc = q->sort >= 0 && q->desc;
	struct link l = keep;

	l.sort = col;
	l.desc = current && !desc;
	buf_printf(b, "<th data-col=\"%s\"", columns[col].key);
	if (current)
		buf_printf(b, " aria-sort=\"%s\"", desc ? "descending" : "ascending");
	buf_puts(b, "><a href=\"");
	put_href(b, "/", q, &l, 1);
	buf_printf(b, "\">%s%s</a></th>", columns[col].title,
	    !current ? "" : desc ? " \xe2\x96\xbc" : " \xe2\x96\xb2");
}

static void
html_legend(struct buf *b)
{
	buf_puts(b, "<table class=\"legend\">");
	for (size_t i = 0; i < STATUS_NSTATES; i++)
		buf_printf(b, "<tr class=\"%s\"><td>%s</td><td>%s</td></tr>", status_state_names[i],
		    status_state_names[i], status_state_label((enum status_state)i));
	buf_puts(b, "</table>\n");
}

void
status_html_list(struct buf *b, struct status_entry *e, size_t n,
    const struct status_view *v, const struct query *qp)
{
	struct query none;
	const struct query *q = qp;
	struct status_selection sel;
	int cols[QUERY_MAX_COLUMNS];
	size_t ncols;
	char when[64];

	if (q == NULL) {
		memset(&none, 0, sizeof(none));
		none.sort = -1;
		none.page = 1;
		q = &none;
	}
	status_select(e, n, v, q, QUERY_DEFAULT_PER_PAGE, &sel);
	ncols = shown_columns(q, cols);
	status_html_head(b, "tlswatch", q->refresh);
	fmt_utc(when, sizeof(when), v->now);
	buf_printf(b, "<h1>tlswatch: %zu target%s", n, n == 1 ? "" : "s");
	if (v->issue != NULL) {
		buf_puts(b, " with the issue <code>");
		html_escape(b, v->issue);
		buf_puts(b, "</code> (<a href=\"/\">all</a>)");
	}
	buf_printf(b, "</h1>\n<p>As of %s; warn ", when);
	status_html_threshold(b, &v->warn);
	buf_puts(b, ", critical ");
	status_html_threshold(b, &v->crit);
	buf_puts(b, ". <a id=\"json\" href=\"");
	put_href(b, "/api/targets", q, &keep, sel.page);
	buf_puts(b, "\">JSON</a> <a href=\"/metrics\">metrics</a></p>\n");
	html_counts(b, q, &sel);
	html_form(b, q, &sel);
	if (sel.count)
		buf_printf(b, "<p id=\"shown\">Targets %zu to %zu of %zu matching (%zu in all).</p>\n",
		    sel.first + 1, sel.first + sel.count, sel.matched, n);
	else
		buf_printf(b, "<p id=\"shown\">No target matches (%zu in all).</p>\n", n);
	html_pages(b, q, &sel);
	buf_puts(b, "<table id=\"targets\"><thead><tr>");
	for (size_t c = 0; c < ncols; c++)
		html_heading(b, q, cols[c]);
	buf_puts(b, "</tr></thead><tbody>\n");
	for (size_t i = sel.first; i < sel.first + sel.count; i++) {
		const char *s = status_state_name(e[i].state);

		buf_printf(b, "<tr class=\"%s\" data-state=\"%s\">", s, s);
		for (size_t c = 0; c < ncols; c++) {
			const struct column *col = &columns[cols[c]];

			if (col->cls)
				buf_printf(b, "<td class=\"%s\">", col->cls);
			else
				buf_puts(b, "<td>");
			col->cell(b, &e[i], v);
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>\n");
		mailstatus_html_list(b, &e[i], v, ncols);   /* a mail domain: its MX rows */
	}
	buf_puts(b, "</tbody></table>\n");
	html_pages(b, q, &sel);
	html_legend(b);
	buf_puts(b, "</body></html>\n");
}

/* ------------------------------------------------------------ JSON */

void
status_json_list(struct buf *b, struct status_entry *e, size_t n,
    const struct status_view *v, const struct query *q)
{
	struct status_selection sel;

	status_select(e, n, v, q, 0, &sel);
	buf_putc(b, '{');
	json_key(b, "time", 1);
	json_num(b, v->now, 3);
	status_json_thresholds(b, &v->warn, &v->crit, 0);
	if (v->issue != NULL) {
		json_key(b, "issue", 0);
		json_str(b, v->issue);
	}
	json_key(b, "total", 0);
	json_int(b, (int64_t)sel.total);
	json_key(b, "matched", 0);
	json_int(b, (int64_t)sel.matched);
	json_key(b, "page", 0);
	json_int(b, (int64_t)sel.page);
	json_key(b, "pages", 0);
	json_int(b, (int64_t)sel.pages);
	json_key(b, "per_page", 0);
	if (sel.per_page)
		json_int(b, (int64_t)sel.per_page);
	else
		buf_puts(b, "null");
	json_key(b, "counts", 0);
	buf_putc(b, '{');
	for (size_t i = 0; i < STATUS_NSTATES; i++) {
		json_key(b, status_state_names[i], i == 0);
		json_int(b, (int64_t)sel.counts[i]);
	}
	buf_putc(b, '}');
	json_key(b, "targets", 0);
	buf_putc(b, '[');
	for (size_t i = sel.first; i < sel.first + sel.count; i++) {
		if (i > sel.first)
			buf_putc(b, ',');
		buf_putc(b, '{');
		status_json_summary(b, &e[i], v);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}\n");
}
