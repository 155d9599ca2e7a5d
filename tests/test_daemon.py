#!/usr/bin/env python3
"""test_daemon.py - tlswatchd as a process: -t config checks and their error
lines, a listen address in use, the HTTP endpoints, a target not yet probed,
listening on [::1], and stopping on SIGTERM and SIGINT while a probe hangs."""

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

PROBE_SERIES = ("tlswatch_probe_success", "tlswatch_probe_failure_info",
                "tlswatch_probe_duration_seconds", "tlswatch_probe_timestamp_seconds",
                "tlswatch_probes_total", "tlswatch_probe_stage_duration_seconds",
                "tlswatch_tls_version_info", "tlswatch_tls_cipher_info",
                "tlswatch_cert_not_after_timestamp_seconds",
                "tlswatch_cert_not_before_timestamp_seconds",
                "tlswatch_chain_verified", "tlswatch_chain_verify_error",
                "tlswatch_chain_earliest_expiry_timestamp_seconds",
                "tlswatch_chain_verified_expiry_timestamp_seconds",
                "tlswatch_chain_certificates", "tlswatch_chain_issue")

# An error line: "FILE:LINE: SETTING: MESSAGE", maybe after the program's
# name as every log line has it.
PREFIX = r"^"  # config errors start with FILE:LINE:, no program prefix

# Configs with errors. In each, a line ending in "#! SETTING: REGEX" must
# be reported as FILE:THATLINE: SETTING: MESSAGE with MESSAGE matching REGEX
# (a full match). Nothing else may be reported.
BAD_CONFIGS = {
    "missing port": """\
listen = "127.0.0.1:{port}";
targets = (
  { name = "a"; address = "127.0.0.1:443"; },
  { name = "b"; address = "127.0.0.1:444"; },
  { name = "c"; address = "127.0.0.1"; }                 #! targets.[2].address: missing port
);
""",
    "duplicate names": """\
listen = "127.0.0.1:{port}";
targets = (
  { name = "a"; address = "127.0.0.1:443"; },
  { name = "b"; address = "127.0.0.1:444"; },
  { name = "a"; address = "127.0.0.1:445"; }            #! targets.[2].name: duplicate name "a" \\(first at line 3\\)
);
""",
    "bad port": """\
listen = "127.0.0.1:{port}";
targets = (
  { name = "a"; address = "127.0.0.1:99999"; }          #! targets.[0].address: bad port
);
""",
    "bad listen port": """\
listen = "127.0.0.1:0x50";                                #! listen: bad port
targets = ( { address = "127.0.0.1:443"; } );
""",
    "zero duration": """\
listen = "127.0.0.1:{port}";
interval = "0s";                                          #! interval: must be above zero
targets = (
  { name = "a"; address = "127.0.0.1:443";
    timeout = 0; }                                        #! targets.[0].timeout: must be above zero
);
""",
    "timeout not below interval": """\
listen = "127.0.0.1:{port}";
interval = "5s";
timeout = "5s";                                           #! timeout: timeout \\(5s\\) must be below interval \\(5s\\)
targets = (
  { name = "a"; address = "127.0.0.1:443"; interval = "2s";
    timeout = "3s"; }                                     #! targets.[0].timeout: timeout \\(3s\\) must be below interval \\(2s\\)
);
""",
    "unknown key": """\
listen = "127.0.0.1:{port}";
frobnicate = 1;                                           #! frobnicate: unknown setting
targets = (
  { name = "a"; address = "127.0.0.1:443";
    colour = "red"; }                                     #! targets.[0].colour: unknown setting
);
""",
    "unreadable ca_file": """\
listen = "127.0.0.1:{port}";
ca_file = "{tmp}/no-such-dir/ca.pem";                     #! ca_file: cannot read "{tmp}/no-such-dir/ca.pem": No such file or directory
targets = (
  { name = "a"; address = "127.0.0.1:443";
    ca_file = "{tmp}/no-such.pem"; }                      #! targets.[0].ca_file: cannot read "{tmp}/no-such.pem": No such file or directory
);
""",
}


