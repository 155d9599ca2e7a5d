/*
 * gnames.c - X.509 GeneralNames and name constraints.
 *
 * The subjectAltName and nameConstraints extensions are read here with
 * asn1.h's bounded DER reader, not GnuTLS's: GnuTLS 3.7.9 stops silently at
 * a subtree it cannot parse (so later constraints are lost), does not show
 * minimum and maximum, and has no type for x400Address or ediPartyName;
 * reading names and constraints with one reader keeps their kinds in step,
 * and anything that cannot be evaluated fails closed. Matching follows
 * RFC 5280 4.2.1.10 and what browsers do where it is vague: a dNSName
 * constraint with a leading period matches only names below it; an
 * excluded name excludes a wildcard that could match it; DNS names and
 * constraints compare without case and without one trailing period;
 * directory names compare RDN by RDN from the top, strings of printable
 * ASCII without case and with spaces folded, anything else byte for byte,
 * and a comparison that normalisation might decide otherwise fails closed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/asn1.h"
#include "verdict/gnames.h"

/* ---- DER: asn1.h's bounded reader ---------------------------------- */

/* The next element of in: its tag, its contents in *val and the whole
 * element in *all (may be NULL). 0, or -1 at the end and when malformed
 * (asn1.h refuses indefinite, non-minimal and overlong lengths). */
static int
gn_der_next(struct asn1 *in, unsigned *tag, struct asn1 *val, struct asn1 *all)
{
	struct asn1_tlv t;

	if (asn1_next(in, &t) != 0)
		return -1;
	*tag = t.tag;
	val->p = t.v;
	val->n = t.len;
	if (all != NULL) {
		all->p = t.raw;
		all->n = t.rawlen;
	}
	return 0;
}

/* ---- names -------------------------------------------------------- */

static const char *const gn_kind_names[GN_N] = {
	"otherName", "email", "DNS", "x400Address", "directory name",
	"ediPartyName", "URI", "IP", "registeredID",
};

void
gn_names_add(struct gn_names *l, const struct gn_name *x)
{
	if (l->n == GN_MAX_NAMES) {
		l->toomany = 1;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = *x;
}

void
gn_names_fini(struct gn_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].dn_owned)
			gnutls_x509_dn_deinit(l->v[i].dn);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* A directory name's DER, parsed; NULL when GnuTLS cannot. */
gnutls_x509_dn_t
gn_dn_import(const unsigned char *p, size_t n)
{
	gnutls_x509_dn_t dn;
	gnutls_datum_t d;

	if (n > UINT32_MAX || gnutls_x509_dn_init(&dn) < 0)
		return NULL;
	d.data = (unsigned char *)p;
	d.size = (unsigned)n;
	if (gnutls_x509_dn_import(dn, &d) < 0) {
		gnutls_x509_dn_deinit(dn);
		return NULL;
	}
	return dn;
}

/* One GeneralName element into *out. 0, or -1 when malformed. */
static int
gn_general_name(unsigned tag, struct asn1 val, struct gn_name *out)
{
	unsigned kind = tag & 0x1f;
	int constructed;

	if ((tag & 0xc0) != 0x80 || kind >= GN_N)
		return -1;
	constructed = kind == GN_OTHER || kind == GN_X400 || kind == GN_DN ||
	    kind == GN_EDI;
	if (((tag & 0x20) != 0) != constructed)
		return -1;
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->v = val.p;
	out->n = val.n;
	if (kind == GN_DN) {
		/* [4] is explicit: it holds one Name, a SEQUENCE. */
		struct asn1 in = val, inner, all;
		unsigned t;

		if (gn_der_next(&in, &t, &inner, &all) < 0 || t != 0x30 ||
		    in.n != 0)
			return -1;
		out->v = all.p;
		out->n = all.n;
		out->dn = gn_dn_import(all.p, all.n);
		out->dn_owned = out->dn != NULL;
	}
	return 0;
}

