/* proxy.c - HTTP CONNECT and SOCKS5 as small state machines over fixed
 * buffers, in the manner of starttls.c: what the proxy sends is bounded
 * per line and in total, so no proxy can make a probe grow.
 *
 * Written from RFC 9110 9.3.6 (CONNECT; any 2xx opens the tunnel, and a
 * 2xx answer to CONNECT has no content), RFC 9112 (status line), RFC 1928
 * (SOCKS5; the name goes to the proxy as ATYP 3, so the proxy resolves it,
 * as curl's socks5h does) and RFC 1929's place in it (no credentials are
 * offered: a proxy that insists fails as proxy_auth).
 *
 * Why not libcurl's CONNECT_ONLY: it would bring a second resolver and a
 * second event loop to bridge into ours, it reads ahead into buffers of its
 * own (the first bytes of a server that speaks first would be lost when we
 * take the socket), and its error codes would still have to be mapped to
 * these three reasons. The dialogues are a few hundred lines. */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "core/util.h"
#include "probe/proxy.h"

enum {
	HTTP_STATUS,         /* reading the status line */
	HTTP_HEADERS,        /* reading header lines up to the empty one */
	SOCKS_METHOD,        /* reading the method selection */
	SOCKS_REPLY,         /* reading the reply to CONNECT */
	FINISHED,
};

struct proxy {
	enum proxy_kind kind;
	enum proxy_status status;
	int state;
	int code;                       /* HTTP status */
	unsigned char out[300 + 2 * 256];
	size_t outlen, outoff;
	unsigned char req[262];         /* the SOCKS5 CONNECT request, sent after the method */
	size_t reqlen;
	unsigned char in[PROXY_MAX_LINE + 1];   /* + NUL */
	size_t inlen;
	size_t total;
	unsigned char *left;            /* the target's first bytes */
	size_t leftlen;
	const char *reason;
	char detail[320];
};

static const char *const kind_names[] = {
	[PROXY_HTTP] = "http",
	[PROXY_SOCKS5] = "socks5",
};

const char *
proxy_kind_name(enum proxy_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "unknown";
}

const char *
proxy_parse(const char *s, struct proxy_spec *sp)
{
	static const struct {
		const char *prefix;
		enum proxy_kind kind;
	} schemes[] = {
		{ "http://", PROXY_HTTP },
		{ "socks5://", PROXY_SOCKS5 },
		{ "socks5h://", PROXY_SOCKS5 },
	};
	const char *rest = NULL, *msg;
	size_t len;
	char *hp;

	memset(sp, 0, sizeof(*sp));
	for (size_t i = 0; i < ARRAY_SIZE(schemes) && rest == NULL; i++) {
		len = strlen(schemes[i].prefix);
		if (strncasecmp(s, schemes[i].prefix, len) == 0) {
			rest = s + len;
			sp->kind = schemes[i].kind;
		}
	}
	if (rest == NULL) {
		if (strncasecmp(s, "https://", 8) == 0)
			return "https:// proxies are not supported: use http:// (the tunnel carries TLS)";
		if (strncasecmp(s, "socks4", 6) == 0)
			return "SOCKS4 is not supported: use socks5://";
		return "must be \"http://host:port\" or \"socks5://host:port\"";
	}
	len = strlen(rest);
	if (len > 0 && rest[len - 1] == '/')
		len--;          /* "http://proxy:3128/", as environment variables write it */
	if (memchr(rest, '@', len) != NULL)
		return "credentials in a proxy URL are not supported";
	if (memchr(rest, '/', len) != NULL)
		return "a proxy URL has no path";
	hp = xstrndup(rest, len);
	msg = conf_split_hostport(hp, &sp->host, &sp->port);
	free(hp);
	return msg;
}

void
proxy_spec_fini(struct proxy_spec *sp)
{
	if (sp == NULL)
		return;
	free(sp->host);
	sp->host = NULL;
}

/* ---------------------------------------------------------------- helpers */

