/* goname.c - a Name as Go writes it, for blackbox-compatible labels.
 *
 * GnuTLS parses the Name (gnutls_x509_dn_import); what follows is the
 * behaviour of Go's crypto/x509 and crypto/x509/pkix, written from its
 * documented rules and checked against prometheus-blackbox-exporter's
 * labels (README, "blackbox_exporter's series, pinned down"):
 *
 * - Go's x509 parser reads PrintableString, UTF8String, IA5String,
 *   T61String (bytes as they are), BMPString (UTF-16) and NumericString,
 *   and refuses a certificate with any other value type or a value not
 *   valid in its type.
 * - pkix.Name keeps C, ST, L, STREET, POSTALCODE, O, OU as lists and CN,
 *   SERIALNUMBER as one value (the last one seen), then writes, in this
 *   order reversed: C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER
 *   (the values of one type as one multi-valued RDN, joined by '+'),
 *   preceded by every other attribute in certificate order, each as
 *   OID=#HEX of its value re-encoded by encoding/asn1 (PrintableString
 *   when every byte fits, else UTF8String).
 * - A value is escaped as RFC 2253 says: a backslash before , + " \ < > ;
 *   and before a leading '#', a leading space or a trailing space. Bytes
 *   that are not UTF-8 come out as U+FFFD, one per byte, as Go's range
 *   loop over a string gives them. */
#include "config.h"

#include <stdint.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/goname.h"

/* ASN.1 universal tags */
#define TAG_UTF8 12
#define TAG_NUMERIC 18
#define TAG_PRINTABLE 19
#define TAG_T61 20
#define TAG_IA5 22
#define TAG_BMP 30

/* The attributes pkix.Name has fields for, in ToRDNSequence's order. */
static const struct {
	const char *oid;
	const char *name;
	int single;              /* one value: the last one wins */
} fields[] = {
	{ "2.5.4.6", "C", 0 },
	{ "2.5.4.8", "ST", 0 },
	{ "2.5.4.7", "L", 0 },
	{ "2.5.4.9", "STREET", 0 },
	{ "2.5.4.17", "POSTALCODE", 0 },
	{ "2.5.4.10", "O", 0 },
	{ "2.5.4.11", "OU", 0 },
	{ "2.5.4.3", "CN", 1 },
	{ "2.5.4.5", "SERIALNUMBER", 1 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct attr {
	int field;               /* index in fields[], or -1 */
	char *oid;
	char *value;             /* as Go holds it: bytes of a Go string */
	size_t len;
};

/* Go's x509 isPrintable: PrintableString's set, and '*' and '&', which
 * certificates in the wild use. */
static int
x509_printable(unsigned char b, int strict)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	    (b >= '\'' && b <= ')') || (b >= '+' && b <= '/') || b == ' ' || b == ':' ||
	    b == '=' || b == '?' || (!strict && (b == '*' || b == '&'));
}

/* The length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
valid_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(p + i, n - i);

		if (l == 0)
			return 0;
		i += l;
	}
	return 1;
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | cp >> 6));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | cp >> 12));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | cp >> 18));
		buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Go's parseASN1String: the value as a Go string, or -1 (Go refuses the
 * certificate). */
static int
go_string(unsigned long tag, const unsigned char *v, size_t n, struct buf *out)
{
	size_t i;

	switch (tag) {
	case TAG_T61:
		break;
	case TAG_PRINTABLE:
		for (i = 0; i < n; i++)
			if (!x509_printable(v[i], 0))
				return -1;
		break;
	case TAG_UTF8:
		if (!valid_utf8(v, n))
			return -1;
		break;
	case TAG_IA5:
		for (i = 0; i < n; i++)
			if (v[i] >= 0x80)
				return -1;
		break;
	case TAG_NUMERIC:
		for (i = 0; i < n; i++)
			if (!((v[i] >= '0' && v[i] <= '9') || v[i] == ' '))
				return -1;
		break;
	case TAG_BMP:
		if (n % 2 != 0)
			return -1;
		if (n >= 2 && v[n - 1] == 0 && v[n - 2] == 0)
			n -= 2;      /* a terminator, which Go strips */
		for (i = 0; i < n; i += 2) {
			uint32_t u = (uint32_t)v[i] << 8 | v[i + 1];

			if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
				uint32_t lo = (uint32_t)v[i + 2] << 8 | v[i + 3];

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					put_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
					i += 2;
					continue;
				}
			}
			/* utf16.Decode: an unpaired surrogate is U+FFFD */
			put_utf8(out, u >= 0xd800 && u <= 0xdfff ? 0xfffd : u);
		}
		return 0;
	default:
		return -1;
	}
	buf_append(out, v, n);
	return 0;
}

/* The value escaped as pkix's RDNSequence.String does. */
static void
put_escaped(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t k = 0; k < n;) {
		size_t l = utf8_len(p + k, n - k);
		int esc = 0;

		if (l == 0) {
			buf_puts(b, "\xef\xbf\xbd");     /* U+FFFD for one bad byte */
			k++;
			continue;
		}
		if (l == 1) {
			switch (p[k]) {
			case ',': case '+': case '"': case '\\': case '<': case '>': case ';':
				esc = 1;
				break;
			case ' ':
				esc = k == 0 || k == n - 1;
				break;
			case '#':
				esc = k == 0;
				break;
			}
		}
		if (esc)
			buf_putc(b, '\\');
		buf_append(b, p + k, l);
		k += l;
	}
}

