/* starttls.c - the plaintext dialogues that precede TLS, each a small state
 * machine over a fixed buffer: what the peer sends is bounded per line (or
 * binary message) and in total, so no peer can make a probe grow.
 *
 * Written from the RFCs: SMTP 3207 (and LMTP 2033), IMAP 3501, POP3 2595,
 * FTP 4217, LDAP 4511 (4.14), XMPP 6120 (5.4), ManageSieve 5804, NNTP 4642,
 * and from PostgreSQL's and MySQL's protocol documentation. After the reply
 * that lets TLS start, the peer must send nothing until our ClientHello:
 * bytes that arrive with that reply are refused (they would be read as if
 * protected by TLS; see CVE-2011-0411). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/starttls.h"
#include "core/util.h"

struct starttls {
	enum starttls_proto proto;
	enum starttls_status status;
	int state;
	int offered;             /* the capability was advertised */
	int code;                /* SMTP/FTP reply code being read */
	int multi;               /* inside a multi-line reply */
	int done_after_write;    /* MySQL: no answer to wait for */
	char domain[256];
	unsigned char out[512];
	size_t outlen, outoff;
	unsigned char in[STARTTLS_MAX_LINE + 1];   /* + NUL */
	size_t inlen;
	size_t total;
	const char *reason;
	char detail[320];
};

static const char *const proto_names[STARTTLS_COUNT] = {
	[STARTTLS_NONE] = "none",
	[STARTTLS_SMTP] = "smtp",
	[STARTTLS_LMTP] = "lmtp",
	[STARTTLS_IMAP] = "imap",
	[STARTTLS_POP3] = "pop3",
	[STARTTLS_FTP] = "ftp",
	[STARTTLS_LDAP] = "ldap",
	[STARTTLS_XMPP] = "xmpp",
	[STARTTLS_SIEVE] = "sieve",
	[STARTTLS_NNTP] = "nntp",
	[STARTTLS_POSTGRES] = "postgres",
	[STARTTLS_MYSQL] = "mysql",
};

const char *
starttls_name(enum starttls_proto p)
{
	return (unsigned)p < STARTTLS_COUNT ? proto_names[p] : "unknown";
}

int
starttls_from_name(const char *name, enum starttls_proto *p)
{
	for (unsigned i = 0; i < STARTTLS_COUNT; i++) {
		if (strcmp(name, proto_names[i]) == 0) {
			*p = (enum starttls_proto)i;
			return 0;
		}
	}
	return -1;
}

enum starttls_proto
starttls_for_port(uint16_t port)
{
	switch (port) {
	case 25:
	case 587:
		return STARTTLS_SMTP;
	case 24:
		return STARTTLS_LMTP;
	case 143:
		return STARTTLS_IMAP;
	case 110:
		return STARTTLS_POP3;
	case 21:
		return STARTTLS_FTP;
	case 389:
		return STARTTLS_LDAP;
	case 5222:
		return STARTTLS_XMPP;
	case 4190:
		return STARTTLS_SIEVE;
	case 119:
		return STARTTLS_NNTP;
	case 5432:
		return STARTTLS_POSTGRES;
	case 3306:
		return STARTTLS_MYSQL;
	default:
		return STARTTLS_NONE;
	}
}

/* ---------------------------------------------------------------- helpers */

