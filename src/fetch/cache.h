/* cache.h - the fetch cache on disk: one entry per key (URL, POST body, TLS
 * settings) as two files in state_dir/fetch, HEX.body (the bytes as
 * fetched) and HEX.meta (lines of "key value": URL, validators, freshness,
 * and the body's size and SHA-256, so a torn or damaged pair is detected).
 * The I/O functions block: fetch.c calls them on worker threads. */
#ifndef TLSWATCH_FETCH_CACHE_H
#define TLSWATCH_FETCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define CACHE_FORMAT 1
#define CACHE_MAX_META (64 * 1024)   /* bound on a .meta file read back */
#define CACHE_MAX_URL 8192           /* longer URLs are refused by fetch() */
#define CACHE_MAX_VALUE 1024         /* ETag, Last-Modified, Content-Type */
#define CACHE_KEEP_SECONDS (30 * 86400)  /* unused this long past freshness: removed */

/* What is kept of one cached body beside the body itself. */
struct cache_meta {
	char *url;
	int kind;                   /* enum fetch_kind */
	double fetched;             /* last fetched or revalidated */
	double fresh_until;
	double retry_after;         /* 0: none */
	char *etag;                 /* NULL when absent */
	char *last_modified;
	char *content_type;
	uint64_t body_size;
	unsigned char body_sha256[32];
};

void cache_meta_free(struct cache_meta *m);
void cache_meta_copy(struct cache_meta *dst, const struct cache_meta *src);
/* The .meta text of m. */
void cache_meta_render(struct buf *b, const struct cache_meta *m);
/* Parse a .meta text (hostile: a damaged or foreign file). 0 with *m
 * filled (free with cache_meta_free), or -1 with *m zeroed. */
int cache_meta_parse(const char *text, size_t len, struct cache_meta *m);

/* Whether v may be kept and sent back in a header: at most CACHE_MAX_VALUE
 * bytes of printable ASCII and spaces. */
int cache_value_ok(const char *v, size_t len);

/* The key of a request: SHA-256 over the URL, the POST body and the TLS
 * settings, as 64 hex digits (the file names) in hex. */
void cache_key(const char *url, const void *post, size_t post_len, const char *ca_file,
               int insecure, char hex[65]);

/* ---- blocking I/O, for worker threads ---- */

/* A change to the directory's totals, as an I/O step saw it. */
struct cache_delta {
	int64_t entries;
	int64_t bytes;
};

/* Read entry hex: its meta (when url matches) and body (when want_body).
 * 1 when found whole; 0 when absent; -1 when damaged (then removed, and
 * *d counts what went). */
int cache_read(const char *dir, const char *hex, const char *url, int want_body,
               struct cache_meta *m, unsigned char **body, struct cache_delta *d);
/* Write entry hex: the body first when body is not NULL, then the meta.
 * 0, or -1 with errno and *what, *path the failing step. *d counts the
 * change in the directory's totals. */
int cache_write(const char *dir, const char *hex, const struct cache_meta *m,
                const unsigned char *body, const char **what, char **path,
                struct cache_delta *d);
/* Count the entries of dir after removing temporary files and entries not
 * fresh for CACHE_KEEP_SECONDS before now (and not modified for a day).
 * *entries and *bytes are the totals after. */
void cache_scan(const char *dir, double now, uint64_t *entries, uint64_t *bytes);

#endif
