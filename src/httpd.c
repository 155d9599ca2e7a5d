/* httpd.c - the embedded HTTP server (libmicrohttpd), driven from our event loop. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* Scrapers are few; a small cap keeps a misbehaving client from using many
 * descriptors, and the timeout closes connections left idle. */
#define HTTPD_BACKLOG 128
#define HTTPD_CONNECTION_LIMIT 64u
#define HTTPD_CONNECTION_TIMEOUT 10u   /* seconds */
#define HTTPD_MEMORY_LIMIT ((size_t)32 * 1024)

struct httpd {
	struct MHD_Daemon *daemon;
	int epoll_fd;
	httpd_render_fn render;
	void *arg;
	httpd_page_fn page;
	void *page_arg;
};

/* Marks a request that has had its response: see httpd_handle. */
static int httpd_answered;

/* Bodies that never change; MHD only reads them (MHD_RESPMEM_PERSISTENT). */
static char httpd_ok[] = "ok\n";
static char httpd_not_found[] = "not found\n";
static char httpd_not_allowed[] = "method not allowed\n";

/* "host:port", "[v6]:port" or "*:port", for messages. */
static void
httpd_where(char *out, size_t size, const char *host, uint16_t port)
{
	if (host == NULL)
		snprintf(out, size, "*:%u", (unsigned)port);
	else if (strchr(host, ':') != NULL)
		snprintf(out, size, "[%s]:%u", host, (unsigned)port);
	else
		snprintf(out, size, "%s:%u", host, (unsigned)port);
}

/* A socket bound and listening on ai, or -1 with errno set and *what naming
 * the step that failed. */
static int
httpd_listen_one(const struct addrinfo *ai, const char **what)
{
	int fd, on = 1, saved;

	*what = "cannot create a socket for";
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1)
		return -1;
	*what = "cannot set socket options for";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* Each listen address is its own socket: "::" must not also take
	 * the IPv4 port that another listen entry may want. */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	*what = "cannot bind";
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		goto fail;
	*what = "cannot listen on";
	if (listen(fd, HTTPD_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
httpd_listen(const char *host, uint16_t port, char **err)
{
	struct addrinfo hints, *res, *ai;
	char serv[8], where[NI_MAXHOST + 16], addr[NI_MAXHOST];
	const char *what = NULL, *first_what = NULL;
	int fd = -1, rc, first_errno = 0;

	*err = NULL;
	addr[0] = '\0';
	if (host != NULL && host[0] == '\0')
		host = NULL;
	httpd_where(where, sizeof(where), host, port);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	/* Blocking, but only at start-up, before the loop runs. */
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		*err = xasprintf("cannot resolve %s: %s", where,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	/* A name may have several addresses; one socket is returned, so the
	 * first that works wins (each listen entry is one socket). */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = httpd_listen_one(ai, &what)) != -1)
			break;
		if (first_what == NULL) {
			first_what = what;
			first_errno = errno;
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
			    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
				addr[0] = '\0';
		}
	}
	freeaddrinfo(res);
	if (fd != -1)
		return fd;
	if (first_what == NULL) {
		*err = xasprintf("cannot resolve %s: no address", where);
	} else if (host != NULL && addr[0] != '\0' && strcmp(host, addr) != 0) {
		/* a name: say which of its addresses failed */
		*err = xasprintf("%s %s (%s): %s", first_what, where, addr,
		    strerror(first_errno));
	} else {
		*err = xasprintf("%s %s: %s", first_what, where,
		    strerror(first_errno));
	}
	return -1;
}

/* MHD's messages end with a newline; log_warnx would escape it. */
__attribute__((format(printf, 2, 0)))
static void
httpd_log(void *arg, const char *fmt, va_list ap)
{
	char msg[512];
	size_t len;

	(void)arg;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	log_warnx("httpd: %s", msg);
}

static enum MHD_Result
httpd_respond(struct MHD_Connection *conn, unsigned status,
    struct MHD_Response *resp, const char *content_type, int allow)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;          /* out of memory in MHD: drop the connection */
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    content_type) != MHD_YES ||
	    (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
httpd_text(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
    int allow)
{
	return httpd_respond(conn, status,
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT),
	    "text/plain; charset=utf-8", allow);
}

