/* pin.c - deferred frees for objects a reader thread may still see.
 *
 * Readers get increasing tokens; an object handed to pin_free while the
 * newest token is T waits for every reader with a token <= T. Objects are
 * queued in the order deferred, so the queue is freed from its head while
 * the head's token is below that of the oldest active reader. */
#include "config.h"

#include <stdlib.h>

#include "core/pin.h"
#include "core/util.h"

struct deferred {
	uint64_t token;           /* the newest reader when deferred */
	void (*fn)(void *);
	void *p;
	struct deferred *next;
};

static uint64_t next_token = 1;
static uint64_t *active;      /* tokens of the active readers, ascending */
static size_t nactive, cap;
static struct deferred *head, **tail = &head;
static uint64_t ndeferred;

uint64_t
pin_begin(void)
{
	if (nactive == cap) {
		cap = cap ? 2 * cap : 4;
		active = xreallocarray(active, cap, sizeof(*active));
	}
	active[nactive++] = next_token;
	return next_token++;
}

void
pin_end(uint64_t token)
{
	size_t i;
	uint64_t oldest;

	for (i = 0; i < nactive && active[i] != token; i++)
		;
	if (i == nactive)
		return;
	for (; i + 1 < nactive; i++)
		active[i] = active[i + 1];
	nactive--;
	oldest = nactive ? active[0] : UINT64_MAX;
	while (head != NULL && head->token < oldest) {
		struct deferred *d = head;

		if ((head = d->next) == NULL)
			tail = &head;
		d->fn(d->p);
		free(d);
		ndeferred--;
	}
	if (nactive == 0) {
		free(active);
		active = NULL;
		cap = 0;
	}
}

int
pin_active(void)
{
	return nactive > 0;
}

void
pin_free(void (*fn)(void *), void *p)
{
	struct deferred *d;

	if (p == NULL)
		return;
	if (nactive == 0) {
		fn(p);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->token = next_token - 1;
	d->fn = fn;
	d->p = p;
	*tail = d;
	tail = &d->next;
	ndeferred++;
}

uint64_t
pin_deferred(void)
{
	return ndeferred;
}
