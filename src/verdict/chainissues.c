/* chainissues.c - the first check (check.h): how the server put its chain
 * together, trusted or not. Out of order, a gap before a trust anchor, the
 * root sent along, a certificate sent twice: browsers tolerate all four,
 * other clients do not, so they are chain issues and never reasons. */
#include "config.h"

#include <gnutls/x509.h>

#include "verdict/check.h"

/* Does an anchor in the store issue crt? */
static int
anchored(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t crt)
{
	gnutls_x509_crt_t iss;

	if (gnutls_x509_trust_list_get_issuer(tl, crt, &iss, GNUTLS_TL_GET_COPY) < 0)
		return 0;
	gnutls_x509_crt_deinit(iss);
	return 1;
}

/* Is cc[i] a repeat of an earlier certificate? Interning makes equal DER
 * the same pointer. */
static int
is_dup(const struct check_chain *cc, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (cc->certs[j] == cc->certs[i])
			return 1;
	return 0;
}

static void
run(const struct check_input *in, struct check_output *out)
{
	const struct check_chain *cc = in->chain;
	size_t u[CHECK_MAX_CERTS], nu = 0;

	for (size_t i = 0; i < cc->n; i++) {
		if (is_dup(cc, i)) {
			out->issues |= CHAIN_ISSUE(DUPLICATE);
			continue;
		}
		u[nu++] = i;
		if (i > 0 && cc->certs[i]->self_signed && cc->certs[i]->is_ca)
			out->issues |= CHAIN_ISSUE(ROOT_INCLUDED);
	}
	for (size_t i = 0; i + 1 < nu; i++) {
		if (!gnutls_x509_crt_check_issuer(cc->crt[u[i]], cc->crt[u[i + 1]])) {
			out->issues |= CHAIN_ISSUE(MISORDERED);
			break;
		}
	}

	if (check_chain_gap(cc, in->trust_list) >= 0)
		out->issues |= CHAIN_ISSUE(INCOMPLETE);
}

long
check_chain_gap(const struct check_chain *cc, gnutls_x509_trust_list_t tl)
{
	size_t top = 0, depth;
	long j;

	/* Climb from the leaf as far as the presented certificates go, and no
	 * further than a certificate an anchor we hold signed (as verification
	 * stops there: a cross-signed copy of a trusted root above it does not
	 * count). A top that is a root, or anchored, needs nothing more. */
	for (depth = 0; depth < CHECK_MAX_DEPTH; depth++) {
		if (cc->certs[top]->self_signed || anchored(tl, cc->crt[top]) ||
		    (j = check_chain_issuer(cc, top)) == -1)
			break;
		top = (size_t)j;
	}
	if (!cc->certs[top]->self_signed && !anchored(tl, cc->crt[top]))
		return (long)top;
	return -1;
}

const struct check check_chain_issues = {
	.name = "chain",
	.run = run,
};
