/* authcache.h - basic-auth credentials verified recently, remembered under
 * a keyed hash so that a scrape costs a password hash only now and then. */
#ifndef TLSWATCH_AUTHCACHE_H
#define TLSWATCH_AUTHCACHE_H

#include <stddef.h>
#include <stdint.h>

#define AUTHCACHE_KEY_SIZE 32   /* HMAC-SHA256 */

struct authcache;

/* At most size entries, each forgotten ttl_ms after its verification. The
 * HMAC key is random, made here: no two caches (nor processes) agree. */
struct authcache *authcache_new(size_t size, uint64_t ttl_ms);
void authcache_free(struct authcache *c);

/* The entry key of these credentials: HMAC-SHA256 of user, the stored hash
 * they are checked against (NULL for an unknown user) and the password,
 * each length-prefixed, so no two triples share a key. */
void authcache_key(const struct authcache *c, const char *user, const char *hash,
                   const char *password, unsigned char out[AUTHCACHE_KEY_SIZE]);
/* 1 when key was put less than ttl_ms before now, else 0. Every live entry
 * is compared in constant time. */
int authcache_hit(const struct authcache *c, const unsigned char key[AUTHCACHE_KEY_SIZE],
                  uint64_t now);
/* Remember key as verified at now, in place of an expired or the oldest entry. */
void authcache_put(struct authcache *c, const unsigned char key[AUTHCACHE_KEY_SIZE],
                   uint64_t now);

#endif
