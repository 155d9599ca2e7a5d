/*
 * mailstatus.c - a mail domain's MX rows on the status page and in the
 * JSON API (see mailstatus.h).
 *
 * The rows are the target's per-address results, keyed "MX PORT ADDRESS"
 * (maildom.h), in the order the round gave them: failing ones first. The
 * MX host names come from DNS answers and the rest from peers: everything
 * goes through html_escape or json_str.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "probe/maildom.h"
#include "probe/stsround.h"
#include "serve/json.h"
#include "serve/mailstatus.h"
#include "state/history.h"
#include "verdict/certs.h"

/* One row as the renderers see it. */
struct mxrow {
	char mx[MAILDOM_KEY_MAX];
	uint16_t port;
	const char *address;        /* NULL: the MX host did not resolve */
	int preference;             /* -1: not in the current MX set */
	const struct result *r;
	enum status_state state;
	int64_t expiry;
	const char *dane;           /* the DANE status word, or NULL */
	int covered;                /* by the MTA-STS policy: 1, 0, -1 no policy */
};

/* The DANE check's status word for v (its tlswatch_dane_status sample),
 * or NULL when it says nothing. */
static const char *
dane_word(const struct verdict *v)
{
	for (size_t i = 0; i < verdict_nchecks(); i++) {
		const struct check_family *f;
		const void *blob;
		size_t nf;

		if (strcmp(verdict_check_name(i), "dane") != 0 ||
		    (blob = verdict_blob(v, i)) == NULL)
			continue;
		f = verdict_check_families(i, &nf);
		for (size_t j = 0; j < nf; j++) {
			struct check_sample s = { { NULL }, { NULL }, 0 };

			if (strcmp(f[j].name, "tlswatch_dane_status") == 0 &&
			    f[j].sample(blob, 0, &s) && s.names[0] != NULL)
				return s.values[0];
		}
	}
	return NULL;
}

static const struct mtasts_policy *
policy_of(const struct status_entry *e, enum sts_status *st)
{
	const struct mtasts_policy *p = NULL;
	const char *id;
	int rpt;

	*st = sts_result(maildom_sts(e->mail), &p, &id, &rpt);
	return p;
}

/* Row i of e: 0, or -1 when its key is not a mail domain key. */
static int
row_get(const struct status_entry *e, const struct status_view *v, size_t i,
    const struct mtasts_policy *p, struct mxrow *row)
{
	const char *key, *addr;
	uint64_t ok, fail;
	struct status_entry re;

	key = history_addr(e->hist, i, &row->r, &ok, &fail);
	if (key == NULL ||
	    maildom_split_key(key, row->mx, sizeof(row->mx), &row->port, &addr) == -1)
		return -1;
	row->address = *addr ? addr : NULL;
	row->preference = -1;
	for (size_t j = 0; j < maildom_nmx(e->mail); j++) {
		uint16_t pref;

		if (strcmp(maildom_mx(e->mail, j, &pref), row->mx) == 0) {
			row->preference = pref;
			break;
		}
	}
	re = (struct status_entry){ .name = key, .r = row->r };
	row->state = status_classify(&re, v, &row->expiry);
	row->dane = row->r && row->r->success ? dane_word(&row->r->verdict) : NULL;
	row->covered = p ? mtasts_policy_covers(p, row->mx) != 0 : -1;
	return 0;
}

