/* conf.c - libconfig into one validated struct conf; the only file that talks to libconfig. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "serve/auth.h"
#include "conf/conf.h"
#include "core/file.h"
#include "core/util.h"
#include "fetch/fetch.h"
#include "probe/allow.h"
#include "probe/proxy.h"
#include "serve/metrics.h"
#include "serve/webtls.h"
#include "conf/filesd.h"
#include "conf/tlsctx.h"

#define MAX_LISTEN 64
#define MAX_NAME_LEN 200
#define MAX_DNS_NAME_LEN 253
#define MAX_DNS_LABEL_LEN 63

#define MAX_PEM_FILE (1024 * 1024)
#define MAX_WEB_CONNECTIONS 10000
#define MIN_WEB_REQUEST_SIZE 1024
#define MAX_WEB_REQUEST_SIZE (1024 * 1024)

#define DURATION_HINT "(use e.g. 90, \"90s\", \"5m\", \"1h\")"

struct conf_err {
	size_t ord;             /* position of the setting in the file */
	size_t seq;             /* order of discovery, for equal ord */
	char *text;
};

/* State of one conf_load call. */
struct ctx {
	const char *path;
	const char *include_dir;
	struct conf_err *errs;
	size_t nerrs;
	/* the top-level values targets inherit, and whether they are usable */
	int interval_ok;
	int timeout_ok;
	/* TLS material, when loading it (conf_load); NULL for conf_parse */
	struct tlsctx *tls;
	const struct trust *top_trust;     /* the top-level ca_file's store */
	int system_trust_reported;         /* the system store failed; said once */
};

/* What a target's checks need beside the struct itself. */
struct target_info {
	const char *name;                   /* NULL unless valid */
	const config_setting_t *name_from;  /* name, else address setting */
	size_t index;
};

static const char *const top_keys[] = {
	"listen", "state_dir", "interval", "timeout", "concurrency", "ca_file",
	"policy", "shard", "targets", "web", "fetch",
	"starttls", "family", "addresses", "client_cert", "client_key", "priority",
	"verify_hostname",
	"warn", "crit", "state_refresh", "scan",
	"revocation", "revocation_refresh", "acme_directories",
	"dane", "dnssec",
	"proxy", "probe_endpoint", "probe_allow", "probe_cache", "probe_concurrency",
	"modules", "target_files",
};

static const char *const scan_keys[] = {
	"interval",
};

static const char *const dnssec_keys[] = {
	"resolver",
};

static const char *const dane_modes[] = { "auto", "on", "off" };

static const char *const web_keys[] = {
	"tls_cert_file", "tls_key_file", "client_ca_file", "basic_auth_users",
	"max_connections", "connection_timeout", "max_request_size",
	"max_connections_per_address", "request_line_timeout", "header_timeout",
};

static const char *const fetch_keys[] = {
	"timeout", "concurrency", "max_size", "proxy",
};

static void parse_thresholds(struct ctx *x, struct conf *c, const config_setting_t *root);
static void get_revocation(struct ctx *x, const config_setting_t *g, int *r);
static void parse_dnssec(struct ctx *x, struct conf *c, const config_setting_t *root);

static const char *const target_keys[] = {
	"name", "address", "server_name", "ca_file", "policy", "interval", "timeout",
	"labels", "scan",
	"starttls", "family", "addresses", "client_cert", "client_key", "priority",
	"verify_hostname", "proxy",
	"revocation",
	"dane", "mail_domain", "ports",
};

/* A module holds what a target would, but its address, name and labels. */
static const char *const module_keys[] = {
	"server_name", "ca_file", "interval", "timeout",
	"starttls", "family", "addresses", "client_cert", "client_key", "priority",
	"verify_hostname", "proxy",
};

static void parse_probe(struct ctx *x, struct conf *c, const config_setting_t *root);
static int str_eq(const char *a, const char *b);


/*
 * libconfig keeps settings in file order with includes spliced in place.
 * Numbering them lets us check in whatever order suits (top-level values
 * before the targets that inherit them) and still report in file order.
 */
static void
number_settings(config_setting_t *s, size_t *n)
{
	config_setting_set_hook(s, (void *)(uintptr_t)(*n)++);
	if (config_setting_is_aggregate(s)) {
		int len = config_setting_length(s);

		for (int i = 0; i < len; i++)
			number_settings(config_setting_get_elem(s, i), n);
	}
}

static size_t
setting_ord(const config_setting_t *s)
{
	return (size_t)(uintptr_t)config_setting_get_hook(s);
}

/* targets.[2].labels.team: names in groups, 0-based indices in lists. */
static void
put_path(struct buf *b, const config_setting_t *s)
{
	const config_setting_t *parent = config_setting_parent(s);

	if (parent == NULL)
		return;
	put_path(b, parent);
	if (config_setting_parent(parent) != NULL)
		buf_putc(b, '.');
	if (config_setting_is_group(parent))
		buf_puts(b, config_setting_name(s));
	else
		buf_printf(b, "[%d]", config_setting_index(s));
}

/* libconfig names an @included file as written there, relative to the
 * include directory; show it the way the user can open it. */
static void
put_file(struct ctx *x, struct buf *b, const char *file)
{
	if (file == NULL || strcmp(file, x->path) == 0 || file[0] == '/' ||
	    x->include_dir == NULL)
		buf_puts(b, file ? file : x->path);
	else
		buf_printf(b, "%s/%s", x->include_dir, file);
}

/* Values quoted in messages come from the file: escape control characters
 * so one error stays one line. */
static char *
escape_line(const char *s)
{
	struct buf b;

	buf_init(&b);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			buf_puts(&b, "\\n");
		else if (c == '\t')
			buf_puts(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_putc(&b, (char)c);
	}
	return buf_steal(&b);
}

static void
add_err(struct ctx *x, size_t ord, char *text)
{
	struct conf_err *e;

	x->errs = xreallocarray(x->errs, x->nerrs + 1, sizeof(*x->errs));
	e = &x->errs[x->nerrs];
	e->ord = ord;
	e->seq = x->nerrs;
	e->text = escape_line(text);
	x->nerrs++;
	free(text);
}

/*
 * Report an error at setting s. When missing is set, the error is about
 * that child of s, which is absent: it is reported at s's line.
 */
static void __attribute__((format(printf, 4, 5)))
report(struct ctx *x, const config_setting_t *s, const char *missing,
    const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int line = config_setting_source_line(s);

	buf_init(&b);
	put_file(x, &b, config_setting_source_file(s));
	/* the root group has no line; the top of the file is the best guess */
	buf_printf(&b, ":%d: ", line > 0 ? line : 1);
	put_path(&b, s);
	if (missing != NULL)
		buf_printf(&b, "%s%s", config_setting_parent(s) ? "." : "",
		    missing);
	buf_puts(&b, ": ");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	add_err(x, setting_ord(s), buf_steal(&b));
}

static int
cmp_err(const void *a, const void *b)
{
	const struct conf_err *ea = a, *eb = b;

	if (ea->ord != eb->ord)
		return ea->ord < eb->ord ? -1 : 1;
	return ea->seq < eb->seq ? -1 : ea->seq > eb->seq;
}

static char *
join_errs(struct ctx *x)
{
	struct buf b;

	qsort(x->errs, x->nerrs, sizeof(*x->errs), cmp_err);
	buf_init(&b);
	for (size_t i = 0; i < x->nerrs; i++) {
		if (i > 0)
			buf_putc(&b, '\n');
		buf_puts(&b, x->errs[i].text);
		free(x->errs[i].text);
	}
	free(x->errs);
	x->errs = NULL;
	x->nerrs = 0;
	return buf_steal(&b);
}

static int
in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static void
check_keys(struct ctx *x, const config_setting_t *group,
    const char *const *keys, size_t nkeys)
{
	int len = config_setting_length(group);

	for (int i = 0; i < len; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);

		if (!in_list(config_setting_name(s), keys, nkeys))
			report(x, s, NULL, "unknown setting");
	}
}

/* ASCII by design: names on the wire and in Prometheus ignore the locale. */
static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
conf_is_ip_literal(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1;
}

/*
 * Plausible, not resolvable: ASCII letters, digits, '-' and '_' in labels
 * of 1..63 bytes, 253 bytes in all, one trailing dot allowed. Catches typos
 * and pasted URLs before a probe fails on them at 3 a.m.
 */
int
conf_is_dns_name(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > MAX_DNS_NAME_LEN)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (is_alpha(*p) || is_digit(*p) || *p == '-' || *p == '_') {
			if (++label > MAX_DNS_LABEL_LEN)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

const char *
conf_split_hostport(const char *s, char **host, uint16_t *port)
{
	const char *h, *p, *colon;
	size_t hlen;
	unsigned long n = 0;
	char *hs;

	*host = NULL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return "unterminated bracket";
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close[1] == '\0')
			return "missing port";
		if (close[1] != ':')
			return "expected \":\" after \"]\"";
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return "missing port";
		/* "::1:443" is ambiguous: which colon starts the port? A
		 * pasted URL has colons too, but is no IPv6 address. */
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return strspn(s, "0123456789abcdefABCDEF:.") == strlen(s) ?
			    "IPv6 address must be in brackets" : "bad host name";
		h = s;
		hlen = (size_t)(colon - s);
	}
	p = colon + 1;
	if (*p == '\0')
		return "missing port";
	for (; *p; p++) {
		if (!is_digit(*p))
			return "bad port";
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 65535)
			return "bad port";
	}
	if (n == 0)
		return "bad port";
	if (hlen == 0)
		return "missing host";

	hs = xstrndup(h, hlen);
	if (s[0] == '[') {
		unsigned char addr[16];

		if (inet_pton(AF_INET6, hs, addr) != 1) {
			free(hs);
			return "bracketed host must be an IPv6 address";
		}
	} else if (!conf_is_ip_literal(hs) && !conf_is_dns_name(hs)) {
		free(hs);
		return "bad host name";
	}
	*host = hs;
	*port = (uint16_t)n;
	return NULL;
}

/* A duration the user wrote as zero deserves "above zero", not "bad
 * duration": parse_duration_ms rejects both alike. */
static int
is_zero_duration(const char *s)
{
	char *t;
	uint64_t ms;
	int r;

	if (strpbrk(s, "123456789") != NULL || strchr(s, '0') == NULL)
		return 0;
	t = xstrdup(s);
	for (char *p = t; *p; p++)
		if (*p == '0')
			*p = '1';
	r = parse_duration_ms(t, &ms) == 0;
	free(t);
	return r;
}

/* A duration well formed but beyond DURATION_MAX_MS: digits and units only,
 * and accepted once every number is made 1. */
