/*
 * webpki.c - the Web PKI rules GnuTLS 3.7.9 does not enforce, as findings.
 *
 * Input is a path: the leaf, the CAs above it, and the trust anchor when the
 * path reached one. Each rule looks at the certificates finding.c's table
 * says it applies to and, where one breaks it, adds a finding with a
 * sentence a person can act on. What the findings do to the verdict is the
 * caller's business (findings_reasons); nothing here knows the target.
 *
 * A trust anchor is trusted by configuration: the profile rules of RFC 5280
 * and the Baseline Requirements (critical basicConstraints, key identifiers,
 * serials, signature algorithms, ...) are for the certificates below it.
 * Debian's store holds roots that break some of them (Go Daddy and
 * Starfield Class 2: basicConstraints not critical, no key usage) and that
 * every browser accepts. What clients do apply to anchors (key strength,
 * extended key usage, key usage, name constraints, path length) looks at
 * the anchor too.
 *
 * Name constraints are evaluated here over every name of every certificate
 * below the constraining CA: GnuTLS checks only the leaf, ignores wildcard
 * overlap with excluded names and the subject CN beside SANs. The names
 * and constraints are read and matched by gnames.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>
#include <libpsl.h>

#include "core/util.h"
#include "verdict/certs.h"
#include "verdict/check.h"
#include "verdict/finding.h"
#include "verdict/gnames.h"
#include "verdict/webpki.h"

/* Bounds on what a certificate may make us do: beyond them, fail closed. */
#define WP_MAX_EXTS     256     /* extensions of one certificate */

#define OID_SAN         "2.5.29.17"
#define OID_NC          "2.5.29.30"
#define OID_AKI         "2.5.29.35"
#define OID_SKI         "2.5.29.14"
#define OID_AIA         "1.3.6.1.5.5.7.1.1"
#define OID_CN          "2.5.4.3"
#define OID_EMAIL       "1.2.840.113549.1.9.1"
#define OID_CT_POISON   "1.3.6.1.4.1.11129.2.4.3"

/* Whether an AVA's type is oid (GnuTLS gives it dotted, with its NUL). */
static int
wp_oid_is(const gnutls_x509_ava_st *a, const char *oid)
{
	size_t n = strlen(oid);

	return (a->oid.size == n || (a->oid.size == n + 1 && a->oid.data[n] == '\0')) &&
	    memcmp(a->oid.data, oid, n) == 0;
}

/* ---- one certificate, read once ----------------------------------- */

struct wp_cert {
	gnutls_x509_crt_t crt;
	int depth;
	size_t pos;               /* on the path; 0 is the leaf */
	int anchor;               /* the trust anchor */
	int below;                /* below the anchor: profile rules apply */
	char sha256[65];
	char who[GN_SHOWBUF];     /* "the leaf", "the intermediate "X" (depth 1)" */
	int version;
	int self_issued, self_signed;
	int bc, bc_critical, ca, pathlen;
	int ku, ku_bad;
	unsigned ku_bits;
	int eku, eku_bad, eku_server, eku_any;
	char eku_list[160];
	int san, san_critical;
	gnutls_datum_t san_der;
	struct gn_names sans;
	int nc;
	gnutls_datum_t nc_der;
	struct gn_constraints ncs;
	int empty_subject;
	gnutls_x509_dn_t subject;     /* owned by crt */
	struct gn_names names;        /* every name the constraints apply to */
};

struct wp_ctx {
	struct wp_cert c[WEBPKI_MAX_PATH];
	size_t n;
	int anchored;
	struct findings *out;
};

