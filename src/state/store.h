/* store.h - state on disk: certificates by SHA-256 and one state file per target. */
#ifndef TLSWATCH_STORE_H
#define TLSWATCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "target.h"
#include "core/util.h"

#define STORE_FORMAT 1
#define STORE_HISTORY 16                 /* earlier chains kept per target */
#define STORE_KEEP_SECONDS (30 * 86400)  /* clean-up age, see README */
#define STORE_MAX_FILE (1024 * 1024)     /* bound on any file read back */

/* A chain once presented: SHA-256 fingerprints, depth 0 first. */
struct store_chain {
	double since;        /* first presented */
	double until;        /* replaced by the next chain (0: still current) */
	char (*fps)[65];
	size_t n;
};

/* What is remembered of one target across restarts. */
struct store_target {
	char *name;
	double first_seen;        /* first result ever */
	double last_change;       /* last change of chain or verdict */
	double chain_changed;     /* when the current chain was first presented; 0: never */
	uint64_t chain_changes;   /* changes of the presented chain */
	struct store_chain chain; /* the last presented chain (kept when a probe fails) */
	struct cert **certs;      /* chain.n entries, NULL where unknown */
	double *cert_first_seen;  /* chain.n entries */
	struct store_chain *hist; /* earlier chains, newest first */
	size_t nhist;
	int have_verdict;         /* verdict below is that of the last success */
	int verified;
	unsigned reasons, issues;
	/* bookkeeping, private to store.c */
	unsigned char written[32];  /* SHA-256 of the content last written,
	                             * timestamps aside (the text itself would be
	                             * ~1 KB a target kept only to compare) */
	int have_written;
	double written_at;
	int write_failing;        /* the last write of this file failed; logged */
};

struct loop;
struct store;

/* A store on dir; creating it (and retrying) happens on the first write, so
 * a missing or read-only directory is logged, never fatal. */
struct store *store_new(const char *dir, uint64_t refresh_ms);
void store_free(struct store *s);
const char *store_dir(const struct store *s);

/* Load t's state file, if any: t->st and t->result (with its original
 * times). A missing file is silent; an unreadable or corrupt one is logged
 * once with its path and t starts fresh. Returns 1 when a result was loaded. */
int store_load(struct store *s, struct target *t);

/* A new result r for t, before it replaces t->result: detect and log chain
 * changes, write new certificates and the state file when something
 * changed (or the refresh is due), drop r's DER. */
void store_result(struct store *s, struct target *t, struct result *r);

/* Remove state of targets not in c whose last probe is older than
 * STORE_KEEP_SECONDS and certificates no state references for as long. */
void store_cleanup(struct store *s, const struct conf *c, double now);
/* Run store_cleanup now and then once a day on l. */
void store_schedule_cleanup(struct store *s, struct loop *l, const struct conf *c);
/* The configuration the daily clean-up keeps targets of, after a reload. */
void store_set_conf(struct store *s, const struct conf *c);

uint64_t store_write_errors(const struct store *s);
void store_target_free(struct store_target *st);

/* The DER of a stored certificate (allocated), or NULL. */
unsigned char *store_read_cert(const char *dir, const char *sha256, size_t *len);

/* Reading state files without a daemon (the tlswatch tool): the parsed
 * state and last result of one file. Returns 0, or -1 with *err. */
int store_parse_file(const char *dir, const char *path, struct store_target **st,
                     struct result **r, char **err);
/* Every state file under dir/targets, parsed; bad ones reported in *errs
 * (one line each). Returns the number loaded. */
size_t store_load_all(const char *dir, struct store_target ***sts, struct result ***rs,
                      char **errs);

/* The text of the state file of st with its last result r (may be NULL),
 * exactly as it is written (allocated). */
char *store_render(const struct store_target *st, const struct result *r);

/* The state file name for a target name: escaped, or hashed when long. */
char *store_file_name(const char *name);

/* Escape/unescape a value for the line format (%XX for control bytes and %). */
void store_escape(struct buf *b, const char *s);
char *store_unescape(const char *s);

#endif
