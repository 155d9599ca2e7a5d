#!/usr/bin/env python3
"""test_scrape.py - a scrape is rendered off the event loop and still shows
one consistent result per target (issue 16).

1. Results that change under the scrapes: 300 targets on a closed port and
   20 on a TLS server, every one probed each second, scraped with gzip from
   two clients at once for a few seconds, with a reload in the middle that
   drops half of the failing targets (their results are freed while scrapes
   may still be rendering them). Every scrape must parse, list every
   configured target once, and show per target one result: a failure series
   exactly when probe_success is 0, counters that agree with the result, and
   timestamps that never go back between one client's scrapes. Under ASan a
   result freed while a render reads it is a sanitizer report.
2. /healthz while a scrape renders: 50,000 targets make a gzip scrape take
   tens of milliseconds (hundreds under ASan). A /healthz sent while the
   scrape is being rendered is answered before the scrape's body has all
   arrived, and in a fraction of the scrape's time: the loop is not held.
   (How long the loop is held at 100,000 targets is measured in bench/run,
   not here.)
3. The body streams: a plain scrape is chunked, has no Content-Length, and
   lists the same targets as a gzip one; HEAD gives a GET's headers and no
   body. A client that stops reading holds neither the loop nor other
   scrapes: /healthz and a full scrape are answered meanwhile, and after
   connection_timeout (2 s) the stalled client is cut off, its body short
   of the end. A client that hangs up in the middle of a body leaves the
   daemon serving (under ASan a render writing to a gone client would be
   a report). The renders ran at nice 10 over the loop's, on the
   tlswatch-scrape threads only."""

import gzip
import http.client
import os
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

DOWN, UP, IDLE = 300, 20, 50000
JUDGED = 25        # scrapes per client parsed and judged, spread over the phase
PHASE = 6.0          # seconds of scraping in part 1
IDLE_HALF = 5000     # file_sd targets probed hourly, half of them changing
FLIPS = 16           # file changes at most in part 1's file mode
TRIALS = 8           # scrapes with a /healthz in the middle, in part 2


def targets_conf(down, up, closed, good):
    parts = ['{ name = "down%d"; address = "%s"; }' % (i, closed) for i in range(down)]
    parts += ['{ name = "up%d"; address = "%s"; server_name = "good.test"; }' % (i, good)
              for i in range(up)]
    return "targets = (\n%s\n);\n" % ",\n".join(parts)


def scrape_gzip(port, timeout=30.0):
    """(status, text, seconds to the response's last byte). The headers
    come at once: the body streams as it is rendered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        t0 = time.monotonic()
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        r = conn.getresponse()
        body = r.read()
        t1 = time.monotonic()
        if r.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return r.status, body.decode("utf-8"), t1 - t0
    finally:
        conn.close()


def judge(text, configured):
    """What is wrong with one scrape: a list of messages."""
    try:
        e = L.Exposition(text)
    except L.ParseError as ex:
        return ["does not parse: %s" % ex], {}
    bad = []
    info = [s.labels.get("target") for s in e.find("tlswatch_target_info")]
    if len(info) != len(set(info)):
        bad.append("a target listed twice in tlswatch_target_info")
    if set(info) not in configured:
        bad.append("targets are neither the first nor the reloaded config (%d listed)"
                   % len(info))
    n = e.value("tlswatch_targets")
    if n != len(info):
        bad.append("tlswatch_targets %r but %d targets listed" % (n, len(info)))
    fails = {}
    for s in e.find("tlswatch_probe_failure_info"):
        fails[s.labels["target"]] = fails.get(s.labels["target"], 0) + 1
    counts = {}
    for s in e.find("tlswatch_probes_total"):
        counts.setdefault(s.labels["target"], {})[s.labels["result"]] = s.value
    stamps = {}
    for s in e.find("tlswatch_probe_timestamp_seconds"):
        if s.labels["target"] in stamps:
            bad.append("%s: two timestamps" % s.labels["target"])
        stamps[s.labels["target"]] = s.value
    seen = set()
    for s in e.find("tlswatch_probe_success"):
        t = s.labels["target"]
        if t in seen:
            bad.append("%s: two probe_success series" % t)
        seen.add(t)
        c = counts.get(t, {})
        if s.value == 1 and fails.get(t, 0) != 0:
            bad.append("%s: succeeded, yet a failure series" % t)
        if s.value == 0 and fails.get(t, 0) != 1:
            bad.append("%s: failed, yet %d failure series" % (t, fails.get(t, 0)))
        if c.get("success" if s.value == 1 else "failure", 0) < 1:
            bad.append("%s: probe_success %g but counters %r" % (t, s.value, c))
        if t not in stamps:
            bad.append("%s: a result without a timestamp" % t)
    return bad[:5], stamps


def file_names(closed_port, idx, idle=False):
    """file_sd targets, each a loopback address of its own on a closed port
    (refused at once); idle ones in 127.1.0.0 and up."""
    if idle:
        return ["127.%d.%d.%d:%d" % (1 + i // 62500, (i // 250) % 250, 1 + i % 250, closed_port)
                for i in idx]
    return ["127.0.%d.%d:%d" % (1 + i // 250, 1 + i % 250, closed_port) for i in idx]


def file_targets(path, names, idle):
    """names (probed every second) and idle (probed hourly) in a file_sd
    file, written whole and renamed into place."""
    with open(path + ".tmp", "w") as f:
        f.write('[{"targets": [%s], "labels": {"from": "file"}},\n'
                ' {"targets": [%s], "labels": {"__param_module": "idle"}}]\n'
                % (", ".join('"%s"' % n for n in names), ", ".join('"%s"' % n for n in idle)))
    os.rename(path + ".tmp", path)


def consistent_under_change(lab, pki, mode):
    """Two clients scrape while results change and, in mode "reload", a
    reload drops half the targets, or in mode "file", a file_sd file drops
    and restores half of its targets again and again."""
    closed = L.ClosedPort(lab)
    closed_port = int(closed.address.rsplit(":", 1)[1])
    good = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    port = L.free_port()
    tfile = os.path.join(lab.tmp, "scrape-targets.json")
    head = """listen = "127.0.0.1:%d";
