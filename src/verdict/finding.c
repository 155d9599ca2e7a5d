/*
 * finding.c - the table of per-certificate findings and the list checks
 * fill with them.
 *
 * One line per rule: its word (a metric label value, fixed), the reason the
 * verdict fails with, what each policy does with it, which certificates it
 * looks at, the rule in a line and where it comes from. README's table of
 * rules is this table. What a TLS client must reject (name constraints,
 * path length, purpose, key usage) fails under both policies with a reason
 * of its own; the rest of the Web PKI's rules fail `public` with `webpki`
 * and are only published under `private`.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "verdict/finding.h"
#include "verdict/verdict.h"

#define BOTH(reason) (reason), { FINDING_FAIL, FINDING_FAIL }
#define PUBLIC       REASON(WEBPKI), { FINDING_FAIL, FINDING_NOTE }

static const struct finding_rule finding_rules[VERDICT_NCERT_ISSUES] = {
	[VBIT_NAME_NOT_PERMITTED] = {
	    BOTH(REASON(NAME_CONSTRAINTS)), "every name of every certificate below a CA with name constraints",
	    "each DNS name, IP address, email address, URI and directory name (and the leaf's subject CN when it is a host name) lies within the CA's permitted subtrees of its kind",
	    "RFC 5280 4.2.1.10, 6.1.3 (b)" },
	[VBIT_NAME_EXCLUDED] = {
	    BOTH(REASON(NAME_CONSTRAINTS)), "every name of every certificate below a CA with name constraints",
	    "no name lies within the CA's excluded subtrees (a wildcard is excluded when any name it matches is)",
	    "RFC 5280 4.2.1.10, 6.1.3 (c)" },
	[VBIT_NAME_CONSTRAINTS_UNEVALUABLE] = {
	    BOTH(REASON(NAME_CONSTRAINTS)), "a CA with name constraints, and the certificates below it",
	    "the constraints and the names they apply to can be evaluated: a malformed extension, minimum or maximum, a constraint of a kind tlswatch does not evaluate meeting a name of that kind, or a name not in DNS syntax fails closed",
	    "RFC 5280 4.2.1.10" },
	[VBIT_PATH_LENGTH_EXCEEDED] = {
	    BOTH(REASON(PATH_LENGTH)), "every CA with pathLenConstraint",
	    "no more intermediates below the CA than its pathLenConstraint allows",
	    "RFC 5280 4.2.1.9, 6.1.4 (l)-(m)" },
	[VBIT_NO_SERVER_AUTH] = {
	    BOTH(REASON(PURPOSE)), "the leaf",
	    "an extended key usage, when present, includes serverAuth (anyExtendedKeyUsage alone does not do)",
	    "RFC 5280 4.2.1.12; BR 7.1.2.7.10" },
	[VBIT_NO_EKU] = {
	    PUBLIC, "the leaf",
	    "the leaf has an extended key usage extension",
	    "BR 7.1.2.7.10" },
	[VBIT_CA_EKU_EXCLUDES_SERVER_AUTH] = {
	    BOTH(REASON(PURPOSE)), "every CA of the path, the trust anchor included",
	    "a CA's extended key usage, when present, includes serverAuth or anyExtendedKeyUsage",
	    "RFC 5280 4.2.1.12; BR 7.1.2.10.6" },
	[VBIT_ROOT_HAS_EKU] = {
	    PUBLIC, "the trust anchor (or a self-signed top of an unverified path)",
	    "a root has no extended key usage",
	    "BR 7.1.2.1.2" },
	[VBIT_CA_BASIC_CONSTRAINTS] = {
	    PUBLIC, "every CA below the trust anchor",
	    "a CA certificate carries basicConstraints with cA TRUE, marked critical",
	    "RFC 5280 4.2.1.9; BR 7.1.2.10.4" },
	[VBIT_LEAF_IS_CA] = {
	    PUBLIC, "the leaf",
	    "the leaf's basicConstraints does not say cA TRUE",
	    "BR 7.1.2.7.8" },
	[VBIT_LEAF_KEY_CERT_SIGN] = {
	    PUBLIC, "the leaf",
	    "the leaf's key usage does not include keyCertSign",
	    "BR 7.1.2.7.11" },
	[VBIT_LEAF_KEY_USAGE] = {
	    BOTH(REASON(KEY_USAGE)), "the leaf",
	    "a key usage, when present, includes digitalSignature, which every TLS 1.3 and ECDHE handshake needs",
	    "RFC 5280 4.2.1.3; RFC 8446 4.4.2.2; BR 7.1.2.7.11" },
	[VBIT_CA_KEY_USAGE] = {
	    BOTH(REASON(KEY_USAGE)), "every CA of the path, the trust anchor included",
	    "a CA's key usage, when present, includes keyCertSign",
	    "RFC 5280 4.2.1.3, 6.1.4 (n)" },
	[VBIT_CA_NO_KEY_USAGE] = {
	    PUBLIC, "every CA below the trust anchor",
	    "a CA certificate has a key usage extension",
	    "RFC 5280 4.2.1.3; BR 7.1.2.10.7" },
	[VBIT_V1_CA] = {
	    PUBLIC, "every CA below the trust anchor",
	    "a CA certificate is version 3",
	    "RFC 5280 6.1.4 (k); BR 7.1.1" },
	[VBIT_AKI_MISSING] = {
	    PUBLIC, "every certificate below the trust anchor that is not self-signed",
	    "the certificate has an authorityKeyIdentifier",
	    "RFC 5280 4.2.1.1; BR 7.1.2.11.1" },
	[VBIT_SKI_MISSING] = {
	    PUBLIC, "every CA below the trust anchor",
	    "a CA certificate has a subjectKeyIdentifier",
	    "RFC 5280 4.2.1.2; BR 7.1.2.11.4" },
	[VBIT_AKI_CRITICAL] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "authorityKeyIdentifier is not critical",
	    "RFC 5280 4.2.1.1" },
	[VBIT_SKI_CRITICAL] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "subjectKeyIdentifier is not critical",
	    "RFC 5280 4.2.1.2" },
	[VBIT_SERIAL_ZERO] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "the serial number is not zero",
	    "RFC 5280 4.1.2.2; BR 7.1" },
	[VBIT_SERIAL_NEGATIVE] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "the serial number is not negative",
	    "RFC 5280 4.1.2.2; BR 7.1" },
	[VBIT_SERIAL_TOO_LONG] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "the serial number takes at most 20 octets",
	    "RFC 5280 4.1.2.2; BR 7.1" },
	[VBIT_NO_SAN] = {
	    PUBLIC, "the leaf",
	    "the leaf has a subjectAltName (clients no longer read the subject CN)",
	    "RFC 6125 6.4.4; BR 7.1.2.7.12" },
	[VBIT_CN_NOT_IN_SAN] = {
	    PUBLIC, "the leaf",
	    "a subject CN repeats one of the subjectAltName's DNS names or IP addresses",
	    "BR 7.1.4.3" },
	[VBIT_UNDERSCORE_IN_DNS_NAME] = {
	    PUBLIC, "the leaf",
	    "no DNS name of the subjectAltName contains an underscore",
	    "BR 7.1.2.7.12 (ballot SC12)" },
	[VBIT_INVALID_DNS_NAME] = {
	    PUBLIC, "the leaf",
	    "every DNS name of the subjectAltName is in preferred name syntax: letters, digits and hyphens in labels of 1 to 63, at most 253 in all, a wildcard only as the whole leftmost label",
	    "RFC 5280 4.2.1.6; RFC 1034 3.5; BR 7.1.2.7.12" },
	[VBIT_WILDCARD_ON_PUBLIC_SUFFIX] = {
	    PUBLIC, "the leaf",
	    "no wildcard stands directly left of a public suffix (the ICANN section of the Public Suffix List, through libpsl)",
	    "BR 3.2.2.6" },
	[VBIT_EMPTY_SUBJECT_SAN_NOT_CRITICAL] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "a certificate with an empty subject has a critical subjectAltName",
	    "RFC 5280 4.1.2.6, 4.2.1.6" },
	[VBIT_WEAK_KEY] = {
	    PUBLIC, "every certificate of the path, the trust anchor included",
	    "an RSA key has at least 2048 bits",
	    "BR 6.1.5" },
	[VBIT_DISALLOWED_CURVE] = {
	    PUBLIC, "every certificate of the path, the trust anchor included",
	    "an EC key is on P-256, P-384 or P-521",
	    "BR 6.1.5, 7.1.3.1.2" },
	[VBIT_DISALLOWED_KEY_TYPE] = {
	    PUBLIC, "every certificate of the path, the trust anchor included",
	    "the key is RSA or ECDSA (not DSA, EdDSA, GOST or RSA-PSS-only)",
	    "BR 6.1.5, 7.1.3.1" },
	[VBIT_SHA1_SIGNATURE] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "the certificate is not signed with SHA-1",
	    "BR 7.1.3.2" },
	[VBIT_MD5_SIGNATURE] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "the certificate is not signed with MD5 (or MD2)",
	    "RFC 6151; BR 7.1.3.2" },
	[VBIT_UNKNOWN_CRIT_EXT] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "every critical extension is one RFC 5280 or RFC 7633 defines",
	    "RFC 5280 4.2" },
	[VBIT_AIA_MALFORMED] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "authorityInfoAccess, when present, parses and gives each access method a URI",
	    "RFC 5280 4.2.2.1; BR 7.1.2.7.7" },
	[VBIT_AIA_CRITICAL] = {
	    PUBLIC, "every certificate below the trust anchor",
	    "authorityInfoAccess is not critical",
	    "RFC 5280 4.2.2.1" },
};

static const char *const policy_names[POLICY_N] = { "public", "private" };

const char *
policy_name(unsigned p)
{
	return p < POLICY_N ? policy_names[p] : NULL;
}

int
policy_parse(const char *s, enum policy *p)
{
	for (unsigned i = 0; i < POLICY_N; i++) {
		if (s != NULL && strcmp(s, policy_names[i]) == 0) {
			*p = (enum policy)i;
			return 0;
		}
	}
	return -1;
}

const struct finding_rule *
finding_rule(unsigned id)
{
	return id < VERDICT_NCERT_ISSUES ? &finding_rules[id] : NULL;
}

const char *
finding_name(unsigned id)
{
	return id < VERDICT_NCERT_ISSUES ? verdict_word(VERDICT_CERT_ISSUE, id) : NULL;
}

void
findings_init(struct findings *f)
{
	memset(f, 0, sizeof(*f));
}

void
findings_fini(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

void
findings_add(struct findings *f, unsigned id, int depth, const char *sha256,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	findings_vadd(f, id, depth, sha256, fmt, ap);
	va_end(ap);
}

void
findings_vadd(struct findings *f, unsigned id, int depth, const char *sha256,
    const char *fmt, va_list ap)
{
	struct finding *x;
	struct buf b;

	for (size_t i = 0; i < f->n; i++) {
		x = &f->v[i];
		if (x->id == id && x->depth == depth &&
		    strcmp(x->sha256, sha256) == 0) {
			char *t;

			x->more++;
			t = xasprintf("%.*s (and %u more)", (int)x->base,
			    x->text, x->more);
			free(x->text);
			x->text = t;
			return;
		}
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->id = id;
	x->depth = depth;
	snprintf(x->sha256, sizeof(x->sha256), "%s", sha256);
	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	x->text = buf_steal(&b);
	x->base = strlen(x->text);
}

int
findings_has(const struct findings *f, unsigned id)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].id == id)
			return 1;
	return 0;
}

uint64_t
findings_reasons(const struct findings *f, enum policy p)
{
	uint64_t reasons = 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct finding_rule *r = finding_rule(f->v[i].id);

		if (r != NULL && (unsigned)p < POLICY_N &&
		    r->effect[p] == FINDING_FAIL)
			reasons |= r->reason;
	}
	return reasons;
}
