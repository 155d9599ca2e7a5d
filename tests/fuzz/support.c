/* support.c - helpers every harness links (see fuzz.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "fuzz.h"
#include "core/util.h"
#include "verdict/chain.h"

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static char fuzz_tmp[256];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_tmp[0])
		(void)nftw(fuzz_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_tmp[0])
		return fuzz_tmp;
	snprintf(fuzz_tmp, sizeof(fuzz_tmp), "%s/tlswatch-fuzz.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(fuzz_tmp) == NULL) {
		perror(fuzz_tmp);
		abort();
	}
	atexit(fuzz_cleanup);
	return fuzz_tmp;
}

char *
fuzz_path(const char *name)
{
	return xasprintf("%s/%s", fuzz_dir(), name);
}

void
fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd == -1) {
		perror(path);
		abort();
	}
	while (off < len) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		perror(path);
		abort();
	}
}

char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int
fuzz_printable_line(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
fuzz_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xe0) {
		*cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0) {
		*cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
		    (s[2] & 0x3f);
		return 3;
	}
	*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	return 4;
}

/* RFC 3629, section 4, as the table of well-formed byte sequences. */
int
fuzz_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			return 0;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n;
	}
	return 1;
}

unsigned
fuzz_byte(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

unsigned char *
fuzz_pem_der(const char *pem, size_t *len, char sha256[65])
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	gnutls_datum_t out = { NULL, 0 };
	unsigned char d[32], *der;

	if (gnutls_pem_base64_decode2("CERTIFICATE", &in, &out) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, out.data, out.size, d) < 0) {
		fprintf(stderr, "fuzz: a built-in certificate does not decode\n");
		abort();
	}
	hex_encode(d, sizeof(d), sha256);
	der = xmalloc(out.size);
	memcpy(der, out.data, out.size);
	*len = out.size;
	gnutls_free(out.data);
	return der;
}

void
fuzz_state_certs(const char *dir)
{
	const char *const pems[] = { fuzz_ca_pem, fuzz_int_pem, fuzz_good_pem };
	char *certs = xasprintf("%s/certs", dir);

	(void)mkdir(dir, 0755);
	(void)mkdir(certs, 0755);
	for (size_t i = 0; i < ARRAY_SIZE(pems); i++) {
		char fp[65], *path;
		size_t len;
		unsigned char *der = fuzz_pem_der(pems[i], &len, fp);

		path = xasprintf("%s/%s.pem", certs, fp);
		fuzz_write(path, pems[i], strlen(pems[i]));
		free(path);
		free(der);
	}
	free(certs);
}

/* ------------------------------------------------------------ JSON */

/* A recursive-descent check of RFC 8259's grammar (sections 2 to 7). */
struct json_in {
	const char *p, *end;
	int depth;
};

static void
json_ws(struct json_in *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int json_value(struct json_in *j);

static int
json_lit(struct json_in *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
json_string(struct json_in *j)
{
	const char *start;

	if (j->p >= j->end || *j->p != '"')
		return 0;
	start = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++j->p >= j->end)
				return 0;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end || !strchr("0123456789abcdefABCDEF",
					    j->p[i]) || j->p[i] == '\0')
						return 0;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p) || *j->p == '\0') {
				return 0;
			}
		}
		j->p++;
	}
	if (j->p >= j->end)
		return 0;
	if (!fuzz_utf8_valid((const unsigned char *)start, (size_t)(j->p - start)))
		return 0;
	j->p++;
	return 1;
}

static int
json_digits(struct json_in *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static int
json_number(struct json_in *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!json_digits(j))
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!json_digits(j))
			return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!json_digits(j))
			return 0;
	}
	return 1;
}

static int
json_members(struct json_in *j, int object)
{
	char close = object ? '}' : ']';

	j->p++;
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 1;
	}
	for (;;) {
		if (object) {
			json_ws(j);
			if (!json_string(j))
				return 0;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return 0;
		}
		if (!json_value(j))
			return 0;
		if (j->p >= j->end)
			return 0;
		if (*j->p == close) {
			j->p++;
			return 1;
		}
		if (*j->p++ != ',')
			return 0;
	}
}

static int
json_value(struct json_in *j)
{
	int ok;

	json_ws(j);
	if (j->p >= j->end || ++j->depth > 64)
		return 0;
	switch (*j->p) {
	case '{':
	case '[':
		ok = json_members(j, *j->p == '{');
		break;
	case '"':
		ok = json_string(j);
		break;
	case 't':
		ok = json_lit(j, "true");
		break;
	case 'f':
		ok = json_lit(j, "false");
		break;
	case 'n':
		ok = json_lit(j, "null");
		break;
	default:
		ok = json_number(j);
		break;
	}
	j->depth--;
	json_ws(j);
	return ok;
}

int
fuzz_json_valid(const char *s, size_t len)
{
	struct json_in j = { s, s + len, 0 };

	return json_value(&j) && j.p == j.end;
}

struct trust *
fuzz_pki_trust(void)
{
	static struct trust *t;
	char *ca, *err = NULL;

	if (t != NULL)
		return t;
	ca = fuzz_path("ca.pem");
	fuzz_write(ca, fuzz_ca_pem, strlen(fuzz_ca_pem));
	if ((t = trust_load(ca, &err)) == NULL) {
		fprintf(stderr, "fuzz: %s: %s\n", ca, err);
		abort();
	}
	free(ca);
	return t;
}

size_t
fuzz_der_len(const uint8_t *p, size_t n)
{
	size_t len = 0, k;

	if (n < 2)
		return 0;
	if (p[1] < 0x80)
		return 2 + (size_t)p[1] <= n ? 2 + (size_t)p[1] : 0;
	k = p[1] & 0x7f;
	if (k == 0 || k > 4 || n < 2 + k)
		return 0;
	for (size_t i = 0; i < k; i++)
		len = len << 8 | p[2 + i];
	return len <= n - 2 - k ? 2 + k + len : 0;
}
