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

#include "serve/gzip.h"
#include "serve/auth.h"
#include "conf/conf.h"
#include "serve/httpd.h"
#include "core/log.h"
#include "serve/metrics.h"
#include "core/util.h"
#include "serve/webtls.h"

/* Scrapers are few; a small cap keeps a misbehaving client from using many
 * descriptors, and the timeout closes connections left idle. */
#define HTTPD_BACKLOG 128
#define HTTPD_CONNECTION_LIMIT 64u
#define HTTPD_CONNECTION_TIMEOUT 10u   /* seconds */
#define HTTPD_MEMORY_LIMIT ((size_t)32 * 1024)

#define HTTPD_REALM "tlswatch"

struct httpd {
	struct MHD_Daemon *daemon;
	int epoll_fd;
	httpd_render_fn render;
	void *arg;
	/* From the web block, copied: a draining server outlives its config. */
	char *cert_pem, *key_pem, *ca_pem;
	struct conf_user *users;
	size_t nusers;
	int draining;        /* replaced by a reload: close after each answer */
	int listen_fd;       /* the listening socket MHD was given */
	struct stat listen_st;
	httpd_page_fn page;
	void *page_arg;
};

/* The server whose request is being answered: every callback runs on our
 * one loop thread, one at a time. */
static struct httpd *httpd_current;

/* Marks a request that has had its response: see httpd_handle. */
static int httpd_answered;

/* Bodies that never change; MHD only reads them (MHD_RESPMEM_PERSISTENT). */
static char httpd_ok[] = "ok\n";
static char httpd_not_found[] = "not found\n";
static char httpd_not_allowed[] = "method not allowed\n";
static char httpd_unauthorized[] = "unauthorized\n";
static char httpd_forbidden[] = "a valid client certificate is required\n";

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
	    (httpd_current && httpd_current->draining &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) ||
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

/* Rendered text is handed to the compressor in pieces of this size, so a
 * gzip scrape never holds the whole plain exposition in memory. */
#define HTTPD_GZIP_PIECE (256 * 1024)

/* The /metrics response: rendered straight into a gzip stream when the
 * client accepts it (Prometheus always does), else plain. */
static struct MHD_Response *
httpd_metrics_response(struct httpd *h, struct MHD_Connection *conn)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING);
	struct MHD_Response *resp = NULL;
	struct gzip_stream *gz = NULL;
	unsigned char *body;
	size_t len = 0;
	struct buf b;

	buf_init(&b);
	if (gzip_accepted(accept) && (gz = gzip_stream_new()) != NULL) {
		b.flush = gzip_buf_flush;
		b.flush_arg = gz;
		b.flush_at = HTTPD_GZIP_PIECE;
	}
	h->render(&b, h->arg);
	if (gz) {
		gzip_stream_write(gz, b.data, b.len);
		buf_free(&b);
		if ((body = gzip_stream_finish(gz, &len)) == NULL) {
			/* zlib failed: the rendered text is gone, so render again, plain */
			buf_init(&b);
			h->render(&b, h->arg);
			gz = NULL;
		}
	}
	if (gz) {
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
		if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
		    "gzip") != MHD_YES) {
			MHD_destroy_response(resp);
			return NULL;
		}
	} else {
		len = b.len;
		resp = MHD_create_response_from_buffer_with_free_callback(len, buf_steal(&b), free);
	}
	if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING) != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

/* The hash of user name, or NULL. Names are few; a linear scan compares
 * names, which are not secret. */
static const char *
httpd_user_hash(const struct httpd *h, const char *name)
{
	for (size_t i = 0; i < h->nusers; i++)
		if (strcmp(h->users[i].name, name) == 0)
			return h->users[i].hash;
	return NULL;
}

/* 1 when the request carries the credentials of a configured user. An
 * unknown user costs a hash computation too (auth_verify's dummy), so the
 * answer's timing does not tell which user names exist. */
static int
httpd_authorized(const struct httpd *h, struct MHD_Connection *conn)
{
	char *pass = NULL, *user;
	int ok;

	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (user == NULL) {
		MHD_free(pass);
		return 0;
	}
	ok = auth_verify(pass ? pass : "", httpd_user_hash(h, user));
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	MHD_free(user);
	return ok;
}