def expected_errors(text, path):
    """[(line number, setting, message regex)] from the #! markers; and the
    config without them."""
    want, lines = [], []
    for n, line in enumerate(text.splitlines(), 1):
        body, sep, mark = line.partition("#!")
        if sep:
            setting, _, msg = mark.strip().partition(": ")
            want.append((n, setting, msg))
            line = body.rstrip()
        lines.append(line)
    return want, "\n".join(lines) + "\n"


def check_bad_config(lab, what, template):
    path = os.path.join(lab.tmp, "bad-%s.conf" % what.replace(" ", "-"))
    text = template.replace("{port}", str(L.free_port())).replace("{tmp}", lab.tmp)
    want, conf = expected_errors(text, path)
    with open(path, "w") as f:
        f.write(conf)
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.eq(rc, 1, "-t on a config with %s exits 1" % what, "stderr:\n" + err)
    lines = [line for line in err.splitlines() if line.strip()]
    for n, setting, msg in want:
        pat = PREFIX + re.escape("%s:%d: %s: " % (path, n, setting)) + msg + "$"
        lab.check(any(re.match(pat, line) for line in lines),
                  "-t (%s) reports %s:%d: %s: %s" % (what, os.path.basename(path), n,
                                                    setting, msg.replace("\\", "")),
                  "stderr:\n" + err)
    lab.eq(len(lines), len(want), "-t (%s) reports nothing else" % what, "stderr:\n" + err)
    return want, conf


def check_configs(lab):
    # a valid config
    path = os.path.join(lab.tmp, "valid.conf")
    with open(path, "w") as f:
        f.write("""\
listen = ( "127.0.0.1:%d", "[::1]:%d" );
state_dir = "%s";
interval = 300;
timeout = "10s";
concurrency = 64;
ca_file = "%s";
targets = (
  { name = "good"; address = "127.0.0.1:443"; server_name = "good.test";
    labels = { team = "web"; }; interval = "2s"; timeout = "1s"; },
  { address = "[::1]:8443"; interval = "500ms"; timeout = "400ms"; },
  { name = "other"; address = "example.test:443"; interval = "5m"; timeout = 10; }
);
""" % (L.free_port(), L.free_port("::1"), lab.tmp, lab.pki().path("ca.pem")))
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.eq(rc, 0, "-t on a valid config exits 0", "stdout:\n%s\nstderr:\n%s" % (out, err))

    # each kind of error alone, then all of them in one file
    for what, template in BAD_CONFIGS.items():
        check_bad_config(lab, what, template)
    combined = """\
listen = "127.0.0.1:{port}";
interval = "0s";                                          #! interval: must be above zero
frobnicate = 1;                                           #! frobnicate: unknown setting
ca_file = "{tmp}/no-such-dir/ca.pem";                     #! ca_file: cannot read "{tmp}/no-such-dir/ca.pem": No such file or directory
targets = (
  { name = "a"; address = "127.0.0.1:443"; },
  { name = "a";                                           #! targets.[1].name: duplicate name "a" \\(first at line 6\\)
    address = "127.0.0.1:99999"; },                       #! targets.[1].address: bad port
  { name = "c"; address = "127.0.0.1";                    #! targets.[2].address: missing port
    interval = "2s"; timeout = "3s"; }                    #! targets.[2].timeout: timeout \\(3s\\) must be below interval \\(2s\\)
);
"""
    check_bad_config(lab, "every error at once", combined)

    # a syntax error names the file and the line
    path = os.path.join(lab.tmp, "syntax.conf")
    with open(path, "w") as f:
        f.write('listen = "127.0.0.1:9793";\ntargets = ( { address = "127.0.0.1:443"; } ;\n')
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.eq(rc, 1, "-t on a syntax error exits 1", err)
    lab.check(re.search(PREFIX + re.escape(path + ":2: "), err, re.M),
              "-t on a syntax error names FILE:2", "stderr:\n" + err)

    # a config file that does not exist
    path = os.path.join(lab.tmp, "absent.conf")
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.check(rc == 1 and path in err, "-t on a missing file exits 1 and names it",
              "status %d, stderr:\n%s" % (rc, err))


