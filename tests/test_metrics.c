/* test_metrics.c - the exposition text (metrics.c) and the HTTP server (httpd.c). */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
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

#include "serve/httpd.h"
#include "serve/metrics.h"
#include "core/util.h"

#define FFFD "\xef\xbf\xbd"

static const struct fetch_stats test_fetch = {
	.requests = { [FETCH_CRL] = { 12, 30, 1 }, [FETCH_ARI] = { 2, 0, 4 } },
	.cache_entries = 7, .cache_bytes = 123456, .in_flight = 2, .queued = 9,
};

static const struct metrics_info test_info = {
	.version = "0.1.0", .gnutls_version = "3.7.9", .start_time = 1700000000.5,
	.in_flight = 3, .queued = 5, .fetch = &test_fetch,
};

/* Every family, in the order rendered, with its type. */
static const struct {
	const char *name;
	const char *type;
	int per_target;
} families[] = {
	{ "tlswatch_build_info", "gauge", 0 },
	{ "tlswatch_targets", "gauge", 0 },
	{ "tlswatch_scheduler_in_flight_probes", "gauge", 0 },
	{ "tlswatch_scheduler_queued_targets", "gauge", 0 },
	{ "tlswatch_scheduler_skipped_total", "counter", 0 },
	{ "tlswatch_verifications_total", "counter", 0 },
	{ "tlswatch_scheduler_lateness_seconds", "histogram", 0 },
	{ "tlswatch_target_info", "gauge", 1 },
	{ "tlswatch_client_cert_not_after_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_probe_interval_seconds", "gauge", 1 },
	{ "tlswatch_probe_success", "gauge", 1 },
	{ "tlswatch_probe_failure_info", "gauge", 1 },
	{ "tlswatch_probe_duration_seconds", "gauge", 1 },
	{ "tlswatch_probe_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_probe_stage_duration_seconds", "gauge", 1 },
	{ "tlswatch_probes_total", "counter", 1 },
	{ "tlswatch_tls_version_info", "gauge", 1 },
	{ "tlswatch_tls_cipher_info", "gauge", 1 },
	{ "tlswatch_cert_not_after_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_cert_not_before_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_chain_verified", "gauge", 1 },
	{ "tlswatch_chain_verify_error", "gauge", 1 },
	{ "tlswatch_chain_earliest_expiry_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_chain_verified_expiry_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_chain_last_seen_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_chain_certificates", "gauge", 1 },
	{ "tlswatch_chain_issue", "gauge", 1 },
	{ "tlswatch_chain_changed_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_chain_changes_total", "counter", 1 },
	{ "tlswatch_cert_first_seen_timestamp_seconds", "gauge", 1 },
	{ "tlswatch_fetch_requests_total", "counter", 0 },
	{ "tlswatch_fetch_cache_entries", "gauge", 0 },
	{ "tlswatch_fetch_cache_bytes", "gauge", 0 },
	{ "tlswatch_fetch_in_flight_requests", "gauge", 0 },
	{ "tlswatch_fetch_queued_requests", "gauge", 0 },
	{ "process_cpu_seconds_total", "counter", 0 },
	{ "process_resident_memory_bytes", "gauge", 0 },
	{ "process_virtual_memory_bytes", "gauge", 0 },
	{ "process_open_fds", "gauge", 0 },
	{ "process_max_fds", "gauge", 0 },
	{ "process_start_time_seconds", "gauge", 0 },
};

/* ---- building objects by hand ------------------------------------------ */

static struct cert *
cert_make(const char *subject, const char *issuer, const char *serial, char fill,
    int64_t not_before, int64_t not_after)
{
	struct cert *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	memset(c->sha256, fill, 64);
	c->sha256[64] = '\0';
	c->subject = xstrdup(subject);
	c->issuer = xstrdup(issuer);
	c->serial = xstrdup(serial);
	c->not_before = not_before;
	c->not_after = not_after;
	return c;
}

static void
cert_del(struct cert *c)
{
	free(c->subject);
	free(c->issuer);
	free(c->serial);
	free(c);
}

static void
result_blank(struct result *r)
{
	memset(r, 0, sizeof(*r));
	for (int s = 0; s < STAGE_COUNT; s++)
		r->stage_seconds[s] = -1;
}

/* A target as these tests build it: what the scheduler holds of one, made
 * into metrics_render's targets and rows by render_into(). */
struct taddr {
	const char *address;
	struct result *result;
	uint64_t probes_success;
	uint64_t probes_failure;
	struct result *last_ok;     /* while result failed: the chain kept */
};

struct ttarget {
	struct conf_target *conf;
	char *labels;
	struct result *result;
	uint64_t probes_success;
	uint64_t probes_failure;
	struct result *last_ok;     /* while result failed: the chain kept */
	struct taddr *addrs;        /* addresses = "all" */
	size_t naddrs;
};

/* What history_chain_result gives: the result when it succeeded, else the
 * success kept. */
static const struct result *
chain_of(const struct result *r, const struct result *last_ok)
{
	return r && r->success ? r : last_ok;
}

static void
render_into(struct buf *b, const struct ttarget *t, size_t n, const struct metrics_info *info)
{
	struct metrics_target *mt = xcalloc(n ? n : 1, sizeof(*mt));
	struct metrics_row *rows;
	size_t nrows = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		nrows += t[i].naddrs ? t[i].naddrs : 1;
	rows = xcalloc(nrows ? nrows : 1, sizeof(*rows));
	for (size_t i = 0; i < n; i++) {
		mt[i].labels = t[i].labels;
		mt[i].conf = t[i].conf;
		if (t[i].naddrs == 0) {
			rows[k++] = (struct metrics_row){ t[i].labels, NULL, t[i].result,
				t[i].probes_success, t[i].probes_failure,
				chain_of(t[i].result, t[i].last_ok), NULL };
			continue;
		}
		for (size_t j = 0; j < t[i].naddrs; j++)
			rows[k++] = (struct metrics_row){ t[i].labels, t[i].addrs[j].address,
				t[i].addrs[j].result, t[i].addrs[j].probes_success,
				t[i].addrs[j].probes_failure,
				chain_of(t[i].addrs[j].result, t[i].addrs[j].last_ok), NULL };
	}
	metrics_render(b, mt, n, rows, nrows, info);
	free(rows);
	free(mt);
}

static void
target_setup(struct ttarget *t, struct conf_target *c, const char *name,
    struct conf_label *labels, size_t nlabels)
{
	memset(c, 0, sizeof(*c));
	memset(t, 0, sizeof(*t));
	c->name = (char *)name;
	c->labels = labels;
	c->nlabels = nlabels;
	t->conf = c;
	t->labels = metrics_labels(c);
}

static char *
render(const struct ttarget *t, size_t n)
{
	struct buf b;

	buf_init(&b);
	render_into(&b, t, n, &test_info);
	return buf_steal(&b);
}

static char *
escape(const char *s)
{
	struct buf b;

	buf_init(&b);
	metrics_escape_label(&b, s);
	return buf_steal(&b);
}

/* ---- reading the output ------------------------------------------------ */

