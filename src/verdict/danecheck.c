/*
 * danecheck.c - the DANE check: the presented chain against the target's
 * TLSA records (RFC 6698, RFC 7671), through the check interface.
 *
 * The records come from probe/tlsa.c, which the probe asked as it
 * connected; when they are not there yet the check answers from the
 * previous answer (if any), sets pending and waits, and the verdict is
 * checked again when they come. Matching is dane.c's (libgnutls-dane).
 *
 * What it says, by dane = ...:
 *   auto  a match, a mismatch and bogus records (a validation failure:
 *         there may be records), where they exist; nothing else
 *   on    also no_records, insecure (not signed) and error
 * For SMTP targets (conf_target_is_smtp) the verdict follows RFC 7672: a
 * match authenticates the peer, whatever the Web PKI says (DANE-EE checks
 * no name and no dates); a mismatch fails it (dane_mismatch), and so do
 * bogus records (dane_bogus), with which a DANE sender defers the mail.
 * A TLSA set with records but none usable (PKIX usages under SMTP,
 * unknown parameters) counts as a mismatch: no sender can match it. For
 * other targets DANE is reported, and the verdict stays the Web PKI's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "core/util.h"
#include "probe/tlsa.h"
#include "verdict/check.h"
#include "verdict/dane.h"

enum dane_status {
	DS_MATCH,
	DS_MISMATCH,
	DS_NO_RECORDS,
	DS_INSECURE,
	DS_BOGUS,
	DS_ERROR,
};

static const char *const status_words[] = {
	"match", "mismatch", "no_records", "insecure", "bogus", "error",
};

struct dane_blob {
	char name[256];           /* the TLSA name */
	uint64_t digest;          /* of the answer it was made from */
	int show;                 /* published (see the top) */
	int smtp;                 /* RFC 7672's rule applied */
	enum dane_status status;
	size_t nrecords;          /* TLSA records in the answer */
	int matched;
	unsigned usage, selector, mtype;   /* of the record that matched */
	size_t depth;             /* the presented certificate it matched */
	char labels[3][4];        /* the three as label values */
	int pkix_verified;        /* the Web PKI alone verified the chain */
	uint64_t pkix_reasons;    /* and if not, why */
	char detail[200];
};

static const struct tlsa_answer *
answer_for(const struct check_input *in, const char *name, int *pending)
{
	const struct tlsa_answer *a = tlsa_get(name, pending);

	if (a == NULL && !*pending) {
		/* not asked yet (a recheck after the answer was forgotten, a
		 * verdict made without a probe): ask now */
		tlsa_lookup(name);
		a = tlsa_get(name, pending);
	}
	if (*pending)
		tlsa_wait(name, in->ref_target, in->ref_address);
	return a;
}

/* What the answer says of the chain, into b. */
static void
judge(const struct check_input *in, const struct tlsa_answer *a, struct dane_blob *b)
{
	const char *names[2];
	struct dane_check dc;
	size_t nnames = 0;
	const char *host = strchr(b->name, '.');
	enum dane_result r;

	switch (a->status) {
	case DNSREC_INSECURE:
		b->status = DS_INSECURE;
		b->nrecords = a->n;
		snprintf(b->detail, sizeof(b->detail), "the TLSA answer is not DNSSEC-signed%s",
		    a->n ? " (its records are not used)" : "");
		return;
	case DNSREC_BOGUS:
		b->status = DS_BOGUS;
		snprintf(b->detail, sizeof(b->detail), "DNSSEC validation of the TLSA records "
		    "failed: %s", a->detail ? a->detail : "bogus");
		return;
	case DNSREC_ERROR:
		b->status = DS_ERROR;
		snprintf(b->detail, sizeof(b->detail), "the TLSA lookup failed: %s (%s)",
		    a->reason ? a->reason : "error", a->detail ? a->detail : "");
		return;
	case DNSREC_SECURE:
		break;
	}
	b->nrecords = a->n;
	if (a->n == 0) {
		b->status = DS_NO_RECORDS;
		snprintf(b->detail, sizeof(b->detail), "no TLSA records (authenticated %s)",
		    a->nxdomain ? "NXDOMAIN" : "denial");
		return;
	}
	/* reference identifiers (RFC 7672 section 3.2.2): the name checked
	 * and the TLSA base domain (the host after "_PORT._tcp.") */
	if (in->hostname)
		names[nnames++] = in->hostname;
	if (host && (host = strchr(host + 1, '.')) != NULL &&
	    (nnames == 0 || strcasecmp(host + 1, names[0]) != 0))
		names[nnames++] = host + 1;
	memset(&dc, 0, sizeof(dc));
	dc.chain = in->chain->der;
	dc.nchain = in->chain->n;
	dc.recs = a->recs;
	dc.nrecs = a->n;
	dc.names = names;
	dc.nnames = nnames;
	dc.smtp = b->smtp;
	dc.pkix_verified = b->pkix_verified;
	r = dane_match(&dc);
	snprintf(b->detail, sizeof(b->detail), "%s", dc.detail);
	switch (r) {
	case DANE_MATCH:
		b->status = DS_MATCH;
		b->matched = 1;
		b->usage = a->recs[dc.matched].usage;
		b->selector = a->recs[dc.matched].selector;
		b->mtype = a->recs[dc.matched].mtype;
		b->depth = dc.matched_depth;
		snprintf(b->labels[0], sizeof(b->labels[0]), "%u", b->usage);
		snprintf(b->labels[1], sizeof(b->labels[1]), "%u", b->selector);
		snprintf(b->labels[2], sizeof(b->labels[2]), "%u", b->mtype);
		snprintf(b->detail, sizeof(b->detail), "TLSA %u %u %u matched %s", b->usage,
		    b->selector, b->mtype, dc.matched_depth ? "a CA certificate of the chain" :
		    "the leaf");
		break;
	case DANE_MISMATCH:
	case DANE_UNUSABLE:
		b->status = DS_MISMATCH;
		break;
	case DANE_ERROR:
		b->status = DS_ERROR;
		break;
	}
}

