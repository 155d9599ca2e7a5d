/* metrics.c - the Prometheus text exposition (format 0.0.4). */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "serve/metrics.h"
#include "verdict/expiry.h"
#include "state/store.h"
#include "verdict/verdict.h"

/*
 * Every family is written in one pass over the targets, straight into the
 * output buffer: a scrape of 100,000 targets must stay well under a second,
 * so the hot paths below avoid printf and never allocate per series.
 */

/* The inner loops append with put() and putc1(): buf_append without the
 * call and without writing the NUL each time. The public functions end with
 * terminate() so the buffer is NUL-terminated again when they return. */
static inline void
put(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len <= n)
		buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void
putc1(struct buf *b, char c)
{
	if (b->cap - b->len <= 1)
		buf_reserve(b, 1);
	b->data[b->len++] = c;
}

static void
terminate(struct buf *b)
{
	buf_reserve(b, 0);
	b->data[b->len] = '\0';
}

/* Append a string literal without strlen. */
#define PUT(b, lit) put((b), (lit), sizeof(lit) - 1)
/* Between families of a long render: once its reader has gone (buf's cut)
 * the rest is not made. */
#define RETURN_IF_CUT(b) do { if ((b)->cut) return; } while (0)

/* Label names the exposition itself uses; a configured label with one of
 * these names would make a series with a duplicate label, which Prometheus
 * rejects together with the whole scrape. le and quantile belong to
 * histograms and summaries, job and instance to the scraping Prometheus. */
static const char *const metrics_reserved_labels[] = {
	"target", "stage", "reason", "result", "version", "cipher", "depth",
	"subject", "issuer", "serial", "sha256", "issue",
	"address", "server_name", "starttls", "group", "scheme",
	"domain", "mx", "port", "preference", "status", "mode", "id",
	"le", "quantile", "job", "instance",
};


static void
escape(struct buf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	const unsigned char *run = p;
	int n = -1;

	if (value == NULL)
		return;
	for (;;) {
		unsigned char c = *p;

		if (c != '\0' && c != '\\' && c != '"' && c != '\n' && c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0x80 && (n = utf8_seq(p)) > 0) {
			p += n;
			continue;
		}
		if (p != run)
			put(out, run, (size_t)(p - run));
		if (c == '\0')
			break;
		if (c == '\\') {
			PUT(out, "\\\\");
			p++;
		} else if (c == '"') {
			PUT(out, "\\\"");
			p++;
		} else if (c == '\n') {
			PUT(out, "\\n");
			p++;
		} else {
			PUT(out, "\xef\xbf\xbd");
			p += -n;
		}
		run = p;
	}
}

void
metrics_escape_label(struct buf *out, const char *value)
{
	escape(out, value);
	terminate(out);
}

int
metrics_label_name_valid(const char *name)
{
	const char *p;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (p = name; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '_' || (p != name && *p >= '0' && *p <= '9')))
			return 0;
	}
	return 1;
}

int
metrics_label_reserved(const char *name)
{
	if (strncmp(name, "__", 2) == 0)
		return 1;       /* Prometheus's own */
	for (size_t i = 0; i < ARRAY_SIZE(metrics_reserved_labels); i++)
		if (strcmp(name, metrics_reserved_labels[i]) == 0)
			return 1;
	/* and every label a check's families use */
	for (size_t c = 0; c < verdict_nchecks(); c++) {
		size_t nf;
		const struct check_family *fam = verdict_check_families(c, &nf);

		for (size_t f = 0; f < nf; f++)
			for (const char *const *l = fam[f].labels; l && *l; l++)
				if (strcmp(name, *l) == 0)
					return 1;
	}
	return 0;
}

static int
metrics_label_name_ok(const char *name)
{
	return metrics_label_name_valid(name) && !metrics_label_reserved(name);
}

/* name="value" with the value escaped, preceded by a comma unless first. */
static void
put_label(struct buf *b, const char *name, const char *value, int first)
{
	if (!first)
		putc1(b, ',');
	put(b, name, strlen(name));
	PUT(b, "=\"");
	escape(b, value);
	putc1(b, '"');
}

/* The same for a label name known at compile time. */
#define LABEL(b, name, value) do {                                      \
	PUT((b), "," name "=\"");                                       \
	escape((b), (value));                                           \
	putc1((b), '"');                                                \
} while (0)

