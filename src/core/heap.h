/* heap.h - an intrusive binary min-heap keyed on a 64-bit value (timers). */
#ifndef TLSWATCH_HEAP_H
#define TLSWATCH_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE SIZE_MAX

/* Embed in the owning struct; index is HEAP_NONE while not in a heap. */
struct heap_node {
	uint64_t key;
	size_t index;
};

struct heap {
	struct heap_node **v;
	size_t n;
	size_t cap;
};

void heap_init(struct heap *h);
void heap_fini(struct heap *h);
void heap_node_init(struct heap_node *node);
/* Insert node with key, or move it if already in h. O(log n). */
void heap_set(struct heap *h, struct heap_node *node, uint64_t key);
void heap_remove(struct heap *h, struct heap_node *node);  /* no-op if absent */
struct heap_node *heap_top(const struct heap *h);          /* NULL if empty */
struct heap_node *heap_pop(struct heap *h);
int heap_contains(const struct heap_node *node);

#endif
