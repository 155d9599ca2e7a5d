/* loop.h - the one event loop: epoll for descriptors, a heap of timers, monotonic ms. */
#ifndef TLSWATCH_LOOP_H
#define TLSWATCH_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "core/heap.h"

struct loop;

/* A descriptor being watched; embed it in the owner. */
struct loop_watch {
	int fd;
	void (*cb)(struct loop_watch *w, uint32_t events);
};

/* A one-shot timer; embed it in the owner. */
struct loop_timer {
	struct heap_node node;
	void (*cb)(struct loop_timer *t);
};

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch w->fd for events (EPOLLIN, EPOLLOUT). Returns 0 or -1 with errno. */
int loop_watch_add(struct loop *l, struct loop_watch *w, uint32_t events);
int loop_watch_mod(struct loop *l, struct loop_watch *w, uint32_t events);
/* Stop watching; safe to call from any callback, even for an event
 * already fetched in this round (it will not be delivered). */
void loop_watch_del(struct loop *l, struct loop_watch *w);

void loop_timer_init(struct loop_timer *t, void (*cb)(struct loop_timer *t));
/* Arm (or re-arm) t to fire at monotonic time when_ms. */
void loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t when_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
int loop_timer_armed(const struct loop_timer *t);

/* Called before every wait; returns a bound in ms on the wait (-1 none). */
void loop_set_prepare(struct loop *l, int64_t (*fn)(void *arg), void *arg);

/* Run until loop_stop. Returns 0, or -1 when epoll_wait fails. */
int loop_run(struct loop *l);
/* One round: wait at most max_ms (-1: until the next timer or event). */
int loop_run_once(struct loop *l, int64_t max_ms);
void loop_stop(struct loop *l);
/* The loop's notion of now, refreshed once per round. */
uint64_t loop_now(const struct loop *l);

#endif
