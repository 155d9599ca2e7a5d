#!/usr/bin/env python3
"""test_reload.py - SIGHUP: unchanged targets keep their results and
counters, removed ones vanish, changed ones restart, new ones are probed
within their first interval; listen addresses and web settings change
without dropping a request in flight; an invalid config is refused and the
running one stays."""

import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402


def conf(listen, targets, web="", extra=""):
    ls = ", ".join('"%s"' % a for a in listen)
    ts = ",\n  ".join(targets)
    return 'listen = ( %s );\ntimeout = "800ms";\n%s\ntargets = (\n  %s\n);\n%s\n' % (
        ls, extra, ts, web)


def target(name, address, interval="1s", extra=""):
    return ('{ name = "%s"; address = "%s"; server_name = "good.test"; ca_file = "%s"; '
            'interval = "%s"; %s }' % (name, address, CA, interval, extra))


def total(expo, name):
    return sum(s.value for s in expo.find("tlswatch_probes_total", target=name))


def partial_request(port):
    """A connection with a request whose headers are not finished yet: a
    scrape in flight, as far as the server can tell."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    time.sleep(0.3)     # let the server accept and read it
    return s


def finish_request(s):
    s.sendall(b"\r\n")
    data = b""
    s.settimeout(10)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length: *(\d+)", head)
            if m and len(body) >= int(m.group(1)):
                break
    except socket.timeout:
        pass
    s.close()
    return data


CA = None


def main(lab):
    global CA
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    CA = pki.path("ca.pem")
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    closed = lab.closed_port()
    pa, pb = L.free_port(), L.free_port()
    a, b = "127.0.0.1:%d" % pa, "127.0.0.1:%d" % pb

    ALL = 'addresses = "all";'
    c1 = conf([a], [target("keep", srv.address), target("gone", closed.address),
                    target("change", srv.address), target("keepall", srv.address, extra=ALL)])
    d = L.Daemon(lab, c1, name="tlswatchd-reload")
    lab.daemon = d
    got, expo = d.wait_for(lambda e: total(e, "keep") >= 2 and total(e, "change") >= 2
                           and total(e, "gone") >= 1 and total(e, "keepall") >= 2, 15)
    lab.check(got, "before the reload: keep and change probed twice, gone once")
    t_start = expo.value("tlswatch_config_last_reload_success_timestamp_seconds")
    keep_before = total(expo, "keep")
    change_before = total(expo, "change")
    keepall_before = total(expo, "keepall")
    late_before = expo.value("tlswatch_scheduler_lateness_seconds_count") or 0
    lab.eq(expo.value("tlswatch_config_last_reload_successful"), 1.0,
           "tlswatch_config_last_reload_successful is 1 at start")

    # --- a valid reload: a listener added, targets kept, removed, changed, new
    c2 = conf([a, b], [target("keep", srv.address),
                       target("change", srv.address, interval="2s"),
                       target("new", srv.address), target("keepall", srv.address, extra=ALL)])
    mark = len(d.stderr())
    d.reload(c2)
    lab.check(d.wait_log("reload: done", 10, mark), "the reload is logged as done",
              d.stderr()[mark:])
    expo = d.scrape(check=True)
    lab.eq(expo.value("tlswatch_config_last_reload_successful"), 1.0,
           "after a valid reload, tlswatch_config_last_reload_successful is 1")
    t_ok = expo.value("tlswatch_config_last_reload_success_timestamp_seconds")
    lab.check(t_ok is not None and t_start is not None and t_ok > t_start,
              "tlswatch_config_last_reload_success_timestamp_seconds advances (%r -> %r)"
              % (t_start, t_ok))
    lab.check(total(expo, "keep") >= keep_before,
              "the unchanged target keeps its counters (%d before, %d after)"
              % (keep_before, total(expo, "keep")))
    lab.eq(expo.value("tlswatch_probe_success", target="keep"), 1.0,
           "the unchanged target keeps its last result at once")
    lab.check(total(expo, "keepall") >= keepall_before,
              "an unchanged addresses = \"all\" target keeps its per-address counters "
              "(%d before, %d after)" % (keepall_before, total(expo, "keepall")))
    addr_ok = [s for s in expo.find("tlswatch_probe_success", target="keepall")
               if s.labels.get("address") == "127.0.0.1" and s.value == 1.0]
    lab.check(addr_ok, "... and its per-address result, served at once",
              expo.excerpt(target="keepall"))
    lab.check((expo.value("tlswatch_scheduler_lateness_seconds_count") or 0) >= late_before,
              "the scheduler's lateness histogram goes on counting across the reload")
    lab.eq(expo.for_target("gone"), [], "the removed target's series are gone")
    lab.check(total(expo, "change") < change_before,
              "the changed target starts afresh (%d probes before, %d after)"
              % (change_before, total(expo, "change")))
    lab.eq(expo.value("tlswatch_probe_interval_seconds", target="change"), 2.0,
           "the changed target has its new interval")
    lab.eq(expo.value("tlswatch_targets"), 4.0, "tlswatch_targets counts the new config")
    got, expo = d.wait_for(lambda e: total(e, "new") >= 1, 5)
    lab.check(got, "the new target is probed within its first interval (1 s, 5 s allowed)")
    got, expo = d.wait_for(lambda e: total(e, "keep") > keep_before, 5)
    lab.check(got, "the unchanged target goes on being probed")
    st, _, body = L.http_request("127.0.0.1", pb, "GET", "/healthz")
    lab.eq(st, 200, "the listen address added by the reload answers")
    st, _, body = L.http_request("127.0.0.1", pa, "GET", "/healthz")
    lab.eq(st, 200, "the kept listen address still answers")

    # --- a listener removed while a scrape on it is in flight
    inflight = partial_request(pa)
    c3 = conf([b], [target("keep", srv.address), target("change", srv.address, "2s"),
                    target("new", srv.address)])
    mark = len(d.stderr())
    d.reload(c3)
    lab.check(d.wait_log("reload: done", 10, mark), "the reload removing %s is done" % a)
    data = finish_request(inflight)
    lab.check(data.startswith(b"HTTP/1.1 200") and b"tlswatch_probe_success" in data,
              "a scrape in flight on the removed listener is answered in full",
              repr(data[:200]))
    deadline = time.monotonic() + 5
    while L.can_connect("127.0.0.1", pa) and time.monotonic() < deadline:
        time.sleep(0.1)
    lab.check(not L.can_connect("127.0.0.1", pa),
              "the removed listen address no longer accepts connections")
    d.http = ("127.0.0.1", pb)

    # --- web settings changed on a kept address, a scrape in flight
    inflight = partial_request(pb)
    pw = "reload-pw"
    web = 'web = { basic_auth_users = { ops = "%s"; }; };' % L.bcrypt_hash(pw)
    c4 = conf([b], [target("keep", srv.address), target("change", srv.address, "2s"),
                    target("new", srv.address)], web=web)
    mark = len(d.stderr())
    d.reload(c4)
    lab.check(d.wait_log("reload: done", 10, mark), "the reload adding basic auth is done")
    data = finish_request(inflight)
    lab.check(data.startswith(b"HTTP/1.1 200"),
              "a scrape in flight when basic auth is switched on is answered (old settings)",
              repr(data[:200]))
    lab.check(re.search(rb"(?i)\r\nconnection: *close", data.partition(b"\r\n\r\n")[0]),
              "... and its connection is closed after the answer, so the client "
              "reconnects to the new server", repr(data[:300]))
    st, hd, _ = L.http_request_auth("127.0.0.1", pb, "GET", "/metrics")
    lab.eq(st, 401, "after the reload, a scrape without credentials gets 401")
    st, _, body = L.http_request_auth("127.0.0.1", pb, "GET", "/metrics", auth=("ops", pw))
    lab.eq(st, 200, "after the reload, the new user's credentials get /metrics")
    expo = L.Exposition(body)
    t_ok = expo.value("tlswatch_config_last_reload_success_timestamp_seconds")

    # --- invalid configs are refused; the running one stays
    # (an @include of a directory once ended the daemon inside libconfig)
    os.makedirs(os.path.join(lab.tmp, "a-directory"), exist_ok=True)
    for desc, text, want in (
            ("an @include of a directory", c4 + '@include "a-directory"\n',
             r'reload: .*\.conf:\d+: @include "a-directory": not a regular file'),
            ("a syntax error", c4 + "oops\n", r"reload: .*\.conf:\d+: syntax error"),
            ("an unknown setting", c4 + "bogus = 1;\n",
             r"reload: .*\.conf:\d+: bogus: unknown setting"),
            ("a bad target", c4.replace('interval = "1s"', 'interval = "0s"', 1),
             r"reload: .*\.conf:\d+: targets\.\[0\]\.interval: must be above zero")):
        mark = len(d.stderr())
        d.reload(text)
        lab.check(d.wait_log("configuration refused", 10, mark),
                  "a config with %s is refused" % desc, d.stderr()[mark:])
        log = d.stderr()[mark:]
        lab.check(re.search(want, log), "the refusal logs FILE:LINE: for %s" % desc, log)
        st, _, body = L.http_request_auth("127.0.0.1", pb, "GET", "/metrics",
                                          auth=("ops", pw))
        lab.eq(st, 200, "after refusing %s, the running web settings still serve" % desc)
        expo = L.Exposition(body)
        lab.eq(expo.value("tlswatch_config_last_reload_successful"), 0.0,
               "after %s, tlswatch_config_last_reload_successful is 0" % desc)
        lab.eq(expo.value("tlswatch_config_last_reload_success_timestamp_seconds"), t_ok,
               "after %s, the last success timestamp stays" % desc)
        lab.eq(sorted(s.labels["target"] for s in
                      expo.find("tlswatch_probe_interval_seconds")),
               ["change", "keep", "new"], "after %s, the running targets stay" % desc)
    # a good config again clears the failure
    mark = len(d.stderr())
    d.reload(c4)
    lab.check(d.wait_log("reload: done", 10, mark), "a valid config after refusals loads")
    st, _, body = L.http_request_auth("127.0.0.1", pb, "GET", "/metrics", auth=("ops", pw))
    lab.eq(L.Exposition(body).value("tlswatch_config_last_reload_successful"), 1.0,
           "tlswatch_config_last_reload_successful is 1 again")
    lab.promtool(body)
    d.last_scrape = body
    d.stop()


if __name__ == "__main__":
    L.Lab("reload").main(main)
