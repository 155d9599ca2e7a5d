/* target.h - what the daemon knows about one target: its last result and counters. */
#ifndef TLSWATCH_TARGET_H
#define TLSWATCH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/certs.h"
#include "verdict/verdict.h"
#include "conf/conf.h"
#include "core/heap.h"

/* Stages a probe goes through, in order; also indexes result.stage_seconds. */
enum stage {
	STAGE_RESOLVE,
	STAGE_CONNECT,
	STAGE_HANDSHAKE,
	STAGE_VERIFY,
	/* Runs between connect and handshake; added last so that the values
	 * of the others (and results kept by earlier versions) stay as they were. */
	STAGE_STARTTLS,
	STAGE_COUNT
};
const char *stage_name(enum stage s);   /* "resolve", "connect", ... */

/* The outcome of one probe. A failure is a result like a success. */
struct result {
	double time;                     /* wall clock at the end of the probe */
	double duration;                 /* seconds, all stages together */
	double stage_seconds[STAGE_COUNT]; /* < 0: the stage was not reached */
	int success;                     /* connect and handshake done, certificates received */
	const char *fail_stage;          /* "resolve", "connect", "starttls", "handshake", "timeout"; NULL on success */
	const char *fail_reason;         /* bounded set, static string; NULL on success */
	char *fail_detail;               /* free text for logs; may be NULL */
	char *peer;                      /* address connected to, e.g. "[::1]:443"; may be NULL */
	char *tls_version;               /* "TLS1.3"; NULL unless the handshake completed */
	char *cipher;                    /* IANA suite name; NULL unless the handshake completed */
	struct cert **certs;             /* as presented, depth 0 first */
	size_t ncerts;
	struct verdict verdict;          /* meaningful when success (verdict.h) */
	/* The DER of certs[], only until the result is handed to the store
	 * (which writes new certificates to state_dir and frees these): the
	 * daemon keeps no DER in memory. ders[i].data is allocated. */
	struct der *ders;
	size_t nders;
};

/* Release r->ders, keeping the rest of the result. */
void result_drop_ders(struct result *r);

void result_free(struct result *r);
/* A deep copy (certificates are shared by reference). */
struct result *result_dup(const struct result *r);

/* With addresses = "all": one address's results, published with an
 * `address` label. */
struct addr_result {
	char *address;           /* "127.0.0.1", "::1" */
	char *labels;            /* the target's labels and address="..." */
	struct result *result;
	uint64_t probes_success;
	uint64_t probes_failure;
};
void addr_results_free(struct addr_result *a, size_t n);

struct probe;
struct sched;
struct multi;

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
	/* addresses = "all": every address's last result, in resolver order;
	 * result above then holds the first address's (or the failure to
	 * resolve, when naddrs is 0). Empty with addresses = "first". */
	struct addr_result *addrs;
	size_t naddrs;
	struct multi *multi;     /* addresses = "all": the probes in flight, or NULL */
	int has_client_cert;
	int64_t client_cert_not_after;   /* when has_client_cert */
	/* what is remembered across restarts; owned by store.c */
	struct store_target *st;
};

#endif
