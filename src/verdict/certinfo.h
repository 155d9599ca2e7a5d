/* certinfo.h - what a person wants to know about one certificate, from its DER. */
#ifndef TLSWATCH_CERTINFO_H
#define TLSWATCH_CERTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct certinfo {
	char sha256[65];
	char *subject;        /* RFC 4514, as GnuTLS prints it */
	char *issuer;
	char *serial;         /* lowercase hex */
	int64_t not_before;
	int64_t not_after;
	char *key_type;       /* "RSA", "EC", "Ed25519", ... */
	char *key_curve;      /* "SECP256R1" for EC keys, else NULL */
	unsigned key_bits;
	char *sig_alg;        /* "ECDSA-SHA256", "RSA-SHA256", ... */
	char **sans;          /* "DNS:name", "IP:addr", "email:x", "URI:x" */
	size_t nsans;
	int is_ca;
};

/* Fill ci from der. 0, or -1 when it does not parse (ci is then empty). */
int certinfo_get(const unsigned char *der, size_t len, struct certinfo *ci);
void certinfo_fini(struct certinfo *ci);
/* The certificate as PEM text (allocated), or NULL. */
char *certinfo_pem(const unsigned char *der, size_t len);
/* ci as a JSON object, with its depth and days left at now. */
void certinfo_json(struct buf *b, const struct certinfo *ci, size_t depth, double now);

#endif
