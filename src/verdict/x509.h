/* x509.h - the GnuTLS certificate handles the revocation modules share:
 * one import from DER, and the extensions they read (AIA, TLS feature). */
#ifndef TLSWATCH_X509_H
#define TLSWATCH_X509_H

#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* A certificate from DER, or NULL when it does not parse. Deinit with
 * gnutls_x509_crt_deinit. */
gnutls_x509_crt_t x509_import(const unsigned char *der, size_t len);

/* The http(s) URIs of the authorityInfoAccess of one kind
 * (GNUTLS_IA_OCSP_URI or GNUTLS_IA_CAISSUERS_URI) of the certificate in
 * der, at most max, in order; how many (*urls allocated: urls_free), or
 * -1 when it does not parse. */
int x509_aia_urls(const unsigned char *der, size_t len, int what, size_t max, char ***urls);

/* Free an array of n strings (the *_urls functions). Accepts NULL. */
void urls_free(char **urls, size_t n);

/* Whether s[0..len) is an http:// or https:// URL of printable ASCII, at
 * most 2048 bytes: the only ones fetched. */
int x509_is_http_url(const unsigned char *s, size_t len);

#endif
