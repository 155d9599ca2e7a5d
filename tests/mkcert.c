/*
 * mkcert.c - make the test certificates certtool cannot:
 *
 *   mkcert ISSUER.pem ISSUER.key SUBJECT.key OUT.pem
 *     a server leaf whose subject holds quotes, backslashes and a raw
 *     newline, written to forge a Prometheus series if a label value were
 *     not escaped (certtool's template parser eats backslashes and ends
 *     values at a newline, so the DN is set here through
 *     gnutls_x509_crt_set_dn_by_oid with raw bytes);
 *   mkcert -s N ISSUER.pem ISSUER.key SUBJECT.key OUT.pem
 *     a leaf for good.test valid 90 days with an embedded SCT list
 *     (RFC 6962 3.3) of N constructed v1 SCTs (tests/sctbuild.h): certtool
 *     sets no arbitrary extension, GnuTLS does;
 *   mkcert -d N CERT.pem OUT
 *     N SCTs for CERT as a server delivers them (RFC 6962 3.3): OUT.ocsp,
 *     an OCSP response (DER) for CERT's serial carrying the list in a
 *     singleExtension, for openssl s_server -status_file; OUT.serverinfo,
 *     the signed_certificate_timestamp extension (18) as s_server
 *     -serverinfo reads it (PEM "SERVERINFO FOR ..."). openssl ocsp cannot
 *     add that singleExtension; the response's signature is filler (the
 *     policy check counts SCTs, it verifies neither them nor the response).
 *
 * Run by tests/pki.sh; not part of the daemon.
 */
#define _POSIX_C_SOURCE 200809L   /* getopt under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

/* What tests/sctbuild.h builds with: a growable byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};

static void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

static void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

static void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		if ((b->data = realloc(b->data, b->cap)) == NULL) {
			perror("mkcert");
			exit(1);
		}
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

#include "sctbuild.h"

/* Keep in step with the test that checks the subject (tests/test_chain.c). */
static const char hostile_cn[] =
    "evil\"} tlswatch_probe_success{target=\"forged\"} 1\nx\\y";
static const char hostile_o[] =
    "org\"} 1\ntlswatch_up{x=\"\\\"} 1";

static void
check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "mkcert: %s: %s\n", what, gnutls_strerror(ret));
		exit(1);
	}
}

static void
load(const char *path, gnutls_datum_t *d)
{
	check(gnutls_load_file(path, d), path);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* mkcert -d: the SCTs a server delivers, stapled and in the extension. */
static int
delivered(int nscts, const char *certfile, const char *out)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d, b64;
	unsigned char serial[64];
	size_t slen = sizeof(serial);
	struct buf scts, list, resp, ext;
	struct sb_single one;
	char path[4096];

	check(gnutls_x509_crt_init(&crt), "crt_init");
	load(certfile, &d);
	check(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), certfile);
	gnutls_free(d.data);
	check(gnutls_x509_crt_get_serial(crt, serial, &slen), "serial");
	gnutls_x509_crt_deinit(crt);

	buf_init(&scts);
	for (int i = 0; i < nscts; i++)
		sb_sct_v1(&scts, (uint8_t)(0xb0 + i), (uint64_t)time(NULL) * 1000, 0, 70);
	buf_init(&list);
	sb_list(&list, &scts);

	buf_init(&resp);
	one = (struct sb_single){ serial, slen, &list, 1, 0 };
	sb_ocsp(&resp, &one, 1, 1, 0);
	snprintf(path, sizeof(path), "%s.ocsp", out);
	write_file(path, resp.data, resp.len);

	/* extension_type, extension_data length, extension_data */
	buf_init(&ext);
	sb_u16(&ext, 18);
	sb_u16(&ext, list.len);
	buf_append(&ext, list.data, list.len);
	d.data = (unsigned char *)ext.data;
	d.size = (unsigned)ext.len;
	check(gnutls_pem_base64_encode2("SERVERINFO FOR signed_certificate_timestamp", &d, &b64),
	    "base64");
	snprintf(path, sizeof(path), "%s.serverinfo", out);
	write_file(path, b64.data, b64.size);
	gnutls_free(b64.data);
	buf_free(&ext);
	buf_free(&resp);
	buf_free(&list);
	buf_free(&scts);
	return 0;
}

