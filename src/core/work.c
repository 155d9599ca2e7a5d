/* work.c - a small pool of worker threads fed by a FIFO queue; finished
 * jobs are handed back to the event loop through an eventfd. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"

struct work_pool {
	struct loop *loop;
	struct loop_watch watch;        /* the eventfd: finished jobs wait */
	pthread_mutex_t lock;
	pthread_cond_t wake;            /* a job was queued, or stopping */
	pthread_cond_t idle;            /* a job finished */
	struct work_job *head, *tail;   /* queued, FIFO */
	struct work_job *finished;      /* run, done not called yet (LIFO) */
	struct work_job *reported;      /* progress to call (LIFO) */
	size_t pending;                 /* submitted, done not called yet; loop thread only */
	size_t running;                 /* queued or running; under lock */
	int stopping;
	int nice;                       /* added to a worker's nice; under lock */
	pthread_t *threads;
	unsigned nthreads;
};

/* Wake the loop; under lock. An eventfd counter only saturates near
 * 2^64: this cannot fail but for a closed descriptor, a bug of ours. */
static void
wake_loop(struct work_pool *p)
{
	uint64_t one = 1;

	if (write(p->watch.fd, &one, sizeof(one)) != sizeof(one))
		log_warn("work: eventfd");
}

/* A thread's nice, on Linux its own: the process's (as started, which the
 * thread inherited) plus inc, within what the kernel allows. Raising it
 * needs no privilege; a failure only leaves the thread as it was. */
static void
worker_nice(int base, int inc)
{
	int want = base + inc;

	if (want > 19)
		want = 19;
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), want) == -1)
		log_debug("work: setpriority: %s", strerror(errno));
}

static void *
worker(void *arg)
{
	struct work_pool *p = arg;
	int base, applied = 0;

	errno = 0;
	base = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (base == -1 && errno != 0)
		base = 0;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct work_job *j;
		int want;

		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->head == NULL)
			break;          /* stopping, and nothing left to run */
		j = p->head;
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		want = p->nice;
		pthread_mutex_unlock(&p->lock);

		if (want != applied) {
			worker_nice(base, want);
			applied = want;
		}

		j->run(j);

		pthread_mutex_lock(&p->lock);
		j->next = p->finished;
		p->finished = j;
		p->running--;
		pthread_cond_broadcast(&p->idle);
		wake_loop(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void
work_progress(struct work_pool *p, struct work_job *j)
{
	pthread_mutex_lock(&p->lock);
	if (!j->reported) {
		j->reported = 1;
		j->pnext = p->reported;
		p->reported = j;
		wake_loop(p);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Call progress for every job that reported, then done for every
 * finished job, oldest first: a job's last progress comes before its
 * done. Loop thread only. */
static void
complete(struct work_pool *p)
{
	struct work_job *list, *rev = NULL, *prog;

	pthread_mutex_lock(&p->lock);
	list = p->finished;
	p->finished = NULL;
	prog = p->reported;
	p->reported = NULL;
	pthread_mutex_unlock(&p->lock);
	/* A job leaves the list (reported = 0, and may report again, which
	 * takes pnext) only once its successor is read; progress may not
	 * free the job (only done does). */
	while (prog) {
		struct work_job *n;

		pthread_mutex_lock(&p->lock);
		n = prog->pnext;
		prog->reported = 0;
		pthread_mutex_unlock(&p->lock);
		prog->progress(prog);
		prog = n;
	}
	while (list) {
		struct work_job *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct work_job *n = rev->next;
		p->pending--;
		rev->done(rev);
		rev = n;
	}
}

static void
on_event(struct loop_watch *w, uint32_t events)
{
	struct work_pool *p = container_of(w, struct work_pool, watch);
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("work: eventfd");
	complete(p);
}

struct work_pool *
work_pool_new(struct loop *l, unsigned threads, const char *name, char **err)
{
	struct work_pool *p = xcalloc(1, sizeof(*p));
	sigset_t all, old;

	p->loop = l;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->watch.cb = on_event;
	p->watch.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->watch.fd == -1 || loop_watch_add(l, &p->watch, EPOLLIN) == -1) {
		*err = xasprintf("work: eventfd: %s", strerror(errno));
		if (p->watch.fd != -1)
			close(p->watch.fd);
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->wake);
		pthread_cond_destroy(&p->idle);
		free(p);
		return NULL;
	}
	if (threads == 0)
		threads = 1;
	p->threads = xcalloc(threads, sizeof(*p->threads));
	/* threads inherit the mask: signals stay for the loop's signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; p->nthreads < threads; p->nthreads++) {
		int e = pthread_create(&p->threads[p->nthreads], NULL, worker, p);
		if (e != 0) {
			*err = xasprintf("work: cannot start a thread: %s", strerror(e));
			break;
		}
		if (name) {
			/* the kernel keeps 15 bytes: a longer name is refused
			 * (ERANGE), so cut it rather than lose it */
			char cut[16];

			snprintf(cut, sizeof(cut), "%s", name);
			pthread_setname_np(p->threads[p->nthreads], cut);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nthreads < threads) {
		work_pool_free(p);
		return NULL;
	}
	return p;
}

void
work_pool_set_nice(struct work_pool *p, int inc)
{
	pthread_mutex_lock(&p->lock);
	p->nice = inc;
	pthread_mutex_unlock(&p->lock);
}

static void
submit(struct work_pool *p, struct work_job *j, int first)
{
	j->next = NULL;
	j->reported = 0;
	p->pending++;
	pthread_mutex_lock(&p->lock);
	if (first) {
		j->next = p->head;
		p->head = j;
		if (p->tail == NULL)
			p->tail = j;
	} else {
		if (p->tail)
			p->tail->next = j;
		else
			p->head = j;
		p->tail = j;
	}
	p->running++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void
work_submit(struct work_pool *p, struct work_job *j)
{
	submit(p, j, 0);
}

void
work_submit_first(struct work_pool *p, struct work_job *j)
{
	submit(p, j, 1);
}

size_t
work_pending(const struct work_pool *p)
{
	return p->pending;
}

void
work_drain(struct work_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->running > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	complete(p);
}

void
work_pool_free(struct work_pool *p)
{
	if (p == NULL)
		return;
	work_drain(p);
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	loop_watch_del(p->loop, &p->watch);
	close(p->watch.fd);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->idle);
	free(p->threads);
	free(p);
}
