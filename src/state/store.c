/*
 * store.c - state on disk.
 *
 * state_dir/certs/SHA256.pem   every certificate ever presented, once
 * state_dir/targets/NAME.state one per target: its last result, its last
 *                              presented chain and the chains before it
 *
 * A state file is lines of "key value" (format in README.md, "State
 * directory"); values escape control bytes and '%' as %XX, so a line is a
 * line whatever a certificate or a name holds. Every file is written whole
 * to a temporary name, fsynced, renamed over the old one and the directory
 * fsynced: a crash leaves the old file or the new one. The DER of a
 * certificate is written when a result first carries it and never kept in
 * memory.
 *
 * Used from the event loop only; the I/O is small and local, once per
 * change (or per refresh) of a target.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "verdict/certs.h"
#include "core/file.h"
#include "core/log.h"
#include "core/loop.h"
#include "state/store.h"

#define STORE_CLEANUP_MS ((uint64_t)86400 * 1000)
/* The first clean-up waits this long after start: it reads every state
 * file, and a restart should serve its stored results first. */
#define STORE_CLEANUP_FIRST_MS ((uint64_t)60 * 1000)
#define STORE_MAX_NAME 160   /* longer escaped names are hashed */

struct store {
	char *dir;
	char *targets_dir;
	char *certs_dir;
	uint64_t refresh_ms;
	int ready;              /* directories known to exist */
	int failing;            /* the last write failed; logged once */
	uint64_t write_errors;
	struct loop *loop;
	const struct conf *conf;
	struct loop_timer cleanup;
};

/* ------------------------------------------------------------ strings */

/* Stage and reason names come from fixed sets; results keep them as static
 * strings, so the ones read back are interned here for the process's life. */
struct interned {
	struct interned *next;
	char s[];
};
static struct interned *store_strings;

static const char *
intern(const char *s)
{
	struct interned *i;
	size_t n = strlen(s);

	for (i = store_strings; i != NULL; i = i->next)
		if (strcmp(i->s, s) == 0)
			return i->s;
	i = xmalloc(sizeof(*i) + n + 1);
	memcpy(i->s, s, n + 1);
	i->next = store_strings;
	store_strings = i;
	return i->s;
}

static void
intern_free(void)
{
	struct interned *i, *next;

	for (i = store_strings; i != NULL; i = next) {
		next = i->next;
		free(i);
	}
	store_strings = NULL;
}

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

		gnutls_hash_fast(GNUTLS_DIG_SHA256, name, strlen(name), d);
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

/* mkdir -p for the state directory and its two subdirectories. */
static int
store_prepare(struct store *s, const char **what, const char **where)
{
	if (s->ready)
		return 0;
	*what = "create";
	*where = s->dir;
	if (file_mkdir_p(s->dir) == -1)
		return -1;
	*where = s->targets_dir;
	if (file_mkdir_p(s->targets_dir) == -1)
		return -1;
	*where = s->certs_dir;
	if (file_mkdir_p(s->certs_dir) == -1)
		return -1;
	s->ready = 1;
	return 0;
}

/* Errors that concern the whole directory, not one file. */
static int
dir_wide(int e)
{
	return e == EROFS || e == ENOSPC || e == EDQUOT || e == EACCES || e == EPERM ||
	    e == ENOENT || e == EIO;
}

/* Count a failed write; log it once while it lasts: once for the directory
 * (read-only, full, gone), once per file for anything else. */
static void
store_failed(struct store *s, int *own, const char *what, const char *path)
{
	int *flag = dir_wide(errno) || own == NULL ? &s->failing : own;

	s->write_errors++;
	if (!*flag)
		log_warn("state_dir %s: cannot %s %s (retried at every change; "
		    "until it works, further errors are counted, not logged)", s->dir, what, path);
	else
		log_debug("state_dir: cannot %s %s: %s", what, path, strerror(errno));
	*flag = 1;
	s->ready = 0;
}

static void
store_succeeded(struct store *s, int *own)
{
	if (s->failing)
		log_info("state_dir %s: writing works again", s->dir);
	s->failing = 0;
	if (own)
		*own = 0;
}

