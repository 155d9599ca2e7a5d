/*
 * fuzz_ptarget.c - what a /probe request names: the target parser
 * (src/conf/ptarget.c), the proxy setting's parser (proxy_parse) and the
 * name patterns of probe_allow (allow_name), on hostile strings.
 *
 * Input: the string (up to the first NUL).
 *
 * Invariants: accepted targets have a host that is an IP literal (and
 * says so) or a plausible DNS name, a port above zero, a STARTTLS value
 * in range, a scheme only for URLs; "host:port" made from them parses to
 * the same; a URL with '@' before its path is never accepted; a refusal
 * leaves no host and has a message. A name allowed by "*.lab.test" ends
 * in ".lab.test" (in any case, one trailing dot aside).
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