static void
put_conf_labels(struct buf *b, const struct conf_target *c, int warn)
{
	put_label(b, "target", c->name, 1);
	for (size_t i = 0; i < c->nlabels; i++) {
		if (!metrics_label_name_ok(c->labels[i].name)) {
			/* conf.c should have refused it; never break the scrape */
			if (warn)
				log_warnx("target %s: label \"%s\" is not usable "
				    "in metrics, ignored", c->name,
				    c->labels[i].name ? c->labels[i].name : "");
			continue;
		}
		put_label(b, c->labels[i].name, c->labels[i].value, 0);
	}
}

char *
metrics_labels(const struct conf_target *c)
{
	struct buf b;

	char *labels;

	buf_init(&b);
	put_conf_labels(&b, c, 1);
	terminate(&b);
	/* kept for every target: its size, not the buffer's (256 bytes at least) */
	labels = xstrdup(b.data ? b.data : "");
	buf_free(&b);
	return labels;
}

static void
put_u64(struct buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, tmp + i, sizeof(tmp) - i);
}

static void
put_i64(struct buf *b, int64_t v)
{
	if (v < 0) {
		putc1(b, '-');
		put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(b, (uint64_t)v);
	}
}

/* x with exactly `decimals` digits after the point, as "%.*f" prints it but
 * at a fraction of the cost. decimals is 0 to 6. */
