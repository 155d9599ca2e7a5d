/* certs.h - certificates seen on the wire, interned by SHA-256 and shared:
 * the one place a certificate's DER is read into fields (certinfo.c formats
 * them for people, the checks read them). */
#ifndef TLSWATCH_CERTS_H
#define TLSWATCH_CERTS_H

#include <stddef.h>
#include <stdint.h>

/* A certificate's DER as it came (borrowed or allocated, as its owner says). */
struct der {
	const unsigned char *data;
	size_t len;
};

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
	const char *key_type;   /* "RSA", "EC", "Ed25519", ... (GnuTLS's names); "unknown" */
	const char *key_curve;  /* "SECP256R1" for EC keys, else NULL */
	unsigned key_bits;
	const char *sig_alg;    /* "ECDSA-SHA256", "RSA-SHA256", ...; "unknown" */
	char **sans;            /* "DNS:name", "IP:addr", "email:x", "URI:x", at most
	                         * CERT_MAX_SANS, in one allocation */
	size_t nsans;
	/* Subject and issuer as Go's pkix.Name.String() writes them (goname.c),
	 * for blackbox-compatible labels: made on demand (cert_go_names); NULL
	 * until then, or when Go would refuse the name. */
	char *go_subject;
	char *go_issuer;
	int go_done;
	int stored;          /* known to be in state_dir (set by store.c) */
	struct cert *hnext;  /* hash bucket chain, private to certs.c */
};

#define CERT_MAX_SANS 1000

/* The interned certificate for this DER, with one more reference; NULL when
 * the DER does not parse as X.509. */
struct cert *cert_get(const unsigned char *der, size_t len);
/* The interned certificate whose SHA-256 is sha256 (64 lowercase hex
 * digits), with one more reference; NULL when none is interned. */
struct cert *cert_find(const char *sha256);
/* A certificate parsed but not interned (reference count 0), or NULL: the
 * one call here that is safe off the loop thread. Hand it to cert_intern
 * on the loop, or free it with cert_parsed_free (on any thread). */
struct cert *cert_parse(const unsigned char *der, size_t len);
void cert_parsed_free(struct cert *c);
/* c (from cert_parse) interned, with one more reference; c itself is freed
 * when an equal certificate is interned already. */
struct cert *cert_intern(struct cert *c);
struct cert *cert_ref(struct cert *c);
/* Drop a reference; the last one frees. Accepts NULL. */
void cert_put(struct cert *c);
/* Fill c->go_subject and c->go_issuer from der, c's DER, unless done. */
void cert_go_names(struct cert *c, const unsigned char *der, size_t len);
/* Certificates currently interned (for tests and the benchmark). */
size_t cert_count(void);

/* The encodings of certificate files, for modules that keep them on disk
 * without touching GnuTLS themselves. SHA-256 of data into out: 0, or -1. */
int cert_sha256(const void *data, size_t len, unsigned char out[32]);
/* PEM text of a DER certificate (allocated, *pem_len bytes), or NULL. */
char *cert_pem(const unsigned char *der, size_t len, size_t *pem_len);
/* The DER of the CERTIFICATE in PEM text (allocated), or NULL. */
unsigned char *cert_der_from_pem(const char *pem, size_t len, size_t *der_len);

/* Whether a parsed certificate (a gnutls_x509_crt_t) is self-signed: it
 * names itself as issuer and its own key verifies its signature. For the
 * verdict modules, which hold GnuTLS's parse already. */
struct gnutls_x509_crt_int;
int certs_crt_self_signed(struct gnutls_x509_crt_int *crt);

#endif
