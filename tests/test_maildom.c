/* test_maildom.c - the keys a mail domain's results are known by ("MX PORT
 * ADDRESS"), read back for labels and rechecks, and the target each MX
 * host and port is probed as. The rounds themselves run against real
 * servers in test_mail.py. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "probe/maildom.h"
#include "probe/starttls.h"

static void
test_split_key(void **state)
{
	char mx[MAILDOM_KEY_MAX];
	const char *addr;
	uint16_t port;

	(void)state;
	assert_int_equal(maildom_split_key("mx1.example.org 25 192.0.2.1", mx, sizeof(mx),
	    &port, &addr), 0);
	assert_string_equal(mx, "mx1.example.org");
	assert_int_equal(port, 25);
	assert_string_equal(addr, "192.0.2.1");
	assert_int_equal(maildom_split_key("mx.example.org 465 2001:db8::1", mx, sizeof(mx),
	    &port, &addr), 0);
	assert_int_equal(port, 465);
	assert_string_equal(addr, "2001:db8::1");
	/* an MX host that did not resolve: no address */
	assert_int_equal(maildom_split_key("mx.example.org 587", mx, sizeof(mx), &port, &addr),
	    0);
	assert_int_equal(port, 587);
	assert_string_equal(addr, "");
	/* not keys: an address alone, no port, a bad port, an MX too long */
	assert_int_equal(maildom_split_key("192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key(" 25 192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx 0 192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx 65536", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx 25x", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("mx  192.0.2.1", mx, sizeof(mx), &port, &addr), -1);
	assert_int_equal(maildom_split_key("abcdefgh 25 ::1", mx, 8, &port, &addr), -1);
	assert_int_equal(maildom_split_key("abcdefg 25 ::1", mx, 8, &port, &addr), 0);
}

static void
test_sub_target(void **state)
{
	uint16_t ports[] = { 25, 465 };
	struct conf_target parent = {
		.name = "dom", .address = "example.org", .host = "example.org", .port = 25,
		.mail_domain = "example.org", .ports = ports, .nports = 2,
		.timeout_ms = 1234, .dane = CONF_DANE_ON,
	}, sub;
	struct maildom *md = maildom_new();
	char mx[MAILDOM_KEY_MAX];

	(void)state;
	parent.tls.starttls = STARTTLS_SMTP;
	maildom_sub_target(&parent, "mx1.example.org", 465, &sub);
	assert_string_equal(sub.name, "dom");
	assert_string_equal(sub.host, "mx1.example.org");
	assert_string_equal(sub.server_name, "mx1.example.org");
	assert_int_equal(sub.port, 465);
	assert_int_equal(sub.tls.starttls, STARTTLS_NONE);     /* implicit TLS */
	assert_int_equal(sub.tls.addresses_all, 1);
	assert_int_equal(sub.timeout_ms, 1234);
	assert_int_equal(sub.dane, CONF_DANE_ON);
	assert_int_equal(conf_target_is_smtp(&sub), 1);
	maildom_sub_target(&parent, "mx1.example.org", 587, &sub);
	assert_int_equal(sub.tls.starttls, STARTTLS_SMTP);
	/* before any MX answer no key names a known MX host */
	assert_int_equal(maildom_nmx(md), 0);
	assert_int_equal(maildom_busy(md), 0);
	assert_int_equal(maildom_target_for_key(md, &parent, "mx1.example.org 25 192.0.2.1",
	    mx, sizeof(mx), &sub), -1);
	assert_int_equal(maildom_mx_changes(md), 0);
	maildom_free(md);
	maildom_cancel(NULL);
	maildom_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_key),
		cmocka_unit_test(test_sub_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
