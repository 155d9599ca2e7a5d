/*
 * verdict.c - a verdict from a presented chain: GnuTLS's verification
 * (chain.c), then every check in the table below, each seeing the same
 * parsed input; the words a verdict is told in; when it may be reused; and
 * the retained input a waiting check is re-run on.
 *
 * Used from the event loop only; not thread-safe.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/share.h"
#include "core/util.h"
#include "verdict/chain.h"
#include "verdict/check.h"
#include "verdict/verdict.h"

/* Longest a verdict is carried over without verifying again, whatever the
 * certificates' dates say: it bounds what time dependencies we do not model
 * (a trust anchor's own validity) can go unnoticed. */
#define VERIFY_REUSE_MAX 3600

/* ------------------------------------------------------------ words */

#define VERDICT_WORD(id, word) word,
static const char *const builtin_reasons[] = { VERDICT_REASONS(VERDICT_WORD) NULL };
static const char *const builtin_chain_issues[] = { VERDICT_CHAIN_ISSUES(VERDICT_WORD) NULL };
static const char *const builtin_cert_issues[] = { VERDICT_CERT_ISSUES(VERDICT_WORD) NULL };
#undef VERDICT_WORD

struct words {
	const char *const *builtin;
	unsigned nbuiltin;
	char *added[64];         /* verdict_word_add, after the built-in ones */
	unsigned nadded;
};

static struct words tables[] = {
	[VERDICT_REASON] = { builtin_reasons, VERDICT_NREASONS, { NULL }, 0 },
	[VERDICT_CHAIN_ISSUE] = { builtin_chain_issues, VERDICT_NCHAIN_ISSUES, { NULL }, 0 },
	[VERDICT_CERT_ISSUE] = { builtin_cert_issues, VERDICT_NCERT_ISSUES, { NULL }, 0 },
};

_Static_assert(VERDICT_NREASONS <= 64 && VERDICT_NCHAIN_ISSUES <= 64 &&
    VERDICT_NCERT_ISSUES <= 64, "a word set is a uint64_t");

const char *
verdict_word(enum verdict_table t, unsigned i)
{
	const struct words *w = &tables[t];

	if (i < w->nbuiltin)
		return w->builtin[i];
	if (i - w->nbuiltin < w->nadded)
		return w->added[i - w->nbuiltin];
	return NULL;
}

int
verdict_word_bit(enum verdict_table t, const char *word)
{
	const struct words *w = &tables[t];

	for (unsigned i = 0; i < w->nbuiltin + w->nadded; i++)
		if (strcmp(verdict_word(t, i), word) == 0)
			return (int)i;
	return -1;
}

int
verdict_word_add(enum verdict_table t, const char *word)
{
	struct words *w = &tables[t];
	int bit = verdict_word_bit(t, word);

	if (bit >= 0)
		return bit;
	if (w->nbuiltin + w->nadded >= 64)
		return -1;
	w->added[w->nadded] = xstrdup(word);
	return (int)(w->nbuiltin + w->nadded++);
}

size_t
verdict_words(enum verdict_table t, uint64_t set, const char **out)
{
	size_t n = 0;

	for (unsigned i = 0; i < 64; i++) {
		const char *word;

		if ((set & ((uint64_t)1 << i)) && (word = verdict_word(t, i)) != NULL)
			out[n++] = word;
	}
	return n;
}

void
verdict_words_join(struct buf *b, enum verdict_table t, uint64_t set, const char *sep,
    const char *none)
{
	const char *w[64];
	size_t n = verdict_words(t, set, w);

	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, sep);
		buf_puts(b, w[i]);
	}
	if (n == 0 && none)
		buf_puts(b, none);
}

int
verdict_words_parse(enum verdict_table t, const char *text, uint64_t *set)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	*set = 0;
	if (strcmp(text, "-") == 0)
		return 0;
	copy = xstrdup(text);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int bit = verdict_word_bit(t, tok);

		if (bit < 0) {
			rc = -1;
			break;
		}
		*set |= (uint64_t)1 << bit;
	}
	free(copy);
	return rc;
}

/* ------------------------------------------------------------ checks */

/* The checks every verdict runs, in order. A new check is one line here;
 * nchecks counts the list, so it cannot drift from it. */
