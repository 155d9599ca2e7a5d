/* httpd.c - the embedded HTTP server (libmicrohttpd), driven from our event
 * loop. We accept connections ourselves and hand them to libmicrohttpd, so
 * that at the connection limit a newcomer takes the slot of the idlest
 * waiting connection instead of queueing behind it; and we give each
 * request deadlines for its line and headers that trickling bytes cannot
 * stretch. Password checks run on worker threads (work.c) while their
 * connection is suspended, and so do requests answered later (/probe:
 * httpd_set_async) while they wait for their answer. */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
/* not <netinet/tcp.h>: glibc's tcp_info lacks tcpi_bytes_received */
#include <linux/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"
#include "core/work.h"
#include "serve/auth.h"
#include "serve/authcache.h"
#include "serve/conns.h"
#include "serve/gzip.h"
#include "serve/httpd.h"
#include "serve/metrics.h"
#include "serve/query.h"
#include "serve/ratelimit.h"
#include "serve/stream.h"
#include "serve/webtls.h"

/* Scrapers are few; a small cap keeps a misbehaving client from using many
 * descriptors, and the timeout closes connections left idle. */
#define HTTPD_BACKLOG 1024
#define HTTPD_CONNECTION_LIMIT 64u
#define HTTPD_CONNECTION_TIMEOUT 10u   /* seconds */
#define HTTPD_MEMORY_LIMIT ((size_t)32 * 1024)

/* Eviction looks at this many of the longest-waiting connections and takes
 * one that never sent a byte, else the one quiet longest (TCP_INFO): cheap,
 * and a client busy with its TLS handshake or headers outlives one that
 * sends nothing. */
#define HTTPD_EVICT_SAMPLE 8
/* A connection that has spoken is evicted only once it has been quiet
 * this long: in the middle of a TLS handshake or of its headers, its next
 * bytes are a round trip away. One that never spoke is fair game at once:
 * the kernel accepts those only after request_line_timeout
 * (TCP_DEFER_ACCEPT). When nothing can be evicted, newcomers wait in the
 * backlog, and accepting is retried this often. */
#define HTTPD_EVICT_GRACE_MS 50
/* Accepting stops for this long when the process is out of descriptors. */
#define HTTPD_ACCEPT_PAUSE_MS 100
/* Attacks are logged when they start and then once a minute. */
#define HTTPD_REPORT_MS (60 * 1000)

/* Basic auth: verified credentials are remembered (keyed hash) for ten
 * minutes, at most 64 of them; an address may fail 5 checks at once and one
 * more every 10 s, after which it is answered 429 without a hash. */
#define HTTPD_AUTH_CACHE_SIZE 64
#define HTTPD_AUTH_CACHE_TTL_MS (10 * 60 * 1000)
#define HTTPD_AUTH_BURST 5
#define HTTPD_AUTH_REFILL_MS (10 * 1000)
#define HTTPD_AUTH_ADDRESSES 1024

#define HTTPD_REALM "tlswatch"

/* Where a request is: a request's state lives in its connection. */
enum req_state {
	REQ_NEW,          /* its handler has not run yet */
	REQ_VERIFYING,    /* suspended while a worker checks the password */
	REQ_VERIFIED,     /* the check is back: hc->auth says how it went */
	REQ_ANSWERED,     /* a response is queued; a body that follows is dropped */
	REQ_ABORT,        /* the server is going: close */
	REQ_DEFERRED,     /* its async handler answers it later (hc->rq) */
};

struct verify;
struct httpd_req;

/* One connection, from MHD's "started" to its "closed". */
struct hconn {
	struct conn c;
	struct httpd *h;
	struct MHD_Connection *mc;
	struct hconn *prev, *next;    /* every live connection of h */
	struct sockaddr_storage addr;
	enum req_state st;
	int auth;                 /* REQ_VERIFIED: 1 passed, 0 failed */
	struct verify *job;       /* REQ_VERIFYING */
	struct httpd_req *rq;     /* REQ_DEFERRED */
};

/* A /metrics render on a worker, streamed to its client as it is made:
 * the worker renders the snapshot (its own until done) into out, which
 * the response's reader empties on the loop. The job and the response
 * each hold a reference; the last to go frees it (loop thread). */
struct scrape {
	struct work_job job;
	struct httpd *h;          /* NULL once the server went */
	struct work_pool *pool;
	const struct httpd_scrape *ops;
	void *snap;               /* released on the loop thread, in done */
	int taking;               /* the snapshot is not complete yet */
	struct gzip_stream *gz;   /* the worker's; NULL: plain */
	struct stream *out;
	uint64_t stall_ms;        /* a client that takes nothing this long is cut off */
	int stopped;              /* worker: out refused a piece; render for nothing */
	struct MHD_Connection *mc;    /* while the response is queued */
	int waiting;              /* loop: the reader suspended mc until more comes */
	int refs;                 /* loop: the job's and the response's */
	struct scrape *prev, *next;   /* the server's, until done */
};

/* A request an async handler answers later, while its connection is
 * suspended. */
struct httpd_req {
	struct httpd *h;
	struct hconn *hc;
	struct MHD_Connection *conn;
	const char *method;       /* during the handler only */
	int in_handler;
	int suspended;
	int answered;
	unsigned status;
	const char *content_type; /* static */
	char *body;
	size_t len;
	void (*gone)(void *arg);
	void *gone_arg;
	struct httpd_req *prev, *next;   /* the server's open ones */
};

/* A password check on a worker: it owns copies of what it hashes. */
struct verify {
	struct work_job job;
	struct httpd *h;          /* NULL once the server went */
	struct hconn *hc;         /* NULL once the connection went */
	char *password;
	char *hash;               /* NULL: an unknown user, checked against a dummy */
	unsigned char key[AUTHCACHE_KEY_SIZE];
	int ok;
	struct verify *prev, *next;
};

/* What an attack cost, since the last report. */
struct httpd_counts {
	unsigned long evicted, line_late, headers_late, refused, limited;
};

