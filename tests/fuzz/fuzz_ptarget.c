/*
 * fuzz_ptarget.c - what a /probe request names: the target parser
 * (src/conf/ptarget.c), the proxy setting's parser (proxy_parse) and the
 * name patterns of probe_allow (allow_name), on hostile strings.
 *
 * Input: the string (up to the first NUL); after the NUL, a /probe
 * request's hostname, and after a second NUL its
 * X-Prometheus-Scrape-Timeout-Seconds header.
 *
 * Invariants: accepted targets have a host that is an IP literal (and
 * says so) or a plausible DNS name, a port above zero, a STARTTLS value
 * in range, a scheme only for URLs; "host:port" made from them parses to
 * the same; a URL with '@' before its path is never accepted; a refusal
 * leaves no host and has a message. A name allowed by "*.lab.test" ends
 * in ".lab.test" (in any case, one trailing dot aside). A target built
 * for a /probe (ptarget_conf) is named as given, sends the hostname given
 * (a name or an IP literal) or its host when that is a name, and keeps the
 * module's family; a refusal leaves it empty. A timeout from the header is
 * -1 or between 1 ms and the module's timeout.
 *
 * A plain libFuzzer harness (LLVMFuzzerTestOneInput); it joins the
 * tests/fuzz/ build once that lands.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/ptarget.h"
#include "core/util.h"
#include "probe/allow.h"
#include "probe/proxy.h"
#include "probe/starttls.h"
#include "serve/probeep.h"

#include "check.h"

static struct allow *patterns;

static void
check_hostport(const char *host, unsigned port, int is_ip)
{
	char *again = xasprintf(strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	struct ptarget t;
	const char *msg = ptarget_parse(again, &t);

	CHECK(msg == NULL, "\"%s\" made from an accepted target is refused: %s", again, msg);
	CHECK(strcmp(t.host, host) == 0 && t.port == port && t.host_is_ip == is_ip,
	    "\"%s\" parses to something else", again);
	CHECK(t.scheme == NULL && t.starttls == -1, "host:port with a scheme");
	ptarget_fini(&t);
	free(again);
}

static void
check_allow(const char *host)
{
	size_t len = strlen(host), sl = strlen(".lab.test");

	if (!allow_name(patterns, host))
		return;
	if (len > 0 && host[len - 1] == '.')
		len--;
	CHECK(len > sl && strncasecmp(host + len - sl, ".lab.test", sl) == 0,
	    "\"%s\" allowed by *.lab.test", host);
}

/* What /probe makes of the target with a module, a hostname and a header. */
static void
check_request(const char *target, const struct ptarget *pt, const char *hostname,
    const char *header)
{
	static struct conf_module m;
	struct conf_target t;
	const char *msg;
	int64_t ms;

	m.t.timeout_ms = 10000;
	m.t.tls.starttls = -1;
	m.t.tls.family = (int)(strlen(target) % 3);   /* any, ipv4, ipv6 */
	msg = ptarget_conf(pt, target, &m, hostname, NULL, 0, &t);
	if (msg != NULL) {
		CHECK(*msg != '\0' && t.name == NULL && t.host == NULL, "a refusal left a target");
	} else {
		CHECK(strcmp(t.name, target) == 0, "named \"%s\", not as given", t.name);
		CHECK(strcmp(t.host, pt->host) == 0 && t.port == pt->port, "another host or port");
		if (hostname != NULL)
			CHECK(t.server_name != NULL && strcmp(t.server_name, hostname) == 0 &&
			    (conf_is_ip_literal(hostname) || conf_is_dns_name(hostname)),
			    "hostname \"%s\" not sent as given, or no name", hostname);
		else
			CHECK((t.server_name != NULL) == !pt->host_is_ip, "server name for %s", t.host);
		CHECK(t.tls.family == m.t.tls.family, "the module's family changed");
		CHECK(t.tls.starttls >= 0 && t.tls.starttls < STARTTLS_COUNT, "starttls %d",
		    t.tls.starttls);
	}
	conf_target_fini(&t);
	ms = probeep_timeout_ms(header, m.t.timeout_ms);
	CHECK(ms == -1 || (ms >= 1 && (uint64_t)ms <= m.t.timeout_ms),
	    "timeout %lld ms from \"%s\"", (long long)ms, header ? header : "(none)");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	const char *msg, *sep;
	struct proxy_spec sp;
	struct ptarget t;

	if (patterns == NULL) {
		patterns = allow_new();
		CHECK(allow_add(patterns, "*.lab.test") == NULL, "the pattern is refused");
	}
	msg = ptarget_parse(s, &t);
	if (msg != NULL) {
		CHECK(*msg != '\0' && t.host == NULL, "a refusal with a host or no message");
	} else {
		CHECK(t.host != NULL && *t.host != '\0' && t.port > 0, "an empty host or port 0");
		CHECK(t.host_is_ip == conf_is_ip_literal(t.host), "host_is_ip is wrong for %s", t.host);
		CHECK(t.host_is_ip || conf_is_dns_name(t.host), "\"%s\" is no name", t.host);
		CHECK(t.starttls >= -1 && t.starttls < STARTTLS_COUNT, "starttls %d", t.starttls);
		sep = strstr(s, "://");
		CHECK((t.scheme != NULL) == (sep != NULL), "a scheme without \"://\" or the reverse");
		if (sep != NULL) {
			size_t alen = strcspn(sep + 3, "/?#");

			CHECK(memchr(sep + 3, '@', alen) == NULL, "credentials accepted: %s", s);
		}
		check_hostport(t.host, t.port, t.host_is_ip);
		if (!t.host_is_ip)
			check_allow(t.host);
		{
			/* after the target's NUL: hostname NUL header */
			size_t n = strlen(s), rlen = n < size ? size - n - 1 : 0;
			char *rest = xcalloc(1, rlen + 2), *header;

			if (rlen > 0)
				memcpy(rest, data + n + 1, rlen);
			header = strlen(rest) < rlen ? rest + strlen(rest) + 1 : NULL;
			check_request(s, &t, n < size && *rest ? rest : NULL, header);
			free(rest);
		}
		ptarget_fini(&t);
	}
	msg = proxy_parse(s, &sp);
	if (msg == NULL) {
		CHECK(sp.host != NULL && sp.port > 0, "a proxy without host or port");
		CHECK(sp.kind == PROXY_HTTP || sp.kind == PROXY_SOCKS5, "proxy kind %d", sp.kind);
		CHECK(strchr(s, '@') == NULL, "proxy credentials accepted: %s", s);
	} else {
		CHECK(*msg != '\0' && sp.host == NULL, "a proxy refusal with a host or no message");
	}
	proxy_spec_fini(&sp);
	check_allow(s);
	free(s);
	return 0;
}
