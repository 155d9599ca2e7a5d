/* ptarget.h - a target as /probe requests and file_sd documents name it:
 * "host:port", "[v6]:port", or a URL as prometheus-operator builds it. */
#ifndef TLSWATCH_PTARGET_H
#define TLSWATCH_PTARGET_H

#include <stdint.h>

/* At most this many bytes in one target string. */
#define PTARGET_MAX_LEN 1024

struct ptarget {
	char *host;        /* without brackets; allocated */
	uint16_t port;
	int host_is_ip;    /* an IPv4 or IPv6 literal */
	int starttls;      /* enum starttls_proto the URL scheme implies;
	                    * -1: not said (host:port), the port decides */
	const char *scheme;  /* static, lower case: "https", "smtp", ...;
	                      * NULL for host:port */
};

/* Parse s into *t. Returns NULL, or a static message for a 400 or a file
 * error ("missing port", "URL with credentials refused", ...); *t is then
 * left empty (ptarget_fini is harmless either way). */
const char *ptarget_parse(const char *s, struct ptarget *t);
void ptarget_fini(struct ptarget *t);

#endif
