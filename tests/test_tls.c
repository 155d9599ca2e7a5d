/* test_tls.c - the GnuTLS client session (probe/tls.c) against a GnuTLS
 * server on loopback: a non-blocking handshake driven by poll, the chain
 * received whole without verification, the handshake's facts (stapled
 * OCSP, group, signature scheme), failures named, client credentials and
 * priority strings checked. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "probe/tls.h"
#include "testlib.h"

static struct tc ca, leaf;

static int
connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	return fd;
}

/* Drive the handshake as the probe does, bounded by 5 s. */
static enum tls_status
drive(struct tls *t, int fd, const char **reason, char **detail)
{
	for (int rounds = 0; rounds < 500; rounds++) {
		enum tls_status st = tls_handshake(t, reason, detail);
		struct pollfd p = { fd, 0, 0 };

		if (st == TLS_DONE || st == TLS_FAILED)
			return st;
		p.events = st == TLS_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&p, 1, 10) < 0 && errno != EINTR)
			break;
	}
	fail_msg("the handshake did not end within 5 s");
	return TLS_FAILED;
}

static void
test_handshake(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	static const unsigned char staple[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	struct tls_facts f;
	struct ts s;
	struct tls *t;
	const struct der *peers;
	const char *reason = NULL;
	char *detail = NULL, *err = NULL;
	size_t n;
	int fd;

	(void)state;
	assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, staple, sizeof(staple),
	    TS_HANDSHAKE), 0);
	fd = connect_to(s.port);
	assert_non_null(t = tls_new(fd, "leaf.test", NULL, &err));
	assert_int_equal(drive(t, fd, &reason, &detail), TLS_DONE);
	/* the whole chain as sent, not verified: the CA is not trusted here */
	peers = tls_peer_chain(t, &n);
	assert_int_equal(n, 2);
	assert_int_equal(peers[0].len, leaf.der.len);
	assert_memory_equal(peers[0].data, leaf.der.data, leaf.der.len);
	assert_memory_equal(peers[1].data, ca.der.data, ca.der.len);
	assert_string_equal(tls_version_name(t), "TLS1.3");
	assert_non_null(strstr(tls_cipher_name(t), "TLS_"));
	/* asked for in every handshake, and received as sent */
	tls_facts(t, &f);
	assert_int_equal(f.nstaples, 1);
	assert_int_equal(f.staples[0].len, sizeof(staple));
	assert_memory_equal(f.staples[0].data, staple, sizeof(staple));
	assert_non_null(f.group);
	assert_non_null(f.sigscheme);
	assert_non_null(strstr(f.sigscheme, "ECDSA"));
	assert_int_equal(f.scts.len, 0);    /* GnuTLS 3.7.9 does not expose them */
	tls_bye(t);
	tls_free(t);
	close(fd);
	ts_stop(&s);
}

/* No staple: nothing, and no failure for lack of one. */
static void
test_no_staple_tls12(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct tls_facts f;
	struct ts s;
	struct tls *t;
	const char *reason = NULL;
	char *detail = NULL, *err = NULL;
	int fd;

	(void)state;
	assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
	fd = connect_to(s.port);
	assert_non_null(t = tls_new(fd, NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2", &err));
	assert_int_equal(drive(t, fd, &reason, &detail), TLS_DONE);
	assert_string_equal(tls_version_name(t), "TLS1.2");
	tls_facts(t, &f);
	assert_int_equal(f.nstaples, 0);
	assert_null(f.staples);
	assert_non_null(f.group);
	tls_free(t);
	close(fd);
	ts_stop(&s);
}

/* A peer that closes at once: a named failure, with a detail for people. */
static void
test_closed(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	struct ts s;
	struct tls *t;
	const char *reason = NULL;
	char *detail = NULL, *err = NULL;
	int fd;

	(void)state;
	assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, NULL, 0, TS_CLOSE), 0);
	fd = connect_to(s.port);
	assert_non_null(t = tls_new(fd, "leaf.test", NULL, &err));
	assert_int_equal(drive(t, fd, &reason, &detail), TLS_FAILED);
	assert_true(strcmp(reason, "closed") == 0 || strcmp(reason, "reset") == 0);
	assert_non_null(detail);
	free(detail);
	tls_free(t);
	close(fd);
	ts_stop(&s);
}