/* subjectAltName's value: GeneralNames, SEQUENCE SIZE (1..MAX). */
void
gn_parse_names(const gnutls_datum_t *d, struct gn_names *l)
{
	struct asn1 in = { d->data, d->size }, seq, val;
	struct gn_name x;
	unsigned tag;

	if (gn_der_next(&in, &tag, &seq, NULL) < 0 || tag != 0x30 || in.n != 0 ||
	    seq.n == 0) {
		l->bad = 1;
		return;
	}
	while (seq.n > 0) {
		if (gn_der_next(&seq, &tag, &val, NULL) < 0 ||
		    gn_general_name(tag, val, &x) < 0) {
			l->bad = 1;
			return;
		}
		gn_names_add(l, &x);
		if (l->toomany) {
			/* Only names it has: keep what was read, say so. */
			if (x.dn_owned)
				gnutls_x509_dn_deinit(x.dn);
			return;
		}
	}
}

static int
gn_parse_subtrees(struct asn1 list, struct gn_constraints *nc, int which)
{
	struct asn1 st, val;
	struct gn_name x;
	unsigned tag;

	if (list.n == 0) {
		nc->why = "an empty list of subtrees";
		return -1;
	}
	while (list.n > 0) {
		if (gn_der_next(&list, &tag, &st, NULL) < 0 || tag != 0x30) {
			nc->why = "a subtree that is not a SEQUENCE";
			return -1;
		}
		if (gn_der_next(&st, &tag, &val, NULL) < 0 ||
		    gn_general_name(tag, val, &x) < 0) {
			nc->why = "a subtree whose base is not a GeneralName";
			return -1;
		}
		/* minimum [0] DEFAULT 0 and maximum [1]: RFC 5280 says the
		 * first is 0 and the second absent; anything else is a
		 * constraint nobody evaluates. */
		while (st.n > 0) {
			struct asn1 mv;

			if (gn_der_next(&st, &tag, &mv, NULL) < 0 ||
			    (tag != 0x80 && tag != 0x81)) {
				nc->why = "a subtree with trailing data";
				if (x.dn_owned)
					gnutls_x509_dn_deinit(x.dn);
				return -1;
			}
			if (tag == 0x81 || mv.n != 1 || mv.p[0] != 0)
				x.unsupported = 1;
		}
		if (nc->sub[which].n == GN_MAX_SUBTREES) {
			nc->why = "more than 1024 subtrees";
			if (x.dn_owned)
				gnutls_x509_dn_deinit(x.dn);
			return -1;
		}
		gn_names_add(&nc->sub[which], &x);
		nc->kinds |= 1u << x.kind;
	}
	return 0;
}

void
gn_parse_constraints(const gnutls_datum_t *d, struct gn_constraints *nc)
{
	struct asn1 in = { d->data, d->size }, seq, val;
	unsigned tag;
	int next = 0;

	if (gn_der_next(&in, &tag, &seq, NULL) < 0 || tag != 0x30 || in.n != 0) {
		nc->bad = 1;
		nc->why = "not one DER SEQUENCE";
		return;
	}
	while (seq.n > 0) {
		if (gn_der_next(&seq, &tag, &val, NULL) < 0 ||
		    (tag != 0xa0 && tag != 0xa1) || (int)(tag & 1) < next) {
			nc->bad = 1;
			nc->why = "an element other than permitted and excluded subtrees";
			return;
		}
		next = (int)(tag & 1) + 1;
		if (gn_parse_subtrees(val, nc, (int)(tag & 1)) < 0) {
			nc->bad = 1;
			return;
		}
	}
}

void
gn_constraints_fini(struct gn_constraints *nc)
{
	gn_names_fini(&nc->sub[0]);
	gn_names_fini(&nc->sub[1]);
}

/* ---- text --------------------------------------------------------- */