static void __attribute__((format(printf, 3, 4)))
fail(struct starttls *s, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (s->status == STARTTLS_FAILED)
		return;
	s->status = STARTTLS_FAILED;
	s->reason = reason;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/* Peer text quoted in a detail: at most 160 bytes (qbuf), one short line. */
#define QUOTE(line, len) peer_text((line), (len), qbuf, sizeof(qbuf))

static void
send_bytes(struct starttls *s, const void *data, size_t n)
{
	if (n > sizeof(s->out))
		n = sizeof(s->out);     /* cannot happen: our commands are short */
	memcpy(s->out, data, n);
	s->outlen = n;
	s->outoff = 0;
	s->status = STARTTLS_WANT_WRITE;
}

static void
send_str(struct starttls *s, const char *text)
{
	send_bytes(s, text, strlen(text));
}

/* Does the text at p (len bytes) start with word w, case-insensitively,
 * followed by the end or a space? */
static int
word_at(const char *p, size_t len, const char *w)
{
	size_t wl = strlen(w);

	return len >= wl && strncasecmp(p, w, wl) == 0 && (len == wl || p[wl] == ' ');
}

/* When line[0..len) starts with the word w and a space, the rest after that
 * space (with its length in *rest); NULL otherwise. A line that is w alone
 * has no rest: callers never do arithmetic on a length they have not checked. */
static const char *
after_word(const char *line, size_t len, const char *w, size_t *rest)
{
	size_t wl = strlen(w);

	if (len <= wl || !word_at(line, len, w))
		return NULL;
	*rest = len - wl - 1;
	return line + wl + 1;
}

/* Whether line is the word first, a space, then the word second: "* OK",
 * "A1 OK text". */
static int
words_at(const char *line, size_t len, const char *first, const char *second)
{
	size_t rl;
	const char *r = after_word(line, len, first, &rl);

	return r != NULL && word_at(r, rl, second);
}

/* Is w one of the space-separated words of line[0..len)? */
static int
has_word(const char *line, size_t len, const char *w)
{
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && line[i - 1] != ' ')
			continue;
		if (word_at(line + i, len - i, w))
			return 1;
	}
	return 0;
}

/* The three-digit code of a reply line; -1 when it has none. */
static int
line_code(const char *line, size_t len)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/*
 * SMTP, LMTP and FTP replies: "250-first", ..., "250 last". FTP's inner
 * lines may be any text (RFC 959 4.2); SMTP's repeat the code. Returns 1 on
 * the reply's last line (s->code holds the code), 0 before, -1 when the
 * line cannot start a reply.
 */
static int
reply_line(struct starttls *s, const char *line, size_t len)
{
	int code = line_code(line, len);

	if (!s->multi) {
		if (code < 0)
			return -1;
		s->code = code;
		if (len > 3 && line[3] == '-') {
			s->multi = 1;
			return 0;
		}
		return 1;
	}
	if (code == s->code && (len == 3 || line[3] == ' ')) {
		s->multi = 0;
		return 1;
	}
	return 0;
}

/* A reply we did not want: 4xx and 5xx are the server saying no. */
static void
fail_code(struct starttls *s, const char *what, const char *line, size_t len)
{
	char qbuf[161];
	int code = line_code(line, len);

	fail(s, code >= 400 ? "refused" : "protocol_error", "%s answered \"%s\"", what,
	    QUOTE(line, len));
}

/* ---------------------------------------------------------------- SMTP, LMTP */

enum { SM_GREET, SM_EHLO, SM_STARTTLS };

static void
smtp_line(struct starttls *s, const char *line, size_t len)
{
	char qbuf[161];
	int end = reply_line(s, line, len);

	if (end < 0) {
		fail(s, "protocol_error", "not an SMTP reply: \"%s\"", QUOTE(line, len));
		return;
	}
	switch (s->state) {
	case SM_GREET:
		if (!end)
			return;
		if (s->code != 220) {
			fail_code(s, "greeting", line, len);
			return;
		}
		send_str(s, s->proto == STARTTLS_LMTP ? "LHLO tlswatch.invalid\r\n" :
		    "EHLO tlswatch.invalid\r\n");
		s->state = SM_EHLO;
		return;
	case SM_EHLO:
		if (len > 4 && has_word(line + 4, len - 4, "STARTTLS"))
			s->offered = 1;
		if (!end)
			return;
		if (s->code != 250) {
			fail_code(s, s->proto == STARTTLS_LMTP ? "LHLO" : "EHLO", line, len);
			return;
		}
		if (!s->offered) {
			fail(s, "not_offered", "STARTTLS is not among the %s keywords",
			    s->proto == STARTTLS_LMTP ? "LHLO" : "EHLO");
			return;
		}
		send_str(s, "STARTTLS\r\n");
		s->state = SM_STARTTLS;
		return;
	case SM_STARTTLS:
		if (!end)
			return;
		if (s->code == 220)
			s->status = STARTTLS_DONE;
		else
			fail_code(s, "STARTTLS", line, len);
		return;
	}
}

/* ---------------------------------------------------------------- FTP */

