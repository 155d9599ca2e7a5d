/* test_json.c - the JSON writer (serve/json.c): strings escaped whatever
 * they hold, objects built key by key, numbers always valid JSON. Random
 * output is read back by the fuzz harnesses' RFC 8259 checker
 * (tests/fuzz/support.c), written apart from the writer. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "serve/json.h"
#include "fuzz/fuzz.h"

static void
test_object(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_putc(&b, '{');
	json_key(&b, "a", 1);
	json_int(&b, INT64_MIN);
	json_key(&b, "b\"", 0);
	json_num(&b, 2.0 / 3.0, 3);
	json_key(&b, "c", 0);
	json_num(&b, NAN, 2);
	json_key(&b, "d", 0);
	json_bool(&b, 7);
	json_key(&b, "e", 0);
	json_bool(&b, 0);
	json_key(&b, "f", 0);
	json_str(&b, NULL);
	buf_putc(&b, '}');
	assert_string_equal(b.data, "{\"a\":-9223372036854775808,\"b\\\"\":0.667,\"c\":null,"
	    "\"d\":true,\"e\":false,\"f\":null}");
	buf_free(&b);
}

static void
test_strings(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "\n\t\r\x01\x1f\x7f", "\"\\n\\t\\u000d\\u0001\\u001f\\u007f\"" },
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\"" },
		/* not UTF-8: each maximal invalid part is one U+FFFD */
		{ "a\xff" "b", "\"a\\ufffdb\"" },
		{ "\xe2\x82", "\"\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },     /* a surrogate */
		{ "</script>", "\"</script>\"" },
	};
	struct buf b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		buf_init(&b);
		json_str(&b, cases[i].in);
		if (strcmp(b.data, cases[i].out) != 0)
			print_error("case %zu: got %s\n", i, b.data);
		assert_string_equal(b.data, cases[i].out);
		buf_free(&b);
	}
}

/* Random bytes, written as JSON strings inside an array, always make a
 * valid JSON text. */
static void
test_random_parses(void **state)
{
	struct buf b;

	(void)state;
	srand(7);
	for (int round = 0; round < 20; round++) {
		buf_init(&b);
		buf_putc(&b, '[');
		for (int i = 0; i < 50; i++) {
			char s[64];
			size_t n = (size_t)(rand() % 63);

			for (size_t k = 0; k < n; k++)
				s[k] = (char)(1 + rand() % 255);
			s[n] = '\0';
			if (i)
				buf_putc(&b, ',');
			json_str(&b, s);
		}
		buf_putc(&b, ']');
		if (!fuzz_json_valid(b.data, b.len))
			fail_msg("not JSON: %s", b.data);
		buf_free(&b);
	}
	/* and the checker is no yes-man */
	assert_false(fuzz_json_valid("[\"\x01\"]", 5));
	assert_false(fuzz_json_valid("[\"a\",]", 6));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_random_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
