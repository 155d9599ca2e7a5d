/* test_work.c - the worker pool: jobs run off the loop thread, in order
 * of submission per worker (or first, when asked), and every completion
 * comes back on the loop. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"

struct job {
	struct work_job w;
	int id;
	pthread_t ran_on;
	int ran;
	int done;
	int *order;             /* where done writes its id */
	size_t *norder;
	unsigned sleep_us;
};

static pthread_t loop_thread;

static void
job_run(struct work_job *w)
{
	struct job *j = container_of(w, struct job, w);

	if (j->sleep_us)
		usleep(j->sleep_us);
	j->ran_on = pthread_self();
	j->ran = 1;
}

static void
job_done(struct work_job *w)
{
	struct job *j = container_of(w, struct job, w);

	/* completions arrive on the thread that runs the loop, after run */
	assert_true(pthread_equal(pthread_self(), loop_thread));
	assert_int_equal(j->ran, 1);
	j->done++;
	j->order[(*j->norder)++] = j->id;
}

static void
test_run_and_complete_on_loop(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct work_pool *p;
	struct job jobs[64];
	int order[64];
	size_t norder = 0;
	uint64_t deadline;

	(void)state;
	loop_thread = pthread_self();
	p = work_pool_new(l, 2, "test-work", &err);
	assert_non_null(p);
	for (int i = 0; i < 64; i++) {
		jobs[i] = (struct job){ .w = { .run = job_run, .done = job_done }, .id = i,
			.order = order, .norder = &norder, .sleep_us = (unsigned)(i % 3) * 200 };
		work_submit(p, &jobs[i].w);
	}
	assert_int_equal(work_pending(p), 64);
	/* the loop, not a drain, delivers them: bounded, or the test fails */
	deadline = mono_ms() + 10000;
	while (work_pending(p) > 0 && mono_ms() < deadline)
		loop_run_once(l, 100);
	assert_int_equal(work_pending(p), 0);
	assert_int_equal(norder, 64);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(jobs[i].done, 1);
		assert_false(pthread_equal(jobs[i].ran_on, loop_thread));
	}
	work_pool_free(p);
	loop_free(l);
}

static void
test_one_worker_keeps_order(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct work_pool *p;
	struct job jobs[32];
	int order[32];
	size_t norder = 0;

	(void)state;
	loop_thread = pthread_self();
	p = work_pool_new(l, 1, "test-work", &err);
	assert_non_null(p);
	for (int i = 0; i < 32; i++) {
		jobs[i] = (struct job){ .w = { .run = job_run, .done = job_done }, .id = i,
			.order = order, .norder = &norder, .sleep_us = (unsigned)(31 - i) * 50 };
		work_submit(p, &jobs[i].w);
	}
	work_drain(p);
	assert_int_equal(work_pending(p), 0);
	assert_int_equal(norder, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(order[i], i);
	work_pool_free(p);
	loop_free(l);
}

/* Freeing drains: nothing submitted is lost, every done is called once. */
static void
test_free_drains(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct work_pool *p;
	struct job jobs[8];
	int order[8];
	size_t norder = 0;

	(void)state;
	loop_thread = pthread_self();
	p = work_pool_new(l, 3, NULL, &err);
	assert_non_null(p);
	for (int i = 0; i < 8; i++) {
		jobs[i] = (struct job){ .w = { .run = job_run, .done = job_done }, .id = i,
			.order = order, .norder = &norder, .sleep_us = 2000 };
		work_submit(p, &jobs[i].w);
	}
	work_pool_free(p);
	assert_int_equal(norder, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(jobs[i].done, 1);
	loop_free(l);
	work_pool_free(NULL);
}

/* Workers block signals: a signal meant for the loop's signalfd is never
 * taken by a worker thread. */
static void
test_workers_block_signals(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct work_pool *p;
	sigset_t before, after;

	(void)state;
	sigemptyset(&before);
	pthread_sigmask(SIG_SETMASK, NULL, &before);
	p = work_pool_new(l, 1, NULL, &err);
	assert_non_null(p);
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	/* the caller's own mask is as it was */
	for (int sig = 1; sig < 32; sig++)
		assert_int_equal(sigismember(&before, sig), sigismember(&after, sig));
	work_pool_free(p);
	loop_free(l);
}

/* work_submit_first: the job goes ahead of every job waiting. One worker,
 * held in a first job until the rest are queued, so the order they run in
 * is the queue's. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static int ran_order[8], nran;

static void
gate_run(struct work_job *w)
{
	(void)w;
	pthread_mutex_lock(&gate_lock);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void
order_run(struct work_job *w)
{
	struct job *j = container_of(w, struct job, w);

	j->ran = 1;
	ran_order[nran++] = j->id;     /* one worker: one at a time */
}

static void
quiet_done(struct work_job *w)
{
	(void)w;
}

static void
test_submit_first(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct work_pool *p;
	struct work_job gate = { .run = gate_run, .done = quiet_done };
	struct job jobs[4];
	static const int want[] = { 3, 2, 0, 1 };

	(void)state;
	loop_thread = pthread_self();
	assert_non_null(p = work_pool_new(l, 1, "test-first", &err));
	work_submit(p, &gate);
	for (int i = 0; i < 4; i++)
		jobs[i] = (struct job){ .w = { .run = order_run, .done = quiet_done }, .id = i };
	work_submit(p, &jobs[0].w);
	work_submit(p, &jobs[1].w);
	work_submit_first(p, &jobs[2].w);   /* ahead of 0 and 1 */
	work_submit_first(p, &jobs[3].w);   /* ahead of 2 */
	pthread_mutex_lock(&gate_lock);
	gate_open = 1;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	work_drain(p);
	assert_int_equal(nran, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ran_order[i], want[i]);
	/* into an empty queue: the only job, then the tail for the next */
	nran = 0;
	work_submit_first(p, &jobs[0].w);
	work_submit(p, &jobs[1].w);
	work_drain(p);
	assert_int_equal(nran, 2);
	assert_int_equal(ran_order[0], 0);
	assert_int_equal(ran_order[1], 1);
	work_pool_free(p);
	loop_free(l);
	(void)err;
}

/* A job that reports progress, waits until the loop has seen it, then
 * reports again and ends. */
struct prog {
	struct work_job w;
	struct work_pool *p;
	pthread_mutex_t lock;
	pthread_cond_t seen_cond;
	int seen;                /* progress calls, on the loop */
	int seen_before_done;
	int done;
	int after_done;          /* progress after done: must stay 0 */
};

static void
prog_run(struct work_job *w)
{
	struct prog *g = container_of(w, struct prog, w);
	struct timespec until;

	work_progress(g->p, w);
	work_progress(g->p, w);         /* before the loop gets to it: counts once */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&g->lock);
	while (g->seen == 0)
		if (pthread_cond_timedwait(&g->seen_cond, &g->lock, &until) != 0)
			break;
	pthread_mutex_unlock(&g->lock);
	work_progress(g->p, w);
}

