/* aia.c - caIssuers: URLs, what they serve, and whether it completes a path. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/aia.h"
#include "verdict/check.h"
#include "verdict/verdict.h"
#include "verdict/x509.h"

int
aia_urls(const unsigned char *cert, size_t len, char ***urls)
{
	return x509_aia_urls(cert, len, GNUTLS_IA_CAISSUERS_URI, AIA_MAX_URLS, urls);
}

void
aia_certs_free(struct der *certs, size_t n)
{
	if (certs == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((void *)certs[i].data);
	free(certs);
}

static void
keep(struct der **certs, size_t *n, const unsigned char *data, size_t len)
{
	unsigned char *copy = xmalloc(len);

	memcpy(copy, data, len);
	*certs = xreallocarray(*certs, *n + 1, sizeof(**certs));
	(*certs)[*n].data = copy;
	(*certs)[*n].len = len;
	(*n)++;
}

/* PKCS#7 certs-only ("degenerate" SignedData), DER or PEM. */
static int
from_pkcs7(const gnutls_datum_t *in, gnutls_x509_crt_fmt_t fmt, struct der **certs, size_t *n)
{
	gnutls_pkcs7_t p7;
	int count, rc = -1;

	if (gnutls_pkcs7_init(&p7) < 0)
		return -1;
	if (gnutls_pkcs7_import(p7, in, fmt) < 0 || (count = gnutls_pkcs7_get_crt_count(p7)) <= 0)
		goto out;
	for (int i = 0; i < count && *n < AIA_MAX_CERTS; i++) {
		gnutls_datum_t d;
		gnutls_x509_crt_t c;

		if (gnutls_pkcs7_get_crt_raw2(p7, (unsigned)i, &d) < 0)
			goto out;
		/* only what parses as a certificate is kept */
		if ((c = x509_import(d.data, d.size)) != NULL) {
			keep(certs, n, d.data, d.size);
			gnutls_x509_crt_deinit(c);
		}
		gnutls_free(d.data);
	}
	rc = *n > 0 ? 0 : -1;
out:
	gnutls_pkcs7_deinit(p7);
	return rc;
}

static int
from_pem(const gnutls_datum_t *in, struct der **certs, size_t *n)
{
	gnutls_x509_crt_t list[AIA_MAX_CERTS];
	unsigned count = AIA_MAX_CERTS;
	int rc;

	/* more than AIA_MAX_CERTS: the first ones (SHORT_MEMORY_BUFFER, count filled) */
	rc = gnutls_x509_crt_list_import(list, &count, in, GNUTLS_X509_FMT_PEM,
	    GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	if (rc < 0)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		gnutls_datum_t d;

		if (gnutls_x509_crt_export2(list[i], GNUTLS_X509_FMT_DER, &d) == 0) {
			keep(certs, n, d.data, d.size);
			gnutls_free(d.data);
		}
		gnutls_x509_crt_deinit(list[i]);
	}
	return *n > 0 ? 0 : -1;
}

int
aia_parse(const unsigned char *body, size_t len, struct der **certs, size_t *n, char **err)
{
	gnutls_datum_t in = { (unsigned char *)body, (unsigned)len };
	gnutls_x509_crt_t c;

	*certs = NULL;
	*n = 0;
	*err = NULL;
	if (body == NULL || len == 0 || len > AIA_MAX_BODY) {
		*err = xasprintf("empty or larger than %d bytes", AIA_MAX_BODY);
		return -1;
	}
	if ((c = x509_import(body, len)) != NULL) {
		gnutls_x509_crt_deinit(c);
		keep(certs, n, body, len);
		return 0;
	}
	if (body[0] == 0x30 && from_pkcs7(&in, GNUTLS_X509_FMT_DER, certs, n) == 0)
		return 0;
	if (memmem(body, len, "-----BEGIN PKCS7-----", 21) &&
	    from_pkcs7(&in, GNUTLS_X509_FMT_PEM, certs, n) == 0)
		return 0;
	if (memmem(body, len, "-----BEGIN CERTIFICATE-----", 27) && from_pem(&in, certs, n) == 0)
		return 0;
	aia_certs_free(*certs, *n);
	*certs = NULL;
	*n = 0;
	*err = xstrdup("not a certificate (DER, PEM or PKCS#7)");
	return -1;
}

int
aia_completes(const struct der *chain, size_t n, const struct der *extra, size_t nextra,
    const struct trust *t, int64_t now)
{
	const uint64_t path_broken = REASON(UNKNOWN_ISSUER) | REASON(SELF_SIGNED) |
	    REASON(SIGNER_NOT_CA) | REASON(BAD_SIGNATURE) | REASON(INSECURE_ALGORITHM) |
	    REASON(OTHER);
	struct check_chain cc;
	struct check_path path;
	struct chain_base base;
	struct der *all;
	int ok = 0;

	if (n == 0 || nextra == 0 || n + nextra > CHECK_MAX_CERTS)
		return 0;
	all = xcalloc(n + nextra, sizeof(*all));
	memcpy(all, chain, n * sizeof(*all));
	memcpy(all + n, extra, nextra * sizeof(*all));
	/* GnuTLS's verification alone: no check runs (none fetches again) */
	if (check_chain_load(&cc, all, n + nextra) == 0) {
		if (chain_verify(&cc, t, NULL, now, &base, &path) == 0) {
			ok = !(base.reasons & path_broken);
			check_path_free(&path);
		}
		check_chain_free(&cc);
	}
	free(all);
	return ok;
}
