/* conf.h - the whole configuration, parsed from libconfig and validated at once. */
#ifndef TLSWATCH_CONF_H
#define TLSWATCH_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_LISTEN "127.0.0.1:9793"
#define CONF_DEFAULT_STATE_DIR "/var/lib/tlswatch"
#define CONF_DEFAULT_INTERVAL_MS (300 * 1000)
#define CONF_DEFAULT_TIMEOUT_MS (10 * 1000)
#define CONF_DEFAULT_CONCURRENCY 64
#define CONF_MAX_CONCURRENCY 100000
#define CONF_DEFAULT_WARN_MS ((uint64_t)21 * 86400 * 1000)
#define CONF_DEFAULT_CRIT_MS ((uint64_t)7 * 86400 * 1000)
#define CONF_DEFAULT_STATE_REFRESH_MS ((uint64_t)15 * 60 * 1000)

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

struct conf_target {
	char *name;        /* unique; defaults to address */
	char *address;     /* as written */
	char *host;        /* without brackets */
	uint16_t port;
	int host_is_ip;    /* host is an IPv4 or IPv6 literal */
	char *server_name; /* SNI and name to check; NULL: no SNI, check host if IP;
	                    * "": server_name = "" written, send no SNI */
	char *ca_file;     /* effective: target's, else global; NULL = system store */
	int ca_file_line;  /* line of the setting ca_file came from (0 if none) */
	uint64_t interval_ms;  /* effective */
	uint64_t timeout_ms;   /* effective */
	struct conf_label *labels;  /* sorted by name */
	size_t nlabels;
	int line;          /* line of the target's group */
};

struct conf {
	char *path;
	struct conf_listen *listen;
	size_t nlisten;
	char *state_dir;
	uint64_t interval_ms;
	uint64_t timeout_ms;
	unsigned concurrency;
	char *ca_file;     /* NULL = system trust store */
	int ca_file_line;
	struct conf_target *targets;
	size_t ntargets;
	uint64_t warn_ms;          /* status page: expiring within this is "warn" */
	uint64_t crit_ms;          /* ... and within this "crit"; <= warn_ms */
	uint64_t state_refresh_ms; /* unchanged state is rewritten at most this often */
};

/* Parse and validate path. On success returns the config and *errors is NULL.
 * On failure returns NULL and *errors holds one "file:line: setting: message"
 * per line (caller frees). Every error in the file is reported, not just the first. */
struct conf *conf_load(const char *path, char **errors);
void conf_free(struct conf *c);

/* Split "host:port" or "[v6]:port". Returns NULL on success, else a static
 * message ("missing port", "bad port", ...). *host is allocated. */
const char *conf_split_hostport(const char *s, char **host, uint16_t *port);

#endif
