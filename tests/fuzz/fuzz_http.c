/*
 * fuzz_http.c - HTTP request handling where it is ours: a real endpoint
 * (httpd.c on libmicrohttpd, over loopback TCP) with the daemon's pages
 * (status.c's status_handle: /, /targets/NAME, /api/targets, /api/targets/
 * NAME) and /metrics (sched_render_metrics, gzip_accepted on the client's
 * Accept-Encoding). libmicrohttpd parses the request and decodes the URL;
 * routing, the target-name lookup, the Accept-Encoding parser, basic auth
 * and every page rendered are ours.
 *
 * The targets have names full of what URLs and HTML must escape; one has
 * a stored state (the test PKI's good chain), so the pages show a chain.
 *
 * Input: byte 0 picks the endpoint (even: plain, odd: with basic auth,
 * user "alice", password "secret", a bcrypt hash of cost 4, checked inline;
 * failures from loopback soon answer 429, the rate limit); the rest is
 * sent as the request, then the client's side is shut.
 *
 * libmicrohttpd holds a connection whose request is incomplete (or starts
 * with a NUL byte) until its idle timeout, even after the client has shut
 * its side: the harness takes 5 quiet rounds after the whole request as the
 * end, and resets the connection.
 *
 * Invariants: every answer ends within 3 s and starts with a status line
 * with a status from a known set; a JSON answer is one JSON text and an
 * HTML one is UTF-8.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/auth.h"
#include "conf/conf.h"
#include "fuzz.h"
#include "serve/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "probe/resolve.h"
#include "sched.h"
#include "serve/status.h"
#include "state/store.h"
#include "probe/tls.h"
#include "core/util.h"

#define MAX_ANSWER (8 * 1024 * 1024)

static struct conf *conf;
static struct sched *sched;
static struct store *store;
static struct status_ctx pages;
static struct httpd *servers[2];
static uint16_t ports[2];

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_http: %s: %s\n", what, err ? err : "failed");
	abort();
}

static struct httpd *
serve(const struct conf_web *web, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char *err = NULL;
	struct httpd *h;
	int fd;

	if ((fd = httpd_listen("127.0.0.1", 0, &err)) == -1)
		die("listen", err);
	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("getsockname", strerror(errno));
	*port = ntohs(sin.sin_port);
	if ((h = httpd_new_web(fd, web, NULL, sched_render_metrics, sched, &err)) == NULL)
		die("httpd", err);
	httpd_set_pages(h, status_handle, &pages);
	return h;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *state = fuzz_path("state"), *ca = fuzz_path("ca.pem"), *path = fuzz_path("t.conf");
	char *err = NULL, *hash, *text, *targets, *sf, *sname;
	char good_fp[65], int_fp[65];
	size_t len;
	struct loop *loop;
	struct resolver *res;
	double now;
	struct conf_web plain;

	(void)argc;
	(void)argv;
	log_init("fuzz_http", 0);
	fuzz_write(ca, fuzz_ca_pem, strlen(fuzz_ca_pem));
	fuzz_state_certs(state);
	free(fuzz_pem_der(fuzz_good_pem, &len, good_fp));
	free(fuzz_pem_der(fuzz_int_pem, &len, int_fp));
	if ((hash = auth_hash_password("secret", AUTH_MIN_COST, &err)) == NULL)
		die("bcrypt", err);
	text = xasprintf(
	    "state_dir = \"%s\";\nca_file = \"%s\";\n"
	    "targets = (\n"
	    "  { address = \"good.test:443\"; labels = { env = \"a\\\"b\\\\c\"; }; },\n"
	    "  { name = \"a b/c?d#e%%f&g\"; address = \"127.0.0.1:1\"; },\n"
	    "  { name = \"\xc3\xbcn\xc3\xaf\" \"c<b>'\\\"\"; address = \"[::1]:2\"; starttls = \"smtp\"; }\n"
	    ");\n"
	    "web = { basic_auth_users = { alice = \"%s\"; }; connection_timeout = \"1s\"; };\n",
	    state, ca, hash);
	fuzz_write(path, text, strlen(text));
	free(text);
	free(hash);
	if ((conf = conf_load(path, &err)) == NULL)
		die(path, err);

	/* good.test:443 probed a minute ago, with success, its chain stored;
	 * the second target failing, its last chain remembered */
	targets = xasprintf("%s/targets", state);
	(void)mkdir(targets, 0755);
	now = wall_now();
	for (int i = 0; i < 2; i++) {
		sname = store_file_name(conf->targets[i].name);
		sf = xasprintf("%s/%s", targets, sname);
		text = xasprintf("format 1\nprobe_time %.3f\nprobe_duration 0.05\n"
		    "stage_seconds 0.001 0.002 0.01 0.001 -1\nname %s\nfirst_seen %.3f\n"
		    "last_change %.3f\nchain_changed %.3f\nchain_changes 1\n%s"
		    "peer 127.0.0.1:443\ntls_version TLS1.3\ncipher TLS_AES_128_GCM_SHA256\n"
		    "verified 1\nreasons -\nissues -\nearliest_expiry %lld\n"
		    "verified_expiry %lld\ncert %s\ncert %s\nhistory %.3f %.3f %s\nend\n",
		    now - 60, i == 0 ? "good.test:443" : "a b/c?d#e%25f&g", now - 86400,
		    now - 3600, now - 3600,
		    i == 0 ? "result success\n" :
		    "result failure\nfail_stage connect\nfail_reason refused\n"
		    "fail_detail <b>refused</b> \"%0A\"\n",
		    (long long)now + 86400, (long long)now + 86400, good_fp, int_fp,
		    now - 86400, now - 3600, good_fp);
		fuzz_write(sf, text, strlen(text));
		free(text);
		free(sf);
		free(sname);
	}
	free(targets);
	free(state);
	free(ca);
	free(path);

	if (tls_init(&err) == -1 || (loop = loop_new()) == NULL ||
	    (res = resolver_new(loop, &err)) == NULL ||
	    (store = store_new(loop, conf->state_dir, conf->state_refresh_ms, &err)) == NULL ||
	    (sched = sched_new(loop, res, conf)) == NULL)
		die("start", err);
	sched_set_store(sched, store);
	pages.sched = sched;
	pages.conf = conf;
	pages.state_dir = conf->state_dir;
	/* the same limits, no users */
	plain = conf->web;
	plain.users = NULL;
	plain.nusers = 0;
	servers[0] = serve(&plain, &ports[0]);
	servers[1] = serve(&conf->web, &ports[1]);
	return 0;
}