static void
put_fixed(struct buf *b, double x, int decimals)
{
	static const uint64_t scale[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	uint64_t n, unit = scale[decimals];
	char frac[8];
	double v;
	int neg;

	if (!isfinite(x))
		x = 0;          /* cannot happen; keep the exposition parseable */
	neg = x < 0;
	v = (neg ? -x : x) * (double)unit + 0.5;
	if (v >= 9e18) {
		buf_printf(b, "%.*f", decimals, x);
		return;
	}
	n = (uint64_t)v;
	if (neg && n)
		putc1(b, '-');
	put_u64(b, n / unit);
	if (decimals == 0)
		return;
	n %= unit;
	frac[0] = '.';
	for (int i = decimals; i > 0; i--) {
		frac[i] = (char)('0' + n % 10);
		n /= 10;
	}
	put(b, frac, (size_t)decimals + 1);
}

/* A family's name, measured once for all its series. */
struct family {
	const char *name;
	size_t len;
};

static struct family
family(struct buf *b, const char *name, const char *type, const char *help)
{
	struct family f = { name, strlen(name) };

	PUT(b, "# HELP ");
	put(b, name, f.len);
	putc1(b, ' ');
	put(b, help, strlen(help));
	PUT(b, "\n# TYPE ");
	put(b, name, f.len);
	putc1(b, ' ');
	put(b, type, strlen(type));
	putc1(b, '\n');
	return f;
}

/* "name{target=...,labels": the caller adds its own labels and the end. */
static void
series(struct buf *b, const struct family *f, const struct metrics_target *t)
{
	put(b, f->name, f->len);
	putc1(b, '{');
	if (t->labels)
		put(b, t->labels, strlen(t->labels));
	else
		put_conf_labels(b, t->conf, 0);
}

/* The same for a row: the target's labels, and its address when it is one. */
static void
row_series(struct buf *b, const struct family *f, const struct metrics_row *t)
{
	put(b, f->name, f->len);
	putc1(b, '{');
	put(b, t->labels, strlen(t->labels));
	if (t->address)
		LABEL(b, "address", t->address);
	if (t->extra)
		put(b, t->extra, strlen(t->extra));
}

static void
end_u64(struct buf *b, uint64_t v)
{
	PUT(b, "} ");
	put_u64(b, v);
	putc1(b, '\n');
}

static void
end_i64(struct buf *b, int64_t v)
{
	PUT(b, "} ");
	put_i64(b, v);
	putc1(b, '\n');
}

static void
end_fixed(struct buf *b, double v, int decimals)
{
	PUT(b, "} ");
	put_fixed(b, v, decimals);
	putc1(b, '\n');
}

static void
render_probe(struct buf *out, const struct metrics_row *targets, size_t n, int counters)
{
	const struct metrics_row *t;
	const struct result *r;
	struct family f;

	f = family(out, "tlswatch_probe_success", "gauge",
	    "Whether the last probe connected, completed the TLS handshake "
	    "and received certificates.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL)
			continue;
		row_series(out, &f, t);
		end_u64(out, r->success ? 1 : 0);
	}
	RETURN_IF_CUT(out);

	f = family(out, "tlswatch_probe_failure_info", "gauge",
	    "Stage and reason of the last probe's failure, while it fails.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || r->success)
			continue;
		row_series(out, &f, t);
		LABEL(out, "stage", r->fail_stage ? r->fail_stage : "unknown");
		LABEL(out, "reason", r->fail_reason ? r->fail_reason : "unknown");
		end_u64(out, 1);
	}
	RETURN_IF_CUT(out);

	f = family(out, "tlswatch_probe_duration_seconds", "gauge",
	    "Duration of the last probe, all stages together.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL)
			continue;
		row_series(out, &f, t);
		end_fixed(out, r->duration, 6);
	}
	RETURN_IF_CUT(out);

	f = family(out, "tlswatch_probe_timestamp_seconds", "gauge",
	    "When the last probe ended, in seconds since the epoch.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL)
			continue;
		row_series(out, &f, t);
		end_fixed(out, r->time, 3);
	}
	RETURN_IF_CUT(out);

	f = family(out, "tlswatch_probe_stage_duration_seconds", "gauge",
	    "Duration of each stage the last probe reached.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL)
			continue;
		for (int s = 0; s < STAGE_COUNT; s++) {
			/* written so that a NaN counts as not reached */
			if (!(r->stage_seconds[s] >= 0))
				continue;
			row_series(out, &f, t);
			LABEL(out, "stage", stage_name((enum stage)s));
			end_fixed(out, r->stage_seconds[s], 6);
		}
	}

	if (!counters || out->cut)
		return;
	f = family(out, "tlswatch_probes_total", "counter",
	    "Probes completed since the daemon started, by result.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if (t->result == NULL)
			continue;
		row_series(out, &f, t);
		PUT(out, ",result=\"success\"");
		end_u64(out, t->probes_success);
		row_series(out, &f, t);
		PUT(out, ",result=\"failure\"");
		end_u64(out, t->probes_failure);
	}
}

static void
render_tls(struct buf *out, const struct metrics_row *targets, size_t n)
{
	const struct metrics_row *t;
	const struct result *r;
	struct family f;

	f = family(out, "tlswatch_tls_version_info", "gauge",
	    "TLS protocol version negotiated by the last probe.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || r->tls_version == NULL)
			continue;
		row_series(out, &f, t);
		LABEL(out, "version", r->tls_version);
		end_u64(out, 1);
	}

	f = family(out, "tlswatch_tls_cipher_info", "gauge",
	    "Cipher suite negotiated by the last probe.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || r->cipher == NULL)
			continue;
		row_series(out, &f, t);
		LABEL(out, "cipher", r->cipher);
		end_u64(out, 1);
	}
}

/*
 * Where the escaped labels of a certificate (subject to sha256) already are
 * in the output, by certificate. An intermediate shared by thousands of
 * targets, and every certificate in its second family, is then copied
 * instead of escaped again: escaping is the costliest part of a scrape.
 * Open addressing on the pointer; certificates are immutable and outlive
 * the render.
 */
struct cert_slot {
	const struct cert *cert;
	size_t off;
	size_t len;
};

struct cert_index {
	struct cert_slot *slots;
	size_t size;    /* a power of two */
	size_t used;
	/* The escaped label text, apart from the output: the output may be
	 * handed on (compressed) while it is written. */
	struct buf text;
};

static size_t
cert_hash(const struct cert *c, size_t size)
{
	return (size_t)(((uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ull) >> 32) &
	    (size - 1);
}

static struct cert_slot *
cert_slot(struct cert_index *ix, const struct cert *c)
{
	size_t i;

	if ((ix->used + 1) * 4 > ix->size * 3) {
		struct cert_slot *old = ix->slots;
		size_t oldsize = ix->size;

		ix->size = oldsize ? oldsize * 2 : 256;
		ix->slots = xcalloc(ix->size, sizeof(*ix->slots));
		for (size_t j = 0; j < oldsize; j++) {
			if (old[j].cert == NULL)
				continue;
			for (i = cert_hash(old[j].cert, ix->size);
			    ix->slots[i].cert != NULL; i = (i + 1) & (ix->size - 1))
				;
			ix->slots[i] = old[j];
		}
		free(old);
	}
	for (i = cert_hash(c, ix->size); ix->slots[i].cert != NULL;
	    i = (i + 1) & (ix->size - 1))
		if (ix->slots[i].cert == c)
			return &ix->slots[i];
	ix->slots[i].cert = c;
	ix->used++;
	return &ix->slots[i];
}

/* The result whose certificates a row publishes: the last one when it has
 * any (a handshake may fail after they came), else the last chain kept. */
static const struct result *
shown_certs(const struct metrics_row *t)
{
	return t->result && t->result->ncerts ? t->result : t->chain;
}

/* The result whose chain expiries a row publishes: the last chain kept
 * (the last result when it succeeded), or for a row made without one (a
 * /probe answer) the result when it succeeded. */
static const struct result *
shown_chain(const struct metrics_row *t)
{
	if (t->chain)
		return t->chain;
	return t->result && t->result->success ? t->result : NULL;
}

/* One series per certificate presented, whether the chain verified or not:
 * an expiring certificate matters most when something else is also wrong,
 * the endpoint going down included, so a failing target keeps the series
 * of the last chain it presented (tlswatch_chain_last_seen_timestamp_seconds
 * says when). */
static void
render_certs(struct buf *out, const struct metrics_row *targets, size_t n,
    const struct family *f, int after, struct cert_index *ix)
{
	const struct metrics_row *t;
	const struct result *r;

	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = shown_certs(t)) == NULL)
			continue;
		for (size_t i = 0; i < r->ncerts; i++) {
			const struct cert *c = r->certs[i];
			struct cert_slot *slot;

			if (c == NULL)
				continue;
			row_series(out, f, t);
			PUT(out, ",depth=\"");
			put_u64(out, i);
			putc1(out, '"');
			slot = cert_slot(ix, c);
			if (slot->len == 0) {
				slot->off = ix->text.len;
				LABEL(&ix->text, "subject", c->subject);
				LABEL(&ix->text, "issuer", c->issuer);
				LABEL(&ix->text, "serial", c->serial);
				LABEL(&ix->text, "sha256", c->sha256);
				slot->len = ix->text.len - slot->off;
			}
			put(out, ix->text.data + slot->off, slot->len);
			end_i64(out, after ? c->not_after : c->not_before);
		}
	}
}

