/*
 * store.c - state on disk: the file format and its atomic writes.
 *
 * state_dir/certs/SHA256.pem   every certificate ever presented, once
 * state_dir/targets/NAME.state one per target: its last result, its last
 *                              presented chain and the chains before it
 *
 * A state file is lines of "key value" (format in README.md, "State
 * directory"); values escape control bytes and '%' as %XX, so a line is a
 * line whatever a certificate or a name holds. One table of keys (below)
 * drives both the writer and the parser, so the two halves of the format
 * cannot drift. Every file is written whole by writer.c, off the loop: a
 * crash leaves the old file or the new one. The DER of a certificate is
 * written when a result first carries it and never kept in memory.
 *
 * What the contents mean (a chain change, a verdict change) is history.c's;
 * this file only reads and writes them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pin.h"
#include "core/work.h"
#include "core/fp.h"
#include "state/store.h"
#include "state/writer.h"
#include "verdict/certs.h"
#include "verdict/verdict.h"

#define STORE_CLEANUP_MS ((uint64_t)86400 * 1000)
/* The first clean-up waits this long after start: it reads every state
 * file, and a restart should serve its stored results first. */
#define STORE_CLEANUP_FIRST_MS ((uint64_t)60 * 1000)
#define STORE_MAX_NAME 160   /* longer escaped names are hashed */

/* What was last written to a target's file, to write it only when it
 * changes: the SHA-256 of its content, the probe's timestamps aside (the
 * text itself would be ~1 KB a target kept only to compare). One per
 * target name seen since start: a target a reload removed keeps its entry
 * (under 100 bytes) until the next start, as a write of it may be in
 * flight. */
struct written {
	struct written *hnext;
	double at;
	int have;
	unsigned char digest[32];
	char name[];          /* in the same allocation: one a target */
};

/* Fingerprints, a hash set: the certificates the loader thread parsed
 * already in this generation of its loader (see struct store_loader). */
struct fpset {
	unsigned char (*slot)[32];   /* the SHA-256; all zeros where free */
	size_t cap;              /* a power of 2 */
	size_t n;
};

struct store {
	char *dir;
	char *targets_dir;
	char *certs_dir;
	uint64_t refresh_ms;
	struct writer *writer;
	struct written **tab;       /* by target name */
	size_t nbuckets;
	size_t nwritten;
	struct loop *loop;
	const struct conf *conf;
	struct loop_timer cleanup;
	/* Reading state files, and the clean-up, run on a thread of their own
	 * (not the daemon's work pool, which checks passwords and renders
	 * scrapes): the loop only installs what it read. */
	struct work_pool *pool;
	uint64_t gens;            /* loader generations handed out; loop thread */
	struct fpset seen;        /* loader thread only */
	uint64_t seen_gen;        /* the generation seen is of; loader thread only */
	struct cleanup *cleaning; /* a clean-up running; NULL: none */
};

static void store_cleanup_cancel(struct store *s);
static void cleanup_veto(struct store *s, const char *sha256);

/* ------------------------------------------------------------ strings */

void
store_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	if (s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '%') {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(b, e, 3);
		} else {
			buf_putc(b, (char)*p);
		}
	}
}

/* NULL when an escape is malformed or decodes to NUL. */
char *
store_unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (const char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	return out;
}

char *
store_file_name(const char *name)
{
	static const char hex[] = "0123456789abcdef";
	struct buf b;

	buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* Letters, digits and "-_:@" as they are; a dot too, but never
		 * first (no hidden files, no "." or ".."). */
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == ':' || *p == '@' || (*p == '.' && p != (const unsigned char *)name)) {
			buf_putc(&b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(&b, e, 3);
		}
	}
	if (b.len == 0 || b.len > STORE_MAX_NAME) {
		unsigned char d[32];
		char h[65];

		(void)cert_sha256(name, strlen(name), d);
		hex_encode(d, sizeof(d), h);
		b.len = 0;
		buf_printf(&b, "%%%s", h);   /* '%' never starts an escaped name */
	}
	buf_puts(&b, ".state");
	return buf_steal(&b);
}

static int
is_sha256(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

/* ------------------------------------------------------------ files */

/* ------------------------------------------------------------ records */

void
store_chain_free(struct store_chain *c)
{
	for (size_t i = 0; c->fps != NULL && i < c->n; i++)
		fp_put(c->fps[i]);
	free(c->fps);
	c->fps = NULL;
	c->n = 0;
}

double
store_cert_first_seen(const struct store_record *st, size_t depth)
{
	const char *fp = st->chain.fps[depth];
	double t = st->chain.since;

	/* interned: one pointer per fingerprint */
	for (size_t i = 0; i < st->nhist; i++)
		for (size_t j = 0; j < st->hist[i].n; j++)
			if (st->hist[i].fps[j] == fp && st->hist[i].since < t)
				t = st->hist[i].since;
	return t;
}

struct store_record *
store_record_new(const char *name)
{
	size_t len = strlen(name);
	struct store_record *rec = xcalloc(1, sizeof(*rec) + len + 1);

	memcpy(rec->name, name, len + 1);
	return rec;
}

void
store_record_free(struct store_record *st)
{
	if (st == NULL)
		return;
	/* certs is made only once a file parsed whole: a record that failed to
	 * parse has fingerprints but no certificates */
	for (size_t i = 0; st->certs != NULL && i < st->chain.n; i++)
		cert_put(st->certs[i]);
	free(st->certs);
	store_chain_free(&st->chain);
	for (size_t i = 0; st->path_certs != NULL && i < st->path.n; i++)
		cert_put(st->path_certs[i]);
	free(st->path_certs);
	store_chain_free(&st->path);
	for (size_t i = 0; i < st->nhist; i++)
		store_chain_free(&st->hist[i]);
	free(st->hist);
	free(st->runs);
	free(st);
}

static void
chain_copy(struct store_chain *to, const struct store_chain *from)
{
	*to = *from;
	to->fps = xcalloc(from->n ? from->n : 1, sizeof(*to->fps));
	for (size_t i = 0; i < from->n; i++)
		to->fps[i] = fp_ref(from->fps[i]);
}

struct store_record *
store_record_dup(const struct store_record *st)
{
	size_t len = strlen(st->name);
	struct store_record *d = xmalloc(sizeof(*d) + len + 1);

	*d = *st;
	memcpy(d->name, st->name, len + 1);
	chain_copy(&d->chain, &st->chain);
	if (st->certs != NULL) {
		d->certs = xcalloc(st->chain.n ? st->chain.n : 1, sizeof(*d->certs));
		for (size_t i = 0; i < st->chain.n; i++)
			d->certs[i] = st->certs[i] ? cert_ref(st->certs[i]) : NULL;
	}
	chain_copy(&d->path, &st->path);
	if (st->path_certs != NULL) {
		d->path_certs = xcalloc(st->path.n ? st->path.n : 1, sizeof(*d->path_certs));
		for (size_t i = 0; i < st->path.n; i++)
			d->path_certs[i] = st->path_certs[i] ? cert_ref(st->path_certs[i]) : NULL;
	}
	d->hist = st->nhist ? xcalloc(st->nhist, sizeof(*d->hist)) : NULL;
	for (size_t i = 0; i < st->nhist; i++)
		chain_copy(&d->hist[i], &st->hist[i]);
	d->runs = st->nruns ? xcalloc(st->nruns, sizeof(*d->runs)) : NULL;
	if (st->nruns > 0)
		memcpy(d->runs, st->runs, st->nruns * sizeof(*d->runs));
	return d;
}

int
store_run_matches(const struct store_run *run, const struct result *r)
{
	if (run->success != r->success)
		return 0;
	if (!r->success)
		return strcmp(run->fail_stage, r->fail_stage ? r->fail_stage : "unknown") == 0 &&
		    strcmp(run->fail_reason, r->fail_reason ? r->fail_reason : "unknown") == 0;
	return run->verified == r->verdict.verified &&
	    (run->verified || run->reasons == r->verdict.reasons);
}

void
store_run_outcome(struct buf *b, const struct store_run *run)
{
	if (!run->success) {
		buf_puts(b, "failed ");
		store_escape(b, run->fail_stage);
		buf_putc(b, ' ');
		store_escape(b, run->fail_reason);
	} else if (run->verified) {
		buf_puts(b, "ok");
	} else {
		buf_puts(b, "unverified ");
		verdict_words_join(b, VERDICT_REASON, run->reasons, ",", "-");
	}
}

/* ------------------------------------------------------------ the store */

struct store *
store_new(struct loop *l, const char *dir, uint64_t refresh_ms, char **err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *what = xasprintf("state_dir %s", dir);

	s->writer = writer_new(l, what, err);
	free(what);
	if (s->writer == NULL) {
		free(s);
		return NULL;
	}
	s->dir = xstrdup(dir);
	s->targets_dir = xasprintf("%s/targets", dir);
	s->certs_dir = xasprintf("%s/certs", dir);
	s->refresh_ms = refresh_ms;
	if ((s->pool = work_pool_new(l, 1, "tlswatch-load", err)) == NULL) {
		writer_free(s->writer);
		free(s->dir);
		free(s->targets_dir);
		free(s->certs_dir);
		free(s);
		return NULL;
	}
	loop_timer_init(&s->cleanup, NULL);
	file_remove_tmp(s->targets_dir);
	file_remove_tmp(s->certs_dir);
	return s;
}

static void
written_free_all(struct store *s)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct written *w, *next;

		for (w = s->tab[i]; w; w = next) {
			next = w->hnext;
			free(w);
		}
	}
	free(s->tab);
	s->tab = NULL;
	s->nbuckets = s->nwritten = 0;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	/* a clean-up running stops at its next file; loads are cancelled by
	 * their owners (store_loader_free) and end at their next file */
	store_cleanup_cancel(s);
	work_pool_free(s->pool);
	writer_free(s->writer);     /* every queued write first */
	if (s->loop)
		loop_timer_cancel(s->loop, &s->cleanup);
	free(s->seen.slot);
	written_free_all(s);
	free(s->dir);
	free(s->targets_dir);
	free(s->certs_dir);
	free(s);
}

