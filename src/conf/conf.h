/* conf.h - the whole configuration, parsed from libconfig and validated at once. */
#ifndef TLSWATCH_CONF_H
#define TLSWATCH_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "probe/starttls.h"
#include "verdict/expiry.h"

#define CONF_DEFAULT_LISTEN "127.0.0.1:9793"
#define CONF_DEFAULT_STATE_DIR "/var/lib/tlswatch"
#define CONF_DEFAULT_INTERVAL_MS (300 * 1000)
/* scan = { } without an interval: once a day */
#define CONF_DEFAULT_SCAN_INTERVAL_MS (86400ULL * 1000)
#define CONF_DEFAULT_TIMEOUT_MS (10 * 1000)
#define CONF_DEFAULT_CONCURRENCY 64
#define CONF_MAX_CONCURRENCY 100000
#define CONF_DEFAULT_WARN_MS ((uint64_t)21 * 86400 * 1000)
#define CONF_DEFAULT_CRIT_MS ((uint64_t)7 * 86400 * 1000)
#define CONF_DEFAULT_WARN { CONF_DEFAULT_WARN_MS, 0 }
#define CONF_DEFAULT_CRIT { CONF_DEFAULT_CRIT_MS, 0 }
#define CONF_DEFAULT_STATE_REFRESH_MS ((uint64_t)15 * 60 * 1000)

enum conf_family {
	CONF_FAMILY_ANY,
	CONF_FAMILY_IPV4,
	CONF_FAMILY_IPV6,
};

/* dane = ...: whether a target's TLSA records are checked (DANE). */
enum conf_dane {
	CONF_DANE_AUTO,    /* where a DNSSEC-authenticated TLSA record exists */
	CONF_DANE_ON,      /* everywhere, reporting their absence too */
	CONF_DANE_OFF,
};
/* dnssec.resolver: at most this many addresses. */
#define CONF_MAX_DNSSEC_RESOLVERS 8
/* ports of a mail domain: at most this many. */
#define CONF_MAX_MAIL_PORTS 8
/* policy = "public" | "private": which rules the verdict holds a chain to
 * (src/verdict/finding.c). Unset, it follows the trust store: public with
 * the system store, private with a ca_file. */
enum conf_policy {
	CONF_POLICY_DEFAULT,
	CONF_POLICY_PUBLIC,
	CONF_POLICY_PRIVATE,
};

struct trust;
struct tls_creds;
struct tlsctx;

/* Per-target TLS settings; a target's values are effective (its own, else
 * the top-level ones). The small fields are bytes: every target holds a
 * copy. */
struct conf_tlsopts {
	char *client_cert;       /* NULL: none */
	char *client_key;
	char *priority;          /* GnuTLS priority string; NULL: GnuTLS's default */
	char *proxy;             /* "http://host:port" or "socks5://host:port" the
	                          * connect stage goes through; NULL: direct */
	/* loaded by conf_load (NULL from conf_parse): the pair above */
	const struct tls_creds *creds;   /* NULL: no client certificate */
	int64_t client_not_after;        /* the client certificate's notAfter */
	int8_t starttls;         /* enum starttls_proto; -1 at the top level: unset */
	uint8_t family;          /* enum conf_family */
	uint8_t addresses_all;   /* addresses = "all" */
	uint8_t verify_hostname; /* 0: skip only the name check */
};

struct conf_label {
	char *name;
	char *value;
};

struct conf_listen {
	char *address;     /* as written, e.g. "[::1]:9793" */
	char *host;        /* without brackets: "::1", "127.0.0.1", "localhost" */
	uint16_t port;
	int line;
};

/* How much revocation counts (revocation = "..."): soft, the default, is 0. */
enum conf_revocation {
	CONF_REVOCATION_SOFT,    /* a revoked certificate fails the verdict */
	CONF_REVOCATION_OFF,     /* no revocation checks */
	CONF_REVOCATION_HARD,    /* ... and so does no answer for the leaf */
};
const char *conf_revocation_name(int r);   /* "soft", "off", "hard" */

#define CONF_DEFAULT_REVOCATION_REFRESH_MS ((uint64_t)3600 * 1000)
#define CONF_MAX_ACME_DIRECTORIES 16

/* One target. A configuration holds one per target, a million of them at
 * scale: pointers first, then the numbers, the small ones in bytes (each
 * an enum of a few values or a flag). */
