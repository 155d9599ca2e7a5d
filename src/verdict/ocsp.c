/* ocsp.c - OCSP requests and responses, and must-staple. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/crl.h"
#include "verdict/ocsp.h"
#include "verdict/x509.h"

#define CLOCK_SKEW 300          /* seconds a thisUpdate may lie ahead of our clock */
#define MAX_SINGLES 64          /* SingleResponses looked at in one response */
#define TLS_FEATURE_STATUS_REQUEST 5

int
ocsp_request(const unsigned char *cert, size_t cert_len, const unsigned char *issuer,
    size_t issuer_len, unsigned char **der, size_t *len, char **err)
{
	gnutls_x509_crt_t c = x509_import(cert, cert_len), i = x509_import(issuer, issuer_len);
	gnutls_ocsp_req_t req = NULL;
	gnutls_datum_t out = { NULL, 0 };
	int rc = -1;

	*der = NULL;
	*err = NULL;
	if (c == NULL || i == NULL) {
		*err = xstrdup(c == NULL ? "the certificate does not parse" :
		    "the issuer certificate does not parse");
		goto done;
	}
	if (gnutls_ocsp_req_init(&req) < 0 ||
	    gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, i, c) < 0 ||
	    gnutls_ocsp_req_export(req, &out) < 0) {
		*err = xstrdup("cannot build the OCSP request");
		goto done;
	}
	*der = xmalloc(out.size);
	memcpy(*der, out.data, out.size);
	*len = out.size;
	rc = 0;
done:
	gnutls_free(out.data);
	gnutls_ocsp_req_deinit(req);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_crt_deinit(i);
	return rc;
}