static int
store_write(struct store *s, int *own, const char *dir, const char *name, const char *data,
    size_t len)
{
	const char *what, *where;

	if (store_prepare(s, &what, &where) == -1) {
		store_failed(s, NULL, what, where);
		return -1;
	}
	if (file_write_atomic(dir, name, data, len, &what) == -1) {
		char *path = xasprintf("%s/%s", dir, name);
		store_failed(s, own, what, path);
		free(path);
		return -1;
	}
	store_succeeded(s, own);
	return 0;
}

struct store *
store_new(const char *dir, uint64_t refresh_ms)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->dir = xstrdup(dir);
	s->targets_dir = xasprintf("%s/targets", dir);
	s->certs_dir = xasprintf("%s/certs", dir);
	s->refresh_ms = refresh_ms;
	loop_timer_init(&s->cleanup, NULL);
	file_remove_tmp(s->targets_dir);
	file_remove_tmp(s->certs_dir);
	return s;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	if (s->loop)
		loop_timer_cancel(s->loop, &s->cleanup);
	free(s->dir);
	free(s->targets_dir);
	free(s->certs_dir);
	free(s);
	intern_free();
}

const char *
store_dir(const struct store *s)
{
	return s->dir;
}

uint64_t
store_write_errors(const struct store *s)
{
	return s ? s->write_errors : 0;
}

/* ------------------------------------------------------------ certificates */

static unsigned char *
read_cert(const char *certs_dir, const char *sha256, size_t *len)
{
	char *path = xasprintf("%s/%s.pem", certs_dir, sha256);
	gnutls_datum_t in, out = { NULL, 0 };
	unsigned char *der = NULL, d[32];
	char hex[65];
	size_t n;
	char *pem = file_read_bounded(path, STORE_MAX_FILE, &n);

	free(path);
	if (pem == NULL)
		return NULL;
	in.data = (unsigned char *)pem;
	in.size = (unsigned)n;
	if (gnutls_pem_base64_decode2("CERTIFICATE", &in, &out) == 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, out.data, out.size, d) == 0) {
		/* A file that is not what its name says is not used. */
		hex_encode(d, sizeof(d), hex);
		if (strcmp(hex, sha256) == 0) {
			der = xmalloc(out.size);
			memcpy(der, out.data, out.size);
			*len = out.size;
		}
	}
	gnutls_free(out.data);
	free(pem);
	return der;
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

static void
store_certs(struct store *s, struct result *r)
{
	for (size_t i = 0; i < r->ncerts && i < r->nders; i++) {
		struct cert *c = r->certs[i];
		gnutls_datum_t der, pem = { NULL, 0 };
		char *name, *path;

		if (c->stored)
			continue;
		name = xasprintf("%s.pem", c->sha256);
		path = xasprintf("%s/%s", s->certs_dir, name);
		if (access(path, F_OK) == 0) {
			c->stored = 1;
		} else {
			der.data = (unsigned char *)r->ders[i].data;
			der.size = (unsigned)r->ders[i].len;
			if (gnutls_pem_base64_encode2("CERTIFICATE", &der, &pem) == 0 &&
			    store_write(s, NULL, s->certs_dir, name, (const char *)pem.data,
			    pem.size) == 0)
				c->stored = 1;
			gnutls_free(pem.data);
		}
		free(name);
		free(path);
	}
	result_drop_ders(r);
}

/* ------------------------------------------------------------ targets */

static void
chain_free(struct store_chain *c)
{
	free(c->fps);
	c->fps = NULL;
	c->n = 0;
}

void
store_target_free(struct store_target *st)
{
	if (st == NULL)
		return;
	/* certs is made only once a file parsed whole: a state that failed to
	 * parse has fingerprints but no certificates */
	for (size_t i = 0; st->certs != NULL && i < st->chain.n; i++)
		cert_put(st->certs[i]);
	free(st->certs);
	free(st->cert_first_seen);
	chain_free(&st->chain);
	for (size_t i = 0; i < st->nhist; i++)
		chain_free(&st->hist[i]);
	free(st->hist);
	free(st->name);
	free(st);
}

