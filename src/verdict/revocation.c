/*
 * revocation.c - the revocation check (check.h). For every certificate of
 * the verified path but the anchor: the OCSP response the server stapled
 * for it, else the one its OCSP responder gives, and the CRL of its
 * distribution point; each checked against the issuer on the path. A
 * certificate any valid source calls revoked fails the verdict (`revoked`);
 * under revocation = "hard" a leaf no source gives a valid answer for does
 * too (`revocation_unknown`). A certificate with the TLS feature
 * status_request (must-staple) presented without a staple is the chain
 * issue must_staple_missing. Fetched data comes from cadata.c: what is not
 * there yet is asked for and the verdict is pending until it comes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf/conf.h"
#include "core/fp.h"
#include "core/share.h"
#include "core/util.h"
#include "verdict/cadata.h"
#include "verdict/check.h"
#include "verdict/crl.h"
#include "verdict/ocsp.h"
#include "verdict/x509.h"

enum method { M_STAPLE, M_OCSP, M_CRL, M_COUNT };

static const char *const method_names[M_COUNT] = { "ocsp_staple", "ocsp", "crl" };

/* A source's answer, as a verdict keeps it: a detail lives as long as its
 * verdict, one a target, so of a struct rev_answer it keeps the status,
 * dates and reason, and an error's line only for an error (not 160 bytes
 * inline for every source of every certificate). */
struct method_answer {
	int64_t revoked_at;      /* for REV_REVOKED */
	int64_t next_update;     /* 0: none given */
	char *error;             /* for REV_ERROR; else NULL */
	char *source;            /* the URL; NULL for a staple */
	unsigned char status;    /* enum rev_status */
	unsigned char reason;    /* for REV_REVOKED: 0..REV_REASON_MAX */
	unsigned char present;   /* asked (a staple was there, a URL named) */
	unsigned char have;      /* an answer (an error included) */
	unsigned char waiting;   /* fetching */
};

struct cert_answer {
	size_t depth;            /* in the presented chain (path position when not presented) */
	const char *sha256;      /* interned (core/fp.h) */
	struct method_answer m[M_COUNT];
	int revoked;             /* some valid source says so */
	int reason;
	int64_t revoked_at;
};

struct rev_blob {
	struct share_head head;  /* shared: see key() */
	int mode;                /* enum conf_revocation */
	int verified;            /* a path was checked */
	int staple_present;      /* the leaf came with a staple */
	int must_staple;         /* the leaf asks for one */
	size_t n;
	struct cert_answer *c;
};

static void
blob_free(void *p)
{
	struct rev_blob *b = p;

	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		for (int k = 0; k < M_COUNT; k++) {
			free(b->c[i].m[k].source);
			free(b->c[i].m[k].error);
		}
		fp_put(b->c[i].sha256);
	}
	free(b->c);
	free(b);
}

/* The DER of path certificate i: borrowed from the presented chain, or
 * exported (the anchor's copy, a store's intermediate) into *tmp. */
static int
path_der(const struct check_input *in, size_t i, struct der *d, gnutls_datum_t *tmp)
{
	long idx = in->path->index[i];

	tmp->data = NULL;
	if (idx >= 0 && (size_t)idx < in->chain->n) {
		*d = in->chain->der[idx];
		return 0;
	}
	if (gnutls_x509_crt_export2(in->path->crt[i], GNUTLS_X509_FMT_DER, tmp) < 0)
		return -1;
	d->data = tmp->data;
	d->len = tmp->size;
	return 0;
}

/* A usable staple answers: good, revoked or unknown. */
static int
valid(const struct method_answer *m)
{
	return m->have && m->status != REV_ERROR;
}

static void
keep_answer(struct method_answer *k, const struct rev_answer *a)
{
	free(k->error);
	k->status = (unsigned char)a->status;
	k->reason = (unsigned char)(a->reason >= 0 && a->reason <= REV_REASON_MAX ? a->reason : 0);
	k->revoked_at = a->revoked_at;
	k->next_update = a->next_update;
	k->error = a->status == REV_ERROR ? xstrdup(a->error) : NULL;
}

