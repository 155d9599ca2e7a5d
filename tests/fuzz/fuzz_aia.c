/*
 * fuzz_aia.c - aia_parse (what a caIssuers URL serves: DER, PEM, PKCS#7)
 * and aia_urls on any bytes.
 *
 * Invariants: success gives 1 to AIA_MAX_CERTS certificates, each of
 * which parses; failure gives none and says why; URLs are http(s).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "core/util.h"
#include "fuzz.h"
#include "verdict/aia.h"
#include "verdict/x509.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct der *certs;
	size_t n;
	char *err, **urls;
	int k;

	if (aia_parse(data, size, &certs, &n, &err) == 0) {
		FUZZ_CHECK(n >= 1 && n <= AIA_MAX_CERTS, "bounded");
		for (size_t i = 0; i < n; i++) {
			gnutls_x509_crt_t c = x509_import(certs[i].data, certs[i].len);
			FUZZ_CHECK(c != NULL, "each certificate parses");
			gnutls_x509_crt_deinit(c);
		}
		aia_certs_free(certs, n);
	} else {
		FUZZ_CHECK(certs == NULL && n == 0 && err != NULL, "nothing, and why");
		free(err);
	}
	k = aia_urls(data, size, &urls);
	FUZZ_CHECK(k <= AIA_MAX_URLS, "bounded");
	for (int i = 0; i < k; i++)
		FUZZ_CHECK(x509_is_http_url((const unsigned char *)urls[i], strlen(urls[i])), "http(s)");
	urls_free(urls, k > 0 ? (size_t)k : 0);
	return 0;
}
