/* loop.c - epoll and a timer heap; everything runs on this one thread. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define LOOP_BATCH 256

struct loop {
	int epfd;
	int stopping;
	uint64_t now;
	struct heap timers;
	struct epoll_event events[LOOP_BATCH];
	int nevents;
	int current;
	int64_t (*prepare)(void *);
	void *prepare_arg;
};

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1) {
		free(l);
		return NULL;
	}
	heap_init(&l->timers);
	l->now = mono_ms();
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	heap_fini(&l->timers);
	free(l);
}

int
loop_watch_add(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int
loop_watch_mod(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void
loop_watch_del(struct loop *l, struct loop_watch *w)
{
	/* The owner may free w once this returns: forget any event for it
	 * that this round fetched but has not delivered yet. */
	for (int i = l->current + 1; i < l->nevents; i++)
		if (l->events[i].data.ptr == w)
			l->events[i].data.ptr = NULL;
	if (w->fd != -1 && epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL) == -1 &&
	    errno != EBADF && errno != ENOENT)
		log_warn("epoll_ctl del fd %d", w->fd);
}

void
loop_timer_init(struct loop_timer *t, void (*cb)(struct loop_timer *))
{
	heap_node_init(&t->node);
	t->cb = cb;
}

void
loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t when_ms)
{
	heap_set(&l->timers, &t->node, when_ms);
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	heap_remove(&l->timers, &t->node);
}

int
loop_timer_armed(const struct loop_timer *t)
{
	return heap_contains(&t->node);
}

void
loop_set_prepare(struct loop *l, int64_t (*fn)(void *), void *arg)
{
	l->prepare = fn;
	l->prepare_arg = arg;
}

uint64_t
loop_now(const struct loop *l)
{
	return l->now;
}

void
loop_stop(struct loop *l)
{
	l->stopping = 1;
}

/* Fire every timer that is due; a callback may arm timers, even itself. */
static void
loop_fire_timers(struct loop *l)
{
	struct heap_node *top;

	l->now = mono_ms();
	while (!l->stopping && (top = heap_top(&l->timers)) != NULL && top->key <= l->now) {
		struct loop_timer *t = container_of(top, struct loop_timer, node);
		heap_remove(&l->timers, top);
		t->cb(t);
	}
}

int
loop_run_once(struct loop *l, int64_t max_ms)
{
	struct heap_node *top;
	int64_t wait = max_ms;
	int n;

	loop_fire_timers(l);
	if (l->stopping)
		return 0;
	if (l->prepare) {
		int64_t p = l->prepare(l->prepare_arg);
		if (p >= 0 && (wait < 0 || p < wait))
			wait = p;
	}
	if ((top = heap_top(&l->timers)) != NULL) {
		l->now = mono_ms();
		int64_t t = top->key > l->now ? (int64_t)(top->key - l->now) : 0;
		if (wait < 0 || t < wait)
			wait = t;
	}
	if (wait > 60000)
		wait = 60000;

	n = epoll_wait(l->epfd, l->events, LOOP_BATCH, (int)wait);
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		log_warn("epoll_wait");
		return -1;
	}
	l->now = mono_ms();
	l->nevents = n;
	for (l->current = 0; l->current < n && !l->stopping; l->current++) {
		struct loop_watch *w = l->events[l->current].data.ptr;
		if (w != NULL)
			w->cb(w, l->events[l->current].events);
	}
	l->nevents = 0;
	l->current = 0;
	loop_fire_timers(l);
	return 0;
}

int
loop_run(struct loop *l)
{
	l->stopping = 0;
	while (!l->stopping)
		if (loop_run_once(l, -1) == -1)
			return -1;
	return 0;
}
