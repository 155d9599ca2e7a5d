/* test_conf.c - conf_parse, conf_load and conf_split_hostport against files
 * written at test time. The file format is tested with conf_parse; the TLS
 * material (trust stores, client certificates, priority strings) with
 * conf_load and certificates made here. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf/conf.h"
#include "conf/ptarget.h"
#include "conf/tfiles.h"
#include "core/util.h"

/* The tests run inside a fresh temporary directory, so errors name the
 * file as "t.conf", exactly as a user who ran from its directory sees it. */
static char tmpdir[] = "/tmp/test_conf.XXXXXX";
static char *oldcwd;
static char *example_path;

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct conf *
load(const char *text, char **errors)
{
	write_file("t.conf", text);
	return conf_parse("t.conf", errors);
}

static struct conf *
load_ok(const char *text)
{
	char *errors = NULL;
	struct conf *c = load(text, &errors);

	if (c == NULL)
		print_error("unexpected errors:\n%s\n", errors);
	assert_non_null(c);
	assert_null(errors);
	return c;
}

static void
expect_errors(const char *text, const char *expected)
{
	char *errors = NULL;
	struct conf *c = load(text, &errors);

	assert_null(c);
	assert_non_null(errors);
	assert_string_equal(errors, expected);
	free(errors);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	char cwd[PATH_MAX];

	(void)state;
	if (getcwd(cwd, sizeof(cwd)) == NULL || mkdtemp(tmpdir) == NULL ||
	    chdir(tmpdir) == -1)
		return -1;
	oldcwd = xstrdup(cwd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (chdir(oldcwd) == -1)
		return -1;
	free(oldcwd);
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- /probe: modules, probe_allow, probe_cache, proxy ------------------ */

static void
test_probe_settings(void **state)
{
	const struct conf_module *m;
	struct conf *c;

	(void)state;
	c = load_ok("targets = ();\n");
	assert_int_equal(c->probe_endpoint, 0);
	assert_null(c->probe_allow);
	assert_true(c->probe_cache_ms == 0);
	assert_int_equal(c->probe_concurrency, (c->concurrency + 1) / 2);
	assert_int_equal(c->nmodules, 0);
	conf_free(c);

	c = load_ok("probe_endpoint = true;\nprobe_allow = ( \"10.0.0.0/8\", \"*.example.org\" );\n"
	    "probe_cache = \"30s\";\nprobe_concurrency = 4;\ntimeout = 7;\n"
	    "proxy = \"http://px:3128\";\n"
	    "modules = {\n  smtp = { starttls = \"smtp\"; timeout = \"2s\"; };\n"
	    "  direct = { server_name = \"x.test\"; proxy = \"socks5://s:1080\"; };\n};\n"
	    "targets = ( { address = \"a.test:443\"; } );\n");
	assert_int_equal(c->probe_endpoint, 1);
	assert_non_null(c->probe_allow);
	assert_true(c->probe_cache_ms == 30000);
	assert_int_equal(c->probe_concurrency, 4);
	assert_int_equal(c->nmodules, 2);
	/* sorted by name; unset settings from the top level */
	assert_string_equal(c->modules[0].name, "direct");
	assert_string_equal(c->modules[0].t.server_name, "x.test");
	assert_string_equal(c->modules[0].t.tls.proxy, "socks5://s:1080");
	assert_true(c->modules[0].t.timeout_ms == 7000);
	m = conf_module_find(c, "smtp");
	assert_non_null(m);
	assert_int_equal(m->t.tls.starttls, STARTTLS_SMTP);
	assert_true(m->t.timeout_ms == 2000);
	assert_string_equal(m->t.tls.proxy, "http://px:3128");
	assert_null(conf_module_find(c, "nope"));
	/* no module named default: the top-level settings */
	m = conf_module_find(c, NULL);
	assert_ptr_equal(m, &c->top);
	assert_true(m->t.timeout_ms == 7000);
	assert_string_equal(c->targets[0].tls.proxy, "http://px:3128");
	conf_free(c);

	c = load_ok("probe_endpoint = true;\nmodules = { default = { timeout = 3; }; };\n"
	    "targets = ();\n");
	m = conf_module_find(c, NULL);
	assert_non_null(m);
	assert_string_equal(m->name, "default");
	conf_free(c);

	expect_errors("probe_endpoint = 1;\nprobe_allow = ( \"10.1.2.3/8\" );\n"
	    "probe_cache = \"soon\";\nmodules = {\n  a = { address = \"x:1\"; };\n"
	    "  b = 3;\n};\ntargets = ();\n",
	    "t.conf:1: probe_endpoint: must be true or false\n"
	    "t.conf:2: probe_allow.[0]: \"10.1.2.3/8\": address has bits set past the prefix length\n"
	    "t.conf:3: probe_cache: bad duration \"soon\" (use e.g. 90, \"90s\", \"5m\", \"1h\")\n"
	    "t.conf:5: modules.a.address: unknown setting\n"
	    "t.conf:6: modules.b: must be a group of target settings");
	expect_errors("proxy = \"ftp://p:21\";\ntargets = (\n"
	    "  { address = \"a.test:443\"; proxy = \"http://p:3128\"; addresses = \"all\"; }\n);\n",
	    "t.conf:1: proxy: must be \"http://host:port\" or \"socks5://host:port\"\n"
	    "t.conf:3: targets.[0].addresses: addresses = \"all\" cannot go through a proxy, "
	    "which resolves the name");
}

/* ---- the web block's connection limits and deadlines ------------------ */

static void
test_web_limits(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("targets = ();\n");
	assert_int_equal(c->web.max_connections, CONF_DEFAULT_WEB_MAX_CONNECTIONS);
	assert_int_equal(c->web.max_connections_per_address,
	    CONF_DEFAULT_WEB_MAX_CONNECTIONS_PER_ADDRESS);
	assert_true(c->web.request_line_timeout_ms == 5000);
	assert_true(c->web.header_timeout_ms == 10000);
	assert_true(c->web.connection_timeout_ms == 10000);
	conf_free(c);

	c = load_ok("targets = ();\nweb = { max_connections_per_address = 2;\n"
	    "  request_line_timeout = \"500ms\"; header_timeout = \"2s\"; };\n");
	assert_int_equal(c->web.max_connections_per_address, 2);
	assert_true(c->web.request_line_timeout_ms == 500);
	assert_true(c->web.header_timeout_ms == 2000);
	conf_free(c);

	/* header_timeout alone below the default request line deadline: the
	 * headers' deadline covers the line (conns.c takes the earlier) */
	c = load_ok("targets = ();\nweb = { header_timeout = \"2s\"; };\n");
	assert_true(c->web.header_timeout_ms == 2000);
	conf_free(c);

	expect_errors("targets = ();\nweb = {\n  max_connections_per_address = 0;\n};\n",
	    "t.conf:3: web.max_connections_per_address: must be between 1 and 10000");
	expect_errors("targets = ();\nweb = {\n  max_connections_per_address = \"8\";\n};\n",
	    "t.conf:3: web.max_connections_per_address: must be an integer");
	expect_errors("targets = ();\nweb = {\n  header_timeout = \"99ms\";\n};\n",
	    "t.conf:3: web.header_timeout: must be between 100ms and 1h");
	expect_errors("targets = ();\nweb = {\n  request_line_timeout = \"2h\";\n};\n",
	    "t.conf:3: web.request_line_timeout: must be between 100ms and 1h");
	expect_errors("targets = ();\nweb = {\n  connection_timeout = \"500ms\";\n};\n",
	    "t.conf:3: web.connection_timeout: must be between 1s and 1h");
	expect_errors("targets = ();\nweb = {\n  header_timeout = \"3s\";\n"
	    "  request_line_timeout = \"4s\";\n};\n",
	    "t.conf:4: web.request_line_timeout: 4s is longer than header_timeout (3s), "
	    "which covers the request line too");
	expect_errors("targets = ();\nweb = {\n  header_timeout = \"soon\";\n};\n",
	    "t.conf:3: web.header_timeout: bad duration \"soon\" (use e.g. 90, \"90s\", \"5m\", \"1h\")");
}

/* ---- conf_split_hostport ---------------------------------------------- */

static void
test_split_ok(void **state)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
	} cases[] = {
		{ "[::1]:9793", "::1", 9793 },
		{ "127.0.0.1:443", "127.0.0.1", 443 },
		{ "pop.gmail.com:995", "pop.gmail.com", 995 },
		{ "localhost:65535", "localhost", 65535 },
		{ "[2001:db8::1]:1", "2001:db8::1", 1 },
		{ "a_b.example.:8443", "a_b.example.", 8443 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *host = NULL;
		uint16_t port = 0;
		const char *msg = conf_split_hostport(cases[i].in, &host, &port);

		if (msg != NULL)
			print_error("%s: %s\n", cases[i].in, msg);
		assert_null(msg);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
		free(host);
	}
}

static void
test_split_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "::1:443", "IPv6 address must be in brackets" },
		{ "::1", "IPv6 address must be in brackets" },
		{ "host:", "missing port" },
		{ "host", "missing port" },
		{ "[::1]", "missing port" },
		{ "host:0", "bad port" },
		{ "host:65536", "bad port" },
		{ "host:99999999999999999999", "bad port" },
		{ "host:-1", "bad port" },
		{ "host:44x", "bad port" },
		{ "host: 443", "bad port" },
		{ ":443", "missing host" },
		{ "[]:443", "missing host" },
		{ "[::1", "unterminated bracket" },
		{ "[::1]443", "expected \":\" after \"]\"" },
		{ "[127.0.0.1]:443", "bracketed host must be an IPv6 address" },
		{ "[example.com]:443", "bracketed host must be an IPv6 address" },
		{ "https://example.com:443", "bad host name" },
		{ "exa mple.com:443", "bad host name" },
		{ "fe80::1%eth0:443", "bad host name" },
		{ "a..b:443", "bad host name" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *host = (char *)"unchanged";
		uint16_t port = 7;
		const char *msg = conf_split_hostport(cases[i].in, &host, &port);

		if (msg == NULL || strcmp(msg, cases[i].msg) != 0)
			print_error("%s: got %s\n", cases[i].in, msg ? msg : "success");
		assert_non_null(msg);
		assert_string_equal(msg, cases[i].msg);
		assert_null(host);
		assert_int_equal(port, 7);
	}
}