struct httpd {
	struct MHD_Daemon *daemon;
	int epoll_fd;        /* ours: MHD's epoll descriptor and the listening socket */
	int mhd_fd;
	httpd_render_fn render;
	void *arg;
	/* From the web block, copied: a draining server outlives its config. */
	char *cert_pem, *key_pem, *ca_pem;
	struct conf_user *users;
	size_t nusers;
	int draining;        /* replaced by a reload: close after each answer */
	int listen_fd;       /* the listening socket, ours */
	int accepting;       /* 0 once quiesced */
	int listen_watched;  /* in epoll_fd with EPOLLIN */
	uint64_t paused_until;   /* accepting paused until then; 0: not */
	unsigned limit;      /* max_connections */
	unsigned batch;      /* connections accepted per run at most */
	unsigned mhd_limit;  /* live and shut-down connections we let MHD hold */
	unsigned per_address;     /* max_connections_per_address */
	struct hconn *all;        /* every live connection, for the per-address count */
	struct conns conns;
	struct hconn *added; /* set by MHD's "started" inside MHD_add_connection */
	struct work_pool *pool;   /* NULL: check passwords inline */
	struct authcache *cache;
	struct ratelimit *limiter;
	struct verify *verifying;
	struct httpd_counts counts;
	uint64_t reported_at;
	httpd_page_fn page;
	void *page_arg;
	const struct httpd_scrape *scrape;   /* NULL: /metrics renders on the loop */
	void *scrape_arg;
	struct work_pool *scrape_pool;
	struct scrape *scraping;  /* on a worker now */
	uint64_t stall_ms;        /* the connection timeout */
	char *async_path;    /* requests for this path go to async */
	httpd_async_fn async;
	void *async_arg;
	struct httpd_req *deferred;   /* every request of async's still open */
	int in_mhd;          /* inside MHD_run: answers wait for the next run */
	int resumed;         /* a connection was resumed: MHD must run */
};

/* Bodies that never change; MHD only reads them (MHD_RESPMEM_PERSISTENT). */
static char httpd_ok[] = "ok\n";
static char httpd_not_found[] = "not found\n";
static char httpd_not_allowed[] = "method not allowed\n";
static char httpd_unauthorized[] = "unauthorized\n";
static char httpd_forbidden[] = "a valid client certificate is required\n";
static char httpd_too_many[] = "too many failed password checks from this address; "
    "try again later\n";

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

/* MHD's messages end with a newline; log_warnx would escape it. A message
 * repeated (a refusal per connection, under a flood) is logged once, and
 * its count when another comes or a minute has passed. */
__attribute__((format(printf, 2, 0)))
static void
httpd_log(void *arg, const char *fmt, va_list ap)
{
	static char last[512];
	static unsigned long repeats;
	static uint64_t last_at;
	uint64_t now = mono_ms();
	char msg[512];
	size_t len;

	(void)arg;
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		return;
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	/* Said of every connection over max_connections_per_address (our
	 * own limit is below MHD's): httpd_report counts those instead. */
	if (strncmp(msg, "Server reached connection limit", 31) == 0)
		return;
	if (strcmp(msg, last) == 0 && now - last_at < HTTPD_REPORT_MS) {
		repeats++;
		return;
	}
	if (repeats > 0)
		log_warnx("httpd: %s (%lu more times)", last, repeats);
	repeats = 0;
	last_at = now;
	snprintf(last, sizeof(last), "%s", msg);
	log_warnx("httpd: %s", msg);
}

static enum MHD_Result
httpd_respond(const struct httpd *h, struct MHD_Connection *conn, unsigned status,
    struct MHD_Response *resp, const char *content_type, int allow)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;          /* out of memory in MHD: drop the connection */
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    content_type) != MHD_YES ||
	    (h->draining &&
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
httpd_text(const struct httpd *h, struct MHD_Connection *conn, unsigned status,
    char *body, size_t len, int allow)
{
	return httpd_respond(h, conn, status,
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT),
	    "text/plain; charset=utf-8", allow);
}

/* Rendered text is handed to the compressor in pieces of this size, so a
 * gzip scrape never holds the whole plain exposition in memory. */
#define HTTPD_GZIP_PIECE (256 * 1024)

/* The /metrics body: rendered straight into a gzip stream when the client
 * accepts it (Prometheus always does), else plain. On whichever thread
 * calls it: it touches only what render reads and its own output. */
static void
httpd_metrics_body(httpd_render_fn render, void *arg, int want_gzip, unsigned char **body,
    size_t *len, int *gzipped)
{
	struct gzip_stream *gz = NULL;
	struct buf b;

	buf_init(&b);
	if (want_gzip && (gz = gzip_stream_new()) != NULL) {
		b.flush = gzip_buf_flush;
		b.flush_arg = gz;
		b.flush_at = HTTPD_GZIP_PIECE;
	}
	render(&b, arg);
	if (gz) {
		gzip_stream_write(gz, b.data, b.len);
		buf_free(&b);
		if ((*body = gzip_stream_finish(gz, len)) != NULL) {
			*gzipped = 1;
			return;
		}
		/* zlib failed: the rendered text is gone, so render again, plain */
		buf_init(&b);
		render(&b, arg);
	}
	*gzipped = 0;
	*len = b.len;
	*body = (unsigned char *)buf_steal(&b);
}

/* The /metrics response for a body from httpd_metrics_body (taken over). */
static struct MHD_Response *
httpd_metrics_response(unsigned char *body, size_t len, int gzipped)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (resp == NULL) {
		free(body);
		return NULL;
	}
	if ((gzipped && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
	    "gzip") != MHD_YES) ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING) != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

static int
httpd_wants_gzip(struct MHD_Connection *conn)
{
	return gzip_accepted(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING));
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

