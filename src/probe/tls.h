/* tls.h - one non-blocking GnuTLS client session; the only user of gnutls.h sessions. */
#ifndef TLSWATCH_TLS_H
#define TLSWATCH_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/certs.h"
#include "verdict/verdict.h"

/* Process-wide set-up: the shared (trust-less) credentials. 0 or -1. */
int tls_init(char **err);
void tls_fini(void);
const char *tls_library_version(void);

struct tls;

enum tls_status {
	TLS_DONE,
	TLS_WANT_READ,
	TLS_WANT_WRITE,
	TLS_FAILED,
};

/* A client session on the connected non-blocking socket fd (not owned).
 * sni NULL sends no server name. priority NULL: GnuTLS's default. */
struct tls *tls_new(int fd, const char *sni, const char *priority, char **err);
void tls_free(struct tls *t);

/* Advance the handshake. Never blocks. On TLS_FAILED, *reason is a static
 * bounded name ("closed", "reset", "protocol_error", "alert_<name>", ...)
 * and *detail an allocated message for people. The certificate is not
 * verified here: that is chain.c's job, after the handshake. */
enum tls_status tls_handshake(struct tls *t, const char **reason, char **detail);

/* Whether the handshake stopped at the leaf's key usage (TLS_DONE all the
 * same, with the chain received): clients refuse such a server. */
int tls_key_usage_violated(const struct tls *t);
/* The certificates the peer presented, in order; valid until tls_free. */
const struct der *tls_peer_chain(struct tls *t, size_t *n);
/* What later checks need from the handshake (verdict.h): the stapled OCSP
 * responses (every session asks for them), the group and the signature
 * scheme. Valid until tls_free. */
void tls_facts(struct tls *t, struct tls_facts *f);
const char *tls_version_name(struct tls *t);  /* "TLS1.3" */
const char *tls_cipher_name(struct tls *t);   /* "TLS_AES_256_GCM_SHA384" */
/* Send close_notify if the socket takes it now; never waits. */
void tls_bye(struct tls *t);

/* A client certificate and its key (PEM files), for servers that require
 * mutual TLS. NULL with *err when they cannot be loaded or do not match;
 * *not_after is the certificate's expiry (seconds since the epoch). */
struct tls_creds;
struct tls_creds *tls_creds_load(const char *cert, const char *key, int64_t *not_after,
                                 char **err);
void tls_creds_free(struct tls_creds *c);
/* Present c's certificate in session t when the server asks (before the
 * handshake). 0 or -1 with *err. */
int tls_use_creds(struct tls *t, const struct tls_creds *c, char **err);

/* Check a GnuTLS priority string: 0, or -1 with *err naming the position
 * where GnuTLS stopped understanding it. */
int tls_priority_check(const char *priority, char **err);
/* Priority strings parsed and kept for later sessions (for tests). */
size_t tls_priority_cached(void);

#endif
