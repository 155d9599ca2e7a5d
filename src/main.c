/* main.c - tlswatchd: options, start-up, signals and shutdown. Everything
 * else lives in the core library, shared with the tests. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#ifdef HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#else
#include <gnu/libc-version.h>
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conf/conf.h"
#include "fetch/fetch.h"
#include "conf/tfiles.h"
#include "serve/httpd.h"
#include "serve/listen.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pin.h"
#include "serve/metrics.h"
#include "serve/notify.h"
#include "serve/probeep.h"
#include "probe/resolve.h"
#include "probe/tlsa.h"
#include "sched.h"
#include "verdict/expiry.h"
#include "serve/status.h"
#include "state/store.h"
#include "probe/stsround.h"
#include "probe/tls.h"
#include "core/util.h"
#include "core/work.h"
#include "verdict/cadata.h"

#define DEFAULT_CONFIG SYSCONFDIR "/tlswatch/tlswatchd.conf"

#define STATUS_PERIOD_MS (10 * 1000)
/* Added to the scrape threads' nice (see work_pool_set_nice). */
#define RENDER_NICE 10

struct daemon {
	const char *path;
	struct conf *conf;
	struct loop *loop;
	struct resolver *resolver;
	struct sched *sched;
	struct listeners *listeners;
	struct probeep *probeep;     /* GET /probe (probe_endpoint) */
	struct tfiles *tfiles;       /* target_files: the scheduler's file targets */
	struct work_pool *workers;   /* password checks, fetch cache I/O, CRL parses */
	struct work_pool *renders;   /* scrapes: a slow client may hold one */
	struct fetch *fetch;         /* CRLs, OCSP, renewal information, caIssuers, MTA-STS */
	struct loop_watch sigwatch;
	int reload_ok;               /* the last reload succeeded (1 at start) */
	double reload_time;          /* wall clock of the last config loaded */
	struct loop_timer watchdog;  /* WATCHDOG=1 at half systemd's interval */
	uint64_t watchdog_ms;
	struct loop_timer status;    /* STATUS= refresh */
	struct sched_summary status_count;   /* its count, a slice a turn */
	int status_counting;
	char *last_status;
	struct store *store;
	struct status_ctx pages;         /* the status pages: what they read */
	const char *state_dir_override;  /* -s DIR, for every config loaded */
	unsigned shard_k, shard_n;       /* --shard or TLSWATCH_SHARD; 0: the config's */
	const char *listen;              /* --listen or TLSWATCH_LISTEN; NULL: the config's */
	const char *listen_origin;
};

/* ASan and TSan bring their own malloc (gcc's macros, clang's feature). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

/* The malloc tlswatchd runs with, for -V and the start-up line:
 * "jemalloc 5.3.0" (configure's default, README "A million targets"),
 * "glibc 2.36 malloc", or in a sanitizer's build "the sanitizer's malloc". */
static const char *
malloc_name(void)
{
	static char name[48];
#ifdef HAVE_JEMALLOC
	const char *v = NULL;
	size_t len = sizeof v;

	if (mallctl("version", &v, &len, NULL, 0) != 0 || v == NULL)
		v = "";
	/* "5.3.0-0-g54eaed1d...": the release, not the commit */
	snprintf(name, sizeof name, "jemalloc %.*s", (int)strcspn(v, "-"), v);
#elif defined(SANITIZED)
	snprintf(name, sizeof name, "the sanitizer's malloc");
#else
	snprintf(name, sizeof name, "glibc %s malloc", gnu_get_libc_version());
#endif
	return name;
}

/* Hand the pages of freed memory back to the kernel: after the
 * configuration's load, libconfig's parse tree (freed) is most of the
 * resident size at 100,000 targets. */
