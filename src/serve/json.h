/* json.h - a small JSON writer: strings escaped, numbers always valid. */
#ifndef TLSWATCH_JSON_H
#define TLSWATCH_JSON_H

#include <stdint.h>

#include "core/util.h"


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
