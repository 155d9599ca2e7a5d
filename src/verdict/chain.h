/* chain.h - trust stores, and GnuTLS's path verification of a presented
 * chain: the base of every verdict (verdict.h), its reasons mapped from
 * GnuTLS's status, the verified path built for the checks (check.h). */
#ifndef TLSWATCH_CHAIN_H
#define TLSWATCH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/certs.h"

/* A set of trust anchors: a CA file, or the system store. */
struct trust;
/* ca_file NULL loads the system store. NULL on failure with *err set
 * (allocated: the caller frees). */
struct trust *trust_load(const char *ca_file, char **err);
void trust_free(struct trust *t);
/* An id unique to this loaded store for the life of the process. */
uint64_t trust_id(const struct trust *t);

#endif
