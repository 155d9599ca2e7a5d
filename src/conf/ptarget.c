/* ptarget.c - the target of a /probe request or a file_sd document.
 *
 * "host:port" and "[v6]:port" are read as a configured address is
 * (conf_split_hostport). A URL is what prometheus-operator writes for a
 * Probe's ingress targets ("scheme://host/path") and what blackbox users
 * keep in file_sd lists: the scheme gives the default port and whether TLS
 * starts at once or after a STARTTLS dialogue; the path, query and fragment
 * say nothing about TLS and are ignored. A URL carrying credentials is
 * refused: they would end up in logs and series, and tlswatch sends none. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/ptarget.h"
#include "core/util.h"
#include "probe/starttls.h"

static const struct scheme {
	const char *name;
	uint16_t port;
	enum starttls_proto starttls;
} schemes[] = {
	{ "https", 443, STARTTLS_NONE },
	{ "smtps", 465, STARTTLS_NONE },
	{ "submissions", 465, STARTTLS_NONE },   /* RFC 8314 */
	{ "imaps", 993, STARTTLS_NONE },
	{ "pop3s", 995, STARTTLS_NONE },
	{ "ldaps", 636, STARTTLS_NONE },
	{ "ftps", 990, STARTTLS_NONE },
	{ "smtp", 25, STARTTLS_SMTP },
	{ "submission", 587, STARTTLS_SMTP },
	{ "imap", 143, STARTTLS_IMAP },
	{ "pop3", 110, STARTTLS_POP3 },
	{ "xmpp", 5222, STARTTLS_XMPP },
	{ "ldap", 389, STARTTLS_LDAP },
};

static const struct scheme *
find_scheme(const char *s, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strlen(schemes[i].name) == len && strncasecmp(s, schemes[i].name, len) == 0)
			return &schemes[i];
	return NULL;
}

/* RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
 * The length of the scheme, or 0 when s is no URL. */
static size_t
url_scheme_len(const char *s)
{
	size_t n = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	    (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-' || s[n] == '.')
		n++;
	return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

const char *
ptarget_parse(const char *s, struct ptarget *t)
{
	const struct scheme *sc = NULL;
	const char *msg;
	size_t slen, alen;
	char *hostport;

	memset(t, 0, sizeof(*t));
	t->starttls = -1;
	if (*s == '\0')
		return "empty target";
	if (strlen(s) > PTARGET_MAX_LEN)
		return "target too long";

	slen = url_scheme_len(s);
	if (slen == 0) {
		if (strstr(s, "://") != NULL)
			return "bad URL scheme";
		hostport = xstrdup(s);
	} else {
		const char *auth = s + slen + 3;

		sc = find_scheme(s, slen);
		if (sc == NULL)
			return (slen == 4 && strncasecmp(s, "http", 4) == 0) ?
			    "http:// has no TLS: use https://" : "unknown URL scheme";
		alen = strcspn(auth, "/?#");
		if (memchr(auth, '@', alen) != NULL)
			return "URL with credentials refused";
		if (alen == 0)
			return "missing host";
		/* Without a port, the scheme's: "[::1]" and "host" alike. */
		if (auth[alen - 1] == ']' || memchr(auth, ':', alen) == NULL)
			hostport = xasprintf("%.*s:%u", (int)alen, auth, (unsigned)sc->port);
		else
			hostport = xstrndup(auth, alen);
	}

	msg = conf_split_hostport(hostport, &t->host, &t->port);
	free(hostport);
	if (msg != NULL)
		return msg;
	t->host_is_ip = conf_is_ip_literal(t->host);
	if (sc != NULL) {
		t->scheme = sc->name;
		t->starttls = (int)sc->starttls;
	}
	return NULL;
}

void
ptarget_fini(struct ptarget *t)
{
	if (t == NULL)
		return;
	free(t->host);
	t->host = NULL;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

const char *
ptarget_conf(const struct ptarget *pt, const char *name, const struct conf_module *m,
    const char *hostname, const struct conf_label *labels, size_t nlabels,
    struct conf_target *t)
{
	const struct conf_target *mt = &m->t;

	memset(t, 0, sizeof(*t));
	if (hostname != NULL && (*hostname == '\0' ||
	    (!conf_is_ip_literal(hostname) && !conf_is_dns_name(hostname))))
		return "bad hostname (a DNS name or an IP address)";
	if (mt->tls.family != CONF_FAMILY_ANY && pt->host_is_ip &&
	    (strchr(pt->host, ':') != NULL) != (mt->tls.family == CONF_FAMILY_IPV6))
		return mt->tls.family == CONF_FAMILY_IPV6 ?
		    "the module's family is ipv6 but the address is IPv4" :
		    "the module's family is ipv4 but the address is IPv6";
	t->name = xstrdup(name);
	t->address = strchr(pt->host, ':') != NULL ?
	    xasprintf("[%s]:%u", pt->host, (unsigned)pt->port) :
	    xasprintf("%s:%u", pt->host, (unsigned)pt->port);
	t->host = xstrdup(pt->host);
	t->port = pt->port;
	t->host_is_ip = pt->host_is_ip;
	/* the request's hostname, else the module's, else the host (a name) */
	if (hostname != NULL)
		t->server_name = xstrdup(hostname);
	else if (mt->server_name != NULL)
		t->server_name = xstrdup(mt->server_name);
	else if (!pt->host_is_ip)
		t->server_name = xstrdup(pt->host);
	t->ca_file = dup_or_null(mt->ca_file);
	t->ca_file_line = mt->ca_file_line;
	t->trust = mt->trust;
	t->interval_ms = mt->interval_ms;
	t->timeout_ms = mt->timeout_ms;
	t->line = m->line;
	t->tls = mt->tls;
	t->tls.client_cert = dup_or_null(mt->tls.client_cert);
	t->tls.client_key = dup_or_null(mt->tls.client_key);
	t->tls.priority = dup_or_null(mt->tls.priority);
	t->tls.proxy = dup_or_null(mt->tls.proxy);
	/* a protocol the module names wins over the scheme's, which wins
	 * over the port's */
	if (t->tls.starttls < 0)
		t->tls.starttls = pt->starttls >= 0 ? pt->starttls : (int)starttls_for_port(pt->port);
	if (nlabels > 0) {
		t->labels = xcalloc(nlabels, sizeof(*t->labels));
		for (size_t i = 0; i < nlabels; i++) {
			t->labels[i].name = xstrdup(labels[i].name);
			t->labels[i].value = xstrdup(labels[i].value);
		}
		t->nlabels = (uint32_t)nlabels;
	}
	/* m's strings are the configuration's, which outlives t (as its
	 * trust store does) */
	conf_target_compact(t, mt->ca_file, &mt->tls);
	return NULL;
}