ca_file = %s;
interval = "1s";
timeout = "500ms";
""" % (port, L.conf_string(pki.path("ca.pem")))
    if mode == "reload":
        first = head + targets_conf(DOWN, UP, closed.address, good.address)
        second = head + targets_conf(DOWN // 2, UP, closed.address, good.address)
        names = lambda down: frozenset(["down%d" % i for i in range(down)] +
                                       ["up%d" % i for i in range(UP)])
        configured = {names(DOWN), names(DOWN // 2)}
    else:
        # a half stays; the other half is dropped, and each time the file
        # grows again it brings targets never seen before (a target dropped
        # and added back within a second restores its stored result, which
        # may be older than the one it had: not what is judged here). The
        # idle targets make each render long enough that a file change
        # lands in the middle of one.
        half = DOWN // 2
        keep = file_names(closed_port, range(half))
        block = lambda k: file_names(closed_port, range(half * (k + 1), half * (k + 2)))
        ikeep = file_names(closed_port, range(IDLE_HALF), True)
        iblock = lambda k: file_names(closed_port, range(IDLE_HALF * (k + 1),
                                                         IDLE_HALF * (k + 2)), True)
        ups = ["up%d" % i for i in range(UP)]
        file_targets(tfile, keep + block(0), ikeep + iblock(0))
        first = head + "target_files = ( %s );\n" % L.conf_string(tfile) + \
            'modules = { idle = { interval = "1h"; }; };\n' + \
            targets_conf(0, UP, closed.address, good.address)
        configured = {frozenset(keep + ups + ikeep)}
        configured |= {frozenset(keep + block(k) + ups + ikeep + iblock(k))
                       for k in range(FLIPS + 1)}
    # no -v: a debug line per probe only slows the daemon down here
    d = L.Daemon(lab, first, args=(), name="tlswatchd-" + mode, start_timeout=30.0)
    done, _ = d.wait_for(lambda e: len(e.find("tlswatch_probe_success")) >= DOWN + UP
                         and e.value("tlswatch_probe_success", target="up0") == 1, 20, 0.3)
    lab.check(done, "%s: every target probed, the TLS ones successfully" % mode)

    results = [[], []]
    stop = time.monotonic() + PHASE

    def client(k):
        while time.monotonic() < stop:
            try:
                st, text, _ = scrape_gzip(port)
            except OSError as ex:
                results[k].append((0, str(ex)))
                continue
            results[k].append((st, text))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(2)]
    for t in threads:
        t.start()
    mark = len(d.stderr())
    if mode == "reload":
        time.sleep(PHASE / 2)            # scrapes under way, then the reload
        d.reload(second)
    else:
        # the file changes under the scrapes; last, the half stays
        flips = 0
        while time.monotonic() < stop - 1.0 and flips < FLIPS:
            time.sleep(0.4)
            flips += 1
            grow = flips % 2 == 0
            file_targets(tfile, keep + (block(flips) if grow else []),
                         ikeep + (iblock(flips) if grow else []))
        if flips % 2 == 0:
            file_targets(tfile, keep, ikeep)
    for t in threads:
        t.join(PHASE + 60)
    lab.check(not any(t.is_alive() for t in threads), "%s: both scrapers ended" % mode)
    if mode == "reload":
        lab.check(d.wait_log("reload: done", 10, mark),
                  "the reload during the scrapes took effect")
    else:
        lab.check(d.wait_log("target_files:", 10, mark),
                  "the file's changes during the scrapes took effect")

    problems, total = [], 0
    for k in range(2):
        last = {}
        step = max(1, len(results[k]) // JUDGED)
        for i, (st, text) in enumerate(results[k]):
            total += 1
            if st == 200 and i % step != 0:
                continue              # answered; parsing every one costs minutes
            if st != 200:
                problems.append("client %d: status %d %s" % (k, st, text[:100]))
                continue
            bad, stamps = judge(text, configured)
            problems += ["client %d: %s" % (k, b) for b in bad]
            for t, v in stamps.items():
                if v < last.get(t, 0):
                    problems.append("client %d: %s went back in time" % (k, t))
            last.update(stamps)
    lab.note("%s: %d scrapes while results changed, %d judged a client" % (mode, total, JUDGED))
    lab.check(total >= 4, "%s: several scrapes ran while results changed (%d)" % (mode, total))
    lab.check(not problems, "%s: every scrape shows one consistent result per target" % mode,
              "\n".join(problems[:20]))
    want = DOWN // 2 + UP + (IDLE_HALF if mode == "file" else 0)
    done, e = d.wait_for(lambda e: len(e.find("tlswatch_target_info")) == want, 10, 0.3)
    lab.check(done, "%s: afterwards the dropped targets are gone" % mode,
              "%d targets listed" % len(e.find("tlswatch_target_info")))
    d.stop(limit=10.0)     # its state writes drain first
    good.stop()


def healthz_during_scrape(lab):
    closed = L.ClosedPort(lab)
    port = L.free_port()
    parts = ['{ name = "idle%d"; address = "%s"; }' % (i, closed.address) for i in range(IDLE)]
    d = L.Daemon(lab, """listen = "127.0.0.1:%d";
