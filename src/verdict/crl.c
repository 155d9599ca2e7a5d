/* crl.c - CRLs: a bounded parse of the TBSCertList, GnuTLS for the signature. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/asn1.h"
#include "verdict/crl.h"
#include "verdict/serials.h"
#include "verdict/x509.h"

/* Contents of the OIDs we act on (2.5.29.x). */
static const unsigned char OID_CRL_NUMBER[] = { 0x55, 0x1d, 0x14 };
static const unsigned char OID_REASON[] = { 0x55, 0x1d, 0x15 };
static const unsigned char OID_INVALIDITY[] = { 0x55, 0x1d, 0x18 };
static const unsigned char OID_DELTA[] = { 0x55, 0x1d, 0x1b };
static const unsigned char OID_IDP[] = { 0x55, 0x1d, 0x1c };
static const unsigned char OID_CERT_ISSUER[] = { 0x55, 0x1d, 0x1d };
static const unsigned char OID_AKI[] = { 0x55, 0x1d, 0x23 };

#define CLOCK_SKEW 300          /* seconds a thisUpdate may lie ahead of our clock */
#define MAX_IDP_URLS 16

/* Everything the parse found, pointing into the DER. */
struct parsed {
	struct asn1_tlv tbs, sigalg_in, sigalg, sig, issuer;
	struct crl *c;
};

static int
fail(char **err, const char *msg)
{
	*err = xstrdup(msg);
	return -1;
}

void
crl_free(struct crl *c)
{
	if (c == NULL)
		return;
	free(c->number);
	urls_free(c->idp_urls, c->nidp_urls);
	serials_free(c->revoked);
	free(c);
}

