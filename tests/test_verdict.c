/* test_verdict.c - the verdict and the check interface (verdict.c, check.h):
 * what a check sees (the chain, the verified path with its anchor, the
 * settings, the handshake's facts), what it contributes (reasons, chain and
 * certificate issues, a reuse bound, its own result rendered into metric
 * families without metrics.c knowing it), a check waiting for data (the
 * input retained, bounded, re-run), and the words. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/util.h"
#include "result.h"
#include "serve/metrics.h"
#include "serve/status.h"
#include "core/fp.h"
#include "state/store.h"
#include "testlib.h"
#include "verdict/chain.h"
#include "verdict/check.h"
#include "verdict/verdict.h"

static struct tc root, inter, leaf;
static struct trust *trust;
static struct der chain[2];

/* ---- a check of the tests' own ---- */

struct seen {
	int runs;
	size_t nchain, npath;
	long anchor_index;
	int anchor_is_root;
	const char *hostname;
	const struct conf_target *target;
	size_t nstaples;
	size_t staple_len;
	const char *group;
	int recheck;
	char *ref_target, *ref_address;
};

static struct seen seen;
static int mode_pending, mode_fail, mode_issue, mode_auth, mode_stale, mode_noblob;
static int64_t mode_until;
static int bit_reason = -1, bit_issue = -1;
static int blobs_freed;

struct blob {
	char word[16];
	double value;
};

static void
test_run(const struct check_input *in, struct check_output *out)
{
	struct blob *b;

	seen.runs++;
	seen.nchain = in->chain->n;
	seen.npath = in->path ? in->path->n : 0;
	if (in->path) {
		seen.anchor_index = in->path->index[in->path->n - 1];
		seen.anchor_is_root = in->path->certs[in->path->n - 1] != NULL &&
		    in->path->certs[in->path->n - 1]->self_signed;
	}
	seen.hostname = in->hostname;
	seen.target = in->target;
	seen.nstaples = in->tls->nstaples;
	seen.staple_len = in->tls->nstaples ? in->tls->staples[0].len : 0;
	seen.group = in->tls->group;
	seen.recheck = in->recheck;
	free(seen.ref_target);
	free(seen.ref_address);
	seen.ref_target = in->ref_target ? xstrdup(in->ref_target) : NULL;
	seen.ref_address = in->ref_address ? xstrdup(in->ref_address) : NULL;
	if (mode_fail)
		out->reasons |= (uint64_t)1 << bit_reason;
	if (mode_issue)
		out->cert_issues[1] |= (uint64_t)1 << bit_issue;
	if (mode_until)
		out->valid_until = mode_until;
	out->pending = mode_pending;
	if (mode_auth) {
		out->authenticated = 1;
		out->authenticated_expiry = 1234567890;
	}
	if (mode_noblob)
		return;
	b = xcalloc(1, sizeof(*b));
	snprintf(b->word, sizeof(b->word), "w\"%d", seen.runs);
	b->value = 1.5 * seen.runs;
	out->blob = b;
}

static void
test_free_blob(void *p)
{
	blobs_freed++;
	free(p);
}

static const char *const test_labels[] = { "test_word", NULL };

static int
test_sample(const void *blob, size_t i, struct check_sample *s)
{
	const struct blob *b = blob;

	if (i > 0)
		return 0;
	s->names[0] = "test_word";
	s->values[0] = b->word;
	s->value = b->value;
	return 1;
}

static const struct check_family test_families[] = {
	{ "tlswatch_test_value", "gauge", "A test check's own family.", test_labels, test_sample },
};

static void
test_describe(const void *blob, struct buf *out)
{
	buf_printf(out, "the test check saw %s\n", ((const struct blob *)blob)->word);
}

/* mode_stale: the data a blob was made from has changed since */
static int
test_holds(const void *blob)
{
	(void)blob;
	return !mode_stale;
}

static const struct check test_check = {
	.name = "test",
	.holds = test_holds,
	.run = test_run,
	.free_blob = test_free_blob,
	.families = test_families,
	.nfamilies = 1,
	.describe = test_describe,
};

static void
reset(void)
{
	free(seen.ref_target);
	free(seen.ref_address);
	memset(&seen, 0, sizeof(seen));
	mode_pending = mode_fail = mode_issue = mode_auth = mode_stale = mode_noblob = 0;
	mode_until = 0;
}