static enum MHD_Result
httpd_unauthorized_response(const struct httpd *h, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(sizeof(httpd_unauthorized) - 1,
	    httpd_unauthorized, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") != MHD_YES ||
	    (h->draining &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	/* Adds WWW-Authenticate: Basic realm="tlswatch" */
	ret = MHD_queue_basic_auth_fail_response(conn, HTTPD_REALM, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* 429, with the whole seconds until the address may try again. */
static enum MHD_Result
httpd_too_many_response(const struct httpd *h, struct MHD_Connection *conn,
    uint64_t wait_ms)
{
	struct MHD_Response *resp;
	char after[24];

	resp = MHD_create_response_from_buffer(sizeof(httpd_too_many) - 1,
	    httpd_too_many, MHD_RESPMEM_PERSISTENT);
	snprintf(after, sizeof(after), "%llu",
	    (unsigned long long)((wait_ms + 999) / 1000));
	if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
	    after) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return httpd_respond(h, conn, MHD_HTTP_TOO_MANY_REQUESTS, resp,
	    "text/plain; charset=utf-8", 0);
}

/* On a worker: the hash, and nothing else. */
static void
verify_run(struct work_job *j)
{
	struct verify *v = container_of(j, struct verify, job);

	v->ok = auth_verify(v->password, v->hash);
	explicit_bzero(v->password, strlen(v->password));
}

static void
verify_free(struct verify *v)
{
	if (v->password) {
		explicit_bzero(v->password, strlen(v->password));
		free(v->password);
	}
	free(v->hash);
	explicit_bzero(v->key, sizeof(v->key));
	free(v);
}

static void httpd_run_mhd(struct httpd *h);
static int httpd_req_start(struct httpd *h, struct hconn *hc, const char *method,
                           enum MHD_Result *ret);
static enum MHD_Result httpd_req_queue(struct httpd *h, struct hconn *hc);
static void req_drop(struct httpd *h, struct httpd_req *rq);

/* A passed check is remembered and gives its token back; then the
 * request goes on where it stopped. */
static void
verify_settle(struct httpd *h, struct hconn *hc, const unsigned char *key, int ok)
{
	uint64_t now = mono_ms();

	if (ok) {
		authcache_put(h->cache, key, now);
		ratelimit_refund(h->limiter, (const struct sockaddr *)&hc->addr, now);
	}
	hc->auth = ok;
	hc->st = REQ_VERIFIED;
}

/* On the loop thread, after verify_run. */
static void
verify_done(struct work_job *j)
{
	struct verify *v = container_of(j, struct verify, job);
	struct httpd *h = v->h;
	struct hconn *hc = v->hc;

	if (h == NULL) {                /* the server went first */
		verify_free(v);
		return;
	}
	if (v->prev)
		v->prev->next = v->next;
	else
		h->verifying = v->next;
	if (v->next)
		v->next->prev = v->prev;
	if (hc != NULL) {
		hc->job = NULL;
		verify_settle(h, hc, v->key, v->ok);
		MHD_resume_connection(hc->mc);
	}
	verify_free(v);
	/* In external polling MHD takes a resumed connection up in its next
	 * run (the documentation asks for one now). */
	httpd_run_mhd(h);
}

void
httpd_set_scrape(struct httpd *h, const struct httpd_scrape *ops, void *arg,
    struct work_pool *pool)
{
	h->scrape = ops;
	h->scrape_arg = arg;
	h->scrape_pool = pool;
}

/* Bytes of a scrape's body queued for its client at most: the rest waits
 * in the render, so a slow client costs this, not the whole body. */
#define HTTPD_STREAM_BOUND ((size_t)1024 * 1024)

static void
scrape_unref(struct scrape *sc)
{
	if (--sc->refs > 0)
		return;
	stream_free(sc->out);
	free(sc);
}

/* On the worker: what the render made so far goes to the client, through
 * the compressor when there is one. Once the client is gone (or stopped
 * reading), the rest of the render is only discarded. */
static void
scrape_flush(struct buf *b, void *arg)
{
	struct scrape *sc = arg;
	unsigned char *piece = NULL;
	size_t n = 0;

	if (!sc->stopped && stream_closed(sc->out))
		sc->stopped = 1;        /* gone, even while zlib kept what it had */
	if (!sc->stopped) {
		if (sc->gz) {
			if (gzip_stream_write(sc->gz, b->data, b->len) == -1)
				sc->stopped = 1;
			else
				piece = gzip_stream_take(sc->gz, &n);
		} else if (b->len > 0) {
			piece = xmalloc(b->len);
			memcpy(piece, b->data, b->len);
			n = b->len;
		}
		if (n > 0) {
			if (stream_put(sc->out, piece, n, sc->stall_ms) == 0)
				work_progress(sc->pool, &sc->job);
			else
				sc->stopped = 1;
		}
	}
	b->cut = sc->stopped;
	b->len = 0;
}

/* On a worker thread: the snapshot is the scrape's, unchanged until done.
 * The body ends well, or cut short if zlib failed or the client stopped
 * reading. */
static void
scrape_run(struct work_job *j)
{
	struct scrape *sc = container_of(j, struct scrape, job);
	struct buf b;
	int ok;

	if (stream_closed(sc->out)) {
		sc->stopped = 1;        /* the client went while the snapshot was taken */
	} else {
		buf_init(&b);
		b.flush = scrape_flush;
		b.flush_arg = sc;
		b.flush_at = HTTPD_GZIP_PIECE;
		sc->ops->render(&b, sc->snap);
		scrape_flush(&b, sc);
		buf_free(&b);
	}
	ok = !sc->stopped;
	if (sc->gz) {
		size_t n;
		unsigned char *tail = gzip_stream_finish(sc->gz, &n);

		sc->gz = NULL;
		if (tail == NULL)
			ok = 0;
		else if (ok && stream_put(sc->out, tail, n, sc->stall_ms) == -1)
			ok = 0;
		else if (!ok)
			free(tail);
	}
	stream_end(sc->out, ok);
	work_progress(sc->pool, &sc->job);
}

/* The reader suspended the connection for more: it has come. */
static void
scrape_wake(struct scrape *sc)
{
	struct httpd *h = sc->h;

	if (!sc->waiting)
		return;
	sc->waiting = 0;
	MHD_resume_connection(sc->mc);
	if (h != NULL) {
		h->resumed = 1;
		if (!h->in_mhd)
			httpd_run_mhd(h);
	}
}

/* On the loop thread, while scrape_run goes on. */
static void
scrape_progress(struct work_job *j)
{
	scrape_wake(container_of(j, struct scrape, job));
}

/* On the loop thread, after scrape_run: the snapshot goes. */
static void
scrape_done(struct work_job *j)
{
	struct scrape *sc = container_of(j, struct scrape, job);
	struct httpd *h = sc->h;

	sc->ops->release(sc->snap);
	sc->snap = NULL;
	if (h != NULL) {
		if (sc->prev)
			sc->prev->next = sc->next;
		else
			h->scraping = sc->next;
		if (sc->next)
			sc->next->prev = sc->prev;
		sc->prev = sc->next = NULL;
	}
	scrape_wake(sc);
	scrape_unref(sc);
}

/* MHD, on the loop thread: the next bytes of the body. With nothing
 * queued yet, the connection waits, suspended, for the worker's next
 * piece (scrape_progress). */
static ssize_t
scrape_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct scrape *sc = cls;
	enum stream_state st;
	size_t n;

	(void)pos;
	n = stream_get(sc->out, out, max, &st);
	switch (st) {
	case STREAM_DATA:
		return (ssize_t)n;
	case STREAM_END:
		return MHD_CONTENT_READER_END_OF_STREAM;
	case STREAM_FAILED:
		return MHD_CONTENT_READER_END_WITH_ERROR;
	case STREAM_WAIT:
		break;
	}
	if (sc->h == NULL)
		return MHD_CONTENT_READER_END_WITH_ERROR;   /* the server is going */
	sc->waiting = 1;
	MHD_suspend_connection(sc->mc);
	return 0;
}

/* MHD: the response is done with (sent, or its connection went). */
static void
scrape_gone(void *cls)
{
	struct scrape *sc = cls;

	stream_close(sc->out);      /* a render still going stops sending */
	sc->mc = NULL;
	sc->waiting = 0;
	scrape_unref(sc);
}

/* The snapshot is complete (from take, or a later turn of the loop): the
 * render goes to a worker. Called from within take, the snapshot is not
 * in sc yet: httpd_scrape_start submits it then. */
static void
scrape_taken(void *token)
{
	struct scrape *sc = token;

	sc->taking = 0;
	if (sc->snap != NULL)
		work_submit(sc->pool, &sc->job);
}

/* A body of unknown length: chunked to HTTP/1.1 clients, ended by closing
 * to HTTP/1.0 ones. */
static struct MHD_Response *
httpd_stream_response(MHD_ContentReaderCallback read, void *cls,
    MHD_ContentReaderFreeCallback gone, int gzipped)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTPD_GZIP_PIECE,
	    read, cls, gone);
	if (resp == NULL) {
		if (gone != NULL)
			gone(cls);      /* as MHD_destroy_response would below */
		return NULL;
	}
	if ((gzipped && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
	    "gzip") != MHD_YES) ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING) != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}

