/*
 * mtasts.c - MTA-STS policies and records, TLS-RPT records, MX patterns.
 *
 * No library in Debian parses RFC 8461 policies or RFC 8460 records; the
 * grammars are a few lines each, written here from the RFCs' ABNF with
 * every length bounded (and fuzzed: tests/fuzz/fuzz_mtasts.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "verdict/mtasts.h"

const char *
mtasts_mode_name(enum mtasts_mode m)
{
	switch (m) {
	case MTASTS_ENFORCE:
		return "enforce";
	case MTASTS_TESTING:
		return "testing";
	default:
		return "none";
	}
}

static void
seterr(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5321 Domain: labels of letters, digits and inner hyphens, 1 to 63
 * bytes, 253 in all. s[0..len). */
static int
domain_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && !(c == '-' && label > 0))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/* An extension name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static int
ext_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* A policy value, leading and trailing WSP gone: visible characters
 * (UTF-8 bytes allowed) with inner spaces and tabs; no other controls. */
static int
value_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int
field_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

int
mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *p, char *err,
                    size_t errsize)
{
	int have_version = 0, have_mode = 0, have_age = 0;
	size_t off = 0, line = 0;

	memset(p, 0, sizeof(*p));
	if (len > MTASTS_POLICY_MAX) {
		seterr(err, errsize, "policy of %zu bytes, more than %d", len, MTASTS_POLICY_MAX);
		return -1;
	}
	while (off < len) {
		const char *l = text + off, *nl, *colon, *v;
		size_t ll, klen, vlen;

		line++;
		nl = memchr(l, '\n', len - off);
		ll = nl ? (size_t)(nl - l) : len - off;
		off += ll + (nl ? 1 : 0);
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;
		if (memchr(l, '\r', ll) != NULL || memchr(l, '\0', ll) != NULL) {
			seterr(err, errsize, "line %zu: a control character", line);
			goto fail;
		}
		colon = memchr(l, ':', ll);
		if (colon == NULL) {
			seterr(err, errsize, "line %zu: not \"key: value\"", line);
			goto fail;
		}
		klen = (size_t)(colon - l);
		if (!ext_name_ok(l, klen)) {
			seterr(err, errsize, "line %zu: not a field name", line);
			goto fail;
		}
		v = colon + 1;
		vlen = ll - klen - 1;
		while (vlen > 0 && is_wsp(*v)) {
			v++;
			vlen--;
		}
		while (vlen > 0 && is_wsp(v[vlen - 1]))
			vlen--;
		if (!value_ok(v, vlen)) {
			seterr(err, errsize, "line %zu: %.*s has no value, or a control character",
			    line, (int)klen, l);
			goto fail;
		}
		if (field_is(l, klen, "version")) {
			if (have_version++)
				continue;
			if (vlen != 5 || memcmp(v, "STSv1", 5) != 0) {
				seterr(err, errsize, "line %zu: version is not STSv1", line);
				goto fail;
			}
		} else if (field_is(l, klen, "mode")) {
			if (have_mode++)
				continue;
			if (vlen == 7 && memcmp(v, "enforce", 7) == 0)
				p->mode = MTASTS_ENFORCE;
			else if (vlen == 7 && memcmp(v, "testing", 7) == 0)
				p->mode = MTASTS_TESTING;
			else if (vlen == 4 && memcmp(v, "none", 4) == 0)
				p->mode = MTASTS_NONE;
			else {
				seterr(err, errsize, "line %zu: mode is not enforce, testing or none",
				    line);
				goto fail;
			}
		} else if (field_is(l, klen, "max_age")) {
			uint64_t age = 0;
			size_t i;

			if (have_age++)
				continue;
			if (vlen > 10) {
				seterr(err, errsize, "line %zu: max_age has more than 10 digits", line);
				goto fail;
			}
			for (i = 0; i < vlen; i++) {
				if (!isdigit((unsigned char)v[i])) {
					seterr(err, errsize, "line %zu: max_age is not a number", line);
					goto fail;
				}
				age = age * 10 + (uint64_t)(v[i] - '0');
			}
			if (age > MTASTS_MAX_AGE_MAX) {
				seterr(err, errsize, "line %zu: max_age above %u", line,
				    MTASTS_MAX_AGE_MAX);
				goto fail;
			}
			p->max_age = (uint32_t)age;
		} else if (field_is(l, klen, "mx")) {
			size_t dl = vlen, i;
			const char *d = v;

			if (vlen > 2 && v[0] == '*' && v[1] == '.') {
				d += 2;
				dl -= 2;
			}
			if (!domain_ok(d, dl)) {
				seterr(err, errsize, "line %zu: mx is not a host name or *.domain", line);
				goto fail;
			}
			if (p->nmx == MTASTS_MAX_MX) {
				seterr(err, errsize, "line %zu: more than %d mx patterns", line,
				    MTASTS_MAX_MX);
				goto fail;
			}
			if (p->mx == NULL)
				p->mx = xcalloc(MTASTS_MAX_MX, sizeof(*p->mx));
			p->mx[p->nmx] = xstrndup(v, vlen);
			for (i = 0; i < vlen; i++)
				p->mx[p->nmx][i] = (char)tolower((unsigned char)v[i]);
			p->nmx++;
		}
		/* other fields: extensions, ignored (section 3.2) */
	}
	if (!have_version) {
		seterr(err, errsize, "no version field");
		goto fail;
	}
	if (!have_mode) {
		seterr(err, errsize, "no mode field");
		goto fail;
	}
	if (!have_age) {
		seterr(err, errsize, "no max_age field");
		goto fail;
	}
	if (p->nmx == 0 && p->mode != MTASTS_NONE) {
		seterr(err, errsize, "no mx field in mode %s", mtasts_mode_name(p->mode));
		goto fail;
	}
	return 0;
fail:
	mtasts_policy_free(p);
	return -1;
}

