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
 * The OCSP side walks the DER of RFC 6960 4.2.1 only as far as the
 * extension: GnuTLS verifies responses (revocation's job); here nothing
 * is trusted, only counted.
 */
#include "config.h"

#include <string.h>

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

/* ---- DER, as far as the extension ---- */

/* One TLV of r: a low tag number (all we walk through), a definite length
 * of at most four octets, the contents within what is left. */
static int
der_take(struct rd *r, unsigned *tag, struct rd *content)
{
	unsigned t, l;
	size_t len = 0;

	if (rd_u8(r, &t) == -1 || (t & 0x1f) == 0x1f || rd_u8(r, &l) == -1)
		return -1;
	if (l < 0x80) {
		len = l;
	} else {
		unsigned nb = l & 0x7f;

		if (nb == 0 || nb > 4)
			return -1;    /* indefinite, or beyond any response we take */
		for (unsigned i = 0; i < nb; i++) {
			unsigned b;

			if (rd_u8(r, &b) == -1)
				return -1;
			len = len << 8 | b;
		}
	}
	*tag = t;
	return rd_sub(r, len, content);
}

/* The next TLV, which must have tag want. */
static int
der_expect(struct rd *r, unsigned want, struct rd *content)
{
	unsigned tag;

	return der_take(r, &tag, content) == 0 && tag == want ? 0 : -1;
}

#define DER_INTEGER     0x02
#define DER_OCTETS      0x04
#define DER_OID         0x06
#define DER_ENUMERATED  0x0a
#define DER_GENTIME     0x18
#define DER_SEQUENCE    0x30
#define DER_CTX(n)      (0xa0 | (n))   /* [n] constructed */
#define DER_CTXP(n)     (0x80 | (n))   /* [n] primitive */
#define DER_BOOLEAN     0x01

int
sct_list_from_ext(const unsigned char *p, size_t len, struct sct_list *out)
{
	struct rd r = { p, len }, list;

	memset(out, 0, sizeof(*out));
	if (p == NULL || der_expect(&r, DER_OCTETS, &list) == -1 || r.n != 0)
		return -1;
	return sct_list_parse(list.p, list.n, out);
}

/* 1.3.6.1.5.5.7.48.1.1, id-pkix-ocsp-basic */
static const unsigned char oid_ocsp_basic[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
/* 1.3.6.1.4.1.11129.2.4.5 (SCT_OID_OCSP) */
static const unsigned char oid_ocsp_scts[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x05 };

static int
rd_equal(const struct rd *r, const unsigned char *p, size_t n)
{
	return r->n == n && (n == 0 || memcmp(r->p, p, n) == 0);
}

/* The SCT list among Extensions (a SEQUENCE OF Extension): 1, 0, -1. */
static int
ocsp_extensions(struct rd exts, struct sct_list *out)
{
	struct rd seq;

	if (der_expect(&exts, DER_SEQUENCE, &seq) == -1 || exts.n != 0)
		return -1;
	while (seq.n > 0) {
		struct rd ext, oid, val;
		unsigned tag;

		if (der_expect(&seq, DER_SEQUENCE, &ext) == -1 ||
		    der_expect(&ext, DER_OID, &oid) == -1 ||
		    der_take(&ext, &tag, &val) == -1)
			return -1;
		if (tag == DER_BOOLEAN && der_take(&ext, &tag, &val) == -1)
			return -1;
		if (tag != DER_OCTETS || ext.n != 0)
			return -1;
		if (rd_equal(&oid, oid_ocsp_scts, sizeof(oid_ocsp_scts)))
			return sct_list_from_ext(val.p, val.n, out) == 0 ? 1 : -1;
	}
	return 0;
}

/* One SingleResponse: -1 malformed, else 0 with *match and, when it
 * matches, its list looked up (*found 1, 0 or -1 as above). */
static int
ocsp_single(struct rd single, const unsigned char *serial, size_t serial_len,
            struct sct_list *out, int *found)
{
	struct rd certid, x, num;
	unsigned tag;

	*found = 0;
	/* certID: hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber */
	if (der_expect(&single, DER_SEQUENCE, &certid) == -1 ||
	    der_expect(&certid, DER_SEQUENCE, &x) == -1 ||
	    der_expect(&certid, DER_OCTETS, &x) == -1 ||
	    der_expect(&certid, DER_OCTETS, &x) == -1 ||
	    der_expect(&certid, DER_INTEGER, &num) == -1 || certid.n != 0)
		return -1;
	/* certStatus: good [0], revoked [1], unknown [2]; then thisUpdate */
	if (der_take(&single, &tag, &x) == -1 ||
	    (tag != DER_CTXP(0) && tag != DER_CTX(1) && tag != DER_CTXP(2)) ||
	    der_expect(&single, DER_GENTIME, &x) == -1)
		return -1;
	if (serial != NULL && !rd_equal(&num, serial, serial_len))
		return 0;
	/* nextUpdate [0] and singleExtensions [1], both optional, in order */
	while (single.n > 0) {
		if (der_take(&single, &tag, &x) == -1)
			return -1;
		if (tag == DER_CTX(1)) {
			*found = ocsp_extensions(x, out);
			return *found == -1 ? -1 : 0;
		}
		if (tag != DER_CTX(0))
			return -1;
	}
	*found = 0;
	return 0;
}

int
sct_list_from_ocsp(const unsigned char *resp, size_t len, const unsigned char *serial,
                   size_t serial_len, struct sct_list *out)
{
	struct rd r = { resp, len }, top, x, bytes, basic, tbs, responses;
	unsigned tag;

	memset(out, 0, sizeof(*out));
	/* OCSPResponse: responseStatus, responseBytes [0] EXPLICIT */
	if (resp == NULL || der_expect(&r, DER_SEQUENCE, &top) == -1 || r.n != 0 ||
	    der_expect(&top, DER_ENUMERATED, &x) == -1)
		return -1;
	if (!(x.n == 1 && x.p[0] == 0))
		return 0;     /* not "successful": no response data to look in */
	if (der_expect(&top, DER_CTX(0), &x) == -1 ||
	    der_expect(&x, DER_SEQUENCE, &bytes) == -1 ||
	    der_expect(&bytes, DER_OID, &x) == -1)
		return -1;
	if (!rd_equal(&x, oid_ocsp_basic, sizeof(oid_ocsp_basic)))
		return 0;     /* a response type other than basic */
	/* response OCTET STRING holding BasicOCSPResponse: tbsResponseData, ... */
	if (der_expect(&bytes, DER_OCTETS, &x) == -1 ||
	    der_expect(&x, DER_SEQUENCE, &basic) == -1 ||
	    der_expect(&basic, DER_SEQUENCE, &tbs) == -1)
		return -1;
	/* ResponseData: version [0] (optional), responderID [1] or [2],
	 * producedAt, responses */
	if (der_take(&tbs, &tag, &x) == -1)
		return -1;
	if (tag == DER_CTX(0) && der_take(&tbs, &tag, &x) == -1)
		return -1;
	if ((tag != DER_CTX(1) && tag != DER_CTX(2)) ||
	    der_expect(&tbs, DER_GENTIME, &x) == -1 ||
	    der_expect(&tbs, DER_SEQUENCE, &responses) == -1)
		return -1;
	while (responses.n > 0) {
		struct rd single;
		int found;

		if (der_expect(&responses, DER_SEQUENCE, &single) == -1 ||
		    ocsp_single(single, serial, serial_len, out, &found) == -1) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		if (found != 0 || serial == NULL)
			return found;
	}
	return 0;
}
