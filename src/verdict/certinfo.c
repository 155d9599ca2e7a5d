/* certinfo.c - a certificate for people, for the tool and the status page:
 * the fields certs.c read, as JSON; the DER as PEM. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "verdict/certinfo.h"
#include "core/util.h"
#include "serve/json.h"

char *
certinfo_pem(const unsigned char *der, size_t len)
{
	return cert_pem(der, len, NULL);
}

void
certinfo_json(struct buf *b, const struct cert *ci, size_t depth, double now)
{
	buf_putc(b, '{');
	json_key(b, "depth", 1);
	json_int(b, (int64_t)depth);
	json_key(b, "sha256", 0);
	json_str(b, ci->sha256);
	json_key(b, "subject", 0);
	json_str(b, ci->subject);
	json_key(b, "issuer", 0);
	json_str(b, ci->issuer);
	json_key(b, "serial", 0);
	json_str(b, ci->serial);
	json_key(b, "not_before", 0);
	json_int(b, ci->not_before);
	json_key(b, "not_after", 0);
	json_int(b, ci->not_after);
	json_key(b, "days_left", 0);
	json_num(b, ((double)ci->not_after - now) / 86400.0, 2);
	json_key(b, "key_type", 0);
	json_str(b, ci->key_type);
	json_key(b, "key_bits", 0);
	json_int(b, ci->key_bits);
	json_key(b, "key_curve", 0);
	json_str(b, ci->key_curve);
	json_key(b, "signature_algorithm", 0);
	json_str(b, ci->sig_alg);
	json_key(b, "is_ca", 0);
	json_bool(b, ci->is_ca);
	json_key(b, "sans", 0);
	buf_putc(b, '[');
	for (size_t i = 0; i < ci->nsans; i++) {
		if (i)
			buf_putc(b, ',');
		json_str(b, ci->sans[i]);
	}
	buf_puts(b, "]}");
}
