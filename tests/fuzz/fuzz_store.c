/*
 * fuzz_store.c - the state-file parser (store_parse_file) on any bytes,
 * and its round trip: a state that parses, rendered as the daemon writes
 * it (store_render) and parsed again, is the same state, and renders to
 * the same text. The same bytes go through store_load too, as a target's
 * file (it also hashes the content lines as they are on disk), and the
 * rendered text loads back as its own target.
 *
 * The state directory holds the test PKI's certificates, so seeds that name
 * them (corpus/store) load real certificates through cert_get.
 *
 * Invariants: a refused file says why ("line N: ..."); an accepted one has
 * a name, a certs entry per fingerprint, and a result only with a time;
 * every certificate reference is given back when it is freed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "verdict/certs.h"
#include "fuzz.h"
#include "core/loop.h"
#include "state/store.h"
#include "result.h"
#include "core/util.h"

static char *state_file;
static char *targets_dir;    /* the store's, for store_load */
static struct loop *loop;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_state_certs(fuzz_dir());
	state_file = fuzz_path("t.state");
	targets_dir = fuzz_path("targets");
	if (mkdir(targets_dir, 0700) == -1 && errno != EEXIST)
		abort();
	if ((loop = loop_new()) == NULL)
		abort();
	return 0;
}

/* Times are written with 3 decimals (6 for durations): equal within that. */
static int
near(double a, double b, int decimals)
{
	double d = a > b ? a - b : b - a, m = a < 0 ? -a : a;

	return d <= (decimals == 3 ? 0.0005 : 0.0000005) + m * 1e-15;
}

