/* mailmetrics.c - the mail domain families and labels (see mailmetrics.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/maildom.h"
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
}
