/*
 * writer.c - atomic whole-file writes on a thread of their own.
 *
 * At 100,000 targets refreshed every 15 minutes the state files alone are
 * about 110 writes a second, each with two fsyncs: far too slow for the
 * event loop. The loop hands each file's bytes here and goes on; one
 * worker thread writes them in the order given, so a certificate queued
 * before the state file that names it is on disk first. A file whose
 * write is in flight keeps only its newest content waiting: a burst of
 * changes costs two writes, not one per change. Outcomes come back on the
 * loop, where errors are counted and logged once while they last: once
 * for the directory (read-only, full, gone), once per file otherwise.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/util.h"
#include "core/work.h"
#include "state/writer.h"

struct wfile;

struct wjob {
	struct work_job job;
	struct writer *w;
	struct wfile *f;
	char *data;
	size_t len;
	writer_done_fn done;
	void *arg;
	/* set on the worker thread */
	int err;                 /* errno of the failure, 0: written */
	const char *what;        /* the step that failed */
	char *where;             /* the path it failed on (allocated) */
};

/* One file with a write in flight, waiting, or failing. */
struct wfile {
	char *dir;
	char *name;
	char *path;
	struct wfile *hnext;
	struct wjob *inflight;
	struct wjob *next;       /* the newest content, waiting for inflight */
	int failing;             /* its last write failed; logged */
};

struct writer {
	struct work_pool *pool;
	char *what;
	struct wfile **tab;
	size_t nbuckets;
	size_t nfiles;
	size_t pending;          /* puts not settled */
	size_t queued;           /* their bytes */
	int failing;             /* a directory-wide failure, logged */
	uint64_t errors;
};

/* ------------------------------------------------------------ the thread */

/* core/file's atomic write, making the directory on the first write (and
 * again if it was removed). -1 with errno, *what the step and *where the
 * path (allocated). */
static int
write_atomic(const char *dir, const char *name, const char *data, size_t len,
    const char **what, char **where)
{
	int saved;

	if (file_write_atomic(dir, name, data, len, what) == 0)
		return 0;
	if (errno == ENOENT && strcmp(*what, "create") == 0) {
		if (file_mkdir_p(dir) == -1) {
			saved = errno;
			*where = xstrdup(dir);
			errno = saved;
			return -1;
		}
		if (file_write_atomic(dir, name, data, len, what) == 0)
			return 0;
	}
	saved = errno;
	*where = xasprintf("%s/%s", dir, name);
	errno = saved;
	return -1;
}

static void
job_run(struct work_job *j)
{
	struct wjob *wj = container_of(j, struct wjob, job);

	wj->err = 0;
	if (write_atomic(wj->f->dir, wj->f->name, wj->data, wj->len, &wj->what,
	    &wj->where) == -1)
		wj->err = errno ? errno : EIO;
}

/* ------------------------------------------------------------ the loop */

static size_t
bucket(const struct writer *w, const char *path)
{
	return (size_t)(hash64(path, strlen(path)) & (w->nbuckets - 1));
}

static void
grow(struct writer *w)
{
	size_t n = w->nbuckets ? w->nbuckets * 2 : 64;
	struct wfile **tab = xcalloc(n, sizeof(*tab));

	for (size_t i = 0; i < w->nbuckets; i++) {
		struct wfile *f, *next;

		for (f = w->tab[i]; f; f = next) {
			size_t b = (size_t)(hash64(f->path, strlen(f->path)) & (n - 1));

			next = f->hnext;
			f->hnext = tab[b];
			tab[b] = f;
		}
	}
	free(w->tab);
	w->tab = tab;
	w->nbuckets = n;
}

static struct wfile *
file_get(struct writer *w, const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct wfile *f;
	size_t b;

	if (w->nbuckets) {
		for (f = w->tab[bucket(w, path)]; f; f = f->hnext) {
			if (strcmp(f->path, path) == 0) {
				free(path);
				return f;
			}
		}
	}
	if (w->nfiles >= w->nbuckets)
		grow(w);
	f = xcalloc(1, sizeof(*f));
	f->dir = xstrdup(dir);
	f->name = xstrdup(name);
	f->path = path;
	b = bucket(w, path);
	f->hnext = w->tab[b];
	w->tab[b] = f;
	w->nfiles++;
	return f;
}

