/* test_starttls.c - the STARTTLS dialogues, fed byte strings as a server
 * would send them: what each sends, where each ends, and the bounds. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/starttls.h"

/* Everything the dialogue wants to send now, into out (NUL-terminated). */
static size_t
drain(struct starttls *s, char *out, size_t size)
{
	const void *p;
	size_t len, n = 0;

	while (starttls_next(s, &p, &len) == STARTTLS_WANT_WRITE) {
		assert_true(n + len < size);
		memcpy(out + n, p, len);
		n += len;
		/* a short write first, to exercise partial sends */
		if (len > 1) {
			starttls_sent(s, 1);
			starttls_sent(s, len - 1);
		} else {
			starttls_sent(s, len);
		}
	}
	out[n] = '\0';
	return n;
}

/* Feed bytes all at once, or one at a time. */
static enum starttls_status
feed(struct starttls *s, const char *data, size_t len, int bytewise)
{
	enum starttls_status st = STARTTLS_WANT_READ;

	if (!bytewise)
		return starttls_input(s, data, len);
	for (size_t i = 0; i < len && st == STARTTLS_WANT_READ; i++)
		st = starttls_input(s, data + i, 1);
	return st;
}

/*
 * Run a text dialogue: steps alternate what the client must have sent by
 * then ("": nothing) and what the server answers next. Returns the reason
 * it failed, "done" when TLS may start, or "reading" when it still waits.
 */
static const char *
run(enum starttls_proto p, int bytewise, const char *const *steps, size_t n)
{
	struct starttls *s = starttls_new(p, "good.test");
	const char *result = "reading";
	char out[4096];

	for (size_t i = 0; i < n; i += 2) {
		enum starttls_status st;

		drain(s, out, sizeof(out));
		assert_string_equal(out, steps[i]);
		if (i + 1 >= n)
			break;
		st = feed(s, steps[i + 1], strlen(steps[i + 1]), bytewise);
		if (st == STARTTLS_DONE) {
			drain(s, out, sizeof(out));
			assert_string_equal(out, "");
			result = "done";
			break;
		}
		if (st == STARTTLS_FAILED) {
			result = starttls_reason(s);
			assert_true(strlen(starttls_detail(s)) > 0);
			break;
		}
	}
	starttls_free(s);
	return result;
}

/* Both ways of arriving: whole replies and one byte at a time. */
#define EXPECT(p, want, ...) do {                                        \
	static const char *const st_[] = { __VA_ARGS__ };                \
	assert_string_equal(run((p), 0, st_, ARRAY_SIZE(st_)), (want));   \
	assert_string_equal(run((p), 1, st_, ARRAY_SIZE(st_)), (want));   \
} while (0)

/* Only when the server's bytes arrive together (bytes after the reply
 * that ends the dialogue, fed one by one, are never read by it). */
#define EXPECT_WHOLE(p, want, ...) do {                                  \
	static const char *const st_[] = { __VA_ARGS__ };                \
	assert_string_equal(run((p), 0, st_, ARRAY_SIZE(st_)), (want));   \
} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void
test_names(void **state)
{
	enum starttls_proto p;

	(void)state;
	assert_string_equal(starttls_name(STARTTLS_SMTP), "smtp");
	assert_string_equal(starttls_name(STARTTLS_NONE), "none");
	assert_int_equal(starttls_from_name("postgres", &p), 0);
	assert_int_equal(p, STARTTLS_POSTGRES);
	assert_int_equal(starttls_from_name("none", &p), 0);
	assert_int_equal(p, STARTTLS_NONE);
	assert_int_equal(starttls_from_name("SMTP", &p), -1);
	assert_int_equal(starttls_from_name("gopher", &p), -1);
	for (unsigned i = 0; i < STARTTLS_COUNT; i++) {
		assert_int_equal(starttls_from_name(starttls_name(i), &p), 0);
		assert_int_equal(p, i);
	}
}