/* ---- whole files -------------------------------------------------------- */

static void
test_full_example(void **state)
{
	struct conf *c;
	const struct conf_target *t;

	(void)state;
	write_file("ca.pem", "not checked here\n");
	write_file("lab-ca.pem", "not checked here\n");
	c = load_ok(
	    "listen = ( \"127.0.0.1:9793\", \"[::1]:9793\" );\n"       /* 1 */
	    "state_dir = \"/var/lib/tlswatch\";\n"
	    "interval = 300;\n"
	    "timeout = 10;\n"
	    "concurrency = 64;\n"                                       /* 5 */
	    "ca_file = \"ca.pem\";\n"
	    "targets = (\n"
	    "  { address = \"pop.gmail.com:995\"; },\n"
	    "  { address = \"1.1.1.1:853\"; server_name = \"cloudflare-dns.com\"; },\n"
	    "  { name = \"lab\"; address = \"127.0.0.1:8443\"; server_name = \"good.test\";\n" /* 10 */
	    "    ca_file = \"lab-ca.pem\"; interval = 30; timeout = 5;\n"
	    "    labels = { team = \"web\"; env = \"prod\"; }; },\n"
	    "  { address = \"[2001:db8::1]:853\"; }\n"
	    ");\n");

	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[0].address, "127.0.0.1:9793");
	assert_string_equal(c->listen[0].host, "127.0.0.1");
	assert_int_equal(c->listen[0].port, 9793);
	assert_int_equal(c->listen[0].line, 1);
	assert_string_equal(c->listen[1].address, "[::1]:9793");
	assert_string_equal(c->listen[1].host, "::1");
	assert_int_equal(c->listen[1].port, 9793);
	assert_string_equal(c->state_dir, "/var/lib/tlswatch");
	assert_int_equal(c->interval_ms, 300000);
	assert_int_equal(c->timeout_ms, 10000);
	assert_int_equal(c->concurrency, 64);
	assert_string_equal(c->ca_file, "ca.pem");
	assert_int_equal(c->ca_file_line, 6);
	assert_int_equal(c->ntargets, 4);

	t = &c->targets[0];
	assert_string_equal(t->name, "pop.gmail.com:995");
	assert_string_equal(t->address, "pop.gmail.com:995");
	assert_string_equal(t->host, "pop.gmail.com");
	assert_int_equal(t->port, 995);
	assert_int_equal(t->host_is_ip, 0);
	assert_string_equal(t->server_name, "pop.gmail.com");
	assert_string_equal(t->ca_file, "ca.pem");
	assert_int_equal(t->ca_file_line, 6);
	assert_int_equal(t->interval_ms, 300000);
	assert_int_equal(t->timeout_ms, 10000);
	assert_int_equal(t->nlabels, 0);
	assert_int_equal(t->line, 8);

	t = &c->targets[1];
	assert_string_equal(t->name, "1.1.1.1:853");
	assert_string_equal(t->host, "1.1.1.1");
	assert_int_equal(t->port, 853);
	assert_int_equal(t->host_is_ip, 1);
	assert_string_equal(t->server_name, "cloudflare-dns.com");
	assert_string_equal(t->ca_file, "ca.pem");
	assert_int_equal(t->line, 9);

	t = &c->targets[2];
	assert_string_equal(t->name, "lab");
	assert_string_equal(t->address, "127.0.0.1:8443");
	assert_string_equal(t->host, "127.0.0.1");
	assert_int_equal(t->port, 8443);
	assert_int_equal(t->host_is_ip, 1);
	assert_string_equal(t->server_name, "good.test");
	assert_string_equal(t->ca_file, "lab-ca.pem");
	assert_int_equal(t->ca_file_line, 11);
	assert_int_equal(t->interval_ms, 30000);
	assert_int_equal(t->timeout_ms, 5000);
	assert_int_equal(t->line, 10);
	assert_int_equal(t->nlabels, 2);
	assert_string_equal(t->labels[0].name, "env");
	assert_string_equal(t->labels[0].value, "prod");
	assert_string_equal(t->labels[1].name, "team");
	assert_string_equal(t->labels[1].value, "web");

	t = &c->targets[3];
	assert_string_equal(t->name, "[2001:db8::1]:853");
	assert_string_equal(t->host, "2001:db8::1");
	assert_int_equal(t->host_is_ip, 1);
	assert_null(t->server_name);
	assert_int_equal(t->line, 13);

	conf_free(c);
}

/* warn and crit as fractions of the lifetime, alone or beside a duration */
static void
test_thresholds(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("warn = \"33%\";\ncrit = \"7d\";\ntargets = ();\n");
	assert_int_equal(c->warn.fraction, 3300);
	assert_true(c->warn.ms == 0);
	assert_int_equal(c->crit.fraction, 0);
	assert_true(c->crit.ms == 7ULL * 86400 * 1000);
	conf_free(c);
	c = load_ok("warn = \"12.5%\";\ncrit = \"12.5%\";\ntargets = ();\n");
	assert_int_equal(c->warn.fraction, 1250);
	assert_int_equal(c->crit.fraction, 1250);
	conf_free(c);
	/* a bigger duration for crit than a fraction for warn: the
	 * certificate decides which comes first */
	c = load_ok("warn = \"10%\";\ncrit = \"30d\";\ntargets = ();\n");
	assert_int_equal(c->warn.fraction, 1000);
	conf_free(c);
	c = load_ok("warn = 864000;\ntargets = ();\n");
	assert_true(c->warn.ms == 864000000);
	conf_free(c);
}

static void
test_defaults(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("targets = ();\n");
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(c->listen[0].address, CONF_DEFAULT_LISTEN);
	assert_string_equal(c->listen[0].host, "127.0.0.1");
	assert_int_equal(c->listen[0].port, 9793);
	assert_int_equal(c->listen[0].line, 0);
	assert_string_equal(c->state_dir, CONF_DEFAULT_STATE_DIR);
	assert_true(c->warn.ms == CONF_DEFAULT_WARN_MS && c->crit.ms == CONF_DEFAULT_CRIT_MS);
	assert_int_equal(c->warn.fraction + c->crit.fraction, 0);
	assert_true(c->state_refresh_ms == CONF_DEFAULT_STATE_REFRESH_MS);
	assert_int_equal(c->interval_ms, CONF_DEFAULT_INTERVAL_MS);
	assert_int_equal(c->timeout_ms, CONF_DEFAULT_TIMEOUT_MS);
	assert_int_equal(c->concurrency, CONF_DEFAULT_CONCURRENCY);
	assert_null(c->ca_file);
	assert_int_equal(c->ca_file_line, 0);
	assert_int_equal(c->ntargets, 0);
	conf_free(c);

	/* an empty array is libconfig's other spelling of an empty list */
	c = load_ok("targets = [];\n");
	assert_int_equal(c->ntargets, 0);
	conf_free(c);

	conf_free(NULL);
}

static void
test_top_level_inherited(void **state)
{
	struct conf *c;
	const struct conf_target *t;

	(void)state;
	write_file("ca.pem", "x\n");
	c = load_ok(
	    "targets = (\n"
	    "  { address = \"a.example:443\"; },\n"
	    "  { address = \"b.example:443\"; interval = \"1m\"; },\n"
	    "  { address = \"c.example:443\"; timeout = \"2s\"; ca_file = \"ca.pem\"; }\n"
	    ");\n"
	    "interval = \"10m\";\n"
	    "timeout = \"20s\";\n"
	    "listen = \"[::]:9000\";\n"
	    "state_dir = \"/srv/tlswatch\";\n"
	    "concurrency = 100000;\n");
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(c->listen[0].host, "::");
	assert_int_equal(c->listen[0].port, 9000);
	assert_int_equal(c->listen[0].line, 8);
	assert_string_equal(c->state_dir, "/srv/tlswatch");
	assert_int_equal(c->concurrency, CONF_MAX_CONCURRENCY);
	assert_null(c->ca_file);

	t = &c->targets[0];
	assert_int_equal(t->interval_ms, 600000);
	assert_int_equal(t->timeout_ms, 20000);
	assert_null(t->ca_file);
	assert_int_equal(t->ca_file_line, 0);
	t = &c->targets[1];
	assert_int_equal(t->interval_ms, 60000);
	assert_int_equal(t->timeout_ms, 20000);
	t = &c->targets[2];
	assert_int_equal(t->interval_ms, 600000);
	assert_int_equal(t->timeout_ms, 2000);
	assert_string_equal(t->ca_file, "ca.pem");
	assert_int_equal(t->ca_file_line, 4);
	conf_free(c);
}

