/* allow.c - probe_allow: networks and name patterns a /probe may reach.
 *
 * The check runs after resolution, on every address, so that a name
 * cannot smuggle a forbidden address: an address passes when it lies in
 * one of the networks, or when the name it came from matches one of the
 * name patterns (such a pattern trusts what its names resolve to; that is
 * what naming a zone means). An IPv4-mapped IPv6 address reaches the IPv4
 * host, and is judged as that address. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "core/util.h"
#include "probe/allow.h"

/* Entries in one list; more is a configuration error. */
#define ALLOW_MAX 4096

struct net {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network address, host bits zero */
	unsigned prefix;
};

struct pattern {
	char *suffix;            /* lower case, no trailing dot */
	int wildcard;            /* "*.suffix": names below suffix, not suffix itself */
};

struct allow {
	struct net *nets;
	size_t nnets;
	struct pattern *names;
	size_t nnames;
};

struct allow *
allow_new(void)
{
	return xcalloc(1, sizeof(struct allow));
}

void
allow_free(struct allow *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nnames; i++)
		free(a->names[i].suffix);
	free(a->names);
	free(a->nets);
	free(a);
}

/* Whether the bits of addr past prefix are all zero. */
static int
host_bits_zero(const unsigned char *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned bit = prefix; bit < bytes * 8; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return 0;
	return 1;
}

static int
prefix_match(const unsigned char *a, const unsigned char *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ net[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static const char *
add_net(struct allow *a, const char *entry)
{
	const char *slash = strchr(entry, '/');
	char addr[INET6_ADDRSTRLEN + 1];
	size_t alen = slash ? (size_t)(slash - entry) : strlen(entry);
	struct net n = { 0 };
	unsigned long prefix;
	unsigned bytes;
	char *end;

	if (alen == 0 || alen >= sizeof(addr))
		return "bad network address";
	memcpy(addr, entry, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, n.addr) == 1) {
		n.family = AF_INET;
		bytes = 4;
	} else if (inet_pton(AF_INET6, addr, n.addr) == 1) {
		n.family = AF_INET6;
		bytes = 16;
	} else {
		return "bad network address";
	}
	prefix = bytes * 8;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return "bad prefix length";
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || prefix > bytes * 8 || (slash[1] == '0' && slash[2] != '\0'))
			return "bad prefix length";
	}
	n.prefix = (unsigned)prefix;
	/* "10.1.2.3/8" is a typo or a misunderstanding: say so. */
	if (!host_bits_zero(n.addr, bytes, n.prefix))
		return "address has bits set past the prefix length";
	a->nets = xreallocarray(a->nets, a->nnets + 1, sizeof(*a->nets));
	a->nets[a->nnets++] = n;
	return NULL;
}

/* name without its one trailing dot, lower case; NULL if too long */
static char *
canon_name(const char *name)
{
	size_t len = strlen(name);
	char *s;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return NULL;
	s = xstrndup(name, len);
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

static const char *
add_name(struct allow *a, const char *entry)
{
	struct pattern p = { 0 };
	const char *name = entry;

	if (strncmp(entry, "*.", 2) == 0) {
		p.wildcard = 1;
		name = entry + 2;
	}
	if (strchr(name, '*') != NULL)
		return "\"*\" only as the first label: \"*.example.org\"";
	if (!conf_is_dns_name(name) || (p.suffix = canon_name(name)) == NULL)
		return "bad host name pattern";
	a->names = xreallocarray(a->names, a->nnames + 1, sizeof(*a->names));
	a->names[a->nnames++] = p;
	return NULL;
}

const char *
allow_add(struct allow *a, const char *entry)
{
	if (a->nnets + a->nnames >= ALLOW_MAX)
		return "too many entries";
	if (*entry == '\0')
		return "empty entry";
	/* An address has a ':' (IPv6) or is digits and dots (IPv4); a DNS
	 * name cannot be all digits in its last label. */
	if (strchr(entry, ':') != NULL || strspn(entry, "0123456789./") == strlen(entry))
		return add_net(a, entry);
	return add_name(a, entry);
}

int
allow_empty(const struct allow *a)
{
	return a->nnets + a->nnames == 0;
}

int
allow_name(const struct allow *a, const char *host)
{
	char *name = canon_name(host);
	int ok = 0;

	if (name == NULL)
		return 0;
	for (size_t i = 0; i < a->nnames && !ok; i++) {
		const struct pattern *p = &a->names[i];
		size_t nl = strlen(name), sl = strlen(p->suffix);

		if (!p->wildcard)
			ok = strcmp(name, p->suffix) == 0;
		else
			ok = nl > sl + 1 && name[nl - sl - 1] == '.' &&
			    strcmp(name + nl - sl, p->suffix) == 0;
	}
	free(name);
	return ok;
}

int
allow_address(const struct allow *a, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *addr;
	int family = sa->sa_family;

	if (family == AF_INET) {
		addr = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return 0;
	}
	for (size_t i = 0; i < a->nnets; i++)
		if (a->nets[i].family == family && prefix_match(addr, a->nets[i].addr, a->nets[i].prefix))
			return 1;
	return 0;
}

const char *
allow_check(const struct allow *a, const char *host, int host_is_ip,
            const struct resolved_addr *addrs, size_t n, char *why, size_t size)
{
	if (!host_is_ip && allow_name(a, host))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&addrs[i].ss;

		if (!allow_address(a, sa)) {
			if (why != NULL && size > 0) {
				char buf[INET6_ADDRSTRLEN + 8];
				const void *src = sa->sa_family == AF_INET6 ?
				    (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr :
				    (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;

				if (inet_ntop(sa->sa_family, src, buf, sizeof(buf)) == NULL)
					snprintf(buf, sizeof(buf), "?");
				snprintf(why, size, "%s", buf);
			}
			return host_is_ip ? "address not in probe_allow" :
			    "name resolves to an address not in probe_allow";
		}
	}
	return NULL;
}
