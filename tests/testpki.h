/* testpki.h - the test PKI (tests/pki.sh, or another script of tests/
 * such as the Web PKI corpus) made into a temporary directory for a cmocka
 * test file, and its PEM files read as DER. */
#ifndef TLSWATCH_TESTPKI_H
#define TLSWATCH_TESTPKI_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include "probe/dnsmsg.h"
#include "verdict/chain.h"

#define TESTPKI_MAXCERTS 8

/* The certificates of one PEM file, as DER. */
struct pem {
	size_t n;
	gnutls_datum_t raw[TESTPKI_MAXCERTS];
	struct der der[TESTPKI_MAXCERTS];
};

/* Run $TEST_SRCDIR/pki.sh into a fresh $TMPDIR/NAME.XXXXXX. 0 or -1
 * (said on stderr). */
int testpki_make(const char *name);
/* The same with another script of $TEST_SRCDIR that takes the directory. */
int testpki_make_script(const char *script, const char *name);
/* Remove the directory and all in it. */
void testpki_remove(void);
/* The directory/file name, allocated. */
char *pki_path(const char *file);
/* Load every certificate of file (cmocka asserts on failure). */
void pem_load(struct pem *p, const char *file);
void pem_free(struct pem *p);
/* A TLSA record for the first certificate of file: its DER or its public
 * key (selector), exact or SHA2-256 or SHA2-512 (mtype). The caller frees
 * r->data. */
void pki_tlsa(struct dns_tlsa *r, unsigned usage, unsigned selector, unsigned mtype,
              const char *file);

#endif
