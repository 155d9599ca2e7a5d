/* checkmail.h - `tlswatch check --mail-domain DOMAIN`: one round of a mail
 * domain with the daemon's code (MX set, every MX host on every port at
 * every address, DANE with a validating resolver, MTA-STS and TLS-RPT),
 * printed whole, with a monitoring plugin's exit status. */
#ifndef TLSWATCH_CHECKMAIL_H
#define TLSWATCH_CHECKMAIL_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/expiry.h"

struct checkmail_opts {
	const char *domain;
	const uint16_t *ports;     /* none: 25 */
	size_t nports;
	const char *resolver;      /* a validating resolver "IP:PORT" whose AD bit
	                            * counts: DANE on; NULL: resolv.conf's, DANE off */
	const char *cafile;        /* NULL: the system trust store */
	int policy;                /* enum conf_policy */
	struct threshold warn, crit;   /* as for one address */
	uint64_t timeout_ms;
};

/* Prints the picture on stdout; returns 0 OK, 1 WARNING, 2 CRITICAL, 3
 * UNKNOWN (also printed: the domain or the set-up failed). */
int checkmail_run(const struct checkmail_opts *o);

#endif
