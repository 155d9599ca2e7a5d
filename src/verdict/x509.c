/* x509.c - certificate import and the URL-bearing extensions. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/x509-ext.h>

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
	const char *want = what == GNUTLS_IA_OCSP_URI ? GNUTLS_OID_AD_OCSP : GNUTLS_OID_AD_CAISSUERS;
	gnutls_x509_crt_t cert = x509_import(der, len);
	gnutls_x509_aia_t aia = NULL;
	gnutls_datum_t ext = { NULL, 0 };
	unsigned critical;
	size_t n = 0;

	*urls = NULL;
	if (cert == NULL)
		return -1;
	/* The extension decoded once, with gnutls_x509_aia_t, whose entries
	 * point into it: gnutls_x509_crt_get_authority_info_access leaks on
	 * some malformed extensions (GnuTLS 3.7.9, seen under LeakSanitizer). */
	if (gnutls_x509_crt_get_extension_by_oid2(cert, GNUTLS_OID_AIA, 0, &ext, &critical) < 0 ||
	    gnutls_x509_aia_init(&aia) < 0 || gnutls_x509_ext_import_aia(&ext, aia, 0) < 0)
		goto out;       /* none, or malformed: no URL to use */
	for (unsigned seq = 0; n < max && seq < 64; seq++) {
		gnutls_datum_t oid, loc;
		unsigned type;

		if (gnutls_x509_aia_get(aia, seq, &oid, &type, &loc) < 0)
			break;
		if (type != GNUTLS_SAN_URI || oid.data == NULL ||
		    strcmp((const char *)oid.data, want) != 0 ||
		    !x509_is_http_url(loc.data, loc.size))
			continue;
		*urls = xreallocarray(*urls, n + 1, sizeof(**urls));
		(*urls)[n++] = xstrndup((const char *)loc.data, loc.size);
	}
out:
	if (aia != NULL)
		gnutls_x509_aia_deinit(aia);
	gnutls_free(ext.data);
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
