/*
 * tlswatch.c - the command-line tool: `check` probes one endpoint with the
 * daemon's own probe code and answers as a monitoring plugin; `show` reads
 * the daemon's state directory; `hash-password` prints a hash for the
 * web block's basic_auth_users.
 *
 * Certificate fields are chosen by whoever runs the server: everything from
 * a certificate or a state file goes through term_puts before it reaches a
 * terminal, so no escape sequence or newline gets through.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "serve/auth.h"
#include "verdict/certinfo.h"
#include "verdict/certs.h"
#include "verdict/chain.h"
#include "verdict/fetchrun.h"
#include "verdict/policy.h"
#include "verdict/verdict.h"
#include "checkmail.h"
#include "conf/conf.h"
#include "conf/tlsctx.h"
#include "serve/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/scan.h"
#include "probe/starttls.h"
#include "serve/status.h"
#include "state/store.h"
#include "result.h"
#include "probe/tls.h"
#include "core/util.h"

/* Monitoring-plugins exit statuses. */
enum { PLUGIN_OK, PLUGIN_WARNING, PLUGIN_CRITICAL, PLUGIN_UNKNOWN };
static const char *const plugin_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

#define CHECK_DEFAULT_TIMEOUT_MS (10 * 1000)

/* ------------------------------------------------------------ output */

static void
term_puts(FILE *f, const char *s)
{
	struct buf b;

	buf_init(&b);
	term_escape(&b, s);
	if (b.data)
		fputs(b.data, f);
	buf_free(&b);
}

static void
print_names(FILE *f, uint64_t bits, int issues)
{
	struct buf b;

	buf_init(&b);
	verdict_words_join(&b, issues ? VERDICT_CHAIN_ISSUE : VERDICT_REASON, bits, ", ", "-");
	fputs(b.data, f);
	buf_free(&b);
}

static void
print_cert(FILE *f, size_t depth, const struct cert *ci, double now)
{
	char nb[64], na[64];

	fmt_utc(nb, sizeof(nb), (double)ci->not_before);
	fmt_utc(na, sizeof(na), (double)ci->not_after);
	fprintf(f, "Certificate %zu\n  Subject:    ", depth);
	term_puts(f, ci->subject);
	fputs("\n  Issuer:     ", f);
	term_puts(f, ci->issuer);
	fprintf(f, "\n  Validity:   %s to %s (%.1f days left)\n", nb, na,
	    ((double)ci->not_after - now) / 86400.0);
	fputs("  Key:        ", f);
	term_puts(f, ci->key_type);
	if (ci->key_curve) {
		fputc(' ', f);
		term_puts(f, ci->key_curve);
	}
	fprintf(f, ", %u bits%s\n  Signature:  ", ci->key_bits, ci->is_ca ? " (CA)" : "");
	term_puts(f, ci->sig_alg);
	fputs("\n  SANs:       ", f);
	for (size_t i = 0; i < ci->nsans; i++) {
		if (i)
			fputs(", ", f);
		term_puts(f, ci->sans[i]);
	}
	if (ci->nsans == 0)
		fputc('-', f);
	fputs("\n  Serial:     ", f);
	term_puts(f, ci->serial);
	fprintf(f, "\n  SHA-256:    %s\n", ci->sha256);
}

static void
print_pem(FILE *f, size_t depth, const char *subject, const unsigned char *der, size_t len)
{
	char *pem = certinfo_pem(der, len);

	/* PEM readers skip text outside the BEGIN/END lines */
	fprintf(f, "# depth %zu: ", depth);
	term_puts(f, subject);
	fputc('\n', f);
	if (pem)
		fputs(pem, f);
	free(pem);
}

/* ------------------------------------------------------------ check */

static void
check_usage(FILE *f)
{
	fputs("usage: tlswatch check HOST:PORT | -H HOST [-p PORT] | --file PEM\n"
	    "                      [-S NAME] [--starttls PROTO] [--cafile FILE]\n"
	    "                      [--policy public|private] [-w 21d] [-c 7d] [-t 10s]\n"
	    "                      [-4|-6] [--client-cert FILE --client-key FILE]\n"
	    "                      [--priority STRING] [--no-verify-hostname]\n"
	    "                      [--scan] [--json] [--pem] [-q] [--no-fetch]\n"
	    "                      [--acme-directory URL]\n"
	    "       tlswatch check --mail-domain DOMAIN [--ports 25,465,587]\n"
	    "                      [--resolver ADDRESS] [--cafile FILE] [--policy ...]\n"
	    "                      [-w 21d] [-c 7d] [-t 10s]\n"
	    "Probe one TLS endpoint as tlswatchd does (or judge a local chain file) and\n"
	    "print the presented chain and the verdict. The first line and the exit\n"
	    "status follow the monitoring plugins convention: 0 OK, 1 WARNING,\n"
	    "2 CRITICAL, 3 UNKNOWN.\n"
	    "  -H, --host HOST          the host (a name or an IP address), with -p\n"
	    "  -p, --port PORT          its port (default 443)\n"
	    "  --file PEM               judge the chain in a PEM file, leaf first, with\n"
	    "                           no network: chain, trust, name (-S) and expiry\n"
	    "  -S, --servername NAME    SNI and name to verify (default: HOST when a name)\n"
	    "  --starttls PROTO         negotiate TLS with STARTTLS first\n"
	    "  --cafile FILE            trust anchors (default: the system trust store)\n"
	    "  --policy POLICY          the rules the verdict holds the chain to: public\n"
	    "                           (the Web PKI's) or private (what every client\n"
	    "                           enforces); default public, private with --cafile\n"
	    "  -w, --warn DURATION      WARNING when the chain expires within it (21d),\n"
	    "                           or with less than a fraction of its lifetime\n"
	    "                           left (33%)\n"
	    "  -c, --crit DURATION      CRITICAL when it expires within it (7d), or 10%\n"
	    "  -t, --timeout DURATION   the whole probe (default 10s)\n"
	    "  -4, -6                   connect over IPv4 or IPv6 only\n"
	    "  --client-cert FILE       present this client certificate (PEM) ...\n"
	    "  --client-key FILE        ... with this key (PEM); both or neither\n"
	    "  --priority STRING        GnuTLS priority string for the handshake\n"
	    "  --no-verify-hostname     verify the chain but not the name\n"
	    "  --scan                   also try TLS 1.0, 1.1, 1.2 and 1.3 one at a time;\n"
	    "                           TLS 1.0 or 1.1 accepted makes an OK a WARNING\n"
	    "  --json                   print a JSON object instead (see tlswatch(1))\n"
	    "  --pem                    print the presented chain as PEM\n"
	    "  -q, --quiet              print the first line only\n"
	    "  --no-fetch               no CRL, OCSP, renewal information or caIssuers\n"
	    "                           fetches (a stapled OCSP response is still judged)\n"
	    "  --acme-directory URL     an ACME directory to ask for renewal information\n"
	    "                           (RFC 9773); may be given several times\n"
	    "  --mail-domain DOMAIN     every MX host of DOMAIN on every port at every\n"
	    "                           address, DANE (with --resolver), MTA-STS, TLS-RPT\n"
	    "  --ports LIST             the MX hosts' ports (default 25)\n"
	    "  --resolver ADDRESS       a validating resolver, IP:PORT, whose AD bit\n"
	    "                           counts (DANE)\n"
	    "  -h, --help               this help\n", f);
}

