/* blackbox.h - blackbox_exporter's series for a TLS probe, from a result. */
#ifndef TLSWATCH_BLACKBOX_H
#define TLSWATCH_BLACKBOX_H

#include <stdint.h>

#include "core/util.h"
#include "result.h"

struct resolved_addr;

/* Append what blackbox_exporter's tcp prober with tls: true answers for
 * the same probe (README's mapping table): probe_success (1 only when the
 * handshake completed and the chain verified, hostname included),
 * probe_duration_seconds, probe_dns_lookup_time_seconds, probe_ip_protocol,
 * probe_ip_addr_hash, probe_failed_due_to_regex, and after a completed
 * handshake probe_ssl_earliest_cert_expiry, probe_ssl_last_chain_info,
 * probe_tls_version_info, probe_tls_cipher_info and, when verified,
 * probe_ssl_last_chain_expiry_timestamp_seconds. The leaf's subject and
 * issuer labels are Go's (cert_go_names must have run on it). */
void blackbox_render(struct buf *out, const struct result *r);

/* Whether Go would refuse the leaf's names (blackbox then fails the
 * handshake): known once cert_go_names ran. */
int blackbox_go_refused(const struct result *r);
/* probe_ip_addr_hash: 32-bit FNV-1a of the raw address, 4 or 16 bytes. */
uint32_t blackbox_addr_hash(const struct resolved_addr *a);
/* GnuTLS's "TLS1.3" as Go writes it, "TLS 1.3"; "unknown" otherwise. */
const char *blackbox_tls_version(const char *gnutls_name);

#endif
