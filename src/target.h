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
	/* The DER of certs[], only until the result is handed to the store
	 * (which writes new certificates to state_dir and frees these): the
	 * daemon keeps no DER in memory. ders[i].data is allocated. */
	struct der *ders;
	size_t nders;
};

/* Release r->ders, keeping the rest of the result. */
void result_drop_ders(struct result *r);

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
	struct probe *probe;     /* in flight, or NULL */
	struct target *qnext;    /* queue of targets due but waiting for a slot */
	int queued;
	/* what is remembered across restarts; owned by store.c */
	struct store_target *st;
};

#endif
