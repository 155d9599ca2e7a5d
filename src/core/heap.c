/* heap.c - intrusive binary min-heap; every operation O(log n), removal by handle. */
#include "config.h"

#include <stdlib.h>

#include "core/heap.h"
#include "core/util.h"

void
heap_init(struct heap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

void
heap_fini(struct heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->index = HEAP_NONE;
	free(h->v);
	heap_init(h);
}

void
heap_node_init(struct heap_node *node)
{
	node->key = 0;
	node->index = HEAP_NONE;
}

int
heap_contains(const struct heap_node *node)
{
	return node->index != HEAP_NONE;
}

static void
heap_place(struct heap *h, size_t i, struct heap_node *node)
{
	h->v[i] = node;
	node->index = i;
}

static void
heap_up(struct heap *h, size_t i)
{
	struct heap_node *node = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent]->key <= node->key)
			break;
		heap_place(h, i, h->v[parent]);
		i = parent;
	}
	heap_place(h, i, node);
}

static void
heap_down(struct heap *h, size_t i)
{
	struct heap_node *node = h->v[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && h->v[child + 1]->key < h->v[child]->key)
			child++;
		if (node->key <= h->v[child]->key)
			break;
		heap_place(h, i, h->v[child]);
		i = child;
	}
	heap_place(h, i, node);
}

void
heap_set(struct heap *h, struct heap_node *node, uint64_t key)
{
	if (node->index != HEAP_NONE) {
		uint64_t old = node->key;
		node->key = key;
		if (key < old)
			heap_up(h, node->index);
		else
			heap_down(h, node->index);
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	node->key = key;
	heap_place(h, h->n++, node);
	heap_up(h, h->n - 1);
}

void
heap_remove(struct heap *h, struct heap_node *node)
{
	size_t i = node->index;

	if (i == HEAP_NONE)
		return;
	node->index = HEAP_NONE;
	if (--h->n == i)
		return;
	struct heap_node *moved = h->v[h->n];
	heap_place(h, i, moved);
	/* The last node, moved into the hole, may need to go either way. */
	heap_up(h, i);
	heap_down(h, moved->index);
}

struct heap_node *
heap_top(const struct heap *h)
{
	return h->n ? h->v[0] : NULL;
}

struct heap_node *
heap_pop(struct heap *h)
{
	struct heap_node *top = heap_top(h);

	if (top)
		heap_remove(h, top);
	return top;
}
