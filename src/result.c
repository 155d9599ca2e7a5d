/* result.c - results and their lifetime. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "core/util.h"

const char *
stage_name(enum stage s)
{
	static const char *const names[STAGE_COUNT] = {
		[STAGE_RESOLVE] = "resolve",
		[STAGE_CONNECT] = "connect",
		[STAGE_HANDSHAKE] = "handshake",
		[STAGE_VERIFY] = "verify",
		[STAGE_STARTTLS] = "starttls",
	};

	return (unsigned)s < STAGE_COUNT ? names[s] : "unknown";
}

struct result *
result_failed(const char *stage, const char *reason, char *detail, uint64_t start_us)
{
	struct result *r = xcalloc(1, sizeof(*r));

	for (int s = 0; s < STAGE_COUNT; s++)
		r->stage_seconds[s] = -1;
	r->fail_stage = stage;
	r->fail_reason = reason;
	r->fail_detail = detail;
	r->duration = (double)(mono_us() - start_us) / 1e6;
	r->time = wall_now();
	return r;
}

void
result_free(struct result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ncerts; i++)
		cert_put(r->certs[i]);
	free(r->certs);
	result_drop_ders(r);
	free(r->fail_detail);
	free(r->peer);
	free(r->tried);
	verdict_fini(&r->verdict);
	free(r);
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct result *
result_dup(const struct result *r)
{
	struct result *d = xmalloc(sizeof(*d));

	memcpy(d, r, sizeof(*d));
	d->fail_detail = dup_or_null(r->fail_detail);
	d->peer = dup_or_null(r->peer);
	d->tried = dup_or_null(r->tried);
	verdict_copy(&d->verdict, &r->verdict);
	/* the DER goes to the store from the original only */
	d->ders = NULL;
	d->nders = 0;
	d->certs = NULL;
	if (r->ncerts) {
		d->certs = xcalloc(r->ncerts, sizeof(*d->certs));
		for (size_t i = 0; i < r->ncerts; i++)
			d->certs[i] = cert_ref(r->certs[i]);
	}
	return d;
}

void
addr_results_free(struct addr_result *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].address);
		result_free(a[i].result);
	}
	free(a);
}

void
result_drop_ders(struct result *r)
{
	for (size_t i = 0; i < r->nders; i++)
		free((void *)r->ders[i].data);
	free(r->ders);
	r->ders = NULL;
	r->nders = 0;
	/* and the anchor's, which only the store wants */
	free(r->verdict.anchor_der);
	r->verdict.anchor_der = NULL;
	r->verdict.anchor_len = 0;
}