static int unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --json was asked (set before the options are read, so a bad option
 * before it is answered in JSON too). */
static int unknown_json;

/* The first line for anything that prevents a probe, or with --json the
 * object saying so; arguments are the user's own, but still escaped for
 * the terminal. */
static int
unknown(const char *fmt, ...)
{
	struct buf b, j;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (unknown_json) {
		buf_init(&j);
		buf_putc(&j, '{');
		json_key(&j, "status", 1);
		json_str(&j, "UNKNOWN");
		json_key(&j, "exit", 0);
		json_int(&j, PLUGIN_UNKNOWN);
		json_key(&j, "summary", 0);
		json_str(&j, b.data ? b.data : "");
		buf_puts(&j, "}\n");
		fputs(j.data, stdout);
		buf_free(&j);
	} else {
		printf("TLS UNKNOWN - ");
		term_puts(stdout, b.data);
		printf("\n");
	}
	buf_free(&b);
	return PLUGIN_UNKNOWN;
}

/* What `tlswatch check` was asked. */
struct check_opts {
	const char *address;       /* HOST:PORT, or made of -H and -p (address_buf) */
	const char *servername;
	const char *cafile;
	const char *file;          /* --file: a chain file, no network */
	const char *client_cert, *client_key, *priority;
	int policy;                /* enum conf_policy */
	int starttls;              /* enum starttls_proto; -1: the port's */
	int family;                /* enum conf_family */
	struct threshold warn, crit;
	uint64_t timeout_ms;
	int json, pem, scan, quiet, no_verify_hostname;
	int no_fetch;
	char *acme[8];             /* --acme-directory, borrowed from argv */
	size_t nacme;
	const char *mail_domain;   /* --mail-domain: checkmail.c's */
	const char *resolver;
	uint16_t ports[CONF_MAX_MAIL_PORTS];
	size_t nports;
	char address_buf[300];
};

/* Long options without a short one. */
enum {
	OPT_STARTTLS = 256, OPT_CAFILE, OPT_POLICY, OPT_JSON, OPT_PEM, OPT_FILE,
	OPT_CLIENT_CERT, OPT_CLIENT_KEY, OPT_PRIORITY, OPT_NO_VERIFY_HOSTNAME, OPT_SCAN,
	OPT_NO_FETCH, OPT_ACME_DIRECTORY, OPT_MAIL_DOMAIN, OPT_PORTS, OPT_RESOLVER,
};

/* --ports 25,465,587 into o. 0, or -1. */
static int
check_ports(const char *s, struct check_opts *o)
{
	while (*s) {
		char *end;
		unsigned long p = strtoul(s, &end, 10);

		if (end == s || p < 1 || p > 65535 || o->nports == CONF_MAX_MAIL_PORTS ||
		    (*end != ',' && *end != '\0'))
			return -1;
		o->ports[o->nports++] = (uint16_t)p;
		s = *end ? end + 1 : end;
	}
	return o->nports ? 0 : -1;
}

/* 0: go on; 1: done (help printed); -1: bad arguments (UNKNOWN printed). */
static int
check_options(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "servername", required_argument, NULL, 'S' },
		{ "starttls", required_argument, NULL, OPT_STARTTLS },
		{ "cafile", required_argument, NULL, OPT_CAFILE },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "warn", required_argument, NULL, 'w' },
		{ "crit", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "pem", no_argument, NULL, OPT_PEM },
		{ "quiet", no_argument, NULL, 'q' },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "client-cert", required_argument, NULL, OPT_CLIENT_CERT },
		{ "client-key", required_argument, NULL, OPT_CLIENT_KEY },
		{ "priority", required_argument, NULL, OPT_PRIORITY },
		{ "no-verify-hostname", no_argument, NULL, OPT_NO_VERIFY_HOSTNAME },
		{ "scan", no_argument, NULL, OPT_SCAN },
		{ "no-fetch", no_argument, NULL, OPT_NO_FETCH },
		{ "acme-directory", required_argument, NULL, OPT_ACME_DIRECTORY },
		{ "mail-domain", required_argument, NULL, OPT_MAIL_DOMAIN },
		{ "ports", required_argument, NULL, OPT_PORTS },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum starttls_proto proto;
	const char *host = NULL, *port = NULL;
	int ch;

	*o = (struct check_opts){ .starttls = -1, .warn = CONF_DEFAULT_WARN,
		.crit = CONF_DEFAULT_CRIT, .timeout_ms = CHECK_DEFAULT_TIMEOUT_MS };
	opterr = 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			unknown_json = 1;
	while ((ch = getopt_long(argc, argv, "H:p:S:w:c:t:46qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'S':
			o->servername = optarg;
			break;
		case '4':
			o->family = CONF_FAMILY_IPV4;
			break;
		case '6':
			o->family = CONF_FAMILY_IPV6;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_FILE:
			o->file = optarg;
			break;
		case OPT_CLIENT_CERT:
			o->client_cert = optarg;
			break;
		case OPT_CLIENT_KEY:
			o->client_key = optarg;
			break;
		case OPT_PRIORITY:
			o->priority = optarg;
			break;
		case OPT_NO_VERIFY_HOSTNAME:
			o->no_verify_hostname = 1;
			break;
		case OPT_STARTTLS:
			if (starttls_from_name(optarg, &proto) == -1) {
				unknown("bad --starttls %s (smtp, lmtp, imap, pop3, ftp, ldap, xmpp, "
				    "sieve, nntp, postgres, mysql or none)", optarg);
				return -1;
			}
			o->starttls = (int)proto;
			break;
		case OPT_CAFILE:
			o->cafile = optarg;
			break;
		case OPT_POLICY:
			if (strcmp(optarg, "public") == 0)
				o->policy = CONF_POLICY_PUBLIC;
			else if (strcmp(optarg, "private") == 0)
				o->policy = CONF_POLICY_PRIVATE;
			else {
				unknown("bad --policy %s (public or private)", optarg);
				return -1;
			}
			break;
		case 'w':
			if (threshold_parse(optarg, &o->warn) == -1) {
				unknown("bad --warn duration or fraction: %s", optarg);
				return -1;
			}
			break;
		case 'c':
			if (threshold_parse(optarg, &o->crit) == -1) {
				unknown("bad --crit duration or fraction: %s", optarg);
				return -1;
			}
			break;
		case 't':
			if (parse_duration_ms(optarg, &o->timeout_ms) == -1) {
				unknown("bad --timeout duration: %s", optarg);
				return -1;
			}
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_PEM:
			o->pem = 1;
			break;
		case OPT_SCAN:
			o->scan = 1;
			break;
		case OPT_NO_FETCH:
			o->no_fetch = 1;
			break;
		case OPT_ACME_DIRECTORY:
			if (o->nacme == ARRAY_SIZE(o->acme)) {
				unknown("at most %zu --acme-directory", ARRAY_SIZE(o->acme));
				return -1;
			}
			o->acme[o->nacme++] = optarg;
			break;
		case OPT_MAIL_DOMAIN:
			o->mail_domain = optarg;
			break;
		case OPT_PORTS:
			if (check_ports(optarg, o) == -1) {
				unknown("bad --ports %s (1 to %d ports, e.g. 25,465,587)", optarg,
				    CONF_MAX_MAIL_PORTS);
				return -1;
			}
			break;
		case OPT_RESOLVER:
			o->resolver = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 1;
		default:
			unknown("bad arguments (see tlswatch check --help): %s", argv[optind - 1]);
			return -1;
		}
	}
	if (o->mail_domain != NULL) {
		if (host || o->file || optind != argc || o->servername || o->starttls != -1 ||
		    o->json || o->pem || o->scan) {
			unknown("bad arguments: --mail-domain takes no HOST:PORT, -H, --file, "
			    "--servername, --starttls, --scan, --json or --pem%s", "");
			return -1;
		}
	} else if (o->nports || o->resolver) {
		unknown("bad arguments: --ports and --resolver go with --mail-domain%s", "");
		return -1;
	} else if ((host != NULL) + (o->file != NULL) + (optind < argc) != 1 ||
	    optind + 1 < argc || (port && !host)) {
		unknown("bad arguments: one of HOST:PORT, -H HOST [-p PORT] or --file PEM "
		    "wanted%s", " (see tlswatch check --help)");
		return -1;
	}
	if ((o->client_cert == NULL) != (o->client_key == NULL)) {
		unknown("--client-cert and --client-key go together%s", "");
		return -1;
	}
	if (host) {
		/* an IPv6 literal gets its brackets */
		snprintf(o->address_buf, sizeof(o->address_buf), strchr(host, ':') ? "[%s]:%s" :
		    "%s:%s", host, port ? port : "443");
		o->address = o->address_buf;
	} else if (o->file) {
		/* no host: the name the chain is judged for is -S's, else none */
		o->address = "127.0.0.1:443";
	} else if (o->mail_domain == NULL) {
		o->address = argv[optind];
	}
	if (o->file && o->scan) {
		unknown("--scan probes an endpoint; not with --file%s", "");
		return -1;
	}
	if (!threshold_in_order(&o->warn, &o->crit)) {
		unknown("--crit must not be above --warn%s", "");
		return -1;
	}
	return 0;
}

