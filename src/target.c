/* target.c - results and their lifetime. */
#include "config.h"

#include <stdlib.h>

#include "target.h"

const char *
stage_name(enum stage s)
{
	static const char *const names[STAGE_COUNT] = {
		[STAGE_RESOLVE] = "resolve",
		[STAGE_CONNECT] = "connect",
		[STAGE_HANDSHAKE] = "handshake",
		[STAGE_VERIFY] = "verify",
	};

	return (unsigned)s < STAGE_COUNT ? names[s] : "unknown";
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
	free(r->tls_version);
	free(r->cipher);
	free(r);
}

void
result_drop_ders(struct result *r)
{
	for (size_t i = 0; i < r->nders; i++)
		free((void *)r->ders[i].data);
	free(r->ders);
	r->ders = NULL;
	r->nders = 0;
}
