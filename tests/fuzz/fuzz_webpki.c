/*
 * fuzz_webpki.c - the Web PKI rules (src/verdict/webpki.c) over any input.
 *
 * Byte 0 picks what the rest is:
 *   even: a list of DER blobs, cut by their outer tag and length as a
 *         server's Certificate message would list them; those that parse
 *         as X.509 are a path, leaf first (anchored when bit 1 is set),
 *         and also a chain, its path built as the verdict builds it
 *         (check_path_build) and its verdict made under each policy,
 *         against the test PKI's root;
 *   odd:  byte 1 is the length n of a nameConstraints extension value
 *         (n bytes), the rest a subjectAltName value: both through the DER
 *         reader, each name then checked against the constraints.
 *
 * Invariants: every finding is of a known rule, on a certificate of the
 * path (or, for an anchor, its place), with a 64-digit fingerprint and a
 * sentence of printable ASCII; no more than one finding per rule and
 * certificate; the reasons they fail with are the table's; a verdict is
 * verified exactly when it has no reason; every reference is given back.
 *
 * The trust store is the test PKI's root (fuzz.h). Seeds:
 * tests/fuzz/corpus/webpki; tests/fuzz/webpki_seeds.py DIR makes one from
 * every chain of the conformance corpus (tests/webpki-corpus.sh).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "verdict/certs.h"
#include "conf/conf.h"
#include "verdict/chain.h"
#include "verdict/check.h"
#include "verdict/verdict.h"
#include "verdict/finding.h"
#include "verdict/gnames.h"
#include "verdict/webpki.h"
#include "fuzz.h"

#define MAX_BLOBS 24

static struct trust *fz_trust;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_trust = fuzz_pki_trust();
	return 0;
}

static void
check_findings(const struct findings *f, size_t npath)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];

		FUZZ_CHECK(x->id < VERDICT_NCERT_ISSUES, "finding id %u", x->id);
		FUZZ_CHECK(x->depth >= 0 && (size_t)x->depth < npath + MAX_BLOBS,
		    "depth %d of a path of %zu", x->depth, npath);
		FUZZ_CHECK(strlen(x->sha256) == 64, "fingerprint %s", x->sha256);
		for (const char *t = x->text; *t; t++)
			FUZZ_CHECK(*t >= 0x20 && *t < 0x7f, "byte %#x in \"%s\"", (unsigned)*t, x->text);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(!(f->v[j].id == x->id && f->v[j].depth == x->depth &&
			    strcmp(f->v[j].sha256, x->sha256) == 0),
			    "%s twice on one certificate", finding_name(x->id));
	}
	FUZZ_CHECK((findings_reasons(f, POLICY_PRIVATE) & ~findings_reasons(f, POLICY_PUBLIC)) == 0,
	    "private fails where public does not");
}

static void
run_path(const uint8_t *p, size_t n, int anchored)
{
	struct der blobs[MAX_BLOBS];
	struct webpki_cert path[MAX_BLOBS];
	gnutls_x509_crt_t crts[MAX_BLOBS];
	struct webpki_input in;
	struct findings f;
	struct verdict v;
	size_t nb = 0, nc = 0;

	while (n > 0 && nb < MAX_BLOBS) {
		size_t len = fuzz_der_len(p, n);

		if (len == 0)
			len = n;
		blobs[nb].data = p;
		blobs[nb++].len = len;
		p += len;
		n -= len;
	}
	for (size_t i = 0; i < nb; i++) {
		gnutls_datum_t d = { (unsigned char *)blobs[i].data, (unsigned)blobs[i].len };

		if (gnutls_x509_crt_init(&crts[nc]) < 0)
			continue;
		if (gnutls_x509_crt_import(crts[nc], &d, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[nc]);
			continue;
		}
		path[nc].crt = crts[nc];
		path[nc].depth = (int)nc;
		nc++;
	}
	findings_init(&f);
	in.path = path;
	in.npath = nc;
	in.anchored = anchored;
	webpki_evaluate(&in, &f);
	check_findings(&f, nc);
	findings_fini(&f);

	if (nb > 0) {
		struct check_chain cc;
		struct check_path cp;
		struct conf_target t;
		struct verdict_input vin;
		uint64_t known = ((uint64_t)1 << VERDICT_NREASONS) - 1;

		if (check_chain_load(&cc, blobs, nb) == 0) {
			findings_init(&f);
			check_path_build(&cc, trust_list(fz_trust), &cp);
			webpki_evaluate_path(&cc, &cp, &f);
			check_findings(&f, nb);
			findings_fini(&f);
			check_path_free(&cp);
			check_chain_free(&cc);
		}
		/* the whole verdict, under each policy */
		for (int pol = CONF_POLICY_PUBLIC; pol <= CONF_POLICY_PRIVATE; pol++) {
			memset(&t, 0, sizeof(t));
			t.policy = pol;
			memset(&vin, 0, sizeof(vin));
			vin.chain = blobs;
			vin.n = nb;
			vin.trust = fz_trust;
			vin.target = &t;
			vin.hostname = "good.test";
			vin.now = (int64_t)time(NULL);
			(void)verdict_evaluate(&vin, &v);
			FUZZ_CHECK(v.verified == (v.reasons == 0), "verified %d, reasons %#llx",
			    v.verified, (unsigned long long)v.reasons);
			FUZZ_CHECK((v.reasons & ~known) == 0, "reasons %#llx",
			    (unsigned long long)v.reasons);
			verdict_fini(&v);
		}
	}
	for (size_t i = 0; i < nc; i++)
		gnutls_x509_crt_deinit(crts[i]);
	FUZZ_CHECK(cert_count() == 0, "%zu certificates still interned", cert_count());
}

static void
run_names(const uint8_t *p, size_t n)
{
	size_t ncl;
	gnutls_datum_t ncd, sand;
	struct gn_constraints nc;
	struct gn_names sans;

	if (n < 1)
		return;
	ncl = p[0] <= n - 1 ? p[0] : n - 1;
	ncd.data = (unsigned char *)p + 1;
	ncd.size = (unsigned)ncl;
	sand.data = (unsigned char *)p + 1 + ncl;
	sand.size = (unsigned)(n - 1 - ncl);
	memset(&nc, 0, sizeof(nc));
	memset(&sans, 0, sizeof(sans));
	gn_parse_constraints(&ncd, &nc);
	gn_parse_names(&sand, &sans);
	FUZZ_CHECK(sans.n <= GN_MAX_NAMES, "%zu names", sans.n);
	for (size_t i = 0; i < sans.n; i++) {
		const struct gn_name *hit;
		const char *why;
		char show[GN_SHOWBUF];
		int r;

		gn_name_show(&sans.v[i], show);
		FUZZ_CHECK(strlen(show) < GN_SHOWBUF, "shown name overflows");
		if (nc.bad)
			continue;
		r = gn_check(&nc, &sans.v[i], &hit, &why);
		FUZZ_CHECK(r >= GN_OK && r <= GN_UNEVALUABLE, "verdict %d", r);
		FUZZ_CHECK(r != GN_EXCLUDED || hit != NULL, "excluded by nothing");
		FUZZ_CHECK(r != GN_UNEVALUABLE || why != NULL, "unevaluable without a reason");
	}
	gn_names_fini(&sans);
	gn_constraints_fini(&nc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		run_names(data + 1, size - 1);
	else
		run_path(data + 1, size - 1, (data[0] & 2) != 0);
	return 0;
}
