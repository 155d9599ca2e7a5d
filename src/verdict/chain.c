/*
 * chain.c - trust stores, and the base of every verdict: GnuTLS decides
 * whether a chain verifies; we translate its status into the reasons of
 * verdict.h, work out when the verified path expires, and hand the path to
 * the checks (check.h), the first of which reports how the server's chain
 * was put together (chainissues.c).
 *
 * What GnuTLS 3.7.9 reports, observed with tests/pki.sh's certificates and
 * gnutls_x509_trust_list_verify_crt2 with flags 0:
 *   expired leaf, intermediate presented   INVALID|EXPIRED
 *   expired leaf, intermediate missing     INVALID|SIGNER_NOT_FOUND|EXPIRED
 *   not-yet-valid leaf, issuer missing,    INVALID|SIGNER_NOT_FOUND|
 *     wrong name                             NOT_ACTIVATED|UNEXPECTED_OWNER
 *   expired self-signed leaf               INVALID|SIGNER_NOT_FOUND|EXPIRED
 *   valid self-signed leaf                 INVALID|SIGNER_NOT_FOUND
 *   wrong name, otherwise good             INVALID|UNEXPECTED_OWNER
 *   wrong name and issuer missing          INVALID|SIGNER_NOT_FOUND|
 *                                            UNEXPECTED_OWNER
 *   chain out of order or duplicated       0 (it sorts unsorted chains)
 *   127.0.0.1, ::1 against IP SANs         0; 127.0.0.2, ::2: UNEXPECTED_OWNER
 * So it does not stop early on a missing issuer and the hostname is checked
 * alongside other errors. We still check the leaf's validity against `now`
 * ourselves, which costs nothing and keeps "expired" reported should a
 * GnuTLS version stop early.
 *
 * About `now`: GnuTLS verifies at its own clock (time(NULL)) and has no way
 * to be given another; callers pass the same clock, so the two agree to
 * within the call. Our own leaf check uses `now`, so a leaf that is expired
 * at `now` is reported as expired whatever GnuTLS thought.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/certs.h"
#include "verdict/chain.h"
#include "verdict/check.h"
#include "verdict/finding.h"
#include "verdict/webpki.h"

struct trust {
	gnutls_x509_trust_list_t tl;
	uint64_t id;
};

/* Every store loaded gets a new id, never reused: a verdict remembered for
 * one store cannot be mistaken for another's that happens to reuse its
 * address after a reload. */
static uint64_t trust_next_id = 1;

/*
 * GnuTLS status bit            reason
 * GNUTLS_CERT_EXPIRED          expired
 * GNUTLS_CERT_NOT_ACTIVATED    not_yet_valid
 * GNUTLS_CERT_SIGNER_NOT_FOUND unknown_issuer, or self_signed when the leaf
 *                              is self-signed and presented alone (or only
 *                              with copies of itself)
 * GNUTLS_CERT_SIGNER_NOT_CA    signer_not_ca
 * GNUTLS_CERT_UNEXPECTED_OWNER hostname_mismatch
 * GNUTLS_CERT_INSECURE_ALGORITHM insecure_algorithm
 * GNUTLS_CERT_SIGNATURE_FAILURE bad_signature
 * GNUTLS_CERT_REVOKED          revoked
 * GNUTLS_CERT_PURPOSE_MISMATCH purpose (we verify for serverAuth)
 * GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS unknown_critical_extension
 * GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE: GnuTLS sets it for a violated
 *                              name constraint, an exceeded path length and
 *                              an issuer whose key usage lacks keyCertSign
 *                              (and for TLS features and RSA-PSS
 *                              parameters). webpki.c's reading of the path
 *                              tells which: name_constraints, path_length,
 *                              key_usage; other when it finds none of them
 * any other non-zero status    other (only when none of the above is set)
 */
static const struct {
	unsigned status;
	uint64_t reason;
} chain_status_map[] = {
	{ GNUTLS_CERT_EXPIRED, REASON(EXPIRED) },
	{ GNUTLS_CERT_NOT_ACTIVATED, REASON(NOT_YET_VALID) },
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, REASON(UNKNOWN_ISSUER) },
	{ GNUTLS_CERT_SIGNER_NOT_CA, REASON(SIGNER_NOT_CA) },
	{ GNUTLS_CERT_UNEXPECTED_OWNER, REASON(HOSTNAME_MISMATCH) },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, REASON(INSECURE_ALGORITHM) },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, REASON(BAD_SIGNATURE) },
	{ GNUTLS_CERT_REVOKED, REASON(REVOKED) },
	{ GNUTLS_CERT_PURPOSE_MISMATCH, REASON(PURPOSE) },
	{ GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, REASON(UNKNOWN_CRITICAL_EXTENSION) },
};