static int
is_duration_too_long(const char *s)
{
	char *t, *w;
	uint64_t ms;
	int r;

	if (strspn(s, "0123456789msdh") != strlen(s))
		return 0;
	t = xmalloc(strlen(s) + 1);
	w = t;
	for (const char *p = s; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (p > s && isdigit((unsigned char)p[-1]))
				continue;
			*w++ = '1';
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	r = parse_duration_ms(t, &ms) == 0;
	free(t);
	return r;
}

static int
get_duration(struct ctx *x, const config_setting_t *s, uint64_t *ms)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: {
		long long v = config_setting_get_int64(s);

		if (v <= 0) {
			report(x, s, NULL, "must be above zero");
			return -1;
		}
		if ((unsigned long long)v > DURATION_MAX_MS / 1000) {
			report(x, s, NULL, "too large (at most 100 years)");
			return -1;
		}
		*ms = (uint64_t)v * 1000;
		return 0;
	}
	case CONFIG_TYPE_STRING: {
		const char *v = config_setting_get_string(s);

		if (parse_duration_ms(v, ms) == 0)
			return 0;
		if (is_zero_duration(v))
			report(x, s, NULL, "must be above zero");
		else if (is_duration_too_long(v))
			report(x, s, NULL, "duration \"%s\" too large (at most 100 years)", v);
		else
			report(x, s, NULL, "bad duration \"%s\" " DURATION_HINT, v);
		return -1;
	}
	default:
		report(x, s, NULL, "must be an integer or a duration string");
		return -1;
	}
}

static const char *
get_string(struct ctx *x, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(x, s, NULL, "must be a string");
		return NULL;
	}
	return config_setting_get_string(s);
}

/*
 * 0 if path can be read, else an errno. Open and read a byte: a directory
 * opens fine but cannot be read, and root opens anything.
 */
static int
read_error(const char *path)
{
	char c;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO must not hang the check */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return errno;
	if (read(fd, &c, 1) == -1 && errno != EAGAIN)
		err = errno;
	close(fd);
	return err;
}

static int
check_readable(struct ctx *x, const config_setting_t *s, const char *path)
{
	int err;

	if ((err = read_error(path)) != 0) {
		report(x, s, NULL, "cannot read \"%s\": %s", path, strerror(err));
		return -1;
	}
	return 0;
}

static void
add_listen(struct ctx *x, struct conf *c, const config_setting_t *s)
{
	const char *v, *msg;
	struct conf_listen *l;
	char *host;
	uint16_t port;

	if ((v = get_string(x, s)) == NULL)
		return;
	if ((msg = conf_split_hostport(v, &host, &port)) != NULL) {
		report(x, s, NULL, "%s", msg);
		return;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		if (c->listen[i].port == port &&
		    strcasecmp(c->listen[i].host, host) == 0) {
			report(x, s, NULL, "duplicate address \"%s\" (first at line %d)",
			    v, c->listen[i].line);
			free(host);
			return;
		}
	}
	c->listen = xreallocarray(c->listen, c->nlisten + 1, sizeof(*c->listen));
	l = &c->listen[c->nlisten++];
	l->address = xstrdup(v);
	l->host = host;
	l->port = port;
	l->line = config_setting_source_line(s);
}

static void
parse_listen(struct ctx *x, struct conf *c, const config_setting_t *s)
{
	int len;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		add_listen(x, c, s);
		return;
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		break;
	default:
		report(x, s, NULL, "must be a string or a list of strings");
		return;
	}
	len = config_setting_length(s);
	if (len == 0) {
		report(x, s, NULL, "must list at least one address");
		return;
	}
	if (len > MAX_LISTEN) {
		report(x, s, NULL, "too many addresses (at most %d)", MAX_LISTEN);
		return;
	}
	for (int i = 0; i < len; i++)
		add_listen(x, c, config_setting_get_elem(s, i));
}

/* A string setting among fixed choices; its index, or -1 (reported). */
static int
get_choice(struct ctx *x, const config_setting_t *s, const char *const *choices, size_t n)
{
	const char *v = get_string(x, s);
	struct buf b;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, choices[i]) == 0)
			return (int)i;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s\"%s\"", i ? ", " : "", choices[i]);
	report(x, s, NULL, "unknown value \"%s\" (use %s)", v, b.data);
	buf_free(&b);
	return -1;
}

/*
 * The protocol scan of group g (scan.c, scanner.c): scan = { interval =
 * "1d"; } turns it on (interval defaults to CONF_DEFAULT_SCAN_INTERVAL_MS),
 * scan = false turns an inherited one off; 0 is no scan. timeout is the
 * deadline of each of its handshakes, which must fit in the interval.
 */
static uint64_t
get_scan(struct ctx *x, const config_setting_t *g, uint64_t inherited, uint64_t timeout_ms)
{
	const config_setting_t *scan = config_setting_get_member(g, "scan");
	const config_setting_t *s;
	uint64_t ms = CONF_DEFAULT_SCAN_INTERVAL_MS;

	if (scan == NULL)
		return inherited;
	if (config_setting_type(scan) == CONFIG_TYPE_BOOL)
		return config_setting_get_bool(scan) ? ms : 0;
	if (!config_setting_is_group(scan)) {
		report(x, scan, NULL, "must be a group (scan = { interval = \"1d\"; }) "
		    "or false");
		return inherited;
	}
	check_keys(x, scan, scan_keys, ARRAY_SIZE(scan_keys));
	if ((s = config_setting_get_member(scan, "interval")) == NULL)
		return ms;
	if (get_duration(x, s, &ms) == -1)
		return inherited;
	if (ms <= timeout_ms) {
		char ts[64], is[64];

		format_duration(ts, sizeof(ts), timeout_ms);
		format_duration(is, sizeof(is), ms);
		report(x, s, NULL, "scan interval (%s) must be above timeout (%s)", is, ts);
		return inherited;
	}
	return ms;
}

/* The policy setting of group g, or inherited when g has none. */
static int
get_policy(struct ctx *x, const config_setting_t *g, int inherited)
{
	static const char *const policies[] = { "public", "private" };
	const config_setting_t *s = config_setting_get_member(g, "policy");
	int i;

	if (s == NULL || (i = get_choice(x, s, policies, ARRAY_SIZE(policies))) < 0)
		return inherited;
	return i == 0 ? CONF_POLICY_PUBLIC : CONF_POLICY_PRIVATE;
}

static void
copy_str(char **dst, const char *src)
{
	*dst = src ? xstrdup(src) : NULL;
}

/* A readable file named by setting `key` of g. */
static void
get_file(struct ctx *x, const config_setting_t *g, const char *key, char **path)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;

	if (s == NULL)
		return;
	free(*path);
	*path = NULL;
	if ((v = get_string(x, s)) != NULL && check_readable(x, s, v) == 0)
		*path = xstrdup(v);
}

/*
 * What only GnuTLS can check, where it is written in g: the priority
 * string and the client certificate pair. A target that inherits both from
 * the top level shares what was loaded there (and its error, reported
 * once, at the top level).
 */
static void
load_tlsopts(struct ctx *x, const config_setting_t *g, const struct conf_tlsopts *parent,
    struct conf_tlsopts *o)
{
	const config_setting_t *s, *cert = config_setting_get_member(g, "client_cert");
	const config_setting_t *key = config_setting_get_member(g, "client_key");
	char *msg = NULL;

	if (x->tls == NULL)
		return;
	/* only a string written here: one refused here keeps the inherited one,
	 * checked where it was written */
	if ((s = config_setting_get_member(g, "priority")) != NULL && o->priority != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), o->priority) == 0 &&
	    tlsctx_priority(x->tls, o->priority, &msg) == -1) {
		report(x, s, NULL, "%s", msg);
		free(msg);
		msg = NULL;
	}
	if (cert == NULL && key == NULL) {
		if (parent != NULL) {
			o->creds = parent->creds;
			o->client_not_after = parent->client_not_after;
		}
		return;
	}
	if (o->client_cert == NULL || o->client_key == NULL)
		return;         /* unreadable or missing: reported */
	o->creds = tlsctx_creds(x->tls, o->client_cert, o->client_key, &o->client_not_after,
	    &msg);
	if (o->creds == NULL) {
		report(x, key ? key : cert, NULL, "%s", msg);
		free(msg);
	}
}

/* The trust store for a target (ca_setting: its own ca_file setting, or NULL
 * when it inherits the top level's or uses the system store). */
static const struct trust *
load_trust(struct ctx *x, const config_setting_t *root, const config_setting_t *ca_setting,
    const char *ca_file, int inherited)
{
	const struct trust *t;
	char *msg = NULL;

	if (x->tls == NULL)
		return NULL;
	if (inherited)
		return x->top_trust;
	if ((t = tlsctx_trust(x->tls, ca_file, &msg)) != NULL)
		return t;
	if (ca_setting != NULL) {
		report(x, ca_setting, NULL, "%s", msg);
	} else if (!x->system_trust_reported) {
		report(x, root, "ca_file", "%s (name a CA file)", msg);
		x->system_trust_reported = 1;
	}
	free(msg);
	return NULL;
}

/*
 * starttls, family, addresses, verify_hostname, client_cert, client_key and
 * priority of group g (the root or a target) into o, starting from the
 * top-level values in parent (NULL when g is the root).
 */
static void
parse_tlsopts(struct ctx *x, const config_setting_t *g, const struct conf_tlsopts *parent,
    struct conf_tlsopts *o)
{
	static const char *const families[] = { "any", "ipv4", "ipv6" };
	static const char *const addresses[] = { "first", "all" };
	const config_setting_t *s;
	enum starttls_proto proto;
	const char *v;
	int i;

	if (parent) {
		o->starttls = parent->starttls;
		o->family = parent->family;
		o->addresses_all = parent->addresses_all;
		o->verify_hostname = parent->verify_hostname;
		copy_str(&o->client_cert, parent->client_cert);
		copy_str(&o->client_key, parent->client_key);
		copy_str(&o->priority, parent->priority);
		copy_str(&o->proxy, parent->proxy);
	} else {
		o->starttls = -1;
		o->family = CONF_FAMILY_ANY;
		o->verify_hostname = 1;
	}