static void
take(struct method_answer *m, const char *url, const struct cadata_got *g, int64_t *valid_until)
{
	m->present = 1;
	m->have = g->have;
	m->waiting = g->waiting;
	keep_answer(m, &g->a);
	free(m->source);
	m->source = xstrdup(url);
	if (g->have && g->valid_until < *valid_until)
		*valid_until = g->valid_until;
}

/* The first URL of urls with a valid answer, else the last asked. */
static void
ask_all(char **urls, int n, struct method_answer *m, int64_t *valid_until,
    void (*ask)(const char *url, void *arg, struct cadata_got *g), void *arg)
{
	for (int u = 0; u < n; u++) {
		struct cadata_got g;
		int64_t vu = INT64_MAX;

		ask(urls[u], arg, &g);
		take(m, urls[u], &g, &vu);
		if (g.waiting || g.a.status != REV_ERROR || u + 1 == n || !g.have) {
			if (vu < *valid_until)
				*valid_until = vu;
			return;
		}
	}
}

struct ask_ctx {
	const struct check_input *in;
	const struct der *cert, *issuer;
	const struct cert *c, *ic;
	unsigned char serial[64];
	size_t serial_len;
	struct cadata_ref ref;
};

static void
ask_ocsp(const char *url, void *arg, struct cadata_got *g)
{
	struct ask_ctx *x = arg;

	cadata_ocsp(url, x->cert, x->c, x->issuer, x->ic, x->in->now, &x->ref, g);
}

static void
ask_crl(const char *url, void *arg, struct cadata_got *g)
{
	struct ask_ctx *x = arg;

	cadata_crl(url, x->issuer, x->ic->sha256, x->serial, x->serial_len, x->c->is_ca,
	    x->in->now, &x->ref, g);
}

/* Everything path certificate i's sources say. */
static void
check_cert(const struct check_input *in, size_t i, struct cert_answer *ca,
    int64_t *valid_until)
{
	struct ask_ctx x;
	struct der cert, issuer;
	gnutls_datum_t t1, t2;
	long idx = in->path->index[i];
	char **urls;
	int n;

	memset(&x, 0, sizeof(x));
	x.in = in;
	x.ref.target = in->ref_target;
	x.ref.address = in->ref_address;
	x.c = in->path->certs[i];
	x.ic = in->path->certs[i + 1];
	ca->depth = idx >= 0 ? (size_t)idx : i;
	ca->sha256 = fp_get(x.c->sha256);
	if (path_der(in, i, &cert, &t1) == -1)
		return;
	if (path_der(in, i + 1, &issuer, &t2) == -1) {
		gnutls_free(t1.data);
		return;
	}
	x.cert = &cert;
	x.issuer = &issuer;
	x.serial_len = sizeof(x.serial);
	if (gnutls_x509_crt_get_serial(in->path->crt[i], x.serial, &x.serial_len) < 0)
		x.serial_len = 0;

	/* what the server stapled for this certificate */
	if (idx >= 0 && (size_t)idx < in->tls->nstaples && in->tls->staples[idx].len > 0) {
		struct method_answer *m = &ca->m[M_STAPLE];
		struct rev_answer a;

		m->present = m->have = 1;
		ocsp_check(in->tls->staples[idx].data, in->tls->staples[idx].len, cert.data,
		    cert.len, issuer.data, issuer.len, in->now, &a);
		keep_answer(m, &a);
		if (a.status != REV_ERROR) {
			int64_t vu = a.next_update ? a.next_update :
			    a.this_update + OCSP_NO_NEXT_UPDATE_VALID;

			if (vu < *valid_until)
				*valid_until = vu;
		}
	}
	/* the responder, when the staple does not answer */
	if (!valid(&ca->m[M_STAPLE]) && (n = ocsp_urls(cert.data, cert.len, &urls)) >= 0) {
		ask_all(urls, n, &ca->m[M_OCSP], valid_until, ask_ocsp, &x);
		urls_free(urls, (size_t)n);
	}
	if (x.serial_len > 0 && (n = crl_urls(cert.data, cert.len, &urls)) >= 0) {
		ask_all(urls, n, &ca->m[M_CRL], valid_until, ask_crl, &x);
		urls_free(urls, (size_t)n);
	}
	for (int k = 0; k < M_COUNT; k++) {
		const struct method_answer *m = &ca->m[k];

		if (valid(m) && m->status == REV_REVOKED && !ca->revoked) {
			ca->revoked = 1;
			ca->reason = m->reason;
			ca->revoked_at = m->revoked_at;
		}
	}
	gnutls_free(t1.data);
	gnutls_free(t2.data);
}