enum { FT_GREET, FT_AUTH };

static void
ftp_line(struct starttls *s, const char *line, size_t len)
{
	char qbuf[161];
	int end = reply_line(s, line, len);

	if (end < 0) {
		fail(s, "protocol_error", "not an FTP reply: \"%s\"", QUOTE(line, len));
		return;
	}
	if (!end)
		return;
	switch (s->state) {
	case FT_GREET:
		if (s->code == 120)
			return;         /* "ready in n minutes": the 220 follows */
		if (s->code != 220) {
			fail_code(s, "greeting", line, len);
			return;
		}
		send_str(s, "AUTH TLS\r\n");
		s->state = FT_AUTH;
		return;
	case FT_AUTH:
		if (s->code == 234)
			s->status = STARTTLS_DONE;
		else if (s->code == 500 || s->code == 502 || s->code == 504)
			fail(s, "not_offered", "AUTH TLS answered \"%s\"", QUOTE(line, len));
		else
			fail_code(s, "AUTH TLS", line, len);
		return;
	}
}

/* ---------------------------------------------------------------- NNTP */

enum { NN_GREET, NN_CAPS, NN_CAPLIST, NN_STARTTLS };

static void
nntp_line(struct starttls *s, const char *line, size_t len)
{
	char qbuf[161];
	int code = s->state == NN_CAPLIST ? 0 : line_code(line, len);

	if (code < 0) {
		fail(s, "protocol_error", "not an NNTP reply: \"%s\"", QUOTE(line, len));
		return;
	}
	switch (s->state) {
	case NN_GREET:
		if (code != 200 && code != 201) {
			fail_code(s, "greeting", line, len);
			return;
		}
		send_str(s, "CAPABILITIES\r\n");
		s->state = NN_CAPS;
		return;
	case NN_CAPS:
		if (code == 101) {
			s->state = NN_CAPLIST;
			return;
		}
		if (code >= 500 && code <= 503) {
			/* no CAPABILITIES (RFC 3977 predates it): just ask */
			send_str(s, "STARTTLS\r\n");
			s->state = NN_STARTTLS;
			return;
		}
		fail_code(s, "CAPABILITIES", line, len);
		return;
	case NN_CAPLIST:
		if (len == 1 && line[0] == '.') {
			if (!s->offered) {
				fail(s, "not_offered", "STARTTLS is not among the capabilities");
				return;
			}
			send_str(s, "STARTTLS\r\n");
			s->state = NN_STARTTLS;
		} else if (word_at(line, len, "STARTTLS")) {
			s->offered = 1;
		}
		return;
	case NN_STARTTLS:
		if (code == 382)
			s->status = STARTTLS_DONE;
		else if (code == 500 || code == 501 || code == 502)
			fail(s, "not_offered", "STARTTLS answered \"%s\"", QUOTE(line, len));
		else
			fail_code(s, "STARTTLS", line, len);
		return;
	}
}

/* ---------------------------------------------------------------- POP3 */

enum { PO_GREET, PO_CAPA, PO_CAPALIST, PO_STLS };

static void
pop3_line(struct starttls *s, const char *line, size_t len)
{
	char qbuf[161];
	int ok = word_at(line, len, "+OK"), err = word_at(line, len, "-ERR");

	switch (s->state) {
	case PO_GREET:
		if (ok) {
			send_str(s, "CAPA\r\n");
			s->state = PO_CAPA;
		} else if (err) {
			fail(s, "refused", "greeting \"%s\"", QUOTE(line, len));
		} else {
			fail(s, "protocol_error", "not a POP3 greeting: \"%s\"", QUOTE(line, len));
		}
		return;
	case PO_CAPA:
		if (ok) {
			s->state = PO_CAPALIST;
		} else if (err) {
			send_str(s, "STLS\r\n");   /* no CAPA (RFC 1939 only): just ask */
			s->state = PO_STLS;
		} else {
			fail(s, "protocol_error", "CAPA answered \"%s\"", QUOTE(line, len));
		}
		return;
	case PO_CAPALIST:
		if (len == 1 && line[0] == '.') {
			if (!s->offered) {
				fail(s, "not_offered", "STLS is not among the capabilities");
				return;
			}
			send_str(s, "STLS\r\n");
			s->state = PO_STLS;
		} else if (word_at(line, len, "STLS")) {
			s->offered = 1;
		}
		return;
	case PO_STLS:
		if (ok)
			s->status = STARTTLS_DONE;
		else if (err)
			fail(s, "refused", "STLS answered \"%s\"", QUOTE(line, len));
		else
			fail(s, "protocol_error", "STLS answered \"%s\"", QUOTE(line, len));
		return;
	}
}