	if ((s = config_setting_get_member(g, "starttls")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		if (starttls_from_name(v, &proto) == 0) {
			o->starttls = (int)proto;
		} else {
			struct buf b;

			buf_init(&b);
			for (unsigned p = STARTTLS_NONE + 1; p < STARTTLS_COUNT; p++)
				buf_printf(&b, "%s, ", starttls_name((enum starttls_proto)p));
			report(x, s, NULL, "unknown protocol \"%s\" (use %snone)", v, b.data);
			buf_free(&b);
		}
	}
	if ((s = config_setting_get_member(g, "family")) != NULL &&
	    (i = get_choice(x, s, families, ARRAY_SIZE(families))) >= 0)
		o->family = i;
	if ((s = config_setting_get_member(g, "addresses")) != NULL &&
	    (i = get_choice(x, s, addresses, ARRAY_SIZE(addresses))) >= 0)
		o->addresses_all = i;
	if ((s = config_setting_get_member(g, "verify_hostname")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			report(x, s, NULL, "must be true or false");
		else
			o->verify_hostname = config_setting_get_bool(s);
	}
	get_file(x, g, "client_cert", &o->client_cert);
	get_file(x, g, "client_key", &o->client_key);
	/* Only where the pair is written: a target that inherits both was
	 * checked once at the top level. */
	if (config_setting_get_member(g, "client_cert") != NULL ||
	    config_setting_get_member(g, "client_key") != NULL) {
		int has_cert = config_setting_get_member(g, "client_cert") != NULL ||
		    o->client_cert != NULL;
		int has_key = config_setting_get_member(g, "client_key") != NULL ||
		    o->client_key != NULL;

		if (has_cert && !has_key)
			report(x, g, "client_key", "missing: client_cert needs its key");
		else if (has_key && !has_cert)
			report(x, g, "client_cert", "missing: client_key needs its certificate");
	}
	if ((s = config_setting_get_member(g, "priority")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		if (*v == '\0') {
			report(x, s, NULL, "must not be empty (leave it out for GnuTLS's default)");
		} else {
			free(o->priority);
			o->priority = xstrdup(v);
		}
	}
	if ((s = config_setting_get_member(g, "proxy")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		struct proxy_spec sp;
		const char *msg = proxy_parse(v, &sp);

		if (msg != NULL) {
			report(x, s, NULL, "%s", msg);
		} else {
			proxy_spec_fini(&sp);
			free(o->proxy);
			o->proxy = xstrdup(v);
		}
	}
	/* multi.c resolves the name itself; a proxy resolves it instead */
	if (o->proxy != NULL && o->addresses_all &&
	    (config_setting_get_member(g, "proxy") != NULL ||
	    config_setting_get_member(g, "addresses") != NULL))
		report(x, config_setting_get_member(g, "addresses") ?
		    config_setting_get_member(g, "addresses") : config_setting_get_member(g, "proxy"),
		    NULL, "addresses = \"all\" cannot go through a proxy, which resolves the name");
	load_tlsopts(x, g, parent, o);
}

/* What needs the whole target: the port table, the family of an IP literal. */
static void
check_target_tlsopts(struct ctx *x, struct conf_target *t, const config_setting_t *g)
{
	const config_setting_t *s;

	if (t->tls.starttls < 0)
		t->tls.starttls = (int)starttls_for_port(t->port);
	if (t->host_is_ip && t->tls.family != CONF_FAMILY_ANY) {
		unsigned char addr[16];
		int v6 = inet_pton(AF_INET6, t->host, addr) == 1;

		if (v6 != (t->tls.family == CONF_FAMILY_IPV6)) {
			s = config_setting_get_member(g, "family");
			report(x, s ? s : g, s ? NULL : "family", "is %s but the address is IPv%d",
			    t->tls.family == CONF_FAMILY_IPV6 ? "ipv6" : "ipv4", v6 ? 6 : 4);
		}
	}
}

static void
free_tlsopts(struct conf_tlsopts *o)
{
	free(o->client_cert);
	free(o->client_key);
	free(o->priority);
	free(o->proxy);
}

static void
parse_top(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s, *interval, *timeout;
	const char *v;

	check_keys(x, root, top_keys, ARRAY_SIZE(top_keys));

	if ((s = config_setting_get_member(root, "listen")) != NULL)
		parse_listen(x, c, s);
	else {
		const char *msg;

		c->listen = xcalloc(1, sizeof(*c->listen));
		msg = conf_split_hostport(CONF_DEFAULT_LISTEN, &c->listen[0].host,
		    &c->listen[0].port);
		if (msg != NULL)
			abort();        /* the default is ours: a bug */
		c->listen[0].address = xstrdup(CONF_DEFAULT_LISTEN);
		c->nlisten = 1;
	}

	c->state_dir = xstrdup(CONF_DEFAULT_STATE_DIR);
	if ((s = config_setting_get_member(root, "state_dir")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		if (*v == '\0')
			report(x, s, NULL, "must not be empty");
		else {
			free(c->state_dir);
			c->state_dir = xstrdup(v);
		}
	}

	c->interval_ms = CONF_DEFAULT_INTERVAL_MS;
	x->interval_ok = 1;
	if ((interval = config_setting_get_member(root, "interval")) != NULL)
		x->interval_ok = get_duration(x, interval, &c->interval_ms) == 0;

	c->timeout_ms = CONF_DEFAULT_TIMEOUT_MS;
	x->timeout_ok = 1;
	if ((timeout = config_setting_get_member(root, "timeout")) != NULL)
		x->timeout_ok = get_duration(x, timeout, &c->timeout_ms) == 0;

	/* Once here rather than at every target that inherits both. */
	if (x->interval_ok && x->timeout_ok && c->timeout_ms >= c->interval_ms) {
		char t[64], i[64];

		format_duration(t, sizeof(t), c->timeout_ms);
		format_duration(i, sizeof(i), c->interval_ms);
		report(x, timeout ? timeout : interval, NULL,
		    "timeout (%s) must be below interval (%s)", t, i);
	}

	c->concurrency = CONF_DEFAULT_CONCURRENCY;
	if ((s = config_setting_get_member(root, "concurrency")) != NULL) {
		int type = config_setting_type(s);
		long long n;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			report(x, s, NULL, "must be an integer");
		else if ((n = config_setting_get_int64(s)) < 1 ||
		    n > CONF_MAX_CONCURRENCY)
			report(x, s, NULL, "must be between 1 and %d",
			    CONF_MAX_CONCURRENCY);
		else
			c->concurrency = (unsigned)n;
	}

	if ((s = config_setting_get_member(root, "ca_file")) != NULL &&
	    (v = get_string(x, s)) != NULL && check_readable(x, s, v) == 0) {
		c->ca_file = xstrdup(v);
		c->ca_file_line = config_setting_source_line(s);
		x->top_trust = load_trust(x, root, s, c->ca_file, 0);
	}

	c->policy = get_policy(x, root, CONF_POLICY_DEFAULT);

	c->shard_k = c->shard_n = 1;
	if ((s = config_setting_get_member(root, "shard")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		const char *msg = conf_parse_shard(v, &c->shard_k, &c->shard_n);
		if (msg != NULL)
			report(x, s, NULL, "%s", msg);
	}
	parse_tlsopts(x, root, NULL, &c->tls);
	parse_thresholds(x, c, root);
	c->scan_interval_ms = get_scan(x, root, 0, c->timeout_ms);
	parse_dnssec(x, c, root);
}

/*
 * libconfig 1.5 ends the process (flex's YY_FATAL_ERROR, exit status 2) when
 * an @include names something that opens but cannot be read, a directory
 * above all: "input in flex scanner failed". On a reload that would stop the
 * daemon. So every file is walked before libconfig sees it: each @include
 * line (libconfig's own syntax: at the start of a line, a quoted name with
 * a backslash escaping only a backslash or a quote) must name a regular
 * file, the whole tree no deeper than libconfig allows, and no file may hold
 * a NUL byte (which would end a name early in libconfig, and is no text).
 */
#define CONF_MAX_INCLUDE_DEPTH 10               /* libconfig's own limit */
#define CONF_MAX_FILE_SIZE ((size_t)64 << 20)   /* far above any real config */

/* An error at a line of a file, before libconfig has parsed it. */
static void __attribute__((format(printf, 4, 5)))
report_at(struct ctx *x, const char *file, int line, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	buf_printf(&b, "%s:%d: ", file, line > 0 ? line : 1);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	add_err(x, x->nerrs, buf_steal(&b));
}

static void
check_includes(struct ctx *x, const char *path, const char *dir, int depth)
{
	char *text, *nul;
	size_t len;
	int line = 1;

	if ((text = file_read_bounded(path, CONF_MAX_FILE_SIZE, &len)) == NULL) {
		report_at(x, path, 0, "cannot read: %s", file_strerror(errno));
		return;
	}
	if ((nul = memchr(text, '\0', len)) != NULL) {
		for (const char *c = text; c < nul; c++)
			line += *c == '\n';
		report_at(x, path, line, "a NUL byte: not a text file");
		free(text);
		return;
	}
	for (char *p = text; p < text + len; line++) {
		char *eol = memchr(p, '\n', (size_t)(text + len - p)), *q = p;
		struct buf name;
		struct stat st;
		char *full;

		if (eol == NULL)
			eol = text + len;
		p = eol + 1;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(eol - q) < 9 || strncmp(q, "@include", 8) != 0 ||
		    (q[8] != ' ' && q[8] != '\t'))
			continue;
		for (q += 8; q < eol && (*q == ' ' || *q == '\t'); q++)
			;
		if (q == eol || *q != '"')
			continue;       /* not libconfig's form: its parser says why */
		buf_init(&name);
		buf_puts(&name, "");
		for (q++; q < eol && *q != '"'; q++) {
			if (*q == '\\' && q + 1 < eol && (q[1] == '\\' || q[1] == '"'))
				q++;
			buf_putc(&name, *q);
		}
		/* libconfig 1.5 puts the include directory in front of every
		 * name, an absolute one too */
		full = xasprintf("%s/%s", dir, name.data);
		if (name.data[0] == '/')
			report_at(x, path, line, "@include \"%s\": an absolute name; @include names "
			    "a file relative to the configuration's directory (%s)", name.data, dir);
		else if (depth >= CONF_MAX_INCLUDE_DEPTH)
			report_at(x, path, line, "@include \"%s\": nested more than %d deep",
			    name.data, CONF_MAX_INCLUDE_DEPTH);
		else if (stat(full, &st) == -1)
			report_at(x, path, line, "@include \"%s\": %s", name.data, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			report_at(x, path, line, "@include \"%s\": not a regular file", name.data);
		else
			check_includes(x, full, dir, depth + 1);
		free(full);
		buf_free(&name);
	}
	free(text);
}

const char *
conf_parse_shard(const char *s, unsigned *k, unsigned *n)
{
	unsigned long a, b;
	char *end;

	if (!is_digit(s[0]))
		return "must be \"K/N\", e.g. \"1/3\"";
	a = strtoul(s, &end, 10);
	if (*end != '/' || !is_digit(end[1]))
		return "must be \"K/N\", e.g. \"1/3\"";
	b = strtoul(end + 1, &end, 10);
	if (*end != '\0')
		return "must be \"K/N\", e.g. \"1/3\"";
	if (b < 1 || b > 4096)
		return "N must be between 1 and 4096";
	if (a < 1 || a > b)
		return "K must be between 1 and N";
	*k = (unsigned)a;
	*n = (unsigned)b;
	return NULL;
}

int
conf_in_shard(const char *name, unsigned k, unsigned n)
{
	return n <= 1 || hash64(name, strlen(name)) % n == k - 1;
}

char *
conf_override_listen(struct conf *c, const char *list, const char *origin)
{
	struct conf_listen *ls = NULL;
	size_t n = 0;
	const char *p = list, *comma;
	char *err = NULL;

	do {
		char *addr, *host = NULL;
		const char *msg;
		uint16_t port = 0;

		comma = strchr(p, ',');
		addr = comma ? xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
		p = comma ? comma + 1 : NULL;
		if (n == MAX_LISTEN) {
			err = xasprintf("\"%s\": too many addresses (at most %d)", addr, MAX_LISTEN);
			free(addr);
			break;
		}
		if (*addr == '\0')
			msg = "empty address (ADDR[,ADDR...], e.g. \"127.0.0.1:9794\")";
		else
			msg = conf_split_hostport(addr, &host, &port);
		for (size_t i = 0; msg == NULL && i < n; i++)
			if (ls[i].port == port && strcasecmp(ls[i].host, host) == 0)
				msg = "duplicate address";
		if (msg != NULL) {
			err = xasprintf("\"%s\": %s", addr, msg);
			free(addr);
			free(host);
			break;
		}
		ls = xreallocarray(ls, n + 1, sizeof(*ls));
		ls[n].address = addr;
		ls[n].host = host;
		ls[n].port = port;
		ls[n].line = 0;
		n++;
	} while (p != NULL);
	if (err != NULL) {
		for (size_t i = 0; i < n; i++) {
			free(ls[i].address);
			free(ls[i].host);
		}
		free(ls);
		return err;
	}
	for (size_t i = 0; i < c->nlisten; i++) {
		free(c->listen[i].address);
		free(c->listen[i].host);
	}
	free(c->listen);
	c->listen = ls;
	c->nlisten = n;
	c->listen_origin = origin;
	return NULL;
}

char *
conf_listen_where(const struct conf *c, size_t i)
{
	if (c->listen_origin != NULL)
		return xasprintf("%s \"%s\"", c->listen_origin, c->listen[i].address);
	return xasprintf("%s:%d: listen", c->path, c->listen[i].line);
}

/* warn or crit: a duration, or a fraction of the lifetime ("33%"). */
static int
get_threshold(struct ctx *x, const config_setting_t *s, struct threshold *t)
{
	const char *v;

	if (config_setting_type(s) == CONFIG_TYPE_STRING &&
	    strchr(v = config_setting_get_string(s), '%') != NULL) {
		if (threshold_parse(v, t) == 0)
			return 0;
		report(x, s, NULL, "bad fraction \"%s\" (a percentage of the lifetime above 0%% "
		    "and below 100%%, at most two decimals: \"33%%\", \"12.5%%\")", v);
		return -1;
	}
	t->fraction = 0;
	return get_duration(x, s, &t->ms);
}

/* The status page's colours and the state file refresh (issue 4). */
/* One dnssec.resolver address: an IP literal and a port, as a resolver
 * is never looked up by name. */
static void
add_dnssec_resolver(struct ctx *x, struct conf *c, const config_setting_t *s)
{
	const char *v, *msg;
	char *host = NULL;
	uint16_t port;

	if ((v = get_string(x, s)) == NULL)
		return;
	if ((msg = conf_split_hostport(v, &host, &port)) != NULL)
		report(x, s, NULL, "%s (use e.g. \"127.0.0.1:53\" or \"[::1]:53\")", msg);
	else if (!conf_is_ip_literal(host))
		report(x, s, NULL, "\"%s\" is not an IP address: a resolver is not looked up "
		    "by name", host);
	else {
		c->dnssec_resolvers = xreallocarray(c->dnssec_resolvers,
		    c->ndnssec_resolvers + 1, sizeof(*c->dnssec_resolvers));
		c->dnssec_resolvers[c->ndnssec_resolvers++] = xstrdup(v);
	}
	free(host);
}

/* The dnssec block and the top-level dane setting, which needs it. */
static void
parse_dnssec(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "dnssec"), *s;
	int i;

	if (g != NULL && !config_setting_is_group(g)) {
		report(x, g, NULL, "must be a group, e.g. dnssec = { resolver = \"127.0.0.1:53\"; }");
	} else if (g != NULL) {
		check_keys(x, g, dnssec_keys, ARRAY_SIZE(dnssec_keys));
		if ((s = config_setting_get_member(g, "resolver")) == NULL) {
			report(x, g, "resolver", "missing required setting");
		} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
			add_dnssec_resolver(x, c, s);
		} else if (config_setting_is_list(s) || config_setting_is_array(s)) {
			int len = config_setting_length(s);

			if (len == 0 || len > CONF_MAX_DNSSEC_RESOLVERS)
				report(x, s, NULL, "must list 1 to %d addresses",
				    CONF_MAX_DNSSEC_RESOLVERS);
			else
				for (int k = 0; k < len; k++)
					add_dnssec_resolver(x, c, config_setting_get_elem(s, k));
		} else {
			report(x, s, NULL, "must be a string or a list of strings");
		}
	}
	c->dane = CONF_DANE_AUTO;
	if ((s = config_setting_get_member(root, "dane")) != NULL &&
	    (i = get_choice(x, s, dane_modes, ARRAY_SIZE(dane_modes))) >= 0) {
		c->dane = i;
		if (i == CONF_DANE_ON && g == NULL)
			report(x, s, NULL, "\"on\" needs a validating resolver whose answers "
			    "count: dnssec = { resolver = \"127.0.0.1:53\"; }");
	}
}

/* dane = and the ports of a mail domain, for target t of group g. */
static void
parse_target_dane(struct ctx *x, const struct conf *c, struct conf_target *t,
    const config_setting_t *g, const config_setting_t *md)
{
	const config_setting_t *s = config_setting_get_member(g, "dane");
	int i;

	/* a mail domain is checked with DANE unless told otherwise */
	t->dane = md ? CONF_DANE_ON : c->dane;
	if (s != NULL && (i = get_choice(x, s, dane_modes, ARRAY_SIZE(dane_modes))) >= 0)
		t->dane = i;
	/* the top-level "on" without a resolver is reported there */
	if (t->dane == CONF_DANE_ON && c->ndnssec_resolvers == 0 && (s != NULL || md != NULL))
		report(x, s ? s : md, NULL, "%s needs a validating resolver whose answers "
		    "count: dnssec = { resolver = \"127.0.0.1:53\"; }%s",
		    s ? "dane = \"on\"" : "a mail domain checks DANE, which",
		    s ? "" : ", or dane = \"off\"");
}

static void
parse_ports(struct ctx *x, struct conf_target *t, const config_setting_t *s)
{
	int len;

	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		report(x, s, NULL, "must be a list of ports, e.g. (25, 465, 587)");
		return;
	}
	len = config_setting_length(s);
	if (len < 1 || len > CONF_MAX_MAIL_PORTS) {
		report(x, s, NULL, "must list 1 to %d ports", CONF_MAX_MAIL_PORTS);
		return;
	}
	t->ports = xcalloc((size_t)len, sizeof(*t->ports));
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		long long p;

		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64) {
			report(x, e, NULL, "must be a port number");
			continue;
		}
		if ((p = config_setting_get_int64(e)) < 1 || p > 65535) {
			report(x, e, NULL, "must be between 1 and 65535");
			continue;
		}
		for (size_t k = 0; k < t->nports; k++)
			if (t->ports[k] == p) {
				report(x, e, NULL, "port %lld is listed twice", p);
				p = 0;
				break;
			}
		if (p)
			t->ports[t->nports++] = (uint16_t)p;
	}
}

/* mail_domain = "example.org": what parse_target takes from address for
 * other targets. */
static void
parse_mail_domain(struct ctx *x, struct conf_target *t, const config_setting_t *g,
    const config_setting_t *md)
{
	static const char *const not_here[] = { "server_name", "starttls", "addresses" };
	const config_setting_t *s;
	const char *v;
	char *d;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(not_here); i++)
		if ((s = config_setting_get_member(g, not_here[i])) != NULL)
			report(x, s, NULL, "not for a mail domain: its MX hosts are probed %s",
			    i == 0 ? "and checked by their own names" : i == 1 ?
			    "with STARTTLS smtp (implicit TLS on port 465)" : "at every address");
	if ((v = get_string(x, md)) == NULL)
		return;
	d = xstrdup(v);
	len = strlen(d);
	if (len > 1 && d[len - 1] == '.')
		d[--len] = '\0';
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!conf_is_dns_name(d) || conf_is_ip_literal(d) || strchr(d, '.') == NULL) {
		report(x, md, NULL, "bad mail domain \"%s\" (use a domain name, e.g. "
		    "\"example.org\")", v);
		free(d);
		return;
	}
	t->mail_domain = d;
	t->address = xstrdup(d);
	t->host = xstrdup(d);
	if ((s = config_setting_get_member(g, "ports")) != NULL)
		parse_ports(x, t, s);
	if (t->nports == 0) {
		free(t->ports);
		t->ports = xcalloc(1, sizeof(*t->ports));
		t->ports[0] = 25;
		t->nports = 1;
	}
	t->port = t->ports[0];
}

