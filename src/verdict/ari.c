/* ari.c - ACME Renewal Information: identifiers, URLs, windows. */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "verdict/ari.h"
#include "verdict/x509.h"

char *
ari_base64url(const unsigned char *p, size_t len)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = xmalloc(len / 3 * 4 + 5), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = a[v >> 6 & 63];
		*o++ = a[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = a[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

int
ari_cert_id(const unsigned char *cert, size_t len, char **id, char **key_id, char **err)
{
	gnutls_x509_crt_t c = x509_import(cert, len);
	unsigned char aki[128], serial[128];
	size_t aki_len = sizeof(aki), serial_len = sizeof(serial);
	unsigned critical;
	char *a, *s;

	*id = NULL;
	*err = NULL;
	if (key_id)
		*key_id = NULL;
	if (c == NULL) {
		*err = xstrdup("the certificate does not parse");
		return -1;
	}
	if (gnutls_x509_crt_get_authority_key_id(c, aki, &aki_len, &critical) < 0 || aki_len == 0) {
		gnutls_x509_crt_deinit(c);
		*err = xstrdup("no authority key identifier");
		return -1;
	}
	if (gnutls_x509_crt_get_serial(c, serial, &serial_len) < 0 || serial_len == 0) {
		gnutls_x509_crt_deinit(c);
		*err = xstrdup("no serial number");
		return -1;
	}
	gnutls_x509_crt_deinit(c);
	a = ari_base64url(aki, aki_len);
	s = ari_base64url(serial, serial_len);
	*id = xasprintf("%s.%s", a, s);
	if (key_id)
		*key_id = a;
	else
		free(a);
	free(s);
	return 0;
}

static json_t *
load(const char *text, size_t len, char **err)
{
	json_error_t e;
	json_t *j;

	if (len > ARI_MAX_JSON) {
		*err = xasprintf("larger than %d bytes", ARI_MAX_JSON);
		return NULL;
	}
	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		*err = xasprintf("not JSON (line %d: %.80s)", e.line, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*err = xstrdup("not a JSON object");
		return NULL;
	}
	return j;
}

int
ari_directory(const char *json, size_t len, char **url, char **err)
{
	json_t *j, *v;
	const char *s;

	*url = NULL;
	*err = NULL;
	if ((j = load(json, len, err)) == NULL)
		return -1;
	v = json_object_get(j, "renewalInfo");
	if (!json_is_string(v) || !x509_is_http_url((const unsigned char *)(s = json_string_value(v)),
	    json_string_length(v)) || strlen(s) != json_string_length(v)) {
		json_decref(j);
		*err = xstrdup("no renewalInfo URL in the directory");
		return -1;
	}
	*url = xstrdup(s);
	json_decref(j);
	return 0;
}

char *
ari_url(const char *renewal_info, const char *cert_id)
{
	size_t n = strlen(renewal_info);

	/* RFC 9773 4.1: the path is renewalInfo/CertID */
	return xasprintf("%s%s%s", renewal_info, n && renewal_info[n - 1] == '/' ? "" : "/",
	    cert_id);
}

static int
num(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
ari_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, leap;
	const char *p;

	/* date-time = full-date "T" full-time (RFC 3339 section 5.6) */
	if (strlen(s) < 20 || num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &mo) || s[7] != '-' ||
	    num(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || num(s + 11, 2, &h) ||
	    s[13] != ':' || num(s + 14, 2, &mi) || s[16] != ':' || num(s + 17, 2, &sec))
		return -1;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;       /* fractions of a second: not ours to keep */
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && !num(p + 1, 2, &oh) && p[3] == ':' &&
	    !num(p + 4, 2, &om)) {
		sign = *p == '+' ? 1 : -1;
		p += 6;
	} else
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;
	if (sec == 60)
		sec = 59;       /* a leap second: near enough */
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

int
ari_window_parse(const char *json, size_t len, struct ari_window *w, char **err)
{
	json_t *j, *win, *start, *end, *expl;
	int64_t s, e;

	memset(w, 0, sizeof(*w));
	*err = NULL;
	if ((j = load(json, len, err)) == NULL)
		return -1;
	win = json_object_get(j, "suggestedWindow");
	start = json_object_get(win, "start");
	end = json_object_get(win, "end");
	if (!json_is_object(win) || !json_is_string(start) || !json_is_string(end)) {
		*err = xstrdup("no suggestedWindow with start and end");
		goto fail;
	}
	if (ari_parse_time(json_string_value(start), &s) == -1 ||
	    ari_parse_time(json_string_value(end), &e) == -1 ||
	    !time_epoch_ok(s) || !time_epoch_ok(e)) {
		*err = xstrdup("suggestedWindow times are not RFC 3339");
		goto fail;
	}
	if (e <= s) {
		/* RFC 9773 4.2: as though no response was received */
		*err = xstrdup("suggestedWindow ends before it starts");
		goto fail;
	}
	w->start = s;
	w->end = e;
	expl = json_object_get(j, "explanationURL");
	if (json_is_string(expl) && json_string_length(expl) <= ARI_MAX_URL &&
	    strlen(json_string_value(expl)) == json_string_length(expl))
		w->explanation_url = xstrdup(json_string_value(expl));
	json_decref(j);
	return 0;
fail:
	json_decref(j);
	return -1;
}

void
ari_window_free(struct ari_window *w)
{
	if (w == NULL)
		return;
	free(w->explanation_url);
	w->explanation_url = NULL;
}

double
ari_next_poll(double retry_after, double now)
{
	double d = retry_after > 0 ? retry_after - now : ARI_DEFAULT_POLL;

	if (d < ARI_MIN_POLL)
		d = ARI_MIN_POLL;
	if (d > ARI_MAX_POLL)
		d = ARI_MAX_POLL;
	return now + d;
}

enum ari_phase
ari_phase_at(const struct ari_window *w, int64_t now)
{
	if (now < w->start)
		return ARI_BEFORE;
	return now < w->end ? ARI_OPEN : ARI_PASSED;
}
