/* x509.c - certificate import and the URL-bearing extensions. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "verdict/x509.h"

#define URL_MAX 2048

gnutls_x509_crt_t
x509_import(const unsigned char *der, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };

	if (der == NULL || len == 0 || len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

int
x509_is_http_url(const unsigned char *p, size_t len)
{
	if (len > URL_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return 0;
	return (len > 7 && strncasecmp((const char *)p, "http://", 7) == 0) ||
	    (len > 8 && strncasecmp((const char *)p, "https://", 8) == 0);
}

int
x509_aia_urls(const unsigned char *der, size_t len, int what, size_t max, char ***urls)
{
	gnutls_x509_crt_t cert = x509_import(der, len);
	size_t n = 0;

	*urls = NULL;
	if (cert == NULL)
		return -1;
	/* each AccessDescription is one seq; stop at the first gap */
	for (unsigned seq = 0; n < max && seq < 64; seq++) {
		gnutls_datum_t method, loc;
		unsigned critical;
		int rc;

		rc = gnutls_x509_crt_get_authority_info_access(cert, seq, GNUTLS_IA_ACCESSMETHOD_OID,
		    &method, &critical);
		if (rc < 0)
			break;
		gnutls_free(method.data);
		rc = gnutls_x509_crt_get_authority_info_access(cert, seq, what, &loc, &critical);
		if (rc < 0)
			continue;       /* another method, or not a URI */
		if (x509_is_http_url(loc.data, loc.size)) {
			*urls = xreallocarray(*urls, n + 1, sizeof(**urls));
			(*urls)[n++] = xstrndup((const char *)loc.data, loc.size);
		}
		gnutls_free(loc.data);
	}
	gnutls_x509_crt_deinit(cert);
	return (int)n;
}

void
urls_free(char **urls, size_t n)
{
	if (urls == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
}
