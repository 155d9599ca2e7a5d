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
#include "verdict/finding.h"
#include "verdict/webpki.h"
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

/*
 * The path a verifier takes from the leaf: presented certificates, each
 * issued by the next, up to the first one that an anchor in t issued (or
 * that t holds itself), then that anchor. The trust list is asked first at
 * each step, as GnuTLS cuts the chain at the first certificate it can
 * anchor: a cross-signed copy of a trusted root presented past that point
 * is not on the path.
 */
struct chain_path {
	size_t idx[CHAIN_MAX_DEPTH];      /* presented indices, leaf first */
	size_t n;
	int anchored;                     /* the path reached a trust anchor */
	gnutls_x509_crt_t anchor;         /* that anchor, a copy from t; NULL
	                                   * when the last presented one is the
	                                   * anchor itself */
	long anchor_depth;                /* the anchor's presented index, or -1 */
};

static void
chain_path_build(const struct chain_certs *cc, const struct trust *t,
    struct chain_path *p)
{
	gnutls_x509_crt_t iss;
	size_t cur = 0, i;
	long j;

	memset(p, 0, sizeof(*p));
	p->anchor_depth = -1;
	while (p->n < CHAIN_MAX_DEPTH) {
		p->idx[p->n++] = cur;
		if (gnutls_x509_trust_list_get_issuer(t->tl, cc->crt[cur], &iss,
		    GNUTLS_TL_GET_COPY) >= 0) {
			p->anchored = 1;
			if (gnutls_x509_crt_equals(iss, cc->crt[cur])) {
				gnutls_x509_crt_deinit(iss);
				p->anchor_depth = (long)cur;
				return;
			}
			p->anchor = iss;
			for (i = 0; i < cc->n; i++)
				if (gnutls_x509_crt_equals(iss, cc->crt[i]))
					p->anchor_depth = (long)i;
			return;
		}
		if ((j = chain_find_issuer(cc, cur)) == -1)
			return;
		for (i = 0; i < p->n; i++)
			if (p->idx[i] == (size_t)j)
				return;         /* a loop of cross-signatures */
		cur = (size_t)j;
	}
}

static void
chain_path_free(struct chain_path *p)
{
	if (p->anchor != NULL)
		gnutls_x509_crt_deinit(p->anchor);
	p->anchor = NULL;
}

/* What is wrong with the presented list as such, trusted or not. */
static unsigned
chain_issues(const struct chain_certs *cc, const struct chain_path *p)
{
	size_t u[CHAIN_MAX], nu = 0, i;
	unsigned issues = 0;

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
	/* Climbing the presented issuers from the leaf ends at a trust
	 * anchor, at a root, or at a gap. */
	if (!p->anchored && !cc->c[p->idx[p->n - 1]]->self_signed)
		issues |= ISSUE_INCOMPLETE;
	return issues;
}

/* The earliest notAfter on the path, anchor included. */
static int64_t
chain_verified_expiry(const struct chain_certs *cc, const struct chain_path *p)
{
	int64_t min = cc->c[0]->not_after, na;

	for (size_t i = 1; i < p->n; i++)
		if (cc->c[p->idx[i]]->not_after < min)
			min = cc->c[p->idx[i]]->not_after;
	if (p->anchor != NULL) {
		na = time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(p->anchor));
		if (na < min)
			min = na;
	}
	return min;
}

/* The Web PKI findings on the path (webpki.c). */
static void
chain_findings(const struct chain_certs *cc, const struct chain_path *p,
    struct findings *out)
{
	struct webpki_cert path[CHAIN_MAX_DEPTH + 1];
	struct webpki_input in;
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		path[n].crt = cc->crt[p->idx[i]];
		path[n++].depth = (int)p->idx[i];
	}
	if (p->anchor != NULL) {
		path[n].crt = p->anchor;
		/* An anchor not presented is labelled by its place on the path. */
		path[n].depth = p->anchor_depth >= 0 ? (int)p->anchor_depth : (int)n;
		n++;
	}
	in.path = path;
	in.npath = n;
	in.anchored = p->anchored;
	webpki_evaluate(&in, out);
}

int
chain_webpki(const struct der *chain, size_t n, const struct trust *t,
    struct findings *out)
{
	struct chain_certs cc;
	struct chain_path p;

	if (chain == NULL || n == 0 || t == NULL ||
	    chain_certs_load(&cc, chain, n) == -1)
		return -1;
	chain_path_build(&cc, t, &p);
	chain_findings(&cc, &p, out);
	chain_path_free(&p);
	chain_certs_free(&cc);
	return 0;
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
	struct chain_path path;
	gnutls_typed_vdata_st vdata[2];
	unsigned status = 0, reasons = 0, nvdata = 0;
	size_t i;
	int ret;

	memset(v, 0, sizeof(*v));
	if (chain == NULL || n == 0 || t == NULL ||
	    chain_certs_load(&cc, chain, n) == -1) {
		v->reasons = REASON_OTHER;
		return -1;
	}

	/* A TLS server's certificate: the purpose is always checked, the
	 * name when there is one. */
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
	ret = gnutls_x509_trust_list_verify_crt2(t->tl, cc.crt, (unsigned)cc.n,
	    vdata, nvdata, 0, &status, NULL);
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
	chain_path_build(&cc, t, &path);
	if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE) {
		struct findings f;
		unsigned why;

		findings_init(&f);
		chain_findings(&cc, &path, &f);
		why = findings_reasons(&f, POLICY_PRIVATE) & CHAIN_CONSTRAINT_REASONS;
		reasons |= why ? why : REASON_OTHER;
		findings_fini(&f);
	}
	if (status != 0 && reasons == 0)
		reasons = REASON_OTHER;

	v->verified = reasons == 0;
	v->reasons = reasons;
	v->issues = chain_issues(&cc, &path);
	v->earliest_expiry = cc.c[0]->not_after;
	for (i = 1; i < cc.n; i++)
		if (cc.c[i]->not_after < v->earliest_expiry)
			v->earliest_expiry = cc.c[i]->not_after;
	if (v->verified)
		v->verified_expiry = chain_verified_expiry(&cc, &path);
	chain_path_free(&path);
	chain_certs_free(&cc);
	return 0;
}
