/* result.h - the outcome of one probe: the type every stage of the pipeline
 * hands on (probe -> verdict -> history -> store and serve). */
#ifndef TLSWATCH_RESULT_H
#define TLSWATCH_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/certs.h"
#include "verdict/verdict.h"

/* Stages a probe goes through, in order; also indexes result.stage_seconds. */
enum stage {
	STAGE_RESOLVE,
	STAGE_CONNECT,
	STAGE_HANDSHAKE,
	STAGE_VERIFY,
	/* Runs between connect and handshake; added last so that the values
	 * of the others (and results kept by earlier versions) stay as they were. */
	STAGE_STARTTLS,
	STAGE_COUNT
};
const char *stage_name(enum stage s);   /* "resolve", "connect", ... */

/* The outcome of one probe. A failure is a result like a success. */
struct result {
	double time;                     /* wall clock at the end of the probe */
	double duration;                 /* seconds, all stages together */
	double stage_seconds[STAGE_COUNT]; /* < 0: the stage was not reached */
	int success;                     /* connect and handshake done, certificates received */
	const char *fail_stage;          /* "resolve", "connect", "starttls", "handshake", "timeout"; NULL on success */
	const char *fail_reason;         /* bounded set, static string; NULL on success */
	char *fail_detail;               /* free text for logs; may be NULL */
	char *peer;                      /* address connected to, e.g. "[::1]:443"; may be NULL */
	char *tried;                     /* the last address a connect was tried to (a
	                                  * proxy's, through one) while none connected;
	                                  * NULL: none, or connected (peer is it) */
	/* The handshake's words, interned (str_intern: shared, never freed) */
	const char *tls_version;         /* "TLS1.3"; NULL unless the handshake completed */
	const char *cipher;              /* IANA suite name; NULL unless the handshake completed */
	const char *tls_group;           /* key exchange group, IANA's name lowercased
	                                  * ("x25519"); NULL: none or unknown */
	const char *tls_sigscheme;       /* the server's handshake signature, IANA's
	                                  * SignatureScheme ("ecdsa_secp256r1_sha256"); NULL: none */
	struct cert **certs;             /* as presented, depth 0 first */
	size_t ncerts;
	struct verdict verdict;          /* meaningful when success (verdict.h) */
	/* The DER of certs[], only until the result is handed to the store
	 * (which writes new certificates to state_dir and frees these): the
	 * daemon keeps no DER in memory. ders[i].data is allocated. */
	struct der *ders;
	size_t nders;
};

/* Release r->ders (and the verdict's anchor DER), keeping the rest of the
 * result. */
void result_drop_ders(struct result *r);

void result_free(struct result *r);
/* A failed result of no stage reached but a lookup's, stamped now: stage
 * and reason are static words, detail is taken over; start_us is when
 * the work began (mono_us). For what fails before any probe. */
struct result *result_failed(const char *stage, const char *reason, char *detail,
                             uint64_t start_us);
/* A deep copy (certificates are shared by reference). */
struct result *result_dup(const struct result *r);

/* With addresses = "all": one address's result, as multi.c hands it on. */
struct addr_result {
	char *address;           /* "127.0.0.1", "::1" */
	struct result *result;
};
void addr_results_free(struct addr_result *a, size_t n);

#endif