static void
test_port_table(void **state)
{
	(void)state;
	assert_int_equal(starttls_for_port(25), STARTTLS_SMTP);
	assert_int_equal(starttls_for_port(587), STARTTLS_SMTP);
	assert_int_equal(starttls_for_port(24), STARTTLS_LMTP);
	assert_int_equal(starttls_for_port(143), STARTTLS_IMAP);
	assert_int_equal(starttls_for_port(110), STARTTLS_POP3);
	assert_int_equal(starttls_for_port(21), STARTTLS_FTP);
	assert_int_equal(starttls_for_port(389), STARTTLS_LDAP);
	assert_int_equal(starttls_for_port(5222), STARTTLS_XMPP);
	assert_int_equal(starttls_for_port(4190), STARTTLS_SIEVE);
	assert_int_equal(starttls_for_port(119), STARTTLS_NNTP);
	assert_int_equal(starttls_for_port(5432), STARTTLS_POSTGRES);
	assert_int_equal(starttls_for_port(3306), STARTTLS_MYSQL);
	assert_int_equal(starttls_for_port(443), STARTTLS_NONE);
	assert_int_equal(starttls_for_port(465), STARTTLS_NONE);
	assert_int_equal(starttls_for_port(993), STARTTLS_NONE);
}

static void
test_smtp(void **state)
{
	(void)state;
	EXPECT(STARTTLS_SMTP, "done",
	    "", "220-mail.test ESMTP\r\n220-second line\r\n220 last\r\n",
	    "EHLO tlswatch.invalid\r\n", "250-mail.test\r\n250-PIPELINING\r\n250-starttls\r\n250 8BITMIME\r\n",
	    "STARTTLS\r\n", "220 2.0.0 Ready to start TLS\r\n");
	/* bare LF line ends are taken too */
	EXPECT(STARTTLS_SMTP, "done",
	    "", "220 x\n", "EHLO tlswatch.invalid\r\n", "250 STARTTLS\n",
	    "STARTTLS\r\n", "220 go\n");
	EXPECT(STARTTLS_LMTP, "done",
	    "", "220 lmtp.test LMTP\r\n",
	    "LHLO tlswatch.invalid\r\n", "250-lmtp.test\r\n250 STARTTLS\r\n",
	    "STARTTLS\r\n", "220 go\r\n");
	EXPECT(STARTTLS_SMTP, "not_offered",
	    "", "220 x\r\n", "EHLO tlswatch.invalid\r\n",
	    "250-x\r\n250-STARTTLSX\r\n250 XSTARTTLS\r\n");
	EXPECT(STARTTLS_SMTP, "refused",
	    "", "220 x\r\n", "EHLO tlswatch.invalid\r\n", "250 STARTTLS\r\n",
	    "STARTTLS\r\n", "454 4.7.0 TLS not available\r\n");
	EXPECT(STARTTLS_SMTP, "refused", "", "554 5.3.2 go away\r\n");
	EXPECT(STARTTLS_SMTP, "protocol_error", "", "SSH-2.0-OpenSSH_9.2\r\n");
	EXPECT(STARTTLS_SMTP, "protocol_error", "", "220x\r\n");
	/* CVE-2011-0411: bytes that came with the go-ahead */
	EXPECT_WHOLE(STARTTLS_SMTP, "protocol_error",
	    "", "220 x\r\n", "EHLO tlswatch.invalid\r\n", "250 STARTTLS\r\n",
	    "STARTTLS\r\n", "220 go\r\n250 injected\r\n");
	/* a reply before the command it answers */
	EXPECT_WHOLE(STARTTLS_SMTP, "protocol_error", "", "220 x\r\n250 early\r\n");
	/* still waiting: a greeting that has not ended */
	EXPECT(STARTTLS_SMTP, "reading", "", "220-x\r\n220-y\r\n", "");
}