#define BUILTIN_CHECKS \
	&check_chain_issues, \
	&check_revocation, \
	&check_renewal, \
	&check_aia, \
	&check_policy, \
	&check_webpki, \
	&check_dane
static const struct check *checks[VERDICT_MAX_CHECKS] = { BUILTIN_CHECKS };
static size_t nchecks = sizeof((const struct check *[]){ BUILTIN_CHECKS }) /
    sizeof(const struct check *);

int
verdict_add_check(const struct check *c)
{
	if (nchecks >= VERDICT_MAX_CHECKS)
		return -1;
	checks[nchecks++] = c;
	return 0;
}

size_t
verdict_nchecks(void)
{
	return nchecks;
}

const char *
verdict_check_name(size_t i)
{
	return i < nchecks ? checks[i]->name : NULL;
}

const struct check_family *
verdict_check_families(size_t i, size_t *n)
{
	*n = i < nchecks ? checks[i]->nfamilies : 0;
	return *n ? checks[i]->families : NULL;
}

void
verdict_describe(size_t i, const void *blob, struct buf *out)
{
	if (i < nchecks && blob != NULL && checks[i]->describe != NULL)
		checks[i]->describe(blob, out);
}

int
verdict_check_json(size_t i, const void *blob, struct buf *out,
    void (*str)(struct buf *out, const char *s))
{
	if (i >= nchecks || blob == NULL || checks[i]->json == NULL)
		return 0;
	checks[i]->json(blob, out, str);
	return 1;
}

size_t
verdict_details(const struct verdict *v,
    void (*fn)(void *arg, const char *check, const char *line), void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < nchecks; i++) {
		const void *blob = verdict_blob(v, i);
		struct buf b;

		if (blob == NULL || checks[i]->describe == NULL)
			continue;
		buf_init(&b);
		checks[i]->describe(blob, &b);
		for (char *line = b.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl = '\0';
			if (*line) {
				fn(arg, checks[i]->name, line);
				n++;
			}
		}
		buf_free(&b);
	}
	return n;
}

/* ------------------------------------------------------------ detail */

/* A chain and handshake facts kept for a recheck. */
struct evidence {
	struct der *der;
	size_t n;
	struct der *staples;
	size_t nstaples;
	struct tls_facts facts;  /* pointing into the copies above */
	size_t bytes;
};

/* A verdict's detail is shared (core/share.h): the targets presenting one
 * chain with the same findings hold one detail, whose blobs are shared too
 * when their check has a key. A pending detail is its own (its evidence is
 * in its key). */
struct verdict_detail {
	struct share_head head;
	int pending;
	uint64_t *cert_issues;   /* ncerts entries, or NULL */
	size_t ncerts;
	struct evidence *evidence;
	size_t nblobs;           /* the checks registered when it was made */
	void *blobs[];           /* by check; a verdict a target: no room for
	                          * VERDICT_MAX_CHECKS when fewer are registered */
};

static size_t retained_bytes;
static uint64_t count_full, count_reused;

static unsigned char *
copy_bytes(const unsigned char *p, size_t n)
{
	unsigned char *c = xmalloc(n ? n : 1);

	if (n)
		memcpy(c, p, n);
	return c;
}

static void
evidence_free(struct evidence *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		free((void *)e->der[i].data);
	free(e->der);
	for (size_t i = 0; i < e->nstaples; i++)
		free((void *)e->staples[i].data);
	free(e->staples);
	free((void *)e->facts.scts.data);
	retained_bytes -= e->bytes;
	free(e);
}

