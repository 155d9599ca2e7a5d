/* allow.h - probe_allow: which addresses a /probe request may make the
 * daemon connect to, as networks (CIDR) and host-name patterns. */
#ifndef TLSWATCH_ALLOW_H
#define TLSWATCH_ALLOW_H

#include <stddef.h>
#include <sys/socket.h>

#include "probe/resolve.h"

struct allow;

struct allow *allow_new(void);
void allow_free(struct allow *a);

/* Add one entry: "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a /32),
 * "::1" (a /128), "*.example.org" (any name below example.org) or
 * "host.example.org" (that name). NULL, or a static message. */
const char *allow_add(struct allow *a, const char *entry);

/* Whether nothing was added (then nothing is allowed). */
int allow_empty(const struct allow *a);

/* Whether the name host (not an IP literal) matches a name pattern:
 * case-insensitive, one trailing dot ignored. */
int allow_name(const struct allow *a, const char *host);
/* Whether the address lies in one of the networks. An IPv4-mapped IPv6
 * address (::ffff:10.0.0.1) is judged as the IPv4 address it reaches. */
int allow_address(const struct allow *a, const struct sockaddr *sa);

/* The decision, after resolution: every address host resolved to must be
 * allowed, by a network or, when host is a name (host_is_ip 0) matching
 * a pattern, by that name. NULL when allowed, else a static reason and,
 * in why (when not NULL), the first address refused ("192.0.2.7"). */
const char *allow_check(const struct allow *a, const char *host, int host_is_ip,
                        const struct resolved_addr *addrs, size_t n, char *why, size_t size);

#endif
