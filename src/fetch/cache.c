/* cache.c - the fetch cache's file format and its blocking I/O. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "core/file.h"
#include "core/util.h"
#include "fetch/cache.h"
#include "fetch/fetch.h"
#include "state/store.h"

/* Files younger than this are left alone by a scan: a write may be between
 * its two renames. */
#define CACHE_SCAN_GRACE 600

void
cache_meta_free(struct cache_meta *m)
{
	if (m == NULL)
		return;
	free(m->url);
	free(m->etag);
	free(m->last_modified);
	free(m->content_type);
	memset(m, 0, sizeof(*m));
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void
cache_meta_copy(struct cache_meta *dst, const struct cache_meta *src)
{
	*dst = *src;
	dst->url = dup_or_null(src->url);
	dst->etag = dup_or_null(src->etag);
	dst->last_modified = dup_or_null(src->last_modified);
	dst->content_type = dup_or_null(src->content_type);
}

int
cache_value_ok(const char *v, size_t len)
{
	if (len == 0 || len > CACHE_MAX_VALUE)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return 0;
	return 1;
}

static void
put_value(struct buf *b, const char *key, const char *v)
{
	if (v == NULL)
		return;
	buf_printf(b, "%s ", key);
	store_escape(b, v);
	buf_putc(b, '\n');
}

void
cache_meta_render(struct buf *b, const struct cache_meta *m)
{
	char hex[65];

	buf_printf(b, "tlswatch-fetch %d\n", CACHE_FORMAT);
	put_value(b, "url", m->url);
	buf_printf(b, "kind %s\n", fetch_kind_name((enum fetch_kind)m->kind));
	buf_printf(b, "fetched %.3f\nfresh_until %.3f\n", m->fetched, m->fresh_until);
	if (m->retry_after > 0)
		buf_printf(b, "retry_after %.3f\n", m->retry_after);
	put_value(b, "etag", m->etag);
	put_value(b, "last_modified", m->last_modified);
	put_value(b, "content_type", m->content_type);
	hex_encode(m->body_sha256, 32, hex);
	buf_printf(b, "body_size %llu\nbody_sha256 %s\nend\n",
	    (unsigned long long)m->body_size, hex);
}

static int
parse_time(const char *v, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < 0 ||
	    d > (double)TIME_MAX_EPOCH)
		return -1;
	/* to the milliseconds the file is written in, so that what is read
	 * is what would be written again (fuzz_fetch_meta's round trip) */
	*out = (double)(int64_t)(d * 1000.0 + 0.5) / 1000.0;   /* d >= 0 */
	return 0;
}

