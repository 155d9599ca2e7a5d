/*
 * certs.c - certificates seen on the wire, interned by SHA-256 and shared.
 *
 * Many targets present the same intermediates, and a target presents the
 * same chain probe after probe, so each distinct DER is parsed once into a
 * small immutable struct cert and shared by reference count. Neither the DER
 * nor the gnutls_x509_crt_t is kept: only the fields we report. This is the
 * one parser of certificate fields: the status page and the tool read a
 * stored certificate by interning it too (certinfo.c formats).
 *
 * The table and the reference counts are the event loop's only: not
 * thread-safe, and not worth a lock on every cert_ref of every probe. What
 * costs is the X.509 parse, which touches nothing shared: cert_parse runs
 * on any thread (the loader of stored state), cert_intern then puts its
 * product in the table on the loop.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "verdict/certs.h"
#include "verdict/goname.h"
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

/* One SAN as text: "DNS:name", "IP:addr", ... */
static char *
certs_san_text(unsigned type, const char *data, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int af;

	switch (type) {
	case GNUTLS_SAN_DNSNAME:
		return xasprintf("DNS:%.*s", (int)size, data);
	case GNUTLS_SAN_RFC822NAME:
		return xasprintf("email:%.*s", (int)size, data);
	case GNUTLS_SAN_URI:
		return xasprintf("URI:%.*s", (int)size, data);
	case GNUTLS_SAN_IPADDRESS:
		af = size == 4 ? AF_INET : size == 16 ? AF_INET6 : 0;
		if (af && inet_ntop(af, data, ip, sizeof(ip)))
			return xasprintf("IP:%s", ip);
		return xstrdup("IP:?");
	default:
		return xasprintf("other(%u)", type);
	}
}

/* The subject alternative names, as one allocation: the pointers, then the
 * strings. Each is read into a bounded buffer; longer ones say so. */
static void
certs_sans(gnutls_x509_crt_t crt, struct cert *c)
{
	char *tmp[CERT_MAX_SANS];
	size_t n = 0, bytes = 0;
	char *p;

	for (unsigned i = 0; i < CERT_MAX_SANS; i++) {
		char data[1024];
		size_t size = sizeof(data) - 1;
		unsigned type = 0, critical = 0;
		int ret = gnutls_x509_crt_get_subject_alt_name2(crt, i, data, &size,
		    &type, &critical);

		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
			tmp[n] = xstrdup("(too long)");
		else if (ret < 0)
			break;
		else
			tmp[n] = certs_san_text(type, data, size);
		bytes += strlen(tmp[n]) + 1;
		n++;
	}
	c->nsans = n;
	if (n == 0)
		return;
	c->sans = xmalloc(n * sizeof(*c->sans) + bytes);
	p = (char *)(c->sans + n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(tmp[i]) + 1;

		memcpy(p, tmp[i], len);
		c->sans[i] = p;
		p += len;
		free(tmp[i]);
	}
}

/* Key and signature: GnuTLS's static names. */
static void
certs_key(gnutls_x509_crt_t crt, struct cert *c)
{
	unsigned bits = 0;
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	int sig = gnutls_x509_crt_get_signature_algorithm(crt);
	const char *name;

	name = pk >= 0 ? gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)pk) : NULL;
	c->key_type = name ? name : "unknown";
	c->key_bits = bits;
	if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve;

		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) >= 0)
			c->key_curve = gnutls_ecc_curve_get_name(curve);
	}
	name = sig >= 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) : NULL;
	c->sig_alg = name ? name : "unknown";
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
	certs_key(crt, c);
	certs_sans(crt, c);
	gnutls_x509_crt_deinit(crt);
	return c;
}

/* c into the table, with its one reference. */
static struct cert *
certs_insert(struct cert *c)
{
	size_t b;

	if (certs_n >= certs_nbuckets)
		certs_grow();
	b = certs_bucket(c->sha256, certs_nbuckets);
	c->refs = 1;
	c->hnext = certs_tab[b];
	certs_tab[b] = c;
	certs_n++;
	return c;
}