/* p[0..n) for a sentence: printable ASCII as is, other bytes (and quotes
 * and backslashes) as \xNN, at most GN_SHOW bytes. out has GN_SHOWBUF. */
void
gn_show(char *out, const unsigned char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];

		if (i == GN_SHOW) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, GN_SHOWBUF - o, "\\x%02x", ch);
	}
	out[o] = '\0';
}

/* Prefix length of a netmask, or -1 when it is not contiguous. */
int
gn_mask_bits(const unsigned char *m, size_t n)
{
	int bits = 0;
	size_t i = 0;

	for (; i < n && m[i] == 0xff; i++)
		bits += 8;
	if (i < n) {
		unsigned char b = m[i++];

		while (b & 0x80) {
			bits++;
			b = (unsigned char)(b << 1);
		}
		if (b != 0)
			return -1;
	}
	for (; i < n; i++)
		if (m[i] != 0)
			return -1;
	return bits;
}

/* A name for a sentence: "DNS x.test", "IP 10.0.0.0/8", ... */
void
gn_name_show(const struct gn_name *x, char *out)
{
	char v[GN_SHOWBUF], ip[INET6_ADDRSTRLEN];
	const char *kind = gn_kind_names[x->kind];

	switch (x->kind) {
	case GN_DNS:
	case GN_EMAIL:
	case GN_URI:
		gn_show(v, x->v, x->n);
		snprintf(out, GN_SHOWBUF, "%s \"%.*s\"", kind, GN_SHOW * 4 + 3, v);
		return;
	case GN_IP:
		if ((x->n == 4 || x->n == 8) &&
		    inet_ntop(AF_INET, x->v, ip, sizeof(ip)) != NULL) {
			if (x->n == 4)
				snprintf(out, GN_SHOWBUF, "IP %s", ip);
			else
				snprintf(out, GN_SHOWBUF, "IP %s/%d", ip,
				    gn_mask_bits(x->v + 4, 4));
		} else if ((x->n == 16 || x->n == 32) &&
		    inet_ntop(AF_INET6, x->v, ip, sizeof(ip)) != NULL) {
			if (x->n == 16)
				snprintf(out, GN_SHOWBUF, "IP %s", ip);
			else
				snprintf(out, GN_SHOWBUF, "IP %s/%d", ip,
				    gn_mask_bits(x->v + 16, 16));
		} else {
			snprintf(out, GN_SHOWBUF, "IP of %zu bytes", x->n);
		}
		return;
	case GN_DN: {
		gnutls_datum_t d = { NULL, 0 };

		if (x->dn != NULL && gnutls_x509_dn_get_str(x->dn, &d) >= 0) {
			gn_show(v, d.data, d.size);
			snprintf(out, GN_SHOWBUF, "directory name \"%.*s\"", GN_SHOW * 4 + 3, v);
		} else {
			snprintf(out, GN_SHOWBUF, "an unreadable directory name");
		}
		gnutls_free(d.data);
		return;
	}
	default:
		snprintf(out, GN_SHOWBUF, "an %s", kind);
		return;
	}
}

/* ---- DNS names ---------------------------------------------------- */

static int
gn_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