void
mtasts_policy_free(struct mtasts_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	memset(p, 0, sizeof(*p));
}

static int
name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

int
mtasts_mx_match(const char *pattern, const char *host)
{
	size_t pl = strlen(pattern), hl = strlen(host);
	const char *dot;

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (hl == 0 || pl == 0)
		return 0;
	if (pl > 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* exactly one label in place of the star */
		dot = memchr(host, '.', hl);
		if (dot == NULL || dot == host)
			return 0;
		return name_eq(dot + 1, hl - (size_t)(dot + 1 - host), pattern + 2, pl - 2);
	}
	return name_eq(pattern, pl, host, hl);
}

int
mtasts_policy_covers(const struct mtasts_policy *p, const char *host)
{
	size_t i;

	for (i = 0; i < p->nmx; i++)
		if (mtasts_mx_match(p->mx[i], host))
			return 1;
	return 0;
}

/*
 * The "v=VERSION; k=v; ..." form both records share (RFC 8461 section
 * 3.1, RFC 8460 section 3): field-delim = *WSP ";" *WSP. Calls field for
 * each field after the version; it returns 0 or -1 (with err set).
 */
struct record_walk {
	const char *version;   /* "v=STSv1" */
	int (*field)(void *arg, const char *k, size_t klen, const char *v, size_t vlen,
	             char *err, size_t errsize);
	void *arg;
};

static int
record_walk(const struct record_walk *w, const char *text, size_t len, int *valid,
            char *err, size_t errsize)
{
	size_t vl = strlen(w->version), off, nfields = 0;

	*valid = 0;
	if (len < vl || memcmp(text, w->version, vl) != 0 ||
	    (len > vl && text[vl] != ';' && !is_wsp(text[vl])))
		return 0;
	off = vl;
	for (;;) {
		size_t start, klen, vlen;
		const char *eq;

		/* a delimiter, or the end */
		while (off < len && is_wsp(text[off]))
			off++;
		if (off == len)
			break;
		if (text[off] != ';') {
			seterr(err, errsize, "expected ';' at byte %zu", off + 1);
			return 1;
		}
		off++;
		while (off < len && is_wsp(text[off]))
			off++;
		if (off == len)
			break;   /* a final delimiter */
		start = off;
		while (off < len && text[off] != ';')
			off++;
		/* the field ends at ';' or at the end, less trailing WSP */
		vlen = off - start;
		while (vlen > 0 && is_wsp(text[start + vlen - 1]))
			vlen--;
		eq = memchr(text + start, '=', vlen);
		if (eq == NULL) {
			seterr(err, errsize, "field %zu is not key=value", nfields + 1);
			return 1;
		}
		klen = (size_t)(eq - (text + start));
		if (!ext_name_ok(text + start, klen)) {
			seterr(err, errsize, "field %zu has no valid name", nfields + 1);
			return 1;
		}
		nfields++;
		if (w->field(w->arg, text + start, klen, eq + 1, vlen - klen - 1, err,
		    errsize) == -1)
			return 1;
	}
	if (nfields == 0) {
		seterr(err, errsize, "no field after %s", w->version);
		return 1;
	}
	*valid = 1;
	return 1;
}

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static int
ext_value_ok(const char *v, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return 0;
	}
	return 1;
}

