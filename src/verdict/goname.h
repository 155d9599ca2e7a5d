/* goname.h - distinguished names as Go's crypto/x509/pkix Name.String()
 * writes them: the subject and issuer labels blackbox_exporter publishes. */
#ifndef TLSWATCH_GONAME_H
#define TLSWATCH_GONAME_H

#include <stddef.h>

/* At most this many bytes of DER in one Name. */
#define GONAME_MAX_DER 65536

/* The DER of an X.509 Name (a certificate's raw subject or issuer) into
 * Go's string, allocated. NULL when GnuTLS cannot parse it, or when Go's
 * x509 parser would refuse the certificate for it (a value that is not one
 * of the string types Go reads, or not valid in its type): blackbox then
 * fails the handshake and publishes no name at all. */
char *goname_dn(const unsigned char *der, size_t len);

#endif