static void
test_durations(void **state)
{
	static const struct {
		const char *value;
		uint64_t ms;
		const char *err;
	} cases[] = {
		{ "90", 90000, NULL },
		{ "\"90s\"", 90000, NULL },
		{ "\"90\"", 90000, NULL },
		{ "\"5m\"", 300000, NULL },
		{ "\"1h\"", 3600000, NULL },
		{ "\"1h30m\"", 5400000, NULL },
		{ "\"500ms\"", 500, NULL },
		{ "\"1d\"", 86400000, NULL },
		{ "3600L", 3600000, NULL },
		{ "0", 0, "t.conf:1: interval: must be above zero" },
		{ "-5", 0, "t.conf:1: interval: must be above zero" },
		{ "\"0s\"", 0, "t.conf:1: interval: must be above zero" },
		{ "\"0h0m\"", 0, "t.conf:1: interval: must be above zero" },
		{ "\"5x\"", 0, "t.conf:1: interval: bad duration \"5x\" "
		    "(use e.g. 90, \"90s\", \"5m\", \"1h\")" },
		{ "\"\"", 0, "t.conf:1: interval: bad duration \"\" "
		    "(use e.g. 90, \"90s\", \"5m\", \"1h\")" },
		{ "\"-5s\"", 0, "t.conf:1: interval: bad duration \"-5s\" "
		    "(use e.g. 90, \"90s\", \"5m\", \"1h\")" },
		{ "\"0x\"", 0, "t.conf:1: interval: bad duration \"0x\" "
		    "(use e.g. 90, \"90s\", \"5m\", \"1h\")" },
		{ "1.5", 0, "t.conf:1: interval: must be an integer or a duration string" },
		{ "true", 0, "t.conf:1: interval: must be an integer or a duration string" },
		{ "( 5 )", 0, "t.conf:1: interval: must be an integer or a duration string" },
		{ "9223372036854775807L", 0, "t.conf:1: interval: too large (at most 100 years)" },
		{ "3162240001L", 0, "t.conf:1: interval: too large (at most 100 years)" },
		{ "\"213503982339d\"", 0, "t.conf:1: interval: duration \"213503982339d\" too large (at most 100 years)" },
		{ "\"36600d1ms\"", 0, "t.conf:1: interval: duration \"36600d1ms\" too large (at most 100 years)" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* timeout 1ms: below every valid interval here */
		char *text = xasprintf("interval = %s;\ntimeout = \"1ms\";\n"
		    "targets = ();\n", cases[i].value);

		if (cases[i].err == NULL) {
			struct conf *c = load_ok(text);

			assert_int_equal(c->interval_ms, cases[i].ms);
			conf_free(c);
		} else {
			expect_errors(text, cases[i].err);
		}
		free(text);
	}
}

/* One error per file: the message, setting path and line for each rule. */
/* revocation (top level and per target), revocation_refresh, acme_directories. */
static void
test_revocation(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("targets = ( { address = \"a:443\"; } );\n");
	assert_int_equal(c->revocation, CONF_REVOCATION_SOFT);
	assert_int_equal(c->targets[0].revocation, CONF_REVOCATION_SOFT);
	assert_true(c->revocation_refresh_ms == CONF_DEFAULT_REVOCATION_REFRESH_MS);
	assert_int_equal(c->nacme_directories, 0);
	assert_string_equal(conf_revocation_name(c->revocation), "soft");
	conf_free(c);

	c = load_ok("revocation = \"hard\";\nrevocation_refresh = \"10m\";\n"
	    "acme_directories = ( \"https://acme-v02.api.letsencrypt.org/directory\",\n"
	    "  \"http://127.0.0.1:14000/dir\" );\n"
	    "targets = ( { address = \"a:443\"; },\n"
	    "  { address = \"b:443\"; revocation = \"off\"; },\n"
	    "  { address = \"c:443\"; revocation = \"soft\"; } );\n");
	assert_int_equal(c->revocation, CONF_REVOCATION_HARD);
	assert_int_equal(c->targets[0].revocation, CONF_REVOCATION_HARD);
	assert_int_equal(c->targets[1].revocation, CONF_REVOCATION_OFF);
	assert_int_equal(c->targets[2].revocation, CONF_REVOCATION_SOFT);
	assert_true(c->revocation_refresh_ms == 600 * 1000);
	assert_int_equal(c->nacme_directories, 2);
	assert_string_equal(c->acme_directories[1], "http://127.0.0.1:14000/dir");
	conf_free(c);

	expect_errors("revocation = \"strict\";\nrevocation_refresh = \"0s\";\n"
	    "acme_directories = ( \"ftp://x/dir\", 7 );\n"
	    "targets = ( { address = \"a:443\";\n revocation = true; } );\n",
	    "t.conf:1: revocation: unknown value \"strict\" (use \"off\", \"soft\", \"hard\")\n"
	    "t.conf:2: revocation_refresh: must be above zero\n"
	    "t.conf:3: acme_directories.[0]: bad URL \"ftp://x/dir\" (an http:// or https:// "
	    "URL of the ACME directory)\n"
	    "t.conf:3: acme_directories.[1]: must be a string\n"
	    "t.conf:5: targets.[0].revocation: must be a string");
	expect_errors("acme_directories = \"https://x/dir\";\ntargets = ();\n",
	    "t.conf:1: acme_directories: must be a list of URLs");
}

static void
test_fetch(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("targets = ();\n");
	assert_true(c->fetch.timeout_ms == CONF_DEFAULT_FETCH_TIMEOUT_MS);
	assert_int_equal(c->fetch.concurrency, CONF_DEFAULT_FETCH_CONCURRENCY);
	assert_true(c->fetch.max_size == (uint64_t)64 << 20);
	assert_null(c->fetch.proxy);
	conf_free(c);

	c = load_ok("fetch = { timeout = \"2500ms\"; concurrency = 3; max_size = \"512KB\";\n"
	    "  proxy = \"http://proxy:3128\"; };\ntargets = ();\n");
	assert_true(c->fetch.timeout_ms == 2500);
	assert_int_equal(c->fetch.concurrency, 3);
	assert_true(c->fetch.max_size == 512 * 1024);
	assert_string_equal(c->fetch.proxy, "http://proxy:3128");
	conf_free(c);

	c = load_ok("fetch = { timeout = 20; max_size = 100000; };\ntargets = ();\n");
	assert_true(c->fetch.timeout_ms == 20000);
	assert_true(c->fetch.max_size == 100000);
	conf_free(c);

	expect_errors("fetch = {\n timeout = \"soon\";\n concurrency = 0;\n"
	    " max_size = \"64XB\";\n proxy = \"ftp://proxy:21\";\n retries = 3;\n};\ntargets = ();\n",
	    "t.conf:2: fetch.timeout: bad duration \"soon\" (use e.g. 90, \"90s\", \"5m\", \"1h\")\n"
	    "t.conf:3: fetch.concurrency: must be between 1 and 1024\n"
	    "t.conf:4: fetch.max_size: bad size \"64XB\" (use e.g. 65536, \"512KB\", "
	    "\"64MB\", \"1GB\")\n"
	    "t.conf:5: fetch.proxy: unsupported proxy scheme (use http, https, socks4, "
	    "socks4a, socks5 or socks5h)\n"
	    "t.conf:6: fetch.retries: unknown setting");
	expect_errors("fetch = {\n max_size = \"8GB\";\n proxy = \"\";\n};\ntargets = ();\n",
	    "t.conf:2: fetch.max_size: size \"8GB\" too large (at most 4GB)\n"
	    "t.conf:3: fetch.proxy: must not be empty (leave it out for no proxy)");
	expect_errors("fetch = {\n max_size = 0;\n proxy = \"http://p:3128/x\";\n};\ntargets = ();\n",
	    "t.conf:2: fetch.max_size: must be between 1 byte and 4GB\n"
	    "t.conf:3: fetch.proxy: a proxy URL has no path");
	expect_errors("fetch = \"on\";\ntargets = ();\n", "t.conf:1: fetch: must be a group");
}

static void
test_error_messages(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		/* addresses */
		{ "targets = (\n{ address = \"host\"; }\n);\n",
		  "t.conf:2: targets.[0].address: missing port" },
		{ "targets = (\n{ address = \"a:1\"; },\n\n{ address = \"host:0\"; }\n);\n",
		  "t.conf:4: targets.[1].address: bad port" },
		{ "targets = (\n{ address = \"host:65536\"; }\n);\n",
		  "t.conf:2: targets.[0].address: bad port" },
		{ "targets = (\n{ address = \":443\"; }\n);\n",
		  "t.conf:2: targets.[0].address: missing host" },
		{ "targets = (\n{ address = \"::1:443\"; }\n);\n",
		  "t.conf:2: targets.[0].address: IPv6 address must be in brackets" },
		{ "targets = (\n{ address = \"[::1:443\"; }\n);\n",
		  "t.conf:2: targets.[0].address: unterminated bracket" },
		{ "targets = (\n{ address = \"[127.0.0.1]:443\"; }\n);\n",
		  "t.conf:2: targets.[0].address: bracketed host must be an IPv6 address" },
		{ "targets = (\n{\n  name = \"x\";\n}\n);\n",
		  "t.conf:2: targets.[0].address: missing required setting" },
		{ "targets = (\n{ address = 443; }\n);\n",
		  "t.conf:2: targets.[0].address: must be a string" },
		/* names */
		{ "targets = (\n{ address = \"a:1\";\n  name = \"\"; }\n);\n",
		  "t.conf:3: targets.[0].name: must not be empty" },
		{ "targets = (\n{ address = \"a:1\"; name = \"a\\tb\"; }\n);\n",
		  "t.conf:2: targets.[0].name: must not contain control characters" },
		{ "targets = (\n{ address = \"a:1\"; name = 5; }\n);\n",
		  "t.conf:2: targets.[0].name: must be a string" },
		/* server_name */
		{ "targets = (\n{ address = \"a:1\"; server_name = \"a b\"; }\n);\n",
		  "t.conf:2: targets.[0].server_name: bad server name \"a b\" "
		  "(use a DNS name or an IP address)" },
		/* durations and their relation */
		{ "interval = \"5s\";\ntargets = ();\n",
		  "t.conf:1: interval: timeout (10s) must be below interval (5s)" },
		{ "interval = \"1m\";\ntimeout = 60;\ntargets = ();\n",
		  "t.conf:2: timeout: timeout (1m) must be below interval (1m)" },
		{ "targets = (\n{ address = \"a:1\";\n interval = 5; }\n);\n",
		  "t.conf:3: targets.[0].interval: timeout (10s) must be below interval (5s)" },
		{ "targets = (\n{ address = \"a:1\"; interval = \"1h30m\";\n timeout = \"2h\"; }\n);\n",
		  "t.conf:3: targets.[0].timeout: timeout (2h) must be below interval (1h30m)" },
		{ "timeout = \"1m30s500ms\";\ntargets = (\n{ address = \"a:1\";\n interval = 90; }\n);\n",
		  "t.conf:4: targets.[0].interval: timeout (1m30s500ms) must be below interval (1m30s)" },
		{ "targets = (\n{ address = \"a:1\"; timeout = \"soon\"; }\n);\n",
		  "t.conf:2: targets.[0].timeout: bad duration \"soon\" "
		  "(use e.g. 90, \"90s\", \"5m\", \"1h\")" },
		/* concurrency and state_dir */
		{ "concurrency = 0;\ntargets = ();\n",
		  "t.conf:1: concurrency: must be between 1 and 100000" },
		{ "\nconcurrency = 100001;\ntargets = ();\n",
		  "t.conf:2: concurrency: must be between 1 and 100000" },
		{ "concurrency = \"64\";\ntargets = ();\n",
		  "t.conf:1: concurrency: must be an integer" },
		{ "state_dir = \"\";\ntargets = ();\n",
		  "t.conf:1: state_dir: must not be empty" },
		{ "state_dir = 1;\ntargets = ();\n",
		  "t.conf:1: state_dir: must be a string" },
		/* the status page's thresholds and the state refresh */
		{ "warn = \"7d\";\ncrit = \"21d\";\ntargets = ();\n",
		  "t.conf:2: crit: crit (21d) must not be above warn (7d)" },
		{ "warn = \"soon\";\ntargets = ();\n",
		  "t.conf:1: warn: bad duration \"soon\" (use e.g. 90, \"90s\", \"5m\", \"1h\")" },
		{ "warn = \"33%\";\ncrit = \"50%\";\ntargets = ();\n",
		  "t.conf:2: crit: crit (50%) must not be above warn (33%)" },
		{ "warn = \"33%\";\ncrit = \"100%\";\ntargets = ();\n",
		  "t.conf:2: crit: bad fraction \"100%\" (a percentage of the lifetime above 0% "
		  "and below 100%, at most two decimals: \"33%\", \"12.5%\")" },
		{ "warn = \"33.333%\";\ntargets = ();\n",
		  "t.conf:1: warn: bad fraction \"33.333%\" (a percentage of the lifetime above 0% "
		  "and below 100%, at most two decimals: \"33%\", \"12.5%\")" },
		{ "state_refresh = 0;\ntargets = ();\n",
		  "t.conf:1: state_refresh: must be above zero" },
		/* listen */
		{ "listen = \"localhost\";\ntargets = ();\n",
		  "t.conf:1: listen: missing port" },
		{ "listen = (\n\"127.0.0.1:1\",\n\"[::1]:2\",\n\"::1:3\" );\ntargets = ();\n",
		  "t.conf:4: listen.[2]: IPv6 address must be in brackets" },
		{ "listen = ( \"127.0.0.1:1\",\n\"127.0.0.1:1\" );\ntargets = ();\n",
		  "t.conf:2: listen.[1]: duplicate address \"127.0.0.1:1\" (first at line 1)" },
		{ "listen = [ \"LOCALHOST:1\", \"localhost:1\" ];\ntargets = ();\n",
		  "t.conf:1: listen.[1]: duplicate address \"localhost:1\" (first at line 1)" },
		{ "listen = ();\ntargets = ();\n",
		  "t.conf:1: listen: must list at least one address" },
		{ "listen = ( \"a:1\", 2 );\ntargets = ();\n",
		  "t.conf:1: listen.[1]: must be a string" },
		{ "listen = 9793;\ntargets = ();\n",
		  "t.conf:1: listen: must be a string or a list of strings" },
		/* targets */
		{ "# nothing to watch\n", "t.conf:1: targets: missing required setting" },
		{ "targets = 5;\n", "t.conf:1: targets: must be a list of groups" },
		{ "targets = { a = 1; };\n", "t.conf:1: targets: must be a list of groups" },
		{ "targets = [ \"a:1\" ];\n", "t.conf:1: targets: must be a list of groups" },
		{ "targets = (\n\"a:1\" );\n", "t.conf:2: targets.[0]: must be a group" },
		/* unknown settings */
		{ "targets = ();\n\nlisten_address = \"a:1\";\n",
		  "t.conf:3: listen_address: unknown setting" },
		{ "targets = (\n{ address = \"a:1\";\n  adress = \"b:1\"; }\n);\n",
		  "t.conf:3: targets.[0].adress: unknown setting" },
		/* labels */
		{ "targets = (\n{ address = \"a:1\";\n  labels = { my-team = \"x\"; }; }\n);\n",
		  "t.conf:3: targets.[0].labels.my-team: bad label name" },
		{ "targets = (\n{ address = \"a:1\"; labels = { job = \"x\"; }; }\n);\n",
		  "t.conf:2: targets.[0].labels.job: label name \"job\" is reserved" },
		{ "targets = (\n{ address = \"a:1\"; labels = { le = \"x\"; }; }\n);\n",
		  "t.conf:2: targets.[0].labels.le: label name \"le\" is reserved" },
		{ "targets = (\n{ address = \"a:1\"; labels = { team = 1; }; }\n);\n",
		  "t.conf:2: targets.[0].labels.team: must be a string" },
		{ "targets = (\n{ address = \"a:1\"; labels = ( \"team\" ); }\n);\n",
		  "t.conf:2: targets.[0].labels: must be a group" },
		/* ca_file */
		{ "ca_file = \"missing.pem\";\ntargets = ();\n",
		  "t.conf:1: ca_file: cannot read \"missing.pem\": No such file or directory" },
		{ "targets = (\n{ address = \"a:1\"; ca_file = \".\"; }\n);\n",
		  "t.conf:2: targets.[0].ca_file: cannot read \".\": Is a directory" },
		/* values quoted in messages cannot split the line */
		{ "interval = \"5\\nx\";\ntargets = ();\n",
		  "t.conf:1: interval: bad duration \"5\\nx\" "
		  "(use e.g. 90, \"90s\", \"5m\", \"1h\")" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_errors(cases[i].text, cases[i].err);
}

static void
test_multiple_errors(void **state)
{
	(void)state;
	/* targets come first in the file but are checked after the top-level
	 * settings: the report must still follow the file */
	expect_errors(
	    "targets = (\n"                                             /* 1 */
	    "  { address = \"a.example\"; },\n"
	    "  { address = \"b.example:443\"; bogus = 1; interval = 0; },\n"
	    "  { name = \"\"; address = \"c.example:99999\"; }\n"
	    ");\n"                                                      /* 5 */
	    "concurrency = 0;\n"
	    "listen = ( \"[::1\" );\n"
	    "interval = \"often\";\n",
	    "t.conf:2: targets.[0].address: missing port\n"
	    "t.conf:3: targets.[1].bogus: unknown setting\n"
	    "t.conf:3: targets.[1].interval: must be above zero\n"
	    "t.conf:4: targets.[2].name: must not be empty\n"
	    "t.conf:4: targets.[2].address: bad port\n"
	    "t.conf:6: concurrency: must be between 1 and 100000\n"
	    "t.conf:7: listen.[0]: unterminated bracket\n"
	    "t.conf:8: interval: bad duration \"often\" "
	    "(use e.g. 90, \"90s\", \"5m\", \"1h\")");

	/* top-level conflict once, not once per target that inherits it */
	expect_errors(
	    "interval = 5;\n"
	    "targets = (\n"
	    "  { address = \"a.example:443\"; },\n"
	    "  { address = \"b.example:443\"; },\n"
	    "  { address = \"c.example:443\"; timeout = 6; }\n"
	    ");\n",
	    "t.conf:1: interval: timeout (10s) must be below interval (5s)\n"
	    "t.conf:5: targets.[2].timeout: timeout (6s) must be below interval (5s)");
}

static void
test_duplicate_names(void **state)
{
	(void)state;
	expect_errors(
	    "targets = (\n"
	    "  { name = \"web\"; address = \"a.example:443\"; },\n"
	    "  { address = \"b.example:443\"; },\n"
	    "  { name = \"web\"; address = \"c.example:443\"; },\n"
	    "  { name = \"b.example:443\"; address = \"d.example:443\"; },\n"
	    "  { address = \"b.example:443\"; },\n"
	    "  { name = \"web\";\n"
	    "    address = \"e.example:443\"; }\n"
	    ");\n",
	    "t.conf:4: targets.[2].name: duplicate name \"web\" (first at line 2)\n"
	    "t.conf:5: targets.[3].name: duplicate name \"b.example:443\" (first at line 3)\n"
	    "t.conf:6: targets.[4].address: duplicate name \"b.example:443\" (first at line 3)\n"
	    "t.conf:7: targets.[5].name: duplicate name \"web\" (first at line 2)");
}

static void
test_names(void **state)
{
	struct conf *c;
	char name[202];
	char *text;

	(void)state;
	memset(name, 'n', 200);
	name[200] = '\0';
	text = xasprintf("targets = (\n{ address = \"a:1\"; name = \"%s\"; }\n);\n", name);
	c = load_ok(text);
	assert_int_equal(strlen(c->targets[0].name), 200);
	conf_free(c);
	free(text);

	strcat(name, "n");
	text = xasprintf("targets = (\n{ address = \"a:1\"; name = \"%s\"; }\n);\n", name);
	expect_errors(text, "t.conf:2: targets.[0].name: too long (at most 200 bytes)");
	free(text);

	/* any printable text, UTF-8 included, makes a name */
	c = load_ok("targets = ( { address = \"a:1\"; name = \"caf\xc3\xa9 \\\"x\\\"\"; } );\n");
	assert_string_equal(c->targets[0].name, "caf\xc3\xa9 \"x\"");
	conf_free(c);
}

static void
test_server_name(void **state)
{
	struct conf *c;
	char *text, *expected, long_name[260];

	(void)state;
	c = load_ok(
	    "targets = (\n"
	    "  { address = \"a.example:443\"; server_name = \"\"; },\n"
	    "  { address = \"192.0.2.1:443\"; server_name = \"\"; },\n"
	    "  { address = \"192.0.2.1:443\"; name = \"ip\"; },\n"
	    "  { address = \"a.example:443\"; name = \"ipsni\"; server_name = \"192.0.2.1\"; },\n"
	    "  { address = \"[2001:db8::1]:443\"; server_name = \"B.Example.\"; }\n"
	    ");\n");
	/* "" is kept, not NULL: SNI was turned off on purpose */
	assert_non_null(c->targets[0].server_name);
	assert_string_equal(c->targets[0].server_name, "");
	assert_string_equal(c->targets[1].server_name, "");
	assert_null(c->targets[2].server_name);
	assert_int_equal(c->targets[2].host_is_ip, 1);
	assert_string_equal(c->targets[3].server_name, "192.0.2.1");
	assert_int_equal(c->targets[3].host_is_ip, 0);
	assert_string_equal(c->targets[4].server_name, "B.Example.");
	conf_free(c);

	/* 253 bytes is the longest DNS name */
	memset(long_name, 0, sizeof(long_name));
	for (size_t i = 0; i < 253; i++)
		long_name[i] = i % 50 == 49 ? '.' : 'a';
	text = xasprintf("targets = ( { address = \"a:1\"; server_name = \"%s\"; } );\n",
	    long_name);
	c = load_ok(text);
	assert_string_equal(c->targets[0].server_name, long_name);
	conf_free(c);
	free(text);

	long_name[253] = 'a';
	text = xasprintf("targets = ( { address = \"a:1\"; server_name = \"%s\"; } );\n",
	    long_name);
	expected = xasprintf("t.conf:1: targets.[0].server_name: bad server name "
	    "\"%s\" (use a DNS name or an IP address)", long_name);
	expect_errors(text, expected);
	free(expected);
	free(text);
}

static void
test_labels(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok(
	    "targets = ( { address = \"a:1\";\n"
	    "  labels = { zone = \"z\"; Team = \"T\"; env = \"\"; a1 = \"\\\"q\\\"\\n\"; }; } );\n");
	assert_int_equal(c->targets[0].nlabels, 4);
	/* byte order, as the exposition text will list them */
	assert_string_equal(c->targets[0].labels[0].name, "Team");
	assert_string_equal(c->targets[0].labels[0].value, "T");
	assert_string_equal(c->targets[0].labels[1].name, "a1");
	assert_string_equal(c->targets[0].labels[1].value, "\"q\"\n");
	assert_string_equal(c->targets[0].labels[2].name, "env");
	assert_string_equal(c->targets[0].labels[2].value, "");
	assert_string_equal(c->targets[0].labels[3].name, "zone");
	conf_free(c);

	c = load_ok("targets = ( { address = \"a:1\"; labels = {}; } );\n");
	assert_int_equal(c->targets[0].nlabels, 0);
	conf_free(c);
}

static void
test_ca_file(void **state)
{
	char *errors = NULL;
	struct conf *c;

	(void)state;
	write_file("locked.pem", "x\n");
	assert_int_equal(chmod("locked.pem", 0), 0);
	c = load("ca_file = \"locked.pem\";\ntargets = ();\n", &errors);
	if (geteuid() == 0) {
		/* root reads anything: the file is usable after all */
		assert_non_null(c);
		assert_string_equal(c->ca_file, "locked.pem");
	} else {
		assert_null(c);
		assert_string_equal(errors,
		    "t.conf:1: ca_file: cannot read \"locked.pem\": Permission denied");
	}
	conf_free(c);
	free(errors);

	/* two bad files, one global, one per target: both reported */
	expect_errors(
	    "ca_file = \"/nonexistent/ca.pem\";\n"
	    "targets = (\n"
	    "  { address = \"a:1\";\n"
	    "    ca_file = \"/\"; }\n"
	    ");\n",
	    "t.conf:1: ca_file: cannot read \"/nonexistent/ca.pem\": No such file or directory\n"
	    "t.conf:4: targets.[0].ca_file: cannot read \"/\": Is a directory");
}

/* ---- how a target holds its strings (conf_target_compact) -------------- */

static const char shared_conf[] =
    "ca_file = \"ca.pem\";\npriority = \"NORMAL\";\n"
    "target_files = [ \"t.json\" ];\n"
    "modules = { own = { ca_file = \"other.pem\"; }; };\n"
    "targets = (\n"
    "  { address = \"a.test:443\"; },\n"
    "  { address = \"b.test:443\"; ca_file = \"ca.pem\"; },\n"
    "  { name = \"c\"; address = \"c.test:443\"; ca_file = \"other.pem\"; server_name = \"s.test\";\n"
    "    labels = { team = \"x\"; env = \"prod\"; }; },\n"
    "  { mail_domain = \"example.org\"; dane = \"off\"; }\n"
    ");\n";

/* What a file target built with c's top level holds. */
static void
check_file_targets(const struct tfiles *tf, const struct conf *c)
{
	const struct conf_target *const *ft;
	size_t n;

	ft = tfiles_targets(tf, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		/* the configuration's copies, readable */
		assert_ptr_equal(ft[i]->ca_file, c->ca_file);
		assert_string_equal(ft[i]->ca_file, "ca.pem");
		assert_ptr_equal(ft[i]->tls.priority, c->tls.priority);
		assert_string_equal(ft[i]->tls.priority, "NORMAL");
		assert_true(ft[i]->held & CONF_HELD_PACKED);
		assert_true(ft[i]->held & CONF_HELD_LABELS);
		assert_int_equal(ft[i]->nlabels, 1);
		assert_string_equal(ft[i]->labels[0].value, "a");
	}
	assert_string_equal(ft[0]->name, "f.test:443");
	assert_string_equal(ft[0]->host, "f.test");
	assert_string_equal(ft[0]->server_name, "f.test");
	assert_string_equal(ft[1]->address, "g.test:443");
}

static void
test_shared_strings(void **state)
{
	const struct conf_target *t;
	const struct conf_module *m;
	struct conf_target pt_t, own;
	struct ptarget pt;
	struct conf *c, *c2, *c3;
	struct tfiles *tf, *tf2, *tf3;

	(void)state;
	write_file("ca.pem", "x\n");
	write_file("other.pem", "y\n");
	write_file("t.json", "[ { \"targets\": [ \"f.test:443\", \"g.test:443\" ], "
	    "\"labels\": { \"team\": \"a\" } } ]\n");
	c = load_ok(shared_conf);
	/* inherited, or written the same: the top level's copy */
	t = &c->targets[0];
	assert_ptr_equal(t->ca_file, c->ca_file);
	assert_ptr_equal(t->tls.priority, c->tls.priority);
	assert_int_equal(t->held & (CONF_HELD_CA_FILE | CONF_HELD_PRIORITY),
	    CONF_HELD_CA_FILE | CONF_HELD_PRIORITY);
	assert_int_equal(t->ca_file_line, 1);
	/* one block; a string equal to an earlier one stored once */
	assert_true(t->held & CONF_HELD_PACKED);
	assert_string_equal(t->name, "a.test:443");
	assert_ptr_equal(t->address, t->name);
	assert_string_equal(t->host, "a.test");
	assert_ptr_equal(t->server_name, t->host);
	t = &c->targets[1];
	assert_ptr_equal(t->ca_file, c->ca_file);
	assert_int_equal(t->ca_file_line, 7);
	/* its own */
	t = &c->targets[2];
	assert_false(t->held & CONF_HELD_CA_FILE);
	assert_string_equal(t->ca_file, "other.pem");
	assert_string_equal(t->name, "c");
	assert_string_equal(t->address, "c.test:443");
	assert_string_equal(t->host, "c.test");
	assert_string_equal(t->server_name, "s.test");
	/* its labels, sorted, in the block too */
	assert_true(t->held & CONF_HELD_LABELS);
	assert_int_equal(t->nlabels, 2);
	assert_string_equal(t->labels[0].name, "env");
	assert_string_equal(t->labels[0].value, "prod");
	assert_string_equal(t->labels[1].name, "team");
	assert_string_equal(t->labels[1].value, "x");
	assert_false(c->targets[0].held & CONF_HELD_LABELS);
	assert_null(c->targets[0].labels);
	t = &c->targets[3];
	assert_int_equal(t->line, 10);
	assert_string_equal(t->mail_domain, "example.org");
	assert_ptr_equal(t->address, t->mail_domain);
	assert_ptr_equal(t->host, t->mail_domain);
	assert_null(t->server_name);
	/* modules: the top level's, or their own */
	assert_ptr_equal(c->top.t.ca_file, c->ca_file);
	m = conf_module_find(c, "own");
	assert_non_null(m);
	assert_false(m->t.held & CONF_HELD_CA_FILE);
	assert_string_equal(m->t.ca_file, "other.pem");
	/* a /probe target: its module's copy */
	assert_null(ptarget_parse("h.test:443", &pt));
	assert_null(ptarget_conf(&pt, "h", m, NULL, NULL, 0, &pt_t));
	ptarget_fini(&pt);
	assert_ptr_equal(pt_t.ca_file, m->t.ca_file);
	assert_true(pt_t.held & CONF_HELD_CA_FILE);
	conf_target_fini(&pt_t);
	assert_string_equal(m->t.ca_file, "other.pem");

	/* file_sd targets hold the top level's copy; a reload builds them
	 * anew with the new configuration, and the old one goes */
	tf = tfiles_new(NULL, c, NULL);
	check_file_targets(tf, c);
	c2 = load_ok(shared_conf);
	tf2 = tfiles_new(NULL, c2, tf);
	tfiles_free(tf);
	conf_free(c);
	check_file_targets(tf2, c2);
	/* broken now: the last good bytes, built with the newest configuration */
	write_file("t.json", "[ { \"targets\": [ \"f.test:443\" ");
	c3 = load_ok(shared_conf);
	tf3 = tfiles_new(NULL, c3, tf2);
	tfiles_free(tf2);
	conf_free(c2);
	check_file_targets(tf3, c3);
	tfiles_free(tf3);
	conf_free(c3);

	/* a target that has no name: the block is the address's */
	memset(&own, 0, sizeof(own));
	own.address = xstrdup("x.test:1");
	own.host = xstrdup("x.test");
	own.server_name = xstrdup("x.test");
	own.ca_file = xstrdup("ca.pem");
	conf_target_compact(&own, NULL, NULL);
	assert_int_equal(own.held, CONF_HELD_PACKED);
	assert_ptr_equal(own.server_name, own.host);
	assert_string_equal(own.ca_file, "ca.pem");
	conf_target_fini(&own);
	assert_null(own.address);
	/* conf_target_for's: each string its own, for the tools to change */
	{
		char *err = NULL;

		assert_int_equal(conf_target_for("y.test:443", NULL, -1, "ca.pem", 1000, NULL,
		    &own, &err), 0);
		assert_int_equal(own.held, 0);
		free(own.name);
		own.name = xstrdup("renamed");
		conf_target_fini(&own);
	}
}

static void
test_file_errors(void **state)
{
	char *errors = NULL;

	(void)state;
	assert_null(conf_load("nonexistent.conf", &errors));
	assert_string_equal(errors, "nonexistent.conf: cannot read: No such file or directory");
	free(errors);

	errors = NULL;
	assert_null(conf_load(".", &errors));
	assert_string_equal(errors, ".: cannot read: Is a directory");
	free(errors);

	expect_errors("targets = ();\ninterval = ;\n", "t.conf:2: syntax error");
	expect_errors("targets = ();\n\ntargets = ();\n", "t.conf:3: duplicate setting name");
}

static void
test_include(void **state)
{
	struct conf *c;
	char *errors = NULL;

	(void)state;
	assert_int_equal(mkdir("inc", 0700), 0);
	write_file("inc/main.conf",
	    "interval = \"1m\";\n"
	    "@include \"targets.inc\"\n");
	write_file("inc/targets.inc",
	    "targets = (\n"
	    "  { address = \"a.example:443\"; }\n"
	    ");\n");
	c = conf_load("inc/main.conf", &errors);
	assert_null(errors);
	assert_non_null(c);
	assert_int_equal(c->ntargets, 1);
	assert_string_equal(c->targets[0].host, "a.example");
	assert_int_equal(c->targets[0].interval_ms, 60000);
	conf_free(c);

	/* an error in the included file names that file and its line */
	write_file("inc/targets.inc",
	    "targets = (\n"
	    "  { address = \"a.example\"; }\n"
	    ");\n");
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/targets.inc:2: targets.[0].address: missing port");
	free(errors);

	/* What libconfig 1.5 cannot read ends the process inside it (flex's
	 * "input in flex scanner failed", exit 2): a directory, above all.
	 * Each is refused before libconfig sees it, with file and line. */
	write_file("inc/targets.inc", "targets = ();\n");
	write_file("inc/main.conf", "interval = \"1m\";\n@include \"sub/\"\n");
	assert_int_equal(mkdir("inc/sub", 0700), 0);
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/main.conf:2: @include \"sub/\": not a regular file");
	free(errors);
	write_file("inc/main.conf", "# a comment\n  @include \"nope.inc\"\n@include \"targets.inc\"\n");
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/main.conf:2: @include \"nope.inc\": No such file or directory");
	free(errors);
	/* libconfig 1.5 puts the directory in front of an absolute name too */
	write_file("inc/main.conf", "@include \"/etc/hostname\"\n");
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/main.conf:1: @include \"/etc/hostname\": an absolute "
	    "name; @include names a file relative to the configuration's directory (inc)");
	free(errors);
	/* nested: the error names the file that holds the line */
	write_file("inc/main.conf", "@include \"targets.inc\"\n");
	write_file("inc/targets.inc", "targets = ();\n@include \"sub\"\n");
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/targets.inc:2: @include \"sub\": not a regular file");
	free(errors);
	/* a file that includes itself stops at libconfig's depth */
	write_file("inc/main.conf", "@include \"main.conf\"\n");
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/main.conf:1: @include \"main.conf\": nested more than 10 deep");
	free(errors);
	/* a NUL byte, which would cut an include name short inside libconfig */
	{
		FILE *f = fopen("inc/main.conf", "w");

		assert_non_null(f);
		fwrite("targets = ();\n\n@include \"sub/\0x\"\n", 1, 31, f);
		fclose(f);
	}
	assert_null(conf_load("inc/main.conf", &errors));
	assert_string_equal(errors, "inc/main.conf:3: a NUL byte: not a text file");
	free(errors);
	/* nor a FIFO as the file itself (it would block, or never end) */
	assert_int_equal(mkfifo("inc/fifo.conf", 0600), 0);
	assert_null(conf_load("inc/fifo.conf", &errors));
	assert_string_equal(errors, "inc/fifo.conf: cannot read: not a regular file");
	free(errors);
	/* an escaped quote in the name, as libconfig reads it */
	write_file("inc/a\"b.inc", "targets = ();\n");
	write_file("inc/main.conf", "@include \"a\\\"b.inc\"\n");
	assert_non_null(c = conf_load("inc/main.conf", &errors));
	assert_null(errors);
	conf_free(c);
}