static const unsigned known[] = { 200, 400, 401, 403, 404, 405, 413, 414, 429, 431, 500, 501, 505 };

/* The status of the first answer in a, or 0 when a is empty. */
static unsigned
check_answer(const char *a, size_t n, int head)
{
	const char *end, *body, *type = NULL;
	size_t clen = 0, hlen;
	unsigned status;
	int gzip = 0, have_len = 0;

	if (n == 0)
		return 0;
	FUZZ_CHECK(n >= 13 && (memcmp(a, "HTTP/1.1 ", 9) == 0 || memcmp(a, "HTTP/1.0 ", 9) == 0) &&
	    a[9] >= '1' && a[9] <= '5' && a[10] >= '0' && a[10] <= '9' && a[11] >= '0' &&
	    a[11] <= '9' && a[12] == ' ', "not a status line: \"%.*s\"", (int)(n < 40 ? n : 40), a);
	status = (unsigned)((a[9] - '0') * 100 + (a[10] - '0') * 10 + (a[11] - '0'));
	size_t i;
	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i] == status)
			break;
	FUZZ_CHECK(i < ARRAY_SIZE(known), "status %u", status);
	if ((end = memmem(a, n, "\r\n\r\n", 4)) == NULL)
		return status;
	hlen = (size_t)(end - a) + 4;
	body = end + 4;
	/* the headers that say what the body is */
	for (const char *l = memchr(a, '\n', hlen); l && l < end; l = memchr(l, '\n', (size_t)(end - l))) {
		l++;
		if (strncasecmp(l, "Content-Type: ", 14) == 0)
			type = l + 14;
		else if (strncasecmp(l, "Content-Length: ", 16) == 0) {
			clen = strtoul(l + 16, NULL, 10);
			have_len = 1;
		} else if (strncasecmp(l, "Content-Encoding: gzip", 22) == 0)
			gzip = 1;
	}
	if (head || gzip || !have_len || status != 200 || type == NULL || n - hlen < clen)
		return status;
	if (strncmp(type, "application/json", 16) == 0)
		FUZZ_CHECK(fuzz_json_valid(body, clen), "not a JSON text: %.*s", (int)clen, body);
	else if (strncmp(type, "text/html", 9) == 0)
		FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *)body, clen), "HTML not UTF-8");
	return status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int which = fuzz_byte(&in) & 1;
	struct httpd *h = servers[which];
	struct sockaddr_in sin;
	struct buf answer;
	size_t sent = 0;
	uint64_t deadline = mono_ms() + 3000;
	int fd, shut = 0, done = 0, head, quiet = 0;
	unsigned status;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(ports[which]);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		die("socket", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 && errno != EINPROGRESS)
		die("connect", strerror(errno));
	buf_init(&answer);
	while (!done) {
		struct pollfd p[2] = { { httpd_fd(h), POLLIN, 0 }, { fd, POLLIN, 0 } };
		char chunk[65536];
		ssize_t n;
		int got = 0;

		FUZZ_CHECK(mono_ms() < deadline, "the answer goes on after 3 s (%zu bytes sent, "
		    "%zu received)", sent, answer.len);
		if (!shut)
			p[1].events |= POLLOUT;
		(void)poll(p, 2, 10);
		httpd_run(h);
		if (!shut) {
			if (sent < in.n) {
				n = send(fd, in.p + sent, in.n - sent, MSG_NOSIGNAL);
				if (n > 0)
					sent += (size_t)n;
				else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != ENOTCONN)
					shut = 1;       /* the server closed early */
			}
			if (sent == in.n) {
				(void)shutdown(fd, SHUT_WR);
				shut = 1;
			}
		}
		while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0) {
			FUZZ_CHECK(answer.len + (size_t)n <= MAX_ANSWER, "an answer above %d bytes",
			    MAX_ANSWER);
			buf_append(&answer, chunk, (size_t)n);
			got = 1;
		}
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK))
			done = 1;
		httpd_run(h);
		/* The server renders as it reads, on this thread: once it has
		 * everything and has said nothing for a few rounds, it has no
		 * more to say. (libmicrohttpd leaves an incomplete request open
		 * until its timeout, the client's shutdown notwithstanding.) */
		quiet = got || !shut ? 0 : quiet + 1;
		if (quiet >= 5)
			done = 1;
	}
	/* a reset: libmicrohttpd lets go of the connection at once */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
	    sizeof(struct linger));
	close(fd);
	/* let the server see the close and free the connection */
	for (int i = 0; i < 3; i++)
		httpd_run(h);
	head = in.n >= 5 && memcmp(in.p, "HEAD ", 5) == 0;
	status = check_answer(answer.data, answer.len, head);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_http: status %u, %zu bytes\n", status, answer.len);
	buf_free(&answer);
	return 0;
}