static void
render_chain(struct buf *out, const struct metrics_row *targets, size_t n,
    const struct metrics_info *info)
{
	const struct metrics_row *t;
	const struct result *r;
	struct family f;

	f = family(out, "tlswatch_chain_verified", "gauge",
	    "Whether the presented chain verified, hostname included.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || !r->success)
			continue;
		row_series(out, &f, t);
		end_u64(out, r->verdict.verified ? 1 : 0);
	}

	f = family(out, "tlswatch_chain_verify_error", "gauge",
	    "Reasons the presented chain did not verify.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || !r->success)
			continue;
		const char *w[64];
		size_t nw = verdict_words(VERDICT_REASON, r->verdict.reasons, w);

		for (size_t i = 0; i < nw; i++) {
			row_series(out, &f, t);
			LABEL(out, "reason", w[i]);
			end_u64(out, 1);
		}
	}

	/* the expiries, like the certificates, of the last chain presented,
	 * while probes fail too */
	f = family(out, "tlswatch_chain_earliest_expiry_timestamp_seconds", "gauge",
	    "Earliest notAfter over the presented certificates (of the last chain "
	    "presented, while probes fail).");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = shown_chain(t)) == NULL)
			continue;
		row_series(out, &f, t);
		end_i64(out, r->verdict.earliest_expiry);
	}

	f = family(out, "tlswatch_chain_verified_expiry_timestamp_seconds", "gauge",
	    "Earliest notAfter over the verified path, leaf to trust anchor (of the "
	    "last chain presented, while probes fail).");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = shown_chain(t)) == NULL || !r->verdict.verified)
			continue;
		row_series(out, &f, t);
		end_i64(out, r->verdict.verified_expiry);
	}

	/* the thresholds the expiries are judged by, in seconds for this
	 * chain (a fraction of the lifetime differs per certificate): the
	 * rules compare one to one */
	for (int w = 0; w < 2 && info && info->warn && info->crit; w++) {
		const struct threshold *th = w == 0 ? info->warn : info->crit;

		f = family(out, w == 0 ? "tlswatch_expiry_warn_seconds" :
		    "tlswatch_expiry_crit_seconds", "gauge", w == 0 ?
		    "The configured warn in seconds before the chain's expiry (for its "
		    "lifetime when a fraction): within it, a warning." :
		    "The configured crit in seconds before the chain's expiry (for its "
		    "lifetime when a fraction): within it, critical.");
		for (size_t k = 0; k < n; k++) {
			int64_t exp;
			double secs;

			t = &targets[k];
			if ((r = shown_chain(t)) == NULL)
				continue;
			exp = verdict_expiry(&r->verdict);
			secs = threshold_seconds(th, expiry_lifetime(r->certs, r->ncerts, exp));
			if (exp == 0 || secs < 0)
				continue;
			row_series(out, &f, t);
			end_fixed(out, secs, 3);
		}
	}

	f = family(out, "tlswatch_chain_last_seen_timestamp_seconds", "gauge",
	    "When the chain whose certificate and expiry series are published was "
	    "last presented: the last probe's time while probes succeed.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = shown_certs(t)) == NULL)
			continue;
		row_series(out, &f, t);
		end_fixed(out, r->time, 3);
	}

	f = family(out, "tlswatch_chain_certificates", "gauge",
	    "Number of certificates the server presented.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || !r->success)
			continue;
		row_series(out, &f, t);
		end_u64(out, r->ncerts);
	}

	f = family(out, "tlswatch_chain_issue", "gauge",
	    "Problems with the presented chain, trusted or not.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((r = t->result) == NULL || !r->success)
			continue;
		const char *w[64];
		size_t nw = verdict_words(VERDICT_CHAIN_ISSUE, r->verdict.issues, w);

		for (size_t i = 0; i < nw; i++) {
			row_series(out, &f, t);
			LABEL(out, "issue", w[i]);
			end_u64(out, 1);
		}
	}
}