static void
test_closed(void **state)
{
	struct starttls *s = starttls_new(STARTTLS_IMAP, "good.test");

	(void)state;
	assert_int_equal(starttls_input(s, "* OK", 4), STARTTLS_WANT_READ);
	assert_int_equal(starttls_input(s, "", 0), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "closed");
	/* once failed, it stays failed */
	assert_int_equal(starttls_input(s, "x\r\n", 3), STARTTLS_FAILED);
	starttls_free(s);
}

static void
test_bounds(void **state)
{
	struct starttls *s;
	char *big = malloc(STARTTLS_MAX_TOTAL + 100);
	size_t fed = 0;

	(void)state;
	/* a line without end: refused at the line bound, not buffered */
	s = starttls_new(STARTTLS_SMTP, NULL);
	memset(big, 'x', STARTTLS_MAX_LINE + 1);
	memcpy(big, "220 ", 4);
	assert_int_equal(starttls_input(s, big, STARTTLS_MAX_LINE), STARTTLS_WANT_READ);
	assert_int_equal(starttls_input(s, big, 1), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);

	/* an endless multi-line greeting: refused at the total bound */
	s = starttls_new(STARTTLS_SMTP, NULL);
	for (size_t i = 0; i + 8 <= STARTTLS_MAX_TOTAL + 100; i += 8)
		memcpy(big + i, "220-ab\r\n", 8);
	while (starttls_input(s, big, 4096) == STARTTLS_WANT_READ)
		fed += 4096;
	assert_true(fed <= STARTTLS_MAX_TOTAL);
	assert_true(fed + 4096 > STARTTLS_MAX_TOTAL);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);

	/* binary messages are bounded too */
	s = starttls_new(STARTTLS_XMPP, "good.test");
	drain(s, big, STARTTLS_MAX_TOTAL);
	memset(big, ' ', STARTTLS_MAX_LINE + 1);
	assert_int_equal(starttls_input(s, big, STARTTLS_MAX_LINE + 1), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);
	free(big);
}

static void
test_imap(void **state)
{
	(void)state;
	EXPECT(STARTTLS_IMAP, "done",
	    "", "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n",
	    "A1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED\r\n"
	    "A1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n",
	    "A2 STARTTLS\r\n", "A2 OK Begin TLS negotiation now.\r\n");
	EXPECT(STARTTLS_IMAP, "not_offered",
	    "", "* OK ready\r\n", "A1 CAPABILITY\r\n",
	    "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK done\r\n");
	EXPECT(STARTTLS_IMAP, "refused",
	    "", "* OK ready\r\n", "A1 CAPABILITY\r\n", "* CAPABILITY STARTTLS\r\nA1 OK\r\n",
	    "A2 STARTTLS\r\n", "A2 NO not now\r\n");
	EXPECT(STARTTLS_IMAP, "not_offered", "", "* PREAUTH logged in already\r\n");
	EXPECT(STARTTLS_IMAP, "refused", "", "* BYE too many connections\r\n");
	EXPECT(STARTTLS_IMAP, "protocol_error", "", "+OK pop3 here\r\n");
}

/* Lines shorter than the tag and a space: once read past the line's end
 * (a bare "*" made len - 2 wrap), and a bare tag was taken as "A2 OK". */