static void
wp_add(struct wp_ctx *x, unsigned id, const struct wp_cert *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
wp_add(struct wp_ctx *x, unsigned id, const struct wp_cert *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	findings_vadd(x->out, id, c->depth, c->sha256, fmt, ap);
	va_end(ap);
}

static const struct {
	const char *oid, *name;
} wp_ekus[] = {
	{ "1.3.6.1.5.5.7.3.1", "serverAuth" },
	{ "1.3.6.1.5.5.7.3.2", "clientAuth" },
	{ "1.3.6.1.5.5.7.3.3", "codeSigning" },
	{ "1.3.6.1.5.5.7.3.4", "emailProtection" },
	{ "1.3.6.1.5.5.7.3.8", "timeStamping" },
	{ "1.3.6.1.5.5.7.3.9", "OCSPSigning" },
	{ "2.5.29.37.0", "anyExtendedKeyUsage" },
};

static void
wp_read_eku(struct wp_cert *c)
{
	char oid[128];
	size_t size, used = 0;
	unsigned crit;
	int ret;

	for (unsigned i = 0; i < 64; i++) {
		const char *name;

		size = sizeof(oid);
		ret = gnutls_x509_crt_get_key_purpose_oid(c->crt, i, oid, &size, &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		c->eku = 1;
		if (ret < 0) {
			c->eku_bad = 1;
			break;
		}
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
			c->eku_server = 1;
		else if (strcmp(oid, GNUTLS_KP_ANY) == 0)
			c->eku_any = 1;
		name = oid;
		for (size_t k = 0; k < ARRAY_SIZE(wp_ekus); k++)
			if (strcmp(oid, wp_ekus[k].oid) == 0)
				name = wp_ekus[k].name;
		if (used + strlen(name) + 8 < sizeof(c->eku_list))
			used += (size_t)snprintf(c->eku_list + used,
			    sizeof(c->eku_list) - used, "%s%s", used ? ", " : "", name);
	}
}

/* An extension by OID: 1 and *d (caller frees) when present once, 0 when
 * absent, -1 when present more than once (RFC 5280 4.2 forbids it). */
static int
wp_ext(gnutls_x509_crt_t crt, const char *oid, gnutls_datum_t *d, int *critical)
{
	gnutls_datum_t again = { NULL, 0 };
	unsigned crit = 0;

	d->data = NULL;
	d->size = 0;
	if (gnutls_x509_crt_get_extension_by_oid2(crt, oid, 0, d, &crit) < 0)
		return 0;
	*critical = crit != 0;
	if (gnutls_x509_crt_get_extension_by_oid2(crt, oid, 1, &again, &crit) >= 0) {
		gnutls_free(again.data);
		return -1;
	}
	return 1;
}

/* The subject's first CN (or, lacking one, its whole DN) for sentences. */
static void
wp_label(gnutls_x509_crt_t crt, char *out)
{
	char buf[1024];
	size_t size = sizeof(buf);
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    buf, &size) >= 0) {
		gn_show(out, (const unsigned char *)buf, size);
		return;
	}
	if (gnutls_x509_crt_get_dn3(crt, &d, 0) >= 0 && d.size > 0)
		gn_show(out, d.data, d.size);
	else
		snprintf(out, GN_SHOWBUF, "(no subject)");
	gnutls_free(d.data);
}

static void
wp_who(struct wp_ctx *x, struct wp_cert *c)
{
	char l[GN_SHOWBUF];

	wp_label(c->crt, l);
	if (c->pos == 0)
		snprintf(c->who, sizeof(c->who), "%s", c->anchor ?
		    "the leaf (itself the trust anchor)" : "the leaf");
	else if (c->anchor)
		snprintf(c->who, sizeof(c->who), "the trust anchor \"%.*s\"",
		    GN_SHOW, l);
	else if (c->pos + 1 == x->n && c->self_signed)
		snprintf(c->who, sizeof(c->who), "the root \"%.*s\" (depth %d)",
		    GN_SHOW, l, c->depth);
	else
		snprintf(c->who, sizeof(c->who), "the intermediate \"%.*s\" (depth %d)",
		    GN_SHOW, l, c->depth);
}

/* The names name constraints apply to (RFC 5280 4.2.1.10, 6.1.3): the
 * subjectAltName's, the subject when not empty, its email addresses when
 * there is no subjectAltName, and the leaf's CNs that are host names. */
static void
wp_collect_names(struct wp_cert *c)
{
	struct gn_name n;
	gnutls_x509_ava_st ava;

	for (size_t i = 0; i < c->sans.n; i++)
		gn_names_add(&c->names, &c->sans.v[i]);
	/* sans owns any parsed directory names; names only borrows them. */
	for (size_t i = 0; i < c->names.n; i++)
		c->names.v[i].dn_owned = 0;
	if (c->empty_subject || c->subject == NULL)
		return;
	memset(&n, 0, sizeof(n));
	n.kind = GN_DN;
	n.dn = c->subject;
	gn_names_add(&c->names, &n);
	for (int r = 0; r < GN_MAX_RDNS; r++) {
		for (int a = 0; a < GN_MAX_RDNS; a++) {
			if (gnutls_x509_dn_get_rdn_ava(c->subject, r, a, &ava) < 0) {
				if (a == 0)
					return;
				break;
			}
			memset(&n, 0, sizeof(n));
			n.v = ava.value.data;
			n.n = ava.value.size;
			if (!c->san && wp_oid_is(&ava, OID_EMAIL)) {
				n.kind = GN_EMAIL;
				gn_names_add(&c->names, &n);
			} else if (c->pos == 0 && wp_oid_is(&ava, OID_CN)) {
				/* A host name has a dot, or is an IP literal. */
				char s[64];
				unsigned char ip[16];
				const char *w;

				n.from_cn = 1;
				if (n.n < sizeof(s) && memchr(n.v, '\0', n.n) == NULL) {
					memcpy(s, n.v, n.n);
					s[n.n] = '\0';
					if (inet_pton(AF_INET, s, ip) == 1 ||
					    inet_pton(AF_INET6, s, ip) == 1) {
						if (c->names.n == GN_MAX_NAMES) {
							c->names.toomany = 1;
							continue;
						}
						/* Its own copy: freed by wp_fini. */
						n.kind = GN_IP;
						n.n = strchr(s, ':') == NULL ? 4 : 16;
						n.v = memcpy(xmalloc(16), ip, 16);
						gn_names_add(&c->names, &n);
						continue;
					}
				}
				if (memchr(n.v, '.', n.n) != NULL &&
				    !(gn_dns_syntax(n.v, gn_untrail(n.v, n.n), 1, 0, &w) & GN_DNS_BAD)) {
					n.kind = GN_DNS;
					gn_names_add(&c->names, &n);
				}
			}
		}
	}
}

