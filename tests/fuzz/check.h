/* check.h - the invariant check the probe endpoint's harnesses share,
 * until they move onto tests/fuzz/fuzz.h's FUZZ_CHECK: say which
 * invariant broke and abort, so that libFuzzer keeps the input. */
#ifndef TLSWATCH_FUZZ_CHECK_H
#define TLSWATCH_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...) do {                                           \
	if (!(cond)) {                                                  \
		fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);                           \
		fputc('\n', stderr);                                    \
		abort();                                                \
	}                                                               \
} while (0)

#endif
