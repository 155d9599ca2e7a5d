/* store.h - state on disk: the format of the state files (one per target)
 * and the certificate files, read and written whole and atomically; the
 * writes run off the loop (writer.c). What the contents mean over time is
 * history.c's. */
#ifndef TLSWATCH_STORE_H
#define TLSWATCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "core/util.h"
#include "result.h"

#define STORE_FORMAT 1
#define STORE_HISTORY 16                 /* earlier chains kept per target */
#define STORE_RUNS 20                    /* runs of probe results kept per target */
#define STORE_KEEP_SECONDS (30 * 86400)  /* clean-up age, see README */
#define STORE_MAX_FILE (1024 * 1024)     /* bound on any file read back */

/* A chain once presented: SHA-256 fingerprints, depth 0 first, each
 * interned (core/fp.h: one reference per entry). */
struct store_chain {
	double since;        /* first presented */
	double until;        /* replaced by the next chain (0: still current) */
	const char **fps;
	size_t n;
};

/* Consecutive probe results with one outcome: the probe history. */
struct store_run {
	double since;             /* the first result of the run */
	double until;             /* the last */
	uint64_t count;           /* results in the run */
	int success;
	int verified;             /* success: the chain verified */
	uint64_t reasons;         /* success and not verified: why (VERDICT_REASON) */
	const char *fail_stage;   /* failure: static or interned words */
	const char *fail_reason;
};

/* What is remembered of one target across restarts, beside its last result:
 * the content of its state file. Made by the parser; afterwards changed by
 * history.c only. */
struct store_record {
	double first_seen;        /* first result ever */
	double last_change;       /* last change of chain or verdict */
	double chain_changed;     /* when the current chain was first presented; 0: never */
	uint64_t chain_changes;   /* changes of the presented chain */
	struct store_chain chain; /* the last presented chain (kept when a probe fails) */
	struct cert **certs;      /* chain.n entries, NULL where unknown */
	struct store_chain *hist; /* earlier chains, newest first */
	size_t nhist;
	int have_verdict;         /* the verdict below is that of the last success */
	int verified;
	uint64_t reasons, issues;
	int64_t path_expiry;      /* earliest notAfter on the verified path (anchor
	                           * included); 0 unless verified */
	struct store_chain path;  /* the verified path, leaf first, anchor last;
	                           * n 0 unless verified */
	struct cert **path_certs; /* path.n entries, NULL where unknown */
	double chain_seen;        /* the last result that presented the chain */
	double failing_since;     /* first failure of the failures going on; 0: none */
	double verified_since;    /* first verified result since the chain last
	                           * failed to verify (failed probes do not count);
	                           * 0: not verified */
	struct store_run *runs;   /* newest first: runs[0] holds the last result */
	size_t nruns;             /* at most STORE_RUNS */
	char name[];              /* the target's, in the record's allocation */
};

/* Whether r's outcome is that of run. */
int store_run_matches(const struct store_run *run, const struct result *r);
/* The outcome as words: "ok", "unverified REASON,REASON", "failed STAGE
 * REASON" (what the state file holds). */
void store_run_outcome(struct buf *b, const struct store_run *run);

/* When the certificate at depth of the record's chain was first presented:
 * the oldest chain holding it (chain.since when none before). */
double store_cert_first_seen(const struct store_record *rec, size_t depth);

struct store_record *store_record_new(const char *name);
void store_record_free(struct store_record *rec);
/* A deep copy (certificates shared by reference). */
struct store_record *store_record_dup(const struct store_record *rec);
void store_chain_free(struct store_chain *c);

struct loop;
struct store;

/* A store on dir, writing on a thread of its own and reading (loads,
 * clean-up) on another, both reporting to l; the
 * directories are made (and remade) with the first write, so a missing or
 * read-only directory is logged, never fatal. NULL with *err when the
 * thread cannot start. */
struct store *store_new(struct loop *l, const char *dir, uint64_t refresh_ms, char **err);
/* Wait for every write queued, then free. Accepts NULL. */
void store_free(struct store *s);
const char *store_dir(const struct store *s);

/* Read the state file of the target called name: 1 with *rec and *r (the
 * last result with its original times, or NULL) when there is one, 0
 * otherwise (*rec NULL: no usable file; a corrupt or unreadable one is
 * logged once with its path). */
