/* ratelimit.c - token buckets kept as the time each is full again (GCRA):
 * one number per address, and an address whose bucket is full needs no
 * entry at all. A small table searched linearly: it holds only addresses
 * that failed recently. */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"
#include "serve/ratelimit.h"

struct key {
	unsigned char family;       /* 4, 6 or 0 (any other) */
	unsigned char addr[8];      /* IPv4 address, or an IPv6 /64 */
};

struct entry {
	struct key key;
	uint64_t full_at;           /* the bucket is full again then */
};

struct ratelimit {
	uint64_t refill;
	uint64_t span;              /* (burst - 1) * refill: credit beyond one token */
	struct entry *v;
	size_t n, cap;
};

struct ratelimit *
ratelimit_new(unsigned burst, uint64_t refill_ms, size_t max_addrs)
{
	struct ratelimit *r = xcalloc(1, sizeof(*r));

	if (burst == 0)
		burst = 1;
	r->refill = refill_ms ? refill_ms : 1;
	r->span = (uint64_t)(burst - 1) * r->refill;
	r->cap = max_addrs ? max_addrs : 1;
	r->v = xcalloc(r->cap, sizeof(*r->v));
	return r;
}

void
ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	free(r->v);
	free(r);
}

static struct key
key_of(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct key k;

	memset(&k, 0, sizeof(k));
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		k.family = 4;
		memcpy(k.addr, &in->sin_addr, 4);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *a = in6->sin6_addr.s6_addr;

		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			k.family = 4;
			memcpy(k.addr, a + 12, 4);
		} else {
			k.family = 6;
			memcpy(k.addr, a, 8);
		}
	}
	return k;
}

static struct entry *
find(struct ratelimit *r, const struct key *k)
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(&r->v[i].key, k, sizeof(*k)) == 0)
			return &r->v[i];
	return NULL;
}

/* An entry for k, full (full_at == now): a free slot, else one whose
 * bucket refilled, else the one closest to full. */
static struct entry *
add(struct ratelimit *r, const struct key *k, uint64_t now)
{
	struct entry *e = NULL;

	if (r->n < r->cap) {
		e = &r->v[r->n++];
	} else {
		e = &r->v[0];
		for (size_t i = 1; i < r->n && e->full_at > now; i++)
			if (r->v[i].full_at < e->full_at)
				e = &r->v[i];
	}
	e->key = *k;
	e->full_at = now;
	return e;
}

uint64_t
ratelimit_take(struct ratelimit *r, const struct sockaddr *sa, uint64_t now)
{
	struct key k = key_of(sa);
	struct entry *e = find(r, &k);

	if (e == NULL)
		e = add(r, &k, now);
	if (e->full_at < now)
		e->full_at = now;
	if (e->full_at - now > r->span)
		return e->full_at - now - r->span;
	e->full_at += r->refill;
	return 0;
}

void
ratelimit_refund(struct ratelimit *r, const struct sockaddr *sa, uint64_t now)
{
	struct key k = key_of(sa);
	struct entry *e = find(r, &k);

	if (e == NULL)
		return;     /* forgotten meanwhile: it is full */
	if (e->full_at > now + r->refill)
		e->full_at -= r->refill;
	else
		e->full_at = now;
}

size_t
ratelimit_waiting(const struct ratelimit *r, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].full_at > now;
	return n;
}
