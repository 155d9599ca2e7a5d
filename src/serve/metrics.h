/* metrics.h - the Prometheus text exposition (format 0.0.4). */
#ifndef TLSWATCH_METRICS_H
#define TLSWATCH_METRICS_H

#include <stddef.h>

#include "conf/conf.h"
#include "core/util.h"
#include "fetch/fetch.h"
#include "result.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct threshold;

struct metrics_info {
	const char *version;        /* tlswatch version */
	const char *gnutls_version; /* runtime GnuTLS version */
	double start_time;          /* process start, seconds since the epoch */
	size_t in_flight;           /* probes running now */
	size_t queued;              /* targets due, waiting for a slot */
	const struct histogram *lateness;  /* seconds from due to start; may be NULL */
	uint64_t skipped;           /* rounds skipped because the target was busy */
	uint64_t verify_full;       /* chains verified in full */
	uint64_t verify_reused;     /* verdicts reused for an unchanged chain */
	int have_store;             /* state is kept on disk */
	uint64_t state_write_errors;
	const struct fetch_stats *fetch;  /* the fetcher's counters; NULL: none */
	/* the configuration's warn and crit, which the status page and the
	 * STATUS= line judge by: exported per row, in seconds for its chain,
	 * for the rules to compare with; NULL: not exported */
	const struct threshold *warn, *crit;
};

/* Append a label value escaped as the format requires: backslash, double
 * quote and newline escaped; invalid UTF-8 replaced by U+FFFD. */
void metrics_escape_label(struct buf *out, const char *value);

/* The label rules, in one place for conf.c and the exposition: a valid
 * Prometheus label name, and one the daemon's own series (or Prometheus)
 * already use, which a target's labels may not take. */
int metrics_label_name_valid(const char *name);
int metrics_label_reserved(const char *name);

/* The labels of every series of target c: target="NAME" followed by the
 * configured labels, escaped (allocated). */
char *metrics_labels(const struct conf_target *c);

struct store_record;

/* What the per-target families show of one target. */
struct metrics_target {
	const char *labels;                  /* metrics_labels() */
	const struct conf_target *conf;      /* address, server name, client certificate, ... */
	const struct store_record *memory;   /* remembered across restarts; NULL: nothing yet */
};

/* What the per-probe families show of one row: a target, or one address of
 * a target probed at every address. */
struct metrics_row {
	const char *labels;                  /* the target's */
	const char *address;                 /* addresses = "all": this row's; else NULL */
	const struct result *result;         /* NULL: not probed yet */
	uint64_t probes_success;
	uint64_t probes_failure;
	const struct result *chain;          /* the last that presented a chain:
	                                      * result, or while it fails the
	                                      * success before; NULL: none */
	char *extra;                         /* more label pairs (",mx=\"...\""), escaped;
	                                      * NULL: none (mailmetrics.c's) */
};

/* A family of a part that renders its own series (the protocol scan,
 * scanner.c), after metrics_render: HELP and TYPE come with its first
 * series, so a family nothing fills is absent. Series of one family must
 * follow each other. */
struct metrics_family {
	const char *name;
	const char *type;
	const char *help;
	int started;                         /* 0 at first */
};
/* name{labels[,label="value"]} v, labels as metrics_labels() made them and
 * value escaped; label NULL: none. */
void metrics_series(struct buf *out, struct metrics_family *f, const char *labels,
                    const char *label, const char *value, double v);

/* Render every metric family for targets[0..n) and rows[0..nrows). */
void metrics_render(struct buf *out, const struct metrics_target *targets, size_t n,
                    const struct metrics_row *rows, size_t nrows,
                    const struct metrics_info *info);

/* The per-probe families alone (probe, TLS, certificates, chain, issues,
 * the checks' own; no counters), for the rows of one /probe answer. */
void metrics_render_rows(struct buf *out, const struct metrics_row *rows, size_t n);

/* The configuration reload families: whether the last reload succeeded,
 * and when a configuration was last loaded. */
void metrics_render_reload(struct buf *out, int ok, double success_time);

#endif