int
main(int argc, char **argv)
{
	gnutls_x509_crt_t ca, crt;
	gnutls_x509_privkey_t cakey, key;
	gnutls_datum_t d, out;
	unsigned char serial[16];
	unsigned char ip4[4] = { 127, 0, 0, 1 };
	unsigned char ip6[16] = { 0 };
	time_t now = time(NULL);
	FILE *f;
	int ch, nscts = -1, ndelivered = -1;

	while ((ch = getopt(argc, argv, "s:d:")) != -1) {
		int *n = ch == 's' ? &nscts : ch == 'd' ? &ndelivered : NULL;

		if (n == NULL || (*n = atoi(optarg)) < 0 || *n > 100) {
			fprintf(stderr, "mkcert: -s and -d take 0 to 100\n");
			return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (ndelivered >= 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: mkcert -d NSCTS CERT.pem OUT\n");
			return 2;
		}
		return delivered(ndelivered, argv[1], argv[2]);
	}
	if (argc != 5) {
		fprintf(stderr, "usage: mkcert [-s NSCTS] ISSUER.pem ISSUER.key SUBJECT.key OUT.pem\n");
		return 2;
	}
	ip6[15] = 1;

	check(gnutls_x509_crt_init(&ca), "crt_init");
	load(argv[1], &d);
	check(gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM), argv[1]);
	gnutls_free(d.data);

	check(gnutls_x509_privkey_init(&cakey), "privkey_init");
	load(argv[2], &d);
	check(gnutls_x509_privkey_import(cakey, &d, GNUTLS_X509_FMT_PEM), argv[2]);
	gnutls_free(d.data);

	check(gnutls_x509_privkey_init(&key), "privkey_init");
	load(argv[3], &d);
	check(gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM), argv[3]);
	gnutls_free(d.data);

	check(gnutls_x509_crt_init(&crt), "crt_init");
	check(gnutls_x509_crt_set_version(crt, 3), "set_version");
	check(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "rnd");
	serial[0] &= 0x7f;	/* a positive INTEGER */
	check(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "set_serial");
	check(gnutls_x509_crt_set_activation_time(crt, now - 86400), "activation");
	check(gnutls_x509_crt_set_expiration_time(crt, now + 90 * 86400), "expiration");
	if (nscts < 0) {
		check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME,
		    0, hostile_o, strlen(hostile_o)), "set O");
		check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
		    0, hostile_cn, strlen(hostile_cn)), "set CN");
	} else {
		struct buf scts, list, ext;

		check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
		    0, "good.test", 9), "set CN");
		buf_init(&scts);
		buf_init(&list);
		buf_init(&ext);
		/* log ids 1..N, logged a minute before notBefore */
		for (int i = 0; i < nscts; i++)
			sb_sct_v1(&scts, (uint8_t)(i + 1), (uint64_t)(now - 86400 - 60) * 1000, 0, 71);
		sb_list(&list, &scts);
		sb_der(&ext, 0x04, list.data, list.len);
		/* 1.3.6.1.4.1.11129.2.4.2, not critical */
		check(gnutls_x509_crt_set_extension_by_oid(crt, "1.3.6.1.4.1.11129.2.4.2",
		    ext.data, ext.len, 0), "set SCT list");
		buf_free(&scts);
		buf_free(&list);
		buf_free(&ext);
	}
	check(gnutls_x509_crt_set_key(crt, key), "set_key");
	check(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basic_constraints");
	check(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
	    "key_usage");
	check(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
	    "key_purpose");
	check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "good.test", 9, GNUTLS_FSAN_APPEND), "san");
	check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "localhost", 9, GNUTLS_FSAN_APPEND), "san");
	check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
	    ip4, sizeof(ip4), GNUTLS_FSAN_APPEND), "san");
	check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
	    ip6, sizeof(ip6), GNUTLS_FSAN_APPEND), "san");

	/* Key identifiers, as certtool sets them, so issuer matching works alike. */
	{
		unsigned char id[64];
		size_t idlen = sizeof(id);

		check(gnutls_x509_crt_get_key_id(crt, 0, id, &idlen), "key_id");
		check(gnutls_x509_crt_set_subject_key_id(crt, id, idlen), "ski");
		idlen = sizeof(id);
		check(gnutls_x509_crt_get_subject_key_id(ca, id, &idlen, NULL), "ca ski");
		check(gnutls_x509_crt_set_authority_key_id(crt, id, idlen), "aki");
	}

	check(gnutls_x509_crt_sign2(crt, ca, cakey, GNUTLS_DIG_SHA256, 0), "sign");
	check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), "export");

	if ((f = fopen(argv[4], "w")) == NULL ||
	    fwrite(out.data, 1, out.size, f) != out.size || fclose(f) != 0) {
		perror(argv[4]);
		return 1;
	}
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(cakey);
	return 0;
}