static int
has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; *p; ) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && memcmp(p, line, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static size_t
count_prefix(const char *out, const char *prefix)
{
	size_t n = strlen(prefix), count = 0;

	for (const char *p = out; *p; ) {
		const char *e = strchr(p, '\n');

		if (strncmp(p, prefix, n) == 0)
			count++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return count;
}

static size_t
count_containing(const char *out, const char *needle)
{
	size_t count = 0;
	char line[8192];

	for (const char *p = out; *p; ) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		if (strstr(line, needle))
			count++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return count;
}

static void
expect_line(const char *out, const char *line)
{
	if (!has_line(out, line))
		fail_msg("missing line: %s\n--- output ---\n%s", line, out);
}

static void
expect_no_line(const char *out, const char *line)
{
	if (has_line(out, line))
		fail_msg("unexpected line: %s", line);
}

/* Independent of metrics.c: decode code points and check their ranges. */
static int
utf8_valid(const unsigned char *s)
{
	while (*s) {
		uint32_t cp, min;
		int n;

		if (*s < 0x80) {
			s++;
			continue;
		} else if ((*s & 0xe0) == 0xc0) {
			cp = *s & 0x1f; n = 1; min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			cp = *s & 0x0f; n = 2; min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			cp = *s & 0x07; n = 3; min = 0x10000;
		} else {
			return 0;
		}
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

/*
 * Structure of the whole exposition: every family has one HELP and one TYPE
 * line, its series follow its TYPE line contiguously, every value is a
 * finite number, every per-target series starts with one target's labels,
 * and the text is valid UTF-8.
 */
static void
check_structure(const char *out, const struct ttarget *t, size_t n)
{
	size_t seen[ARRAY_SIZE(families)] = { 0 };
	size_t cur = SIZE_MAX, types = 0;
	char line[8192], want[256];

	assert_true(utf8_valid((const unsigned char *)out));
	assert_true(out[0] != '\0' && out[strlen(out) - 1] == '\n');
	for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
		snprintf(want, sizeof(want), "# HELP %s ", families[f].name);
		assert_int_equal(count_prefix(out, want), 1);
		snprintf(want, sizeof(want), "# TYPE %s %s", families[f].name,
		    families[f].type);
		if (!has_line(out, want))
			fail_msg("missing %s", want);
	}
	for (const char *p = out; *p; ) {
		const char *e = strchr(p, '\n');
		size_t len = (size_t)(e - p), namelen;
		const char *value;
		char *end;
		double v;

		assert_non_null(e);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = e + 1;
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			types++;
			for (cur = 0; cur < ARRAY_SIZE(families); cur++) {
				size_t l = strlen(families[cur].name);

				if (strncmp(line + 7, families[cur].name, l) == 0 &&
				    line[7 + l] == ' ')
					break;
			}
			assert_true(cur < ARRAY_SIZE(families));
			assert_int_equal(seen[cur]++, 0);
			continue;
		}
		assert_true(line[0] != '#');
		/* a series of the current family */
		assert_true(cur < ARRAY_SIZE(families));
		namelen = strlen(families[cur].name);
		if (strcmp(families[cur].type, "histogram") == 0) {
			static const char *const sfx[] = { "_bucket", "_sum", "_count" };
			for (size_t k = 0; k < ARRAY_SIZE(sfx); k++)
				if (strncmp(line, families[cur].name, namelen) == 0 &&
				    strncmp(line + namelen, sfx[k], strlen(sfx[k])) == 0) {
					namelen += strlen(sfx[k]);
					break;
				}
		}
		if (strncmp(line, families[cur].name, strlen(families[cur].name)) != 0 ||
		    (line[namelen] != '{' && line[namelen] != ' '))
			fail_msg("series outside its family (%s): %s",
			    families[cur].name, line);
		if (families[cur].per_target) {
			size_t i;

			assert_int_equal(line[namelen], '{');
			for (i = 0; i < n; i++) {
				size_t l = strlen(t[i].labels);

				if (strncmp(line + namelen + 1, t[i].labels, l) == 0 &&
				    (line[namelen + 1 + l] == ',' ||
				    line[namelen + 1 + l] == '}'))
					break;
			}
			if (i == n)
				fail_msg("series without a target's labels: %s", line);
		}
		value = strrchr(line, ' ');
		assert_non_null(value);
		value++;
		assert_null(strpbrk(value, "nNiI"));
		errno = 0;
		v = strtod(value, &end);
		assert_true(*end == '\0' && end != value && errno == 0);
		assert_true(isfinite(v));
	}
	assert_int_equal(types, ARRAY_SIZE(families));
}

/* ---- escaping ---------------------------------------------------------- */

static void
test_escape_specials(void **state)
{
	char *s;

	(void)state;
	s = escape("a\"b\\c\nd");
	assert_string_equal(s, "a\\\"b\\\\c\\nd");
	free(s);
	s = escape("plain ASCII, tab\tand CR\r stay");
	assert_string_equal(s, "plain ASCII, tab\tand CR\r stay");
	free(s);
	s = escape("");
	assert_string_equal(s, "");
	free(s);
	s = escape(NULL);
	assert_string_equal(s, "");
	free(s);
	s = escape("\\\\\"\"\n\n");
	assert_string_equal(s, "\\\\\\\\\\\"\\\"\\n\\n");
	free(s);
}

static void
test_escape_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		/* valid: 2, 3 and 4 byte sequences and the edges of each */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e" },
		{ "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf" },
		{ "\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf" },
		/* stray continuation bytes and bytes that never start a sequence */
		{ "a\x80z", "a" FFFD "z" },
		{ "\xbf\xfe\xff", FFFD FFFD FFFD },
		/* overlongs: "/" as 2, 3 and 4 bytes; NUL as 2 bytes */
		{ "\xc0\xaf", FFFD FFFD },
		{ "\xc1\xbf", FFFD FFFD },
		{ "\xe0\x80\xaf", FFFD FFFD FFFD },
		{ "\xe0\x9f\xbf", FFFD FFFD FFFD },
		{ "\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD },
		{ "\xc0\x80", FFFD FFFD },
		/* surrogates, alone and paired (CESU-8) */
		{ "\xed\xa0\x80", FFFD FFFD FFFD },
		{ "\xed\xbf\xbf", FFFD FFFD FFFD },
		{ "\xed\xa0\xbd\xed\xb8\x80", FFFD FFFD FFFD FFFD FFFD FFFD },
		/* beyond U+10FFFF, and 5 and 6 byte forms */
		{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD },
		{ "\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD },
		{ "\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD },
		/* truncated: one U+FFFD per maximal subpart, the rest kept */
		{ "\xe2\x82", FFFD },
		{ "x\xe2\x82y", "x" FFFD "y" },
		{ "\xf0\x9d\x84", FFFD },
		{ "\xf0\x9d\x84\"", FFFD "\\\"" },
		{ "\xc3", FFFD },
		{ "\xc3\n", FFFD "\\n" },
		{ "\xe2\x82\xe2\x82\xac", FFFD "\xe2\x82\xac" },
		/* U+FFFD itself is fine */
		{ FFFD, FFFD },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *s = escape(cases[i].in);

		if (strcmp(s, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\"", i, s);
		assert_true(utf8_valid((const unsigned char *)s));
		free(s);
	}
}

/* Whatever bytes come in, the label value that comes out is valid UTF-8 with
 * no raw quote, newline, or backslash that does not start an escape. */
static void
test_escape_random(void **state)
{
	unsigned seed = 12345;
	char in[64];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % 40);
		char *s;

		for (size_t i = 0; i < len; i++) {
			int r = rand_r(&seed);
			/* bias towards the interesting bytes */
			static const char pick[] = "\\\"\n\x80\xbf\xc2\xe0\xed\xf0\xf4\xff";

			in[i] = (r & 3) == 0 ? pick[(r >> 2) % (sizeof(pick) - 1)] :
			    (char)((r >> 3) % 255 + 1);
		}
		in[len] = '\0';
		s = escape(in);
		assert_true(utf8_valid((const unsigned char *)s));
		assert_null(strchr(s, '\n'));
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fail_msg("raw quote in \"%s\"", s);
			if (*p == '\\') {
				p++;
				assert_true(*p == '\\' || *p == '"' || *p == 'n');
			}
		}
		free(s);
	}
}

static void
test_target_labels(void **state)
{
	struct conf_label labels[] = {
		{ "env", "prod" },
		{ "team", "a\\b \"c\"\nd" },
		{ "zone", "\xff" },
	};
	struct conf_label bad[] = {
		{ "__reserved", "x" },
		{ "ok", "1" },
		{ "stage", "clash" },
		{ "subject", "clash" },
		{ "0digit", "x" },
		{ "has-dash", "x" },
	};
	struct conf_target c;
	struct ttarget t;

	(void)state;
	target_setup(&t, &c, "web \"1\"", labels, ARRAY_SIZE(labels));
	assert_string_equal(t.labels, "target=\"web \\\"1\\\"\",env=\"prod\","
	    "team=\"a\\\\b \\\"c\\\"\\nd\",zone=\"" FFFD "\"");
	/* made again from the config */
	c.nlabels = 1;
	free(t.labels);
	t.labels = metrics_labels(&c);
	assert_string_equal(t.labels, "target=\"web \\\"1\\\"\",env=\"prod\"");
	free(t.labels);

	/* names conf.c should have refused never reach the exposition */
	target_setup(&t, &c, "x", bad, ARRAY_SIZE(bad));
	assert_string_equal(t.labels, "target=\"x\",ok=\"1\"");
	free(t.labels);

	/* one list for conf.c and the exposition: the histogram's and
	 * Prometheus's own names are reserved here too */
	assert_true(metrics_label_reserved("le"));
	assert_true(metrics_label_reserved("job"));
	assert_true(metrics_label_reserved("instance"));
	assert_true(metrics_label_reserved("quantile"));
	assert_true(metrics_label_reserved("__x"));
	assert_false(metrics_label_reserved("team"));
	assert_true(metrics_label_name_valid("_a9"));
	assert_false(metrics_label_name_valid("9a"));
	assert_false(metrics_label_name_valid("a-b"));
}

/* ---- rendering --------------------------------------------------------- */

static void
test_not_probed(void **state)
{
	struct conf_label labels[] = { { "env", "prod" } };
	struct conf_target c;
	struct ttarget t;
	char *out;

	(void)state;
	target_setup(&t, &c, "idle", labels, 1);
	out = render(&t, 1);
	check_structure(out, &t, 1);
	expect_line(out, "tlswatch_targets 1");
	/* only what it is probed with (tlswatch_target_info) and its
	 * configured interval, which the staleness alert needs */
	assert_int_equal(count_containing(out, "idle"), 2);
	assert_int_equal(count_prefix(out, "tlswatch_target_info{target=\"idle\""), 1);
	assert_int_equal(count_prefix(out, "tlswatch_probe"), 1);
	assert_int_equal(count_prefix(out, "tlswatch_probe_interval_seconds{"), 1);
	free(out);
	free(t.labels);

	/* no targets at all: still every HELP and TYPE */
	out = render(NULL, 0);
	check_structure(out, NULL, 0);
	expect_line(out, "tlswatch_targets 0");
	expect_line(out, "tlswatch_scheduler_in_flight_probes 3");
	expect_line(out, "tlswatch_scheduler_queued_targets 5");
	free(out);
}

static void
test_failed_probe(void **state)
{
	struct conf_label labels[] = { { "env", "prod" } };
	struct conf_target c;
	struct ttarget t;
	struct result r;
	char *out;

	(void)state;
	target_setup(&t, &c, "down", labels, 1);
	result_blank(&r);
	r.time = 1700000000.1234;
	r.duration = 0.501;
	r.stage_seconds[STAGE_RESOLVE] = 0.001;
	r.stage_seconds[STAGE_CONNECT] = 0.5;
	r.fail_stage = "connect";
	r.fail_reason = "refused";
	t.result = &r;
	t.probes_success = 3;
	t.probes_failure = 2;

	out = render(&t, 1);
	check_structure(out, &t, 1);
	expect_line(out, "tlswatch_probe_success{target=\"down\",env=\"prod\"} 0");
	expect_line(out, "tlswatch_probe_failure_info{target=\"down\",env=\"prod\","
	    "stage=\"connect\",reason=\"refused\"} 1");
	expect_line(out, "tlswatch_probe_duration_seconds{target=\"down\",env=\"prod\"} 0.501000");
	expect_line(out, "tlswatch_probe_timestamp_seconds{target=\"down\",env=\"prod\"} 1700000000.123");
	expect_line(out, "tlswatch_probe_stage_duration_seconds{target=\"down\","
	    "env=\"prod\",stage=\"resolve\"} 0.001000");
	expect_line(out, "tlswatch_probe_stage_duration_seconds{target=\"down\","
	    "env=\"prod\",stage=\"connect\"} 0.500000");
	assert_int_equal(count_prefix(out, "tlswatch_probe_stage_duration_seconds{"), 2);
	expect_line(out, "tlswatch_probes_total{target=\"down\",env=\"prod\",result=\"success\"} 3");
	expect_line(out, "tlswatch_probes_total{target=\"down\",env=\"prod\",result=\"failure\"} 2");
	assert_int_equal(count_prefix(out, "tlswatch_chain_"), 0);
	assert_int_equal(count_prefix(out, "tlswatch_cert_"), 0);
	assert_int_equal(count_prefix(out, "tlswatch_tls_"), 0);
	free(out);

	/* a timeout with no stage reached and unknown reason */
	result_blank(&r);
	r.fail_stage = "timeout";
	t.result = &r;
	out = render(&t, 1);
	check_structure(out, &t, 1);
	expect_line(out, "tlswatch_probe_failure_info{target=\"down\",env=\"prod\","
	    "stage=\"timeout\",reason=\"unknown\"} 1");
	expect_line(out, "tlswatch_probe_duration_seconds{target=\"down\",env=\"prod\"} 0.000000");
	assert_int_equal(count_prefix(out, "tlswatch_probe_stage_duration_seconds{"), 0);
	free(out);
	free(t.labels);
}

/* The attacker-controlled subject of the brief, plus broken UTF-8. */
#define EVIL_SUBJECT "evil\"} tlswatch_probe_success{target=\"forged\"} 1\nx\\y"
#define EVIL_ESCAPED "evil\\\"} tlswatch_probe_success{target=\\\"forged\\\"} 1\\nx\\\\y"

static void
test_unverified_chain(void **state)
{
	struct conf_label labels[] = { { "env", "prod" }, { "team", "web" } };
	struct cert *certs[2];
	struct conf_target c;
	struct ttarget t;
	struct result r;
	char *out;

	(void)state;
	certs[0] = cert_make(EVIL_SUBJECT, "CN=bad\xff\xc0\xafname\xed\xa0\x80",
	    "01ab", 'a', 1700000000, 1767225600);
	certs[1] = cert_make("CN=Example CA", "CN=Example Root", "7f", 'b',
	    1600000000, 1800000000);
	target_setup(&t, &c, "web", labels, 2);
	result_blank(&r);
	r.success = 1;
	r.time = 1700000000;
	r.duration = 0.25;
	for (int s = 0; s < STAGE_COUNT; s++)
		r.stage_seconds[s] = 0.0625 * (s + 1);
	r.tls_version = "TLS1.3";
	r.cipher = "TLS_AES_256_GCM_SHA384";
	r.certs = certs;
	r.ncerts = 2;
	r.verdict.verified = 0;
	r.verdict.reasons = REASON(UNKNOWN_ISSUER) | REASON(HOSTNAME_MISMATCH);
	r.verdict.issues = CHAIN_ISSUE(INCOMPLETE);
	r.verdict.earliest_expiry = 1767225600;
	t.result = &r;
	t.probes_success = 1;

	out = render(&t, 1);
	check_structure(out, &t, 1);
#define L "{target=\"web\",env=\"prod\",team=\"web\""
	expect_line(out, "tlswatch_probe_success" L "} 1");
	assert_int_equal(count_prefix(out, "tlswatch_probe_failure_info{"), 0);
	expect_line(out, "tlswatch_probe_timestamp_seconds" L "} 1700000000.000");
	expect_line(out, "tlswatch_probe_stage_duration_seconds" L ",stage=\"verify\"} 0.250000");
	assert_int_equal(count_prefix(out, "tlswatch_probe_stage_duration_seconds{"), STAGE_COUNT);
	expect_line(out, "tlswatch_probes_total" L ",result=\"failure\"} 0");
	expect_line(out, "tlswatch_tls_version_info" L ",version=\"TLS1.3\"} 1");
	expect_line(out, "tlswatch_tls_cipher_info" L ",cipher=\"TLS_AES_256_GCM_SHA384\"} 1");
	expect_line(out, "tlswatch_cert_not_after_timestamp_seconds" L ",depth=\"0\","
	    "subject=\"" EVIL_ESCAPED "\",issuer=\"CN=bad" FFFD FFFD FFFD "name"
	    FFFD FFFD FFFD "\",serial=\"01ab\","
	    "sha256=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"} 1767225600");
	expect_line(out, "tlswatch_cert_not_before_timestamp_seconds" L ",depth=\"0\","
	    "subject=\"" EVIL_ESCAPED "\",issuer=\"CN=bad" FFFD FFFD FFFD "name"
	    FFFD FFFD FFFD "\",serial=\"01ab\","
	    "sha256=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"} 1700000000");
	expect_line(out, "tlswatch_cert_not_after_timestamp_seconds" L ",depth=\"1\","
	    "subject=\"CN=Example CA\",issuer=\"CN=Example Root\",serial=\"7f\","
	    "sha256=\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"} 1800000000");
	assert_int_equal(count_prefix(out, "tlswatch_cert_not_after_timestamp_seconds{"), 2);
	assert_int_equal(count_prefix(out, "tlswatch_cert_not_before_timestamp_seconds{"), 2);
	expect_line(out, "tlswatch_chain_verified" L "} 0");
	expect_line(out, "tlswatch_chain_verify_error" L ",reason=\"unknown_issuer\"} 1");
	expect_line(out, "tlswatch_chain_verify_error" L ",reason=\"hostname_mismatch\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_chain_verify_error{"), 2);
	expect_line(out, "tlswatch_chain_earliest_expiry_timestamp_seconds" L "} 1767225600");
	assert_int_equal(count_prefix(out, "tlswatch_chain_verified_expiry_timestamp_seconds{"), 0);
	expect_line(out, "tlswatch_chain_certificates" L "} 2");
	expect_line(out, "tlswatch_chain_issue" L ",issue=\"incomplete\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_chain_issue{"), 1);
	/* the forged series exists only inside a quoted label value */
	assert_int_equal(count_prefix(out, "tlswatch_probe_success{target=\"forged\""), 0);
	assert_int_equal(count_prefix(out, "x\\y"), 0);
	assert_int_equal(count_prefix(out, "tlswatch_probe_success{"), 1);
	free(out);

	/* the handshake failed after the certificates came: they are still
	 * published, the chain verdict is not */
	r.success = 0;
	r.fail_stage = "handshake";
	r.fail_reason = "alert";
	out = render(&t, 1);
	check_structure(out, &t, 1);
	assert_int_equal(count_prefix(out, "tlswatch_cert_not_after_timestamp_seconds{"), 2);
	assert_int_equal(count_prefix(out, "tlswatch_chain_"), 1);
	assert_int_equal(count_prefix(out, "tlswatch_chain_last_seen_timestamp_seconds{"), 1);
	free(out);