interval = "1h";
targets = (
%s
);
""" % (port, ",\n".join(parts)), args=(), start_timeout=60.0)
    _, _, alone = scrape_gzip(port)
    lab.note("a gzip scrape of %d targets: %.1f ms" % (IDLE, alone * 1000))

    early, waits = 0, []
    for _ in range(TRIALS):
        got = {}

        def scraper():
            s0 = time.monotonic()
            got["scrape"] = scrape_gzip(port)
            got["body_at"] = s0 + got["scrape"][2]

        t = threading.Thread(target=scraper, daemon=True)
        t.start()
        # Into the render: a fifth of a scrape's time (no event says
        # "rendering now"; the scrape takes far longer than a /healthz).
        time.sleep(alone / 5)
        t0 = time.monotonic()
        st, _, body = L.http_request("127.0.0.1", port, "GET", "/healthz", timeout=30)
        t1 = time.monotonic()
        t.join(60)
        lab.check(st == 200 and "scrape" in got and got["scrape"][0] == 200,
                  "a /healthz and a scrape at once are both answered 200")
        waits.append(t1 - t0)
        if "body_at" in got and t1 < got["body_at"] and t1 - t0 < alone / 2:
            early += 1
    lab.note("/healthz during a scrape: %s ms" % ", ".join("%.1f" % (w * 1000) for w in waits))
    # Rendered on the loop, no /healthz could pass (it would wait for most
    # of the render); a quarter leaves room for a machine shared with others.
    lab.check(early >= TRIALS // 4,
              "/healthz sent during a scrape is answered before the scrape's body ends, in under "
              "half a scrape's time (%d of %d)" % (early, TRIALS))
    d.stop(limit=10.0)


def raw_get(port, path, headers="", rcvbuf=None, timeout=10.0):
    """A connected socket that has sent GET path (HTTP/1.1)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, headers)).encode())
    return s


def read_all(s, deadline):
    """Every byte until EOF or the deadline: (bytes, ended by EOF)."""
    out = bytearray()
    while time.monotonic() < deadline:
        try:
            b = s.recv(1 << 16)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return bytes(out), True
        if not b:
            return bytes(out), True
        out += b
    return bytes(out), False


def listed(text):
    """The targets listed (every configured one, probed yet or not)."""
    return sorted(re.findall(r'^tlswatch_probe_interval_seconds\{target="([^"]+)"', text, re.M))