static int
setup(void **state)
{
	(void)state;
	reset();
	return 0;
}

/* ---- the tests ---- */

/* The check sees the chain, the path to the anchor (the root, not
 * presented), the name, the settings and the facts; it runs after the
 * built-in chain check, whose issues are still there. */
static void
test_input(void **state)
{
	struct conf_target ct = { .name = (char *)"t" };
	unsigned char staple[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	struct der staples[1] = { { staple, sizeof(staple) } };
	struct tls_facts facts = { staples, 1, { NULL, 0 }, "X25519", "ECDSA-SECP256R1-SHA256", 0, 0 };
	struct verdict_input in = { chain, 2, trust, &ct, "good.test", (int64_t)time(NULL), &facts,
		"t", "::1" };
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_true(v.verified);
	assert_int_equal(v.reasons, 0);
	assert_int_equal(v.issues, 0);
	assert_int_equal(seen.runs, 1);
	assert_int_equal(seen.nchain, 2);
	assert_int_equal(seen.npath, 3);
	assert_int_equal(seen.anchor_index, -1);
	assert_true(seen.anchor_is_root);
	assert_string_equal(seen.hostname, "good.test");
	assert_ptr_equal(seen.target, &ct);
	assert_int_equal(seen.nstaples, 1);
	assert_int_equal(seen.staple_len, sizeof(staple));
	assert_string_equal(seen.group, "X25519");
	assert_false(seen.recheck);
	assert_string_equal(seen.ref_target, "t");
	assert_string_equal(seen.ref_address, "::1");
	/* its blob is kept, for its own families */
	assert_non_null(verdict_blob(&v, verdict_nchecks() - 1));
	assert_null(verdict_blob(&v, 0));       /* the chain check keeps none */
	verdict_fini(&v);
	assert_int_equal(blobs_freed, 1);

	/* the chain check still reports: the leaf alone is incomplete */
	assert_int_equal(verdict_evaluate(&(struct verdict_input){ chain, 1, trust, NULL,
	    "good.test", (int64_t)time(NULL), NULL, NULL, NULL }, &v), 0);
	assert_int_equal(v.issues, CHAIN_ISSUE(INCOMPLETE));
	assert_int_equal(seen.npath, 0);
	assert_int_equal(seen.nstaples, 0);     /* no facts: empty ones */
	verdict_fini(&v);
}

/* What a check adds: a reason fails the chain; an issue of a certificate
 * is kept by depth; valid_until bounds reuse. */
static void
test_output(void **state)
{
	int64_t now = (int64_t)time(NULL);
	/* a CA of its own: policy "private", so that the policy check has
	 * nothing to say of the test PKI's short-lived leaves */
	struct conf_target ct = { .name = (char *)"t", .ca_file = (char *)"ca.pem" };
	struct verdict_input in = { chain, 2, trust, &ct, "good.test", now, NULL, "t", NULL };
	struct verdict v;
	const uint64_t *ci;
	size_t n;

	(void)state;
	mode_fail = mode_issue = 1;
	mode_until = now + 30;
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_false(v.verified);
	assert_int_equal(v.reasons, (uint64_t)1 << bit_reason);
	assert_int_equal(v.verified_expiry, 0);
	assert_non_null(ci = verdict_cert_issues(&v, &n));
	assert_int_equal(n, 2);
	assert_int_equal(ci[0], 0);
	assert_int_equal(ci[1], (uint64_t)1 << bit_issue);
	assert_int_equal(v.until, now + 30);
	assert_true(v.from <= now);
	verdict_fini(&v);

	/* without a bound: the certificates' dates and the hour */
	reset();
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_true(v.verified);
	assert_int_equal(v.until, now + 3600);
	assert_null(verdict_cert_issues(&v, &n));
	verdict_fini(&v);
}

/* The check's blob and certificate issues in the exposition, through the
 * family it declared; its label is reserved for configured labels. */
static void
test_metrics(void **state)
{
	struct conf_target ct = { .name = (char *)"t", .ca_file = (char *)"ca.pem" };
	struct verdict_input in = { chain, 2, trust, &ct, "good.test", (int64_t)time(NULL),
		NULL, "t", NULL };
	struct metrics_info info = { .version = "x", .gnutls_version = "y" };
	struct metrics_target mt;
	struct metrics_row row;
	struct result r;
	struct buf b;
	char *want;

	(void)state;
	mode_issue = 1;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < STAGE_COUNT; i++)
		r.stage_seconds[i] = -1;
	r.success = 1;
	r.certs = xcalloc(2, sizeof(*r.certs));
	r.certs[0] = cert_get(chain[0].data, chain[0].len);
	r.certs[1] = cert_get(chain[1].data, chain[1].len);
	r.ncerts = 2;
	assert_int_equal(verdict_evaluate(&in, &r.verdict), 0);
	memset(&mt, 0, sizeof(mt));
	mt.labels = "target=\"t\"";
	mt.conf = &ct;
	row = (struct metrics_row){ "target=\"t\"", NULL, &r, 1, 0, &r, NULL };
	buf_init(&b);
	metrics_render(&b, &mt, 1, &row, 1, &info);
	assert_non_null(strstr(b.data, "# HELP tlswatch_test_value A test check's own family.\n"
	    "# TYPE tlswatch_test_value gauge\n"
	    "tlswatch_test_value{target=\"t\",test_word=\"w\\\"1\"} 1.5\n"));
	want = xasprintf("# TYPE tlswatch_cert_issue gauge\ntlswatch_cert_issue{target=\"t\","
	    "depth=\"1\",sha256=\"%s\",issue=\"test_issue\"} 1\n", r.certs[1]->sha256);
	assert_non_null(strstr(b.data, want));
	free(want);
	buf_free(&b);
	assert_true(metrics_label_reserved("test_word"));
	/* and for people: the tool's and the status page's details */
	buf_init(&b);
	verdict_describe(verdict_nchecks() - 1, verdict_blob(&r.verdict, verdict_nchecks() - 1), &b);
	assert_string_equal(b.data, "the test check saw w\"1\n");
	buf_free(&b);
	{
		struct store_record *st = store_record_new("t");
		struct status_entry e = { .name = "t", .r = &r, .st = st };
		struct status_view sv = { NULL, { 21ULL * 86400 * 1000, 0 }, { 7ULL * 86400 * 1000, 0 },
			(double)time(NULL), NULL };

		st->chain.n = 2;
		st->chain.fps = xcalloc(2, sizeof(*st->chain.fps));
		st->certs = xcalloc(2, sizeof(*st->certs));
		for (int i = 0; i < 2; i++) {
			st->chain.fps[i] = fp_get(r.certs[i]->sha256);
			st->certs[i] = cert_ref(r.certs[i]);
		}
		buf_init(&b);
		status_json_target(&b, &e, &sv);
		assert_non_null(strstr(b.data, ",\"findings\":[{\"check\":\"test\","
		    "\"text\":\"the test check saw w\\\"1\"}],\"checks\":{\"revocation\":"
		    "{\"mode\":\"soft\",\"staple_present\":false,\"must_staple\":false,"
		    "\"certificates\":[{\"depth\":0,"));
		/* the test check has no JSON form: it is not among them */
		assert_null(strstr(b.data, "\"test\":{"));
		assert_non_null(strstr(b.data, "\"issues\":[\"test_issue\"]}]"));
		buf_free(&b);
		buf_init(&b);
		status_html_target(&b, &e, &sv);
		assert_non_null(strstr(b.data, "<tr><th>Findings</th><td><ul><li>test: the test "
		    "check saw w&quot;1</li></ul>"));
		assert_non_null(strstr(b.data, "<tr><th>Issues</th><td><a href=\"/?issue=test_issue\">"
		    "test_issue</a></td></tr>"));
		buf_free(&b);
		store_record_free(st);
	}
	verdict_fini(&r.verdict);
	cert_put(r.certs[0]);
	cert_put(r.certs[1]);
	free(r.certs);
}