static void
malloc_release(void)
{
#ifdef HAVE_JEMALLOC
	char ctl[32];

	snprintf(ctl, sizeof ctl, "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
	(void)mallctl(ctl, NULL, NULL, NULL, 0);
#else
	malloc_trim(0);
#endif
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tlswatchd [-tvV] [-c FILE] [-s DIR] [--shard K/N] [--listen ADDR[,ADDR...]]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -s, --state-dir DIR  keep state in DIR instead of the config's state_dir\n"
	    "      --shard K/N    probe only shard K of N (overrides TLSWATCH_SHARD and\n"
	    "                     the config's shard)\n"
	    "      --listen ADDR[,ADDR...]  serve on these addresses instead of the\n"
	    "                     config's listen (overrides TLSWATCH_LISTEN)\n"
	    "  -t, --test         check the configuration and exit: 0 valid, 1 not\n"
	    "  -v, --verbose      log debug messages too\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         this help\n", DEFAULT_CONFIG);
}

/* Configuration errors go out as conf_load made them, one per line and
 * starting with FILE:LINE: so editors and people can jump to them (their
 * control characters are already escaped); on the journal as errors (<3>),
 * so that `journalctl -p err` shows why the unit did not start. */
static void
print_errors(const char *text)
{
	log_lines(1, text);
}

/* Before each wait: libmicrohttpd's own timeouts bound it. */
static int64_t
prepare_cb(void *arg)
{
	struct daemon *d = arg;

	return listeners_prepare(d->listeners);
}

/* The /metrics body: the scheduler's families and the daemon's own. */
static void
render_cb(struct buf *out, void *arg)
{
	struct daemon *d = arg;

	sched_render_metrics(out, d->sched);
	probeep_render_metrics(out, d->probeep);
	tfiles_render_metrics(out, d->tfiles);
	metrics_render_reload(out, d->reload_ok, d->reload_time);
}

/* The same off the loop (httpd_set_scrape): what the scheduler shows and
 * the reload state, taken on the loop (the scheduler's a slice of targets
 * each turn, so that a million targets do not hold it), rendered on a
 * worker; the few families of /probe and the target files are rendered
 * with the last slice, on the loop, as their state changes in place. What
 * the worker reads of file_sd targets (their settings) is freed through
 * pin_free when a file changes. */
struct scrape_snap {
	struct daemon *d;
	struct sched_scrape *sched;
	struct loop_timer slice;      /* the next turn's slice */
	httpd_taken_fn taken;
	void *token;
	struct buf small;
	int reload_ok;
	double reload_time;
};

/* A slice of the scheduler's targets; the rest once they are all in. 1
 * when the snapshot is complete. */
static int
scrape_step(struct scrape_snap *sn)
{
	struct daemon *d = sn->d;

	if (!sched_scrape_step(d->sched, sn->sched, SIZE_MAX)) {
		/* after this turn's events: a turn takes a slice at most */
		loop_timer_at(d->loop, &sn->slice, loop_now(d->loop) + 1);
		return 0;
	}
	probeep_render_metrics(&sn->small, d->probeep);
	tfiles_render_metrics(&sn->small, d->tfiles);
	sn->reload_ok = d->reload_ok;
	sn->reload_time = d->reload_time;
	return 1;
}

static void
scrape_slice_cb(struct loop_timer *t)
{
	struct scrape_snap *sn = container_of(t, struct scrape_snap, slice);

	if (scrape_step(sn))
		sn->taken(sn->token);
}

static void *
scrape_take(void *arg, httpd_taken_fn taken, void *token)
{
	struct daemon *d = arg;
	struct scrape_snap *sn = xcalloc(1, sizeof(*sn));

	sn->d = d;
	sn->taken = taken;
	sn->token = token;
	buf_init(&sn->small);
	loop_timer_init(&sn->slice, scrape_slice_cb);
	sn->sched = sched_scrape_begin(d->sched);
	if (scrape_step(sn))
		taken(token);
	return sn;
}

static void
scrape_render(struct buf *out, void *snap)
{
	struct scrape_snap *sn = snap;

	sched_scrape_render(out, sn->sched);
	if (sn->small.len > 0)
		buf_append(out, sn->small.data, sn->small.len);
	metrics_render_reload(out, sn->reload_ok, sn->reload_time);
}

