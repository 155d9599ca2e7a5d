/* test_conns.c - one server's connection slots: the waiting list, the
 * victim for a newcomer (and its grace), and the request line and header
 * deadlines. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/util.h"
#include "serve/conns.h"

/* quiet() for the tests: ms since each connection last received, by fd */
static int64_t quiet_ms[8];

static int64_t
quiet(const struct conn *c, void *arg)
{
	(void)arg;
	return quiet_ms[c->fd];
}

static void
test_deadlines(void **state)
{
	struct conns cs;
	struct conn a, b;

	(void)state;
	conns_init(&cs, 2000, 10000, 0);
	assert_int_equal(conns_next_ms(&cs, 0), -1);
	assert_null(conns_expired(&cs, 1000000));

	conns_add(&cs, &a, 1, 1000);
	conns_add(&cs, &b, 2, 1500);
	assert_int_equal(conns_open(&cs), 2);
	/* the first request line is due 2 s after accept */
	assert_int_equal(conns_next_ms(&cs, 1000), 2000);
	assert_null(conns_expired(&cs, 2999));
	assert_ptr_equal(conns_expired(&cs, 3000), &a);
	/* a's line came: its headers have until 10 s after accept; b is next */
	conns_line(&cs, &a);
	assert_ptr_equal(conns_expired(&cs, 3500), &b);
	conns_line(&cs, &b);
	assert_int_equal(conns_next_ms(&cs, 3500), 7500);
	assert_ptr_equal(conns_expired(&cs, 11000), &a);
	/* however many bytes trickle in meanwhile: nothing here moves it */
	conns_line(&cs, &a);
	assert_ptr_equal(conns_expired(&cs, 11000), &a);

	/* busy: no deadline of ours (MHD's idle timeout covers the answer) */
	conns_busy(&cs, &a);
	assert_ptr_equal(conns_expired(&cs, 11500), &b);
	conns_busy(&cs, &b);
	assert_null(conns_expired(&cs, 1000000));
	assert_int_equal(conns_next_ms(&cs, 0), -1);
	/* a request done: the next one's headers are due header_ms later */
	conns_done(&cs, &a, 20000);
	assert_int_equal(conns_next_ms(&cs, 20000), 10000);
	assert_null(conns_expired(&cs, 29999));
	assert_ptr_equal(conns_expired(&cs, 30000), &a);

	conns_remove(&cs, &a);
	conns_remove(&cs, &b);
	assert_int_equal(conns_open(&cs), 0);
	assert_int_equal(conns_next_ms(&cs, 0), -1);
	conns_fini(&cs);
}

static void
test_line_deadline_capped(void **state)
{
	struct conns cs;
	struct conn a;

	(void)state;
	/* a line deadline beyond the header deadline means the latter */
	conns_init(&cs, 30000, 5000, 0);
	conns_add(&cs, &a, 1, 0);
	assert_int_equal(conns_next_ms(&cs, 0), 5000);
	conns_remove(&cs, &a);
	conns_fini(&cs);
}

