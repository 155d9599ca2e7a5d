/* test_pin.c - deferred frees: an object handed to pin_free while readers
 * are active is freed only once every reader that could see it has ended,
 * in any order of ending, and at once when no reader is active. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/pin.h"

static int freed[8];

static void
mark(void *p)
{
	freed[*(int *)p]++;
}

static int ids[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

static void
test_no_reader_frees_now(void **state)
{
	(void)state;
	assert_false(pin_active());
	pin_free(mark, &ids[0]);
	assert_int_equal(freed[0], 1);
	pin_free(mark, NULL);            /* nothing */
	assert_int_equal(pin_deferred(), 0);
}

static void
test_waits_for_every_reader_that_saw_it(void **state)
{
	uint64_t a, b, c;

	(void)state;
	a = pin_begin();
	pin_free(mark, &ids[1]);         /* a may see it */
	b = pin_begin();
	pin_free(mark, &ids[2]);         /* a and b may */
	assert_true(pin_active());
	assert_int_equal(pin_deferred(), 2);
	assert_int_equal(freed[1] + freed[2], 0);

	pin_end(b);                      /* a still reads both */
	assert_int_equal(freed[1] + freed[2], 0);
	c = pin_begin();                 /* began after both were retired */
	pin_free(mark, &ids[3]);         /* c may see it */
	pin_end(a);                      /* 1 and 2: only a and b could see them */
	assert_int_equal(freed[1], 1);
	assert_int_equal(freed[2], 1);
	assert_int_equal(freed[3], 0);
	assert_true(pin_active());
	pin_end(c);
	assert_int_equal(freed[3], 1);
	assert_false(pin_active());
	assert_int_equal(pin_deferred(), 0);
	pin_end(c);                      /* ended twice: ignored */
	assert_int_equal(freed[3], 1);
}

static void
test_newer_reader_does_not_hold_older_objects(void **state)
{
	uint64_t a, b;

	(void)state;
	a = pin_begin();
	pin_free(mark, &ids[4]);
	b = pin_begin();
	pin_end(a);                      /* b began after 4 was retired */
	assert_int_equal(freed[4], 1);
	pin_free(mark, &ids[5]);
	assert_int_equal(freed[5], 0);
	pin_end(b);
	assert_int_equal(freed[5], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_reader_frees_now),
		cmocka_unit_test(test_waits_for_every_reader_that_saw_it),
		cmocka_unit_test(test_newer_reader_does_not_hold_older_objects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