/* ---------------------------------------------------------------- IMAP */

enum { IM_GREET, IM_CAPA, IM_STARTTLS };

static void
imap_line(struct starttls *s, const char *line, size_t len)
{
	char qbuf[161];
	const char *rest;
	size_t rl;

	switch (s->state) {
	case IM_GREET:
		if (words_at(line, len, "*", "OK")) {
			send_str(s, "A1 CAPABILITY\r\n");
			s->state = IM_CAPA;
		} else if (words_at(line, len, "*", "PREAUTH")) {
			/* STARTTLS exists only before authentication */
			fail(s, "not_offered", "greeting is PREAUTH: \"%s\"", QUOTE(line, len));
		} else if (words_at(line, len, "*", "BYE")) {
			fail(s, "refused", "greeting \"%s\"", QUOTE(line, len));
		} else {
			fail(s, "protocol_error", "not an IMAP greeting: \"%s\"", QUOTE(line, len));
		}
		return;
	case IM_CAPA:
		if (word_at(line, len, "*")) {
			/* untagged: "* CAPABILITY ...", "* BYE ...", or anything else
			 * (even a bare "*"), which we skip */
			if ((rest = after_word(line, len, "*", &rl)) == NULL)
				return;
			if (word_at(rest, rl, "CAPABILITY") && has_word(rest, rl, "STARTTLS"))
				s->offered = 1;
			else if (word_at(rest, rl, "BYE"))
				fail(s, "refused", "CAPABILITY answered \"%s\"", QUOTE(line, len));
			return;
		}
		if (words_at(line, len, "A1", "OK")) {
			if (!s->offered) {
				fail(s, "not_offered", "STARTTLS is not among the capabilities");
				return;
			}
			send_str(s, "A2 STARTTLS\r\n");
			s->state = IM_STARTTLS;
		} else if (word_at(line, len, "A1")) {
			fail(s, "refused", "CAPABILITY answered \"%s\"", QUOTE(line, len));
		} else {
			fail(s, "protocol_error", "CAPABILITY answered \"%s\"", QUOTE(line, len));
		}
		return;
	case IM_STARTTLS:
		if (word_at(line, len, "*")) {
			if (words_at(line, len, "*", "BYE"))
				fail(s, "refused", "STARTTLS answered \"%s\"", QUOTE(line, len));
			return;
		}
		if (words_at(line, len, "A2", "OK"))
			s->status = STARTTLS_DONE;
		else if (word_at(line, len, "A2"))
			fail(s, "refused", "STARTTLS answered \"%s\"", QUOTE(line, len));
		else
			fail(s, "protocol_error", "STARTTLS answered \"%s\"", QUOTE(line, len));
		return;
	}
}

/* ---------------------------------------------------------------- ManageSieve */

enum { SV_GREET, SV_STARTTLS };

static void
sieve_line(struct starttls *s, const char *line, size_t len)
{
	char qbuf[161];
	int ok = word_at(line, len, "OK") || (len > 2 && strncasecmp(line, "OK ", 3) == 0);
	int no = word_at(line, len, "NO") || word_at(line, len, "BYE") ||
	    (len >= 3 && (strncasecmp(line, "NO ", 3) == 0 || strncasecmp(line, "NO(", 3) == 0));

	switch (s->state) {
	case SV_GREET:
		if (line[0] == '"') {
			/* a capability: "STARTTLS" alone, or "NAME" "value" */
			if (len >= 10 && strncasecmp(line, "\"STARTTLS\"", 10) == 0 &&
			    (len == 10 || line[10] == ' '))
				s->offered = 1;
			return;
		}
		if (ok) {
			if (!s->offered) {
				fail(s, "not_offered", "STARTTLS is not among the capabilities");
				return;
			}
			send_str(s, "STARTTLS\r\n");
			s->state = SV_STARTTLS;
		} else if (no) {
			fail(s, "refused", "greeting \"%s\"", QUOTE(line, len));
		} else {
			fail(s, "protocol_error", "not a ManageSieve greeting: \"%s\"", QUOTE(line, len));
		}
		return;
	case SV_STARTTLS:
		if (ok)
			s->status = STARTTLS_DONE;
		else if (no)
			fail(s, "refused", "STARTTLS answered \"%s\"", QUOTE(line, len));
		else
			fail(s, "protocol_error", "STARTTLS answered \"%s\"", QUOTE(line, len));
		return;
	}
}

