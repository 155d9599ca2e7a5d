/* test_proxy.c - HTTP CONNECT and SOCKS5 dialogues fed what proxies send:
 * the exact requests, where each ends, the three failure reasons, the
 * bytes of the target that arrive with the answer, and the bounds. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/proxy.h"

/* Everything the dialogue wants to send now (a short write first). */
static size_t
drain(struct proxy *p, unsigned char *out, size_t size)
{
	const void *d;
	size_t len, n = 0;

	while (proxy_next(p, &d, &len) == PROXY_WANT_WRITE) {
		assert_true(len > 0 && n + len <= size);
		memcpy(out + n, d, len);
		n += len;
		if (len > 1) {
			proxy_sent(p, 1);
			proxy_sent(p, len - 1);
		} else {
			proxy_sent(p, len);
		}
	}
	return n;
}

static enum proxy_status
feed(struct proxy *p, const void *data, size_t len, int bytewise)
{
	enum proxy_status st = PROXY_WANT_READ;
	const unsigned char *b = data;

	if (!bytewise)
		return proxy_input(p, data, len);
	for (size_t i = 0; i < len && st == PROXY_WANT_READ; i++)
		st = proxy_input(p, b + i, 1);
	return st;
}

#define CONNECT_REQ(hp) "CONNECT " hp " HTTP/1.1\r\nHost: " hp "\r\n\r\n"

static void
test_http_request(void **state)
{
	unsigned char out[1024];
	struct proxy *p;
	size_t n;

	(void)state;
	p = proxy_new(PROXY_HTTP, "good.test", 8443);
	n = drain(p, out, sizeof(out));
	assert_int_equal(n, strlen(CONNECT_REQ("good.test:8443")));
	assert_memory_equal(out, CONNECT_REQ("good.test:8443"), n);
	proxy_free(p);

	p = proxy_new(PROXY_HTTP, "::1", 443);
	n = drain(p, out, sizeof(out));
	assert_memory_equal(out, CONNECT_REQ("[::1]:443"), n);
	proxy_free(p);

	/* nothing that could end the request line early */
	assert_null(proxy_new(PROXY_HTTP, "a b", 443));
	assert_null(proxy_new(PROXY_HTTP, "a\r\nX-Evil: 1", 443));
	assert_null(proxy_new(PROXY_HTTP, "", 443));
	proxy_free(NULL);
}

/* Run an HTTP dialogue against answer; the final status. */
static enum proxy_status
http_run(const char *answer, size_t len, int bytewise, struct proxy **out)
{
	unsigned char buf[1024];
	struct proxy *p = proxy_new(PROXY_HTTP, "good.test", 443);
	enum proxy_status st;

	drain(p, buf, sizeof(buf));
	assert_int_equal(proxy_next(p, &(const void *){ NULL }, &(size_t){ 0 }), PROXY_WANT_READ);
	st = feed(p, answer, len, bytewise);
	*out = p;
	return st;
}

static void
test_http_answers(void **state)
{
	static const struct {
		const char *answer;
		enum proxy_status status;
		const char *reason;
		const char *detail;      /* a part of it */
	} cases[] = {
		{ "HTTP/1.1 200 Connection established\r\n\r\n", PROXY_DONE, "", "" },
		{ "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n",
		  PROXY_DONE, "", "" },
		{ "HTTP/1.1 204\r\n\r\n", PROXY_DONE, "", "" },
		{ "HTTP/1.1 200 OK\n\n", PROXY_DONE, "", "" },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", PROXY_DONE, "", "" },
		{ "HTTP/1.1 407 Proxy Authentication Required\r\n", PROXY_FAILED, "proxy_auth",
		  "407 Proxy Authentication Required" },
		{ "HTTP/1.1 403 Access violation\r\n", PROXY_FAILED, "proxy_refused",
		  "answered CONNECT with 403 Access violation" },
		{ "HTTP/1.1 502 Bad Gateway\r\n\r\n", PROXY_FAILED, "proxy_refused", "502" },
		{ "HTTP/1.1 301 Moved\r\n", PROXY_FAILED, "proxy_refused", "301" },
		{ "SSH-2.0-OpenSSH_9.2\r\n", PROXY_FAILED, "proxy_error", "not an HTTP proxy answer" },
		{ "HTTP/2 200\r\n\r\n", PROXY_FAILED, "proxy_error", "not an HTTP proxy answer" },
		{ "HTTP/1.1 2000 OK\r\n", PROXY_FAILED, "proxy_error", "not an HTTP proxy answer" },
		{ "HTTP/1.1 20x OK\r\n", PROXY_FAILED, "proxy_error", "not an HTTP proxy answer" },
		{ "\x16\x03\x01\x02\x05hello\n", PROXY_FAILED, "proxy_error", "not an HTTP proxy answer" },
		{ "HTTP/1.1 200 OK\r\nX: y\r\n", PROXY_WANT_READ, "", "" },
	};

	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct proxy *p;
			enum proxy_status st = http_run(cases[i].answer, strlen(cases[i].answer),
			    bytewise, &p);

			if (st != cases[i].status)
				fail_msg("%zu (%s): status %d, want %d (%s)", i,
				    bytewise ? "bytewise" : "at once", st, cases[i].status,
				    proxy_detail(p));
			assert_string_equal(proxy_reason(p), cases[i].reason);
			assert_non_null(strstr(proxy_detail(p), cases[i].detail));
			/* final states stay final */
			if (st != PROXY_WANT_READ)
				assert_int_equal(proxy_input(p, "x", 1), st);
			proxy_free(p);
		}
	}
}

