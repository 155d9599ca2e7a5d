/* proxy.h - the connect stage through a proxy (HTTP CONNECT, SOCKS5 with
 * the name resolved by the proxy), as pure state machines: bytes in, bytes
 * out, no I/O of their own (probe.c does that). */
#ifndef TLSWATCH_PROXY_H
#define TLSWATCH_PROXY_H

#include <stddef.h>
#include <stdint.h>

enum proxy_kind {
	PROXY_HTTP,      /* "http://host:port": CONNECT (RFC 9110 9.3.6) */
	PROXY_SOCKS5,    /* "socks5://host:port": RFC 1928, the proxy resolves */
};

/* Bounds: the proxy's answer (HTTP status line and headers; a SOCKS5
 * reply is at most 262 bytes) is at most PROXY_MAX_REPLY bytes, any one
 * HTTP line at most PROXY_MAX_LINE. */
#define PROXY_MAX_REPLY 16384
#define PROXY_MAX_LINE 4096

/* A proxy setting: proxy = "http://host:port" or "socks5://host:port"
 * ("socks5h://" too: the same thing). */
struct proxy_spec {
	enum proxy_kind kind;
	char *host;      /* without brackets; allocated */
	uint16_t port;
};
/* Parse s into *sp. NULL, or a static message. */
const char *proxy_parse(const char *s, struct proxy_spec *sp);
void proxy_spec_fini(struct proxy_spec *sp);
/* "http" or "socks5". */
const char *proxy_kind_name(enum proxy_kind k);

enum proxy_status {
	PROXY_WANT_READ,
	PROXY_WANT_WRITE,
	PROXY_DONE,       /* the tunnel is open: TLS (or STARTTLS) may start */
	PROXY_FAILED,
};

struct proxy;

/* A dialogue with a proxy of kind k, asking it to connect to host (a name,
 * or an IP literal without brackets, at most 255 bytes) on port. NULL
 * when host cannot be sent (too long for SOCKS5, or contains bytes that
 * cannot go in a request line). */
struct proxy *proxy_new(enum proxy_kind k, const char *host, uint16_t port);
void proxy_free(struct proxy *p);

/* What the dialogue needs now. On PROXY_WANT_WRITE, *out and *len are the
 * bytes to send (call proxy_sent with what went out). */
enum proxy_status proxy_next(struct proxy *p, const void **out, size_t *len);
void proxy_sent(struct proxy *p, size_t n);
/* Bytes received; n == 0 means the proxy closed the connection. */
enum proxy_status proxy_input(struct proxy *p, const void *data, size_t n);

/* After PROXY_DONE: bytes that came after the proxy's answer, already the
 * target's (a server that speaks first, as SMTP does); the next stage must
 * take them before reading the socket. */
const void *proxy_leftover(const struct proxy *p, size_t *len);

/* After PROXY_FAILED: a bounded reason and a message for people, which
 * may quote the proxy (unescaped: log.c escapes).
 *   proxy_refused  the proxy answered and would not, or could not, open
 *                  the tunnel (HTTP 403, 502, ...; SOCKS5 replies 1-8)
 *   proxy_auth     it wants credentials (HTTP 407; SOCKS5 accepted no
 *                  method we offered)
 *   proxy_error    it does not speak the protocol, answered malformed or
 *                  too long, or closed before answering */
const char *proxy_reason(const struct proxy *p);
const char *proxy_detail(const struct proxy *p);

#endif
