/*
 * status.c - the status page (HTML) and the JSON API.
 *
 * Everything shown about a certificate was chosen by whoever runs the
 * server, so every field goes through html_escape or json_str, and names in
 * links through url_escape. The page has no script and loads nothing else.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verdict/certinfo.h"
#include "verdict/certs.h"
#include "verdict/verdict.h"
#include "serve/json.h"
#include "serve/mailstatus.h"
#include "sched.h"
#include "state/history.h"
#include "serve/status.h"

#define HTML_CONTENT_TYPE "text/html; charset=utf-8"
#define JSON_CONTENT_TYPE "application/json"

static const char *const state_names[] = {
	[STATUS_PENDING] = "pending",
	[STATUS_OK] = "ok",
	[STATUS_WARN] = "warn",
	[STATUS_CRIT] = "crit",
	[STATUS_UNVERIFIED] = "unverified",
	[STATUS_FAILING] = "failing",
	[STATUS_REVOKED] = "revoked",
};

static const char *const state_labels[] = {
	[STATUS_PENDING] = "not probed yet",
	[STATUS_OK] = "ok",
	[STATUS_WARN] = "expires soon",
	[STATUS_CRIT] = "expires very soon",
	[STATUS_UNVERIFIED] = "not verified",
	[STATUS_FAILING] = "probe failing",
	[STATUS_REVOKED] = "revoked",
};

const char *
status_state_name(enum status_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

enum status_state
status_classify(const struct status_entry *e, const struct status_view *v, int64_t *expiry)
{
	const struct result *r = e->r;
	const struct store_record *st = e->st;
	int64_t exp = 0;

	if (r && r->success) {
		exp = verdict_expiry(&r->verdict);
	} else if (st) {
		/* failing now: judge by the last chain presented */
		for (size_t i = 0; i < st->chain.n; i++)
			if (st->certs && st->certs[i] &&
			    (exp == 0 || st->certs[i]->not_after < exp))
				exp = st->certs[i]->not_after;
	}
	*expiry = exp;
	if (r == NULL)
		return STATUS_PENDING;
	if (!r->success)
		return STATUS_FAILING;
	if (!r->verdict.verified)
		return r->verdict.reasons & REASON(REVOKED) ? STATUS_REVOKED : STATUS_UNVERIFIED;
	switch (expiry_judge(&v->warn, &v->crit, exp, expiry_lifetime(r->certs, r->ncerts, exp),
	    v->now)) {
	case EXPIRY_CRIT:
		return STATUS_CRIT;
	case EXPIRY_WARN:
		return STATUS_WARN;
	default:
		return STATUS_OK;
	}
}

static const struct status_view *sort_view;

static int
cmp_entry(const void *a, const void *b)
{
	const struct status_entry *ea = a, *eb = b;
	int64_t xa, xb;

	(void)status_classify(ea, sort_view, &xa);
	(void)status_classify(eb, sort_view, &xb);
	if (xa != xb) {
		if (xa == 0 || xb == 0)
			return xa == 0 ? 1 : -1;
		return xa < xb ? -1 : 1;
	}
	return strcmp(ea->name, eb->name);
}

void
status_sort(struct status_entry *e, size_t n, const struct status_view *v)
{
	sort_view = v;
	qsort(e, n, sizeof(*e), cmp_entry);
	sort_view = NULL;
}

void
html_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	while (*p) {
		unsigned char c = *p;
		int n;

		switch (c) {
		case '&': buf_puts(b, "&amp;"); p++; continue;
		case '<': buf_puts(b, "&lt;"); p++; continue;
		case '>': buf_puts(b, "&gt;"); p++; continue;
		case '"': buf_puts(b, "&quot;"); p++; continue;
		case '\'': buf_puts(b, "&#39;"); p++; continue;
		case '\n': buf_puts(b, "\\n"); p++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\x%02x", c);
			p++;
		} else if (c < 0x80) {
			buf_putc(b, (char)c);
			p++;
		} else if ((n = utf8_seq(p)) > 0) {
			buf_append(b, p, (size_t)n);
			p += n;
		} else {
			buf_puts(b, "\xef\xbf\xbd");
			p += -n;
		}
	}
}