static void
test_imap_short_lines(void **state)
{
	(void)state;
	/* a bare untagged line is skipped, not read beyond */
	EXPECT(STARTTLS_IMAP, "reading",
	    "", "* OK x\r\n", "A1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1\r\n*\r\n", "");
	EXPECT(STARTTLS_IMAP, "not_offered",
	    "", "* OK x\r\n", "A1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1\r\n*\r\n* \r\nA1 OK\r\n");
	/* "* xOK y" leaves "OK" at offset 3 of the buffer; a bare "A2" after it
	 * must not be read as "A2 OK" */
	EXPECT(STARTTLS_IMAP, "refused",
	    "", "* OK ready\r\n", "A1 CAPABILITY\r\n", "* CAPABILITY STARTTLS\r\nA1 OK\r\n",
	    "A2 STARTTLS\r\n", "* xOK y\r\nA2\r\n");
	EXPECT(STARTTLS_IMAP, "refused",
	    "", "* OK ready\r\n", "A1 CAPABILITY\r\n", "* xOK y\r\nA1\r\n");
	/* the greeting: a bare "*", and "*" with an empty rest */
	EXPECT(STARTTLS_IMAP, "protocol_error", "", "*\r\n");
	EXPECT(STARTTLS_IMAP, "protocol_error", "", "* \r\n");
	EXPECT(STARTTLS_IMAP, "protocol_error", "", "\r\n");
	/* in the STARTTLS state too */
	EXPECT(STARTTLS_IMAP, "done",
	    "", "* OK ready\r\n", "A1 CAPABILITY\r\n", "* CAPABILITY STARTTLS\r\nA1 OK\r\n",
	    "A2 STARTTLS\r\n", "*\r\nA2 OK go\r\n");
}

/* Every line-based dialogue, fed lines of length 0 to 3 in every state it
 * reaches: none may read beyond the line (ASan catches it) or stall. */
static void
test_short_lines_everywhere(void **state)
{
	static const char *const shorts[] = { "\r\n", "\n", "*\r\n", "* \r\n", "A1\r\n", "A2\r\n",
		"2\r\n", "25\r\n", "250\r\n", "250-\r\n", "+\r\n", ".\r\n", "\"\r\n", "OK\r\n" };
	static const struct { enum starttls_proto p; const char *lead; } protos[] = {
		{ STARTTLS_SMTP, "220 x\r\n" }, { STARTTLS_LMTP, "220 x\r\n" },
		{ STARTTLS_IMAP, "* OK x\r\n" }, { STARTTLS_POP3, "+OK x\r\n" },
		{ STARTTLS_FTP, "220 x\r\n" }, { STARTTLS_SIEVE, "\"STARTTLS\"\r\nOK\r\n" },
		{ STARTTLS_NNTP, "200 x\r\n" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(shorts); j++) {
			for (int lead = 0; lead < 2; lead++) {
				struct starttls *s = starttls_new(protos[i].p, "good.test");
				char out[4096];
				enum starttls_status st = STARTTLS_WANT_READ;

				drain(s, out, sizeof(out));
				if (lead) {
					st = starttls_input(s, protos[i].lead, strlen(protos[i].lead));
					drain(s, out, sizeof(out));
				}
				if (st != STARTTLS_FAILED)
					st = starttls_input(s, shorts[j], strlen(shorts[j]));
				/* waiting, failed with a reason, or done (sieve's "OK") */
				assert_true(st == STARTTLS_WANT_READ || st == STARTTLS_WANT_WRITE ||
				    st == STARTTLS_FAILED || st == STARTTLS_DONE);
				if (st == STARTTLS_FAILED)
					assert_true(strlen(starttls_reason(s)) > 0);
				starttls_free(s);
			}
		}
	}
}

static void
test_pop3(void **state)
{
	(void)state;
	EXPECT(STARTTLS_POP3, "done",
	    "", "+OK Dovecot ready.\r\n",
	    "CAPA\r\n", "+OK\r\nCAPA\r\nTOP\r\nSTLS\r\nUIDL\r\n.\r\n",
	    "STLS\r\n", "+OK Begin TLS negotiation now.\r\n");
	EXPECT(STARTTLS_POP3, "done",
	    "", "+OK ready\r\n", "CAPA\r\n", "-ERR unknown command\r\n",
	    "STLS\r\n", "+OK go\r\n");
	EXPECT(STARTTLS_POP3, "not_offered",
	    "", "+OK ready\r\n", "CAPA\r\n", "+OK\r\nTOP\r\nUSER\r\n.\r\n");
	EXPECT(STARTTLS_POP3, "refused",
	    "", "+OK ready\r\n", "CAPA\r\n", "+OK\r\nSTLS\r\n.\r\n",
	    "STLS\r\n", "-ERR TLS not available\r\n");
	EXPECT(STARTTLS_POP3, "refused", "", "-ERR go away\r\n");
}

