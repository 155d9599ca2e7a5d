/*
 * fuzz_certs.c - certificate analysis over any list of DER blobs: cert_get
 * (interning: the one parser), certinfo_json and certinfo_pem (what the
 * status page, the API and `tlswatch show` print), and verdict_verify with
 * its chain analysis, against the test PKI's root.
 *
 * Input: byte 0 picks the name checked (none, good.test, 127.0.0.1, ::1,
 * wrong.test, ""), byte 1 the time of the check (now, moved by whole
 * months either way); the rest is cut into DER elements by their outer
 * tag and length, as a server's Certificate message would list them (what
 * does not parse as a header is one last blob).
 *
 * Invariants: an interned certificate's sha256 is the SHA-256 of its DER
 * and the same DER gives the same certificate; certinfo agrees with it;
 * the JSON is one JSON text and the PEM decodes to the DER; a verdict is
 * verified exactly when it has no reason, its bits are in the fixed sets,
 * the earliest expiry is the least notAfter; every reference is given back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "verdict/certinfo.h"
#include "verdict/certs.h"
#include "verdict/chain.h"
#include "verdict/verdict.h"
#include "fuzz.h"
#include "core/util.h"

#define MAX_BLOBS 80    /* past chain.c's CHAIN_MAX of 64 */

static struct trust *trust;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trust = fuzz_pki_trust();
	return 0;
}

static int
is_lower_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* One blob alone: interning and what is shown of it. */
static struct cert *
check_one(const struct der *d, double now)
{
	struct cert *c = cert_get(d->data, d->len), *again;
	unsigned char sum[32];
	char hex[65];

	if (c == NULL)
		return NULL;
	FUZZ_CHECK(gnutls_hash_fast(GNUTLS_DIG_SHA256, d->data, d->len, sum) == 0, "sha256");
	hex_encode(sum, sizeof(sum), hex);
	FUZZ_CHECK(strcmp(c->sha256, hex) == 0, "interned under another digest");
	FUZZ_CHECK(c->subject && c->issuer && c->serial, "a field missing");
	FUZZ_CHECK(is_lower_hex(c->serial), "serial \"%s\" is not lowercase hex", c->serial);
	again = cert_get(d->data, d->len);
	FUZZ_CHECK(again == c && c->refs >= 2, "the same DER interned twice");
	cert_put(again);

	{
		struct buf b;
		char *pem;
		gnutls_datum_t in, out = { NULL, 0 };

		/* one parser: what people see is the interned certificate's */
		FUZZ_CHECK(c->key_type != NULL && c->sig_alg != NULL, "no key or signature name");
		for (size_t i = 0; i < c->nsans; i++)
			FUZZ_CHECK(c->sans[i] != NULL, "SAN %zu missing", i);
		buf_init(&b);
		certinfo_json(&b, c, 0, now);
		FUZZ_CHECK(b.data && fuzz_json_valid(b.data, b.len), "not a JSON text: %s",
		    b.data ? b.data : "(empty)");
		buf_free(&b);
		pem = certinfo_pem(d->data, d->len);
		FUZZ_CHECK(pem != NULL, "no PEM");
		in.data = (unsigned char *)pem;
		in.size = (unsigned)strlen(pem);
		FUZZ_CHECK(gnutls_pem_base64_decode2("CERTIFICATE", &in, &out) == 0 &&
		    out.size == d->len && memcmp(out.data, d->data, d->len) == 0,
		    "the PEM is not the DER");
		gnutls_free(out.data);
		free(pem);
	}
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { NULL, "good.test", "127.0.0.1", "::1", "wrong.test",
	    "" };
	struct fuzz_in in = { data, size };
	const char *host = names[fuzz_byte(&in) % ARRAY_SIZE(names)];
	int64_t now = (int64_t)time(NULL) + (int64_t)(int8_t)fuzz_byte(&in) * 30 * 86400;
	struct der ders[MAX_BLOBS];
	struct cert *certs[MAX_BLOBS];
	size_t n = 0, live = cert_count(), parsed = 0;
	int64_t earliest = INT64_MAX;
	struct verdict v;
	int rc;

	while (in.n > 0 && n < MAX_BLOBS) {
		size_t len = fuzz_der_len(in.p, in.n);
		unsigned char *copy;

		if (len == 0)
			len = in.n;
		/* each blob in an allocation of its own size */
		copy = xmalloc(len);
		memcpy(copy, in.p, len);
		ders[n].data = copy;
		ders[n].len = len;
		in.p += len;
		in.n -= len;
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		certs[i] = check_one(&ders[i], (double)now);
		if (i < 64 && certs[i]) {
			parsed++;
			if (certs[i]->not_after < earliest)
				earliest = certs[i]->not_after;
		}
	}

	rc = verdict_verify(ders, n, trust, host, now, &v);
	FUZZ_CHECK(v.reasons < (uint64_t)1 << VERDICT_NREASONS &&
	    v.issues < (uint64_t)1 << VERDICT_NCHAIN_ISSUES, "bits outside the fixed sets");
	if (rc == -1) {
		FUZZ_CHECK(v.reasons == REASON(OTHER) && !v.verified, "an unexamined chain verified");
	} else {
		FUZZ_CHECK(n > 0 && parsed == (n < 64 ? n : 64), "examined a chain that does not parse");
		FUZZ_CHECK(v.verified == (v.reasons == 0), "verified %d with reasons 0x%llx",
		    v.verified, (unsigned long long)v.reasons);
		FUZZ_CHECK(v.verified ? v.verified_expiry != 0 : v.verified_expiry == 0,
		    "verified_expiry %lld", (long long)v.verified_expiry);
		FUZZ_CHECK(v.earliest_expiry == earliest, "earliest_expiry %lld, not %lld",
		    (long long)v.earliest_expiry, (long long)earliest);
		FUZZ_CHECK((host != NULL && *host != '\0') || !(v.reasons & REASON(HOSTNAME_MISMATCH)),
		    "a name mismatch with no name");
		FUZZ_CHECK(now <= certs[0]->not_after || (v.reasons & REASON(EXPIRED)),
		    "an expired leaf not called expired");
		if (v.verified)
			FUZZ_CHECK(v.verified_expiry <= certs[0]->not_after,
			    "the path expires after its leaf");
	}
	verdict_fini(&v);
	for (size_t i = 0; i < n; i++) {
		cert_put(certs[i]);
		free((void *)ders[i].data);
	}
	FUZZ_CHECK(cert_count() == live, "%zu certificates kept", cert_count() - live);
	return 0;
}
