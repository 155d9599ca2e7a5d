/* sctbuild.h - test inputs for the SCT parser, built byte by byte: v1
 * SCTs (RFC 6962 3.2), the TLS-encoded list (3.3), DER around them, and
 * OCSP responses (RFC 6960 4.2.1) carrying the list in a singleExtension.
 * Log signatures are filler: tlswatch counts SCTs, it does not verify
 * them. Used by the unit tests, the fuzz seeds and tests/mkcert.c; the
 * includer provides struct buf (data, len) with buf_init, buf_free,
 * buf_append and buf_putc (core/util.h's, or mkcert.c's own). */
#ifndef TLSWATCH_SCTBUILD_H
#define TLSWATCH_SCTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void
sb_u16(struct buf *b, size_t v)
{
	buf_putc(b, (char)(v >> 8 & 0xff));
	buf_putc(b, (char)(v & 0xff));
}

/* One SerializedSCT: its length, then a v1 SCT from the log whose id is
 * 32 times logbyte, at ts milliseconds, with extlen bytes of extensions
 * and siglen of ECDSA-SHA256 "signature". */
static inline void
sb_sct_v1(struct buf *b, uint8_t logbyte, uint64_t ts, size_t extlen, size_t siglen)
{
	size_t len = 1 + 32 + 8 + 2 + extlen + 2 + 2 + siglen;

	sb_u16(b, len);
	buf_putc(b, 0);                     /* v1 */
	for (int i = 0; i < 32; i++)
		buf_putc(b, (char)logbyte);
	for (int i = 7; i >= 0; i--)
		buf_putc(b, (char)(ts >> (8 * i) & 0xff));
	sb_u16(b, extlen);
	for (size_t i = 0; i < extlen; i++)
		buf_putc(b, (char)0xe0);
	buf_putc(b, 4);                     /* sha256 */
	buf_putc(b, 3);                     /* ecdsa */
	sb_u16(b, siglen);
	for (size_t i = 0; i < siglen; i++)
		buf_putc(b, (char)(0x30 + i % 64));
}

/* The list: its length, then the SerializedSCTs in scts. */
static inline void
sb_list(struct buf *out, const struct buf *scts)
{
	sb_u16(out, scts->len);
	buf_append(out, scts->data, scts->len);
}

/* A DER TLV with the shortest length form. */
static inline void
sb_der(struct buf *out, unsigned tag, const void *p, size_t n)
{
	buf_putc(out, (char)tag);
	if (n < 0x80) {
		buf_putc(out, (char)n);
	} else if (n < 0x100) {
		buf_putc(out, (char)0x81);
		buf_putc(out, (char)n);
	} else if (n < 0x10000) {
		buf_putc(out, (char)0x82);
		sb_u16(out, n);
	} else {
		buf_putc(out, (char)0x83);
		buf_putc(out, (char)(n >> 16 & 0xff));
		sb_u16(out, n & 0xffff);
	}
	buf_append(out, p, n);
}

/* Wrap what is in b into one TLV of tag, in place. */
static inline void
sb_wrap(struct buf *b, unsigned tag)
{
	struct buf t;

	buf_init(&t);
	sb_der(&t, tag, b->data, b->len);
	buf_free(b);
	*b = t;
}

static inline void
sb_append_buf(struct buf *out, const struct buf *in)
{
	buf_append(out, in->data, in->len);
}

/* One SingleResponse to build. */
struct sb_single {
	const unsigned char *serial;   /* the INTEGER's content bytes */
	size_t serial_len;
	const struct buf *scts;        /* a list for singleExtensions, or NULL */
	int next_update;               /* add a nextUpdate */
	int status;                    /* 0 good, 1 revoked, 2 unknown */
};

/* A successful basic OCSPResponse holding n SingleResponses; responder by
 * key (else by an empty name), with an explicit version when asked. The
 * signature is filler. */