static void
test_ftp(void **state)
{
	(void)state;
	/* FTP's inner lines need not repeat the code (RFC 959 4.2) */
	EXPECT(STARTTLS_FTP, "done",
	    "", "220-Welcome\r\n  to the test\r\n220 ready\r\n",
	    "AUTH TLS\r\n", "234 Proceed with negotiation.\r\n");
	EXPECT(STARTTLS_FTP, "done",
	    "", "120 wait a moment\r\n220 ready\r\n",
	    "AUTH TLS\r\n", "234 go\r\n");
	EXPECT(STARTTLS_FTP, "not_offered",
	    "", "220 ready\r\n", "AUTH TLS\r\n", "502 Command not implemented.\r\n");
	EXPECT(STARTTLS_FTP, "refused",
	    "", "220 ready\r\n", "AUTH TLS\r\n", "431 Need some unavailable resource.\r\n");
	EXPECT(STARTTLS_FTP, "refused", "", "421 Too many users\r\n");
}

static void
test_nntp(void **state)
{
	(void)state;
	EXPECT(STARTTLS_NNTP, "done",
	    "", "200 news.test ready\r\n",
	    "CAPABILITIES\r\n", "101 Capability list:\r\nVERSION 2\r\nSTARTTLS\r\nREADER\r\n.\r\n",
	    "STARTTLS\r\n", "382 Continue with TLS negotiation\r\n");
	EXPECT(STARTTLS_NNTP, "not_offered",
	    "", "201 ready\r\n", "CAPABILITIES\r\n", "101 list\r\nVERSION 2\r\n.\r\n");
	EXPECT(STARTTLS_NNTP, "refused",
	    "", "200 ready\r\n", "CAPABILITIES\r\n", "101 list\r\nSTARTTLS\r\n.\r\n",
	    "STARTTLS\r\n", "580 Can not initiate TLS negotiation\r\n");
	EXPECT(STARTTLS_NNTP, "done",
	    "", "200 ready\r\n", "CAPABILITIES\r\n", "500 What?\r\n",
	    "STARTTLS\r\n", "382 go\r\n");
	EXPECT(STARTTLS_NNTP, "refused", "", "502 access denied\r\n");
}

static void
test_sieve(void **state)
{
	(void)state;
	EXPECT(STARTTLS_SIEVE, "done",
	    "", "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto\"\r\n"
	    "\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n",
	    "STARTTLS\r\n", "OK \"Begin TLS negotiation now.\"\r\n");
	EXPECT(STARTTLS_SIEVE, "not_offered",
	    "", "\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"PLAIN STARTTLS\"\r\nOK\r\n");
	EXPECT(STARTTLS_SIEVE, "refused",
	    "", "\"STARTTLS\"\r\nOK\r\n", "STARTTLS\r\n", "NO \"not now\"\r\n");
	EXPECT(STARTTLS_SIEVE, "refused", "", "BYE \"too many\"\r\n");
}

/* Binary: feed bytes and look at what is sent. */
static enum starttls_status
bin(struct starttls *s, const void *data, size_t len)
{
	return starttls_input(s, data, len);
}

static void
test_postgres(void **state)
{
	static const unsigned char sslrequest[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
	struct starttls *s;
	char out[64];

	(void)state;
	s = starttls_new(STARTTLS_POSTGRES, NULL);
	assert_int_equal(drain(s, out, sizeof(out)), 8);
	assert_memory_equal(out, sslrequest, 8);
	assert_int_equal(bin(s, "S", 1), STARTTLS_DONE);
	starttls_free(s);

	s = starttls_new(STARTTLS_POSTGRES, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "N", 1), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "not_offered");
	starttls_free(s);

	s = starttls_new(STARTTLS_POSTGRES, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "E\0\0\0\x10", 5), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "refused");
	starttls_free(s);

	/* CVE-2021-23222: bytes after 'S' would be read as if under TLS */
	s = starttls_new(STARTTLS_POSTGRES, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "SX", 2), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);
}

