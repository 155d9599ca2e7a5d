/* test_dnsmsg.c - DNS responses read by dnsmsg.c: header flags, TLSA, MX
 * and TXT records, names compressed and not, and every bound: cut short
 * at each byte, too many records, malformed records, pointer loops. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/dnsmsg.h"
#include "probe/dnsrec.h"

/* A response under construction. */
struct msg {
	unsigned char b[70000];
	size_t len;
	size_t ancount_at;
	unsigned an;
};

static void
put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void
put8(struct msg *m, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(m, &c, 1);
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

/* "a.b.c" as labels, ending in the root. */
static void
put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)l);
		put(m, name, l);
		name += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* Header (QR set, flags byte 3 as given) and the question name qtype IN. */
static void
begin(struct msg *m, unsigned flags3, const char *qname, unsigned qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put8(m, 0x81);          /* QR, RD */
	put8(m, flags3);
	put16(m, 1);            /* QDCOUNT */
	m->ancount_at = m->len;
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* An answer record owned by the question name (pointer to offset 12). */
static void
answer(struct msg *m, unsigned type, unsigned class, const void *rdata, size_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, class);
	put16(m, 0);
	put16(m, 300);
	put16(m, (unsigned)rdlen);
	put(m, rdata, rdlen);
	m->an++;
	m->b[m->ancount_at] = (unsigned char)(m->an >> 8);
	m->b[m->ancount_at + 1] = (unsigned char)m->an;
}

static void
test_tlsa(void **state)
{
	struct msg m;
	struct dnsmsg d;
	const char *err = NULL;
	unsigned char r1[3 + 32], r2[] = { 2, 0, 0, 0xde, 0xad };

	(void)state;
	r1[0] = 3;
	r1[1] = 1;
	r1[2] = 1;
	for (int i = 0; i < 32; i++)
		r1[3 + i] = (unsigned char)i;
	begin(&m, 0xa0 /* RA, AD */, "_25._tcp.mx.example", DNS_T_TLSA);
	/* a CNAME and an RRSIG on the way are not TLSA records */
	answer(&m, 5, 1, "\x02mx\x00", 4);
	answer(&m, DNS_T_TLSA, 1, r1, sizeof(r1));
	answer(&m, 46, 1, "sig", 3);
	answer(&m, DNS_T_TLSA, 1, r2, sizeof(r2));
	/* the wrong class is not ours either */
	answer(&m, DNS_T_TLSA, 3, r2, sizeof(r2));
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TLSA, &d, &err), 0);
	assert_true(d.ad);
	assert_false(d.tc);
	assert_int_equal(d.rcode, 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.bad, 0);
	assert_int_equal(d.tlsa[0].usage, 3);
	assert_int_equal(d.tlsa[0].selector, 1);
	assert_int_equal(d.tlsa[0].mtype, 1);
	assert_int_equal(d.tlsa[0].len, 32);
	assert_memory_equal(d.tlsa[0].data, r1 + 3, 32);
	assert_int_equal(d.tlsa[1].usage, 2);
	assert_int_equal(d.tlsa[1].len, 2);
	assert_memory_equal(d.tlsa[1].data, "\xde\xad", 2);
	dnsmsg_free(&d);

	/* too short to be TLSA: skipped and counted; no data is fine */
	begin(&m, 0x80, "_25._tcp.mx.example", DNS_T_TLSA);
	answer(&m, DNS_T_TLSA, 1, "\x03\x01", 2);
	answer(&m, DNS_T_TLSA, 1, "\x03\x01\x01", 3);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TLSA, &d, &err), 0);
	assert_false(d.ad);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.bad, 1);
	assert_int_equal(d.tlsa[0].len, 0);
	dnsmsg_free(&d);
}

