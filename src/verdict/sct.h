/* sct.h - Signed Certificate Timestamps (RFC 6962 3.3): the TLS-encoded
 * SignedCertificateTimestampList, parsed and counted, as a certificate
 * embeds it and as a stapled OCSP response carries it. Input is hostile:
 * every length is checked against what is left before it is used. */
#ifndef TLSWATCH_SCT_H
#define TLSWATCH_SCT_H

#include <stddef.h>
#include <stdint.h>

/* The X.509 extension (RFC 6962 3.3) and the OCSP singleExtension (3.3,
 * "TLS extension" aside) that hold the list. */
#define SCT_OID_X509 "1.3.6.1.4.1.11129.2.4.2"
#define SCT_OID_OCSP "1.3.6.1.4.1.11129.2.4.5"

/* Details are kept of the first SCT_KEEP SCTs; all are counted. A list is
 * at most 65535 bytes and a v1 SCT at least 47, so counts stay small. */
#define SCT_KEEP 8

struct sct {
	unsigned char log_id[32];
	uint64_t timestamp_ms;     /* milliseconds since the epoch, as logged */
	uint8_t hash_alg, sig_alg; /* TLS SignatureAndHashAlgorithm */
};

struct sct_list {
	unsigned n;        /* v1 SCTs that parse */
	unsigned unknown;  /* SCTs of a later version: skipped, as 3.3 says */
	unsigned invalid;  /* v1 SCTs whose fields do not fill their length */
	struct sct v[SCT_KEEP];   /* the first min(n, SCT_KEEP) of the n */
};

/* Parse a TLS-encoded SignedCertificateTimestampList. 0 with *out filled,
 * or -1 (*out zeroed) when the list's own framing is broken: a length past
 * the end, bytes after the list, an empty list or an empty SCT. */
int sct_list_parse(const unsigned char *p, size_t len, struct sct_list *out);

/* The same from an extension's value (the contents of extnValue: a DER
 * OCTET STRING that holds the list, the same in X.509 and OCSP). */
int sct_list_from_ext(const unsigned char *p, size_t len, struct sct_list *out);

/* The list in a DER OCSPResponse (RFC 6960 4.2.1), from the singleExtensions
 * of the SingleResponse whose certID names serial (the INTEGER's content
 * bytes, as gnutls_x509_crt_get_serial gives them; NULL: the first). 1 when
 * found and parsed, 0 when the response holds no such list (or no response
 * for serial), -1 when the response or the list is malformed. */
int sct_list_from_ocsp(const unsigned char *resp, size_t len, const unsigned char *serial,
                       size_t serial_len, struct sct_list *out);

#endif