#undef L
	free(t.labels);
	cert_del(certs[0]);
	cert_del(certs[1]);
}

static void
test_verified_chain(void **state)
{
	struct cert *certs[3];
	struct conf_target c;
	struct ttarget t;
	struct result r;
	char *out;

	(void)state;
	certs[0] = cert_make("CN=ok.example", "CN=CA", "01", '1', 1700000000, 1760000000);
	certs[1] = cert_make("CN=CA", "CN=Root", "02", '2', 1600000000, 1900000000);
	certs[2] = cert_make("CN=Root", "CN=Root", "03", '3', 1500000000, 2000000000);
	target_setup(&t, &c, "ok", NULL, 0);
	result_blank(&r);
	r.success = 1;
	r.certs = certs;
	r.ncerts = 3;
	r.verdict.verified = 1;
	r.verdict.issues = CHAIN_ISSUE(ROOT_INCLUDED) | CHAIN_ISSUE(DUPLICATE) | CHAIN_ISSUE(MISORDERED);
	r.verdict.earliest_expiry = 1760000000;
	r.verdict.verified_expiry = 1760000001;
	r.time = 1700000000.5;
	t.result = &r;

	out = render(&t, 1);
	check_structure(out, &t, 1);
	expect_line(out, "tlswatch_chain_verified{target=\"ok\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_chain_verify_error{"), 0);
	expect_line(out, "tlswatch_chain_verified_expiry_timestamp_seconds{target=\"ok\"} 1760000001");
	expect_line(out, "tlswatch_chain_earliest_expiry_timestamp_seconds{target=\"ok\"} 1760000000");
	expect_line(out, "tlswatch_chain_certificates{target=\"ok\"} 3");
	expect_line(out, "tlswatch_chain_issue{target=\"ok\",issue=\"misordered\"} 1");
	expect_line(out, "tlswatch_chain_issue{target=\"ok\",issue=\"root_included\"} 1");
	expect_line(out, "tlswatch_chain_issue{target=\"ok\",issue=\"duplicate\"} 1");
	expect_no_line(out, "tlswatch_chain_issue{target=\"ok\",issue=\"incomplete\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_cert_not_before_timestamp_seconds{target=\"ok\",depth=\"2\""), 1);
	/* no handshake details: no tls info series */
	assert_int_equal(count_prefix(out, "tlswatch_tls_"), 0);
	expect_line(out, "tlswatch_chain_last_seen_timestamp_seconds{target=\"ok\"} 1700000000.500");
	free(out);

	/* the endpoint goes down: the last chain's certificate and expiry
	 * series stay, with when it was last seen; the verdict's go */
	{
		struct result down;

		result_blank(&down);
		down.time = 1700000900;
		down.fail_stage = "connect";
		down.fail_reason = "refused";
		t.result = &down;
		t.last_ok = &r;
		out = render(&t, 1);
		check_structure(out, &t, 1);
		expect_line(out, "tlswatch_probe_success{target=\"ok\"} 0");
		assert_int_equal(count_prefix(out, "tlswatch_cert_not_after_timestamp_seconds{"), 3);
		assert_int_equal(count_prefix(out, "tlswatch_cert_not_before_timestamp_seconds{"), 3);
		expect_line(out, "tlswatch_chain_verified_expiry_timestamp_seconds{target=\"ok\"} "
		    "1760000001");
		expect_line(out, "tlswatch_chain_earliest_expiry_timestamp_seconds{target=\"ok\"} "
		    "1760000000");
		expect_line(out, "tlswatch_chain_last_seen_timestamp_seconds{target=\"ok\"} "
		    "1700000000.500");
		assert_int_equal(count_prefix(out, "tlswatch_chain_verified{"), 0);
		assert_int_equal(count_prefix(out, "tlswatch_chain_issue{"), 0);
		assert_int_equal(count_prefix(out, "tlswatch_chain_certificates{"), 0);
		free(out);
		/* nothing kept: nothing published */
		t.last_ok = NULL;
		out = render(&t, 1);
		check_structure(out, &t, 1);
		assert_int_equal(count_prefix(out, "tlswatch_cert_"), 0);
		assert_int_equal(count_prefix(out, "tlswatch_chain_"), 0);
		free(out);
	}
	free(t.labels);
	for (size_t i = 0; i < ARRAY_SIZE(certs); i++)
		cert_del(certs[i]);
}