static void
prog_progress(struct work_job *w)
{
	struct prog *g = container_of(w, struct prog, w);

	assert_true(pthread_equal(pthread_self(), loop_thread));
	pthread_mutex_lock(&g->lock);
	if (g->done)
		g->after_done++;
	g->seen++;
	pthread_cond_signal(&g->seen_cond);
	pthread_mutex_unlock(&g->lock);
}

static void
prog_done(struct work_job *w)
{
	struct prog *g = container_of(w, struct prog, w);

	pthread_mutex_lock(&g->lock);
	g->seen_before_done = g->seen;
	g->done = 1;
	pthread_mutex_unlock(&g->lock);
}

static void
test_progress(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct prog g = { .w = { .run = prog_run, .done = prog_done, .progress = prog_progress } };
	uint64_t deadline;

	(void)state;
	loop_thread = pthread_self();
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.seen_cond, NULL);
	assert_non_null(g.p = work_pool_new(l, 1, "test-progress", &err));
	work_submit(g.p, &g.w);
	deadline = mono_ms() + 10000;
	while (work_pending(g.p) > 0 && mono_ms() < deadline)
		loop_run_once(l, 100);
	assert_int_equal(work_pending(g.p), 0);
	assert_int_equal(g.done, 1);
	/* the first two reports were seen (once or twice), the last one too,
	 * all before done */
	assert_true(g.seen_before_done >= 2 && g.seen_before_done <= 3);
	assert_int_equal(g.seen, g.seen_before_done);
	assert_int_equal(g.after_done, 0);
	work_pool_free(g.p);
	loop_free(l);
	pthread_mutex_destroy(&g.lock);
	pthread_cond_destroy(&g.seen_cond);
}

/* A pool told to yield runs its jobs at a higher nice than the process;
 * the other pools' threads are left as they were. */
struct nice_job {
	struct work_job w;
	int seen;
};

static void
nice_run(struct work_job *w)
{
	struct nice_job *j = container_of(w, struct nice_job, w);

	errno = 0;
	j->seen = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (j->seen == -1 && errno != 0)
		j->seen = -100;
}

static void
nice_done(struct work_job *w)
{
	(void)w;
}

static void
test_nice(void **state)
{
	struct loop *l = loop_new();
	char *err = NULL;
	struct work_pool *lowered, *plain;
	struct nice_job a = { .w = { .run = nice_run, .done = nice_done } };
	struct nice_job b = { .w = { .run = nice_run, .done = nice_done } };
	int base;

	(void)state;
	errno = 0;
	base = getpriority(PRIO_PROCESS, (id_t)gettid());
	assert_false(base == -1 && errno != 0);
	lowered = work_pool_new(l, 1, "test-nice", &err);
	plain = work_pool_new(l, 1, "test-plain", &err);
	assert_non_null(lowered);
	assert_non_null(plain);
	work_pool_set_nice(lowered, 3);
	work_submit(lowered, &a.w);
	work_submit(plain, &b.w);
	work_drain(lowered);
	work_drain(plain);
	assert_int_equal(a.seen, base + 3 > 19 ? 19 : base + 3);
	assert_int_equal(b.seen, base);
	/* the loop thread's own is untouched */
	assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), base);
	work_pool_free(lowered);
	work_pool_free(plain);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_and_complete_on_loop),
		cmocka_unit_test(test_one_worker_keeps_order),
		cmocka_unit_test(test_free_drains),
		cmocka_unit_test(test_submit_first),
		cmocka_unit_test(test_workers_block_signals),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_nice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