static void
wp_load(struct wp_ctx *x, struct wp_cert *c)
{
	unsigned char fp[32];
	size_t size = sizeof(fp);
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	unsigned crit = 0, ca = 0;
	int pathlen = -1, ret, critical = 0;

	if (gnutls_x509_crt_get_fingerprint(c->crt, GNUTLS_DIG_SHA256, fp, &size) >= 0 &&
	    size == sizeof(fp))
		hex_encode(fp, sizeof(fp), c->sha256);
	c->version = gnutls_x509_crt_get_version(c->crt);
	if (gnutls_x509_crt_get_raw_dn(c->crt, &a) >= 0 &&
	    gnutls_x509_crt_get_raw_issuer_dn(c->crt, &b) >= 0)
		c->self_issued = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	/* An empty Name is the empty SEQUENCE, 30 00. */
	c->empty_subject = a.size <= 2;
	gnutls_free(a.data);
	gnutls_free(b.data);
	c->self_signed = certs_crt_self_signed(c->crt);
	if (gnutls_x509_crt_get_subject(c->crt, &c->subject) < 0)
		c->subject = NULL;

	ret = gnutls_x509_crt_get_basic_constraints(c->crt, &crit, &ca, &pathlen);
	if (ret >= 0) {
		c->bc = 1;
		c->bc_critical = crit != 0;
		c->ca = ca != 0;
		c->pathlen = ca ? pathlen : -1;
	} else {
		c->pathlen = -1;
	}
	ret = gnutls_x509_crt_get_key_usage(c->crt, &c->ku_bits, &crit);
	if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		c->ku = 1;
		c->ku_bad = ret < 0;
	}
	wp_read_eku(c);

	ret = wp_ext(c->crt, OID_SAN, &c->san_der, &critical);
	if (ret != 0) {
		c->san = 1;
		c->san_critical = critical;
		if (ret < 0)
			c->sans.bad = 1;
		else
			gn_parse_names(&c->san_der, &c->sans);
	}
	ret = wp_ext(c->crt, OID_NC, &c->nc_der, &critical);
	if (ret != 0) {
		c->nc = 1;
		if (ret < 0) {
			c->ncs.bad = 1;
			c->ncs.why = "it appears twice";
		} else {
			gn_parse_constraints(&c->nc_der, &c->ncs);
		}
	}
	wp_collect_names(c);
	wp_who(x, c);
}

static void
wp_fini(struct wp_cert *c)
{
	/* CN-derived IP names own their address copies. */
	for (size_t i = 0; i < c->names.n; i++)
		if (c->names.v[i].from_cn && c->names.v[i].kind == GN_IP)
			free((void *)c->names.v[i].v);
	gn_names_fini(&c->names);
	gn_names_fini(&c->sans);
	gn_constraints_fini(&c->ncs);
	gnutls_free(c->san_der.data);
	gnutls_free(c->nc_der.data);
}

/* ---- the rules ---------------------------------------------------- */

