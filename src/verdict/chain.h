/* chain.h - verification verdict and analysis of a presented chain. */
#ifndef TLSWATCH_CHAIN_H
#define TLSWATCH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

/* Why a chain did not verify: a fixed set, each a bit. */
enum chain_reason {
	REASON_EXPIRED            = 1u << 0,
	REASON_NOT_YET_VALID      = 1u << 1,
	REASON_UNKNOWN_ISSUER     = 1u << 2,
	REASON_SELF_SIGNED        = 1u << 3,
	REASON_SIGNER_NOT_CA      = 1u << 4,
	REASON_HOSTNAME_MISMATCH  = 1u << 5,
	REASON_INSECURE_ALGORITHM = 1u << 6,
	REASON_BAD_SIGNATURE      = 1u << 7,
	REASON_REVOKED            = 1u << 8,
	REASON_OTHER              = 1u << 9,
	/* GnuTLS's status bits it shares between several causes, told apart
	 * by webpki.c's reading of the path; and the checks' own reasons. */
	REASON_NAME_CONSTRAINTS   = 1u << 10,
	REASON_PATH_LENGTH        = 1u << 11,
	REASON_UNKNOWN_CRITICAL_EXTENSION = 1u << 12,
	REASON_PURPOSE            = 1u << 13,
	REASON_KEY_USAGE          = 1u << 14,
	REASON_WEBPKI             = 1u << 15,
};
#define CHAIN_NREASONS 16

/* What is wrong with what was presented, trusted or not. */
enum chain_issue {
	ISSUE_MISORDERED    = 1u << 0,
	ISSUE_INCOMPLETE    = 1u << 1,
	ISSUE_ROOT_INCLUDED = 1u << 2,
	ISSUE_DUPLICATE     = 1u << 3,
};
#define CHAIN_NISSUES 4

/* Name of bit i (0-based) of each set: "expired", ..., "misordered", ... */
const char *chain_reason_name(unsigned i);
const char *chain_issue_name(unsigned i);

/* A set of trust anchors: a CA file, or the system store. */
struct trust;
/* ca_file NULL loads the system store. NULL on failure with *err set
 * (static or allocated? allocated: caller frees). */
struct trust *trust_load(const char *ca_file, char **err);
void trust_free(struct trust *t);
/* An id unique to this loaded store for the life of the process. */
uint64_t trust_id(const struct trust *t);

struct der {
	const unsigned char *data;
	size_t len;
};

struct verdict {
	int verified;             /* 1 when the chain verified, hostname included */
	unsigned reasons;         /* enum chain_reason bits; 0 when verified */
	unsigned issues;          /* enum chain_issue bits */
	int64_t earliest_expiry;  /* min notAfter over the presented certificates */
	int64_t verified_expiry;  /* min notAfter over leaf..anchor; 0 unless verified */
	unsigned gnutls_status;   /* raw gnutls_certificate_status_t, for logs */
};

/* Verify chain[0..n) (as presented, chain[0] first sent) against t, checking
 * hostname when it is not NULL (a DNS name or an IP literal), at time now
 * (seconds since the epoch). Always fills *v. Returns 0, or -1 when the input
 * could not be examined at all (n == 0, a certificate that does not parse):
 * then v->reasons has REASON_OTHER. */
int chain_verify(const struct der *chain, size_t n, const struct trust *t,
                 const char *hostname, int64_t now, struct verdict *v);

/* The Web PKI findings (webpki.h) on the path chain[0..n) takes to an
 * anchor in t (or as far as it goes), appended to out. 0, or -1 when the
 * chain could not be examined. */
struct findings;
int chain_webpki(const struct der *chain, size_t n, const struct trust *t,
                 struct findings *out);

#endif