/* The expiry a DANE match is judged by: the certificates from the leaf up
 * to the one matched. */
static int64_t
match_expiry(const struct check_input *in, const struct dane_blob *b)
{
	int64_t exp = INT64_MAX;

	for (size_t i = 0; i <= b->depth && i < in->chain->n; i++)
		if (in->chain->certs[i]->not_after < exp)
			exp = in->chain->certs[i]->not_after;
	return exp;
}

static void
dane_run(const struct check_input *in, struct check_output *out)
{
	const struct conf_target *ct = in->target;
	const struct tlsa_answer *a;
	struct dane_blob *b;
	char name[256];
	int pending;

	if (tlsa_target_name(ct, name, sizeof(name)) == -1)
		return;
	a = answer_for(in, name, &pending);
	out->pending = pending;
	if (a == NULL)
		return;     /* nothing to say until the first answer */
	b = xcalloc(1, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->digest = a->digest;
	b->smtp = conf_target_is_smtp(ct);
	b->pkix_verified = in->path != NULL && in->base_reasons == 0;
	b->pkix_reasons = in->base_reasons;
	judge(in, a, b);
	b->show = ct->dane == CONF_DANE_ON || b->status == DS_MATCH ||
	    b->status == DS_MISMATCH || b->status == DS_BOGUS;
	out->blob = b;
	if (!b->smtp)
		return;
	if (b->status == DS_MATCH) {
		out->authenticated = 1;
		out->authenticated_expiry = match_expiry(in, b);
	} else if (b->status == DS_MISMATCH) {
		out->reasons |= REASON(DANE_MISMATCH);
	} else if (b->status == DS_BOGUS) {
		out->reasons |= REASON(DANE_BOGUS);
	}
}

/* The verdict holds while the answer it was made from is the last one and
 * no lookup is in flight (the probe that reuses it has just asked). */
static int
dane_holds(const void *blob)
{
	const struct dane_blob *b = blob;
	const struct tlsa_answer *a;
	int pending;

	a = tlsa_get(b->name, &pending);
	return !pending && a != NULL && a->digest == b->digest;
}

static int
sample_records(const void *blob, size_t i, struct check_sample *s)
{
	const struct dane_blob *b = blob;

	if (i > 0 || !b->show || b->status == DS_BOGUS || b->status == DS_ERROR)
		return 0;
	s->value = (double)b->nrecords;
	return 1;
}

static int
sample_status(const void *blob, size_t i, struct check_sample *s)
{
	const struct dane_blob *b = blob;

	if (i > 0 || !b->show)
		return 0;
	s->names[0] = "status";
	s->values[0] = status_words[b->status];
	s->value = 1;
	return 1;
}

static int
sample_match(const void *blob, size_t i, struct check_sample *s)
{
	const struct dane_blob *b = blob;

	if (i > 0 || !b->show || b->status != DS_MATCH)
		return 0;
	s->names[0] = "usage";
	s->values[0] = b->labels[0];
	s->names[1] = "selector";
	s->values[1] = b->labels[1];
	s->names[2] = "matching_type";
	s->values[2] = b->labels[2];
	s->value = 1;
	return 1;
}

static const char *const no_labels[] = { NULL };
static const char *const status_labels[] = { "status", NULL };
static const char *const match_labels[] = { "usage", "selector", "matching_type", NULL };

static const struct check_family dane_families[] = {
	{ "tlswatch_dane_tlsa_records", "gauge",
	  "TLSA records at _PORT._tcp.HOST in the last DNSSEC answer.", no_labels,
	  sample_records },
	{ "tlswatch_dane_status", "gauge",
	  "DANE result of the last verdict: match, mismatch, no_records, insecure "
	  "(not DNSSEC-signed), bogus (validation failed) or error.", status_labels,
	  sample_status },
	{ "tlswatch_dane_match_info", "gauge",
	  "The TLSA record that matched the presented chain.", match_labels, sample_match },
};

static void
dane_describe(const void *blob, struct buf *out)
{
	const struct dane_blob *b = blob;

	if (!b->show)
		return;
	buf_printf(out, "%s: %s", b->name, status_words[b->status]);
	if (b->detail[0])
		buf_printf(out, ": %s", b->detail);
	buf_putc(out, '\n');
	if (b->smtp && b->status == DS_MATCH && !b->pkix_verified) {
		buf_puts(out, "authenticated by DANE (RFC 7672); the Web PKI alone says: ");
		verdict_words_join(out, VERDICT_REASON, b->pkix_reasons, ", ", "not verified");
		buf_putc(out, '\n');
	}
}

const struct check check_dane = {
	.name = "dane",
	.run = dane_run,
	.families = dane_families,
	.nfamilies = ARRAY_SIZE(dane_families),
	.describe = dane_describe,
	.holds = dane_holds,
};
