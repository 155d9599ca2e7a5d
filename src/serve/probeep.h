/* probeep.h - GET /probe, compatible with blackbox_exporter's: one probe
 * per request (or a result kept for the same), answered as blackbox's
 * series beside tlswatch's own. */
#ifndef TLSWATCH_PROBEEP_H
#define TLSWATCH_PROBEEP_H

#include <stdint.h>

#include "core/util.h"

struct loop;
struct sched;
struct conf;
struct httpd_req;
struct probeep;

struct probeep *probeep_new(struct loop *l);
/* Serve c's settings (probe_endpoint, probe_allow, probe_cache, modules)
 * with probes run as s's jobs, from now on: requests still waiting on the
 * previous ones are answered 503 and their probes cancelled, the kept
 * results dropped. Before the previous scheduler and configuration go. */
void probeep_set(struct probeep *ep, struct sched *s, const struct conf *c);
/* The httpd_async_fn for "/probe" (arg: the probeep). */
int probeep_handle(void *arg, struct httpd_req *rq);
/* Answer what still waits (503) and free. Accepts NULL. */
void probeep_free(struct probeep *ep);
/* tlswatch_probe_requests_total{answer} and the endpoint's gauges, when
 * probe_endpoint is on. */
void probeep_render_metrics(struct buf *b, const struct probeep *ep);
/* A probe's timeout: X-Prometheus-Scrape-Timeout-Seconds (header; NULL:
 * absent, then 120 s) less 0.5 s, capped by the module's timeout, as
 * blackbox_exporter's getTimeout; ms, at least 1, or -1 when the header is
 * not a number of seconds. */
int64_t probeep_timeout_ms(const char *header, uint64_t module_ms);

#endif