/* When fp was first presented: the oldest chain holding it. */
static double
first_seen_of(const struct store_target *st, const char *fp)
{
	double t = st->chain.since;

	for (size_t i = 0; i < st->nhist; i++)
		for (size_t j = 0; j < st->hist[i].n; j++)
			if (strcmp(st->hist[i].fps[j], fp) == 0 && st->hist[i].since < t)
				t = st->hist[i].since;
	return t;
}

static void
update_first_seen(struct store_target *st)
{
	free(st->cert_first_seen);
	st->cert_first_seen = xcalloc(st->chain.n ? st->chain.n : 1, sizeof(double));
	for (size_t i = 0; i < st->chain.n; i++)
		st->cert_first_seen[i] = first_seen_of(st, st->chain.fps[i]);
}

static void
fmt_time(char *out, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "%lld", (long long)t);
}

static void
put_names(struct buf *b, unsigned bits, int issues)
{
	size_t start = b->len;

	for (unsigned i = 0; i < (issues ? CHAIN_NISSUES : CHAIN_NREASONS); i++) {
		const char *n = issues ? chain_issue_name(i) : chain_reason_name(i);
		if (bits & (1u << i))
			buf_printf(b, "%s%s", b->len > start ? "," : "", n);
	}
	if (b->len == start)
		buf_putc(b, '-');
}

/* What identifies a state file's content, to compare with the last write.
 * 0, or -1 when it cannot be computed (then the file counts as changed). */
static int
content_digest(const struct buf *b, unsigned char out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, b->data ? b->data : "", b->len, out) < 0 ?
	    -1 : 0;
}

/* The content of a state file, the probe's timestamps aside: written when it
 * differs from what was last written. */
static void
render_content(struct buf *b, const struct store_target *st, const struct result *r)
{
	buf_puts(b, "name ");
	store_escape(b, st->name);
	buf_printf(b, "\nfirst_seen %.3f\nlast_change %.3f\nchain_changed %.3f\n"
	    "chain_changes %llu\n", st->first_seen, st->last_change, st->chain_changed,
	    (unsigned long long)st->chain_changes);
	if (r != NULL) {
		buf_printf(b, "result %s\n", r->success ? "success" : "failure");
		if (!r->success) {
			buf_puts(b, "fail_stage ");
			store_escape(b, r->fail_stage ? r->fail_stage : "unknown");
			buf_puts(b, "\nfail_reason ");
			store_escape(b, r->fail_reason ? r->fail_reason : "unknown");
			buf_puts(b, "\nfail_detail ");
			store_escape(b, r->fail_detail ? r->fail_detail : "");
			buf_putc(b, '\n');
		}
		if (r->peer) {
			buf_puts(b, "peer ");
			store_escape(b, r->peer);
			buf_putc(b, '\n');
		}
		if (r->tls_version) {
			buf_puts(b, "tls_version ");
			store_escape(b, r->tls_version);
			buf_putc(b, '\n');
		}
		if (r->cipher) {
			buf_puts(b, "cipher ");
			store_escape(b, r->cipher);
			buf_putc(b, '\n');
		}
	}
	if (st->have_verdict) {
		buf_printf(b, "verified %d\nreasons ", st->verified);
		put_names(b, st->reasons, 0);
		buf_puts(b, "\nissues ");
		put_names(b, st->issues, 1);
		buf_putc(b, '\n');
		if (r != NULL && r->success)
			buf_printf(b, "earliest_expiry %lld\nverified_expiry %lld\n",
			    (long long)r->verdict.earliest_expiry,
			    (long long)r->verdict.verified_expiry);
	}
	for (size_t i = 0; i < st->chain.n; i++)
		buf_printf(b, "cert %s\n", st->chain.fps[i]);
	for (size_t i = 0; i < st->nhist; i++) {
		const struct store_chain *h = &st->hist[i];
		buf_printf(b, "history %.3f %.3f ", h->since, h->until);
		for (size_t j = 0; j < h->n; j++)
			buf_printf(b, "%s%s", j ? "," : "", h->fps[j]);
		if (h->n == 0)
			buf_putc(b, '-');
		buf_putc(b, '\n');
	}
}

