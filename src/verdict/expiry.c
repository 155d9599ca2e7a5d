/*
 * expiry.c - warn and crit as durations or fractions of the lifetime.
 *
 * "21 days before expiry" fits a 398-day certificate and is the whole of
 * a 6-day one; ACME clients renew when a third of the lifetime is left,
 * so "33%" says what they do for any lifetime (check_ssl_cert#560,
 * uptime-kuma#7872 asked for it).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "verdict/expiry.h"

/* "33", "12.5", "0.01" followed by '%': hundredths of a percent. */
static int
parse_percent(const char *s, unsigned *out)
{
	unsigned whole = 0, frac = 0, nfrac = 0, nwhole = 0;
	const char *p = s;

	for (; isdigit((unsigned char)*p) && nwhole < 3; p++, nwhole++)
		whole = whole * 10 + (unsigned)(*p - '0');
	if (nwhole == 0)
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p) && nfrac < 2; p++, nfrac++)
			frac = frac * 10 + (unsigned)(*p - '0');
		if (nfrac == 0)
			return -1;
		if (nfrac == 1)
			frac *= 10;
	}
	if (p[0] != '%' || p[1] != '\0')
		return -1;
	*out = whole * 100 + frac;
	return *out > 0 && *out < THRESHOLD_SCALE ? 0 : -1;
}

int
threshold_parse(const char *s, struct threshold *t)
{
	struct threshold v = { 0, 0 };

	if (s == NULL)
		return -1;
	if (strchr(s, '%') != NULL) {
		if (parse_percent(s, &v.fraction) == -1)
			return -1;
	} else if (parse_duration_ms(s, &v.ms) == -1) {
		return -1;
	}
	*t = v;
	return 0;
}

void
threshold_format(char *out, size_t size, const struct threshold *t)
{
	if (t->fraction == 0)
		format_duration(out, size, t->ms);
	else if (t->fraction % 100 == 0)
		snprintf(out, size, "%u%%", t->fraction / 100);
	else if (t->fraction % 10 == 0)
		snprintf(out, size, "%u.%u%%", t->fraction / 100, t->fraction / 10 % 10);
	else
		snprintf(out, size, "%u.%02u%%", t->fraction / 100, t->fraction % 100);
}

double
threshold_seconds(const struct threshold *t, int64_t lifetime)
{
	if (t->fraction == 0)
		return (double)t->ms / 1000.0;
	if (lifetime <= 0)
		return -1;
	return (double)lifetime * t->fraction / THRESHOLD_SCALE;
}

int
threshold_in_order(const struct threshold *warn, const struct threshold *crit)
{
	if ((warn->fraction == 0) != (crit->fraction == 0))
		return 1;
	return warn->fraction == 0 ? crit->ms <= warn->ms : crit->fraction <= warn->fraction;
}

enum expiry_state
expiry_judge(const struct threshold *warn, const struct threshold *crit, int64_t expiry,
             int64_t lifetime, double now)
{
	double left = (double)expiry - now;
	double c = threshold_seconds(crit, lifetime), w = threshold_seconds(warn, lifetime);

	if (c >= 0 && left < c)
		return EXPIRY_CRIT;
	if (w >= 0 && left < w)
		return EXPIRY_WARN;
	return EXPIRY_OK;
}

int64_t
expiry_lifetime(struct cert *const *certs, size_t n, int64_t expiry)
{
	const struct cert *leaf = n > 0 ? certs[0] : NULL;

	for (size_t i = 0; i < n; i++) {
		const struct cert *c = certs[i];

		if (c != NULL && c->not_after == expiry && c->not_before != 0 &&
		    c->not_after > c->not_before)
			return c->not_after - c->not_before;
	}
	if (leaf != NULL && leaf->not_before != 0 && leaf->not_after > leaf->not_before)
		return leaf->not_after - leaf->not_before;
	return 0;
}
