/*
 * share.c - shared immutable objects (see share.h).
 *
 * Each table is a chained hash table of the objects' heads, by the hash of
 * their keys; equal hashes are confirmed by comparing the keys. One lock for
 * every table: objects are shared on the loop (verdicts) and on the loader
 * thread (stored results), and a result a scrape held may be released on a
 * worker.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/share.h"

#define SHARE_MIN_BUCKETS 256

static pthread_mutex_t share_lock = PTHREAD_MUTEX_INITIALIZER;

static void
grow(struct share_table *t)
{
	size_t n = t->nbuckets ? t->nbuckets * 2 : SHARE_MIN_BUCKETS;
	struct share_head **tab = xcalloc(n, sizeof(*tab));

	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct share_head *h = t->tab[i], *next; h != NULL; h = next) {
			next = h->next;
			h->next = tab[h->hash & (n - 1)];
			tab[h->hash & (n - 1)] = h;
		}
	free(t->tab);
	t->tab = tab;
	t->nbuckets = n;
}

static void
obj_free(struct share_table *t, void *obj)
{
	if (t->free)
		t->free(obj);
	else
		free(obj);
}

void
share_key_str(struct buf *out, const char *s)
{
	/* a tag, then the text to its end: no two texts (or NULL) alike */
	buf_putc(out, s ? 1 : 0);
	if (s)
		buf_append(out, s, strlen(s) + 1);
}

void *
share_get(struct share_table *t, void *obj)
{
	struct share_head *h = obj, *o;
	struct buf key, other;
	uint64_t hash;

	if (obj == NULL)
		return NULL;
	buf_init(&key);
	buf_init(&other);
	t->key(obj, &key);
	hash = hash64(key.data ? key.data : "", key.len);
	pthread_mutex_lock(&share_lock);
	if (t->n >= t->nbuckets)
		grow(t);
	for (o = t->tab[hash & (t->nbuckets - 1)]; o != NULL; o = o->next) {
		if (o->hash != hash)
			continue;
		other.len = 0;
		t->key(o, &other);
		if (other.len == key.len && (key.len == 0 || memcmp(other.data, key.data, key.len) == 0))
			break;
	}
	if (o != NULL) {
		o->refs++;
	} else {
		h->hash = hash;
		h->refs = 1;
		h->next = t->tab[hash & (t->nbuckets - 1)];
		t->tab[hash & (t->nbuckets - 1)] = h;
		t->n++;
	}
	pthread_mutex_unlock(&share_lock);
	buf_free(&key);
	buf_free(&other);
	if (o == NULL)
		return obj;
	obj_free(t, obj);
	return o;
}

void *
share_ref(void *obj)
{
	struct share_head *h = obj;

	if (obj == NULL)
		return NULL;
	pthread_mutex_lock(&share_lock);
	h->refs++;
	pthread_mutex_unlock(&share_lock);
	return obj;
}

void
share_put(struct share_table *t, void *obj)
{
	struct share_head *h = obj, **pp;
	int last;

	if (obj == NULL)
		return;
	pthread_mutex_lock(&share_lock);
	last = --h->refs == 0;
	if (last) {
		for (pp = &t->tab[h->hash & (t->nbuckets - 1)]; *pp != h; pp = &(*pp)->next)
			;
		*pp = h->next;
		t->n--;
	}
	pthread_mutex_unlock(&share_lock);
	/* outside the lock: freeing may release objects of other tables */
	if (last)
		obj_free(t, obj);
}

unsigned long
share_count(struct share_table *t)
{
	unsigned long n;

	pthread_mutex_lock(&share_lock);
	n = t->n;
	pthread_mutex_unlock(&share_lock);
	return n;
}