struct conf_target {
	char *name;        /* unique; defaults to address */
	char *address;     /* as written */
	char *host;        /* without brackets */
	char *server_name; /* SNI and name to check; NULL: no SNI, check host if IP;
	                    * "": server_name = "" written, send no SNI */
	char *ca_file;     /* effective: target's, else global; NULL = system store */
	const struct trust *trust;  /* ca_file loaded (conf_load; NULL from conf_parse) */
	struct conf_label *labels;  /* sorted by name */
	/* { mail_domain = "example.org"; }: the domain's MX hosts are probed,
	 * each on every port of ports, at every address (src/maildom.c).
	 * address and host are then the domain, port the first of ports and
	 * starttls smtp. NULL: a target of one address. */
	char *mail_domain;
	uint16_t *ports;
	uint64_t interval_ms;  /* effective */
	uint64_t timeout_ms;   /* effective */
	uint64_t scan_interval_ms;  /* the protocol scan's, effective; 0: none */
	struct conf_tlsopts tls;  /* starttls, addresses, client certificate, ... */
	int ca_file_line;  /* line of the setting ca_file came from (0 if none) */
	int line;          /* line of the target's group */
	uint32_t nlabels;  /* of a group in a file of at most 64 MiB */
	uint16_t port;
	uint8_t host_is_ip;  /* host is an IPv4 or IPv6 literal */
	int8_t policy;     /* enum conf_policy: the target's, else the top level's */
	int8_t revocation; /* enum conf_revocation, effective */
	int8_t dane;       /* enum conf_dane, effective */
	uint8_t nports;    /* at most CONF_MAX_MAIL_PORTS */
	/* How the strings are held, for conf_target_fini (CONF_HELD_*; 0:
	 * each in an allocation of its own, as conf_target_for makes them). */
	uint8_t held;
};

/* conf_target_compact's: name, address, host, server_name and mail_domain
 * are in one allocation, that of the first of them that is not NULL, or
 * with CONF_HELD_LABELS too that of labels, which holds the labels' strings. */
#define CONF_HELD_PACKED 0x01
#define CONF_HELD_LABELS 0x40
/* ... and these point at a copy the configuration owns (it outlives the
 * target): the top level's (or a module's) value, which they equal. */
#define CONF_HELD_CA_FILE 0x02
#define CONF_HELD_CLIENT_CERT 0x04
#define CONF_HELD_CLIENT_KEY 0x08
#define CONF_HELD_PRIORITY 0x10
#define CONF_HELD_PROXY 0x20

/* A basic-auth user: the name and its crypt(3) hash (bcrypt $2a$/$2b$/$2y$,
 * as Prometheus's exporter-toolkit writes them, or another crypt method). */
struct conf_user {
	char *name;
	char *hash;
};

#define CONF_DEFAULT_WEB_MAX_CONNECTIONS 64
#define CONF_DEFAULT_WEB_CONNECTION_TIMEOUT_MS (10 * 1000)
#define CONF_DEFAULT_WEB_MAX_REQUEST_SIZE (16 * 1024)
#define CONF_DEFAULT_WEB_MAX_CONNECTIONS_PER_ADDRESS 8
#define CONF_DEFAULT_WEB_REQUEST_LINE_TIMEOUT_MS (5 * 1000)
#define CONF_DEFAULT_WEB_HEADER_TIMEOUT_MS (10 * 1000)

/* The optional web block: how the metrics endpoint is served. The PEM files
 * are read at load time, so a reload sees their new contents and the
 * endpoint never reads a file after start-up. */
struct conf_web {
	char *tls_cert_file;   /* NULL: plain HTTP */
	char *tls_key_file;
	char *client_ca_file;  /* NULL: no client certificate asked for */
	char *tls_cert_pem;    /* contents of the files above */
	char *tls_key_pem;
	char *client_ca_pem;
	struct conf_user *users;   /* sorted by name; none: no basic auth */
	size_t nusers;
	unsigned max_connections;
	unsigned max_connections_per_address;
	uint64_t connection_timeout_ms;
	/* From accept to the first request line; from accept (or the end of
	 * the previous request) to the end of a request's headers. */
	uint64_t request_line_timeout_ms;
	uint64_t header_timeout_ms;
	size_t max_request_size;
};