def check_listen_in_use(lab):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    addr = "127.0.0.1:%d" % port
    path = os.path.join(lab.tmp, "inuse.conf")
    with open(path, "w") as f:
        f.write('listen = "%s";\nstate_dir = "%s";\n'
                'targets = ( { name = "a"; address = "127.0.0.1:443"; } );\n'
                % (addr, lab.tmp))
    try:
        rc, out, err = L.run_tlswatchd(lab, ["-c", path], timeout=10)
    except subprocess.TimeoutExpired:
        lab.check(False, "tlswatchd exits when its listen address is in use",
                  "still running after 10 s")
        return
    finally:
        holder.close()
    lab.check(rc != 0, "tlswatchd exits nonzero when %s is in use (status %d)" % (addr, rc),
              err)
    lab.check(addr in err, "the message names the address %s" % addr, "stderr:\n" + err)
    lab.note("in use: " + err.strip().replace("\n", " | "))


def check_http(lab, d):
    status, headers, body = d.request("GET", "/healthz")
    lab.check(status == 200 and body.strip() == "ok",
              "GET /healthz: 200 \"ok\" (%d %r)" % (status, body))
    status, headers, body = d.request("GET", "/metrics")
    ctype = headers.get("content-type", "")
    lab.eq(status, 200, "GET /metrics: 200")
    lab.check(ctype.startswith("text/plain; version=0.0.4"),
              "GET /metrics: content type starts with text/plain; version=0.0.4 (%r)" % ctype)
    d.last_scrape = body
    lab.promtool(body)
    status, _, _ = d.request("GET", "/nope")
    lab.eq(status, 404, "GET /nope: 404")
    status, headers, _ = d.request("POST", "/metrics", body="x=1")
    lab.eq(status, 405, "POST /metrics: 405")
    lab.note("405 Allow: %r" % headers.get("allow"))
    status, _, _ = d.request("GET", "/metrics/")
    lab.eq(status, 404, "GET /metrics/: 404")
    lab.eq(d.request("GET", "/metrics")[1].get("content-encoding"), None,
           "GET /metrics without Accept-Encoding: not compressed")
    status, headers, raw = L.http_request(d.http[0], d.http[1], "GET", "/metrics",
                                          headers={"Accept-Encoding": "gzip"}, raw=True)
    lab.eq(headers.get("content-encoding"), "gzip",
           "GET /metrics with Accept-Encoding: gzip is gzip-compressed")
    lab.eq(headers.get("vary"), "Accept-Encoding", "the response says it varies by Accept-Encoding")
    try:
        text = gzip.decompress(raw).decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        text = ""
        lab.check(False, "the gzip body decompresses", str(e))
    lab.check("\ntlswatch_targets " in text and text.endswith("\n"),
              "the decompressed body is the exposition (%d bytes from %d)" % (len(text), len(raw)))
    lab.promtool(text, "promtool accepts the decompressed gzip scrape")


