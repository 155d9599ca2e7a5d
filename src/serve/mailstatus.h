/* mailstatus.h - a mail domain on the status page and in the JSON API: its
 * MX rows (MX host, port, address) grouped under the domain, each with its
 * state, verdict, DANE result and MTA-STS coverage. */
#ifndef TLSWATCH_MAILSTATUS_H
#define TLSWATCH_MAILSTATUS_H

#include "serve/status.h"

/* The domain's rows as one table row of the list (under the domain's own
 * row, spanning its ncols columns). Nothing when e is not a mail domain. */
void mailstatus_html_list(struct buf *b, const struct status_entry *e,
                          const struct status_view *v, size_t ncols);
/* The domain's rows as a section of its own page. Nothing as above. */
void mailstatus_html_target(struct buf *b, const struct status_entry *e,
                            const struct status_view *v);
/* ,"mail_domain":...,"mta_sts":...,"rows":[...] after the members of e's
 * JSON object. Nothing as above. */
void mailstatus_json(struct buf *b, const struct status_entry *e, const struct status_view *v);

#endif
