/* certinfo.h - a certificate for people: its fields as JSON and its DER as
 * PEM. The fields are certs.c's (one parser); this only formats them. */
#ifndef TLSWATCH_CERTINFO_H
#define TLSWATCH_CERTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "verdict/certs.h"

/* The certificate as PEM text (allocated), or NULL. */
char *certinfo_pem(const unsigned char *der, size_t len);
/* c as a JSON object, with its depth and days left at now. Fields a
 * hand-made certificate lacks (no key type) are null. */
void certinfo_json(struct buf *b, const struct cert *c, size_t depth, double now);

#endif