/* HEAD /metrics: the headers a GET gets, and no render. */
static ssize_t
httpd_read_nothing(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)cls;
	(void)pos;
	(void)out;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/* /metrics on a worker, streamed: the headers go at once, the body as the
 * worker makes it; the loop goes on meanwhile (while the snapshot is
 * taken too). */
static enum MHD_Result
httpd_scrape_start(struct httpd *h, struct hconn *hc, const char *method)
{
	struct scrape *sc;
	struct MHD_Response *resp;
	int gzip = httpd_wants_gzip(hc->mc);

	if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return httpd_respond(h, hc->mc, MHD_HTTP_OK,
		    httpd_stream_response(httpd_read_nothing, NULL, NULL, gzip),
		    METRICS_CONTENT_TYPE, 0);
	sc = xcalloc(1, sizeof(*sc));
	sc->job.run = scrape_run;
	sc->job.done = scrape_done;
	sc->job.progress = scrape_progress;
	sc->h = h;
	sc->pool = h->scrape_pool;
	sc->ops = h->scrape;
	sc->mc = hc->mc;
	sc->stall_ms = h->stall_ms;
	sc->out = stream_new(HTTPD_STREAM_BOUND);
	/* zlib failing to start (out of memory): plain, then */
	sc->gz = gzip ? gzip_stream_new() : NULL;
	sc->refs = 2;
	resp = httpd_stream_response(scrape_read, sc, scrape_gone, sc->gz != NULL);
	if (resp == NULL) {
		/* gone was called: the response's reference is dropped */
		if (sc->gz)
			free(gzip_stream_finish(sc->gz, &(size_t){ 0 }));
		scrape_unref(sc);
		return MHD_NO;
	}
	sc->next = h->scraping;
	if (sc->next)
		sc->next->prev = sc;
	h->scraping = sc;
	sc->taking = 1;
	sc->snap = h->scrape->take(h->scrape_arg, scrape_taken, sc);
	if (!sc->taking)
		work_submit(sc->pool, &sc->job);
	return httpd_respond(h, hc->mc, MHD_HTTP_OK, resp, METRICS_CONTENT_TYPE, 0);
}

/* Whether the request may go on: 1 passed; 0 a response is queued (401,
 * 429) or the connection is to close (*ret); -1 suspended for a check. */
static int
httpd_authorize(struct httpd *h, struct hconn *hc, enum MHD_Result *ret)
{
	struct MHD_Connection *conn = hc->mc;
	unsigned char key[AUTHCACHE_KEY_SIZE];
	char *pass = NULL, *user;
	const char *hash;
	uint64_t now = mono_ms(), wait;
	struct verify *v;
	int result = 0;

	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (user == NULL) {
		/* no credentials: nothing was tried, nothing is counted */
		MHD_free(pass);
		*ret = httpd_unauthorized_response(h, conn);
		return 0;
	}
	hash = httpd_user_hash(h, user);
	/* The limit comes first, cache or not: a guess that happens to be
	 * right must cost an address as much as any other guess. */
	if ((wait = ratelimit_take(h->limiter, (const struct sockaddr *)&hc->addr, now)) > 0) {
		h->counts.limited++;
		*ret = httpd_too_many_response(h, conn, wait);
		goto out;
	}
	authcache_key(h->cache, user, hash, pass ? pass : "", key);
	if (authcache_hit(h->cache, key, now)) {
		ratelimit_refund(h->limiter, (const struct sockaddr *)&hc->addr, now);
		result = 1;
		goto out;
	}
	if (h->pool == NULL) {
		/* no workers (tests, tools): check here, on the loop */
		verify_settle(h, hc, key, auth_verify(pass ? pass : "", hash));
		if (hc->auth)
			result = 1;
		else
			*ret = httpd_unauthorized_response(h, conn);
		goto out;
	}
	/* An unknown user costs a hash too (auth_verify's dummy), so the
	 * answer's timing does not tell which user names exist. */
	v = xcalloc(1, sizeof(*v));
	v->job.run = verify_run;
	v->job.done = verify_done;
	v->h = h;
	v->hc = hc;
	v->password = xstrdup(pass ? pass : "");
	v->hash = hash ? xstrdup(hash) : NULL;
	memcpy(v->key, key, sizeof(key));
	v->next = h->verifying;
	if (v->next)
		v->next->prev = v;
	h->verifying = v;
	hc->job = v;
	hc->st = REQ_VERIFYING;
	MHD_suspend_connection(conn);
	work_submit(h->pool, &v->job);
	*ret = MHD_YES;
	result = -1;
out:
	explicit_bzero(key, sizeof(key));
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	MHD_free(user);
	return result;
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

/* The query string's parameters, as libmicrohttpd decoded them. */
struct page_args {
	struct query_arg a[QUERY_MAX_ARGS + 1];
	size_t n;
};

static enum MHD_Result
page_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct page_args *pa = cls;

	(void)kind;
	if (pa->n == ARRAY_SIZE(pa->a))
		return MHD_NO;          /* one past the bound says "too many" */
	pa->a[pa->n].name = key;
	pa->a[pa->n++].value = value;
	return MHD_YES;
}