/* A check waiting for data: the input is kept (and counted), the verdict
 * is not reused, and a recheck runs the checks on the kept input. */
static void
test_pending(void **state)
{
	int64_t now = (int64_t)time(NULL);
	unsigned char staple[] = { 1, 2, 3 };
	struct der staples[1] = { { staple, sizeof(staple) } };
	struct tls_facts facts = { staples, 1, { NULL, 0 }, "X25519", NULL, 0, 0 };
	struct verdict_input in = { chain, 2, trust, NULL, "good.test", now, &facts, "t", NULL };
	struct verdict v, v2, copy;
	struct cert *certs[2];

	(void)state;
	certs[0] = cert_get(chain[0].data, chain[0].len);
	certs[1] = cert_get(chain[1].data, chain[1].len);
	mode_pending = 1;
	assert_int_equal(verdict_retained_bytes(), 0);
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_true(verdict_pending(&v));
	assert_true(verdict_retained(&v));
	assert_int_equal(verdict_retained_bytes(), chain[0].len + chain[1].len + sizeof(staple));
	assert_false(verdict_holds(&v, certs, 2, certs, 2, 2, trust, "good.test", &facts, now));
	/* the copy a reusing result holds shares what was kept */
	verdict_copy(&copy, &v);
	assert_int_equal(verdict_retained_bytes(), chain[0].len + chain[1].len + sizeof(staple));

	/* the data arrived: the same input again, without a handshake */
	mode_pending = 0;
	mode_fail = 1;
	in.chain = NULL;
	in.n = 0;
	in.tls = NULL;
	assert_int_equal(verdict_recheck(&v, &in, &v2), 0);
	assert_true(seen.recheck);
	assert_int_equal(seen.nchain, 2);
	assert_int_equal(seen.staple_len, sizeof(staple));
	assert_false(v2.verified);
	assert_false(verdict_pending(&v2));
	assert_false(verdict_retained(&v2));
	verdict_fini(&v);
	verdict_fini(&copy);
	assert_int_equal(verdict_retained_bytes(), 0);
	/* nothing kept, nothing to recheck */
	assert_int_equal(verdict_recheck(&v2, &in, &v), -1);
	/* settled: reusable again, for a handshake that said the same */
	assert_true(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "good.test", &facts, now));
	assert_false(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "other.test", &facts, now));
	assert_false(verdict_holds(&v2, certs, 2, certs, 1, 2, trust, "good.test", &facts, now));
	/* another staple, no staple, an SCT extension: the checks must see it */
	staple[2] = 4;
	assert_false(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "good.test", &facts, now));
	staple[2] = 3;
	facts.nstaples = 0;
	assert_false(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "good.test", &facts, now));
	assert_false(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "good.test", NULL, now));
	facts.nstaples = 1;
	facts.scts.data = staple;
	facts.scts.len = 0;
	assert_false(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "good.test", &facts, now));
	facts.scts.data = NULL;
	assert_true(verdict_holds(&v2, certs, 2, certs, 2, 2, trust, "good.test", &facts, now));
	verdict_fini(&v2);
	cert_put(certs[0]);
	cert_put(certs[1]);
}