struct check_run {
	struct loop *loop;
	struct result *r;
};

static void
check_done(void *arg, struct result *r)
{
	struct check_run *run = arg;

	run->r = r;
	loop_stop(run->loop);
}

/* --scan: one probe per TLS version, all at once, each under the timeout. */
struct scan_run {
	struct loop *loop;
	struct conf_target ct[SCAN_NVERSIONS];
	struct result *r[SCAN_NVERSIONS];
	struct scan_one {
		struct scan_run *run;
		unsigned v;
	} one[SCAN_NVERSIONS];
	unsigned pending;
	enum scan_answer answer[SCAN_NVERSIONS];
};

static void
scan_done(void *arg, struct result *r)
{
	struct scan_one *o = arg;

	o->run->r[o->v] = r;
	if (--o->run->pending == 0)
		loop_stop(o->run->loop);
}

static int
scan_run(struct scan_run *s, struct loop *l, struct resolver *res, const struct conf_target *ct)
{
	memset(s, 0, sizeof(*s));
	s->loop = l;
	s->pending = SCAN_NVERSIONS;
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++) {
		scan_target(ct, v, &s->ct[v]);
		s->one[v].run = s;
		s->one[v].v = v;
		probe_start(l, res, &s->ct[v], ct->trust, NULL, scan_done, &s->one[v]);
	}
	while (s->pending > 0)
		if (loop_run(l) == -1)
			return -1;
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++) {
		s->answer[v] = scan_answer(s->r[v], v);
		result_free(s->r[v]);
		s->r[v] = NULL;
	}
	return 0;
}

/* One probe of ct with the daemon's code, unless o->no_fetch the fetches
 * its revocation, renewal and AIA checks ask for (each bounded by
 * --timeout, all of them by three times that), then the scan when sr is
 * not NULL; NULL with *err when the loop or the resolver cannot be set up
 * or the loop fails. */
static struct result *
check_run(const struct conf_target *ct, const struct check_opts *o, struct scan_run *sr,
    char **err)
{
	struct check_run run = { NULL, NULL };
	struct resolver *res = NULL;
	struct fetchrun *fr = NULL;
	struct cadata_settings cs = { CONF_DEFAULT_REVOCATION_REFRESH_MS, o->acme, o->nacme };

	if ((run.loop = loop_new()) == NULL || (res = resolver_new(run.loop, err)) == NULL ||
	    (!o->no_fetch && (fr = fetchrun_start(run.loop, &cs, o->timeout_ms, err)) == NULL)) {
		resolver_free(res);
		loop_free(run.loop);
		if (*err == NULL)
			*err = xstrdup("cannot set up the event loop");
		return NULL;
	}
	{
		struct probe_opts po = { .trust = ct->trust, .creds = ct->tls.creds };

		(void)probe_start_ex(run.loop, res, ct, &po, check_done, &run);
	}
	while (run.r == NULL)
		if (loop_run(run.loop) == -1)
			break;
	if (fr && run.r && run.r->success)
		fetchrun_settle(fr, ct, &run.r->verdict, 3 * o->timeout_ms);
	if (run.r != NULL && sr != NULL && scan_run(sr, run.loop, res, ct) == -1) {
		result_free(run.r);
		run.r = NULL;
	}
	fetchrun_free(fr);
	resolver_free(res);
	loop_free(run.loop);
	if (run.r == NULL)
		*err = xstrdup("the event loop failed");
	return run.r;
}

/* What the check says of r: the plugin status, the first line's summary and
 * performance data, the expiry judged by. The status page's classification
 * decides (status_classify), so the tool and the page agree. */
struct check_verdict {
	int status;
	char summary[512];
	char perf[128];
	int64_t expiry;
	int64_t lifetime;          /* of the certificate expiry is of; 0: unknown */
	double left;               /* days */
};