/* OID=#HEX of the value as encoding/asn1 would marshal a Go string;
 * 0, or -1 when it would not (not UTF-8), and Go writes OID=VALUE. */
static int
put_marshalled(struct buf *b, const struct attr *a)
{
	const unsigned char *v = (const unsigned char *)a->value;
	unsigned char hdr[6];
	char hex[3];
	size_t h = 0, n = a->len;
	int tag = TAG_PRINTABLE;

	for (size_t i = 0; i < n; i++) {
		if (v[i] >= 0x80 || !x509_printable(v[i], 1)) {
			if (!valid_utf8(v, n))
				return -1;
			tag = TAG_UTF8;
			break;
		}
	}
	hdr[h++] = (unsigned char)tag;
	if (n < 0x80) {
		hdr[h++] = (unsigned char)n;
	} else {
		unsigned char len[4];
		size_t ln = 0;

		for (size_t m = n; m > 0; m >>= 8)
			len[ln++] = (unsigned char)(m & 0xff);
		hdr[h++] = (unsigned char)(0x80 | ln);
		while (ln > 0)
			hdr[h++] = len[--ln];
	}
	buf_printf(b, "%s=#", a->oid);
	for (size_t i = 0; i < h; i++) {
		hex_encode(hdr + i, 1, hex);
		buf_append(b, hex, 2);
	}
	for (size_t i = 0; i < n; i++) {
		hex_encode(v + i, 1, hex);
		buf_append(b, hex, 2);
	}
	return 0;
}

static void
free_attrs(struct attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].oid);
		free(a[i].value);
	}
	free(a);
}

char *
goname_dn(const unsigned char *der, size_t len)
{
	gnutls_x509_dn_t dn;
	gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	struct attr *attrs = NULL;
	size_t nattrs = 0, cap = 0;
	struct buf out;
	int first = 1, ok = 1;

	if (len == 0 || len > GONAME_MAX_DER || gnutls_x509_dn_init(&dn) < 0)
		return NULL;
	if (gnutls_x509_dn_import(dn, &d) < 0) {
		gnutls_x509_dn_deinit(dn);
		return NULL;
	}
	/* Every attribute, in certificate order, as the Go string it holds. */
	for (int irdn = 0; ok; irdn++) {
		int iava, r = 0;

		for (iava = 0; ok; iava++) {
			gnutls_x509_ava_st ava;
			struct buf v;

			r = gnutls_x509_dn_get_rdn_ava(dn, irdn, iava, &ava);
			if (r < 0)
				break;
			buf_init(&v);
			if (go_string(ava.value_tag, ava.value.data, ava.value.size, &v) != 0) {
				buf_free(&v);
				ok = 0;
				break;
			}
			if (nattrs == cap) {
				cap = cap ? 2 * cap : 16;
				attrs = xreallocarray(attrs, cap, sizeof(*attrs));
			}
			attrs[nattrs].field = -1;
			attrs[nattrs].oid = xstrndup((const char *)ava.oid.data, ava.oid.size);
			for (size_t f = 0; f < NFIELDS; f++)
				if (strcmp(attrs[nattrs].oid, fields[f].oid) == 0)
					attrs[nattrs].field = (int)f;
			attrs[nattrs].len = v.len;
			attrs[nattrs].value = v.len ? buf_steal(&v) : xstrdup("");
			buf_free(&v);
			nattrs++;
		}
		if (iava == 0 && r < 0)
			break;       /* no such RDN: the end */
	}
	gnutls_x509_dn_deinit(dn);
	if (!ok) {
		free_attrs(attrs, nattrs);
		return NULL;
	}

	buf_init(&out);
	/* ToRDNSequence reversed: SERIALNUMBER, CN, OU, O, ... C. */
	for (size_t f = NFIELDS; f-- > 0;) {
		ssize_t last = -1;
		int any = 0;

		for (size_t i = 0; i < nattrs; i++)
			if (attrs[i].field == (int)f)
				last = (ssize_t)i;
		if (last < 0)
			continue;
		/* CN and SERIALNUMBER: the last one, and only when not empty */
		if (fields[f].single && attrs[last].len == 0)
			continue;
		if (!first)
			buf_putc(&out, ',');
		first = 0;
		for (size_t i = 0; i < nattrs; i++) {
			if (attrs[i].field != (int)f || (fields[f].single && i != (size_t)last))
				continue;
			if (any)
				buf_putc(&out, '+');
			any = 1;
			buf_printf(&out, "%s=", fields[f].name);
			put_escaped(&out, attrs[i].value, attrs[i].len);
		}
	}
	/* the other attributes, last first */
	for (size_t i = nattrs; i-- > 0;) {
		if (attrs[i].field >= 0)
			continue;
		if (!first)
			buf_putc(&out, ',');
		first = 0;
		if (put_marshalled(&out, &attrs[i]) != 0) {
			buf_printf(&out, "%s=", attrs[i].oid);
			put_escaped(&out, attrs[i].value, attrs[i].len);
		}
	}
	free_attrs(attrs, nattrs);
	if (out.len == 0) {
		buf_free(&out);
		return xstrdup("");
	}
	return buf_steal(&out);
}