/* The whole file: the format, the probe's timestamps, content, the end. */
static void
render_file(struct buf *file, const struct buf *content, const struct result *r)
{
	buf_printf(file, "format %d\n", STORE_FORMAT);
	if (r != NULL) {
		buf_printf(file, "probe_time %.3f\nprobe_duration %.6f\nstage_seconds", r->time,
		    r->duration);
		for (int i = 0; i < STAGE_COUNT; i++)
			buf_printf(file, " %.6f", r->stage_seconds[i] >= 0 ? r->stage_seconds[i] : -1.0);
		buf_putc(file, '\n');
	}
	buf_append(file, content->data, content->len);
	buf_puts(file, "end\n");
}

char *
store_render(const struct store_target *st, const struct result *r)
{
	struct buf content, file;

	buf_init(&content);
	buf_init(&file);
	render_content(&content, st, r);
	render_file(&file, &content, r);
	buf_free(&content);
	return buf_steal(&file);
}

static void
store_save(struct store *s, const struct target *t, const struct result *r, int force)
{
	struct store_target *st = t->st;
	struct buf content, file;
	char *name;
	double now = r ? r->time : wall_now();

	unsigned char digest[32];
	int have_digest;

	buf_init(&content);
	render_content(&content, st, r);
	have_digest = content_digest(&content, digest) == 0;
	if (!force && have_digest && st->have_written &&
	    memcmp(st->written, digest, sizeof(digest)) == 0 &&
	    (now - st->written_at) * 1000 < (double)s->refresh_ms) {
		buf_free(&content);
		return;
	}
	buf_init(&file);
	render_file(&file, &content, r);
	name = store_file_name(t->conf->name);
	if (store_write(s, &st->write_failing, s->targets_dir, name, file.data, file.len) == 0) {
		memcpy(st->written, digest, sizeof(digest));
		st->have_written = have_digest;
		st->written_at = now;
	}
	free(name);
	buf_free(&content);
	buf_free(&file);
}

static int
same_chain(const struct store_chain *c, const struct result *r)
{
	if (c->n != r->ncerts)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->fps[i], r->certs[i]->sha256) != 0)
			return 0;
	return 1;
}

static void
log_chain_change(const struct target *t, const struct store_target *st,
    const struct result *r)
{
	size_t d = 0;
	const struct cert *o, *n;
	char oexp[32] = "?", nexp[32] = "?";

	while (d < st->chain.n && d < r->ncerts &&
	    strcmp(st->chain.fps[d], r->certs[d]->sha256) == 0)
		d++;
	o = d < st->chain.n ? st->certs[d] : NULL;
	n = d < r->ncerts ? r->certs[d] : NULL;
	if (o)
		fmt_time(oexp, sizeof(oexp), o->not_after);
	if (n)
		fmt_time(nexp, sizeof(nexp), n->not_after);
	log_info("target %s: chain changed at depth %zu: %s (subject %s, expires %s) -> "
	    "%s (subject %s, expires %s); %zu -> %zu certificates", t->conf->name, d,
	    d < st->chain.n ? st->chain.fps[d] : "none", o ? o->subject : "?", oexp,
	    n ? n->sha256 : "none", n ? n->subject : "?", nexp, st->chain.n, r->ncerts);
}

static void
set_chain(struct store_target *st, const struct result *r, double now)
{
	for (size_t i = 0; i < st->chain.n; i++)
		cert_put(st->certs[i]);
	free(st->certs);
	chain_free(&st->chain);
	st->chain.n = r->ncerts;
	st->chain.since = now;
	st->chain.fps = xcalloc(r->ncerts ? r->ncerts : 1, sizeof(*st->chain.fps));
	st->certs = xcalloc(r->ncerts ? r->ncerts : 1, sizeof(*st->certs));
	for (size_t i = 0; i < r->ncerts; i++) {
		memcpy(st->chain.fps[i], r->certs[i]->sha256, 65);
		st->certs[i] = cert_ref(r->certs[i]);
	}
	st->chain_changed = now;
}