/* The reasons GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE may stand for. */
#define CHAIN_CONSTRAINT_REASONS \
	(REASON(NAME_CONSTRAINTS) | REASON(PATH_LENGTH) | REASON(KEY_USAGE))

uint64_t
trust_id(const struct trust *t)
{
	return t->id;
}

gnutls_x509_trust_list_t
trust_list(const struct trust *t)
{
	return t->tl;
}

struct trust *
trust_load(const char *ca_file, char **err)
{
	const char *what = ca_file ? ca_file : "the system trust store";
	struct trust *t;
	char *msg = NULL;
	int ret;

	t = xcalloc(1, sizeof(*t));
	t->id = trust_next_id++;
	if ((ret = gnutls_x509_trust_list_init(&t->tl, 0)) < 0) {
		free(t);
		msg = xasprintf("trust list: %s", gnutls_strerror(ret));
		goto fail;
	}
	if (ca_file == NULL)
		ret = gnutls_x509_trust_list_add_system_trust(t->tl, 0, 0);
	else
		ret = gnutls_x509_trust_list_add_trust_file(t->tl, ca_file,
		    NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret > 0) {
		if (err != NULL)
			*err = NULL;
		return t;
	}
	trust_free(t);
	/* A file that reads but holds no certificate is a mistake to name
	 * plainly, whichever way GnuTLS reports it. */
	if (ret == 0 || ret == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	    ret == GNUTLS_E_BASE64_DECODING_ERROR)
		msg = xasprintf("no certificates found in %s", what);
	else if (ret == GNUTLS_E_FILE_ERROR && ca_file != NULL &&
	    access(ca_file, R_OK) == -1)
		msg = xasprintf("%s: %s", what, strerror(errno));
	else
		msg = xasprintf("%s: %s", what, gnutls_strerror(ret));
fail:
	if (err != NULL)
		*err = msg;
	else
		free(msg);
	return NULL;
}

void
trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	gnutls_x509_trust_list_deinit(t->tl, 1);
	free(t);
}

void
check_chain_free(struct check_chain *cc)
{
	for (size_t i = 0; i < cc->n; i++) {
		gnutls_x509_crt_deinit(cc->crt[i]);
		cert_put(cc->certs[i]);
	}
	cc->n = 0;
}

/* The presented certificates, parsed twice over: our interned summary
 * (for names, dates and flags) and GnuTLS's (to verify and match issuers). */
int
check_chain_load(struct check_chain *cc, const struct der *chain, size_t n)
{
	gnutls_datum_t d;
	size_t i;

	cc->n = 0;
	cc->der = chain;
	for (i = 0; i < n && i < CHECK_MAX_CERTS; i++) {
		if (chain[i].len > UINT32_MAX ||
		    gnutls_x509_crt_init(&cc->crt[i]) < 0)
			goto fail;
		d.data = (unsigned char *)chain[i].data;
		d.size = (unsigned)chain[i].len;
		if (gnutls_x509_crt_import(cc->crt[i], &d,
		    GNUTLS_X509_FMT_DER) < 0 ||
		    (cc->certs[i] = cert_get(chain[i].data, chain[i].len)) == NULL) {
			gnutls_x509_crt_deinit(cc->crt[i]);
			goto fail;
		}
		cc->n = i + 1;
	}
	return 0;
fail:
	check_chain_free(cc);
	return -1;
}

long
check_chain_issuer(const struct check_chain *cc, size_t i)
{
	for (size_t j = 0; j < cc->n; j++)
		if (cc->certs[j] != cc->certs[i] &&
		    gnutls_x509_crt_check_issuer(cc->crt[i], cc->crt[j]))
			return (long)j;
	return -1;
}

void
check_path_free(struct check_path *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->index[i] == -1)
			gnutls_x509_crt_deinit(p->crt[i]);   /* the anchor's copy */
		cert_put(p->certs[i]);
	}
	p->n = 0;
}

static void
path_add(struct check_path *p, gnutls_x509_crt_t crt, struct cert *c, long index)
{
	p->crt[p->n] = crt;
	p->certs[p->n] = c;
	p->index[p->n] = index;
	p->n++;
}

/* The anchor as interned certificate (NULL when it cannot be exported). */
static struct cert *
intern_crt(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { NULL, 0 };
	struct cert *c = NULL;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d) == 0)
		c = cert_get(d.data, d.size);
	gnutls_free(d.data);
	return c;
}

/*
 * The path a verifier trusts: from the leaf through presented issuers up to
 * the first certificate an anchor signed, anchor included. The trust list
 * is asked first at each step, as GnuTLS cuts the chain at the first
 * certificate it can anchor, so that an expired cross-signed certificate
 * presented past that point is not on it. Built for an unverified chain
 * too (check_path_build), as far as the presented issuers go.
 */