int store_load(struct store *s, const char *name, struct store_record **rec, struct result **r);

/*
 * Stored state read off the loop: a loader's batches of target names go to
 * the store's own thread, which reads and parses their state files and
 * certificates; each batch comes back whole on the loop (done), where
 * store_batch_take gives a target's state as store_load would, its
 * certificates interned. The owner frees each batch it was handed.
 */
struct store_loader;
struct store_batch;
typedef void (*store_batch_fn)(void *arg, struct store_batch *b);

struct store_loader *store_loader_new(struct store *s, store_batch_fn done, void *arg);
/* Cancel the batches in flight (their done is not called: they stop at
 * their next file and free themselves), then free. Accepts NULL. */
void store_loader_free(struct store_loader *l);
/* Batches submitted whose done has not come. */
size_t store_loader_in_flight(const struct store_loader *l);
struct store_batch *store_batch_new(struct store_loader *l);
void store_batch_add(struct store_batch *b, const char *name);
size_t store_batch_size(const struct store_batch *b);
const char *store_batch_name(const struct store_batch *b, size_t i);
void store_batch_submit(struct store_batch *b);
/* The same, read before every batch waiting (its targets are due now); and
 * whether b was submitted so. */
void store_batch_submit_first(struct store_batch *b);
int store_batch_first(const struct store_batch *b);
/* As store_load for the i-th name (logging a bad file as it does); once:
 * a second call gives 0. */
int store_batch_take(struct store_batch *b, size_t i, struct store_record **rec,
                     struct result **r);
/* What was not taken is dropped. Accepts NULL. */
void store_batch_free(struct store_batch *b);

/* Queue the certificates of r not stored yet (r's DER), then drop r's DER. */
void store_put_certs(struct store *s, struct result *r);
/* Queue the state file of rec and r when its content changed since the
 * last write, or the refresh is due. The newest content wins: a file
 * already being written is written once more, with the latest. */
void store_save(struct store *s, const struct store_record *rec, const struct result *r);
/* Wait until everything queued is on disk (or failed). */
void store_drain(struct store *s);

/* Remove state of targets not in c whose last probe is older than
 * STORE_KEEP_SECONDS and certificates no state (on disk or in memory)
 * references for as long. The work runs on the store's thread; this waits
 * for it (tests, tools); the daily one does not. */
void store_cleanup(struct store *s, const struct conf *c, double now);
/* The same, not waiting: 0, or -1 when a clean-up runs still. c's names
 * are copied; a store_free meanwhile stops it at its next file. */
int store_cleanup_start(struct store *s, const struct conf *c, double now);
/* Run a clean-up a minute after start and then once a day on l, on the
 * store's thread: the loop only strikes what memory still holds. */
void store_schedule_cleanup(struct store *s, struct loop *l, const struct conf *c);
/* The configuration the daily clean-up keeps targets of, after a reload. */
void store_set_conf(struct store *s, const struct conf *c);

uint64_t store_write_errors(const struct store *s);

/* The DER of a stored certificate (allocated), or NULL. */
unsigned char *store_read_cert(const char *dir, const char *sha256, size_t *len);
/* A stored certificate, interned (cert_put when done), or NULL. */
struct cert *store_cert(const char *dir, const char *sha256);

/* Reading state files without a daemon (the tlswatch tool): the parsed
 * state and last result of one file. Returns 0, or -1 with *err. */
int store_parse_file(const char *dir, const char *path, struct store_record **rec,
                     struct result **r, char **err);
/* Every state file under dir/targets, parsed; bad ones reported in *errs
 * (one line each). Returns the number loaded. */
size_t store_load_all(const char *dir, struct store_record ***recs, struct result ***rs,
                      char **errs);

/* The text of the state file of st with its last result r (may be NULL),
 * exactly as it is written (allocated). */
char *store_render(const struct store_record *st, const struct result *r);

/* The state file name for a target name: escaped, or hashed when long. */
char *store_file_name(const char *name);

/* Escape/unescape a value for the line format (%XX for control bytes and %). */
void store_escape(struct buf *b, const char *s);
char *store_unescape(const char *s);

#endif