#define CONF_DEFAULT_FETCH_TIMEOUT_MS (10 * 1000)
#define CONF_DEFAULT_FETCH_CONCURRENCY 8
#define CONF_MAX_FETCH_CONCURRENCY 1024
#define CONF_DEFAULT_FETCH_MAX_SIZE ((uint64_t)64 << 20)
#define CONF_MAX_FETCH_MAX_SIZE ((uint64_t)4 << 30)

/* The fetch block: how revocation data, renewal information and missing
 * intermediates are fetched over HTTP(S) (src/fetch). */
struct conf_fetch {
	uint64_t timeout_ms;   /* one request, connect to last byte */
	unsigned concurrency;  /* requests in flight at once */
	uint64_t max_size;     /* bytes of body; a larger one is abandoned */
	char *proxy;           /* NULL: none (the environment's proxies are ignored) */
};

/* A named set of per-target settings (modules = { NAME = { ... }; }), for
 * /probe requests and file_sd targets: t holds them as a target would
 * (name, address, host, port and labels unset; server_name NULL: the
 * target's host; tls.starttls -1: the URL scheme, else the port, decides). */
struct conf_module {
	char *name;        /* NULL: the top-level settings */
	struct conf_target t;
	int line;
};

#define CONF_MAX_MODULES 1000
#define CONF_MAX_TARGET_FILES 64

struct allow;

struct conf {
	char *path;
	struct conf_listen *listen;
	size_t nlisten;
	const char *listen_origin;   /* NULL: the file; else "--listen" etc. */
	char *state_dir;
	uint64_t interval_ms;
	uint64_t timeout_ms;
	uint64_t scan_interval_ms;  /* top-level scan = { }; 0: none */
	unsigned concurrency;
	char *ca_file;     /* NULL = system trust store */
	int ca_file_line;
	int policy;        /* enum conf_policy */
	unsigned shard_k;  /* this instance probes shard shard_k of shard_n (1-based) */
	unsigned shard_n;  /* 1: no sharding */
	struct conf_target *targets;
	size_t ntargets;
	struct conf_tlsopts tls;  /* top-level defaults of the same settings */
	struct conf_web web;
	struct conf_fetch fetch;
	/* What the CA says (issue 12): the top-level revocation (targets
	 * inherit it), how long revocation data is used before its server is
	 * asked again, the ACME directories asked for renewal information. */
	int revocation;
	uint64_t revocation_refresh_ms;
	char **acme_directories;
	size_t nacme_directories;
	int dane;                  /* enum conf_dane: what targets inherit */
	/* dnssec.resolver: the validating resolvers every lookup goes to,
	 * whose AD bit is believed ("127.0.0.1:53"); none: resolv.conf's,
	 * whose AD bit is not, and no DANE */
	char **dnssec_resolvers;
	size_t ndnssec_resolvers;
	struct threshold warn;     /* status page: expiring within this is "warn" */
	struct threshold crit;     /* ... and within this "crit"; not above warn
	                            * when both are durations or both fractions */
	uint64_t state_refresh_ms; /* unchanged state is rewritten at most this often */
	/* The /probe endpoint (issue 14) and targets from file_sd files. */
	int probe_endpoint;        /* serve GET /probe */
	struct allow *probe_allow; /* what /probe may connect to; empty (or probe_allow
	                            * not set): nothing */
	uint64_t probe_cache_ms;   /* a /probe result is answered again for this long */
	unsigned probe_concurrency;   /* /probe probes in flight at most (of concurrency) */
	struct conf_module *modules;  /* sorted by name */
	size_t nmodules;
	struct conf_module top;    /* the top-level settings as a module (name NULL) */
	char **target_files;       /* file_sd patterns, relative names made absolute */
	size_t ntarget_files;
	struct tlsctx *tlsctx;     /* owns what trust and creds above point to */
};

/* Parse and validate path, loading the TLS material it names (trust stores,
 * client certificates; priority strings checked) with GnuTLS. On success
 * returns the config and *errors is NULL. On failure returns NULL and
 * *errors holds one "file:line: setting: message" per line (caller frees).
 * Every error in the file is reported, not just the first. */
struct conf *conf_load(const char *path, char **errors);
/* The same without loading TLS material (trust and creds stay NULL):
 * settings and files as text, for tests of the file format. */
struct conf *conf_parse(const char *path, char **errors);
void conf_free(struct conf *c);