/* " (expected NAME; the certificate names DNS:a, DNS:b)": a hostname
 * mismatch says what was asked and what is there. */
static void
mismatch_text(struct buf *b, const char *expected, const struct cert *leaf)
{
	buf_printf(b, " (expected %s; the certificate names ", expected ? expected : "?");
	if (leaf->nsans == 0)
		buf_printf(b, "no subjectAltName; subject %s", leaf->subject ? leaf->subject : "");
	for (size_t i = 0; i < leaf->nsans; i++)
		buf_printf(b, "%s%s", i ? ", " : "", leaf->sans[i]);
	buf_putc(b, ')');
}

/* Performance data: days left ("U" when known is 0) and the thresholds in
 * days for this lifetime, empty for a fraction of an unknown lifetime. */
static void
perf_days(char *out, size_t size, int known, double days, const struct threshold *warn,
    const struct threshold *crit, int64_t lifetime)
{
	char t[2][32];
	const struct threshold *th[2] = { warn, crit };

	for (size_t i = 0; i < 2; i++) {
		double secs = threshold_seconds(th[i], lifetime);

		if (secs < 0)
			t[i][0] = '\0';
		else if (secs / 86400.0 == (double)(long long)(secs / 86400.0))
			snprintf(t[i], sizeof(t[i]), "%.0f", secs / 86400.0);
		else
			snprintf(t[i], sizeof(t[i]), "%.2f", secs / 86400.0);
	}
	if (!known)
		snprintf(out, size, "days_left=U;%s;%s", t[0], t[1]);
	else
		snprintf(out, size, "days_left=%.2f;%s;%s", days, t[0], t[1]);
}

/* The scan's part of the verdict: TLS 1.0 or 1.1 accepted makes an OK a
 * WARNING and says so. */
static void
check_judge_scan(const struct scan_run *sr, struct check_verdict *cv)
{
	size_t len = strlen(cv->summary);

	if (sr == NULL || !scan_legacy(sr->answer))
		return;
	if (cv->status == PLUGIN_OK)
		cv->status = PLUGIN_WARNING;
	snprintf(cv->summary + len, sizeof(cv->summary) - len, "; legacy TLS (1.0 or 1.1) accepted");
}

static void
check_judge(const struct conf_target *ct, const struct result *r, const struct check_opts *o,
    const struct scan_run *sr, double now, struct check_verdict *cv)
{
	struct status_view v = { NULL, o->warn, o->crit, now, NULL };
	struct status_entry e = { .name = ct->name, .r = r, .conf = ct };
	enum status_state st = status_classify(&e, &v, &cv->expiry);
	char when[64];

	cv->status = st == STATUS_OK ? PLUGIN_OK : st == STATUS_WARN ? PLUGIN_WARNING :
	    PLUGIN_CRITICAL;
	cv->lifetime = 0;
	if (!r->success) {
		snprintf(cv->summary, sizeof(cv->summary), "%s: %s failed: %s (%s)", ct->name,
		    r->fail_stage, r->fail_reason, r->fail_detail ? r->fail_detail : "");
		perf_days(cv->perf, sizeof(cv->perf), 0, 0, &o->warn, &o->crit, 0);
		check_judge_scan(sr, cv);
		return;
	}
	cv->lifetime = expiry_lifetime(r->certs, r->ncerts, cv->expiry);
	cv->left = ((double)cv->expiry - now) / 86400.0;
	fmt_utc(when, sizeof(when), (double)cv->expiry);
	if (!r->verdict.verified) {
		struct buf why;

		buf_init(&why);
		verdict_words_join(&why, VERDICT_REASON, r->verdict.reasons, ",", NULL);
		if ((r->verdict.reasons & REASON(HOSTNAME_MISMATCH)) && r->ncerts > 0)
			mismatch_text(&why, conf_target_check_name(ct), r->certs[0]);
		snprintf(cv->summary, sizeof(cv->summary), "%s: chain does not verify: %s",
		    ct->name, why.data ? why.data : "other");
		buf_free(&why);
	} else {
		snprintf(cv->summary, sizeof(cv->summary),
		    "%s: chain verified, expires in %.1f days (%s)", ct->name, cv->left, when);
	}
	perf_days(cv->perf, sizeof(cv->perf), 1, cv->left, &o->warn, &o->crit, cv->lifetime);
	check_judge_scan(sr, cv);
}

static void
text_finding(void *arg, const char *check, const char *line)
{
	int *n = arg;

	if ((*n)++ == 0)
		printf("Findings:\n");
	printf("  ");
	term_puts(stdout, check);
	printf(": ");
	term_puts(stdout, line);
	printf("\n");
}

/* The policy check's facts of the certificate at depth: its metric words,
 * its lifetime and, for the leaf, its SCTs by source. */
static void
print_policy(FILE *f, const struct policy_result *pr, size_t depth)
{
	const struct policy_cert *c;

	if (pr == NULL || depth >= pr->n)
		return;
	c = &pr->certs[depth];
	fprintf(f, "  Policy:     key %s %u bits, signature %s, lifetime ", c->key_type,
	    c->key_bits, c->sig_alg);
	if (c->lifetime > 0)
		fprintf(f, "%.1f days\n", (double)c->lifetime / 86400.0);
	else
		fputs("unknown\n", f);
	if (depth != 0)
		return;
	fputs("  SCTs:       ", f);
	for (unsigned s = 0; s < POLICY_NSCT_SOURCES; s++) {
		fprintf(f, "%s%s ", s ? ", " : "", policy_sct_source_name(s));
		if (pr->sct_known[s])
			fprintf(f, "%u%s", pr->sct_count[s], pr->sct_state[s] < 0 ? " (malformed)" : "");
		else
			fputs(s == POLICY_SCT_TLS ? "unknown (TLS 1.3)" : "- (none stapled)", f);
	}
	fputc('\n', f);
}

/* The same for --json: members of the certificate's object (b ends in
 * the object's '}', which is reopened). */