const char *
store_dir(const struct store *s)
{
	return s->dir;
}

uint64_t
store_write_errors(const struct store *s)
{
	return s ? writer_errors(s->writer) : 0;
}

void
store_drain(struct store *s)
{
	if (s)
		writer_drain(s->writer);
}

static size_t
written_bucket(const struct store *s, const char *name)
{
	return (size_t)(hash64(name, strlen(name)) & (s->nbuckets - 1));
}

/* The bookkeeping of name's file; made when create is set, else NULL. */
static struct written *
written_get(struct store *s, const char *name, int create)
{
	struct written *w;
	size_t b;

	if (s->nbuckets) {
		for (w = s->tab[written_bucket(s, name)]; w; w = w->hnext)
			if (strcmp(w->name, name) == 0)
				return w;
	}
	if (!create)
		return NULL;
	if (s->nwritten >= s->nbuckets) {
		size_t n = s->nbuckets ? s->nbuckets * 2 : 256;
		struct written **tab = xcalloc(n, sizeof(*tab));

		for (size_t i = 0; i < s->nbuckets; i++) {
			struct written *next;

			for (w = s->tab[i]; w; w = next) {
				next = w->hnext;
				b = (size_t)(hash64(w->name, strlen(w->name)) & (n - 1));
				w->hnext = tab[b];
				tab[b] = w;
			}
		}
		free(s->tab);
		s->tab = tab;
		s->nbuckets = n;
	}
	w = xcalloc(1, sizeof(*w) + strlen(name) + 1);
	memcpy(w->name, name, strlen(name) + 1);
	b = written_bucket(s, name);
	w->hnext = s->tab[b];
	s->tab[b] = w;
	s->nwritten++;
	return w;
}

/* ------------------------------------------------------------ certificates */

static unsigned char *
read_cert(const char *certs_dir, const char *sha256, size_t *len)
{
	char *path = xasprintf("%s/%s.pem", certs_dir, sha256);
	unsigned char *der, d[32];
	char hex[65];
	size_t n, dlen = 0;
	char *pem = file_read_bounded(path, STORE_MAX_FILE, &n);

	free(path);
	if (pem == NULL)
		return NULL;
	der = cert_der_from_pem(pem, n, &dlen);
	free(pem);
	/* A file that is not what its name says is not used. */
	if (der && cert_sha256(der, dlen, d) == 0) {
		hex_encode(d, sizeof(d), hex);
		if (strcmp(hex, sha256) == 0) {
			*len = dlen;
			return der;
		}
	}
	free(der);
	return NULL;
}

unsigned char *
store_read_cert(const char *dir, const char *sha256, size_t *len)
{
	char *certs_dir;
	unsigned char *der;

	if (!is_sha256(sha256))
		return NULL;
	certs_dir = xasprintf("%s/certs", dir);
	der = read_cert(certs_dir, sha256, len);
	free(certs_dir);
	return der;
}

struct cert *
store_cert(const char *dir, const char *sha256)
{
	size_t len;
	unsigned char *der = store_read_cert(dir, sha256, &len);
	struct cert *c = der ? cert_get(der, len) : NULL;

	free(der);
	return c;
}

/* A certificate file settled: one that failed is written again the next
 * time a result carries it. */
static void
cert_written(void *arg, enum writer_status st)
{
	struct cert *c = arg;

	if (st == WRITER_FAILED)
		c->stored = 0;
	cert_put(c);
}

/* Queue the file of c (its DER der) unless it is known to be there. */
static void
put_cert(struct store *s, struct cert *c, const unsigned char *der, size_t len)
{
	char *name, *path, *pem;
	size_t pem_len = 0;

	if (c->stored || der == NULL)
		return;
	name = xasprintf("%s.pem", c->sha256);
	path = xasprintf("%s/%s", s->certs_dir, name);
	/* queued now, so that no other result queues it again; cert_written
	 * takes it back if the write fails */
	c->stored = 1;
	cleanup_veto(s, c->sha256);
	if (access(path, F_OK) != 0) {
		if ((pem = cert_pem(der, len, &pem_len)) == NULL ||
		    writer_put(s->writer, s->certs_dir, name, pem, pem_len,
		    cert_written, c) == -1)
			c->stored = 0;   /* the next result carries it again */
		else
			cert_ref(c);     /* for cert_written */
	}
	free(name);
	free(path);
}

void
store_put_certs(struct store *s, struct result *r)
{
	struct cert *anchor;
	unsigned char *der;
	size_t len;

	for (size_t i = 0; s && i < r->ncerts && i < r->nders; i++)
		put_cert(s, r->certs[i], r->ders[i].data, r->ders[i].len);
	/* the trust anchor of the verified path, for the status page */
	if ((der = verdict_take_anchor_der(&r->verdict, &len, &anchor)) != NULL && s)
		put_cert(s, anchor, der, len);
	free(der);
	result_drop_ders(r);
}

/* ------------------------------------------------------------ the format */

/*
 * The keys of a state file, in the order they are written. Keys of the
 * STAMP part (the probe's own timestamps) are outside the digest that
 * decides whether a file changed; every other key is content. A key of
 * a newer version is ignored when read; one of ours that is missing keeps
 * its default. Adding a key is a line here (and in README's list).
 */
enum part { STAMP, CONTENT };
/* Which struct a key's field lives in. */
enum base { REC, RES, VER };
/* When a key is written. */
enum when {
	ALWAYS,
	IF_RESULT,           /* there is a last result */
	IF_FAILURE,          /* it failed */
	IF_SET,              /* it has the field (a string not NULL) */
	IF_VERDICT,          /* a verdict is remembered */
	IF_SUCCESS_VERDICT,  /* ... and the last result succeeded */
	IF_RUNS,             /* there is a probe history */
};
enum type {
	T_TIME,          /* double, seconds since the epoch, "%.3f" */
	T_SECONDS,       /* double, a duration, "%.6f" */
	T_COUNT,         /* uint64_t */
	T_EPOCH,         /* int64_t, seconds since the epoch */
	T_STR,           /* char *, escaped */
	T_WORD,          /* const char *, escaped, interned when read */
	T_REASONS,       /* uint64_t, verdict words */
	T_ISSUES,
	T_CUSTOM,        /* the key's own functions */
};

struct parse_ctx {
	struct store_record *st;     /* nameless until the end (parse_text) */
	char *name;
	struct result *r;
	int have_result;
	int have_format;
	uint64_t cert_issues[64];    /* by depth, while reading */
	size_t ncert_issues;
	int have_run_since;          /* the current run, while reading */
	double run_since;
	uint64_t run_count;
	/* Where the content lines are in the text (render_content's part of
	 * the file), as offsets: from the first line of content to the end
	 * line. mixed: a stamp line among them (not a file we wrote). */
	size_t content_from, content_to;
	int have_content, mixed;
};

struct key {
	const char *name;
	enum part part;
	enum base base;
	size_t off;                  /* of the field in its base */
	enum when when;
	enum type type;
	const char *dflt;            /* T_WORD, T_STR: written when NULL */
	int (*parse)(struct parse_ctx *p, char *val);
	void (*render)(struct buf *b, const struct key *k, const struct store_record *st,
	               const struct result *r);
};

static int finish_state(const char *certs_dir, struct parse_ctx *p,
    struct store_record **stp, struct result **rp);
static int parse_stage_seconds(struct parse_ctx *p, char *val);
static void put_stage_seconds(struct buf *b, const struct key *k,
    const struct store_record *st, const struct result *r);
static int parse_name(struct parse_ctx *p, char *val);
static void put_name(struct buf *b, const struct key *k, const struct store_record *st,
                     const struct result *r);
