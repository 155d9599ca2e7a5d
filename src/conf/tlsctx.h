/* tlsctx.h - the TLS material a configuration names: trust stores, client
 * credentials and priority strings, loaded and checked while the
 * configuration loads, each loaded once however many targets name it. */
#ifndef TLSWATCH_TLSCTX_H
#define TLSWATCH_TLSCTX_H

#include <stdint.h>

struct trust;
struct tls_creds;
struct tlsctx;

struct tlsctx *tlsctx_new(void);
/* Frees every store and credential it loaded. Accepts NULL. */
void tlsctx_free(struct tlsctx *x);

/* The trust store in ca_file (NULL: the system store), loaded at the first
 * call for that path. NULL with *err (allocated) when it cannot be loaded;
 * a path that failed fails again with the same message, without loading. */
const struct trust *tlsctx_trust(struct tlsctx *x, const char *ca_file, char **err);

/* A client certificate and key (PEM files), loaded at the first call for
 * that pair; *not_after is the certificate's expiry. NULL with *err as
 * above. */
const struct tls_creds *tlsctx_creds(struct tlsctx *x, const char *cert, const char *key,
                                     int64_t *not_after, char **err);

/* Whether GnuTLS accepts the priority string: 0, or -1 with *err naming
 * the position where it stopped understanding it. */
int tlsctx_priority(struct tlsctx *x, const char *priority, char **err);

#endif