static void
parse_thresholds(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	static const struct threshold warn0 = CONF_DEFAULT_WARN, crit0 = CONF_DEFAULT_CRIT;
	config_setting_t *warn, *crit, *s;
	int ok = 1;

	c->warn = warn0;
	c->crit = crit0;
	c->state_refresh_ms = CONF_DEFAULT_STATE_REFRESH_MS;
	if ((warn = config_setting_get_member(root, "warn")) != NULL)
		ok &= get_threshold(x, warn, &c->warn) == 0;
	if ((crit = config_setting_get_member(root, "crit")) != NULL)
		ok &= get_threshold(x, crit, &c->crit) == 0;
	if (ok && !threshold_in_order(&c->warn, &c->crit)) {
		char w[64], k[64];

		threshold_format(w, sizeof(w), &c->warn);
		threshold_format(k, sizeof(k), &c->crit);
		report(x, crit ? crit : warn, NULL,
		    "crit (%s) must not be above warn (%s)", k, w);
	}
	if ((s = config_setting_get_member(root, "state_refresh")) != NULL)
		(void)get_duration(x, s, &c->state_refresh_ms);
}

/* A label name as Prometheus allows it, and whether the daemon uses it
 * itself: metrics.c's rules, shared with file_sd documents (filesd.c). */
