/* testpki.h - what the certificate unit tests share: a directory of
 * certificates that a script of tests/ makes at test time, and the PEM
 * chains in it read as DER. For cmocka tests; failures are assertions. */
#ifndef TLSWATCH_TESTPKI_H
#define TLSWATCH_TESTPKI_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "verdict/chain.h"

#define TEST_PEM_MAX 8

/* The certificates of one PEM file, as DER, in file order. */
struct test_pem {
	size_t n;
	gnutls_datum_t raw[TEST_PEM_MAX];
	struct der der[TEST_PEM_MAX];
};

/* A new directory under $TMPDIR (TAG in its name) into dir (size bytes),
 * filled by `sh $TEST_SRCDIR/SCRIPT DIR`. 0, or -1 (said on stderr, and
 * nothing left behind). */
int test_pki_make(const char *script, const char *tag, char *dir, size_t size);
/* Remove the directory and its files; dir becomes "". */
void test_pki_remove(char *dir);
/* dir/name, allocated. */
char *test_pki_path(const char *dir, const char *name);
/* Read dir/name (1 to TEST_PEM_MAX certificates) into p, or fail the test. */
void test_pem_load(struct test_pem *p, const char *dir, const char *name);
void test_pem_free(struct test_pem *p);

#endif
