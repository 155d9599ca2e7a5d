/* status.h - the status page and the JSON API: the list of targets (filtered,
 * sorted and paged on the server, statuslist.c), one target's chain, path
 * and history (status.c). */
#ifndef TLSWATCH_STATUS_H
#define TLSWATCH_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "state/store.h"
#include "verdict/verdict.h"
#include "result.h"
#include "core/util.h"
#include "verdict/expiry.h"
#include "probe/scan.h"

/* A target's state, as the page colours it and the state filter names it.
 * A new state is a line here and in status.c's tables. */
enum status_state {
	STATUS_PENDING,      /* not probed yet */
	STATUS_OK,
	STATUS_WARN,         /* expires within warn */
	STATUS_CRIT,         /* expires within crit */
	STATUS_UNVERIFIED,   /* the chain does not verify */
	STATUS_FAILING,      /* the last probe failed */
	STATUS_REVOKED,      /* a certificate of the verified path is revoked */
	STATUS_NSTATES
};

struct conf_target;

/* One target as the page sees it (from the daemon or from state files). */
struct status_entry {
	const char *name;
	const struct result *r;          /* last result, or NULL */
	const struct store_record *st;   /* what is remembered, or NULL */
	const struct conf_target *conf;  /* its settings; NULL from state files alone */
	/* filled by status_select */
	enum status_state state;
	int64_t expiry;
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
const char *status_state_label(enum status_state s);  /* "expires soon", ... */
/* Where a state sorts: the worst first (failing, unverified, crit, ...). */
int status_state_rank(enum status_state s);
/* The state names in enum order, for filters: STATUS_NSTATES entries. */
extern const char *const status_state_names[STATUS_NSTATES];
/* The state of e and (when known, else 0) the expiry it is judged by: the
 * verified path's when the chain verified, else the earliest presented;
 * warn and crit by expiry_judge, for the lifetime expiry_lifetime gives. */
enum status_state status_classify(const struct status_entry *e, const struct status_view *v,
                                  int64_t *expiry);
/* Soonest expiry first; unknown expiry last; then by name. */
void status_sort(struct status_entry *e, size_t n, const struct status_view *v);

/* ---- the list (statuslist.c) ---- */

struct query;
struct query_names;

/* The names the list's parameters take: states and columns. */
const struct query_names *status_query_names(void);

/* What a query selects of e[0..n): every entry classified, the state
 * counts of all, the matching ones moved to the front of e and sorted,
 * and the page of them to show. */
struct status_selection {
	size_t total;                     /* n */
	size_t matched;                   /* entries that pass the filters */
	size_t counts[STATUS_NSTATES];    /* of all n, by state */
	size_t page, pages, per_page;     /* per_page 0: one page of all */
	size_t first, count;              /* the page: e[first .. first + count) */
};
/* q may be NULL (no filter, the default order); default_per_page applies
 * when q gives none (0: all). */
void status_select(struct status_entry *e, size_t n, const struct status_view *v,
                   const struct query *q, size_t default_per_page,
                   struct status_selection *sel);

/* The list page and its API. They select as above (the page with
 * QUERY_DEFAULT_PER_PAGE rows by default, the API all matches). */
void status_html_list(struct buf *b, struct status_entry *e, size_t n,
                      const struct status_view *v, const struct query *q);
void status_json_list(struct buf *b, struct status_entry *e, size_t n,
                      const struct status_view *v, const struct query *q);
/* A page saying why a query was refused. */
void status_html_error(struct buf *b, const char *message);

/* ---- shared by the renderers (status.c) ---- */

/* "within 21 days", "with less than 33% of the lifetime left" (HTML-safe). */
void status_html_threshold(struct buf *b, const struct threshold *t);
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
/* The members of one target in the list (after "{", without "}"). */
void status_json_summary(struct buf *b, const struct status_entry *e,
                         const struct status_view *v);
/* The leaf's subject, from what is remembered or the last result; NULL. */
const char *status_leaf_subject(const struct status_entry *e);
/* The HTML document's start, up to and including <body>: title escaped,
 * a refresh of that many seconds when not 0. */
void status_html_head(struct buf *b, const char *title, unsigned refresh);

/* One target: its page, its JSON, its stored chain as PEM (0, or -1 when
 * none of its certificates is known). */
void status_html_target(struct buf *b, const struct status_entry *e, const struct status_view *v);
void status_json_target(struct buf *b, const struct status_entry *e, const struct status_view *v);
int status_pem(struct buf *b, const struct status_entry *e, const struct status_view *v);
/* The members "warn": "21d" or "33%", "warn_seconds": the threshold in
 * seconds for a certificate of that lifetime (null for a fraction of an
 * unknown lifetime), and the same for crit; each after a comma. */
void status_json_thresholds(struct buf *b, const struct threshold *warn,
                            const struct threshold *crit, int64_t lifetime);

/* The daemon's pages: GET /, /targets/NAME, /api/targets, /api/targets/NAME;
 * / and /api/targets take the list's parameters (query.h) and ?issue=WORD
 * (a chain or certificate issue word): only the targets that have it. */
struct sched;
struct history;
struct maildom;
struct status_ctx {
	const struct sched *sched;
	const struct conf *conf;
	const char *state_dir;
};
struct query_arg;
/* For the HTTP server (httpd_page_fn): 0 when url is not a status page,
 * else the HTTP status with out and *content_type filled. */
int status_handle(void *arg, const char *url, const struct query_arg *args, size_t nargs,
                  struct buf *out, const char **content_type);
/* Whether e's last result has the issue word (a chain issue, or one of a
 * presented certificate). */
int status_has_issue(const struct status_entry *e, const char *word);

#endif