static void
wp_rule_nc(struct wp_ctx *x)
{
	for (size_t k = 1; k < x->n; k++) {
		const struct wp_cert *ca = &x->c[k];

		if (!ca->nc)
			continue;
		if (ca->ncs.bad) {
			wp_add(x, VBIT_NAME_CONSTRAINTS_UNEVALUABLE, ca,
			    "the name constraints of %s cannot be read (%s), so no name below it can be checked: clients reject the chain",
			    ca->who, ca->ncs.why ? ca->ncs.why : "malformed");
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			const struct wp_cert *c = &x->c[j];

			/* Self-issued intermediates are exempt, the leaf never. */
			if (j > 0 && c->self_issued)
				continue;
			if (c->sans.bad && ca->ncs.kinds) {
				wp_add(x, VBIT_NAME_CONSTRAINTS_UNEVALUABLE, c,
				    "the subjectAltName of %s cannot be read, and %s constrains names: tlswatch fails closed",
				    c->who, ca->who);
				continue;
			}
			if ((c->sans.toomany || c->names.toomany) && ca->ncs.kinds) {
				wp_add(x, VBIT_NAME_CONSTRAINTS_UNEVALUABLE, c,
				    "%s carries more than %d names, more than tlswatch checks against the name constraints of %s",
				    c->who, GN_MAX_NAMES, ca->who);
				continue;
			}
			for (size_t i = 0; i < c->names.n; i++) {
				const struct gn_name *n = &c->names.v[i], *hit;
				char ns[GN_SHOWBUF], hs[GN_SHOWBUF];
				const char *why, *where = n->from_cn ? " in its subject CN" : "";

				switch (gn_check(&ca->ncs, n, &hit, &why)) {
				case GN_EXCLUDED:
					gn_name_show(n, ns);
					gn_name_show(hit, hs);
					wp_add(x, VBIT_NAME_EXCLUDED, c,
					    "the name constraints of %s exclude %s, which %s names%s (%s)",
					    ca->who, hs, c->who, where, ns);
					break;
				case GN_NOT_PERMITTED:
					gn_name_show(n, ns);
					wp_add(x, VBIT_NAME_NOT_PERMITTED, c,
					    "the name constraints of %s do not permit %s, which %s names%s",
					    ca->who, ns, c->who, where);
					break;
				case GN_UNEVALUABLE:
					gn_name_show(n, ns);
					wp_add(x, VBIT_NAME_CONSTRAINTS_UNEVALUABLE, c,
					    "%s names %s%s and %s constrains such names, but they cannot be compared (%s): tlswatch fails closed",
					    c->who, ns, where, ca->who, why ? why : "unsupported");
					break;
				default:
					break;
				}
			}
		}
	}
}

static void
wp_rule_path_length(struct wp_ctx *x)
{
	for (size_t k = 1; k < x->n; k++) {
		const struct wp_cert *ca = &x->c[k];
		int below = 0;

		if (!ca->ca || ca->pathlen < 0)
			continue;
		for (size_t i = 1; i < k; i++)
			if (!x->c[i].self_issued)
				below++;
		if (below > ca->pathlen)
			wp_add(x, VBIT_PATH_LENGTH_EXCEEDED, ca,
			    "%s allows %d intermediate%s below it (pathLenConstraint), and the path has %d",
			    ca->who, ca->pathlen, ca->pathlen == 1 ? "" : "s", below);
	}
}

static void
wp_rule_eku(struct wp_ctx *x)
{
	const struct wp_cert *leaf = &x->c[0], *top = &x->c[x->n - 1];

	if (!leaf->eku)
		wp_add(x, VBIT_NO_EKU, leaf,
		    "the leaf has no extended key usage; publicly trusted server certificates must list serverAuth");
	else if (leaf->eku_bad)
		wp_add(x, VBIT_NO_SERVER_AUTH, leaf,
		    "the leaf's extended key usage cannot be read: clients cannot tell it is for a TLS server");
	else if (!leaf->eku_server)
		wp_add(x, VBIT_NO_SERVER_AUTH, leaf,
		    "the leaf's extended key usage (%s) does not include serverAuth: %s",
		    leaf->eku_list, leaf->eku_any ?
		    "browsers and OpenSSL do not take anyExtendedKeyUsage for it" :
		    "clients refuse it for a TLS server");
	for (size_t k = 1; k < x->n; k++) {
		const struct wp_cert *ca = &x->c[k];

		if (ca->eku && (ca->eku_bad || (!ca->eku_server && !ca->eku_any)))
			wp_add(x, VBIT_CA_EKU_EXCLUDES_SERVER_AUTH, ca,
			    "the extended key usage of %s (%s) does not include serverAuth, so it cannot issue TLS server certificates",
			    ca->who, ca->eku_bad ? "unreadable" : ca->eku_list);
	}
	if (x->n > 1 && top->eku && (x->anchored || top->self_signed))
		wp_add(x, VBIT_ROOT_HAS_EKU, top,
		    "%s carries an extended key usage (%s); a root must have none",
		    top->who, top->eku_bad ? "unreadable" : top->eku_list);
}

