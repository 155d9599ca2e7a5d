/* starttls.h - the plaintext dialogues that precede TLS, as pure state
 * machines: bytes in, bytes out, no I/O of their own (probe.c does that). */
#ifndef TLSWATCH_STARTTLS_H
#define TLSWATCH_STARTTLS_H

#include <stddef.h>
#include <stdint.h>

enum starttls_proto {
	STARTTLS_NONE,          /* implicit TLS: the handshake starts at once */
	STARTTLS_SMTP,
	STARTTLS_LMTP,
	STARTTLS_IMAP,
	STARTTLS_POP3,
	STARTTLS_FTP,
	STARTTLS_LDAP,
	STARTTLS_XMPP,
	STARTTLS_SIEVE,
	STARTTLS_NNTP,
	STARTTLS_POSTGRES,
	STARTTLS_MYSQL,
	STARTTLS_COUNT
};

/* Bounds: no line (or binary message) above STARTTLS_MAX_LINE bytes, no
 * more than STARTTLS_MAX_TOTAL bytes read in one dialogue. */
#define STARTTLS_MAX_LINE 4096
#define STARTTLS_MAX_TOTAL 65536

/* "smtp", ..., "none". */
const char *starttls_name(enum starttls_proto p);
/* Name to protocol; 0, or -1 when unknown. */
int starttls_from_name(const char *name, enum starttls_proto *p);
/* The protocol a well-known port speaks; STARTTLS_NONE for any other. */
enum starttls_proto starttls_for_port(uint16_t port);

enum starttls_status {
	STARTTLS_WANT_READ,
	STARTTLS_WANT_WRITE,
	STARTTLS_DONE,          /* TLS may start now */
	STARTTLS_FAILED,
};

struct starttls;

/* A dialogue for p (not STARTTLS_NONE); domain is what XMPP's stream
 * header names (the server name, else the host). */
struct starttls *starttls_new(enum starttls_proto p, const char *domain);
void starttls_free(struct starttls *s);

/* What the dialogue needs now. On STARTTLS_WANT_WRITE, *out and *len are the
 * bytes to send (call starttls_sent with what went out). */
enum starttls_status starttls_next(struct starttls *s, const void **out, size_t *len);
void starttls_sent(struct starttls *s, size_t n);
/* Bytes received; n == 0 means the peer closed the connection. */
enum starttls_status starttls_input(struct starttls *s, const void *data, size_t n);

/* After STARTTLS_FAILED: a bounded reason ("not_offered", "refused",
 * "protocol_error", "closed") and a message for people, which may quote the
 * peer (unescaped: log.c escapes). */
const char *starttls_reason(const struct starttls *s);
const char *starttls_detail(const struct starttls *s);

#endif