static void
test_rcode(void **state)
{
	struct msg m;
	struct dnsmsg d;
	const char *err = NULL;

	(void)state;
	begin(&m, 0xa3 /* RA AD NXDOMAIN */, "_25._tcp.none.example", DNS_T_TLSA);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TLSA, &d, &err), 0);
	assert_int_equal(d.rcode, 3);
	assert_true(d.ad);
	assert_int_equal(d.n, 0);
	assert_string_equal(dns_rcode_name(d.rcode), "NXDOMAIN");
	dnsmsg_free(&d);

	begin(&m, 0x82, "x.example", DNS_T_MX);
	m.b[2] |= 0x02;   /* TC */
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_MX, &d, &err), 0);
	assert_int_equal(d.rcode, 2);
	assert_true(d.tc);
	assert_false(d.ad);
	dnsmsg_free(&d);
	assert_string_equal(dns_rcode_name(2), "SERVFAIL");
	assert_string_equal(dns_rcode_name(9), "RCODE");

	/* a query, not a response */
	begin(&m, 0x80, "x.example", DNS_T_MX);
	m.b[2] &= 0x7f;
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_MX, &d, &err), -1);
	assert_string_equal(err, "not a response");
	assert_int_equal(dnsmsg_parse(m.b, 11, DNS_T_MX, &d, &err), -1);
	assert_int_equal(dnsmsg_parse(m.b, m.len, 1 /* A */, &d, &err), -1);
	dnsmsg_free(&d);
}

static void
test_mx(void **state)
{
	struct msg m;
	struct dnsmsg d;
	const char *err = NULL;
	size_t at;

	(void)state;
	begin(&m, 0xa0, "Example.ORG", DNS_T_MX);
	/* 20 mx2.example.org, the domain compressed (pointer into the question) */
	answer(&m, DNS_T_MX, 1, "\x00\x14\x03MX2\xc0\x0c", 8);
	/* 10 mx1.example.org written out, upper case */
	answer(&m, DNS_T_MX, 1, "\x00\x0a\x03MX1\x07" "example\x03org\x00", 19);
	/* 10 a.example.org, a label then a pointer */
	answer(&m, DNS_T_MX, 1, "\x00\x0a\x01" "a\xc0\x0c", 6);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_MX, &d, &err), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.bad, 0);
	/* by preference, then name; lowercased */
	assert_int_equal(d.mx[0].preference, 10);
	assert_string_equal(d.mx[0].host, "a.example.org");
	assert_int_equal(d.mx[1].preference, 10);
	assert_string_equal(d.mx[1].host, "mx1.example.org");
	assert_int_equal(d.mx[2].preference, 20);
	assert_string_equal(d.mx[2].host, "mx2.example.org");
	dnsmsg_free(&d);

	/* the null MX (RFC 7505), a host that is no host name, a pointer
	 * loop, a name running past the data, data too short */
	begin(&m, 0xa0, "example.org", DNS_T_MX);
	answer(&m, DNS_T_MX, 1, "\x00\x00\x00", 3);
	answer(&m, DNS_T_MX, 1, "\x00\x05\x04" "a b!\x00", 8);
	at = m.len + 12;   /* where the next record's data begins */
	{
		unsigned char loop[] = { 0, 5, 0xc0, 0 };
		loop[3] = (unsigned char)(at + 2);   /* points at itself */
		loop[2] = (unsigned char)(0xc0 | (at + 2) >> 8);
		answer(&m, DNS_T_MX, 1, loop, sizeof(loop));
	}
	answer(&m, DNS_T_MX, 1, "\x00\x05\x02mx\x00\x01", 7);
	answer(&m, DNS_T_MX, 1, "\x00\x05", 2);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_MX, &d, &err), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.bad, 4);
	assert_int_equal(d.mx[0].preference, 0);
	assert_string_equal(d.mx[0].host, "");
	dnsmsg_free(&d);
}

static void
test_txt(void **state)
{
	struct msg m;
	struct dnsmsg d;
	const char *err = NULL;

	(void)state;
	begin(&m, 0xa0, "_mta-sts.example.org", DNS_T_TXT);
	answer(&m, DNS_T_TXT, 1, "\x08v=STSv1;\x07 id=123", 17);
	answer(&m, DNS_T_TXT, 1, "\x00", 1);
	answer(&m, DNS_T_TXT, 1, "\x03" "a\0b", 4);
	/* a string length past the record's end; no string at all */
	answer(&m, DNS_T_TXT, 1, "\x05" "abc", 4);
	answer(&m, DNS_T_TXT, 1, "", 0);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TXT, &d, &err), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.bad, 2);
	assert_int_equal(d.txt[0].len, 15);
	assert_string_equal(d.txt[0].text, "v=STSv1; id=123");
	assert_int_equal(d.txt[1].len, 0);
	assert_string_equal(d.txt[1].text, "");
	assert_int_equal(d.txt[2].len, 3);
	assert_memory_equal(d.txt[2].text, "a\0b", 4);
	dnsmsg_free(&d);
}

