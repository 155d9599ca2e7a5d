/* fuzz.h - what the libFuzzer harnesses in tests/fuzz share: the entry
 * points, a check that names the broken invariant, a private directory,
 * an independent UTF-8 oracle and the test PKI. */
#ifndef TLSWATCH_FUZZ_H
#define TLSWATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Each harness defines LLVMFuzzerTestOneInput; LLVMFuzzerInitialize is
 * optional (weak in both libFuzzer and tests/fuzz/replay.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: when it does not hold, say which
 * and abort, so that libFuzzer keeps the input and the replay driver fails. */
#define FUZZ_CHECK(cond, ...) do {                                      \
	if (!(cond))                                                    \
		fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);      \
} while (0)
__attribute__((noreturn, format(printf, 4, 5)))
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* A directory of this process's own (made on first use under $TMPDIR,
 * removed at exit), and files in it. */
const char *fuzz_dir(void);
/* dir/name, allocated. */
char *fuzz_path(const char *name);
/* Write len bytes to path, whole, or abort. */
void fuzz_write(const char *path, const void *data, size_t len);

/* The input as a NUL-terminated string (allocated; embedded NULs kept). */
char *fuzz_str(const uint8_t *data, size_t size);

/* Whether s is one non-empty line of printable ASCII (an error text of ours). */
int fuzz_printable_line(const char *s);

/* Whether s[0..len) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). Written apart from util.c's
 * utf8_seq, so that it can judge what the escapers built on it write. */
int fuzz_utf8_valid(const unsigned char *s, size_t len);
/* Decode the code point at s (well-formed, checked before); its length. */
int fuzz_utf8_decode(const unsigned char *s, uint32_t *cp);

/* Whether s[0..len) is one JSON text (RFC 8259): a value, whitespace
 * around it, strings in UTF-8. */
int fuzz_json_valid(const char *s, size_t len);

/* Inputs read a byte at a time, past the end as zeros: for harnesses whose
 * first bytes choose what to do with the rest. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};
unsigned fuzz_byte(struct fuzz_in *in);

/* The test PKI (tests/pki.sh), copied here by tests/fuzz/mkcorpus.sh so
 * that seeds can name these certificates: PEM, NUL-terminated. */
extern const char fuzz_ca_pem[];      /* tlswatch Test Root CA */
extern const char fuzz_int_pem[];     /* tlswatch Test Intermediate CA */
extern const char fuzz_good_pem[];    /* good.test, signed by int */
extern const char fuzz_good_key[];    /* good.test's private key */

/* DER of a PEM certificate (allocated) and its SHA-256 in lowercase hex. */
unsigned char *fuzz_pem_der(const char *pem, size_t *len, char sha256[65]);
/* Put the PKI's certificates in dir/certs/SHA256.pem, as the state
 * directory keeps them. */
void fuzz_state_certs(const char *dir);

/* A trust store holding the test PKI's root (made once, kept). */
struct trust;
struct trust *fuzz_pki_trust(void);

/* The length of the DER element at p (header included), or 0 when p[0..n)
 * does not start with one: for cutting an input into certificates as a
 * server's Certificate message lists them. */
size_t fuzz_der_len(const uint8_t *p, size_t n);

#endif