static size_t
check_index(const char *name)
{
	for (size_t i = 0; i < verdict_nchecks(); i++)
		if (strcmp(verdict_check_name(i), name) == 0)
			return i;
	fail_msg("no check %s", name);
	return 0;
}

/* Two targets presenting one chain hold one detail and one blob of each
 * check with a key, whoever they are; a verdict that says something else
 * (revocation off) has a detail and a revocation blob of its own but
 * shares the policy's; a copy shares; the last verdict frees them. A
 * check without a key (the test's) keeps a blob, and so a detail, per
 * verdict. */
static void
test_shared(void **state)
{
	int64_t now = (int64_t)time(NULL);
	struct conf_target ct1 = { .name = (char *)"t1" };
	struct conf_target ct2 = { .name = (char *)"t2" };
	struct conf_target off = { .name = (char *)"t3", .revocation = CONF_REVOCATION_OFF };
	struct verdict_input in = { chain, 2, trust, &ct1, "good.test", now, NULL, "t1", NULL };
	struct verdict v1, v2, v3, copy, own1, own2;
	size_t rev = check_index("revocation"), pol = check_index("policy");
	unsigned long details0, blobs0, details, blobs;

	(void)state;
	mode_noblob = 1;
	details0 = verdict_shared_count(&blobs0);
	assert_int_equal(verdict_evaluate(&in, &v1), 0);
	in.target = &ct2;
	in.ref_target = "t2";
	assert_int_equal(verdict_evaluate(&in, &v2), 0);
	assert_true(v1.verified && v2.verified);
	assert_non_null(v1.detail);
	assert_ptr_equal(v1.detail, v2.detail);
	assert_non_null(verdict_blob(&v1, rev));
	assert_non_null(verdict_blob(&v1, pol));
	assert_ptr_equal(verdict_blob(&v1, rev), verdict_blob(&v2, rev));
	assert_ptr_equal(verdict_blob(&v1, pol), verdict_blob(&v2, pol));
	details = verdict_shared_count(&blobs);
	assert_int_equal(details, details0 + 1);
	assert_int_equal(blobs, blobs0 + 2);

	in.target = &off;
	assert_int_equal(verdict_evaluate(&in, &v3), 0);
	assert_true(v3.detail != v1.detail);
	assert_true(verdict_blob(&v3, rev) != verdict_blob(&v1, rev));
	assert_ptr_equal(verdict_blob(&v3, pol), verdict_blob(&v1, pol));
	assert_int_equal(verdict_shared_count(&blobs), details0 + 2);
	assert_int_equal(blobs, blobs0 + 3);

	verdict_copy(&copy, &v1);
	assert_ptr_equal(copy.detail, v1.detail);
	verdict_fini(&v1);
	verdict_fini(&v2);
	assert_int_equal(verdict_shared_count(NULL), details0 + 2);
	assert_non_null(verdict_blob(&copy, rev));   /* still readable */
	verdict_fini(&copy);
	verdict_fini(&v3);
	assert_int_equal(verdict_shared_count(&blobs), details0);
	assert_int_equal(blobs, blobs0);

	/* the test's check has no key: each verdict its own blob and detail */
	mode_noblob = 0;
	in.target = &ct1;
	assert_int_equal(verdict_evaluate(&in, &own1), 0);
	assert_int_equal(verdict_evaluate(&in, &own2), 0);
	assert_true(own1.detail != own2.detail);
	assert_ptr_equal(verdict_blob(&own1, rev), verdict_blob(&own2, rev));
	verdict_fini(&own1);
	verdict_fini(&own2);
	assert_int_equal(verdict_shared_count(&blobs), details0);
	assert_int_equal(blobs, blobs0);
}

