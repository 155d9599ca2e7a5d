/* mtasts.h - MTA-STS (RFC 8461) policies and TXT records, TLS-RPT
 * (RFC 8460) records, and MX pattern matching. Pure: no I/O. */
#ifndef TLSWATCH_MTASTS_H
#define TLSWATCH_MTASTS_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8461 section 3.3: senders should take at most 64 KiB of policy. */
#define MTASTS_POLICY_MAX 65536
/* mx patterns kept from one policy; more is invalid (real ones have a few). */
#define MTASTS_MAX_MX 64
/* RFC 8461 section 3.2: max_age is at most 31557600 seconds (a year). */
#define MTASTS_MAX_AGE_MAX 31557600u
/* RFC 8461 section 3.1: an id is 1 to 32 letters and digits. */
#define MTASTS_ID_MAX 32

enum mtasts_mode {
	MTASTS_ENFORCE,
	MTASTS_TESTING,
	MTASTS_NONE,
};

struct mtasts_policy {
	enum mtasts_mode mode;
	uint32_t max_age;
	size_t nmx;
	char **mx;            /* patterns as written, lowercased: "mx1.example.org", "*.example.org" */
};

/* "enforce", "testing", "none". */
const char *mtasts_mode_name(enum mtasts_mode m);

/*
 * Parse a policy body text[0..len) (RFC 8461 section 3.2): lines of
 * "key: value" ending in LF or CRLF; version STSv1, mode and max_age
 * required, at least one mx unless mode is none; for fields other than mx
 * the first occurrence counts; unknown fields are ignored; empty lines
 * are skipped. Returns 0, or -1 with err (a line number and what is wrong)
 * filled; *p is always safe to free.
 */
int mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *p, char *err,
                        size_t errsize);
void mtasts_policy_free(struct mtasts_policy *p);

/* Does host (a name, a final dot allowed) match pattern (RFC 8461 section
 * 4.1: equal, or "*.rest" with exactly one more label on the left)?
 * Case-insensitive. */
int mtasts_mx_match(const char *pattern, const char *host);
/* Does any of the policy's patterns match host? */
int mtasts_policy_covers(const struct mtasts_policy *p, const char *host);

/*
 * One TXT record of _mta-sts.DOMAIN, text[0..len): 1 when it is an STSv1
 * record (begins with "v=STSv1" then ';' or a space), 0 when it is some
 * other record (to be discarded, RFC 8461 section 3.1). For an STSv1
 * record, *valid says whether it parses and id (MTASTS_ID_MAX + 1 bytes)
 * holds its id; err says what is wrong when it does not.
 */
int mtasts_record_parse(const char *text, size_t len, int *valid, char *id, char *err,
                        size_t errsize);

/* One TXT record of _smtp._tls.DOMAIN: 1 when it is a TLSRPTv1 record,
 * 0 when it is another (discarded, RFC 8460 section 3); *valid whether it
 * parses, with at least one rua URI, each mailto: or https:. */
int tlsrpt_record_parse(const char *text, size_t len, int *valid, char *err,
                        size_t errsize);

#endif