/* --listen / TLSWATCH_LISTEN: the list replaces the file's addresses, or
 * nothing changes and the error names the bad address. */
static void
test_override_listen(void **state)
{
	static const char *const bad[][2] = {
		{ "127.0.0.1:1,", "\"\": empty address (ADDR[,ADDR...], e.g. \"127.0.0.1:9794\")" },
		{ "127.0.0.1", "\"127.0.0.1\": missing port" },
		{ "127.0.0.1:1,::1:2", "\"::1:2\": IPv6 address must be in brackets" },
		{ "a:1,A:1", "\"A:1\": duplicate address" },
		{ "a:70000", "\"a:70000\": bad port" },
	};
	struct conf *c;
	char *err, *where;
	char many[65 * 16] = "";

	(void)state;
	c = load_ok("listen = \"127.0.0.1:9793\";\ntargets = ();\n");
	where = conf_listen_where(c, 0);
	assert_string_equal(where, "t.conf:1: listen");
	free(where);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err = conf_override_listen(c, bad[i][0], "--listen");
		if (err == NULL || strcmp(err, bad[i][1]) != 0)
			print_error("%s: got %s\n", bad[i][0], err ? err : "success");
		assert_non_null(err);
		assert_string_equal(err, bad[i][1]);
		free(err);
		assert_int_equal(c->nlisten, 1);
		assert_string_equal(c->listen[0].address, "127.0.0.1:9793");
		assert_null(c->listen_origin);
	}
	for (int i = 0; i < 65; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sh:%d",
		    i ? "," : "", 1000 + i);
	err = conf_override_listen(c, many, "--listen");
	assert_string_equal(err, "\"h:1064\": too many addresses (at most 64)");
	free(err);

	assert_null(conf_override_listen(c, "127.0.0.2:9794,[::1]:9795", "TLSWATCH_LISTEN"));
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[0].host, "127.0.0.2");
	assert_int_equal(c->listen[0].port, 9794);
	assert_string_equal(c->listen[1].address, "[::1]:9795");
	assert_string_equal(c->listen[1].host, "::1");
	assert_int_equal(c->listen[1].port, 9795);
	where = conf_listen_where(c, 1);
	assert_string_equal(where, "TLSWATCH_LISTEN \"[::1]:9795\"");
	free(where);
	conf_free(c);
}