void
url_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(b, e, 3);
		}
	}
}

void
status_json_words(struct buf *b, enum verdict_table t, uint64_t set)
{
	const char *w[64];
	size_t n = verdict_words(t, set, w);

	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		json_str(b, w[i]);
	}
	buf_putc(b, ']');
}

/* A set of words as text. */
static void
put_names(struct buf *b, uint64_t bits, int issues)
{
	verdict_words_join(b, issues ? VERDICT_CHAIN_ISSUE : VERDICT_REASON, bits, ", ", "-");
}

/* What checks found in the certificate at depth of e's result: words, or
 * 0 when none (or no such result). */
static uint64_t
cert_issues_at(const struct status_entry *e, size_t depth)
{
	size_t n;
	const uint64_t *ci;

	if (e->r == NULL || !e->r->success ||
	    (ci = verdict_cert_issues(&e->r->verdict, &n)) == NULL || depth >= n)
		return 0;
	return ci[depth];
}

/* The words of every presented certificate of e's result, together. */
static uint64_t
cert_issues_all(const struct status_entry *e)
{
	size_t n;
	const uint64_t *ci;
	uint64_t all = 0;

	if (e->r == NULL || !e->r->success ||
	    (ci = verdict_cert_issues(&e->r->verdict, &n)) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		all |= ci[i];
	return all;
}

int
status_has_issue(const struct status_entry *e, const char *word)
{
	uint64_t set;

	if (strcmp(word, SCAN_LEGACY_ISSUE) == 0)
		return e->scan != NULL && scan_legacy(e->scan->answer);
	if (e->r == NULL || !e->r->success)
		return 0;
	if (verdict_words_parse(VERDICT_CHAIN_ISSUE, word, &set) == 0 && set != 0 &&
	    (e->r->verdict.issues & set) == set)
		return 1;
	return verdict_words_parse(VERDICT_CERT_ISSUE, word, &set) == 0 && set != 0 &&
	    (cert_issues_all(e) & set) == set;
}

/* ,"target_issues":[...],"scan":{"TLS1.0":"accepted",...} or null,
 * "scan_time": the last scan that answered, or null: the tool's keys. */
static void
json_scan(struct buf *b, const struct scan_view *s)
{
	json_key(b, "target_issues", 0);
	buf_puts(b, s != NULL && scan_legacy(s->answer) ? "[\"" SCAN_LEGACY_ISSUE "\"]" : "[]");
	json_key(b, "scan", 0);
	if (s == NULL) {
		buf_puts(b, "null");
	} else {
		buf_putc(b, '{');
		for (unsigned i = 0; i < SCAN_NVERSIONS; i++) {
			json_key(b, scan_version_name(i), i == 0);
			json_str(b, scan_answer_name(s->answer[i]));
		}
		buf_putc(b, '}');
	}
	json_key(b, "scan_time", 0);
	if (s != NULL && s->time > 0)
		json_num(b, s->time, 3);
	else
		buf_puts(b, "null");
}

/* The protocol scan's rows of a target's page, when it has one. */
static void
html_scan(struct buf *b, const struct scan_view *s)
{
	char when[64];

	if (s == NULL)
		return;
	buf_puts(b, "<tr><th>Protocols</th><td class=\"scan\">");
	for (unsigned i = 0; i < SCAN_NVERSIONS; i++)
		buf_printf(b, "%s%s %s", i ? ", " : "", scan_version_name(i),
		    scan_answer_name(s->answer[i]));
	if (s->time > 0) {
		fmt_utc(when, sizeof(when), s->time);
		buf_printf(b, " (scanned %s)", when);
	}
	buf_puts(b, "</td></tr>\n<tr><th>Target issues</th><td>");
	buf_puts(b, scan_legacy(s->answer) ? "<a href=\"/?issue=" SCAN_LEGACY_ISSUE "\">"
	    SCAN_LEGACY_ISSUE "</a>" : "-");
	buf_puts(b, "</td></tr>\n");
}

/* A word status_has_issue knows: one chain or certificate issue. */
static int
issue_word_known(const char *word)
{
	uint64_t set;

	if (word == NULL || *word == '\0' || strchr(word, ',') != NULL)
		return 0;
	return strcmp(word, SCAN_LEGACY_ISSUE) == 0 || (verdict_words_parse(VERDICT_CHAIN_ISSUE, word, &set) == 0 && set != 0) ||
	    (verdict_words_parse(VERDICT_CERT_ISSUE, word, &set) == 0 && set != 0);
}

static void
html_finding(void *arg, const char *check, const char *line)
{
	struct buf *b = arg;

	buf_puts(b, "<li>");
	html_escape(b, check);
	buf_puts(b, ": ");
	html_escape(b, line);
	buf_puts(b, "</li>");
}

struct json_findings {
	struct buf *b;
	int n;
};

static void
json_finding(void *arg, const char *check, const char *line)
{
	struct json_findings *jf = arg;

	if (jf->n++)
		buf_putc(jf->b, ',');
	buf_putc(jf->b, '{');
	json_key(jf->b, "check", 1);
	json_str(jf->b, check);
	json_key(jf->b, "text", 0);
	json_str(jf->b, line);
	buf_putc(jf->b, '}');
}

void
status_json_findings(struct buf *b, const struct verdict *v)
{
	struct buf f;
	struct json_findings jf = { &f, 0 };

	buf_init(&f);
	if (verdict_details(v, json_finding, &jf) > 0) {
		json_key(b, "findings", 0);
		buf_printf(b, "[%s]", f.data);
	}
	buf_free(&f);
	/* what checks left, as they shape it */
	size_t n = 0;

	for (size_t i = 0; i < verdict_nchecks(); i++) {
		const void *blob = verdict_blob(v, i);
		size_t mark = b->len;

		if (blob == NULL)
			continue;
		buf_puts(b, n ? "," : ",\"checks\":{");
		json_str(b, verdict_check_name(i));
		buf_putc(b, ':');
		if (verdict_check_json(i, blob, b, json_str)) {
			n++;
			continue;
		}
		b->len = mark;
		b->data[b->len] = '\0';
	}
	if (n)
		buf_putc(b, '}');
}

static const char *
leaf_subject(const struct status_entry *e)
{
	if (e->st && e->st->chain.n && e->st->certs && e->st->certs[0])
		return e->st->certs[0]->subject;
	if (e->r && e->r->ncerts)
		return e->r->certs[0]->subject;
	return NULL;
}

/* ------------------------------------------------------------ HTML */

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n<title>";
static const char html_style[] =
    "</title>\n<style>\n"
    "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
    "table{border-collapse:collapse;margin-bottom:1.5em}\n"
    "th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}\n"
    "th{background:#eee}\n"
    "td.fp,span.fp{font-family:monospace;font-size:.85em;word-break:break-all}\n"
    "tr.ok td{background:#d4f4d4}\n"
    "tr.warn td{background:#fff1a8}\n"
    "tr.crit td{background:#ffc58a}\n"
    "tr.unverified td{background:#f7b0b0}\n"
    "tr.failing td{background:#d6c6ef}\n"
    "tr.revoked td{background:#8b1a1a;color:#fff}\n"
    "tr.revoked a{color:#fff}\n"
    "tr.pending td{background:#f0f0f0}\n"
    ".legend span{padding:.2em .5em;margin-right:.5em;border:1px solid #bbb}\n"
    "</style></head><body>\n";

static void
html_legend(struct buf *b)
{
	static const enum status_state order[] = { STATUS_OK, STATUS_WARN, STATUS_CRIT,
		STATUS_UNVERIFIED, STATUS_REVOKED, STATUS_FAILING, STATUS_PENDING };

	buf_puts(b, "<table class=\"legend\">");
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		buf_printf(b, "<tr class=\"%s\"><td>%s</td></tr>", state_names[order[i]],
		    state_labels[order[i]]);
	buf_puts(b, "</table>\n");
}

/* "within 21 days", "with less than 33% of the lifetime left" */
static void
put_threshold(struct buf *b, const struct threshold *t)
{
	char text[64];

	threshold_format(text, sizeof(text), t);
	if (t->fraction)
		buf_printf(b, "with less than %s of the lifetime left", text);
	else if (t->ms % 86400000 == 0)
		buf_printf(b, "within %llu day%s", (unsigned long long)(t->ms / 86400000),
		    t->ms == 86400000 ? "" : "s");
	else
		buf_printf(b, "within %s", text);
}

void
status_html_list(struct buf *b, const struct status_entry *e, size_t n,
    const struct status_view *v)
{
	char when[64];

	buf_puts(b, html_head);
	buf_puts(b, "tlswatch");
	buf_puts(b, html_style);
	fmt_utc(when, sizeof(when), v->now);
	buf_printf(b, "<h1>tlswatch: %zu target%s", n, n == 1 ? "" : "s");
	if (v->issue != NULL) {
		buf_puts(b, " with the issue <code>");
		html_escape(b, v->issue);
		buf_puts(b, "</code> (<a href=\"/\">all</a>)");
	}
	buf_printf(b, "</h1>\n<p>As of %s; warn ", when);
	put_threshold(b, &v->warn);
	buf_puts(b, ", critical ");
	put_threshold(b, &v->crit);
	buf_puts(b, ". <a href=\"/api/targets\">JSON</a> <a href=\"/metrics\">metrics</a></p>\n");
	buf_puts(b, "<table id=\"targets\"><thead><tr><th>Target</th><th>State</th>"
	    "<th>Days left</th><th>Expires</th><th>Verdict</th><th>Leaf subject</th>"
	    "<th>Last probe</th><th>Chain changed</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		int64_t exp;
		enum status_state s = status_classify(&e[i], v, &exp);
		const struct result *r = e[i].r;

		buf_printf(b, "<tr class=\"%s\" data-state=\"%s\"><td><a href=\"/targets/",
		    state_names[s], state_names[s]);
		url_escape(b, e[i].name);
		buf_puts(b, "\">");
		html_escape(b, e[i].name);
		buf_printf(b, "</a></td><td>%s</td><td>", state_labels[s]);
		if (exp)
			buf_printf(b, "%.1f", ((double)exp - v->now) / 86400.0);
		else
			buf_puts(b, "-");
		fmt_utc(when, sizeof(when), (double)exp);
		buf_printf(b, "</td><td>%s</td><td>", when);
		if (r == NULL)
			buf_puts(b, "-");
		else if (!r->success) {
			buf_puts(b, "failed at ");
			html_escape(b, r->fail_stage);
			buf_puts(b, ": ");
			html_escape(b, r->fail_reason);
		} else if (r->verdict.verified)
			buf_puts(b, "verified");
		else {
			buf_puts(b, "not verified: ");
			put_names(b, r->verdict.reasons, 0);
		}
		buf_puts(b, "</td><td class=\"subject\">");
		html_escape(b, leaf_subject(&e[i]));
		fmt_utc(when, sizeof(when), r ? r->time : 0);
		buf_printf(b, "</td><td>%s</td><td>", when);
		fmt_utc(when, sizeof(when), e[i].st ? e[i].st->chain_changed : 0);
		buf_printf(b, "%s</td></tr>\n", when);
		mailstatus_html_list(b, &e[i], v);
	}
	buf_puts(b, "</tbody></table>\n");
	html_legend(b);
	buf_puts(b, "</body></html>\n");
}

/* The certificate fp: the one in memory when there is one, else from its
 * file when the state directory has it. A reference either way (cert_put). */
static struct cert *
load_cert(const struct status_view *v, const char *fp, const struct cert *c)
{
	if (c != NULL)
		return cert_ref((struct cert *)c);
	return v->state_dir ? store_cert(v->state_dir, fp) : NULL;
}

static void
html_cert(struct buf *b, size_t depth, const char *fp, const struct cert *mem,
    uint64_t issues, const struct status_view *v)
{
	struct cert *c = load_cert(v, fp, mem);
	char nb[64], na[64];

	buf_printf(b, "<table class=\"cert\" id=\"depth%zu\"><tr><th>Depth</th><td>%zu</td></tr>\n",
	    depth, depth);
	if (c) {
		buf_puts(b, "<tr><th>Subject</th><td class=\"subject\">");
		html_escape(b, c->subject);
		buf_puts(b, "</td></tr>\n<tr><th>Issuer</th><td class=\"issuer\">");
		html_escape(b, c->issuer);
		fmt_utc(nb, sizeof(nb), (double)c->not_before);
		fmt_utc(na, sizeof(na), (double)c->not_after);
		buf_printf(b, "</td></tr>\n<tr><th>Valid</th><td>%s to %s (%.1f days left)</td></tr>\n",
		    nb, na, ((double)c->not_after - v->now) / 86400.0);
		buf_puts(b, "<tr><th>Serial</th><td class=\"fp\">");
		html_escape(b, c->serial);
		buf_puts(b, "</td></tr>\n");
	}
	if (c && c->key_type) {
		buf_puts(b, "<tr><th>Key</th><td>");
		html_escape(b, c->key_type);
		if (c->key_curve) {
			buf_putc(b, ' ');
			html_escape(b, c->key_curve);
		}
		buf_printf(b, " %u bits</td></tr>\n<tr><th>Signature</th><td>", c->key_bits);
		html_escape(b, c->sig_alg);
		buf_puts(b, "</td></tr>\n<tr><th>SANs</th><td>");
		for (size_t i = 0; i < c->nsans; i++) {
			if (i)
				buf_puts(b, ", ");
			html_escape(b, c->sans[i]);
		}
		buf_puts(b, "</td></tr>\n");
	}
	cert_put(c);
	if (issues) {
		const char *words[64];
		size_t nw = verdict_words(VERDICT_CERT_ISSUE, issues, words);

		/* each word links to the list of the targets that have it */
		buf_puts(b, "<tr><th>Issues</th><td>");
		for (size_t k = 0; k < nw; k++) {
			buf_puts(b, k ? ", <a href=\"/?issue=" : "<a href=\"/?issue=");
			url_escape(b, words[k]);
			buf_puts(b, "\">");
			html_escape(b, words[k]);
			buf_puts(b, "</a>");
		}
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "<tr><th>SHA-256</th><td class=\"fp\">");
	html_escape(b, fp);
	buf_puts(b, "</td></tr></table>\n");
}

/* One certificate of a chain in the history: its fingerprint and, while
 * its file is kept, its subject and expiry. */
static void
html_fp(struct buf *b, const struct status_view *v, size_t depth, const char *fp)
{
	struct cert *c = load_cert(v, fp, NULL);
	char na[64];

	buf_printf(b, "%s<span class=\"fp\">%s</span>", depth ? "<br>" : "", fp);
	if (c) {
		fmt_utc(na, sizeof(na), (double)c->not_after);
		buf_puts(b, " ");
		html_escape(b, c->subject);
		buf_printf(b, " (expires %s)", na);
		cert_put(c);
	}
}

void
status_html_target(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct result *r = e->r;
	const struct store_record *st = e->st;
	char when[64], until[64];
	int64_t exp;
	enum status_state s = status_classify(e, v, &exp);

	buf_puts(b, html_head);
	html_escape(b, e->name);
	buf_puts(b, " - tlswatch");
	buf_puts(b, html_style);
	buf_puts(b, "<p><a href=\"/\">all targets</a></p>\n<h1>");
	html_escape(b, e->name);
	buf_printf(b, "</h1>\n<table id=\"summary\"><tr class=\"%s\"><th>State</th><td>%s</td></tr>\n",
	    state_names[s], state_labels[s]);
	if (r) {
		fmt_utc(when, sizeof(when), r->time);
		buf_printf(b, "<tr><th>Last probe</th><td>%s</td></tr>\n<tr><th>Result</th><td>", when);
		if (!r->success) {
			buf_puts(b, "failed at ");
			html_escape(b, r->fail_stage);
			buf_puts(b, ": ");
			html_escape(b, r->fail_reason);
			if (r->fail_detail) {
				buf_puts(b, " (");
				html_escape(b, r->fail_detail);
				buf_putc(b, ')');
			}
		} else {
			buf_puts(b, r->verdict.verified ? "verified" : "not verified");
		}
		buf_puts(b, "</td></tr>\n");
		if (r->success) {
			buf_puts(b, "<tr><th>Reasons</th><td>");
			put_names(b, r->verdict.reasons, 0);
			buf_puts(b, "</td></tr>\n<tr><th>Chain issues</th><td>");
			put_names(b, r->verdict.issues, 1);
			{
				/* what checks say, when they say anything */
				struct buf f;

				buf_init(&f);
				if (verdict_details(&r->verdict, html_finding, &f) > 0)
					buf_printf(b, "</td></tr>\n<tr><th>Findings</th><td><ul>%s</ul>",
					    f.data);
				buf_free(&f);
			}
			buf_puts(b, "</td></tr>\n<tr><th>TLS</th><td>");
			html_escape(b, r->tls_version);
			buf_putc(b, ' ');
			html_escape(b, r->cipher);
			buf_puts(b, "</td></tr>\n");
		}
		html_scan(b, e->scan);
		if (r->peer) {
			buf_puts(b, "<tr><th>Peer</th><td>");
			html_escape(b, r->peer);
			buf_puts(b, "</td></tr>\n");
		}
	}
	if (st) {
		fmt_utc(when, sizeof(when), st->first_seen);
		buf_printf(b, "<tr><th>First seen</th><td>%s</td></tr>\n", when);
		fmt_utc(when, sizeof(when), st->chain_changed);
		buf_printf(b, "<tr><th>Chain changed</th><td>%s (%llu change%s)</td></tr>\n", when,
		    (unsigned long long)st->chain_changes, st->chain_changes == 1 ? "" : "s");
	}
	buf_puts(b, "</table>\n");
	mailstatus_html_target(b, e, v);
	buf_puts(b, "<h2>Presented chain</h2>\n");
	if (st && st->chain.n) {
		for (size_t i = 0; i < st->chain.n; i++)
			html_cert(b, i, st->chain.fps[i], st->certs ? st->certs[i] : NULL,
			    cert_issues_at(e, i), v);
	} else {
		buf_puts(b, "<p>No chain seen yet.</p>\n");
	}
	buf_puts(b, "<h2>History</h2>\n<table id=\"history\"><thead><tr><th>From</th><th>Until</th>"
	    "<th>Chain (SHA-256, depth 0 first)</th></tr></thead><tbody>\n");
	if (st && st->chain.n) {
		fmt_utc(when, sizeof(when), st->chain.since);
		buf_printf(b, "<tr><td>%s</td><td>now</td><td>", when);
		for (size_t j = 0; j < st->chain.n; j++)
			html_fp(b, v, j, st->chain.fps[j]);
		buf_puts(b, "</td></tr>\n");
	}
	for (size_t i = 0; st && i < st->nhist; i++) {
		fmt_utc(when, sizeof(when), st->hist[i].since);
		fmt_utc(until, sizeof(until), st->hist[i].until);
		buf_printf(b, "<tr><td>%s</td><td>%s</td><td>", when, until);
		for (size_t j = 0; j < st->hist[i].n; j++)
			html_fp(b, v, j, st->hist[i].fps[j]);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody></table>\n</body></html>\n");
}

/* ------------------------------------------------------------ JSON */

void
status_json_result(struct buf *b, const struct result *r)
{
	json_key(b, "last_probe", 0);
	if (r)
		json_num(b, r->time, 3);
	else
		buf_puts(b, "null");
	json_key(b, "success", 0);
	if (r)
		json_bool(b, r->success);
	else
		buf_puts(b, "null");
	json_key(b, "fail_stage", 0);
	json_str(b, r && !r->success ? r->fail_stage : NULL);
	json_key(b, "fail_reason", 0);
	json_str(b, r && !r->success ? r->fail_reason : NULL);
	json_key(b, "verified", 0);
	if (r && r->success)
		json_bool(b, r->verdict.verified);
	else
		buf_puts(b, "null");
	json_key(b, "reasons", 0);
	status_json_words(b, VERDICT_REASON, r && r->success ? r->verdict.reasons : 0);
}

static void
json_summary(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct result *r = e->r;
	const struct store_record *st = e->st;
	int64_t exp;
	enum status_state s = status_classify(e, v, &exp);
	struct buf url;

	json_key(b, "name", 1);
	json_str(b, e->name);
	buf_init(&url);
	buf_puts(&url, "/targets/");
	url_escape(&url, e->name);
	json_key(b, "url", 0);
	json_str(b, url.data);
	buf_free(&url);
	json_key(b, "state", 0);
	json_str(b, status_state_name(s));
	json_key(b, "expiry", 0);
	if (exp)
		json_int(b, exp);
	else
		buf_puts(b, "null");
	json_key(b, "days_left", 0);
	if (exp)
		json_num(b, ((double)exp - v->now) / 86400.0, 2);
	else
		buf_puts(b, "null");
	status_json_result(b, r);
	json_key(b, "issues", 0);
	status_json_words(b, VERDICT_CHAIN_ISSUE, r && r->success ? r->verdict.issues : 0);
	json_key(b, "cert_issues", 0);
	status_json_words(b, VERDICT_CERT_ISSUE, cert_issues_all(e));
	json_scan(b, e->scan);
	json_key(b, "leaf_subject", 0);
	json_str(b, leaf_subject(e));
	json_key(b, "first_seen", 0);
	if (st && st->first_seen > 0)
		json_num(b, st->first_seen, 3);
	else
		buf_puts(b, "null");
	json_key(b, "chain_changed", 0);
	if (st && st->chain_changed > 0)
		json_num(b, st->chain_changed, 3);
	else
		buf_puts(b, "null");
	json_key(b, "chain_changes", 0);
	json_int(b, st ? (int64_t)st->chain_changes : 0);
	mailstatus_json(b, e, v);
}

void
status_json_thresholds(struct buf *b, const struct threshold *warn,
                       const struct threshold *crit, int64_t lifetime)
{
	const struct threshold *t[2] = { warn, crit };
	static const char *const names[2][2] = { { "warn", "warn_seconds" },
	                                         { "crit", "crit_seconds" } };

	for (size_t i = 0; i < 2; i++) {
		char text[64];
		double secs = threshold_seconds(t[i], lifetime);

		threshold_format(text, sizeof(text), t[i]);
		json_key(b, names[i][0], 0);
		json_str(b, text);
		json_key(b, names[i][1], 0);
		if (secs < 0)
			buf_puts(b, "null");
		else
			json_int(b, (int64_t)secs);
	}
}

void
status_json_list(struct buf *b, const struct status_entry *e, size_t n,
    const struct status_view *v)
{
	buf_putc(b, '{');
	json_key(b, "time", 1);
	json_num(b, v->now, 3);
	status_json_thresholds(b, &v->warn, &v->crit, 0);
	if (v->issue != NULL) {
		json_key(b, "issue", 0);
		json_str(b, v->issue);
	}
	json_key(b, "targets", 0);
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_summary(b, &e[i], v);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}\n");
}

static void
json_chain_fps(struct buf *b, const struct store_chain *c)
{
	buf_putc(b, '[');
	for (size_t j = 0; j < c->n; j++) {
		if (j)
			buf_putc(b, ',');
		json_str(b, c->fps[j]);
	}
	buf_putc(b, ']');
}

void
status_json_target(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct result *r = e->r;
	const struct store_record *st = e->st;
	int64_t exp;

	buf_putc(b, '{');
	json_summary(b, e, v);
	json_key(b, "fail_detail", 0);
	json_str(b, r && !r->success ? r->fail_detail : NULL);
	json_key(b, "peer", 0);
	json_str(b, r ? r->peer : NULL);
	json_key(b, "tls_version", 0);
	json_str(b, r ? r->tls_version : NULL);
	json_key(b, "cipher", 0);
	json_str(b, r ? r->cipher : NULL);
	(void)status_classify(e, v, &exp);
	status_json_thresholds(b, &v->warn, &v->crit,
	    r && r->success ? expiry_lifetime(r->certs, r->ncerts, exp) : 0);
	if (r && r->success)
		status_json_findings(b, &r->verdict);
	json_key(b, "chain", 0);
	buf_putc(b, '[');
	for (size_t i = 0; st && i < st->chain.n; i++) {
		struct cert *c = load_cert(v, st->chain.fps[i], st->certs ? st->certs[i] : NULL);

		if (i)
			buf_putc(b, ',');
		if (c) {
			uint64_t issues = cert_issues_at(e, i);

			certinfo_json(b, c, i, v->now);
			cert_put(c);
			if (issues) {
				b->len--;       /* reopen the object */
				json_key(b, "issues", 0);
				status_json_words(b, VERDICT_CERT_ISSUE, issues);
				buf_putc(b, '}');
			}
			continue;
		}
		buf_putc(b, '{');
		json_key(b, "depth", 1);
		json_int(b, (int64_t)i);
		json_key(b, "sha256", 0);
		json_str(b, st->chain.fps[i]);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	json_key(b, "history", 0);
	buf_putc(b, '[');
	for (size_t i = 0; st && i < st->nhist; i++) {
		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, "since", 1);
		json_num(b, st->hist[i].since, 3);
		json_key(b, "until", 0);
		json_num(b, st->hist[i].until, 3);
		json_key(b, "chain", 0);
		json_chain_fps(b, &st->hist[i]);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}\n");
}

/* ------------------------------------------------------------ routes */

int
status_handle(void *arg, const char *url, httpd_query_fn query, void *req, struct buf *out,
              const char **content_type)
{
	const struct status_ctx *ctx = arg;
	struct status_entry *e;
	struct scan_view *scans;
	struct status_view v;
	const char *name = NULL;
	int json = 0, status = 200;
	size_t n;

	if (strcmp(url, "/") == 0) {
		json = 0;
	} else if (strcmp(url, "/api/targets") == 0 || strcmp(url, "/api/targets/") == 0) {
		json = 1;
	} else if (strncmp(url, "/api/targets/", 13) == 0) {
		json = 1;
		name = url + 13;
	} else if (strncmp(url, "/targets/", 9) == 0 && url[9] != '\0') {
		name = url + 9;
	} else {
		return 0;
	}
	v.state_dir = ctx->state_dir;
	v.warn = ctx->conf->warn;
	v.crit = ctx->conf->crit;
	v.now = wall_now();
	v.issue = name == NULL && query != NULL ? query(req, "issue") : NULL;
	if (v.issue != NULL && !issue_word_known(v.issue)) {
		*content_type = "text/plain; charset=utf-8";
		buf_puts(out, "issue: not a chain, certificate or target issue word (see "
		    "tlswatch_chain_issue, tlswatch_cert_issue, tlswatch_target_issue)\n");
		return 400;
	}
	n = sched_count(ctx->sched);
	e = xcalloc(n ? n : 1, sizeof(*e));
	scans = xcalloc(n ? n : 1, sizeof(*scans));
	for (size_t i = 0; i < n; i++) {
		const struct history *h = sched_history(ctx->sched, i);

		if (sched_scan(ctx->sched, i, &scans[i]))
			e[i].scan = &scans[i];
		e[i].name = sched_conf(ctx->sched, i)->name;
		e[i].r = history_result(h, NULL);
		e[i].st = history_memory(h);
		if ((e[i].mail = sched_maildom(ctx->sched, i)) != NULL)
			e[i].hist = h;
	}
	*content_type = json ? JSON_CONTENT_TYPE : HTML_CONTENT_TYPE;
	if (name == NULL) {
		if (v.issue != NULL) {
			size_t k = 0;

			for (size_t i = 0; i < n; i++)
				if (status_has_issue(&e[i], v.issue))
					e[k++] = e[i];
			n = k;
		}
		status_sort(e, n, &v);
		if (json)
			status_json_list(out, e, n, &v);
		else
			status_html_list(out, e, n, &v);
	} else {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(e[i].name, name) == 0)
				break;
		if (i == n) {
			status = 404;
			*content_type = "text/plain; charset=utf-8";
			buf_puts(out, "no such target\n");
		} else if (json) {
			status_json_target(out, &e[i], &v);
		} else {
			status_html_target(out, &e[i], &v);
		}
	}
	free(e);
	free(scans);
	return status;
}
