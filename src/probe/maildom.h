/* maildom.h - { mail_domain = "example.org"; }: each round looks up the
 * domain's MX set, then probes every MX host on every port at every
 * address (each an addresses = "all" probe, all in parallel), and hands
 * the results on as one target's per-address results, each keyed
 * "MX PORT ADDRESS" ("MX PORT" when the MX host did not resolve). The MX
 * set of the last answer is kept, and a change of it logged and counted.
 * When the MX answer is not DNSSEC-authenticated, DANE does not apply to
 * its hosts (RFC 7672 section 2.2): they are probed with dane = "off". */
#ifndef TLSWATCH_MAILDOM_H
#define TLSWATCH_MAILDOM_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "probe/multi.h"
#include "probe/probe.h"

/* At most this many MX hosts of a domain are probed (the most preferred). */
#define MAILDOM_MAX_MX 8
/* The longest key: a host name, a port and an IPv6 address. */
#define MAILDOM_KEY_MAX (253 + 1 + 5 + 1 + 46 + 1)

struct loop;
struct resolver;
struct maildom;

struct maildom *maildom_new(void);
/* Cancels a round in flight. NULL is fine. */
void maildom_free(struct maildom *md);

/*
 * One round for the mail domain target ct (which must outlive it): done is
 * called once, from the loop, either with a failure (the MX lookup failed,
 * or the domain has a null MX) or with one result per MX host, port and
 * address, keyed as above: the failing ones (no probe, or a chain that
 * does not verify) first, then the others, each part by MX preference,
 * port and address, so that the first (the target's own result) is a
 * failing one when there is one. o->prev and o->addr are
 * ignored: a verdict is never reused across MX hosts, whose names differ.
 */
void maildom_start(struct maildom *md, struct loop *l, struct resolver *res,
                   const struct conf_target *ct, const struct probe_opts *o,
                   multi_done_fn done, void *arg);
/* Abandon the round in flight, if any, and the MTA-STS lookup; done will
 * not be called. NULL is fine. */
void maildom_cancel(struct maildom *md);
/* Whether a round is in flight (NULL: no). */
int maildom_busy(const struct maildom *md);

/* Split a key into its MX host (into mx), port and address (a pointer into
 * key; "" when the host did not resolve). -1 when key is not one. */
int maildom_split_key(const char *key, char *mx, size_t mxsize, uint16_t *port,
                      const char **address);

/* The target one MX host and port of parent is probed as: parent's
 * settings with host, address and server name mx, port and its protocol,
 * every address. out borrows parent's pointers and mx: nothing to free. */
void maildom_sub_target(const struct conf_target *parent, const char *mx, uint16_t port,
                        struct conf_target *out);
/* For a recheck of the result keyed key: the sub-target, when its MX host
 * is in the current MX set and its port is one of parent's (mx is the
 * buffer out's names point to). 0, or -1. */
int maildom_target_for_key(const struct maildom *md, const struct conf_target *parent,
                           const char *key, char *mx, size_t mxsize,
                           struct conf_target *out);

/* The MX set of the last answer (0 before the first), by preference; an
 * implicit MX (no MX records: the domain itself, RFC 5321 section 5.1) has
 * preference 0. */
size_t maildom_nmx(const struct maildom *md);
const char *maildom_mx(const struct maildom *md, size_t i, uint16_t *preference);
/* Changes of the MX set seen since the first answer. */
uint64_t maildom_mx_changes(const struct maildom *md);
/* Its MTA-STS and TLS-RPT state (stsround.h), looked up at each round
 * start unless the previous lookup still runs. */
const struct sts *maildom_sts(const struct maildom *md);

#endif
