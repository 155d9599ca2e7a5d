/* metrics.h - the Prometheus text exposition (format 0.0.4). */
#ifndef TLSWATCH_METRICS_H
#define TLSWATCH_METRICS_H

#include <stddef.h>

#include "target.h"
#include "core/util.h"
#include "fetch/fetch.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

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
};

/* Append a label value escaped as the format requires: backslash, double
 * quote and newline escaped; invalid UTF-8 replaced by U+FFFD. */
void metrics_escape_label(struct buf *out, const char *value);

/* Build t->labels for every series of this target: target="NAME" followed by
 * the configured labels, escaped. */
void metrics_target_labels(struct target *t);

/* t->labels followed by address="ADDRESS", escaped (addresses = "all"). */
char *metrics_address_labels(const struct target *t, const char *address);

/* Render every metric family for targets[0..n). */
void metrics_render(struct buf *out, const struct target *targets, size_t n,
                    const struct metrics_info *info);

/* The configuration reload families: whether the last reload succeeded,
 * and when a configuration was last loaded. */
void metrics_render_reload(struct buf *out, int ok, double success_time);

#endif
