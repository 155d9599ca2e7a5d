/*
 * chain.c - verification verdict and analysis of a presented chain.
 *
 * GnuTLS decides whether a chain verifies; we translate its status into a
 * fixed set of reasons and add what it does not report: how the server's
 * chain was put together (order, gaps, extras) and when the chain expires.
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

#include "verdict/certs.h"
#include "verdict/chain.h"
#include "core/util.h"

/* At most this many presented certificates are examined, and issuer paths
 * are followed at most this deep. Real chains have 2 to 5; the bound keeps
 * the quadratic analysis cheap whatever a server sends. */
#define CHAIN_MAX       64
#define CHAIN_MAX_DEPTH 16

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
	unsigned reason;
} chain_status_map[] = {
	{ GNUTLS_CERT_EXPIRED, REASON_EXPIRED },
	{ GNUTLS_CERT_NOT_ACTIVATED, REASON_NOT_YET_VALID },
	{ GNUTLS_CERT_SIGNER_NOT_FOUND, REASON_UNKNOWN_ISSUER },
	{ GNUTLS_CERT_SIGNER_NOT_CA, REASON_SIGNER_NOT_CA },
	{ GNUTLS_CERT_UNEXPECTED_OWNER, REASON_HOSTNAME_MISMATCH },
	{ GNUTLS_CERT_INSECURE_ALGORITHM, REASON_INSECURE_ALGORITHM },
	{ GNUTLS_CERT_SIGNATURE_FAILURE, REASON_BAD_SIGNATURE },
	{ GNUTLS_CERT_REVOKED, REASON_REVOKED },
	{ GNUTLS_CERT_PURPOSE_MISMATCH, REASON_PURPOSE },
	{ GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, REASON_UNKNOWN_CRITICAL_EXTENSION },
};

/* The reasons GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE may stand for. */
#define CHAIN_CONSTRAINT_REASONS \
	(REASON_NAME_CONSTRAINTS | REASON_PATH_LENGTH | REASON_KEY_USAGE)

/* Indexed by bit number; these names are metric label values. */
static const char *const chain_reason_names[CHAIN_NREASONS] = {
	"expired", "not_yet_valid", "unknown_issuer", "self_signed",
	"signer_not_ca", "hostname_mismatch", "insecure_algorithm",
	"bad_signature", "revoked", "other", "name_constraints", "path_length",
	"unknown_critical_extension", "purpose", "key_usage", "webpki",
};

static const char *const chain_issue_names[CHAIN_NISSUES] = {
	"misordered", "incomplete", "root_included", "duplicate",
};

const char *
chain_reason_name(unsigned i)
{
	return i < ARRAY_SIZE(chain_reason_names) ? chain_reason_names[i] : NULL;
}

const char *
chain_issue_name(unsigned i)
{
	return i < ARRAY_SIZE(chain_issue_names) ? chain_issue_names[i] : NULL;
}

