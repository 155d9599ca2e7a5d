/* testlib.h - what several unit tests need: certificates made with GnuTLS at
 * test time, written as PEM when asked, and a real GnuTLS server on a
 * loopback port, run on a thread of the test. Not part of the daemon. */
#ifndef TLSWATCH_TESTLIB_H
#define TLSWATCH_TESTLIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "verdict/certs.h"

/* ---- certificates ---- */

struct tc_spec {
	const char *cn;             /* subject CN; NULL: empty subject */
	const unsigned char *serial;  /* NULL: one byte, 1 */
	size_t serial_len;
	int64_t not_before;         /* 0: an hour ago */
	int64_t not_after;          /* 0: in thirty days */
	int ca;                     /* basicConstraints CA:TRUE, keyCertSign */
	const char *const *sans;    /* "DNS:x", "IP:1.2.3.4", "IP:::1", "email:x",
	                             * "URI:x"; NULL-terminated; may be NULL */
	unsigned rsa_bits;          /* 0: an ECDSA P-256 key; else RSA of this size */
};

struct tc {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	struct der der;             /* allocated */
};

/* Make a certificate as spec says, signed by issuer (NULL: self-signed). */
void tc_make(struct tc *out, const struct tc_spec *spec, const struct tc *issuer);
void tc_free(struct tc *c);
/* Write c (with the certificates in more after it, NULL-terminated list)
 * as PEM to path; its key to key_path when not NULL. */
void tc_write(const struct tc *c, const struct tc *const *more, const char *path,
              const char *key_path);

/* ---- a TLS server on loopback ---- */

enum ts_mode {
	TS_HANDSHAKE,       /* complete the handshake, send close_notify, close */
	TS_SILENT,          /* accept and say nothing until stopped */
	TS_CLOSE,           /* accept and close at once */
};

struct ts {
	pthread_t thread;
	int fd;                  /* listening socket */
	uint16_t port;
	int stop_pipe[2];
	gnutls_certificate_credentials_t cred;
	enum ts_mode mode;
	unsigned handshakes;     /* completed, under lock */
	unsigned accepted;
	pthread_mutex_t lock;
	const char *family;      /* "127.0.0.1" or "::1" */
};

/* Serve chain[0..n) (chain[0] the leaf, with its key) on a free port of
 * host ("127.0.0.1", "::1"); staple, when not NULL, is sent as the leaf's
 * OCSP response. 0, or -1 when the address cannot be bound. */
int ts_start(struct ts *s, const char *host, const struct tc *const *chain, size_t n,
             const unsigned char *staple, size_t staple_len, enum ts_mode mode);
/* The same on a given port (0: any). */
int ts_start_at(struct ts *s, const char *host, uint16_t port, const struct tc *const *chain,
                size_t n, const unsigned char *staple, size_t staple_len, enum ts_mode mode);
/* Stop it and free everything. */
void ts_stop(struct ts *s);
unsigned ts_handshakes(struct ts *s);
/* The handshakes counted once at least n are (the server thread counts
 * after the client is done), or after ms. */
unsigned ts_wait_handshakes(struct ts *s, unsigned n, uint64_t ms);

/* ---- files and the log ---- */

/* The whole of a file (allocated, NUL-terminated), or NULL. */
char *tl_slurp(const char *path);
/* Remove path and everything under it. */
void tl_rm_rf(const char *path);
/* What the daemon logs (stderr) from tl_log_start until tl_log_stop
 * (allocated), and how often needle appears in text. */
void tl_log_start(void);
char *tl_log_stop(void);
size_t tl_count(const char *text, const char *needle);

/* Run the loop until *done is set or ms pass; 0 or -1 on the deadline. */
struct loop;
int tl_run_until(struct loop *l, const int *done, uint64_t ms);

#endif
