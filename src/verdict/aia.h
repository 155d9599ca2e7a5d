/* aia.h - missing intermediates, told truthfully: the caIssuers URLs of a
 * certificate (authorityInfoAccess), the certificates such a URL serves
 * (DER, PEM, or PKCS#7 certs-only as RFC 5280 4.2.2.1 says), and whether
 * they complete a path from the presented chain to a trust anchor. */
#ifndef TLSWATCH_AIA_H
#define TLSWATCH_AIA_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/chain.h"

#define AIA_MAX_URLS 4
#define AIA_MAX_CERTS 8          /* certificates taken from one answer */
#define AIA_MAX_BODY (256 * 1024)

/* The http(s) caIssuers URLs of cert, at most AIA_MAX_URLS. How many
 * (*urls: urls_free in x509.h), or -1 when cert does not parse. */
int aia_urls(const unsigned char *cert, size_t len, char ***urls);

/* The certificates in body: 0 with *certs[0..*n) (each data allocated:
 * aia_certs_free), or -1 with *err (allocated). */
int aia_parse(const unsigned char *body, size_t len, struct der **certs, size_t *n, char **err);
void aia_certs_free(struct der *certs, size_t n);

/* Whether chain[0..n) (as presented) with extra[0..nextra) appended
 * reaches an anchor of t with every signature good: the path exists
 * (validity times and the name aside: the verdict reports those). On the
 * loop thread (certificates are interned). */
int aia_completes(const struct der *chain, size_t n, const struct der *extra, size_t nextra,
                  const struct trust *t, int64_t now);

#endif