static void
scrape_release(void *snap)
{
	struct scrape_snap *sn = snap;

	loop_timer_cancel(sn->d->loop, &sn->slice);
	sched_scrape_release(sn->sched);
	buf_free(&sn->small);
	free(sn);
}

static const struct httpd_scrape scrape_ops = { scrape_take, scrape_render, scrape_release };

static void
conf_free_cb(void *p)
{
	conf_free(p);
}

/* The target files changed: their targets, as a reload of only those. */
static void
tfiles_changed(void *arg)
{
	struct daemon *d = arg;
	size_t n;
	const struct conf_target *const *ts = tfiles_targets(d->tfiles, &n);

	sched_set_file_targets(d->sched, ts, n);
}

/* "3 targets, 1 failing, 0 expiring within 21 days": within the
 * configuration's warn, as the status page counts them ("with less than 33%
 * of their lifetime left" for a fraction). */
static char *
status_line(struct daemon *d, size_t failing, size_t expiring)
{
	const struct threshold *w = &d->conf->warn;
	size_t n = sched_count(d->sched);
	char when[96];

	if (w->fraction) {
		char f[32];

		threshold_format(f, sizeof(f), w);
		snprintf(when, sizeof(when), "with less than %s of their lifetime left", f);
	} else if (w->ms % 86400000 == 0) {
		snprintf(when, sizeof(when), "within %llu day%s",
		    (unsigned long long)(w->ms / 86400000), w->ms == 86400000 ? "" : "s");
	} else {
		char f[32];

		threshold_format(f, sizeof(f), w);
		snprintf(when, sizeof(when), "within %s", f);
	}
	return xasprintf("%zu target%s, %zu failing, %zu expiring %s%s",
	    n, n == 1 ? "" : "s", failing, expiring, when,
	    d->reload_ok ? "" : "; last reload failed");
}

/* Send STATUS= when it changed (always with READY=1). */
static void
status_send(struct daemon *d, char *line, int ready)
{
	if (ready)
		notify_ready(line);
	else if (d->last_status == NULL || strcmp(d->last_status, line) != 0)
		notify_status(line);
	free(d->last_status);
	d->last_status = line;
}

/* READY=1 with the status of now: at start and after a reload, when the
 * loop waits for it anyway (a pass over every target). */
static void
status_update(struct daemon *d, int ready)
{
	size_t failing, expiring;

	sched_summary(d->sched, wall_now(), &d->conf->warn, &failing, &expiring);
	status_send(d, status_line(d, failing, expiring), ready);
}

/* The periodic refresh counts a slice of targets a turn (a million
 * targets take a few hundred ms), then sends what changed. */
static void
status_cb(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, status);

	if (!d->status_counting) {
		sched_summary_begin(&d->status_count, wall_now());
		d->status_counting = 1;
	}
	if (!sched_summary_step(d->sched, &d->status_count, &d->conf->warn)) {
		loop_timer_at(d->loop, &d->status, loop_now(d->loop) + 1);
		return;
	}
	d->status_counting = 0;
	status_send(d, status_line(d, d->status_count.failing, d->status_count.expiring), 0);
	loop_timer_at(d->loop, &d->status, loop_now(d->loop) + STATUS_PERIOD_MS);
}

/* Pinged from the loop itself: a loop that stops turning stops pinging,
 * and systemd restarts the service. */
static void
watchdog_cb(struct loop_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, watchdog);

	notify_watchdog();
	loop_timer_at(d->loop, &d->watchdog, loop_now(d->loop) + d->watchdog_ms);
}

/* The fetcher's and cadata's settings from a configuration. */
static void
fetch_settings_of(const struct conf *c, struct fetch_settings *fs, struct cadata_settings *cs)
{
	*fs = (struct fetch_settings){
		.timeout_ms = c->fetch.timeout_ms,
		.concurrency = c->fetch.concurrency,
		.max_size = c->fetch.max_size,
		.proxy = c->fetch.proxy,
	};
	*cs = (struct cadata_settings){
		.refresh_ms = c->revocation_refresh_ms,
		.acme_directories = c->acme_directories,
		.nacme_directories = c->nacme_directories,
	};
}

