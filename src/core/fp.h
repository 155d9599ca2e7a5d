/* fp.h - certificate fingerprints as stored records and verdict details
 * hold them: one interned, counted copy of each distinct SHA-256 (64
 * lowercase hex digits), so that the chains and paths of a million targets
 * presenting the same intermediates and roots hold 8-byte pointers, not
 * 65-byte copies. */
#ifndef TLSWATCH_FP_H
#define TLSWATCH_FP_H

/* The interned copy of hex (64 lowercase hex digits; checked by the
 * caller), with one more reference. Any thread. */
const char *fp_get(const char *hex);
/* One more reference to fp (from fp_get). */
const char *fp_ref(const char *fp);
/* One reference fewer; the copy goes with the last. NULL is ignored. */
void fp_put(const char *fp);
/* Distinct fingerprints held (for tests). */
unsigned long fp_count(void);

#endif
