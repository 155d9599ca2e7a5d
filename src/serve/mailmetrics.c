/* mailmetrics.c - the mail domain families and labels (see mailmetrics.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/maildom.h"
#include "probe/stsround.h"
#include "serve/mailmetrics.h"

static void
label(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, ",%s=\"", name);
	metrics_escape_label(b, value);
	buf_putc(b, '"');
}

void
mailmetrics_row(struct metrics_row *row, const struct conf_target *ct)
{
	char mx[MAILDOM_KEY_MAX], port[8];
	const char *address;
	uint16_t p;
	struct buf b;

	if (row->address == NULL ||
	    maildom_split_key(row->address, mx, sizeof(mx), &p, &address) == -1)
		return;
	buf_init(&b);
	label(&b, "domain", ct->mail_domain);
	label(&b, "mx", mx);
	snprintf(port, sizeof(port), "%u", p);
	label(&b, "port", port);
	row->extra = buf_steal(&b);
	row->address = *address ? address : NULL;
}

void
mailmetrics_row_fini(struct metrics_row *row)
{
	free(row->extra);
	row->extra = NULL;
}

/* A family's header and one series per mail domain whose MTA-STS state
 * says so. */
enum sts_family { F_STATUS, F_POLICY, F_MAX_AGE, F_COVERED, F_TLSRPT, F_COUNT };

static const char *const sts_families[F_COUNT][2] = {
	{ "tlswatch_mta_sts_status", "1 for the result of a mail domain's last MTA-STS "
	  "lookup (RFC 8461): ok, no_record, fetch_error, invalid_policy, "
	  "policy_cert_invalid." },
	{ "tlswatch_mta_sts_policy_info", "1 for a mail domain's MTA-STS policy: its mode "
	  "and the id of its _mta-sts record." },
	{ "tlswatch_mta_sts_policy_max_age_seconds", "The max_age of a mail domain's "
	  "MTA-STS policy." },
	{ "tlswatch_mta_sts_mx_covered", "1 when the MTA-STS policy's mx patterns cover "
	  "the MX host, 0 when a sender enforcing it would refuse it." },
	{ "tlswatch_tlsrpt_record_present", "1 when the mail domain publishes one "
	  "TLSRPTv1 record (RFC 8460), 0 when none." },
};

static void
render_sts(struct buf *out, const struct metrics_target *t, size_t n,
    mailmetrics_get_fn get, const void *arg)
{
	for (int f = 0; f < F_COUNT; f++) {
		buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", sts_families[f][0],
		    sts_families[f][1], sts_families[f][0]);
		for (size_t i = 0; i < n; i++) {
			const struct maildom *md = get(arg, i);
			const struct mtasts_policy *p;
			const char *id;
			int rpt;
			enum sts_status st;

			if (md == NULL)
				continue;
			st = sts_result(maildom_sts(md), &p, &id, &rpt);
#define SERIES() do {                                                   \
	buf_printf(out, "%s{%s", sts_families[f][0], t[i].labels);           \
	label(out, "domain", t[i].conf->mail_domain);                        \
} while (0)
			if (f == F_STATUS && st != STS_NONE) {
				SERIES();
				label(out, "status", sts_status_name(st));
				buf_puts(out, "} 1\n");
			} else if (f == F_POLICY && p) {
				SERIES();
				label(out, "mode", mtasts_mode_name(p->mode));
				label(out, "id", id);
				buf_puts(out, "} 1\n");
			} else if (f == F_MAX_AGE && p) {
				SERIES();
				buf_printf(out, "} %u\n", (unsigned)p->max_age);
			} else if (f == F_COVERED && p) {
				for (size_t j = 0; j < maildom_nmx(md); j++) {
					uint16_t pref;
					const char *mx = maildom_mx(md, j, &pref);

					SERIES();
					label(out, "mx", mx);
					buf_printf(out, "} %d\n", mtasts_policy_covers(p, mx) ? 1 : 0);
				}
			} else if (f == F_TLSRPT && rpt >= 0) {
				SERIES();
				buf_printf(out, "} %d\n", rpt);
			}
#undef SERIES
		}
	}
}

void
mailmetrics_render(struct buf *out, const struct metrics_target *t, size_t n,
    mailmetrics_get_fn get, const void *arg)
{
	int any = 0;

	for (size_t i = 0; i < n && !any; i++)
		any = get(arg, i) != NULL;
	if (!any)
		return;
	buf_puts(out, "# HELP tlswatch_mx_info The MX set of a mail domain's last answer "
	    "(the domain itself, preference 0, when it has no MX).\n"
	    "# TYPE tlswatch_mx_info gauge\n");
	for (size_t i = 0; i < n; i++) {
		const struct maildom *md = get(arg, i);
		char pref[8];

		for (size_t j = 0; md && j < maildom_nmx(md); j++) {
			uint16_t p;
			const char *mx = maildom_mx(md, j, &p);

			buf_printf(out, "tlswatch_mx_info{%s", t[i].labels);
			label(out, "domain", t[i].conf->mail_domain);
			label(out, "mx", mx);
			snprintf(pref, sizeof(pref), "%u", p);
			label(out, "preference", pref);
			buf_puts(out, "} 1\n");
		}
	}
	buf_puts(out, "# HELP tlswatch_mx_changes_total Changes of a mail domain's MX set "
	    "seen since the daemon started.\n"
	    "# TYPE tlswatch_mx_changes_total counter\n");
	for (size_t i = 0; i < n; i++) {
		const struct maildom *md = get(arg, i);

		if (md == NULL)
			continue;
		buf_printf(out, "tlswatch_mx_changes_total{%s", t[i].labels);
		label(out, "domain", t[i].conf->mail_domain);
		buf_printf(out, "} %llu\n", (unsigned long long)maildom_mx_changes(md));
	}
	render_sts(out, t, n, get, arg);
}
