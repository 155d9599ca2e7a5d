/* test_authcache.c - verified credentials, remembered under a keyed hash:
 * what makes two keys differ, expiry, and the bound on entries. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "serve/authcache.h"

#define HASH "$2b$04$Z7vud.4g0REJjY4Y6RHgBeQMftlY736njstnUIyE4W9SSpNF3.Gw6"

static void
test_keys(void **state)
{
	struct authcache *c = authcache_new(4, 1000), *other = authcache_new(4, 1000);
	unsigned char k[AUTHCACHE_KEY_SIZE], k2[AUTHCACHE_KEY_SIZE];

	(void)state;
	authcache_key(c, "alice", HASH, "secret", k);
	authcache_key(c, "alice", HASH, "secret", k2);
	assert_memory_equal(k, k2, sizeof(k));
	/* every part counts, and no two triples run together */
	authcache_key(c, "alice", HASH, "secreT", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	authcache_key(c, "bob", HASH, "secret", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	authcache_key(c, "alice", NULL, "secret", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	authcache_key(c, "alice", HASH "x", "secret", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	authcache_key(c, "ab", "c", "d", k);
	authcache_key(c, "a", "bc", "d", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	authcache_key(c, "a", "", "x", k);
	authcache_key(c, "a", NULL, "x", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	/* each cache has its own secret: its keys say nothing elsewhere */
	authcache_key(c, "alice", HASH, "secret", k);
	authcache_key(other, "alice", HASH, "secret", k2);
	assert_memory_not_equal(k, k2, sizeof(k));
	authcache_free(c);
	authcache_free(other);
	authcache_free(NULL);
}

static void
test_hits_and_expiry(void **state)
{
	struct authcache *c = authcache_new(4, 1000);
	unsigned char k[AUTHCACHE_KEY_SIZE], wrong[AUTHCACHE_KEY_SIZE];

	(void)state;
	authcache_key(c, "alice", HASH, "secret", k);
	authcache_key(c, "alice", HASH, "wrong", wrong);
	assert_false(authcache_hit(c, k, 0));
	authcache_put(c, k, 100);
	assert_true(authcache_hit(c, k, 100));
	assert_true(authcache_hit(c, k, 1099));
	assert_false(authcache_hit(c, wrong, 500));
	/* bounded in time: from the verification, not refreshed by hits */
	assert_false(authcache_hit(c, k, 1100));
	/* a clock that went back is no hit either */
	assert_false(authcache_hit(c, k, 50));
	/* put again: a fresh verification */
	authcache_put(c, k, 2000);
	assert_true(authcache_hit(c, k, 2999));
	authcache_free(c);
}

static void
test_bounded(void **state)
{
	struct authcache *c = authcache_new(3, 100000);
	unsigned char k[5][AUTHCACHE_KEY_SIZE];
	char pw[16];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(pw, sizeof(pw), "pw%d", i);
		authcache_key(c, "u", HASH, pw, k[i]);
	}
	for (int i = 0; i < 3; i++)
		authcache_put(c, k[i], 10 + (uint64_t)i);
	/* the same credentials again take no second entry */
	authcache_put(c, k[2], 20);
	for (int i = 0; i < 3; i++)
		assert_true(authcache_hit(c, k[i], 30));
	/* full: the oldest goes */
	authcache_put(c, k[3], 40);
	assert_false(authcache_hit(c, k[0], 41));
	assert_true(authcache_hit(c, k[1], 41));
	assert_true(authcache_hit(c, k[2], 41));
	assert_true(authcache_hit(c, k[3], 41));
	authcache_put(c, k[4], 50);
	assert_false(authcache_hit(c, k[1], 51));
	assert_true(authcache_hit(c, k[2], 51));
	assert_true(authcache_hit(c, k[4], 51));
	authcache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_hits_and_expiry),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