/* The target's first bytes (an SMTP greeting) arriving with the answer. */
static void
test_http_leftover(void **state)
{
	static const char answer[] = "HTTP/1.1 200 Connection established\r\n\r\n"
	    "220 mx.test ESMTP\r\n";
	struct proxy *p;
	const void *left;
	size_t n;

	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		assert_int_equal(http_run(answer, strlen(answer), bytewise, &p), PROXY_DONE);
		left = proxy_leftover(p, &n);
		if (bytewise) {
			/* fed a byte at a time, the answer ends on its own byte */
			assert_int_equal(n, 0);
			assert_null(left);
		} else {
			assert_int_equal(n, strlen("220 mx.test ESMTP\r\n"));
			assert_memory_equal(left, "220 mx.test ESMTP\r\n", n);
		}
		proxy_free(p);
	}
}

static void
test_http_bounds(void **state)
{
	char *big = malloc(PROXY_MAX_REPLY + 64);
	struct proxy *p;
	size_t n = 0;

	(void)state;
	/* one endless line */
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', PROXY_MAX_LINE + 8);
	assert_int_equal(http_run(big, 20 + PROXY_MAX_LINE + 8, 0, &p), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_error");
	assert_non_null(strstr(proxy_detail(p), "line"));
	proxy_free(p);

	/* endless short headers */
	n = 17;
	memcpy(big, "HTTP/1.1 200 OK\r\n", n);
	while (n + 6 < PROXY_MAX_REPLY + 32) {
		memcpy(big + n, "X: y\r\n", 6);
		n += 6;
	}
	assert_int_equal(http_run(big, n, 0, &p), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_error");
	assert_non_null(strstr(proxy_detail(p), "longer than"));
	proxy_free(p);
	free(big);

	/* closed before, and in the middle of, the answer */
	assert_int_equal(http_run("", 0, 0, &p), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_error");
	assert_non_null(strstr(proxy_detail(p), "before answering"));
	proxy_free(p);
	assert_int_equal(http_run("HTTP/1.1 200 OK\r\n", 17, 0, &p), PROXY_WANT_READ);
	assert_int_equal(proxy_input(p, "", 0), PROXY_FAILED);
	assert_non_null(strstr(proxy_detail(p), "middle"));
	proxy_free(p);
}

/* ---------------------------------------------------------------- SOCKS5 */

static struct proxy *
socks_start(const char *host, uint16_t port, unsigned char *req, size_t *reqlen)
{
	static const unsigned char method_ok[] = { 5, 0 };
	unsigned char out[600];
	struct proxy *p = proxy_new(PROXY_SOCKS5, host, port);
	size_t n;

	assert_non_null(p);
	n = drain(p, out, sizeof(out));
	assert_int_equal(n, 3);
	assert_memory_equal(out, "\x05\x01\x00", 3);
	assert_int_equal(proxy_input(p, method_ok, 2), PROXY_WANT_WRITE);
	*reqlen = drain(p, req, 600);
	return p;
}

static void
test_socks_requests(void **state)
{
	static const unsigned char name_req[] = { 5, 1, 0, 3, 9, 'g', 'o', 'o', 'd', '.', 't', 'e',
		's', 't', 0x20, 0xfb };
	static const unsigned char v4_req[] = { 5, 1, 0, 1, 127, 0, 0, 1, 0x01, 0xbb };
	static const unsigned char v6_req[] = { 5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 1, 0x03, 0xe1 };
	unsigned char req[600];
	struct proxy *p;
	size_t n;
	char name[300];

	(void)state;
	/* the name goes to the proxy, which resolves it (socks5h) */
	p = socks_start("good.test", 8443, req, &n);
	assert_int_equal(n, sizeof(name_req));
	assert_memory_equal(req, name_req, n);
	proxy_free(p);
	p = socks_start("127.0.0.1", 443, req, &n);
	assert_int_equal(n, sizeof(v4_req));
	assert_memory_equal(req, v4_req, n);
	proxy_free(p);
	p = socks_start("::1", 993, req, &n);
	assert_int_equal(n, sizeof(v6_req));
	assert_memory_equal(req, v6_req, n);
	proxy_free(p);

	/* 255 bytes is the most a name can have in ATYP 3 */
	memset(name, 'a', 255);
	name[255] = '\0';
	p = socks_start(name, 443, req, &n);
	assert_int_equal(n, 5 + 255 + 2);
	assert_int_equal(req[4], 255);
	proxy_free(p);
	name[255] = 'a';
	name[256] = '\0';
	assert_null(proxy_new(PROXY_SOCKS5, name, 443));
}

struct socks_case {
	const char *desc;
	const unsigned char *reply;
	size_t len;
	enum proxy_status status;
	const char *reason;
	const char *detail;
	size_t leftover;
};

static void
test_socks_replies(void **state)
{
	static const unsigned char ok4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40 };
	static const unsigned char ok6[] = { 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 1, 0x9c, 0x40 };
	static const unsigned char okname[] = { 5, 0, 0, 3, 2, 'p', 'x', 0x9c, 0x40 };
	static const unsigned char ok_more[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40, '2', '2',
		'0', ' ' };
	static const unsigned char ruleset[] = { 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const unsigned char refused[] = { 5, 5 };
	static const unsigned char general[] = { 5, 1, 0, 1, 0, 0, 0, 0, 0, 0 };
	static const unsigned char unassigned[] = { 5, 9 };
	static const unsigned char badatyp[] = { 5, 0, 0, 7, 0, 0 };
	static const unsigned char v4[] = { 4, 90 };
	static const unsigned char partial[] = { 5, 0, 0, 1, 127 };
	static const struct socks_case cases[] = {
		{ "IPv4 bound", ok4, sizeof(ok4), PROXY_DONE, "", "", 0 },
		{ "IPv6 bound", ok6, sizeof(ok6), PROXY_DONE, "", "", 0 },
		{ "name bound", okname, sizeof(okname), PROXY_DONE, "", "", 0 },
		{ "target bytes after", ok_more, sizeof(ok_more), PROXY_DONE, "", "", 4 },
		{ "ruleset", ruleset, sizeof(ruleset), PROXY_FAILED, "proxy_refused",
		  "2 (connection not allowed by ruleset)", 0 },
		{ "refused", refused, sizeof(refused), PROXY_FAILED, "proxy_refused",
		  "5 (connection refused)", 0 },
		{ "general", general, sizeof(general), PROXY_FAILED, "proxy_refused",
		  "general SOCKS server failure", 0 },
		{ "unassigned", unassigned, sizeof(unassigned), PROXY_FAILED, "proxy_error",
		  "unassigned", 0 },
		{ "bad address type", badatyp, sizeof(badatyp), PROXY_FAILED, "proxy_error",
		  "address type 7", 0 },
		{ "SOCKS4 answer", v4, sizeof(v4), PROXY_FAILED, "proxy_error", "version byte 4", 0 },
		{ "partial", partial, sizeof(partial), PROXY_WANT_READ, "", "", 0 },
	};

	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct socks_case *c = &cases[i];
			unsigned char req[600];
			size_t n, left;
			struct proxy *p = socks_start("good.test", 443, req, &n);
			enum proxy_status st = feed(p, c->reply, c->len, bytewise);

			if (st != c->status)
				fail_msg("%s: status %d, want %d (%s)", c->desc, st, c->status,
				    proxy_detail(p));
			assert_string_equal(proxy_reason(p), c->reason);
			assert_non_null(strstr(proxy_detail(p), c->detail));
			(void)proxy_leftover(p, &left);
			assert_int_equal(left, bytewise ? 0 : c->leftover);
			proxy_free(p);
		}
	}
}

static void
test_socks_method(void **state)
{
	static const unsigned char none[] = { 5, 0xff };
	static const unsigned char userpass[] = { 5, 2 };
	static const unsigned char extra[] = { 5, 0, 5, 0 };
	unsigned char out[16];
	struct proxy *p;

	(void)state;
	p = proxy_new(PROXY_SOCKS5, "good.test", 443);
	drain(p, out, sizeof(out));
	assert_int_equal(proxy_input(p, none, 2), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_auth");
	proxy_free(p);

	p = proxy_new(PROXY_SOCKS5, "good.test", 443);
	drain(p, out, sizeof(out));
	assert_int_equal(proxy_input(p, userpass, 2), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_error");
	assert_non_null(strstr(proxy_detail(p), "method 2"));
	proxy_free(p);

	/* a reply before the request was sent is no SOCKS5 */
	p = proxy_new(PROXY_SOCKS5, "good.test", 443);
	drain(p, out, sizeof(out));
	assert_int_equal(proxy_input(p, extra, sizeof(extra)), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_error");
	proxy_free(p);

	p = proxy_new(PROXY_SOCKS5, "good.test", 443);
	drain(p, out, sizeof(out));
	assert_int_equal(proxy_input(p, "", 0), PROXY_FAILED);
	assert_string_equal(proxy_reason(p), "proxy_error");
	assert_non_null(strstr(proxy_detail(p), "SOCKS5 proxy closed the connection before"));
	proxy_free(p);
}

static void
test_parse(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
		enum proxy_kind kind;
		const char *host;
		unsigned port;
	} cases[] = {
		{ "http://proxy.test:3128", NULL, PROXY_HTTP, "proxy.test", 3128 },
		{ "http://proxy.test:3128/", NULL, PROXY_HTTP, "proxy.test", 3128 },
		{ "HTTP://127.0.0.1:8888", NULL, PROXY_HTTP, "127.0.0.1", 8888 },
		{ "socks5://[::1]:1080", NULL, PROXY_SOCKS5, "::1", 1080 },
		{ "socks5h://socks.test:1080", NULL, PROXY_SOCKS5, "socks.test", 1080 },
		{ "http://proxy.test", "missing port", 0, NULL, 0 },
		{ "http://u:p@proxy.test:3128", "credentials in a proxy URL are not supported", 0,
		  NULL, 0 },
		{ "http://proxy.test:3128/x", "a proxy URL has no path", 0, NULL, 0 },
		{ "https://proxy.test:3128",
		  "https:// proxies are not supported: use http:// (the tunnel carries TLS)", 0,
		  NULL, 0 },
		{ "socks4://proxy.test:1080", "SOCKS4 is not supported: use socks5://", 0, NULL, 0 },
		{ "proxy.test:3128", "must be \"http://host:port\" or \"socks5://host:port\"", 0,
		  NULL, 0 },
		{ "http://:3128", "missing host", 0, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proxy_spec sp;
		const char *msg = proxy_parse(cases[i].in, &sp);

		if (cases[i].msg == NULL) {
			if (msg != NULL)
				fail_msg("%s: %s", cases[i].in, msg);
			assert_int_equal(sp.kind, cases[i].kind);
			assert_string_equal(sp.host, cases[i].host);
			assert_int_equal(sp.port, cases[i].port);
		} else {
			assert_non_null(msg);
			assert_string_equal(msg, cases[i].msg);
		}
		proxy_spec_fini(&sp);
	}
	assert_string_equal(proxy_kind_name(PROXY_HTTP), "http");
	assert_string_equal(proxy_kind_name(PROXY_SOCKS5), "socks5");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_request),
		cmocka_unit_test(test_http_answers),
		cmocka_unit_test(test_http_leftover),
		cmocka_unit_test(test_http_bounds),
		cmocka_unit_test(test_socks_requests),
		cmocka_unit_test(test_socks_replies),
		cmocka_unit_test(test_socks_method),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
