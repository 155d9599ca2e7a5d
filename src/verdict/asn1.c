/* asn1.c - a bounded DER reader. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "verdict/asn1.h"

int
asn1_next(struct asn1 *c, struct asn1_tlv *t)
{
	const unsigned char *p = c->p;
	size_t n = c->n, len, hdr;

	if (n == 0)
		return 1;
	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;      /* truncated, or a multi-byte tag */
	if (p[1] < 0x80) {
		len = p[1];
		hdr = 2;
	} else {
		size_t k = p[1] & 0x7f;

		/* 0x80 is BER's indefinite length; more than 4 bytes is more
		 * than anything we would accept */
		if (k == 0 || k > 4 || n - 2 < k || p[2] == 0)
			return -1;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return -1;      /* DER: the short form when it fits */
		hdr = 2 + k;
	}
	if (len > n - hdr)
		return -1;
	t->tag = p[0];
	t->v = p + hdr;
	t->len = len;
	t->raw = p;
	t->rawlen = hdr + len;
	c->p += hdr + len;
	c->n -= hdr + len;
	return 0;
}

int
asn1_get(struct asn1 *c, unsigned tag, struct asn1_tlv *t)
{
	struct asn1 save = *c;

	if (asn1_next(c, t) != 0 || t->tag != tag) {
		*c = save;
		return -1;
	}
	return 0;
}

int
asn1_peek(const struct asn1 *c, unsigned tag)
{
	return c->n > 0 && c->p[0] == tag;
}

struct asn1
asn1_inside(const struct asn1_tlv *t)
{
	struct asn1 c = { t->v, t->len };

	return c;
}

static int
digits(const unsigned char *p, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int
asn1_time(const struct asn1_tlv *t, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const unsigned char *p = t->v;
	int y, mo, d, h, mi, s, leap;

	if (t->tag == ASN1_UTC_TIME && t->len == 13 && p[12] == 'Z') {
		if (digits(p, 2, &y) == -1)
			return -1;
		y += y < 50 ? 2000 : 1900;
		p += 2;
	} else if (t->tag == ASN1_GENERALIZED && t->len == 15 && p[14] == 'Z') {
		if (digits(p, 4, &y) == -1)
			return -1;
		p += 4;
	} else
		return -1;
	if (digits(p, 2, &mo) == -1 || digits(p + 2, 2, &d) == -1 ||
	    digits(p + 4, 2, &h) == -1 || digits(p + 6, 2, &mi) == -1 ||
	    digits(p + 8, 2, &s) == -1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || s > 59)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

int
asn1_small_int(const struct asn1_tlv *t, long *out)
{
	long v = 0;

	if ((t->tag != ASN1_INTEGER && t->tag != ASN1_ENUMERATED) || t->len == 0 || t->len > 4 ||
	    (t->v[0] & 0x80) || (t->len > 1 && t->v[0] == 0 && !(t->v[1] & 0x80)))
		return -1;      /* empty, negative, too large or not minimal */
	for (size_t i = 0; i < t->len; i++)
		v = v << 8 | t->v[i];
	*out = v;
	return 0;
}

int
asn1_oid_is(const struct asn1_tlv *t, const unsigned char *oid, size_t len)
{
	return t->tag == ASN1_OID && t->len == len && memcmp(t->v, oid, len) == 0;
}

int
asn1_oid_string(const struct asn1_tlv *t, char *out, size_t size)
{
	size_t used = 0;
	uint64_t v = 0;
	int first = 1;

	if (t->tag != ASN1_OID || t->len == 0 || (t->v[t->len - 1] & 0x80))
		return -1;
	for (size_t i = 0; i < t->len; i++) {
		int n;

		if (v == 0 && t->v[i] == 0x80)
			return -1;      /* a non-minimal arc */
		if (v > (UINT64_MAX >> 7))
			return -1;
		v = v << 7 | (t->v[i] & 0x7f);
		if (t->v[i] & 0x80)
			continue;
		if (first) {
			unsigned a = v < 40 ? 0 : v < 80 ? 1 : 2;
			n = snprintf(out + used, size - used, "%u.%llu", a,
			    (unsigned long long)(v - 40 * a));
			first = 0;
		} else
			n = snprintf(out + used, size - used, ".%llu", (unsigned long long)v);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
		v = 0;
	}
	return 0;
}
