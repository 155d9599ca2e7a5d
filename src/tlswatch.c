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
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "serve/auth.h"
#include "verdict/certinfo.h"
#include "verdict/certs.h"
#include "verdict/chain.h"
#include "conf/conf.h"
#include "serve/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "probe/probe.h"
#include "probe/resolve.h"
#include "probe/starttls.h"
#include "serve/status.h"
#include "state/store.h"
#include "target.h"
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
print_names(FILE *f, unsigned bits, int issues)
{
	int first = 1;

	for (unsigned i = 0; i < (issues ? CHAIN_NISSUES : CHAIN_NREASONS); i++) {
		if (!(bits & (1u << i)))
			continue;
		fprintf(f, "%s%s", first ? "" : ", ",
		    issues ? chain_issue_name(i) : chain_reason_name(i));
		first = 0;
	}
	if (first)
		fputs("-", f);
}

static void
print_cert(FILE *f, size_t depth, const struct certinfo *ci, double now)
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
	fputs("usage: tlswatch check HOST:PORT [--servername NAME] [--starttls PROTO]\n"
	    "                      [--cafile FILE] [--warn 21d] [--crit 7d] [--timeout 10s]\n"
	    "                      [--json] [--pem]\n"
	    "Probe one TLS endpoint as tlswatchd does and print the presented chain and\n"
	    "the verdict. The first line and the exit status follow the monitoring\n"
	    "plugins convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	    "  --servername NAME  SNI and name to verify (default: HOST when a name)\n"
	    "  --starttls PROTO   negotiate TLS with STARTTLS first\n"
	    "  --cafile FILE      trust anchors (default: the system trust store)\n"
	    "  --warn DURATION    WARNING when the chain expires within it (default 21d)\n"
	    "  --crit DURATION    CRITICAL when it expires within it (default 7d)\n"
	    "  --timeout DURATION the whole probe (default 10s)\n"
	    "  --json             print a JSON object instead (see tlswatch(1))\n"
	    "  --pem              print the presented chain as PEM\n"
	    "  -h, --help         this help\n", f);
}

static int unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The first line for anything that prevents a probe; arguments are the
 * user's own, but still escaped for the terminal. */
