/*
 * fuzz_mtasts.c - MTA-STS policies and records, TLS-RPT records and MX
 * patterns from a hostile domain, read by src/verdict/mtasts.c.
 *
 * Input: byte 0 picks what the rest is: 0 a policy body, 1 an _mta-sts
 * TXT record, 2 a TLS-RPT TXT record, else a pattern and a host name
 * separated by the first NUL.
 *
 * Invariants: nothing is read outside the input (ASan); an error message
 * is NUL-terminated inside its buffer; a policy that parses has a known
 * mode, max_age at most MTASTS_MAX_AGE_MAX, at most MTASTS_MAX_MX
 * patterns (at least one unless mode is none), each lowercase and
 * matching itself when it has no wildcard; an STSv1 record that parses
 * has an id of 1 to 32 letters and digits; a record not of its version
 * is never valid.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_mtasts: %s\n", #c); abort(); } } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[64], id[MTASTS_ID_MAX + 1];
	char *copy;
	size_t n, i;
	int valid;

	if (size < 1)
		return 0;
	n = size - 1;
	copy = malloc(n ? n : 1);
	memcpy(copy, data + 1, n);
	memset(err, 'X', sizeof(err));
	switch (data[0]) {
	case 0: {
		struct mtasts_policy p;

		if (mtasts_policy_parse(copy, n, &p, err, sizeof(err)) == 0) {
			CHECK(p.mode == MTASTS_ENFORCE || p.mode == MTASTS_TESTING ||
			    p.mode == MTASTS_NONE);
			CHECK(p.max_age <= MTASTS_MAX_AGE_MAX);
			CHECK(p.nmx <= MTASTS_MAX_MX);
			CHECK(p.nmx > 0 || p.mode == MTASTS_NONE);
			for (i = 0; i < p.nmx; i++) {
				for (const char *c = p.mx[i]; *c; c++)
					CHECK(!isupper((unsigned char)*c) && *c != ' ');
				if (p.mx[i][0] != '*')
					CHECK(mtasts_mx_match(p.mx[i], p.mx[i]));
				CHECK(mtasts_policy_covers(&p, p.mx[i]) || p.mx[i][0] == '*');
			}
		} else {
			CHECK(memchr(err, '\0', sizeof(err)) != NULL);
			CHECK(p.nmx == 0 && p.mx == NULL);
		}
		mtasts_policy_free(&p);
		break;
	}
	case 1:
		if (mtasts_record_parse(copy, n, &valid, id, err, sizeof(err))) {
			CHECK(n >= 7 && memcmp(copy, "v=STSv1", 7) == 0);
			if (valid) {
				size_t l = strlen(id);
				CHECK(l >= 1 && l <= MTASTS_ID_MAX);
				for (i = 0; i < l; i++)
					CHECK(isalnum((unsigned char)id[i]));
			} else {
				CHECK(memchr(err, '\0', sizeof(err)) != NULL);
			}
		}
		break;
	case 2:
		if (tlsrpt_record_parse(copy, n, &valid, err, sizeof(err)))
			CHECK(n >= 10 && memcmp(copy, "v=TLSRPTv1", 10) == 0);
		else
			CHECK(n < 10 || memcmp(copy, "v=TLSRPTv1", 10) != 0 ||
			    (n > 10 && copy[10] != ';' && copy[10] != ' ' && copy[10] != '\t'));
		break;
	default: {
		/* pattern NUL host, both strings within the input */
		char *s = malloc(n + 2);
		const char *host;

		memcpy(s, copy, n);
		s[n] = '\0';
		s[n + 1] = '\0';
		host = s + strlen(s) + 1;
		if (host > s + n)
			host = s + n;
		(void)mtasts_mx_match(s, host);
		free(s);
		break;
	}
	}
	free(copy);
	return 0;
}