/* ---------------------------------------------------------------- PostgreSQL */

/* SSLRequest: length 8, code 1234 5679 (protocol docs, "SSL Session
 * Encryption"); the answer is one byte. */
static const unsigned char pg_sslrequest[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };

static void
postgres_input(struct starttls *s)
{
	switch (s->in[0]) {
	case 'S':
		if (s->inlen > 1)
			fail(s, "protocol_error", "data after the SSLRequest's answer");
		else
			s->status = STARTTLS_DONE;
		return;
	case 'N':
		fail(s, "not_offered", "the server answered the SSLRequest with N (no SSL)");
		return;
	case 'E':
		fail(s, "refused", "the server answered the SSLRequest with an error");
		return;
	default:
		fail(s, "protocol_error", "unexpected answer 0x%02x to the SSLRequest", s->in[0]);
		return;
	}
}

/* ---------------------------------------------------------------- MySQL */

#define MY_CLIENT_LONG_PASSWORD     0x00000001u
#define MY_CLIENT_LONG_FLAG         0x00000004u
#define MY_CLIENT_PROTOCOL_41       0x00000200u
#define MY_CLIENT_SSL               0x00000800u
#define MY_CLIENT_TRANSACTIONS      0x00002000u
#define MY_CLIENT_SECURE_CONNECTION 0x00008000u

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* The initial handshake packet (protocol 10); if it offers CLIENT_SSL,
 * answer with an SSLRequest packet, after which TLS starts at once. */
static void
mysql_input(struct starttls *s)
{
	char qbuf[161];
	const unsigned char *p = s->in + 4;
	size_t plen, i;
	unsigned caps;
	unsigned char req[4 + 32];

	if (s->inlen < 4)
		return;
	plen = (size_t)s->in[0] | (size_t)s->in[1] << 8 | (size_t)s->in[2] << 16;
	if (plen + 4 > STARTTLS_MAX_LINE) {
		fail(s, "protocol_error", "greeting packet of %zu bytes is too long", plen);
		return;
	}
	if (s->inlen < plen + 4)
		return;
	if (s->inlen > plen + 4) {
		fail(s, "protocol_error", "data after the greeting packet");
		return;
	}
	if (plen == 0) {
		fail(s, "protocol_error", "empty greeting packet");
		return;
	}
	if (p[0] == 0xff) {
		/* an error packet: code, then (4.1+) '#' and SQLSTATE, then text */
		size_t off = 3;
		if (plen > 3 && p[3] == '#')
			off = 9;
		fail(s, "refused", "the server greeted with an error: \"%s\"",
		    off < plen ? QUOTE((const char *)p + off, plen - off) : "");
		return;
	}
	if (p[0] != 10) {
		fail(s, "protocol_error", "unknown protocol version %u", p[0]);
		return;
	}
	for (i = 1; i < plen && p[i] != 0; i++)
		;
	/* version NUL, thread id 4, auth data 8, filler 1, capabilities 2 */
	if (i + 1 + 4 + 8 + 1 + 2 > plen) {
		fail(s, "protocol_error", "greeting packet too short");
		return;
	}
	i += 1 + 4 + 8 + 1;
	caps = (unsigned)p[i] | (unsigned)p[i + 1] << 8;
	if (!(caps & MY_CLIENT_SSL)) {
		fail(s, "not_offered", "the server does not offer SSL (capability flags 0x%04x)", caps);
		return;
	}
	memset(req, 0, sizeof(req));
	req[0] = 32;                    /* payload length, 3 bytes LE */
	req[3] = 1;                     /* sequence id */
	put_le32(req + 4, MY_CLIENT_LONG_PASSWORD | MY_CLIENT_LONG_FLAG | MY_CLIENT_PROTOCOL_41 |
	    MY_CLIENT_SSL | MY_CLIENT_TRANSACTIONS | MY_CLIENT_SECURE_CONNECTION);
	put_le32(req + 8, 16u << 20);   /* max packet size */
	req[12] = 33;                   /* utf8_general_ci; 23 zero bytes follow */
	send_bytes(s, req, sizeof(req));
	s->done_after_write = 1;
	s->inlen = 0;
}