/* A MySQL protocol 10 greeting with capability flags caps. */
static size_t
mysql_greeting(unsigned char *p, unsigned caps)
{
	static const char version[] = "10.11.6-MariaDB";
	size_t n = 4;

	p[n++] = 10;
	memcpy(p + n, version, sizeof(version));
	n += sizeof(version);
	memset(p + n, 1, 4 + 8);        /* thread id, auth data */
	n += 12;
	p[n++] = 0;                     /* filler */
	p[n++] = (unsigned char)caps;
	p[n++] = (unsigned char)(caps >> 8);
	memset(p + n, 0, 16);           /* charset, status, the rest */
	n += 16;
	p[0] = (unsigned char)(n - 4);
	p[1] = p[2] = 0;
	p[3] = 0;
	return n;
}

static void
test_mysql(void **state)
{
	unsigned char g[128], out[64];
	struct starttls *s;
	size_t n;

	(void)state;
	s = starttls_new(STARTTLS_MYSQL, NULL);
	assert_int_equal(drain(s, (char *)out, sizeof(out)), 0);
	n = mysql_greeting(g, 0xffff);
	/* a split packet waits for the rest */
	assert_int_equal(bin(s, g, 3), STARTTLS_WANT_READ);
	assert_int_equal(bin(s, g + 3, 10), STARTTLS_WANT_READ);
	assert_int_equal(bin(s, g + 13, n - 13), STARTTLS_WANT_WRITE);
	assert_int_equal(drain(s, (char *)out, sizeof(out)), 36);
	assert_int_equal(out[0], 32);   /* payload length */
	assert_int_equal(out[3], 1);    /* sequence */
	assert_true(out[5] & 0x08);     /* CLIENT_SSL (0x800) */
	assert_true(out[5] & 0x02);     /* CLIENT_PROTOCOL_41 (0x200) */
	assert_int_equal(starttls_next(s, &(const void *){ NULL }, &(size_t){ 0 }), STARTTLS_DONE);
	starttls_free(s);

	s = starttls_new(STARTTLS_MYSQL, NULL);
	n = mysql_greeting(g, 0xffff & ~0x0800u);
	assert_int_equal(bin(s, g, n), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "not_offered");
	starttls_free(s);

	s = starttls_new(STARTTLS_MYSQL, NULL);
	static const unsigned char err[] = { 16, 0, 0, 0, 0xff, 0x69, 0x04, 'H', 'o', 's', 't',
	    ' ', 'b', 'l', 'o', 'c', 'k', 'e', 'd', '!' };
	assert_int_equal(bin(s, err, 20), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "refused");
	assert_non_null(strstr(starttls_detail(s), "Host blocked"));
	starttls_free(s);

	/* a length beyond the bound is refused at once, not waited for */
	s = starttls_new(STARTTLS_MYSQL, NULL);
	assert_int_equal(bin(s, "\xff\xff\xff\x00", 4), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);
}