static void
json_policy(struct buf *b, const struct policy_result *pr, size_t depth)
{
	const struct policy_cert *c;

	if (pr == NULL || depth >= pr->n)
		return;
	c = &pr->certs[depth];
	b->len--;
	json_key(b, "policy", 0);
	buf_putc(b, '{');
	json_key(b, "key_type", 1);
	json_str(b, c->key_type);
	json_key(b, "key_size", 0);
	json_int(b, c->key_bits);
	json_key(b, "signature", 0);
	json_str(b, c->sig_alg);
	json_key(b, "lifetime_seconds", 0);
	if (c->lifetime > 0)
		json_int(b, c->lifetime);
	else
		buf_puts(b, "null");
	if (depth == 0) {
		json_key(b, "scts", 0);
		buf_putc(b, '{');
		for (unsigned s = 0; s < POLICY_NSCT_SOURCES; s++) {
			json_key(b, policy_sct_source_name(s), s == 0);
			if (pr->sct_known[s])
				json_int(b, pr->sct_count[s]);
			else
				buf_puts(b, "null");
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "}}");
}

/* What checks found in the certificate at depth of r, or 0. */
static uint64_t
cert_issues_at(const struct result *r, size_t depth)
{
	size_t n;
	const uint64_t *ci = verdict_cert_issues(&r->verdict, &n);

	return ci && depth < n ? ci[depth] : 0;
}

static void
check_print_json(const struct conf_target *ct, const struct result *r,
    const struct check_opts *o, const struct scan_run *sr, const struct check_verdict *cv,
    double now)
{
	struct buf b;

	buf_init(&b);
	buf_putc(&b, '{');
	json_key(&b, "status", 1);
	json_str(&b, plugin_names[cv->status]);
	json_key(&b, "exit", 0);
	json_int(&b, cv->status);
	json_key(&b, "summary", 0);
	json_str(&b, cv->summary);
	json_key(&b, "target", 0);
	json_str(&b, ct->address);
	json_key(&b, "server_name", 0);
	json_str(&b, ct->server_name);
	json_key(&b, "time", 0);
	json_num(&b, r->time, 3);
	json_key(&b, "success", 0);
	json_bool(&b, r->success);
	json_key(&b, "fail_stage", 0);
	json_str(&b, r->success ? NULL : r->fail_stage);
	json_key(&b, "fail_reason", 0);
	json_str(&b, r->success ? NULL : r->fail_reason);
	json_key(&b, "fail_detail", 0);
	json_str(&b, r->success ? NULL : r->fail_detail);
	json_key(&b, "peer", 0);
	json_str(&b, r->peer);
	json_key(&b, "tls_version", 0);
	json_str(&b, r->tls_version);
	json_key(&b, "cipher", 0);
	json_str(&b, r->cipher);
	json_key(&b, "group", 0);
	json_str(&b, r->tls_group);
	json_key(&b, "signature_scheme", 0);
	json_str(&b, r->tls_sigscheme);
	json_key(&b, "verified", 0);
	json_bool(&b, r->success && r->verdict.verified);
	json_key(&b, "reasons", 0);
	status_json_words(&b, VERDICT_REASON, r->success ? r->verdict.reasons : 0);
	json_key(&b, "issues", 0);
	status_json_words(&b, VERDICT_CHAIN_ISSUE, r->success ? r->verdict.issues : 0);
	if (r->success)
		status_json_findings(&b, &r->verdict);
	json_key(&b, "expiry", 0);
	if (r->success)
		json_int(&b, cv->expiry);
	else
		buf_puts(&b, "null");
	json_key(&b, "days_left", 0);
	if (r->success)
		json_num(&b, cv->left, 2);
	else
		buf_puts(&b, "null");
	status_json_thresholds(&b, &o->warn, &o->crit, cv->lifetime);
	json_key(&b, "scan", 0);
	if (sr != NULL) {
		buf_putc(&b, '{');
		for (unsigned v = 0; v < SCAN_NVERSIONS; v++) {
			json_key(&b, scan_version_name(v), v == 0);
			json_str(&b, scan_answer_name(sr->answer[v]));
		}
		buf_putc(&b, '}');
	} else {
		buf_puts(&b, "null");
	}
	json_key(&b, "target_issues", 0);
	buf_puts(&b, sr != NULL && scan_legacy(sr->answer) ? "[\"legacy_tls_enabled\"]" : "[]");
	json_key(&b, "chain", 0);
	buf_putc(&b, '[');
	for (size_t i = 0; i < r->ncerts; i++) {
		if (i)
			buf_putc(&b, ',');
		certinfo_json(&b, r->certs[i], i, now);
		json_policy(&b, policy_of(&r->verdict), i);
		if (cert_issues_at(r, i)) {
			b.len--;    /* reopen the object */
			json_key(&b, "issues", 0);
			status_json_words(&b, VERDICT_CERT_ISSUE, cert_issues_at(r, i));
			buf_putc(&b, '}');
		}
		if (o->pem && i < r->nders) {
			char *p = certinfo_pem(r->ders[i].data, r->ders[i].len);

			b.len--;    /* reopen the object */
			json_key(&b, "pem", 0);
			json_str(&b, p);
			buf_putc(&b, '}');
			free(p);
		}
	}
	buf_puts(&b, "]}\n");
	fputs(b.data, stdout);
	buf_free(&b);
}

/* The scan's lines of the text output. */
static void
print_scan(const struct scan_run *sr)
{
	printf("Protocols:    ");
	for (unsigned v = 0; v < SCAN_NVERSIONS; v++)
		printf("%s%s %s", v ? ", " : "", scan_version_name(v),
		    scan_answer_name(sr->answer[v]));
	printf("\nTarget issues: %s\n", scan_legacy(sr->answer) ? "legacy_tls_enabled" : "-");
}

static void
check_print_text(const struct result *r, const struct check_opts *o, const struct scan_run *sr,
    const struct check_verdict *cv, double now)
{
	printf("TLS %s - ", plugin_names[cv->status]);
	term_puts(stdout, cv->summary);
	printf(" | %s\n", cv->perf);
	if (o->quiet)
		return;
	if (!r->success) {
		if (sr != NULL) {
			printf("\n");
			print_scan(sr);
		}
		return;
	}
	if (r->tls_version == NULL) {        /* --file */
		printf("Read ");
		term_puts(stdout, r->peer);
		printf("; %zu certificate%s in it\n\n", r->ncerts, r->ncerts == 1 ? "" : "s");
	} else {
		printf("Connected to ");
		term_puts(stdout, r->peer);
		printf(", ");
		term_puts(stdout, r->tls_version);
		printf(", ");
		term_puts(stdout, r->cipher);
		printf("; %zu certificate%s presented\n", r->ncerts, r->ncerts == 1 ? "" : "s");
		/* words of GnuTLS's tables (algo.c), bounded, not the peer's bytes */
		printf("Key exchange: %s, signature %s\n\n", r->tls_group ? r->tls_group : "-",
		    r->tls_sigscheme ? r->tls_sigscheme : "-");
	}
	for (size_t i = 0; i < r->ncerts; i++) {
		if (o->pem && i < r->nders)
			print_pem(stdout, i, r->certs[i]->subject, r->ders[i].data, r->ders[i].len);
		else
			print_cert(stdout, i, r->certs[i], now);
		print_policy(stdout, policy_of(&r->verdict), i);
		if (cert_issues_at(r, i)) {
			struct buf w;

			buf_init(&w);
			verdict_words_join(&w, VERDICT_CERT_ISSUE, cert_issues_at(r, i), ", ", "-");
			printf("  Issues:     %s\n", w.data);
			buf_free(&w);
		}
	}
	printf("\nVerdict:      %s\nReasons:      ", r->verdict.verified ?
	    "verified" : "not verified");
	print_names(stdout, r->verdict.reasons, 0);
	printf("\nChain issues: ");
	print_names(stdout, r->verdict.issues, 1);
	printf("\n");
	{
		int n = 0;

		(void)verdict_details(&r->verdict, text_finding, &n);
	}
	if (sr != NULL)
		print_scan(sr);
}

#define CHECK_MAX_FILE (1024 * 1024)     /* a chain file; a CA bundle is smaller */
#define CHECK_MAX_CHAIN 64

/* The chain in a PEM file as a result, judged as a probe's would be (the
 * chain, the trust store, the name, the checks), with no network; NULL
 * with *err when the file cannot be read or holds no certificate. */
static struct result *
check_file(const struct conf_target *ct, const char *path, char **err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	struct result *r;
	struct der *chain;
	struct stat sb;
	size_t n = 0, len;
	char *text, *p;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		*err = xasprintf("--file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode) || sb.st_size > CHECK_MAX_FILE) {
		*err = xasprintf("--file %s: not a regular file of at most %d bytes", path,
		    CHECK_MAX_FILE);
		fclose(f);
		return NULL;
	}
	text = xmalloc((size_t)sb.st_size + 1);
	len = fread(text, 1, (size_t)sb.st_size, f);
	text[len] = '\0';
	fclose(f);
	chain = xcalloc(CHECK_MAX_CHAIN, sizeof(*chain));
	for (p = text; (p = strstr(p, begin)) != NULL; ) {
		char *e = strstr(p, end);
		unsigned char *der;
		size_t dlen;

		if (e == NULL)
			break;
		e += sizeof(end) - 1;
		if (n == CHECK_MAX_CHAIN) {
			*err = xasprintf("--file %s: more than %d certificates", path,
			    CHECK_MAX_CHAIN);
			break;
		}
		if ((der = cert_der_from_pem(p, (size_t)(e - p), &dlen)) == NULL) {
			*err = xasprintf("--file %s: certificate %zu is not valid PEM", path, n + 1);
			break;
		}
		chain[n].data = der;
		chain[n++].len = dlen;
		p = e;
	}
	free(text);
	if (*err == NULL && n == 0)
		*err = xasprintf("--file %s: no PEM certificate in it", path);
	if (*err) {
		for (size_t i = 0; i < n; i++)
			free((void *)chain[i].data);
		free(chain);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = -1;
	r->time = wall_now();
	r->peer = xasprintf("file %s", path);
	r->certs = xcalloc(n, sizeof(*r->certs));
	r->ders = chain;
	for (size_t i = 0; i < n; i++) {
		struct cert *c = cert_get(chain[i].data, chain[i].len);

		if (c == NULL) {
			*err = xasprintf("--file %s: certificate %zu does not parse", path, i + 1);
			r->nders = n;
			result_free(r);
			return NULL;
		}
		r->certs[r->ncerts++] = c;
	}
	r->nders = n;
	{
		struct verdict_input in = {
			.chain = chain, .n = n, .trust = ct->trust, .target = ct,
			.hostname = conf_target_check_name(ct), .now = (int64_t)r->time,
			.ref_target = ct->name,
		};
		verdict_evaluate(&in, &r->verdict);
	}
	r->success = 1;
	return r;
}

/* The settings beyond conf_target_for's: family, name check, client
 * certificate, priority. 0, or -1 with *err. */
static int
check_target_opts(struct conf_target *ct, const struct check_opts *o, struct tlsctx *tls,
    char **err)
{
	ct->policy = o->policy;
	ct->tls.family = o->family;
	if (o->no_verify_hostname || (o->file && o->servername == NULL))
		ct->tls.verify_hostname = 0;
	if (o->file) {
		free(ct->name);
		ct->name = xstrdup(o->file);
	}
	if (o->priority) {
		if (tlsctx_priority(tls, o->priority, err) == -1)
			return -1;
		ct->tls.priority = xstrdup(o->priority);
	}
	if (o->client_cert) {
		ct->tls.client_cert = xstrdup(o->client_cert);
		ct->tls.client_key = xstrdup(o->client_key);
		if ((ct->tls.creds = tlsctx_creds(tls, o->client_cert, o->client_key,
		    &ct->tls.client_not_after, err)) == NULL)
			return -1;
	}
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct check_opts o;
	struct check_verdict cv;
	struct scan_run sr;
	struct conf_target ct;
	struct tlsctx *tls;
	struct result *r = NULL;
	char *err = NULL;
	int rc;

	if ((rc = check_options(argc, argv, &o)) != 0)
		return rc > 0 ? PLUGIN_OK : PLUGIN_UNKNOWN;
	log_init("tlswatch", 0);
	if (o.mail_domain) {
		struct checkmail_opts mo = {
			.domain = o.mail_domain, .ports = o.ports, .nports = o.nports,
			.resolver = o.resolver, .cafile = o.cafile, .policy = o.policy,
			.warn = o.warn, .crit = o.crit, .timeout_ms = o.timeout_ms,
		};

		return checkmail_run(&mo);
	}
	tls = tlsctx_new();
	/* the target as the daemon would make it of this address */
	if (conf_target_for(o.address, o.servername, o.starttls, o.cafile, o.timeout_ms, tls,
	    &ct, &err) == -1) {
		rc = unknown("%s", err);
		free(err);
		tlsctx_free(tls);
		return rc;
	}
	if (tls_init(&err) == -1 || check_target_opts(&ct, &o, tls, &err) == -1 ||
	    (r = o.file ? check_file(&ct, o.file, &err) : check_run(&ct, &o, o.scan ? &sr : NULL,
	    &err)) == NULL) {
		rc = unknown("%s", err ? err : "cannot set up TLS");
		free(err);
	} else {
		double now = wall_now();

		check_judge(&ct, r, &o, o.scan ? &sr : NULL, now, &cv);
		if (o.json)
			check_print_json(&ct, r, &o, o.scan ? &sr : NULL, &cv, now);
		else
			check_print_text(r, &o, o.scan ? &sr : NULL, &cv, now);
		rc = cv.status;
	}
	result_free(r);
	conf_target_fini(&ct);
	tlsctx_free(tls);
	tls_fini();
	return rc;
}

/* ------------------------------------------------------------ show */

static void
show_usage(FILE *f)
{
	fprintf(f, "usage: tlswatch show [--state-dir DIR] [TARGET] [--pem]\n"
	    "Without TARGET, a table of every target in tlswatchd's state directory,\n"
	    "soonest expiry first; with one, its stored result, chain and history.\n"
	    "  -s, --state-dir DIR  the state directory (default %s)\n"
	    "  --pem                print TARGET's stored chain as PEM\n"
	    "  -h, --help           this help\n"
	    "Exit status: 0, 1 when a state file is unusable or TARGET unknown, 2 bad arguments.\n",
	    CONF_DEFAULT_STATE_DIR);
}

static void
show_table(struct status_entry *e, size_t n, const struct status_view *v)
{
	size_t w = 6;

	status_sort(e, n, v);
	for (size_t i = 0; i < n; i++) {
		struct buf b;
		buf_init(&b);
		term_escape(&b, e[i].name);
		if (b.len > w)
			w = b.len;
		buf_free(&b);
	}
	if (w > 60)
		w = 60;
	printf("%-*s  %-10s  %-24s  %9s  %s\n", (int)w, "TARGET", "STATE", "VERDICT",
	    "DAYS LEFT", "LAST CHANGE");
	for (size_t i = 0; i < n; i++) {
		const struct result *r = e[i].r;
		char verdict[64], days[32], when[64];
		int64_t exp;
		enum status_state s = status_classify(&e[i], v, &exp);
		struct buf name;

		if (r == NULL)
			snprintf(verdict, sizeof(verdict), "-");
		else if (!r->success)
			snprintf(verdict, sizeof(verdict), "failed: %.40s", r->fail_reason);
		else if (r->verdict.verified)
			snprintf(verdict, sizeof(verdict), "verified");
		else
			snprintf(verdict, sizeof(verdict), "not verified");
		if (exp)
			snprintf(days, sizeof(days), "%.1f", ((double)exp - v->now) / 86400.0);
		else
			snprintf(days, sizeof(days), "-");
		fmt_utc(when, sizeof(when), e[i].st ? e[i].st->last_change : 0);
		buf_init(&name);
		term_escape(&name, e[i].name);
		printf("%-*s  %-10s  %-24s  %9s  %s\n", (int)w, name.data, status_state_name(s),
		    verdict, days, when);
		buf_free(&name);
	}
}

/* A fingerprint in the history, with subject and expiry while its file is kept. */
static void
print_fp(const char *dir, size_t depth, const char *fp)
{
	struct cert *c = store_cert(dir, fp);
	char na[64];

	printf("    %zu %s", depth, fp);
	if (c) {
		fmt_utc(na, sizeof(na), (double)c->not_after);
		printf(" ");
		term_puts(stdout, c->subject);
		printf(" (expires %s)", na);
		cert_put(c);
	}
	printf("\n");
}

static int
show_target(const char *dir, const char *name, int pem, const struct status_view *v)
{
	char *file = store_file_name(name), *path = xasprintf("%s/targets/%s", dir, file);
	struct store_record *st = NULL;
	struct result *r = NULL;
	char *err = NULL, when[64], until[64];
	int rc = 0;

	if (store_parse_file(dir, path, &st, &r, &err) == -1) {
		fprintf(stderr, "tlswatch: %s: ", path);
		term_puts(stderr, err);
		fputc('\n', stderr);
		free(err);
		rc = 1;
		goto out;
	}
	if (strcmp(st->name, name) != 0) {
		fprintf(stderr, "tlswatch: %s holds another target\n", path);
		rc = 1;
		goto out;
	}
	if (pem) {
		for (size_t i = 0; i < st->chain.n; i++) {
			size_t len;
			unsigned char *der = store_read_cert(dir, st->chain.fps[i], &len);
			if (der == NULL) {
				fprintf(stderr, "tlswatch: certificate %s is not in %s/certs\n",
				    st->chain.fps[i], dir);
				rc = 1;
				continue;
			}
			print_pem(stdout, i, st->certs[i] ? st->certs[i]->subject : "?", der, len);
			free(der);
		}
		goto out;
	}
	printf("Target:        ");
	term_puts(stdout, st->name);
	fmt_utc(when, sizeof(when), r ? r->time : 0);
	printf("\nLast probe:    %s\nResult:        ", when);
	if (r == NULL)
		printf("-");
	else if (!r->success) {
		printf("failed at ");
		term_puts(stdout, r->fail_stage);
		printf(": ");
		term_puts(stdout, r->fail_reason);
		printf(" (");
		term_puts(stdout, r->fail_detail);
		printf(")");
	} else {
		printf("%s, ", r->verdict.verified ? "verified" : "not verified");
		term_puts(stdout, r->tls_version);
		printf(", ");
		term_puts(stdout, r->cipher);
	}
	if (st->have_verdict) {
		printf("\nReasons:       ");
		print_names(stdout, st->reasons, 0);
		printf("\nChain issues:  ");
		print_names(stdout, st->issues, 1);
	}
	fmt_utc(when, sizeof(when), st->first_seen);
	printf("\nFirst seen:    %s\n", when);
	fmt_utc(when, sizeof(when), st->chain_changed);
	printf("Chain changed: %s (%llu change%s)\n", when,
	    (unsigned long long)st->chain_changes, st->chain_changes == 1 ? "" : "s");
	fmt_utc(when, sizeof(when), st->last_change);
	printf("Last change:   %s\n\nPresented chain:\n", when);
	for (size_t i = 0; i < st->chain.n; i++) {
		struct cert *c = store_cert(dir, st->chain.fps[i]);

		if (c) {
			print_cert(stdout, i, c, v->now);
			cert_put(c);
		} else {
			printf("Certificate %zu\n  SHA-256:    %s (not in %s/certs)\n", i,
			    st->chain.fps[i], dir);
		}
	}
	printf("\nHistory (newest first):\n");
	fmt_utc(when, sizeof(when), st->chain.since);
	if (st->chain.n)
		printf("  %s to now:\n", when);
	for (size_t j = 0; j < st->chain.n; j++)
		print_fp(dir, j, st->chain.fps[j]);
	for (size_t i = 0; i < st->nhist; i++) {
		fmt_utc(when, sizeof(when), st->hist[i].since);
		fmt_utc(until, sizeof(until), st->hist[i].until);
		printf("  %s to %s:\n", when, until);
		for (size_t j = 0; j < st->hist[i].n; j++)
			print_fp(dir, j, st->hist[i].fps[j]);
	}
out:
	store_record_free(st);
	result_free(r);
	free(file);
	free(path);
	return rc;
}

/* Lines joined by '\n', each escaped for the terminal on a line of its own
 * (escaping the whole would print the newlines as "\n"). */
static void
show_lines(FILE *f, const char *lines)
{
	while (*lines) {
		const char *nl = strchr(lines, '\n');
		size_t len = nl ? (size_t)(nl - lines) : strlen(lines);
		char *line = xstrndup(lines, len);

		fputs("  ", f);
		term_puts(f, line);
		fputc('\n', f);
		free(line);
		lines += len + (nl != NULL);
	}
}

static int
cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "pem", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = CONF_DEFAULT_STATE_DIR;
	struct status_view v;
	int pem = 0, ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "s:d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
		case 'd':       /* the spelling before tlswatchd's -s */
			dir = optarg;
			break;
		case 'p':
			pem = 1;
			break;
		case 'h':
			show_usage(stdout);
			return 0;
		default:
			show_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1 || (pem && argc - optind != 1)) {
		show_usage(stderr);
		return 2;
	}
	v.state_dir = dir;
	v.warn = (struct threshold)CONF_DEFAULT_WARN;
	v.crit = (struct threshold)CONF_DEFAULT_CRIT;
	v.now = wall_now();
	if (optind < argc) {
		rc = show_target(dir, argv[optind], pem, &v);
	} else {
		struct store_record **sts;
		struct result **rs;
		struct status_entry *e;
		char *errs = NULL, *tdir = xasprintf("%s/targets", dir);
		struct stat sb;
		size_t n;
		/* no directory is not a damaged one: say which is missing */
		int st = stat(tdir, &sb);

		if (st == -1 || !S_ISDIR(sb.st_mode)) {
			const char *why = st == -1 ? strerror(errno) : "not a directory";

			fprintf(stderr, "tlswatch: no state directory ");
			term_puts(stderr, tdir);
			fprintf(stderr, ": %s (tlswatchd keeps state in %s by default; see -s)\n",
			    why, CONF_DEFAULT_STATE_DIR);
			free(tdir);
			return 1;
		}
		free(tdir);
		n = store_load_all(dir, &sts, &rs, &errs);

		e = xcalloc(n ? n : 1, sizeof(*e));
		for (size_t i = 0; i < n; i++) {
			e[i].name = sts[i]->name;
			e[i].r = rs[i];
			e[i].st = sts[i];
		}
		show_table(e, n, &v);
		if (errs) {
			fprintf(stderr, "tlswatch: unusable state files:\n");
			show_lines(stderr, errs);
			rc = 1;
		}
		for (size_t i = 0; i < n; i++) {
			store_record_free(sts[i]);
			result_free(rs[i]);
		}
		free(e);
		free(sts);
		free(rs);
		free(errs);
	}
	return rc;
}