static int
datum_eq(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
	return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

/* Whether the CertID (digest, name hash, key hash, serial) is cert's:
 * computed by GnuTLS for the same digest and compared whole. */
static int
cert_id_matches(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_digest_algorithm_t dig,
    const gnutls_datum_t *name, const gnutls_datum_t *key, const gnutls_datum_t *serial)
{
	gnutls_ocsp_req_t req;
	gnutls_digest_algorithm_t d2;
	gnutls_datum_t n2 = { NULL, 0 }, k2 = { NULL, 0 }, s2 = { NULL, 0 };
	int ok = 0;

	if (gnutls_ocsp_req_init(&req) < 0)
		return 0;
	if (gnutls_ocsp_req_add_cert(req, dig, issuer, cert) == 0 &&
	    gnutls_ocsp_req_get_cert_id(req, 0, &d2, &n2, &k2, &s2) == 0)
		ok = d2 == dig && datum_eq(name, &n2) && datum_eq(key, &k2) && datum_eq(serial, &s2);
	gnutls_free(n2.data);
	gnutls_free(k2.data);
	gnutls_free(s2.data);
	gnutls_ocsp_req_deinit(req);
	return ok;
}

static const char *
verify_text(unsigned v)
{
	if (v & GNUTLS_OCSP_VERIFY_SIGNATURE_FAILURE)
		return "bad signature";
	if (v & GNUTLS_OCSP_VERIFY_SIGNER_NOT_FOUND)
		return "signed by neither the issuer nor a responder it delegated to";
	if (v & GNUTLS_OCSP_VERIFY_SIGNER_KEYUSAGE_ERROR)
		return "the responder certificate lacks OCSPSigning";
	if (v & GNUTLS_OCSP_VERIFY_UNTRUSTED_SIGNER)
		return "the responder certificate is not the issuer's";
	if (v & GNUTLS_OCSP_VERIFY_INSECURE_ALGORITHM)
		return "insecure signature algorithm";
	if (v & (GNUTLS_OCSP_VERIFY_CERT_NOT_ACTIVATED | GNUTLS_OCSP_VERIFY_CERT_EXPIRED))
		return "the responder certificate is not valid now";
	return "signature not verified";
}

static const char *
status_text(int s)
{
	switch (s) {
	case GNUTLS_OCSP_RESP_MALFORMEDREQUEST: return "malformedRequest";
	case GNUTLS_OCSP_RESP_INTERNALERROR: return "internalError";
	case GNUTLS_OCSP_RESP_TRYLATER: return "tryLater";
	case GNUTLS_OCSP_RESP_SIGREQUIRED: return "sigRequired";
	case GNUTLS_OCSP_RESP_UNAUTHORIZED: return "unauthorized";
	default: return "an unknown status";
	}
}

void
ocsp_check(const unsigned char *resp, size_t resp_len, const unsigned char *cert,
    size_t cert_len, const unsigned char *issuer, size_t issuer_len, int64_t now,
    struct rev_answer *a)
{
	gnutls_x509_crt_t c = x509_import(cert, cert_len), i = x509_import(issuer, issuer_len);
	gnutls_ocsp_resp_t r = NULL;
	gnutls_datum_t d = { (unsigned char *)resp, (unsigned)resp_len };
	unsigned verify = 0, idx;
	int rc, found = 0;

	memset(a, 0, sizeof(*a));
	if (c == NULL || i == NULL) {
		rev_error(a, "%s does not parse", c == NULL ? "the certificate" : "the issuer");
		goto done;
	}
	if (resp == NULL || resp_len == 0 || resp_len > OCSP_MAX_RESPONSE) {
		rev_error(a, "empty or oversized OCSP response");
		goto done;
	}
	if (gnutls_ocsp_resp_init(&r) < 0 || gnutls_ocsp_resp_import(r, &d) < 0) {
		rev_error(a, "malformed OCSP response");
		goto done;
	}
	if ((rc = gnutls_ocsp_resp_get_status(r)) != GNUTLS_OCSP_RESP_SUCCESSFUL) {
		if (rc < 0)
			rev_error(a, "malformed OCSP response");
		else
			rev_error(a, "the responder answered %s", status_text(rc));
		goto done;
	}
	if (gnutls_ocsp_resp_verify_direct(r, i, &verify, 0) < 0) {
		rev_error(a, "malformed OCSP response (signature)");
		goto done;
	}
	if (verify != 0) {
		rev_error(a, "OCSP response: %s", verify_text(verify));
		goto done;
	}
	for (idx = 0; idx < MAX_SINGLES && !found; idx++) {
		gnutls_digest_algorithm_t dig;
		gnutls_datum_t name = { NULL, 0 }, key = { NULL, 0 }, serial = { NULL, 0 };
		unsigned status, reason;
		time_t tu, nu, rt;

		rc = gnutls_ocsp_resp_get_single(r, idx, &dig, &name, &key, &serial, &status,
		    &tu, &nu, &rt, &reason);
		if (rc < 0)
			break;
		if (cert_id_matches(c, i, dig, &name, &key, &serial)) {
			found = 1;
			a->this_update = time_epoch_or_zero((int64_t)tu);
			a->next_update = nu == (time_t)-1 ? 0 : time_epoch_or_zero((int64_t)nu);
			if (a->this_update == 0) {
				rev_error(a, "OCSP response without a valid thisUpdate");
			} else if (a->this_update > now + CLOCK_SKEW) {
				rev_error(a, "OCSP response not yet valid (thisUpdate in the future)");
			} else if (a->next_update != 0 ? now >= a->next_update :
			    now >= a->this_update + OCSP_NO_NEXT_UPDATE_VALID) {
				int64_t t = a->this_update, n = a->next_update;
				rev_error(a, "expired OCSP response (nextUpdate passed)");
				a->this_update = t;
				a->next_update = n;
			} else if (status == GNUTLS_OCSP_CERT_GOOD) {
				a->status = REV_GOOD;
			} else if (status == GNUTLS_OCSP_CERT_REVOKED) {
				a->status = REV_REVOKED;
				a->revoked_at = time_epoch_or_zero((int64_t)rt);
				a->reason = reason <= REV_REASON_MAX ? (int)reason : REV_REASON_UNSPECIFIED;
			} else {
				a->status = REV_UNKNOWN;
			}
		}
		gnutls_free(name.data);
		gnutls_free(key.data);
		gnutls_free(serial.data);
	}
	if (!found)
		rev_error(a, "OCSP response is for another certificate");
done:
	gnutls_ocsp_resp_deinit(r);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_crt_deinit(i);
}

int
ocsp_times(const unsigned char *resp, size_t len, int64_t *this_update, int64_t *next_update)
{
	gnutls_ocsp_resp_t r = NULL;
	gnutls_datum_t d = { (unsigned char *)resp, (unsigned)len };
	time_t tu, nu, rt;
	unsigned status, reason;
	int rc = -1;

	*this_update = *next_update = 0;
	if (resp == NULL || len == 0 || len > OCSP_MAX_RESPONSE)
		return -1;
	if (gnutls_ocsp_resp_init(&r) < 0)
		return -1;
	if (gnutls_ocsp_resp_import(r, &d) == 0 &&
	    gnutls_ocsp_resp_get_status(r) == GNUTLS_OCSP_RESP_SUCCESSFUL &&
	    gnutls_ocsp_resp_get_single(r, 0, NULL, NULL, NULL, NULL, &status, &tu, &nu, &rt,
	    &reason) == 0 && (*this_update = time_epoch_or_zero((int64_t)tu)) != 0) {
		*next_update = nu == (time_t)-1 ? 0 : time_epoch_or_zero((int64_t)nu);
		rc = 0;
	}
	gnutls_ocsp_resp_deinit(r);
	return rc;
}

int
ocsp_urls(const unsigned char *cert, size_t len, char ***urls)
{
	return x509_aia_urls(cert, len, GNUTLS_IA_OCSP_URI, OCSP_MAX_URLS, urls);
}

int
ocsp_must_staple(const unsigned char *cert, size_t len)
{
	gnutls_x509_crt_t c = x509_import(cert, len);
	gnutls_x509_tlsfeatures_t f = NULL;
	unsigned critical, feature;
	int must = 0;

	if (c == NULL)
		return -1;
	if (gnutls_x509_tlsfeatures_init(&f) == 0 &&
	    gnutls_x509_crt_get_tlsfeatures(c, f, 0, &critical) == 0)
		for (unsigned idx = 0; idx < 64; idx++) {
			if (gnutls_x509_tlsfeatures_get(f, idx, &feature) < 0)
				break;
			if (feature == TLS_FEATURE_STATUS_REQUEST)
				must = 1;
		}
	if (f)
		gnutls_x509_tlsfeatures_deinit(f);
	gnutls_x509_crt_deinit(c);
	return must;
}