/* A copy of the input, or NULL when the daemon-wide bound would be passed. */
static struct evidence *
evidence_keep(const struct der *chain, size_t n, const struct tls_facts *f)
{
	struct evidence *e;
	size_t bytes = f->scts.len;

	for (size_t i = 0; i < n; i++)
		bytes += chain[i].len;
	for (size_t i = 0; i < f->nstaples; i++)
		bytes += f->staples[i].len;
	if (bytes > VERDICT_RETAIN_MAX - retained_bytes)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->der = xcalloc(n ? n : 1, sizeof(*e->der));
	for (size_t i = 0; i < n; i++) {
		e->der[i].data = copy_bytes(chain[i].data, chain[i].len);
		e->der[i].len = chain[i].len;
	}
	e->n = n;
	e->staples = xcalloc(f->nstaples ? f->nstaples : 1, sizeof(*e->staples));
	for (size_t i = 0; i < f->nstaples; i++) {
		e->staples[i].data = copy_bytes(f->staples[i].data, f->staples[i].len);
		e->staples[i].len = f->staples[i].len;
	}
	e->nstaples = f->nstaples;
	e->facts.staples = e->staples;
	e->facts.nstaples = e->nstaples;
	if (f->scts.data != NULL) {
		e->facts.scts.data = copy_bytes(f->scts.data, f->scts.len);
		e->facts.scts.len = f->scts.len;
	}
	e->facts.scts_available = f->scts_available;
	/* GnuTLS's names are its own static strings */
	e->facts.group = f->group;
	e->facts.sigscheme = f->sigscheme;
	e->facts.key_usage_violation = f->key_usage_violation;
	e->bytes = bytes;
	retained_bytes += bytes;
	return e;
}

size_t
verdict_retained_bytes(void)
{
	return retained_bytes;
}

/* Check i's blobs, shared when it has a key: set up on the loop before its
 * first blob is shared (share.c's lock orders it before any release). */
static struct share_table blob_tables[VERDICT_MAX_CHECKS];

static struct share_table *
blob_table(size_t i)
{
	struct share_table *t = &blob_tables[i];

	if (t->key == NULL && checks[i]->key != NULL) {
		t->free = checks[i]->free_blob;
		t->key = checks[i]->key;
	}
	return t->key ? t : NULL;
}

static void
blob_release(size_t i, void *blob)
{
	if (blob == NULL)
		return;
	if (i < nchecks && blob_tables[i].key != NULL)
		share_put(&blob_tables[i], blob);
	else if (i < nchecks && checks[i]->free_blob)
		checks[i]->free_blob(blob);
	else
		free(blob);
}

static struct verdict_detail *
detail_new(void)
{
	struct verdict_detail *d = xcalloc(1, sizeof(*d) + nchecks * sizeof(d->blobs[0]));

	d->nblobs = nchecks;
	return d;
}

static void
detail_free(void *p)
{
	struct verdict_detail *d = p;

	for (size_t i = 0; i < d->nblobs; i++)
		blob_release(i, d->blobs[i]);
	free(d->cert_issues);
	evidence_free(d->evidence);
	free(d);
}

/* Pointers go in as their values: the blobs are shared, the evidence is
 * this detail's own. */
static void
detail_key(const void *p, struct buf *out)
{
	const struct verdict_detail *d = p;

	SHARE_KEY(out, d->pending);
	SHARE_KEY(out, d->evidence);
	SHARE_KEY(out, d->ncerts);
	if (d->ncerts)
		buf_append(out, d->cert_issues, d->ncerts * sizeof(*d->cert_issues));
	SHARE_KEY(out, d->nblobs);
	buf_append(out, d->blobs, d->nblobs * sizeof(d->blobs[0]));
}

static struct share_table detail_table = SHARE_TABLE(detail_key, detail_free);

static void
detail_put(struct verdict_detail *d)
{
	share_put(&detail_table, d);
}

unsigned long
verdict_shared_count(unsigned long *blobs)
{
	if (blobs) {
		*blobs = 0;
		for (size_t i = 0; i < nchecks; i++)
			if (blob_tables[i].key)
				*blobs += share_count(&blob_tables[i]);
	}
	return share_count(&detail_table);
}

void
verdict_set_path(struct verdict *v, struct cert *const *path, size_t n)
{
	for (size_t i = 0; i < v->npath; i++)
		cert_put(v->path[i]);
	free(v->path);
	v->path = NULL;
	v->npath = 0;
	if (n == 0)
		return;
	v->path = xcalloc(n, sizeof(*v->path));
	for (size_t i = 0; i < n; i++)
		v->path[i] = path[i] ? cert_ref(path[i]) : NULL;
	v->npath = n;
}

uint64_t
verdict_name_id(const char *name)
{
	uint64_t h;

	if (name == NULL)
		return 0;
	h = hash64(name, strlen(name));
	return h ? h : 1;
}

