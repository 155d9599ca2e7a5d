/*
 * fuzz_crl.c - crl_load on any bytes, without an issuer and with
 * tests/revpki.sh's intermediate (revcerts.h), then crl_check for two of
 * its leaves at the CRL's own thisUpdate; crl_times on the same bytes.
 *
 * Invariants: a refusal says why (a printable line); an accepted CRL's
 * times are in range, its set counts what it finds, and every answer has a
 * status from the fixed set, an error text exactly when it is an error,
 * and a reason word for a revoked certificate.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "core/util.h"
#include "fuzz.h"
#include "verdict/crl.h"
#include "verdict/revoke.h"
#include "verdict/serials.h"
#include "verdict/x509.h"
#include "revcerts.h"

static void
answer(const struct crl *c, const unsigned char *leaf, size_t len)
{
	gnutls_x509_crt_t crt = x509_import(leaf, len);
	unsigned char serial[64];
	size_t slen = sizeof(serial);
	struct rev_answer a;

	FUZZ_CHECK(crt != NULL, "the built-in leaf parses");
	FUZZ_CHECK(gnutls_x509_crt_get_serial(crt, serial, &slen) == 0, "serial");
	gnutls_x509_crt_deinit(crt);
	crl_check(c, serial, slen, 0, NULL, c->this_update, &a);
	FUZZ_CHECK((unsigned)a.status < REV_NSTATUS, "status in the set");
	FUZZ_CHECK((a.status == REV_ERROR) == (a.error[0] != '\0'), "error text iff error");
	if (a.status == REV_ERROR)
		FUZZ_CHECK(fuzz_printable_line(a.error), "printable error");
	if (a.status == REV_REVOKED) {
		FUZZ_CHECK(a.reason >= 0 && a.reason <= REV_REASON_MAX, "reason in range");
		FUZZ_CHECK(rev_reason_name(a.reason) != NULL, "a reason word");
		FUZZ_CHECK(serials_find(c->revoked, serial, slen, NULL, NULL), "listed");
	}
	if (!c->verified)
		FUZZ_CHECK(a.status == REV_ERROR, "unverified CRLs are never believed");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t tu, nu;
	int times = crl_times(data, size, &tu, &nu);

	FUZZ_CHECK(times == 0 || (tu == 0 && nu == 0), "no times from a refusal");
	FUZZ_CHECK(time_epoch_ok(tu) && time_epoch_ok(nu), "times in range");
	for (int with_issuer = 0; with_issuer < 2; with_issuer++) {
		struct crl *c = NULL;
		char *err = NULL;

		if (crl_load(data, size, with_issuer ? rev_int_der : NULL,
		    with_issuer ? sizeof(rev_int_der) : 0, &c, &err) == -1) {
			FUZZ_CHECK(c == NULL && err != NULL && fuzz_printable_line(err), "a refusal says why");
			free(err);
			continue;
		}
		FUZZ_CHECK(err == NULL, "no error on success");
		FUZZ_CHECK(times == 0 && tu == c->this_update && nu == c->next_update,
		    "crl_times reads what crl_load reads");
		FUZZ_CHECK(c->verified == with_issuer, "verified only against an issuer");
		FUZZ_CHECK(time_epoch_ok(c->this_update) && time_epoch_ok(c->next_update), "times");
		FUZZ_CHECK(serials_count(c->revoked) <= size / 4, "entries bounded by the input");
		for (size_t i = 0; i < c->nidp_urls; i++)
			FUZZ_CHECK(x509_is_http_url((const unsigned char *)c->idp_urls[i],
			    strlen(c->idp_urls[i])), "IDP URLs are http(s)");
		answer(c, rev_good_der, sizeof(rev_good_der));
		answer(c, rev_revoked_der, sizeof(rev_revoked_der));
		crl_free(c);
	}
	return 0;
}
