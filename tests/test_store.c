/* test_store.c - state files: escaping, names, round trips, change
 * detection (history.c, whose memory the store writes), writes only on
 * change, off the loop, damaged files, clean-up. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "result.h"
#include "core/fp.h"
#include "state/history.h"
#include "state/store.h"
#include "testlib.h"
#include "verdict/certs.h"

static char dir[256];
static gnutls_x509_privkey_t key;
static struct loop *loop;

/* What the scheduler does with a result: certificates to the store, the
 * result to the target's history, what it remembers to the store; then
 * wait for the writes, so that the files can be looked at. */
static void
record(struct store *s, struct history *h, struct result *r)
{
	store_put_certs(s, r);
	history_record(h, r);
	store_save(s, history_memory(h), history_result(h, NULL));
	store_drain(s);
}

/* A target's stored state, into a history of its own. */
static int
load(struct store *s, struct history *h)
{
	struct store_record *rec;
	struct result *r;
	int loaded = store_load(s, history_name(h), &rec, &r);

	if (loaded)
		history_restore(h, rec, r);
	return loaded && r != NULL;
}

static struct store *
new_store(uint64_t refresh_ms)
{
	char *err = NULL;
	struct store *s = store_new(loop, dir, refresh_ms, &err);

	assert_non_null(s);
	return s;
}

/* A self-signed certificate with common name cn, as DER (caller frees).
 * ECDSA signatures are randomised, so one is made per name and copied. */
static struct {
	const char *cn;
	struct der der;
} made[16];

static struct der make_cert_new(const char *cn, unsigned serial_no);

static struct der
make_cert(const char *cn, unsigned serial_no)
{
	size_t i;
	unsigned char *copy;

	for (i = 0; i < ARRAY_SIZE(made) && made[i].cn; i++)
		if (strcmp(made[i].cn, cn) == 0)
			break;
	assert_true(i < ARRAY_SIZE(made));
	if (made[i].cn == NULL) {
		made[i].cn = cn;
		made[i].der = make_cert_new(cn, serial_no);
	}
	copy = xmalloc(made[i].der.len);
	memcpy(copy, made[i].der.data, made[i].der.len);
	return (struct der){ copy, made[i].der.len };
}

static struct der
make_cert_new(const char *cn, unsigned serial_no)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t out;
	unsigned char serial[2] = { 0x01, (unsigned char)serial_no };
	time_t now = time(NULL);
	struct der d;
	unsigned char *copy;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + 30 * 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    cn, (unsigned)strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &out), 0);
	gnutls_x509_crt_deinit(crt);
	copy = xmalloc(out.size);
	memcpy(copy, out.data, out.size);
	d.data = copy;
	d.len = out.size;
	gnutls_free(out.data);
	return d;
}

/* A successful result presenting certificates cns[0..n), at time t. */
static struct result *
make_result(const char *const *cns, size_t n, double t, int verified)
{
	struct result *r = xcalloc(1, sizeof(*r));

	r->time = t;
	r->duration = 0.01;
	for (int i = 0; i < STAGE_COUNT; i++)
		r->stage_seconds[i] = 0.001;
	r->success = 1;
	r->peer = xstrdup("127.0.0.1:443");
	r->tls_version = str_intern("TLS1.3");
	r->cipher = str_intern("TLS_AES_128_GCM_SHA256");
	r->certs = xcalloc(n, sizeof(*r->certs));
	r->ders = xcalloc(n, sizeof(*r->ders));
	for (size_t i = 0; i < n; i++) {
		r->ders[i] = make_cert(cns[i], (unsigned)(cns[i][0] + i));
		r->certs[i] = cert_get(r->ders[i].data, r->ders[i].len);
		assert_non_null(r->certs[i]);
	}
	r->ncerts = r->nders = n;
	r->verdict.verified = verified;
	r->verdict.reasons = verified ? 0 : REASON(EXPIRED) | REASON(HOSTNAME_MISMATCH);
	r->verdict.issues = CHAIN_ISSUE(INCOMPLETE);
	r->verdict.earliest_expiry = 2000000000;
	return r;
}

