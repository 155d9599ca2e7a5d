/* certinfo.c - what a person wants to know about one certificate, read from
 * its DER with GnuTLS's X.509 functions. For the tool and the status page;
 * the daemon's hot path keeps only struct cert (certs.c). */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "verdict/certinfo.h"
#include "core/util.h"
#include "serve/json.h"

static char *
dn(gnutls_x509_crt_t crt, int issuer)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s;
	int ret;

	ret = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) :
	    gnutls_x509_crt_get_dn3(crt, &d, 0);
	s = ret < 0 ? xstrdup("") : xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static void
add_san(struct certinfo *ci, char *s)
{
	ci->sans = xreallocarray(ci->sans, ci->nsans + 1, sizeof(*ci->sans));
	ci->sans[ci->nsans++] = s;
}

static void
get_sans(gnutls_x509_crt_t crt, struct certinfo *ci)
{
	for (unsigned i = 0; i < 1000; i++) {
		char data[1024];
		size_t size = sizeof(data) - 1;
		unsigned type = 0, critical = 0;
		int ret = gnutls_x509_crt_get_subject_alt_name2(crt, i, data, &size,
		    &type, &critical);

		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			add_san(ci, xstrdup("(too long)"));
			continue;
		}
		if (ret < 0)
			break;
		data[size] = '\0';
		switch (type) {
		case GNUTLS_SAN_DNSNAME:
			add_san(ci, xasprintf("DNS:%.*s", (int)size, data));
			break;
		case GNUTLS_SAN_RFC822NAME:
			add_san(ci, xasprintf("email:%.*s", (int)size, data));
			break;
		case GNUTLS_SAN_URI:
			add_san(ci, xasprintf("URI:%.*s", (int)size, data));
			break;
		case GNUTLS_SAN_IPADDRESS: {
			char ip[INET6_ADDRSTRLEN];
			int af = size == 4 ? AF_INET : size == 16 ? AF_INET6 : 0;

			if (af && inet_ntop(af, data, ip, sizeof(ip)))
				add_san(ci, xasprintf("IP:%s", ip));
			else
				add_san(ci, xstrdup("IP:?"));
			break;
		}
		default:
			add_san(ci, xasprintf("other(%u)", type));
			break;
		}
	}
}

int
certinfo_get(const unsigned char *der, size_t len, struct certinfo *ci)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	unsigned char digest[32], serial[64];
	size_t slen = sizeof(serial);
	unsigned bits = 0, critical, ca;
	int pk, sig;

	memset(ci, 0, sizeof(*ci));
	if (der == NULL || len == 0 || len > UINT32_MAX || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	d.data = (unsigned char *)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, digest) == 0)
		hex_encode(digest, sizeof(digest), ci->sha256);
	ci->subject = dn(crt, 0);
	ci->issuer = dn(crt, 1);
	if (gnutls_x509_crt_get_serial(crt, serial, &slen) < 0)
		slen = 0;
	ci->serial = xmalloc(2 * slen + 1);
	hex_encode(serial, slen, ci->serial);
	ci->not_before = time_epoch_or_zero(gnutls_x509_crt_get_activation_time(crt));
	ci->not_after = time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(crt));
	pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	ci->key_type = xstrdup(pk >= 0 && gnutls_pk_algorithm_get_name(pk) ?
	    gnutls_pk_algorithm_get_name(pk) : "unknown");
	ci->key_bits = bits;
	if (pk == GNUTLS_PK_ECDSA) {
		gnutls_ecc_curve_t curve;
		if (gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL) >= 0 &&
		    gnutls_ecc_curve_get_name(curve))
			ci->key_curve = xstrdup(gnutls_ecc_curve_get_name(curve));
	}
	sig = gnutls_x509_crt_get_signature_algorithm(crt);
	ci->sig_alg = xstrdup(sig >= 0 && gnutls_sign_get_name(sig) ?
	    gnutls_sign_get_name(sig) : "unknown");
	ci->is_ca = gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, NULL) > 0;
	get_sans(crt, ci);
	gnutls_x509_crt_deinit(crt);
	return 0;
}

void
certinfo_fini(struct certinfo *ci)
{
	if (ci == NULL)
		return;
	free(ci->subject);
	free(ci->issuer);
	free(ci->serial);
	free(ci->key_type);
	free(ci->key_curve);
	free(ci->sig_alg);
	for (size_t i = 0; i < ci->nsans; i++)
		free(ci->sans[i]);
	free(ci->sans);
	memset(ci, 0, sizeof(*ci));
}

char *
certinfo_pem(const unsigned char *der, size_t len)
{
	gnutls_datum_t in, out = { NULL, 0 };
	char *pem = NULL;

	if (len > UINT32_MAX)
		return NULL;
	in.data = (unsigned char *)der;
	in.size = (unsigned)len;
	if (gnutls_pem_base64_encode2("CERTIFICATE", &in, &out) == 0)
		pem = xstrndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	return pem;
}

void
certinfo_json(struct buf *b, const struct certinfo *ci, size_t depth, double now)
{
	buf_putc(b, '{');
	json_key(b, "depth", 1);
	json_int(b, (int64_t)depth);
	json_key(b, "sha256", 0);
	json_str(b, ci->sha256);
	json_key(b, "subject", 0);
	json_str(b, ci->subject);
	json_key(b, "issuer", 0);
	json_str(b, ci->issuer);
	json_key(b, "serial", 0);
	json_str(b, ci->serial);
	json_key(b, "not_before", 0);
	json_int(b, ci->not_before);
	json_key(b, "not_after", 0);
	json_int(b, ci->not_after);
	json_key(b, "days_left", 0);
	json_num(b, ((double)ci->not_after - now) / 86400.0, 2);
	json_key(b, "key_type", 0);
	json_str(b, ci->key_type);
	json_key(b, "key_bits", 0);
	json_int(b, ci->key_bits);
	json_key(b, "key_curve", 0);
	json_str(b, ci->key_curve);
	json_key(b, "signature_algorithm", 0);
	json_str(b, ci->sig_alg);
	json_key(b, "is_ca", 0);
	json_bool(b, ci->is_ca);
	json_key(b, "sans", 0);
	buf_putc(b, '[');
	for (size_t i = 0; i < ci->nsans; i++) {
		if (i)
			buf_putc(b, ',');
		json_str(b, ci->sans[i]);
	}
	buf_puts(b, "]}");
}