/* Several targets in several states: every per-target series carries its
 * target's configured labels, families stay contiguous, counts add up. */
static void
test_many_targets(void **state)
{
	struct conf_label la[] = { { "env", "prod" }, { "team", "x" } };
	struct conf_label lb[] = { { "env", "staging" } };
	struct conf_target c[4];
	struct ttarget t[4];
	struct result r[3];
	struct cert *cert;
	char *out;

	(void)state;
	cert = cert_make("CN=shared", "CN=CA", "aa", 'c', 1, 2);
	target_setup(&t[0], &c[0], "a", la, 2);
	target_setup(&t[1], &c[1], "b", lb, 1);
	target_setup(&t[2], &c[2], "c", la, 2);
	target_setup(&t[3], &c[3], "never", lb, 1);
	for (int i = 0; i < 3; i++) {
		result_blank(&r[i]);
		r[i].certs = &cert;
		r[i].ncerts = 1;
		r[i].success = i != 1;
		r[i].fail_stage = i == 1 ? "handshake" : NULL;
		r[i].fail_reason = i == 1 ? "protocol" : NULL;
		r[i].verdict.verified = i == 0;
		r[i].verdict.reasons = i == 2 ? REASON(EXPIRED) | REASON(OTHER) : 0;
		r[i].tls_version = "TLS1.2";
		t[i].result = &r[i];
	}
	out = render(t, 4);
	check_structure(out, t, 4);
	expect_line(out, "tlswatch_targets 4");
	assert_int_equal(count_prefix(out, "tlswatch_probe_success{"), 3);
	assert_int_equal(count_prefix(out, "tlswatch_probes_total{"), 6);
	assert_int_equal(count_prefix(out, "tlswatch_probe_failure_info{"), 1);
	expect_line(out, "tlswatch_probe_failure_info{target=\"b\",env=\"staging\","
	    "stage=\"handshake\",reason=\"protocol\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_chain_verified{"), 2);
	assert_int_equal(count_prefix(out, "tlswatch_chain_verified_expiry_timestamp_seconds{"), 1);
	expect_line(out, "tlswatch_chain_verify_error{target=\"c\",env=\"prod\",team=\"x\",reason=\"expired\"} 1");
	expect_line(out, "tlswatch_chain_verify_error{target=\"c\",env=\"prod\",team=\"x\",reason=\"other\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_cert_not_after_timestamp_seconds{"), 3);
	assert_int_equal(count_prefix(out, "tlswatch_tls_version_info{"), 3);
	/* not probed yet: only tlswatch_target_info and its interval name it */
	assert_int_equal(count_containing(out, "never"), 2);
	assert_int_equal(count_prefix(out, "tlswatch_probe_interval_seconds{target=\"never\""), 1);
	free(out);
	for (int i = 0; i < 4; i++)
		free(t[i].labels);
	cert_del(cert);
}

