/* auth.h - password hashes for the metrics endpoint's basic auth (crypt(3)). */
#ifndef TLSWATCH_AUTH_H
#define TLSWATCH_AUTH_H

#include <stddef.h>

#define AUTH_DEFAULT_COST 10   /* as Go's bcrypt.DefaultCost, htpasswd -B */
#define AUTH_MIN_COST 4
#define AUTH_MAX_COST 31

/* NULL when hash is a complete crypt(3) hash this system can verify (bcrypt
 * $2a$, $2b$, $2y$ among them), else a static message saying why not. */
const char *auth_hash_problem(const char *hash);

/* 1 when password matches hash, else 0. The work is the same whatever
 * matches: the hash is always computed and compared in constant time. */
int auth_verify(const char *password, const char *hash);

/* Compare n bytes without an early exit. 1 equal, 0 not. */
int auth_equal(const void *a, const void *b, size_t n);

/* A new bcrypt ($2b$) hash of password with 2^cost rounds, or NULL with
 * *err (allocated). */
char *auth_hash_password(const char *password, unsigned cost, char **err);

#endif
