/* ptarget.h - a target as /probe requests and file_sd documents name it:
 * "host:port", "[v6]:port", or a URL as prometheus-operator builds it. */
#ifndef TLSWATCH_PTARGET_H
#define TLSWATCH_PTARGET_H

#include <stddef.h>
#include <stdint.h>

struct conf_module;
struct conf_label;
struct conf_target;

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

/* The target pt names, probed with module m's settings, as the scheduler
 * and the probe take it: called name, server_name the hostname given (a
 * /probe request's), else the module's, else the host when it is a name;
 * STARTTLS as the module says, else as the URL scheme implies, else as
 * the port's; the labels copied (sorted by name). NULL, or a static message
 * (then *t is empty). Free with conf_target_fini. */
const char *ptarget_conf(const struct ptarget *pt, const char *name, const struct conf_module *m,
                         const char *hostname, const struct conf_label *labels, size_t nlabels,
                         struct conf_target *t);

#endif
