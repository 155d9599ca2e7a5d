/* ari.h - ACME Renewal Information (RFC 9773): the certificate identifier,
 * the directory's renewalInfo URL, and the suggested renewal window a CA
 * publishes for a certificate (JSON, read with jansson). Pure: no I/O. */
#ifndef TLSWATCH_ARI_H
#define TLSWATCH_ARI_H

#include <stddef.h>
#include <stdint.h>

#define ARI_MAX_JSON (64 * 1024)        /* a directory or a RenewalInfo is small */
#define ARI_MAX_URL 2048
/* Retry-After is held to [1 minute, 1 day] as RFC 9773 4.3 suggests; a
 * response without one is asked again after 6 hours. */
#define ARI_MIN_POLL 60.0
#define ARI_MAX_POLL 86400.0
#define ARI_DEFAULT_POLL (6 * 3600.0)

/* The ARI CertID of cert (RFC 9773 4.1): base64url of its authority key
 * identifier's keyIdentifier, ".", base64url of its serial's DER contents.
 * 0 with *id (allocated), or -1 with *err (allocated): no AKI keyIdentifier,
 * or cert does not parse. *key_id, when not NULL, gets the first part alone
 * (the issuer a directory is remembered for). */
int ari_cert_id(const unsigned char *cert, size_t len, char **id, char **key_id, char **err);

/* The renewalInfo URL of an ACME directory object. 0 with *url, or -1 with
 * *err (not JSON, no renewalInfo, not an http(s) URL). */
int ari_directory(const char *json, size_t len, char **url, char **err);

/* renewal_info "/" cert_id (allocated). */
char *ari_url(const char *renewal_info, const char *cert_id);

struct ari_window {
	int64_t start;              /* suggestedWindow, seconds since the epoch */
	int64_t end;                /* after start */
	char *explanation_url;      /* NULL when the CA gives none */
};

/* A RenewalInfo object. 0 with *w (ari_window_free), or -1 with *err: not
 * JSON, no suggestedWindow, timestamps not RFC 3339, end not after start. */
int ari_window_parse(const char *json, size_t len, struct ari_window *w, char **err);
void ari_window_free(struct ari_window *w);

/* When to ask again after an answer at now with Retry-After retry_after
 * (a wall time; 0: absent). */
double ari_next_poll(double retry_after, double now);

/* Where now lies: before the window, in it, or past its end (the CA's way
 * of saying renew at once: it will revoke). */
enum ari_phase { ARI_BEFORE, ARI_OPEN, ARI_PASSED };
enum ari_phase ari_phase_at(const struct ari_window *w, int64_t now);

/* base64url without padding (RFC 4648 section 5), allocated. */
char *ari_base64url(const unsigned char *p, size_t len);

/* An RFC 3339 date-time ("2025-01-02T04:00:00Z", fractions and offsets
 * allowed) to whole seconds since the epoch: 0, or -1. */
int ari_parse_time(const char *s, int64_t *out);

#endif
