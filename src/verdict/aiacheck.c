/*
 * aiacheck.c - missing intermediates, told truthfully (check.h). When the
 * presented chain is incomplete (chainissues.c's climb ends at a
 * certificate whose issuer is neither presented nor an anchor) and that
 * certificate names an AIA caIssuers URL, the certificates served there
 * (cadata.c) are tried: when they complete a path to a trust anchor the
 * chain issue is aia_completes. Chrome, Edge and Safari fetch them and
 * connect; Firefox, curl, Java, Python and most mail software do not, so
 * the verdict stays "not verified" either way.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/share.h"
#include "core/util.h"
#include "verdict/aia.h"
#include "verdict/cadata.h"
#include "verdict/check.h"
#include "verdict/x509.h"

enum aia_state { A_FETCHING, A_COMPLETES, A_DOES_NOT, A_ERROR };

struct aia_blob {
	struct share_head head;  /* shared: see key() */
	enum aia_state state;
	size_t depth;            /* the certificate whose issuer is missing */
	char *url;
	char *error;
	size_t ncerts;           /* served there */
};

static void
blob_free(void *p)
{
	struct aia_blob *b = p;

	if (b == NULL)
		return;
	free(b->url);
	free(b->error);
	free(b);
}

static void
run(const struct check_input *in, struct check_output *out)
{
	struct cadata_ref ref = { in->ref_target, in->ref_address };
	struct cadata_aia a;
	struct aia_blob *b;
	long top;
	char **urls;
	int n;

	if (in->path != NULL || (top = check_chain_gap(in->chain, in->trust_list)) < 0)
		return;
	n = aia_urls(in->chain->der[top].data, in->chain->der[top].len, &urls);
	if (n <= 0) {
		urls_free(urls, 0);
		return;
	}
	cadata_aia(urls[0], in->now, &ref, &a);
	if (!a.have && !a.waiting) {
		urls_free(urls, (size_t)n);
		return;         /* nothing fetched (tlswatch check --no-fetch) */
	}
	b = xcalloc(1, sizeof(*b));
	b->depth = (size_t)top;
	b->url = xstrdup(urls[0]);
	urls_free(urls, (size_t)n);
	out->blob = b;
	out->pending |= a.waiting;
	if (!a.have) {
		b->state = A_FETCHING;
		return;
	}
	if (a.valid_until < out->valid_until)
		out->valid_until = a.valid_until;
	if (a.ncerts == 0) {
		b->state = A_ERROR;
		b->error = xstrdup(a.error[0] ? a.error : "nothing served");
		return;
	}
	b->ncerts = a.ncerts;
	if (aia_completes(in->chain->der, in->chain->n, a.certs, a.ncerts, in->trust, in->now)) {
		b->state = A_COMPLETES;
		out->issues |= CHAIN_ISSUE(AIA_COMPLETES);
	} else {
		b->state = A_DOES_NOT;
	}
}

static void
describe(const void *blob, struct buf *out)
{
	const struct aia_blob *b = blob;

	buf_printf(out, "the issuer of depth %zu is missing; its caIssuers URL %s ", b->depth,
	    b->url);
	switch (b->state) {
	case A_FETCHING:
		buf_puts(out, "is being fetched\n");
		break;
	case A_COMPLETES:
		buf_printf(out, "serves %zu certificate%s completing the chain (browsers will "
		    "connect, most other clients will not)\n", b->ncerts, b->ncerts == 1 ? "" : "s");
		break;
	case A_DOES_NOT:
		buf_printf(out, "serves %zu certificate%s that do not complete the chain\n",
		    b->ncerts, b->ncerts == 1 ? "" : "s");
		break;
	case A_ERROR:
		buf_printf(out, "gives nothing usable: %s\n", b->error);
		break;
	}
}

static void
json(const void *blob, struct buf *out, void (*str)(struct buf *, const char *))
{
	static const char *const states[] = { "fetching", "completes", "does_not_complete",
		"error" };
	const struct aia_blob *b = blob;

	buf_printf(out, "{\"depth\":%zu,\"url\":", b->depth);
	str(out, b->url);
	buf_puts(out, ",\"state\":");
	str(out, states[b->state]);
	buf_puts(out, ",\"error\":");
	str(out, b->error);
	buf_putc(out, '}');
}

/* What the blob says: what the chain's caIssuers URL served. */
static void
key(const void *blob, struct buf *out)
{
	const struct aia_blob *b = blob;

	SHARE_KEY(out, b->state);
	SHARE_KEY(out, b->depth);
	SHARE_KEY(out, b->ncerts);
	share_key_str(out, b->url);
	share_key_str(out, b->error);
}

const struct check check_aia = {
	.name = "aia",
	.run = run,
	.free_blob = blob_free,
	.describe = describe,
	.json = json,
	.key = key,
};