/* A check that authenticates the peer by other means (DANE): the verdict
 * is verified though GnuTLS's verification failed, judged by the check's
 * expiry; a reason of a check still fails it; and a check whose data
 * changed keeps the verdict from being reused. */
static void
test_authenticated(void **state)
{
	int64_t now = (int64_t)time(NULL);
	struct verdict_input in = { chain, 2, trust, NULL, "other.test", now, NULL, "t", NULL };
	struct verdict v;
	struct cert *certs[2];

	(void)state;
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_false(v.verified);
	assert_int_equal(v.reasons, REASON(HOSTNAME_MISMATCH));
	verdict_fini(&v);

	mode_auth = 1;
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_true(v.verified);
	assert_int_equal(v.reasons, 0);
	assert_int_equal(v.verified_expiry, 1234567890);
	assert_int_equal(verdict_expiry(&v), 1234567890);
	verdict_fini(&v);

	mode_fail = 1;
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_false(v.verified);
	assert_int_equal(v.reasons, (uint64_t)1 << bit_reason);
	assert_int_equal(v.verified_expiry, 0);
	verdict_fini(&v);

	/* a chain the Web PKI verifies keeps its own expiry */
	mode_fail = 0;
	in.hostname = "good.test";
	assert_int_equal(verdict_evaluate(&in, &v), 0);
	assert_true(v.verified);
	assert_true(v.verified_expiry != 1234567890);
	certs[0] = cert_get(chain[0].data, chain[0].len);
	certs[1] = cert_get(chain[1].data, chain[1].len);
	assert_true(verdict_holds(&v, certs, 2, certs, 2, 2, trust, "good.test", NULL, now));
	mode_stale = 1;
	assert_false(verdict_holds(&v, certs, 2, certs, 2, 2, trust, "good.test", NULL, now));
	verdict_fini(&v);
	cert_put(certs[0]);
	cert_put(certs[1]);
}

static void
hook(void *arg, const char *target, const char *address)
{
	char **got = arg;

	free(*got);
	*got = xasprintf("%s/%s", target, address ? address : "-");
}

