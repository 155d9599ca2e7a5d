/* gzip.h - content coding for HTTP responses (zlib). */
#ifndef TLSWATCH_GZIP_H
#define TLSWATCH_GZIP_H

#include <stddef.h>

#include "core/util.h"

/* Whether an Accept-Encoding header value accepts gzip: a "gzip" (or
 * "x-gzip", or "*") coding whose q-value is not 0. NULL accepts nothing. */
int gzip_accepted(const char *accept_encoding);

/* A gzip member written piece by piece: the input never has to be whole. */
struct gzip_stream;
struct gzip_stream *gzip_stream_new(void);   /* NULL if zlib fails */
/* Compress in[0..len) onto the stream. 0, or -1 once zlib failed. */
int gzip_stream_write(struct gzip_stream *z, const void *in, size_t len);
/* The compressed bytes made so far (allocated) and their count in
 * *outlen, taken off the stream; NULL with *outlen 0 if none yet. */
unsigned char *gzip_stream_take(struct gzip_stream *z, size_t *outlen);
/* End the member; the compressed bytes (allocated) and their count in
 * *outlen, or NULL if zlib failed. Frees the stream either way. */
unsigned char *gzip_stream_finish(struct gzip_stream *z, size_t *outlen);
/* A flush hook for struct buf: compresses the buffer's contents onto the
 * gzip_stream in arg and empties it. */
void gzip_buf_flush(struct buf *b, void *arg);

/* Compress in[0..len) into a gzip member. Returns an allocated buffer and
 * its size in *outlen, or NULL if zlib fails (the caller sends it plain). */
unsigned char *gzip_compress(const void *in, size_t len, size_t *outlen);

#endif