static void
test_shard(void **state)
{
	static const char *const bad[][2] = {
		{ "0/3", "K must be between 1 and N" },
		{ "4/3", "K must be between 1 and N" },
		{ "1/0", "N must be between 1 and 4096" },
		{ "1/4097", "N must be between 1 and 4096" },
		{ "3", "must be \"K/N\", e.g. \"1/3\"" },
		{ "a/b", "must be \"K/N\", e.g. \"1/3\"" },
		{ "1/3x", "must be \"K/N\", e.g. \"1/3\"" },
		{ "-1/3", "must be \"K/N\", e.g. \"1/3\"" },
	};
	struct conf *c;
	size_t in[3] = { 0 };
	char text[128], want[160];

	(void)state;
	c = load_ok("targets = ();\n");
	assert_int_equal(c->shard_k, 1);
	assert_int_equal(c->shard_n, 1);
	conf_free(c);
	c = load_ok("shard = \"2/3\";\ntargets = ();\n");
	assert_int_equal(c->shard_k, 2);
	assert_int_equal(c->shard_n, 3);
	conf_free(c);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "targets = ();\nshard = \"%s\";\n", bad[i][0]);
		snprintf(want, sizeof(want), "t.conf:2: shard: %s", bad[i][1]);
		expect_errors(text, want);
	}
	expect_errors("targets = ();\nshard = 3;\n", "t.conf:2: shard: must be a string");

	/* Every name falls in exactly one shard, and the split is even. */
	for (int i = 0; i < 3000; i++) {
		char name[48];
		int shards = 0;

		snprintf(name, sizeof(name), "host-%d.example.com:443", i);
		for (unsigned k = 1; k <= 3; k++)
			if (conf_in_shard(name, k, 3)) {
				in[k - 1]++;
				shards++;
			}
		assert_int_equal(shards, 1);
		assert_true(conf_in_shard(name, 1, 1));
	}
	for (int k = 0; k < 3; k++)
		assert_in_range(in[k], 900, 1100);
	/* The hash is part of the contract (README): FNV-1a 64 of the name,
	 * here a value computed independently of this code. */
	assert_true(hash64("www.debian.org:443", 18) == 0xc3d2d0f8434bd3f4ull);
	assert_true(conf_in_shard("www.debian.org:443", 1 + (unsigned)(0xc3d2d0f8434bd3f4ull % 7), 7));
	assert_false(conf_in_shard("www.debian.org:443", 1 + (unsigned)((0xc3d2d0f8434bd3f4ull + 1) % 7), 7));
}

