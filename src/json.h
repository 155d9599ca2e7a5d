/* json.h - a small JSON writer: strings escaped, numbers always valid. */
#ifndef TLSWATCH_JSON_H
#define TLSWATCH_JSON_H

#include <stdint.h>

#include "util.h"

/* Length of the well-formed UTF-8 sequence at p (p[0] >= 0x80): 2 to 4, or
 * minus the length of the invalid part to replace by one U+FFFD. Never reads
 * past a NUL. */
int utf8_seq(const unsigned char *p);

/* A JSON string: quotes, backslash and control characters escaped
 * (\n, \uXXXX), invalid UTF-8 replaced by U+FFFD; NULL writes null. */
void json_str(struct buf *b, const char *s);
/* "key": before a value, with a comma unless first. */
void json_key(struct buf *b, const char *key, int first);
/* A number; not finite writes null. */
void json_num(struct buf *b, double v, int decimals);
void json_int(struct buf *b, int64_t v);
void json_bool(struct buf *b, int v);

#endif