static char *
path_of(const char *name)
{
	char *f = store_file_name(name), *p = xasprintf("%s/targets/%s", dir, f);

	free(f);
	return p;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tl_rm_rf(dir);
	return 0;
}

static void
test_escape(void **state)
{
	const char *in = "a b%c\nd\x01\x7f\xc3\xa9";
	struct buf b;
	char *back;

	(void)state;
	buf_init(&b);
	store_escape(&b, in);
	assert_string_equal(b.data, "a b%25c%0Ad%01%7F\xc3\xa9");
	back = store_unescape(b.data);
	assert_string_equal(back, in);
	free(back);
	buf_free(&b);
	assert_null(store_unescape("bad%zz"));
	assert_null(store_unescape("nul%00"));
	assert_null(store_unescape("short%4"));
}

static void
test_file_name(void **state)
{
	char *n, big[400];

	(void)state;
	n = store_file_name("example.com:443");
	assert_string_equal(n, "example.com:443.state");
	free(n);
	n = store_file_name("a/b <c>");
	assert_string_equal(n, "a%2fb%20%3cc%3e.state");
	free(n);
	n = store_file_name("..");
	assert_string_equal(n, "%2e..state");
	free(n);
	n = store_file_name(".hidden");
	assert_true(n[0] != '.');
	free(n);
	memset(big, '/', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = store_file_name(big);
	assert_int_equal(strlen(n), 1 + 64 + 6);
	assert_null(strchr(n, '/'));
	free(n);
}

static void
test_round_trip(void **state)
{
	static const char *const first[] = { "leaf.test", "Intermediate" };
	static const char *const second[] = { "new.test", "Intermediate" };
	const char *name = "t/1 \"x\"\n";
	struct history *h = history_new(name), *h2 = history_new(name);
	const struct store_record *st;
	const struct result *r2;
	struct store *s;
	struct result *r;
	char *path, *text, *fp_leaf, *certpath;
	struct stat st1, st2;

	(void)state;
	s = new_store(60 * 1000);
	r = make_result(first, 2, 1000.5, 1);
	fp_leaf = xstrdup(r->certs[0]->sha256);
	record(s, h, r);
	assert_null(r->ders);           /* handed over and dropped */
	assert_int_equal(store_write_errors(s), 0);
	certpath = xasprintf("%s/certs/%s.pem", dir, fp_leaf);
	assert_int_equal(access(certpath, R_OK), 0);
	path = path_of(name);
	text = read_file(path);
	assert_non_null(strstr(text, "format 1\n"));
	assert_non_null(strstr(text, "name t/1 \"x\"%0A\n"));
	assert_non_null(strstr(text, "chain_changes 0\n"));
	assert_non_null(strstr(text, "\nend\n"));
	free(text);
	st = history_memory(h);
	assert_int_equal(st->chain_changes, 0);
	assert_true(st->chain_changed == 1000.5);

	/* unchanged, within the refresh: no write (a rename would change the inode) */
	assert_int_equal(stat(path, &st1), 0);
	record(s, h, make_result(first, 2, 1010.0, 1));
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st1.st_ino == st2.st_ino);
	/* the refresh falls due: written again */
	record(s, h, make_result(first, 2, 1100.0, 1));
	assert_int_equal(stat(path, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino);

	/* a new leaf: a change, counted, the old chain in the history */
	record(s, h, make_result(second, 2, 2000.25, 0));
	st = history_memory(h);
	assert_int_equal(st->chain_changes, 1);
	assert_true(st->chain_changed == 2000.25);
	assert_int_equal(st->nhist, 1);
	assert_string_equal(st->hist[0].fps[0], fp_leaf);
	assert_true(st->hist[0].since == 1000.5 && st->hist[0].until == 2000.25);
	/* the intermediate keeps its first sighting, the new leaf is new */
	assert_true(store_cert_first_seen(history_memory(h), 1) == 1000.5);
	assert_true(store_cert_first_seen(history_memory(h), 0) == 2000.25);

	/* loaded back as it was */
	assert_int_equal(load(s, h2), 1);
	st = history_memory(h2);
	r2 = history_result(h2, NULL);
	assert_non_null(st);
	assert_string_equal(st->name, name);
	assert_int_equal(st->chain_changes, 1);
	assert_true(st->chain_changed == 2000.25);
	assert_true(st->first_seen == 1000.5);
	assert_int_equal(st->nhist, 1);
	assert_true(r2->time == 2000.25);
	assert_int_equal(r2->success, 1);
	assert_int_equal(r2->ncerts, 2);
	assert_string_equal(r2->certs[0]->sha256, history_result(h, NULL)->certs[0]->sha256);
	assert_int_equal(r2->verdict.reasons, REASON(EXPIRED) | REASON(HOSTNAME_MISMATCH));
	assert_int_equal(r2->verdict.issues, CHAIN_ISSUE(INCOMPLETE));
	assert_string_equal(r2->cipher, "TLS_AES_128_GCM_SHA256");
	assert_true(store_cert_first_seen(history_memory(h2), 1) == 1000.5);
	/* one copy of each fingerprint and word, however many records name it */
	assert_ptr_equal(history_memory(h2)->chain.fps[1], history_memory(h)->chain.fps[1]);
	assert_ptr_equal(history_memory(h2)->hist[0].fps[0], history_memory(h)->hist[0].fps[0]);
	assert_ptr_equal(r2->cipher, str_intern("TLS_AES_128_GCM_SHA256"));
	assert_int_equal(fp_count(), 3);   /* two leaves and the intermediate */

	history_free(h);
	history_free(h2);
	/* the last reference takes the copy with it */
	assert_int_equal(fp_count(), 0);
	store_free(s);
	free(path);
	free(certpath);
	free(fp_leaf);
	assert_int_equal(cert_count(), 0);
}

static void
test_failure_kept(void **state)
{
	static const char *const chain[] = { "kept.test" };
	struct history *h = history_new("failing"), *h2 = history_new("failing");
	struct store *s = new_store(60 * 1000);
	const struct store_record *st;
	const struct result *r2;
	struct result *f;

	struct result *ok;
	struct der anchor;
	struct cert *path[2];
	char *apath;

	(void)state;
	ok = make_result(chain, 1, 100, 1);
	ok->verdict.verified_expiry = 1999999999;
	/* the verified path ends at an anchor that was not presented: its
	 * DER comes with the verdict, once, for the store to keep */
	anchor = make_cert("Anchor", 9);
	path[0] = ok->certs[0];
	path[1] = cert_get(anchor.data, anchor.len);
	verdict_set_path(&ok->verdict, path, 2);
	ok->verdict.anchor_der = (unsigned char *)anchor.data;
	ok->verdict.anchor_len = anchor.len;
	apath = xasprintf("%s/certs/%s.pem", dir, path[1]->sha256);
	record(s, h, ok);
	assert_int_equal(access(apath, R_OK), 0);
	assert_null(history_result(h, NULL)->verdict.anchor_der);
	ok = make_result(chain, 1, 150, 1);
	ok->verdict.verified_expiry = 1999999999;
	verdict_set_path(&ok->verdict, path, 2);
	record(s, h, ok);
	f = xcalloc(1, sizeof(*f));
	f->time = 200;
	f->fail_stage = "connect";
	f->fail_reason = "refused";
	f->fail_detail = xstrdup("Connection refused");
	record(s, h, f);
	/* a failure is not a chain change; the last chain is remembered */
	st = history_memory(h);
	assert_int_equal(st->chain_changes, 0);
	assert_int_equal(st->chain.n, 1);
	assert_int_equal(load(s, h2), 1);
	r2 = history_result(h2, NULL);
	st = history_memory(h2);
	assert_int_equal(r2->success, 0);
	assert_string_equal(r2->fail_stage, "connect");
	assert_string_equal(r2->fail_reason, "refused");
	assert_string_equal(r2->fail_detail, "Connection refused");
	assert_int_equal(st->chain.n, 1);
	assert_non_null(st->certs[0]);
	/* the path, anchor included, with its expiry; the probe history; when
	 * the chain was last seen and since when probes fail */
	assert_int_equal(st->path.n, 2);
	assert_ptr_equal(st->path_certs[1], path[1]);
	assert_true(st->path_expiry == 1999999999);
	assert_true(st->chain_seen == 150);
	assert_true(st->failing_since == 200 && st->verified_since == 100);
	assert_int_equal(st->nruns, 2);
	assert_false(st->runs[0].success);
	assert_string_equal(st->runs[0].fail_stage, "connect");
	assert_true(st->runs[0].since == 200 && st->runs[0].until == 200);
	assert_int_equal(st->runs[0].count, 1);
	assert_true(st->runs[1].success && st->runs[1].verified);
	assert_true(st->runs[1].since == 100 && st->runs[1].until == 150);
	assert_int_equal(st->runs[1].count, 2);
	/* so the last chain is published again after a restart */
	assert_non_null(history_chain_result(h2, NULL));
	assert_true(history_chain_result(h2, NULL)->time == 150);
	assert_true(history_chain_result(h2, NULL)->verdict.verified_expiry == 1999999999);
	cert_put(path[1]);
	free(apath);
	history_free(h);
	history_free(h2);
	store_free(s);
}

#define FP64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Every damaged file is refused whole; the target starts fresh. */
static void
test_damaged(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage\n",
		"format 2\nname d\nend\n",
		"format 1\nname d\n",                          /* truncated: no end */
		"format 1\nname d\nfirst_seen 1\nend",         /* no final newline */
		"format 1\nname d\nprobe_time banana\nend\n",
		"format 1\nname d\ncert 1234\nend\n",
		"format 1\nname d\nreasons expired,frobbed\nend\n",
		"format 1\nname d\nhistory 1 2 nothex\nend\n",
		"format 1\nname other\nend\n",                 /* another target's */
		"format 1\nname d%zz\nend\n",
		/* a failure after a cert line once freed a NULL certificate array */
		"format 1\nname d\ncert " FP64 "\n",                      /* truncated */
		"format 1\nname d\ncert " FP64 "\ncert " FP64 "\nprobe_time x\nend\n",
		"format 1\nname d\ncert " FP64 "\ncert 12\nend\n",
		/* out-of-range times, once cast to time_t when the page rendered */
		"format 1\nname d\nprobe_time 1e19\nresult failure\nend\n",
		"format 1\nname d\nprobe_time -5\nresult failure\nend\n",
		"format 1\nname d\nprobe_time inf\nresult failure\nend\n",
		"format 1\nname d\nfirst_seen 1e300\nend\n",
		"format 1\nname d\nchain_changed 253402300800\nend\n",
		"format 1\nname d\nearliest_expiry 9223372036854775807\nend\n",
		"format 1\nname d\nprobe_duration 1e19\nend\n",
		"format 1\nname d\nstage_seconds 0 0 0 0 1e30\nend\n",
		"format 1\nname d\nhistory 1e19 2 " FP64 "\nend\n",
	};
	struct store *s = new_store(1000);
	char *path = path_of("d");
	char *tdir = xasprintf("%s/targets", dir);

	(void)state;
	mkdir(dir, 0755);
	mkdir(tdir, 0755);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct history *h = history_new("d");

		write_file(path, bad[i]);
		assert_int_equal(load(s, h), 0);
		assert_null(history_memory(h));
		assert_null(history_result(h, NULL));
		history_free(h);
	}
	/* a key from a newer version is ignored */
	{
		struct history *h = history_new("d");

		write_file(path, "format 1\nname d\nfirst_seen 5\nfuture_key x y\nend\n");
		assert_int_equal(load(s, h), 0);    /* no result, but the state */
		assert_non_null(history_memory(h));
		assert_true(history_memory(h)->first_seen == 5);
		history_free(h);
	}
	/* more history than we keep (a version keeping more wrote it): the
	 * newest STORE_HISTORY are kept, the file is not refused */
	{
		struct history *h = history_new("d");
		const struct store_record *st;
		struct buf b;

		buf_init(&b);
		buf_puts(&b, "format 1\nname d\ncert " FP64 "\n");
		for (int i = 0; i < STORE_HISTORY + 5; i++)
			buf_printf(&b, "history %d %d " FP64 "\n", 100 - i, 101 - i);
		buf_puts(&b, "end\n");
		write_file(path, b.data);
		buf_free(&b);
		assert_int_equal(load(s, h), 0);
		assert_non_null(st = history_memory(h));
		assert_int_equal(st->nhist, STORE_HISTORY);
		assert_true(st->hist[0].since == 100);
		assert_true(st->hist[STORE_HISTORY - 1].since == 100 - (STORE_HISTORY - 1));
		assert_int_equal(st->chain.n, 1);
		assert_null(st->certs[0]);    /* no such certificate stored */
		history_free(h);
	}
	/* a directory where the file should be: unreadable, then unwritable */
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	{
		static const char *const chain[] = { "x.test" };
		struct history *h = history_new("d");

		assert_int_equal(load(s, h), 0);
		record(s, h, make_result(chain, 1, 10, 1));
		assert_int_equal(store_write_errors(s), 1);
		history_free(h);
	}
	rmdir(path);
	free(path);
	free(tdir);
	store_free(s);
}

