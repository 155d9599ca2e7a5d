/*
 * certs.c - certificates seen on the wire, interned by SHA-256 and shared.
 *
 * Many targets present the same intermediates, and a target presents the
 * same chain probe after probe, so each distinct DER is parsed once into a
 * small immutable struct cert and shared by reference count. Neither the DER
 * nor the gnutls_x509_crt_t is kept: only the fields we report.
 *
 * Used from the event loop only; not thread-safe.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "verdict/certs.h"
#include "core/util.h"

#define CERTS_MIN_BUCKETS 64

static struct cert **certs_tab;
static size_t certs_nbuckets;
static size_t certs_n;

static size_t
certs_bucket(const char *sha256, size_t nbuckets)
{
	/* The key is already uniform; hashing its text keeps this simple. */
	return (size_t)(hash64(sha256, 64) & (nbuckets - 1));
}

/* Double the table when it holds more certificates than buckets. */
static void
certs_grow(void)
{
	struct cert **tab, *c, *next;
	size_t n, i, b;

	n = certs_nbuckets ? certs_nbuckets * 2 : CERTS_MIN_BUCKETS;
	tab = xcalloc(n, sizeof(*tab));
	for (i = 0; i < certs_nbuckets; i++) {
		for (c = certs_tab[i]; c != NULL; c = next) {
			next = c->hnext;
			b = certs_bucket(c->sha256, n);
			c->hnext = tab[b];
			tab[b] = c;
		}
	}
	free(certs_tab);
	certs_tab = tab;
	certs_nbuckets = n;
}

/*
 * Self-signed: it names itself as issuer (DN and, when present, key
 * identifiers, per gnutls_x509_crt_check_issuer) and its signature verifies
 * with its own key, which tells a real root from a certificate that merely
 * shares its issuer's name. Only the signature is the question here: not
 * time, CA status or key usage, and old roots signed with SHA-1 are still
 * roots. DO_NOT_ALLOW_SAME makes GnuTLS check the signature even though the
 * certificate is its own "trusted" list. An algorithm GnuTLS cannot check
 * at all is not a signature failure, so there the name match decides.
 */
int
certs_crt_self_signed(gnutls_x509_crt_t crt)
{
	unsigned status = 0;

	if (!gnutls_x509_crt_check_issuer(crt, crt))
		return 0;
	if (gnutls_x509_crt_verify(crt, &crt, 1,
	    GNUTLS_VERIFY_DO_NOT_ALLOW_SAME | GNUTLS_VERIFY_DISABLE_CA_SIGN |
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_ALLOW_BROKEN, &status) < 0)
		return 0;
	return (status & (GNUTLS_CERT_SIGNATURE_FAILURE |
	    GNUTLS_CERT_SIGNER_NOT_FOUND)) == 0;
}

static char *
certs_dn(gnutls_x509_crt_t crt, int issuer)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s;
	int ret;

	ret = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) :
	    gnutls_x509_crt_get_dn3(crt, &d, 0);
	/* An empty name is legal (the leaf's identity is then in its SANs). */
	s = ret < 0 ? xstrdup("") : xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static char *
certs_serial(gnutls_x509_crt_t crt)
{
	unsigned char small[64], *p = small;
	size_t size = sizeof(small);
	char *hex;
	int ret;

	ret = gnutls_x509_crt_get_serial(crt, p, &size);
	if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
		p = xmalloc(size);
		ret = gnutls_x509_crt_get_serial(crt, p, &size);
	}
	if (ret < 0)
		size = 0;
	hex = xmalloc(2 * size + 1);
	hex_encode(p, size, hex);
	if (p != small)
		free(p);
	return hex;
}

static struct cert *
certs_parse(const unsigned char *der, size_t len, const char *sha256)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	struct cert *c;
	unsigned critical, ca;

	if (len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	d.data = (unsigned char *)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	memcpy(c->sha256, sha256, sizeof(c->sha256));
	c->subject = certs_dn(crt, 0);
	c->issuer = certs_dn(crt, 1);
	c->serial = certs_serial(crt);
	c->not_before = time_epoch_or_zero(gnutls_x509_crt_get_activation_time(crt));
	c->not_after = time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(crt));
	c->self_signed = certs_crt_self_signed(crt);
	c->is_ca = gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
	    NULL) > 0;
	gnutls_x509_crt_deinit(crt);
	return c;
}

struct cert *
cert_get(const unsigned char *der, size_t len)
{
	unsigned char digest[32];
	char sha256[65];
	struct cert *c;
	size_t b;

	if (der == NULL || len == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest) < 0)
		return NULL;
	hex_encode(digest, sizeof(digest), sha256);
	if (certs_nbuckets != 0) {
		b = certs_bucket(sha256, certs_nbuckets);
		for (c = certs_tab[b]; c != NULL; c = c->hnext)
			if (memcmp(c->sha256, sha256, 64) == 0)
				return cert_ref(c);
	}
	if ((c = certs_parse(der, len, sha256)) == NULL)
		return NULL;
	if (certs_n >= certs_nbuckets)
		certs_grow();
	b = certs_bucket(sha256, certs_nbuckets);
	c->refs = 1;
	c->hnext = certs_tab[b];
	certs_tab[b] = c;
	certs_n++;
	return c;
}

struct cert *
cert_ref(struct cert *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

void
cert_put(struct cert *c)
{
	struct cert **pp;

	if (c == NULL || --c->refs > 0)
		return;
	for (pp = &certs_tab[certs_bucket(c->sha256, certs_nbuckets)];
	    *pp != c; pp = &(*pp)->hnext)
		;
	*pp = c->hnext;
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c);
	/* Give the table back when nothing is left, so leak checkers see none. */
	if (--certs_n == 0) {
		free(certs_tab);
		certs_tab = NULL;
		certs_nbuckets = 0;
	}
}

size_t
cert_count(void)
{
	return certs_n;
}