static void
test_example_config(void **state)
{
	struct conf *c;
	char *errors = NULL;
	size_t labelled = 0;

	(void)state;
	c = conf_load(example_path, &errors);
	if (c == NULL)
		print_error("%s\n", errors);
	assert_non_null(c);
	/* the system store, loaded once for every target */
	assert_non_null(c->targets[0].trust);
	assert_string_equal(c->listen[0].address, "127.0.0.1:9793");
	assert_string_equal(c->state_dir, "/var/lib/tlswatch");
	assert_int_equal(c->interval_ms, 300000);
	assert_int_equal(c->timeout_ms, 10000);
	assert_int_equal(c->concurrency, 64);
	assert_null(c->ca_file);
	assert_true(c->ntargets >= 6);
	for (size_t i = 0; i < c->ntargets; i++) {
		if (c->targets[i].nlabels > 0)
			labelled++;
		if (strcmp(c->targets[i].host, "1.1.1.1") == 0)
			assert_string_equal(c->targets[i].server_name,
			    "cloudflare-dns.com");
	}
	assert_true(labelled >= 1);
	conf_free(c);
}

/* starttls, family, addresses, verify_hostname, priority, client_cert:
 * top-level defaults, per-target values, the port table, the errors. */
static void
test_tlsopts(void **state)
{
	struct conf *c;

	(void)state;
	write_file("c.pem", "x");
	write_file("k.pem", "x");
	c = load_ok("starttls = \"imap\"; addresses = \"all\"; priority = \"NORMAL\";\n"
	    "targets = (\n"
	    "  { address = \"a.test:25\"; },\n"
	    "  { address = \"a.test:587\"; starttls = \"none\"; family = \"ipv6\";\n"
	    "    addresses = \"first\"; verify_hostname = false; priority = \"SECURE256\";\n"
	    "    client_cert = \"c.pem\"; client_key = \"k.pem\"; }\n"
	    ");\n");
	assert_int_equal(c->targets[0].tls.starttls, STARTTLS_IMAP);
	assert_int_equal(c->targets[0].tls.addresses_all, 1);
	assert_int_equal(c->targets[0].tls.family, CONF_FAMILY_ANY);
	assert_int_equal(c->targets[0].tls.verify_hostname, 1);
	assert_string_equal(c->targets[0].tls.priority, "NORMAL");
	assert_null(c->targets[0].tls.client_cert);
	assert_int_equal(c->targets[1].tls.starttls, STARTTLS_NONE);
	assert_int_equal(c->targets[1].tls.family, CONF_FAMILY_IPV6);
	assert_int_equal(c->targets[1].tls.addresses_all, 0);
	assert_int_equal(c->targets[1].tls.verify_hostname, 0);
	assert_string_equal(c->targets[1].tls.priority, "SECURE256");
	assert_string_equal(c->targets[1].tls.client_cert, "c.pem");
	assert_string_equal(c->targets[1].tls.client_key, "k.pem");
	/* conf_parse loads nothing */
	assert_null(c->targets[1].tls.creds);
	assert_null(c->targets[1].trust);
	conf_free(c);

	/* no starttls anywhere: the port decides */
	c = load_ok("targets = ( { address = \"a.test:587\"; }, { address = \"a.test:5432\"; },\n"
	    "  { address = \"a.test:443\"; }, { address = \"a.test:3306\"; } );\n");
	assert_int_equal(c->targets[0].tls.starttls, STARTTLS_SMTP);
	assert_int_equal(c->targets[1].tls.starttls, STARTTLS_POSTGRES);
	assert_int_equal(c->targets[2].tls.starttls, STARTTLS_NONE);
	assert_int_equal(c->targets[3].tls.starttls, STARTTLS_MYSQL);
	conf_free(c);

	expect_errors("targets = (\n"
	    "  { address = \"a.test:25\"; starttls = \"SMTP\"; },\n"
	    "  { address = \"127.0.0.1:25\"; family = \"ipv6\"; },\n"
	    "  { address = \"b.test:25\"; addresses = 2; priority = \"\"; },\n"
	    "  { address = \"c.test:25\"; client_key = \"k.pem\"; verify_hostname = 0; }\n"
	    ");\n",
	    "t.conf:2: targets.[0].starttls: unknown protocol \"SMTP\" (use smtp, lmtp, imap, "
	    "pop3, ftp, ldap, xmpp, sieve, nntp, postgres, mysql, none)\n"
	    "t.conf:3: targets.[1].family: is ipv6 but the address is IPv4\n"
	    "t.conf:4: targets.[2].addresses: must be a string\n"
	    "t.conf:4: targets.[2].priority: must not be empty (leave it out for GnuTLS's default)\n"
	    "t.conf:5: targets.[3].client_cert: missing: client_key needs its certificate\n"
	    "t.conf:5: targets.[3].verify_hostname: must be true or false");
}

