/* tlsctx.c - the TLS material a configuration names, loaded once per file
 * (or pair of files) and shared by every target that names it. Loading
 * happens while the configuration loads (conf.c), so that a bad file is
 * reported with its setting's file and line, by -t too, and a reload that
 * names a broken file is refused before anything changes. The GnuTLS work
 * itself is chain.c's (trust stores) and tls.c's (credentials, priorities). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf/tlsctx.h"
#include "core/util.h"
#include "probe/tls.h"
#include "verdict/chain.h"

struct trust_entry {
	char *path;             /* NULL: the system store */
	struct trust *trust;    /* NULL: failed, with msg */
	char *msg;
};

struct creds_entry {
	char *cert;
	char *key;
	struct tls_creds *creds;  /* NULL: failed, with msg */
	int64_t not_after;
	char *msg;
};

struct tlsctx {
	struct trust_entry *trusts;
	size_t ntrusts;
	struct creds_entry *creds;
	size_t ncreds;
};

struct tlsctx *
tlsctx_new(void)
{
	return xcalloc(1, sizeof(struct tlsctx));
}

void
tlsctx_free(struct tlsctx *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->ntrusts; i++) {
		free(x->trusts[i].path);
		trust_free(x->trusts[i].trust);
		free(x->trusts[i].msg);
	}
	free(x->trusts);
	for (size_t i = 0; i < x->ncreds; i++) {
		free(x->creds[i].cert);
		free(x->creds[i].key);
		tls_creds_free(x->creds[i].creds);
		free(x->creds[i].msg);
	}
	free(x->creds);
	free(x);
}

static int
same_path(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

const struct trust *
tlsctx_trust(struct tlsctx *x, const char *ca_file, char **err)
{
	struct trust_entry *e = NULL;

	for (size_t i = 0; i < x->ntrusts && e == NULL; i++)
		if (same_path(x->trusts[i].path, ca_file))
			e = &x->trusts[i];
	if (e == NULL) {
		x->trusts = xreallocarray(x->trusts, x->ntrusts + 1, sizeof(*x->trusts));
		e = &x->trusts[x->ntrusts++];
		e->path = ca_file ? xstrdup(ca_file) : NULL;
		e->msg = NULL;
		e->trust = trust_load(ca_file, &e->msg);
	}
	if (e->trust == NULL)
		*err = xstrdup(e->msg ? e->msg : "cannot load the trust store");
	return e->trust;
}

const struct tls_creds *
tlsctx_creds(struct tlsctx *x, const char *cert, const char *key, int64_t *not_after,
    char **err)
{
	struct creds_entry *e = NULL;

	for (size_t i = 0; i < x->ncreds && e == NULL; i++)
		if (strcmp(x->creds[i].cert, cert) == 0 && strcmp(x->creds[i].key, key) == 0)
			e = &x->creds[i];
	if (e == NULL) {
		x->creds = xreallocarray(x->creds, x->ncreds + 1, sizeof(*x->creds));
		e = &x->creds[x->ncreds++];
		e->cert = xstrdup(cert);
		e->key = xstrdup(key);
		e->not_after = 0;
		e->msg = NULL;
		e->creds = tls_creds_load(cert, key, &e->not_after, &e->msg);
	}
	if (e->creds == NULL) {
		*err = xstrdup(e->msg ? e->msg : "cannot load the client certificate");
		return NULL;
	}
	*not_after = e->not_after;
	return e->creds;
}

int
tlsctx_priority(struct tlsctx *x, const char *priority, char **err)
{
	(void)x;        /* nothing to keep: sessions set the string themselves */
	return tls_priority_check(priority, err);
}