/* A family whose HELP and TYPE are written with its first series: the
 * families checks add appear only once something fills them, so output
 * without them stays as it was. */
struct lazy_family {
	struct family f;
	const char *type;
	const char *help;
	int started;
};

static void
lazy_series(struct buf *out, struct lazy_family *lf, const struct metrics_row *t)
{
	if (!lf->started) {
		lf->f = family(out, lf->f.name, lf->type, lf->help);
		lf->started = 1;
	}
	row_series(out, &lf->f, t);
}

/* A sample value: an integer as such, anything else with 9 digits. */
static void
end_value(struct buf *b, double v)
{
	PUT(b, "} ");
	if (!isfinite(v))
		v = 0;          /* keep the exposition parseable */
	if (v == (double)(int64_t)v && v > -9e15 && v < 9e15)
		put_i64(b, (int64_t)v);
	else
		buf_printf(b, "%.9g", v);
	putc1(b, '\n');
}

/* The key exchange group and the server's signature scheme of each row's
 * last handshake (absent where there was none, as with RSA key exchange). */
static void
render_handshake(struct buf *out, const struct metrics_row *targets, size_t n)
{
	struct lazy_family group = { { "tlswatch_tls_group_info", 23 }, "gauge",
		"Key exchange group of the last handshake, as IANA names it.", 0 };
	struct lazy_family scheme = { { "tlswatch_tls_signature_scheme_info", 34 }, "gauge",
		"Signature scheme the server signed the last handshake with, as IANA names it.", 0 };

	for (size_t k = 0; k < n; k++) {
		const struct result *r = targets[k].result;

		if (r == NULL || r->tls_group == NULL)
			continue;
		lazy_series(out, &group, &targets[k]);
		LABEL(out, "group", r->tls_group);
		end_u64(out, 1);
	}
	for (size_t k = 0; k < n; k++) {
		const struct result *r = targets[k].result;

		if (r == NULL || r->tls_sigscheme == NULL)
			continue;
		lazy_series(out, &scheme, &targets[k]);
		LABEL(out, "scheme", r->tls_sigscheme);
		end_u64(out, 1);
	}
}

void
metrics_series(struct buf *out, struct metrics_family *f, const char *labels,
    const char *label, const char *value, double v)
{
	if (!f->started) {
		family(out, f->name, f->type, f->help);
		f->started = 1;
	}
	put(out, f->name, strlen(f->name));
	putc1(out, '{');
	put(out, labels, strlen(labels));
	if (label != NULL)
		put_label(out, label, value, 0);
	end_value(out, v);
	terminate(out);
}

/* What checks say of single certificates, by depth. */
static void
render_cert_issues(struct buf *out, const struct metrics_row *targets, size_t n)
{
	struct lazy_family lf = { { "tlswatch_cert_issue", 19 }, "gauge",
		"Problems with one presented certificate, by depth.", 0 };

	for (size_t k = 0; k < n; k++) {
		const struct metrics_row *t = &targets[k];
		const struct result *r = t->result;
		const uint64_t *ci;
		size_t nci;

		if (r == NULL || !r->success ||
		    (ci = verdict_cert_issues(&r->verdict, &nci)) == NULL)
			continue;
		for (size_t d = 0; d < nci && d < r->ncerts; d++) {
			const char *w[64];
			size_t nw = verdict_words(VERDICT_CERT_ISSUE, ci[d], w);

			for (size_t i = 0; i < nw; i++) {
				lazy_series(out, &lf, t);
				PUT(out, ",depth=\"");
				put_u64(out, d);
				putc1(out, '"');
				LABEL(out, "sha256", r->certs[d]->sha256);
				LABEL(out, "issue", w[i]);
				end_u64(out, 1);
			}
		}
	}
}