static int parse_result(struct parse_ctx *p, char *val);
static void put_result(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_verified(struct parse_ctx *p, char *val);
static void put_verified(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_cert_issues(struct parse_ctx *p, char *val);
static void put_cert_issues(struct buf *b, const struct key *k,
    const struct store_record *st, const struct result *r);
static int parse_cert(struct parse_ctx *p, char *val);
static void put_certs(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_path(struct parse_ctx *p, char *val);
static void put_path(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_run_since(struct parse_ctx *p, char *val);
static void put_run_since(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_run_count(struct parse_ctx *p, char *val);
static void put_run_count(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_run(struct parse_ctx *p, char *val);
static void put_runs(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);
static int parse_history(struct parse_ctx *p, char *val);
static void put_history(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r);

#define F(base, s, field) (base), offsetof(s, field)
static const struct key keys[] = {
	{ "probe_time", STAMP, F(RES, struct result, time), IF_RESULT, T_TIME, NULL, NULL, NULL },
	{ "probe_duration", STAMP, F(RES, struct result, duration), IF_RESULT, T_SECONDS,
	  NULL, NULL, NULL },
	{ "stage_seconds", STAMP, RES, 0, IF_RESULT, T_CUSTOM, NULL, parse_stage_seconds,
	  put_stage_seconds },
	/* the last result that presented the chain: the probe time of every
	 * success, so a stamp; what a failure leaves it at is content enough,
	 * as the failure itself changes the file */
	{ "chain_seen", STAMP, F(REC, struct store_record, chain_seen), ALWAYS, T_TIME, NULL,
	  NULL, NULL },
	/* results in the current run of one outcome: grows with every probe */
	{ "run_count", STAMP, REC, 0, IF_RUNS, T_CUSTOM, NULL, parse_run_count, put_run_count },
	{ "name", CONTENT, REC, 0, ALWAYS, T_CUSTOM, NULL, parse_name, put_name },
	{ "first_seen", CONTENT, F(REC, struct store_record, first_seen), ALWAYS, T_TIME,
	  NULL, NULL, NULL },
	{ "last_change", CONTENT, F(REC, struct store_record, last_change), ALWAYS, T_TIME,
	  NULL, NULL, NULL },
	{ "chain_changed", CONTENT, F(REC, struct store_record, chain_changed), ALWAYS, T_TIME,
	  NULL, NULL, NULL },
	{ "chain_changes", CONTENT, F(REC, struct store_record, chain_changes), ALWAYS, T_COUNT,
	  NULL, NULL, NULL },
	{ "result", CONTENT, RES, 0, IF_RESULT, T_CUSTOM, NULL, parse_result, put_result },
	{ "fail_stage", CONTENT, F(RES, struct result, fail_stage), IF_FAILURE, T_WORD,
	  "unknown", NULL, NULL },
	{ "fail_reason", CONTENT, F(RES, struct result, fail_reason), IF_FAILURE, T_WORD,
	  "unknown", NULL, NULL },
	{ "fail_detail", CONTENT, F(RES, struct result, fail_detail), IF_FAILURE, T_STR,
	  "", NULL, NULL },
	{ "peer", CONTENT, F(RES, struct result, peer), IF_SET, T_STR, NULL, NULL, NULL },
	{ "tls_version", CONTENT, F(RES, struct result, tls_version), IF_SET, T_WORD, NULL,
	  NULL, NULL },
	{ "cipher", CONTENT, F(RES, struct result, cipher), IF_SET, T_WORD, NULL, NULL, NULL },
	{ "tls_group", CONTENT, F(RES, struct result, tls_group), IF_SET, T_WORD, NULL, NULL,
	  NULL },
	{ "tls_sigscheme", CONTENT, F(RES, struct result, tls_sigscheme), IF_SET, T_WORD, NULL,
	  NULL, NULL },
	{ "verified", CONTENT, REC, 0, IF_VERDICT, T_CUSTOM, NULL, parse_verified,
	  put_verified },
	{ "reasons", CONTENT, F(REC, struct store_record, reasons), IF_VERDICT, T_REASONS,
	  NULL, NULL, NULL },
	{ "issues", CONTENT, F(REC, struct store_record, issues), IF_VERDICT, T_ISSUES,
	  NULL, NULL, NULL },
	{ "earliest_expiry", CONTENT, F(VER, struct verdict, earliest_expiry),
	  IF_SUCCESS_VERDICT, T_EPOCH, NULL, NULL, NULL },
	{ "verified_expiry", CONTENT, F(VER, struct verdict, verified_expiry),
	  IF_SUCCESS_VERDICT, T_EPOCH, NULL, NULL, NULL },
	/* what checks say per certificate: "cert_issues DEPTH word,word", one
	 * line per depth that has any */
	{ "cert_issues", CONTENT, VER, 0, IF_SUCCESS_VERDICT, T_CUSTOM, NULL,
	  parse_cert_issues, put_cert_issues },
	{ "path_expiry", CONTENT, F(REC, struct store_record, path_expiry), IF_VERDICT, T_EPOCH,
	  NULL, NULL, NULL },
	/* the verified path: "path FP,FP,..." leaf first, trust anchor last */
	{ "path", CONTENT, REC, 0, IF_VERDICT, T_CUSTOM, NULL, parse_path, put_path },
	{ "failing_since", CONTENT, F(REC, struct store_record, failing_since), ALWAYS, T_TIME,
	  NULL, NULL, NULL },
	{ "verified_since", CONTENT, F(REC, struct store_record, verified_since), ALWAYS,
	  T_TIME, NULL, NULL, NULL },
	/* the probe history: the current run starts at run_since (its outcome
	 * is the result's); earlier runs are "run SINCE UNTIL COUNT OUTCOME",
	 * newest first */
	{ "run_since", CONTENT, REC, 0, IF_RUNS, T_CUSTOM, NULL, parse_run_since, put_run_since },
	{ "run", CONTENT, REC, 0, IF_RUNS, T_CUSTOM, NULL, parse_run, put_runs },
	{ "cert", CONTENT, REC, 0, ALWAYS, T_CUSTOM, NULL, parse_cert, put_certs },
	{ "history", CONTENT, REC, 0, ALWAYS, T_CUSTOM, NULL, parse_history, put_history },
};
#undef F

static void *
field(const struct key *k, const struct store_record *st, const struct result *r)
{
	const void *base = k->base == REC ? (const void *)st : k->base == RES ?
	    (const void *)r : r ? (const void *)&r->verdict : NULL;

	return base ? (char *)base + k->off : NULL;
}

static int
key_wanted(const struct key *k, const struct store_record *st, const struct result *r)
{
	switch (k->when) {
	case ALWAYS:
		return 1;
	case IF_RESULT:
		return r != NULL;
	case IF_FAILURE:
		return r != NULL && !r->success;
	case IF_SET:
		return r != NULL && *(char **)field(k, st, r) != NULL;
	case IF_VERDICT:
		return st->have_verdict;
	case IF_SUCCESS_VERDICT:
		return st->have_verdict && r != NULL && r->success;
	case IF_RUNS:
		return st->nruns > 0 && r != NULL;
	}
	return 0;
}

static void
put_key(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	void *f;

	if (!key_wanted(k, st, r))
		return;
	if (k->type == T_CUSTOM && k->render) {
		k->render(b, k, st, r);
		return;
	}
	f = field(k, st, r);
	buf_puts(b, k->name);
	buf_putc(b, ' ');
	switch (k->type) {
	case T_TIME:
		buf_printf(b, "%.3f", *(double *)f);
		break;
	case T_SECONDS:
		buf_printf(b, "%.6f", *(double *)f);
		break;
	case T_COUNT:
		buf_printf(b, "%llu", (unsigned long long)*(uint64_t *)f);
		break;
	case T_EPOCH:
		buf_printf(b, "%lld", (long long)*(int64_t *)f);
		break;
	case T_STR:
	case T_WORD: {
		const char *v = *(const char **)f;

		store_escape(b, v ? v : k->dflt);
		break;
	}
	case T_REASONS:
		verdict_words_join(b, VERDICT_REASON, *(uint64_t *)f, ",", "-");
		break;
	case T_ISSUES:
		verdict_words_join(b, VERDICT_CHAIN_ISSUE, *(uint64_t *)f, ",", "-");
		break;
	case T_CUSTOM:      /* rendered by k->render, above */
		break;
	}
	buf_putc(b, '\n');
}

/* Render one part of a file. */
static void
render_part(struct buf *b, enum part part, const struct store_record *st,
    const struct result *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].part == part)
			put_key(b, &keys[i], st, r);
}

static int
parse_double(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	return end != v && *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

/* A time of day (seconds since the epoch): 0 (never) up to the last second
 * X.509 can express. Beyond that a file is damaged, and a cast to time_t
 * further on would be undefined. */
static int
parse_time(const char *v, double *out)
{
	return parse_double(v, out) == 0 && *out >= 0 && *out <= TIME_MAX_EPOCH ? 0 : -1;
}

/* A duration in seconds: a probe's stages, bounded by any sane timeout. */
static int
parse_seconds(const char *v, double *out)
{
	return parse_double(v, out) == 0 && *out >= 0 && *out <= 86400.0 * 366 ? 0 : -1;
}

static int
parse_i64(const char *v, int64_t *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0)
		return -1;
	*out = n;
	return 0;
}

/* One key's value into its field: 0, or -1 when it is bad. */
static int
parse_key(struct parse_ctx *p, const struct key *k, char *val)
{
	void *f;
	int64_t n;

	if (k->parse)
		return k->parse(p, val);
	f = field(k, p->st, p->r);
	switch (k->type) {
	case T_TIME:
		return parse_time(val, f);
	case T_SECONDS:
		return parse_seconds(val, f);
	case T_COUNT:
		if (parse_i64(val, &n) == -1 || n < 0)
			return -1;
		*(uint64_t *)f = (uint64_t)n;
		return 0;
	case T_EPOCH:
		if (parse_i64(val, &n) == -1 || !time_epoch_ok(n))
			return -1;
		*(int64_t *)f = n;
		return 0;
	case T_STR:
		free(*(char **)f);
		return (*(char **)f = store_unescape(val)) != NULL ? 0 : -1;
	case T_WORD: {
		char *v = store_unescape(val);

		*(const char **)f = v ? str_intern_read(v) : NULL;
		free(v);
		return *(const char **)f != NULL ? 0 : -1;
	}
	case T_REASONS:
		return verdict_words_parse(VERDICT_REASON, val, f);
	case T_ISSUES:
		return verdict_words_parse(VERDICT_CHAIN_ISSUE, val, f);
	case T_CUSTOM:
		return -1;
	}
	return -1;
}

static int
parse_stage_seconds(struct parse_ctx *p, char *val)
{
	double stage[STAGE_COUNT];
	char *end = val;

	for (int i = 0; i < STAGE_COUNT; i++) {
		stage[i] = strtod(end, &end);
		/* -1: the stage was not reached */
		if (!(stage[i] == -1 || (stage[i] >= 0 && stage[i] <= 86400.0 * 366)))
			return -1;
	}
	if (*end != '\0')
		return -1;
	memcpy(p->r->stage_seconds, stage, sizeof(stage));
	return 0;
}

static void
put_stage_seconds(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)st;
	buf_puts(b, k->name);
	for (int i = 0; i < STAGE_COUNT; i++)
		buf_printf(b, " %.6f", r->stage_seconds[i] >= 0 ? r->stage_seconds[i] : -1.0);
	buf_putc(b, '\n');
}

static int
parse_name(struct parse_ctx *p, char *val)
{
	free(p->name);
	return (p->name = store_unescape(val)) != NULL && *p->name ? 0 : -1;
}

static void
put_name(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	buf_puts(b, k->name);
	buf_putc(b, ' ');
	store_escape(b, st->name);
	buf_putc(b, '\n');
}

static int
parse_result(struct parse_ctx *p, char *val)
{
	if (strcmp(val, "success") != 0 && strcmp(val, "failure") != 0)
		return -1;
	p->r->success = strcmp(val, "success") == 0;
	p->have_result = 1;
	return 0;
}

static void
put_result(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)st;
	buf_printf(b, "%s %s\n", k->name, r->success ? "success" : "failure");
}

static int
parse_verified(struct parse_ctx *p, char *val)
{
	if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
		return -1;
	p->st->verified = val[0] == '1';
	p->st->have_verdict = 1;
	return 0;
}

static void
put_verified(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	buf_printf(b, "%s %d\n", k->name, st->verified);
}

static int
parse_cert_issues(struct parse_ctx *p, char *val)
{
	char *sp = strchr(val, ' '), *end;
	unsigned long depth;
	uint64_t set;

	if (sp == NULL)
		return -1;
	*sp = '\0';
	errno = 0;
	depth = strtoul(val, &end, 10);
	if (end == val || *end != '\0' || errno != 0 || depth >= ARRAY_SIZE(p->cert_issues) ||
	    verdict_words_parse(VERDICT_CERT_ISSUE, sp + 1, &set) == -1)
		return -1;
	p->cert_issues[depth] = set;
	if (depth + 1 > p->ncert_issues)
		p->ncert_issues = depth + 1;
	return 0;
}

static void
put_cert_issues(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	size_t n;
	const uint64_t *ci = verdict_cert_issues(&r->verdict, &n);

	(void)st;
	for (size_t d = 0; ci && d < n; d++) {
		if (ci[d] == 0)
			continue;
		buf_printf(b, "%s %zu ", k->name, d);
		verdict_words_join(b, VERDICT_CERT_ISSUE, ci[d], ",", "-");
		buf_putc(b, '\n');
	}
}

static int
parse_cert(struct parse_ctx *p, char *val)
{
	struct store_record *st = p->st;

	if (!is_sha256(val) || st->chain.n >= 1000)
		return -1;
	st->chain.fps = xreallocarray(st->chain.fps, st->chain.n + 1, sizeof(*st->chain.fps));
	st->chain.fps[st->chain.n++] = fp_get(val);
	return 0;
}

static void
put_certs(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	for (size_t i = 0; i < st->chain.n; i++)
		buf_printf(b, "%s %s\n", k->name, st->chain.fps[i]);
}

static int
parse_fps(const char *v, struct store_chain *c)
{
	const char *p = v;

	if (strcmp(v, "-") == 0)
		return 0;
	for (;;) {
		char fp[65];

		if (strlen(p) < 64)
			return -1;
		memcpy(fp, p, 64);
		fp[64] = '\0';
		if (!is_sha256(fp))
			return -1;
		c->fps = xreallocarray(c->fps, c->n + 1, sizeof(*c->fps));
		c->fps[c->n++] = fp_get(fp);
		p += 64;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

static int
parse_path(struct parse_ctx *p, char *val)
{
	store_chain_free(&p->st->path);
	if (parse_fps(val, &p->st->path) == -1 || p->st->path.n > 64) {
		store_chain_free(&p->st->path);
		return -1;
	}
	return 0;
}

static void
put_path(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	buf_puts(b, k->name);
	buf_putc(b, ' ');
	for (size_t j = 0; j < st->path.n; j++)
		buf_printf(b, "%s%s", j ? "," : "", st->path.fps[j]);
	if (st->path.n == 0)
		buf_putc(b, '-');
	buf_putc(b, '\n');
}

static int
parse_run_since(struct parse_ctx *p, char *val)
{
	p->have_run_since = 1;
	return parse_time(val, &p->run_since);
}

static void
put_run_since(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	buf_printf(b, "%s %.3f\n", k->name, st->runs[0].since);
}

static int
parse_run_count(struct parse_ctx *p, char *val)
{
	int64_t n;

	if (parse_i64(val, &n) == -1 || n < 1)
		return -1;
	p->run_count = (uint64_t)n;
	return 0;
}

static void
put_run_count(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	buf_printf(b, "%s %llu\n", k->name, (unsigned long long)st->runs[0].count);
}

/* A word of the outcome: escaped, interned; NULL when malformed. */
static const char *
parse_word(const char *s)
{
	char *v = store_unescape(s);
	const char *w = v && *v ? str_intern_read(v) : NULL;

	free(v);
	return w;
}

/* "SINCE UNTIL COUNT ok|unverified REASONS|failed STAGE REASON" */
static int
parse_run(struct parse_ctx *p, char *val)
{
	struct store_record *st = p->st;
	struct store_run run;
	char *f[6], *save = NULL;
	size_t n = 0;
	int64_t count;

	memset(&run, 0, sizeof(run));
	for (char *t = strtok_r(val, " ", &save); t && n < ARRAY_SIZE(f);
	    t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 4 || parse_time(f[0], &run.since) == -1 || parse_time(f[1], &run.until) == -1 ||
	    parse_i64(f[2], &count) == -1 || count < 1 || run.until < run.since)
		return -1;
	run.count = (uint64_t)count;
	if (strcmp(f[3], "ok") == 0 && n == 4) {
		run.success = run.verified = 1;
	} else if (strcmp(f[3], "unverified") == 0 && n == 5) {
		run.success = 1;
		if (verdict_words_parse(VERDICT_REASON, f[4], &run.reasons) == -1)
			return -1;
	} else if (strcmp(f[3], "failed") == 0 && n == 6) {
		if ((run.fail_stage = parse_word(f[4])) == NULL ||
		    (run.fail_reason = parse_word(f[5])) == NULL)
			return -1;
	} else {
		return -1;
	}
	/* room for the current run in front; what a version keeping more
	 * wrote beyond ours is the oldest, dropped */
	if (st->nruns >= STORE_RUNS - 1)
		return 0;
	st->runs = xreallocarray(st->runs, st->nruns + 1, sizeof(*st->runs));
	st->runs[st->nruns++] = run;
	return 0;
}

static void
put_runs(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	for (size_t i = 1; i < st->nruns; i++) {
		const struct store_run *run = &st->runs[i];

		buf_printf(b, "%s %.3f %.3f %llu ", k->name, run->since, run->until,
		    (unsigned long long)run->count);
		store_run_outcome(b, run);
		buf_putc(b, '\n');
	}
}

static int
parse_history(struct parse_ctx *p, char *val)
{
	struct store_record *st = p->st;
	struct store_chain h = { 0, 0, NULL, 0 };
	char *sp1 = strchr(val, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	int ok;

	if (sp1 == NULL || sp2 == NULL)
		return -1;
	*sp1 = *sp2 = '\0';
	ok = parse_time(val, &h.since) == 0 &&
	    parse_time(sp1 + 1, &h.until) == 0 && parse_fps(sp2 + 1, &h) == 0;
	if (!ok || st->nhist >= STORE_HISTORY)
		store_chain_free(&h);
	if (!ok)
		return -1;
	/* newest first: what a version keeping more wrote beyond ours is the
	 * oldest, and is dropped, not an error */
	if (st->nhist >= STORE_HISTORY)
		return 0;
	st->hist = xreallocarray(st->hist, st->nhist + 1, sizeof(*st->hist));
	st->hist[st->nhist++] = h;
	return 0;
}

static void
put_history(struct buf *b, const struct key *k, const struct store_record *st,
    const struct result *r)
{
	(void)r;
	for (size_t i = 0; i < st->nhist; i++) {
		const struct store_chain *h = &st->hist[i];

		buf_printf(b, "%s %.3f %.3f ", k->name, h->since, h->until);
		for (size_t j = 0; j < h->n; j++)
			buf_printf(b, "%s%s", j ? "," : "", h->fps[j]);
		if (h->n == 0)
			buf_putc(b, '-');
		buf_putc(b, '\n');
	}
}

/* The content of a state file, the probe's timestamps aside: written when it
 * differs from what was last written. */
static void
render_content(struct buf *b, const struct store_record *st, const struct result *r)
{
	render_part(b, CONTENT, st, r);
}

/* The whole file. */
static void
render_file(struct buf *b, const struct store_record *st, const struct result *r,
    const struct buf *content)
{
	buf_printf(b, "format %d\n", STORE_FORMAT);
	render_part(b, STAMP, st, r);
	buf_append(b, content->data, content->len);
	buf_puts(b, "end\n");
}

char *
store_render(const struct store_record *st, const struct result *r)
{
	struct buf content, file;

	buf_init(&content);
	buf_init(&file);
	render_content(&content, st, r);
	render_file(&file, st, r, &content);
	buf_free(&content);
	return buf_steal(&file);
}

/* What identifies a state file's content, to compare with the last write.
 * 0, or -1 when it cannot be computed (then the file counts as changed). */
static int
content_digest(const struct buf *b, unsigned char out[32])
{
	return cert_sha256(b->data ? b->data : "", b->len, out);
}

/* The digest of the content as it is on disk, from the copy of the text
 * parse_text was given (it cuts its own): what a write of the same
 * content would find there. -1 when the file is not laid out as render_file
 * writes it (then the next write is not skipped). */
static int
disk_digest(const char *copy, const struct parse_ctx *p, unsigned char out[32])
{
	if (p->mixed || !p->have_content || p->content_to < p->content_from)
		return -1;
	return cert_sha256(copy + p->content_from, p->content_to - p->content_from, out);
}

static const struct key *
find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Parse text into p: its record and result, without certificates (no
 * interned object is touched: safe on the loader thread). -1 with *err on
 * anything amiss. */
static int
parse_text(char *text, struct parse_ctx *pp, char **err)
{
	struct parse_ctx p;
	int have_end = 0, lineno = 0;
	char *line, *next;
	const char *bad = NULL;

	memset(&p, 0, sizeof(p));
	p.st = xcalloc(1, sizeof(*p.st));
	p.r = xcalloc(1, sizeof(*p.r));
	for (int i = 0; i < STAGE_COUNT; i++)
		p.r->stage_seconds[i] = -1;
	for (line = text; line && *line && !have_end; line = next) {
		char *key = line, *val, *nl = strchr(line, '\n');
		const struct key *k = NULL;
		size_t at = (size_t)(line - text);
		int64_t n;

		lineno++;
		if (nl == NULL) {
			bad = "truncated (no newline at the end)";
			break;
		}
		*nl = '\0';
		next = nl + 1;
		if (*line == '#' || *line == '\0')
			continue;
		if ((val = strchr(line, ' ')) == NULL)
			val = line + strlen(line);
		else
			*val++ = '\0';
		if (lineno == 1) {
			if (strcmp(key, "format") != 0 || parse_i64(val, &n) != 0) {
				bad = "bad value";
				break;
			}
			if (n != STORE_FORMAT) {
				bad = "unknown format version";
				break;
			}
			p.have_format = 1;
		} else if (strcmp(key, "end") == 0) {
			have_end = 1;
			p.content_to = at;
		} else if ((k = find_key(key)) != NULL && parse_key(&p, k, val) == -1) {
			bad = "bad value";
			break;
		}
		/* unknown keys: written by a newer version; ignored */
		if (lineno == 1 || have_end)
			continue;
		if (k != NULL && k->part == STAMP) {
			p.mixed |= p.have_content;
		} else if (!p.have_content) {
			p.have_content = 1;
			p.content_from = at;
		}
	}
	if (bad == NULL) {
		if (!p.have_format)
			bad = "not a tlswatch state file";
		else if (!have_end)
			bad = "truncated (no end line)";
		else if (p.name == NULL)
			bad = "no name";
	}
	if (bad) {
		*err = xasprintf("line %d: %s", lineno, bad);
		store_record_free(p.st);
		result_free(p.r);
		free(p.name);
		return -1;
	}
	/* the record again, its name in it (no field points into it) */
	{
		size_t len = strlen(p.name);
		struct store_record *st = xmalloc(sizeof(*st) + len + 1);

		*st = *p.st;
		memcpy(st->name, p.name, len + 1);
		free(p.st);
		free(p.name);
		p.st = st;
		p.name = NULL;
	}
	*pp = p;
	return 0;
}

/* parse_text, and with digest the digest of the content lines as they are
 * on disk (*have 0 when there is none): what is there counts as written,
 * so a file in another layout (an older version's, a hand edit) is written
 * again at the first chance. The copy is because parse_text cuts the text
 * it parses. */
static int
parse_text_digest(char *text, size_t len, struct parse_ctx *p, char **err,
    unsigned char digest[32], int *have)
{
	char *copy;
	int rc;

	if (digest == NULL)
		return parse_text(text, p, err);
	copy = xmalloc(len + 1);
	memcpy(copy, text, len + 1);
	rc = parse_text(text, p, err);
	*have = rc == 0 && disk_digest(copy, p, digest) == 0;
	free(copy);
	return rc;
}

/* The stored certificates of c, NULL where a file is missing or bad. */
static struct cert **
load_certs(const char *certs_dir, const struct store_chain *c)
{
	struct cert **certs = xcalloc(c->n ? c->n : 1, sizeof(*certs));

	for (size_t i = 0; i < c->n; i++) {
		size_t len;
		unsigned char *der;

		/* targets share chains: one read and parse per certificate */
		if ((certs[i] = cert_find(c->fps[i])) != NULL) {
			certs[i]->stored = 1;
			continue;
		}
		if ((der = read_cert(certs_dir, c->fps[i], &len)) != NULL) {
			certs[i] = cert_get(der, len);
			if (certs[i])
				certs[i]->stored = 1;
			free(der);
		}
	}
	return certs;
}

/* The current run, in front of the earlier ones read, from run_since and
 * run_count and the last result's outcome. */
static void
finish_runs(struct parse_ctx *p, const struct result *r)
{
	struct store_record *st = p->st;
	struct store_run run;

	if (!p->have_run_since || r == NULL) {
		/* no current run: the earlier ones stand alone (or go with no
		 * result to end them) */
		if (r == NULL) {
			free(st->runs);
			st->runs = NULL;
			st->nruns = 0;
		}
		return;
	}
	memset(&run, 0, sizeof(run));
	run.since = p->run_since <= r->time ? p->run_since : r->time;
	run.until = r->time;
	run.count = p->run_count ? p->run_count : 1;
	run.success = r->success;
	run.verified = r->success && r->verdict.verified;
	run.reasons = r->success ? r->verdict.reasons : 0;
	run.fail_stage = r->success ? NULL : r->fail_stage;
	run.fail_reason = r->success ? NULL : r->fail_reason;
	st->runs = xreallocarray(st->runs, st->nruns + 1, sizeof(*st->runs));
	memmove(st->runs + 1, st->runs, st->nruns * sizeof(*st->runs));
	st->runs[0] = run;
	st->nruns++;
}

/* A parsed file made whole but for its certificates, nfound of whose
 * chain's are at hand: all that needs no interned certificate, so that the
 * loader thread can do it. The result goes to p->r (NULL: none). */
static void
finish_fields(struct parse_ctx *p, size_t nfound)
{
	struct store_record *st = p->st;
	struct result *r = p->r;

	st->chain.since = st->chain_changed;
	if (!p->have_result || r->time <= 0) {
		result_free(r);
		r = NULL;
	} else if (r->success) {
		r->verdict.verified = st->verified;
		r->verdict.reasons = st->reasons;
		r->verdict.issues = st->issues;
		/* per depth of the stored chain; beyond what was kept, nothing */
		if (p->ncert_issues && p->ncert_issues <= nfound)
			verdict_set_cert_issues(&r->verdict, p->cert_issues, p->ncert_issues);
	} else {
		if (r->fail_stage == NULL)
			r->fail_stage = "unknown";
		if (r->fail_reason == NULL)
			r->fail_reason = "unknown";
	}
	finish_runs(p, r);
	p->r = r;
}

static size_t
count_found(struct cert *const *certs, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += certs[i] != NULL;
	return k;
}

/* The record's certificates (st->certs, st->path_certs) into its result:
 * the presented chain is the stored one; certificates whose file is gone
 * are left out rather than invented. Loop thread. */
static void
attach_certs(const struct store_record *st, struct result *r)
{
	if (r == NULL || !r->success)
		return;
	r->certs = xcalloc(st->chain.n ? st->chain.n : 1, sizeof(*r->certs));
	for (size_t i = 0; i < st->chain.n; i++)
		if (st->certs[i])
			r->certs[r->ncerts++] = cert_ref(st->certs[i]);
	verdict_set_path(&r->verdict, st->path_certs, st->path.n);
	for (size_t i = 0; i < st->path.n; i++)
		if (st->path_certs[i] == NULL) {
			verdict_set_path(&r->verdict, NULL, 0);   /* not whole */
			break;
		}
}

/* A parsed file made whole: the stored certificates read, the result
 * given the stored chain and verdict. Loop thread. */
static int
finish_state(const char *certs_dir, struct parse_ctx *p, struct store_record **stp,
    struct result **rp)
{
	struct store_record *st = p->st;

	st->certs = load_certs(certs_dir, &st->chain);
	st->path_certs = load_certs(certs_dir, &st->path);
	finish_fields(p, count_found(st->certs, st->chain.n));
	attach_certs(st, p->r);
	*stp = st;
	*rp = p->r;
	return 0;
}

/* store_parse_file, and with digest the digest of what is on disk
 * (parse_text_digest). */
static int
parse_file(const char *dir, const char *path, struct store_record **st,
    struct result **r, char **err, unsigned char digest[32], int *have)
{
	struct parse_ctx p;
	char *certs_dir, *text;
	size_t len;
	int rc = -1;

	*st = NULL;
	*r = NULL;
	if ((text = file_read_bounded(path, STORE_MAX_FILE, &len)) == NULL) {
		*err = xstrdup(file_strerror(errno));
		return -1;
	}
	if (parse_text_digest(text, len, &p, err, digest, have) == 0) {
		certs_dir = xasprintf("%s/certs", dir);
		rc = finish_state(certs_dir, &p, st, r);
		free(certs_dir);
	}
	free(text);
	return rc;
}

int
store_parse_file(const char *dir, const char *path, struct store_record **st,
    struct result **r, char **err)
{
	return parse_file(dir, path, st, r, err, NULL, NULL);
}

/* Remember what is on disk as what was written last. */
static void
written_set_digest(struct store *s, const char *name, const unsigned char digest[32],
    int have, double at)
{
	struct written *w = written_get(s, name, 1);

	memcpy(w->digest, digest, sizeof(w->digest));
	w->have = have;
	w->at = at;
}

int
store_load(struct store *s, const char *name, struct store_record **recp, struct result **rp)
{
	char *file = store_file_name(name);
	char *path = xasprintf("%s/%s", s->targets_dir, file);
	struct store_record *st = NULL;
	struct result *r = NULL;
	char *err = NULL;
	unsigned char digest[32];
	int loaded = 0, have = 0;

	*recp = NULL;
	*rp = NULL;
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		log_debug("target %s: no state in %s", name, path);
	} else if (parse_file(s->dir, path, &st, &r, &err, digest, &have) == -1) {
		log_warnx("target %s: state file %s unusable (%s); starting fresh",
		    name, path, err);
		free(err);
	} else if (strcmp(st->name, name) != 0) {
		log_warnx("target %s: state file %s is for another target (%s); "
		    "starting fresh", name, path, st->name);
		store_record_free(st);
		result_free(r);
	} else {
		/* no write until something changes or the refresh falls due */
		written_set_digest(s, name, digest, have, r ? r->time : wall_now());
		*recp = st;
		*rp = r;
		loaded = 1;
	}
	free(file);
	free(path);
	return loaded;
}

/* ------------------------------------------------------------ loading off the loop */

/*
 * A loader reads state files on the store's thread, a batch of names at a
 * time, and hands each batch back to the loop whole: the thread reads and
 * parses the files, reads, decodes and checks the certificate files and
 * parses the certificates (cert_parse); the loop interns them and installs
 * records. Targets share intermediates: the thread parses each certificate
 * once per generation and marks later uses SEEN, which the loop finds
 * interned, as the loader holds a reference to every certificate it
 * interned in the generation. A generation ends when no batch is in
 * flight: the references go, and the thread's set starts again empty.
 */
struct store_loader {
	struct store *store;
	store_batch_fn done;
	void *arg;
	uint64_t gen;
	size_t in_flight;
	struct store_batch **batches;   /* submitted, done not called */
	size_t nbatches;
	struct cert **held;             /* one reference each, this generation */
	size_t nheld, capheld;
};

enum entry_status { ENTRY_NONE, ENTRY_OK, ENTRY_BAD, ENTRY_OTHER, ENTRY_TAKEN };

/* A certificate the loader thread parsed in an earlier entry: interned by
 * now, found by its fingerprint. */
static struct cert entry_seen;
#define SEEN (&entry_seen)

struct entry {
	char *name;
	char *path;
	enum entry_status status;
	char *err;                      /* ENTRY_BAD: why; ENTRY_OTHER: whose */
	struct store_record *st;        /* ENTRY_OK: without certificates */
	struct result *r;
	struct cert **pre;              /* chain.n, then path.n: parsed, SEEN or NULL */
	size_t nfound;                  /* of the chain's */
	unsigned char digest[32];
	int have_digest;
	double at;
};

struct store_batch {
	struct work_job job;
	struct store *store;
	struct store_loader *loader;    /* NULL once cancelled */
	uint64_t gen;
	int cancelled;                  /* atomic: set on the loop, read on the thread */
	int first;                      /* store_batch_submit_first */
	struct entry *e;
	size_t n;
};

/* A fingerprint (64 lowercase hex digits, checked by the parser) as its
 * 32 bytes: half the memory of the text. No SHA-256 is all zeros, so a
 * zero slot is a free one. */
static void
fp_bytes(const char *fp, unsigned char out[32])
{
	for (size_t i = 0; i < 32; i++)
		out[i] = (unsigned char)(hex_value(fp[2 * i]) << 4 | hex_value(fp[2 * i + 1]));
}

static int
slot_empty(const unsigned char d[32])
{
	static const unsigned char zero[32];

	return memcmp(d, zero, 32) == 0;
}

static size_t
fpset_slot(const struct fpset *f, const unsigned char d[32])
{
	size_t i = (size_t)hash64(d, 32) & (f->cap - 1);

	while (!slot_empty(f->slot[i]) && memcmp(f->slot[i], d, 32) != 0)
		i = (i + 1) & (f->cap - 1);
	return i;
}

static int
fpset_has(const struct fpset *f, const char *fp)
{
	unsigned char d[32];

	if (f->cap == 0)
		return 0;
	fp_bytes(fp, d);
	return !slot_empty(f->slot[fpset_slot(f, d)]);
}

static void
fpset_add(struct fpset *f, const char *fp)
{
	unsigned char d[32];
	size_t i;

	if (2 * (f->n + 1) > f->cap) {
		struct fpset g = { NULL, f->cap ? f->cap * 2 : 1024, 0 };

		g.slot = xcalloc(g.cap, sizeof(*g.slot));
		for (size_t k = 0; k < f->cap; k++)
			if (!slot_empty(f->slot[k])) {
				memcpy(g.slot[fpset_slot(&g, f->slot[k])], f->slot[k], 32);
				g.n++;
			}
		free(f->slot);
		*f = g;
	}
	fp_bytes(fp, d);
	i = fpset_slot(f, d);
	if (slot_empty(f->slot[i])) {
		memcpy(f->slot[i], d, 32);
		f->n++;
	}
}

static void
fpset_clear(struct fpset *f)
{
	free(f->slot);
	memset(f, 0, sizeof(*f));
}

/* The certificates of c for an entry, from the files or SEEN. Loader thread. */
static void
entry_certs(struct store *s, const struct store_chain *c, struct cert **out)
{
	for (size_t i = 0; i < c->n; i++) {
		unsigned char *der;
		size_t len;

		out[i] = NULL;
		if (fpset_has(&s->seen, c->fps[i])) {
			out[i] = SEEN;
			continue;
		}
		if ((der = read_cert(s->certs_dir, c->fps[i], &len)) == NULL)
			continue;
		/* the file's name is its DER's SHA-256 (read_cert checked it) */
		if ((out[i] = cert_parse(der, len)) != NULL)
			fpset_add(&s->seen, c->fps[i]);
		free(der);
	}
}

/* One state file, read and parsed as far as a thread may. Loader thread. */
static void
entry_read(struct store *s, struct entry *e)
{
	struct parse_ctx p;
	char *file = store_file_name(e->name), *text;
	size_t len;

	e->path = xasprintf("%s/%s", s->targets_dir, file);
	free(file);
	if ((text = file_read_bounded(e->path, STORE_MAX_FILE, &len)) == NULL) {
		if (errno == ENOENT) {
			e->status = ENTRY_NONE;
		} else {
			e->status = ENTRY_BAD;
			e->err = xstrdup(file_strerror(errno));
		}
		return;
	}
	if (parse_text_digest(text, len, &p, &e->err, e->digest, &e->have_digest) == -1) {
		free(text);
		e->status = ENTRY_BAD;
		return;
	}
	free(text);
	if (strcmp(p.st->name, e->name) != 0) {
		e->status = ENTRY_OTHER;
		e->err = xstrdup(p.st->name);
		store_record_free(p.st);
		result_free(p.r);
		return;
	}
	e->pre = xcalloc(p.st->chain.n + p.st->path.n + 1, sizeof(*e->pre));
	entry_certs(s, &p.st->chain, e->pre);
	entry_certs(s, &p.st->path, e->pre + p.st->chain.n);
	e->nfound = count_found(e->pre, p.st->chain.n);
	finish_fields(&p, e->nfound);
	e->st = p.st;
	e->r = p.r;
	e->at = e->r ? e->r->time : wall_now();
	e->status = ENTRY_OK;
}

static void
batch_run(struct work_job *j)
{
	struct store_batch *b = container_of(j, struct store_batch, job);
	struct store *s = b->store;

	if (s->seen_gen != b->gen) {
		fpset_clear(&s->seen);
		s->seen_gen = b->gen;
	}
	for (size_t i = 0; i < b->n; i++) {
		/* a reload or a stop: the rest is not read */
		if (__atomic_load_n(&b->cancelled, __ATOMIC_RELAXED))
			break;
		entry_read(s, &b->e[i]);
	}
}

static void
entry_free(struct entry *e)
{
	size_t n = e->st ? e->st->chain.n + e->st->path.n : 0;

	for (size_t i = 0; e->pre != NULL && i < n; i++)
		if (e->pre[i] != SEEN)
			cert_parsed_free(e->pre[i]);
	free(e->pre);
	store_record_free(e->st);
	result_free(e->r);
	free(e->err);
	free(e->path);
	free(e->name);
}

void
store_batch_free(struct store_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		entry_free(&b->e[i]);
	free(b->e);
	free(b);
}

/* The certificates an entry's thread parsed, interned; SEEN ones found. */
static void
entry_intern(struct store_loader *l, struct entry *e)
{
	struct store_record *st = e->st;
	size_t n = st->chain.n + st->path.n;
	struct cert **all = xcalloc(n ? n : 1, sizeof(*all));

	for (size_t i = 0; i < n; i++) {
		struct cert *c = e->pre[i];

		if (c == SEEN) {
			c = cert_find(i < st->chain.n ? st->chain.fps[i] :
			    st->path.fps[i - st->chain.n]);
		} else if (c != NULL) {
			c = cert_intern(c);
			if (l->nheld == l->capheld) {
				l->capheld = l->capheld ? l->capheld * 2 : 256;
				l->held = xreallocarray(l->held, l->capheld, sizeof(*l->held));
			}
			l->held[l->nheld++] = cert_ref(c);
		}
		if (c != NULL)
			c->stored = 1;
		all[i] = c;
	}
	free(e->pre);
	e->pre = NULL;
	st->certs = xcalloc(st->chain.n ? st->chain.n : 1, sizeof(*st->certs));
	st->path_certs = xcalloc(st->path.n ? st->path.n : 1, sizeof(*st->path_certs));
	memcpy(st->certs, all, st->chain.n * sizeof(*all));
	memcpy(st->path_certs, all + st->chain.n, st->path.n * sizeof(*all));
	free(all);
	/* a SEEN certificate is held by the loader: this cannot differ but
	 * by a bug, and then the next write is not skipped */
	if (count_found(st->certs, st->chain.n) != e->nfound)
		e->have_digest = 0;
	attach_certs(st, e->r);
}

struct seen_clear {
	struct work_job job;
	struct store *store;
};

static void
seen_clear_run(struct work_job *j)
{
	struct seen_clear *sc = container_of(j, struct seen_clear, job);

	fpset_clear(&sc->store->seen);
}

static void
seen_clear_done(struct work_job *j)
{
	free(container_of(j, struct seen_clear, job));
}

/* A new generation: the loader's references go, and the thread's set
 * (32 bytes a slot, at most half full: 100,000 distinct leaves take 8
 * MB) with them. Clearing it only ever makes the thread parse again. */
static void
loader_reset(struct store_loader *l)
{
	struct seen_clear *sc = xcalloc(1, sizeof(*sc));

	sc->store = l->store;
	sc->job.run = seen_clear_run;
	sc->job.done = seen_clear_done;
	work_submit(l->store->pool, &sc->job);
	for (size_t i = 0; i < l->nheld; i++)
		cert_put(l->held[i]);
	free(l->held);
	l->held = NULL;
	l->nheld = l->capheld = 0;
	l->gen = ++l->store->gens;
}

static void
batch_done(struct work_job *j)
{
	struct store_batch *b = container_of(j, struct store_batch, job);
	struct store_loader *l = b->loader;

	if (l == NULL) {             /* cancelled: its owner is gone */
		store_batch_free(b);
		return;
	}
	for (size_t i = 0; i < l->nbatches; i++)
		if (l->batches[i] == b) {
			l->batches[i] = l->batches[--l->nbatches];
			break;
		}
	l->in_flight--;
	/* in the order parsed, so that a SEEN one is interned already */
	for (size_t i = 0; i < b->n; i++)
		if (b->e[i].status == ENTRY_OK)
			entry_intern(l, &b->e[i]);
	l->done(l->arg, b);
	if (l->in_flight == 0)
		loader_reset(l);
}

struct store_loader *
store_loader_new(struct store *s, store_batch_fn done, void *arg)
{
	struct store_loader *l = xcalloc(1, sizeof(*l));

	l->store = s;
	l->done = done;
	l->arg = arg;
	l->gen = ++s->gens;
	return l;
}

void
store_loader_free(struct store_loader *l)
{
	if (l == NULL)
		return;
	/* the batches in flight stop at their next file and free themselves
	 * on the loop (work.c cannot withdraw a job): nothing of l is used */
	for (size_t i = 0; i < l->nbatches; i++) {
		l->batches[i]->loader = NULL;
		__atomic_store_n(&l->batches[i]->cancelled, 1, __ATOMIC_RELAXED);
	}
	free(l->batches);
	for (size_t i = 0; i < l->nheld; i++)
		cert_put(l->held[i]);
	free(l->held);
	free(l);
}

size_t
store_loader_in_flight(const struct store_loader *l)
{
	return l ? l->in_flight : 0;
}

struct store_batch *
store_batch_new(struct store_loader *l)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));

	b->store = l->store;
	b->loader = l;
	return b;
}

void
store_batch_add(struct store_batch *b, const char *name)
{
	b->e = xreallocarray(b->e, b->n + 1, sizeof(*b->e));
	memset(&b->e[b->n], 0, sizeof(b->e[b->n]));
	b->e[b->n++].name = xstrdup(name);
}

size_t
store_batch_size(const struct store_batch *b)
{
	return b->n;
}

const char *
store_batch_name(const struct store_batch *b, size_t i)
{
	return b->e[i].name;
}

static void
batch_submit(struct store_batch *b, int first)
{
	struct store_loader *l = b->loader;

	b->gen = l->gen;
	b->first = first;
	l->batches = xreallocarray(l->batches, l->nbatches + 1, sizeof(*l->batches));
	l->batches[l->nbatches++] = b;
	l->in_flight++;
	b->job.run = batch_run;
	b->job.done = batch_done;
	if (first)
		work_submit_first(l->store->pool, &b->job);
	else
		work_submit(l->store->pool, &b->job);
}

void
store_batch_submit(struct store_batch *b)
{
	batch_submit(b, 0);
}

void
store_batch_submit_first(struct store_batch *b)
{
	batch_submit(b, 1);
}

int
store_batch_first(const struct store_batch *b)
{
	return b->first;
}

int
store_batch_take(struct store_batch *b, size_t i, struct store_record **recp,
    struct result **rp)
{
	struct entry *e = &b->e[i];
	struct store *s = b->store;

	*recp = NULL;
	*rp = NULL;
	switch (e->status) {
	case ENTRY_NONE:
		log_debug("target %s: no state in %s", e->name, e->path);
		break;
	case ENTRY_BAD:
		log_warnx("target %s: state file %s unusable (%s); starting fresh",
		    e->name, e->path, e->err);
		break;
	case ENTRY_OTHER:
		log_warnx("target %s: state file %s is for another target (%s); "
		    "starting fresh", e->name, e->path, e->err);
		break;
	case ENTRY_OK:
		written_set_digest(s, e->name, e->digest, e->have_digest, e->at);
		*recp = e->st;
		*rp = e->r;
		e->st = NULL;
		e->r = NULL;
		e->status = ENTRY_TAKEN;
		return 1;
	case ENTRY_TAKEN:
		break;
	}
	e->status = ENTRY_TAKEN;
	return 0;
}

/* A state file settled: after a failure the next result writes again,
 * whatever it holds. */
static void
state_written(void *arg, enum writer_status st)
{
	struct written *w = arg;

	if (st == WRITER_FAILED)
		w->have = 0;
}

void
store_save(struct store *s, const struct store_record *st, const struct result *r)
{
	struct buf content, file;
	struct written *w;
	double now = r ? r->time : wall_now();
	unsigned char digest[32];
	int have_digest;
	char *name;

	if (s == NULL || st == NULL)
		return;
	buf_init(&content);
	render_content(&content, st, r);
	have_digest = content_digest(&content, digest) == 0;
	w = written_get(s, st->name, 1);
	if (have_digest && w->have && memcmp(w->digest, digest, sizeof(digest)) == 0 &&
	    (now - w->at) * 1000 < (double)s->refresh_ms) {
		buf_free(&content);
		return;
	}
	buf_init(&file);
	render_file(&file, st, r, &content);
	memcpy(w->digest, digest, sizeof(digest));
	w->have = have_digest;
	w->at = now;
	name = store_file_name(st->name);
	/* w lives as long as the store, which drains before it goes; a full
	 * queue leaves the file to the target's next result */
	if (writer_put(s->writer, s->targets_dir, name, file.data ? file.data : xstrdup(""),
	    file.len, state_written, w) == -1)
		w->have = 0;
	free(name);
	buf_free(&content);
}

size_t
store_load_all(const char *dir, struct store_record ***sts, struct result ***rs, char **errs)
{
	char *tdir = xasprintf("%s/targets", dir);
	struct buf eb;
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	*sts = NULL;
	*rs = NULL;
	buf_init(&eb);
	if ((d = opendir(tdir)) == NULL) {
		buf_printf(&eb, "%s: %s\n", tdir, strerror(errno));
	} else {
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			struct store_record *st;
			struct result *r;
			char *path, *err = NULL;

			if (e->d_name[0] == '.' || len < 7 ||
			    strcmp(e->d_name + len - 6, ".state") != 0)
				continue;
			path = xasprintf("%s/%s", tdir, e->d_name);
			if (store_parse_file(dir, path, &st, &r, &err) == -1) {
				buf_printf(&eb, "%s: %s\n", path, err);
				free(err);
			} else {
				*sts = xreallocarray(*sts, n + 1, sizeof(**sts));
				*rs = xreallocarray(*rs, n + 1, sizeof(**rs));
				(*sts)[n] = st;
				(*rs)[n] = r;
				n++;
			}
			free(path);
		}
		closedir(d);
	}
	free(tdir);
	*errs = eb.len ? buf_steal(&eb) : NULL;
	buf_free(&eb);
	return n;
}

