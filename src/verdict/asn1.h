/* asn1.h - a bounded reader of DER (X.690), for what GnuTLS does not parse
 * for us at the size we need: the entries of a CRL. Every length is
 * checked against what is left before it is used; indefinite lengths,
 * non-minimal lengths and multi-byte tags are refused (DER has none of
 * them in X.509). No allocation. */
#ifndef TLSWATCH_ASN1_H
#define TLSWATCH_ASN1_H

#include <stddef.h>
#include <stdint.h>

/* Identifier bytes of the universal and context tags we meet. */
#define ASN1_BOOLEAN        0x01
#define ASN1_INTEGER        0x02
#define ASN1_BIT_STRING     0x03
#define ASN1_OCTET_STRING   0x04
#define ASN1_NULL           0x05
#define ASN1_OID            0x06
#define ASN1_ENUMERATED     0x0a
#define ASN1_UTC_TIME       0x17
#define ASN1_GENERALIZED    0x18
#define ASN1_SEQUENCE       0x30
#define ASN1_SET            0x31
#define ASN1_CONTEXT(n)     (0x80 | (n))    /* [n] IMPLICIT, primitive */
#define ASN1_CONTEXT_C(n)   (0xa0 | (n))    /* [n], constructed */

/* What is left to read. */
struct asn1 {
	const unsigned char *p;
	size_t n;
};

/* One element: its identifier, its contents, and the whole encoding. */
struct asn1_tlv {
	unsigned tag;
	const unsigned char *v;
	size_t len;
	const unsigned char *raw;
	size_t rawlen;
};

/* The next element of c, moving past it: 0, 1 at the end, -1 malformed. */
int asn1_next(struct asn1 *c, struct asn1_tlv *t);
/* The next element, which must have tag: 0, or -1 (absent or malformed). */
int asn1_get(struct asn1 *c, unsigned tag, struct asn1_tlv *t);
/* Whether the next element has tag (without moving). */
int asn1_peek(const struct asn1 *c, unsigned tag);
/* A cursor over t's contents. */
struct asn1 asn1_inside(const struct asn1_tlv *t);

/* UTCTime (RFC 5280: YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime
 * (YYYYMMDDHHMMSSZ) to seconds since the epoch: 0, or -1. */
int asn1_time(const struct asn1_tlv *t, int64_t *out);
/* A small non-negative INTEGER or ENUMERATED (at most 2^31 - 1): 0, or -1. */
int asn1_small_int(const struct asn1_tlv *t, long *out);
/* An OID in dotted form ("1.2.840.10045.4.3.2") into out: 0, or -1 when
 * malformed or longer than size. */
int asn1_oid_string(const struct asn1_tlv *t, char *out, size_t size);
/* Whether t is the OID whose contents (DER, without tag and length) are oid. */
int asn1_oid_is(const struct asn1_tlv *t, const unsigned char *oid, size_t len);

#endif