static void
test_ldap(void **state)
{
	static const unsigned char ok[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a,
	    0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	static const unsigned char proto_err[] = { 0x30, 0x10, 0x02, 0x01, 0x01, 0x78, 0x0b,
	    0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x04, 'n', 'o', 'p', 'e' };
	static const unsigned char unavailable[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
	    0x0a, 0x01, 0x34, 0x04, 0x00, 0x04, 0x00 };
	/* long-form lengths */
	static const unsigned char ok_long[] = { 0x30, 0x81, 0x0d, 0x02, 0x01, 0x01, 0x78, 0x81,
	    0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	struct starttls *s;
	char out[64];

	(void)state;
	s = starttls_new(STARTTLS_LDAP, NULL);
	assert_int_equal(drain(s, out, sizeof(out)), 31);
	assert_memory_equal(out, "\x30\x1d\x02\x01\x01\x77\x18\x80\x16", 9);
	assert_memory_equal(out + 9, "1.3.6.1.4.1.1466.20037", 22);
	assert_int_equal(bin(s, ok, 5), STARTTLS_WANT_READ);
	assert_int_equal(bin(s, ok + 5, sizeof(ok) - 5), STARTTLS_DONE);
	starttls_free(s);

	s = starttls_new(STARTTLS_LDAP, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, ok_long, sizeof(ok_long)), STARTTLS_DONE);
	starttls_free(s);

	s = starttls_new(STARTTLS_LDAP, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, proto_err, sizeof(proto_err)), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "not_offered");
	assert_non_null(strstr(starttls_detail(s), "nope"));
	starttls_free(s);

	s = starttls_new(STARTTLS_LDAP, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, unavailable, sizeof(unavailable)), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "refused");
	starttls_free(s);

	s = starttls_new(STARTTLS_LDAP, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "HTTP/1.1 400", 12), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);

	/* an inner length that overruns its container */
	s = starttls_new(STARTTLS_LDAP, NULL);
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "\x30\x05\x02\x09\x01\x78\x00", 7), STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "protocol_error");
	starttls_free(s);
}

static void
test_xmpp(void **state)
{
	static const char head[] = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' id='x' from='good.test' "
	    "version='1.0'>";
	static const char tls[] = "<stream:features><starttls "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";
	struct starttls *s;
	char out[512];

	(void)state;
	s = starttls_new(STARTTLS_XMPP, "good.test");
	drain(s, out, sizeof(out));
	assert_non_null(strstr(out, "to='good.test'"));
	assert_non_null(strstr(out, "xmlns='jabber:client'"));
	assert_int_equal(bin(s, head, strlen(head)), STARTTLS_WANT_READ);
	assert_int_equal(bin(s, tls, 20), STARTTLS_WANT_READ);
	assert_int_equal(bin(s, tls + 20, strlen(tls) - 20), STARTTLS_WANT_WRITE);
	drain(s, out, sizeof(out));
	assert_string_equal(out, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	assert_int_equal(bin(s, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 50),
	    STARTTLS_DONE);
	starttls_free(s);

	s = starttls_new(STARTTLS_XMPP, "good.test");
	drain(s, out, sizeof(out));
	bin(s, head, strlen(head));
	assert_int_equal(bin(s, "<stream:features><mechanisms/></stream:features>", 48),
	    STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "not_offered");
	starttls_free(s);

	s = starttls_new(STARTTLS_XMPP, "good.test");
	drain(s, out, sizeof(out));
	bin(s, head, strlen(head));
	bin(s, tls, strlen(tls));
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 50),
	    STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "refused");
	starttls_free(s);

	s = starttls_new(STARTTLS_XMPP, "good.test");
	drain(s, out, sizeof(out));
	assert_int_equal(bin(s, "<stream:error><host-unknown/></stream:error>", 44),
	    STARTTLS_FAILED);
	assert_string_equal(starttls_reason(s), "refused");
	starttls_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_port_table),
		cmocka_unit_test(test_smtp),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_imap),
		cmocka_unit_test(test_imap_short_lines),
		cmocka_unit_test(test_short_lines_everywhere),
		cmocka_unit_test(test_pop3),
		cmocka_unit_test(test_ftp),
		cmocka_unit_test(test_nntp),
		cmocka_unit_test(test_sieve),
		cmocka_unit_test(test_postgres),
		cmocka_unit_test(test_mysql),
		cmocka_unit_test(test_ldap),
		cmocka_unit_test(test_xmpp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
