/* finding.h - what checks find wrong with one certificate: the fixed words
 * of tlswatch_cert_issue{depth,sha256,issue}, where each rule comes from and
 * what each policy does with it, and the list a check fills. */
#ifndef TLSWATCH_FINDING_H
#define TLSWATCH_FINDING_H

#include <stdarg.h>
#include <stddef.h>

/* Which rules a target is held to: the Web PKI's (a target that verifies
 * against the system trust store) or only what every TLS client enforces
 * (a private CA, ca_file). */
enum policy {
	POLICY_PUBLIC,
	POLICY_PRIVATE,
};
#define POLICY_N 2

/* "public", "private"; NULL past the end. */
const char *policy_name(unsigned p);
/* 0 and *p set, or -1 when s is neither. */
int policy_parse(const char *s, enum policy *p);

/*
 * Every finding, one line each in finding.c's table: add a line (and a
 * value here, before FINDING_COUNT) for a new rule; never renumber, since
 * the words are metric label values and the order is the order shown.
 */
enum finding_id {
	/* Name constraints and path length (RFC 5280 4.2.1.9, 4.2.1.10). */
	FINDING_NAME_NOT_PERMITTED,
	FINDING_NAME_EXCLUDED,
	FINDING_NAME_CONSTRAINTS_UNEVALUABLE,
	FINDING_PATH_LENGTH_EXCEEDED,
	/* Extended key usage. */
	FINDING_NO_SERVER_AUTH,
	FINDING_NO_EKU,
	FINDING_CA_EKU_EXCLUDES_SERVER_AUTH,
	FINDING_ROOT_HAS_EKU,
	/* Basic constraints and key usage. */
	FINDING_CA_BASIC_CONSTRAINTS,
	FINDING_LEAF_IS_CA,
	FINDING_LEAF_KEY_CERT_SIGN,
	FINDING_LEAF_KEY_USAGE,
	FINDING_CA_KEY_USAGE,
	FINDING_CA_NO_KEY_USAGE,
	FINDING_V1_CA,
	/* Key identifiers. */
	FINDING_AKI_MISSING,
	FINDING_SKI_MISSING,
	FINDING_AKI_CRITICAL,
	FINDING_SKI_CRITICAL,
	/* Serial numbers. */
	FINDING_SERIAL_ZERO,
	FINDING_SERIAL_NEGATIVE,
	FINDING_SERIAL_TOO_LONG,
	/* Names. */
	FINDING_NO_SAN,
	FINDING_CN_NOT_IN_SAN,
	FINDING_UNDERSCORE_IN_DNS_NAME,
	FINDING_INVALID_DNS_NAME,
	FINDING_WILDCARD_ON_PUBLIC_SUFFIX,
	FINDING_EMPTY_SUBJECT_SAN_NOT_CRITICAL,
	/* Keys and signatures. */
	FINDING_WEAK_KEY,
	FINDING_DISALLOWED_CURVE,
	FINDING_DISALLOWED_KEY_TYPE,
	FINDING_SHA1_SIGNATURE,
	FINDING_MD5_SIGNATURE,
	/* Extensions. */
	FINDING_UNKNOWN_CRITICAL_EXTENSION,
	FINDING_AIA_MALFORMED,
	FINDING_AIA_CRITICAL,
	FINDING_COUNT
};

/* What a policy does with a finding. */
enum finding_effect {
	FINDING_OFF,   /* not looked for */
	FINDING_NOTE,  /* published; the verdict stands */
	FINDING_FAIL,  /* published, and the verdict fails with the rule's reason */
};

struct finding_rule {
	const char *word;          /* the issue label value */
	unsigned reason;           /* enum chain_reason bit it fails with */
	unsigned char effect[POLICY_N];
	const char *applies;       /* to which certificates of the path */
	const char *rule;          /* what it asks, in a line */
	const char *source;        /* "RFC 5280 4.2.1.10", "BR 7.1.2.7.10" */
};

/* The rule of finding id; NULL past the end. */
const struct finding_rule *finding_rule(unsigned id);
/* Its word ("name_excluded"); NULL past the end. */
const char *finding_name(unsigned id);

/* One finding on one certificate. */
struct finding {
	unsigned id;           /* enum finding_id */
	int depth;             /* the certificate's place in the presented
	                        * chain; a trust anchor that was not presented
	                        * has its place on the verified path */
	char sha256[65];       /* of the certificate's DER, lowercase hex */
	char *text;            /* what is wrong, for a person (ASCII) */
	unsigned more;         /* further occurrences folded into this one */
	size_t base;           /* length of text before " (and N more)" */
};

struct findings {
	struct finding *v;
	size_t n, cap;
};

void findings_init(struct findings *f);
void findings_fini(struct findings *f);
/* Add finding id on the certificate (depth, sha256) saying fmt. A second
 * finding of the same id on the same certificate is folded into the first
 * ("... (and 2 more)"), so the list stays bounded by rules times
 * certificates however many names a certificate carries. */
void findings_add(struct findings *f, unsigned id, int depth, const char *sha256,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void findings_vadd(struct findings *f, unsigned id, int depth, const char *sha256,
                   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Whether f holds finding id on any certificate. */
int findings_has(const struct findings *f, unsigned id);
/* The reasons (enum chain_reason bits) the findings fail the verdict with
 * under policy p. */
unsigned findings_reasons(const struct findings *f, enum policy p);

#endif