/* ------------------------------------------------------------ hash-password */

/* The terminal the password is read from, while its echo is off: put back
 * at the end, or by a signal that ends the tool first (a Ctrl-C must not
 * leave the user's shell without echo). */
static struct {
	int fd;
	int saved;
	struct termios old;
} echo_state = { -1, 0, { 0 } };

static void
echo_restore(void)
{
	if (echo_state.saved) {
		tcsetattr(echo_state.fd, TCSANOW, &echo_state.old);
		echo_state.saved = 0;
	}
}

static void
echo_signal(int sig)
{
	echo_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Echo off on the terminal fd, before any prompt is shown: a password typed
 * or pasted as soon as the prompt appears is neither echoed nor, since this
 * uses TCSANOW and not TCSAFLUSH, thrown away. 0, or -1 when fd is not a
 * terminal. */
static int
echo_off(int fd)
{
	struct termios quiet;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

	if (!isatty(fd) || tcgetattr(fd, &echo_state.old) != 0)
		return -1;
	echo_state.fd = fd;
	quiet = echo_state.old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], echo_signal);
	if (tcsetattr(fd, TCSANOW, &quiet) != 0)
		return -1;
	echo_state.saved = 1;
	return 0;
}

/* One line from in, without its line end, after prompt (NULL: none). */
static char *
read_password(FILE *in, const char *prompt, int *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	*err = 0;
	if (prompt) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
	}
	n = getline(&line, &cap, in);
	if (n < 0) {
		*err = ferror(in) ? errno : 0;
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return line;
}