static void
test_process_metrics(void **state)
{
	char *out, *p;
	unsigned long long v;

	(void)state;
	out = render(NULL, 0);
	expect_line(out, "tlswatch_build_info{version=\"0.1.0\",gnutls_version=\"3.7.9\"} 1");
	expect_line(out, "process_start_time_seconds 1700000000.500");
	assert_int_equal(count_prefix(out, "process_cpu_seconds_total "), 1);
	assert_non_null(p = strstr(out, "\nprocess_resident_memory_bytes "));
	assert_int_equal(sscanf(p, "\nprocess_resident_memory_bytes %llu", &v), 1);
	assert_true(v > 0);
	assert_non_null(p = strstr(out, "\nprocess_virtual_memory_bytes "));
	assert_int_equal(sscanf(p, "\nprocess_virtual_memory_bytes %llu", &v), 1);
	assert_true(v > 0);
	assert_non_null(p = strstr(out, "\nprocess_open_fds "));
	assert_int_equal(sscanf(p, "\nprocess_open_fds %llu", &v), 1);
	assert_true(v >= 3);
	assert_non_null(p = strstr(out, "\nprocess_max_fds "));
	assert_int_equal(sscanf(p, "\nprocess_max_fds %llu", &v), 1);
	assert_true(v >= 3);
	free(out);

	/* hostile version strings are labels like any other */
	{
		struct metrics_info info = { .version = "1\"}\n", .gnutls_version = "\xff",
			.fetch = &test_fetch };
		struct buf b;

		buf_init(&b);
		render_into(&b, NULL, 0, &info);
		assert_non_null(strstr(b.data,
		    "\ntlswatch_build_info{version=\"1\\\"}\\n\",gnutls_version=\"" FFFD "\"} 1\n"));
		check_structure(b.data, NULL, 0);
		buf_free(&b);
	}
}

/* The exposition appends: what the buffer held stays in front. */
static void
test_render_appends(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_puts(&b, "# before\n");
	render_into(&b, NULL, 0, &test_info);
	assert_int_equal(strncmp(b.data, "# before\n# HELP tlswatch_build_info ", 36), 0);
	assert_int_equal(strlen(b.data), b.len);
	buf_free(&b);
}

/* ---- the scheduler's histogram ------------------------------------------ */

static void
test_lateness_histogram(void **state)
{
	static const double bounds[] = { 0.01, 0.1, 1 };
	struct metrics_info info = test_info;
	struct histogram h;
	struct buf b;

	(void)state;
	histogram_init(&h, bounds, ARRAY_SIZE(bounds));
	histogram_observe(&h, 0.005);
	histogram_observe(&h, 0.05);
	histogram_observe(&h, 0.1);      /* on a bound: counts in that bucket */
	histogram_observe(&h, 2);
	info.lateness = &h;
	info.skipped = 7;
	buf_init(&b);
	render_into(&b, NULL, 0, &info);
	check_structure(b.data, NULL, 0);
	expect_line(b.data, "tlswatch_scheduler_lateness_seconds_bucket{le=\"0.01\"} 1");
	expect_line(b.data, "tlswatch_scheduler_lateness_seconds_bucket{le=\"0.1\"} 3");
	expect_line(b.data, "tlswatch_scheduler_lateness_seconds_bucket{le=\"1\"} 3");
	expect_line(b.data, "tlswatch_scheduler_lateness_seconds_bucket{le=\"+Inf\"} 4");
	expect_line(b.data, "tlswatch_scheduler_lateness_seconds_sum 2.155000");
	expect_line(b.data, "tlswatch_scheduler_lateness_seconds_count 4");
	expect_line(b.data, "tlswatch_scheduler_skipped_total 7");
	buf_free(&b);
	histogram_fini(&h);
}

/* ---- the fetcher's counters -------------------------------------------- */

