/*
 * fuzz_goname.c - a certificate's Name, as a hostile CA writes it, into
 * Go's string (src/verdict/goname.c; GnuTLS parses the DER).
 *
 * Input: the DER of a Name.
 *
 * Invariants: the result, when there is one, is well-formed UTF-8 (Go's
 * strings are: what is not comes out U+FFFD), * and is the same when asked twice.
 *
 * A plain libFuzzer harness (LLVMFuzzerTestOneInput); it joins the
 * tests/fuzz/ build once that lands.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/goname.h"

#include "check.h"

/* RFC 3629, written apart from goname.c's decoder. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = goname_dn(data, size), *b;

	if (a == NULL) {
		CHECK(goname_dn(data, size) == NULL, "refused once, accepted once");
		return 0;
	}
	CHECK(utf8_ok((const unsigned char *)a, strlen(a)), "not UTF-8: %s", a);
	b = goname_dn(data, size);
	CHECK(b != NULL && strcmp(a, b) == 0, "two answers for one Name");
	free(a);
	free(b);
	return 0;
}