/* A BOOLEAN TRUE in DER is 0xff; anything else that claims to be one is not DER. */
static int
get_bool(const struct asn1_tlv *t, int *out)
{
	if (t->len != 1 || (t->v[0] != 0 && t->v[0] != 0xff))
		return -1;
	*out = t->v[0] != 0;
	return 0;
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
static int
get_extension(struct asn1 *exts, struct asn1_tlv *oid, int *critical, struct asn1_tlv *value)
{
	struct asn1_tlv ext, b;
	struct asn1 in;

	if (asn1_get(exts, ASN1_SEQUENCE, &ext) == -1)
		return -1;
	in = asn1_inside(&ext);
	*critical = 0;
	if (asn1_get(&in, ASN1_OID, oid) == -1)
		return -1;
	if (asn1_peek(&in, ASN1_BOOLEAN) &&
	    (asn1_get(&in, ASN1_BOOLEAN, &b) == -1 || get_bool(&b, critical) == -1 || !*critical))
		return -1;      /* DER leaves out a FALSE default */
	if (asn1_get(&in, ASN1_OCTET_STRING, value) == -1 || in.n != 0)
		return -1;
	return 0;
}

/* IssuingDistributionPoint (RFC 5280 5.2.5), IMPLICIT tags. */
static int
parse_idp(struct crl *c, const struct asn1_tlv *value, char **err)
{
	struct asn1 in = asn1_inside(value), seq;
	struct asn1_tlv t, dp, names;
	int flag;

	if (asn1_get(&in, ASN1_SEQUENCE, &t) == -1 || in.n != 0)
		return fail(err, "malformed issuingDistributionPoint");
	seq = asn1_inside(&t);
	c->idp = 1;
	if (asn1_get(&seq, ASN1_CONTEXT_C(0), &dp) == 0) {
		struct asn1 dpn = asn1_inside(&dp);

		if (asn1_get(&dpn, ASN1_CONTEXT_C(0), &names) == 0) {
			struct asn1 gn = asn1_inside(&names);
			struct asn1_tlv name;
			int rc;

			while ((rc = asn1_next(&gn, &name)) == 0) {
				if (name.tag != ASN1_CONTEXT(6) || !x509_is_http_url(name.v, name.len))
					continue;       /* other names, other schemes */
				if (c->nidp_urls == MAX_IDP_URLS)
					return fail(err, "issuingDistributionPoint names too many URLs");
				c->idp_urls = xreallocarray(c->idp_urls, c->nidp_urls + 1,
				    sizeof(*c->idp_urls));
				c->idp_urls[c->nidp_urls++] = xstrndup((const char *)name.v, name.len);
			}
			if (rc == -1)
				return fail(err, "malformed issuingDistributionPoint");
		} else if (asn1_get(&dpn, ASN1_CONTEXT_C(1), &names) == -1)
			return fail(err, "malformed issuingDistributionPoint");
		if (dpn.n != 0)
			return fail(err, "malformed issuingDistributionPoint");
	}
	if (asn1_get(&seq, ASN1_CONTEXT(1), &t) == 0 && (get_bool(&t, &flag) == -1 ||
	    !(c->only_user = flag)))
		return fail(err, "malformed issuingDistributionPoint");
	if (asn1_get(&seq, ASN1_CONTEXT(2), &t) == 0 && (get_bool(&t, &flag) == -1 ||
	    !(c->only_ca = flag)))
		return fail(err, "malformed issuingDistributionPoint");
	if (asn1_get(&seq, ASN1_CONTEXT(3), &t) == 0)
		c->only_some_reasons = 1;
	if (asn1_get(&seq, ASN1_CONTEXT(4), &t) == 0 && (get_bool(&t, &flag) == -1 ||
	    !(c->indirect = flag)))
		return fail(err, "malformed issuingDistributionPoint");
	if (asn1_get(&seq, ASN1_CONTEXT(5), &t) == 0 && (get_bool(&t, &flag) == -1 ||
	    !(c->only_attribute = flag)))
		return fail(err, "malformed issuingDistributionPoint");
	if (seq.n != 0)
		return fail(err, "malformed issuingDistributionPoint");
	return 0;
}

static int
parse_crl_extensions(struct crl *c, const struct asn1_tlv *wrapped, char **err)
{
	struct asn1 in = asn1_inside(wrapped), exts;
	struct asn1_tlv seq, oid, value;
	int critical;

	if (asn1_get(&in, ASN1_SEQUENCE, &seq) == -1 || in.n != 0)
		return fail(err, "malformed crlExtensions");
	exts = asn1_inside(&seq);
	while (exts.n > 0) {
		if (get_extension(&exts, &oid, &critical, &value) == -1)
			return fail(err, "malformed crlExtensions");
		if (asn1_oid_is(&oid, OID_DELTA, sizeof(OID_DELTA)))
			return fail(err, "delta CRLs are not supported");
		if (asn1_oid_is(&oid, OID_IDP, sizeof(OID_IDP))) {
			if (c->idp)
				return fail(err, "issuingDistributionPoint twice");
			if (parse_idp(c, &value, err) == -1)
				return -1;
		} else if (asn1_oid_is(&oid, OID_CRL_NUMBER, sizeof(OID_CRL_NUMBER))) {
			struct asn1 v = asn1_inside(&value);
			struct asn1_tlv n;

			if (asn1_get(&v, ASN1_INTEGER, &n) == -1 || v.n != 0 || n.len == 0 ||
			    n.len > 21 || c->number != NULL)
				return fail(err, "malformed cRLNumber");
			c->number = xmalloc(2 * n.len + 1);
			hex_encode(n.v, n.len, c->number);
		} else if (asn1_oid_is(&oid, OID_AKI, sizeof(OID_AKI))) {
			/* the signature check says more than a key identifier */
		} else if (critical) {
			return fail(err, "unknown critical CRL extension");
		}
	}
	return 0;
}

/* One revokedCertificates entry. 1 when it is to be ignored (removeFromCRL). */
static int
parse_entry(struct serials_builder *b, const struct asn1_tlv *entry, char **err)
{
	struct asn1 in = asn1_inside(entry), exts;
	struct asn1_tlv serial, when, seq, oid, value;
	int64_t t;
	long reason = REV_REASON_UNSPECIFIED;
	int critical, have_reason = 0;

	if (asn1_get(&in, ASN1_INTEGER, &serial) == -1 || serial.len == 0 ||
	    serial.len > SERIALS_MAX_LEN)
		return fail(err, "malformed revoked certificate serial");
	if (asn1_next(&in, &when) != 0 || asn1_time(&when, &t) == -1)
		return fail(err, "malformed revocationDate");
	if (asn1_get(&in, ASN1_SEQUENCE, &seq) == 0) {
		exts = asn1_inside(&seq);
		while (exts.n > 0) {
			if (get_extension(&exts, &oid, &critical, &value) == -1)
				return fail(err, "malformed crlEntryExtensions");
			if (asn1_oid_is(&oid, OID_REASON, sizeof(OID_REASON))) {
				struct asn1 v = asn1_inside(&value);
				struct asn1_tlv e;

				if (have_reason || asn1_get(&v, ASN1_ENUMERATED, &e) == -1 || v.n != 0 ||
				    asn1_small_int(&e, &reason) == -1 || reason > REV_REASON_MAX ||
				    reason == 7)
					return fail(err, "malformed reasonCode");
				have_reason = 1;
			} else if (asn1_oid_is(&oid, OID_CERT_ISSUER, sizeof(OID_CERT_ISSUER))) {
				return fail(err, "indirect CRLs (certificateIssuer) are not supported");
			} else if (asn1_oid_is(&oid, OID_INVALIDITY, sizeof(OID_INVALIDITY))) {
				/* when the key may have been compromised: not ours to judge */
			} else if (critical) {
				return fail(err, "unknown critical CRL entry extension");
			}
		}
	}
	if (in.n != 0)
		return fail(err, "malformed revoked certificate entry");
	if (reason == 8)
		return 1;       /* removeFromCRL: a delta CRL's "no longer on hold" */
	if (serials_add(b, serial.v, serial.len, t, (int)reason) == -1)
		return fail(err, "malformed revoked certificate serial");
	return 0;
}

/* Up to and including nextUpdate: the outer structure, the version, the
 * issuer and the times. *tbs is left at what follows. */
static int
parse_head(const unsigned char *der, size_t len, struct parsed *p, struct asn1 *tbs, char **err)
{
	struct asn1 top = { der, len }, in;
	struct asn1_tlv list, t;
	struct crl *c = p->c;

	if (asn1_get(&top, ASN1_SEQUENCE, &list) == -1 || top.n != 0)
		return fail(err, "not a DER CRL");
	in = asn1_inside(&list);
	if (asn1_get(&in, ASN1_SEQUENCE, &p->tbs) == -1 ||
	    asn1_get(&in, ASN1_SEQUENCE, &p->sigalg) == -1 ||
	    asn1_get(&in, ASN1_BIT_STRING, &p->sig) == -1 || in.n != 0 ||
	    p->sig.len < 2 || p->sig.v[0] != 0)
		return fail(err, "not a DER CRL");
	*tbs = asn1_inside(&p->tbs);
	if (asn1_peek(tbs, ASN1_INTEGER)) {
		long v;

		if (asn1_get(tbs, ASN1_INTEGER, &t) == -1 || asn1_small_int(&t, &v) == -1 || v != 1)
			return fail(err, "unsupported CRL version");
	}
	if (asn1_get(tbs, ASN1_SEQUENCE, &p->sigalg_in) == -1 ||
	    asn1_get(tbs, ASN1_SEQUENCE, &p->issuer) == -1)
		return fail(err, "malformed TBSCertList");
	if (p->sigalg_in.rawlen != p->sigalg.rawlen ||
	    memcmp(p->sigalg_in.raw, p->sigalg.raw, p->sigalg.rawlen) != 0)
		return fail(err, "signature algorithms inside and outside differ");
	if (asn1_next(tbs, &t) != 0 || asn1_time(&t, &c->this_update) == -1)
		return fail(err, "malformed thisUpdate");
	if ((asn1_peek(tbs, ASN1_UTC_TIME) || asn1_peek(tbs, ASN1_GENERALIZED)) &&
	    (asn1_next(tbs, &t) != 0 || asn1_time(&t, &c->next_update) == -1))
		return fail(err, "malformed nextUpdate");
	return 0;
}

static int
parse(const unsigned char *der, size_t len, struct parsed *p, char **err)
{
	struct asn1 tbs;
	struct asn1_tlv t, entries;
	struct serials_builder *b;
	struct crl *c = p->c;

	if (parse_head(der, len, p, &tbs, err) == -1)
		return -1;
	b = serials_builder_new();
	if (asn1_get(&tbs, ASN1_SEQUENCE, &entries) == 0) {
		struct asn1 e = asn1_inside(&entries);
		struct asn1_tlv entry;
		int rc;

		while ((rc = asn1_next(&e, &entry)) == 0) {
			if (entry.tag != ASN1_SEQUENCE || parse_entry(b, &entry, err) == -1) {
				if (*err == NULL)
					*err = xstrdup("malformed revoked certificate entry");
				serials_builder_free(b);
				return -1;
			}
		}
		if (rc == -1) {
			serials_builder_free(b);
			return fail(err, "malformed revokedCertificates");
		}
	}
	c->revoked = serials_build(b);
	if (asn1_get(&tbs, ASN1_CONTEXT_C(0), &t) == 0 && parse_crl_extensions(c, &t, err) == -1)
		return -1;
	if (tbs.n != 0)
		return fail(err, "malformed TBSCertList");
	return 0;
}

/* The issuer's name, CA status, key usage and signature over the TBS. */
static int
verify(const struct parsed *p, const unsigned char *issuer, size_t issuer_len, char **err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t dn;
	gnutls_datum_t tbs = { (unsigned char *)p->tbs.raw, (unsigned)p->tbs.rawlen };
	gnutls_datum_t sig = { (unsigned char *)p->sig.v + 1, (unsigned)(p->sig.len - 1) };
	struct asn1 alg = asn1_inside(&p->sigalg);
	struct asn1_tlv oid;
	unsigned usage, critical;
	char dotted[128];
	int algo, rc = -1, ret;

	if (issuer_len > UINT32_MAX || p->tbs.rawlen > UINT32_MAX) {
		*err = xstrdup("too large");
		return -1;
	}
	if ((crt = x509_import(issuer, issuer_len)) == NULL) {
		*err = xstrdup("the issuer certificate does not parse");
		goto out;
	}
	if (gnutls_x509_crt_get_raw_dn(crt, &dn) < 0) {
		*err = xstrdup("the issuer certificate has no subject");
		goto out;
	}
	ret = dn.size == p->issuer.rawlen && memcmp(dn.data, p->issuer.raw, dn.size) == 0;
	gnutls_free(dn.data);
	if (!ret) {
		*err = xstrdup("the CRL's issuer is not the certificate's issuer");
		goto out;
	}
	if (gnutls_x509_crt_get_ca_status(crt, &critical) <= 0) {
		*err = xstrdup("the CRL's issuer is not a CA");
		goto out;
	}
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0 &&
	    !(usage & GNUTLS_KEY_CRL_SIGN)) {
		*err = xstrdup("the CRL's issuer may not sign CRLs (keyUsage without cRLSign)");
		goto out;
	}
	if (asn1_get(&alg, ASN1_OID, &oid) == -1 ||
	    asn1_oid_string(&oid, dotted, sizeof(dotted)) == -1) {
		*err = xstrdup("malformed signature algorithm");
		goto out;
	}
	if ((algo = gnutls_oid_to_sign(dotted)) == GNUTLS_SIGN_UNKNOWN ||
	    strcmp(dotted, "1.2.840.113549.1.1.10") == 0) {
		*err = xasprintf("unsupported signature algorithm %s", dotted);
		goto out;
	}
	if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_x509(pub, crt, 0) < 0) {
		*err = xstrdup("the issuer's public key does not load");
		goto out;
	}
	if ((ret = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)algo, 0, &tbs, &sig)) < 0) {
		*err = ret == GNUTLS_E_INSUFFICIENT_SECURITY || ret == GNUTLS_E_CONSTRAINT_ERROR ?
		    xasprintf("insecure signature algorithm (%s)", gnutls_sign_get_name(algo)) :
		    xstrdup("bad signature");
		goto out;
	}
	rc = 0;
