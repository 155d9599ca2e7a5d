/* gnames.h - X.509 GeneralNames and name constraints: read from the DER
 * of subjectAltName and nameConstraints, and matched per RFC 5280 4.2.1.10
 * (gnames.c says how, and why not through GnuTLS). */
#ifndef TLSWATCH_GNAMES_H
#define TLSWATCH_GNAMES_H

#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* Bounds on what a certificate may make us do: beyond them, fail closed. */
#define GN_MAX_NAMES    1024    /* names of one certificate */
#define GN_MAX_SUBTREES 1024    /* subtrees of one CA's name constraints */
#define GN_MAX_RDNS     64      /* RDNs of a name, AVAs of an RDN */
#define GN_SHOW         96      /* bytes of a name shown in a sentence */
#define GN_SHOWBUF      (GN_SHOW * 4 + 64)

/* GeneralName's choices, by their context tag number. */
enum gn_kind {
	GN_OTHER, GN_EMAIL, GN_DNS, GN_X400, GN_DN, GN_EDI, GN_URI, GN_IP,
	GN_RID, GN_N
};

struct gn_name {
	unsigned kind;
	const unsigned char *v;   /* the string, the address (and mask), or
	                           * the Name's DER */
	size_t n;
	int unsupported;          /* a subtree with minimum or maximum */
	int from_cn;              /* the leaf's subject CN, read as a host */
	gnutls_x509_dn_t dn;      /* GN_DN: parsed; NULL when it does not */
	int dn_owned;
};

struct gn_names {
	struct gn_name *v;
	size_t n, cap;
	int bad;                  /* could not be read */
	int toomany;              /* more than GN_MAX_NAMES */
};

/* A CA's name constraints: permitted [0] and excluded [1] subtrees. */
struct gn_constraints {
	struct gn_names sub[2];
	unsigned kinds;           /* bit per kind any subtree constrains */
	int bad;
	const char *why;
};

/* Add x to l (it takes ownership of a parsed DN); past GN_MAX_NAMES it
 * only sets l->toomany. */
void gn_names_add(struct gn_names *l, const struct gn_name *x);
void gn_names_fini(struct gn_names *l);
/* A directory name's DER, parsed; NULL when GnuTLS cannot. */
gnutls_x509_dn_t gn_dn_import(const unsigned char *p, size_t n);
/* subjectAltName's value (GeneralNames) into l; l->bad when malformed.
 * The names point into d, which must outlive them. */
void gn_parse_names(const gnutls_datum_t *d, struct gn_names *l);
/* nameConstraints' value into nc; nc->bad and nc->why when malformed. */
void gn_parse_constraints(const gnutls_datum_t *d, struct gn_constraints *nc);
void gn_constraints_fini(struct gn_constraints *nc);

/* p[0..n) for a sentence: printable ASCII as is, other bytes (and quotes
 * and backslashes) as \xNN, at most GN_SHOW bytes; out has GN_SHOWBUF. */
void gn_show(char *out, const unsigned char *p, size_t n);
/* A name for a sentence: "DNS \"x.test\"", "IP 10.0.0.0/8", ... */
void gn_name_show(const struct gn_name *x, char *out);
/* Prefix length of a netmask, or -1 when it is not contiguous. */
int gn_mask_bits(const unsigned char *m, size_t n);

#define GN_DNS_BAD        1u
#define GN_DNS_UNDERSCORE 2u
#define GN_DNS_WILDCARD   4u

/* Whether s[0..n) is a host name in preferred name syntax: GN_DNS_BAD
 * with *why (static text) when not, else GN_DNS_UNDERSCORE and
 * GN_DNS_WILDCARD (a leading "*." where wild allows it); lead allows one
 * leading period. */
unsigned gn_dns_syntax(const unsigned char *s, size_t n, int wild, int lead, const char **why);
unsigned char gn_lower(unsigned char c);
/* Equal without ASCII case. */
int gn_ieq(const unsigned char *a, const unsigned char *b, size_t n);
/* n without one trailing period. */
size_t gn_untrail(const unsigned char *s, size_t n);

/* Whether name x lies within subtree c of its kind: 1, 0, or -1 when they
 * cannot be compared (*why says why). excluded: a wildcard lies within
 * where it could match a name that does. */
int gn_within(const struct gn_name *x, const struct gn_name *c, int excluded, const char **why);

enum gn_verdict { GN_OK, GN_NOT_PERMITTED, GN_EXCLUDED, GN_UNEVALUABLE };

/* Name x against one CA's constraints: GN_EXCLUDED (*hit the subtree),
 * GN_NOT_PERMITTED, GN_UNEVALUABLE (*why), or GN_OK. */
int gn_check(const struct gn_constraints *nc, const struct gn_name *x,
             const struct gn_name **hit, const char **why);

#endif