/* Forget a file with nothing in flight, waiting or failing. */
static void
file_settle(struct writer *w, struct wfile *f)
{
	struct wfile **pp;

	if (f->inflight || f->next || f->failing)
		return;
	for (pp = &w->tab[bucket(w, f->path)]; *pp != f; pp = &(*pp)->hnext)
		;
	*pp = f->hnext;
	w->nfiles--;
	free(f->dir);
	free(f->name);
	free(f->path);
	free(f);
}

static void
job_free(struct wjob *wj)
{
	free(wj->data);
	free(wj->where);
	free(wj);
}

static void
job_settle(struct writer *w, struct wjob *wj, enum writer_status st)
{
	writer_done_fn done = wj->done;
	void *arg = wj->arg;

	w->queued -= wj->len;
	job_free(wj);
	w->pending--;
	if (done)
		done(arg, st);
}

/* Errors that concern the whole directory, not one file. */
static int
dir_wide(int e)
{
	return e == EROFS || e == ENOSPC || e == EDQUOT || e == EACCES || e == EPERM ||
	    e == ENOENT || e == EIO;
}

static void job_done(struct work_job *j);

static void
job_submit(struct writer *w, struct wjob *wj)
{
	wj->f->inflight = wj;
	wj->job.run = job_run;
	wj->job.done = job_done;
	work_submit(w->pool, &wj->job);
}

static void
job_done(struct work_job *j)
{
	struct wjob *wj = container_of(j, struct wjob, job);
	struct writer *w = wj->w;
	struct wfile *f = wj->f;
	enum writer_status st = WRITER_OK;

	f->inflight = NULL;
	if (wj->err != 0) {
		int *flag = dir_wide(wj->err) ? &w->failing : &f->failing;
		const char *where = wj->where ? wj->where : f->path;

		w->errors++;
		errno = wj->err;
		if (!*flag)
			log_warn("%s: cannot %s %s (retried at every change; "
			    "until it works, further errors are counted, not logged)", w->what,
			    wj->what, where);
		else
			log_debug("%s: cannot %s %s: %s", w->what, wj->what, where,
			    strerror(wj->err));
		*flag = 1;
		st = WRITER_FAILED;
	} else {
		if (w->failing)
			log_info("%s: writing works again", w->what);
		w->failing = 0;
		f->failing = 0;
	}
	job_settle(w, wj, st);
	if (f->next) {
		struct wjob *next = f->next;

		f->next = NULL;
		job_submit(w, next);
	} else {
		file_settle(w, f);
	}
}

struct writer *
writer_new(struct loop *l, const char *what, char **err)
{
	struct writer *w = xcalloc(1, sizeof(*w));

	/* one thread: writes in the order queued (see the top) */
	if ((w->pool = work_pool_new(l, 1, "tlswatch-write", err)) == NULL) {
		free(w);
		return NULL;
	}
	w->what = xstrdup(what);
	return w;
}

int
writer_put(struct writer *w, const char *dir, const char *name, char *data, size_t len,
    writer_done_fn done, void *arg)
{
	struct wjob *wj;

	if (len > WRITER_MAX_QUEUED - w->queued) {
		log_debug("%s: %zu bytes queued already; %s/%s waits for its next write",
		    w->what, w->queued, dir, name);
		free(data);
		return -1;
	}
	wj = xcalloc(1, sizeof(*wj));
	wj->w = w;
	wj->f = file_get(w, dir, name);
	wj->data = data;
	wj->len = len;
	wj->done = done;
	wj->arg = arg;
	w->pending++;
	w->queued += len;
	if (wj->f->inflight == NULL) {
		job_submit(w, wj);
		return 0;
	}
	if (wj->f->next)
		job_settle(w, wj->f->next, WRITER_SUPERSEDED);
	wj->f->next = wj;
	return 0;
}

void
writer_drain(struct writer *w)
{
	/* a completion may queue a file's waiting content: drain until none */
	while (w->pending > 0 && work_pending(w->pool) > 0)
		work_drain(w->pool);
}

uint64_t
writer_errors(const struct writer *w)
{
	return w ? w->errors : 0;
}

size_t
writer_pending(const struct writer *w)
{
	return w->pending;
}

size_t
writer_queued_bytes(const struct writer *w)
{
	return w->queued;
}

void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_drain(w);
	work_pool_free(w->pool);
	for (size_t i = 0; i < w->nbuckets; i++) {
		struct wfile *f, *next;

		for (f = w->tab[i]; f; f = next) {
			next = f->hnext;
			free(f->dir);
			free(f->name);
			free(f->path);
			free(f);
		}
	}
	free(w->tab);
	free(w->what);
	free(w);
}