static void
run(const struct check_input *in, struct check_output *out)
{
	struct rev_blob *b = xcalloc(1, sizeof(*b));
	int64_t valid_until = INT64_MAX;

	b->mode = in->target ? in->target->revocation : CONF_REVOCATION_SOFT;
	out->blob = b;
	b->staple_present = in->tls->nstaples > 0 && in->tls->staples[0].len > 0;
	b->must_staple = in->chain->n > 0 &&
	    ocsp_must_staple(in->chain->der[0].data, in->chain->der[0].len) == 1;
	if (b->must_staple && !b->staple_present)
		out->issues |= CHAIN_ISSUE(MUST_STAPLE_MISSING);
	if (b->mode == CONF_REVOCATION_OFF || in->path == NULL || in->path->n < 2)
		return;
	b->verified = 1;
	b->n = in->path->n - 1;
	b->c = xcalloc(b->n, sizeof(*b->c));
	for (size_t i = 0; i < b->n; i++) {
		struct cert_answer *ca = &b->c[i];
		int any_valid = 0, first_wait = 0;

		check_cert(in, i, ca, &valid_until);
		for (int k = 0; k < M_COUNT; k++) {
			any_valid |= valid(&ca->m[k]);
			first_wait |= ca->m[k].waiting && !ca->m[k].have;
			out->pending |= ca->m[k].waiting;
		}
		if (ca->revoked)
			out->reasons |= REASON(REVOKED);
		/* hard: the leaf needs a valid answer; one on its way for the
		 * first time is waited for (the recheck judges) */
		if (i == 0 && b->mode == CONF_REVOCATION_HARD && !any_valid && !first_wait)
			out->reasons |= REASON(REVOCATION_UNKNOWN);
	}
	if (valid_until < out->valid_until)
		out->valid_until = valid_until;
}

/* ------------------------------------------------------------ rendering */

static const char *const status_labels[] = { "depth", "sha256", "method", "status", NULL };
static const char *const next_labels[] = { "depth", "sha256", "method", NULL };
static const char *const revoked_labels[] = { "depth", "sha256", "reason", NULL };
static const char *const no_labels[] = { NULL };

/* The i-th (certificate, method) with what sel wants, counted in order. */
static int
nth_method(const struct rev_blob *b, size_t i, int (*sel)(const struct method_answer *),
    size_t *ci, int *mk)
{
	for (size_t c = 0; c < b->n; c++)
		for (int k = 0; k < M_COUNT; k++)
			if (sel(&b->c[c].m[k]) && i-- == 0) {
				*ci = c;
				*mk = k;
				return 1;
			}
	return 0;
}

static int
sel_status(const struct method_answer *m)
{
	return m->have;
}

static int
sel_next(const struct method_answer *m)
{
	return m->have && m->next_update != 0;
}

/* depth, sha256 and method of certificate c's method k. */
static void
method_labels(const struct rev_blob *b, size_t c, int k, struct check_sample *s)
{
	s->names[0] = "depth";
	s->values[0] = check_depth_text(b->c[c].depth);
	s->names[1] = "sha256";
	s->values[1] = b->c[c].sha256;
	s->names[2] = "method";
	s->values[2] = method_names[k];
}

