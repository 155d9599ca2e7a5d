/* webtls.c - the server side of the metrics endpoint's TLS. libmicrohttpd
 * runs the sessions; this file only checks what it is given, so that
 * `tlswatchd -t` can tell a key that does not match its certificate, and
 * decides whether a client certificate verified. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "serve/webtls.h"

static gnutls_datum_t
datum(const char *s)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)s, (unsigned)strlen(s) };

	return d;
}

int
webtls_check_keypair(const char *cert_pem, const char *key_pem, char **err)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c = datum(cert_pem), k = datum(key_pem);
	int rc;

	*err = NULL;
	if ((rc = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		*err = xasprintf("%s", gnutls_strerror(rc));
		return -1;
	}
	/* The same call libmicrohttpd makes: it checks that the key matches
	 * the certificate (GNUTLS_E_CERTIFICATE_KEY_MISMATCH). */
	rc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM,
	    NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		*err = rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ?
		    xstrdup("the key does not match the certificate") :
		    xasprintf("cannot load the certificate and key: %s",
		    gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

int
webtls_check_ca(const char *ca_pem, char **err)
{
	gnutls_x509_trust_list_t tl;
	gnutls_datum_t d = datum(ca_pem);
	int rc;

	*err = NULL;
	if ((rc = gnutls_x509_trust_list_init(&tl, 0)) < 0) {
		*err = xasprintf("%s", gnutls_strerror(rc));
		return -1;
	}
	rc = gnutls_x509_trust_list_add_trust_mem(tl, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	gnutls_x509_trust_list_deinit(tl, 1);
	if (rc <= 0) {
		*err = rc < 0 ? xasprintf("cannot load certificates: %s", gnutls_strerror(rc)) :
		    xstrdup("no certificate found (expected PEM)");
		return -1;
	}
	return 0;
}

int
webtls_client_verified(void *session)
{
	gnutls_session_t s = session;
	unsigned status = 0;

	if (s == NULL || gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
		return 0;
	/* No certificate presented is GNUTLS_E_NO_CERTIFICATE_FOUND here. */
	if (gnutls_certificate_verify_peers2(s, &status) < 0)
		return 0;
	return status == 0;
}