/* The status pages (status.c), same methods as /metrics. */
static enum MHD_Result
httpd_page(struct httpd *h, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	const char *type = NULL;
	struct buf b;
	size_t len;
	int status;

	buf_init(&b);
	status = h->page(h->page_arg, url, &b, &type);
	if (status == 0) {
		buf_free(&b);
		return httpd_text(conn, MHD_HTTP_NOT_FOUND, httpd_not_found,
		    sizeof(httpd_not_found) - 1, 0);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		buf_free(&b);
		return httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    httpd_not_allowed, sizeof(httpd_not_allowed) - 1, 1);
	}
	buf_reserve(&b, 0);
	len = b.len;
	return httpd_respond(conn, (unsigned)status,
	    MHD_create_response_from_buffer_with_free_callback(len,
	    buf_steal(&b), free), type, 0);
}

void
httpd_set_pages(struct httpd *h, httpd_page_fn fn, void *arg)
{
	h->page = fn;
	h->page_arg = arg;
}

static enum MHD_Result
httpd_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req)
{
	struct httpd *h = cls;
	struct buf b;
	size_t len;
	int metrics;

	(void)version;
	(void)upload_data;
	/* We answer on the first call, before any request body is read. Should
	 * MHD still hand us a body afterwards, it is discarded. */
	if (*req != NULL) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	*req = &httpd_answered;

	if (strcmp(url, "/metrics") == 0)
		metrics = 1;
	else if (strcmp(url, "/healthz") == 0)
		metrics = 0;
	else if (h->page != NULL)
		return httpd_page(h, conn, url, method);
	else
		return httpd_text(conn, MHD_HTTP_NOT_FOUND, httpd_not_found,
		    sizeof(httpd_not_found) - 1, 0);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    httpd_not_allowed, sizeof(httpd_not_allowed) - 1, 1);
	if (!metrics)
		return httpd_text(conn, MHD_HTTP_OK, httpd_ok,
		    sizeof(httpd_ok) - 1, 0);

	/* HEAD renders too, so that Content-Length is the real one. */
	buf_init(&b);
	h->render(&b, h->arg);
	len = b.len;
	return httpd_respond(conn, MHD_HTTP_OK,
	    MHD_create_response_from_buffer_with_free_callback(len,
	    buf_steal(&b), free), METRICS_CONTENT_TYPE, 0);
}

/* Whether fd is still the socket st describes: MHD closes a listening socket
 * it was given on some of its failure paths and not on others. */
static int
httpd_same_socket(int fd, const struct stat *st)
{
	struct stat now;

	return fstat(fd, &now) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino;
}

struct httpd *
httpd_new(int fd, httpd_render_fn render, void *arg, char **err)
{
	const union MHD_DaemonInfo *info;
	struct httpd *h;
	struct stat st;

	*err = NULL;
	if (fd < 0 || fstat(fd, &st) == -1) {
		*err = xstrdup("cannot start the HTTP server: no listening socket");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
		*err = xstrdup("cannot start the HTTP server: libmicrohttpd "
		    "was built without epoll");
		close(fd);
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->render = render;
	h->arg = arg;
	/* External polling through MHD's epoll descriptor: no MHD threads,
	 * every callback runs on our loop. */
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
	    NULL, NULL, httpd_handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONNECTION_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_CONNECTION_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTPD_MEMORY_LIMIT,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		*err = xstrdup("cannot start the HTTP server (libmicrohttpd "
		    "refused; see its message above)");
		if (httpd_same_socket(fd, &st))
			close(fd);
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		*err = xstrdup("cannot start the HTTP server: no epoll descriptor");
		httpd_free(h);
		return NULL;
	}
	h->epoll_fd = info->epoll_fd;
	return h;
}

void
httpd_free(struct httpd *h)
{
	MHD_socket fd;

	if (h == NULL)
		return;
	/* Take the listening socket back first, so it is closed here whatever
	 * MHD_stop_daemon does with it, and no connection is accepted while
	 * the others are being closed. */
	fd = MHD_quiesce_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	MHD_stop_daemon(h->daemon);
	free(h);
}

int
httpd_fd(const struct httpd *h)
{
	return h->epoll_fd;
}

void
httpd_run(struct httpd *h)
{
	/* MHD_NO only means nothing could be done; the loop goes on. */
	(void)MHD_run(h->daemon);
}

int64_t
httpd_timeout_ms(const struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->daemon, &ms) != MHD_YES)
		return -1;
	return ms > (MHD_UNSIGNED_LONG_LONG)INT64_MAX ? INT64_MAX : (int64_t)ms;
}
