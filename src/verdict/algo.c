/*
 * algo.c - words for algorithms, from GnuTLS's identifiers.
 *
 * The words follow IANA's TLS registries where one exists (Supported
 * Groups, SignatureScheme of RFC 8446 4.2.3), lowercased, so that what
 * tlswatch shows is what a TLS specification or testssl.sh says. A
 * certificate's signature is not bound to a curve, so its word is the
 * scheme and the hash alone ("ecdsa_sha256"). Anything not named here
 * falls back to GnuTLS's own name, lowercased, with '_' for every other
 * character: still one of GnuTLS's fixed set.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "verdict/algo.h"

/* Lowercase s into out (size bytes), '_' for anything but letters and
 * digits, or only letters and digits when keep_sep is 0; "unknown" for
 * NULL or "". */
static void
lower_word(const char *s, int keep_sep, char *out, size_t size)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o < size - 1; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c))
			out[o++] = (char)tolower(c);
		else if (keep_sep && o > 0 && out[o - 1] != '_')
			out[o++] = '_';
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
	if (o == 0)
		snprintf(out, size, "unknown");
}

const char *
algo_key_type(int pk)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		return "rsa";
	case GNUTLS_PK_ECDSA:
		return "ecdsa";
	case GNUTLS_PK_EDDSA_ED25519:
		return "ed25519";
	case GNUTLS_PK_EDDSA_ED448:
		return "ed448";
	case GNUTLS_PK_DSA:
		return "dsa";
	case GNUTLS_PK_ECDH_X25519:
		return "x25519";
	case GNUTLS_PK_ECDH_X448:
		return "x448";
	case GNUTLS_PK_GOST_01:
	case GNUTLS_PK_GOST_12_256:
	case GNUTLS_PK_GOST_12_512:
		return "gost";
	default:
		return "unknown";
	}
}

/* The longest hash word: "streebog_512" */
#define HASH_WORD_MAX 16

/* "sha256", "sha3_256", "md5" for the signature's hash; "" when none. */
static void
hash_word(gnutls_sign_algorithm_t s, char *out)
{
	gnutls_digest_algorithm_t h = gnutls_sign_get_hash_algorithm(s);

	if (h == GNUTLS_DIG_UNKNOWN)
		out[0] = '\0';
	else
		lower_word(gnutls_digest_get_name(h), 1, out, HASH_WORD_MAX);
}

static int
is_rsae(gnutls_sign_algorithm_t s)
{
	return s == GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 || s == GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 ||
	    s == GNUTLS_SIGN_RSA_PSS_RSAE_SHA512;
}

/* The scheme and hash as tls (1: the TLS registry) or a certificate words
 * them; 0, or -1 for a kind left to the fallback. */
static int
sign_word(gnutls_sign_algorithm_t s, int tls, char *out)
{
	char h[HASH_WORD_MAX];
	const char *curve = NULL;

	hash_word(s, h);
	switch (gnutls_sign_get_pk_algorithm(s)) {
	case GNUTLS_PK_EDDSA_ED25519:
		snprintf(out, ALGO_WORD_MAX, "ed25519");
		return 0;
	case GNUTLS_PK_EDDSA_ED448:
		snprintf(out, ALGO_WORD_MAX, "ed448");
		return 0;
	case GNUTLS_PK_RSA:
		if (h[0] == '\0')
			return -1;       /* RSA-RAW: no scheme */
		snprintf(out, ALGO_WORD_MAX, "rsa_pkcs1_%s", h);
		return 0;
	case GNUTLS_PK_RSA_PSS:
		if (!tls)
			snprintf(out, ALGO_WORD_MAX, "rsa_pss_%s", h);
		else
			snprintf(out, ALGO_WORD_MAX, "rsa_pss_%s_%s", is_rsae(s) ? "rsae" : "pss", h);
		return 0;
	case GNUTLS_PK_ECDSA:
		/* TLS 1.3 binds a curve to the hash; TLS 1.2's code points
		 * 0x0403, 0x0503, 0x0603 are the same schemes */
		if (tls && strcmp(h, "sha256") == 0)
			curve = "secp256r1_";
		else if (tls && strcmp(h, "sha384") == 0)
			curve = "secp384r1_";
		else if (tls && strcmp(h, "sha512") == 0)
			curve = "secp521r1_";
		snprintf(out, ALGO_WORD_MAX, "ecdsa_%s%s", curve ? curve : "", h);
		return 0;
	case GNUTLS_PK_DSA:
		snprintf(out, ALGO_WORD_MAX, "dsa_%s", h);
		return 0;
	default:
		return -1;
	}
}

void
algo_cert_signature(int sign, char *out)
{
	gnutls_sign_algorithm_t s = (gnutls_sign_algorithm_t)sign;

	if (s == GNUTLS_SIGN_UNKNOWN || gnutls_sign_get_name(s) == NULL) {
		snprintf(out, ALGO_WORD_MAX, "unknown");
		return;
	}
	if (sign_word(s, 0, out) == -1)
		lower_word(gnutls_sign_get_name(s), 1, out, ALGO_WORD_MAX);
}

void
algo_group(const char *gnutls_name, char *out)
{
	/* only a name GnuTLS knows: the set stays GnuTLS's */
	if (gnutls_name == NULL || gnutls_group_get_id(gnutls_name) == GNUTLS_GROUP_INVALID) {
		snprintf(out, ALGO_WORD_MAX, "unknown");
		return;
	}
	/* IANA: "x25519", "secp256r1", "ffdhe2048", "X25519MLKEM768" */
	lower_word(gnutls_name, 0, out, ALGO_WORD_MAX);
}

void
algo_sigscheme(const char *gnutls_name, char *out)
{
	gnutls_sign_algorithm_t s;

	if (gnutls_name == NULL ||
	    (s = gnutls_sign_get_id(gnutls_name)) == GNUTLS_SIGN_UNKNOWN) {
		snprintf(out, ALGO_WORD_MAX, "unknown");
		return;
	}
	if (sign_word(s, 1, out) == -1)
		lower_word(gnutls_sign_get_name(s), 1, out, ALGO_WORD_MAX);
}
