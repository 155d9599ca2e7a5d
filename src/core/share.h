/* share.h - one counted copy of equal immutable objects.
 *
 * A verdict's details are alike for every target presenting the same chain:
 * a million targets behind one intermediate would otherwise hold a million
 * copies of its revocation answers. A shared object begins with struct
 * share_head; its table says which bytes make two objects equal (key) and
 * how one is freed. Once shared an object never changes: a changed one is a
 * new object, shared again. Any thread: one lock, taken once for each
 * object shared, referenced or released (once per verdict made or copied,
 * never per byte rendered).
 */
#ifndef TLSWATCH_SHARE_H
#define TLSWATCH_SHARE_H

#include <stdint.h>

#include "core/util.h"

/* The first member of a shared object; share.c's alone. */
struct share_head {
	struct share_head *next;
	uint64_t hash;
	unsigned long refs;
};

struct share_table {
	/* Append to out every byte that makes two objects of the table equal:
	 * two objects with the same key are interchangeable wherever either
	 * is read. Interned pointers (fingerprints, shared objects) may go in
	 * as their values. */
	void (*key)(const void *obj, struct buf *out);
	void (*free)(void *obj);             /* NULL: free() */
	/* share.c's */
	struct share_head **tab;
	size_t nbuckets;
	unsigned long n;
};

#define SHARE_TABLE(key_fn, free_fn) { (key_fn), (free_fn), NULL, 0, 0 }

/* For key functions: v's bytes; s with its end (NULL apart from ""). */
#define SHARE_KEY(out, v) buf_append((out), &(v), sizeof(v))
void share_key_str(struct buf *out, const char *s);

/* obj (just made, not yet shared; the caller's) shared: an equal object
 * already in t with one more reference (obj is then freed), or obj itself
 * with one reference. NULL: NULL. */
void *share_get(struct share_table *t, void *obj);
/* One more reference to a shared object. */
void *share_ref(void *obj);
/* One reference fewer to a shared object of t; it is freed with the last.
 * NULL is ignored. */
void share_put(struct share_table *t, void *obj);
/* Distinct objects t holds (for tests and benchmarks). */
unsigned long share_count(struct share_table *t);

#endif
