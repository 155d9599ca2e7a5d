/* authcache.c - a small table of HMAC-SHA256 keys of verified credentials
 * (GnuTLS's HMAC, a key from its random generator): the cache holds
 * neither passwords nor anything that tests one offline without its key. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "core/log.h"
#include "core/util.h"
#include "serve/auth.h"
#include "serve/authcache.h"

struct entry {
	unsigned char key[AUTHCACHE_KEY_SIZE];
	uint64_t at;
	int used;
};

struct authcache {
	unsigned char secret[32];
	struct entry *v;
	size_t n;
	uint64_t ttl;
};

struct authcache *
authcache_new(size_t size, uint64_t ttl_ms)
{
	struct authcache *c = xcalloc(1, sizeof(*c));

	c->v = xcalloc(size ? size : 1, sizeof(*c->v));
	c->n = size ? size : 1;
	c->ttl = ttl_ms;
	/* Without a key the table would be an offline oracle for passwords:
	 * GnuTLS's generator failing is a broken invariant. */
	if (gnutls_rnd(GNUTLS_RND_KEY, c->secret, sizeof(c->secret)) != 0)
		fatalx("authcache: no random bytes for the HMAC key");
	return c;
}

void
authcache_free(struct authcache *c)
{
	if (c == NULL)
		return;
	explicit_bzero(c->secret, sizeof(c->secret));
	explicit_bzero(c->v, c->n * sizeof(*c->v));
	free(c->v);
	free(c);
}

static void
put_field(struct buf *b, const char *s)
{
	size_t len = s ? strlen(s) + 1 : 0;   /* NULL and "" differ */
	unsigned char n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (unsigned char)(len >> (56 - 8 * i));
	buf_append(b, n, sizeof(n));
	if (s)
		buf_append(b, s, len - 1);
}

void
authcache_key(const struct authcache *c, const char *user, const char *hash,
    const char *password, unsigned char out[AUTHCACHE_KEY_SIZE])
{
	struct buf b;

	buf_init(&b);
	put_field(&b, user);
	put_field(&b, hash);
	put_field(&b, password);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, c->secret, sizeof(c->secret),
	    b.data, b.len, out) != 0)
		fatalx("authcache: HMAC-SHA256 failed");
	explicit_bzero(b.data, b.len);
	buf_free(&b);
}

static int
live(const struct authcache *c, const struct entry *e, uint64_t now)
{
	return e->used && now >= e->at && now - e->at < c->ttl;
}

int
authcache_hit(const struct authcache *c, const unsigned char key[AUTHCACHE_KEY_SIZE],
    uint64_t now)
{
	int hit = 0;

	for (size_t i = 0; i < c->n; i++)
		hit |= live(c, &c->v[i], now) &
		    auth_equal(c->v[i].key, key, AUTHCACHE_KEY_SIZE);
	return hit;
}

void
authcache_put(struct authcache *c, const unsigned char key[AUTHCACHE_KEY_SIZE],
    uint64_t now)
{
	struct entry *slot = NULL;

	/* the same credentials again, else a free or expired entry, else
	 * the oldest */
	for (size_t i = 0; i < c->n && slot == NULL; i++)
		if (live(c, &c->v[i], now) &&
		    auth_equal(c->v[i].key, key, AUTHCACHE_KEY_SIZE))
			slot = &c->v[i];
	for (size_t i = 0; i < c->n && slot == NULL; i++)
		if (!live(c, &c->v[i], now))
			slot = &c->v[i];
	if (slot == NULL) {
		slot = &c->v[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->v[i].at < slot->at)
				slot = &c->v[i];
	}
	memcpy(slot->key, key, AUTHCACHE_KEY_SIZE);
	slot->at = now;
	slot->used = 1;
}