/* The status pages (status.c), same methods as /metrics. */
static enum MHD_Result
httpd_page(struct httpd *h, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	const char *type = NULL;
	struct page_args pa;
	struct buf b;
	size_t len;
	int status;

	pa.n = 0;
	(void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, page_arg, &pa);
	buf_init(&b);
	status = h->page(h->page_arg, url, pa.a, pa.n, &b, &type);
	if (status == 0) {
		buf_free(&b);
		return httpd_text(h, conn, MHD_HTTP_NOT_FOUND, httpd_not_found,
		    sizeof(httpd_not_found) - 1, 0);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		buf_free(&b);
		return httpd_text(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    httpd_not_allowed, sizeof(httpd_not_allowed) - 1, 1);
	}
	buf_reserve(&b, 0);
	len = b.len;
	return httpd_respond(h, conn, (unsigned)status,
	    MHD_create_response_from_buffer_with_free_callback(len,
	    buf_steal(&b), free), type, 0);
}

void
httpd_set_pages(struct httpd *h, httpd_page_fn fn, void *arg)
{
	h->page = fn;
	h->page_arg = arg;
}

/* ------------------------------------------------------------ async requests */

static void
req_unlink(struct httpd *h, struct httpd_req *rq)
{
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		h->deferred = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	rq->prev = rq->next = NULL;
}

/* The request goes without its answer (the connection or server went):
 * its owner hears of it, unless it has answered already. */
static void
req_drop(struct httpd *h, struct httpd_req *rq)
{
	req_unlink(h, rq);
	if (rq->hc != NULL)
		rq->hc->rq = NULL;
	if (!rq->answered && rq->gone != NULL)
		rq->gone(rq->gone_arg);
	free(rq->body);
	free(rq);
}

/* The answer of a deferred request, queued on its connection. */
static enum MHD_Result
httpd_req_queue(struct httpd *h, struct hconn *hc)
{
	struct httpd_req *rq = hc->rq;
	struct MHD_Response *resp;
	unsigned status = rq->status;
	const char *type = rq->content_type;

	resp = MHD_create_response_from_buffer_with_free_callback(rq->len, rq->body, free);
	if (resp != NULL)
		rq->body = NULL;        /* MHD's now */
	hc->st = REQ_ANSWERED;
	req_drop(h, rq);
	return httpd_respond(h, hc->mc, status, resp, type, status == MHD_HTTP_METHOD_NOT_ALLOWED);
}

/* Hand the request to the async handler: 0 when it is not its (the
 * request goes on to the pages), else 1 with *ret MHD's answer. */
static int
httpd_req_start(struct httpd *h, struct hconn *hc, const char *method, enum MHD_Result *ret)
{
	struct httpd_req *rq = xcalloc(1, sizeof(*rq));
	int taken;

	rq->h = h;
	rq->hc = hc;
	rq->conn = hc->mc;
	rq->method = method;
	rq->in_handler = 1;
	rq->next = h->deferred;
	if (rq->next)
		rq->next->prev = rq;
	h->deferred = rq;
	hc->rq = rq;
	hc->st = REQ_DEFERRED;
	taken = h->async(h->async_arg, rq);
	rq->in_handler = 0;
	rq->method = NULL;
	if (!taken) {
		hc->st = REQ_ANSWERED;
		rq->answered = 1;       /* nothing to tell */
		req_drop(h, rq);
		return 0;
	}
	if (rq->answered) {
		*ret = httpd_req_queue(h, hc);
		return 1;
	}
	MHD_suspend_connection(hc->mc);
	rq->suspended = 1;
	*ret = MHD_YES;
	return 1;
}

void
httpd_set_async(struct httpd *h, const char *path, httpd_async_fn fn, void *arg)
{
	free(h->async_path);
	h->async_path = path ? xstrdup(path) : NULL;
	h->async = path ? fn : NULL;
	h->async_arg = arg;
}

const char *
httpd_req_method(const struct httpd_req *rq)
{
	return rq->method;
}