static int
parse_sha256(const char *v, unsigned char out[32])
{
	if (strlen(v) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		int hi = hex_value(v[2 * i]), lo = hex_value(v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* A header value read back: unescaped and still fit to send. */
static int
parse_value(const char *v, char **out)
{
	char *u = store_unescape(v);

	if (u == NULL || !cache_value_ok(u, strlen(u)) || *out != NULL) {
		free(u);
		return -1;
	}
	*out = u;
	return 0;
}

int
cache_meta_parse(const char *text, size_t len, struct cache_meta *m)
{
	char *copy, *line, *next;
	int first = 1, ended = 0, have_kind = 0, have_fetched = 0, have_fresh = 0;
	int have_size = 0, have_sha = 0, bad = 0;

	memset(m, 0, sizeof(*m));
	/* a NUL inside is damage, and would hide the rest from the parser */
	if (len == 0 || len > CACHE_MAX_META || memchr(text, '\0', len) != NULL)
		return -1;
	copy = xstrndup(text, len);
	for (line = copy; line != NULL && !bad; line = next) {
		char *sp, *key, *v;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else if (*line == '\0')
			break;          /* the text ended with a newline */
		else {
			bad = 1;        /* a last line without its newline: torn */
			break;
		}
		if (ended) {
			bad = 1;        /* nothing may follow "end" */
			break;
		}
		if (first) {
			char want[32];

			snprintf(want, sizeof(want), "tlswatch-fetch %d", CACHE_FORMAT);
			bad = strcmp(line, want) != 0;
			first = 0;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			ended = 1;
			continue;
		}
		if ((sp = strchr(line, ' ')) == NULL) {
			bad = 1;
			break;
		}
		*sp = '\0';
		key = line;
		v = sp + 1;
		if (strcmp(key, "url") == 0) {
			char *u = store_unescape(v);

			if (u == NULL || *u == '\0' || strlen(u) > CACHE_MAX_URL || m->url != NULL) {
				free(u);
				bad = 1;
			} else
				m->url = u;
		} else if (strcmp(key, "kind") == 0) {
			int k;

			for (k = 0; k < FETCH_NKINDS; k++)
				if (strcmp(v, fetch_kind_name((enum fetch_kind)k)) == 0)
					break;
			bad = k == FETCH_NKINDS || have_kind;
			m->kind = k;
			have_kind = 1;
		} else if (strcmp(key, "fetched") == 0) {
			bad = have_fetched || parse_time(v, &m->fetched) == -1;
			have_fetched = 1;
		} else if (strcmp(key, "fresh_until") == 0) {
			bad = have_fresh || parse_time(v, &m->fresh_until) == -1;
			have_fresh = 1;
		} else if (strcmp(key, "retry_after") == 0) {
			bad = parse_time(v, &m->retry_after) == -1;
		} else if (strcmp(key, "etag") == 0) {
			bad = parse_value(v, &m->etag) == -1;
		} else if (strcmp(key, "last_modified") == 0) {
			bad = parse_value(v, &m->last_modified) == -1;
		} else if (strcmp(key, "content_type") == 0) {
			bad = parse_value(v, &m->content_type) == -1;
		} else if (strcmp(key, "body_size") == 0) {
			char *end;
			unsigned long long n;

			errno = 0;
			n = strtoull(v, &end, 10);
			bad = have_size || errno != 0 || end == v || *end != '\0' ||
			    !(*v >= '0' && *v <= '9') || n > SIZE_MAX_BYTES;
			m->body_size = n;
			have_size = 1;
		} else if (strcmp(key, "body_sha256") == 0) {
			bad = have_sha || parse_sha256(v, m->body_sha256) == -1;
			have_sha = 1;
		}
		/* other keys: a newer version's, ignored */
	}
	free(copy);
	if (bad || !ended || m->url == NULL || !have_kind || !have_fetched || !have_fresh ||
	    !have_size || !have_sha) {
		cache_meta_free(m);
		return -1;
	}
	return 0;
}

void
cache_key(const char *url, const void *post, size_t post_len, const char *ca_file,
    int insecure, char hex[65])
{
	const void *parts[3] = { url, post, ca_file ? ca_file : "" };
	size_t lens[3] = { strlen(url), post ? post_len : 0, ca_file ? strlen(ca_file) : 0 };
	unsigned char flags[2] = { post != NULL, insecure != 0 };
	gnutls_hash_hd_t h;
	unsigned char d[32];

	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		abort();        /* SHA-256 is always there: a broken library */
	gnutls_hash(h, "tlswatch-fetch-key 1", 20);
	/* each part with its length, so no two requests share a key */
	for (int i = 0; i < 3; i++) {
		uint64_t n = lens[i];

		gnutls_hash(h, &n, sizeof(n));
		if (n)
			gnutls_hash(h, parts[i], n);
	}
	gnutls_hash(h, flags, sizeof(flags));
	gnutls_hash_deinit(h, d);
	hex_encode(d, sizeof(d), hex);
}

/* ---------------------------------------------------------------- I/O */

static uint64_t
file_size(const char *path, int *exists)
{
	struct stat st;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		*exists = 0;
		return 0;
	}
	*exists = 1;
	return (uint64_t)st.st_size;
}

/* Remove both files of an entry; count what went. */
static void
remove_entry(const char *meta_path, const char *body_path, struct cache_delta *d)
{
	int em, eb;
	uint64_t sm = file_size(meta_path, &em), sb = file_size(body_path, &eb);

	if (em && unlink(meta_path) == 0) {
		d->entries--;
		d->bytes -= (int64_t)sm;
	}
	if (eb && unlink(body_path) == 0)
		d->bytes -= (int64_t)sb;
}

int
cache_read(const char *dir, const char *hex, const char *url, int want_body,
    struct cache_meta *m, unsigned char **body, struct cache_delta *d)
{
	char *meta_path = xasprintf("%s/%s.meta", dir, hex);
	char *body_path = xasprintf("%s/%s.body", dir, hex);
	char *text = NULL, *data = NULL;
	size_t len, blen;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	*body = NULL;
	if ((text = file_read_bounded(meta_path, CACHE_MAX_META, &len)) == NULL) {
		if (errno == ENOENT) {
			/* a body alone is the remains of a first write cut short */
			int eb;
			(void)file_size(body_path, &eb);
			if (eb)
				remove_entry(meta_path, body_path, d);
			rc = 0;
			goto out;
		}
		goto damaged;
	}
	if (cache_meta_parse(text, len, m) == -1 || strcmp(m->url, url) != 0)
		goto damaged;
	if (want_body) {
		unsigned char sha[32];

		if (m->body_size >= SIZE_MAX ||
		    (data = file_read_bounded(body_path, (size_t)m->body_size, &blen)) == NULL ||
		    blen != m->body_size ||
		    gnutls_hash_fast(GNUTLS_DIG_SHA256, data, blen, sha) < 0 ||
		    memcmp(sha, m->body_sha256, 32) != 0)
			goto damaged;
		*body = (unsigned char *)data;
		data = NULL;
	} else {
		int eb;

		if (file_size(body_path, &eb) != m->body_size || !eb)
			goto damaged;
	}
	rc = 1;
	goto out;
damaged:
	cache_meta_free(m);
	remove_entry(meta_path, body_path, d);
	rc = -1;
out:
	free(text);
	free(data);
	free(meta_path);
	free(body_path);
	return rc;
}

int
cache_write(const char *dir, const char *hex, const struct cache_meta *m,
    const unsigned char *body, const char **what, char **path, struct cache_delta *d)
{
	char *meta_name = xasprintf("%s.meta", hex);
	char *body_name = xasprintf("%s.body", hex);
	char *meta_path = xasprintf("%s/%s", dir, meta_name);
	char *body_path = xasprintf("%s/%s", dir, body_name);
	struct buf b;
	int em, eb, rc = -1;
	uint64_t old_meta = file_size(meta_path, &em), old_body = file_size(body_path, &eb);

	*path = NULL;
	buf_init(&b);
	if (file_mkdir_p(dir) == -1) {
		*what = "create";
		*path = xstrdup(dir);
		goto out;
	}
	if (body != NULL) {
		if (file_write_atomic(dir, body_name, body, (size_t)m->body_size, what) == -1) {
			*path = xstrdup(body_path);
			goto out;
		}
		d->bytes += (int64_t)m->body_size - (int64_t)old_body;
	}
	cache_meta_render(&b, m);
	if (file_write_atomic(dir, meta_name, b.data, b.len, what) == -1) {
		*path = xstrdup(meta_path);
		goto out;
	}
	d->bytes += (int64_t)b.len - (int64_t)old_meta;
	if (!em)
		d->entries++;
	rc = 0;
out:
	buf_free(&b);
	free(meta_name);
	free(body_name);
	free(meta_path);
	free(body_path);
	return rc;
}

static int
has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n == 64 + s && strcmp(name + 64, suffix) == 0 &&
	    strspn(name, "0123456789abcdef") == 64;
}

void
cache_scan(const char *dir, double now, uint64_t *entries, uint64_t *bytes)
{
	struct dirent *e;
	DIR *dp;

	*entries = *bytes = 0;
	file_remove_tmp(dir);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		char *meta_path, *body_path, *text;
		struct cache_meta m;
		struct stat sm, sb;
		int have_body, young, ok;
		size_t len;
		char hex[65];

		if (has_suffix(e->d_name, ".body")) {
			/* a body without its meta, left by a first write cut short */
			memcpy(hex, e->d_name, 64);
			hex[64] = '\0';
			meta_path = xasprintf("%s/%s.meta", dir, hex);
			body_path = xasprintf("%s/%s", dir, e->d_name);
			if (lstat(meta_path, &sm) == -1 && errno == ENOENT &&
			    lstat(body_path, &sb) == 0 && sb.st_mtime + CACHE_SCAN_GRACE < now)
				(void)unlink(body_path);
			free(meta_path);
			free(body_path);
			continue;
		}
		if (!has_suffix(e->d_name, ".meta"))
			continue;
		memcpy(hex, e->d_name, 64);
		hex[64] = '\0';
		meta_path = xasprintf("%s/%s", dir, e->d_name);
		body_path = xasprintf("%s/%s.body", dir, hex);
		if (lstat(meta_path, &sm) == -1 || !S_ISREG(sm.st_mode)) {
			free(meta_path);
			free(body_path);
			continue;
		}
		have_body = lstat(body_path, &sb) == 0 && S_ISREG(sb.st_mode);
		young = sm.st_mtime + CACHE_SCAN_GRACE >= now ||
		    (have_body && sb.st_mtime + CACHE_SCAN_GRACE >= now);
		text = file_read_bounded(meta_path, CACHE_MAX_META, &len);
		ok = text != NULL && cache_meta_parse(text, len, &m) == 0;
		if (ok) {
			ok = have_body && (uint64_t)sb.st_size == m.body_size &&
			    m.fresh_until + CACHE_KEEP_SECONDS >= now;
			cache_meta_free(&m);
		}
		free(text);
		if (ok || young) {
			*entries += 1;
			*bytes += (uint64_t)sm.st_size + (have_body ? (uint64_t)sb.st_size : 0);
		} else {
			(void)unlink(meta_path);
			if (have_body)
				(void)unlink(body_path);
		}
		free(meta_path);
		free(body_path);
	}
	closedir(dp);
}