out:
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* The DER of a CRL given as DER or PEM: 0 with *data, *len pointing at it
 * (into *decoded, to be freed with gnutls_free, for PEM), or -1. */
static int
crl_der(const unsigned char **data, size_t *len, gnutls_datum_t *decoded, char **err)
{
	static const char pem[] = "-----BEGIN X509 CRL-----";

	decoded->data = NULL;
	decoded->size = 0;
	if (*len >= sizeof(pem) - 1 &&
	    memmem(*data, *len < 4096 ? *len : 4096, pem, sizeof(pem) - 1)) {
		gnutls_datum_t in = { (unsigned char *)*data, (unsigned)*len };

		if (*len > UINT32_MAX || gnutls_pem_base64_decode2("X509 CRL", &in, decoded) < 0)
			return fail(err, "malformed PEM CRL");
		*data = decoded->data;
		*len = decoded->size;
	}
	return 0;
}

int
crl_times(const unsigned char *data, size_t len, int64_t *this_update, int64_t *next_update)
{
	gnutls_datum_t decoded;
	struct parsed p;
	struct crl c;
	struct asn1 rest;
	char *err = NULL;
	int rc;

	*this_update = *next_update = 0;
	if (crl_der(&data, &len, &decoded, &err) == -1) {
		free(err);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	p.c = &c;
	rc = parse_head(data, len, &p, &rest, &err);
	free(err);
	gnutls_free(decoded.data);
	if (rc == 0) {
		*this_update = c.this_update;
		*next_update = c.next_update;
	}
	return rc;
}

int
crl_load(const unsigned char *data, size_t len, const unsigned char *issuer, size_t issuer_len,
    struct crl **out, char **err)
{
	gnutls_datum_t decoded;
	struct parsed p;
	int rc;

	*out = NULL;
	*err = NULL;
	if (crl_der(&data, &len, &decoded, err) == -1)
		return -1;
	memset(&p, 0, sizeof(p));
	p.c = xcalloc(1, sizeof(*p.c));
	rc = parse(data, len, &p, err);
	if (rc == 0 && issuer != NULL) {
		rc = verify(&p, issuer, issuer_len, err);
		p.c->verified = rc == 0;
	}
	gnutls_free(decoded.data);
	if (rc == -1) {
		crl_free(p.c);
		return -1;
	}
	*out = p.c;
	return 0;
}

void
crl_check(const struct crl *c, const unsigned char *serial, size_t serial_len, int is_ca,
    const char *url, int64_t now, struct rev_answer *a)
{
	int64_t when;
	int reason, listed;

	memset(a, 0, sizeof(*a));
	if (!c->verified) {
		rev_error(a, "CRL signature not verified");
		return;
	}
	a->this_update = c->this_update;
	a->next_update = c->next_update;
	if (c->this_update > now + CLOCK_SKEW) {
		rev_error(a, "CRL not yet valid (thisUpdate in the future)");
		goto times;
	}
	if (c->next_update == 0) {
		rev_error(a, "CRL without nextUpdate");
		goto times;
	}
	if (now >= c->next_update) {
		rev_error(a, "stale CRL (nextUpdate passed)");
		goto times;
	}
	if (c->indirect || c->only_attribute) {
		rev_error(a, "CRL scope not supported (indirect or attribute certificates)");
		goto times;
	}
	if ((c->only_user && is_ca) || (c->only_ca && !is_ca)) {
		rev_error(a, "CRL covers only %s certificates", c->only_ca ? "CA" : "end-entity");
		goto times;
	}
	if (url != NULL && c->nidp_urls > 0) {
		size_t i;

		for (i = 0; i < c->nidp_urls; i++)
			if (strcmp(c->idp_urls[i], url) == 0)
				break;
		if (i == c->nidp_urls) {
			rev_error(a, "CRL scope (issuingDistributionPoint) is another distribution point");
			goto times;
		}
	}
	listed = serials_find(c->revoked, serial, serial_len, &when, &reason);
	if (listed) {
		a->status = REV_REVOKED;
		a->revoked_at = when;
		a->reason = reason;
	} else if (c->only_some_reasons) {
		rev_error(a, "CRL partitioned by reason: absence proves nothing");
		goto times;
	} else
		a->status = REV_GOOD;
	return;
times:
	a->this_update = c->this_update;
	a->next_update = c->next_update;
}

int
crl_urls(const unsigned char *cert, size_t len, char ***urls)
{
	gnutls_x509_crt_t crt = x509_import(cert, len);
	size_t n = 0;

	*urls = NULL;
	if (crt == NULL)
		return -1;
	for (unsigned seq = 0; n < CRL_MAX_URLS; seq++) {
		char buf[2049];
		size_t size = sizeof(buf);
		unsigned flags, critical;
		int type = gnutls_x509_crt_get_crl_dist_points(crt, seq, buf, &size, &flags, &critical);

		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;       /* longer than any URL we would fetch */
		if (type < 0)
			break;
		if (type != GNUTLS_SAN_URI || !x509_is_http_url((unsigned char *)buf, size))
			continue;
		*urls = xreallocarray(*urls, n + 1, sizeof(**urls));
		(*urls)[n++] = xstrndup(buf, size);
	}
	gnutls_x509_crt_deinit(crt);
	return (int)n;
}