const char *
httpd_req_arg(const struct httpd_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
httpd_req_header(const struct httpd_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void
httpd_req_on_gone(struct httpd_req *rq, void (*fn)(void *arg), void *arg)
{
	rq->gone = fn;
	rq->gone_arg = arg;
}

void
httpd_req_answer(struct httpd_req *rq, unsigned status, const char *content_type, char *body,
    size_t len)
{
	struct httpd *h = rq->h;

	if (rq->answered) {
		free(body);
		return;
	}
	rq->answered = 1;
	rq->status = status;
	rq->content_type = content_type;
	rq->body = body;
	rq->len = len;
	if (!rq->suspended)
		return;                 /* inside the handler: queued on return */
	rq->suspended = 0;
	MHD_resume_connection(rq->conn);
	/* MHD takes a resumed connection up in its next run: now, unless
	 * this is inside one (then right after it, see httpd_run_mhd) */
	h->resumed = 1;
	if (!h->in_mhd)
		httpd_run_mhd(h);
}

static struct hconn *
hconn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result
httpd_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req)
{
	struct httpd *h = cls;
	struct hconn *hc = *req != NULL ? *req : hconn_of(conn);
	enum MHD_Result ret = MHD_NO;
	int metrics;

	(void)version;
	(void)upload_data;
	if (hc == NULL)
		return MHD_NO;
	*req = hc;
	switch (hc->st) {
	case REQ_ANSWERED:
		/* We answer before any request body is read. Should MHD
		 * still hand us a body afterwards, it is discarded. */
		*upload_data_size = 0;
		return MHD_YES;
	case REQ_VERIFYING:
		return MHD_YES;        /* suspended: not called, but harmless */
	case REQ_ABORT:
		return MHD_NO;
	case REQ_DEFERRED:
		/* resumed: the answer is in */
		if (hc->rq != NULL && hc->rq->answered)
			return httpd_req_queue(h, hc);
		return MHD_YES;
	case REQ_NEW:
		conns_busy(&h->conns, &hc->c);
		if (!httpd_client_ok(h, conn)) {
			hc->st = REQ_ANSWERED;
			return httpd_text(h, conn, MHD_HTTP_FORBIDDEN, httpd_forbidden,
			    sizeof(httpd_forbidden) - 1, 0);
		}
		if (h->nusers > 0) {
			int r = httpd_authorize(h, hc, &ret);

			if (r < 0)
				return ret;     /* suspended */
			if (r == 0) {
				hc->st = REQ_ANSWERED;
				return ret;
			}
		}
		break;
	case REQ_VERIFIED:
		if (!hc->auth) {
			hc->st = REQ_ANSWERED;
			return httpd_unauthorized_response(h, conn);
		}
		break;
	}
	hc->st = REQ_ANSWERED;

	if (h->async != NULL && strcmp(url, h->async_path) == 0) {
		int taken = httpd_req_start(h, hc, method, &ret);

		if (taken)
			return ret;
	}
	if (strcmp(url, "/metrics") == 0)
		metrics = 1;
	else if (strcmp(url, "/healthz") == 0)
		metrics = 0;
	else if (h->page != NULL)
		return httpd_page(h, conn, url, method);
	else
		return httpd_text(h, conn, MHD_HTTP_NOT_FOUND, httpd_not_found,
		    sizeof(httpd_not_found) - 1, 0);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return httpd_text(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    httpd_not_allowed, sizeof(httpd_not_allowed) - 1, 1);
	if (!metrics)
		return httpd_text(h, conn, MHD_HTTP_OK, httpd_ok,
		    sizeof(httpd_ok) - 1, 0);

	if (h->scrape != NULL && h->scrape_pool != NULL)
		return httpd_scrape_start(h, hc, method);
	/* On the loop (tests, tools): HEAD renders too, so that
	 * Content-Length is the real one. */
	{
		unsigned char *body;
		size_t len;
		int gzipped;

		httpd_metrics_body(h->render, h->arg, httpd_wants_gzip(conn), &body, &len,
		    &gzipped);
		return httpd_respond(h, conn, MHD_HTTP_OK,
		    httpd_metrics_response(body, len, gzipped), METRICS_CONTENT_TYPE, 0);
	}
}

/* MHD: a connection we added starts, or any connection closes. */
static void
httpd_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct hconn *hc = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = xcalloc(1, sizeof(*hc));
		hc->h = h;
		hc->mc = conn;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL) {
			size_t len = ci->client_addr->sa_family == AF_INET6 ?
			    sizeof(struct sockaddr_in6) :
			    ci->client_addr->sa_family == AF_INET ?
			    sizeof(struct sockaddr_in) : 0;
			memcpy(&hc->addr, ci->client_addr, len);
		}
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		conns_add(&h->conns, &hc->c, ci ? (int)ci->connect_fd : -1, mono_ms());
		if ((hc->next = h->all) != NULL)
			hc->next->prev = hc;
		h->all = hc;
		*socket_context = hc;
		h->added = hc;
		return;
	}
	if (hc == NULL)
		return;
	if (hc->job != NULL)
		hc->job->hc = NULL;     /* only at shutdown: see httpd_free */
	if (hc->rq != NULL)
		req_drop(h, hc->rq);
	conns_remove(&h->conns, &hc->c);
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		h->all = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	if (h->added == hc)
		h->added = NULL;
	free(hc);
	*socket_context = NULL;
}

/* MHD: a request line arrived. Its return value is the request's *req. */
static void *
httpd_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct httpd *h = cls;
	struct hconn *hc = hconn_of(conn);

	(void)uri;
	if (hc != NULL)
		conns_line(&h->conns, &hc->c);
	return hc;
}

/* MHD: a request ended (answered, failed, or the connection went). */
static void
httpd_completed(void *cls, struct MHD_Connection *conn, void **req,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	struct hconn *hc = *req != NULL ? *req : hconn_of(conn);

	(void)toe;
	if (hc == NULL || hc->st == REQ_ABORT)
		return;
	if (hc->rq != NULL)
		req_drop(h, hc->rq);    /* ended before its answer went out */
	hc->st = REQ_NEW;
	hc->auth = 0;
	conns_done(&h->conns, &hc->c, mono_ms());
}

/* ---------------------------------------------------------------- slots */

/* How idle a connection is, as the kernel counts: one that never sent a
 * byte ranks above every other (by its age), the rest by the ms since
 * their last byte; -1 when the kernel cannot tell. */
static int64_t
httpd_quiet(const struct conn *c, void *arg)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	(void)arg;
	memset(&ti, 0, sizeof(ti));
	if (c->fd < 0 || getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof(ti.tcpi_last_data_recv))
		return -1;
	/* tcpi_bytes_received: Linux 4.1 and later */
	if (len >= offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti.tcpi_bytes_received) && ti.tcpi_bytes_received == 0)
		return ((int64_t)1 << 40) + (int64_t)ti.tcpi_last_data_recv;   /* deferred, then silent */
	return (int64_t)ti.tcpi_last_data_recv;
}

/* Close c without a word; MHD sees the end of the stream and cleans up in
 * its next run, which the shutdown itself makes due. */
static void
httpd_drop(struct httpd *h, struct hconn *hc)
{
	if (hc->c.fd >= 0)
		(void)shutdown(hc->c.fd, SHUT_RDWR);
	conns_closing(&h->conns, &hc->c);
}

static void
httpd_watch_listen(struct httpd *h, int on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = 1 };

	if (h->listen_watched == on)
		return;
	if (epoll_ctl(h->epoll_fd, EPOLL_CTL_MOD, h->listen_fd, &ev) == -1)
		log_warn("httpd: epoll_ctl on the listening socket");
	else
		h->listen_watched = on;
}

/* Whether two client addresses are the same host (port aside). */
static int
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/* Live connections from the host of ss (at most 2 * max_connections plus a
 * batch: a scan is cheap). */
static unsigned
same_address_count(const struct httpd *h, const struct sockaddr_storage *ss)
{
	unsigned n = 0;

	for (const struct hconn *hc = h->all; hc != NULL; hc = hc->next)
		n += hc->c.closing == 0 && same_host(&hc->addr, ss);
	return n;
}

/* Accept what the backlog holds, a batch at a time. At the limit a
 * newcomer is taken only when a waiting connection can make room; when
 * every slot answers a request, the rest waits in the backlog until one
 * is done. */
