/*
 * scan.c - which TLS versions a server accepts.
 *
 * Each version gets a probe of its own whose priority string offers that
 * version alone. On Debian 12, GnuTLS 3.7.9's NORMAL still enables TLS 1.0
 * and 1.1 on the client side (Debian ships no /etc/gnutls/config policy),
 * so "NORMAL:-VERS-ALL:+VERS-TLS1.0" completes a TLS 1.0 handshake; no
 * %VERIFY_ALLOW_SHA1 is needed, since it only concerns certificate
 * verification, which the probe does apart from the handshake (chain.c),
 * and GnuTLS accepts TLS 1.0's MD5+SHA-1 and SHA-1 handshake signatures.
 * Before TLS 1.3 the legacy ciphers NORMAL leaves out (3DES, RC4) and
 * DHE-DSS are added back, with every signature algorithm and group, so
 * that an old server is not called "refused" for want of a cipher in
 * common. On the server side OpenSSL 3.0 needs security level 0 for TLS
 * 1.0 and 1.1 (at level 1 it has no SHA-1 signature to offer and answers
 * internal_error): tests/test_scan_tls.py runs it so.
 */
#include "config.h"

#include <string.h>

#include "probe/scan.h"

#define LEGACY ":+3DES-CBC:+ARCFOUR-128:+DHE-DSS:+SIGN-ALL:+GROUP-ALL"

static const struct {
	const char *name;
	const char *priority;
} versions[SCAN_NVERSIONS] = {
	[SCAN_TLS1_0] = { "TLS1.0", "NORMAL:-VERS-ALL:+VERS-TLS1.0" LEGACY },
	[SCAN_TLS1_1] = { "TLS1.1", "NORMAL:-VERS-ALL:+VERS-TLS1.1" LEGACY },
	[SCAN_TLS1_2] = { "TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.2" LEGACY },
	[SCAN_TLS1_3] = { "TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+SIGN-ALL:+GROUP-ALL" },
};

const char *
scan_version_name(unsigned v)
{
	return v < SCAN_NVERSIONS ? versions[v].name : NULL;
}

const char *
scan_priority(unsigned v)
{
	return v < SCAN_NVERSIONS ? versions[v].priority : NULL;
}

void
scan_target(const struct conf_target *ct, unsigned v, struct conf_target *out)
{
	*out = *ct;
	out->tls.priority = (char *)scan_priority(v);
}

static const char *const answers[] = {
	[SCAN_ACCEPTED] = "accepted",
	[SCAN_REFUSED] = "refused",
	[SCAN_UNKNOWN] = "unknown",
};

const char *
scan_answer_name(enum scan_answer a)
{
	return (unsigned)a < sizeof(answers) / sizeof(answers[0]) ? answers[a] : "unknown";
}

/*
 * The handshake failed because of what the server said or did once it had
 * our ClientHello: an alert (protocol_version, handshake_failure,
 * internal_error, ...), a ServerHello of another version (protocol_error),
 * nothing in common, or the connection closed or reset. Anything else
 * (io_error, other, a stage before the handshake, the deadline) says
 * nothing about the version.
 */
static int
refusal(const char *reason)
{
	return strncmp(reason, "alert_", 6) == 0 || strcmp(reason, "protocol_error") == 0 ||
	    strcmp(reason, "no_common_cipher") == 0 || strcmp(reason, "closed") == 0 ||
	    strcmp(reason, "reset") == 0;
}

enum scan_answer
scan_answer(const struct result *r, unsigned v)
{
	if (r == NULL || v >= SCAN_NVERSIONS)
		return SCAN_UNKNOWN;
	if (r->success)
		return r->tls_version != NULL && strcmp(r->tls_version, versions[v].name) == 0 ?
		    SCAN_ACCEPTED : SCAN_UNKNOWN;
	if (r->fail_stage != NULL && strcmp(r->fail_stage, "handshake") == 0 &&
	    r->fail_reason != NULL && refusal(r->fail_reason))
		return SCAN_REFUSED;
	return SCAN_UNKNOWN;
}

int
scan_legacy(const enum scan_answer a[SCAN_NVERSIONS])
{
	return a[SCAN_TLS1_0] == SCAN_ACCEPTED || a[SCAN_TLS1_1] == SCAN_ACCEPTED;
}