static void
test_priority(void **state)
{
	char *err = NULL;

	(void)state;
	assert_int_equal(tls_priority_check("NORMAL:-VERS-TLS1.0", &err), 0);
	assert_int_equal(tls_priority_check("NORMAL:+BOGUS", &err), -1);
	assert_non_null(strstr(err, "bad priority string at position 8 (\"+BOGUS\")"));
	free(err);
	/* a bad string reaches a session too: refused there, not at the handshake */
	err = NULL;
	assert_null(tls_new(-1, NULL, "NONSENSE", &err));
	assert_non_null(err);
	free(err);
}

/* A priority string is parsed at its first session and kept: later
 * sessions get the same settings (TLS 1.2 stays TLS 1.2 after the default
 * was cached beside it), a bad string is refused every time and not kept. */
static void
test_priority_cache(void **state)
{
	const struct tc *chain[] = { &leaf, &ca };
	static const char *const prios[] = {
		"NORMAL:-VERS-TLS1.3", NULL, "NORMAL:-VERS-TLS1.3", NULL,
	};
	static const char *const versions[] = { "TLS1.2", "TLS1.3", "TLS1.2", "TLS1.3" };
	size_t before = tls_priority_cached(), first = 0;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(prios); i++) {
		const char *reason = NULL;
		char *detail = NULL;
		struct ts s;
		struct tls *t;
		int fd;

		assert_int_equal(ts_start(&s, "127.0.0.1", chain, 2, NULL, 0, TS_HANDSHAKE), 0);
		fd = connect_to(s.port);
		assert_non_null(t = tls_new(fd, "leaf.test", prios[i], &err));
		assert_int_equal(drive(t, fd, &reason, &detail), TLS_DONE);
		assert_string_equal(tls_version_name(t), versions[i]);
		if (i == 1)
			first = tls_priority_cached();
		tls_free(t);
		close(fd);
		ts_stop(&s);
	}
	/* the new string once, the default once unless an earlier test made
	 * it; the second round parses nothing */
	assert_true(first == before + 1 || first == before + 2);
	assert_int_equal(tls_priority_cached(), first);
	before = tls_priority_cached();
	for (int i = 0; i < 2; i++) {
		err = NULL;
		assert_null(tls_new(-1, NULL, "NORMAL:+BOGUS", &err));
		assert_non_null(strstr(err, "gnutls: "));
		free(err);
	}
	assert_int_equal(tls_priority_cached(), before);
}

static void
test_creds(void **state)
{
	struct tc_spec other_spec = { .cn = "other" };
	struct tc other;
	struct tls_creds *c;
	char cert[64], key[64], wrong[64], *err = NULL;
	int64_t not_after = 0;

	(void)state;
	snprintf(cert, sizeof(cert), "/tmp/test_tls.%d.pem", (int)getpid());
	snprintf(key, sizeof(key), "/tmp/test_tls.%d.key", (int)getpid());
	snprintf(wrong, sizeof(wrong), "/tmp/test_tls.%d.other", (int)getpid());
	tc_write(&leaf, NULL, cert, key);
	tc_make(&other, &other_spec, NULL);
	tc_write(&other, NULL, wrong, wrong);   /* the key file holds other's key */
	assert_non_null(c = tls_creds_load(cert, key, &not_after, &err));
	assert_int_equal(not_after, (int64_t)gnutls_x509_crt_get_expiration_time(leaf.crt));
	tls_creds_free(c);
	assert_null(tls_creds_load(cert, wrong, &not_after, &err));
	assert_non_null(strstr(err, "does not match the certificate"));
	free(err);
	err = NULL;
	assert_null(tls_creds_load(cert, "/nonexistent/key.pem", &not_after, &err));
	assert_non_null(strstr(err, "cannot load"));
	free(err);
	tls_creds_free(NULL);
	unlink(cert);
	unlink(key);
	unlink(wrong);
	tc_free(&other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_no_staple_tls12),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_priority_cache),
		cmocka_unit_test(test_creds),
	};
	static const char *const sans[] = { "DNS:leaf.test", NULL };
	struct tc_spec cs = { .cn = "TLS Test CA", .ca = 1 };
	struct tc_spec ls = { .cn = "leaf.test", .sans = sans };
	char *err = NULL;
	int rc;

	if (tls_init(&err) == -1)
		return 1;
	tc_make(&ca, &cs, NULL);
	tc_make(&leaf, &ls, &ca);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	tc_free(&leaf);
	tc_free(&ca);
	tls_fini();
	return rc;
}
