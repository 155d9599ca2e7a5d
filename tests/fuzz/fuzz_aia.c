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
#include "verdict/aia.h"
#include "verdict/x509.h"

#define CHECK(cond, what) do {                                          \
	if (!(cond)) {                                                  \
		fprintf(stderr, "fuzz_aia: %s: %s\n", what, #cond);     \
		abort();                                                \
	}                                                               \
} while (0)

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct der *certs;
	size_t n;
	char *err, **urls;
	int k;

	if (aia_parse(data, size, &certs, &n, &err) == 0) {
		CHECK(n >= 1 && n <= AIA_MAX_CERTS, "bounded");
		for (size_t i = 0; i < n; i++) {
			gnutls_x509_crt_t c = x509_import(certs[i].data, certs[i].len);
			CHECK(c != NULL, "each certificate parses");
			gnutls_x509_crt_deinit(c);
		}
		aia_certs_free(certs, n);
	} else {
		CHECK(certs == NULL && n == 0 && err != NULL, "nothing, and why");
		free(err);
	}
	k = aia_urls(data, size, &urls);
	CHECK(k <= AIA_MAX_URLS, "bounded");
	for (int i = 0; i < k; i++)
		CHECK(x509_is_http_url((const unsigned char *)urls[i], strlen(urls[i])), "http(s)");
	urls_free(urls, k > 0 ? (size_t)k : 0);
	return 0;
}