static void
wp_rule_ca(struct wp_ctx *x)
{
	for (size_t k = 1; k < x->n; k++) {
		const struct wp_cert *ca = &x->c[k];

		if (ca->ku && (ca->ku_bad || !(ca->ku_bits & GNUTLS_KEY_KEY_CERT_SIGN)))
			wp_add(x, VBIT_CA_KEY_USAGE, ca,
			    "the key usage of %s %s, yet it signed the certificate below it",
			    ca->who, ca->ku_bad ? "cannot be read" : "lacks keyCertSign");
		if (!ca->below)
			continue;
		if (ca->version < 3) {
			wp_add(x, VBIT_V1_CA, ca,
			    "%s is a version %d certificate, which has no extensions to make it a CA",
			    ca->who, ca->version);
			continue;
		}
		if (!ca->bc)
			wp_add(x, VBIT_CA_BASIC_CONSTRAINTS, ca,
			    "%s has no basicConstraints, yet it signed the certificate below it",
			    ca->who);
		else if (!ca->ca)
			wp_add(x, VBIT_CA_BASIC_CONSTRAINTS, ca,
			    "%s says cA FALSE in basicConstraints, yet it signed the certificate below it",
			    ca->who);
		else if (!ca->bc_critical)
			wp_add(x, VBIT_CA_BASIC_CONSTRAINTS, ca,
			    "the basicConstraints of %s is not marked critical", ca->who);
		if (!ca->ku)
			wp_add(x, VBIT_CA_NO_KEY_USAGE, ca,
			    "%s has no key usage extension", ca->who);
	}
}

static void
wp_rule_leaf(struct wp_ctx *x)
{
	const struct wp_cert *c = &x->c[0];

	if (c->bc && c->ca)
		wp_add(x, VBIT_LEAF_IS_CA, c,
		    "the leaf says cA TRUE in basicConstraints: it is a CA certificate, not a server's");
	if (c->ku && c->ku_bad) {
		wp_add(x, VBIT_LEAF_KEY_USAGE, c,
		    "the leaf's key usage cannot be read");
		return;
	}
	if (c->ku && (c->ku_bits & GNUTLS_KEY_KEY_CERT_SIGN))
		wp_add(x, VBIT_LEAF_KEY_CERT_SIGN, c,
		    "the leaf's key usage includes keyCertSign, which only a CA may have");
	if (c->ku && !(c->ku_bits & GNUTLS_KEY_DIGITAL_SIGNATURE))
		wp_add(x, VBIT_LEAF_KEY_USAGE, c,
		    "the leaf's key usage lacks digitalSignature, which TLS 1.3 and every ECDHE handshake need: clients refuse the server's signature");
}

/* The public suffix data, loaded once: Debian's publicsuffix package
 * through libpsl (or libpsl's own copy when that is newer). */
static pthread_once_t wp_psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *wp_psl;

static void
wp_psl_load(void)
{
	wp_psl = psl_latest(NULL);
}

