/* webpki.h - the rules of RFC 5280 and the CA/Browser Forum's Baseline
 * Requirements that GnuTLS 3.7.9 does not enforce, read off a verified
 * path as findings (finding.h) on the certificates they concern. */
#ifndef TLSWATCH_WEBPKI_H
#define TLSWATCH_WEBPKI_H

#include <stddef.h>

#include <gnutls/x509.h>

#include "verdict/finding.h"

/* One certificate of the path. */
struct webpki_cert {
	gnutls_x509_crt_t crt;
	int depth;      /* its index in the presented chain; for a trust
	                 * anchor that was not presented, its place on the
	                 * path (the label value findings carry) */
};

struct webpki_input {
	const struct webpki_cert *path;  /* the leaf first, each certificate
	                                  * issued by the next */
	size_t npath;
	int anchored;                    /* path[npath - 1] is a trust anchor:
	                                  * it is trusted as configured, so
	                                  * only the rules a client applies to
	                                  * anchors look at it */
};

/* The most certificates of a path the engine reads; a longer path is read
 * up to here (GnuTLS stops at 16). */
#define WEBPKI_MAX_PATH 17

/* Apply every rule to in, appending findings to out. Pure: the same
 * certificates give the same findings, whatever the clock. */
void webpki_evaluate(const struct webpki_input *in, struct findings *out);

/* The same over a check's path (check.h) of the presented chain cc: a
 * finding on a certificate that was presented carries its depth there; an
 * anchor from the store that equals a presented certificate, that one's. */
struct check_chain;
struct check_path;
void webpki_evaluate_path(const struct check_chain *cc, const struct check_path *p,
                          struct findings *out);

#endif