static void
httpd_accept(struct httpd *h, uint64_t now)
{
	for (unsigned i = 0; i < h->batch; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct conn *victim = NULL;
		struct hconn *added;
		int fd;

		if (conns_open(&h->conns) >= h->limit &&
		    (victim = conns_victim(&h->conns, HTTPD_EVICT_SAMPLE, httpd_quiet,
		    NULL, now)) == NULL)
			return;
		/* MHD counts the connections we shut down until its next run has
		 * seen them close; a newcomer over its limit would be refused with
		 * a reset. Under a flood of evictions (and a slow run: a loaded
		 * machine, the sanitizers) those pile up, so wait for that run:
		 * the newcomer stays in the backlog for one round, not reset. */
		if (h->conns.live + 1 > h->mhd_limit)
			return;

		fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				log_warn("httpd: accept (pausing %d ms)", HTTPD_ACCEPT_PAUSE_MS);
				h->paused_until = now + HTTPD_ACCEPT_PAUSE_MS;
				return;
			default:
				log_warn("httpd: accept");
				return;
			}
		}
		/* max_connections_per_address is ours, counted over the
		 * connections MHD has not yet closed: MHD's own per-IP count
		 * lags behind its clean-up, and under a flood it refused (with a
		 * reset) addresses that had long closed their connections */
		if (same_address_count(h, &ss) >= h->per_address) {
			close(fd);
			h->counts.refused++;
			continue;
		}
		h->added = NULL;
		/* MHD closes fd itself when it refuses it (its own limit, far
		 * above ours) */
		if (MHD_add_connection(h->daemon, fd, (struct sockaddr *)&ss, len) != MHD_YES) {
			log_debug("httpd: connection refused (%s; %zu open, %zu closing)",
			    strerror(errno), conns_open(&h->conns), h->conns.nclosing);
			h->counts.refused++;
			continue;
		}
		added = h->added;
		if (conns_open(&h->conns) > h->limit && victim != NULL &&
		    (added == NULL || victim != &added->c)) {
			httpd_drop(h, container_of(victim, struct hconn, c));
			h->counts.evicted++;
		}
	}
}

/* Close waiting connections past their deadline. */
static void
httpd_expire(struct httpd *h, uint64_t now)
{
	struct conn *c;

	while ((c = conns_expired(&h->conns, now)) != NULL) {
		if (c->served || c->line)
			h->counts.headers_late++;
		else
			h->counts.line_late++;
		httpd_drop(h, container_of(c, struct hconn, c));
	}
}

/* An attack is logged when it starts and then at most once a minute. */
static void
httpd_report(struct httpd *h, uint64_t now)
{
	struct httpd_counts *k = &h->counts;

	if (k->evicted + k->line_late + k->headers_late + k->refused + k->limited == 0)
		return;
	if (h->reported_at != 0 && now - h->reported_at < HTTPD_REPORT_MS)
		return;
	log_warnx("httpd: %lu waiting connections evicted at max_connections, %lu closed "
	    "without a request line by request_line_timeout, %lu without their "
	    "headers by header_timeout, %lu refused (max_connections_per_address), "
	    "%lu password checks answered 429%s",
	    k->evicted, k->line_late, k->headers_late, k->refused, k->limited,
	    h->reported_at ? " since the previous report" : "");
	memset(k, 0, sizeof(*k));
	h->reported_at = now;
}

/* ---------------------------------------------------------------- life */

struct httpd *
httpd_new(int fd, httpd_render_fn render, void *arg, char **err)
{
	return httpd_new_web(fd, NULL, NULL, render, arg, err);
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
	free(h->async_path);
	authcache_free(h->cache);
	ratelimit_free(h->limiter);
	conns_fini(&h->conns);
	if (h->epoll_fd >= 0)
		close(h->epoll_fd);
	free(h);
}

/* Whether fd is a listening stream socket. */
static int
httpd_is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

struct httpd *
httpd_new_web(int fd, const struct conf_web *web, struct work_pool *pool,
    httpd_render_fn render, void *arg, char **err)
{
	const union MHD_DaemonInfo *info;
	/* No listening socket for MHD: we accept (httpd_accept). */
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
	    MHD_ALLOW_SUSPEND_RESUME;
	unsigned int limit = HTTPD_CONNECTION_LIMIT;
	unsigned int per_address = CONF_DEFAULT_WEB_MAX_CONNECTIONS_PER_ADDRESS;
	unsigned int timeout = HTTPD_CONNECTION_TIMEOUT;
	uint64_t line_ms = CONF_DEFAULT_WEB_REQUEST_LINE_TIMEOUT_MS;
	uint64_t header_ms = CONF_DEFAULT_WEB_HEADER_TIMEOUT_MS;
	size_t memory = HTTPD_MEMORY_LIMIT;
	struct MHD_OptionItem tls[4];
	struct epoll_event ev;
	size_t ntls = 0;
	int defer;
	struct httpd *h;

	*err = NULL;
	if (fd < 0 || !httpd_is_listening(fd)) {
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
	h->pool = pool;
	h->epoll_fd = -1;
	if (web != NULL) {
		limit = web->max_connections;
		per_address = web->max_connections_per_address;
		/* MHD counts whole seconds; the config allows no less than 1s */
		timeout = (unsigned int)((web->connection_timeout_ms + 999) / 1000);
		line_ms = web->request_line_timeout_ms;
		header_ms = web->header_timeout_ms;
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
	h->limit = limit;
	/* a stalled client is cut off after as long as an idle one; no timeout: a minute */
	h->stall_ms = timeout > 0 ? (uint64_t)timeout * 1000 : 60000;
	h->batch = limit / 4 > 64 ? 64 : limit / 4 > 0 ? limit / 4 : 1;
	/* room in MHD for every slot, the connections shut down and not yet
	 * closed, and a batch of newcomers */
	h->mhd_limit = 2 * limit + h->batch;
	h->per_address = per_address;
	conns_init(&h->conns, line_ms, header_ms, HTTPD_EVICT_GRACE_MS);
	h->cache = authcache_new(HTTPD_AUTH_CACHE_SIZE, HTTPD_AUTH_CACHE_TTL_MS);
	h->limiter = ratelimit_new(HTTPD_AUTH_BURST, HTTPD_AUTH_REFILL_MS, HTTPD_AUTH_ADDRESSES);
	/* External polling through MHD's epoll descriptor: no MHD threads,
	 * every callback runs on our loop. MHD's own limit leaves room for
	 * connections we shut down that it has not closed yet: ours is
	 * enforced in httpd_accept. */
	h->daemon = MHD_start_daemon(flags, 0,
	    NULL, NULL, httpd_handle, h,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log, h,
	    /* MHD's own limit stays far above ours (h->mhd_limit), so that
	     * connections it has closed but not yet cleaned up never make it
	     * refuse a newcomer; the per-address limit is ours too */
	    MHD_OPTION_CONNECTION_LIMIT, 2 * h->mhd_limit + 64,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_notify_connection, h,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, h,
	    MHD_OPTION_URI_LOG_CALLBACK, httpd_uri_seen, h,
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		*err = xstrdup("cannot start the HTTP server (libmicrohttpd "
		    "refused; see its message above)");
		close(fd);
		httpd_release(h);
		return NULL;
	}
	h->listen_fd = fd;
	/* The kernel keeps a connection that has sent nothing out of the
	 * accept queue for about request_line_timeout (TCP_DEFER_ACCEPT, as
	 * nginx's "deferred"): an idle connection costs no slot, nor even a
	 * descriptor, until then; one that speaks is accepted at once. */
	defer = (int)((line_ms + 999) / 1000);
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) == -1)
		log_warn("httpd: TCP_DEFER_ACCEPT");
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		*err = xstrdup("cannot start the HTTP server: no epoll descriptor");
		httpd_free(h);
		return NULL;
	}
	h->mhd_fd = info->epoll_fd;
	/* One descriptor for the loop: readable when MHD has work or a
	 * connection waits to be accepted. */
	if ((h->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->mhd_fd,
	    &(struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 }) == -1 ||
	    epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->listen_fd,
	    (ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 1 }, &ev)) == -1) {
		*err = xasprintf("cannot start the HTTP server: epoll: %s", strerror(errno));
		httpd_free(h);
		return NULL;
	}
	h->accepting = 1;
	h->listen_watched = 1;
	return h;
}