static void
wp_rule_names(struct wp_ctx *x)
{
	const struct wp_cert *c = &x->c[0];
	gnutls_x509_ava_st ava;

	if (!c->san || c->sans.bad) {
		wp_add(x, VBIT_NO_SAN, c, c->san ?
		    "the leaf's subjectAltName cannot be read: clients find no name in it" :
		    "the leaf has no subjectAltName: clients no longer read the subject CN, so it matches no name");
	}
	for (size_t i = 0; i < c->sans.n; i++) {
		const struct gn_name *n = &c->sans.v[i];
		char ns[GN_SHOWBUF], low[256];
		const char *why;
		unsigned f;

		if (n->kind != GN_DNS)
			continue;
		gn_name_show(n, ns);
		f = gn_dns_syntax(n->v, n->n, 1, 0, &why);
		if (f & GN_DNS_BAD)
			wp_add(x, VBIT_INVALID_DNS_NAME, c,
			    "the leaf names %s, which is not a host name: %s", ns, why);
		if (f & GN_DNS_UNDERSCORE)
			wp_add(x, VBIT_UNDERSCORE_IN_DNS_NAME, c,
			    "the leaf names %s, with an underscore, which publicly trusted CAs may no longer issue",
			    ns);
		if ((f & (GN_DNS_WILDCARD | GN_DNS_BAD)) != GN_DNS_WILDCARD || n->n - 2 >= sizeof(low))
			continue;
		for (size_t k = 2; k < n->n; k++)
			low[k - 2] = (char)gn_lower(n->v[k]);
		low[n->n - 2] = '\0';
		pthread_once(&wp_psl_once, wp_psl_load);
		if (wp_psl != NULL && psl_is_public_suffix2(wp_psl, low, PSL_TYPE_ICANN))
			wp_add(x, VBIT_WILDCARD_ON_PUBLIC_SUFFIX, c,
			    "the leaf names %s: a wildcard directly on the public suffix %s would cover every domain registered under it",
			    ns, low);
	}
	if (!c->san || c->sans.bad || c->subject == NULL)
		return;
	/* Every CN must repeat a DNS name or IP address of the SAN. */
	for (int r = 0; r < GN_MAX_RDNS; r++) {
		for (int a = 0; a < GN_MAX_RDNS; a++) {
			const unsigned char *v;
			size_t vn;
			int found = 0;
			char s[64], vs[GN_SHOWBUF];
			unsigned char ip[16];
			int af = 0;

			if (gnutls_x509_dn_get_rdn_ava(c->subject, r, a, &ava) < 0) {
				if (a == 0)
					return;
				break;
			}
			if (!wp_oid_is(&ava, OID_CN))
				continue;
			v = ava.value.data;
			vn = ava.value.size;
			if (vn < sizeof(s) && memchr(v, '\0', vn) == NULL) {
				memcpy(s, v, vn);
				s[vn] = '\0';
				if (inet_pton(AF_INET, s, ip) == 1)
					af = 4;
				else if (inet_pton(AF_INET6, s, ip) == 1)
					af = 16;
			}
			for (size_t i = 0; i < c->sans.n && !found; i++) {
				const struct gn_name *n = &c->sans.v[i];

				if (n->kind == GN_DNS)
					found = gn_untrail(n->v, n->n) == gn_untrail(v, vn) &&
					    gn_ieq(n->v, v, gn_untrail(v, vn));
				else if (n->kind == GN_IP && af != 0)
					found = n->n == (size_t)af && memcmp(n->v, ip, n->n) == 0;
			}
			if (!found) {
				gn_show(vs, v, vn);
				wp_add(x, VBIT_CN_NOT_IN_SAN, c,
				    "the leaf's subject CN \"%s\" is not among its subjectAltName names", vs);
			}
		}
	}
}

static void
wp_rule_keys(struct wp_ctx *x)
{
	for (size_t k = 0; k < x->n; k++) {
		const struct wp_cert *c = &x->c[k];
		unsigned bits = 0;
		int pk = gnutls_x509_crt_get_pk_algorithm(c->crt, &bits);
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
		gnutls_datum_t ex = { NULL, 0 }, ey = { NULL, 0 };
		const char *name;

		switch (pk) {
		case GNUTLS_PK_RSA:
			if (bits < 2048)
				wp_add(x, VBIT_WEAK_KEY, c,
				    "the RSA key of %s has %u bits; at least 2048 are required",
				    c->who, bits);
			break;
		case GNUTLS_PK_EC:
			if (gnutls_x509_crt_get_pk_ecc_raw(c->crt, &curve, &ex, &ey) < 0)
				curve = GNUTLS_ECC_CURVE_INVALID;
			gnutls_free(ex.data);
			gnutls_free(ey.data);
			if (curve == GNUTLS_ECC_CURVE_SECP256R1 ||
			    curve == GNUTLS_ECC_CURVE_SECP384R1 ||
			    curve == GNUTLS_ECC_CURVE_SECP521R1)
				break;
			name = curve != GNUTLS_ECC_CURVE_INVALID ?
			    gnutls_ecc_curve_get_name(curve) : NULL;
			wp_add(x, VBIT_DISALLOWED_CURVE, c,
			    "the EC key of %s is on %s; only P-256, P-384 and P-521 are allowed",
			    c->who, name ? name : "a curve GnuTLS does not know");
			break;
		default: {
			char oid[128];
			size_t size = sizeof(oid);

			name = pk > 0 ? gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : NULL;
			if (name == NULL && gnutls_x509_crt_get_pk_oid(c->crt, oid, &size) >= 0)
				name = oid;
			wp_add(x, VBIT_DISALLOWED_KEY_TYPE, c,
			    "%s has a %s key; only RSA and ECDSA keys are allowed",
			    c->who, name ? name : "unknown");
			break;
		}
		}
	}
}

/* Extensions RFC 5280 (4.2.1, 4.2.2) and RFC 7633 define: known to a
 * verifier, critical or not. */
