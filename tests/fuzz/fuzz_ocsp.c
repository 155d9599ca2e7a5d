/*
 * fuzz_ocsp.c - ocsp_check on any bytes as the response, for two leaves
 * of tests/revpki.sh's intermediate (revcerts.h), a minute after the
 * response says it was produced (so the seeds in corpus/ocsp, which answer
 * for these leaves, stay within their validity however old they are);
 * ocsp_must_staple and ocsp_urls on the input as a certificate; ocsp_times
 * on it as a response.
 *
 * Invariants: a status from the fixed set, an error text exactly when it
 * is an error (printable), a reason word when revoked, times in range.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/ocsp.h>

#include "core/util.h"
#include "fuzz.h"
#include "verdict/ocsp.h"
#include "verdict/revoke.h"
#include "verdict/x509.h"
#include "revcerts.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct { const unsigned char *der; size_t len; } leaves[] = {
		{ rev_good_der, sizeof(rev_good_der) },
		{ rev_revoked_der, sizeof(rev_revoked_der) },
	};
	int64_t now = (int64_t)time(NULL);
	gnutls_ocsp_resp_t r;
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)size };
	char **urls;
	int n;

	if (size > OCSP_MAX_RESPONSE)
		return 0;
	if (gnutls_ocsp_resp_init(&r) == 0) {
		if (gnutls_ocsp_resp_import(r, &d) == 0) {
			time_t produced = gnutls_ocsp_resp_get_produced(r);
			if (produced != (time_t)-1 && time_epoch_ok((int64_t)produced))
				now = (int64_t)produced + 60;
		}
		gnutls_ocsp_resp_deinit(r);
	}

	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		struct rev_answer a;

		ocsp_check(data, size, leaves[i].der, leaves[i].len, rev_int_der,
		    sizeof(rev_int_der), now, &a);
		FUZZ_CHECK((unsigned)a.status < REV_NSTATUS, "status in the set");
		FUZZ_CHECK((a.status == REV_ERROR) == (a.error[0] != '\0'), "error text iff error");
		if (a.status == REV_ERROR)
			FUZZ_CHECK(fuzz_printable_line(a.error), "printable error");
		else
			FUZZ_CHECK(time_epoch_ok(a.this_update) && a.this_update != 0 &&
			    time_epoch_ok(a.next_update), "times of a valid answer");
		if (a.status == REV_REVOKED)
			FUZZ_CHECK(a.reason >= 0 && a.reason <= REV_REASON_MAX, "reason in range");
	}
	{
		int64_t tu, nu;

		n = ocsp_times(data, size, &tu, &nu);
		FUZZ_CHECK(n == 0 ? tu != 0 && time_epoch_ok(tu) && time_epoch_ok(nu) :
		    tu == 0 && nu == 0, "ocsp_times: times of a successful response, else none");
	}
	n = ocsp_must_staple(data, size);
	FUZZ_CHECK(n >= -1 && n <= 1, "must-staple is yes, no or unparsable");
	n = ocsp_urls(data, size, &urls);
	FUZZ_CHECK(n <= OCSP_MAX_URLS, "bounded");
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(x509_is_http_url((const unsigned char *)urls[i], strlen(urls[i])), "http(s)");
	urls_free(urls, n > 0 ? (size_t)n : 0);
	return 0;
}