void
httpd_quiesce(struct httpd *h, int stop_listening)
{
	if (h->accepting) {
		h->accepting = 0;
		(void)epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, h->listen_fd, NULL);
		h->listen_watched = 0;
	}
	/* The descriptor stays ours to close (see httpd_free). Shutting a
	 * listening socket down makes the kernel refuse new connections at
	 * once; not when another server shares the socket through a dup. */
	if (stop_listening)
		(void)shutdown(h->listen_fd, SHUT_RDWR);
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
	httpd_quiesce(h, 0);
	/* Checks still on a worker finish there and free themselves; their
	 * connections must be resumed, or MHD_stop_daemon would find them
	 * suspended (an API violation; 0.9.75 panics). */
	for (struct verify *v = h->verifying, *next; v != NULL; v = next) {
		next = v->next;
		v->h = NULL;
		if (v->hc != NULL) {
			v->hc->job = NULL;
			v->hc->st = REQ_ABORT;
			MHD_resume_connection(v->hc->mc);
			v->hc = NULL;
		}
	}
	h->verifying = NULL;
	/* Renders likewise: they finish on their worker (a client waiting
	 * for the next piece is resumed, and its reader ends the body), and
	 * release their snapshot on the loop, in done; a snapshot still
	 * being taken goes now (its taken is never called then). */
	for (struct scrape *sc = h->scraping, *next; sc != NULL; sc = next) {
		next = sc->next;
		sc->h = NULL;
		sc->prev = sc->next = NULL;
		if (sc->waiting) {
			sc->waiting = 0;
			MHD_resume_connection(sc->mc);
		}
		if (sc->taking) {
			sc->ops->release(sc->snap);
			sc->snap = NULL;
			scrape_unref(sc);       /* the job's: it never runs */
		}
	}
	h->scraping = NULL;
	/* Deferred requests go unanswered: their owners hear of it. */
	while (h->deferred != NULL) {
		struct httpd_req *rq = h->deferred;
		struct hconn *hc = rq->hc;

		if (rq->suspended)
			MHD_resume_connection(rq->conn);
		if (hc != NULL)
			hc->st = REQ_ABORT;
		req_drop(h, rq);
	}
	(void)MHD_run(h->daemon);    /* takes the resumed ones up: they close */
	MHD_stop_daemon(h->daemon);
	close(h->listen_fd);
	httpd_release(h);
}

int
httpd_fd(const struct httpd *h)
{
	return h->epoll_fd;
}

static void
httpd_run_mhd(struct httpd *h)
{
	/* MHD_NO only means nothing could be done; the loop goes on. A
	 * connection resumed during the run is taken up by another. */
	do {
		h->resumed = 0;
		h->in_mhd++;
		(void)MHD_run(h->daemon);
		h->in_mhd--;
	} while (h->resumed && h->in_mhd == 0);
}

void
httpd_run(struct httpd *h)
{
	uint64_t now = mono_ms();
	int room;

	if (h->paused_until != 0 && h->paused_until <= now)
		h->paused_until = 0;
	if (h->accepting && h->paused_until == 0)
		httpd_accept(h, now);
	httpd_run_mhd(h);
	now = mono_ms();
	httpd_expire(h, now);
	httpd_report(h, now);
	/* Watch the backlog only while a newcomer can be taken: else the
	 * level-triggered socket would wake the loop for nothing (the
	 * timeout brings it back when a waiting connection can be evicted). */
	room = conns_open(&h->conns) < h->limit ||
	    conns_victim(&h->conns, HTTPD_EVICT_SAMPLE, httpd_quiet, NULL, now) != NULL;
	/* full of connections that spoke just now: look again shortly (when
	 * every slot answers a request, the end of one brings us back) */
	if (!room && h->conns.head != NULL && h->paused_until == 0)
		h->paused_until = now + HTTPD_EVICT_GRACE_MS;
	if (h->accepting)
		httpd_watch_listen(h, room && h->paused_until == 0);
}

int64_t
httpd_timeout_ms(const struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	int64_t t = -1, c;
	uint64_t now = mono_ms();

	if (h->resumed)
		return 0;               /* an answer waits for MHD to run */
	if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
		t = ms > (MHD_UNSIGNED_LONG_LONG)INT64_MAX ? INT64_MAX : (int64_t)ms;
	if ((c = conns_next_ms(&h->conns, now)) >= 0 && (t < 0 || c < t))
		t = c;
	/* accepting paused (out of descriptors, or full): until when */
	if (h->accepting && h->paused_until != 0) {
		c = h->paused_until > now ? (int64_t)(h->paused_until - now) : 0;
		if (t < 0 || c < t)
			t = c;
	}
	return t;
}
