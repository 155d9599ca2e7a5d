/* test_sct.c - the SignedCertificateTimestampList parser (RFC 6962 3.3):
 * lists built here byte by byte, held against GnuTLS's own parser where
 * both accept, inside an X.509 extension and inside OCSP responses that
 * GnuTLS's OCSP parser accepts too; every truncation of each refused
 * without reading past the end (ASan runs this too). It also writes the
 * fuzz harness's seeds (tests/fuzz/fuzz_sct.c) when asked. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509-ext.h>

#include "core/util.h"
#include "verdict/sct.h"
#include "sctbuild.h"

/* A copy in a buffer of its own size, so that ASan sees any read past it. */
static unsigned char *
exact(const struct buf *b, size_t len)
{
	unsigned char *p = xmalloc(len ? len : 1);

	memcpy(p, b->data, len);
	return p;
}

static int
parse_prefix(int (*fn)(const unsigned char *, size_t, struct sct_list *), const struct buf *b,
    size_t len, struct sct_list *out)
{
	unsigned char *p = exact(b, len);
	int rc = fn(p, len, out);

	free(p);
	return rc;
}

static int
from_ocsp_prefix(const struct buf *b, size_t len, const unsigned char *serial, size_t slen,
    struct sct_list *out)
{
	unsigned char *p = exact(b, len);
	int rc = sct_list_from_ocsp(p, len, serial, slen, out);

	free(p);
	return rc;
}

static void
test_list_counts(void **state)
{
	struct buf scts, list;
	struct sct_list l;

	(void)state;
	for (unsigned n = 1; n <= 3; n += 2) {
		buf_init(&scts);
		buf_init(&list);
		for (unsigned i = 0; i < n; i++)
			sb_sct_v1(&scts, (uint8_t)(0xa0 + i), 1700000000000ULL + i, i, 70 + i);
		sb_list(&list, &scts);
		assert_int_equal(parse_prefix(sct_list_parse, &list, list.len, &l), 0);
		assert_int_equal(l.n, n);
		assert_int_equal(l.unknown, 0);
		assert_int_equal(l.invalid, 0);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(l.v[i].log_id[0], 0xa0 + i);
			assert_int_equal(l.v[i].log_id[31], 0xa0 + i);
			assert_true(l.v[i].timestamp_ms == 1700000000000ULL + i);
			assert_int_equal(l.v[i].hash_alg, 4);   /* sha256 */
			assert_int_equal(l.v[i].sig_alg, 3);    /* ecdsa */
		}
		buf_free(&scts);
		buf_free(&list);
	}
}

/* More SCTs than details are kept of: all counted. */
static void
test_list_many(void **state)
{
	struct buf scts, list;
	struct sct_list l;

	(void)state;
	buf_init(&scts);
	buf_init(&list);
	for (unsigned i = 0; i < 40; i++)
		sb_sct_v1(&scts, (uint8_t)i, i, 0, 0);
	sb_list(&list, &scts);
	assert_int_equal(sct_list_parse((unsigned char *)list.data, list.len, &l), 0);
	assert_int_equal(l.n, 40);
	assert_int_equal(l.v[SCT_KEEP - 1].log_id[0], SCT_KEEP - 1);
	buf_free(&scts);
	buf_free(&list);
}

/* An SCT of a later version is skipped (RFC 6962 3.3: "clients should
 * ignore" what they do not understand). A v1 SCT whose fields overrun its
 * own length counts as invalid, and the others still count; GnuTLS
 * refuses the whole list for it, and for one SCT with extensions, which
 * is why we parse it ourselves. */