/* Every check's own families, from the result it left in each verdict:
 * metrics.c knows the shape (check.h), never the check. */
static void
render_checks(struct buf *out, const struct metrics_row *targets, size_t n)
{
	for (size_t c = 0; c < verdict_nchecks(); c++) {
		size_t nf;
		const struct check_family *fam = verdict_check_families(c, &nf);

		for (size_t fi = 0; fi < nf; fi++) {
			const struct check_family *cf = &fam[fi];
			struct lazy_family lf = { { cf->name, strlen(cf->name) }, cf->type,
				cf->help, 0 };

			for (size_t k = 0; k < n; k++) {
				const struct metrics_row *t = &targets[k];
				const struct result *r = t->result;
				const void *blob;
				struct check_sample s;

				if (r == NULL || !r->success ||
				    (blob = verdict_blob(&r->verdict, c)) == NULL)
					continue;
				for (size_t i = 0; memset(&s, 0, sizeof(s)),
				    cf->sample(blob, i, &s); i++) {
					lazy_series(out, &lf, t);
					for (size_t l = 0; l < CHECK_SAMPLE_LABELS && s.names[l]; l++)
						put_label(out, s.names[l], s.values[l], 0);
					end_value(out, s.value);
				}
			}
		}
	}
}

static void sample_u64(struct buf *b, const char *name, uint64_t v);

/* What the store remembers across restarts: change times and counts, and
 * when each presented certificate was first seen. */
static void
render_memory(struct buf *out, const struct metrics_target *targets, size_t n,
    const struct metrics_info *info)
{
	const struct metrics_target *t;
	const struct store_record *st;
	struct family f;

	f = family(out, "tlswatch_chain_changed_timestamp_seconds", "gauge",
	    "When the presented chain last changed (or was first seen), by fingerprints.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((st = t->memory) == NULL || st->chain_changed <= 0)
			continue;
		series(out, &f, t);
		end_fixed(out, st->chain_changed, 3);
	}

	f = family(out, "tlswatch_chain_changes_total", "counter",
	    "Changes of the presented chain since the target was first seen.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((st = t->memory) == NULL || st->chain_changed <= 0)
			continue;
		series(out, &f, t);
		end_u64(out, st->chain_changes);
	}

	f = family(out, "tlswatch_cert_first_seen_timestamp_seconds", "gauge",
	    "When the target first presented each certificate of its last chain.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if ((st = t->memory) == NULL)
			continue;
		for (size_t i = 0; i < st->chain.n; i++) {
			series(out, &f, t);
			PUT(out, ",depth=\"");
			put_u64(out, i);
			putc1(out, '"');
			LABEL(out, "sha256", st->chain.fps[i]);
			end_fixed(out, store_cert_first_seen(st, i), 3);
		}
	}

	if (info->have_store) {
		family(out, "tlswatch_state_write_errors_total", "counter",
		    "Writes to state_dir that failed (full disk, read-only, ...).");
		sample_u64(out, "tlswatch_state_write_errors_total", info->state_write_errors);
	}
}