/* policy: the target's, else the top level's, else unset (the check then
 * follows the trust store); conf_target_equal tells them apart. */
static void
test_policy(void **state)
{
	char *errors = NULL;
	struct conf *c;

	(void)state;
	c = load("targets = (\n"
	    "  { address = \"a.test:443\"; },\n"
	    "  { address = \"b.test:443\"; policy = \"private\"; },\n"
	    "  { address = \"c.test:443\"; policy = \"public\"; }\n"
	    ");\n", &errors);
	assert_non_null(c);
	assert_int_equal(c->policy, CONF_POLICY_DEFAULT);
	assert_int_equal(c->targets[0].policy, CONF_POLICY_DEFAULT);
	assert_int_equal(c->targets[1].policy, CONF_POLICY_PRIVATE);
	assert_int_equal(c->targets[2].policy, CONF_POLICY_PUBLIC);
	assert_false(conf_target_equal(&c->targets[1], &c->targets[2]));
	conf_free(c);

	c = load("policy = \"private\";\n"
	    "targets = (\n"
	    "  { address = \"a.test:443\"; },\n"
	    "  { address = \"b.test:443\"; policy = \"public\"; }\n"
	    ");\n", &errors);
	assert_non_null(c);
	assert_int_equal(c->policy, CONF_POLICY_PRIVATE);
	assert_int_equal(c->targets[0].policy, CONF_POLICY_PRIVATE);
	assert_int_equal(c->targets[1].policy, CONF_POLICY_PUBLIC);
	conf_free(c);

	expect_errors("policy = \"strict\";\n"
	    "targets = (\n"
	    "  { address = \"a.test:443\"; policy = 1; }\n"
	    ");\n",
	    "t.conf:1: policy: unknown value \"strict\" (use \"public\", \"private\")\n"
	    "t.conf:3: targets.[0].policy: must be a string");
}

/* scan: off unless asked; a group at the top level or per target, its
 * interval 1d unless given, false turns an inherited scan off; the interval
 * must be above the timeout; errors name file, line and setting. */
static void
test_scan(void **state)
{
	char *errors = NULL;
	struct conf *c;

	(void)state;
	c = load("targets = (\n"
	    "  { address = \"a.test:443\"; },\n"
	    "  { address = \"b.test:443\"; scan = { }; },\n"
	    "  { address = \"c.test:443\"; scan = { interval = \"6h\"; }; }\n"
	    ");\n", &errors);
	assert_non_null(c);
	assert_int_equal(c->scan_interval_ms, 0);
	assert_int_equal(c->targets[0].scan_interval_ms, 0);
	assert_int_equal(c->targets[1].scan_interval_ms, 86400ULL * 1000);
	assert_int_equal(c->targets[2].scan_interval_ms, 6ULL * 3600 * 1000);
	assert_false(conf_target_equal(&c->targets[1], &c->targets[2]));
	conf_free(c);

	c = load("scan = { interval = \"12h\"; };\n"
	    "targets = (\n"
	    "  { address = \"a.test:443\"; },\n"
	    "  { address = \"b.test:443\"; scan = false; },\n"
	    "  { address = \"c.test:443\"; scan = true; }\n"
	    ");\n", &errors);
	assert_non_null(c);
	assert_int_equal(c->scan_interval_ms, 12ULL * 3600 * 1000);
	assert_int_equal(c->targets[0].scan_interval_ms, 12ULL * 3600 * 1000);
	assert_int_equal(c->targets[1].scan_interval_ms, 0);
	assert_int_equal(c->targets[2].scan_interval_ms, 86400ULL * 1000);
	conf_free(c);

	expect_errors("scan = \"1d\";\n"
	    "timeout = \"10s\";\n"
	    "targets = (\n"
	    "  { address = \"a.test:443\"; scan = { interval = \"5s\"; }; },\n"
	    "  { address = \"b.test:443\"; scan = { interval = \"soon\"; }; },\n"
	    "  { address = \"c.test:443\"; scan = { every = \"1d\"; }; }\n"
	    ");\n",
	    "t.conf:1: scan: must be a group (scan = { interval = \"1d\"; }) or false\n"
	    "t.conf:4: targets.[0].scan.interval: scan interval (5s) must be above timeout (10s)\n"
	    "t.conf:5: targets.[1].scan.interval: bad duration \"soon\" (use e.g. 90, \"90s\", \"5m\", \"1h\")\n"
	    "t.conf:6: targets.[2].scan.every: unknown setting");
}

/* A self-signed certificate and its key, as PEM files. */
static void
make_pair(const char *cert, const char *key)
{
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	gnutls_datum_t out;
	unsigned char serial[1] = { 7 };
	time_t now = time(NULL);
	FILE *f;

	assert_int_equal(gnutls_x509_privkey_init(&k), 0);
	assert_int_equal(gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(c, now - 60), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(c, now + 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0,
	    "client", 6), 0);
	assert_int_equal(gnutls_x509_crt_set_key(c, k), 0);
	assert_int_equal(gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &out), 0);
	assert_non_null(f = fopen(cert, "w"));
	assert_int_equal(fwrite(out.data, 1, out.size, f), out.size);
	assert_int_equal(fclose(f), 0);
	gnutls_free(out.data);
	assert_int_equal(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &out), 0);
	assert_non_null(f = fopen(key, "w"));
	assert_int_equal(fwrite(out.data, 1, out.size, f), out.size);
	assert_int_equal(fclose(f), 0);
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
}

