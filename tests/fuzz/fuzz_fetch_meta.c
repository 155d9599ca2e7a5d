/*
 * fuzz_fetch_meta.c - the fetch cache's .meta parser (cache_meta_parse) on
 * any bytes: a damaged or foreign file must cost a refetch, never a crash.
 *
 * Invariants: an accepted meta renders (cache_meta_render) to a text that
 * parses to the same meta, and renders again to the same text; its values
 * are fit to send back in a header (cache_value_ok).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fuzz.h"
#include "fetch/cache.h"

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_meta m, back;
	struct buf b1, b2;

	if (cache_meta_parse((const char *)data, size, &m) == -1)
		return 0;
	FUZZ_CHECK(m.url != NULL && strlen(m.url) <= CACHE_MAX_URL, "a URL");
	FUZZ_CHECK(m.etag == NULL || cache_value_ok(m.etag, strlen(m.etag)), "etag sendable");
	FUZZ_CHECK(m.last_modified == NULL || cache_value_ok(m.last_modified, strlen(m.last_modified)),
	    "last_modified sendable");
	buf_init(&b1);
	buf_init(&b2);
	cache_meta_render(&b1, &m);
	FUZZ_CHECK(cache_meta_parse(b1.data, b1.len, &back) == 0, "the rendering parses");
	FUZZ_CHECK(same(m.url, back.url) && same(m.etag, back.etag) &&
	    same(m.last_modified, back.last_modified) && same(m.content_type, back.content_type),
	    "same strings");
	FUZZ_CHECK(m.kind == back.kind && m.body_size == back.body_size &&
	    memcmp(m.body_sha256, back.body_sha256, 32) == 0, "same numbers");
	cache_meta_render(&b2, &back);
	FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "renders alike");
	buf_free(&b1);
	buf_free(&b2);
	cache_meta_free(&m);
	cache_meta_free(&back);
	return 0;
}
