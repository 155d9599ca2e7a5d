/* webtls.h - the server side of the metrics endpoint's TLS: checks of the
 * configured key pair and client CA, and of a client's certificate. */
#ifndef TLSWATCH_WEBTLS_H
#define TLSWATCH_WEBTLS_H

/* 0 when cert_pem holds a certificate (chain) and key_pem the private key
 * matching its first certificate; else -1 with *err (allocated). */
int webtls_check_keypair(const char *cert_pem, const char *key_pem, char **err);
/* 0 when ca_pem holds at least one certificate, else -1 with *err. */
int webtls_check_ca(const char *ca_pem, char **err);
/* 1 when the client of the server session (a gnutls_session_t, as
 * libmicrohttpd hands it out) presented a certificate that verifies
 * against the session's trust list; else 0. */
int webtls_client_verified(void *session);

#endif