static struct store_target *
target_state(struct target *t)
{
	if (t->st == NULL) {
		t->st = xcalloc(1, sizeof(*t->st));
		t->st->name = xstrdup(t->conf->name);
	}
	return t->st;
}

void
store_result(struct store *s, struct target *t, struct result *r)
{
	struct store_target *st = target_state(t);
	double now = r->time;
	int changed = 0;

	if (st->first_seen == 0)
		st->first_seen = now;
	if (r->success) {
		if (st->chain.n == 0 && st->chain_changed == 0) {
			set_chain(st, r, now);
			changed = 1;
		} else if (!same_chain(&st->chain, r)) {
			struct store_chain old = st->chain;

			log_chain_change(t, st, r);
			/* the old chain goes first in the history; the oldest falls off */
			if (st->nhist == STORE_HISTORY)
				chain_free(&st->hist[--st->nhist]);
			st->hist = xreallocarray(st->hist, st->nhist + 1, sizeof(*st->hist));
			memmove(st->hist + 1, st->hist, st->nhist * sizeof(*st->hist));
			st->hist[0] = old;
			st->hist[0].until = now;
			st->nhist++;
			st->chain.fps = NULL;
			st->chain.n = 0;
			for (size_t i = 0; i < old.n; i++)
				cert_put(st->certs[i]);
			free(st->certs);
			st->certs = NULL;
			set_chain(st, r, now);
			st->chain_changes++;
			changed = 1;
		}
		if (!st->have_verdict || st->verified != r->verdict.verified ||
		    st->reasons != r->verdict.reasons || st->issues != r->verdict.issues) {
			st->have_verdict = 1;
			st->verified = r->verdict.verified;
			st->reasons = r->verdict.reasons;
			st->issues = r->verdict.issues;
			changed = 1;
		}
		if (changed) {
			st->last_change = now;
			update_first_seen(st);
		}
	}
	if (s == NULL)
		return;
	store_certs(s, r);
	store_save(s, t, r, 0);
}

/* ------------------------------------------------------------ reading */

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

static int
parse_names(const char *v, unsigned *bits, int issues)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	*bits = 0;
	if (strcmp(v, "-") == 0)
		return 0;
	copy = xstrdup(v);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i, n = issues ? CHAIN_NISSUES : CHAIN_NREASONS;
		for (i = 0; i < n; i++)
			if (strcmp(tok, issues ? chain_issue_name(i) : chain_reason_name(i)) == 0)
				break;
		if (i == n) {
			rc = -1;
			break;
		}
		*bits |= 1u << i;
	}
	free(copy);
	return rc;
}