/* ---------------------------------------------------------------- LDAP */

/* LDAPMessage { messageID 1, ExtendedRequest { requestName
 * "1.3.6.1.4.1.1466.20037" } }, in BER. */
static const unsigned char ldap_starttls[] = {
	0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16,
	'1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.',
	'1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
};

/* One BER header at p[0..n): 1 with *tag, *hdr and *len set, 0 when more
 * bytes are needed, -1 when malformed or longer than we accept. */
static int
ber_header(const unsigned char *p, size_t n, unsigned *tag, size_t *hdr, size_t *len)
{
	size_t l, k;

	if (n < 2)
		return 0;
	*tag = p[0];
	if ((p[0] & 0x1f) == 0x1f)
		return -1;      /* multi-byte tags: none in these messages */
	if (p[1] < 0x80) {
		*hdr = 2;
		*len = p[1];
		return 1;
	}
	k = p[1] & 0x7f;
	if (k == 0 || k > 3)
		return -1;      /* indefinite, or beyond our bound anyway */
	if (n < 2 + k)
		return 0;
	for (l = 0, *hdr = 2; k > 0; k--)
		l = l << 8 | p[(*hdr)++];
	*len = l;
	return 1;
}

static void
ldap_input(struct starttls *s)
{
	char qbuf[161];
	const unsigned char *p = s->in, *end;
	unsigned tag;
	size_t hdr, len, id = 0;
	long rc = 0;
	int r;

	r = ber_header(p, s->inlen, &tag, &hdr, &len);
	if (r == 0)
		return;
	if (r < 0 || tag != 0x30 || hdr + len > STARTTLS_MAX_LINE) {
		fail(s, "protocol_error", "not an LDAP message (or one too long)");
		return;
	}
	if (s->inlen < hdr + len)
		return;
	if (s->inlen > hdr + len) {
		fail(s, "protocol_error", "data after the StartTLS response");
		return;
	}
	end = p + hdr + len;
	p += hdr;
	/* messageID INTEGER */
	if (ber_header(p, (size_t)(end - p), &tag, &hdr, &len) != 1 || tag != 0x02 ||
	    len == 0 || len > 4 || len > (size_t)(end - p) - hdr)
		goto bad;
	for (size_t i = 0; i < len; i++)
		id = id << 8 | p[hdr + i];
	p += hdr + len;
	/* [APPLICATION 24] ExtendedResponse */
	if (ber_header(p, (size_t)(end - p), &tag, &hdr, &len) != 1 || tag != 0x78 ||
	    len > (size_t)(end - p) - hdr)
		goto bad;
	end = p + hdr + len;
	p += hdr;
	/* resultCode ENUMERATED */
	if (ber_header(p, (size_t)(end - p), &tag, &hdr, &len) != 1 || tag != 0x0a ||
	    len == 0 || len > 4 || len > (size_t)(end - p) - hdr)
		goto bad;
	for (size_t i = 0; i < len; i++)
		rc = rc << 8 | p[hdr + i];
	p += hdr + len;
	if (rc == 0 && id == 1) {
		s->status = STARTTLS_DONE;
		return;
	}
	/* matchedDN, then diagnosticMessage: worth quoting */
	const char *diag = "";
	if (ber_header(p, (size_t)(end - p), &tag, &hdr, &len) == 1 && tag == 0x04 &&
	    len <= (size_t)(end - p) - hdr) {
		p += hdr + len;
		if (ber_header(p, (size_t)(end - p), &tag, &hdr, &len) == 1 && tag == 0x04 &&
		    len <= (size_t)(end - p) - hdr)
			diag = QUOTE((const char *)p + hdr, len);
	}
	if (id == 0)    /* unsolicited: the server is hanging up */
		fail(s, "refused", "notice of disconnection, result code %ld: \"%s\"", rc, diag);
	else if (rc == 2)       /* protocolError: the operation is not supported */
		fail(s, "not_offered", "StartTLS answered protocolError: \"%s\"", diag);
	else
		fail(s, "refused", "StartTLS answered result code %ld: \"%s\"", rc, diag);
	return;
bad:
	fail(s, "protocol_error", "malformed LDAP ExtendedResponse");
}