static void
test_list_unknown_and_invalid(void **state)
{
	struct buf scts, list, ext;
	struct sct_list l;
	gnutls_x509_ct_scts_t g;
	gnutls_datum_t d;
	static const unsigned char v2[] = { 0x00, 0x05, 0x01, 0xde, 0xad, 0xbe, 0xef };
	/* v1, log id, timestamp, then an extensions length of 0xffff */
	unsigned char bad[1 + 32 + 8 + 2];

	(void)state;
	memset(bad, 0, sizeof(bad));
	bad[41] = 0xff;
	bad[42] = 0xff;
	buf_init(&scts);
	buf_init(&list);
	buf_init(&ext);
	sb_sct_v1(&scts, 1, 1, 0, 8);
	buf_append(&scts, v2, sizeof(v2));
	sb_u16(&scts, sizeof(bad));
	buf_append(&scts, bad, sizeof(bad));
	sb_sct_v1(&scts, 2, 2, 3, 8);
	sb_list(&list, &scts);
	assert_int_equal(sct_list_parse((unsigned char *)list.data, list.len, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.unknown, 1);
	assert_int_equal(l.invalid, 1);
	assert_int_equal(l.v[1].log_id[0], 2);

	sb_der(&ext, 0x04, list.data, list.len);
	d.data = (unsigned char *)ext.data;
	d.size = (unsigned)ext.len;
	assert_int_equal(gnutls_x509_ext_ct_scts_init(&g), 0);
	assert_true(gnutls_x509_ext_ct_import_scts(&d, g, 0) < 0);
	gnutls_x509_ext_ct_scts_deinit(g);

	/* one v1 SCT with CtExtensions (opaque in RFC 6962 3.2): counted by
	 * us, the whole list refused by GnuTLS */
	scts.len = list.len = ext.len = 0;
	sb_sct_v1(&scts, 3, 3, 5, 8);
	sb_list(&list, &scts);
	sb_der(&ext, 0x04, list.data, list.len);
	assert_int_equal(sct_list_from_ext((unsigned char *)ext.data, ext.len, &l), 0);
	assert_int_equal(l.n, 1);
	d.data = (unsigned char *)ext.data;
	d.size = (unsigned)ext.len;
	assert_int_equal(gnutls_x509_ext_ct_scts_init(&g), 0);
	assert_true(gnutls_x509_ext_ct_import_scts(&d, g, 0) < 0);
	gnutls_x509_ext_ct_scts_deinit(g);
	buf_free(&scts);
	buf_free(&list);
	buf_free(&ext);
}

static void
test_list_framing(void **state)
{
	struct sct_list l;
	static const unsigned char empty[] = { 0x00, 0x00 };
	static const unsigned char zero_sct[] = { 0x00, 0x02, 0x00, 0x00 };
	static const unsigned char overrun[] = { 0x00, 0x05, 0x00, 0x09, 0x00 };
	struct buf scts, list;

	(void)state;
	assert_int_equal(sct_list_parse(empty, sizeof(empty), &l), -1);
	assert_int_equal(sct_list_parse(zero_sct, sizeof(zero_sct), &l), -1);
	assert_int_equal(sct_list_parse(overrun, sizeof(overrun), &l), -1);
	assert_int_equal(sct_list_parse(empty, 0, &l), -1);
	assert_int_equal(sct_list_parse(NULL, 0, &l), -1);

	/* a byte after the list */
	buf_init(&scts);
	buf_init(&list);
	sb_sct_v1(&scts, 1, 1, 0, 4);
	sb_list(&list, &scts);
	buf_putc(&list, 0);
	assert_int_equal(sct_list_parse((unsigned char *)list.data, list.len, &l), -1);
	assert_int_equal(l.n, 0);
	/* every proper prefix of a good list is refused */
	list.len--;
	for (size_t len = 0; len < list.len; len++)
		assert_int_equal(parse_prefix(sct_list_parse, &list, len, &l), -1);
	assert_int_equal(parse_prefix(sct_list_parse, &list, list.len, &l), 0);
	buf_free(&scts);
	buf_free(&list);
}

/* The extension's value: a DER OCTET STRING around the list, with short
 * and long length forms; other tags, indefinite lengths and trailing
 * bytes refused. */
static void
test_ext_wrapping(void **state)
{
	struct buf scts, list, ext;
	struct sct_list l;

	(void)state;
	for (unsigned n = 1; n <= 9; n += 4) {
		buf_init(&scts);
		buf_init(&list);
		buf_init(&ext);
		/* 1 SCT: short form; 5 of 60 bytes: 0x82 */
		for (unsigned i = 0; i < n; i++)
			sb_sct_v1(&scts, (uint8_t)i, i, 0, n == 1 ? 10 : 200);
		sb_list(&list, &scts);
		sb_der(&ext, 0x04, list.data, list.len);
		assert_int_equal(parse_prefix(sct_list_from_ext, &ext, ext.len, &l), 0);
		assert_int_equal(l.n, n);
		for (size_t len = 0; len < ext.len; len++)
			assert_int_equal(parse_prefix(sct_list_from_ext, &ext, len, &l), -1);
		ext.data[0] = 0x03;     /* BIT STRING */
		assert_int_equal(parse_prefix(sct_list_from_ext, &ext, ext.len, &l), -1);
		ext.data[0] = 0x04;
		buf_putc(&ext, 0);
		assert_int_equal(parse_prefix(sct_list_from_ext, &ext, ext.len, &l), -1);
		buf_free(&scts);
		buf_free(&list);
		buf_free(&ext);
	}
	{
		static const unsigned char indefinite[] = { 0x04, 0x80, 0x00, 0x00 };
		static const unsigned char huge[] = { 0x04, 0x85, 1, 0, 0, 0, 0 };

		assert_int_equal(sct_list_from_ext(indefinite, sizeof(indefinite), &l), -1);
		assert_int_equal(sct_list_from_ext(huge, sizeof(huge), &l), -1);
	}
}

/* GnuTLS's parser and ours agree on every v1 list both accept: count,
 * log ids and timestamps, for lists of 1 to 12 SCTs of random sizes. */
static void
test_against_gnutls(void **state)
{
	unsigned seed = 12345;

	(void)state;
	for (unsigned round = 0; round < 200; round++) {
		struct buf scts, list, ext;
		struct sct_list l;
		gnutls_x509_ct_scts_t g;
		gnutls_datum_t d;
		unsigned n = 1 + (seed = seed * 1103515245 + 12345) % 12;

		buf_init(&scts);
		buf_init(&list);
		buf_init(&ext);
		for (unsigned i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			/* no CtExtensions: GnuTLS refuses SCTs that have any */
			sb_sct_v1(&scts, (uint8_t)(seed >> 8), (uint64_t)seed * 1000, 0,
			    8 + (seed >> 12) % 100);
		}
		sb_list(&list, &scts);
		sb_der(&ext, 0x04, list.data, list.len);
		assert_int_equal(sct_list_from_ext((unsigned char *)ext.data, ext.len, &l), 0);
		assert_int_equal(gnutls_x509_ext_ct_scts_init(&g), 0);
		d.data = (unsigned char *)ext.data;
		d.size = (unsigned)ext.len;
		assert_int_equal(gnutls_x509_ext_ct_import_scts(&d, g, 0), 0);
		assert_int_equal(l.n, n);
		for (unsigned i = 0; i < n && i < SCT_KEEP; i++) {
			time_t ts;
			gnutls_datum_t logid = { NULL, 0 }, sig = { NULL, 0 };
			gnutls_sign_algorithm_t alg;

			assert_int_equal(gnutls_x509_ct_sct_get(g, i, &ts, &logid, &alg, &sig), 0);
			assert_int_equal(logid.size, 32);
			assert_memory_equal(logid.data, l.v[i].log_id, 32);
			/* GnuTLS gives whole seconds */
			assert_true((uint64_t)ts == l.v[i].timestamp_ms / 1000);
			gnutls_free(logid.data);
			gnutls_free(sig.data);
		}
		gnutls_x509_ext_ct_scts_deinit(g);
		buf_free(&scts);
		buf_free(&list);
		buf_free(&ext);
	}
}

static const unsigned char serial_a[] = { 0x01, 0x23, 0x45 };
static const unsigned char serial_b[] = { 0x00, 0x9a, 0xbc };

/* Responses GnuTLS's OCSP parser takes: the structure is right. */
static void
gnutls_accepts(const struct buf *resp, unsigned nsingle, const unsigned char *serial0,
    size_t serial0_len)
{
	gnutls_ocsp_resp_t r;
	gnutls_datum_t d = { (unsigned char *)resp->data, (unsigned)resp->len };
	gnutls_datum_t sn = { NULL, 0 };

	assert_int_equal(gnutls_ocsp_resp_init(&r), 0);
	assert_int_equal(gnutls_ocsp_resp_import(r, &d), 0);
	assert_int_equal(gnutls_ocsp_resp_get_single(r, nsingle - 1, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(gnutls_ocsp_resp_get_single(r, 0, NULL, NULL, NULL, &sn,
	    NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(sn.size, serial0_len);
	assert_memory_equal(sn.data, serial0, serial0_len);
	gnutls_free(sn.data);
	gnutls_ocsp_resp_deinit(r);
}

static void
test_ocsp(void **state)
{
	struct buf resp, list, scts;
	struct sct_list l;
	struct sb_single singles[2];

	(void)state;
	buf_init(&scts);
	buf_init(&list);
	for (unsigned i = 0; i < 3; i++)
		sb_sct_v1(&scts, (uint8_t)(0x10 + i), 1000 + i, 0, 64);
	sb_list(&list, &scts);

	/* one response for serial a, with three SCTs, a nextUpdate, the
	 * responder by key, a version */
	memset(singles, 0, sizeof(singles));
	singles[0].serial = serial_a;
	singles[0].serial_len = sizeof(serial_a);
	singles[0].scts = &list;
	singles[0].next_update = 1;
	buf_init(&resp);
	sb_ocsp(&resp, singles, 1, 1, 1);
	gnutls_accepts(&resp, 1, serial_a, sizeof(serial_a));
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, serial_a,
	    sizeof(serial_a), &l), 1);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[2].log_id[0], 0x12);
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, NULL, 0, &l), 1);
	assert_int_equal(l.n, 3);
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, serial_b,
	    sizeof(serial_b), &l), 0);
	assert_int_equal(l.n, 0);
	/* every truncation: refused, never read past */
	for (size_t len = 0; len < resp.len; len++)
		assert_int_equal(from_ocsp_prefix(&resp, len, serial_a, sizeof(serial_a), &l), -1);
	buf_free(&resp);

	/* two responses; b's carries the SCTs, a's none; by name, no version */
	singles[0].scts = NULL;
	singles[0].next_update = 0;
	singles[1].serial = serial_b;
	singles[1].serial_len = sizeof(serial_b);
	singles[1].scts = &list;
	singles[1].status = 1;      /* revoked */
	buf_init(&resp);
	sb_ocsp(&resp, singles, 2, 0, 0);
	gnutls_accepts(&resp, 2, serial_a, sizeof(serial_a));
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, serial_b,
	    sizeof(serial_b), &l), 1);
	assert_int_equal(l.n, 3);
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, serial_a,
	    sizeof(serial_a), &l), 0);
	/* the first single response, without SCTs */
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, NULL, 0, &l), 0);
	buf_free(&resp);

	/* a response whose status is not successful has no data */
	{
		static const unsigned char try_later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };

		assert_int_equal(sct_list_from_ocsp(try_later, sizeof(try_later), NULL, 0, &l), 0);
	}
	/* a malformed list in the extension */
	list.data[1] ^= 0x01;
	singles[0] = singles[1];
	buf_init(&resp);
	sb_ocsp(&resp, singles, 1, 1, 1);
	assert_int_equal(sct_list_from_ocsp((unsigned char *)resp.data, resp.len, serial_b,
	    sizeof(serial_b), &l), -1);
	buf_free(&resp);
	buf_free(&list);
	buf_free(&scts);
}

