/* status.h - the status page and the JSON API: targets, chains, history. */
#ifndef TLSWATCH_STATUS_H
#define TLSWATCH_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "state/store.h"
#include "verdict/verdict.h"
#include "result.h"
#include "core/util.h"
#include "verdict/expiry.h"
#include "serve/httpd.h"
#include "probe/scan.h"

enum status_state {
	STATUS_PENDING,      /* not probed yet */
	STATUS_OK,
	STATUS_WARN,         /* expires within warn */
	STATUS_CRIT,         /* expires within crit */
	STATUS_UNVERIFIED,   /* the chain does not verify */
	STATUS_FAILING,      /* the last probe failed */
	STATUS_REVOKED,      /* a certificate of the verified path is revoked */
};

/* One target as the page sees it (from the daemon or from state files). */
struct status_entry {
	const char *name;
	const struct result *r;          /* last result, or NULL */
	const struct store_record *st;   /* what is remembered, or NULL */
	const struct scan_view *scan;    /* the protocol scan's, or NULL: none */
	/* a mail domain in the daemon: its MX rows (per-address results) and
	 * MX set, shown by mailstatus.c; else NULL */
	const struct history *hist;
	const struct maildom *mail;
};

struct status_view {
	const char *state_dir;   /* where certificates are read for details; may be NULL */
	struct threshold warn, crit;   /* durations or fractions of the lifetime */
	double now;
	const char *issue;       /* only the targets with this issue word
	                          * (chain or certificate); NULL: all */
};

const char *status_state_name(enum status_state s);   /* "ok", "warn", ... */
/* The state of e and (when known, else 0) the expiry it is judged by: the
 * verified path's when the chain verified, else the earliest presented;
 * warn and crit by expiry_judge, for the lifetime expiry_lifetime gives. */
enum status_state status_classify(const struct status_entry *e, const struct status_view *v,
                                  int64_t *expiry);
/* Soonest expiry first; unknown expiry last; then by name. */
void status_sort(struct status_entry *e, size_t n, const struct status_view *v);

/* The members last_probe, success, fail_stage, fail_reason, verified and
 * reasons of r (NULL: not probed yet), each after a comma. */
void status_json_result(struct buf *b, const struct result *r);
/* A set of verdict words as a JSON array. */
void status_json_words(struct buf *b, enum verdict_table t, uint64_t set);
/* ,"findings":[{"check":...,"text":...},...] when checks say anything of v,
 * then ,"checks":{"NAME":VALUE,...} with what each check that has a JSON
 * form left (revocation, renewal, aia). */
void status_json_findings(struct buf *b, const struct verdict *v);
/* Text for HTML (elements and quoted attributes): & < > " ' as entities,
 * control characters as visible \n or \xNN, invalid UTF-8 as U+FFFD. */
void html_escape(struct buf *b, const char *s);
/* A path segment: everything but unreserved characters percent-encoded. */
void url_escape(struct buf *b, const char *s);

void status_html_list(struct buf *b, const struct status_entry *e, size_t n,
                      const struct status_view *v);
void status_html_target(struct buf *b, const struct status_entry *e, const struct status_view *v);
void status_json_list(struct buf *b, const struct status_entry *e, size_t n,
                      const struct status_view *v);
void status_json_target(struct buf *b, const struct status_entry *e, const struct status_view *v);
/* The members "warn": "21d" or "33%", "warn_seconds": the threshold in
 * seconds for a certificate of that lifetime (null for a fraction of an
 * unknown lifetime), and the same for crit; each after a comma. */
void status_json_thresholds(struct buf *b, const struct threshold *warn,
                            const struct threshold *crit, int64_t lifetime);

/* The daemon's pages: GET /, /targets/NAME, /api/targets, /api/targets/NAME;
 * / and /api/targets take ?issue=WORD (a chain or certificate issue word):
 * only the targets that have it. */
struct sched;
struct history;
struct maildom;
struct status_ctx {
	const struct sched *sched;
	const struct conf *conf;
	const char *state_dir;
};
/* For the HTTP server: 0 when url is not a status page, else the HTTP
 * status with out and *content_type filled. */
int status_handle(void *arg, const char *url, httpd_query_fn query, void *req, struct buf *out,
                  const char **content_type);
/* Whether e's last result has the issue word (a chain issue, or one of a
 * presented certificate). */
int status_has_issue(const struct status_entry *e, const char *word);

#endif
