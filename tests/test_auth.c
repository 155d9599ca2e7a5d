/* test_auth.c - password hashes: validation, verification, making them;
 * and the comparisons a reload relies on (conf_target_equal,
 * conf_web_equal). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "serve/auth.h"
#include "conf/conf.h"
#include "core/util.h"

/* made by python3-bcrypt: password "secret", cost 4 */
#define HASH_2B "$2b$04$Z7vud.4g0REJjY4Y6RHgBeQMftlY736njstnUIyE4W9SSpNF3.Gw6"

static void
test_equal(void **state)
{
	(void)state;
	assert_true(auth_equal("abc", "abc", 3));
	assert_false(auth_equal("abc", "abd", 3));
	assert_false(auth_equal("xbc", "abc", 3));
	assert_true(auth_equal("", "", 0));
}

static void
test_verify_variants(void **state)
{
	char h[sizeof(HASH_2B)];

	(void)state;
	assert_true(auth_verify("secret", HASH_2B));
	assert_false(auth_verify("Secret", HASH_2B));
	assert_false(auth_verify("", HASH_2B));
	assert_false(auth_verify("secret\n", HASH_2B));
	/* $2a$ and $2y$ name the same algorithm for these inputs */
	memcpy(h, HASH_2B, sizeof(h));
	h[2] = 'a';
	assert_true(auth_verify("secret", h));
	h[2] = 'y';
	assert_true(auth_verify("secret", h));
	/* an unknown user: the dummy hash runs, the answer is no */
	assert_false(auth_verify("secret", NULL));
}

static void
test_hash_problem(void **state)
{
	(void)state;
	assert_null(auth_hash_problem(HASH_2B));
	assert_non_null(auth_hash_problem("secret"));
	assert_non_null(auth_hash_problem(""));
	assert_non_null(auth_hash_problem("$2b$04$short"));
	assert_non_null(auth_hash_problem("$2b$04$Z7vud.4g0REJjY4Y6RHgBeQMftlY736njstnUIyE4W9SSpNF3."));
	assert_non_null(auth_hash_problem("$2b$99$Z7vud.4g0REJjY4Y6RHgBeQMftlY736njstnUIyE4W9SSpNF3.Gw6"));
	assert_non_null(auth_hash_problem("$9$nonsense"));
	/* MD5 crypt: a legacy method, refused */
	assert_non_null(auth_hash_problem("$1$abcdefgh$Vh3VqYVqzWFKiV/vhFrAX."));
}

static void
test_hash_password(void **state)
{
	char *err = NULL, *h, *h2;

	(void)state;
	h = auth_hash_password("correct horse", 4, &err);
	assert_non_null(h);
	assert_null(err);
	assert_int_equal(strncmp(h, "$2b$04$", 7), 0);
	assert_int_equal(strlen(h), 60);
	assert_null(auth_hash_problem(h));
	assert_true(auth_verify("correct horse", h));
	assert_false(auth_verify("correct horsE", h));
	/* a fresh salt every time */
	h2 = auth_hash_password("correct horse", 4, &err);
	assert_non_null(h2);
	assert_string_not_equal(h, h2);
	free(h);
	free(h2);
	assert_null(auth_hash_password("x", 3, &err));
	assert_non_null(err);
	free(err);
	assert_null(auth_hash_password("x", 32, &err));
	free(err);
}

static void
test_target_equal(void **state)
{
	struct conf_label la[] = { { "env", "prod" } }, lb[] = { { "env", "dev" } };
	struct conf_target a = { .name = "t", .address = "h:1", .host = "h", .port = 1,
	    .server_name = "h", .interval_ms = 1000, .timeout_ms = 500,
	    .labels = la, .nlabels = 1, .line = 3 };
	struct conf_target b = a;

	(void)state;
	b.line = 9;     /* moving a target in the file changes nothing */
	assert_true(conf_target_equal(&a, &b));
	b.interval_ms = 2000;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.labels = lb;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.server_name = NULL;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.ca_file = "/x.pem";
	assert_false(conf_target_equal(&a, &b));
	/* how it is probed counts; the stores and credentials each load made
	 * of the same files do not (a reload loads its own) */
	b = a;
	b.trust = (const struct trust *)&b;
	b.tls.creds = (const struct tls_creds *)&b;
	b.tls.client_not_after = 12345;
	assert_true(conf_target_equal(&a, &b));
	b = a;
	b.tls.starttls = 3;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.tls.addresses_all = 1;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.tls.family = 2;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.tls.verify_hostname = !a.tls.verify_hostname;
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.tls.client_cert = "/c.pem";
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.tls.client_key = "/c.key";
	assert_false(conf_target_equal(&a, &b));
	b = a;
	b.tls.priority = "NORMAL:-VERS-TLS1.3";
	assert_false(conf_target_equal(&a, &b));
}

static void
test_web_equal(void **state)
{
	struct conf_user ua[] = { { "u", HASH_2B } }, ub[] = { { "u", "$2b$other" } };
	struct conf_web a = { .tls_cert_pem = "C", .tls_key_pem = "K",
	    .users = ua, .nusers = 1, .max_connections = 4,
	    .connection_timeout_ms = 1000, .max_request_size = 2048 };
	struct conf_web b = a;

	(void)state;
	b.tls_cert_file = "/elsewhere.pem";   /* same contents: same server */
	assert_true(conf_web_equal(&a, &b));
	b.tls_cert_pem = "C2";
	assert_false(conf_web_equal(&a, &b));
	b = a;
	b.users = ub;
	assert_false(conf_web_equal(&a, &b));
	b = a;
	b.max_connections = 5;
	assert_false(conf_web_equal(&a, &b));
	b = a;
	b.client_ca_pem = "CA";
	assert_false(conf_web_equal(&a, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_verify_variants),
		cmocka_unit_test(test_hash_problem),
		cmocka_unit_test(test_hash_password),
		cmocka_unit_test(test_target_equal),
		cmocka_unit_test(test_web_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
