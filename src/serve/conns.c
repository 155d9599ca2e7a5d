/* conns.c - one server's connections: a list of those waiting for a request,
 * oldest first, and a heap of their deadlines. */
#include "config.h"

#include "core/util.h"
#include "serve/conns.h"

void
conns_init(struct conns *cs, uint64_t line_ms, uint64_t header_ms, uint64_t grace_ms)
{
	cs->grace_ms = grace_ms;
	cs->head = cs->tail = NULL;
	heap_init(&cs->deadlines);
	cs->live = cs->nclosing = 0;
	cs->header_ms = header_ms;
	/* the request line is part of the headers: never a later deadline */
	cs->line_ms = line_ms < header_ms ? line_ms : header_ms;
}

void
conns_fini(struct conns *cs)
{
	heap_fini(&cs->deadlines);
}

static int
waiting(const struct conn *c)
{
	return !c->busy && !c->closing;
}

static void
unlink_waiting(struct conns *cs, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		cs->tail = c->prev;
	c->prev = c->next = NULL;
	heap_remove(&cs->deadlines, &c->deadline);
}

/* The deadline of a waiting connection: the first request on a connection
 * must bring its line soon; any request its whole headers in time. */
static uint64_t
deadline_of(const struct conns *cs, const struct conn *c)
{
	if (!c->served && !c->line)
		return c->since + cs->line_ms;
	return c->since + cs->header_ms;
}

static void
link_waiting(struct conns *cs, struct conn *c, uint64_t now)
{
	c->since = now;
	c->prev = cs->tail;
	c->next = NULL;
	if (cs->tail)
		cs->tail->next = c;
	else
		cs->head = c;
	cs->tail = c;
	heap_set(&cs->deadlines, &c->deadline, deadline_of(cs, c));
}

void
conns_add(struct conns *cs, struct conn *c, int fd, uint64_t now)
{
	c->fd = fd;
	c->busy = c->line = c->served = c->closing = 0;
	heap_node_init(&c->deadline);
	link_waiting(cs, c, now);
	cs->live++;
}

void
conns_remove(struct conns *cs, struct conn *c)
{
	if (waiting(c))
		unlink_waiting(cs, c);
	if (c->closing)
		cs->nclosing--;
	cs->live--;
}

void
conns_line(struct conns *cs, struct conn *c)
{
	c->line = 1;
	if (waiting(c))
		heap_set(&cs->deadlines, &c->deadline, deadline_of(cs, c));
}

void
conns_busy(struct conns *cs, struct conn *c)
{
	if (waiting(c))
		unlink_waiting(cs, c);
	c->busy = 1;
}

void
conns_done(struct conns *cs, struct conn *c, uint64_t now)
{
	int was_waiting = waiting(c);

	c->busy = 0;
	c->line = 0;
	c->served = 1;
	if (c->closing)
		return;
	if (was_waiting)    /* ended before its headers did: MHD answered it */
		unlink_waiting(cs, c);
	link_waiting(cs, c, now);
}

void
conns_closing(struct conns *cs, struct conn *c)
{
	if (c->closing)
		return;
	if (waiting(c))
		unlink_waiting(cs, c);
	c->closing = 1;
	cs->nclosing++;
}

size_t
conns_open(const struct conns *cs)
{
	return cs->live - cs->nclosing;
}

struct conn *
conns_victim(const struct conns *cs, size_t sample, conns_quiet_fn quiet, void *arg,
    uint64_t now)
{
	struct conn *best = NULL;
	int64_t best_quiet = -1;
	size_t i = 0;

	for (struct conn *c = cs->head; c != NULL && i < sample; c = c->next, i++) {
		int64_t q = quiet ? quiet(c, arg) : -1;

		if (q < 0)
			q = now > c->since ? (int64_t)(now - c->since) : 0;
		if ((uint64_t)q < cs->grace_ms)
			continue;
		/* ties go to the older: the list is oldest first */
		if (q > best_quiet) {
			best = c;
			best_quiet = q;
		}
	}
	return best;
}

struct conn *
conns_expired(const struct conns *cs, uint64_t now)
{
	struct heap_node *top = heap_top(&cs->deadlines);

	if (top == NULL || top->key > now)
		return NULL;
	return container_of(top, struct conn, deadline);
}

int64_t
conns_next_ms(const struct conns *cs, uint64_t now)
{
	struct heap_node *top = heap_top(&cs->deadlines);

	if (top == NULL)
		return -1;
	return top->key > now ? (int64_t)(top->key - now) : 0;
}

