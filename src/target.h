/* target.h - what the daemon knows about one target: its last result and counters. */
#ifndef TLSWATCH_TARGET_H
#define TLSWATCH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "certs.h"
#include "chain.h"
#include "conf.h"
#include "heap.h"

/* Stages a probe goes through, in order; also indexes result.stage_seconds. */
enum stage {
	STAGE_RESOLVE,
	STAGE_CONNECT,
	STAGE_HANDSHAKE,
	STAGE_VERIFY,
	STAGE_COUNT
};
const char *stage_name(enum stage s);   /* "resolve", "connect", ... */

/* The outcome of one probe. A failure is a result like a success. */
struct result {
	double time;                     /* wall clock at the end of the probe */
	double duration;                 /* seconds, all stages together */
	double stage_seconds[STAGE_COUNT]; /* < 0: the stage was not reached */
	int success;                     /* connect and handshake done, certificates received */
	const char *fail_stage;          /* "resolve", "connect", "handshake", "timeout"; NULL on success */
	const char *fail_reason;         /* bounded set, static string; NULL on success */
	char *fail_detail;               /* free text for logs; may be NULL */
	char *peer;                      /* address connected to, e.g. "[::1]:443"; may be NULL */
	char *tls_version;               /* "TLS1.3"; NULL unless the handshake completed */
	char *cipher;                    /* IANA suite name; NULL unless the handshake completed */
	struct cert **certs;             /* as presented, depth 0 first */
	size_t ncerts;
	struct verdict verdict;          /* meaningful when success */
	/* The verdict depends only on the chain, the trust store, the name
	 * checked and the time; it holds for this store and name from
	 * verify_from until verify_until (seconds since the epoch), so the
	 * next probe presenting the same chain may reuse it. */
	uint64_t verify_trust;           /* trust_id() of the store */
	char *verify_name;               /* name checked, or NULL */
	int64_t verify_from;
	int64_t verify_until;
	int verify_reused;               /* this verdict was carried over */
};

void result_free(struct result *r);

struct probe;
struct sched;

struct target {
	const struct conf_target *conf;
	char *labels;        /* escaped label pairs for every series: target="x",env="prod" */
	struct result *result;   /* last result; NULL until the first probe ends */
	uint64_t probes_success;
	uint64_t probes_failure;
	/* scheduling, owned by sched.c */
	struct sched *sched;     /* the scheduler this target belongs to */
	struct heap_node due;    /* key: monotonic ms of the next probe */
	uint64_t due_at;         /* monotonic ms the current round fell due */
	struct probe *probe;     /* in flight, or NULL */
	struct target *qnext;    /* queue of targets due but waiting for a slot */
	int queued;
};

#endif
