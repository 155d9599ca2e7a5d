/*
 * sct.c - SignedCertificateTimestampList (RFC 6962 3.3), parsed by us.
 *
 * GnuTLS 3.7.9 has gnutls_x509_ext_ct_import_scts, but it refuses a whole
 * list for one SCT with CtExtensions (opaque in 3.2, so allowed) or one
 * that does not parse, where Chrome counts the others, and it cannot
 * reach an OCSP response's singleExtensions at all; the list
 * is a small TLS structure, so one bounded parser here serves the
 * certificate and the staple alike. tests/test_sct.c holds it against
 * GnuTLS's on every list both accept.
 *
 * The OCSP side walks the DER of RFC 6960 4.2.1 (with asn1.c's bounded
 * reader) only as far as the extension: ocsp.c verifies responses; here
 * nothing is trusted, only counted.
 */
#include "config.h"

#include <string.h>

#include "verdict/asn1.h"
#include "verdict/sct.h"

/* ---- the TLS encoding ---- */

struct rd {
	const unsigned char *p;
	size_t n;
};

static int
rd_u8(struct rd *r, unsigned *v)
{
	if (r->n < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->n--;
	return 0;
}

static int
rd_u16(struct rd *r, size_t *v)
{
	if (r->n < 2)
		return -1;
	*v = (size_t)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->n -= 2;
	return 0;
}

/* The next len bytes as a reader of their own. */
static int
rd_sub(struct rd *r, size_t len, struct rd *sub)
{
	if (len > r->n)
		return -1;
	sub->p = r->p;
	sub->n = len;
	r->p += len;
	r->n -= len;
	return 0;
}

/* opaque x<0..2^16-1>: its bytes. */
static int
rd_vec16(struct rd *r, struct rd *sub)
{
	size_t len;

	return rd_u16(r, &len) == 0 ? rd_sub(r, len, sub) : -1;
}

/*
 * One v1 SignedCertificateTimestamp (RFC 6962 3.2) filling s exactly:
 * version, LogID[32], uint64 timestamp, CtExtensions<0..2^16-1>, and a
 * digitally-signed struct (hash, signature, opaque<0..2^16-1>).
 */
static int
sct_v1(struct rd s, struct sct *out)
{
	struct rd ext, sig;
	unsigned v, h, a;

	if (rd_u8(&s, &v) == -1 || v != 0 || s.n < 32 + 8)
		return -1;
	memcpy(out->log_id, s.p, 32);
	out->timestamp_ms = 0;
	for (size_t i = 0; i < 8; i++)
		out->timestamp_ms = out->timestamp_ms << 8 | s.p[32 + i];
	s.p += 40;
	s.n -= 40;
	if (rd_vec16(&s, &ext) == -1 || rd_u8(&s, &h) == -1 || rd_u8(&s, &a) == -1 ||
	    rd_vec16(&s, &sig) == -1 || s.n != 0)
		return -1;
	out->hash_alg = (uint8_t)h;
	out->sig_alg = (uint8_t)a;
	return 0;
}

int
sct_list_parse(const unsigned char *p, size_t len, struct sct_list *out)
{
	struct rd r = { p, len }, list, one;

	memset(out, 0, sizeof(*out));
	/* SerializedSCT sct_list<1..2^16-1>, and nothing after it */
	if (p == NULL || rd_vec16(&r, &list) == -1 || r.n != 0 || list.n == 0)
		return -1;
	while (list.n > 0) {
		struct sct s;

		/* opaque SerializedSCT<1..2^16-1> */
		if (rd_vec16(&list, &one) == -1 || one.n == 0)
			goto bad;
		if (one.p[0] != 0) {
			out->unknown++;
			continue;
		}
		memset(&s, 0, sizeof(s));     /* padding too: results compare whole */
		if (sct_v1(one, &s) == -1) {
			out->invalid++;
			continue;
		}
		if (out->n < SCT_KEEP)
			out->v[out->n] = s;
		out->n++;
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

/* ---- DER (verdict/asn1.h), as far as the extension ---- */

int
sct_list_from_ext(const unsigned char *p, size_t len, struct sct_list *out)
{
	struct asn1 c = { p, len };
	struct asn1_tlv list;

	memset(out, 0, sizeof(*out));
	if (p == NULL || asn1_get(&c, ASN1_OCTET_STRING, &list) == -1 || c.n != 0)
		return -1;
	return sct_list_parse(list.v, list.len, out);
}

/* 1.3.6.1.5.5.7.48.1.1, id-pkix-ocsp-basic */
static const unsigned char oid_ocsp_basic[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
/* 1.3.6.1.4.1.11129.2.4.5 (SCT_OID_OCSP) */
static const unsigned char oid_ocsp_scts[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x05 };

/* The SCT list among Extensions (a SEQUENCE OF Extension, inside t): 1,
 * 0 or -1 as sct_list_from_ocsp says. */
static int
ocsp_extensions(const struct asn1_tlv *t, struct sct_list *out)
{
	struct asn1 c = asn1_inside(t), seq;
	struct asn1_tlv exts;

	if (asn1_get(&c, ASN1_SEQUENCE, &exts) == -1 || c.n != 0)
		return -1;
	seq = asn1_inside(&exts);
	while (seq.n > 0) {
		struct asn1_tlv ext, oid, val;
		struct asn1 e;

		if (asn1_get(&seq, ASN1_SEQUENCE, &ext) == -1)
			return -1;
		e = asn1_inside(&ext);
		if (asn1_get(&e, ASN1_OID, &oid) == -1 ||
		    (asn1_peek(&e, ASN1_BOOLEAN) && asn1_get(&e, ASN1_BOOLEAN, &val) == -1) ||
		    asn1_get(&e, ASN1_OCTET_STRING, &val) == -1 || e.n != 0)
			return -1;
		if (asn1_oid_is(&oid, oid_ocsp_scts, sizeof(oid_ocsp_scts)))
			return sct_list_from_ext(val.v, val.len, out) == 0 ? 1 : -1;
	}
	return 0;
}

/* One SingleResponse: -1 malformed, else 0 with *found 1, 0 or -1 for
 * its list when it is the one for serial (or serial is NULL). */
static int
ocsp_single(const struct asn1_tlv *single, const unsigned char *serial, size_t serial_len,
            struct sct_list *out, int *found)
{
	struct asn1 c = asn1_inside(single), id;
	struct asn1_tlv certid, x, num;

	*found = 0;
	/* certID: hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber */
	if (asn1_get(&c, ASN1_SEQUENCE, &certid) == -1)
		return -1;
	id = asn1_inside(&certid);
	if (asn1_get(&id, ASN1_SEQUENCE, &x) == -1 || asn1_get(&id, ASN1_OCTET_STRING, &x) == -1 ||
	    asn1_get(&id, ASN1_OCTET_STRING, &x) == -1 || asn1_get(&id, ASN1_INTEGER, &num) == -1 ||
	    id.n != 0)
		return -1;
	/* certStatus: good [0], revoked [1], unknown [2]; then thisUpdate */
	if (asn1_next(&c, &x) != 0 ||
	    (x.tag != ASN1_CONTEXT(0) && x.tag != ASN1_CONTEXT_C(1) && x.tag != ASN1_CONTEXT(2)) ||
	    asn1_get(&c, ASN1_GENERALIZED, &x) == -1)
		return -1;
	if (serial != NULL && !(num.len == serial_len && memcmp(num.v, serial, serial_len) == 0))
		return 0;
	/* nextUpdate [0] and singleExtensions [1], both optional, in order */
	if (asn1_peek(&c, ASN1_CONTEXT_C(0)) && asn1_get(&c, ASN1_CONTEXT_C(0), &x) == -1)
		return -1;
	if (asn1_peek(&c, ASN1_CONTEXT_C(1))) {
		if (asn1_get(&c, ASN1_CONTEXT_C(1), &x) == -1 ||
		    (*found = ocsp_extensions(&x, out)) == -1)
			return -1;
	}
	return c.n == 0 ? 0 : -1;
}

int
sct_list_from_ocsp(const unsigned char *resp, size_t len, const unsigned char *serial,
                   size_t serial_len, struct sct_list *out)
{
	struct asn1 c = { resp, len }, top, rb, basic, tbs, responses;
	struct asn1_tlv t, x;

	memset(out, 0, sizeof(*out));
	/* OCSPResponse: responseStatus, responseBytes [0] EXPLICIT */
	if (resp == NULL || asn1_get(&c, ASN1_SEQUENCE, &t) == -1 || c.n != 0)
		return -1;
	top = asn1_inside(&t);
	if (asn1_get(&top, ASN1_ENUMERATED, &x) == -1)
		return -1;
	if (!(x.len == 1 && x.v[0] == 0))
		return 0;     /* not "successful": no response data to look in */
	if (asn1_get(&top, ASN1_CONTEXT_C(0), &t) == -1)
		return -1;
	rb = asn1_inside(&t);
	if (asn1_get(&rb, ASN1_SEQUENCE, &t) == -1)
		return -1;
	rb = asn1_inside(&t);
	if (asn1_get(&rb, ASN1_OID, &x) == -1)
		return -1;
	if (!asn1_oid_is(&x, oid_ocsp_basic, sizeof(oid_ocsp_basic)))
		return 0;     /* a response type other than basic */
	/* response OCTET STRING holding BasicOCSPResponse: tbsResponseData, ... */
	if (asn1_get(&rb, ASN1_OCTET_STRING, &t) == -1)
		return -1;
	basic = asn1_inside(&t);
	if (asn1_get(&basic, ASN1_SEQUENCE, &t) == -1)
		return -1;
	basic = asn1_inside(&t);
	if (asn1_get(&basic, ASN1_SEQUENCE, &t) == -1)
		return -1;
	/* ResponseData: version [0] (optional), responderID [1] or [2],
	 * producedAt, responses */
	tbs = asn1_inside(&t);
	if (asn1_peek(&tbs, ASN1_CONTEXT_C(0)) && asn1_get(&tbs, ASN1_CONTEXT_C(0), &x) == -1)
		return -1;
	if (asn1_next(&tbs, &x) != 0 || (x.tag != ASN1_CONTEXT_C(1) && x.tag != ASN1_CONTEXT_C(2)) ||
	    asn1_get(&tbs, ASN1_GENERALIZED, &x) == -1 || asn1_get(&tbs, ASN1_SEQUENCE, &t) == -1)
		return -1;
	responses = asn1_inside(&t);
	while (responses.n > 0) {
		int found;

		if (asn1_get(&responses, ASN1_SEQUENCE, &t) == -1 ||
		    ocsp_single(&t, serial, serial_len, out, &found) == -1) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		if (found != 0 || serial == NULL)
			return found;
	}
	return 0;
}