void
verdict_copy(struct verdict *dst, const struct verdict *src)
{
	*dst = *src;
	share_ref(dst->detail);
	dst->path = NULL;
	dst->npath = 0;
	dst->anchor_der = NULL;
	dst->anchor_len = 0;
	verdict_set_path(dst, src->path, src->npath);
}

void
verdict_fini(struct verdict *v)
{
	if (v == NULL)
		return;
	detail_put(v->detail);
	v->detail = NULL;
	verdict_set_path(v, NULL, 0);
	free(v->anchor_der);
	v->anchor_der = NULL;
	v->anchor_len = 0;
}

unsigned char *
verdict_take_anchor_der(struct verdict *v, size_t *len, struct cert **anchor)
{
	unsigned char *der = v->anchor_der;

	*len = v->anchor_len;
	*anchor = der && v->npath ? v->path[v->npath - 1] : NULL;
	v->anchor_der = NULL;
	v->anchor_len = 0;
	if (*anchor == NULL) {
		free(der);
		return NULL;
	}
	return der;
}

int64_t
verdict_expiry(const struct verdict *v)
{
	return v->verified ? v->verified_expiry : v->earliest_expiry;
}

const uint64_t *
verdict_cert_issues(const struct verdict *v, size_t *n)
{
	if (v->detail == NULL || v->detail->cert_issues == NULL) {
		*n = 0;
		return NULL;
	}
	*n = v->detail->ncerts;
	return v->detail->cert_issues;
}

void
verdict_set_cert_issues(struct verdict *v, const uint64_t *issues, size_t n)
{
	struct verdict_detail *d;

	/* a detail is shared and never changes: only a verdict with none yet */
	if (n == 0 || v->detail != NULL)
		return;
	d = detail_new();
	d->cert_issues = xcalloc(n, sizeof(*d->cert_issues));
	memcpy(d->cert_issues, issues, n * sizeof(*issues));
	d->ncerts = n;
	v->detail = share_get(&detail_table, d);
}

int
verdict_pending(const struct verdict *v)
{
	return v->detail != NULL && v->detail->pending;
}

int
verdict_retained(const struct verdict *v)
{
	return v->detail != NULL && v->detail->evidence != NULL;
}

