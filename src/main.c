/* main.c - tlswatchd: options, start-up, signals and shutdown. Everything
 * else lives in the core library, shared with the tests. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conf.h"
#include "httpd.h"
#include "log.h"
#include "loop.h"
#include "resolve.h"
#include "sched.h"
#include "status.h"
#include "store.h"
#include "tls.h"
#include "util.h"

#define DEFAULT_CONFIG SYSCONFDIR "/tlswatchd.conf"

/* One HTTP listener: its socket's server, watched on the loop. */
struct listener {
	struct loop_watch watch;
	struct httpd *httpd;
};

struct daemon {
	struct conf *conf;
	struct loop *loop;
	struct resolver *resolver;
	struct sched *sched;
	struct listener *listeners;
	size_t nlisteners;
	struct loop_watch sigwatch;
	struct store *store;
	struct status_ctx status;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tlswatchd [-tvV] [-c FILE] [-s DIR]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -s, --state-dir DIR  keep state in DIR instead of the config's state_dir\n"
	    "  -t, --test         check the configuration and exit: 0 valid, 1 not\n"
	    "  -v, --verbose      log debug messages too\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         this help\n", DEFAULT_CONFIG);
}

/* Configuration errors go out as conf_load made them, one per line and
 * starting with FILE:LINE: so editors and people can jump to them (their
 * control characters are already escaped). */
static void
print_errors(const char *text)
{
	fprintf(stderr, "%s\n", text);
}

static void
listener_cb(struct loop_watch *w, uint32_t events)
{
	struct listener *l = (struct listener *)w;

	(void)events;
	httpd_run(l->httpd);
}

/* Before each wait: libmicrohttpd's own timeouts bound it. */
static int64_t
prepare_cb(void *arg)
{
	struct daemon *d = arg;
	int64_t wait = -1;

	for (size_t i = 0; i < d->nlisteners; i++) {
		int64_t t = httpd_timeout_ms(d->listeners[i].httpd);
		if (t >= 0 && (wait < 0 || t < wait))
			wait = t;
	}
	return wait;
}

static void
signal_cb(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = (struct daemon *)((char *)w - offsetof(struct daemon, sigwatch));
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			loop_stop(d->loop);
			break;
		case SIGHUP:
			log_warnx("SIGHUP: this version cannot reload its configuration; "
			    "restart tlswatchd to apply changes");
			break;
		}
	}
}

/* Bind every listen address. In check mode (-t) an address already in use
 * is only a warning: the running daemon is the likely holder. */
static int
bind_listeners(struct daemon *d, int check, int *fds)
{
	const struct conf *c = d->conf;
	int failed = 0;

	for (size_t i = 0; i < c->nlisten; i++) {
		const struct conf_listen *cl = &c->listen[i];
		char *err = NULL;

		fds[i] = httpd_listen(cl->host, cl->port, &err);
		if (fds[i] != -1)
			continue;
		int in_use = errno == EADDRINUSE;
		if (check && in_use) {
			fprintf(stderr, "%s:%d: listen: %s (warning: a running tlswatchd may hold it)\n",
			    c->path, cl->line, err);
		} else {
			fprintf(stderr, "%s:%d: listen: %s\n", c->path, cl->line, err);
			failed = 1;
		}
		free(err);
	}
	return failed ? -1 : 0;
}