static const char *const wp_known_exts[] = {
	"2.5.29.9", "2.5.29.14", "2.5.29.15", "2.5.29.16", "2.5.29.17",
	"2.5.29.18", "2.5.29.19", "2.5.29.30", "2.5.29.31", "2.5.29.32",
	"2.5.29.33", "2.5.29.35", "2.5.29.36", "2.5.29.37", "2.5.29.46",
	"2.5.29.54", "1.3.6.1.5.5.7.1.1", "1.3.6.1.5.5.7.1.11",
	"1.3.6.1.5.5.7.1.24",
};

static void
wp_rule_extensions(struct wp_ctx *x, const struct wp_cert *c)
{
	int aki = 0, ski = 0;

	for (unsigned i = 0; i <= WP_MAX_EXTS; i++) {
		char oid[128];
		size_t size = sizeof(oid);
		unsigned crit = 0, known = 0;
		int ret;

		if (i == WP_MAX_EXTS) {
			wp_add(x, VBIT_UNKNOWN_CRIT_EXT, c,
			    "%s has more than %d extensions, more than tlswatch reads",
			    c->who, WP_MAX_EXTS);
			break;
		}
		ret = gnutls_x509_crt_get_extension_info(c->crt, i, oid, &size, &crit);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0) {
			wp_add(x, VBIT_UNKNOWN_CRIT_EXT, c,
			    "the extensions of %s cannot be read", c->who);
			break;
		}
		if (strcmp(oid, OID_AKI) == 0) {
			aki = 1;
			if (crit)
				wp_add(x, VBIT_AKI_CRITICAL, c,
				    "the authorityKeyIdentifier of %s is marked critical", c->who);
		} else if (strcmp(oid, OID_SKI) == 0) {
			ski = 1;
			if (crit)
				wp_add(x, VBIT_SKI_CRITICAL, c,
				    "the subjectKeyIdentifier of %s is marked critical", c->who);
		} else if (strcmp(oid, OID_AIA) == 0 && crit) {
			wp_add(x, VBIT_AIA_CRITICAL, c,
			    "the authorityInfoAccess of %s is marked critical", c->who);
		}
		if (!crit)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(wp_known_exts); k++)
			if (strcmp(oid, wp_known_exts[k]) == 0)
				known = 1;
		if (known)
			continue;
		if (strcmp(oid, OID_CT_POISON) == 0)
			wp_add(x, VBIT_UNKNOWN_CRIT_EXT, c,
			    "%s carries the critical CT poison extension: it is a precertificate, not a certificate",
			    c->who);
		else
			wp_add(x, VBIT_UNKNOWN_CRIT_EXT, c,
			    "%s marks extension %s critical; clients that do not know it reject the certificate",
			    c->who, oid);
	}
	/* A version 1 certificate has no extensions at all: v1_ca says so. */
	if (c->version < 3)
		return;
	if (!aki && !c->self_signed)
		wp_add(x, VBIT_AKI_MISSING, c,
		    "%s has no authorityKeyIdentifier", c->who);
	if (c->pos > 0 && !ski)
		wp_add(x, VBIT_SKI_MISSING, c,
		    "%s has no subjectKeyIdentifier", c->who);
}

static void
wp_rule_aia(struct wp_ctx *x, const struct wp_cert *c)
{
	gnutls_datum_t d;
	gnutls_x509_aia_t aia;
	int critical = 0, ret;
	const char *bad = NULL;

	if ((ret = wp_ext(c->crt, OID_AIA, &d, &critical)) == 0)
		return;
	if (ret < 0)
		bad = "it appears twice";
	else if (gnutls_x509_aia_init(&aia) < 0)
		bad = "out of memory";
	else {
		if (gnutls_x509_ext_import_aia(&d, aia, 0) < 0) {
			bad = "it does not parse";
		} else {
			unsigned seq;

			for (seq = 0; seq < 64; seq++) {
				gnutls_datum_t oid, san;
				unsigned type;

				ret = gnutls_x509_aia_get(aia, seq, &oid, &type, &san);
				if (ret < 0)
					break;
				if (type != GNUTLS_SAN_URI) {
					bad = "an access location that is not a URI";
					break;
				}
			}
			if (bad == NULL && seq == 0)
				bad = "it is empty";
		}
		gnutls_x509_aia_deinit(aia);
	}
	gnutls_free(d.data);
	if (bad != NULL)
		wp_add(x, VBIT_AIA_MALFORMED, c,
		    "the authorityInfoAccess of %s is malformed: %s", c->who, bad);
}

