/* test_ptarget.c - /probe and file_sd targets: host:port, [v6]:port and the
 * URLs prometheus-operator builds, with the port and STARTTLS each implies. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/ptarget.h"
#include "probe/starttls.h"

struct good {
	const char *in;
	const char *host;
	unsigned port;
	int is_ip;
	int starttls;          /* -1: the port decides */
	const char *scheme;
};

static void
test_good(void **state)
{
	static const struct good cases[] = {
		{ "example.org:443", "example.org", 443, 0, -1, NULL },
		{ "127.0.0.1:8443", "127.0.0.1", 8443, 1, -1, NULL },
		{ "[::1]:993", "::1", 993, 1, -1, NULL },
		{ "mail.example.org:25", "mail.example.org", 25, 0, -1, NULL },
		/* what prometheus-operator writes for an Ingress */
		{ "https://shop.example.org/", "shop.example.org", 443, 0, STARTTLS_NONE, "https" },
		{ "https://shop.example.org/cart?x=1#top", "shop.example.org", 443, 0, STARTTLS_NONE, "https" },
		{ "https://shop.example.org", "shop.example.org", 443, 0, STARTTLS_NONE, "https" },
		{ "https://shop.example.org:8443/x", "shop.example.org", 8443, 0, STARTTLS_NONE, "https" },
		{ "HTTPS://Shop.Example.org/", "Shop.Example.org", 443, 0, STARTTLS_NONE, "https" },
		{ "https://[2001:db8::1]/", "2001:db8::1", 443, 1, STARTTLS_NONE, "https" },
		{ "https://[2001:db8::1]:444", "2001:db8::1", 444, 1, STARTTLS_NONE, "https" },
		{ "https://192.0.2.1?q", "192.0.2.1", 443, 1, STARTTLS_NONE, "https" },
		{ "smtps://mx.example.org", "mx.example.org", 465, 0, STARTTLS_NONE, "smtps" },
		{ "submissions://mx.example.org", "mx.example.org", 465, 0, STARTTLS_NONE, "submissions" },
		{ "imaps://mx.example.org", "mx.example.org", 993, 0, STARTTLS_NONE, "imaps" },
		{ "pop3s://mx.example.org", "mx.example.org", 995, 0, STARTTLS_NONE, "pop3s" },
		{ "ldaps://dir.example.org", "dir.example.org", 636, 0, STARTTLS_NONE, "ldaps" },
		{ "ftps://ftp.example.org", "ftp.example.org", 990, 0, STARTTLS_NONE, "ftps" },
		/* STARTTLS on their ports, and on any port the URL names */
		{ "smtp://mx.example.org", "mx.example.org", 25, 0, STARTTLS_SMTP, "smtp" },
		{ "smtp://mx.example.org:2525", "mx.example.org", 2525, 0, STARTTLS_SMTP, "smtp" },
		{ "submission://mx.example.org", "mx.example.org", 587, 0, STARTTLS_SMTP, "submission" },
		{ "imap://mx.example.org/INBOX", "mx.example.org", 143, 0, STARTTLS_IMAP, "imap" },
		{ "pop3://mx.example.org", "mx.example.org", 110, 0, STARTTLS_POP3, "pop3" },
		{ "xmpp://chat.example.org", "chat.example.org", 5222, 0, STARTTLS_XMPP, "xmpp" },
		{ "ldap://dir.example.org", "dir.example.org", 389, 0, STARTTLS_LDAP, "ldap" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ptarget t;
		const char *msg = ptarget_parse(cases[i].in, &t);

		if (msg != NULL)
			fail_msg("%s: %s", cases[i].in, msg);
		assert_string_equal(t.host, cases[i].host);
		assert_int_equal(t.port, cases[i].port);
		assert_int_equal(t.host_is_ip, cases[i].is_ip);
		assert_int_equal(t.starttls, cases[i].starttls);
		if (cases[i].scheme == NULL)
			assert_null(t.scheme);
		else
			assert_string_equal(t.scheme, cases[i].scheme);
		ptarget_fini(&t);
	}
}

static void
test_bad(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} cases[] = {
		{ "", "empty target" },
		{ "example.org", "missing port" },
		{ "example.org:", "missing port" },
		{ "example.org:0", "bad port" },
		{ "example.org:65536", "bad port" },
		{ "::1:443", "IPv6 address must be in brackets" },
		{ "[example.org]:443", "bracketed host must be an IPv6 address" },
		{ "[::1:443", "unterminated bracket" },
		{ "exa mple.org:443", "bad host name" },
		{ "https://user:secret@example.org/", "URL with credentials refused" },
		{ "https://user@example.org/", "URL with credentials refused" },
		{ "https://@example.org/", "URL with credentials refused" },
		{ "smtp://u:p@[::1]:25", "URL with credentials refused" },
		{ "http://example.org/", "http:// has no TLS: use https://" },
		{ "gopher://example.org/", "unknown URL scheme" },
		{ "1https://example.org/", "bad URL scheme" },
		{ "://example.org/", "bad URL scheme" },
		{ "https:///path", "missing host" },
		{ "https://", "missing host" },
		{ "https://exa%6dple.org/", "bad host name" },
		{ "https://example.org:99999/", "bad port" },
		{ "https://example.org:x/", "bad port" },
		{ "https://[::1/", "unterminated bracket" },
		{ "https://[nope]/", "bracketed host must be an IPv6 address" },
		{ "https://ex\\ample.org/", "bad host name" },
		{ "https://example.org:443:1/", "bad host name" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ptarget t;
		const char *msg = ptarget_parse(cases[i].in, &t);

		if (msg == NULL)
			fail_msg("%s: accepted as %s:%u", cases[i].in, t.host, t.port);
		assert_string_equal(msg, cases[i].msg);
		assert_null(t.host);
		ptarget_fini(&t);
	}
}

/* The length bound holds before anything is looked at. */
static void
test_long(void **state)
{
	char s[PTARGET_MAX_LEN + 16];
	struct ptarget t;

	(void)state;
	memset(s, 'a', sizeof(s));
	memcpy(s, "https://", 8);
	s[PTARGET_MAX_LEN + 1] = '\0';
	assert_string_equal(ptarget_parse(s, &t), "target too long");
	/* a 300-byte name passes the length bound and fails as a name */
	s[300] = '\0';
	assert_string_equal(ptarget_parse(s, &t), "bad host name");
	ptarget_fini(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
