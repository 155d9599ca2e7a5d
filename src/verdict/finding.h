/* finding.h - what checks find wrong with one certificate: for each word
 * of tlswatch_cert_issue{depth,sha256,issue} (verdict.h), where its rule
 * comes from and what each policy does with it; and the list a check
 * fills, with a sentence per finding. */
#ifndef TLSWATCH_FINDING_H
#define TLSWATCH_FINDING_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict/verdict.h"

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
 * A finding's id is its bit in verdict.h's VERDICT_CERT_ISSUES (VBIT_...),
 * whose word it publishes; finding.c's table says, for each, the reason it
 * fails the verdict with, what each policy does with it and where the rule
 * comes from. A new rule is a line in each.
 */
/* What a policy does with a finding. */
enum finding_effect {
	FINDING_OFF,   /* not looked for */
	FINDING_NOTE,  /* published; the verdict stands */
	FINDING_FAIL,  /* published, and the verdict fails with the rule's reason */
};

struct finding_rule {
	uint64_t reason;           /* the REASON() it fails the verdict with */
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
	unsigned id;           /* its VBIT_ in VERDICT_CERT_ISSUES */
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
/* The reasons (REASON() bits) the findings fail the verdict with under
 * policy p. */
uint64_t findings_reasons(const struct findings *f, enum policy p);

#endif