static int
sample_status(const void *blob, size_t i, struct check_sample *s)
{
	const struct rev_blob *b = blob;
	size_t c;
	int k;

	if (!nth_method(b, i, sel_status, &c, &k))
		return 0;
	method_labels(b, c, k, s);
	s->names[3] = "status";
	s->values[3] = rev_status_name(b->c[c].m[k].status);
	s->value = 1;
	return 1;
}

static int
sample_next(const void *blob, size_t i, struct check_sample *s)
{
	const struct rev_blob *b = blob;
	size_t c;
	int k;

	if (!nth_method(b, i, sel_next, &c, &k))
		return 0;
	method_labels(b, c, k, s);
	s->value = (double)b->c[c].m[k].next_update;
	return 1;
}

static int
sample_revoked(const void *blob, size_t i, struct check_sample *s)
{
	const struct rev_blob *b = blob;

	for (size_t c = 0; c < b->n; c++) {
		if (!b->c[c].revoked || i-- != 0)
			continue;
		s->names[0] = "depth";
		s->values[0] = check_depth_text(b->c[c].depth);
		s->names[1] = "sha256";
		s->values[1] = b->c[c].sha256;
		s->names[2] = "reason";
		s->values[2] = rev_reason_name(b->c[c].reason);
		s->value = (double)b->c[c].revoked_at;
		return 1;
	}
	return 0;
}

static int
sample_staple(const void *blob, size_t i, struct check_sample *s)
{
	const struct rev_blob *b = blob;

	if (i > 0)
		return 0;
	s->value = b->staple_present;
	return 1;
}

static const struct check_family families[] = {
	{ "tlswatch_revocation_status", "gauge",
	  "What a revocation source says of each certificate of the verified path but the "
	  "anchor (method ocsp_staple, ocsp, crl; status good, revoked, unknown, error).",
	  status_labels, sample_status },
	{ "tlswatch_revocation_next_update_timestamp_seconds", "gauge",
	  "nextUpdate of the revocation data each answer rests on.",
	  next_labels, sample_next },
	{ "tlswatch_cert_revoked_timestamp_seconds", "gauge",
	  "When a certificate of the verified path was revoked, by reason.",
	  revoked_labels, sample_revoked },
	{ "tlswatch_ocsp_staple_present", "gauge",
	  "Whether the server stapled an OCSP response for its leaf.",
	  no_labels, sample_staple },
};

static void
describe_answer(struct buf *out, const struct cert_answer *ca, int k)
{
	const struct method_answer *m = &ca->m[k];
	char when[64];

	buf_printf(out, "depth %zu: %s", ca->depth, method_names[k]);
	if (m->source)
		buf_printf(out, " %s", m->source);
	buf_puts(out, ": ");
	if (!m->have) {
		buf_puts(out, m->waiting ? "fetching\n" : "not fetched\n");
		return;
	}
	buf_puts(out, rev_status_name(m->status));
	if (m->status == REV_REVOKED) {
		fmt_utc(when, sizeof(when), (double)m->revoked_at);
		buf_printf(out, " (%s, %s)", rev_reason_name(m->reason), when);
	} else if (m->status == REV_ERROR) {
		buf_printf(out, " (%s)", m->error);
	}
	if (m->next_update) {
		fmt_utc(when, sizeof(when), (double)m->next_update);
		buf_printf(out, ", next update %s", when);
	}
	if (m->waiting)
		buf_puts(out, ", refreshing");
	buf_putc(out, '\n');
}

