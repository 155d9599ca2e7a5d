/* tls.c - the GnuTLS client session: handshake without verification, so
 * that a chain that fails verification is still received in full. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/log.h"
#include "probe/tls.h"
#include "core/util.h"

/* Stapled OCSP responses kept per certificate, at most: a TLS 1.3 server
 * may staple one for each certificate it sends. */
#define TLS_MAX_STAPLES 16

/* The signed_certificate_timestamp extension (RFC 6962 3.3.1). */
#define TLS_EXT_SCT 18

struct tls {
	gnutls_session_t session;
	struct der *chain;
	size_t nchain;
	struct der staples[TLS_MAX_STAPLES];
	unsigned char *scts;     /* the server's extension data, or NULL */
	size_t nscts;
	int key_usage_violation;
};

/*
 * SCTs from the TLS extension. GnuTLS 3.7.9 has no support of its own for
 * it, but lets a session register an extension by number: we send it empty
 * in the ClientHello and keep what a TLS 1.2 (or earlier) ServerHello
 * returns. In TLS 1.3 the SCTs travel in the Certificate message's
 * extensions, which GnuTLS does not hand on, so there they stay unknown.
 * The data is at most 65535 bytes (an extension's length field); sct.c
 * parses it later.
 */
static int
sct_ext_recv(gnutls_session_t session, const unsigned char *data, size_t len)
{
	struct tls *t = gnutls_session_get_ptr(session);

	if (t == NULL || t->scts != NULL)
		return 0;          /* one per handshake; GnuTLS refuses repeats anyway */
	t->scts = xmalloc(len ? len : 1);
	if (len)
		memcpy(t->scts, data, len);
	t->nscts = len;
	return 0;
}

static int
sct_ext_send(gnutls_session_t session, gnutls_buffer_t extdata)
{
	(void)session;
	(void)extdata;
	return GNUTLS_E_INT_RET_0;     /* send the extension, empty */
}

/* One credentials object for every session: it holds no trust anchors
 * (verification happens in chain.c against each target's own store). */
static gnutls_certificate_credentials_t tls_cred;

/*
 * Priority strings parsed once per process: parsing one (what
 * gnutls_priority_set_direct and gnutls_set_default_priority do for every
 * session) costs about 77,000 instructions, more than 1% of a handshake,
 * and gives the same answer every time. gnutls_priority_set takes its own
 * reference, so a cached one is shared by every session that uses it, as
 * set_direct's would have been. Bounded: strings past TLS_MAX_PRIOS (a
 * configuration naming that many, or reloads changing them) are parsed per
 * session as before. Loop thread only, as every session is.
 */
#define TLS_MAX_PRIOS 64

static struct tls_prio {
	char *text;              /* NULL: GnuTLS's default */
	gnutls_priority_t prio;
} tls_prios[TLS_MAX_PRIOS];
static size_t tls_nprios;

static void
tls_prios_free(void)
{
	for (size_t i = 0; i < tls_nprios; i++) {
		gnutls_priority_deinit(tls_prios[i].prio);
		free(tls_prios[i].text);
	}
	tls_nprios = 0;
}

/* Set priority (NULL: the default) on session, parsed at its first use. */
static int
tls_set_priority(gnutls_session_t session, const char *priority)
{
	gnutls_priority_t prio;
	const char *errpos = NULL;
	int rc;

	for (size_t i = 0; i < tls_nprios; i++) {
		const char *text = tls_prios[i].text;

		if (text == priority || (text && priority && strcmp(text, priority) == 0))
			return gnutls_priority_set(session, tls_prios[i].prio);
	}
	if (tls_nprios == TLS_MAX_PRIOS)
		return priority ? gnutls_priority_set_direct(session, priority, &errpos) :
		    gnutls_set_default_priority(session);
	/* NULL makes GnuTLS's default, as gnutls_set_default_priority does */
	if ((rc = gnutls_priority_init(&prio, priority, &errpos)) < 0)
		return rc;            /* a bad string is not kept: it fails each time */
	tls_prios[tls_nprios].text = priority ? xstrdup(priority) : NULL;
	tls_prios[tls_nprios].prio = prio;
	tls_nprios++;
	return gnutls_priority_set(session, prio);
}

