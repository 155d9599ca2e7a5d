/* stream.c - a bounded queue of pieces from a worker to the loop (see
 * stream.h). One lock guards it all; the producer waits on a condition
 * the consumer signals when it takes bytes or closes. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "serve/stream.h"

struct piece {
	struct piece *next;
	unsigned char *data;
	size_t len;
};

struct stream {
	pthread_mutex_t lock;
	pthread_cond_t room;       /* the consumer took bytes, or closed */
	struct piece *head, *tail;
	size_t off;                /* bytes of head already taken */
	size_t queued;             /* bytes in the queue, not yet taken */
	size_t bound;
	uint64_t takes;            /* gets that took bytes: the stall clock */
	int ended, ok, closed, failed;
};

struct stream *
stream_new(size_t bound)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->room, &ca);
	pthread_condattr_destroy(&ca);
	s->bound = bound;
	return s;
}

/* Under lock. */
static void
drop_all(struct stream *s)
{
	while (s->head) {
		struct piece *p = s->head;

		s->head = p->next;
		free(p->data);
		free(p);
	}
	s->tail = NULL;
	s->off = 0;
	s->queued = 0;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	drop_all(s);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->room);
	free(s);
}

static struct timespec
deadline_in(uint64_t ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

int
stream_put(struct stream *s, unsigned char *data, size_t len, uint64_t stall_ms)
{
	struct piece *p;
	struct timespec until = deadline_in(stall_ms);

	pthread_mutex_lock(&s->lock);
	while (!s->closed && !s->failed && s->queued >= s->bound) {
		uint64_t takes = s->takes;

		if (pthread_cond_timedwait(&s->room, &s->lock, &until) == ETIMEDOUT &&
		    s->takes == takes && s->queued >= s->bound) {
			s->failed = 1;      /* the client stopped reading */
			break;
		}
		if (s->takes != takes)
			until = deadline_in(stall_ms);
	}
	if (s->closed || s->failed) {
		pthread_mutex_unlock(&s->lock);
		free(data);
		return -1;
	}
	if (len == 0) {
		pthread_mutex_unlock(&s->lock);
		free(data);
		return 0;
	}
	p = xcalloc(1, sizeof(*p));
	p->data = data;
	p->len = len;
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->queued += len;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void
stream_end(struct stream *s, int ok)
{
	pthread_mutex_lock(&s->lock);
	s->ended = 1;
	s->ok = ok;
	pthread_mutex_unlock(&s->lock);
}

int
stream_closed(struct stream *s)
{
	int r;

	pthread_mutex_lock(&s->lock);
	r = s->closed || s->failed;
	pthread_mutex_unlock(&s->lock);
	return r;
}

size_t
stream_get(struct stream *s, void *dst, size_t max, enum stream_state *state)
{
	unsigned char *out = dst;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < max && s->head != NULL) {
		struct piece *p = s->head;
		size_t k = p->len - s->off;

		if (k > max - n)
			k = max - n;
		memcpy(out + n, p->data + s->off, k);
		n += k;
		s->off += k;
		s->queued -= k;
		if (s->off == p->len) {
			s->head = p->next;
			if (s->head == NULL)
				s->tail = NULL;
			s->off = 0;
			free(p->data);
			free(p);
		}
	}
	if (n > 0) {
		s->takes++;
		pthread_cond_signal(&s->room);
		*state = STREAM_DATA;
	} else if (s->failed || (s->ended && !s->ok))
		*state = STREAM_FAILED;
	else if (s->ended)
		*state = STREAM_END;
	else
		*state = STREAM_WAIT;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void
stream_close(struct stream *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = 1;
	drop_all(s);
	pthread_cond_signal(&s->room);
	pthread_mutex_unlock(&s->lock);
}

size_t
stream_queued(struct stream *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->queued;
	pthread_mutex_unlock(&s->lock);
	return n;
}
