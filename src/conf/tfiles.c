/*
 * tfiles.c - target_files: targets from Prometheus file_sd documents
 * (filesd.c parses them), built with the configuration's modules.
 *
 * The directories of the patterns are watched with inotify; any change
 * there rescans every pattern a moment later (a writer's several events
 * become one rescan), and every 5 minutes a rescan runs anyway, as
 * Prometheus's file_sd refresh_interval does (a directory that did not
 * exist at start, a lost event). A file whose bytes did not change keeps
 * its targets as they are. A broken file is logged once with its file and
 * position and keeps its previous targets (also across a reload of the
 * configuration: its last good bytes are kept); a file that vanished takes
 * its targets with it. Reading is blocking but bounded (16 MiB a file, 64
 * patterns): the files are local and small, as Prometheus's are.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "conf/filesd.h"
#include "conf/ptarget.h"
#include "conf/tfiles.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pin.h"
#include "core/util.h"
#include "serve/metrics.h"

#define TFILES_SETTLE_MS 200          /* after an event, before the rescan */
#define TFILES_REFRESH_MS (5 * 60 * 1000)
#define TFILES_MAX_FILES 10000        /* files matched, all patterns together */

struct tfile {
	char *path;
	char *data;                 /* the last good bytes; NULL: never good */
	size_t len;
	struct conf_target **ts;    /* built from data */
	size_t n;
	int ok;                     /* the last read parsed */
	char *error;                /* the last error logged (not again) */
	int moved;                  /* scan: taken over by the new list */
};

struct tfiles {
	struct loop *loop;
	const struct conf *conf;
	struct tfile *files;        /* sorted by path */
	size_t nfiles;
	const struct conf_target **flat;
	size_t nflat;
	struct conf_target **dead;  /* replaced: freed after the callback */
	size_t ndead;
	int ifd;                    /* inotify, or -1 */
	struct loop_watch watch;
	struct loop_timer settle;
	struct loop_timer refresh;
	tfiles_fn fn;
	void *arg;
};

static void
target_free_now(void *p)
{
	conf_target_fini(p);
	free(p);
}

/* A scrape rendering on a worker may be reading t (core/pin.h): freed
 * once it has ended. */
static void
target_free(struct conf_target *t)
{
	pin_free(target_free_now, t);
}

static void
dead_add(struct tfiles *tf, struct conf_target *t)
{
	tf->dead = xreallocarray(tf->dead, tf->ndead + 1, sizeof(*tf->dead));
	tf->dead[tf->ndead++] = t;
}

static void
dead_free(struct tfiles *tf)
{
	for (size_t i = 0; i < tf->ndead; i++)
		target_free(tf->dead[i]);
	free(tf->dead);
	tf->dead = NULL;
	tf->ndead = 0;
}

static void
tfile_fini(struct tfile *f)
{
	free(f->path);
	free(f->data);
	for (size_t i = 0; i < f->n; i++)
		target_free(f->ts[i]);
	free(f->ts);
	free(f->error);
}

/* The targets data names, as the scheduler takes them; NULL with *errors
 * (every problem, one a line, each naming the file). */
static struct conf_target **
build(const struct conf *c, const char *path, const char *data, size_t len, size_t *n,
    char **errors)
{
	enum filesd_format fmt;
	struct filesd *fd;
	struct conf_target **ts;
	struct buf eb;

	*n = 0;
	if (filesd_format_of(path, &fmt) != 0) {
		*errors = xasprintf("%s: not a .json, .yml or .yaml file", path);
		return NULL;
	}
	if ((fd = filesd_parse(path, fmt, data, len, errors)) == NULL)
		return NULL;
	ts = xcalloc(fd->ntargets ? fd->ntargets : 1, sizeof(*ts));
	buf_init(&eb);
	for (size_t i = 0; i < fd->ntargets; i++) {
		const struct filesd_target *ft = &fd->targets[i];
		const struct conf_module *m = conf_module_find(c, ft->module);
		const char *msg;
		struct conf_target *t;
		char where[64];

		if (ft->line > 0)
			snprintf(where, sizeof(where), ":%d:%d", ft->line, ft->column);
		else
			where[0] = '\0';
		if (m == NULL) {
			buf_printf(&eb, "%s%s%s: [%zu].targets[%zu]: unknown module \"", eb.len ? "\n" : "",
			    path, where, ft->group, ft->index);
			term_escape(&eb, ft->module);
			buf_puts(&eb, "\" (not in the configuration's modules)");
			continue;
		}
		t = xcalloc(1, sizeof(*t));
		if ((msg = ptarget_conf(&ft->addr, ft->target, m, NULL, ft->labels, ft->nlabels,
		    t)) != NULL) {
			buf_printf(&eb, "%s%s%s: [%zu].targets[%zu]: %s", eb.len ? "\n" : "", path,
			    where, ft->group, ft->index, msg);
			free(t);
			continue;
		}
		ts[(*n)++] = t;
	}
	filesd_free(fd);
	if (eb.len > 0) {
		for (size_t i = 0; i < *n; i++)
			target_free(ts[i]);
		free(ts);
		*n = 0;
		*errors = buf_steal(&eb);
		return NULL;
	}
	buf_free(&eb);
	return ts;
}

