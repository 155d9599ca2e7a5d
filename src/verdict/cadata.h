/* cadata.h - what CAs publish about certificates, fetched on the event
 * loop and kept for every target that needs it:
 *   - CRLs, one per distribution point and issuer, parsed and verified on
 *     the worker pool, held as a compact set of serials shared by every
 *     certificate that names the same distribution point;
 *   - OCSP answers from the responders certificates name, per issuer and
 *     serial;
 *   - ACME renewal information (RFC 9773) per certificate, the directory
 *     that answers for an issuer remembered by its key identifier;
 *   - the certificates an AIA caIssuers URL serves.
 * The checks ask and get what is there now; what is missing or due for a
 * refresh is fetched (src/fetch, whose cache survives restarts), and
 * whoever asked is rechecked (verdict_request_recheck) when it arrives, so
 * a slow or dead server never delays a probe. Loop thread only. */
#ifndef TLSWATCH_CADATA_H
#define TLSWATCH_CADATA_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/certs.h"
#include "verdict/revoke.h"

struct loop;
struct work_pool;
struct fetch;

/* A failed fetch or a refused answer is asked again after this long at
 * the soonest (the fetcher itself holds a failure for a minute). */
#define CADATA_RETRY_SECONDS 60.0
/* caIssuers certificates and ACME directories are fetched again daily. */
#define CADATA_STATIC_SECONDS 86400.0
/* Data nobody asked for this long leaves memory (it stays in the cache). */
#define CADATA_IDLE_SECONDS (2 * 86400.0)
/* At most this many askers wait for one answer; more are not rechecked
 * (their next probe asks again). */
#define CADATA_MAX_REFS 65536

struct cadata_settings {
	uint64_t refresh_ms;        /* revocation data is used this long before
	                             * its server is asked again (conditionally);
	                             * never past its nextUpdate */
	char *const *acme_directories;  /* copied */
	size_t nacme_directories;
};

/* Fetch through f on l, parsing CRLs on p (all three outlive the module
 * or the next call). Called again (a reload), it takes the new settings;
 * f NULL (or never called): nothing is fetched and asks get what is kept. */
void cadata_setup(struct loop *l, struct work_pool *p, struct fetch *f,
                  const struct cadata_settings *s);
/* Cancel what is in flight, wait for the workers, free everything. */
void cadata_shutdown(void);

/* Who asks: the target (and address) to recheck when the answer comes. */
struct cadata_ref {
	const char *target;         /* NULL: nobody */
	const char *address;
};

/* A revocation answer. */
struct cadata_got {
	int have;                   /* a holds an answer (REV_ERROR included) */
	int waiting;                /* a fetch or parse is on its way; ref will be
	                             * rechecked when it ends */
	int64_t valid_until;        /* no verdict resting on it past this */
	struct rev_answer a;
};

/* What the CRL at url, issued by issuer (its DER and SHA-256 in hex),
 * says of the certificate with this serial (DER INTEGER contents). */
void cadata_crl(const char *url, const struct der *issuer, const char *issuer_sha256,
                const unsigned char *serial, size_t serial_len, int is_ca, int64_t now,
                const struct cadata_ref *ref, struct cadata_got *g);
/* What the OCSP responder at url says of cert (its DER and the interned
 * certificate), issued by issuer. */
void cadata_ocsp(const char *url, const struct der *cert, const struct cert *c,
                 const struct der *issuer, const struct cert *ic, int64_t now,
                 const struct cadata_ref *ref, struct cadata_got *g);

/* Renewal information for a leaf. */
struct cadata_ari {
	int have;                   /* ok, or error[] says why not */
	int waiting;
	int64_t valid_until;
	int ok;                     /* a window */
	int64_t start, end;
	char explanation[2049];     /* explanationURL, "" when none */
	char directory[2049];       /* the directory that answered */
	char error[160];
};
/* No directories configured: nothing (have and waiting 0). */
void cadata_ari(const struct der *leaf, int64_t now, const struct cadata_ref *ref,
                struct cadata_ari *out);

/* The certificates a caIssuers URL serves. */
struct cadata_aia {
	int have;
	int waiting;
	int64_t valid_until;
	const struct der *certs;    /* valid until the next cadata call */
	size_t ncerts;              /* 0 with have: error[] says why */
	char error[160];
};
void cadata_aia(const char *url, int64_t now, const struct cadata_ref *ref,
                struct cadata_aia *out);

/* What is kept and what runs, for /metrics and the tool. */
struct cadata_stats {
	size_t crls;                /* parsed CRLs in memory */
	size_t crl_entries;         /* their serials */
	size_t crl_bytes;           /* their memory */
	size_t ocsp;                /* OCSP answers */
	size_t ari;                 /* renewal windows */
	size_t busy;                /* fetches and parses in flight */
};
void cadata_get_stats(struct cadata_stats *st);

/* The freshness the fetch cache gives a body of each kind (fetch.h's
 * fetch_fresh_fn), with refresh seconds as the longest: for tests. */
double cadata_crl_fresh(const unsigned char *body, size_t len, double fetched, double refresh);
double cadata_ocsp_fresh(const unsigned char *body, size_t len, double fetched, double refresh);

#endif