static inline void
sb_ocsp(struct buf *out, const struct sb_single *singles, size_t n, int by_key, int version)
{
	static const unsigned char sha1_alg[] = { 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02,
	                                          0x1a, 0x05, 0x00 };
	static const unsigned char sig_alg[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	                                         0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };
	static const unsigned char oid_scts[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79,
	                                          0x02, 0x04, 0x05 };
	static const unsigned char oid_basic[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30,
	                                           0x01, 0x01 };
	static const char when[] = "20261201000000Z";
	unsigned char hash[20];
	struct buf tbs, responses, x;

	memset(hash, 0x5a, sizeof(hash));
	buf_init(&responses);
	for (size_t i = 0; i < n; i++) {
		const struct sb_single *s = &singles[i];
		struct buf one, id;

		buf_init(&one);
		buf_init(&id);
		buf_append(&id, sha1_alg, sizeof(sha1_alg));
		sb_der(&id, 0x04, hash, sizeof(hash));
		sb_der(&id, 0x04, hash, sizeof(hash));
		sb_der(&id, 0x02, s->serial, s->serial_len);
		sb_wrap(&id, 0x30);
		sb_append_buf(&one, &id);
		if (s->status == 1) {
			buf_init(&x);
			sb_der(&x, 0x18, when, sizeof(when) - 1);
			sb_wrap(&x, 0xa1);
			sb_append_buf(&one, &x);
			buf_free(&x);
		} else {
			sb_der(&one, s->status == 2 ? 0x82 : 0x80, "", 0);
		}
		sb_der(&one, 0x18, when, sizeof(when) - 1);
		if (s->next_update) {
			buf_init(&x);
			sb_der(&x, 0x18, when, sizeof(when) - 1);
			sb_wrap(&x, 0xa0);
			sb_append_buf(&one, &x);
			buf_free(&x);
		}
		if (s->scts != NULL) {
			struct buf ext;

			buf_init(&ext);
			buf_init(&x);
			sb_der(&ext, 0x06, oid_scts, sizeof(oid_scts));
			sb_der(&x, 0x04, s->scts->data, s->scts->len);
			sb_der(&ext, 0x04, x.data, x.len);
			sb_wrap(&ext, 0x30);   /* Extension */
			sb_wrap(&ext, 0x30);   /* Extensions */
			sb_wrap(&ext, 0xa1);   /* singleExtensions [1] */
			sb_append_buf(&one, &ext);
			buf_free(&ext);
			buf_free(&x);
		}
		sb_wrap(&one, 0x30);
		sb_append_buf(&responses, &one);
		buf_free(&one);
		buf_free(&id);
	}
	sb_wrap(&responses, 0x30);

	buf_init(&tbs);
	if (version) {
		static const unsigned char v1[] = { 0xa0, 0x03, 0x02, 0x01, 0x00 };

		buf_append(&tbs, v1, sizeof(v1));
	}
	buf_init(&x);
	if (by_key)
		sb_der(&x, 0x04, hash, sizeof(hash));
	else
		sb_der(&x, 0x30, "", 0);
	sb_wrap(&x, by_key ? 0xa2 : 0xa1);
	sb_append_buf(&tbs, &x);
	buf_free(&x);
	sb_der(&tbs, 0x18, when, sizeof(when) - 1);
	sb_append_buf(&tbs, &responses);
	sb_wrap(&tbs, 0x30);

	/* BasicOCSPResponse: tbs, signatureAlgorithm, signature */
	buf_append(&tbs, sig_alg, sizeof(sig_alg));
	buf_init(&x);
	buf_putc(&x, 0);          /* no unused bits */
	for (int i = 0; i < 64; i++)
		buf_putc(&x, (char)i);
	sb_der(&tbs, 0x03, x.data, x.len);
	buf_free(&x);
	sb_wrap(&tbs, 0x30);

	/* ResponseBytes, then OCSPResponse */
	buf_init(&x);
	sb_der(&x, 0x06, oid_basic, sizeof(oid_basic));
	sb_der(&x, 0x04, tbs.data, tbs.len);
	sb_wrap(&x, 0x30);
	sb_wrap(&x, 0xa0);
	{
		struct buf top;
		static const unsigned char ok[] = { 0x0a, 0x01, 0x00 };

		buf_init(&top);
		buf_append(&top, ok, sizeof(ok));
		sb_append_buf(&top, &x);
		sb_wrap(&top, 0x30);
		sb_append_buf(out, &top);
		buf_free(&top);
	}
	buf_free(&x);
	buf_free(&tbs);
	buf_free(&responses);
}

#endif
