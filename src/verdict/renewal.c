/*
 * renewal.c - the renewal information check (check.h): the window in
 * which the CA suggests renewing the presented leaf (ACME Renewal
 * Information, RFC 9773), from the first of acme_directories whose
 * renewalInfo answers for it (cadata.c). It fails nothing: a window that
 * has opened, or lies wholly in the past (the CA's way of saying it will
 * revoke), is for the alerts (TLSRenewalWindowOpen, TLSRenewalWindowPassed).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/share.h"
#include "core/util.h"
#include "verdict/ari.h"
#include "verdict/cadata.h"
#include "verdict/check.h"

struct ari_blob {
	struct share_head head;  /* shared: see key() */
	int ok;                  /* a window */
	int waiting;
	int64_t start, end;
	char *explanation;       /* NULL when none */
	char *directory;
	char *error;             /* when not ok; NULL while fetching */
};

static void
blob_free(void *p)
{
	struct ari_blob *b = p;

	if (b == NULL)
		return;
	free(b->explanation);
	free(b->directory);
	free(b->error);
	free(b);
}

static void
run(const struct check_input *in, struct check_output *out)
{
	struct cadata_ref ref = { in->ref_target, in->ref_address };
	struct cadata_ari a;
	struct ari_blob *b;

	if (in->chain->n == 0)
		return;
	cadata_ari(&in->chain->der[0], in->now, &ref, &a);
	if (!a.have && !a.waiting)
		return;         /* no directories, or nothing fetched */
	b = xcalloc(1, sizeof(*b));
	b->waiting = a.waiting;
	if (a.have && a.ok) {
		b->ok = 1;
		b->start = a.start;
		b->end = a.end;
		b->explanation = a.explanation[0] ? xstrdup(a.explanation) : NULL;
		b->directory = a.directory[0] ? xstrdup(a.directory) : NULL;
	} else if (a.have) {
		b->error = xstrdup(a.error);
	}
	out->blob = b;
	out->pending |= a.waiting;
	if (a.have && a.valid_until < out->valid_until)
		out->valid_until = a.valid_until;
}

static const char *const no_labels[] = { NULL };
static const char *const url_labels[] = { "url", NULL };

static int
sample_start(const void *blob, size_t i, struct check_sample *s)
{
	const struct ari_blob *b = blob;

	if (i > 0 || !b->ok)
		return 0;
	s->value = (double)b->start;
	return 1;
}

static int
sample_end(const void *blob, size_t i, struct check_sample *s)
{
	const struct ari_blob *b = blob;

	if (i > 0 || !b->ok)
		return 0;
	s->value = (double)b->end;
	return 1;
}

static int
sample_explanation(const void *blob, size_t i, struct check_sample *s)
{
	const struct ari_blob *b = blob;

	if (i > 0 || !b->ok || b->explanation == NULL)
		return 0;
	s->names[0] = "url";
	s->values[0] = b->explanation;
	s->value = 1;
	return 1;
}

static const struct check_family families[] = {
	{ "tlswatch_ari_window_start_timestamp_seconds", "gauge",
	  "Start of the renewal window the CA suggests for the presented leaf (ACME ARI).",
	  no_labels, sample_start },
	{ "tlswatch_ari_window_end_timestamp_seconds", "gauge",
	  "End of the renewal window the CA suggests for the presented leaf (ACME ARI).",
	  no_labels, sample_end },
	{ "tlswatch_ari_explanation_info", "gauge",
	  "The explanation URL the CA gives with the renewal window.",
	  url_labels, sample_explanation },
};

static const char *
phase_text(const struct ari_blob *b, int64_t now)
{
	struct ari_window w = { b->start, b->end, NULL };

	switch (ari_phase_at(&w, now)) {
	case ARI_BEFORE:
		return "not yet open";
	case ARI_OPEN:
		return "open now: renew";
	default:
		return "passed: renew at once, the CA may revoke";
	}
}

static void
describe(const void *blob, struct buf *out)
{
	const struct ari_blob *b = blob;
	char s[64], e[64];

	if (!b->ok) {
		buf_printf(out, "renewal information: %s\n", b->error ? b->error :
		    b->waiting ? "fetching" : "none");
		return;
	}
	fmt_utc(s, sizeof(s), (double)b->start);
	fmt_utc(e, sizeof(e), (double)b->end);
	buf_printf(out, "renewal window %s to %s (%s)", s, e,
	    phase_text(b, (int64_t)wall_now()));
	if (b->directory)
		buf_printf(out, " from %s", b->directory);
	buf_putc(out, '\n');
	if (b->explanation)
		buf_printf(out, "renewal explanation: %s\n", b->explanation);
}

static void
json(const void *blob, struct buf *out, void (*str)(struct buf *, const char *))
{
	const struct ari_blob *b = blob;

	if (!b->ok) {
		buf_puts(out, "{\"window\":null,\"error\":");
		str(out, b->error);
		buf_printf(out, ",\"fetching\":%s}", b->waiting ? "true" : "false");
		return;
	}
	buf_printf(out, "{\"window\":{\"start\":%lld,\"end\":%lld},\"explanation_url\":",
	    (long long)b->start, (long long)b->end);
	str(out, b->explanation);
	buf_puts(out, ",\"directory\":");
	str(out, b->directory);
	buf_puts(out, ",\"phase\":");
	{
		struct ari_window w = { b->start, b->end, NULL };
		enum ari_phase p = ari_phase_at(&w, (int64_t)wall_now());

		str(out, p == ARI_BEFORE ? "before" : p == ARI_OPEN ? "open" : "passed");
	}
	buf_printf(out, ",\"fetching\":%s}", b->waiting ? "true" : "false");
}

/* What the blob says: the CA's window for the leaf, nothing the target's. */
static void
key(const void *blob, struct buf *out)
{
	const struct ari_blob *b = blob;

	SHARE_KEY(out, b->ok);
	SHARE_KEY(out, b->waiting);
	SHARE_KEY(out, b->start);
	SHARE_KEY(out, b->end);
	share_key_str(out, b->explanation);
	share_key_str(out, b->directory);
	share_key_str(out, b->error);
}

const struct check check_renewal = {
	.name = "renewal",
	.run = run,
	.free_blob = blob_free,
	.families = families,
	.nfamilies = ARRAY_SIZE(families),
	.describe = describe,
	.json = json,
	.key = key,
};
