/*
 * webpkicheck.c - the Web PKI check (check.h): the rules of webpki.c on
 * every verdict, under the target's policy.
 *
 * Every finding the policy looks at is published as a word of
 * tlswatch_cert_issue{depth,sha256,issue} on the presented certificate it
 * concerns; one on a trust anchor the server did not send (a store's root
 * has no depth in the presented chain) goes to this check's own family,
 * tlswatch_anchor_issue{sha256,issue}. Those the policy fails add their
 * reason: webpki for the Web PKI's rules under `public`, and under either
 * policy name_constraints, path_length, purpose or key_usage for what a TLS
 * client must reject. The sentences are this check's describe lines, for
 * the tool, the status page and the API.
 *
 * A handshake GnuTLS stopped at the leaf's key usage (tls.c) fails here
 * too, with key_usage, whatever the policy; such a verdict is not reused,
 * as it depends on the handshake and not only on the chain.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/share.h"
#include "core/util.h"
#include "verdict/check.h"
#include "verdict/finding.h"
#include "verdict/verdict.h"
#include "verdict/webpki.h"

struct wpc_blob {
	struct share_head head;   /* shared: see key() */
	enum policy policy;
	struct findings f;        /* those the policy looks at */
	unsigned char *anchor;    /* per finding: on a trust anchor not presented */
};

static enum policy
wpc_policy(const struct conf_target *t)
{
	if (t == NULL)
		return POLICY_PRIVATE;   /* no target: what every client enforces */
	switch (t->policy) {
	case CONF_POLICY_PUBLIC:
		return POLICY_PUBLIC;
	case CONF_POLICY_PRIVATE:
		return POLICY_PRIVATE;
	default:
		return t->ca_file != NULL ? POLICY_PRIVATE : POLICY_PUBLIC;
	}
}

static void
wpc_free(void *p)
{
	struct wpc_blob *b = p;

	if (b == NULL)
		return;
	findings_fini(&b->f);
	free(b->anchor);
	free(b);
}

static void
run(const struct check_input *in, struct check_output *out)
{
	const struct check_chain *cc = in->chain;
	const struct check_path *p = in->path;
	struct check_path own;
	struct findings all;
	struct wpc_blob *b;

	if (in->tls->key_usage_violation) {
		out->reasons |= REASON(KEY_USAGE);
		out->valid_until = in->now;
	}
	if (p == NULL) {
		/* Unverified: the rules still read the path as far as it goes. */
		check_path_build(cc, in->trust_list, &own);
		p = &own;
	}
	findings_init(&all);
	webpki_evaluate_path(cc, p, &all);
	if (p == &own)
		check_path_free(&own);

	b = xcalloc(1, sizeof(*b));
	b->policy = wpc_policy(in->target);
	findings_init(&b->f);
	b->anchor = xcalloc(all.n ? all.n : 1, 1);
	for (size_t i = 0; i < all.n; i++) {
		struct finding *x = &all.v[i];
		const struct finding_rule *r = finding_rule(x->id);
		int presented;

		if (r == NULL || r->effect[b->policy] == FINDING_OFF)
			continue;
		presented = x->depth >= 0 && (size_t)x->depth < cc->n &&
		    strcmp(cc->certs[x->depth]->sha256, x->sha256) == 0;
		if (presented)
			out->cert_issues[x->depth] |= (uint64_t)1 << x->id;
		b->anchor[b->f.n] = !presented;
		/* moved, not copied: all's entry gives its text up */
		if (b->f.n == b->f.cap) {
			b->f.cap = b->f.cap ? b->f.cap * 2 : 8;
			b->f.v = xreallocarray(b->f.v, b->f.cap, sizeof(*b->f.v));
		}
		b->f.v[b->f.n++] = *x;
		x->text = NULL;
	}
	findings_fini(&all);
	out->reasons |= findings_reasons(&b->f, b->policy);
	if (b->f.n == 0) {
		wpc_free(b);
		return;
	}
	out->blob = b;
}

static void
describe(const void *blob, struct buf *out)
{
	const struct wpc_blob *b = blob;

	for (size_t i = 0; i < b->f.n; i++) {
		const struct finding *x = &b->f.v[i];
		const struct finding_rule *r = finding_rule(x->id);

		buf_printf(out, "%s: %s", finding_name(x->id), x->text);
		if (r->effect[b->policy] == FINDING_FAIL) {
			buf_puts(out, " (fails the verdict: ");
			verdict_words_join(out, VERDICT_REASON, r->reason, ",", NULL);
			buf_puts(out, ")\n");
		} else {
			buf_printf(out, " (noted; policy %s)\n", policy_name(b->policy));
		}
	}
}

static const char *const anchor_labels[] = { "sha256", "issue", NULL };

static int
anchor_sample(const void *blob, size_t i, struct check_sample *s)
{
	const struct wpc_blob *b = blob;

	for (size_t k = 0; k < b->f.n; k++) {
		if (!b->anchor[k])
			continue;
		if (i-- > 0)
			continue;
		s->names[0] = "sha256";
		s->values[0] = b->f.v[k].sha256;
		s->names[1] = "issue";
		s->values[1] = finding_name(b->f.v[k].id);
		s->names[2] = NULL;
		s->value = 1;
		return 1;
	}
	return 0;
}

static const struct check_family families[] = {
	{ "tlswatch_anchor_issue", "gauge",
	  "Web PKI findings on the trust anchor of the verified path when the "
	  "server did not present it (as tlswatch_cert_issue for presented "
	  "certificates).", anchor_labels, anchor_sample },
};

/* What the blob says: the chain's findings under the policy. */
static void
key(const void *blob, struct buf *out)
{
	const struct wpc_blob *b = blob;

	SHARE_KEY(out, b->policy);
	SHARE_KEY(out, b->f.n);
	for (size_t i = 0; i < b->f.n; i++) {
		const struct finding *x = &b->f.v[i];

		SHARE_KEY(out, x->id);
		SHARE_KEY(out, x->depth);
		SHARE_KEY(out, x->more);
		SHARE_KEY(out, x->base);
		share_key_str(out, x->sha256);
		share_key_str(out, x->text);
		SHARE_KEY(out, b->anchor[i]);
	}
}

const struct check check_webpki = {
	.name = "webpki",
	.run = run,
	.free_blob = wpc_free,
	.families = families,
	.nfamilies = ARRAY_SIZE(families),
	.describe = describe,
	.key = key,
};