size_t
tls_priority_cached(void)
{
	return tls_nprios;
}

int
tls_init(char **err)
{
	int rc = gnutls_certificate_allocate_credentials(&tls_cred);

	if (rc < 0) {
		*err = xasprintf("gnutls: %s", gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

void
tls_fini(void)
{
	if (tls_cred) {
		gnutls_certificate_free_credentials(tls_cred);
		tls_cred = NULL;
	}
	tls_prios_free();
}

const char *
tls_library_version(void)
{
	return gnutls_check_version(NULL);
}

struct tls *
tls_new(int fd, const char *sni, const char *priority, char **err)
{
	struct tls *t = xcalloc(1, sizeof(*t));
	int rc;

	rc = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0)
		goto fail;
	rc = tls_set_priority(t->session, priority);
	if (rc < 0)
		goto fail;
	rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, tls_cred);
	if (rc < 0)
		goto fail;
	if (sni && *sni) {
		rc = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, sni, strlen(sni));
		if (rc < 0)
			goto fail;
	}
	/* Ask for stapled OCSP in every handshake: revocation checks read it
	 * (tls_facts); GnuTLS does not judge it here, as nothing is verified
	 * during the handshake. */
	rc = gnutls_ocsp_status_request_enable_client(t->session, NULL, 0, NULL);
	if (rc < 0)
		goto fail;
	/* and for SCTs, which a TLS 1.2 server sends in its ServerHello */
	gnutls_session_set_ptr(t->session, t);
	rc = gnutls_session_ext_register(t->session, "signed_certificate_timestamp", TLS_EXT_SCT,
	    GNUTLS_EXT_TLS, sct_ext_recv, sct_ext_send, NULL, NULL, NULL,
	    GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_TLS12_SERVER_HELLO);
	if (rc < 0)
		goto fail;
	/* Our probe has one deadline for all stages; GnuTLS's own is off. */
	gnutls_handshake_set_timeout(t->session, GNUTLS_INDEFINITE_TIMEOUT);
	gnutls_transport_set_int(t->session, fd);
	return t;
fail:
	*err = xasprintf("gnutls: %s", gnutls_strerror(rc));
	tls_free(t);
	return NULL;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->session)
		gnutls_deinit(t->session);
	free(t->chain);
	free(t->scts);
	free(t);
}

/* "GNUTLS_A_HANDSHAKE_FAILURE" becomes "alert_handshake_failure"; GnuTLS
 * knows a fixed set of alerts, so the label stays bounded. */
static const char *
alert_reason(gnutls_alert_description_t alert)
{
	static char names[256][48];
	const char *name = gnutls_alert_get_strname(alert);
	char *out = names[alert & 0xff];

	if (name == NULL)
		return "alert_unknown";
	if (out[0] == '\0') {
		size_t o = 0;
		if (strncmp(name, "GNUTLS_A_", 9) == 0)
			name += 9;
		o = (size_t)snprintf(out, sizeof(names[0]), "alert_");
		for (; *name && o < sizeof(names[0]) - 1; name++)
			out[o++] = (char)(isalnum((unsigned char)*name) ? tolower((unsigned char)*name) : '_');
		out[o] = '\0';
	}
	return out;
}

