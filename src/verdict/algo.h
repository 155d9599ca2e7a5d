/* algo.h - the words tlswatch publishes for algorithms: key types,
 * certificate signature algorithms, TLS key exchange groups and signature
 * schemes. Each comes from GnuTLS's own fixed tables, never from a peer's
 * bytes, so a label made of them takes a bounded set of values. */
#ifndef TLSWATCH_ALGO_H
#define TLSWATCH_ALGO_H

#include <stddef.h>

/* Longest word any of these gives, with its NUL. */
#define ALGO_WORD_MAX 48

/* A key type by gnutls_pk_algorithm_t: "rsa" (RSA-PSS keys too),
 * "ecdsa", "ed25519", "ed448", "dsa", "x25519", "x448", "gost", or
 * "unknown". */
const char *algo_key_type(int pk);

/* A certificate's signature algorithm by gnutls_sign_algorithm_t:
 * "rsa_pkcs1_sha256", "rsa_pss_sha256", "ecdsa_sha384", "ed25519",
 * "dsa_sha1", ... (scheme, then hash); "unknown" for GNUTLS_SIGN_UNKNOWN.
 * out holds ALGO_WORD_MAX. */
void algo_cert_signature(int sign, char *out);

/* The key exchange group as IANA's TLS Supported Groups registry names it,
 * lowercased ("x25519", "secp256r1", "ffdhe2048"), from GnuTLS's name for
 * it ("X25519"); NULL or "" gives "unknown". out holds ALGO_WORD_MAX. */
void algo_group(const char *gnutls_name, char *out);

/* The TLS SignatureScheme as IANA names it ("rsa_pss_rsae_sha256",
 * "ecdsa_secp256r1_sha256", "ed25519", "rsa_pkcs1_sha256"), from GnuTLS's
 * name of the signature algorithm ("RSA-PSS-RSAE-SHA256", or TLS 1.2's
 * "ECDSA-SHA256"); NULL or a name GnuTLS does not know gives "unknown".
 * out holds ALGO_WORD_MAX. */
void algo_sigscheme(const char *gnutls_name, char *out);

#endif
