/*
 * fetchrun.c - the fetches of one probe, run to their end (fetchrun.h).
 */
#include "config.h"

#include <stdlib.h>

#include "conf/conf.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/work.h"
#include "fetch/fetch.h"
#include "verdict/fetchrun.h"
#include "verdict/verdict.h"

struct fetchrun {
	struct loop *loop;
	struct work_pool *pool;
	struct fetch *fetch;
	struct loop_timer deadline;
	int rechecks;        /* asked for since the last judgement */
	int expired;
};

static void
recheck_cb(void *arg, const char *target, const char *address)
{
	struct fetchrun *fr = arg;

	(void)target;
	(void)address;
	fr->rechecks++;
	loop_stop(fr->loop);
}

static void
deadline_cb(struct loop_timer *t)
{
	struct fetchrun *fr = container_of(t, struct fetchrun, deadline);

	fr->expired = 1;
	loop_stop(fr->loop);
}

struct fetchrun *
fetchrun_start(struct loop *l, const struct cadata_settings *cs, uint64_t timeout_ms, char **err)
{
	struct fetchrun *fr = xcalloc(1, sizeof(*fr));
	struct fetch_settings fs = {
		.timeout_ms = timeout_ms,
		.concurrency = CONF_DEFAULT_FETCH_CONCURRENCY,
		.max_size = CONF_DEFAULT_FETCH_MAX_SIZE,
	};

	fr->loop = l;
	if ((fr->pool = work_pool_new(l, 1, "fetch", err)) == NULL) {
		free(fr);
		return NULL;
	}
	fr->fetch = fetch_new(l, fr->pool, NULL, &fs);
	cadata_setup(l, fr->pool, fr->fetch, cs);
	loop_timer_init(&fr->deadline, deadline_cb);
	verdict_set_recheck_hook(recheck_cb, fr);
	return fr;
}

void
fetchrun_settle(struct fetchrun *fr, const struct conf_target *ct, struct verdict *v,
    uint64_t wait_ms)
{
	fr->expired = 0;
	loop_timer_at(fr->loop, &fr->deadline, loop_now(fr->loop) + wait_ms);
	while (!fr->expired && (fr->rechecks > 0 || verdict_pending(v))) {
		struct verdict nv;
		struct verdict_input in = {
			.trust = ct->trust,
			.target = ct,
			.hostname = conf_target_check_name(ct),
			.ref_target = ct->name,
		};

		if (fr->rechecks == 0) {
			struct cadata_stats st;

			/* pending on nothing cadata fetches: nothing will come */
			cadata_get_stats(&st);
			if (st.busy == 0 || loop_run(fr->loop) == -1)
				break;
		}
		if (fr->rechecks == 0)
			continue;
		fr->rechecks = 0;
		in.now = (int64_t)wall_now();
		if (verdict_recheck(v, &in, &nv) == -1)
			break;
		verdict_fini(v);
		*v = nv;
	}
	loop_timer_cancel(fr->loop, &fr->deadline);
}

void
fetchrun_free(struct fetchrun *fr)
{
	if (fr == NULL)
		return;
	verdict_unset_recheck_hook(fr);
	cadata_shutdown();
	fetch_free(fr->fetch);
	work_pool_free(fr->pool);
	free(fr);
}
