/* serials.c - the sorted serial set of a CRL. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "verdict/serials.h"

/* A builder record: the key, then the time (int64, unaligned) and reason. */
#define REC_EXTRA 9

struct bgroup {
	size_t len;             /* key length */
	unsigned char *recs;
	size_t n, cap;
};

struct serials_builder {
	struct bgroup *groups;
	size_t ngroups;
};

/* One length: n keys of len bytes, of which the first pb select a bucket
 * and the other len - pb are stored, sorted, in keys. */
struct group {
	size_t len;
	size_t pb;              /* 0, 1 or 2 */
	size_t n;
	uint32_t *bucket;       /* 2^(8 pb) + 1 start indices; NULL when pb is 0 */
	unsigned char *keys;    /* n * (len - pb) */
	uint32_t *times;        /* seconds since the epoch, clamped to 32 bits */
	uint8_t *reasons;
};

struct serials {
	struct group *groups;
	size_t ngroups;
	size_t count;
	size_t memory;
};

/* The minimal DER form: leading zero bytes that only pad are dropped, so a
 * non-minimal encoding matches the minimal one. */
static void
normalize(const unsigned char **p, size_t *len)
{
	while (*len > 1 && (*p)[0] == 0 && (*p)[1] < 0x80) {
		(*p)++;
		(*len)--;
	}
}

struct serials_builder *
serials_builder_new(void)
{
	return xcalloc(1, sizeof(struct serials_builder));
}

void
serials_builder_free(struct serials_builder *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->ngroups; i++)
		free(b->groups[i].recs);
	free(b->groups);
	free(b);
}

int
serials_add(struct serials_builder *b, const unsigned char *serial, size_t len,
    int64_t revoked_at, int reason)
{
	struct bgroup *g = NULL;
	unsigned char *r;
	size_t rec;

	if (len == 0 || len > SERIALS_MAX_LEN)
		return -1;
	normalize(&serial, &len);
	for (size_t i = 0; i < b->ngroups; i++)
		if (b->groups[i].len == len)
			g = &b->groups[i];
	if (g == NULL) {
		b->groups = xreallocarray(b->groups, b->ngroups + 1, sizeof(*b->groups));
		g = &b->groups[b->ngroups++];
		memset(g, 0, sizeof(*g));
		g->len = len;
	}
	rec = len + REC_EXTRA;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->recs = xreallocarray(g->recs, g->cap, rec);
	}
	r = g->recs + g->n * rec;
	memcpy(r, serial, len);
	memcpy(r + len, &revoked_at, 8);
	r[len + 8] = (unsigned char)(reason < 0 || reason > 255 ? 0 : reason);
	g->n++;
	return 0;
}

static int
cmp_rec(const void *a, const void *b, void *arg)
{
	return memcmp(a, b, *(const size_t *)arg);
}

/* Bucket on the first byte from 1,024 entries, on two from 262,144: the
 * index then costs at most a byte or so per entry and saves one or two. */
static size_t
prefix_bytes(size_t n, size_t len)
{
	size_t pb = n >= 262144 ? 2 : n >= 1024 ? 1 : 0;

	return pb < len ? pb : len;
}

static void
pack(struct group *g, struct bgroup *bg, size_t *memory)
{
	size_t rec = bg->len + REC_EXTRA, w, n = 0;

	qsort_r(bg->recs, bg->n, rec, cmp_rec, &bg->len);
	g->len = bg->len;
	g->pb = prefix_bytes(bg->n, bg->len);
	w = g->len - g->pb;
	g->keys = xmalloc(bg->n * w + 1);
	g->times = xmalloc(bg->n * sizeof(*g->times) + 1);
	g->reasons = xmalloc(bg->n + 1);
	if (g->pb) {
		size_t nb = (size_t)1 << (8 * g->pb);

		g->bucket = xcalloc(nb + 1, sizeof(*g->bucket));
		*memory += (nb + 1) * sizeof(*g->bucket);
	}
	for (size_t i = 0; i < bg->n; i++) {
		const unsigned char *r = bg->recs + i * rec;
		int64_t t;

		if (i > 0 && memcmp(r, bg->recs + (i - 1) * rec, g->len) == 0)
			continue;       /* listed twice: the first stays */
		memcpy(&t, r + g->len, 8);
		memcpy(g->keys + n * w, r + g->pb, w);
		g->times[n] = t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
		g->reasons[n] = r[g->len + 8];
		if (g->pb) {
			size_t bkt = g->pb == 1 ? r[0] : (size_t)r[0] << 8 | r[1];
			g->bucket[bkt + 1]++;
		}
		n++;
	}
	if (g->pb) {
		size_t nb = (size_t)1 << (8 * g->pb);

		for (size_t i = 1; i <= nb; i++)
			g->bucket[i] += g->bucket[i - 1];
	}
	g->n = n;
	/* give back what the duplicates left unused */
	g->keys = xrealloc(g->keys, n * w + 1);
	g->times = xrealloc(g->times, n * sizeof(*g->times) + 1);
	g->reasons = xrealloc(g->reasons, n + 1);
	*memory += n * w + n * sizeof(*g->times) + n + 3;
	free(bg->recs);
	bg->recs = NULL;
}

struct serials *
serials_build(struct serials_builder *b)
{
	struct serials *s = xcalloc(1, sizeof(*s));

	s->groups = xcalloc(b->ngroups ? b->ngroups : 1, sizeof(*s->groups));
	s->ngroups = b->ngroups;
	s->memory = sizeof(*s) + s->ngroups * sizeof(*s->groups);
	for (size_t i = 0; i < b->ngroups; i++) {
		pack(&s->groups[i], &b->groups[i], &s->memory);
		s->count += s->groups[i].n;
	}
	serials_builder_free(b);
	return s;
}

int
serials_find(const struct serials *s, const unsigned char *serial, size_t len,
    int64_t *revoked_at, int *reason)
{
	const struct group *g = NULL;
	size_t lo, hi, w;

	if (s == NULL || len == 0 || len > SERIALS_MAX_LEN)
		return 0;
	normalize(&serial, &len);
	for (size_t i = 0; i < s->ngroups; i++)
		if (s->groups[i].len == len)
			g = &s->groups[i];
	if (g == NULL || g->n == 0)
		return 0;
	w = g->len - g->pb;
	if (g->pb) {
		size_t bkt = g->pb == 1 ? serial[0] : (size_t)serial[0] << 8 | serial[1];
		lo = g->bucket[bkt];
		hi = g->bucket[bkt + 1];
	} else {
		lo = 0;
		hi = g->n;
	}
	serial += g->pb;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(serial, g->keys + mid * w, w);

		if (c == 0) {
			if (revoked_at)
				*revoked_at = g->times[mid];
			if (reason)
				*reason = g->reasons[mid];
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

size_t
serials_count(const struct serials *s)
{
	return s ? s->count : 0;
}

size_t
serials_memory(const struct serials *s)
{
	return s ? s->memory : 0;
}

void
serials_free(struct serials *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ngroups; i++) {
		free(s->groups[i].bucket);
		free(s->groups[i].keys);
		free(s->groups[i].times);
		free(s->groups[i].reasons);
	}
	free(s->groups);
	free(s);
}