static int
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void
check_chain(const struct store_chain *a, const struct store_chain *b, const char *what)
{
	FUZZ_CHECK(a->n == b->n, "%s: %zu fingerprints, then %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		FUZZ_CHECK(strcmp(a->fps[i], b->fps[i]) == 0, "%s: fingerprint %zu changed", what, i);
}

/* What is written of st and r survives a write and a read. */
static void
check_same(const struct store_record *a, const struct result *ra,
    const struct store_record *b, const struct result *rb)
{
	FUZZ_CHECK(strcmp(a->name, b->name) == 0, "name \"%s\" came back as \"%s\"", a->name,
	    b->name);
	FUZZ_CHECK(near(a->first_seen, b->first_seen, 3), "first_seen %f, then %f",
	    a->first_seen, b->first_seen);
	FUZZ_CHECK(near(a->last_change, b->last_change, 3), "last_change %f, then %f",
	    a->last_change, b->last_change);
	FUZZ_CHECK(near(a->chain_changed, b->chain_changed, 3), "chain_changed %f, then %f",
	    a->chain_changed, b->chain_changed);
	FUZZ_CHECK(a->chain_changes == b->chain_changes, "chain_changes changed");
	check_chain(&a->chain, &b->chain, "chain");
	for (size_t i = 0; i < a->chain.n; i++)
		FUZZ_CHECK(a->certs[i] == b->certs[i], "certificate %zu loaded once only", i);
	FUZZ_CHECK(a->nhist == b->nhist, "%zu history entries, then %zu", a->nhist, b->nhist);
	for (size_t i = 0; i < a->nhist; i++) {
		FUZZ_CHECK(near(a->hist[i].since, b->hist[i].since, 3) &&
		    near(a->hist[i].until, b->hist[i].until, 3), "history %zu: times changed", i);
		check_chain(&a->hist[i], &b->hist[i], "history");
	}
	FUZZ_CHECK(a->have_verdict == b->have_verdict, "the verdict came and went");
	if (a->have_verdict)
		FUZZ_CHECK(a->verified == b->verified && a->reasons == b->reasons &&
		    a->issues == b->issues, "the verdict changed");
	FUZZ_CHECK((ra == NULL) == (rb == NULL), "the result %s", ra ? "was lost" : "appeared");
	if (ra == NULL)
		return;
	FUZZ_CHECK(near(ra->time, rb->time, 3), "probe_time %f, then %f", ra->time, rb->time);
	FUZZ_CHECK(near(ra->duration, rb->duration, 6), "probe_duration %f, then %f",
	    ra->duration, rb->duration);
	for (int i = 0; i < STAGE_COUNT; i++)
		FUZZ_CHECK(ra->stage_seconds[i] < 0 ? rb->stage_seconds[i] < 0 :
		    near(ra->stage_seconds[i], rb->stage_seconds[i], 6),
		    "stage %d: %f, then %f", i, ra->stage_seconds[i], rb->stage_seconds[i]);
	FUZZ_CHECK(ra->success == rb->success, "success changed");
	if (ra->success) {
		FUZZ_CHECK(ra->ncerts == rb->ncerts, "%zu certificates, then %zu", ra->ncerts,
		    rb->ncerts);
		if (a->have_verdict)
			FUZZ_CHECK(ra->verdict.earliest_expiry == rb->verdict.earliest_expiry &&
			    ra->verdict.verified_expiry == rb->verdict.verified_expiry,
			    "expiry changed");
	} else {
		FUZZ_CHECK(str_same(ra->fail_stage, rb->fail_stage) &&
		    str_same(ra->fail_reason, rb->fail_reason), "the failure changed");
		FUZZ_CHECK(str_same(ra->fail_detail ? ra->fail_detail : "", rb->fail_detail),
		    "fail_detail changed");
	}
	FUZZ_CHECK(str_same(ra->peer, rb->peer) && str_same(ra->tls_version, rb->tls_version) &&
	    str_same(ra->cipher, rb->cipher), "peer, version or cipher changed");
}

static void
check_parsed(const struct store_record *st, const struct result *r)
{
	FUZZ_CHECK(st->name != NULL && st->name[0] != '\0', "a state without a name");
	FUZZ_CHECK(st->certs != NULL, "no certs array");
	FUZZ_CHECK(st->nhist <= STORE_HISTORY, "%zu history entries", st->nhist);
	if (r == NULL)
		return;
	FUZZ_CHECK(r->time > 0, "a result at time %f", r->time);
	if (r->success)
		FUZZ_CHECK(r->ncerts <= st->chain.n, "more certificates than fingerprints");
	else
		FUZZ_CHECK(r->fail_stage != NULL && r->fail_reason != NULL, "a failure without why");
}

static int
parse(const void *text, size_t len, struct store_record **st, struct result **r, char **err)
{
	fuzz_write(state_file, text, len);
	*st = NULL;
	*r = NULL;
	*err = NULL;
	return store_parse_file(fuzz_dir(), state_file, st, r, err);
}

/* The same bytes as target NAME's file in the store's directory, through
 * store_load (which also takes the digest of what is on disk): 1 when it
 * loaded, and then as that target. */
static int
load_as(struct store *s, const char *name, const void *text, size_t len,
    struct store_record **st, struct result **r)
{
	char *file = store_file_name(name), *path = xasprintf("%s/%s", targets_dir, file);
	int loaded;

	fuzz_write(path, text, len);
	loaded = store_load(s, name, st, r);
	FUZZ_CHECK(!loaded || strcmp((*st)->name, name) == 0, "loaded as another target");
	FUZZ_CHECK(loaded || (*st == NULL && *r == NULL), "not loaded, yet a state came back");
	free(path);
	free(file);
	return loaded;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t live = cert_count();
	struct store_record *st, *st2;
	struct result *r, *r2;
	char *err, *text, *text2;
	/* store_free forgets the stage and reason names files brought in */
	struct store *s = store_new(loop, fuzz_dir(), 1000, &err);

	/* any bytes, as a target's file loaded by name */
	if (load_as(s, "t", data, size, &st2, &r2)) {
		store_record_free(st2);
		result_free(r2);
	}
	if (parse(data, size, &st, &r, &err) == -1) {
		FUZZ_CHECK(err != NULL && strncmp(err, "line ", 5) == 0, "refused without a reason");
		FUZZ_CHECK(st == NULL && r == NULL, "refused, yet a state came back");
		free(err);
		store_free(s);
		FUZZ_CHECK(cert_count() == live, "%zu certificates kept", cert_count() - live);
		return 0;
	}
	check_parsed(st, r);
	text = store_render(st, r);
	if (parse(text, strlen(text), &st2, &r2, &err) == -1)
		FUZZ_CHECK(0, "a rendered state does not parse: %s\n%s", err, text);
	check_parsed(st2, r2);
	check_same(st, r, st2, r2);
	text2 = store_render(st2, r2);
	FUZZ_CHECK(strcmp(text, text2) == 0, "rendered twice, differently:\n%s---\n%s", text,
	    text2);
	free(text2);
	store_record_free(st2);
	result_free(r2);
	/* as the daemon writes it, loaded back by its name: the same again */
	FUZZ_CHECK(load_as(s, st->name, text, strlen(text), &st2, &r2),
	    "a rendered state does not load as its target");
	text2 = store_render(st2, r2);
	FUZZ_CHECK(strcmp(text, text2) == 0, "loaded, then rendered differently:\n%s---\n%s",
	    text, text2);
	free(text);
	free(text2);
	store_record_free(st);
	store_record_free(st2);
	result_free(r);
	result_free(r2);
	store_free(s);
	FUZZ_CHECK(cert_count() == live, "%zu certificates kept", cert_count() - live);
	return 0;
}
