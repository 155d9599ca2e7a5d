/* crl.h - certificate revocation lists (RFC 5280 section 5): parsed from
 * DER (or PEM), their signature verified against the issuer, their entries
 * held as a compact sorted set (serials.h), and what one says about a
 * certificate.
 *
 * GnuTLS's gnutls_x509_crl_import decodes a CRL in time quadratic in its
 * entries (20,000 entries: 24 s of CPU on GnuTLS 3.7.9) and gives no access
 * to an entry's reason code, so the TBSCertList is read here with a bounded
 * DER reader (asn1.h) and the signature checked by GnuTLS over its bytes
 * (gnutls_pubkey_verify_data2). Pure: no I/O, no globals; crl_load may run
 * on any thread. */
#ifndef TLSWATCH_CRL_H
#define TLSWATCH_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/revoke.h"

#define CRL_MAX_URLS 8        /* distribution points taken from a certificate */

struct serials;

struct crl {
	int verified;             /* signature checked against the issuer given */
	int64_t this_update;
	int64_t next_update;      /* 0: absent */
	char *number;             /* cRLNumber in hex; NULL when absent */
	/* issuingDistributionPoint: the scope of a partitioned CRL */
	int idp;                  /* present */
	char **idp_urls;          /* its fullName URIs */
	size_t nidp_urls;
	int only_user, only_ca, only_some_reasons, indirect, only_attribute;
	struct serials *revoked;
};

/* Parse data (DER, or PEM "X509 CRL"), and with issuer (the DER of the
 * certificate believed to have issued it) check that the issuer names
 * match, that the issuer may sign CRLs and that the signature verifies.
 * Refused: delta and indirect CRLs, unknown critical extensions, anything
 * malformed. Returns 0 with *out, or -1 with *err (allocated). */
int crl_load(const unsigned char *data, size_t len, const unsigned char *issuer, size_t issuer_len,
             struct crl **out, char **err);
void crl_free(struct crl *c);
/* thisUpdate and nextUpdate (0: absent) of data (DER or PEM) without
 * reading its entries or checking its signature: for the cache's
 * freshness. 0, or -1 when the start of a CRL does not parse. */
int crl_times(const unsigned char *data, size_t len, int64_t *this_update, int64_t *next_update);

/* What c (verified) says of the certificate with this serial (DER INTEGER
 * contents), a CA or not, whose distribution point url c was fetched from
 * (NULL: not checked), at now: revoked, good, or an error (stale, not yet
 * valid, out of the CRL's scope, not verified). */
void crl_check(const struct crl *c, const unsigned char *serial, size_t serial_len, int is_ca,
               const char *url, int64_t now, struct rev_answer *a);

/* The http(s) URLs of cert's CRL distribution points (fullName URIs), at
 * most CRL_MAX_URLS, in order. Returns how many (*urls allocated:
 * urls_free in x509.h), or -1 when cert does not parse. */
int crl_urls(const unsigned char *cert, size_t len, char ***urls);

#endif
