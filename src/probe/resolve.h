/* resolve.h - asynchronous name resolution (c-ares) on the event loop. */
#ifndef TLSWATCH_RESOLVE_H
#define TLSWATCH_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct resolver;

struct resolved_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

enum resolve_family {
	RESOLVE_ANY,
	RESOLVE_IPV4,
	RESOLVE_IPV6,
};

/* addrs is NULL and reason a static string ("not_found", "no_address",
 * "server_failure", "no_answer", "failed") on failure; detail says more.
 * addrs are only valid during the call. */
typedef void (*resolve_cb)(void *arg, const struct resolved_addr *addrs, size_t n,
                           const char *reason, const char *detail);

struct resolver *resolver_new(struct loop *l, char **err);
void resolver_free(struct resolver *r);

struct resolve_req;
/* Start resolving host (a name; callers handle IP literals themselves) for
 * port. cb runs later, from the loop, never from inside this call. */
struct resolve_req *resolve_start(struct resolver *r, const char *host, uint16_t port,
                                  enum resolve_family family, resolve_cb cb, void *arg);
/* cb will not be called for req; its memory goes when c-ares lets go. */
void resolve_cancel(struct resolve_req *req);

/* Parse an IPv4 or IPv6 literal into *out. Returns 0 or -1. */
int resolve_literal(const char *host, uint16_t port, struct resolved_addr *out);
/* "1.2.3.4" or "::1" (no port) into buf; "?" when it cannot be printed. */
void resolve_ip(const struct resolved_addr *a, char *buf, size_t size);
/* "1.2.3.4:443" or "[::1]:443" into buf. */
void resolve_format(const struct resolved_addr *a, char *buf, size_t size);

#endif