static void
html_table(struct buf *b, const struct status_entry *e, const struct status_view *v,
    const char *id)
{
	enum sts_status st;
	const struct mtasts_policy *p = policy_of(e, &st);
	size_t n = history_naddrs(e->hist);
	struct mxrow row;

	buf_printf(b, "<table class=\"mx\" id=\"%s\"><thead><tr><th>MX host</th>"
	    "<th>Preference</th><th>Port</th><th>Address</th><th>State</th><th>Verdict</th>"
	    "<th>DANE</th><th>MTA-STS</th></tr></thead><tbody>\n", id);
	for (size_t i = 0; i < n; i++) {
		const struct result *r;

		if (row_get(e, v, i, p, &row) == -1)
			continue;
		r = row.r;
		buf_printf(b, "<tr class=\"%s mxrow\" data-state=\"%s\"><td class=\"mxhost\">",
		    status_state_name(row.state), status_state_name(row.state));
		html_escape(b, row.mx);
		buf_puts(b, "</td><td>");
		if (row.preference >= 0)
			buf_printf(b, "%d", row.preference);
		else
			buf_puts(b, "-");
		buf_printf(b, "</td><td>%u</td><td class=\"address\">", row.port);
		html_escape(b, row.address ? row.address : "-");
		buf_printf(b, "</td><td>%s</td><td>", status_state_name(row.state));
		if (r == NULL) {
			buf_puts(b, "-");
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
		buf_puts(b, "</td><td class=\"dane\">");
		html_escape(b, row.dane ? row.dane : "-");
		buf_printf(b, "</td><td class=\"mtasts\">%s</td></tr>\n",
		    row.covered < 0 ? "-" : row.covered ? "covered" : "not covered");
	}
	buf_puts(b, "</tbody></table>\n");
	if (st != STS_NONE) {
		buf_printf(b, "<p class=\"mtasts\">MTA-STS: %s", sts_status_name(st));
		if (p)
			buf_printf(b, " (mode %s, max_age %u)", mtasts_mode_name(p->mode),
			    (unsigned)p->max_age);
		buf_puts(b, "</p>\n");
	}
}

void
mailstatus_html_list(struct buf *b, const struct status_entry *e, const struct status_view *v,
    size_t ncols)
{
	if (e->mail == NULL || e->hist == NULL)
		return;
	/* one cell across every column the list shows */
	buf_printf(b, "<tr class=\"mxrows\"><td colspan=\"%zu\">", ncols ? ncols : 1);
	html_table(b, e, v, "mx-list");
	buf_puts(b, "</td></tr>\n");
}

void
mailstatus_html_target(struct buf *b, const struct status_entry *e,
    const struct status_view *v)
{
	if (e->mail == NULL || e->hist == NULL)
		return;
	buf_puts(b, "<h2>MX hosts</h2>\n");
	html_table(b, e, v, "mx");
}

static void
int_or_null(struct buf *b, int known, int64_t v)
{
	if (known)
		json_int(b, v);
	else
		buf_puts(b, "null");
}

void
mailstatus_json(struct buf *b, const struct status_entry *e, const struct status_view *v)
{
	enum sts_status st;
	const struct mtasts_policy *p;
	size_t n, k = 0;
	struct mxrow row;

	if (e->mail == NULL || e->hist == NULL)
		return;
	p = policy_of(e, &st);
	json_key(b, "mta_sts", 0);
	json_str(b, st == STS_NONE ? NULL : sts_status_name(st));
	json_key(b, "mta_sts_mode", 0);
	json_str(b, p ? mtasts_mode_name(p->mode) : NULL);
	json_key(b, "mx", 0);
	buf_putc(b, '[');
	for (size_t j = 0; j < maildom_nmx(e->mail); j++) {
		uint16_t pref;
		const char *mx = maildom_mx(e->mail, j, &pref);

		buf_puts(b, j ? ",{" : "{");
		json_key(b, "mx", 1);
		json_str(b, mx);
		json_key(b, "preference", 0);
		json_int(b, pref);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	json_key(b, "rows", 0);
	buf_putc(b, '[');
	n = history_naddrs(e->hist);
	for (size_t i = 0; i < n; i++) {
		const struct result *r;

		if (row_get(e, v, i, p, &row) == -1)
			continue;
		r = row.r;
		buf_puts(b, k++ ? ",{" : "{");
		json_key(b, "mx", 1);
		json_str(b, row.mx);
		json_key(b, "preference", 0);
		int_or_null(b, row.preference >= 0, row.preference);
		json_key(b, "port", 0);
		json_int(b, row.port);
		json_key(b, "address", 0);
		json_str(b, row.address);
		json_key(b, "state", 0);
		json_str(b, status_state_name(row.state));
		json_key(b, "expiry", 0);
		int_or_null(b, row.expiry != 0, row.expiry);
		status_json_result(b, r);
		json_key(b, "leaf_subject", 0);
		json_str(b, r && r->ncerts ? r->certs[0]->subject : NULL);
		json_key(b, "dane", 0);
		json_str(b, row.dane);
		json_key(b, "mta_sts_covered", 0);
		if (row.covered >= 0)
			json_bool(b, row.covered);
		else
			buf_puts(b, "null");
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}