static void
log_errors(const char *text)
{
	const char *p = text, *nl;

	/* one log line per error, as conf_load wrote them */
	while (p && *p) {
		nl = strchr(p, '\n');
		log_warnx("reload: %.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
	}
}

/* dnssec.resolver: every lookup goes to the validating resolvers named,
 * whose AD bit then counts (DANE). A reload may name others; going back to
 * resolv.conf's servers takes a restart. 0, or -1 (reported). */
static int
apply_dnssec(struct daemon *d, const struct conf *c, const struct conf *old)
{
	char *err = NULL;
	int same = old != NULL && old->ndnssec_resolvers == c->ndnssec_resolvers;

	for (size_t i = 0; same && i < c->ndnssec_resolvers; i++)
		same = strcmp(old->dnssec_resolvers[i], c->dnssec_resolvers[i]) == 0;
	if (same)
		return 0;
	if (c->ndnssec_resolvers == 0) {
		if (old != NULL)
			log_warnx("reload: dnssec.resolver removed: lookups go to %s until the "
			    "next start", old->dnssec_resolvers[0]);
		return 0;
	}
	if (resolver_set_servers(d->resolver, (const char *const *)c->dnssec_resolvers,
	    c->ndnssec_resolvers, &err) == -1) {
		log_warnx("%s: dnssec.resolver: %s", c->path, err);
		free(err);
		return -1;
	}
	log_info("dnssec.resolver: lookups go to %s%s, whose DNSSEC answers count",
	    c->dnssec_resolvers[0], c->ndnssec_resolvers > 1 ? " and others" : "");
	return 0;
}

/*
 * SIGHUP: a new config is parsed and validated beside the running one, its
 * trust stores loaded and its listeners bound; only when all of that works
 * does it replace the running one. Otherwise nothing changes.
 */
static void
reload(struct daemon *d)
{
	struct conf *nc;
	struct sched *ns = NULL;
	struct tfiles *ntf = NULL;
	const struct conf_target *const *fts;
	size_t nfts;
	char *err = NULL;

	log_info("SIGHUP: reloading %s", d->path);
	notify_reloading();
	if ((nc = conf_load(d->path, &err)) == NULL)
		goto fail;
	if (d->state_dir_override) {
		free(nc->state_dir);
		nc->state_dir = xstrdup(d->state_dir_override);
	}
	if (d->shard_n > 0) {
		nc->shard_k = d->shard_k;
		nc->shard_n = d->shard_n;
	}
	/* parsed once at start: it cannot fail now */
	if (d->listen != NULL)
		free(conf_override_listen(nc, d->listen, d->listen_origin));
	ns = sched_new(d->loop, d->resolver, nc);
	/* a file broken now keeps what it last gave */
	ntf = tfiles_new(d->loop, nc, d->tfiles);
	fts = tfiles_targets(ntf, &nfts);
	sched_set_file_targets(ns, fts, nfts);
	if (listeners_apply(d->listeners, nc, &err) == -1 ||
	    apply_dnssec(d, nc, d->conf) == -1)
		goto fail;
	if (strcmp(nc->state_dir, store_dir(d->store)) != 0)
		log_warnx("reload: state_dir %s takes effect at the next start; state stays in %s",
		    nc->state_dir, store_dir(d->store));
	/* Stored state for new targets; kept ones bring theirs from memory. */
	sched_set_store(ns, d->store);
	/* One fetcher for the daemon's life: its cache, its counters and the
	 * requests in flight go on; new settings hold for requests from now. */
	{
		struct fetch_settings fs;
		struct cadata_settings cs;

		fetch_settings_of(nc, &fs, &cs);
		fetch_set_settings(d->fetch, &fs);
		cadata_setup(d->loop, d->workers, d->fetch, &cs);
	}
	sched_set_fetch(ns, d->fetch);
	sched_start_from(ns, d->sched);
	probeep_set(d->probeep, ns, nc);   /* before the old scheduler goes */
	sched_free(d->sched);      /* cancels the old probes: see sched.h */
	d->sched = ns;
	tfiles_free(d->tfiles);    /* after the scheduler that held its targets */
	d->tfiles = ntf;
	tfiles_watch(ntf, tfiles_changed, d);
	pin_free(conf_free_cb, d->conf);   /* a scrape may be rendering from it */
	d->conf = nc;
	d->pages.sched = ns;
	d->pages.conf = nc;
	store_set_conf(d->store, nc);
	d->reload_ok = 1;
	d->reload_time = wall_now();
	log_info("reload: done, %zu target%s", sched_count(ns), sched_count(ns) == 1 ? "" : "s");
	status_update(d, 1);
	return;
fail:
	if (err)
		log_errors(err);
	log_warnx("reload: configuration refused; the running one stays in force");
	free(err);
	sched_free(ns);
	tfiles_free(ntf);
	conf_free(nc);
	d->reload_ok = 0;
	status_update(d, 1);
}

static void
signal_cb(struct loop_watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, sigwatch);
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
			reload(d);
			break;
		}
	}
}

