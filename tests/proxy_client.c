/* proxy_client.c - the proxy dialogues (src/probe/proxy.c) and a TLS
 * handshake (src/probe/tls.c) through them, on a real non-blocking socket,
 * for tests/test_proxies.py to point at real proxies.
 *
 *   proxy_client PROXY_URL HOST PORT [SNI]
 *
 * Prints one line and exits 0 when the tunnel opened and the handshake
 * completed: "ok VERSION SHA256-OF-LEAF"; else exits 1 with
 * "failed STAGE REASON: DETAIL". Everything within 10 seconds, or the
 * milliseconds $PROXY_CLIENT_TIMEOUT_MS says. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "probe/proxy.h"
#include "probe/resolve.h"
#include "probe/tls.h"
#include "verdict/certs.h"

static uint64_t deadline;

static void __attribute__((noreturn))
failed(const char *stage, const char *reason, const char *detail)
{
	printf("failed %s %s: %s\n", stage, reason, detail);
	exit(1);
}

/* Wait for events on fd, within the deadline. */
static void
wait_fd(int fd, short events, const char *stage)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now = mono_ms();
	int r;

	if (now >= deadline)
		failed(stage, "timeout", "no progress by the deadline");
	r = poll(&pfd, 1, (int)(deadline - now));
	if (r == 0)
		failed(stage, "timeout", "no progress by the deadline");
	if (r < 0)
		failed(stage, "poll", strerror(errno));
}

static int
connect_proxy(const struct proxy_spec *sp)
{
	struct resolved_addr a;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	if (resolve_literal(sp->host, sp->port, &a) != 0)
		failed("connect", "other", "the proxy must be an IP literal here");
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		failed("connect", "other", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a.ss, a.len) != 0 && errno != EINPROGRESS)
		failed("connect", "refused", strerror(errno));
	wait_fd(fd, POLLOUT, "connect");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		failed("connect", "refused", strerror(err));
	return fd;
}

static void
run_proxy(int fd, struct proxy *p)
{
	for (;;) {
		unsigned char buf[4096];
		const void *out;
		size_t len;
		ssize_t n;

		switch (proxy_next(p, &out, &len)) {
		case PROXY_WANT_WRITE:
			wait_fd(fd, POLLOUT, "connect");
			n = send(fd, out, len, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				failed("connect", "reset", strerror(errno));
			if (n > 0)
				proxy_sent(p, (size_t)n);
			break;
		case PROXY_WANT_READ:
			wait_fd(fd, POLLIN, "connect");
			n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0)
				failed("connect", "reset", strerror(errno));
			proxy_input(p, buf, (size_t)n);
			break;
		case PROXY_DONE:
			return;
		case PROXY_FAILED:
			failed("connect", proxy_reason(p), proxy_detail(p));
		}
	}
}

int
main(int argc, char **argv)
{
	struct proxy_spec sp;
	struct proxy *p;
	struct tls *t;
	const struct der *chain;
	const char *msg, *reason;
	char *err = NULL, *detail = NULL;
	struct cert *leaf;
	size_t n;
	long port;
	int fd;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: proxy_client PROXY_URL HOST PORT [SNI]\n");
		return 2;
	}
	deadline = mono_ms() + (getenv("PROXY_CLIENT_TIMEOUT_MS") ?
	    strtoull(getenv("PROXY_CLIENT_TIMEOUT_MS"), NULL, 10) : 10000);
	if ((msg = proxy_parse(argv[1], &sp)) != NULL) {
		fprintf(stderr, "proxy_client: %s: %s\n", argv[1], msg);
		return 2;
	}
	port = strtol(argv[3], NULL, 10);
	p = proxy_new(sp.kind, argv[2], (uint16_t)port);
	if (p == NULL || port <= 0 || port > 65535) {
		fprintf(stderr, "proxy_client: bad target\n");
		return 2;
	}
	fd = connect_proxy(&sp);
	run_proxy(fd, p);
	(void)proxy_leftover(p, &n);
	if (n > 0)
		failed("connect", "leftover", "bytes from a TLS server before our ClientHello");

	if (tls_init(&err) != 0)
		failed("handshake", "init", err);
	t = tls_new(fd, argc == 5 ? argv[4] : NULL, NULL, &err);
	if (t == NULL)
		failed("handshake", "init", err);
	for (;;) {
		enum tls_status st = tls_handshake(t, &reason, &detail);

		if (st == TLS_DONE)
			break;
		if (st == TLS_FAILED)
			failed("handshake", reason, detail);
		wait_fd(fd, st == TLS_WANT_READ ? POLLIN : POLLOUT, "handshake");
	}
	chain = tls_peer_chain(t, &n);
	if (n == 0 || (leaf = cert_get(chain[0].data, chain[0].len)) == NULL)
		failed("handshake", "no_certificate", "no leaf");
	printf("ok %s %s\n", tls_version_name(t), leaf->sha256);
	cert_put(leaf);
	tls_bye(t);
	tls_free(t);
	tls_fini();
	proxy_free(p);
	proxy_spec_fini(&sp);
	close(fd);
	return 0;
}