static void
describe(const void *blob, struct buf *out)
{
	const struct rev_blob *b = blob;

	if (b->must_staple && !b->staple_present)
		buf_puts(out, "the leaf requires OCSP stapling (TLS feature) and no staple came\n");
	if (b->mode == CONF_REVOCATION_OFF) {
		buf_puts(out, "revocation: off\n");
		return;
	}
	if (!b->verified)
		return;
	/* a certificate naming no source (a private CA's) says nothing */
	for (size_t c = 0; c < b->n; c++)
		for (int k = 0; k < M_COUNT; k++)
			if (b->c[c].m[k].present)
				describe_answer(out, &b->c[c], k);
}

/* JSON for the API: the mode, the staple, each certificate's answers. */
static void
json(const void *blob, struct buf *out, void (*str)(struct buf *, const char *))
{
	const struct rev_blob *b = blob;

	buf_printf(out, "{\"mode\":\"%s\",\"staple_present\":%s,\"must_staple\":%s,"
	    "\"certificates\":[", conf_revocation_name(b->mode),
	    b->staple_present ? "true" : "false", b->must_staple ? "true" : "false");
	for (size_t c = 0; c < b->n; c++) {
		const struct cert_answer *ca = &b->c[c];
		int first = 1;

		buf_printf(out, "%s{\"depth\":%zu,\"sha256\":\"%s\",\"revoked\":%s", c ? "," : "",
		    ca->depth, ca->sha256, ca->revoked ? "true" : "false");
		if (ca->revoked)
			buf_printf(out, ",\"reason\":\"%s\",\"revoked_at\":%lld",
			    rev_reason_name(ca->reason), (long long)ca->revoked_at);
		buf_puts(out, ",\"sources\":[");
		for (int k = 0; k < M_COUNT; k++) {
			const struct method_answer *m = &ca->m[k];

			if (!m->present)
				continue;
			buf_printf(out, "%s{\"method\":\"%s\",\"url\":", first ? "" : ",",
			    method_names[k]);
			str(out, m->source);
			buf_puts(out, ",\"status\":");
			str(out, m->have ? rev_status_name(m->status) : NULL);
			buf_printf(out, ",\"fetching\":%s,\"next_update\":", m->waiting ? "true" :
			    "false");
			if (m->have && m->next_update)
				buf_printf(out, "%lld", (long long)m->next_update);
			else
				buf_puts(out, "null");
			buf_puts(out, ",\"error\":");
			str(out, m->have && m->status == REV_ERROR ? m->error : NULL);
			buf_putc(out, '}');
			first = 0;
		}
		buf_puts(out, "]}");
	}
	buf_puts(out, "]}");
}

/* What the blob says: nothing in it is the target's (depth is the
 * certificate's place in the chain, the answers are the certificate's). */
static void
key(const void *blob, struct buf *out)
{
	const struct rev_blob *b = blob;

	SHARE_KEY(out, b->mode);
	SHARE_KEY(out, b->verified);
	SHARE_KEY(out, b->staple_present);
	SHARE_KEY(out, b->must_staple);
	SHARE_KEY(out, b->n);
	for (size_t c = 0; c < b->n; c++) {
		const struct cert_answer *ca = &b->c[c];

		SHARE_KEY(out, ca->depth);
		SHARE_KEY(out, ca->sha256);     /* interned */
		SHARE_KEY(out, ca->revoked);
		SHARE_KEY(out, ca->reason);
		SHARE_KEY(out, ca->revoked_at);
		for (int k = 0; k < M_COUNT; k++) {
			const struct method_answer *m = &ca->m[k];

			SHARE_KEY(out, m->revoked_at);
			SHARE_KEY(out, m->next_update);
			SHARE_KEY(out, m->status);
			SHARE_KEY(out, m->reason);
			SHARE_KEY(out, m->present);
			SHARE_KEY(out, m->have);
			SHARE_KEY(out, m->waiting);
			share_key_str(out, m->error);
			share_key_str(out, m->source);
		}
	}
}

const struct check check_revocation = {
	.name = "revocation",
	.run = run,
	.free_blob = blob_free,
	.families = families,
	.nfamilies = ARRAY_SIZE(families),
	.describe = describe,
	.json = json,
	.key = key,
};
