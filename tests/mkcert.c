/*
 * mkcert.c - make the one test certificate certtool cannot: a server leaf
 * whose subject holds quotes, backslashes and a raw newline, written to
 * forge a Prometheus series if a label value were not escaped.
 *
 * Usage: mkcert ISSUER.pem ISSUER.key SUBJECT.key OUT.pem
 *
 * certtool's template parser eats backslashes and ends values at a newline,
 * so the DN is set here through gnutls_x509_crt_set_dn_by_oid with raw bytes.
 * Run by tests/pki.sh; not part of the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

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

	if (argc != 5) {
		fprintf(stderr, "usage: mkcert ISSUER.pem ISSUER.key SUBJECT.key OUT.pem\n");
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
	check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME,
	    0, hostile_o, strlen(hostile_o)), "set O");
	check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, hostile_cn, strlen(hostile_cn)), "set CN");
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