static void
test_fetch_counters(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	render_into(&b, NULL, 0, &test_info);
	check_structure(b.data, NULL, 0);
	/* every kind and result, zeros included, so rates exist from the start */
	expect_line(b.data, "tlswatch_fetch_requests_total{kind=\"crl\",result=\"ok\"} 12");
	expect_line(b.data, "tlswatch_fetch_requests_total{kind=\"crl\",result=\"not_modified\"} 30");
	expect_line(b.data, "tlswatch_fetch_requests_total{kind=\"crl\",result=\"error\"} 1");
	expect_line(b.data, "tlswatch_fetch_requests_total{kind=\"ocsp\",result=\"ok\"} 0");
	expect_line(b.data, "tlswatch_fetch_requests_total{kind=\"ari\",result=\"error\"} 4");
	expect_line(b.data, "tlswatch_fetch_requests_total{kind=\"aia\",result=\"not_modified\"} 0");
	expect_line(b.data, "tlswatch_fetch_cache_entries 7");
	expect_line(b.data, "tlswatch_fetch_cache_bytes 123456");
	expect_line(b.data, "tlswatch_fetch_in_flight_requests 2");
	expect_line(b.data, "tlswatch_fetch_queued_requests 9");
	buf_free(&b);

	/* without a fetcher, none of it */
	struct metrics_info info = test_info;
	info.fetch = NULL;
	buf_init(&b);
	render_into(&b, NULL, 0, &info);
	assert_null(strstr(b.data, "tlswatch_fetch_"));
	buf_free(&b);
}

/* ---- many targets sharing certificates --------------------------------- */

/* A flush hook that keeps what it is handed and, from its first call on,
 * says the reader is gone (buf's cut). */
struct cut_sink {
	struct buf seen;
	size_t flushes;
};

static void
cut_after_first(struct buf *b, void *arg)
{
	struct cut_sink *cs = arg;

	buf_append(&cs->seen, b->data, b->len);
	cs->flushes++;
	b->len = 0;
	b->cut = 1;
}

/* Realistic targets: three labels, a verified chain of three certificates
 * whose intermediate and root are shared (as certs.c interns them). */
static void
render_many(size_t n)
{
	struct conf_label labels[] = { { "env", "production" }, { "team", "platform" },
	    { "zone", "eu-west-1" } };
	struct conf_target *c = xcalloc(n, sizeof(*c));
	struct ttarget *t = xcalloc(n, sizeof(*t));
	struct result *r = xcalloc(n, sizeof(*r));
	struct cert **leaves = xcalloc(n, sizeof(*leaves));
	struct cert **chains = xcalloc(3 * n, sizeof(*chains));
	struct cert *ca, *root;
	char **names = xcalloc(n, sizeof(*names));
	struct cut_sink cut = { .flushes = 0 };
	size_t whole = 0;
	struct buf b;

	ca = cert_make("CN=R3,O=Let's Encrypt,C=US", "CN=ISRG Root X1,O=Internet Security Research Group,C=US",
	    "912b084acf0c18a753f6d62e25a75f5a", 'e', 1600000000, 1800000000);
	root = cert_make("CN=ISRG Root X1,O=Internet Security Research Group,C=US",
	    "CN=DST Root CA X3,O=Digital Signature Trust Co.", "4001772137d4e942b8ee76aa3c640ab7",
	    'f', 1600000000, 1900000000);
	for (size_t i = 0; i < n; i++) {
		names[i] = xasprintf("host-%zu.example.com:443", i);
		leaves[i] = cert_make("CN=host.example.com", "CN=R3,O=Let's Encrypt,C=US",
		    "03a1b2c3d4e5f60718293a4b5c6d7e8f9a0b", 'a' + (char)(i % 6),
		    1700000000, 1707776000);
		chains[3 * i] = leaves[i];
		chains[3 * i + 1] = ca;
		chains[3 * i + 2] = root;
		target_setup(&t[i], &c[i], names[i], labels, ARRAY_SIZE(labels));
		result_blank(&r[i]);
		r[i].success = 1;
		r[i].time = 1700000000.25 + (double)i;
		r[i].duration = 0.0423;
		for (int s = 0; s < STAGE_COUNT; s++)
			r[i].stage_seconds[s] = 0.01;
		r[i].tls_version = "TLS1.3";
		r[i].cipher = "TLS_AES_128_GCM_SHA256";
		r[i].certs = chains + 3 * i;
		r[i].ncerts = 3;
		r[i].verdict.verified = 1;
		r[i].verdict.issues = CHAIN_ISSUE(ROOT_INCLUDED);
		r[i].verdict.earliest_expiry = 1707776000;
		r[i].verdict.verified_expiry = 1707776000;
		t[i].result = &r[i];
		t[i].probes_success = i;
	}
	/* Twice: the per-scrape certificate label cache must not leak state
	 * from one render into the next. */
	for (int round = 0; round < 2; round++) {
		buf_init(&b);
		render_into(&b, t, n, &test_info);
		whole = b.len;
		assert_int_equal(count_prefix(b.data, "tlswatch_probe_success{"), n);
		assert_int_equal(count_prefix(b.data, "tlswatch_cert_not_after_timestamp_seconds{"), 3 * n);
		assert_int_equal(count_prefix(b.data, "tlswatch_cert_not_before_timestamp_seconds{"), 3 * n);
		assert_int_equal(count_prefix(b.data,
		    "tlswatch_cert_not_after_timestamp_seconds{target=\"host-7.example.com:443\",env=\"production\","
		    "team=\"platform\",zone=\"eu-west-1\",depth=\"1\",subject=\"CN=R3,O=Let's Encrypt,C=US\""), 1);
		assert_int_equal(strlen(b.data), b.len);
		buf_free(&b);
	}
	/* A reader that goes after the first piece: the render stops at the
	 * end of the family it is in, the later ones never made. */
	buf_init(&b);
	buf_init(&cut.seen);
	b.flush = cut_after_first;
	b.flush_arg = &cut;
	b.flush_at = 4096;
	render_into(&b, t, n, &test_info);
	cut_after_first(&b, &cut);
	assert_true(cut.flushes >= 2);
	assert_true(cut.seen.len < whole / 4);
	assert_non_null(strstr(cut.seen.data, "tlswatch_build_info{"));
	assert_null(strstr(cut.seen.data, "tlswatch_cert_not_after_timestamp_seconds{"));
	assert_null(strstr(cut.seen.data, "tlswatch_process_"));
	buf_free(&cut.seen);
	buf_free(&b);
	for (size_t i = 0; i < n; i++) {
		free(t[i].labels);
		free(names[i]);
		cert_del(leaves[i]);
	}
	cert_del(ca);
	cert_del(root);
	free(names);
	free(chains);
	free(leaves);
	free(r);
	free(t);
	free(c);
}

/* Speed is measured by the benchmark, not asserted here; this checks that
 * certificates shared by many targets render right for each of them, and
 * that a render whose reader has gone stops. */
static void
test_render_many(void **state)
{
	(void)state;
	render_many(2000);
}

/* ---- promtool ---------------------------------------------------------- */

