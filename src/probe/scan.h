/* scan.h - the protocol scan: which TLS versions a server accepts, one
 * handshake restricted to each, made as a probe of the target with its own
 * priority string. */
#ifndef TLSWATCH_SCAN_H
#define TLSWATCH_SCAN_H

#include "conf/conf.h"
#include "result.h"

enum scan_version {
	SCAN_TLS1_0,
	SCAN_TLS1_1,
	SCAN_TLS1_2,
	SCAN_TLS1_3,
	SCAN_NVERSIONS
};

/* "TLS1.0" ... "TLS1.3", as GnuTLS names them (the version label of
 * tlswatch_tls_version_info); NULL past the end. */
const char *scan_version_name(unsigned v);
/* The GnuTLS priority string of a handshake that offers only version v
 * and, before TLS 1.3, every cipher, key exchange and signature GnuTLS
 * still has: the question is the version, not our preferences. */
const char *scan_priority(unsigned v);

/* ct as probed for version v: the same target (address, STARTTLS, SNI,
 * client certificate), its priority replaced. out shares ct's strings. */
void scan_target(const struct conf_target *ct, unsigned v, struct conf_target *out);

enum scan_answer {
	SCAN_ACCEPTED,   /* the handshake completed at that version */
	SCAN_REFUSED,    /* the server answered, and not with that version */
	SCAN_UNKNOWN,    /* no answer to judge: resolve, connect, STARTTLS or
	                  * the deadline failed, or a local error */
};
/* "accepted", "refused", "unknown" */
const char *scan_answer_name(enum scan_answer a);
/* What the result of version v's probe says. */
enum scan_answer scan_answer(const struct result *r, unsigned v);

/* What a target's scans say, for the pages: each version's last answer
 * (SCAN_UNKNOWN: none yet) and when the last scan that answered ended. */
struct scan_view {
	enum scan_answer answer[SCAN_NVERSIONS];
	double time;
};

/* The word of the target issue below. */
#define SCAN_LEGACY_ISSUE "legacy_tls_enabled"

/* Whether TLS 1.0 or 1.1 was accepted: the target issue legacy_tls_enabled. */
int scan_legacy(const enum scan_answer a[SCAN_NVERSIONS]);

#endif