enum conf_label_kind
conf_label_check(const char *name)
{
	if (!metrics_label_name_valid(name))
		return CONF_LABEL_BAD;
	if (metrics_label_reserved(name))
		return CONF_LABEL_RESERVED;
	return CONF_LABEL_OK;
}

static int
cmp_label(const void *a, const void *b)
{
	const struct conf_label *la = a, *lb = b;

	return strcmp(la->name, lb->name);
}

static void
parse_labels(struct ctx *x, struct conf_target *t, const config_setting_t *s)
{
	int len;

	if (!config_setting_is_group(s)) {
		report(x, s, NULL, "must be a group");
		return;
	}
	len = config_setting_length(s);
	t->labels = xcalloc((size_t)len, sizeof(*t->labels));
	for (int i = 0; i < len; i++) {
		const config_setting_t *l = config_setting_get_elem(s, i);
		const char *name = config_setting_name(l), *v;

		switch (conf_label_check(name)) {
		case CONF_LABEL_OK:
			break;
		case CONF_LABEL_BAD:
			report(x, l, NULL, "bad label name");
			continue;
		case CONF_LABEL_RESERVED:
			report(x, l, NULL, "label name \"%s\" is reserved", name);
			continue;
		}
		if ((v = get_string(x, l)) == NULL)
			continue;
		t->labels[t->nlabels].name = xstrdup(name);
		t->labels[t->nlabels].value = xstrdup(v);
		t->nlabels++;
	}
	qsort(t->labels, t->nlabels, sizeof(*t->labels), cmp_label);
}

/* Names show in metrics and logs: one line, of a sane length. */
static int
check_name(struct ctx *x, const config_setting_t *s, const char *v)
{
	if (*v == '\0') {
		report(x, s, NULL, "must not be empty");
		return -1;
	}
	if (strlen(v) > MAX_NAME_LEN) {
		report(x, s, NULL, "too long (at most %d bytes)", MAX_NAME_LEN);
		return -1;
	}
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			report(x, s, NULL, "must not contain control characters");
			return -1;
		}
	}
	return 0;
}

/*
 * What a target and a module both hold, from group g: server_name, ca_file
 * (and its trust store), interval, timeout and the probe options, each
 * inherited from the top level unless written in g.
 */
static void
parse_settings(struct ctx *x, struct conf *c, struct conf_target *t,
    const config_setting_t *root, const config_setting_t *g)
{
	const config_setting_t *s, *interval, *timeout;
	const char *v;
	int interval_ok = x->interval_ok, timeout_ok = x->timeout_ok;

	if ((s = config_setting_get_member(g, "server_name")) != NULL) {
		if ((v = get_string(x, s)) == NULL)
			;       /* reported */
		else if (*v != '\0' && !conf_is_ip_literal(v) && !conf_is_dns_name(v))
			report(x, s, NULL, "bad server name \"%s\" "
			    "(use a DNS name or an IP address)", v);
		else
			t->server_name = xstrdup(v);   /* "": no SNI, on purpose */
	} else if (t->host != NULL && !t->host_is_ip)
		t->server_name = xstrdup(t->host);

	if ((s = config_setting_get_member(g, "ca_file")) != NULL) {
		if ((v = get_string(x, s)) != NULL && check_readable(x, s, v) == 0) {
			t->ca_file = xstrdup(v);
			t->ca_file_line = config_setting_source_line(s);
			t->trust = load_trust(x, root, s, t->ca_file, 0);
		}
	} else if (c->ca_file != NULL) {
		t->ca_file = c->ca_file;        /* the configuration's copy */
		t->held |= CONF_HELD_CA_FILE;
		t->ca_file_line = c->ca_file_line;
		t->trust = load_trust(x, root, NULL, t->ca_file, 1);
	} else {
		t->trust = load_trust(x, root, NULL, NULL, 0);
	}
	t->policy = get_policy(x, g, c->policy);

	t->interval_ms = c->interval_ms;
	if ((interval = config_setting_get_member(g, "interval")) != NULL)
		interval_ok = get_duration(x, interval, &t->interval_ms) == 0;
	t->timeout_ms = c->timeout_ms;
	if ((timeout = config_setting_get_member(g, "timeout")) != NULL)
		timeout_ok = get_duration(x, timeout, &t->timeout_ms) == 0;
	/* Both inherited: already checked once at the top level. */
	if ((interval != NULL || timeout != NULL) && interval_ok && timeout_ok &&
	    t->timeout_ms >= t->interval_ms) {
		char ts[64], is[64];

		format_duration(ts, sizeof(ts), t->timeout_ms);
		format_duration(is, sizeof(is), t->interval_ms);
		report(x, timeout ? timeout : interval, NULL,
		    "timeout (%s) must be below interval (%s)", ts, is);
	}
	parse_tlsopts(x, g, &c->tls, &t->tls);
}

static void
parse_target(struct ctx *x, struct conf *c, struct conf_target *t,
    struct target_info *ti, const config_setting_t *root, const config_setting_t *g)
{
	const config_setting_t *s, *addr, *md, *name;
	const char *v, *msg;
	int revocation;

	t->line = config_setting_source_line(g);
	check_keys(x, g, target_keys, ARRAY_SIZE(target_keys));

	addr = config_setting_get_member(g, "address");
	if ((md = config_setting_get_member(g, "mail_domain")) != NULL) {
		if (addr != NULL)
			report(x, addr, NULL, "a target has an address or a mail_domain, not both");
		parse_mail_domain(x, t, g, md);
		addr = md;
	} else if ((s = config_setting_get_member(g, "ports")) != NULL) {
		report(x, s, NULL, "only for a mail_domain target (an address names its port)");
	}
	if (addr == NULL)
		report(x, g, "address", "missing required setting");
	else if (md != NULL)
		;       /* done above */
	else if ((v = get_string(x, addr)) != NULL) {
		t->address = xstrdup(v);
		if ((msg = conf_split_hostport(v, &t->host, &t->port)) != NULL)
			report(x, addr, NULL, "%s", msg);
		else
			t->host_is_ip = conf_is_ip_literal(t->host);
	}

	if ((name = config_setting_get_member(g, "name")) != NULL) {
		if ((v = get_string(x, name)) != NULL && check_name(x, name, v) == 0) {
			t->name = xstrdup(v);
			ti->name = t->name;
			ti->name_from = name;
		}
	} else if (t->address != NULL) {
		t->name = xstrdup(t->address);
		ti->name = t->name;
		ti->name_from = addr;
	}

	parse_settings(x, c, t, root, g);
	/* a target's, not a module's: /probe makes no scan */
	t->scan_interval_ms = get_scan(x, g, c->scan_interval_ms, t->timeout_ms);
	if ((s = config_setting_get_member(g, "labels")) != NULL)
		parse_labels(x, t, s);
	if (md != NULL) {
		/* each MX host is checked by its own name, with STARTTLS smtp
		 * (implicit TLS on 465), at every address */
		free(t->server_name);
		t->server_name = NULL;
		t->tls.starttls = STARTTLS_SMTP;
		t->tls.addresses_all = 1;
	}
	check_target_tlsopts(x, t, g);
	revocation = c->revocation;
	get_revocation(x, g, &revocation);
	t->revocation = (int8_t)revocation;
	parse_target_dane(x, c, t, g, md);
	conf_target_compact(t, c->ca_file, &c->tls);
	if (ti->name != NULL)
		ti->name = t->name;     /* moved into the block */
}

static int
cmp_target_name(const void *a, const void *b)
{
	const struct target_info *ia = a, *ib = b;
	int r = strcmp(ia->name, ib->name);

	if (r != 0)
		return r;
	return ia->index < ib->index ? -1 : ia->index > ib->index;
}

/* Sorting by name keeps this fast for tens of thousands of targets. */
static void
check_duplicate_names(struct ctx *x, struct target_info *ti, size_t nti)
{
	size_t n = 0;

	for (size_t i = 0; i < nti; i++)
		if (ti[i].name != NULL)
			ti[n++] = ti[i];
	qsort(ti, n, sizeof(*ti), cmp_target_name);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(ti[first].name, ti[i].name) != 0) {
			first = i;
			continue;
		}
		report(x, ti[i].name_from, NULL,
		    "duplicate name \"%s\" (first at line %d)", ti[i].name,
		    config_setting_source_line(ti[first].name_from));
	}
}

static void
parse_targets(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "targets");
	struct target_info *ti;
	int len;

	if (s == NULL) {
		report(x, root, "targets", "missing required setting");
		return;
	}
	/* "targets = [];" is how libconfig spells some empty lists */
	if (!config_setting_is_list(s) && !(config_setting_is_array(s) &&
	    config_setting_length(s) == 0)) {
		report(x, s, NULL, "must be a list of groups");
		return;
	}
	len = config_setting_length(s);
	c->targets = xcalloc((size_t)len, sizeof(*c->targets));
	ti = xcalloc((size_t)len, sizeof(*ti));
	for (int i = 0; i < len; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i);

		c->ntargets++;
		ti[i].index = (size_t)i;
		if (!config_setting_is_group(g)) {
			report(x, g, NULL, "must be a group");
			continue;
		}
		parse_target(x, c, &c->targets[i], &ti[i], root, g);
	}
	check_duplicate_names(x, ti, (size_t)len);
	free(ti);
}