static void
daemon_free(struct daemon *d)
{
	sched_free(d->sched);
	store_free(d->store);
	for (size_t i = 0; i < d->nlisteners; i++) {
		loop_watch_del(d->loop, &d->listeners[i].watch);
		httpd_free(d->listeners[i].httpd);
	}
	free(d->listeners);
	if (d->sigwatch.fd != -1) {
		loop_watch_del(d->loop, &d->sigwatch);
		close(d->sigwatch.fd);
	}
	resolver_free(d->resolver);
	loop_free(d->loop);
	conf_free(d->conf);
	tls_fini();
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "state-dir", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .sigwatch = { .fd = -1 } };
	const char *path = DEFAULT_CONFIG;
	const char *state_dir = NULL;
	int check = 0, verbose = 0, ch, status = 1;
	char *err = NULL;
	int *fds = NULL;
	sigset_t mask;

	while ((ch = getopt_long(argc, argv, "c:tvVhs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 's':
			if (*optarg == '\0') {
				fprintf(stderr, "tlswatchd: --state-dir must not be empty\n");
				return 1;
			}
			state_dir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("tlswatchd %s (GnuTLS %s)\n", PACKAGE_VERSION, tls_library_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	log_init("tlswatchd", verbose);

	/* Everything is parsed, loaded and bound before anything runs: the
	 * daemon never starts half-configured. */
	d.conf = conf_load(path, &err);
	if (d.conf == NULL) {
		print_errors(err);
		free(err);
		return 1;
	}
	if (state_dir != NULL) {
		free(d.conf->state_dir);
		d.conf->state_dir = xstrdup(state_dir);
	}
	if (tls_init(&err) == -1 || (d.loop = loop_new()) == NULL ||
	    (d.resolver = resolver_new(d.loop, &err)) == NULL ||
	    (d.sched = sched_new(d.loop, d.resolver, d.conf, &err)) == NULL) {
		if (err)
			print_errors(err);
		else
			log_warn("event loop");
		free(err);
		goto out;
	}
	fds = xcalloc(d.conf->nlisten, sizeof(*fds));
	if (bind_listeners(&d, check, fds) == -1)
		goto out;
	if (check) {
		for (size_t i = 0; i < d.conf->nlisten; i++)
			if (fds[i] != -1)
				close(fds[i]);
		printf("%s: configuration OK (%zu target%s)\n", path, d.conf->ntargets,
		    d.conf->ntargets == 1 ? "" : "s");
		status = 0;
		goto out;
	}

	/* Stored results are served before the first new probe; a state_dir
	 * that cannot be read or written is logged and retried, never fatal. */
	d.store = store_new(d.conf->state_dir, d.conf->state_refresh_ms);
	sched_set_store(d.sched, d.store);
	d.status.sched = d.sched;
	d.status.conf = d.conf;
	d.status.state_dir = d.conf->state_dir;

	d.listeners = xcalloc(d.conf->nlisten, sizeof(*d.listeners));
	for (size_t i = 0; i < d.conf->nlisten; i++) {
		struct listener *l = &d.listeners[i];
		int fd = fds[i];

		fds[i] = -1;
		l->httpd = httpd_new(fd, sched_render_metrics, d.sched, &err);
		if (l->httpd == NULL) {
			log_warnx("%s:%d: listen: %s", d.conf->path, d.conf->listen[i].line, err);
			free(err);
			goto out;
		}
		httpd_set_pages(l->httpd, status_handle, &d.status);
		d.nlisteners++;
		l->watch.fd = httpd_fd(l->httpd);
		l->watch.cb = listener_cb;
		if (loop_watch_add(d.loop, &l->watch, EPOLLIN) == -1) {
			log_warn("listen %s: epoll", d.conf->listen[i].address);
			goto out;
		}
	}
	loop_set_prepare(d.loop, prepare_cb, &d);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (d.sigwatch.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		goto out;
	}
	d.sigwatch.cb = signal_cb;
	if (loop_watch_add(d.loop, &d.sigwatch, EPOLLIN) == -1) {
		log_warn("signalfd: epoll");
		goto out;
	}
	/* A peer that closes mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < d.conf->nlisten; i++)
		log_info("serving metrics on http://%s/metrics", d.conf->listen[i].address);
	log_info("tlswatchd %s started: %zu target%s, concurrency %u", PACKAGE_VERSION,
	    d.conf->ntargets, d.conf->ntargets == 1 ? "" : "s", d.conf->concurrency);
	store_schedule_cleanup(d.store, d.loop, d.conf);
	sched_start(d.sched);
	status = loop_run(d.loop) == 0 ? 0 : 1;
out:
	if (fds) {
		for (size_t i = 0; i < d.conf->nlisten; i++)
			if (fds[i] > 0)
				close(fds[i]);
		free(fds);
	}
	daemon_free(&d);
	return status;
}
