/* writer.h - whole-file atomic writes off the event loop: one writer thread
 * (core/work.c) fed in order, at most one write per file in flight with the
 * newest content winning, failures counted and logged once while they last. */
#ifndef TLSWATCH_WRITER_H
#define TLSWATCH_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct writer;

enum writer_status {
	WRITER_OK,
	WRITER_FAILED,       /* counted and logged (once while it lasts) */
	WRITER_SUPERSEDED,   /* newer content for the same file came first */
};

/* Called on the loop thread when a put is settled. */
typedef void (*writer_done_fn)(void *arg, enum writer_status status);

/* A writer reporting to l; what names the place in log lines ("state_dir
 * /var/lib/tlswatch"). NULL with *err when its thread cannot start. */
struct writer *writer_new(struct loop *l, const char *what, char **err);
/* Drain, stop the thread and free. Accepts NULL. */
void writer_free(struct writer *w);

/* Bytes queued and not written yet, at most: a disk slower than the
 * results coming in (100,000 new targets at start) must not grow memory
 * without bound; what does not fit is written at the owner's next try. */
#define WRITER_MAX_QUEUED ((size_t)8 * 1024 * 1024)

/*
 * Write data[0..len) (taken over, freed here) to dir/name: to a temporary
 * name, fsync, rename over the old file, fsync the directory, so that a
 * crash leaves the old file or the new one. dir is made (with its parents)
 * when missing. Writes happen one at a time, in the order queued, except
 * that a file already in flight gets its newest content written next and
 * any content queued before it is superseded. done (may be NULL) hears
 * the outcome. Returns 0, or -1 when the queue is full (nothing queued,
 * done not called).
 */
int writer_put(struct writer *w, const char *dir, const char *name, char *data, size_t len,
               writer_done_fn done, void *arg);

/* Block until every write queued so far has settled (their done called). */
void writer_drain(struct writer *w);
/* Writes that failed since start. */
uint64_t writer_errors(const struct writer *w);
/* Writes queued or in flight, and their bytes. */
size_t writer_pending(const struct writer *w);
size_t writer_queued_bytes(const struct writer *w);

#endif