static void
test_promtool(void **state)
{
	struct conf_label labels[] = { { "env", "a\"b\\c\nd\te\rf\xff" } };
	struct cert *certs[2];
	struct conf_target c[2];
	struct ttarget t[2];
	struct result r[2];
	char path[] = "/tmp/test_metrics.XXXXXX", msg[8192];
	char *out;
	int fd, status, pipefd[2];
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	(void)state;
	certs[0] = cert_make(EVIL_SUBJECT, "CN=\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82",
	    "00", 'd', 0, 1);
	certs[1] = cert_make("CN=\\\\\"\"\n\n", "", "", '0', -5, 4102444800);
	target_setup(&t[0], &c[0], "evil\"}\n# TYPE x counter\n", labels, 1);
	target_setup(&t[1], &c[1], "down", NULL, 0);
	result_blank(&r[0]);
	r[0].success = 1;
	r[0].certs = certs;
	r[0].ncerts = 2;
	r[0].verdict.reasons = ((uint64_t)1 << VERDICT_NREASONS) - 1;
	r[0].verdict.issues = ((uint64_t)1 << VERDICT_NCHAIN_ISSUES) - 1;
	r[0].tls_version = "TLS1.3\"";
	r[0].cipher = "\n";
	r[0].stage_seconds[STAGE_VERIFY] = 0;
	t[0].result = &r[0];
	result_blank(&r[1]);
	r[1].fail_stage = "resolve";
	r[1].fail_reason = "nxdomain\\";
	t[1].result = &r[1];
	out = render(t, 2);
	check_structure(out, t, 2);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	unlink(path);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execlp("promtool", "promtool", "check", "metrics", (char *)NULL);
		_exit(127);
	}
	close(fd);
	close(pipefd[1]);
	while (got < sizeof(msg) - 1 &&
	    (n = read(pipefd[0], msg + got, sizeof(msg) - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		fail_msg("promtool is missing (install Debian's prometheus package): %s", msg);
	if (WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics failed (%d): %s\n--- input ---\n%s",
		    WEXITSTATUS(status), msg, out);
	free(out);
	free(t[0].labels);
	free(t[1].labels);
	cert_del(certs[0]);
	cert_del(certs[1]);
}

/* ---- the HTTP server ----------------------------------------------------- */

struct reply {
	int status;
	char *head;     /* status line and headers */
	char *body;
	size_t bodylen;
};

static int
http_request(uint16_t port, const char *req, struct reply *rep)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };
	struct buf b;
	char chunk[65536], *sep;
	size_t off = 0, len = strlen(req);
	ssize_t n;
	int fd;

	memset(rep, 0, sizeof(*rep));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	while (off < len) {
		if ((n = send(fd, req + off, len - off, MSG_NOSIGNAL)) <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	buf_init(&b);
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0 || b.data == NULL || (sep = strstr(b.data, "\r\n\r\n")) == NULL ||
	    sscanf(b.data, "HTTP/1.1 %d ", &rep->status) != 1) {
		buf_free(&b);
		return -1;
	}
	rep->head = xstrndup(b.data, (size_t)(sep - b.data) + 2);
	rep->bodylen = b.len - (size_t)(sep + 4 - b.data);
	rep->body = xmalloc(rep->bodylen + 1);
	memcpy(rep->body, sep + 4, rep->bodylen);
	rep->body[rep->bodylen] = '\0';
	buf_free(&b);
	return 0;
}

/* Each reply as the client child writes it to the shared file. */
struct reply_rec {
	int status;
	size_t headlen;
	size_t bodylen;
};

static int
write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n <= 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The client runs in a child process (pthread.h cannot be included here:
 * src/sched.h shadows <sched.h> under -Isrc), writing each reply to out. */
static void
client_run(uint16_t port, const char *const *requests, size_t n, int out)
{
	for (size_t i = 0; i < n; i++) {
		struct reply rep;
		struct reply_rec rec = { -1, 0, 0 };

		if (http_request(port, requests[i], &rep) == 0) {
			rec.status = rep.status;
			rec.headlen = strlen(rep.head);
			rec.bodylen = rep.bodylen;
		}
		if (write_all(out, &rec, sizeof(rec)) == -1 ||
		    write_all(out, rep.head, rec.headlen) == -1 ||
		    write_all(out, rep.body, rec.bodylen) == -1)
			_exit(1);
	}
	_exit(0);
}

static void
read_replies(int fd, struct reply *replies, size_t n)
{
	struct stat st;
	char *data, *p;

	assert_int_equal(fstat(fd, &st), 0);
	data = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
	p = data;
	for (size_t i = 0; i < n; i++) {
		struct reply_rec rec;

		assert_true(p + sizeof(rec) <= data + st.st_size);
		memcpy(&rec, p, sizeof(rec));
		p += sizeof(rec);
		assert_true(p + rec.headlen + rec.bodylen <= data + st.st_size);
		replies[i].status = rec.status;
		replies[i].head = xstrndup(p, rec.headlen);
		p += rec.headlen;
		replies[i].bodylen = rec.bodylen;
		replies[i].body = xmalloc(rec.bodylen + 1);
		memcpy(replies[i].body, p, rec.bodylen);
		replies[i].body[rec.bodylen] = '\0';
		p += rec.bodylen;
	}
	assert_true(p == data + st.st_size);
	free(data);
}

/* Big enough to take many non-blocking writes, and checkable. */
struct render_state {
	unsigned calls;
	struct buf expected;
};

static void
test_render_cb(struct buf *out, void *arg)
{
	struct render_state *rs = arg;

	rs->calls++;
	buf_append(out, rs->expected.data, rs->expected.len);
}

static uint16_t
bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	return ntohs(sin.sin_port);
}

static void
expect_header(const struct reply *rep, const char *header)
{
	char want[512];

	snprintf(want, sizeof(want), "\r\n%s\r\n", header);
	if (strcasestr(rep->head, want) == NULL)
		fail_msg("missing header \"%s\" in:\n%s", header, rep->head);
}

