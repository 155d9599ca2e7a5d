/*
 * history.h - what one target's results mean over time: its last result
 * (and each address's, with addresses = "all"), its probe counters, the
 * chain it presents and the chains before it, when each certificate was
 * first seen, the verdict last remembered. Every probe outcome and every
 * recheck comes through here, and this is the one place that logs state
 * changes (a probe failing or recovering, a verdict changing, a chain
 * changing), as relayd's hce_notify_done does. No disk access: store.c
 * writes what history_memory() returns.
 */
#ifndef TLSWATCH_HISTORY_H
#define TLSWATCH_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "state/store.h"

struct history;

struct history *history_new(const char *name);
/* Accepts NULL. */
void history_free(struct history *h);
const char *history_name(const struct history *h);

/* Start from what the store kept (both taken over; r may be NULL): no
 * logging, no change counted. */
void history_restore(struct history *h, struct store_record *rec, struct result *r);

/* A probe's result (taken over): counters, chain and verdict memory,
 * their log lines. Returns 1 when what is remembered changed. */
int history_record(struct history *h, struct result *r);
/* addresses = "all": either failure (resolving failed; a NULL, n 0) or one
 * result per address (all taken over). Each address keeps its own result
 * and counters, by address; the target's result is the first address's
 * (its DER goes to the target's result), so that what reads one result per
 * target reads what addresses = "first" would give. Returns as above. */
int history_record_all(struct history *h, struct result *failure, struct addr_result *a,
                       size_t n);
/* A new verdict (taken over) for the result of address (NULL: the
 * target's), from a recheck: logged when it changes. Returns 1 when what
 * is remembered changed, 0 otherwise, -1 when there is no such result. */
int history_reverdict(struct history *h, const char *address, struct verdict *v);

/* The last result, of the target or (address not NULL) of one address; NULL
 * when there is none yet. */
const struct result *history_result(const struct history *h, const char *address);
/* The last result that presented a chain (the last result itself when it
 * succeeded; while probes fail, the success before them, or one made from
 * what the store kept): whose certificates and expiry stay published.
 * NULL when no chain is known. */
const struct result *history_chain_result(const struct history *h, const char *address);
/* The target's probe counters. */
void history_counts(const struct history *h, uint64_t *success, uint64_t *failure);
/* addresses = "all": the addresses last probed, in resolver order. */
size_t history_naddrs(const struct history *h);
const char *history_addr(const struct history *h, size_t i, const struct result **r,
                         uint64_t *success, uint64_t *failure);
/* What is remembered across restarts (NULL before the first result), and
 * when each certificate of its chain was first seen (chain.n entries). */
const struct store_record *history_memory(const struct history *h);

#endif
