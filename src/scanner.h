/* scanner.h - the protocol scan in the daemon: for each target with scan =
 * { interval = ...; }, at that cadence, one handshake restricted to each of
 * TLS 1.0 to 1.3 (probe/scan.c says how), each in a slot of the scheduler's
 * concurrency limit and under the target's timeout; their answers become
 * tlswatch_tls_version_supported{version}, tlswatch_tls_scan_timestamp_seconds
 * and the target issue legacy_tls_enabled. A scan touches nothing of the
 * target's regular probes, results or history. */
#ifndef TLSWATCH_SCANNER_H
#define TLSWATCH_SCANNER_H

#include <stdint.h>

#include "conf/conf.h"
#include "core/util.h"
#include "probe/scan.h"

struct loop;
struct resolver;
struct scans;           /* one scheduler's scans */
struct scan_job;        /* one target's */

/* The scheduler's concurrency limit as the scans see it. take() takes a
 * slot if one is free for a scan (1) or says no (0); give() returns one.
 * When slots free up the scheduler calls scans_wake. */
struct scan_slots {
	int (*take)(void *arg);
	void (*give)(void *arg);
	void *arg;
};

struct scans *scans_new(struct loop *l, struct resolver *res, const struct scan_slots *slots);
/* Cancel every scan in flight and free every job. Accepts NULL. */
void scans_free(struct scans *p);

/* A job for target ct (which must outlive p), or NULL when ct has no scan.
 * labels: the target's escaped label pairs (metrics_labels), kept by
 * reference. Nothing runs until scan_job_start. */
struct scan_job *scans_add(struct scans *p, const struct conf_target *ct, const char *labels);
/* Arm j's first scan. With old (the same target's job under the previous
 * configuration, same settings) its answers and phase carry over (a scan it
 * had in flight or waiting runs again at once); else the first scan comes
 * within the target's first probe interval, half an interval from its first
 * probe, since nothing of a scan is kept across restarts. Accepts NULL j. */
void scan_job_start(struct scan_job *j, const struct scan_job *old);

/* What j's scans say (probe/scan.h); NULL j: nothing, 0. Else 1. */
int scan_job_view(const struct scan_job *j, struct scan_view *out);

/* Slots may be free: start waiting scans while take() says yes. */
void scans_wake(struct scans *p);

/* The scans' families for /metrics, after metrics_render. */
void scans_render_metrics(struct buf *out, const struct scans *p);

#endif