/* Give f the targets ts[0..n): an entry equal to one f had (the same
 * name, address, labels and settings) keeps that one's pointer, so the
 * scheduler keeps the target as it runs; what f had and no longer has
 * goes to the dead list. */
static void
tfile_replace(struct tfiles *tf, struct tfile *f, struct conf_target **ts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < f->n; k++) {
			if (f->ts[k] == NULL || strcmp(f->ts[k]->name, ts[i]->name) != 0 ||
			    !conf_target_equal(f->ts[k], ts[i]) || f->ts[k]->trust != ts[i]->trust ||
			    f->ts[k]->tls.creds != ts[i]->tls.creds)
				continue;
			target_free(ts[i]);
			ts[i] = f->ts[k];
			f->ts[k] = NULL;
			break;
		}
	}
	for (size_t k = 0; k < f->n; k++)
		if (f->ts[k] != NULL)
			dead_add(tf, f->ts[k]);
	free(f->ts);
	f->ts = ts;
	f->n = n;
}

/* Log a file's error once (until it changes or the file is good again). */
static void
tfile_error(struct tfile *f, char *err, int had_good)
{
	if (f->error == NULL || strcmp(f->error, err) != 0) {
		const char *p = err, *nl;

		while (p && *p) {
			nl = strchr(p, '\n');
			log_warnx("target_files: %.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
			p = nl ? nl + 1 : NULL;
		}
		log_warnx("target_files: %s %s", f->path, had_good ?
		    "keeps its previous targets until it is fixed" : "gives no targets until it is fixed");
		free(f->error);
		f->error = err;
	} else {
		free(err);
	}
	f->ok = 0;
}

/* Read f again; 1 when its targets changed. prev: the same file of the
 * tfiles before a reload (its last good bytes), or NULL. */
static int
tfile_load(struct tfiles *tf, struct tfile *f, const struct tfile *prev)
{
	char *err = NULL, *data;
	size_t len = 0, n;
	struct conf_target **ts;
	int replaced = 0;

	data = filesd_read(f->path, &len, &err);
	if (data != NULL && f->data != NULL && len == f->len && memcmp(data, f->data, len) == 0) {
		free(data);
		if (!f->ok)
			log_info("target_files: %s is as it was when last good", f->path);
		free(f->error);
		f->error = NULL;
		f->ok = 1;
		return 0;
	}
	if (data != NULL && (ts = build(tf->conf, f->path, data, len, &n, &err)) != NULL) {
		free(f->data);
		f->data = data;
		f->len = len;
		free(f->error);
		f->error = NULL;
		f->ok = 1;
		tfile_replace(tf, f, ts, n);
		return 1;
	}
	free(data);
	/* broken: the last good bytes, built with this configuration */
	if (f->data == NULL && prev != NULL && prev->data != NULL) {
		char *perr = NULL;

		if ((ts = build(tf->conf, f->path, prev->data, prev->len, &n, &perr)) != NULL) {
			f->data = xmalloc(prev->len + 1);
			memcpy(f->data, prev->data, prev->len + 1);
			f->len = prev->len;
			tfile_replace(tf, f, ts, n);
			replaced = 1;
		}
		free(perr);
	}
	tfile_error(f, err, f->data != NULL);
	return replaced;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct tfile *
find_file(const struct tfiles *tf, const char *path)
{
	for (size_t lo = 0, hi = tf ? tf->nfiles : 0; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(path, tf->files[mid].path);

		if (r == 0)
			return &tf->files[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Every path the patterns match now, sorted, each once. */
static char **
match(const struct conf *c, size_t *n)
{
	char **paths = NULL;
	size_t np = 0, k = 0;

	for (size_t i = 0; i < c->ntarget_files; i++) {
		glob_t g;

		if (glob(c->target_files[i], GLOB_NOSORT, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc && np < TFILES_MAX_FILES; j++) {
			enum filesd_format f;

			if (filesd_format_of(g.gl_pathv[j], &f) != 0)
				continue;
			paths = xreallocarray(paths, np + 1, sizeof(*paths));
			paths[np++] = xstrdup(g.gl_pathv[j]);
		}
		globfree(&g);
	}
	if (np > 0)
		qsort(paths, np, sizeof(*paths), cmp_path);
	for (size_t i = 0; i < np; i++) {
		if (k > 0 && strcmp(paths[k - 1], paths[i]) == 0) {
			free(paths[i]);
			continue;
		}
		paths[k++] = paths[i];
	}
	*n = k;
	return paths;
}

static void
flatten(struct tfiles *tf)
{
	size_t n = 0;

	for (size_t i = 0; i < tf->nfiles; i++)
		n += tf->files[i].n;
	free(tf->flat);
	tf->flat = xcalloc(n ? n : 1, sizeof(*tf->flat));
	tf->nflat = 0;
	for (size_t i = 0; i < tf->nfiles; i++)
		for (size_t k = 0; k < tf->files[i].n; k++)
			tf->flat[tf->nflat++] = tf->files[i].ts[k];
}

/* Match the patterns again and read every file; 1 when the targets
 * changed. prev as for tfile_load. */
static int
scan(struct tfiles *tf, const struct tfiles *prev)
{
	size_t np, nf = 0;
	char **paths = match(tf->conf, &np);
	struct tfile *files = xcalloc(np ? np : 1, sizeof(*files));
	int changed = 0;

	for (size_t i = 0; i < np; i++) {
		struct tfile *f = &files[nf++];
		struct tfile *old = (struct tfile *)find_file(tf, paths[i]);

		if (old != NULL) {
			/* the old entry keeps its path for the searches to come */
			*f = *old;
			f->path = paths[i];
			old->moved = 1;
		} else {
			f->path = paths[i];
			changed = 1;
		}
		changed |= tfile_load(tf, f, find_file(prev, f->path));
	}
	free(paths);
	/* the files no pattern matches any more: their targets go */
	for (size_t i = 0; i < tf->nfiles; i++) {
		struct tfile *f = &tf->files[i];

		if (f->moved) {
			free(f->path);
			continue;
		}
		log_info("target_files: %s is gone, and so %s its %zu target%s", f->path,
		    f->n == 1 ? "is" : "are", f->n, f->n == 1 ? "" : "s");
		for (size_t k = 0; k < f->n; k++)
			dead_add(tf, f->ts[k]);
		f->n = 0;
		changed = 1;
		tfile_fini(f);
	}
	free(tf->files);
	tf->files = files;
	tf->nfiles = nf;
	flatten(tf);
	return changed;
}

static void
rescan(struct tfiles *tf)
{
	if (scan(tf, NULL) && tf->fn != NULL)
		tf->fn(tf->arg);
	dead_free(tf);
}

static void
settle_cb(struct loop_timer *t)
{
	rescan(container_of(t, struct tfiles, settle));
}

static void
refresh_cb(struct loop_timer *t)
{
	struct tfiles *tf = container_of(t, struct tfiles, refresh);

	loop_timer_at(tf->loop, &tf->refresh, loop_now(tf->loop) + TFILES_REFRESH_MS);
	rescan(tf);
}

static void
inotify_cb(struct loop_watch *w, uint32_t events)
{
	struct tfiles *tf = container_of(w, struct tfiles, watch);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)events;
	/* what changed does not matter: every pattern is matched again */
	while (read(w->fd, buf, sizeof(buf)) > 0)
		;
	if (!loop_timer_armed(&tf->settle))
		loop_timer_at(tf->loop, &tf->settle, loop_now(tf->loop) + TFILES_SETTLE_MS);
}

/* Watch the directory of every pattern (the directory itself: a file
 * written by rename, as generators do, is an event there). */
static void
watch_dirs(struct tfiles *tf)
{
	if ((tf->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("target_files: inotify (changes are seen every 5 minutes only)");
		return;
	}
	for (size_t i = 0; i < tf->conf->ntarget_files; i++) {
		char *dir = xstrdup(tf->conf->target_files[i]), *slash = strrchr(dir, '/');

		if (slash == dir)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		if (inotify_add_watch(tf->ifd, slash ? dir : ".", IN_CLOSE_WRITE | IN_MOVED_TO |
		    IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF |
		    IN_ATTRIB) == -1)
			log_warnx("target_files: cannot watch %s: %s (changes are seen every 5 "
			    "minutes only)", slash ? dir : ".", strerror(errno));
		free(dir);
	}
	tf->watch.fd = tf->ifd;
	tf->watch.cb = inotify_cb;
	if (loop_watch_add(tf->loop, &tf->watch, EPOLLIN) == -1) {
		log_warn("target_files: epoll");
		close(tf->ifd);
		tf->ifd = -1;
	}
}

struct tfiles *
tfiles_new(struct loop *l, const struct conf *c, const struct tfiles *prev)
{
	struct tfiles *tf = xcalloc(1, sizeof(*tf));

	tf->loop = l;
	tf->conf = c;
	tf->ifd = -1;
	loop_timer_init(&tf->settle, settle_cb);
	loop_timer_init(&tf->refresh, refresh_cb);
	(void)scan(tf, prev);
	dead_free(tf);
	return tf;
}

void
tfiles_watch(struct tfiles *tf, tfiles_fn fn, void *arg)
{
	tf->fn = fn;
	tf->arg = arg;
	if (tf->loop == NULL || tf->conf->ntarget_files == 0)
		return;
	watch_dirs(tf);
	loop_timer_at(tf->loop, &tf->refresh, loop_now(tf->loop) + TFILES_REFRESH_MS);
	/* what changed between the first read and now */
	loop_timer_at(tf->loop, &tf->settle, loop_now(tf->loop) + TFILES_SETTLE_MS);
}

void
tfiles_free(struct tfiles *tf)
{
	if (tf == NULL)
		return;
	if (tf->loop != NULL) {
		loop_timer_cancel(tf->loop, &tf->settle);
		loop_timer_cancel(tf->loop, &tf->refresh);
		if (tf->ifd != -1)
			loop_watch_del(tf->loop, &tf->watch);
	}
	if (tf->ifd != -1)
		close(tf->ifd);
	for (size_t i = 0; i < tf->nfiles; i++)
		tfile_fini(&tf->files[i]);
	free(tf->files);
	free(tf->flat);
	dead_free(tf);
	free(tf);
}

const struct conf_target *const *
tfiles_targets(const struct tfiles *tf, size_t *n)
{
	*n = tf ? tf->nflat : 0;
	return tf ? tf->flat : NULL;
}

size_t
tfiles_count(const struct tfiles *tf)
{
	return tf ? tf->nfiles : 0;
}

void
tfiles_render_metrics(struct buf *b, const struct tfiles *tf)
{
	if (tf == NULL || tf->conf->ntarget_files == 0)
		return;
	buf_puts(b, "# HELP tlswatch_target_file_last_load_successful Whether the last read of "
	    "a target_files file parsed (0: it keeps its previous targets).\n"
	    "# TYPE tlswatch_target_file_last_load_successful gauge\n");
	for (size_t i = 0; i < tf->nfiles; i++) {
		buf_puts(b, "tlswatch_target_file_last_load_successful{file=\"");
		metrics_escape_label(b, tf->files[i].path);
		buf_printf(b, "\"} %d\n", tf->files[i].ok);
	}
	buf_puts(b, "# HELP tlswatch_target_file_targets Targets a target_files file gives now.\n"
	    "# TYPE tlswatch_target_file_targets gauge\n");
	for (size_t i = 0; i < tf->nfiles; i++) {
		buf_puts(b, "tlswatch_target_file_targets{file=\"");
		metrics_escape_label(b, tf->files[i].path);
		buf_printf(b, "\"} %zu\n", tf->files[i].n);
	}
}