static void
test_httpd_serves(void **state)
{
	static const char *const requests[] = {
		"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: 3\r\n\r\na=b",
		"GET /metrics?name[]=x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"DELETE /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
		"GET /metrics/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	};
	struct reply replies[ARRAY_SIZE(requests)];
	struct render_state rs = { 0 };
	struct httpd *h;
	char *err = NULL, want[64], path[] = "/tmp/test_metrics.XXXXXX";
	int fd, donefd[2], outfd, status;
	uint16_t port;
	double deadline;
	pid_t pid;

	(void)state;
	buf_init(&rs.expected);
	for (int i = 0; i < 40000; i++)
		buf_printf(&rs.expected, "tlswatch_test_line{i=\"%d\"} %d\n", i, i);

	fd = httpd_listen("127.0.0.1", 0, &err);
	if (fd == -1)
		fail_msg("httpd_listen: %s", err);
	assert_null(err);
	port = bound_port(fd);
	assert_true(port != 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	h = httpd_new(fd, test_render_cb, &rs, &err);
	if (h == NULL)
		fail_msg("httpd_new: %s", err);
	assert_true(httpd_fd(h) >= 0);

	outfd = mkstemp(path);
	assert_true(outfd >= 0);
	unlink(path);
	assert_int_equal(pipe(donefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(donefd[0]);
		client_run(port, requests, ARRAY_SIZE(requests), outfd);
	}
	close(donefd[1]);

	/* Our loop in miniature: wait on MHD's descriptor and timeout. */
	deadline = wall_now() + 20;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = httpd_fd(h), .events = POLLIN },
			{ .fd = donefd[0], .events = POLLIN },
		};
		int64_t ms = httpd_timeout_ms(h);

		if (ms < 0 || ms > 200)
			ms = 200;
		assert_true(poll(pfd, 2, (int)ms) >= 0);
		httpd_run(h);
		if (pfd[1].revents & (POLLIN | POLLHUP))
			break;      /* the child exited */
		if (wall_now() > deadline) {
			fail_msg("the client did not finish");
		}
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(donefd[0]);
	read_replies(outfd, replies, ARRAY_SIZE(replies));
	close(outfd);

	/* GET /metrics */
	assert_int_equal(replies[0].status, 200);
	expect_header(&replies[0], "Content-Type: " METRICS_CONTENT_TYPE);
	snprintf(want, sizeof(want), "Content-Length: %zu", rs.expected.len);
	expect_header(&replies[0], want);
	assert_int_equal(replies[0].bodylen, rs.expected.len);
	assert_memory_equal(replies[0].body, rs.expected.data, rs.expected.len);
	/* HEAD /metrics: same headers, no body */
	assert_int_equal(replies[1].status, 200);
	expect_header(&replies[1], "Content-Type: " METRICS_CONTENT_TYPE);
	expect_header(&replies[1], want);
	assert_int_equal(replies[1].bodylen, 0);
	/* /healthz */
	assert_int_equal(replies[2].status, 200);
	expect_header(&replies[2], "Content-Type: text/plain; charset=utf-8");
	assert_string_equal(replies[2].body, "ok\n");
	/* unknown path */
	assert_int_equal(replies[3].status, 404);
	assert_string_equal(replies[3].body, "not found\n");
	/* known path, other method */
	assert_int_equal(replies[4].status, 405);
	expect_header(&replies[4], "Allow: GET, HEAD");
	assert_int_equal(replies[6].status, 405);
	expect_header(&replies[6], "Allow: GET, HEAD");
	/* the query string does not change the route */
	assert_int_equal(replies[5].status, 200);
	assert_int_equal(replies[5].bodylen, rs.expected.len);
	/* paths match exactly */
	assert_int_equal(replies[7].status, 404);
	/* GET, HEAD and the query: rendered once each, never for the others */
	assert_int_equal(rs.calls, 3);

	httpd_free(h);
	/* the listening socket went with it: the port is free again */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	fd = httpd_listen("127.0.0.1", port, &err);
	if (fd == -1)
		fail_msg("port not released: %s", err);
	close(fd);

	for (size_t i = 0; i < ARRAY_SIZE(replies); i++) {
		free(replies[i].head);
		free(replies[i].body);
	}
	buf_free(&rs.expected);
}

static void
test_httpd_listen_errors(void **state)
{
	char *err = NULL, want[128];
	uint16_t port;
	int fd, fd2;

	(void)state;
	fd = httpd_listen("127.0.0.1", 0, &err);
	assert_true(fd >= 0);
	port = bound_port(fd);
	fd2 = httpd_listen("127.0.0.1", port, &err);
	assert_int_equal(fd2, -1);
	assert_non_null(err);
	snprintf(want, sizeof(want), "cannot bind 127.0.0.1:%u: Address already in use",
	    (unsigned)port);
	assert_string_equal(err, want);
	free(err);
	err = NULL;
	close(fd);

	/* an address this host does not have */
	fd = httpd_listen("192.0.2.1", 9793, &err);
	assert_int_equal(fd, -1);
	assert_string_equal(err, "cannot bind 192.0.2.1:9793: Cannot assign requested address");
	free(err);
}

static void
test_httpd_new_errors(void **state)
{
	char *err = NULL;
	int fd;

	(void)state;
	httpd_free(NULL);
	assert_null(httpd_new(-1, test_render_cb, NULL, &err));
	assert_non_null(err);
	free(err);
	err = NULL;

	/* a descriptor that is no listening socket is refused; it is still
	 * taken over (closed) */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_null(httpd_new(fd, test_render_cb, NULL, &err));
	assert_non_null(err);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	free(err);
}

/* addresses = "all": one row per address, labelled; what each target is
 * probed with; the client certificate's expiry. */
static void
test_address_rows(void **state)
{
	struct conf_target c[2];
	struct ttarget t[2];
	struct result ok, bad;
	struct taddr a[2];
	char *out;

	(void)state;
	target_setup(&t[0], &c[0], "multi", NULL, 0);
	target_setup(&t[1], &c[1], "plain", NULL, 0);
	c[0].address = "a.test:587";
	c[0].server_name = "a.test";
	c[0].tls.starttls = STARTTLS_SMTP;
	c[0].tls.addresses_all = 1;
	c[1].address = "127.0.0.1:443";
	c[1].tls.creds = (const struct tls_creds *)&c[1];  /* loaded, as conf_load does */
	c[1].tls.client_not_after = 1800000000;

	result_blank(&ok);
	ok.success = 1;
	ok.verdict.verified = 1;
	ok.verdict.verified_expiry = 1900000000;
	result_blank(&bad);
	bad.fail_stage = "starttls";
	bad.fail_reason = "not_offered";
	memset(a, 0, sizeof(a));
	a[0].address = "127.0.0.1";
	a[0].result = &ok;
	a[0].probes_success = 3;
	a[1].address = "::1";
	a[1].result = &bad;
	a[1].probes_failure = 2;
	t[0].addrs = a;
	t[0].naddrs = 2;
	t[0].result = &ok;      /* the first address's, not rendered as such */
	t[1].result = &ok;
	t[1].probes_success = 1;

	out = render(t, 2);
	check_structure(out, t, 2);
	expect_line(out, "tlswatch_targets 2");
	expect_line(out, "tlswatch_probe_success{target=\"multi\",address=\"127.0.0.1\"} 1");
	expect_line(out, "tlswatch_probe_success{target=\"multi\",address=\"::1\"} 0");
	expect_line(out, "tlswatch_probe_success{target=\"plain\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_probe_success{target=\"multi\"}"), 0);
	expect_line(out, "tlswatch_probe_failure_info{target=\"multi\",address=\"::1\","
	    "stage=\"starttls\",reason=\"not_offered\"} 1");
	expect_line(out, "tlswatch_probes_total{target=\"multi\",address=\"127.0.0.1\","
	    "result=\"success\"} 3");
	expect_line(out, "tlswatch_probes_total{target=\"multi\",address=\"::1\","
	    "result=\"failure\"} 2");
	expect_line(out, "tlswatch_chain_verified{target=\"multi\",address=\"127.0.0.1\"} 1");
	assert_int_equal(count_prefix(out, "tlswatch_chain_verified{"), 2);
	expect_line(out, "tlswatch_target_info{target=\"multi\",address=\"a.test:587\","
	    "server_name=\"a.test\",starttls=\"smtp\"} 1");
	expect_line(out, "tlswatch_target_info{target=\"plain\",address=\"127.0.0.1:443\","
	    "server_name=\"\",starttls=\"none\"} 1");
	expect_line(out, "tlswatch_client_cert_not_after_timestamp_seconds{target=\"plain\"} "
	    "1800000000");
	assert_int_equal(count_prefix(out, "tlswatch_client_cert_not_after_timestamp_seconds{"), 1);
	free(out);
	for (int i = 0; i < 2; i++)
		free(t[i].labels);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_random),
		cmocka_unit_test(test_target_labels),
		cmocka_unit_test(test_not_probed),
		cmocka_unit_test(test_failed_probe),
		cmocka_unit_test(test_unverified_chain),
		cmocka_unit_test(test_verified_chain),
		cmocka_unit_test(test_many_targets),
		cmocka_unit_test(test_process_metrics),
		cmocka_unit_test(test_render_appends),
		cmocka_unit_test(test_render_many),
		cmocka_unit_test(test_lateness_histogram),
		cmocka_unit_test(test_fetch_counters),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_address_rows),
		cmocka_unit_test(test_httpd_serves),
		cmocka_unit_test(test_httpd_listen_errors),
		cmocka_unit_test(test_httpd_new_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