uint64_t
trust_id(const struct trust *t)
{
	return t->id;
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

/* The presented certificates, parsed twice over: our interned summary
 * (for names, dates and flags) and GnuTLS's (to verify and match issuers). */
struct chain_certs {
	size_t n;
	gnutls_x509_crt_t crt[CHAIN_MAX];
	struct cert *c[CHAIN_MAX];
};

static void
chain_certs_free(struct chain_certs *cc)
{
	size_t i;

	for (i = 0; i < cc->n; i++) {
		gnutls_x509_crt_deinit(cc->crt[i]);
		cert_put(cc->c[i]);
	}
	cc->n = 0;
}

static int
chain_certs_load(struct chain_certs *cc, const struct der *chain, size_t n)
{
	gnutls_datum_t d;
	size_t i;

	cc->n = 0;
	for (i = 0; i < n && i < CHAIN_MAX; i++) {
		if (chain[i].len > UINT32_MAX ||
		    gnutls_x509_crt_init(&cc->crt[i]) < 0)
			goto fail;
		d.data = (unsigned char *)chain[i].data;
		d.size = (unsigned)chain[i].len;
		if (gnutls_x509_crt_import(cc->crt[i], &d,
		    GNUTLS_X509_FMT_DER) < 0 ||
		    (cc->c[i] = cert_get(chain[i].data, chain[i].len)) == NULL) {
			gnutls_x509_crt_deinit(cc->crt[i]);
			goto fail;
		}
		cc->n = i + 1;
	}
	return 0;
fail:
	chain_certs_free(cc);
	return -1;
}

/* Is cc[i] a repeat of an earlier certificate? Interning makes equal DER
 * the same pointer. */
static int
chain_is_dup(const struct chain_certs *cc, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (cc->c[j] == cc->c[i])
			return 1;
	return 0;
}

/* An issuer of cc[i] among the presented certificates other than itself,
 * or -1. */
static long
chain_find_issuer(const struct chain_certs *cc, size_t i)
{
	size_t j;

	for (j = 0; j < cc->n; j++)
		if (cc->c[j] != cc->c[i] &&
		    gnutls_x509_crt_check_issuer(cc->crt[i], cc->crt[j]))
			return (long)j;
	return -1;
}

/* Does an anchor in t issue crt? */
static int
chain_anchored(const struct trust *t, gnutls_x509_crt_t crt)
{
	gnutls_x509_crt_t iss;

	if (gnutls_x509_trust_list_get_issuer(t->tl, crt, &iss,
	    GNUTLS_TL_GET_COPY) < 0)
		return 0;
	gnutls_x509_crt_deinit(iss);
	return 1;
}

/* What is wrong with the presented list as such, trusted or not. */
static unsigned
chain_issues(const struct chain_certs *cc, const struct trust *t)
{
	size_t u[CHAIN_MAX], nu = 0, i, top, depth;
	unsigned issues = 0;
	long j;

	for (i = 0; i < cc->n; i++) {
		if (chain_is_dup(cc, i)) {
			issues |= ISSUE_DUPLICATE;
			continue;
		}
		u[nu++] = i;
		if (i > 0 && cc->c[i]->self_signed && cc->c[i]->is_ca)
			issues |= ISSUE_ROOT_INCLUDED;
	}
	for (i = 0; i + 1 < nu; i++) {
		if (!gnutls_x509_crt_check_issuer(cc->crt[u[i]],
		    cc->crt[u[i + 1]])) {
			issues |= ISSUE_MISORDERED;
			break;
		}
	}

	/* Climb from the leaf as far as the presented certificates go. A top
	 * that is a root, or that an anchor we hold signed, needs nothing more. */
	top = 0;
	for (depth = 0; depth < CHAIN_MAX_DEPTH; depth++) {
		if (cc->c[top]->self_signed ||
		    (j = chain_find_issuer(cc, top)) == -1)
			break;
		top = (size_t)j;
	}
	if (!cc->c[top]->self_signed && !chain_anchored(t, cc->crt[top]))
		issues |= ISSUE_INCOMPLETE;
	return issues;
}

/*
 * The earliest notAfter on the path a verifier trusts: from the leaf through
 * presented issuers up to the first certificate an anchor signed, anchor
 * included. The trust list is asked first at each step, as GnuTLS cuts the
 * chain at the first certificate it can anchor, so that an expired
 * cross-signed certificate presented past that point does not count.
 */
static int64_t
chain_verified_expiry(const struct chain_certs *cc, const struct trust *t)
{
	gnutls_x509_crt_t iss;
	int64_t min, na;
	size_t cur = 0, depth;
	long j;

	min = cc->c[0]->not_after;
	for (depth = 0; depth < CHAIN_MAX_DEPTH; depth++) {
		if (gnutls_x509_trust_list_get_issuer(t->tl, cc->crt[cur], &iss,
		    GNUTLS_TL_GET_COPY) >= 0) {
			na = time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(iss));
			gnutls_x509_crt_deinit(iss);
			if (na < min)
				min = na;
			break;
		}
		if ((j = chain_find_issuer(cc, cur)) == -1)
			break;
		cur = (size_t)j;
		if (cc->c[cur]->not_after < min)
			min = cc->c[cur]->not_after;
	}
	return min;
}

/* Only the leaf and copies of it were presented. */
static int
chain_leaf_alone(const struct chain_certs *cc)
{
	size_t i;

	for (i = 1; i < cc->n; i++)
		if (cc->c[i] != cc->c[0])
			return 0;
	return 1;
}

int
chain_verify(const struct der *chain, size_t n, const struct trust *t,
    const char *hostname, int64_t now, struct verdict *v)
{
	struct chain_certs cc;
	gnutls_typed_vdata_st vdata;
	unsigned status = 0, reasons = 0;
	size_t i;
	int ret;

	memset(v, 0, sizeof(*v));
	if (chain == NULL || n == 0 || t == NULL ||
	    chain_certs_load(&cc, chain, n) == -1) {
		v->reasons = REASON_OTHER;
		return -1;
	}

	memset(&vdata, 0, sizeof(vdata));
	vdata.type = GNUTLS_DT_DNS_HOSTNAME;
	vdata.data = (unsigned char *)hostname;
	/* GnuTLS sorts an unsorted chain itself (we leave
	 * GNUTLS_VERIFY_DO_NOT_ALLOW_UNSORTED_CHAIN unset), as browsers
	 * tolerate order; the order is reported as an issue instead. */
	ret = gnutls_x509_trust_list_verify_crt2(t->tl, cc.crt, (unsigned)cc.n,
	    &vdata, hostname != NULL && *hostname != '\0' ? 1 : 0, 0, &status,
	    NULL);
	if (ret < 0) {
		chain_certs_free(&cc);
		v->reasons = REASON_OTHER;
		return -1;
	}
	v->gnutls_status = status;

	for (i = 0; i < ARRAY_SIZE(chain_status_map); i++)
		if (status & chain_status_map[i].status)
			reasons |= chain_status_map[i].reason;
	if ((reasons & REASON_UNKNOWN_ISSUER) && cc.c[0]->self_signed &&
	    chain_leaf_alone(&cc))
		reasons = (reasons & ~(unsigned)REASON_UNKNOWN_ISSUER) |
		    REASON_SELF_SIGNED;
	if (now > cc.c[0]->not_after)
		reasons |= REASON_EXPIRED;
	if (now < cc.c[0]->not_before)
		reasons |= REASON_NOT_YET_VALID;
	if (status != 0 && reasons == 0)
		reasons = REASON_OTHER;

	v->verified = reasons == 0;
	v->reasons = reasons;
	v->issues = chain_issues(&cc, t);
	v->earliest_expiry = cc.c[0]->not_after;
	for (i = 1; i < cc.n; i++)
		if (cc.c[i]->not_after < v->earliest_expiry)
			v->earliest_expiry = cc.c[i]->not_after;
	if (v->verified)
		v->verified_expiry = chain_verified_expiry(&cc, t);
	chain_certs_free(&cc);
	return 0;
}