/* -t: bind every listen address and let go; one already in use is only a
 * warning, as the running daemon is its likely holder. 0, or -1 when one
 * cannot be bound for another reason. */
static int
check_listeners(const struct conf *c)
{
	int failed = 0;

	for (size_t i = 0; i < c->nlisten; i++) {
		const struct conf_listen *cl = &c->listen[i];
		char *err = NULL;
		int fd = httpd_listen(cl->host, cl->port, &err), inuse;
		char *where, *line;

		if (fd != -1) {
			close(fd);
			continue;
		}
		inuse = errno == EADDRINUSE;
		where = conf_listen_where(c, i);
		line = xasprintf("%s: %s%s", where, err,
		    inuse ? " (warning: a running tlswatchd may hold it)" : "");
		log_lines(!inuse, line);
		failed |= !inuse;
		free(line);
		free(where);
		free(err);
	}
	return failed ? -1 : 0;
}

static void
daemon_free(struct daemon *d)
{
	if (d->loop) {
		loop_timer_cancel(d->loop, &d->watchdog);
		loop_timer_cancel(d->loop, &d->status);
	}
	probeep_free(d->probeep);     /* its jobs are the scheduler's */
	sched_free(d->sched);
	tfiles_free(d->tfiles);
	/* what was fetched goes before the fetcher, which drains the workers */
	cadata_shutdown();
	sts_set_fetch(NULL);
	fetch_free(d->fetch);
	store_free(d->store);
	listeners_free(d->listeners);
	work_pool_free(d->workers);   /* after the servers: their checks drain here */
	work_pool_free(d->renders);   /* and their renders */
	free(d->last_status);
	if (d->sigwatch.fd != -1) {
		loop_watch_del(d->loop, &d->sigwatch);
		close(d->sigwatch.fd);
	}
	tlsa_fini();
	resolver_free(d->resolver);
	loop_free(d->loop);
	conf_free(d->conf);
	tls_fini();
}

struct options {
	const char *path;
	const char *state_dir;     /* -s DIR, or NULL */
	const char *shard;         /* --shard K/N, else TLSWATCH_SHARD, or NULL */
	const char *listen;        /* --listen, else TLSWATCH_LISTEN, or NULL */
	int check;
	int verbose;
};