unsigned char
gn_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Whether s[0..n) is a host name in preferred name syntax (RFC 1034 3.5,
 * with RFC 1123's leading digits): GN_DNS_BAD with *why when not, else
 * GN_DNS_UNDERSCORE for an underscore (legal DNS, not in certificates) and
 * GN_DNS_WILDCARD for a leading "*." where wild is allowed. lead allows one
 * leading period (a constraint on the names below a domain). */
unsigned
gn_dns_syntax(const unsigned char *s, size_t n, int wild, int lead, const char **why)
{
	unsigned f = 0;
	size_t label = 0;

	*why = NULL;
	if (lead && n > 0 && s[0] == '.') {
		s++;
		n--;
	}
	if (n == 0) {
		*why = "it is empty";
		return GN_DNS_BAD;
	}
	if (n > 253) {
		*why = "it is longer than 253 characters";
		return GN_DNS_BAD;
	}
	if (wild && n >= 2 && s[0] == '*' && s[1] == '.') {
		f |= GN_DNS_WILDCARD;
		s += 2;
		n -= 2;
	}
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (label == 0) {
				*why = "it has an empty label";
				return f | GN_DNS_BAD;
			}
			if (s[i - 1] == '-') {
				*why = "a label ends with a hyphen";
				return f | GN_DNS_BAD;
			}
			label = 0;
			continue;
		}
		if (c == '*') {
			*why = "it has a wildcard that is not the whole leftmost label";
			return f | GN_DNS_BAD;
		}
		if (label == 0 && c == '-') {
			*why = "a label begins with a hyphen";
			return f | GN_DNS_BAD;
		}
		if (c == '_')
			f |= GN_DNS_UNDERSCORE;
		else if (!gn_ldh(c)) {
			*why = "it has a character other than letters, digits and hyphens";
			return f | GN_DNS_BAD;
		}
		if (++label > 63) {
			*why = "a label is longer than 63 characters";
			return f | GN_DNS_BAD;
		}
	}
	return f;
}

int
gn_ieq(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gn_lower(a[i]) != gn_lower(b[i]))
			return 0;
	return 1;
}

static int
gn_iends(const unsigned char *s, size_t n, const unsigned char *suf, size_t sn)
{
	return sn <= n && gn_ieq(s + n - sn, suf, sn);
}

/* Without one trailing period: "a.test." is the absolute "a.test". */
size_t
gn_untrail(const unsigned char *s, size_t n)
{
	return n > 1 && s[n - 1] == '.' ? n - 1 : n;
}

/* Is the DNS name within the subtree of constraint c? */
static int
gn_dns_within(const unsigned char *s, size_t n, const unsigned char *c, size_t cn)
{
	if (cn == 0)
		return 1;
	if (c[0] == '.')
		return n > cn && gn_iends(s, n, c, cn);
	if (n == cn)
		return gn_ieq(s, c, n);
	return n > cn && gn_iends(s, n, c, cn) && s[n - cn - 1] == '.';
}

/* Could the wildcard name s ("*.base") match a name of subtree c? It does
 * where c itself is one label over base ("x.base"); deeper names and names
 * below a leading period need more than the one label "*" stands for. */
static int
gn_dns_wild_meets(const unsigned char *s, size_t n, const unsigned char *c, size_t cn)
{
	const unsigned char *dot;
	size_t rest;

	if (n < 2 || s[0] != '*' || s[1] != '.' || cn == 0 || c[0] == '.')
		return 0;
	if ((dot = memchr(c, '.', cn)) == NULL)
		return 0;
	rest = cn - (size_t)(dot + 1 - c);
	return rest == n - 2 && gn_ieq(dot + 1, s + 2, rest);
}

/* ---- matching, kind by kind: 1 within, 0 not, -1 cannot tell ------- */

static int
gn_ip_within(const struct gn_name *x, const struct gn_name *c, const char **why)
{
	size_t al = c->n / 2;

	if ((c->n != 8 && c->n != 32) || gn_mask_bits(c->v + al, al) < 0) {
		*why = "an IP constraint that is not an address and contiguous mask";
		return -1;
	}
	if (x->n != al)
		return 0;       /* the other family */
	for (size_t i = 0; i < al; i++)
		if ((x->v[i] & c->v[al + i]) != (c->v[i] & c->v[al + i]))
			return 0;
	return 1;
}

/* A constraint on hosts ("host", ".domain"): 1 valid, with *cn trimmed. */
static int
gn_host_constraint(const unsigned char *c, size_t *cn, const char **why)
{
	const char *w;

	*cn = gn_untrail(c, *cn);
	if (*cn == 0)
		return 1;
	if (gn_dns_syntax(c, *cn, 0, 1, &w) & GN_DNS_BAD) {
		*why = "a constraint that is not a host name";
		return 0;
	}
	return 1;
}