/* A small file from /proc, NUL-terminated; -1 when it cannot be read. */
static int
read_proc(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < size - 1 &&
	    (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0) {
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

/* Descriptors open in this process, not counting the one used to count. */
static int
count_fds(uint64_t *count)
{
	struct dirent *e;
	uint64_t n = 0;
	DIR *d;
	int self;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	self = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		n++;
	}
	closedir(d);
	*count = n;
	return 0;
}

/* "name value\n" for a series without labels. */
static void
sample_u64(struct buf *b, const char *name, uint64_t v)
{
	put(b, name, strlen(name));
	putc1(b, ' ');
	put_u64(b, v);
	putc1(b, '\n');
}

static void
sample_fixed(struct buf *b, const char *name, double v, int decimals)
{
	put(b, name, strlen(name));
	putc1(b, ' ');
	put_fixed(b, v, decimals);
	putc1(b, '\n');
}

/* Named and computed as Prometheus client libraries do, so that existing
 * dashboards and alerts work unchanged. A value that cannot be read leaves
 * its family empty. */
static void
render_process(struct buf *out, const struct metrics_info *info)
{
	unsigned long long vsize, rss;
	struct rusage ru;
	struct rlimit rl;
	char statm[256];
	uint64_t fds;
	long page;
	int have_statm;

	family(out, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		sample_fixed(out, "process_cpu_seconds_total",
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6,
		    6);

	page = sysconf(_SC_PAGESIZE);
	have_statm = page > 0 &&
	    read_proc("/proc/self/statm", statm, sizeof(statm)) == 0 &&
	    sscanf(statm, "%llu %llu", &vsize, &rss) == 2;

	family(out, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	if (have_statm)
		sample_u64(out, "process_resident_memory_bytes",
		    (uint64_t)rss * (uint64_t)page);

	family(out, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	if (have_statm)
		sample_u64(out, "process_virtual_memory_bytes",
		    (uint64_t)vsize * (uint64_t)page);

	family(out, "process_open_fds", "gauge",
	    "Number of open file descriptors.");
	if (count_fds(&fds) == 0)
		sample_u64(out, "process_open_fds", fds);

	family(out, "process_max_fds", "gauge",
	    "Maximum number of open file descriptors.");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		sample_u64(out, "process_max_fds", (uint64_t)rl.rlim_cur);

	family(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	sample_fixed(out, "process_start_time_seconds", info->start_time, 3);
}

static void
render_histogram(struct buf *out, const char *name, const char *help,
                 const struct histogram *h)
{
	uint64_t cumulative = 0;

	family(out, name, "histogram", help);
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nbounds; i++) {
		cumulative += h->counts[i];
		buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
		    (unsigned long long)cumulative);
	}
	buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	buf_printf(out, "%s_sum %.6f\n", name, h->sum);
	buf_printf(out, "%s_count %llu\n", name, (unsigned long long)h->count);
}

/* What each target is probed with, and its client certificate's expiry. */
static void
render_target_info(struct buf *out, const struct metrics_target *targets, size_t n)
{
	const struct metrics_target *t;
	struct family f;

	f = family(out, "tlswatch_target_info", "gauge",
	    "What each target is probed with: its configured address, the server "
	    "name sent (empty: none) and the STARTTLS protocol (none: implicit TLS).");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		series(out, &f, t);
		LABEL(out, "address", t->conf->address);
		LABEL(out, "server_name", t->conf->server_name ? t->conf->server_name : "");
		LABEL(out, "starttls", starttls_name((enum starttls_proto)t->conf->tls.starttls));
		end_u64(out, 1);
	}

	f = family(out, "tlswatch_client_cert_not_after_timestamp_seconds", "gauge",
	    "notAfter of the client certificate a target presents, in seconds since the epoch.");
	for (size_t k = 0; k < n; k++) {
		t = &targets[k];
		if (t->conf->tls.creds == NULL)
			continue;
		series(out, &f, t);
		end_i64(out, t->conf->tls.client_not_after);
	}
}

/* Every configured target, probed yet or not: an alert on stale results
 * compares the last probe's time with this. */
static void
render_schedule(struct buf *out, const struct metrics_target *targets, size_t n)
{
	struct family f;

	f = family(out, "tlswatch_probe_interval_seconds", "gauge",
	    "Configured time between two probes of the target.");
	for (size_t k = 0; k < n; k++) {
		series(out, &f, &targets[k]);
		end_fixed(out, (double)targets[k].conf->interval_ms / 1000.0, 3);
	}
}

/* The fetcher: requests by kind and result, its cache, its queue. */
static void
render_fetch(struct buf *out, const struct fetch_stats *st)
{
	family(out, "tlswatch_fetch_requests_total", "counter",
	    "HTTP requests for revocation data, renewal information and certificates, "
	    "by kind and result (not_modified: the cached copy still held).");
	for (int k = 0; k < FETCH_NKINDS; k++)
		for (int o = 0; o < FETCH_NOUTCOMES; o++) {
			PUT(out, "tlswatch_fetch_requests_total{");
			put_label(out, "kind", fetch_kind_name((enum fetch_kind)k), 1);
			LABEL(out, "result", fetch_outcome_name((enum fetch_outcome)o));
			end_u64(out, st->requests[k][o]);
		}
	family(out, "tlswatch_fetch_cache_entries", "gauge",
	    "Fetched bodies kept in the cache (state_dir/fetch).");
	sample_u64(out, "tlswatch_fetch_cache_entries", st->cache_entries);
	family(out, "tlswatch_fetch_cache_bytes", "gauge",
	    "Size of the fetch cache on disk, metadata included.");
	sample_u64(out, "tlswatch_fetch_cache_bytes", st->cache_bytes);
	family(out, "tlswatch_fetch_in_flight_requests", "gauge",
	    "Fetches running now; at most fetch.concurrency.");
	sample_u64(out, "tlswatch_fetch_in_flight_requests", st->in_flight);
	family(out, "tlswatch_fetch_queued_requests", "gauge",
	    "Fetches waiting for a free slot.");
	sample_u64(out, "tlswatch_fetch_queued_requests", st->queued);
}

void
metrics_render_reload(struct buf *out, int ok, double success_time)
{
	family(out, "tlswatch_config_last_reload_successful", "gauge",
	    "Whether the last configuration reload succeeded (1 at start).");
	sample_u64(out, "tlswatch_config_last_reload_successful", ok ? 1 : 0);
	family(out, "tlswatch_config_last_reload_success_timestamp_seconds", "gauge",
	    "Time of the last successful configuration load, start included.");
	sample_fixed(out, "tlswatch_config_last_reload_success_timestamp_seconds",
	    success_time, 3);
	terminate(out);
}

/* What one probe says, per row: every family but the target's own. */
static void
render_rows(struct buf *out, const struct metrics_row *rows, size_t nv, int counters,
    const struct metrics_info *info)
{
	struct cert_index ix = { .slots = NULL };
	struct family f;

	render_probe(out, rows, nv, counters);
	RETURN_IF_CUT(out);
	render_tls(out, rows, nv);
	RETURN_IF_CUT(out);
	f = family(out, "tlswatch_cert_not_after_timestamp_seconds", "gauge",
	    "notAfter of each presented certificate, in seconds since the epoch.");
	render_certs(out, rows, nv, &f, 1, &ix);
	if (!out->cut) {
		f = family(out, "tlswatch_cert_not_before_timestamp_seconds", "gauge",
		    "notBefore of each presented certificate, in seconds since the epoch.");
		render_certs(out, rows, nv, &f, 0, &ix);
	}
	free(ix.slots);
	buf_free(&ix.text);
	RETURN_IF_CUT(out);
	render_chain(out, rows, nv, info);
	RETURN_IF_CUT(out);
	render_handshake(out, rows, nv);
	RETURN_IF_CUT(out);
	render_cert_issues(out, rows, nv);
	RETURN_IF_CUT(out);
	render_checks(out, rows, nv);
}

void
metrics_render_rows(struct buf *out, const struct metrics_row *rows, size_t n)
{
	render_rows(out, rows, n, 0, NULL);
	terminate(out);
}

void
metrics_render(struct buf *out, const struct metrics_target *targets, size_t n,
    const struct metrics_row *rows, size_t nv, const struct metrics_info *info)
{
	family(out, "tlswatch_build_info", "gauge",
	    "Version of tlswatch and of the GnuTLS it runs with.");
	PUT(out, "tlswatch_build_info{");
	put_label(out, "version", info->version, 1);
	LABEL(out, "gnutls_version", info->gnutls_version);
	PUT(out, "} 1\n");

	family(out, "tlswatch_targets", "gauge", "Number of configured targets.");
	sample_u64(out, "tlswatch_targets", n);
	family(out, "tlswatch_scheduler_in_flight_probes", "gauge",
	    "Probes running now; at most the configured concurrency.");
	sample_u64(out, "tlswatch_scheduler_in_flight_probes", info->in_flight);
	family(out, "tlswatch_scheduler_queued_targets", "gauge",
	    "Targets due but waiting for a free probe slot.");
	sample_u64(out, "tlswatch_scheduler_queued_targets", info->queued);
	family(out, "tlswatch_scheduler_skipped_total", "counter",
	    "Rounds skipped because the target's previous probe was still running or queued.");
	sample_u64(out, "tlswatch_scheduler_skipped_total", info->skipped);
	family(out, "tlswatch_verifications_total", "counter",
	    "Chain verifications: done in full, or the last verdict reused for an "
	    "unchanged chain, trust store and name within its validity window.");
	PUT(out, "tlswatch_verifications_total{kind=\"full\"} ");
	put_u64(out, info->verify_full);
	putc1(out, '\n');
	PUT(out, "tlswatch_verifications_total{kind=\"reused\"} ");
	put_u64(out, info->verify_reused);
	putc1(out, '\n');
	render_histogram(out, "tlswatch_scheduler_lateness_seconds",
	    "How long after its due time each probe started.", info->lateness);

	render_target_info(out, targets, n);
	RETURN_IF_CUT(out);
	render_schedule(out, targets, n);
	RETURN_IF_CUT(out);
	/* From here on, a target probed at every address is one row per
	 * address, labelled with it. */
	render_rows(out, rows, nv, 1, info);
	RETURN_IF_CUT(out);
	render_memory(out, targets, n, info);
	RETURN_IF_CUT(out);
	if (info->fetch != NULL)
		render_fetch(out, info->fetch);
	render_process(out, info);
	terminate(out);
}