static int
unknown(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	printf("TLS UNKNOWN - ");
	term_puts(stdout, b.data);
	printf("\n");
	buf_free(&b);
	return PLUGIN_UNKNOWN;
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

static void
json_names(struct buf *b, unsigned bits, int issues)
{
	int first = 1;

	buf_putc(b, '[');
	for (unsigned i = 0; i < (issues ? CHAIN_NISSUES : CHAIN_NREASONS); i++) {
		if (!(bits & (1u << i)))
			continue;
		if (!first)
			buf_putc(b, ',');
		json_str(b, issues ? chain_issue_name(i) : chain_reason_name(i));
		first = 0;
	}
	buf_putc(b, ']');
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "servername", required_argument, NULL, 'n' },
		{ "starttls", required_argument, NULL, 's' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "warn", required_argument, NULL, 'w' },
		{ "crit", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "pem", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *servername = NULL, *starttls = NULL, *cafile = NULL;
	enum starttls_proto proto = STARTTLS_NONE;
	uint64_t warn_ms = CONF_DEFAULT_WARN_MS, crit_ms = CONF_DEFAULT_CRIT_MS;
	uint64_t timeout_ms = CHECK_DEFAULT_TIMEOUT_MS;
	int json = 0, pem = 0, ch, status;
	struct conf_target ct;
	struct resolved_addr lit;
	struct check_run run = { NULL, NULL };
	struct resolver *res = NULL;
	struct trust *trust = NULL;
	char *err = NULL, *host = NULL, summary[512], perf[128];
	const char *msg;
	uint16_t port;
	struct result *r;
	double now, left = 0;
	int64_t expiry = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			servername = optarg;
			break;
		case 's':
			starttls = optarg;
			break;
		case 'C':
			cafile = optarg;
			break;
		case 'w':
			if (parse_duration_ms(optarg, &warn_ms) == -1)
				return unknown("bad --warn duration: %s", optarg);
			break;
		case 'c':
			if (parse_duration_ms(optarg, &crit_ms) == -1)
				return unknown("bad --crit duration: %s", optarg);
			break;
		case 't':
			if (parse_duration_ms(optarg, &timeout_ms) == -1)
				return unknown("bad --timeout duration: %s", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			pem = 1;
			break;
		case 'h':
			check_usage(stdout);
			return PLUGIN_OK;
		default:
			return unknown("bad arguments (see tlswatch check --help): %s",
			    argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return unknown("bad arguments: one HOST:PORT wanted%s",
		    " (see tlswatch check --help)");
	if ((msg = conf_split_hostport(argv[optind], &host, &port)) != NULL) {
		free(host);
		return unknown("bad HOST:PORT: %s", msg);
	}
	if (crit_ms > warn_ms) {
		free(host);
		return unknown("--crit must not be above --warn%s", "");
	}
	if (starttls != NULL && starttls_from_name(starttls, &proto) == -1) {
		free(host);
		return unknown("bad --starttls %s (smtp, lmtp, imap, pop3, ftp, ldap, xmpp, "
		    "sieve, nntp, postgres, mysql or none)", starttls);
	}

	memset(&ct, 0, sizeof(ct));
	ct.name = argv[optind];
	ct.address = argv[optind];
	ct.host = host;
	ct.port = port;
	ct.host_is_ip = resolve_literal(host, port, &lit) == 0;
	ct.server_name = servername ? (char *)servername : ct.host_is_ip ? NULL : host;
	ct.ca_file = (char *)cafile;
	ct.timeout_ms = timeout_ms;
	ct.interval_ms = timeout_ms + 1;
	/* as the daemon would probe it: the port's protocol unless told,
	 * every address family, the name checked */
	ct.tls.starttls = starttls ? (int)proto : (int)starttls_for_port(port);
	ct.tls.family = CONF_FAMILY_ANY;
	ct.tls.verify_hostname = 1;

	log_init("tlswatch", 0);
	if (tls_init(&err) == -1 || (run.loop = loop_new()) == NULL ||
	    (res = resolver_new(run.loop, &err)) == NULL ||
	    (trust = trust_load(cafile, &err)) == NULL) {
		status = unknown("%s", err ? err : "cannot set up the event loop");
		free(err);
		goto out;
	}
	probe_start(run.loop, res, &ct, trust, NULL, check_done, &run);
	while (run.r == NULL)
		if (loop_run(run.loop) == -1)
			break;
	if ((r = run.r) == NULL) {
		status = unknown("the event loop failed%s", "");
		goto out;
	}
	now = wall_now();

	if (!r->success) {
		status = PLUGIN_CRITICAL;
		snprintf(summary, sizeof(summary), "%s: %s failed: %s (%s)", ct.name,
		    r->fail_stage, r->fail_reason, r->fail_detail ? r->fail_detail : "");
		snprintf(perf, sizeof(perf), "days_left=U;%.0f;%.0f", (double)warn_ms / 86400000.0,
		    (double)crit_ms / 86400000.0);
	} else {
		char when[64];

		expiry = r->verdict.verified ? r->verdict.verified_expiry : r->verdict.earliest_expiry;
		left = ((double)expiry - now) / 86400.0;
		fmt_utc(when, sizeof(when), (double)expiry);
		if (!r->verdict.verified) {
			struct buf why;

			buf_init(&why);
			for (unsigned i = 0; i < CHAIN_NREASONS; i++)
				if (r->verdict.reasons & (1u << i))
					buf_printf(&why, "%s%s", why.len ? "," : "", chain_reason_name(i));
			status = PLUGIN_CRITICAL;
			snprintf(summary, sizeof(summary), "%s: chain does not verify: %s", ct.name,
			    why.data ? why.data : "other");
			buf_free(&why);
		} else {
			double ms = ((double)expiry - now) * 1000.0;
			status = ms < (double)crit_ms ? PLUGIN_CRITICAL :
			    ms < (double)warn_ms ? PLUGIN_WARNING : PLUGIN_OK;
			snprintf(summary, sizeof(summary), "%s: chain verified, expires in %.1f days (%s)",
			    ct.name, left, when);
		}
		snprintf(perf, sizeof(perf), "days_left=%.2f;%.0f;%.0f", left,
		    (double)warn_ms / 86400000.0, (double)crit_ms / 86400000.0);
	}

	if (json) {
		struct buf b;

		buf_init(&b);
		buf_putc(&b, '{');
		json_key(&b, "status", 1);
		json_str(&b, plugin_names[status]);
		json_key(&b, "exit", 0);
		json_int(&b, status);
		json_key(&b, "summary", 0);
		json_str(&b, summary);
		json_key(&b, "target", 0);
		json_str(&b, ct.address);
		json_key(&b, "server_name", 0);
		json_str(&b, ct.server_name);
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
		json_key(&b, "verified", 0);
		json_bool(&b, r->success && r->verdict.verified);
		json_key(&b, "reasons", 0);
		json_names(&b, r->success ? r->verdict.reasons : 0, 0);
		json_key(&b, "issues", 0);
		json_names(&b, r->success ? r->verdict.issues : 0, 1);
		json_key(&b, "expiry", 0);
		if (r->success)
			json_int(&b, expiry);
		else
			buf_puts(&b, "null");
		json_key(&b, "days_left", 0);
		if (r->success)
			json_num(&b, left, 2);
		else
			buf_puts(&b, "null");
		json_key(&b, "warn_seconds", 0);
		json_int(&b, (int64_t)(warn_ms / 1000));
		json_key(&b, "crit_seconds", 0);
		json_int(&b, (int64_t)(crit_ms / 1000));
		json_key(&b, "chain", 0);
		buf_putc(&b, '[');
		for (size_t i = 0; i < r->nders; i++) {
			struct certinfo ci;

			if (i)
				buf_putc(&b, ',');
			if (certinfo_get(r->ders[i].data, r->ders[i].len, &ci) == -1) {
				buf_puts(&b, "null");
				continue;
			}
			certinfo_json(&b, &ci, i, now);
			if (pem) {
				char *p = certinfo_pem(r->ders[i].data, r->ders[i].len);
				b.len--;    /* reopen the object */
				json_key(&b, "pem", 0);
				json_str(&b, p);
				buf_putc(&b, '}');
				free(p);
			}
			certinfo_fini(&ci);
		}
		buf_puts(&b, "]}\n");
		fputs(b.data, stdout);
		buf_free(&b);
		goto done;
	}

	printf("TLS %s - ", plugin_names[status]);
	term_puts(stdout, summary);
	printf(" | %s\n", perf);
	if (r->success) {
		printf("Connected to ");
		term_puts(stdout, r->peer);
		printf(", ");
		term_puts(stdout, r->tls_version);
		printf(", ");
		term_puts(stdout, r->cipher);
		printf("; %zu certificate%s presented\n\n", r->nders, r->nders == 1 ? "" : "s");
		for (size_t i = 0; i < r->nders; i++) {
			struct certinfo ci;

			if (certinfo_get(r->ders[i].data, r->ders[i].len, &ci) == -1) {
				printf("Certificate %zu: does not parse\n", i);
				continue;
			}
			if (pem)
				print_pem(stdout, i, ci.subject, r->ders[i].data, r->ders[i].len);
			else
				print_cert(stdout, i, &ci, now);
			certinfo_fini(&ci);
		}
		printf("\nVerdict:      %s\nReasons:      ", r->verdict.verified ?
		    "verified" : "not verified");
		print_names(stdout, r->verdict.reasons, 0);
		printf("\nChain issues: ");
		print_names(stdout, r->verdict.issues, 1);
		printf("\n");
	}
done:
	result_free(r);
out:
	trust_free(trust);
	resolver_free(res);
	loop_free(run.loop);
	tls_fini();
	free(host);
	return status;
}

/* ------------------------------------------------------------ show */

static void
show_usage(FILE *f)
{
	fprintf(f, "usage: tlswatch show [--state-dir DIR] [TARGET] [--pem]\n"
	    "Without TARGET, a table of every target in tlswatchd's state directory,\n"
	    "soonest expiry first; with one, its stored result, chain and history.\n"
	    "  -d, --state-dir DIR  the state directory (default %s)\n"
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
	struct certinfo ci;
	size_t len;
	unsigned char *der = store_read_cert(dir, fp, &len);
	char na[64];

	printf("    %zu %s", depth, fp);
	if (der && certinfo_get(der, len, &ci) == 0) {
		fmt_utc(na, sizeof(na), (double)ci.not_after);
		printf(" ");
		term_puts(stdout, ci.subject);
		printf(" (expires %s)", na);
		certinfo_fini(&ci);
	}
	free(der);
	printf("\n");
}

static int
show_target(const char *dir, const char *name, int pem, const struct status_view *v)
{
	char *file = store_file_name(name), *path = xasprintf("%s/targets/%s", dir, file);
	struct store_target *st = NULL;
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
		struct certinfo ci;
		size_t len;
		unsigned char *der = store_read_cert(dir, st->chain.fps[i], &len);

		if (der && certinfo_get(der, len, &ci) == 0) {
			print_cert(stdout, i, &ci, v->now);
			certinfo_fini(&ci);
		} else {
			printf("Certificate %zu\n  SHA-256:    %s (not in %s/certs)\n", i,
			    st->chain.fps[i], dir);
		}
		free(der);
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
	store_target_free(st);
	result_free(r);
	free(file);
	free(path);
	return rc;
}

static int
cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "pem", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = CONF_DEFAULT_STATE_DIR;
	struct status_view v;
	int pem = 0, ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
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
	v.warn_s = (int64_t)(CONF_DEFAULT_WARN_MS / 1000);
	v.crit_s = (int64_t)(CONF_DEFAULT_CRIT_MS / 1000);
	v.now = wall_now();
	if (optind < argc) {
		rc = show_target(dir, argv[optind], pem, &v);
	} else {
		struct store_target **sts;
		struct result **rs;
		struct status_entry *e;
		char *errs = NULL;
		size_t n = store_load_all(dir, &sts, &rs, &errs);

		e = xcalloc(n ? n : 1, sizeof(*e));
		for (size_t i = 0; i < n; i++) {
			e[i].name = sts[i]->name;
			e[i].r = rs[i];
			e[i].st = sts[i];
		}
		show_table(e, n, &v);
		if (errs) {
			fprintf(stderr, "tlswatch: unusable state files:\n");
			term_puts(stderr, errs);
			fputc('\n', stderr);
			rc = 1;
		}
		for (size_t i = 0; i < n; i++) {
			store_target_free(sts[i]);
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
