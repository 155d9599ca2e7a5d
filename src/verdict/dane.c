/*
 * dane.c - match a presented chain against its TLSA records.
 *
 * libgnutls-dane does the matching (dane_verify_crt_raw: certificate or
 * public key, exact or SHA2-256 or SHA2-512). For CA usages it only ever
 * looks at the certificate right after the leaf and checks nothing of the
 * path beyond "it issued the leaf", so for DANE-TA each presented
 * certificate but the leaf is matched in turn, and the path from the leaf
 * up to a match is then verified by GnuTLS with that certificate as its
 * only trust anchor, for the reference names, at the current time, as
 * RFC 7672 section 3.1.2 asks. Records go to it one at a time, so we know
 * which one matched.
 *
 * gnutls-dane wants a dane_state_t even to read raw records; one is made
 * on first use without the resolver or DNSSEC keys it would otherwise load
 * (the records come from our own lookups) and kept until dane_fini.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/dane.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/dane.h"

/* As chain.c: what a server can make us look at, bounded. */
#define DANE_MAX_CHAIN 16

static dane_state_t dane_state;

void
dane_fini(void)
{
	if (dane_state != NULL)
		dane_state_deinit(dane_state);
	dane_state = NULL;
}

const char *
dane_result_name(enum dane_result r)
{
	switch (r) {
	case DANE_MATCH:
		return "match";
	case DANE_MISMATCH:
		return "mismatch";
	case DANE_UNUSABLE:
		return "unusable";
	default:
		return "error";
	}
}

/* Is record i one to use? (RFC 7671 sections 4 and 9; RFC 7672 3.1.3.) */
static int
usable(const struct dane_check *c, size_t i)
{
	const struct dns_tlsa *r = &c->recs[i];
	size_t j;

	if (r->usage > 3 || r->selector > 1 || r->mtype > 2 || r->len == 0)
		return 0;
	if (c->smtp && r->usage < 2)
		return 0;
	/* Digest agility: SHA2-512 where there is one for this usage and
	 * selector, SHA2-256 otherwise. */
	if (r->mtype == 1)
		for (j = 0; j < c->nrecs; j++)
			if (c->recs[j].usage == r->usage &&
			    c->recs[j].selector == r->selector &&
			    c->recs[j].mtype == 2 && c->recs[j].len > 0)
				return 0;
	return 1;
}

/* Does record r's data match cert, by gnutls-dane (certificate or public
 * key, exact or hashed)? 1, 0, or -1 when cert cannot be read. The usage
 * is given as DANE-EE: gnutls-dane's CA usages would also insist that the
 * certificate directly issued the leaf, which a trust anchor two levels
 * up, or a chain sent out of order, does not. The path is ours to check. */
static int
gnutls_dane_matches(const struct dns_tlsa *r, const gnutls_datum_t *cert)
{
	unsigned char *rd = xmalloc(3 + r->len);
	char *data[2] = { (char *)rd, NULL };
	int len[2] = { (int)(3 + r->len), 0 };
	dane_query_t q = NULL;
	unsigned verify = 0;
	int ret;

	rd[0] = DANE_CERT_USAGE_LOCAL_EE;
	rd[1] = r->selector;
	rd[2] = r->mtype;
	memcpy(rd + 3, r->data, r->len);
	ret = dane_raw_tlsa(dane_state, &q, data, len, 1, 0);
	if (ret < 0) {
		free(q);   /* dane_raw_tlsa leaves it allocated on corrupt data */
		free(rd);
		return -1;
	}
	ret = dane_verify_crt_raw(dane_state, cert, 1, GNUTLS_CRT_X509, q, 0, 0, &verify);
	dane_query_deinit(q);
	free(rd);
	if (ret < 0)
		return -1;
	return verify == 0;
}

/* Does the leaf verify, through the other presented certificates, with
 * chain[top] as the only anchor, for one of c->names, now? 1 or 0; why
 * not in c->detail. */