/* The whole of a small file, or NULL with an error reported at s. */
static char *
read_small_file(struct ctx *x, const config_setting_t *s, const char *path)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	if (check_readable(x, s, path) == -1)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		report(x, s, NULL, "cannot read \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	buf_reserve(&b, 1);
	b.data[0] = '\0';
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > MAX_PEM_FILE) {
			report(x, s, NULL, "\"%s\" is too large (at most %d bytes)", path,
			    MAX_PEM_FILE);
			close(fd);
			buf_free(&b);
			return NULL;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (n == -1) {
		report(x, s, NULL, "cannot read \"%s\": %s", path, strerror(errno));
		close(fd);
		buf_free(&b);
		return NULL;
	}
	close(fd);
	if (memchr(b.data, '\0', b.len) != NULL) {
		report(x, s, NULL, "\"%s\" is not a PEM file", path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* A web file setting: its path and contents, or nothing when absent or bad. */
static const config_setting_t *
web_file(struct ctx *x, const config_setting_t *g, const char *key, char **path,
    char **pem)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;

	if (s == NULL || (v = get_string(x, s)) == NULL)
		return s;
	if (*v == '\0') {
		report(x, s, NULL, "must not be empty");
		return s;
	}
	if ((*pem = read_small_file(x, s, v)) != NULL)
		*path = xstrdup(v);
	return s;
}

static int
cmp_user(const void *a, const void *b)
{
	const struct conf_user *ua = a, *ub = b;

	return strcmp(ua->name, ub->name);
}

static void
parse_users(struct ctx *x, struct conf_web *w, const config_setting_t *s)
{
	int len;

	if (!config_setting_is_group(s)) {
		report(x, s, NULL, "must be a group of name = \"hash\"");
		return;
	}
	len = config_setting_length(s);
	w->users = xcalloc((size_t)len, sizeof(*w->users));
	for (int i = 0; i < len; i++) {
		const config_setting_t *u = config_setting_get_elem(s, i);
		const char *v, *why;

		if ((v = get_string(x, u)) == NULL)
			continue;
		if ((why = auth_hash_problem(v)) != NULL) {
			report(x, u, NULL, "%s", why);
			continue;
		}
		w->users[w->nusers].name = xstrdup(config_setting_name(u));
		w->users[w->nusers].hash = xstrdup(v);
		w->nusers++;
	}
	qsort(w->users, w->nusers, sizeof(*w->users), cmp_user);
}

static void
get_group_int(struct ctx *x, const config_setting_t *g, const char *key,
    long long min, long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int type;
	long long n;

	if (s == NULL)
		return;
	type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		report(x, s, NULL, "must be an integer");
	else if ((n = config_setting_get_int64(s)) < min || n > max)
		report(x, s, NULL, "must be between %lld and %lld", min, max);
	else
		*out = n;
}

/* A web duration of at least min_ms and at most an hour into *ms; the
 * setting, or NULL when absent. */
static const config_setting_t *
get_web_duration(struct ctx *x, const config_setting_t *g, const char *key,
    uint64_t min_ms, uint64_t *ms)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	uint64_t v;

	if (s == NULL || get_duration(x, s, &v) != 0)
		return NULL;
	if (v < min_ms || v > 3600 * 1000) {
		char lo[32];

		format_duration(lo, sizeof(lo), min_ms);
		report(x, s, NULL, "must be between %s and 1h", lo);
		return NULL;
	}
	*ms = v;
	return s;
}

static void
parse_web(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "web");
	const config_setting_t *cert, *key, *ca, *s;
	struct conf_web *w = &c->web;
	long long n;
	char *err;

	w->max_connections = CONF_DEFAULT_WEB_MAX_CONNECTIONS;
	w->connection_timeout_ms = CONF_DEFAULT_WEB_CONNECTION_TIMEOUT_MS;
	w->max_request_size = CONF_DEFAULT_WEB_MAX_REQUEST_SIZE;
	w->max_connections_per_address = CONF_DEFAULT_WEB_MAX_CONNECTIONS_PER_ADDRESS;
	w->request_line_timeout_ms = CONF_DEFAULT_WEB_REQUEST_LINE_TIMEOUT_MS;
	w->header_timeout_ms = CONF_DEFAULT_WEB_HEADER_TIMEOUT_MS;
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		report(x, g, NULL, "must be a group");
		return;
	}
	check_keys(x, g, web_keys, ARRAY_SIZE(web_keys));

	cert = web_file(x, g, "tls_cert_file", &w->tls_cert_file, &w->tls_cert_pem);
	key = web_file(x, g, "tls_key_file", &w->tls_key_file, &w->tls_key_pem);
	ca = web_file(x, g, "client_ca_file", &w->client_ca_file, &w->client_ca_pem);
	if (cert != NULL && key == NULL)
		report(x, cert, NULL, "needs tls_key_file as well");
	else if (key != NULL && cert == NULL)
		report(x, key, NULL, "needs tls_cert_file as well");
	else if (w->tls_cert_pem && w->tls_key_pem &&
	    webtls_check_keypair(w->tls_cert_pem, w->tls_key_pem, &err) == -1) {
		report(x, key, NULL, "%s", err);
		free(err);
	}
	if (ca != NULL && cert == NULL)
		report(x, ca, NULL, "needs tls_cert_file and tls_key_file "
		    "(client certificates are a TLS feature)");
	else if (w->client_ca_pem && webtls_check_ca(w->client_ca_pem, &err) == -1) {
		report(x, ca, NULL, "%s", err);
		free(err);
	}

	if ((s = config_setting_get_member(g, "basic_auth_users")) != NULL)
		parse_users(x, w, s);

	n = w->max_connections;
	get_group_int(x, g, "max_connections", 1, MAX_WEB_CONNECTIONS, &n);
	w->max_connections = (unsigned)n;
	n = (long long)w->max_request_size;
	get_group_int(x, g, "max_request_size", MIN_WEB_REQUEST_SIZE,
	    MAX_WEB_REQUEST_SIZE, &n);
	w->max_request_size = (size_t)n;
	n = w->max_connections_per_address;
	get_group_int(x, g, "max_connections_per_address", 1, MAX_WEB_CONNECTIONS, &n);
	w->max_connections_per_address = (unsigned)n;
	/* libmicrohttpd counts whole seconds */
	get_web_duration(x, g, "connection_timeout", 1000, &w->connection_timeout_ms);
	get_web_duration(x, g, "header_timeout", 100, &w->header_timeout_ms);
	s = get_web_duration(x, g, "request_line_timeout", 100,
	    &w->request_line_timeout_ms);
	if (s != NULL && w->request_line_timeout_ms > w->header_timeout_ms) {
		char a[32], b[32];

		format_duration(a, sizeof(a), w->request_line_timeout_ms);
		format_duration(b, sizeof(b), w->header_timeout_ms);
		report(x, s, NULL, "%s is longer than header_timeout (%s), "
		    "which covers the request line too", a, b);
	}
}

static const char *const revocation_names[] = {
	[CONF_REVOCATION_SOFT] = "soft",
	[CONF_REVOCATION_OFF] = "off",
	[CONF_REVOCATION_HARD] = "hard",
};

const char *
conf_revocation_name(int r)
{
	return r >= 0 && (size_t)r < ARRAY_SIZE(revocation_names) ? revocation_names[r] : "soft";
}

/* revocation = "off" | "soft" | "hard" in g, when written there. */
static void
get_revocation(struct ctx *x, const config_setting_t *g, int *r)
{
	static const char *const order[] = { "off", "soft", "hard" };
	static const int value[] = { CONF_REVOCATION_OFF, CONF_REVOCATION_SOFT,
		CONF_REVOCATION_HARD };
	const config_setting_t *s = config_setting_get_member(g, "revocation");
	int i;

	if (s != NULL && (i = get_choice(x, s, order, ARRAY_SIZE(order))) >= 0)
		*r = value[i];
}

/* An ACME directory URL: http(s), printable ASCII, at most 2048 bytes. */
static int
acme_url_ok(const char *v)
{
	size_t n = strlen(v);

	if (n > 2048 || (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return 0;
	return n > 8;
}

/* The top level's revocation, revocation_refresh and acme_directories. */
static void
parse_revocation(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s;
	int len;

	c->revocation = CONF_REVOCATION_SOFT;
	c->revocation_refresh_ms = CONF_DEFAULT_REVOCATION_REFRESH_MS;
	get_revocation(x, root, &c->revocation);
	if ((s = config_setting_get_member(root, "revocation_refresh")) != NULL)
		(void)get_duration(x, s, &c->revocation_refresh_ms);
	if ((s = config_setting_get_member(root, "acme_directories")) == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		report(x, s, NULL, "must be a list of URLs");
		return;
	}
	if ((len = config_setting_length(s)) > CONF_MAX_ACME_DIRECTORIES) {
		report(x, s, NULL, "too many directories (at most %d)", CONF_MAX_ACME_DIRECTORIES);
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = get_string(x, e);

		if (v == NULL)
			continue;
		if (!acme_url_ok(v)) {
			report(x, e, NULL, "bad URL \"%s\" (an http:// or https:// URL of the "
			    "ACME directory)", v);
			continue;
		}
		c->acme_directories = xreallocarray(c->acme_directories,
		    c->nacme_directories + 1, sizeof(*c->acme_directories));
		c->acme_directories[c->nacme_directories++] = xstrdup(v);
	}
}

static void
parse_fetch(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "fetch");
	const config_setting_t *s;
	struct conf_fetch *f = &c->fetch;
	const char *v, *msg;
	long long n;

	f->timeout_ms = CONF_DEFAULT_FETCH_TIMEOUT_MS;
	f->concurrency = CONF_DEFAULT_FETCH_CONCURRENCY;
	f->max_size = CONF_DEFAULT_FETCH_MAX_SIZE;
	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		report(x, g, NULL, "must be a group");
		return;
	}
	check_keys(x, g, fetch_keys, ARRAY_SIZE(fetch_keys));
	if ((s = config_setting_get_member(g, "timeout")) != NULL)
		(void)get_duration(x, s, &f->timeout_ms);
	n = f->concurrency;
	get_group_int(x, g, "concurrency", 1, CONF_MAX_FETCH_CONCURRENCY, &n);
	f->concurrency = (unsigned)n;
	if ((s = config_setting_get_member(g, "max_size")) != NULL) {
		uint64_t size;

		if (config_setting_type(s) == CONFIG_TYPE_INT ||
		    config_setting_type(s) == CONFIG_TYPE_INT64) {
			n = config_setting_get_int64(s);
			if (n < 1 || (uint64_t)n > CONF_MAX_FETCH_MAX_SIZE)
				report(x, s, NULL, "must be between 1 byte and 4GB");
			else
				f->max_size = (uint64_t)n;
		} else if ((v = get_string(x, s)) != NULL) {
			if (parse_size_bytes(v, &size) == -1)
				report(x, s, NULL, "bad size \"%s\" (use e.g. 65536, "
				    "\"512KB\", \"64MB\", \"1GB\")", v);
			else if (size > CONF_MAX_FETCH_MAX_SIZE)
				report(x, s, NULL, "size \"%s\" too large (at most 4GB)", v);
			else
				f->max_size = size;
		}
	}
	if ((s = config_setting_get_member(g, "proxy")) != NULL &&
	    (v = get_string(x, s)) != NULL) {
		if ((msg = fetch_check_proxy(v)) != NULL)
			report(x, s, NULL, "%s", msg);
		else
			f->proxy = xstrdup(v);
	}
}

/* ------------------------------------------------------------ /probe, modules, target_files */

static int
cmp_module(const void *a, const void *b)
{
	const struct conf_module *ma = a, *mb = b;

	return strcmp(ma->name, mb->name);
}

