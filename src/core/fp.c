/*
 * fp.c - interned fingerprints (see fp.h).
 *
 * A hash table of counted entries under one lock: the loader thread makes
 * them as it parses state files, the loop as chains change, and a record a
 * scrape held may be freed on a worker. The lock is taken per fingerprint
 * (a few per state file read, a few per chain change), never per probe.
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/fp.h"

#define FP_MIN_BUCKETS 1024

struct fp {
	struct fp *next;
	unsigned long refs;
	char hex[65];
};

static struct fp **fp_tab;
static size_t fp_nbuckets;
static unsigned long fp_n;
static pthread_mutex_t fp_lock = PTHREAD_MUTEX_INITIALIZER;

static struct fp *
fp_of(const char *hex)
{
	return (struct fp *)(void *)(hex - offsetof(struct fp, hex));
}

static size_t
fp_bucket(const char *hex, size_t nbuckets)
{
	return (size_t)(hash64(hex, 64) & (nbuckets - 1));
}

static void
fp_grow(void)
{
	size_t n = fp_nbuckets ? fp_nbuckets * 2 : FP_MIN_BUCKETS;
	struct fp **tab = xcalloc(n, sizeof(*tab));

	for (size_t i = 0; i < fp_nbuckets; i++)
		for (struct fp *f = fp_tab[i], *next; f != NULL; f = next) {
			size_t b = fp_bucket(f->hex, n);

			next = f->next;
			f->next = tab[b];
			tab[b] = f;
		}
	free(fp_tab);
	fp_tab = tab;
	fp_nbuckets = n;
}

const char *
fp_get(const char *hex)
{
	struct fp *f;
	size_t b;

	pthread_mutex_lock(&fp_lock);
	if (fp_n >= fp_nbuckets)
		fp_grow();
	b = fp_bucket(hex, fp_nbuckets);
	for (f = fp_tab[b]; f != NULL; f = f->next)
		if (memcmp(f->hex, hex, 64) == 0)
			break;
	if (f == NULL) {
		f = xmalloc(sizeof(*f));
		memcpy(f->hex, hex, 64);
		f->hex[64] = '\0';
		f->refs = 0;
		f->next = fp_tab[b];
		fp_tab[b] = f;
		fp_n++;
	}
	f->refs++;
	pthread_mutex_unlock(&fp_lock);
	return f->hex;
}

const char *
fp_ref(const char *fp)
{
	pthread_mutex_lock(&fp_lock);
	fp_of(fp)->refs++;
	pthread_mutex_unlock(&fp_lock);
	return fp;
}

void
fp_put(const char *fp)
{
	struct fp *f, **pp;

	if (fp == NULL)
		return;
	f = fp_of(fp);
	pthread_mutex_lock(&fp_lock);
	if (--f->refs == 0) {
		for (pp = &fp_tab[fp_bucket(f->hex, fp_nbuckets)]; *pp != f; pp = &(*pp)->next)
			;
		*pp = f->next;
		fp_n--;
		free(f);
	}
	pthread_mutex_unlock(&fp_lock);
}

unsigned long
fp_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&fp_lock);
	n = fp_n;
	pthread_mutex_unlock(&fp_lock);
	return n;
}