/* Parse "K/N" (1 <= K <= N <= 4096). Returns NULL or a static message. */
const char *conf_parse_shard(const char *s, unsigned *k, unsigned *n);
/* Whether the target named name belongs to shard k of n: FNV-1a 64 of the
 * name, modulo n, equals k - 1. Stable across versions and machines. */
int conf_in_shard(const char *name, unsigned k, unsigned n);
/* --listen or TLSWATCH_LISTEN (origin, a static string): "ADDR[,ADDR...]"
 * replaces c's listen addresses. NULL, or an error naming the bad address
 * (malloc'd; c unchanged). */
char *conf_override_listen(struct conf *c, const char *list, const char *origin);
/* Where listen address i came from, for errors: "FILE:LINE: listen" or
 * "--listen \"ADDR\"" (malloc'd). */
char *conf_listen_where(const struct conf *c, size_t i);
/* A target as a configuration naming only these would make it (server_name
 * NULL: the host when it is a name; starttls -1: the port's protocol), its
 * trust store loaded into tls (NULL: none loaded). 0, or -1 with *err
 * (allocated). For the tool, which probes one target without a file. */
int conf_target_for(const char *address, const char *server_name, int starttls,
                    const char *ca_file, uint64_t timeout_ms, struct tlsctx *tls,
                    struct conf_target *t, char **err);
/* Free what a conf_target holds (conf_target_for's; conf_free frees its own). */
void conf_target_fini(struct conf_target *t);
/* Hold t's strings in fewer allocations, for a target whose strings are
 * not replaced from now on (t->held says how; conf_target_fini frees it
 * alike): name, address, host, server_name, mail_domain and the labels in
 * one, and ca_file and the tls strings that equal ca_file and tls's (the top level's
 * or a module's, which must outlive t) pointing at those. */
void conf_target_compact(struct conf_target *t, const char *ca_file,
                         const struct conf_tlsopts *tls);
/* Whether two targets are configured alike (every setting, lines aside):
 * a reload keeps an unchanged target's results and schedule. */
int conf_target_equal(const struct conf_target *a, const struct conf_target *b);
/* The name a target's certificate is checked against: server_name if set,
 * else the host (an IP literal is matched against the certificate's IP
 * addresses); NULL with verify_hostname = false. The one copy of the rule,
 * for probes and rechecks. */
const char *conf_target_check_name(const struct conf_target *t);
/* "auto", "on", "off". */
const char *conf_dane_name(int dane);
/* Whether t speaks SMTP (STARTTLS smtp, or implicit TLS on port 465): where
 * DANE's verdict follows RFC 7672. */
int conf_target_is_smtp(const struct conf_target *t);
/* The protocol a mail domain's MX host is probed with on port: implicit
 * TLS on 465 (submissions, RFC 8314), STARTTLS smtp on any other. */
int conf_mail_starttls(uint16_t port);
/* The module called name, or NULL. With name NULL: the module called
 * "default" if there is one, else the top-level settings (&c->top). */
const struct conf_module *conf_module_find(const struct conf *c, const char *name);
/* Whether two targets are probed alike: the same host, port and every
 * setting of how (server name, trust store, STARTTLS, family, addresses,
 * client certificate, priority, proxy, name check); name, labels, interval
 * and timeout aside. A /probe may then answer from the other's result. */
int conf_target_probes_alike(const struct conf_target *a, const struct conf_target *b);

/* Whether two web blocks serve alike (file contents included). */
int conf_web_equal(const struct conf_web *a, const struct conf_web *b);

/* Whether s is an IPv4 or IPv6 literal (no brackets). */
int conf_is_ip_literal(const char *s);
/* Whether s is a plausible DNS name: letters, digits, '-' and '_' in labels
 * of 1..63 bytes, 253 in all, one trailing dot allowed. */
int conf_is_dns_name(const char *s);

/* The rule for target label names, wherever labels come from: a Prometheus
 * label name, not one of the daemon's own nor a "__" name. */
enum conf_label_kind {
	CONF_LABEL_OK,
	CONF_LABEL_BAD,        /* not [a-zA-Z_][a-zA-Z0-9_]* */
	CONF_LABEL_RESERVED,   /* "__" names and the daemon's own (target, job, le, ...) */
};
enum conf_label_kind conf_label_check(const char *name);

/* Split "host:port" or "[v6]:port". Returns NULL on success, else a static
 * message ("missing port", "bad port", ...). *host is allocated. */
const char *conf_split_hostport(const char *s, char **host, uint16_t *port);

#endif