/* The key of a DER: its SHA-256 in lowercase hex. 0, or -1. */
static int
certs_key_of(const unsigned char *der, size_t len, char sha256[65])
{
	unsigned char digest[32];

	if (der == NULL || len == 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest) < 0)
		return -1;
	hex_encode(digest, sizeof(digest), sha256);
	return 0;
}

struct cert *
cert_get(const unsigned char *der, size_t len)
{
	char sha256[65];
	struct cert *c;

	if (certs_key_of(der, len, sha256) == -1)
		return NULL;
	if ((c = cert_find(sha256)) != NULL)
		return c;
	if ((c = certs_parse(der, len, sha256)) == NULL)
		return NULL;
	return certs_insert(c);
}

struct cert *
cert_parse(const unsigned char *der, size_t len)
{
	char sha256[65];

	return certs_key_of(der, len, sha256) == -1 ? NULL : certs_parse(der, len, sha256);
}

static void
certs_free_fields(struct cert *c)
{
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c->sans);
	free(c->go_subject);
	free(c->go_issuer);
	free(c);
}

void
cert_parsed_free(struct cert *c)
{
	if (c != NULL)
		certs_free_fields(c);
}

struct cert *
cert_intern(struct cert *c)
{
	struct cert *have;

	if (c == NULL)
		return NULL;
	if ((have = cert_find(c->sha256)) != NULL) {
		certs_free_fields(c);
		return have;
	}
	return certs_insert(c);
}

struct cert *
cert_find(const char *sha256)
{
	struct cert *c;

	if (certs_nbuckets == 0 || strlen(sha256) != 64)
		return NULL;
	for (c = certs_tab[certs_bucket(sha256, certs_nbuckets)]; c != NULL; c = c->hnext)
		if (memcmp(c->sha256, sha256, 64) == 0)
			return cert_ref(c);
	return NULL;
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
	certs_free_fields(c);
	/* Give the table back when nothing is left, so leak checkers see none. */
	if (--certs_n == 0) {
		free(certs_tab);
		certs_tab = NULL;
		certs_nbuckets = 0;
	}
}

void
cert_go_names(struct cert *c, const unsigned char *der, size_t len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d, dn;

	if (c == NULL || c->go_done || len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
		return;
	c->go_done = 1;
	d.data = (unsigned char *)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0) {
		/* each raw Name is a copy, freed here */
		if (gnutls_x509_crt_get_raw_dn(crt, &dn) >= 0) {
			c->go_subject = goname_dn(dn.data, dn.size);
			gnutls_free(dn.data);
		}
		if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) >= 0) {
			c->go_issuer = goname_dn(dn.data, dn.size);
			gnutls_free(dn.data);
		}
	}
	gnutls_x509_crt_deinit(crt);
}

size_t
cert_count(void)
{
	return certs_n;
}

int
cert_sha256(const void *data, size_t len, unsigned char out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, len ? data : "", len, out) < 0 ? -1 : 0;
}

char *
cert_pem(const unsigned char *der, size_t len, size_t *pem_len)
{
	gnutls_datum_t in, out = { NULL, 0 };
	char *pem = NULL;

	if (len > UINT32_MAX)
		return NULL;
	in.data = (unsigned char *)der;
	in.size = (unsigned)len;
	if (gnutls_pem_base64_encode2("CERTIFICATE", &in, &out) == 0) {
		pem = xstrndup((const char *)out.data, out.size);
		if (pem_len)
			*pem_len = out.size;
	}
	gnutls_free(out.data);
	return pem;
}

unsigned char *
cert_der_from_pem(const char *pem, size_t len, size_t *der_len)
{
	gnutls_datum_t in, out = { NULL, 0 };
	unsigned char *der = NULL;

	if (len > UINT32_MAX)
		return NULL;
	in.data = (unsigned char *)pem;
	in.size = (unsigned)len;
	if (gnutls_pem_base64_decode2("CERTIFICATE", &in, &out) == 0) {
		der = xmalloc(out.size ? out.size : 1);
		memcpy(der, out.data, out.size);
		*der_len = out.size;
	}
	gnutls_free(out.data);
	return der;
}
