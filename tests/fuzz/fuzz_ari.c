/*
 * fuzz_ari.c - ACME renewal information on any bytes: byte 0 picks the
 * parser (0 a directory, 1 a RenewalInfo, 2 an RFC 3339 time, 3
 * base64url, else the certificate identifier of the rest as DER).
 *
 * Invariants: a directory gives an http(s) URL or says why; a window ends
 * after it starts, within the years X.509 can say; base64url uses its
 * alphabet only and has the length RFC 4648 gives; a CertID is two
 * base64url parts joined by one dot.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fuzz.h"
#include "verdict/ari.h"
#include "verdict/x509.h"

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	char *url, *err, *s, *id, *key;
	struct ari_window w;
	int64_t t;

	if (size == 0)
		return 0;
	switch (data[0]) {
	case 0:
		if (ari_directory(text, len, &url, &err) == 0) {
			FUZZ_CHECK(x509_is_http_url((const unsigned char *)url, strlen(url)), "http(s)");
			free(url);
		} else {
			FUZZ_CHECK(url == NULL && err != NULL, "says why");
			free(err);
		}
		break;
	case 1:
		if (ari_window_parse(text, len, &w, &err) == 0) {
			FUZZ_CHECK(w.start < w.end, "ends after it starts");
			FUZZ_CHECK(time_epoch_ok(w.start) && time_epoch_ok(w.end), "in range");
			ari_window_free(&w);
		} else {
			FUZZ_CHECK(err != NULL, "says why");
			free(err);
		}
		break;
	case 2:
		s = xstrndup(text, len);
		if (ari_parse_time(s, &t) == 0)
			FUZZ_CHECK(t >= -62135596800LL - 86400 && t <= 253402300799LL + 86400, "in range");
		free(s);
		break;
	case 3:
		s = ari_base64url(data + 1, len);
		FUZZ_CHECK(strspn(s, B64URL) == strlen(s), "alphabet");
		FUZZ_CHECK(strlen(s) == len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0), "length");
		free(s);
		break;
	default:
		if (ari_cert_id(data + 1, len, &id, &key, &err) == 0) {
			char *dot = strchr(id, '.');
			FUZZ_CHECK(dot != NULL && strchr(dot + 1, '.') == NULL, "one dot");
			FUZZ_CHECK(strspn(key, B64URL) == strlen(key) && strlen(key) > 0, "key id");
			FUZZ_CHECK(strncmp(id, key, strlen(key)) == 0, "the key id first");
			free(id);
			free(key);
		} else {
			FUZZ_CHECK(err != NULL, "says why");
			free(err);
		}
		break;
	}
	return 0;
}