#define D1(n) #n
#define D10(t) D1(t##0), D1(t##1), D1(t##2), D1(t##3), D1(t##4), D1(t##5), D1(t##6), \
	D1(t##7), D1(t##8), D1(t##9)
static const char *const depth_texts[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
	D10(1), D10(2), D10(3), D10(4), D10(5), "60", "61", "62", "63",
};
#undef D10
#undef D1

const char *
check_depth_text(size_t depth)
{
	return depth_texts[depth < ARRAY_SIZE(depth_texts) ? depth : ARRAY_SIZE(depth_texts) - 1];
}

const void *
verdict_blob(const struct verdict *v, size_t i)
{
	return v->detail != NULL && i < v->detail->nblobs ? v->detail->blobs[i] : NULL;
}

/* ------------------------------------------------------------ evaluation */

/* FNV-1a 64 over more bytes, h the hash so far. */
static uint64_t
fnv_more(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* What checks read of the handshake beyond the chain (stapled responses,
 * the SCT extension), as one number: a verdict holds for another
 * handshake only if it says the same. Each item's length goes in before
 * its bytes, so no two sequences run together. */
static uint64_t
facts_id(const struct tls_facts *f)
{
	uint64_t h = 14695981039346656037ull;
	uint64_t len;

	if (f == NULL)
		return h;
	for (size_t i = 0; i < f->nstaples; i++) {
		len = f->staples[i].len;
		h = fnv_more(h, &len, sizeof(len));
		h = fnv_more(h, f->staples[i].data, f->staples[i].len);
	}
	len = f->scts.data ? f->scts.len + 1 : 0;
	h = fnv_more(h, &len, sizeof(len));
	h = fnv_more(h, f->scts.data, f->scts.data ? f->scts.len : 0);
	return fnv_more(h, &f->scts_available, sizeof(f->scts_available));
}

/*
 * The verdict's window: the seconds around now in which no certificate of
 * the chain changes state. A certificate is valid from not_before to
 * not_after inclusive, so its states begin at not_before and not_after + 1;
 * the window runs from the latest such instant at or before now to the
 * earliest after it. The verified path's anchor counts through
 * verified_expiry, and checks through their valid_until.
 */
static void
verdict_window(struct verdict *v, const struct check_chain *cc, int64_t now,
    int64_t valid_until)
{
	int64_t from = INT64_MIN, until = now + VERIFY_REUSE_MAX;
	int64_t b[2];

	for (size_t i = 0; i <= cc->n; i++) {
		if (i < cc->n) {
			b[0] = cc->certs[i]->not_before;
			b[1] = cc->certs[i]->not_after + 1;
		} else if (v->verified) {
			b[0] = b[1] = v->verified_expiry + 1;
		} else {
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (b[k] <= now && b[k] > from)
				from = b[k];
			else if (b[k] > now && b[k] < until)
				until = b[k];
		}
	}
	if (valid_until < until)
		until = valid_until > now ? valid_until : now;
	v->from = from;
	v->until = until;
}

static int
evaluate(const struct verdict_input *in, int recheck, struct verdict *v)
{
	static const struct tls_facts no_facts;
	struct check_chain cc;
	struct check_path path;
	struct chain_base base;
	struct check_input ci;
	struct verdict_detail *d = NULL;
	uint64_t cert_issues[CHECK_MAX_CERTS], one[CHECK_MAX_CERTS];
	int64_t valid_until = INT64_MAX, auth_expiry = INT64_MAX;
	uint64_t reasons, issues = 0, check_reasons = 0;
	int any_cert_issue = 0, pending = 0, authenticated = 0;

	memset(v, 0, sizeof(*v));
	count_full++;
	if (in->chain == NULL || in->n == 0 || in->trust == NULL ||
	    check_chain_load(&cc, in->chain, in->n) == -1) {
		v->reasons = REASON(OTHER);
		return -1;
	}
	if (chain_verify(&cc, in->trust, in->hostname, in->now, &base, &path) == -1) {
		check_chain_free(&cc);
		v->reasons = REASON(OTHER);
		return -1;
	}
	reasons = base.reasons;
	memset(cert_issues, 0, sizeof(cert_issues));

	memset(&ci, 0, sizeof(ci));
	ci.chain = &cc;
	ci.path = path.n ? &path : NULL;
	ci.trust = in->trust;
	ci.trust_list = trust_list(in->trust);
	ci.target = in->target;
	ci.hostname = in->hostname;
	ci.now = in->now;
	ci.tls = in->tls ? in->tls : &no_facts;
	ci.base_reasons = base.reasons;
	ci.ref_target = in->ref_target;
	ci.ref_address = in->ref_address;
	ci.recheck = recheck;
	for (size_t i = 0; i < nchecks; i++) {
		struct check_output out;

		memset(one, 0, cc.n * sizeof(*one));
		memset(&out, 0, sizeof(out));
		out.cert_issues = one;
		out.valid_until = INT64_MAX;
		checks[i]->run(&ci, &out);
		reasons |= out.reasons;
		check_reasons |= out.reasons;
		if (out.authenticated) {
			authenticated = 1;
			if (out.authenticated_expiry < auth_expiry)
				auth_expiry = out.authenticated_expiry;
		}
		issues |= out.issues;
		for (size_t k = 0; k < cc.n; k++) {
			cert_issues[k] |= one[k];
			any_cert_issue |= one[k] != 0;
		}
		if (out.valid_until < valid_until)
			valid_until = out.valid_until;
		pending |= out.pending;
		if (out.blob) {
			struct share_table *t = blob_table(i);

			if (d == NULL)
				d = detail_new();
			d->blobs[i] = t ? share_get(t, out.blob) : out.blob;
		}
	}

	v->verified = base.verified && reasons == 0;
	v->reasons = reasons;
	v->issues = issues;
	v->earliest_expiry = base.earliest_expiry;
	v->verified_expiry = v->verified ? base.verified_expiry : 0;
	if (authenticated && !base.verified) {
		/* authenticated by a check (DANE): what the Web PKI says is no
		 * reason, what checks say still is (the checks say why) */
		v->verified = check_reasons == 0;
		v->reasons = check_reasons;
		v->verified_expiry = v->verified ? auth_expiry : 0;
	}
	v->gnutls_status = base.gnutls_status;
	v->trust = trust_id(in->trust);
	v->facts = facts_id(in->tls);
	v->name_id = verdict_name_id(in->hostname);
	verdict_window(v, &cc, in->now, valid_until);
	if (any_cert_issue || pending) {
		if (d == NULL)
			d = detail_new();
		if (any_cert_issue) {
			d->cert_issues = xcalloc(cc.n, sizeof(*d->cert_issues));
			memcpy(d->cert_issues, cert_issues, cc.n * sizeof(*cert_issues));
			d->ncerts = cc.n;
		}
		if (pending) {
			d->pending = 1;
			d->evidence = evidence_keep(in->chain, in->n, ci.tls);
		}
	}
	v->detail = share_get(&detail_table, d);
	if (v->verified && path.n) {
		size_t a = path.n - 1;

		verdict_set_path(v, path.certs, path.n);
		/* an anchor from the trust store: its DER for the store, the
		 * first time it is seen */
		if (path.index[a] == -1 && path.certs[a] && !path.certs[a]->stored) {
			gnutls_datum_t der = { NULL, 0 };

			if (gnutls_x509_crt_export2(path.crt[a], GNUTLS_X509_FMT_DER, &der) == 0) {
				v->anchor_der = copy_bytes(der.data, der.size);
				v->anchor_len = der.size;
			}
			gnutls_free(der.data);
		}
	}
	check_path_free(&path);
	check_chain_free(&cc);
	return 0;
}

int
verdict_evaluate(const struct verdict_input *in, struct verdict *v)
{
	return evaluate(in, 0, v);
}

int
verdict_verify(const struct der *chain, size_t n, const struct trust *t,
    const char *hostname, int64_t now, struct verdict *v)
{
	struct verdict_input in = {
		.chain = chain, .n = n, .trust = t, .hostname = hostname, .now = now,
	};

	return verdict_evaluate(&in, v);
}

int
verdict_recheck(const struct verdict *old, const struct verdict_input *in, struct verdict *v)
{
	struct verdict_input again;
	const struct evidence *e;

	if (!verdict_retained(old))
		return -1;
	e = old->detail->evidence;
	again = *in;
	again.chain = e->der;
	again.n = e->n;
	again.tls = &e->facts;
	(void)evaluate(&again, 1, v);
	return 0;
}

int
verdict_holds(const struct verdict *prev, struct cert *const *prev_certs, size_t prev_n,
    struct cert *const *certs, size_t n, size_t presented, const struct trust *trust,
    const char *name, const struct tls_facts *tls, int64_t now)
{
	if (prev == NULL || prev->trust == 0 || prev->trust != trust_id(trust) ||
	    prev->facts != facts_id(tls) || verdict_pending(prev) || prev_n != n ||
	    n != presented || now < prev->from || now >= prev->until)
		return 0;
	if (prev->name_id != verdict_name_id(name))
		return 0;
	for (size_t i = 0; prev->detail && i < prev->detail->nblobs; i++)
		if (prev->detail->blobs[i] && checks[i]->holds &&
		    !checks[i]->holds(prev->detail->blobs[i]))
			return 0;
	for (size_t i = 0; i < n; i++)
		if (prev_certs[i] != certs[i])
			return 0;
	return 1;
}

void
verdict_counts(uint64_t *full, uint64_t *reused)
{
	*full = count_full;
	*reused = count_reused;
}

void
verdict_count_reuse(void)
{
	count_reused++;
}

/* ------------------------------------------------------------ recheck */

static verdict_recheck_fn recheck_fn;
static void *recheck_arg;

void
verdict_set_recheck_hook(verdict_recheck_fn fn, void *arg)
{
	recheck_fn = fn;
	recheck_arg = arg;
}

void
verdict_unset_recheck_hook(void *arg)
{
	if (recheck_arg == arg) {
		recheck_fn = NULL;
		recheck_arg = NULL;
	}
}

void
verdict_request_recheck(const char *target, const char *address)
{
	if (recheck_fn && target)
		recheck_fn(recheck_arg, target, address);
}