static void
test_victim(void **state)
{
	struct conns cs;
	struct conn c[6];

	(void)state;
	conns_init(&cs, 5000, 10000, 0);
	assert_null(conns_victim(&cs, 8, NULL, NULL, 0));
	for (int i = 0; i < 6; i++)
		conns_add(&cs, &c[i], i, 100 * (uint64_t)i);
	/* without the kernel's word: the longest waiting */
	assert_ptr_equal(conns_victim(&cs, 8, NULL, NULL, 1000), &c[0]);
	/* busy and closing connections are no candidates */
	conns_busy(&cs, &c[0]);
	conns_closing(&cs, &c[1]);
	assert_int_equal(conns_open(&cs), 5);
	assert_ptr_equal(conns_victim(&cs, 8, NULL, NULL, 1000), &c[2]);
	/* by the kernel's word: the one quiet longest of the sample, so a
	 * client mid-handshake (c[2], quiet 5 ms) outlives one that sends
	 * nothing (c[4]) */
	quiet_ms[2] = 5;
	quiet_ms[3] = 300;
	quiet_ms[4] = 600;
	quiet_ms[5] = 0;
	assert_ptr_equal(conns_victim(&cs, 8, quiet, NULL, 1000), &c[4]);
	/* only the sample is asked: the two longest waiting */
	assert_ptr_equal(conns_victim(&cs, 2, quiet, NULL, 1000), &c[3]);
	/* ties go to the longer waiting */
	quiet_ms[3] = 600;
	assert_ptr_equal(conns_victim(&cs, 8, quiet, NULL, 1000), &c[3]);
	/* unknown (-1): how long it waited */
	quiet_ms[5] = -1;
	assert_ptr_equal(conns_victim(&cs, 8, quiet, NULL, 100000), &c[5]);
	/* every slot busy: nobody to evict */
	for (int i = 2; i < 6; i++)
		conns_busy(&cs, &c[i]);
	assert_null(conns_victim(&cs, 8, quiet, NULL, 1000));
	/* a request that ends puts its connection last in line */
	conns_done(&cs, &c[0], 2000);
	conns_done(&cs, &c[2], 2100);
	assert_ptr_equal(conns_victim(&cs, 8, NULL, NULL, 3000), &c[0]);
	for (int i = 0; i < 6; i++)
		conns_remove(&cs, &c[i]);
	assert_int_equal(conns_open(&cs), 0);
	assert_int_equal(cs.live, 0);
	assert_int_equal(cs.nclosing, 0);
	assert_null(cs.head);
	conns_fini(&cs);
}

static void
test_grace(void **state)
{
	struct conns cs;
	struct conn c[3];

	(void)state;
	conns_init(&cs, 5000, 10000, 50);
	for (int i = 0; i < 3; i++)
		conns_add(&cs, &c[i], i, 1000);
	/* all three just spoke: none is evicted, newcomers wait */
	quiet_ms[0] = 10;
	quiet_ms[1] = 49;
	quiet_ms[2] = 0;
	assert_null(conns_victim(&cs, 8, quiet, NULL, 1000));
	/* one fell quiet: it goes, however young */
	quiet_ms[2] = 50;
	assert_ptr_equal(conns_victim(&cs, 8, quiet, NULL, 1000), &c[2]);
	/* without the kernel's word, the time waited decides */
	assert_null(conns_victim(&cs, 8, NULL, NULL, 1049));
	assert_ptr_equal(conns_victim(&cs, 8, NULL, NULL, 1050), &c[0]);
	for (int i = 0; i < 3; i++)
		conns_remove(&cs, &c[i]);
	conns_fini(&cs);
}

static void
test_done_while_waiting(void **state)
{
	struct conns cs;
	struct conn a, b;

	(void)state;
	/* MHD answered a request itself (431, 400) before its headers were
	 * complete: the connection waits again, last in line */
	conns_init(&cs, 5000, 10000, 0);
	conns_add(&cs, &a, 1, 0);
	conns_add(&cs, &b, 2, 10);
	conns_line(&cs, &a);
	conns_done(&cs, &a, 100);
	assert_ptr_equal(cs.head, &b);
	assert_ptr_equal(cs.tail, &a);
	assert_int_equal(conns_next_ms(&cs, 100), 4910);
	/* a closing connection stays out, whatever ends on it */
	conns_closing(&cs, &b);
	conns_closing(&cs, &b);
	assert_int_equal(cs.nclosing, 1);
	conns_done(&cs, &b, 200);
	assert_ptr_equal(cs.head, &a);
	assert_ptr_equal(cs.tail, &a);
	conns_remove(&cs, &b);
	conns_remove(&cs, &a);
	assert_int_equal(cs.live, 0);
	assert_int_equal(cs.nclosing, 0);
	conns_fini(&cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_line_deadline_capped),
		cmocka_unit_test(test_victim),
		cmocka_unit_test(test_grace),
		cmocka_unit_test(test_done_while_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