def check_concurrency(lab):
    """Six targets on one silent peer, each probe 1.5 s, every 2 s: demand
    far above concurrency = 2. The daemon never runs more than 2 at once,
    queues the rest, and still probes every target (no starvation)."""
    silent = lab.silent_peer()
    port = L.free_port()
    names = ["c%d" % i for i in range(6)]
    config = 'listen = "127.0.0.1:%d";\nconcurrency = 2;\ninterval = "2s";\n' \
             'timeout = "1500ms";\ntargets = (\n%s\n);\n' % (port, ",\n".join(
                 '  { name = "%s"; address = "%s"; server_name = "good.test"; }'
                 % (n, silent.address) for n in names))
    d = L.Daemon(lab, config, name="tlswatchd-concurrency")
    t0 = time.monotonic()
    in_flight, queued = [], []
    done = False
    while time.monotonic() - t0 < 12 and not done:
        expo = d.scrape()
        in_flight.append(expo.value("tlswatch_scheduler_in_flight_probes"))
        queued.append(expo.value("tlswatch_scheduler_queued_targets"))
        done = all(expo.value("tlswatch_probes_total", target=n, result="failure")
                   for n in names)
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    accepted = silent.accepted
    lab.check(done, "with concurrency 2, every one of 6 targets is probed (%.1f s)" % elapsed)
    lab.eq(max(in_flight), 2.0, "probes in flight never exceed concurrency 2 (max seen)")
    lab.check(max(queued) >= 1, "due targets wait in the queue (max queued %d)" % max(queued))
    # At most 2 probes at a time, each held 1.5 s by the peer: in ELAPSED
    # seconds no more than 2 * (elapsed / 1.5 + 1) connections can start.
    bound = 2 * (elapsed / 1.5 + 1)
    lab.check(accepted <= bound, "the silent peer saw %d connections in %.1f s, "
              "no more than concurrency 2 allows (%.1f)" % (accepted, elapsed, bound))
    d.stop()
    silent.stop()


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    v6_problem = L.ipv6_loopback_available()
    lab.check(v6_problem is None, "IPv6 loopback [::1] is available", v6_problem)

    check_configs(lab)
    check_listen_in_use(lab)
    check_concurrency(lab)

    # ---- a daemon with a target not yet probed and one always in flight
    for sig in (signal.SIGTERM, signal.SIGINT):
        pending = lab.silent_peer()
        hanging = lab.silent_peer()
        port = L.free_port()
        port6 = None if v6_problem else L.free_port("::1")
        listen = '"127.0.0.1:%d"' % port
        if port6:
            listen = '( %s, "[::1]:%d" )' % (listen, port6)
        config = """\
listen = %s;
state_dir = %s;
interval = "1h";
timeout = "30m";
targets = (
  { name = "pending"; address = "%s"; server_name = "good.test";
    labels = { env = "test"; }; },
  { name = "hanging"; address = "%s"; server_name = "good.test";
    interval = "2s"; timeout = "1900ms"; }
);
""" % (listen, L.conf_string(lab.tmp), pending.address, hanging.address)
        d = L.Daemon(lab, config, name="tlswatchd-%s" % sig.name,
                     http=("127.0.0.1", port))
        if sig == signal.SIGTERM:
            check_http(lab, d)
            if port6:
                status, _, body = L.http_request("::1", port6, "GET", "/healthz")
                lab.check(status == 200 and body.strip() == "ok",
                          "listening on [::1]:%d works: GET /healthz 200 ok" % port6)
                status, headers, body = L.http_request("::1", port6, "GET", "/metrics")
                lab.check(status == 200 and "tlswatch_targets 2" in body,
                          "GET /metrics on [::1] serves the metrics")

        # the hanging target gets probed (and fails on its timeout) while
        # the pending one never ends a probe
        done, expo = d.wait_for(
            lambda e: e.value("tlswatch_probes_total", target="hanging", result="failure"),
            2.0 + 1.9 + 2.0)
        if sig == signal.SIGTERM:
            lab.check(done, "the hanging target has ended a probe (timed out)",
                      expo.excerpt(target="hanging"))
            expo = d.scrape(check=True)
            lab.eq(expo.value("tlswatch_targets"), 2.0,
                   "tlswatch_targets counts the target not yet probed")
            got = sorted({s.name for s in expo.for_target("pending")
                          if s.name in PROBE_SERIES})
            lab.eq(got, [], "a target not yet probed has no probe series",
                   expo.excerpt(target="pending"))
            lab.note("pending target's series: %s" % sorted(
                {s.name for s in expo.for_target("pending")}))

        # stop while a probe hangs on the silent peer
        in_flight = hanging.wait_connection(4.0)
        lab.check(in_flight, "a probe to the silent peer is in flight before %s" % sig.name)
        d.stop(sig, limit=1.0)
        deadline = time.monotonic() + 1.0
        while hanging.open_connections() and time.monotonic() < deadline:
            time.sleep(0.05)
        lab.eq(hanging.open_connections(), 0,
               "the in-flight probe's connection is closed after %s" % sig.name)
        pending.stop()
        hanging.stop()


if __name__ == "__main__":
    L.Lab("daemon").main(main)
