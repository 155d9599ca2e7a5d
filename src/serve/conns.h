/* conns.h - one server's connections as its slots see them: which wait for
 * a request and since when, which is the idlest, whose deadline is next. No
 * I/O here: httpd.c accepts, shuts down and asks. */
#ifndef TLSWATCH_CONNS_H
#define TLSWATCH_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"

/* Embed in the owner's per-connection struct. */
struct conn {
	struct conn *prev, *next;   /* waiting list, oldest first; private */
	struct heap_node deadline;  /* private */
	uint64_t since;             /* accepted, or the previous request ended */
	int fd;
	unsigned busy : 1;          /* a request is being answered */
	unsigned line : 1;          /* this request's line has arrived */
	unsigned served : 1;        /* a request has ended on it before */
	unsigned closing : 1;       /* shut down by us, not closed yet */
};

struct conns {
	struct conn *head, *tail;   /* waiting: not busy, not closing */
	struct heap deadlines;      /* of the waiting */
	size_t live;                /* added and not removed */
	size_t nclosing;
	uint64_t line_ms, header_ms, grace_ms;
};

/* line_ms: from accept to a request line; header_ms: from accept, or from
 * the end of the previous request, to the end of the headers; grace_ms: a
 * connection quiet for less is not evicted (its next bytes are likely on
 * the way). */
void conns_init(struct conns *cs, uint64_t line_ms, uint64_t header_ms, uint64_t grace_ms);
void conns_fini(struct conns *cs);

/* A new connection on fd, accepted at now: waiting. */
void conns_add(struct conns *cs, struct conn *c, int fd, uint64_t now);
/* Closed (by anyone): forget it. */
void conns_remove(struct conns *cs, struct conn *c);
/* Its request line arrived. */
void conns_line(struct conns *cs, struct conn *c);
/* Its headers are complete: a request is being answered. */
void conns_busy(struct conns *cs, struct conn *c);
/* Its request ended at now; it waits for the next one. */
void conns_done(struct conns *cs, struct conn *c, uint64_t now);
/* We shut it down: it holds no slot while the server closes it. */
void conns_closing(struct conns *cs, struct conn *c);

/* Connections holding a slot: live, not closing. */
size_t conns_open(const struct conns *cs);

/* How long ago (ms) a connection last received anything; -1 unknown. */
typedef int64_t (*conns_quiet_fn)(const struct conn *c, void *arg);

/* The waiting connection to evict for a newcomer, or NULL when none has
 * been quiet for grace_ms (every slot answering a request, or busy with
 * its handshake or headers). Of the `sample` longest waiting, the one quiet
 * longest by quiet (NULL: by how long it waited), so that a client in the
 * middle of its TLS handshake or its headers goes after one that sends
 * nothing. */
struct conn *conns_victim(const struct conns *cs, size_t sample,
                          conns_quiet_fn quiet, void *arg, uint64_t now);

/* A waiting connection past its deadline at now, or NULL. */
struct conn *conns_expired(const struct conns *cs, uint64_t now);
/* ms from now to the next deadline (0 when due), -1 when none. */
int64_t conns_next_ms(const struct conns *cs, uint64_t now);

#endif