/* The top-level settings as a module: what a /probe or file target gets
 * without one of its own. */
static void
top_module(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	struct conf_target *t = &c->top.t;

	c->top.line = 1;
	t->ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
	t->ca_file_line = c->ca_file_line;
	t->trust = c->ca_file ? x->top_trust : load_trust(x, root, NULL, NULL, 0);
	t->interval_ms = c->interval_ms;
	t->timeout_ms = c->timeout_ms;
	t->tls = c->tls;
	t->tls.client_cert = c->tls.client_cert ? xstrdup(c->tls.client_cert) : NULL;
	t->tls.client_key = c->tls.client_key ? xstrdup(c->tls.client_key) : NULL;
	t->tls.priority = c->tls.priority ? xstrdup(c->tls.priority) : NULL;
	t->tls.proxy = c->tls.proxy ? xstrdup(c->tls.proxy) : NULL;
	conf_target_compact(t, c->ca_file, &c->tls);
}

static void
parse_modules(struct ctx *x, struct conf *c, const config_setting_t *root,
    const config_setting_t *s)
{
	int len;

	if (!config_setting_is_group(s)) {
		report(x, s, NULL, "must be a group of NAME = { ... }");
		return;
	}
	len = config_setting_length(s);
	if (len > CONF_MAX_MODULES) {
		report(x, s, NULL, "too many modules (at most %d)", CONF_MAX_MODULES);
		return;
	}
	c->modules = xcalloc(len ? (size_t)len : 1, sizeof(*c->modules));
	for (int i = 0; i < len; i++) {
		const config_setting_t *g = config_setting_get_elem(s, i);
		struct conf_module *m;

		if (!config_setting_is_group(g)) {
			report(x, g, NULL, "must be a group of target settings");
			continue;
		}
		if (strlen(config_setting_name(g)) > MAX_NAME_LEN) {
			report(x, g, NULL, "name too long (at most %d bytes)", MAX_NAME_LEN);
			continue;
		}
		check_keys(x, g, module_keys, ARRAY_SIZE(module_keys));
		m = &c->modules[c->nmodules++];
		m->name = xstrdup(config_setting_name(g));
		m->line = config_setting_source_line(g);
		parse_settings(x, c, &m->t, root, g);
		conf_target_compact(&m->t, c->ca_file, &c->tls);
	}
	/* libconfig refuses a group with two members of one name */
	qsort(c->modules, c->nmodules, sizeof(*c->modules), cmp_module);
}

/* A duration that may be zero (probe_cache = 0: off). */
static int
get_duration_or_zero(struct ctx *x, const config_setting_t *s, uint64_t *ms)
{
	int type = config_setting_type(s);

	if ((type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) &&
	    config_setting_get_int64(s) == 0) {
		*ms = 0;
		return 0;
	}
	if (type == CONFIG_TYPE_STRING && is_zero_duration(config_setting_get_string(s))) {
		*ms = 0;
		return 0;
	}
	return get_duration(x, s, ms);
}

static void
parse_allow(struct ctx *x, struct conf *c, const config_setting_t *s)
{
	int len;

	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		report(x, s, NULL, "must be a list of networks and names, "
		    "e.g. ( \"10.0.0.0/8\", \"*.example.org\" )");
		return;
	}
	c->probe_allow = allow_new();
	len = config_setting_length(s);
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v, *msg;

		if ((v = get_string(x, e)) != NULL && (msg = allow_add(c->probe_allow, v)) != NULL)
			report(x, e, NULL, "\"%s\": %s", v, msg);
	}
}

/* Prometheus's file_sd rule: a glob only in the last path segment, and
 * the name ends in .json, .yml or .yaml. */
static void
parse_target_files(struct ctx *x, struct conf *c, const config_setting_t *s)
{
	int len;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		len = 1;
	} else if (config_setting_is_list(s) || config_setting_is_array(s)) {
		len = config_setting_length(s);
	} else {
		report(x, s, NULL, "must be a list of file names or patterns");
		return;
	}
	if (len > CONF_MAX_TARGET_FILES) {
		report(x, s, NULL, "too many patterns (at most %d)", CONF_MAX_TARGET_FILES);
		return;
	}
	c->target_files = xcalloc(len ? (size_t)len : 1, sizeof(*c->target_files));
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING ? s :
		    config_setting_get_elem(s, i);
		const char *v = get_string(x, e), *slash;
		enum filesd_format f;

		if (v == NULL)
			continue;
		slash = strrchr(v, '/');
		if (*v == '\0' || (slash && slash[1] == '\0')) {
			report(x, e, NULL, "must name files, not a directory");
			continue;
		}
		if (slash != NULL && strpbrk(v, "*?[") != NULL && strpbrk(v, "*?[") < slash) {
			report(x, e, NULL, "\"%s\": a pattern only in the last part of the name, "
			    "e.g. \"/etc/tlswatch/targets.d/*.json\"", v);
			continue;
		}
		if (filesd_format_of(v, &f) == -1) {
			report(x, e, NULL, "\"%s\": the name must end in .json, .yml or .yaml", v);
			continue;
		}
		c->target_files[c->ntarget_files++] = v[0] == '/' || x->include_dir == NULL ?
		    xstrdup(v) : xasprintf("%s/%s", x->include_dir, v);
	}
}

static void
parse_probe(struct ctx *x, struct conf *c, const config_setting_t *root)
{
	const config_setting_t *s;
	long long n;

	if ((s = config_setting_get_member(root, "probe_endpoint")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			report(x, s, NULL, "must be true or false");
		else
			c->probe_endpoint = config_setting_get_bool(s);
	}
	if ((s = config_setting_get_member(root, "probe_allow")) != NULL)
		parse_allow(x, c, s);
	if ((s = config_setting_get_member(root, "probe_cache")) != NULL)
		(void)get_duration_or_zero(x, s, &c->probe_cache_ms);
	c->probe_concurrency = (c->concurrency + 1) / 2;
	n = c->probe_concurrency;
	get_group_int(x, root, "probe_concurrency", 1, c->concurrency, &n);
	c->probe_concurrency = (unsigned)n;
	if ((s = config_setting_get_member(root, "modules")) != NULL)
		parse_modules(x, c, root, s);
	if ((s = config_setting_get_member(root, "target_files")) != NULL)
		parse_target_files(x, c, s);
	if (c->probe_endpoint || c->ntarget_files > 0)
		top_module(x, c, root);
}

const struct conf_module *
conf_module_find(const struct conf *c, const char *name)
{
	struct conf_module key = { .name = (char *)(name ? name : "default") };
	const struct conf_module *m = NULL;

	/* no modules: modules is NULL, which bsearch may not be given */
	if (c->nmodules > 0)
		m = bsearch(&key, c->modules, c->nmodules, sizeof(*c->modules), cmp_module);
	if (m == NULL && name == NULL)
		return &c->top;
	return m;
}

int
conf_target_probes_alike(const struct conf_target *a, const struct conf_target *b)
{
	return a->port == b->port && a->host && b->host && strcasecmp(a->host, b->host) == 0 &&
	    str_eq(a->server_name, b->server_name) && str_eq(a->ca_file, b->ca_file) &&
	    a->tls.starttls == b->tls.starttls && a->tls.family == b->tls.family &&
	    a->tls.addresses_all == b->tls.addresses_all &&
	    a->tls.verify_hostname == b->tls.verify_hostname &&
	    str_eq(a->tls.client_cert, b->tls.client_cert) &&
	    str_eq(a->tls.client_key, b->tls.client_key) &&
	    str_eq(a->tls.priority, b->tls.priority) && str_eq(a->tls.proxy, b->tls.proxy);
}

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int
conf_target_equal(const struct conf_target *a, const struct conf_target *b)
{
	if (!str_eq(a->name, b->name) || !str_eq(a->address, b->address) ||
	    !str_eq(a->server_name, b->server_name) ||
	    !str_eq(a->ca_file, b->ca_file) || a->policy != b->policy ||
	    a->interval_ms != b->interval_ms || a->scan_interval_ms != b->scan_interval_ms ||
	    a->timeout_ms != b->timeout_ms || a->nlabels != b->nlabels ||
	    a->revocation != b->revocation ||
	    a->dane != b->dane || !str_eq(a->mail_domain, b->mail_domain) ||
	    a->nports != b->nports)
		return 0;
	for (size_t i = 0; i < a->nports; i++)
		if (a->ports[i] != b->ports[i])
			return 0;
	/* how it is probed */
	if (a->tls.starttls != b->tls.starttls || a->tls.family != b->tls.family ||
	    a->tls.addresses_all != b->tls.addresses_all ||
	    a->tls.verify_hostname != b->tls.verify_hostname ||
	    !str_eq(a->tls.client_cert, b->tls.client_cert) ||
	    !str_eq(a->tls.client_key, b->tls.client_key) ||
	    !str_eq(a->tls.priority, b->tls.priority) || !str_eq(a->tls.proxy, b->tls.proxy))
		return 0;
	for (size_t i = 0; i < a->nlabels; i++)
		if (!str_eq(a->labels[i].name, b->labels[i].name) ||
		    !str_eq(a->labels[i].value, b->labels[i].value))
			return 0;
	return 1;
}

const char *
conf_target_check_name(const struct conf_target *t)
{
	if (!t->tls.verify_hostname)
		return NULL;    /* verify_hostname = false: everything but the name */
	return t->server_name && *t->server_name ? t->server_name : t->host;
}

const char *
conf_dane_name(int dane)
{
	return dane >= 0 && (size_t)dane < ARRAY_SIZE(dane_modes) ? dane_modes[dane] : "?";
}

int
conf_mail_starttls(uint16_t port)
{
	return port == 465 ? STARTTLS_NONE : STARTTLS_SMTP;
}

int
conf_target_is_smtp(const struct conf_target *t)
{
	return t->tls.starttls == STARTTLS_SMTP ||
	    (t->tls.starttls == STARTTLS_NONE && t->port == 465);
}

int
conf_web_equal(const struct conf_web *a, const struct conf_web *b)
{
	if (!str_eq(a->tls_cert_pem, b->tls_cert_pem) ||
	    !str_eq(a->tls_key_pem, b->tls_key_pem) ||
	    !str_eq(a->client_ca_pem, b->client_ca_pem) ||
	    a->nusers != b->nusers || a->max_connections != b->max_connections ||
	    a->connection_timeout_ms != b->connection_timeout_ms ||
	    a->max_request_size != b->max_request_size ||
	    a->max_connections_per_address != b->max_connections_per_address ||
	    a->request_line_timeout_ms != b->request_line_timeout_ms ||
	    a->header_timeout_ms != b->header_timeout_ms)
		return 0;
	for (size_t i = 0; i < a->nusers; i++)
		if (!str_eq(a->users[i].name, b->users[i].name) ||
		    !str_eq(a->users[i].hash, b->users[i].hash))
			return 0;
	return 1;
}

static struct conf *
conf_read(const char *path, char **errors, int load_tls)
{
	struct ctx x;
	struct conf *c;
	config_t cfg;
	config_setting_t *root;
	char *dir, *slash;
	size_t n = 0;
	struct stat st;
	int err;

	*errors = NULL;
	if ((err = read_error(path)) != 0) {
		*errors = xasprintf("%s: cannot read: %s", path, strerror(err));
		return NULL;
	}
	/* a FIFO or a device would block or feed libconfig forever */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		*errors = xasprintf("%s: cannot read: not a regular file", path);
		return NULL;
	}

	/* relative @include names are relative to the config file */
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	memset(&x, 0, sizeof(x));
	x.path = path;
	x.include_dir = dir;
	check_includes(&x, path, dir, 0);
	if (x.nerrs > 0) {
		*errors = join_errs(&x);
		free(dir);
		return NULL;
	}
	config_init(&cfg);
	config_set_include_dir(&cfg, dir);
	if (!config_read_file(&cfg, path)) {
		struct buf b;

		buf_init(&b);
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			buf_printf(&b, "%s: cannot read: %s", path,
			    config_error_text(&cfg));
		else {
			put_file(&x, &b, config_error_file(&cfg));
			buf_printf(&b, ":%d: %s", config_error_line(&cfg),
			    config_error_text(&cfg));
		}
		*errors = buf_steal(&b);
		config_destroy(&cfg);
		free(dir);
		return NULL;
	}

	root = config_root_setting(&cfg);
	number_settings(root, &n);

	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	if (load_tls)
		x.tls = c->tlsctx = tlsctx_new();
	parse_top(&x, c, root);
	parse_revocation(&x, c, root);
	parse_targets(&x, c, root);
	parse_web(&x, c, root);
	parse_fetch(&x, c, root);
	parse_probe(&x, c, root);

	if (x.nerrs > 0) {
		*errors = join_errs(&x);
		conf_free(c);
		c = NULL;
	}
	config_destroy(&cfg);
	free(dir);
	return c;
}

