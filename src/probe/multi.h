/* multi.h - addresses = "all": resolve a target once, then probe every
 * address it resolves to at the same time, each a probe of its own. */
#ifndef TLSWATCH_MULTI_H
#define TLSWATCH_MULTI_H

#include <stddef.h>

#include "conf/conf.h"
#include "probe/probe.h"
#include "result.h"

/* At most this many addresses of one name are probed (and published). */
#define MULTI_MAX_ADDRS 16

struct loop;
struct resolver;
struct multi;

/* Either resolving failed (failure is that result, a is NULL, n is 0), or
 * a[0..n) holds one result per address, in resolver order, with address
 * set and labels NULL. The callee owns everything it is given. Never
 * called from inside multi_start. */
typedef void (*multi_done_fn)(void *arg, struct result *failure, struct addr_result *a,
                              size_t n);

/* o->addr is ignored; the deadline covers resolving and every probe. With
 * o->ref_prefix (which must outlive it), each address's key is the prefix
 * and the address. */
struct multi *multi_start(struct loop *l, struct resolver *res, const struct conf_target *ct,
                          const struct probe_opts *o, multi_done_fn done, void *arg);
/* Abandon it; done will not be called. Accepts NULL. */
void multi_cancel(struct multi *m);

#endif
