/*
 * dnsmsg.c - the records of one DNS response, read with every length
 * bounded.
 *
 * c-ares 1.18 (Debian 12) parses MX and TXT answers but not TLSA, and its
 * parsers do not show the header's AD bit or RCODE, which DANE needs. So
 * one walk over the message reads the header and the answer section for
 * all three types; names inside MX data are expanded by c-ares's own
 * ares_expand_name (compression pointers, loops), everything else is a
 * few bounded fields. Every read is checked against the message's end
 * before it is made.
 */
#include "config.h"

#include <ares.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probe/dnsmsg.h"

#define DNS_HEADER  12
#define DNS_CLASS_IN 1

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Step over the name at *off: labels up to the root, or up to a
 * compression pointer (which ends the name where it is written). */
static int
skip_name(const unsigned char *msg, size_t len, size_t *off)
{
	size_t o = *off;

	for (;;) {
		if (o >= len)
			return -1;
		unsigned c = msg[o];
		if ((c & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return -1;
			*off = o + 2;
			return 0;
		}
		if ((c & 0xc0) != 0)   /* 0x40 and 0x80: reserved label types */
			return -1;
		if (c == 0) {
			*off = o + 1;
			return 0;
		}
		o += 1 + (size_t)c;
	}
}

int
dns_hostname_ok(const char *s)
{
	size_t total = 0, label = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (++total > 253)
			return 0;
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return total > 0 && label > 0;
}

const char *
dns_rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};

	return rcode < ARRAY_SIZE(names) ? names[rcode] : "RCODE";
}

static int
tlsa_read(struct dnsmsg *m, const unsigned char *rd, size_t rdlen)
{
	struct dns_tlsa *t;

	if (rdlen < 3)
		return -1;
	t = &m->tlsa[m->n];
	t->usage = rd[0];
	t->selector = rd[1];
	t->mtype = rd[2];
	t->len = rdlen - 3;
	/* one byte more, so that empty data is still an allocation */
	t->data = xmalloc(t->len + 1);
	memcpy(t->data, rd + 3, t->len);
	return 0;
}

static int
mx_read(struct dnsmsg *m, const unsigned char *msg, size_t len, const unsigned char *rd,
        size_t rdlen)
{
	char *name = NULL;
	long enclen = 0;
	struct dns_mx *x;

	if (rdlen < 3)
		return -1;
	/* The name must be the rest of the data, whatever it points to. */
	if (ares_expand_name(rd + 2, msg, (int)len, &name, &enclen) != ARES_SUCCESS)
		return -1;
	if (enclen < 1 || (size_t)enclen != rdlen - 2 ||
	    (name[0] != '\0' && !dns_hostname_ok(name))) {
		ares_free_string(name);
		return -1;
	}
	x = &m->mx[m->n];
	x->preference = (uint16_t)get16(rd);
	x->host = xstrdup(name);
	ares_free_string(name);
	for (char *p = x->host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int
txt_read(struct dnsmsg *m, const unsigned char *rd, size_t rdlen)
{
	struct dns_txt *t;
	size_t o = 0, n = 0;

	/* One or more character-strings, each a length byte and its bytes. */
	if (rdlen == 0)
		return -1;
	while (o < rdlen) {
		size_t sl = rd[o];
		if (sl > rdlen - o - 1)
			return -1;
		o += 1 + sl;
	}
	t = &m->txt[m->n];
	t->text = xmalloc(rdlen + 1);
	for (o = 0; o < rdlen; ) {
		size_t sl = rd[o];
		memcpy(t->text + n, rd + o + 1, sl);
		n += sl;
		o += 1 + sl;
	}
	t->text[n] = '\0';
	t->len = n;
	return 0;
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->preference != y->preference)
		return x->preference < y->preference ? -1 : 1;
	return strcmp(x->host, y->host);
}

int
dnsmsg_parse(const unsigned char *msg, size_t len, int type, struct dnsmsg *out,
             const char **err)
{
	size_t off, i, qd, an;

	memset(out, 0, sizeof(*out));
	out->type = type;
	if (type != DNS_T_TLSA && type != DNS_T_MX && type != DNS_T_TXT) {
		*err = "unsupported record type";
		return -1;
	}
	if (len < DNS_HEADER) {
		*err = "shorter than a DNS header";
		return -1;
	}
	if (len > 65535) {
		*err = "longer than a DNS message";
		return -1;
	}
	if (!(msg[2] & 0x80)) {
		*err = "not a response";
		return -1;
	}
	out->tc = (msg[2] & 0x02) != 0;
	out->ad = (msg[3] & 0x20) != 0;
	out->rcode = msg[3] & 0x0f;
	qd = get16(msg + 4);
	an = get16(msg + 6);

	off = DNS_HEADER;
	for (i = 0; i < qd; i++) {
		if (skip_name(msg, len, &off) == -1 || len - off < 4) {
			*err = "question runs past the end";
			return -1;
		}
		off += 4;
	}
	switch (type) {
	case DNS_T_TLSA:
		out->tlsa = xcalloc(DNSMSG_MAX_RECORDS, sizeof(*out->tlsa));
		break;
	case DNS_T_MX:
		out->mx = xcalloc(DNSMSG_MAX_RECORDS, sizeof(*out->mx));
		break;
	default:
		out->txt = xcalloc(DNSMSG_MAX_RECORDS, sizeof(*out->txt));
		break;
	}
	for (i = 0; i < an; i++) {
		size_t rdlen;
		unsigned rtype, rclass;
		const unsigned char *rd;
		int rc;

		if (skip_name(msg, len, &off) == -1 || len - off < 10) {
			*err = "answer record runs past the end";
			goto fail;
		}
		rtype = get16(msg + off);
		rclass = get16(msg + off + 2);
		rdlen = get16(msg + off + 8);
		off += 10;
		if (rdlen > len - off) {
			*err = "record data runs past the end";
			goto fail;
		}
		rd = msg + off;
		off += rdlen;
		if ((int)rtype != type || rclass != DNS_CLASS_IN)
			continue;
		if (out->n == DNSMSG_MAX_RECORDS) {
			*err = "too many records";
			goto fail;
		}
		if (type == DNS_T_TLSA)
			rc = tlsa_read(out, rd, rdlen);
		else if (type == DNS_T_MX)
			rc = mx_read(out, msg, len, rd, rdlen);
		else
			rc = txt_read(out, rd, rdlen);
		if (rc == 0)
			out->n++;
		else
			out->bad++;
	}
	if (type == DNS_T_MX && out->n > 1)
		qsort(out->mx, out->n, sizeof(*out->mx), mx_cmp);
	return 0;
fail:
	dnsmsg_free(out);
	return -1;
}

void
dnsmsg_free(struct dnsmsg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		if (m->tlsa != NULL)
			free(m->tlsa[i].data);
		if (m->mx != NULL)
			free(m->mx[i].host);
		if (m->txt != NULL)
			free(m->txt[i].text);
	}
	free(m->tlsa);
	free(m->mx);
	free(m->txt);
	int type = m->type;
	memset(m, 0, sizeof(*m));
	m->type = type;
}