/* With TLSWATCH_FUZZ_SEEDS=DIR, each whole input is also written there:
 * how tests/fuzz/corpus/sct/ was made. */
static void
write_seed(const struct buf *in, unsigned mode)
{
	const char *dir = getenv("TLSWATCH_FUZZ_SEEDS");
	char *path;
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	path = xasprintf("%s/seed-%u", dir, mode);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(in->data, 1, in->len, f), in->len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* The fuzz harness's seeds (byte 0: the entry point, then its input): a
 * list, an extension value and an OCSP response, each of three SCTs,
 * each parsing as it should. */
static void
test_seeds(void **state)
{
	struct buf in, scts, list, resp;
	struct sb_single single;
	struct sct_list l;

	(void)state;
	buf_init(&scts);
	buf_init(&list);
	for (unsigned i = 0; i < 3; i++)
		sb_sct_v1(&scts, (uint8_t)i, i, i, 16);
	sb_list(&list, &scts);
	memset(&single, 0, sizeof(single));
	single.serial = serial_a;
	single.serial_len = sizeof(serial_a);
	single.scts = &list;
	buf_init(&resp);
	sb_ocsp(&resp, &single, 1, 1, 1);
	for (unsigned mode = 0; mode < 3; mode++) {
		const unsigned char *body;

		buf_init(&in);
		buf_putc(&in, (char)mode);
		if (mode == 1)
			sb_der(&in, 0x04, list.data, list.len);
		else
			buf_append(&in, mode == 2 ? resp.data : list.data,
			    mode == 2 ? resp.len : list.len);
		body = (const unsigned char *)in.data + 1;
		if (mode == 0)
			assert_int_equal(sct_list_parse(body, in.len - 1, &l), 0);
		else if (mode == 1)
			assert_int_equal(sct_list_from_ext(body, in.len - 1, &l), 0);
		else
			assert_int_equal(sct_list_from_ocsp(body, in.len - 1, serial_a,
			    sizeof(serial_a), &l), 1);
		assert_int_equal(l.n, 3);
		write_seed(&in, mode);
		buf_free(&in);
	}
	buf_free(&resp);
	buf_free(&list);
	buf_free(&scts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_counts),
		cmocka_unit_test(test_list_many),
		cmocka_unit_test(test_list_unknown_and_invalid),
		cmocka_unit_test(test_list_framing),
		cmocka_unit_test(test_ext_wrapping),
		cmocka_unit_test(test_against_gnutls),
		cmocka_unit_test(test_ocsp),
		cmocka_unit_test(test_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