static const char *
error_reason(gnutls_session_t session, int rc)
{
	switch (rc) {
	case GNUTLS_E_PREMATURE_TERMINATION:
		return "closed";
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		return errno == ECONNRESET || errno == EPIPE ? "reset" : "io_error";
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return alert_reason(gnutls_alert_get(session));
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_NO_COMMON_KEY_SHARE:
		return "no_common_cipher";
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
	case GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET:
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_RECORD_OVERFLOW:
	case GNUTLS_E_DECRYPTION_FAILED:
	case GNUTLS_E_ERROR_IN_FINISHED_PACKET:
	case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER:
	case GNUTLS_E_RECEIVED_ILLEGAL_EXTENSION:
	case GNUTLS_E_ILLEGAL_PARAMETER:
	case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
	case GNUTLS_E_ASN1_DER_ERROR:
	case GNUTLS_E_BASE64_DECODING_ERROR:
	case GNUTLS_E_CERTIFICATE_ERROR:
	case GNUTLS_E_PK_SIG_VERIFY_FAILED:
	case GNUTLS_E_UNWANTED_ALGORITHM:
		return "protocol_error";
	default:
		return "other";
	}
}

enum tls_status
tls_handshake(struct tls *t, const char **reason, char **detail)
{
	int rc;

	for (;;) {
		rc = gnutls_handshake(t->session);
		if (rc == GNUTLS_E_SUCCESS)
			return TLS_DONE;
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
			return gnutls_record_get_direction(t->session) ? TLS_WANT_WRITE : TLS_WANT_READ;
		if (!gnutls_error_is_fatal(rc))
			continue;       /* a warning alert: the handshake goes on */
		break;
	}
	/*
	 * The leaf's key usage forbids what the handshake asks of its key
	 * (a CA certificate as leaf; a leaf without digitalSignature). GnuTLS
	 * 3.7.9 checks it when the server's signature (or, with RSA key
	 * transport, our encryption to its key) comes, after the Certificate
	 * message: the chain is in hand. Its client ignores the violation only
	 * under %COMPAT, which also drops extended master secret and
	 * encrypt-then-MAC from the ClientHello and so changes what every
	 * server sees (%DEBUG_ALLOW_KEY_USAGE_VIOLATIONS is for a server's own
	 * certificate). So the handshake stops here, and the chain it got is
	 * verified as if it had finished; the verdict fails with key_usage
	 * (tls_facts).
	 */
	if (rc == GNUTLS_E_KEY_USAGE_VIOLATION) {
		unsigned int count = 0;

		if (gnutls_certificate_get_peers(t->session, &count) != NULL && count > 0) {
			t->key_usage_violation = 1;
			return TLS_DONE;
		}
	}
	*reason = error_reason(t->session, rc);
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		*detail = xasprintf("%s: %s", gnutls_strerror(rc),
		    gnutls_alert_get_name(gnutls_alert_get(t->session)));
	else if (rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR)
		*detail = xasprintf("%s: %s", gnutls_strerror(rc), strerror(errno));
	else
		*detail = xstrdup(gnutls_strerror(rc));
	return TLS_FAILED;
}

const struct der *
tls_peer_chain(struct tls *t, size_t *n)
{
	const gnutls_datum_t *peers;
	unsigned int count = 0;

	if (t->chain == NULL) {
		if (gnutls_certificate_type_get2(t->session, GNUTLS_CTYPE_SERVER) != GNUTLS_CRT_X509)
			peers = NULL;
		else
			peers = gnutls_certificate_get_peers(t->session, &count);
		if (peers == NULL)
			count = 0;
		t->chain = xcalloc(count ? count : 1, sizeof(*t->chain));
		for (unsigned int i = 0; i < count; i++) {
			t->chain[i].data = peers[i].data;
			t->chain[i].len = peers[i].size;
		}
		t->nchain = count;
	}
	*n = t->nchain;
	return t->chain;
}

void
tls_facts(struct tls *t, struct tls_facts *f)
{
	const char *name;
	gnutls_protocol_t v;
	int sig;

	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < TLS_MAX_STAPLES; i++) {
		gnutls_datum_t resp = { NULL, 0 };

		/* the data stays GnuTLS's, valid while the session lives */
		if (gnutls_ocsp_status_request_get2(t->session, i, &resp) < 0)
			break;
		t->staples[i].data = resp.data;
		t->staples[i].len = resp.size;
		f->nstaples = i + 1;
	}
	f->staples = f->nstaples ? t->staples : NULL;
	/* only TLS 1.2 and earlier can deliver them where GnuTLS shows them */
	v = gnutls_protocol_get_version(t->session);
	f->scts_available = v >= GNUTLS_SSL3 && v <= GNUTLS_TLS1_2;
	if (t->scts != NULL) {
		f->scts.data = t->scts;
		f->scts.len = t->nscts;
	}
	name = gnutls_group_get_name(gnutls_group_get(t->session));
	f->group = name;
	sig = gnutls_sign_algorithm_get(t->session);
	f->sigscheme = sig > 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) : NULL;
	f->key_usage_violation = t->key_usage_violation;
}

