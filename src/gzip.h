/* gzip.h - content coding for HTTP responses (zlib). */
#ifndef TLSWATCH_GZIP_H
#define TLSWATCH_GZIP_H

#include <stddef.h>

/* Whether an Accept-Encoding header value accepts gzip: a "gzip" (or
 * "x-gzip", or "*") coding whose q-value is not 0. NULL accepts nothing. */
int gzip_accepted(const char *accept_encoding);

/* Compress in[0..len) into a gzip member. Returns an allocated buffer and
 * its size in *outlen, or NULL if zlib fails (the caller sends it plain). */
unsigned char *gzip_compress(const void *in, size_t len, size_t *outlen);

#endif