/* The loader: state files read and parsed on the store's thread, handed
 * back whole on the loop. */
static struct store_batch *gots[4];
static size_t ngots;

static void
got_batch(void *arg, struct store_batch *b)
{
	(void)arg;
	assert_true(ngots < ARRAY_SIZE(gots));
	gots[ngots++] = b;
}

static void
test_loader(void **state)
{
	static const char *const c0[] = { "leaf0.test", "inter.test" };
	static const char *const c1[] = { "leaf1.test", "inter.test" };
	static const char *const names[] = { "t0", "t1", "none", "bad" };
	struct store *s = new_store(3600 * 1000);
	struct history *h0 = history_new("t0"), *h1 = history_new("t1");
	char *p0 = path_of("t0"), *pbad = path_of("bad"), *text0, *again;
	struct store_record *rec[4];
	struct result *r[4];
	struct store_loader *l;
	struct store_batch *b;
	struct stat before, after;
	uint64_t end;

	(void)state;
	record(s, h0, make_result(c0, 2, 1e9, 1));
	record(s, h1, make_result(c1, 2, 1e9 + 1, 0));
	history_free(h0);
	history_free(h1);
	assert_int_equal(cert_count(), 0);      /* nothing in memory */
	write_file(pbad, "format 1\nname bad\n");   /* no end line */
	text0 = read_file(p0);
	assert_int_equal(stat(p0, &before), 0);
	l = store_loader_new(s, got_batch, NULL);
	b = store_batch_new(l);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		store_batch_add(b, names[i]);
	store_batch_submit(b);
	assert_int_equal(store_loader_in_flight(l), 1);
	assert_int_equal(ngots, 0);             /* only on the loop */
	end = mono_ms() + 10000;
	while (ngots == 0 && mono_ms() < end)
		loop_run_once(loop, 10);
	assert_int_equal(ngots, 1);
	assert_ptr_equal(gots[0], b);
	assert_int_equal(store_loader_in_flight(l), 0);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(store_batch_name(b, i), names[i]);
	assert_int_equal(store_batch_take(b, 0, &rec[0], &r[0]), 1);
	assert_int_equal(store_batch_take(b, 1, &rec[1], &r[1]), 1);
	assert_int_equal(store_batch_take(b, 2, &rec[2], &r[2]), 0);   /* no file */
	assert_null(rec[2]);
	assert_int_equal(store_batch_take(b, 3, &rec[3], &r[3]), 0);   /* logged */
	assert_null(rec[3]);
	assert_int_equal(store_batch_take(b, 0, &rec[2], &r[2]), 0);   /* once */
	store_batch_free(b);
	/* two batches in flight at once, the second naming the intermediate
	 * the first parsed: found interned, the same certificate */
	{
		struct store_batch *b1 = store_batch_new(l), *b2 = store_batch_new(l);
		struct store_record *x[2];
		struct result *xr[2];

		store_batch_add(b1, "t0");
		store_batch_add(b2, "t1");
		store_batch_submit(b1);
		store_batch_submit(b2);
		ngots = 0;
		end = mono_ms() + 10000;
		while (ngots < 2 && mono_ms() < end)
			loop_run_once(loop, 10);
		assert_int_equal(ngots, 2);
		for (int k = 0; k < 2; k++) {
			assert_ptr_equal(gots[k], k == 0 ? b1 : b2);   /* in order */
			assert_int_equal(store_batch_take(gots[k], 0, &x[k], &xr[k]), 1);
			store_batch_free(gots[k]);
		}
		assert_ptr_equal(x[0]->certs[1], x[1]->certs[1]);
		assert_ptr_equal(x[0]->certs[1], rec[0]->certs[1]);
		for (int k = 0; k < 2; k++) {
			store_record_free(x[k]);
			result_free(xr[k]);
		}
	}
	/* the intermediate both present is one certificate, parsed once */
	assert_int_equal(r[0]->ncerts, 2);
	assert_int_equal(r[1]->ncerts, 2);
	assert_ptr_equal(rec[0]->certs[1], rec[1]->certs[1]);
	assert_ptr_equal(r[0]->certs[1], r[1]->certs[1]);
	assert_string_equal(r[0]->certs[0]->subject, "CN=leaf0.test");
	assert_int_equal(cert_count(), 3);
	/* read back exactly as written, and it counts as written: the same
	 * state saved again writes nothing (the file is the same inode) */
	again = store_render(rec[0], r[0]);
	assert_string_equal(again, text0);
	store_save(s, rec[0], r[0]);
	store_drain(s);
	assert_int_equal(stat(p0, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	/* a file not laid out as the store writes it (a comment among its
	 * content lines, as a hand edit leaves) reads the same, but what is
	 * on disk is not what a write would put there: the next save writes */
	{
		char *p1 = path_of("t1"), *text1 = read_file(p1), *edited, *back;
		size_t len = strlen(text1);
		struct store_record *x;
		struct result *xr;

		assert_true(len > 4 && strcmp(text1 + len - 4, "end\n") == 0);
		edited = xasprintf("%.*s# edited\nend\n", (int)(len - 4), text1);
		write_file(p1, edited);
		assert_int_equal(stat(p1, &before), 0);
		b = store_batch_new(l);
		store_batch_add(b, "t1");
		store_batch_submit(b);
		ngots = 0;
		end = mono_ms() + 10000;
		while (ngots == 0 && mono_ms() < end)
			loop_run_once(loop, 10);
		assert_int_equal(ngots, 1);
		assert_int_equal(store_batch_take(b, 0, &x, &xr), 1);
		store_batch_free(b);
		back = store_render(x, xr);
		assert_string_equal(back, text1);     /* the same state */
		free(back);
		store_save(s, x, xr);
		store_drain(s);
		assert_int_equal(stat(p1, &after), 0);
		assert_true(before.st_ino != after.st_ino);
		free(edited);
		back = read_file(p1);
		assert_string_equal(back, text1);     /* as the store writes it */
		free(back);
		free(text1);
		free(p1);
		store_record_free(x);
		result_free(xr);
	}
	/* a loader freed with a batch in flight (a reload, a stop): its done
	 * never comes, and the batch frees itself (ASan) */
	ngots = 0;
	b = store_batch_new(l);
	store_batch_add(b, "t0");
	store_batch_add(b, "t1");
	store_batch_submit(b);
	store_loader_free(l);
	store_free(s);
	assert_int_equal(ngots, 0);
	for (int i = 0; i < 2; i++) {
		store_record_free(rec[i]);
		result_free(r[i]);
	}
	assert_int_equal(cert_count(), 0);
	free(again);
	free(text0);
	free(p0);
	free(pbad);
}

static void
test_cleanup(void **state)
{
	static const char *const a[] = { "kept.test" };
	static const char *const b[] = { "dropped.test" };
	/* several names, out of order: clean-up looks them up sorted */
	struct conf_target configured[] = {
		{ .name = (char *)"zeta" }, { .name = (char *)"keep" },
		{ .name = (char *)"alpha" }, { .name = (char *)"gonf" },
	};
	struct conf conf = { .targets = configured, .ntargets = ARRAY_SIZE(configured) };
	struct history *tk = history_new("keep"), *tg = history_new("gone");
	struct store *s = new_store(1000);
	double now = (double)time(NULL), old = now - 40 * 86400.0;
	struct result *ra = make_result(a, 1, old, 1), *rb = make_result(b, 1, old, 1);
	char *pa = xasprintf("%s/certs/%s.pem", dir, ra->certs[0]->sha256);
	char *pb = xasprintf("%s/certs/%s.pem", dir, rb->certs[0]->sha256);
	char *gone = path_of("gone"), *keep = path_of("keep");
	struct timespec ts[2] = { { (time_t)old, 0 }, { (time_t)old, 0 } };

	(void)state;
	record(s, tk, ra);
	record(s, tg, rb);
	assert_int_equal(utimensat(AT_FDCWD, pa, ts, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, pb, ts, 0), 0);
	store_cleanup(s, &conf, now);
	/* "gone" is not configured and was last probed 40 days ago: removed,
	 * and with it the only reference on disk to its certificate; but its
	 * history still holds that in memory (as a result not written yet
	 * would): the file stays */
	assert_int_equal(access(gone, F_OK), -1);
	assert_int_equal(access(pb, F_OK), 0);
	assert_int_equal(access(keep, F_OK), 0);
	assert_int_equal(access(pa, F_OK), 0);
	/* let go in memory too: the next clean-up removes it */
	history_free(tg);
	store_cleanup(s, &conf, now);
	assert_int_equal(access(pb, F_OK), -1);
	assert_int_equal(access(pa, F_OK), 0);
	assert_int_equal(access(keep, F_OK), 0);
	/* a stop while one runs on the store's thread: it ends at its next
	 * file, and nothing leaks (ASan) */
	assert_int_equal(store_cleanup_start(s, &conf, now), 0);
	assert_int_equal(store_cleanup_start(s, &conf, now), -1);   /* one at a time */
	history_free(tk);
	store_free(s);
	assert_int_equal(access(keep, F_OK), 0);
	free(pa);
	free(pb);
	free(gone);
	free(keep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_file_name),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup, setup, teardown),
	};
	int rc;

	log_init("test_store", 0);
	if ((loop = loop_new()) == NULL)
		return 1;
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	gnutls_x509_privkey_deinit(key);
	for (size_t i = 0; i < ARRAY_SIZE(made); i++)
		free((void *)made[i].der.data);
	loop_free(loop);
	return rc;
}