/* ---------------------------------------------------------------- XMPP */

enum { XM_FEATURES, XM_PROCEED };

#define XMPP_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"

/* Stream features are read whole into the buffer (bounded) and searched:
 * enough for what RFC 6120 5.4 asks, without an XML parser. */
static void
xmpp_input(struct starttls *s)
{
	char qbuf[161];
	char *buf = (char *)s->in, *f, *e;

	if ((e = strstr(buf, "<stream:error")) != NULL) {
		fail(s, "refused", "stream error: \"%s\"", QUOTE(e, strlen(e)));
		return;
	}
	if (strstr(buf, "</stream:stream>") != NULL) {
		fail(s, "closed", "the server closed the stream");
		return;
	}
	switch (s->state) {
	case XM_FEATURES:
		if ((f = strstr(buf, "<stream:features")) == NULL)
			return;
		if ((e = strstr(f, "</stream:features>")) == NULL) {
			char *gt = strchr(f, '>');
			if (gt == NULL || gt[-1] != '/')
				return;         /* not complete yet */
			e = gt;
		}
		if (strstr(f, XMPP_TLS_NS) == NULL || strstr(f, XMPP_TLS_NS) > e) {
			fail(s, "not_offered", "<starttls/> is not among the stream features");
			return;
		}
		send_str(s, "<starttls xmlns='" XMPP_TLS_NS "'/>");
		s->state = XM_PROCEED;
		s->inlen = 0;
		return;
	case XM_PROCEED:
		if ((f = strstr(buf, "<failure")) != NULL) {
			fail(s, "refused", "the server answered <failure/>");
			return;
		}
		if ((f = strstr(buf, "<proceed")) == NULL)
			return;
		if ((e = strstr(f, "/>")) != NULL)
			e += 2;
		else if ((e = strstr(f, "</proceed>")) != NULL)
			e += 10;
		else
			return;
		if ((size_t)(e - buf) != s->inlen)
			fail(s, "protocol_error", "data after <proceed/>");
		else
			s->status = STARTTLS_DONE;
		return;
	}
}

/* ---------------------------------------------------------------- the machine */

struct starttls *
starttls_new(enum starttls_proto p, const char *domain)
{
	struct starttls *s = xcalloc(1, sizeof(*s));

	s->proto = p;
	s->status = STARTTLS_WANT_READ;
	snprintf(s->domain, sizeof(s->domain), "%s", domain ? domain : "");
	switch (p) {
	case STARTTLS_POSTGRES:
		send_bytes(s, pg_sslrequest, sizeof(pg_sslrequest));
		break;
	case STARTTLS_LDAP:
		send_bytes(s, ldap_starttls, sizeof(ldap_starttls));
		break;
	case STARTTLS_XMPP: {
		char hdr[sizeof(s->out)];
		snprintf(hdr, sizeof(hdr), "<?xml version='1.0'?><stream:stream "
		    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
		    "to='%s' version='1.0'>", s->domain);
		send_str(s, hdr);
		break;
	}
	case STARTTLS_NONE:
	case STARTTLS_COUNT:
		s->status = STARTTLS_DONE;
		break;
	default:
		break;          /* the server speaks first */
	}
	return s;
}

void
starttls_free(struct starttls *s)
{
	free(s);
}

enum starttls_status
starttls_next(struct starttls *s, const void **out, size_t *len)
{
	if (s->status == STARTTLS_WANT_WRITE) {
		*out = s->out + s->outoff;
		*len = s->outlen - s->outoff;
	}
	return s->status;
}