struct sts_fields {
	char *id;
	int have_id;
};

static int
sts_field(void *arg, const char *k, size_t klen, const char *v, size_t vlen, char *err,
          size_t errsize)
{
	struct sts_fields *f = arg;
	size_t i;

	if (klen == 2 && memcmp(k, "id", 2) == 0) {
		if (f->have_id++)
			return 0;
		if (vlen == 0 || vlen > MTASTS_ID_MAX) {
			seterr(err, errsize, "id of %zu characters (1 to %d)", vlen, MTASTS_ID_MAX);
			return -1;
		}
		for (i = 0; i < vlen; i++)
			if (!isalnum((unsigned char)v[i])) {
				seterr(err, errsize, "id has a character other than letters and digits");
				return -1;
			}
		memcpy(f->id, v, vlen);
		f->id[vlen] = '\0';
		return 0;
	}
	if (!ext_value_ok(v, vlen)) {
		seterr(err, errsize, "field %.*s has a bad value", (int)(klen > 32 ? 32 : klen), k);
		return -1;
	}
	return 0;
}

int
mtasts_record_parse(const char *text, size_t len, int *valid, char *id, char *err,
                    size_t errsize)
{
	struct sts_fields f = { id, 0 };
	struct record_walk w = { "v=STSv1", sts_field, &f };
	int is;

	id[0] = '\0';
	is = record_walk(&w, text, len, valid, err, errsize);
	if (is && *valid && !f.have_id) {
		seterr(err, errsize, "no id field");
		*valid = 0;
	}
	if (is && !*valid)
		id[0] = '\0';
	return is;
}

static int
uri_ok(const char *u, size_t len)
{
	size_t i, scheme;

	if (len > 7 && memcmp(u, "mailto:", 7) == 0)
		scheme = 7;
	else if (len > 8 && memcmp(u, "https://", 8) == 0)
		scheme = 8;
	else
		return 0;
	for (i = scheme; i < len; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c < 0x21 || c > 0x7e || c == ',' || c == ';')
			return 0;
	}
	return 1;
}

struct rpt_fields {
	int have_rua;
};

static int
rpt_field(void *arg, const char *k, size_t klen, const char *v, size_t vlen, char *err,
          size_t errsize)
{
	struct rpt_fields *f = arg;

	if (klen == 3 && memcmp(k, "rua", 3) == 0) {
		size_t off = 0;

		if (f->have_rua++)
			return 0;
		/* tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
		for (;;) {
			size_t start, ul;

			while (off < vlen && is_wsp(v[off]))
				off++;
			start = off;
			while (off < vlen && v[off] != ',' && !is_wsp(v[off]))
				off++;
			ul = off - start;
			if (!uri_ok(v + start, ul)) {
				seterr(err, errsize, "rua holds something other than mailto: or "
				    "https:// URIs");
				return -1;
			}
			while (off < vlen && is_wsp(v[off]))
				off++;
			if (off == vlen)
				return 0;
			if (v[off] != ',') {
				seterr(err, errsize, "rua URIs are not separated by ','");
				return -1;
			}
			off++;
		}
	}
	if (!ext_value_ok(v, vlen)) {
		seterr(err, errsize, "field %.*s has a bad value", (int)(klen > 32 ? 32 : klen), k);
		return -1;
	}
	return 0;
}

int
tlsrpt_record_parse(const char *text, size_t len, int *valid, char *err, size_t errsize)
{
	struct rpt_fields f = { 0 };
	struct record_walk w = { "v=TLSRPTv1", rpt_field, &f };
	int is;

	is = record_walk(&w, text, len, valid, err, errsize);
	if (is && *valid && !f.have_rua) {
		seterr(err, errsize, "no rua field");
		*valid = 0;
	}
	return is;
}