void
check_path_build(const struct check_chain *cc, gnutls_x509_trust_list_t tl,
    struct check_path *p)
{
	gnutls_x509_crt_t iss;
	size_t cur = 0, depth;
	long j;

	p->n = 0;
	path_add(p, cc->crt[0], cert_ref(cc->certs[0]), 0);
	for (depth = 0; depth < CHECK_MAX_DEPTH; depth++) {
		if (gnutls_x509_trust_list_get_issuer(tl, cc->crt[cur], &iss,
		    GNUTLS_TL_GET_COPY) >= 0) {
			path_add(p, iss, intern_crt(iss), -1);
			return;
		}
		if ((j = check_chain_issuer(cc, cur)) == -1)
			return;
		for (size_t k = 0; k < p->n; k++)
			if (p->index[k] == j)
				return;         /* a loop of cross-signatures */
		cur = (size_t)j;
		path_add(p, cc->crt[cur], cert_ref(cc->certs[cur]), j);
	}
}

/* The earliest notAfter on the path, the anchor's included. */
static int64_t
path_expiry(const struct check_path *p)
{
	int64_t min = 0;

	for (size_t i = 0; i < p->n; i++) {
		int64_t na = p->certs[i] ? p->certs[i]->not_after :
		    time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(p->crt[i]));
		if (i == 0 || na < min)
			min = na;
	}
	return min;
}

/* Only the leaf and copies of it were presented. */
static int
chain_leaf_alone(const struct check_chain *cc)
{
	for (size_t i = 1; i < cc->n; i++)
		if (cc->certs[i] != cc->certs[0])
			return 0;
	return 1;
}

int
chain_verify(const struct check_chain *cc, const struct trust *t, const char *hostname,
    int64_t now, struct chain_base *b, struct check_path *path)
{
	gnutls_typed_vdata_st vdata[2];
	unsigned status = 0, nvdata = 0;
	uint64_t reasons = 0;
	int ret;

	memset(b, 0, sizeof(*b));
	path->n = 0;
	/* A TLS server's certificate: the purpose is always checked, the name
	 * when there is one. */
	memset(vdata, 0, sizeof(vdata));
	vdata[nvdata].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[nvdata++].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	if (hostname != NULL && *hostname != '\0') {
		vdata[nvdata].type = GNUTLS_DT_DNS_HOSTNAME;
		vdata[nvdata++].data = (unsigned char *)hostname;
	}
	/* GnuTLS sorts an unsorted chain itself (we leave
	 * GNUTLS_VERIFY_DO_NOT_ALLOW_UNSORTED_CHAIN unset), as browsers
	 * tolerate order; the order is reported as an issue instead. */
	ret = gnutls_x509_trust_list_verify_crt2(t->tl, (gnutls_x509_crt_t *)cc->crt,
	    (unsigned)cc->n, vdata, nvdata, 0, &status, NULL);
	if (ret < 0) {
		b->reasons = REASON(OTHER);
		return -1;
	}
	b->gnutls_status = status;

	for (size_t i = 0; i < ARRAY_SIZE(chain_status_map); i++)
		if (status & chain_status_map[i].status)
			reasons |= chain_status_map[i].reason;
	if ((reasons & REASON(UNKNOWN_ISSUER)) && cc->certs[0]->self_signed &&
	    chain_leaf_alone(cc))
		reasons = (reasons & ~REASON(UNKNOWN_ISSUER)) | REASON(SELF_SIGNED);
	if (now > cc->certs[0]->not_after)
		reasons |= REASON(EXPIRED);
	if (now < cc->certs[0]->not_before)
		reasons |= REASON(NOT_YET_VALID);
	if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE) {
		struct check_path p;
		struct findings f;
		uint64_t why;

		check_path_build(cc, t->tl, &p);
		findings_init(&f);
		webpki_evaluate_path(cc, &p, &f);
		why = findings_reasons(&f, POLICY_PRIVATE) & CHAIN_CONSTRAINT_REASONS;
		reasons |= why ? why : REASON(OTHER);
		findings_fini(&f);
		check_path_free(&p);
	}
	if (status != 0 && reasons == 0)
		reasons = REASON(OTHER);

	b->verified = reasons == 0;
	b->reasons = reasons;
	b->earliest_expiry = cc->certs[0]->not_after;
	for (size_t i = 1; i < cc->n; i++)
		if (cc->certs[i]->not_after < b->earliest_expiry)
			b->earliest_expiry = cc->certs[i]->not_after;
	if (b->verified) {
		check_path_build(cc, t->tl, path);
		b->verified_expiry = path_expiry(path);
	}
	return 0;
}