void
starttls_sent(struct starttls *s, size_t n)
{
	if (s->status != STARTTLS_WANT_WRITE)
		return;
	s->outoff += n < s->outlen - s->outoff ? n : s->outlen - s->outoff;
	if (s->outoff < s->outlen)
		return;
	s->outlen = s->outoff = 0;
	s->status = s->done_after_write ? STARTTLS_DONE : STARTTLS_WANT_READ;
}

static int
line_based(enum starttls_proto p)
{
	return p != STARTTLS_POSTGRES && p != STARTTLS_MYSQL && p != STARTTLS_LDAP &&
	    p != STARTTLS_XMPP;
}

static void
dispatch_line(struct starttls *s, const char *line, size_t len)
{
	switch (s->proto) {
	case STARTTLS_SMTP:
	case STARTTLS_LMTP:
		smtp_line(s, line, len);
		break;
	case STARTTLS_FTP:
		ftp_line(s, line, len);
		break;
	case STARTTLS_NNTP:
		nntp_line(s, line, len);
		break;
	case STARTTLS_POP3:
		pop3_line(s, line, len);
		break;
	case STARTTLS_IMAP:
		imap_line(s, line, len);
		break;
	case STARTTLS_SIEVE:
		sieve_line(s, line, len);
		break;
	default:
		break;
	}
}

static void
input_lines(struct starttls *s, const unsigned char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->status != STARTTLS_WANT_READ) {
			/* the reply that moved us on was not the last thing sent */
			fail(s, "protocol_error", "%zu unexpected bytes after the server's reply",
			    n - i);
			return;
		}
		if (data[i] != '\n') {
			if (s->inlen >= STARTTLS_MAX_LINE) {
				fail(s, "protocol_error", "a line longer than %d bytes",
				    STARTTLS_MAX_LINE);
				return;
			}
			s->in[s->inlen++] = data[i];
			continue;
		}
		size_t len = s->inlen;
		if (len > 0 && s->in[len - 1] == '\r')
			len--;
		s->in[len] = '\0';
		s->inlen = 0;
		dispatch_line(s, (const char *)s->in, len);
	}
}

static void
input_message(struct starttls *s, const unsigned char *data, size_t n)
{
	if (s->status != STARTTLS_WANT_READ) {
		fail(s, "protocol_error", "unexpected data from the server");
		return;
	}
	if (n > STARTTLS_MAX_LINE - s->inlen) {
		fail(s, "protocol_error", "a message longer than %d bytes", STARTTLS_MAX_LINE);
		return;
	}
	memcpy(s->in + s->inlen, data, n);
	s->inlen += n;
	s->in[s->inlen] = '\0';
	switch (s->proto) {
	case STARTTLS_POSTGRES:
		postgres_input(s);
		break;
	case STARTTLS_MYSQL:
		mysql_input(s);
		break;
	case STARTTLS_LDAP:
		ldap_input(s);
		break;
	case STARTTLS_XMPP:
		/* a NUL would hide what follows from the searches */
		if (memchr(data, '\0', n) != NULL)
			fail(s, "protocol_error", "a NUL byte in the XML stream");
		else
			xmpp_input(s);
		break;
	default:
		break;
	}
}

enum starttls_status
starttls_input(struct starttls *s, const void *data, size_t n)
{
	if (s->status == STARTTLS_FAILED || s->status == STARTTLS_DONE)
		return s->status;
	if (n == 0) {
		fail(s, "closed", "the server closed the connection%s",
		    s->status == STARTTLS_WANT_WRITE ? "" : " before answering");
		return s->status;
	}
	if (n > STARTTLS_MAX_TOTAL - s->total) {
		fail(s, "protocol_error", "more than %d bytes without reaching TLS",
		    STARTTLS_MAX_TOTAL);
		return s->status;
	}
	s->total += n;
	if (line_based(s->proto))
		input_lines(s, data, n);
	else
		input_message(s, data, n);
	return s->status;
}

const char *
starttls_reason(const struct starttls *s)
{
	return s->reason ? s->reason : "protocol_error";
}

const char *
starttls_detail(const struct starttls *s)
{
	return s->detail;
}
