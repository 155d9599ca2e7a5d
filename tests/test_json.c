/* test_json.c - the JSON writer (serve/json.c): strings escaped whatever
 * they hold, objects built key by key, numbers always valid JSON. The
 * output is read back with python3's json module, a parser of its own. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "serve/json.h"

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

/* Random bytes, written as a JSON string inside an array, always parse as
 * JSON (python3 -c json.load). */
static void
test_random_parses(void **state)
{
	struct buf b;
	char path[64];
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	srand(7);
	buf_init(&b);
	buf_putc(&b, '[');
	for (int i = 0; i < 200; i++) {
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
	snprintf(path, sizeof(path), "/tmp/test_json.%d.json", (int)getpid());
	assert_non_null(f = fopen(path, "w"));
	fputs(b.data, f);
	fclose(f);
	buf_free(&b);
	if ((pid = fork()) == 0) {
		execlp("python3", "python3", "-c",
		    "import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if len(a)==200 else 1)",
		    path, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
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