/* 0: go on; otherwise the exit status + 1 (help and version exit 0). */
static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "shard", required_argument, NULL, 'S' },
		{ "listen", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->path = DEFAULT_CONFIG;
	/* replicas of one image or template unit: no per-shard file */
	if ((o->shard = getenv("TLSWATCH_SHARD")) != NULL && *o->shard == '\0')
		o->shard = NULL;
	/* likewise: instances on one host, each its own port */
	if ((o->listen = getenv("TLSWATCH_LISTEN")) != NULL && *o->listen == '\0')
		o->listen = NULL;
	while ((ch = getopt_long(argc, argv, "c:tvVhs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->path = optarg;
			break;
		case 't':
			o->check = 1;
			break;
		case 's':
			if (*optarg == '\0') {
				fprintf(stderr, "tlswatchd: --state-dir must not be empty\n");
				return 2;
			}
			o->state_dir = optarg;
			break;
		case 'S':
			o->shard = optarg;
			break;
		case 'L':
			o->listen = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'V':
			printf("tlswatchd %s (GnuTLS %s, %s)\n", PACKAGE_VERSION, tls_library_version(),
			    malloc_name());
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* -t: the configuration, with everything it names loaded and checked, and
 * the listen addresses; no scheduler is built. */
static int
check_config(const struct conf *c)
{
	if (check_listeners(c) == -1)
		return 1;
	printf("%s: configuration OK (%zu target%s)\n", c->path, c->ntargets,
	    c->ntargets == 1 ? "" : "s");
	return 0;
}

/* Everything is loaded and bound before anything runs: the daemon never
 * starts half-configured. 0, or -1 (reported). */
static int
start(struct daemon *d)
{
	char *err = NULL;
	sigset_t mask;
	size_t mine;

	if (tls_init(&err) == -1 || (d->loop = loop_new()) == NULL ||
	    (d->resolver = resolver_new(d->loop, &err)) == NULL) {
		if (err)
			print_errors(err);
		else
			log_warn("event loop");
		free(err);
		return -1;
	}
	if (apply_dnssec(d, d->conf, NULL) == -1)
		return -1;
	tlsa_init(d->resolver);
	d->sched = sched_new(d->loop, d->resolver, d->conf);
	d->tfiles = tfiles_new(d->loop, d->conf, NULL);
	{
		size_t n;
		const struct conf_target *const *ts = tfiles_targets(d->tfiles, &n);

		sched_set_file_targets(d->sched, ts, n);
	}
	/* Two workers: a bcrypt takes tens of ms of CPU, and two keep checks
	 * moving while one client guesses, without taking every core. */
	if ((d->workers = work_pool_new(d->loop, 2, "tlswatchd-work", &err)) == NULL) {
		print_errors(err);
		free(err);
		return -1;
	}
	/* Scrapes render on their own two: a render waits while its client
	 * is slow to read, and must not hold up password checks. Two, as
	 * Prometheus pairs scrape at once. */
	if ((d->renders = work_pool_new(d->loop, 2, "tlswatch-scrape", &err)) == NULL) {
		print_errors(err);
		free(err);
		return -1;
	}
	/* A render is seconds of CPU at a million targets, and a probe's
	 * timing is what the daemon reports: with two cores, the loop comes
	 * first and a scrape takes what is left. */
	work_pool_set_nice(d->renders, RENDER_NICE);
	/* bound once, here, as a reload binds new addresses */
	d->listeners = listeners_new(d->loop, d->workers, render_cb, d);
	listeners_set_pages(d->listeners, status_handle, &d->pages);
	listeners_set_scrape(d->listeners, &scrape_ops, d, d->renders);
	d->probeep = probeep_new(d->loop);
	probeep_set(d->probeep, d->sched, d->conf);
	listeners_set_async(d->listeners, "/probe", probeep_handle, d->probeep);
	d->pages.sched = d->sched;
	d->pages.conf = d->conf;
	if (listeners_apply(d->listeners, d->conf, &err) == -1) {
		print_errors(err);
		free(err);
		return -1;
	}
	/* Stored results load on the store's thread once the loop runs, while it serves
	 * and probes (a target's own before its first new result); a state_dir
	 * that cannot be read or written is logged and retried, never fatal. */
	if ((d->store = store_new(d->loop, d->conf->state_dir, d->conf->state_refresh_ms,
	    &err)) == NULL) {
		print_errors(err);
		free(err);
		return -1;
	}
	sched_set_store(d->sched, d->store);
	d->pages.state_dir = store_dir(d->store);
	/* Revocation data, renewal information and caIssuers certificates,
	 * cached in state_dir/fetch across restarts. */
	{
		struct fetch_settings fs;
		struct cadata_settings cs;
		char *dir = xasprintf("%s/fetch", store_dir(d->store));

		fetch_settings_of(d->conf, &fs, &cs);
		d->fetch = fetch_new(d->loop, d->workers, dir, &fs);
		free(dir);
		cadata_setup(d->loop, d->workers, d->fetch, &cs);
		sched_set_fetch(d->sched, d->fetch);
		sts_set_fetch(d->fetch);
	}
	loop_set_prepare(d->loop, prepare_cb, d);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (d->sigwatch.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return -1;
	}
	d->sigwatch.cb = signal_cb;
	if (loop_watch_add(d->loop, &d->sigwatch, EPOLLIN) == -1) {
		log_warn("signalfd: epoll");
		return -1;
	}
	/* A peer that closes mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	mine = sched_count(d->sched);
	if (d->conf->shard_n > 1)
		log_info("tlswatchd %s started: shard %u/%u, %zu of %zu targets, concurrency %u (%s)",
		    PACKAGE_VERSION, d->conf->shard_k, d->conf->shard_n, mine, d->conf->ntargets,
		    d->conf->concurrency, malloc_name());
	else
		log_info("tlswatchd %s started: %zu target%s, concurrency %u (%s)", PACKAGE_VERSION,
		    mine, mine == 1 ? "" : "s", d->conf->concurrency, malloc_name());
	store_schedule_cleanup(d->store, d->loop, d->conf);
	sched_start(d->sched);
	tfiles_watch(d->tfiles, tfiles_changed, d);
	d->reload_ok = 1;
	d->reload_time = wall_now();
	loop_timer_at(d->loop, &d->status, mono_ms() + STATUS_PERIOD_MS);
	if ((d->watchdog_ms = notify_watchdog_usec() / 2000) > 0) {
		log_info("systemd watchdog: pinging every %llu ms",
		    (unsigned long long)d->watchdog_ms);
		loop_timer_at(d->loop, &d->watchdog, mono_ms() + d->watchdog_ms);
	}
	/* Config loaded, trust stores read, listeners bound: ready. */
	status_update(d, 1);
	return 0;
}

int
main(int argc, char **argv)
{
	struct daemon d = { .sigwatch = { .fd = -1 } };
	struct options o = { NULL, NULL, NULL, NULL, 0, 0 };
	char *err = NULL;
	const char *msg;
	int rc, status = 1;

	if ((rc = parse_options(argc, argv, &o)) != 0)
		return rc - 1;
	if (o.shard != NULL && (msg = conf_parse_shard(o.shard, &d.shard_k, &d.shard_n)) != NULL) {
		fprintf(stderr, "tlswatchd: %s \"%s\": %s\n", getenv("TLSWATCH_SHARD") == o.shard ?
		    "TLSWATCH_SHARD" : "--shard", o.shard, msg);
		return 2;
	}
	log_init("tlswatchd", o.verbose);
	d.path = o.path;
	loop_timer_init(&d.status, status_cb);
	loop_timer_init(&d.watchdog, watchdog_cb);

	d.conf = conf_load(o.path, &err);
	if (d.conf == NULL) {
		print_errors(err);
		free(err);
		return 1;
	}
	if (o.state_dir != NULL) {
		free(d.conf->state_dir);
		d.conf->state_dir = xstrdup(o.state_dir);
		d.state_dir_override = o.state_dir;
	}
	if (d.shard_n > 0) {
		d.conf->shard_k = d.shard_k;
		d.conf->shard_n = d.shard_n;
	}
	if (o.listen != NULL) {
		d.listen = o.listen;
		d.listen_origin = getenv("TLSWATCH_LISTEN") == o.listen ? "TLSWATCH_LISTEN" :
		    "--listen";
		if ((err = conf_override_listen(d.conf, d.listen, d.listen_origin)) != NULL) {
			fprintf(stderr, "tlswatchd: %s %s\n", d.listen_origin, err);
			free(err);
			conf_free(d.conf);
			return 2;
		}
	}
	/* libconfig's parse tree is gone, but malloc keeps its pages. */
	malloc_release();
	if (o.check) {
		status = check_config(d.conf);
	} else if (start(&d) == 0) {
		status = loop_run(d.loop) == 0 ? 0 : 1;
		notify_stopping();
	}
	daemon_free(&d);
	return status;
}