static void
wp_rule_serial(struct wp_ctx *x, const struct wp_cert *c)
{
	unsigned char s[64];
	size_t size = sizeof(s), i;
	int ret = gnutls_x509_crt_get_serial(c->crt, s, &size);

	if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER || (ret >= 0 && size > 20)) {
		wp_add(x, VBIT_SERIAL_TOO_LONG, c,
		    "the serial number of %s takes %s octets; at most 20 are allowed",
		    c->who, ret >= 0 ? "more than 20" : "more than 64");
		return;
	}
	if (ret < 0 || size == 0)
		return;
	if (s[0] & 0x80) {
		wp_add(x, VBIT_SERIAL_NEGATIVE, c,
		    "the serial number of %s is negative", c->who);
		return;
	}
	for (i = 0; i < size && s[i] == 0; i++)
		;
	if (i == size)
		wp_add(x, VBIT_SERIAL_ZERO, c,
		    "the serial number of %s is zero", c->who);
}

static void
wp_rule_signature(struct wp_ctx *x, const struct wp_cert *c)
{
	int sign = gnutls_x509_crt_get_signature_algorithm(c->crt);
	gnutls_digest_algorithm_t dig;

	if (sign <= 0)
		return;
	dig = gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sign);
	if (dig == GNUTLS_DIG_SHA1)
		wp_add(x, VBIT_SHA1_SIGNATURE, c,
		    "%s is signed with SHA-1 (%s), which collisions have broken",
		    c->who, gnutls_sign_get_name((gnutls_sign_algorithm_t)sign));
	else if (dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_MD2)
		wp_add(x, VBIT_MD5_SIGNATURE, c,
		    "%s is signed with %s, which collisions have broken",
		    c->who, gnutls_sign_get_name((gnutls_sign_algorithm_t)sign));
}

/* What every certificate below the anchor must be. */
static void
wp_rule_profile(struct wp_ctx *x)
{
	for (size_t k = 0; k < x->n; k++) {
		const struct wp_cert *c = &x->c[k];

		if (!c->below)
			continue;
		wp_rule_extensions(x, c);
		wp_rule_aia(x, c);
		wp_rule_serial(x, c);
		wp_rule_signature(x, c);
		if (c->empty_subject && (!c->san || !c->san_critical))
			wp_add(x, VBIT_EMPTY_SUBJECT_SAN_NOT_CRITICAL, c,
			    "%s has an empty subject and %s", c->who, c->san ?
			    "a subjectAltName not marked critical" : "no subjectAltName");
	}
}

void
webpki_evaluate(const struct webpki_input *in, struct findings *out)
{
	struct wp_ctx *x;

	if (in == NULL || in->path == NULL || in->npath == 0)
		return;
	x = xcalloc(1, sizeof(*x));
	x->out = out;
	x->n = in->npath < WEBPKI_MAX_PATH ? in->npath : WEBPKI_MAX_PATH;
	x->anchored = in->anchored && x->n == in->npath;
	for (size_t k = 0; k < x->n; k++) {
		struct wp_cert *c = &x->c[k];

		c->crt = in->path[k].crt;
		c->depth = in->path[k].depth;
		c->pos = k;
		c->anchor = x->anchored && k + 1 == x->n;
		c->below = !c->anchor;
	}
	for (size_t k = 0; k < x->n; k++)
		wp_load(x, &x->c[k]);

	wp_rule_nc(x);
	wp_rule_path_length(x);
	wp_rule_eku(x);
	wp_rule_ca(x);
	wp_rule_leaf(x);
	wp_rule_names(x);
	wp_rule_keys(x);
	wp_rule_profile(x);

	for (size_t k = 0; k < x->n; k++)
		wp_fini(&x->c[k]);
	free(x);
}

void
webpki_evaluate_path(const struct check_chain *cc, const struct check_path *p,
    struct findings *out)
{
	struct webpki_cert path[CHECK_MAX_DEPTH + 1];
	struct webpki_input in;
	size_t n = 0;

	for (size_t i = 0; i < p->n && n < ARRAY_SIZE(path); i++) {
		long depth = p->index[i];

		if (depth < 0) {
			/* The anchor, a copy from the store: the server may have
			 * sent it too, or it may be the last certificate itself
			 * (a trusted self-signed leaf). */
			for (size_t k = 0; k < cc->n; k++) {
				if (gnutls_x509_crt_equals(p->crt[i], cc->crt[k])) {
					depth = (long)k;
					break;
				}
			}
			if (n > 0 && depth == path[n - 1].depth)
				continue;
			if (depth < 0)
				depth = (long)i;
		}
		path[n].crt = p->crt[i];
		path[n].depth = (int)depth;
		n++;
	}
	in.path = path;
	in.npath = n;
	in.anchored = p->n > 0 && p->index[p->n - 1] == -1;
	webpki_evaluate(&in, out);
}
