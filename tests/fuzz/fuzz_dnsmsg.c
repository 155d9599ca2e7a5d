/*
 * fuzz_dnsmsg.c - DNS responses from a hostile resolver, read by
 * src/probe/dnsmsg.c.
 *
 * Input: byte 0 picks the type asked (0 TLSA, 1 MX, else TXT); the rest
 * is the response.
 *
 * Invariants: nothing is read outside the input (ASan); a parse that
 * succeeds keeps at most DNSMSG_MAX_RECORDS records, each no longer than
 * the input; every MX host is "" (the null MX) or a valid host name in
 * lowercase; MX records are in order; a failure gives a reason.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_dnsmsg: %s\n", #c); abort(); } } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { DNS_T_TLSA, DNS_T_MX, DNS_T_TXT };
	struct dnsmsg m;
	const char *err = NULL;
	unsigned char *copy;
	int type;
	size_t i;

	if (size < 1)
		return 0;
	type = types[data[0] < 2 ? data[0] : 2];
	/* exactly the bytes given, so that any overread is caught */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (dnsmsg_parse(copy, size - 1, type, &m, &err) == -1) {
		CHECK(err != NULL && *err != '\0');
		CHECK(m.n == 0);
	} else {
		CHECK(m.n <= DNSMSG_MAX_RECORDS);
		CHECK(m.type == type);
		CHECK(m.rcode < 16);
		for (i = 0; i < m.n; i++) {
			if (type == DNS_T_TLSA) {
				CHECK(m.tlsa[i].len + 3 <= size);
			} else if (type == DNS_T_MX) {
				const char *h = m.mx[i].host;
				CHECK(h[0] == '\0' || dns_hostname_ok(h));
				for (const char *p = h; *p; p++)
					CHECK(!isupper((unsigned char)*p));
				if (i > 0)
					CHECK(m.mx[i - 1].preference <= m.mx[i].preference);
			} else {
				CHECK(m.txt[i].len <= size);
				CHECK(m.txt[i].text[m.txt[i].len] == '\0');
			}
		}
	}
	dnsmsg_free(&m);
	free(copy);
	return 0;
}