static int
ta_path_ok(struct dane_check *c, const gnutls_datum_t *chain, size_t n, size_t top)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t ta = NULL, crts[DANE_MAX_CHAIN];
	size_t i, ncrt = 0, k;
	unsigned status = 1;
	int ok = 0;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0 || gnutls_x509_crt_init(&ta) < 0 ||
	    gnutls_x509_crt_import(ta, &chain[top], GNUTLS_X509_FMT_DER) < 0)
		goto out;
	if (gnutls_x509_trust_list_add_cas(tl, &ta, 1, 0) != 1)
		goto out;
	ta = NULL;   /* the list owns it now */
	/* GnuTLS puts an unsorted list in order and leaves out what does
	 * not lead from the leaf to the anchor. */
	for (i = 0; i < n; i++) {
		if (i == top)
			continue;
		if (gnutls_x509_crt_init(&crts[ncrt]) < 0)
			goto out;
		ncrt++;
		if (gnutls_x509_crt_import(crts[ncrt - 1], &chain[i], GNUTLS_X509_FMT_DER) < 0)
			goto out;
	}
	for (k = 0; k < (c->nnames ? c->nnames : 1) && !ok; k++) {
		gnutls_typed_vdata_st vd;
		unsigned nvd = 0;

		if (c->nnames) {
			vd.type = GNUTLS_DT_DNS_HOSTNAME;
			vd.data = (unsigned char *)c->names[k];
			vd.size = 0;
			nvd = 1;
		}
		if (gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrt,
		    nvd ? &vd : NULL, nvd, 0, &status, NULL) == 0 && status == 0)
			ok = 1;
	}
	if (!ok) {
		gnutls_datum_t out = { NULL, 0 };

		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
		    &out, 0) == 0) {
			snprintf(c->detail, sizeof(c->detail),
			    "DANE-TA record matched depth %zu, but the path to it does not "
			    "verify: %s", top, (char *)out.data);
			gnutls_free(out.data);
		}
	}
out:
	for (i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	if (ta != NULL)
		gnutls_x509_crt_deinit(ta);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	return ok;
}

/* Record i against the chain: 1 match, 0 not, -1 the chain is unreadable. */
static int
match_one(struct dane_check *c, size_t i, const gnutls_datum_t *chain, size_t n)
{
	const struct dns_tlsa *r = &c->recs[i];
	size_t top;
	int m;

	if (r->usage == 1 || r->usage == 3) {
		if ((m = gnutls_dane_matches(r, &chain[0])) != 1)
			return m;
		if (r->usage == 1 && !c->pkix_verified) {
			snprintf(c->detail, sizeof(c->detail),
			    "PKIX-EE record matched the leaf, but the chain does not verify");
			return 0;
		}
		c->matched_depth = 0;
		return 1;
	}
	/* CA usages: each presented certificate but the leaf. */
	for (top = 1; top < n; top++) {
		if ((m = gnutls_dane_matches(r, &chain[top])) == -1)
			return -1;
		if (m == 0)
			continue;
		if (!ta_path_ok(c, chain, n, top))
			continue;
		if (r->usage == 0 && !c->pkix_verified) {
			snprintf(c->detail, sizeof(c->detail),
			    "PKIX-TA record matched depth %zu, but the chain does not verify", top);
			continue;
		}
		c->matched_depth = top;
		return 1;
	}
	return 0;
}

enum dane_result
dane_match(struct dane_check *c)
{
	gnutls_datum_t chain[DANE_MAX_CHAIN];
	size_t n, i;
	int m;

	c->matched = -1;
	c->matched_depth = 0;
	c->usable = 0;
	c->detail[0] = '\0';
	if (c->nchain == 0) {
		snprintf(c->detail, sizeof(c->detail), "no certificate was presented");
		return DANE_ERROR;
	}
	if (dane_state == NULL && dane_state_init(&dane_state,
	    DANE_F_IGNORE_LOCAL_RESOLVER | DANE_F_IGNORE_DNSSEC) < 0) {
		dane_state = NULL;
		snprintf(c->detail, sizeof(c->detail), "libgnutls-dane cannot start");
		return DANE_ERROR;
	}
	n = c->nchain < DANE_MAX_CHAIN ? c->nchain : DANE_MAX_CHAIN;
	for (i = 0; i < n; i++) {
		if (c->chain[i].len == 0 || c->chain[i].len > UINT32_MAX) {
			snprintf(c->detail, sizeof(c->detail), "certificate %zu is empty", i);
			return DANE_ERROR;
		}
		chain[i].data = (unsigned char *)c->chain[i].data;
		chain[i].size = (unsigned)c->chain[i].len;
	}
	for (i = 0; i < c->nrecs; i++) {
		if (!usable(c, i))
			continue;
		c->usable++;
		if ((m = match_one(c, i, chain, n)) == -1) {
			snprintf(c->detail, sizeof(c->detail),
			    "the presented chain cannot be read (certificate or key)");
			return DANE_ERROR;
		}
		if (m == 1) {
			c->matched = (long)i;
			c->detail[0] = '\0';
			return DANE_MATCH;
		}
	}
	if (c->usable == 0) {
		snprintf(c->detail, sizeof(c->detail), "none of the %zu TLSA records is usable%s",
		    c->nrecs, c->smtp ? " for SMTP" : "");
		return DANE_UNUSABLE;
	}
	if (c->detail[0] == '\0')
		snprintf(c->detail, sizeof(c->detail),
		    "none of the %zu usable TLSA records matches the presented chain", c->usable);
	return DANE_MISMATCH;
}
