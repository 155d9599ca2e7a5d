#!/usr/bin/env python3
"""test_endpoint_load.py - the metrics endpoint keeps answering a
well-behaved scraper, and probes keep their schedule, while hostile clients
load it (issue 9): 300 idle connections with max_connections = 16; 16
slowloris connections sending a header byte a second; 8 clients guessing
passwords against a bcrypt hash of cost 10.

The hostile clients are tests/loadgen.py (no packaged tool misbehaves on
purpose); each has loopback addresses of its own, the scraper 127.0.0.1.
The probed target is a local port that accepts and closes, so a probe's
start is the scheduler's alone: the daemon probes it every second, and
both its lateness histogram and the times the target saw show whether the
load held the loop. Every load is bounded in sockets, threads and time."""

import os
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import loadgen as G  # noqa: E402

PHASE = 13.0          # seconds of load; beyond header_timeout's 10 s
ANSWER_WITHIN = 1.0   # the bound on every scrape
LATENESS_P99 = 0.1    # bucket bound of tlswatch_scheduler_lateness_seconds
PROBE_GAP = 1.35      # the longest gap between two probes of a 1 s interval

USER, PASSWORD = "prometheus", "right horse battery staple"


def config(port, target_port, users=""):
    return """listen = "127.0.0.1:%d";
targets = ( { name = "clock"; address = "127.0.0.1:%d"; interval = "1s"; timeout = "500ms"; } );
web = { max_connections = 16; %s };
""" % (port, target_port, users)


def lateness(d, auth=None, within=20.0):
    """The lateness histogram, scraped once the daemon answers again (an
    endpoint that did not hold up may still be digesting its load)."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        try:
            st, _, body = L.http_request_auth(d.http[0], d.http[1], "GET", "/metrics",
                                              auth=auth, timeout=5)
            if st == 200:
                return G.histogram(body, "tlswatch_scheduler_lateness_seconds")
            last = "status %d" % st
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    raise L.DaemonFailure("%s did not answer /metrics within %.0f s (%s)"
                          % (d.name, within, last))


def run_load(lab, d, clock, name, make_load, auth=None):
    """Scrape every 250 ms under the load MAKE_LOAD starts; check every
    answer and the probe schedule. Returns the load."""
    before = lateness(d, auth)
    t0 = time.monotonic()
    load = make_load()
    time.sleep(0.5)                  # the load in place first
    sc = G.Scraper(d.http[0], d.http[1], auth=auth, period=0.25, timeout=10.0).start()
    time.sleep(PHASE - 0.5)
    lab.check(sc.stop(), "%s: the scraper stopped" % name)
    t1 = time.monotonic()
    lab.check(load.stop(), "%s: the load stopped" % name)
    after = lateness(d, auth)

    res = sc.since(0)
    n, ok, med, worst = G.latency_summary(res)
    bad = [r for r in res if r[2] != 200 or r[1] >= ANSWER_WITHIN]
    lab.note("%s: %d scrapes, median %.1f ms, worst %.1f ms" % (name, n, med * 1000,
                                                                worst * 1000))
    lab.check(n >= PHASE * 2, "%s: the scraper ran (%d scrapes)" % (name, n))
    lab.check(not bad, "%s: every scrape is answered 200 within %.0f s (worst %.3f s)"
              % (name, ANSWER_WITHIN, worst),
              "\n".join("at +%.2f s: %s after %.3f s" % (r[0] - t0, r[2], r[1])
                        for r in bad[:20]))
    p99, count = G.quantile(0.99, before, after)
    lab.check(count >= PHASE - 2 and p99 is not None and p99 <= LATENESS_P99,
              "%s: probes keep their schedule: lateness p99 <= %s s (%s over %d probes)"
              % (name, LATENESS_P99, p99, count), "before %r\nafter %r" % (before, after))
    gap, seen = clock.worst_gap(t0, t1)
    lab.check(seen >= PHASE - 2 and gap < PROBE_GAP,
              "%s: the target saw a probe every second (%d, longest gap %.3f s)"
              % (name, seen, gap))
    return load


def start(lab, name, users=""):
    """A fresh daemon probing a fresh ProbeClock: (daemon, clock, port)."""
    clock = G.ProbeClock()
    port = L.free_port()
    d = L.Daemon(lab, config(port, clock.port, users), name=name, wait=False)
    if not L.wait_port("127.0.0.1", port, 10.0, d.proc):
        raise L.DaemonFailure("%s did not listen" % name)
    return d, clock, port


def check_idle(lab):
    d, clock, port = start(lab, "tlswatchd-idle")
    idle = run_load(lab, d, clock, "300 idle connections", lambda: G.IdleFlood(
        "127.0.0.1", port, 300, G.source_addresses("127.0.1.1", 30), PHASE + 5).start())
    lab.check(idle.opened >= 300 and idle.closed_by_server > 0,
              "300 idle connections: they were opened, and the server closed them "
              "(%d opened, %d closed)" % (idle.opened, idle.closed_by_server))
    d.stop()
    lab.check(" waiting connections evicted at max_connections" in d.stderr(),
              "the daemon logged what the attack cost", d.stderr()[-2000:])
    clock.stop()


def check_slowloris(lab):
    d, clock, port = start(lab, "tlswatchd-slowloris")
    slow = run_load(lab, d, clock, "16 slowloris connections", lambda: G.Slowloris(
        "127.0.0.1", port, 16, G.source_addresses("127.0.2.1", 16), PHASE + 5).start())
    longest = max(slow.lifetimes) if slow.lifetimes else 0
    lab.check(slow.bytes_sent > 16 * len(G.Slowloris.LINE) and slow.lifetimes,
              "16 slowloris connections: they trickled headers (%d bytes) and were "
              "closed by the server" % slow.bytes_sent)
    lab.check(longest < 11.5,
              "16 slowloris connections: none outlived header_timeout (10 s) by more "
              "than a second (longest %.2f s)" % longest)
    d.stop()
    clock.stop()


def check_guessing(lab):
    users = 'basic_auth_users = { %s = "%s"; };' % (USER, L.bcrypt_hash(PASSWORD, cost=10))
    d, clock, port = start(lab, "tlswatchd-guess", users)
    g = run_load(lab, d, clock, "8 clients guessing passwords", lambda: G.Guessers(
        "127.0.0.1", port, 8, G.source_addresses("127.0.3.1", 8), PHASE + 5,
        user=USER).start(), auth=(USER, PASSWORD))
    hashed = g.status.get(401, 0)
    # 5 at once per address, then one every 10 s
    most = 8 * (5 + int((PHASE + 5) / 10) + 1)
    lab.check(g.status.get(429, 0) > 0 and 0 < hashed <= most,
              "8 clients guessing: each address fails 5 checks at once and one every "
              "10 s, then gets 429 (%r; at most %d checked)" % (g.status, most))
    d.stop()
    clock.stop()


def main(lab):
    lab.require_daemon()
    check_idle(lab)
    check_slowloris(lab)
    check_guessing(lab)


if __name__ == "__main__":
    L.Lab("endpoint-load").main(main)