/* Every prefix of a response is refused, and never read past. */
static void
test_cut_short(void **state)
{
	struct msg m;
	struct dnsmsg d;
	const char *err = NULL;
	unsigned char *copy;

	(void)state;
	begin(&m, 0xa0, "example.org", DNS_T_MX);
	answer(&m, DNS_T_MX, 1, "\x00\x0a\x03mx1\xc0\x0c", 8);
	answer(&m, DNS_T_MX, 1, "\x00\x14\x03mx2\x07" "example\x03org\x00", 19);
	for (size_t n = 0; n < m.len; n++) {
		/* an allocation of exactly n bytes, so that ASan sees any overread */
		copy = malloc(n ? n : 1);
		memcpy(copy, m.b, n);
		assert_int_equal(dnsmsg_parse(copy, n, DNS_T_MX, &d, &err), -1);
		assert_non_null(err);
		dnsmsg_free(&d);
		free(copy);
	}
	copy = malloc(m.len);
	memcpy(copy, m.b, m.len);
	assert_int_equal(dnsmsg_parse(copy, m.len, DNS_T_MX, &d, &err), 0);
	assert_int_equal(d.n, 2);
	dnsmsg_free(&d);
	free(copy);
}

static void
test_bounds(void **state)
{
	struct msg m;
	struct dnsmsg d;
	const char *err = NULL;
	unsigned i;

	(void)state;
	begin(&m, 0xa0, "_443._tcp.example.org", DNS_T_TLSA);
	for (i = 0; i < DNSMSG_MAX_RECORDS; i++)
		answer(&m, DNS_T_TLSA, 1, "\x03\x01\x01\xaa", 4);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TLSA, &d, &err), 0);
	assert_int_equal(d.n, DNSMSG_MAX_RECORDS);
	dnsmsg_free(&d);
	answer(&m, DNS_T_TLSA, 1, "\x03\x01\x01\xaa", 4);
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TLSA, &d, &err), -1);
	assert_string_equal(err, "too many records");
	dnsmsg_free(&d);

	/* counts that promise more than there is */
	begin(&m, 0xa0, "example.org", DNS_T_TXT);
	m.b[4] = 0xff;
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TXT, &d, &err), -1);
	/* reserved label types in a name */
	begin(&m, 0xa0, "example.org", DNS_T_TXT);
	m.b[12] = 0x45;
	assert_int_equal(dnsmsg_parse(m.b, m.len, DNS_T_TXT, &d, &err), -1);
	/* longer than any DNS message */
	assert_int_equal(dnsmsg_parse(m.b, 65536, DNS_T_TXT, &d, &err), -1);
	dnsmsg_free(&d);
}

static void
test_names(void **state)
{
	char out[300], big[300];

	(void)state;
	assert_true(dns_hostname_ok("mx1.example.org"));
	assert_true(dns_hostname_ok("_25._tcp.x-y.example"));
	assert_true(dns_hostname_ok("localhost"));
	assert_false(dns_hostname_ok(""));
	assert_false(dns_hostname_ok("a..b"));
	assert_false(dns_hostname_ok(".a"));
	assert_false(dns_hostname_ok("a."));
	assert_false(dns_hostname_ok("a b"));
	assert_false(dns_hostname_ok("a\\.b"));
	memset(big, 'a', 64);
	big[64] = '\0';
	assert_false(dns_hostname_ok(big));
	big[63] = '\0';
	assert_true(dns_hostname_ok(big));
	for (int i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = '\0';
	assert_true(dns_hostname_ok(big));
	big[253] = 'a';
	big[254] = '\0';
	assert_false(dns_hostname_ok(big));

	assert_int_equal(dnsrec_tlsa_name("mx.example.org", 25, out, sizeof(out)), 0);
	assert_string_equal(out, "_25._tcp.mx.example.org");
	assert_int_equal(dnsrec_tlsa_name("mx.example.org", 25, out, 10), -1);
	assert_int_equal(dnsrec_tlsa_name("bad name", 25, out, sizeof(out)), -1);
	big[252] = '\0';   /* 252 bytes: fine alone, too long with _25._tcp. */
	assert_int_equal(dnsrec_tlsa_name(big, 25, out, sizeof(out)), -1);
	assert_string_equal(dnsrec_status_name(DNSREC_SECURE), "secure");
	assert_string_equal(dnsrec_status_name(DNSREC_BOGUS), "bogus");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlsa),
		cmocka_unit_test(test_rcode),
		cmocka_unit_test(test_mx),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