static void
test_recheck_hook(void **state)
{
	char *got = NULL;

	(void)state;
	verdict_request_recheck("t", NULL);     /* no hook: dropped */
	verdict_set_recheck_hook(hook, &got);
	verdict_request_recheck("t", "::1");
	assert_string_equal(got, "t/::1");
	verdict_unset_recheck_hook(&seen);      /* not its owner: stays */
	verdict_request_recheck("u", NULL);
	assert_string_equal(got, "u/-");
	verdict_unset_recheck_hook(&got);
	verdict_request_recheck("v", NULL);
	assert_string_equal(got, "u/-");
	free(got);
}

static void
test_words(void **state)
{
	struct buf b;
	uint64_t set;
	const char *w[64];

	(void)state;
	buf_init(&b);
	verdict_words_join(&b, VERDICT_REASON, REASON(EXPIRED) | REASON(OTHER), ", ", "-");
	assert_string_equal(b.data, "expired, other");
	b.len = 0;
	verdict_words_join(&b, VERDICT_CHAIN_ISSUE, 0, ",", "-");
	assert_string_equal(b.data, "-");
	buf_free(&b);
	assert_int_equal(verdict_words_parse(VERDICT_REASON, "self_signed,revoked", &set), 0);
	assert_int_equal(set, REASON(SELF_SIGNED) | REASON(REVOKED));
	assert_int_equal(verdict_words_parse(VERDICT_REASON, "-", &set), 0);
	assert_int_equal(set, 0);
	/* a word of a newer version is not guessed at */
	assert_int_equal(verdict_words_parse(VERDICT_REASON, "expired,frobbed", &set), -1);
	assert_int_equal(verdict_word_bit(VERDICT_CHAIN_ISSUE, "duplicate"), VBIT_DUPLICATE);
	assert_int_equal(verdict_word_bit(VERDICT_CHAIN_ISSUE, "nope"), -1);
	/* added words come after the built-in ones, once */
	assert_int_equal(bit_reason, VERDICT_NREASONS);
	assert_int_equal(verdict_word_add(VERDICT_REASON, "test_reason"), bit_reason);
	assert_string_equal(verdict_word(VERDICT_REASON, (unsigned)bit_reason), "test_reason");
	assert_int_equal(verdict_words(VERDICT_CERT_ISSUE, (uint64_t)1 << bit_issue, w), 1);
	assert_string_equal(w[0], "test_issue");
	assert_null(verdict_word(VERDICT_REASON, 63));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_input, setup),
		cmocka_unit_test_setup(test_output, setup),
		cmocka_unit_test_setup(test_metrics, setup),
		cmocka_unit_test_setup(test_pending, setup),
		cmocka_unit_test_setup(test_authenticated, setup),
		cmocka_unit_test_setup(test_shared, setup),
		cmocka_unit_test_setup(test_recheck_hook, setup),
		cmocka_unit_test_setup(test_words, setup),
	};
	static const char *const sans[] = { "DNS:good.test", NULL };
	struct tc_spec rs = { .cn = "Verdict Root", .ca = 1 };
	struct tc_spec is = { .cn = "Verdict Intermediate", .ca = 1 };
	struct tc_spec ls = { .cn = "good.test", .sans = sans };
	char path[64], *err = NULL;
	int rc;

	tc_make(&root, &rs, NULL);
	tc_make(&inter, &is, &root);
	tc_make(&leaf, &ls, &inter);
	chain[0] = leaf.der;
	chain[1] = inter.der;
	snprintf(path, sizeof(path), "/tmp/test_verdict.%d.pem", (int)getpid());
	tc_write(&root, NULL, path, NULL);
	trust = trust_load(path, &err);
	unlink(path);
	if (trust == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	bit_reason = verdict_word_add(VERDICT_REASON, "test_reason");
	bit_issue = verdict_word_add(VERDICT_CERT_ISSUE, "test_issue");
	if (bit_reason < 0 || bit_issue < 0 || verdict_add_check(&test_check) == -1)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	reset();
	trust_free(trust);
	tc_free(&leaf);
	tc_free(&inter);
	tc_free(&root);
	return rc == 0 && cert_count() == 0 ? 0 : 1;
}