/* ------------------------------------------------------------ clean-up */

/*
 * The clean-up reads every state file: on the store's thread, in two
 * steps. The first, over a copy of the configured names, removes the state
 * files of targets gone for 30 days and finds the certificate files no
 * state file references and no write touched for as long. Back on the loop,
 * those the daemon holds in memory are struck: a result, a record or a
 * verdict's path holds its certificates interned, and what memory holds
 * may not be on disk yet. The second step removes the rest, each under
 * veto_lock, while put_cert vetoes any of them a new result carries (so the
 * file is either kept or gone before put_cert looks, and then written).
 */
struct cleanup {
	struct work_job job;
	struct store *store;
	int cancelled;               /* atomic: a stop */
	int phase;                   /* 0: the state files; 1: the certificates */
	const struct conf *conf;     /* until names are copied, pinned */
	uint64_t pin;
	char **names;                /* configured, sorted (copies) */
	size_t nnames;
	double cutoff;
	int unsure;                  /* a state file could not be read */
	size_t removed_states, removed_certs;
	char (*cands)[65];           /* certificate files to remove, sorted */
	size_t ncands;
	unsigned char *veto;         /* under veto_lock */
};

static pthread_mutex_t veto_lock = PTHREAD_MUTEX_INITIALIZER;

static int
cmp_fp(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether name is configured: names is sorted, so one look-up per state
 * file stays cheap with 100,000 targets. */
static int
configured(char **names, size_t n, const char *name)
{
	return bsearch(&name, names, n, sizeof(*names), cmp_name) != NULL;
}

/* Room for more fingerprints, growing geometrically. */
static char (*refs_grow(char (*refs)[65], size_t *cap, size_t need))[65]
{
	if (need <= *cap)
		return refs;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 1024;
	return xreallocarray(refs, *cap, sizeof(*refs));
}

static int
cleanup_cancelled(struct cleanup *cu)
{
	return __atomic_load_n(&cu->cancelled, __ATOMIC_RELAXED);
}

/* A state file for the clean-up: parsed, no certificate read or interned.
 * Loader thread. */
static int
parse_file_bare(const char *path, struct store_record **stp, struct result **rp)
{
	struct parse_ctx p;
	char *text, *err = NULL;

	if ((text = file_read_bounded(path, STORE_MAX_FILE, NULL)) == NULL)
		return -1;
	if (parse_text(text, &p, &err) == -1) {
		free(err);
		free(text);
		return -1;
	}
	free(text);
	finish_fields(&p, 0);
	*stp = p.st;
	*rp = p.r;
	return 0;
}

/* The first step: the state files, and the certificate files to remove. */
static void
cleanup_scan(struct cleanup *cu)
{
	struct store *s = cu->store;
	/* what a kept state file names, each once: targets share their
	 * intermediates and roots */
	struct fpset refs = { NULL, 0, 0 };
	size_t capcands = 0;
	struct dirent *e;
	DIR *d;

	if ((d = opendir(s->targets_dir)) == NULL) {
		cu->unsure = 1;
		return;
	}
	while ((e = readdir(d)) != NULL && !cleanup_cancelled(cu)) {
		size_t len = strlen(e->d_name);
		struct store_record *st;
		struct result *r;
		char *path;

		if (e->d_name[0] == '.' || len < 7 || strcmp(e->d_name + len - 6, ".state") != 0)
			continue;
		path = xasprintf("%s/%s", s->targets_dir, e->d_name);
		if (parse_file_bare(path, &st, &r) == -1) {
			/* its references are unknown: remove no certificate this time */
			cu->unsure = 1;
			free(path);
			continue;
		}
		if ((r == NULL || r->time < cu->cutoff) && st->first_seen < cu->cutoff &&
		    !configured(cu->names, cu->nnames, st->name)) {
			if (unlink(path) == 0) {
				cu->removed_states++;
				log_info("clean-up: removed %s (target %s, no longer configured, "
				    "not probed for 30 days)", path, st->name);
			}
		} else {
			for (size_t i = 0; i < st->chain.n; i++)
				fpset_add(&refs, st->chain.fps[i]);
			for (size_t i = 0; i < st->path.n; i++)
				fpset_add(&refs, st->path.fps[i]);
			for (size_t h = 0; h < st->nhist; h++)
				for (size_t i = 0; st->hist[h].until >= cu->cutoff && i < st->hist[h].n; i++)
					fpset_add(&refs, st->hist[h].fps[i]);
		}
		store_record_free(st);
		result_free(r);
		free(path);
	}
	closedir(d);
	if (!cu->unsure && !cleanup_cancelled(cu) && (d = opendir(s->certs_dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char fp[65];
			struct stat sb;

			if (strlen(e->d_name) != 68 || strcmp(e->d_name + 64, ".pem") != 0)
				continue;
			memcpy(fp, e->d_name, 64);
			fp[64] = '\0';
			if (!is_sha256(fp) || fpset_has(&refs, fp))
				continue;
			/* written recently: a state file may not have caught up */
			if (fstatat(dirfd(d), e->d_name, &sb, 0) == -1 ||
			    (double)sb.st_mtime >= cu->cutoff)
				continue;
			cu->cands = refs_grow(cu->cands, &capcands, cu->ncands + 1);
			memcpy(cu->cands[cu->ncands++], fp, 65);
		}
		closedir(d);
		if (cu->ncands > 1)     /* qsort's array may not be NULL, even empty */
			qsort(cu->cands, cu->ncands, sizeof(*cu->cands), cmp_fp);
	}
	fpset_clear(&refs);
}

/* The second step: the certificate files nothing vetoed. */
static void
cleanup_remove(struct cleanup *cu)
{
	struct store *s = cu->store;

	for (size_t i = 0; i < cu->ncands && !cleanup_cancelled(cu); i++) {
		char *path = xasprintf("%s/%s.pem", s->certs_dir, cu->cands[i]);

		pthread_mutex_lock(&veto_lock);
		if (!cu->veto[i] && unlink(path) == 0)
			cu->removed_certs++;
		pthread_mutex_unlock(&veto_lock);
		free(path);
	}
}

/* Before the first step: the configured names, copied and sorted here
 * (at a million targets a second's work, which the loop would wait for),
 * from the configuration the loop keeps alive meanwhile (pinned). */
static void
cleanup_names(struct cleanup *cu)
{
	const struct conf *c = cu->conf;

	cu->nnames = c->ntargets;
	cu->names = xcalloc(cu->nnames ? cu->nnames : 1, sizeof(*cu->names));
	for (size_t i = 0; i < cu->nnames; i++)
		cu->names[i] = xstrdup(c->targets[i].name);
	qsort(cu->names, cu->nnames, sizeof(*cu->names), cmp_name);
}

static void
cleanup_run(struct work_job *j)
{
	struct cleanup *cu = container_of(j, struct cleanup, job);

	if (cu->conf != NULL)
		cleanup_names(cu);
	else if (cu->phase == 0)
		cleanup_scan(cu);
	else
		cleanup_remove(cu);
}

static void
cleanup_free(struct cleanup *cu)
{
	for (size_t i = 0; i < cu->nnames; i++)
		free(cu->names[i]);
	free(cu->names);
	free(cu->cands);
	free(cu->veto);
	free(cu);
}

static void
cleanup_done(struct work_job *j)
{
	struct cleanup *cu = container_of(j, struct cleanup, job);
	struct store *s = cu->store;
	size_t k = 0;

	if (cu->conf != NULL) {          /* the names are copied */
		pin_end(cu->pin);
		cu->conf = NULL;
		if (!cleanup_cancelled(cu)) {
			work_submit(s->pool, &cu->job);
			return;
		}
	}
	if (!cleanup_cancelled(cu) && cu->phase == 0 && cu->ncands > 0) {
		/* what memory holds stays: it may not be on disk yet */
		for (size_t i = 0; i < cu->ncands; i++) {
			struct cert *c = cert_find(cu->cands[i]);

			if (c == NULL)
				memmove(cu->cands[k++], cu->cands[i], 65);
			cert_put(c);
		}
		cu->ncands = k;
		if (k > 0) {
			cu->veto = xcalloc(k, 1);
			cu->phase = 1;
			work_submit(s->pool, &cu->job);
			return;
		}
	}
	if (!cleanup_cancelled(cu) && (cu->removed_states || cu->removed_certs))
		log_info("clean-up of %s: removed %zu state file%s and %zu certificate%s",
		    s->dir, cu->removed_states, cu->removed_states == 1 ? "" : "s",
		    cu->removed_certs, cu->removed_certs == 1 ? "" : "s");
	s->cleaning = NULL;
	cleanup_free(cu);
}

/* A certificate a result carries is not removed now (see struct cleanup). */
static void
cleanup_veto(struct store *s, const char *sha256)
{
	struct cleanup *cu = s->cleaning;
	char (*found)[65];

	if (cu == NULL || cu->phase != 1)
		return;
	pthread_mutex_lock(&veto_lock);
	if (cu->ncands > 0 &&
	    (found = bsearch(sha256, cu->cands, cu->ncands, sizeof(*cu->cands), cmp_fp)) != NULL)
		cu->veto[found - cu->cands] = 1;
	pthread_mutex_unlock(&veto_lock);
}

int
store_cleanup_start(struct store *s, const struct conf *c, double now)
{
	struct cleanup *cu;

	if (s->cleaning != NULL)
		return -1;
	cu = xcalloc(1, sizeof(*cu));
	cu->store = s;
	cu->cutoff = now - STORE_KEEP_SECONDS;
	if (c != NULL) {
		cu->conf = c;
		cu->pin = pin_begin();
	} else {
		cu->names = xcalloc(1, sizeof(*cu->names));
	}
	cu->job.run = cleanup_run;
	cu->job.done = cleanup_done;
	s->cleaning = cu;
	work_submit(s->pool, &cu->job);
	return 0;
}

static void
store_cleanup_cancel(struct store *s)
{
	if (s->cleaning != NULL)
		__atomic_store_n(&s->cleaning->cancelled, 1, __ATOMIC_RELAXED);
}

void
store_cleanup(struct store *s, const struct conf *c, double now)
{
	if (store_cleanup_start(s, c, now) == -1)
		return;
	while (s->cleaning != NULL)
		work_drain(s->pool);
}

static void
cleanup_cb(struct loop_timer *t)
{
	struct store *s = container_of(t, struct store, cleanup);

	if (store_cleanup_start(s, s->conf, wall_now()) == -1)
		log_debug("clean-up of %s: the last one runs still", s->dir);
	loop_timer_at(s->loop, &s->cleanup, mono_ms() + STORE_CLEANUP_MS);
}

void
store_set_conf(struct store *s, const struct conf *c)
{
	if (s)
		s->conf = c;
}

void
store_schedule_cleanup(struct store *s, struct loop *l, const struct conf *c)
{
	s->loop = l;
	s->conf = c;
	s->cleanup.cb = cleanup_cb;
	loop_timer_at(l, &s->cleanup, mono_ms() + STORE_CLEANUP_FIRST_MS);
}
