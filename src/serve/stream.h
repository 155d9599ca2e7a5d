/* stream.h - a response body made on a worker thread and sent from the
 * loop as it comes: a bounded queue of byte pieces between one producer
 * thread and one consumer on the loop thread. The producer waits while
 * the queue is full, so a slow client holds at most the bound, never the
 * whole body. */
#ifndef TLSWATCH_STREAM_H
#define TLSWATCH_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stream;

/* Bytes queued before put waits; a piece is taken whole, so the queue may
 * pass the bound by one piece. */
struct stream *stream_new(size_t bound);
void stream_free(struct stream *s);

/* Producer. Queue piece[0..len) (allocated; taken over, freed by the
 * stream), waiting while the queue holds bound bytes or more, for at most
 * stall_ms without the consumer taking any. 0 queued; -1 the consumer
 * closed, or took nothing for stall_ms (the piece is freed; the stream
 * is failed then, and the producer should stop). */
int stream_put(struct stream *s, unsigned char *piece, size_t len, uint64_t stall_ms);
/* The body is complete (ok) or cut short (!ok): the consumer sees the end
 * or a failure once it has taken what is queued. */
void stream_end(struct stream *s, int ok);
/* Whether the consumer closed, or the stream failed: nothing more is
 * wanted. */
int stream_closed(struct stream *s);

/* Consumer. Copy up to max queued bytes into dst: their count, or 0 with
 * *state STREAM_WAIT (nothing queued yet), STREAM_END (all sent) or
 * STREAM_FAILED (cut short). */
enum stream_state { STREAM_DATA, STREAM_WAIT, STREAM_END, STREAM_FAILED };
size_t stream_get(struct stream *s, void *dst, size_t max, enum stream_state *state);
/* The consumer is gone: what is queued is dropped, a waiting put returns
 * -1, and every later put is refused. */
void stream_close(struct stream *s);
/* Bytes queued now (for tests and the bound's accounting). */
size_t stream_queued(struct stream *s);

#endif
