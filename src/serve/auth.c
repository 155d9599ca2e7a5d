/* auth.c - password hashes for basic auth, through libxcrypt's crypt(3): the
 * same bcrypt hashes Prometheus's exporter-toolkit and htpasswd -B write. */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serve/auth.h"
#include "core/util.h"

/* Verifying against an unknown user costs as much as against a known one:
 * this hash stands in (bcrypt of a random string, cost 10). */
static const char auth_dummy[] =
    "$2b$10$XPTllySaZLywOju.PY4I7ecWd9dpS/x0k19gJ.a8.NOrvEIWULUKi";

int
auth_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

const char *
auth_hash_problem(const char *hash)
{
	struct crypt_data *cd;
	const char *out, *why = NULL;

	if (hash[0] != '$')
		return "not a crypt(3) hash (expected e.g. \"$2b$10$...\"; "
		    "make one with `tlswatch hash-password`)";
	switch (crypt_checksalt(hash)) {
	case CRYPT_SALT_OK:
		break;
	case CRYPT_SALT_METHOD_LEGACY:
		return "hash method too weak (use bcrypt: `tlswatch hash-password`)";
	default:
		return "not a hash this system's crypt(3) can verify";
	}
	/* The setting may parse while the checksum part is cut short or
	 * garbled: hashing anything with it must give a string shaped alike. */
	cd = xcalloc(1, sizeof(*cd));
	out = crypt_rn("x", hash, cd, (int)sizeof(*cd));
	if (out == NULL || out[0] == '*' || strlen(out) != strlen(hash))
		why = "incomplete or malformed hash";
	free(cd);
	return why;
}

int
auth_verify(const char *password, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *setting = hash ? hash : auth_dummy;
	const char *out;
	size_t len;
	int ok = 0;

	out = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	len = strlen(setting);
	if (out != NULL && out[0] != '*' && strlen(out) == len)
		ok = auth_equal(out, setting, len);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return hash != NULL && ok;
}

char *
auth_hash_password(const char *password, unsigned cost, char **err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *out;
	char *hash = NULL;

	*err = NULL;
	if (cost < AUTH_MIN_COST || cost > AUTH_MAX_COST) {
		*err = xasprintf("cost must be between %d and %d", AUTH_MIN_COST,
		    AUTH_MAX_COST);
		return NULL;
	}
	/* NULL random bytes: libxcrypt takes them from the kernel. */
	if (crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, (int)sizeof(salt)) == NULL) {
		*err = xasprintf("cannot make a bcrypt salt: %s", strerror(errno));
		return NULL;
	}
	cd = xcalloc(1, sizeof(*cd));
	out = crypt_rn(password, salt, cd, (int)sizeof(*cd));
	if (out == NULL || out[0] == '*')
		*err = xasprintf("crypt(3) failed: %s", strerror(errno));
	else
		hash = xstrdup(out);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return hash;
}
