/* ocsp.h - OCSP (RFC 6960) through GnuTLS's gnutls_ocsp_*: the request for
 * a certificate, and what a response (from a responder or stapled in the
 * handshake) says of it once its signature (by the issuer or a responder
 * the issuer delegated to), its CertID and its times are checked; and the
 * TLS feature extension (must-staple, RFC 7633). Pure: no I/O. */
#ifndef TLSWATCH_OCSP_H
#define TLSWATCH_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/revoke.h"

#define OCSP_MAX_URLS 4
#define OCSP_MAX_RESPONSE (1024 * 1024)
/* A response without nextUpdate ("newer information is always available")
 * is taken as valid this long after its thisUpdate. */
#define OCSP_NO_NEXT_UPDATE_VALID (24 * 3600)

/* A DER OCSPRequest for cert issued by issuer: one SHA-1 CertID, no nonce,
 * so responses stay cacheable (RFC 5019). 0 with *der (free), or -1 with
 * *err (allocated). */
int ocsp_request(const unsigned char *cert, size_t cert_len, const unsigned char *issuer,
                 size_t issuer_len, unsigned char **der, size_t *len, char **err);

/* What the DER OCSPResponse resp says of cert at now: good, revoked (with
 * time and reason) or unknown, or an error (not successful, bad signature,
 * another certificate, not yet valid, expired). */
void ocsp_check(const unsigned char *resp, size_t resp_len, const unsigned char *cert,
                size_t cert_len, const unsigned char *issuer, size_t issuer_len, int64_t now,
                struct rev_answer *a);

/* thisUpdate and nextUpdate (0: absent) of the first answer in the DER
 * OCSPResponse resp, unverified: for the cache's freshness. 0, or -1 when
 * it is not a successful response. */
int ocsp_times(const unsigned char *resp, size_t len, int64_t *this_update, int64_t *next_update);

/* The OCSP responder URLs of cert's authorityInfoAccess (http, https), at
 * most OCSP_MAX_URLS. How many (*urls: urls_free), or -1 when cert does
 * not parse. */
int ocsp_urls(const unsigned char *cert, size_t len, char ***urls);

/* 1 when cert's TLS feature extension lists status_request (must-staple),
 * 0 when not, -1 when cert does not parse. */
int ocsp_must_staple(const unsigned char *cert, size_t len);

#endif