static void
wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int
cmd_hash_password(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cost", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long cost = AUTH_DEFAULT_COST;
	char *pw, *again = NULL, *hash, *err, *end;
	int ch, rerr, tty;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			errno = 0;
			cost = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || cost < AUTH_MIN_COST ||
			    cost > AUTH_MAX_COST) {
				fprintf(stderr, "tlswatch hash-password: --cost must be "
				    "between %d and %d\n", AUTH_MIN_COST, AUTH_MAX_COST);
				return 2;
			}
			break;
		case 'h':
			printf("usage: tlswatch hash-password [--cost N]\n"
			    "  Reads a password (from the terminal without echo, twice, or one\n"
			    "  line of standard input) and prints its bcrypt hash.\n"
			    "  --cost N  2^N rounds, %d to %d (default %d)\n",
			    AUTH_MIN_COST, AUTH_MAX_COST, AUTH_DEFAULT_COST);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tlswatch hash-password: unexpected argument \"%s\"\n",
		    argv[optind]);
		return 2;
	}
	/* echo stays off for both lines: nothing typed ahead is ever shown */
	tty = echo_off(fileno(stdin)) == 0;
	pw = read_password(stdin, tty ? "Password: " : NULL, &rerr);
	if (pw == NULL) {
		echo_restore();
		fprintf(stderr, "tlswatch hash-password: no password read%s%s\n",
		    rerr ? ": " : "", rerr ? strerror(rerr) : "");
		return 1;
	}
	if (tty) {
		again = read_password(stdin, "Again: ", &rerr);
		echo_restore();
		if (again == NULL || strcmp(pw, again) != 0) {
			fprintf(stderr, "tlswatch hash-password: the passwords differ\n");
			wipe(pw);
			wipe(again);
			return 1;
		}
	}
	if (*pw == '\0') {
		fprintf(stderr, "tlswatch hash-password: empty password refused\n");
		wipe(pw);
		wipe(again);
		return 1;
	}
	hash = auth_hash_password(pw, (unsigned)cost, &err);
	wipe(pw);
	wipe(again);
	if (hash == NULL) {
		fprintf(stderr, "tlswatch hash-password: %s\n", err);
		free(err);
		return 1;
	}
	printf("%s\n", hash);
	free(hash);
	return 0;
}

/* ------------------------------------------------------------ dispatch */

/* One line per subcommand; keep it a table so that more can join. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "check", cmd_check, "probe one TLS endpoint; monitoring-plugin output and exit status" },
	{ "show", cmd_show, "show what tlswatchd stored: all targets, or one target's chain and history" },
	{ "hash-password", cmd_hash_password,
	  "print a bcrypt hash of a password for web.basic_auth_users" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: tlswatch COMMAND [ARGS...]\n       tlswatch COMMAND --help\n\n"
	    "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
}

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("tlswatch %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tlswatch: unknown command \"");
	term_puts(stderr, argv[1]);
	fprintf(stderr, "\"\n");
	usage(stderr);
	return 2;
}
