/*
 * status.c - what the status page and the JSON API share (states, escapers,
 * the document's head, one target's summary), one target's page, JSON and
 * PEM, and the routes; the list of targets is statuslist.c's.
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

#include "conf/conf.h"
#include "probe/starttls.h"
#include "verdict/certinfo.h"
#include "verdict/certs.h"
#include "verdict/verdict.h"
#include "serve/json.h"
#include "serve/query.h"
#include "serve/mailstatus.h"
#include "sched.h"
#include "state/history.h"
#include "serve/status.h"

#define HTML_CONTENT_TYPE "text/html; charset=utf-8"
#define JSON_CONTENT_TYPE "application/json"
#define TEXT_CONTENT_TYPE "text/plain; charset=utf-8"
/* RFC 8555 section 9.1: a certificate chain in PEM */
#define PEM_CONTENT_TYPE "application/pem-certificate-chain"

/* Each state: its name (filters, JSON, the row's class), what the page
 * calls it and its colour. One line per state. */
static const struct {
	const char *label;
	const char *colour;
	int rank;            /* sort=state: worst first */
} states[STATUS_NSTATES] = {
	[STATUS_PENDING] = { "not probed yet", "#f0f0f0", 50 },
	[STATUS_OK] = { "ok", "#d4f4d4", 40 },
	[STATUS_WARN] = { "expires soon", "#fff1a8", 30 },
	[STATUS_CRIT] = { "expires very soon", "#ffc58a", 20 },
	[STATUS_UNVERIFIED] = { "not verified", "#f7b0b0", 10 },
	[STATUS_FAILING] = { "probe failing", "#d6c6ef", 0 },
	[STATUS_REVOKED] = { "revoked", "#8b1a1a", 5 },
};

const char *const status_state_names[STATUS_NSTATES] = {
	[STATUS_PENDING] = "pending",
	[STATUS_OK] = "ok",
	[STATUS_WARN] = "warn",
	[STATUS_CRIT] = "crit",
	[STATUS_UNVERIFIED] = "unverified",
	[STATUS_FAILING] = "failing",
	[STATUS_REVOKED] = "revoked",
};

_Static_assert(STATUS_NSTATES <= QUERY_MAX_STATES, "a state set is a uint64_t");

const char *
status_state_name(enum status_state s)
{
	return (unsigned)s < STATUS_NSTATES ? status_state_names[s] : "unknown";
}

/* The expiry of what is remembered of a target whose probe fails: the
 * verified path's when the last chain verified, else its earliest. */
static int64_t
remembered_expiry(const struct store_record *st)
{
	int64_t exp = 0;

	if (st->have_verdict && st->verified && st->path_expiry)
		return st->path_expiry;
	for (size_t i = 0; i < st->chain.n; i++)
		if (st->certs && st->certs[i] && (exp == 0 || st->certs[i]->not_after < exp))
			exp = st->certs[i]->not_after;
	return exp;
}