static void __attribute__((format(printf, 3, 4)))
fail(struct proxy *p, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (p->status == PROXY_FAILED)
		return;
	p->status = PROXY_FAILED;
	p->state = FINISHED;
	p->reason = reason;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

static void
send_bytes(struct proxy *p, const void *data, size_t n)
{
	memcpy(p->out, data, n);     /* callers build at most sizeof(out) */
	p->outlen = n;
	p->outoff = 0;
	p->status = PROXY_WANT_WRITE;
}

static void
finish(struct proxy *p, const unsigned char *rest, size_t n)
{
	p->state = FINISHED;
	p->status = PROXY_DONE;
	if (n > 0) {
		p->left = xmalloc(n);
		memcpy(p->left, rest, n);
		p->leftlen = n;
	}
}

/* ---------------------------------------------------------------- new/free */

/* Bytes that may stand in a request line's authority: a DNS name or an IP
 * literal; nothing that could end the line or the request early. */
static int
sendable_host(const char *host)
{
	size_t len = strlen(host);

	return len > 0 && len <= 255 && strspn(host,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") == len;
}

struct proxy *
proxy_new(enum proxy_kind k, const char *host, uint16_t port)
{
	struct proxy *p;
	unsigned char a[16];

	if (!sendable_host(host) || (k != PROXY_HTTP && k != PROXY_SOCKS5))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->kind = k;
	if (k == PROXY_HTTP) {
		char req[sizeof(p->out)];
		int v6 = strchr(host, ':') != NULL;
		int n = snprintf(req, sizeof(req),
		    "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n\r\n",
		    v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port,
		    v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)port);

		send_bytes(p, req, (size_t)n);
		p->state = HTTP_STATUS;
		return p;
	}

	/* SOCKS5: offer "no authentication" only; the CONNECT request
	 * follows the proxy's choice. */
	send_bytes(p, "\x05\x01\x00", 3);
	p->state = SOCKS_METHOD;
	p->req[0] = 5;
	p->req[1] = 1;          /* CONNECT */
	p->req[2] = 0;
	if (inet_pton(AF_INET, host, a) == 1) {
		p->req[3] = 1;
		memcpy(p->req + 4, a, 4);
		p->reqlen = 8;
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		p->req[3] = 4;
		memcpy(p->req + 4, a, 16);
		p->reqlen = 20;
	} else {
		size_t len = strlen(host);

		p->req[3] = 3;
		p->req[4] = (unsigned char)len;
		memcpy(p->req + 5, host, len);
		p->reqlen = 5 + len;
	}
	p->req[p->reqlen++] = (unsigned char)(port >> 8);
	p->req[p->reqlen++] = (unsigned char)(port & 0xff);
	return p;
}

void
proxy_free(struct proxy *p)
{
	if (p == NULL)
		return;
	free(p->left);
	free(p);
}

enum proxy_status
proxy_next(struct proxy *p, const void **out, size_t *len)
{
	if (p->status == PROXY_WANT_WRITE) {
		*out = p->out + p->outoff;
		*len = p->outlen - p->outoff;
	}
	return p->status;
}

void
proxy_sent(struct proxy *p, size_t n)
{
	if (p->status != PROXY_WANT_WRITE)
		return;
	if (n > p->outlen - p->outoff)
		n = p->outlen - p->outoff;
	p->outoff += n;
	if (p->outoff == p->outlen)
		p->status = PROXY_WANT_READ;
}

/* ---------------------------------------------------------------- HTTP */

/* "HTTP/1.1 200 Connection established": the code, or -1. */
static int
status_code(const unsigned char *line, size_t len, const unsigned char **phrase, size_t *plen)
{
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	if (len > 12 && line[12] != ' ')
		return -1;
	*phrase = len > 13 ? line + 13 : line + len;
	*plen = len > 13 ? len - 13 : 0;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

/* One line of the answer, without its CRLF (or bare LF). */
static void
http_line(struct proxy *p, const unsigned char *line, size_t len)
{
	const unsigned char *phrase;
	size_t plen;
	char qbuf[161];

	if (p->state == HTTP_HEADERS) {
		if (len == 0) {
			if (p->code >= 200)
				p->state = FINISHED;     /* the caller sets DONE */
			else
				p->state = HTTP_STATUS;  /* 1xx: the final answer follows */
		}
		return;
	}
	p->code = status_code(line, len, &phrase, &plen);
	if (p->code < 0) {
		fail(p, "proxy_error", "not an HTTP proxy answer: \"%s\"",
		    peer_text(line, len, qbuf, sizeof(qbuf)));
		return;
	}
	if (p->code >= 100 && p->code < 300) {
		p->state = HTTP_HEADERS;
		return;
	}
	if (p->code == 407)
		fail(p, "proxy_auth", "the proxy wants credentials: %d %s", p->code,
		    peer_text(phrase, plen, qbuf, sizeof(qbuf)));
	else
		fail(p, "proxy_refused", "the proxy answered CONNECT with %d %s", p->code,
		    peer_text(phrase, plen, qbuf, sizeof(qbuf)));
}

static void
http_input(struct proxy *p, const unsigned char *data, size_t n)
{
	size_t i = 0;

	while (i < n && p->status == PROXY_WANT_READ) {
		unsigned char c = data[i++];

		if (++p->total > PROXY_MAX_REPLY) {
			fail(p, "proxy_error", "the proxy's answer is longer than %d bytes",
			    PROXY_MAX_REPLY);
			return;
		}
		if (c != '\n') {
			if (p->inlen >= PROXY_MAX_LINE) {
				fail(p, "proxy_error", "a line of the proxy's answer is longer than %d bytes",
				    PROXY_MAX_LINE);
				return;
			}
			p->in[p->inlen++] = c;
			continue;
		}
		if (p->inlen > 0 && p->in[p->inlen - 1] == '\r')
			p->inlen--;
		http_line(p, p->in, p->inlen);
		p->inlen = 0;
		if (p->state == FINISHED && p->status == PROXY_WANT_READ)
			finish(p, data + i, n - i);
	}
}

/* ---------------------------------------------------------------- SOCKS5 */

static const char *
socks_reply_name(unsigned rep)
{
	static const char *const names[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};

	return rep < ARRAY_SIZE(names) ? names[rep] : "unassigned reply code";
}

/* How long the reply in p->in is, once enough of it is there to say; 0
 * while it is not, -1 when it cannot be a reply. */
static long
socks_reply_len(const struct proxy *p)
{
	if (p->inlen < 5)
		return 0;
	switch (p->in[3]) {
	case 1:
		return 4 + 4 + 2;
	case 3:
		return 4 + 1 + (long)p->in[4] + 2;
	case 4:
		return 4 + 16 + 2;
	default:
		return -1;
	}
}

static void
socks_input(struct proxy *p, const unsigned char *data, size_t n)
{
	size_t i = 0;

	while (i < n && p->status == PROXY_WANT_READ) {
		long need;

		p->in[p->inlen++] = data[i++];
		p->total++;
		if (p->in[0] != 5) {
			fail(p, "proxy_error", "not a SOCKS5 proxy (version byte %u)", p->in[0]);
			return;
		}
		if (p->state == SOCKS_METHOD) {
			if (p->inlen < 2)
				continue;
			if (p->in[1] == 0xff) {
				fail(p, "proxy_auth",
				    "the SOCKS5 proxy accepts none of the methods offered (no authentication)");
				return;
			}
			if (p->in[1] != 0) {
				fail(p, "proxy_error", "the SOCKS5 proxy chose method %u, which was not offered",
				    p->in[1]);
				return;
			}
			if (i < n) {
				fail(p, "proxy_error", "the SOCKS5 proxy sent more than its method selection");
				return;
			}
			p->inlen = 0;
			p->state = SOCKS_REPLY;
			send_bytes(p, p->req, p->reqlen);
			return;
		}
		/* SOCKS_REPLY: say a refusal as soon as its code is in */
		if (p->inlen == 2 && p->in[1] != 0) {
			fail(p, p->in[1] <= 8 ? "proxy_refused" : "proxy_error",
			    "the SOCKS5 proxy answered CONNECT with %u (%s)", p->in[1],
			    socks_reply_name(p->in[1]));
			return;
		}
		need = socks_reply_len(p);
		if (need < 0) {
			fail(p, "proxy_error", "the SOCKS5 proxy replied with address type %u", p->in[3]);
			return;
		}
		if (need > 0 && p->inlen == (size_t)need)
			finish(p, data + i, n - i);
	}
}

enum proxy_status
proxy_input(struct proxy *p, const void *data, size_t n)
{
	char what[64];

	if (p->status != PROXY_WANT_READ)
		return p->status;
	if (n == 0) {
		snprintf(what, sizeof(what), "%s", p->total == 0 ? "before answering" :
		    "in the middle of its answer");
		fail(p, "proxy_error", "the %s proxy closed the connection %s",
		    p->kind == PROXY_HTTP ? "HTTP" : "SOCKS5", what);
		return p->status;
	}
	if (p->kind == PROXY_HTTP)
		http_input(p, data, n);
	else
		socks_input(p, data, n);
	return p->status;
}

const void *
proxy_leftover(const struct proxy *p, size_t *len)
{
	*len = p->status == PROXY_DONE ? p->leftlen : 0;
	return *len > 0 ? p->left : NULL;
}

const char *
proxy_reason(const struct proxy *p)
{
	return p->reason != NULL ? p->reason : "";
}

const char *
proxy_detail(const struct proxy *p)
{
	return p->detail;
}
