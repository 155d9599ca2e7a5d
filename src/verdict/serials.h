/* serials.h - a compact, immutable, sorted set of certificate serial
 * numbers with the time and reason of each revocation: what a CRL comes
 * down to in memory. Serials are grouped by length; within a group the
 * keys are fixed-width and contiguous, indexed by their first bytes, so a
 * lookup is one bucket and a binary search (no pointer per entry). A
 * million 18-byte serials take about 21 MB. Built once on any thread,
 * then read by anyone. */
#ifndef TLSWATCH_SERIALS_H
#define TLSWATCH_SERIALS_H

#include <stddef.h>
#include <stdint.h>

#define SERIALS_MAX_LEN 64     /* longer serials are not certificates' */

struct serials;
struct serials_builder;

struct serials_builder *serials_builder_new(void);
/* Add serial (the contents of its DER INTEGER, as in the certificate).
 * Returns 0, or -1 when it is empty or longer than SERIALS_MAX_LEN. */
int serials_add(struct serials_builder *b, const unsigned char *serial, size_t len,
                int64_t revoked_at, int reason);
/* The set (b is consumed). A serial added twice keeps its first entry. */
struct serials *serials_build(struct serials_builder *b);
void serials_builder_free(struct serials_builder *b);

/* Whether serial is in s; its time and reason when it is (either may be NULL). */
int serials_find(const struct serials *s, const unsigned char *serial, size_t len,
                 int64_t *revoked_at, int *reason);
size_t serials_count(const struct serials *s);
/* Bytes s holds on the heap. */
size_t serials_memory(const struct serials *s);
void serials_free(struct serials *s);

#endif