const char *
tls_version_name(struct tls *t)
{
	const char *name = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));

	return name ? name : "unknown";
}

const char *
tls_cipher_name(struct tls *t)
{
	const char *name;

#if GNUTLS_VERSION_NUMBER >= 0x030703
	name = gnutls_ciphersuite_get(t->session);
#else
	name = gnutls_cipher_suite_get_name(gnutls_kx_get(t->session),
	    gnutls_cipher_get(t->session), gnutls_mac_get(t->session));
#endif
	return name ? name : "unknown";
}

void
tls_bye(struct tls *t)
{
	/* Best effort: a polite close_notify if the socket takes it now (not
	 * after a handshake stopped at a key-usage violation: GnuTLS has
	 * already sent its alert). */
	if (!t->key_usage_violation)
		(void)gnutls_bye(t->session, GNUTLS_SHUT_WR);
}

struct tls_creds {
	gnutls_certificate_credentials_t cred;
};

struct tls_creds *
tls_creds_load(const char *cert, const char *key, int64_t *not_after, char **err)
{
	struct tls_creds *c = xcalloc(1, sizeof(*c));
	gnutls_x509_crt_t *crts = NULL;
	unsigned int ncrts = 0;
	gnutls_datum_t data = { NULL, 0 };
	int rc;

	if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0)
		goto fail;
	/* Checks that the key matches the certificate. */
	rc = gnutls_certificate_set_x509_key_file2(c->cred, cert, key, GNUTLS_X509_FMT_PEM,
	    NULL, 0);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		*err = xasprintf("the key in \"%s\" does not match the certificate in \"%s\"",
		    key, cert);
		tls_creds_free(c);
		return NULL;
	}
	if (rc < 0)
		goto fail;
	if ((rc = gnutls_load_file(cert, &data)) < 0 ||
	    (rc = gnutls_x509_crt_list_import2(&crts, &ncrts, &data, GNUTLS_X509_FMT_PEM, 0)) < 0)
		goto fail;
	*not_after = ncrts ? time_epoch_or_zero(gnutls_x509_crt_get_expiration_time(crts[0])) : 0;
	for (unsigned int i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	gnutls_free(data.data);
	return c;
fail:
	gnutls_free(data.data);
	*err = xasprintf("cannot load \"%s\" with \"%s\": %s", cert, key, gnutls_strerror(rc));
	tls_creds_free(c);
	return NULL;
}

void
tls_creds_free(struct tls_creds *c)
{
	if (c == NULL)
		return;
	if (c->cred)
		gnutls_certificate_free_credentials(c->cred);
	free(c);
}

int
tls_use_creds(struct tls *t, const struct tls_creds *c, char **err)
{
	int rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, c->cred);

	if (rc < 0) {
		*err = xasprintf("gnutls: %s", gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

int
tls_priority_check(const char *priority, char **err)
{
	gnutls_priority_t prio;
	const char *errpos = NULL;
	int rc = gnutls_priority_init(&prio, priority, &errpos);

	if (rc == 0) {
		gnutls_priority_deinit(prio);
		return 0;
	}
	if (errpos != NULL && errpos >= priority && errpos <= priority + strlen(priority))
		*err = xasprintf("bad priority string at position %zu (\"%s\"): %s",
		    (size_t)(errpos - priority) + 1, errpos, gnutls_strerror(rc));
	else
		*err = xasprintf("bad priority string: %s", gnutls_strerror(rc));
	return -1;
}
