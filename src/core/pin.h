/* pin.h - keep what a reader on another thread sees alive until it is done.
 *
 * A /metrics scrape renders on a worker thread from pointers to the
 * daemon's published state (results, what is remembered of each target,
 * labels, the configuration). While any such reader is active, the loop
 * thread does not free or change those objects in place: it hands them to
 * pin_free (and copies before it changes), and they are freed once every
 * reader that could see them has ended. Loop thread only; the readers
 * themselves never call in here. */
#ifndef TLSWATCH_PIN_H
#define TLSWATCH_PIN_H

#include <stdint.h>

/* A reader starts: what is published now stays as it is until pin_end. */
uint64_t pin_begin(void);
/* The reader begun with pin_begin's token is done. */
void pin_end(uint64_t token);
/* Whether a reader is active: published objects are then copied before
 * they change, and freed through pin_free. */
int pin_active(void);
/* fn(p) now when no reader is active, else once the readers active now
 * have ended. p NULL: nothing. */
void pin_free(void (*fn)(void *), void *p);
/* Objects waiting for readers to end (tests, gauges). */
uint64_t pin_deferred(void);

#endif