enum status_state
status_classify(const struct status_entry *e, const struct status_view *v, int64_t *expiry)
{
	const struct result *r = e->r;
	int64_t exp = 0;

	if (r && r->success)
		exp = verdict_expiry(&r->verdict);
	else if (e->st)
		exp = remembered_expiry(e->st);   /* failing now: the last chain presented */
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

void
status_sort(struct status_entry *e, size_t n, const struct status_view *v)
{
	struct status_selection sel;

	status_select(e, n, v, NULL, 0, &sel);
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

const char *
status_leaf_subject(const struct status_entry *e)
{
	if (e->st && e->st->chain.n && e->st->certs && e->st->certs[0])
		return e->st->certs[0]->subject;
	if (e->r && e->r->ncerts)
		return e->r->certs[0]->subject;
	return NULL;
}

/* ------------------------------------------------------------ HTML */

static const char html_style[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
    "table{border-collapse:collapse;margin-bottom:1.5em}\n"
    "th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}\n"
    "th{background:#eee}\n"
    "th a{color:inherit}\n"
    "td.fp,span.fp{font-family:monospace;font-size:.85em;word-break:break-all}\n"
    "form#filter{margin:1em 0;padding:.5em;border:1px solid #bbb;background:#f8f8f8}\n"
    "form#filter label{margin-right:1em;white-space:nowrap}\n"
    "nav.pages a,nav.pages span{margin-right:.8em}\n"
    "p.error{color:#900;font-weight:bold}\n"
    "tr.revoked td{color:#fff}\n"
    "tr.revoked a{color:#fff}\n"
    ".legend span{padding:.2em .5em;margin-right:.5em;border:1px solid #bbb}\n";

void
status_html_head(struct buf *b, const char *title, unsigned refresh)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n");
	if (refresh)
		buf_printf(b, "<meta http-equiv=\"refresh\" content=\"%u\">\n", refresh);
	buf_puts(b, "<title>");
	html_escape(b, title);
	buf_puts(b, "</title>\n<style>\n");
	buf_puts(b, html_style);
	/* each state's colour, from the one table */
	for (size_t i = 0; i < STATUS_NSTATES; i++)
		buf_printf(b, "tr.%s td{background:%s}\n", status_state_names[i], states[i].colour);
	buf_puts(b, "</style></head><body>\n");
}

const char *
status_state_label(enum status_state s)
{
	return (unsigned)s < STATUS_NSTATES ? states[s].label : "unknown";
}

int
status_state_rank(enum status_state s)
{
	return (unsigned)s < STATUS_NSTATES ? states[s].rank : 100;
}

/* "within 21 days", "with less than 33% of the lifetime left" */
void
status_html_threshold(struct buf *b, const struct threshold *t)
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
status_html_error(struct buf *b, const char *message)
{
	status_html_head(b, "tlswatch: bad request", 0);
	buf_puts(b, "<p><a href=\"/\">all targets</a></p>\n<p class=\"error\">");
	html_escape(b, message);
	buf_puts(b, "</p>\n</body></html>\n");
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

/* The depth at which the chain presented fp, or -1 (a trust anchor from
 * the store). */
static long
presented_at(const struct store_record *st, const char *fp)
{
	for (size_t i = 0; i < st->chain.n; i++)
		if (strcmp(st->chain.fps[i], fp) == 0)
			return (long)i;
	return -1;
}

/* The verified path, leaf to trust anchor. */
static void
html_path(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct store_record *st = e->st;
	char na[64];

	buf_puts(b, "<h2>Verified path</h2>\n");
	if (st == NULL || !st->have_verdict || !st->verified || st->path.n == 0) {
		buf_puts(b, "<p>No verified path: the last chain presented did not verify.</p>\n");
		return;
	}
	buf_puts(b, "<table id=\"path\"><thead><tr><th>Step</th><th>Subject</th><th>Issuer</th>"
	    "<th>Expires</th><th>Where</th><th>SHA-256</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < st->path.n; i++) {
		struct cert *c = load_cert(v, st->path.fps[i],
		    st->path_certs ? st->path_certs[i] : NULL);
		long at = presented_at(st, st->path.fps[i]);
		int anchor = i + 1 == st->path.n;

		buf_printf(b, "<tr%s><td>%zu</td><td class=\"subject\">",
		    anchor ? " class=\"anchor\"" : "", i);
		html_escape(b, c ? c->subject : "(certificate not stored)");
		buf_puts(b, "</td><td class=\"issuer\">");
		html_escape(b, c ? c->issuer : "");
		fmt_utc(na, sizeof(na), c ? (double)c->not_after : 0);
		buf_printf(b, "</td><td>%s</td><td>", na);
		if (anchor && at < 0)
			buf_puts(b, "trust anchor, from the trust store");
		else if (anchor)
			buf_printf(b, "trust anchor, presented at depth %ld", at);
		else if (at >= 0)
			buf_printf(b, "presented at depth %ld", at);
		else
			buf_puts(b, "not presented");
		buf_printf(b, "</td><td class=\"fp\">%s</td></tr>\n", st->path.fps[i]);
		cert_put(c);
	}
	buf_puts(b, "</tbody></table>\n");
}

/* The probe history: runs of one outcome, newest first. */
static void
html_runs(struct buf *b, const struct store_record *st)
{
	char when[64], until[64];

	buf_puts(b, "<h2>Probe history</h2>\n<table id=\"runs\"><thead><tr><th>From</th>"
	    "<th>Until</th><th>Probes</th><th>Result</th></tr></thead><tbody>\n");
	for (size_t i = 0; st && i < st->nruns; i++) {
		const struct store_run *run = &st->runs[i];

		fmt_utc(when, sizeof(when), run->since);
		fmt_utc(until, sizeof(until), run->until);
		buf_printf(b, "<tr class=\"%s\"><td>%s</td><td>%s</td><td>%llu</td><td>",
		    !run->success ? "failing" : run->verified ? "ok" : "unverified", when, until,
		    (unsigned long long)run->count);
		if (!run->success) {
			buf_puts(b, "failed at ");
			html_escape(b, run->fail_stage);
			buf_puts(b, ": ");
			html_escape(b, run->fail_reason);
		} else if (run->verified) {
			buf_puts(b, "verified");
		} else {
			buf_puts(b, "not verified: ");
			put_names(b, run->reasons, 0);
		}
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody></table>\n");
}

/* A summary row with a time, "-" when none. */
static void
html_time_row(struct buf *b, const char *th, double t)
{
	char when[64];

	fmt_utc(when, sizeof(when), t);
	buf_printf(b, "<tr><th>%s</th><td>%s</td></tr>\n", th, when);
}

/* What the target is probed with. */
static void
html_settings(struct buf *b, const struct conf_target *c)
{
	buf_puts(b, "<tr><th>Address</th><td class=\"address\">");
	html_escape(b, c->address);
	buf_puts(b, "</td></tr>\n<tr><th>Server name</th><td class=\"sni\">");
	html_escape(b, c->server_name == NULL ? "- (none sent)" :
	    *c->server_name ? c->server_name : "- (none sent)");
	buf_printf(b, "</td></tr>\n<tr><th>STARTTLS</th><td>%s</td></tr>\n<tr><th>Labels</th>"
	    "<td class=\"labels\">", starttls_name((enum starttls_proto)c->tls.starttls));
	for (size_t i = 0; i < c->nlabels; i++) {
		if (i)
			buf_puts(b, ", ");
		html_escape(b, c->labels[i].name);
		buf_putc(b, '=');
		html_escape(b, c->labels[i].value);
	}
	buf_puts(b, "</td></tr>\n");
}

void
status_html_target(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct result *r = e->r;
	const struct store_record *st = e->st;
	char when[64], until[64];
	struct buf title;
	int64_t exp;
	enum status_state s = status_classify(e, v, &exp);

	buf_init(&title);
	buf_printf(&title, "%s - tlswatch", e->name);
	status_html_head(b, title.data, 0);
	buf_free(&title);
	buf_puts(b, "<p><a href=\"/\">all targets</a> <a href=\"/api/targets/");
	url_escape(b, e->name);
	buf_puts(b, "\">JSON</a> <a id=\"pem\" href=\"/targets/");
	url_escape(b, e->name);
	buf_puts(b, "?format=pem\">chain as PEM</a></p>\n<h1>");
	html_escape(b, e->name);
	buf_printf(b, "</h1>\n<table id=\"summary\"><tr class=\"%s\"><th>State</th><td>%s</td></tr>\n",
	    status_state_names[s], states[s].label);
	if (e->conf)
		html_settings(b, e->conf);
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
		html_time_row(b, "Failing since", st->failing_since);
		html_time_row(b, "Verified since", st->verified_since);
		html_time_row(b, "Chain last seen", st->chain_seen);
		html_time_row(b, "First seen", st->first_seen);
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
	html_path(b, e, v);
	html_runs(b, st);
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

int
status_pem(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct store_record *st = e->st;
	int any = 0;

	for (size_t i = 0; st && v->state_dir && i < st->chain.n; i++) {
		size_t len;
		unsigned char *der = store_read_cert(v->state_dir, st->chain.fps[i], &len);
		char *pem = der ? certinfo_pem(der, len) : NULL;

		if (pem) {
			buf_puts(b, pem);
			any = 1;
		}
		free(pem);
		free(der);
	}
	return any ? 0 : -1;
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

/* A time, or null when never. */
static void
json_time(struct buf *b, const char *key, double t)
{
	json_key(b, key, 0);
	if (t > 0)
		json_num(b, t, 3);
	else
		buf_puts(b, "null");
}

void
status_json_summary(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct result *r = e->r;
	const struct store_record *st = e->st;
	const struct conf_target *c = e->conf;
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
	json_key(b, "address", 0);
	json_str(b, c ? c->address : NULL);
	json_key(b, "server_name", 0);
	json_str(b, c && c->server_name && *c->server_name ? c->server_name : NULL);
	json_key(b, "starttls", 0);
	json_str(b, c ? starttls_name((enum starttls_proto)c->tls.starttls) : NULL);
	json_key(b, "labels", 0);
	buf_putc(b, '{');
	for (size_t i = 0; c && i < c->nlabels; i++) {
		json_key(b, c->labels[i].name, i == 0);
		json_str(b, c->labels[i].value);
	}
	buf_putc(b, '}');
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
	json_str(b, status_leaf_subject(e));
	json_time(b, "failing_since", st ? st->failing_since : 0);
	json_time(b, "verified_since", st ? st->verified_since : 0);
	json_time(b, "chain_last_seen", st ? st->chain_seen : 0);
	json_time(b, "first_seen", st ? st->first_seen : 0);
	json_time(b, "chain_changed", st ? st->chain_changed : 0);
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

static void
json_path(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	const struct store_record *st = e->st;

	json_key(b, "path", 0);
	buf_putc(b, '[');
	for (size_t i = 0; st && st->have_verdict && st->verified && i < st->path.n; i++) {
		struct cert *c = load_cert(v, st->path.fps[i],
		    st->path_certs ? st->path_certs[i] : NULL);
		long at = presented_at(st, st->path.fps[i]);

		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, "sha256", 1);
		json_str(b, st->path.fps[i]);
		json_key(b, "subject", 0);
		json_str(b, c ? c->subject : NULL);
		json_key(b, "issuer", 0);
		json_str(b, c ? c->issuer : NULL);
		json_key(b, "not_after", 0);
		if (c)
			json_int(b, c->not_after);
		else
			buf_puts(b, "null");
		json_key(b, "presented_depth", 0);
		if (at >= 0)
			json_int(b, at);
		else
			buf_puts(b, "null");
		json_key(b, "anchor", 0);
		json_bool(b, i + 1 == st->path.n);
		buf_putc(b, '}');
		cert_put(c);
	}
	buf_putc(b, ']');
}

static void
json_runs(struct buf *b, const struct store_record *st)
{
	json_key(b, "runs", 0);
	buf_putc(b, '[');
	for (size_t i = 0; st && i < st->nruns; i++) {
		const struct store_run *run = &st->runs[i];

		if (i)
			buf_putc(b, ',');
		buf_putc(b, '{');
		json_key(b, "since", 1);
		json_num(b, run->since, 3);
		json_key(b, "until", 0);
		json_num(b, run->until, 3);
		json_key(b, "count", 0);
		json_int(b, (int64_t)run->count);
		json_key(b, "result", 0);
		json_str(b, !run->success ? "failed" : run->verified ? "verified" : "unverified");
		json_key(b, "reasons", 0);
		status_json_words(b, VERDICT_REASON, run->success ? run->reasons : 0);
		json_key(b, "fail_stage", 0);
		json_str(b, run->success ? NULL : run->fail_stage);
		json_key(b, "fail_reason", 0);
		json_str(b, run->success ? NULL : run->fail_reason);
		buf_putc(b, '}');
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
	status_json_summary(b, e, v);
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
	json_path(b, e, v);
	json_runs(b, st);
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

/* A refused query: the page says why, the API as {"error": ...}. */
static int
bad_query(struct buf *out, const char **content_type, int json, const char *err)
{
	if (json) {
		*content_type = JSON_CONTENT_TYPE;
		buf_putc(out, '{');
		json_key(out, "error", 1);
		json_str(out, err);
		buf_puts(out, "}\n");
	} else {
		*content_type = HTML_CONTENT_TYPE;
		status_html_error(out, err);
	}
	return 400;
}

int
status_handle(void *arg, const char *url, const struct query_arg *args, size_t nargs,
    struct buf *out, const char **content_type)
{
	const struct status_ctx *ctx = arg;
	struct status_entry *e;
	struct scan_view *scans;
	struct status_view v;
	struct query q;
	const char *name = NULL;
	char *err = NULL;
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
	if (query_parse(&q, args, nargs, status_query_names(), &err) == -1) {
		status = bad_query(out, content_type, json, err);
		free(err);
		return status;
	}
	v.state_dir = ctx->state_dir;
	v.warn = ctx->conf->warn;
	v.crit = ctx->conf->crit;
	v.now = wall_now();
	v.issue = name == NULL ? q.issue : NULL;
	if (v.issue != NULL && !issue_word_known(v.issue)) {
		query_fini(&q);
		return bad_query(out, content_type, json, "issue: not a chain, certificate or "
		    "target issue word (see tlswatch_chain_issue, tlswatch_cert_issue, "
		    "tlswatch_target_issue)");
	}
	n = sched_count(ctx->sched);
	e = xcalloc(n ? n : 1, sizeof(*e));
	scans = xcalloc(n ? n : 1, sizeof(*scans));
	for (size_t i = 0; i < n; i++) {
		const struct history *h = sched_history(ctx->sched, i);

		if (sched_scan(ctx->sched, i, &scans[i]))
			e[i].scan = &scans[i];
		e[i].conf = sched_conf(ctx->sched, i);
		e[i].name = e[i].conf->name;
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
		if (json)
			status_json_list(out, e, n, &v, &q);
		else
			status_html_list(out, e, n, &v, &q);
	} else {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(e[i].name, name) == 0)
				break;
		if (i == n) {
			status = 404;
			*content_type = TEXT_CONTENT_TYPE;
			buf_puts(out, "no such target\n");
		} else if (json) {
			status_json_target(out, &e[i], &v);
		} else if (q.pem) {
			if (status_pem(out, &e[i], &v) == -1) {
				status = 404;
				*content_type = TEXT_CONTENT_TYPE;
				buf_puts(out, "no stored chain for this target\n");
			} else {
				*content_type = PEM_CONTENT_TYPE;
			}
		} else {
			status_html_target(out, &e[i], &v);
		}
	}
	query_fini(&q);
	free(e);
	free(scans);
	return status;
}