static enum MHD_Result
httpd_unauthorized_response(struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(sizeof(httpd_unauthorized) - 1,
	    httpd_unauthorized, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") != MHD_YES ||
	    (httpd_current && httpd_current->draining &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	/* Adds WWW-Authenticate: Basic realm="tlswatch" */
	ret = MHD_queue_basic_auth_fail_response(conn, HTTPD_REALM, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* With client_ca_file, only clients whose certificate verifies get
 * anything (GnuTLS asks for a certificate but leaves judging it to us). */
static int
httpd_client_ok(const struct httpd *h, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	if (h->ca_pem == NULL)
		return 1;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci != NULL && webtls_client_verified(ci->tls_session);
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
	httpd_current = h;

	if (!httpd_client_ok(h, conn))
		return httpd_text(conn, MHD_HTTP_FORBIDDEN, httpd_forbidden,
		    sizeof(httpd_forbidden) - 1, 0);
	if (h->nusers > 0 && !httpd_authorized(h, conn))
		return httpd_unauthorized_response(conn);

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
	return httpd_respond(conn, MHD_HTTP_OK, httpd_metrics_response(h, conn),
	    METRICS_CONTENT_TYPE, 0);
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
	return httpd_new_web(fd, NULL, render, arg, err);
}

static void
httpd_release(struct httpd *h)
{
	free(h->cert_pem);
	if (h->key_pem) {
		explicit_bzero(h->key_pem, strlen(h->key_pem));
		free(h->key_pem);
	}
	free(h->ca_pem);
	for (size_t i = 0; i < h->nusers; i++) {
		free(h->users[i].name);
		free(h->users[i].hash);
	}
	free(h->users);
	free(h);
}

struct httpd *
httpd_new_web(int fd, const struct conf_web *web, httpd_render_fn render,
    void *arg, char **err)
{
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	unsigned int limit = HTTPD_CONNECTION_LIMIT;
	unsigned int timeout = HTTPD_CONNECTION_TIMEOUT;
	size_t memory = HTTPD_MEMORY_LIMIT;
	struct MHD_OptionItem tls[4];
	size_t ntls = 0;
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
	if (web != NULL) {
		limit = web->max_connections;
		/* MHD counts whole seconds; the config allows no less than 1s */
		timeout = (unsigned int)((web->connection_timeout_ms + 999) / 1000);
		memory = web->max_request_size;
		if (web->tls_cert_pem && web->tls_key_pem) {
			if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
				*err = xstrdup("cannot serve TLS: libmicrohttpd "
				    "was built without it");
				close(fd);
				httpd_release(h);
				return NULL;
			}
			flags |= MHD_USE_TLS;
			h->cert_pem = xstrdup(web->tls_cert_pem);
			h->key_pem = xstrdup(web->tls_key_pem);
			tls[ntls++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem };
			tls[ntls++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem };
			if (web->client_ca_pem) {
				h->ca_pem = xstrdup(web->client_ca_pem);
				tls[ntls++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, h->ca_pem };
			}
		}
		if (web->nusers > 0) {
			h->users = xcalloc(web->nusers, sizeof(*h->users));
			for (size_t i = 0; i < web->nusers; i++) {
				h->users[i].name = xstrdup(web->users[i].name);
				h->users[i].hash = xstrdup(web->users[i].hash);
			}
			h->nusers = web->nusers;
		}
	}
	tls[ntls] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	/* External polling through MHD's epoll descriptor: no MHD threads,
	 * every callback runs on our loop. */
	h->daemon = MHD_start_daemon(flags, 0,
	    NULL, NULL, httpd_handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		*err = xstrdup("cannot start the HTTP server (libmicrohttpd "
		    "refused; see its message above)");
		if (httpd_same_socket(fd, &st))
			close(fd);
		httpd_release(h);
		return NULL;
	}
	h->listen_fd = fd;
	h->listen_st = st;
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
httpd_quiesce(struct httpd *h, int stop_listening)
{
	MHD_socket fd = MHD_quiesce_daemon(h->daemon);

	/* The descriptor stays MHD's to close (see httpd_free). Shutting a
	 * listening socket down makes the kernel refuse new connections at
	 * once; not when another server shares the socket through a dup. */
	if (fd != MHD_INVALID_SOCKET && stop_listening)
		(void)shutdown((int)fd, SHUT_RDWR);
}

void
httpd_set_draining(struct httpd *h)
{
	h->draining = 1;
}

unsigned
httpd_connections(const struct httpd *h)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info ? info->num_connections : 0;
}

void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	/* Stop accepting first, so no connection is accepted while the others
	 * are being closed. MHD_stop_daemon closes the listening socket even
	 * after MHD_quiesce_daemon handed it back (libmicrohttpd 0.9.75 does),
	 * so closing it ourselves before would close whatever reused its
	 * number since. Close it after, only if MHD left it open. */
	(void)MHD_quiesce_daemon(h->daemon);
	MHD_stop_daemon(h->daemon);
	if (h->listen_fd >= 0 && httpd_same_socket(h->listen_fd, &h->listen_st))
		close(h->listen_fd);
	httpd_release(h);
}

int
httpd_fd(const struct httpd *h)
{
	return h->epoll_fd;
}

void
httpd_run(struct httpd *h)
{
	unsigned before = httpd_connections(h);

	/* MHD_NO only means nothing could be done; the loop goes on. */
	(void)MHD_run(h->daemon);
	/* At the connection limit MHD takes its listening socket out of its
	 * epoll set and puts it back only at the start of a later run. When
	 * this run freed a slot, run again, or a client already waiting in the
	 * backlog would make no descriptor of ours readable and wait forever. */
	if (httpd_connections(h) < before)
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