/* A host against the host constraint of an email or URI subtree: a host
 * only that host, ".domain" the hosts below it, "" every host. */
static int
gn_host_within(const unsigned char *h, size_t hn, const struct gn_name *c, const char **why)
{
	size_t cn = c->n;

	if (!gn_host_constraint(c->v, &cn, why))
		return -1;
	if (cn == 0)
		return 1;
	if (c->v[0] == '.')
		return hn > cn && gn_iends(h, hn, c->v, cn);
	return hn == cn && gn_ieq(h, c->v, cn);
}

static int
gn_email_within(const struct gn_name *x, const struct gn_name *c, const char **why)
{
	const unsigned char *at = NULL, *cat = NULL, *host;
	size_t hn, cn = c->n, i;
	const char *w;

	for (i = 0; i < x->n; i++)
		if (x->v[i] == '@')
			at = x->v + i;
	if (at == NULL || at == x->v) {
		*why = "an email address without a mailbox and host";
		return -1;
	}
	host = at + 1;
	hn = gn_untrail(host, (size_t)(x->v + x->n - host));
	if (hn == 0 || (gn_dns_syntax(host, hn, 0, 0, &w) & GN_DNS_BAD)) {
		*why = "an email address whose host is not a host name";
		return -1;
	}
	for (i = 0; i < cn; i++)
		if (c->v[i] == '@')
			cat = c->v + i;
	if (cat != NULL) {
		/* A mailbox: the local part exactly, the host without case. */
		size_t ll = (size_t)(cat - c->v), ch = cn - ll - 1;

		ch = gn_untrail(cat + 1, ch);
		return ll == (size_t)(at - x->v) && memcmp(c->v, x->v, ll) == 0 &&
		    ch == hn && gn_ieq(cat + 1, host, hn);
	}
	return gn_host_within(host, hn, c, why);
}

/* The host of a URI (RFC 3986: scheme "://" [userinfo "@"] host [":"
 * port]); -1 when it has none tlswatch can read as a host name. */