static int
parse_fps(const char *v, struct store_chain *c)
{
	const char *p = v;

	if (strcmp(v, "-") == 0)
		return 0;
	for (;;) {
		if (strlen(p) < 64)
			return -1;
		c->fps = xreallocarray(c->fps, c->n + 1, sizeof(*c->fps));
		memcpy(c->fps[c->n], p, 64);
		c->fps[c->n][64] = '\0';
		if (!is_sha256(c->fps[c->n]))
			return -1;
		c->n++;
		p += 64;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

/* Parse text into a state and a result. -1 with *err on anything amiss. */
static int
parse_state(const char *certs_dir, char *text, struct store_target **stp,
    struct result **rp, char **err)
{
	struct store_target *st = xcalloc(1, sizeof(*st));
	struct result *r = xcalloc(1, sizeof(*r));
	int have_format = 0, have_end = 0, have_result = 0, lineno = 0;
	double stage[STAGE_COUNT];
	char *line, *next;
	const char *bad = NULL;

	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = -1;
	for (line = text; line && *line && !have_end; line = next) {
		char *key = line, *val, *nl = strchr(line, '\n');
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
		if ((val = strchr(line, ' ')) == NULL) {
			val = line + strlen(line);
		} else {
			*val++ = '\0';
		}
#define NEED(cond) do { if (!(cond)) { bad = "bad value"; goto out; } } while (0)
		if (lineno == 1) {
			NEED(strcmp(key, "format") == 0 && parse_i64(val, &n) == 0);
			if (n != STORE_FORMAT) {
				bad = "unknown format version";
				goto out;
			}
			have_format = 1;
		} else if (strcmp(key, "end") == 0) {
			have_end = 1;
		} else if (strcmp(key, "name") == 0) {
			free(st->name);
			NEED((st->name = store_unescape(val)) != NULL && *st->name);
		} else if (strcmp(key, "probe_time") == 0) {
			NEED(parse_time(val, &r->time) == 0);
		} else if (strcmp(key, "probe_duration") == 0) {
			NEED(parse_seconds(val, &r->duration) == 0);
		} else if (strcmp(key, "stage_seconds") == 0) {
			char *end = val;
			for (int i = 0; i < STAGE_COUNT; i++) {
				stage[i] = strtod(end, &end);
				/* -1: the stage was not reached */
				NEED(stage[i] == -1 || (stage[i] >= 0 && stage[i] <= 86400.0 * 366));
			}
			NEED(*end == '\0');
			memcpy(r->stage_seconds, stage, sizeof(stage));
		} else if (strcmp(key, "first_seen") == 0) {
			NEED(parse_time(val, &st->first_seen) == 0);
		} else if (strcmp(key, "last_change") == 0) {
			NEED(parse_time(val, &st->last_change) == 0);
		} else if (strcmp(key, "chain_changed") == 0) {
			NEED(parse_time(val, &st->chain_changed) == 0);
		} else if (strcmp(key, "chain_changes") == 0) {
			NEED(parse_i64(val, &n) == 0 && n >= 0);
			st->chain_changes = (uint64_t)n;
		} else if (strcmp(key, "result") == 0) {
			NEED(strcmp(val, "success") == 0 || strcmp(val, "failure") == 0);
			r->success = strcmp(val, "success") == 0;
			have_result = 1;
		} else if (strcmp(key, "fail_stage") == 0 || strcmp(key, "fail_reason") == 0) {
			char *v = store_unescape(val);
			NEED(v != NULL);
			if (key[5] == 's')
				r->fail_stage = intern(v);
			else
				r->fail_reason = intern(v);
			free(v);
		} else if (strcmp(key, "fail_detail") == 0) {
			free(r->fail_detail);
			NEED((r->fail_detail = store_unescape(val)) != NULL);
		} else if (strcmp(key, "peer") == 0) {
			free(r->peer);
			NEED((r->peer = store_unescape(val)) != NULL);
		} else if (strcmp(key, "tls_version") == 0) {
			free(r->tls_version);
			NEED((r->tls_version = store_unescape(val)) != NULL);
		} else if (strcmp(key, "cipher") == 0) {
			free(r->cipher);
			NEED((r->cipher = store_unescape(val)) != NULL);
		} else if (strcmp(key, "verified") == 0) {
			NEED(strcmp(val, "0") == 0 || strcmp(val, "1") == 0);
			st->verified = val[0] == '1';
			st->have_verdict = 1;
		} else if (strcmp(key, "reasons") == 0) {
			NEED(parse_names(val, &st->reasons, 0) == 0);
		} else if (strcmp(key, "issues") == 0) {
			NEED(parse_names(val, &st->issues, 1) == 0);
		} else if (strcmp(key, "earliest_expiry") == 0) {
			NEED(parse_i64(val, &r->verdict.earliest_expiry) == 0 &&
			    time_epoch_ok(r->verdict.earliest_expiry));
		} else if (strcmp(key, "verified_expiry") == 0) {
			NEED(parse_i64(val, &r->verdict.verified_expiry) == 0 &&
			    time_epoch_ok(r->verdict.verified_expiry));
		} else if (strcmp(key, "cert") == 0) {
			NEED(is_sha256(val) && st->chain.n < 1000);
			st->chain.fps = xreallocarray(st->chain.fps, st->chain.n + 1,
			    sizeof(*st->chain.fps));
			memcpy(st->chain.fps[st->chain.n++], val, 65);
		} else if (strcmp(key, "history") == 0) {
			struct store_chain h = { 0, 0, NULL, 0 };
			char *sp1 = strchr(val, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
			int ok;

			NEED(sp1 && sp2);
			*sp1 = *sp2 = '\0';
			ok = parse_time(val, &h.since) == 0 &&
			    parse_time(sp1 + 1, &h.until) == 0 && parse_fps(sp2 + 1, &h) == 0;
			if (!ok || st->nhist >= STORE_HISTORY)
				chain_free(&h);
			NEED(ok);
			/* newest first: what a version keeping more wrote beyond ours
			 * is the oldest, and is dropped, not an error */
			if (st->nhist >= STORE_HISTORY)
				continue;
			st->hist = xreallocarray(st->hist, st->nhist + 1, sizeof(*st->hist));
			st->hist[st->nhist++] = h;
		}
		/* unknown keys: written by a newer version; ignored */
#undef NEED
	}
	if (!have_format)
		bad = bad ? bad : "not a tlswatch state file";
	else if (!have_end)
		bad = bad ? bad : "truncated (no end line)";
	else if (st->name == NULL)
		bad = "no name";
out:
	if (bad) {
		*err = xasprintf("line %d: %s", lineno, bad);
		store_target_free(st);
		result_free(r);
		return -1;
	}
	st->chain.since = st->chain_changed;
	st->certs = xcalloc(st->chain.n ? st->chain.n : 1, sizeof(*st->certs));
	for (size_t i = 0; i < st->chain.n; i++) {
		size_t len;
		unsigned char *der = read_cert(certs_dir, st->chain.fps[i], &len);
		if (der) {
			st->certs[i] = cert_get(der, len);
			if (st->certs[i])
				st->certs[i]->stored = 1;
			free(der);
		}
	}
	update_first_seen(st);
	if (!have_result || r->time <= 0) {
		result_free(r);
		r = NULL;
	} else if (r->success) {
		/* the presented chain is the stored one; certificates whose file is
		 * gone are left out rather than invented */
		r->certs = xcalloc(st->chain.n ? st->chain.n : 1, sizeof(*r->certs));
		for (size_t i = 0; i < st->chain.n; i++)
			if (st->certs[i])
				r->certs[r->ncerts++] = cert_ref(st->certs[i]);
		r->verdict.verified = st->verified;
		r->verdict.reasons = st->reasons;
		r->verdict.issues = st->issues;
	} else {
		if (r->fail_stage == NULL)
			r->fail_stage = intern("unknown");
		if (r->fail_reason == NULL)
			r->fail_reason = intern("unknown");
	}
	*stp = st;
	*rp = r;
	return 0;
}

int
store_parse_file(const char *dir, const char *path, struct store_target **st,
    struct result **r, char **err)
{
	char *certs_dir, *text;
	int rc;

	if ((text = file_read_bounded(path, STORE_MAX_FILE, NULL)) == NULL) {
		*err = xstrdup(strerror(errno));
		return -1;
	}
	certs_dir = xasprintf("%s/certs", dir);
	rc = parse_state(certs_dir, text, st, r, err);
	free(certs_dir);
	free(text);
	return rc;
}

int
store_load(struct store *s, struct target *t)
{
	char *name = store_file_name(t->conf->name);
	char *path = xasprintf("%s/%s", s->targets_dir, name);
	struct store_target *st = NULL;
	struct result *r = NULL;
	char *err = NULL;
	int loaded = 0;

	if (access(path, F_OK) == -1 && errno == ENOENT) {
		log_debug("target %s: no state in %s", t->conf->name, path);
	} else if (store_parse_file(s->dir, path, &st, &r, &err) == -1) {
		log_warnx("target %s: state file %s unusable (%s); starting fresh",
		    t->conf->name, path, err);
		free(err);
	} else if (strcmp(st->name, t->conf->name) != 0) {
		log_warnx("target %s: state file %s is for another target (%s); "
		    "starting fresh", t->conf->name, path, st->name);
		store_target_free(st);
		result_free(r);
	} else {
		store_target_free(t->st);
		t->st = st;
		result_free(t->result);
		t->result = r;
		loaded = r != NULL;
		/* what is on disk now is what would be written: no write until
		 * something changes or the refresh falls due */
		{
			struct buf b;
			buf_init(&b);
			render_content(&b, st, r);
			st->have_written = content_digest(&b, st->written) == 0;
			st->written_at = r ? r->time : wall_now();
			buf_free(&b);
		}
	}
	free(name);
	free(path);
	return loaded;
}

size_t
store_load_all(const char *dir, struct store_target ***sts, struct result ***rs, char **errs)
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
			struct store_target *st;
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
configured(const char **names, size_t n, const char *name)
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

void
store_cleanup(struct store *s, const struct conf *c, double now)
{
	char (*refs)[65] = NULL;
	size_t nrefs = 0, refcap = 0, removed_states = 0, removed_certs = 0;
	size_t nnames = c ? c->ntargets : 0;
	const char **names = xcalloc(nnames ? nnames : 1, sizeof(*names));
	double cutoff = now - STORE_KEEP_SECONDS;
	int unsure = 0;
	struct dirent *e;
	DIR *d;

	for (size_t i = 0; i < nnames; i++)
		names[i] = c->targets[i].name;
	qsort(names, nnames, sizeof(*names), cmp_name);
	if ((d = opendir(s->targets_dir)) == NULL) {
		free(names);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		struct store_target *st;
		struct result *r;
		char *path, *err = NULL;

		if (e->d_name[0] == '.' || len < 7 || strcmp(e->d_name + len - 6, ".state") != 0)
			continue;
		path = xasprintf("%s/%s", s->targets_dir, e->d_name);
		if (store_parse_file(s->dir, path, &st, &r, &err) == -1) {
			/* its references are unknown: remove no certificate this time */
			unsure = 1;
			free(err);
			free(path);
			continue;
		}
		if ((r == NULL || r->time < cutoff) && st->first_seen < cutoff &&
		    !configured(names, nnames, st->name)) {
			if (unlink(path) == 0) {
				removed_states++;
				log_info("clean-up: removed %s (target %s, no longer configured, "
				    "not probed for 30 days)", path, st->name);
			}
		} else {
			refs = refs_grow(refs, &refcap, nrefs + st->chain.n);
			for (size_t i = 0; i < st->chain.n; i++)
				memcpy(refs[nrefs++], st->chain.fps[i], 65);
			for (size_t h = 0; h < st->nhist; h++) {
				if (st->hist[h].until < cutoff)
					continue;
				refs = refs_grow(refs, &refcap, nrefs + st->hist[h].n);
				for (size_t i = 0; i < st->hist[h].n; i++)
					memcpy(refs[nrefs++], st->hist[h].fps[i], 65);
			}
		}
		store_target_free(st);
		result_free(r);
		free(path);
	}
	closedir(d);
	if (!unsure && (d = opendir(s->certs_dir)) != NULL) {
		qsort(refs, nrefs, sizeof(*refs), cmp_fp);
		while ((e = readdir(d)) != NULL) {
			char fp[65];
			struct stat sb;

			if (strlen(e->d_name) != 68 || strcmp(e->d_name + 64, ".pem") != 0)
				continue;
			memcpy(fp, e->d_name, 64);
			fp[64] = '\0';
			if (!is_sha256(fp) || (nrefs && bsearch(fp, refs, nrefs, sizeof(*refs), cmp_fp)))
				continue;
			/* written recently: a state file may not have caught up */
			if (fstatat(dirfd(d), e->d_name, &sb, 0) == -1 ||
			    (double)sb.st_mtime >= cutoff)
				continue;
			if (unlinkat(dirfd(d), e->d_name, 0) == 0)
				removed_certs++;
		}
		closedir(d);
	}
	free(refs);
	free(names);
	if (removed_states || removed_certs)
		log_info("clean-up of %s: removed %zu state file%s and %zu certificate%s",
		    s->dir, removed_states, removed_states == 1 ? "" : "s", removed_certs,
		    removed_certs == 1 ? "" : "s");
}

static void
cleanup_cb(struct loop_timer *t)
{
	struct store *s = (struct store *)((char *)t - offsetof(struct store, cleanup));

	store_cleanup(s, s->conf, wall_now());
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
