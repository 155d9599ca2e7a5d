/* certs.h - certificates seen on the wire, interned by SHA-256 and shared. */
#ifndef TLSWATCH_CERTS_H
#define TLSWATCH_CERTS_H

#include <stddef.h>
#include <stdint.h>

/* Immutable once made. An intermediate presented by many targets exists once. */
struct cert {
	unsigned refs;
	char sha256[65];     /* lowercase hex of the SHA-256 of the DER */
	char *subject;       /* RFC 4514 distinguished name, as GnuTLS prints it */
	char *issuer;
	char *serial;        /* lowercase hex, no separators */
	int64_t not_before;  /* seconds since the epoch */
	int64_t not_after;
	int self_signed;     /* subject and key match its own issuer */
	int is_ca;           /* basicConstraints CA:TRUE */
	int stored;          /* known to be in state_dir (set by store.c) */
	struct cert *hnext;  /* hash bucket chain, private to certs.c */
};

/* The interned certificate for this DER, with one more reference; NULL when
 * the DER does not parse as X.509. */
struct cert *cert_get(const unsigned char *der, size_t len);
struct cert *cert_ref(struct cert *c);
/* Drop a reference; the last one frees. Accepts NULL. */
void cert_put(struct cert *c);
/* Certificates currently interned (for tests and the benchmark). */
size_t cert_count(void);

/* Whether a parsed certificate (a gnutls_x509_crt_t) is self-signed: it
 * names itself as issuer and its own key verifies its signature. For the
 * verdict modules, which hold GnuTLS's parse already. */
struct gnutls_x509_crt_int;
int certs_crt_self_signed(struct gnutls_x509_crt_int *crt);

#endif