static int
gn_uri_host(const struct gn_name *x, const unsigned char **h, size_t *hn)
{
	const unsigned char *p = x->v, *end = x->v + x->n, *a, *ae, *q;
	const char *w;

	if (p == end || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return -1;
	while (p < end && (gn_ldh(*p) || *p == '+' || *p == '.'))
		p++;
	if (end - p < 3 || p[0] != ':' || p[1] != '/' || p[2] != '/')
		return -1;
	a = p + 3;
	for (ae = a; ae < end && *ae != '/' && *ae != '?' && *ae != '#'; ae++)
		;
	for (q = a; q < ae; q++)
		if (*q == '@')
			a = q + 1;
	if (a < ae && *a == '[')
		return -1;      /* an IP literal: not a host name */
	for (q = ae; q > a && q[-1] >= '0' && q[-1] <= '9'; q--)
		;
	if (q > a && q[-1] == ':')
		ae = q - 1;
	*h = a;
	*hn = gn_untrail(a, (size_t)(ae - a));
	if (*hn == 0 || (gn_dns_syntax(a, *hn, 0, 0, &w) & GN_DNS_BAD))
		return -1;
	return 0;
}

static int
gn_uri_within(const struct gn_name *x, const struct gn_name *c, const char **why)
{
	const unsigned char *h;
	size_t hn;

	if (gn_uri_host(x, &h, &hn) < 0) {
		*why = "a URI without a host name";
		return -1;
	}
	return gn_host_within(h, hn, c, why);
}

enum { GN_CMP_NE, GN_CMP_EQ, GN_CMP_UNKNOWN };

/* A string of printable ASCII, of a type whose content is the characters. */
static int
gn_plain(const gnutls_x509_ava_st *a)
{
	switch (a->value_tag) {
	case 12: case 18: case 19: case 20: case 22: case 26:
		break;
	default:
		return 0;
	}
	for (unsigned i = 0; i < a->value.size; i++)
		if (a->value.data[i] < 0x20 || a->value.data[i] >= 0x7f)
			return 0;
	return 1;
}

/* Equal without case, leading and trailing spaces, and with runs of
 * spaces as one (RFC 4518's insignificant space handling, for ASCII). */
static int
gn_fold_eq(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
	const unsigned char *p = a->data, *pe = p + a->size;
	const unsigned char *q = b->data, *qe = q + b->size;

	for (;;) {
		while (p < pe && *p == ' ')
			p++;
		while (q < qe && *q == ' ')
			q++;
		if (p == pe || q == qe)
			return p == pe && q == qe;
		while (p < pe && q < qe && *p != ' ' && *q != ' ') {
			if (gn_lower(*p) != gn_lower(*q))
				return 0;
			p++;
			q++;
		}
		if ((p < pe && *p != ' ') || (q < qe && *q != ' '))
			return 0;
	}
}

static int
gn_ava_cmp(const gnutls_x509_ava_st *a, const gnutls_x509_ava_st *b)
{
	if (a->oid.size != b->oid.size ||
	    memcmp(a->oid.data, b->oid.data, a->oid.size) != 0)
		return GN_CMP_NE;
	if (a->value_tag == b->value_tag && a->value.size == b->value.size &&
	    memcmp(a->value.data, b->value.data, a->value.size) == 0)
		return GN_CMP_EQ;
	if (gn_plain(a) && gn_plain(b))
		return gn_fold_eq(&a->value, &b->value) ? GN_CMP_EQ : GN_CMP_NE;
	return GN_CMP_UNKNOWN;
}

/* RDNs in dn (at most GN_MAX_RDNS + 1: more is more than we read). */
static int
gn_rdns(gnutls_x509_dn_t dn)
{
	gnutls_x509_ava_st ava;
	int n = 0;

	while (n <= GN_MAX_RDNS && gnutls_x509_dn_get_rdn_ava(dn, n, 0, &ava) >= 0)
		n++;
	return n;
}

static int
gn_avas(gnutls_x509_dn_t dn, int rdn)
{
	gnutls_x509_ava_st ava;
	int n = 0;

	while (n <= GN_MAX_RDNS && gnutls_x509_dn_get_rdn_ava(dn, rdn, n, &ava) >= 0)
		n++;
	return n;
}

/* RDNs are sets of AVAs: equal when each of one matches one of the other. */
static int
gn_rdn_cmp(gnutls_x509_dn_t a, gnutls_x509_dn_t b, int rdn)
{
	gnutls_x509_ava_st x, y;
	int na = gn_avas(a, rdn), nb = gn_avas(b, rdn), unk = 0;

	if (na != nb || na > GN_MAX_RDNS)
		return na != nb ? GN_CMP_NE : GN_CMP_UNKNOWN;
	for (int i = 0; i < na; i++) {
		int best = GN_CMP_NE;

		if (gnutls_x509_dn_get_rdn_ava(a, rdn, i, &x) < 0)
			return GN_CMP_UNKNOWN;
		for (int j = 0; j < nb && best != GN_CMP_EQ; j++) {
			int r;

			if (gnutls_x509_dn_get_rdn_ava(b, rdn, j, &y) < 0)
				return GN_CMP_UNKNOWN;
			r = gn_ava_cmp(&x, &y);
			if (r == GN_CMP_EQ || best == GN_CMP_NE)
				best = r;
		}
		if (best == GN_CMP_NE)
			return GN_CMP_NE;
		if (best == GN_CMP_UNKNOWN)
			unk = 1;
	}
	return unk ? GN_CMP_UNKNOWN : GN_CMP_EQ;
}

static int
gn_dn_within(const struct gn_name *x, const struct gn_name *c, const char **why)
{
	int nn, cn, unk = 0;

	if (x->dn == NULL || c->dn == NULL) {
		*why = "a directory name GnuTLS cannot parse";
		return -1;
	}
	nn = gn_rdns(x->dn);
	cn = gn_rdns(c->dn);
	if (nn > GN_MAX_RDNS || cn > GN_MAX_RDNS) {
		*why = "a directory name of more than 64 RDNs";
		return -1;
	}
	if (cn > nn)
		return 0;
	for (int i = 0; i < cn; i++) {
		int r = gn_rdn_cmp(x->dn, c->dn, i);

		if (r == GN_CMP_NE)
			return 0;
		if (r == GN_CMP_UNKNOWN)
			unk = 1;
	}
	if (unk) {
		*why = "directory names that only string normalisation could compare";
		return -1;
	}
	return 1;
}

/* Whether name x lies within subtree c (of the same kind). */
int
gn_within(const struct gn_name *x, const struct gn_name *c, int excluded, const char **why)
{
	size_t n, cn;

	switch (x->kind) {
	case GN_DNS:
		n = gn_untrail(x->v, x->n);
		cn = c->n;
		if (!gn_host_constraint(c->v, &cn, why))
			return -1;
		if (gn_dns_within(x->v, n, c->v, cn))
			return 1;
		return excluded && gn_dns_wild_meets(x->v, n, c->v, cn);
	case GN_IP:
		return gn_ip_within(x, c, why);
	case GN_EMAIL:
		return gn_email_within(x, c, why);
	case GN_URI:
		return gn_uri_within(x, c, why);
	case GN_DN:
		return gn_dn_within(x, c, why);
	default:
		*why = "a kind of name tlswatch does not evaluate";
		return -1;
	}
}

/* Name x against one CA's constraints; *hit is the excluded subtree or
 * (not permitted) NULL; *why explains GN_UNEVALUABLE. */
int
gn_check(const struct gn_constraints *nc, const struct gn_name *x,
    const struct gn_name **hit, const char **why)
{
	int has = 0, ok = 0, unk = 0, r;

	*hit = NULL;
	*why = NULL;
	if (!(nc->kinds & (1u << x->kind)))
		return GN_OK;
	if (x->kind == GN_DNS) {
		const char *w;

		if (gn_dns_syntax(x->v, gn_untrail(x->v, x->n), 1, 0, &w) & GN_DNS_BAD) {
			*why = w;
			return GN_UNEVALUABLE;
		}
	} else if (x->kind == GN_IP && x->n != 4 && x->n != 16) {
		*why = "an IP address that is neither 4 nor 16 bytes";
		return GN_UNEVALUABLE;
	}
	for (size_t i = 0; i < nc->sub[1].n; i++) {
		const struct gn_name *c = &nc->sub[1].v[i];

		if (c->kind != x->kind)
			continue;
		if (c->unsupported) {
			*why = "an excluded subtree with minimum or maximum";
			return GN_UNEVALUABLE;
		}
		if ((r = gn_within(x, c, 1, why)) == 1) {
			*hit = c;
			return GN_EXCLUDED;
		}
		if (r < 0)
			unk = 1;
	}
	if (unk)
		return GN_UNEVALUABLE;
	for (size_t i = 0; i < nc->sub[0].n && !ok; i++) {
		const struct gn_name *c = &nc->sub[0].v[i];
		const char *w = NULL;

		if (c->kind != x->kind)
			continue;
		has = 1;
		if (c->unsupported) {
			*why = "a permitted subtree with minimum or maximum";
			unk = 1;
			continue;
		}
		if ((r = gn_within(x, c, 0, &w)) == 1)
			ok = 1;
		else if (r < 0) {
			*why = w;
			unk = 1;
		}
	}
	if (!has || ok)
		return GN_OK;
	return unk ? GN_UNEVALUABLE : GN_NOT_PERMITTED;
}

