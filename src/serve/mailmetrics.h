/* mailmetrics.h - what a mail domain target adds to the exposition: its
 * rows' domain, mx and port labels, its MX set and MX set changes. */
#ifndef TLSWATCH_MAILMETRICS_H
#define TLSWATCH_MAILMETRICS_H

#include <stddef.h>

#include "serve/metrics.h"

struct maildom;

/* A row of mail domain target ct, whose address is a maildom key ("MX
 * PORT ADDRESS"): address becomes the address alone (NULL when the MX host
 * did not resolve) and extra the domain, mx and port labels. */
void mailmetrics_row(struct metrics_row *row, const struct conf_target *ct);
/* Free what mailmetrics_row added (nothing for other rows). */
void mailmetrics_row_fini(struct metrics_row *row);

/* The mail domain of target i, or NULL. */
typedef const struct maildom *(*mailmetrics_get_fn)(const void *arg, size_t i);
/* tlswatch_mx_info{domain,mx,preference} and
 * tlswatch_mx_changes_total{domain} of every mail domain among t[0..n);
 * nothing without one. */
void mailmetrics_render(struct buf *out, const struct metrics_target *t, size_t n,
                        mailmetrics_get_fn get, const void *arg);

#endif
