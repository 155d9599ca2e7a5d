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

/* Ask only these servers ("127.0.0.1:53", "[::1]:53"; at most 8), not
 * /etc/resolv.conf's, from now on: the validating resolver named by the
 * configuration, whose AD bit is then believed (resolver_trusted).
 * Returns 0, or -1 with *err allocated. */
int resolver_set_servers(struct resolver *r, const char *const *servers, size_t n,
                         char **err);
/* Whether the servers are ones the configuration named. */
int resolver_trusted(const struct resolver *r);
/* The loop r runs on. */
struct loop *resolver_loop(const struct resolver *r);

struct resolve_req;
/* Start resolving host (a name; callers handle IP literals themselves) for
 * port. cb runs later, from the loop, never from inside this call. */
struct resolve_req *resolve_start(struct resolver *r, const char *host, uint16_t port,
                                  enum resolve_family family, resolve_cb cb, void *arg);
/* cb will not be called for req; its memory goes when c-ares lets go. */
void resolve_cancel(struct resolve_req *req);

/* A raw DNS query's answer: the whole response (abuf, alen), whatever its
 * RCODE (SERVFAIL and REFUSED too), or abuf NULL and reason as for
 * resolve_cb when no answer came. abuf is only valid during the call. */
typedef void (*resolve_raw_cb)(void *arg, const unsigned char *abuf, size_t alen,
                               const char *reason, const char *detail);
struct resolve_query;
/* Send the DNS message q[0..qlen) (its id is replaced) to the servers,
 * retried and over TCP when truncated, as c-ares does. cb runs later,
 * from the loop, never from inside this call. */
struct resolve_query *resolve_send(struct resolver *r, const unsigned char *q, size_t qlen,
                                   resolve_raw_cb cb, void *arg);
/* cb will not be called for q. */
void resolve_query_cancel(struct resolve_query *q);

/* Parse an IPv4 or IPv6 literal into *out. Returns 0 or -1. */
int resolve_literal(const char *host, uint16_t port, struct resolved_addr *out);
/* "1.2.3.4" or "::1" (no port) into buf; "?" when it cannot be printed. */
void resolve_ip(const struct resolved_addr *a, char *buf, size_t size);
/* "1.2.3.4:443" or "[::1]:443" into buf. */
void resolve_format(const struct resolved_addr *a, char *buf, size_t size);
/* The address of what resolve_format wrote ("127.0.0.1:443", "[::1]:443"),
 * port 0: 0, or -1 when peer is NULL or not that. */
int resolve_parse_peer(const char *peer, struct resolved_addr *out);

#endif