def thread_nices(pid):
    """{tid: (comm, nice)} of pid's threads, from /proc (comm is cut at
    15 bytes by the kernel)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue            # the thread ended meanwhile
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (comm, int(fields[16]))    # field 19 of stat(5)
    return out


def streamed(lab):
    closed = L.ClosedPort(lab)
    port = L.free_port()
    n = IDLE // 2
    parts = ['{ name = "idle%d"; address = "%s"; }' % (i, closed.address) for i in range(n)]
    d = L.Daemon(lab, """listen = "127.0.0.1:%d";
interval = "1h";
web = { connection_timeout = "2s"; };
targets = (
%s
);
""" % (port, ",\n".join(parts)), args=(), start_timeout=60.0)

    st, hdrs, plain = L.http_request("127.0.0.1", port, "GET", "/metrics", timeout=30)
    lab.check(st == 200 and hdrs.get("transfer-encoding") == "chunked" and
              "content-length" not in hdrs and "content-encoding" not in hdrs,
              "a plain scrape streams: chunked, no Content-Length, not gzip (%s)" % hdrs)
    st2, gz, _ = scrape_gzip(port)
    names = listed(plain)
    last = "tlswatch_config_last_reload_success_timestamp_seconds "
    lab.check(st2 == 200 and len(names) == n and names == listed(gz) and
              plain.rstrip().rsplit("\n", 1)[-1].startswith(last) and
              gz.rstrip().rsplit("\n", 1)[-1].startswith(last),
              "the plain and the gzip body list the same %d targets, both to the end" % n)
    # The renders ran on the scrape threads, at nice 10 over the daemon's
    # own (the loop's) nice.
    nices = thread_nices(d.proc.pid)
    main_nice = nices.get(str(d.proc.pid), (None, None))[1]
    scrape = [ni for comm, ni in nices.values() if comm == "tlswatch-scrape"]
    lab.check(main_nice is not None and scrape and
              any(ni == min(main_nice + 10, 19) for ni in scrape) and
              all(ni in (main_nice, min(main_nice + 10, 19)) for ni in scrape) and
              all(ni == main_nice for comm, ni in nices.values()
                  if comm != "tlswatch-scrape"),
              "a scrape renders at nice 10 over the loop's, the other threads "
              "at the loop's (%s)" % sorted(nices.values()))
    st, hdrs, body = L.http_request("127.0.0.1", port, "HEAD", "/metrics",
                                    headers={"Accept-Encoding": "gzip"})
    lab.check(st == 200 and body == "" and hdrs.get("content-encoding") == "gzip" and
              hdrs.get("content-type", "").startswith("text/plain; version=0.0.4"),
              "HEAD /metrics: a GET's headers (%s), no body" % hdrs)

    # A client that reads nothing: a plain body is far larger than its
    # socket buffers, so the render waits on it.
    stalled = raw_get(port, "/metrics", rcvbuf=4096)
    time.sleep(0.5)
    t0 = time.monotonic()
    st, _, _ = L.http_request("127.0.0.1", port, "GET", "/healthz", timeout=10)
    hz = time.monotonic() - t0
    st2, gz2, took = scrape_gzip(port)
    lab.note("beside a stalled scrape: /healthz %.1f ms, a gzip scrape %.0f ms" %
             (hz * 1000, took * 1000))
    lab.check(st == 200 and hz < 1.0 and st2 == 200 and listed(gz2) == names,
              "a client that stops reading holds neither /healthz nor another scrape")
    time.sleep(3.5)            # connection_timeout is 2 s
    got, eof = read_all(stalled, time.monotonic() + 10)
    stalled.close()
    head, _, rest = got.partition(b"\r\n\r\n")
    lab.check(head.startswith(b"HTTP/1.1 200") and eof and
              len(rest) < len(plain) and not rest.endswith(b"0\r\n\r\n"),
              "the stalled client is cut off after connection_timeout, short of the end "
              "(%d of %d bytes)" % (len(rest), len(plain)))

    # Hang-ups in the middle of a body, gzip and plain.
    for hdr in ("Accept-Encoding: gzip\r\n", ""):
        for _ in range(3):
            c = raw_get(port, "/metrics", headers=hdr)
            c.recv(1000)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()          # a reset, mid-body
    st, _, _ = L.http_request("127.0.0.1", port, "GET", "/healthz", timeout=10)
    st2, gz3, _ = scrape_gzip(port)
    lab.check(st == 200 and st2 == 200 and listed(gz3) == names,
              "after clients hung up mid-body the daemon still serves every target")
    d.stop(limit=10.0)


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    consistent_under_change(lab, pki, "reload")
    consistent_under_change(lab, pki, "file")
    healthz_during_scrape(lab)
    streamed(lab)


if __name__ == "__main__":
    L.Lab("scrape").main(main)