/* The strings conf_target_compact packs, in the order it packs them. */
#define PACKED_STRINGS(t) { &(t)->name, &(t)->address, &(t)->host, &(t)->server_name, \
	&(t)->mail_domain }

/* The strings it may point at the configuration's copies, with their bits. */
struct held_string {
	char **field;
	const char *shared;
	uint8_t bit;
};

static void
held_strings(struct conf_target *t, const char *ca_file, const struct conf_tlsopts *tls,
    struct held_string out[5])
{
	out[0] = (struct held_string){ &t->ca_file, ca_file, CONF_HELD_CA_FILE };
	out[1] = (struct held_string){ &t->tls.client_cert, tls ? tls->client_cert : NULL,
	    CONF_HELD_CLIENT_CERT };
	out[2] = (struct held_string){ &t->tls.client_key, tls ? tls->client_key : NULL,
	    CONF_HELD_CLIENT_KEY };
	out[3] = (struct held_string){ &t->tls.priority, tls ? tls->priority : NULL,
	    CONF_HELD_PRIORITY };
	out[4] = (struct held_string){ &t->tls.proxy, tls ? tls->proxy : NULL, CONF_HELD_PROXY };
}

/* The earlier of old[0..i) equal to old[i], or i. */
static size_t
same_as(char *const *old, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (old[j] != NULL && strcmp(old[j], old[i]) == 0)
			return j;
	return i;
}

static char *
put_str(char **p, const char *s)
{
	size_t len = strlen(s) + 1;
	char *r = memcpy(*p, s, len);

	*p += len;
	return r;
}

/*
 * A million targets hold a million copies of the top-level ca_file (and of
 * any other setting they inherit), and five small strings each, every one
 * an allocation with malloc's own 8 to 16 bytes on top. Here the inherited
 * ones point at the configuration's copy, and the target's own go into one
 * allocation with its labels (the array first, for its alignment), a
 * string equal to an earlier one (server_name, the host unless written; a
 * mail domain's address and host) stored once.
 */
void
conf_target_compact(struct conf_target *t, const char *ca_file, const struct conf_tlsopts *tls)
{
	char **own[] = PACKED_STRINGS(t);
	char *old[ARRAY_SIZE(own)], *p, *block;
	size_t same[ARRAY_SIZE(own)];
	struct conf_label *labels = t->labels;
	struct held_string hs[5];
	size_t size = 0, nl = t->nlabels;

	held_strings(t, ca_file, tls, hs);
	for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
		char **f = hs[i].field;

		if ((t->held & hs[i].bit) || *f == NULL || hs[i].shared == NULL ||
		    strcmp(*f, hs[i].shared) != 0)
			continue;
		free(*f);
		*f = (char *)hs[i].shared;
		t->held |= hs[i].bit;
	}
	if (t->held & CONF_HELD_PACKED)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		old[i] = *own[i];
		same[i] = old[i] != NULL ? same_as(old, i) : i;
		if (old[i] != NULL && same[i] == i)
			size += strlen(old[i]) + 1;
	}
	for (size_t i = 0; i < nl; i++)
		size += strlen(labels[i].name) + 1 + strlen(labels[i].value) + 1;
	if (nl == 0) {
		free(t->labels);        /* labels = { } */
		t->labels = NULL;
	}
	if (size == 0)
		return;
	size += nl * sizeof(*labels);
	block = xmalloc(size);
	p = block + nl * sizeof(*labels);
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (old[i] != NULL)
			*own[i] = same[i] != i ? *own[same[i]] : put_str(&p, old[i]);
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		size_t j = 0;

		while (j < i && old[j] != old[i])
			j++;
		if (j == i)     /* not one an earlier field pointed at too */
			free(old[i]);
	}
	if (nl > 0) {
		t->labels = (struct conf_label *)(void *)block;
		for (size_t i = 0; i < nl; i++) {
			t->labels[i].name = put_str(&p, labels[i].name);
			t->labels[i].value = put_str(&p, labels[i].value);
			free(labels[i].name);
			free(labels[i].value);
		}
		free(labels);
		t->held |= CONF_HELD_LABELS;
	}
	t->held |= CONF_HELD_PACKED;
}

void
conf_target_fini(struct conf_target *t)
{
	char **own[] = PACKED_STRINGS(t);
	struct held_string hs[5];

	if (t->held & CONF_HELD_LABELS) {
		free(t->labels);        /* the block, strings and all */
	} else if (t->held & CONF_HELD_PACKED) {
		/* the block is the first string's */
		for (size_t i = 0; i < ARRAY_SIZE(own); i++)
			if (*own[i] != NULL) {
				free(*own[i]);
				break;
			}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(own); i++)
			free(*own[i]);
	}
	if (!(t->held & CONF_HELD_LABELS)) {
		for (size_t j = 0; j < t->nlabels; j++) {
			free(t->labels[j].name);
			free(t->labels[j].value);
		}
		free(t->labels);
	}
	held_strings(t, NULL, NULL, hs);
	for (size_t i = 0; i < ARRAY_SIZE(hs); i++)
		if (!(t->held & hs[i].bit))
			free(*hs[i].field);
	free(t->ports);
	memset(t, 0, sizeof(*t));
}

int
conf_target_for(const char *address, const char *server_name, int starttls,
    const char *ca_file, uint64_t timeout_ms, struct tlsctx *tls, struct conf_target *t,
    char **err)
{
	const char *msg;

	memset(t, 0, sizeof(*t));
	if ((msg = conf_split_hostport(address, &t->host, &t->port)) != NULL) {
		*err = xasprintf("bad HOST:PORT: %s", msg);
		return -1;
	}
	t->name = xstrdup(address);
	t->address = xstrdup(address);
	t->host_is_ip = conf_is_ip_literal(t->host);
	/* as parse_target makes them: the host names the server unless told */
	if (server_name != NULL)
		t->server_name = xstrdup(server_name);
	else if (!t->host_is_ip)
		t->server_name = xstrdup(t->host);
	t->ca_file = ca_file ? xstrdup(ca_file) : NULL;
	t->timeout_ms = timeout_ms;
	t->interval_ms = timeout_ms + 1;
	t->tls.starttls = starttls >= 0 ? starttls : (int)starttls_for_port(t->port);
	t->tls.family = CONF_FAMILY_ANY;
	t->tls.verify_hostname = 1;
	if (tls != NULL && (t->trust = tlsctx_trust(tls, ca_file, err)) == NULL) {
		conf_target_fini(t);
		return -1;
	}
	return 0;
}

struct conf *
conf_load(const char *path, char **errors)
{
	return conf_read(path, errors, 1);
}

struct conf *
conf_parse(const char *path, char **errors)
{
	return conf_read(path, errors, 0);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlisten; i++) {
		free(c->listen[i].address);
		free(c->listen[i].host);
	}
	free(c->listen);
	for (size_t i = 0; i < c->ntargets; i++)
		conf_target_fini(&c->targets[i]);
	free(c->targets);
	free(c->web.tls_cert_file);
	free(c->web.tls_key_file);
	free(c->web.client_ca_file);
	free(c->web.tls_cert_pem);
	if (c->web.tls_key_pem) {
		explicit_bzero(c->web.tls_key_pem, strlen(c->web.tls_key_pem));
		free(c->web.tls_key_pem);
	}
	free(c->web.client_ca_pem);
	for (size_t i = 0; i < c->web.nusers; i++) {
		free(c->web.users[i].name);
		free(c->web.users[i].hash);
	}
	free(c->web.users);
	free(c->fetch.proxy);
	for (size_t i = 0; i < c->nacme_directories; i++)
		free(c->acme_directories[i]);
	free(c->acme_directories);
	for (size_t i = 0; i < c->ndnssec_resolvers; i++)
		free(c->dnssec_resolvers[i]);
	free(c->dnssec_resolvers);
	for (size_t i = 0; i < c->nmodules; i++) {
		free(c->modules[i].name);
		conf_target_fini(&c->modules[i].t);
	}
	free(c->modules);
	conf_target_fini(&c->top.t);
	allow_free(c->probe_allow);
	for (size_t i = 0; i < c->ntarget_files; i++)
		free(c->target_files[i]);
	free(c->target_files);
	free(c->state_dir);
	free(c->ca_file);
	free_tlsopts(&c->tls);
	tlsctx_free(c->tlsctx);
	free(c->path);
	free(c);
}