static int
has_error(const char *errors, const char *prefix, const char *part)
{
	for (const char *p = errors; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		int found = strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, part);

		free(line);
		if (found)
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

/*
 * What only GnuTLS can check is checked by conf_load, every error of the
 * file at once with its file and line: a bad priority on one target, a
 * client key that is no key on another, a CA file without a certificate
 * on a third (once only the last was reported, by the scheduler).
 */
static void
test_tls_material(void **state)
{
	const char *text =
	    "ca_file = \"ca.pem\";\n"                                   /* 1 */
	    "targets = (\n"
	    "  { address = \"a.test:443\"; priority = \"NORMAL:%NOPE\"; },\n"
	    "  { address = \"b.test:443\";\n"
	    "    client_cert = \"client.pem\"; client_key = \"bad.key\"; },\n"  /* 5 */
	    "  { address = \"c.test:443\"; ca_file = \"empty.pem\"; },\n"
	    "  { address = \"d.test:443\";\n"
	    "    client_cert = \"client.pem\"; client_key = \"client.key\"; },\n"
	    "  { address = \"e.test:443\";\n"
	    "    client_cert = \"client.pem\"; client_key = \"bad.key\"; }\n"  /* 10 */
	    ");\n";
	char *errors = NULL;
	struct conf *c;
	size_t lines = 1;

	(void)state;
	make_pair("client.pem", "client.key");
	make_pair("ca.pem", "ca.key");
	write_file("bad.key", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
	write_file("empty.pem", "no certificate here\n");
	write_file("t.conf", text);
	assert_null(conf_load("t.conf", &errors));
	assert_non_null(errors);
	for (const char *p = errors; *p; p++)
		lines += *p == '\n';
	if (!has_error(errors, "t.conf:3: targets.[0].priority: ", "bad priority string at position 8") ||
	    !has_error(errors, "t.conf:5: targets.[1].client_key: ", "cannot load") ||
	    !has_error(errors, "t.conf:6: targets.[2].ca_file: ", "no certificates found in empty.pem") ||
	    !has_error(errors, "t.conf:10: targets.[4].client_key: ", "cannot load") || lines != 4)
		print_error("%s\n", errors);
	assert_true(has_error(errors, "t.conf:3: targets.[0].priority: ",
	    "bad priority string at position 8"));
	assert_true(has_error(errors, "t.conf:5: targets.[1].client_key: ", "cannot load"));
	assert_true(has_error(errors, "t.conf:6: targets.[2].ca_file: ",
	    "no certificates found in empty.pem"));
	/* the same bad pair written again is the same mistake in another place */
	assert_true(has_error(errors, "t.conf:10: targets.[4].client_key: ", "cannot load"));
	assert_int_equal(lines, 4);
	free(errors);

	/* good material: loaded once, shared by every target naming it */
	errors = NULL;
	write_file("t.conf",
	    "ca_file = \"ca.pem\"; client_cert = \"client.pem\"; client_key = \"client.key\";\n"
	    "targets = ( { address = \"a.test:443\"; },\n"
	    "  { address = \"b.test:443\"; client_key = \"client.key\"; },\n"
	    "  { address = \"c.test:443\"; ca_file = \"ca.pem\"; } );\n");
	c = conf_load("t.conf", &errors);
	if (c == NULL)
		print_error("%s\n", errors);
	assert_non_null(c);
	assert_non_null(c->targets[0].trust);
	assert_ptr_equal(c->targets[0].trust, c->targets[1].trust);
	assert_ptr_equal(c->targets[0].trust, c->targets[2].trust);
	assert_non_null(c->targets[0].tls.creds);
	assert_ptr_equal(c->targets[0].tls.creds, c->targets[1].tls.creds);
	assert_true(c->targets[0].tls.client_not_after > time(NULL));
	conf_free(c);
}

/* dane, dnssec and mail_domain targets. */
static void
test_dane_mail(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "dane = \"on\";\ntargets = ();\n",
		  "t.conf:1: dane: \"on\" needs a validating resolver whose answers count: "
		  "dnssec = { resolver = \"127.0.0.1:53\"; }" },
		{ "dane = \"yes\";\ntargets = ();\n",
		  "t.conf:1: dane: unknown value \"yes\" (use \"auto\", \"on\", \"off\")" },
		{ "dnssec = { resolver = \"localhost:53\"; };\ntargets = ();\n",
		  "t.conf:1: dnssec.resolver: \"localhost\" is not an IP address: a resolver is "
		  "not looked up by name" },
		{ "dnssec = { };\ntargets = ();\n",
		  "t.conf:1: dnssec.resolver: missing required setting" },
		{ "dnssec = { resolver = \"127.0.0.1:53\"; port = 5; };\ntargets = ();\n",
		  "t.conf:1: dnssec.port: unknown setting" },
		{ "dnssec = { resolver = (); };\ntargets = ();\n",
		  "t.conf:1: dnssec.resolver: must list 1 to 8 addresses" },
		{ "targets = (\n{ address = \"a:1\";\n dane = \"on\"; }\n);\n",
		  "t.conf:3: targets.[0].dane: dane = \"on\" needs a validating resolver whose "
		  "answers count: dnssec = { resolver = \"127.0.0.1:53\"; }" },
		{ "targets = (\n{ mail_domain = \"example.org\"; }\n);\n",
		  "t.conf:2: targets.[0].mail_domain: a mail domain checks DANE, which needs a "
		  "validating resolver whose answers count: dnssec = { resolver = "
		  "\"127.0.0.1:53\"; }, or dane = \"off\"" },
		{ "targets = (\n{ mail_domain = \"example.org\"; dane = \"off\";\n"
		  "  address = \"a:25\"; }\n);\n",
		  "t.conf:3: targets.[0].address: a target has an address or a mail_domain, not both" },
		{ "targets = (\n{ mail_domain = \"1.2.3.4\"; dane = \"off\"; }\n);\n",
		  "t.conf:2: targets.[0].mail_domain: bad mail domain \"1.2.3.4\" (use a domain "
		  "name, e.g. \"example.org\")" },
		{ "targets = (\n{ mail_domain = \"a b.org\"; dane = \"off\"; }\n);\n",
		  "t.conf:2: targets.[0].mail_domain: bad mail domain \"a b.org\" (use a domain "
		  "name, e.g. \"example.org\")" },
		{ "targets = (\n{ mail_domain = \"x.org\"; dane = \"off\";\n"
		  "  server_name = \"x.org\"; }\n);\n",
		  "t.conf:3: targets.[0].server_name: not for a mail domain: its MX hosts are probed "
		  "and checked by their own names" },
		{ "targets = (\n{ mail_domain = \"x.org\"; dane = \"off\";\n"
		  "  starttls = \"none\"; }\n);\n",
		  "t.conf:3: targets.[0].starttls: not for a mail domain: its MX hosts are probed "
		  "with STARTTLS smtp (implicit TLS on port 465)" },
		{ "targets = (\n{ mail_domain = \"x.org\"; dane = \"off\";\n"
		  "  ports = (25, 25); }\n);\n",
		  "t.conf:3: targets.[0].ports.[1]: port 25 is listed twice" },
		{ "targets = (\n{ mail_domain = \"x.org\"; dane = \"off\";\n"
		  "  ports = (25, 0); }\n);\n",
		  "t.conf:3: targets.[0].ports.[1]: must be between 1 and 65535" },
		{ "targets = (\n{ mail_domain = \"x.org\"; dane = \"off\";\n"
		  "  ports = 25; }\n);\n",
		  "t.conf:3: targets.[0].ports: must be a list of ports, e.g. (25, 465, 587)" },
		{ "targets = (\n{ address = \"a:25\";\n  ports = (25); }\n);\n",
		  "t.conf:3: targets.[0].ports: only for a mail_domain target (an address names "
		  "its port)" },
	};
	struct conf *c;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_errors(cases[i].text, cases[i].err);

	/* defaults: auto everywhere, no resolver */
	c = load_ok("targets = ( { address = \"a:443\"; } );\n");
	assert_int_equal(c->dane, CONF_DANE_AUTO);
	assert_int_equal(c->ndnssec_resolvers, 0);
	assert_int_equal(c->targets[0].dane, CONF_DANE_AUTO);
	assert_null(c->targets[0].mail_domain);
	conf_free(c);

	c = load_ok("dnssec = { resolver = (\"127.0.0.1:53\", \"[::1]:5353\"); };\n"
	    "dane = \"off\";\n"
	    "targets = (\n"
	    "  { address = \"a:443\"; },\n"
	    "  { address = \"b:25\"; dane = \"on\"; },\n"
	    "  { mail_domain = \"Example.ORG.\"; labels = { team = \"mail\"; }; },\n"
	    "  { mail_domain = \"sub.example.org\"; name = \"sub\"; dane = \"auto\";\n"
	    "    ports = (587, 465, 25); }\n"
	    ");\n");
	assert_int_equal(c->ndnssec_resolvers, 2);
	assert_string_equal(c->dnssec_resolvers[0], "127.0.0.1:53");
	assert_string_equal(c->dnssec_resolvers[1], "[::1]:5353");
	assert_int_equal(c->dane, CONF_DANE_OFF);
	assert_int_equal(c->targets[0].dane, CONF_DANE_OFF);
	assert_int_equal(c->targets[1].dane, CONF_DANE_ON);
	/* a mail domain: its name by default, DANE on, port 25, STARTTLS smtp,
	 * every address */
	assert_string_equal(c->targets[2].name, "example.org");
	assert_string_equal(c->targets[2].mail_domain, "example.org");
	assert_string_equal(c->targets[2].host, "example.org");
	assert_null(c->targets[2].server_name);
	assert_int_equal(c->targets[2].dane, CONF_DANE_ON);
	assert_int_equal(c->targets[2].nports, 1);
	assert_int_equal(c->targets[2].ports[0], 25);
	assert_int_equal(c->targets[2].tls.starttls, STARTTLS_SMTP);
	assert_int_equal(c->targets[2].tls.addresses_all, 1);
	assert_int_equal(c->targets[2].nlabels, 1);
	assert_string_equal(c->targets[3].name, "sub");
	assert_int_equal(c->targets[3].dane, CONF_DANE_AUTO);
	assert_int_equal(c->targets[3].nports, 3);
	assert_int_equal(c->targets[3].ports[0], 587);
	assert_int_equal(c->targets[3].ports[1], 465);
	assert_int_equal(c->targets[3].port, 587);
	assert_int_equal(conf_mail_starttls(465), STARTTLS_NONE);
	assert_int_equal(conf_mail_starttls(587), STARTTLS_SMTP);
	assert_true(conf_target_is_smtp(&c->targets[1]));
	assert_false(conf_target_is_smtp(&c->targets[0]));
	assert_string_equal(conf_dane_name(CONF_DANE_ON), "on");
	/* a reload sees a changed dane or ports as a changed target */
	assert_true(conf_target_equal(&c->targets[2], &c->targets[2]));
	c->targets[2].dane = CONF_DANE_OFF;
	{
		struct conf *d = load_ok("dnssec = { resolver = \"127.0.0.1:53\"; };\n"
		    "targets = ( { mail_domain = \"sub.example.org\"; name = \"sub\";\n"
		    "  dane = \"auto\"; ports = (587, 465); } );\n");

		assert_false(conf_target_equal(&c->targets[3], &d->targets[0]));
		d->targets[0].ports = xreallocarray(d->targets[0].ports, 3, sizeof(uint16_t));
		d->targets[0].ports[2] = 25;
		d->targets[0].nports = 3;
		assert_true(conf_target_equal(&c->targets[3], &d->targets[0]));
		conf_free(d);
	}
	conf_free(c);
}

int
main(void)
{
	const char *srcdir = getenv("TEST_SRCDIR");
	char *rel = srcdir ? xasprintf("%s/../etc/tlswatchd.conf", srcdir) :
	    xstrdup("etc/tlswatchd.conf");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_ok),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_top_level_inherited),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_duplicate_names),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_server_name),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_shared_strings),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_shard),
		cmocka_unit_test(test_override_listen),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_tlsopts),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_tls_material),
		cmocka_unit_test(test_web_limits),
		cmocka_unit_test(test_dane_mail),
		cmocka_unit_test(test_probe_settings),
	};
	int failed;

	/* resolved now: the tests run from a temporary directory */
	example_path = realpath(rel, NULL);
	if (example_path == NULL) {
		fprintf(stderr, "%s: %s\n", rel, strerror(errno));
		free(rel);
		return 1;
	}
	free(rel);
	failed = cmocka_run_group_tests(tests, setup, teardown);
	free(example_path);
	return failed;
}
