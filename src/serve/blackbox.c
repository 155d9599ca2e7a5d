/* blackbox.c - the series prometheus-blackbox-exporter answers a TLS probe
 * with, from a tlswatch result, with blackbox's names, meaning and label
 * values (README: "blackbox_exporter's series, pinned down"), so that rules
 * and dashboards written for it work on /probe unchanged. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "probe/resolve.h"
#include "serve/blackbox.h"
#include "serve/metrics.h"

/* Go's %g-like shortest text is not needed: Prometheus reads any float;
 * integers stay exact. */
static void
sample(struct buf *b, const char *name, const char *help, double v)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	if (v > -9e15 && v < 9e15 && v == (double)(long long)v)
		buf_printf(b, "%s %lld\n", name, (long long)v);
	else
		buf_printf(b, "%s %.9g\n", name, v);
}

static void
info_family(struct buf *b, const char *name, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void
label(struct buf *b, const char *name, const char *value, int first)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	metrics_escape_label(b, value ? value : "");
	buf_putc(b, '"');
}

uint32_t
blackbox_addr_hash(const struct resolved_addr *a)
{
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u;

	if (a->ss.ss_family == AF_INET6) {
		p = ((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_addr.s6_addr;
		n = 16;
	} else {
		p = (const unsigned char *)&((const struct sockaddr_in *)(const void *)&a->ss)->sin_addr;
		n = 4;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

const char *
blackbox_tls_version(const char *gnutls_name)
{
	static const char *const names[][2] = {
		{ "TLS1.0", "TLS 1.0" }, { "TLS1.1", "TLS 1.1" },
		{ "TLS1.2", "TLS 1.2" }, { "TLS1.3", "TLS 1.3" },
	};

	for (size_t i = 0; gnutls_name && i < ARRAY_SIZE(names); i++)
		if (strcmp(gnutls_name, names[i][0]) == 0)
			return names[i][1];
	return "unknown";
}

/* The serial as Go's big.Int bytes in hex: no leading zero bytes. */
static const char *
go_serial(const char *hex)
{
	while (hex[0] == '0' && hex[1] == '0' && hex[2] != '\0')
		hex += 2;
	return strcmp(hex, "00") == 0 ? "" : hex;
}

/* The leaf's DNS names, in certificate order, joined by ",". */
static void
dns_names(struct buf *b, const struct cert *c)
{
	int first = 1;

	for (size_t i = 0; i < c->nsans; i++) {
		if (strncmp(c->sans[i], "DNS:", 4) != 0)
			continue;
		if (!first)
			buf_putc(b, ',');
		buf_puts(b, c->sans[i] + 4);
		first = 0;
	}
	if (first)
		buf_puts(b, "");
}

int
blackbox_go_refused(const struct result *r)
{
	const struct cert *leaf = r && r->success && r->ncerts ? r->certs[0] : NULL;

	return leaf != NULL && leaf->go_done && (leaf->go_subject == NULL || leaf->go_issuer == NULL);
}

void
blackbox_render(struct buf *b, const struct result *r)
{
	const struct cert *leaf = r->success && r->ncerts ? r->certs[0] : NULL;
	struct resolved_addr a;
	int have_addr = resolve_parse_peer(r->peer ? r->peer : r->tried, &a) == 0;
	/* Go parses every name; one it refuses fails blackbox's handshake. */
	int handshake = r->success && !blackbox_go_refused(r);
	double dns = r->stage_seconds[STAGE_RESOLVE];

	if (!(dns >= 0))
		dns = r->fail_stage && strcmp(r->fail_stage, "resolve") == 0 ? r->duration : 0;
	sample(b, "probe_dns_lookup_time_seconds", "Time taken to resolve the target, in seconds.",
	    dns);
	sample(b, "probe_duration_seconds", "How long the probe took, in seconds.", r->duration);
	sample(b, "probe_failed_due_to_regex", "Whether the probe failed on a regular "
	    "expression (never: no query_response here).", 0);
	sample(b, "probe_ip_addr_hash", "32-bit FNV-1a of the address probed, to see it change.",
	    have_addr ? (double)blackbox_addr_hash(&a) : 0);
	sample(b, "probe_ip_protocol", "The IP version of the address probed (4 or 6; 0: none).",
	    !have_addr ? 0 : a.ss.ss_family == AF_INET6 ? 6 : 4);
	if (handshake) {
		sample(b, "probe_ssl_earliest_cert_expiry",
		    "Earliest notAfter over the certificates presented, in seconds since the epoch.",
		    (double)r->verdict.earliest_expiry);
		if (r->verdict.verified)
			sample(b, "probe_ssl_last_chain_expiry_timestamp_seconds",
			    "Earliest notAfter along the verified chain, in seconds since the epoch.",
			    (double)r->verdict.verified_expiry);
	}
	if (handshake && leaf != NULL) {
		struct buf san;

		info_family(b, "probe_ssl_last_chain_info", "The leaf certificate presented.");
		buf_puts(b, "probe_ssl_last_chain_info{");
		label(b, "fingerprint_sha256", leaf->sha256, 1);
		label(b, "issuer", leaf->go_issuer, 0);
		label(b, "serialnumber", go_serial(leaf->serial), 0);
		label(b, "subject", leaf->go_subject, 0);
		buf_init(&san);
		dns_names(&san, leaf);
		label(b, "subjectalternative", san.data, 0);
		buf_free(&san);
		buf_puts(b, "} 1\n");
	}
	sample(b, "probe_success", "Whether the probe succeeded: connected, handshake done, "
	    "chain verified (hostname included).",
	    handshake && r->verdict.verified ? 1 : 0);
	if (handshake && r->cipher != NULL) {
		info_family(b, "probe_tls_cipher_info", "The cipher suite negotiated.");
		buf_puts(b, "probe_tls_cipher_info{");
		label(b, "cipher", r->cipher, 1);
		buf_puts(b, "} 1\n");
	}
	if (handshake && r->tls_version != NULL) {
		info_family(b, "probe_tls_version_info", "The TLS version negotiated.");
		buf_puts(b, "probe_tls_version_info{");
		label(b, "version", blackbox_tls_version(r->tls_version), 1);
		buf_puts(b, "} 1\n");
	}
}
