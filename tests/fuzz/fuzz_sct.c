/*
 * fuzz_sct.c - libFuzzer harness for the SCT list parser (src/verdict/sct.h).
 *
 * Byte 0 picks the entry point for the rest: 0 the TLS-encoded list
 * (sct_list_parse, as the TLS extension carries it), 1 an extension value
 * (sct_list_from_ext, as the certificate carries it), 2 an OCSP response
 * (sct_list_from_ocsp, as a staple carries it), first for any serial and
 * then for the serial in byte 1's low bits' worth of the bytes after it.
 *
 * Checks, beyond ASan's and UBSan's: the result is one the header allows
 * and nothing is counted when it is not a success; every SCT counted took
 * the bytes it must (2 + 47 for a v1 SCT, 3 for any other); the same input
 * gives the same result twice; and on an extension value both GnuTLS's
 * parser and ours accept, they agree on the count, the log ids and the
 * times.
 *
 * Seeds: tests/fuzz/corpus/sct/, written by tests/test_sct with
 * TLSWATCH_FUZZ_SEEDS=tests/fuzz/corpus/sct.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509-ext.h>

#include "verdict/sct.h"
#include "fuzz.h"

#define CHECK(cond, what) FUZZ_CHECK(cond, "%s", what)

static void
check_list(int rc, const struct sct_list *l, size_t len, int ok)
{
	static const struct sct_list zero;

	if (rc != ok)
		CHECK(memcmp(l, &zero, sizeof(zero)) == 0, "nothing kept on failure");
	CHECK((size_t)l->n * 49 + ((size_t)l->unknown + l->invalid) * 3 <= len,
	    "each SCT counted took its bytes");
}

/*
 * Ours against gnutls_x509_ext_ct_import_scts on an extension value, where
 * both accept it. Each refuses some of what the other takes: GnuTLS any
 * list with an SCT that has CtExtensions, a signature algorithm it does
 * not know or a broken length; we bytes after the list or a fragment of
 * one at its end, which GnuTLS lets pass and Chrome does not.
 */
static void
against_gnutls(const uint8_t *p, size_t len, int rc, const struct sct_list *l)
{
	gnutls_x509_ct_scts_t g;
	gnutls_datum_t d = { (unsigned char *)p, (unsigned)len };
	unsigned n = 0;

	if (len > UINT32_MAX || gnutls_x509_ext_ct_scts_init(&g) < 0)
		return;
	if (rc == 0 && gnutls_x509_ext_ct_import_scts(&d, g, 0) == 0) {
		unsigned unknown = 0;

		/* GnuTLS keeps SCTs of other versions, and refuses to say more
		 * of them than that */
		for (unsigned i = 0;; i++) {
			unsigned version;
			time_t ts;
			gnutls_datum_t id = { NULL, 0 }, sig = { NULL, 0 };
			gnutls_sign_algorithm_t alg;
			int vr = gnutls_x509_ct_sct_get_version(g, i, &version);

			if (vr == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (vr < 0) {
				unknown++;
				continue;
			}
			CHECK(gnutls_x509_ct_sct_get(g, i, &ts, &id, &alg, &sig) == 0,
			    "GnuTLS reads its own v1 SCT");
			if (n < SCT_KEEP && n < l->n) {
				CHECK(id.size == 32 && memcmp(id.data, l->v[n].log_id, 32) == 0,
				    "the log id GnuTLS reads");
				CHECK((uint64_t)ts == l->v[n].timestamp_ms / 1000,
				    "the time GnuTLS reads");
			}
			n++;
			gnutls_free(id.data);
			gnutls_free(sig.data);
		}
		CHECK(l->n == n && l->unknown == unknown && l->invalid == 0,
		    "a list GnuTLS accepts counts alike");
	}
	gnutls_x509_ext_ct_scts_deinit(g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sct_list a, b;
	uint8_t *p;
	size_t len;
	int rc, rc2;

	if (size == 0)
		return 0;
	/* exactly the bytes given, so that any overread is caught */
	len = size - 1;
	p = malloc(len ? len : 1);
	if (p == NULL)
		abort();
	memcpy(p, data + 1, len);
	switch (data[0] % 3) {
	case 0:
		rc = sct_list_parse(p, len, &a);
		rc2 = sct_list_parse(p, len, &b);
		CHECK(rc == 0 || rc == -1, "result");
		check_list(rc, &a, len, 0);
		break;
	case 1:
		rc = sct_list_from_ext(p, len, &a);
		rc2 = sct_list_from_ext(p, len, &b);
		CHECK(rc == 0 || rc == -1, "result");
		check_list(rc, &a, len, 0);
		against_gnutls(p, len, rc, &a);
		break;
	default: {
		size_t slen = len ? (size_t)(p[0] & 0x07) : 0;

		rc = sct_list_from_ocsp(p, len, NULL, 0, &a);
		rc2 = sct_list_from_ocsp(p, len, NULL, 0, &b);
		CHECK(rc >= -1 && rc <= 1, "result");
		check_list(rc, &a, len, 1);
		if (len >= 1 + slen) {
			rc = sct_list_from_ocsp(p + 1 + slen, len - 1 - slen, p + 1, slen, &a);
			CHECK(rc >= -1 && rc <= 1, "result");
			check_list(rc, &a, len, 1);
			rc2 = sct_list_from_ocsp(p + 1 + slen, len - 1 - slen, p + 1, slen, &b);
		}
		break;
	}
	}
	CHECK(rc == rc2 && memcmp(&a, &b, sizeof(a)) == 0, "the same result twice");
	free(p);
	return 0;
}
