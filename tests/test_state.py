#!/usr/bin/env python3
"""test_state.py - what tlswatchd keeps in state_dir survives restarts,
crashes and damage: results served again from disk before the first new
probe, chain changes detected, logged, counted and remembered; corrupt,
truncated and unreadable state files and a read-only state_dir cost nothing
else; a kill -9 in the middle of writing never leaves a torn file."""

import glob
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

HOUR_MS = 3600 * 1000


def fp_of(pem_path):
    with open(pem_path) as f:
        blocks = L.pem_blocks(f.read())
    import ssl
    return [hashlib.sha256(ssl.PEM_cert_to_DER_cert(b)).hexdigest() for b in blocks]


def config(lab, port, state_dir, targets, interval, timeout="1s", extra=""):
    lines = ['listen = "127.0.0.1:%d";' % port,
             'state_dir = %s;' % L.conf_string(state_dir),
             'interval = "%s"; timeout = "%s";' % (interval, timeout), extra,
             "targets = ("]
    rows = []
    for name, addr in targets:
        rows.append('  { name = %s; address = "%s"; server_name = "good.test"; ca_file = %s; }'
                    % (L.conf_string(name), addr, L.conf_string(lab.pki().path("ca.pem"))))
    lines.append(",\n".join(rows))
    lines.append(");")
    return "\n".join(lines) + "\n"


def state_path(state_dir, name):
    ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:@"
    esc = "".join(c if c in ok or (c == "." and i > 0) else "%%%02x" % ord(c)
                  for i, c in enumerate(name))
    return os.path.join(state_dir, "targets", esc + ".state")


def wait_result(lab, d, names, timeout=20):
    v, expo = d.wait_for(lambda e: all(e.value("tlswatch_probe_success", target=n) is not None
                                       for n in names), timeout)
    lab.check(v, "every target has a result within %d s: %s" % (timeout, ", ".join(names)))
    return expo


def restart_survival(lab):
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    sd = os.path.join(lab.tmp, "restart-state")
    name = L.late_name("keep", HOUR_MS)
    targets = [(name, srv.address)]
    good_fps = fp_of(pki.path("good-chain.pem"))

    # 1: first sight
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "2s"), name="run1")
    expo = wait_result(lab, d, [name])
    changed1 = expo.value("tlswatch_chain_changed_timestamp_seconds", target=name)
    lab.check(changed1 is not None, "chain_changed_timestamp_seconds is there after the first probe")
    lab.eq(expo.value("tlswatch_chain_changes_total", target=name), 0,
           "chain_changes_total is 0 after the first sight")
    fs = {s.labels["sha256"]: s.value
          for s in expo.find("tlswatch_cert_first_seen_timestamp_seconds", target=name)}
    lab.eq(sorted(fs), sorted(good_fps), "cert_first_seen has one series per presented certificate")
    d.stop()
    sp = state_path(sd, name)
    with open(sp) as f:
        st = L.parse_state(f.read())
    lab.eq(st["name"], name, "the state file holds the target's name")
    lab.eq(st["cert"], good_fps, "the state file lists the presented chain in order")
    for fp in good_fps:
        lab.check(os.path.isfile(os.path.join(sd, "certs", fp + ".pem")),
                  "certificate %s... stored once as PEM" % fp[:12])
    stored_time = float(st["probe_time"])
    for line in d.stderr().splitlines():
        if "chain changed" in line:
            lab.check(False, "no 'chain changed' line at the first sight", line)
            break

    # 2: restart with a 1 h interval: the first new probe is far away
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1h"), name="run2")
    expo = d.scrape(check=True)
    lab.eq(expo.value("tlswatch_probe_success", target=name), 1,
           "after a restart, probe_success is served from disk at once")
    lab.eq(expo.value("tlswatch_probes_total", target=name, result="success"), 0,
           "... before any new probe (probes_total{result=success} is 0)")
    lab.check(abs(expo.value("tlswatch_probe_timestamp_seconds", target=name) - stored_time) < 0.002,
              "... with the stored probe time")
    lab.eq(expo.value("tlswatch_chain_changed_timestamp_seconds", target=name), changed1,
           "... and the chain change time unchanged")
    lab.eq(expo.value("tlswatch_chain_verified", target=name), 1, "... verdict served from disk")
    lab.check(len(expo.find("tlswatch_cert_not_after_timestamp_seconds", target=name)) == 2,
              "... both certificates' series served from disk")
    status, _, body = d.request("GET", "/api/targets/" + name)
    lab.eq(status, 200, "GET /api/targets/NAME answers 200 after a restart")
    lab.eq([c["sha256"] for c in json.loads(body)["chain"]], good_fps,
           "the API shows the stored chain")
    d.stop()

    # 3: a new certificate on the same port
    srv.stop()
    srv2 = lab.serve_chain(pki.path("deep-chain.pem"), pki.path("deep.key"), port=srv.port)
    deep_fps = fp_of(pki.path("deep-chain.pem"))
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "2s"), name="run3")
    v, expo = d.wait_for(lambda e: e.value("tlswatch_chain_changes_total", target=name) == 1, 20)
    lab.check(v, "a new chain on the same port is counted: chain_changes_total 1")
    changed3 = expo.value("tlswatch_chain_changed_timestamp_seconds", target=name)
    lab.check(changed3 is not None and changed3 > changed1,
              "chain_changed_timestamp_seconds moves forward (%s -> %s)" % (changed1, changed3))
    fs = {s.labels["sha256"]: s.value
          for s in expo.find("tlswatch_cert_first_seen_timestamp_seconds", target=name)}
    lab.eq(sorted(fs), sorted(deep_fps), "cert_first_seen follows the new chain")
    lab.check(fs.get(deep_fps[-1], 0) < fs.get(deep_fps[0], 0),
              "the intermediate seen before keeps its first-seen time; the new leaf is newer")
    changes = [l for l in d.stderr().splitlines() if "chain changed" in l]
    lab.eq(len(changes), 1, "one 'chain changed' log line", "\n".join(changes))
    if changes:
        lab.check(good_fps[0] in changes[0] and deep_fps[0] in changes[0]
                  and "CN=good.test" in changes[0] and "expires" in changes[0],
                  "it names the old and new fingerprint, subject and expiry", changes[0])
    time.sleep(2.5)   # another probe: nothing changed, nothing logged
    changes = [l for l in d.stderr().splitlines() if "chain changed" in l]
    lab.eq(len(changes), 1, "an unchanged chain logs nothing more")
    d.stop()

    # 4: the change survives another restart
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1h"), name="run4")
    expo = d.scrape()
    lab.eq(expo.value("tlswatch_chain_changes_total", target=name), 1,
           "chain_changes_total survives a restart")
    lab.eq(expo.value("tlswatch_chain_changed_timestamp_seconds", target=name), changed3,
           "chain_changed_timestamp_seconds survives a restart")
    _, _, body = d.request("GET", "/api/targets/" + name)
    hist = json.loads(body)["history"]
    lab.check(len(hist) == 1 and hist[0]["chain"] == good_fps,
              "the history holds the previous chain", body)
    d.stop()

    # the tool reads the same state
    rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd])
    lab.eq(rc, 0, "tlswatch show exits 0", err)
    lab.check(name in out and "verified" in out and out.splitlines()[0].startswith("TARGET"),
              "tlswatch show lists the target", out)
    rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd, name])
    lab.check(rc == 0 and deep_fps[0] in out and good_fps[0] in out and "History" in out,
              "tlswatch show TARGET prints the chain and its history", out + err)
    rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd, name, "--pem"])
    lab.eq(out.count("-----BEGIN CERTIFICATE-----"), 3, "tlswatch show TARGET --pem exports the chain")
    rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd, "no-such-target"])
    lab.eq(rc, 1, "tlswatch show of an unknown target exits 1")
    srv2.stop()


def verdict_change(lab):
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    sd = os.path.join(lab.tmp, "verdict-state")
    targets = [("verdict", srv.address)]
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1s", "500ms"), name="verdict")
    v, _ = d.wait_for(lambda e: e.value("tlswatch_chain_verified", target="verdict") == 1, 20)
    lab.check(v, "verdict: verified first")
    srv.stop()
    srv = lab.serve_chain(pki.path("wrongname-chain.pem"), pki.path("wrongname.key"), port=srv.port)
    v, _ = d.wait_for(lambda e: e.value("tlswatch_chain_verified", target="verdict") == 0, 20)
    lab.check(v, "verdict: then not verified")
    time.sleep(2.5)   # more probes, nothing new
    lines = [l for l in d.stderr().splitlines()
             if "target verdict:" in l and "does not verify" in l and "debug:" not in l]
    lab.eq(len(lines), 1, "the verdict change is logged once at info level", "\n".join(lines))
    lab.check(lines and "hostname_mismatch" in lines[0] and "was: verified" in lines[0],
              "it names the new reasons and the old verdict", "\n".join(lines))
    d.stop()
    srv.stop()


def endpoint_down(lab):
    """An endpoint that goes down keeps its last chain's certificate and
    expiry series (so an expiry alert does not resolve while the certificate
    is still on its way out), with when the chain was last seen; after a
    restart too."""
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    sd = os.path.join(lab.tmp, "down-state")
    targets = [("down", srv.address)]
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1s", "500ms"), name="down1")
    expo = wait_result(lab, d, ["down"])
    up_expiry = expo.value("tlswatch_chain_verified_expiry_timestamp_seconds", target="down")
    lab.check(up_expiry is not None, "down: the verified expiry is published while up")
    srv.stop()
    v, expo = d.wait_for(lambda e: e.value("tlswatch_probe_success", target="down") == 0, 20)
    lab.check(v, "down: the probe fails once the server is gone")
    lab.promtool(d.scrape_text())

    def kept(expo, what):
        seen = expo.value("tlswatch_chain_last_seen_timestamp_seconds", target="down")
        probe = expo.value("tlswatch_probe_timestamp_seconds", target="down")
        lab.eq(len(expo.find("tlswatch_cert_not_after_timestamp_seconds", target="down")), 2,
               "%s: both certificates' notAfter series are kept" % what)
        lab.eq(len(expo.find("tlswatch_cert_not_before_timestamp_seconds", target="down")), 2,
               "%s: ... and their notBefore" % what)
        lab.eq(expo.value("tlswatch_chain_verified_expiry_timestamp_seconds", target="down"),
               up_expiry, "%s: the verified expiry is kept" % what)
        lab.check(expo.value("tlswatch_chain_earliest_expiry_timestamp_seconds", target="down")
                  is not None, "%s: the earliest expiry is kept" % what)
        lab.check(seen is not None and probe is not None and seen < probe,
                  "%s: chain_last_seen (%s) is before the failing probe (%s)" % (what, seen, probe))
        lab.eq(expo.value("tlswatch_chain_verified", target="down"), None,
               "%s: no verdict is published for a probe that saw no chain" % what)

    kept(expo, "down")
    _, _, body = d.request("GET", "/api/targets/down")
    t = json.loads(body)
    lab.check(t.get("failing_since") is not None and t.get("verified_since") is not None,
              "down: the API says since when it fails and since when it verified",
              body[:400])
    d.stop()
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1h"), name="down2")
    kept(d.scrape(check=True), "down, after a restart")
    d.stop()


def damaged_files(lab):
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    sd = os.path.join(lab.tmp, "damaged-state")
    names = [L.late_name(p, HOUR_MS) for p in ("corrupt", "truncated", "unreadable", "fifo",
                                                "intact")]
    targets = [(n, srv.address) for n in names]
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "2s"), name="damage1")
    wait_result(lab, d, names)
    d.stop()
    paths = [state_path(sd, n) for n in names]
    with open(paths[0], "w") as f:
        f.write("format 1\nname %s\nprobe_time banana\nend\n" % names[0])
    with open(paths[1], "r+") as f:
        text = f.read()
        f.seek(0)
        f.truncate()
        f.write(text[:len(text) // 2])
    os.unlink(paths[2])
    os.mkdir(paths[2])       # root reads any file; a directory it cannot read as one
    # a FIFO: opened for reading, it would wait for a writer for ever
    os.unlink(paths[3])
    os.mkfifo(paths[3])

    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1h"), name="damage2")
    expo = d.scrape(check=True)
    err = d.stderr()
    for n, p in zip(names[:4], paths[:4]):
        lab.eq(err.count(p), 1, "%s: reported once, with its path" % n, err)
        lab.eq(expo.value("tlswatch_probe_success", target=n), None,
               "%s: starts fresh (no stored result served)" % n)
    lab.check(any(paths[3] in l and "not a regular file" in l for l in err.splitlines()),
              "the FIFO is refused as not a regular file, the loader going on", err)
    lab.eq(expo.value("tlswatch_probe_success", target=names[4]), 1,
           "the intact target's stored result is still served")
    d.stop()

    # probing again: the broken files are replaced; the directory cannot be,
    # which is counted and logged once
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "500ms", "400ms"), name="damage3")
    v, expo = d.wait_for(lambda e: (e.value("tlswatch_state_write_errors_total") or 0) >= 3, 20)
    lab.check(v, "writes that fail are counted in tlswatch_state_write_errors_total (>= 3)")
    for n, p in [(names[i], paths[i]) for i in (0, 1, 3)]:
        try:
            with open(p) as f:
                st = L.parse_state(f.read())
            lab.eq(st["name"], n, "%s: the damaged file is replaced by a good one" % n)
        except (OSError, ValueError) as e:
            lab.check(False, "%s: the damaged file is replaced by a good one" % n, str(e))
    warn = [l for l in d.stderr().splitlines() if "cannot" in l and "state_dir" in l and "debug:" not in l]
    lab.eq(len(warn), 1, "the failing write is logged once, not at every probe", "\n".join(warn))
    lab.eq(expo.value("tlswatch_probe_success", target=names[2]), 1,
           "the target whose file cannot be written is still probed")
    d.stop()
    srv.stop()


def damaged_after_cert(lab):
    """State files damaged after their cert lines, out-of-range times, and
    more history than this version keeps: each once crashed tlswatchd at
    start-up (or the status page, or tlswatch show). Each must cost only its
    own target."""
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    sd = os.path.join(lab.tmp, "damaged-cert-state")
    kinds = ("truncated-after-cert", "bad-after-cert", "bad-cert-value", "time-1e19",
             "expiry-huge", "history-20", "intact")
    names = [L.late_name(k, HOUR_MS) for k in kinds]
    targets = [(n, srv.address) for n in names]
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "2s"), name="dcert1")
    wait_result(lab, d, names)
    d.stop()
    paths = dict(zip(kinds, (state_path(sd, n) for n in names)))
    texts = {}
    for k, p in paths.items():
        with open(p) as f:
            texts[k] = f.read()

    def cut_after_cert(text):
        lines = text.splitlines(True)
        i = next(i for i, l in enumerate(lines) if l.startswith("cert "))
        return lines[:i + 1]

    def replace_key(text, key, value):
        return "".join((key + " " + value + "\n") if l.startswith(key + " ") else l
                       for l in text.splitlines(True))

    lines = cut_after_cert(texts["truncated-after-cert"])
    damaged = {
        "truncated-after-cert": "".join(lines),
        "bad-after-cert": "".join(cut_after_cert(texts["bad-after-cert"])) +
        "probe_duration banana\nend\n",
        "bad-cert-value": "".join(cut_after_cert(texts["bad-cert-value"])) + "cert 12\nend\n",
        "time-1e19": replace_key(texts["time-1e19"], "probe_time", "1e19"),
        "expiry-huge": replace_key(texts["expiry-huge"], "earliest_expiry",
                                   "9223372036854775807"),
    }
    fp = fp_of(pki.path("good-chain.pem"))[0]
    hist = "".join("history %d %d %s\n" % (1700000000 - 10 * i, 1700000005 - 10 * i, fp)
                   for i in range(20))
    damaged["history-20"] = texts["history-20"].replace("end\n", hist + "end\n")
    for k, text in damaged.items():
        lab.check(text != texts[k], "%s: the file was changed for the test" % k)
        with open(paths[k], "w") as f:
            f.write(text)

    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "1h"), name="dcert2")
    expo = d.scrape(check=True)
    err = d.stderr()
    for k in kinds[:5]:
        lab.eq(err.count(paths[k]), 1, "%s: reported once, with its path" % k, err)
        lab.eq(expo.value("tlswatch_probe_success", target=names[kinds.index(k)]), None,
               "%s: starts fresh (no stored result served)" % k)
    for k in ("history-20", "intact"):
        lab.eq(err.count(paths[k]), 0, "%s: loads without complaint" % k, err)
        lab.eq(expo.value("tlswatch_probe_success", target=names[kinds.index(k)]), 1,
               "%s: its stored result is served" % k)
    # the pages that render the stored times
    for path in ["/", "/api/targets"] + ["/targets/" + n for n in names]:
        status, _, body = d.request("GET", path)
        lab.eq(status, 200, "GET %s answers 200 with damaged neighbours" % path)
    lab.check(d.proc.poll() is None, "tlswatchd is still running after serving every page")
    d.stop()

    rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd])
    lab.check(rc in (0, 1) and "Sanitizer" not in err and "runtime error" not in err,
              "tlswatch show over the damaged directory ends normally (status %d)" % rc,
              out + err)
    bad = [l for l in err.splitlines() if l.strip().startswith(os.path.join(sd, "targets"))]
    lab.check(rc == 1 and len(bad) >= 2 and "\\n" not in err,
              "tlswatch show names each unusable state file on a line of its own", err)
    # -s, as tlswatchd spells it; a missing directory is called missing
    missing = os.path.join(lab.tmp, "no-such-state")
    rc, out, err = L.run_tlswatch(lab, ["show", "-s", missing])
    lab.check(rc == 1 and "no state directory" in err and missing in err
              and "unusable" not in err, "tlswatch show -s over a missing directory says so", err)
    for k, n in zip(kinds, names):
        rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd, n])
        want = 0 if k in ("history-20", "intact") else 1
        lab.eq(rc, want, "tlswatch show %s exits %d" % (k, want), out + err)
        lab.check("Sanitizer" not in err and "runtime error" not in err,
                  "tlswatch show %s: no sanitizer report" % k, err)
    srv.stop()


def read_only(lab):
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    sd = os.path.join(lab.tmp, "ro-state")
    os.makedirs(sd)
    names = ["ro-a", "ro-b"]
    targets = [(n, srv.address) for n in names]
    # A read-only bind mount of the state directory, in a mount namespace of
    # the daemon's own: nothing outside the test sees it.
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"', sd]
    d = L.Daemon(lab, config(lab, L.free_port(), sd, targets, "500ms", "400ms"), name="ro",
                 prefix=prefix)
    # Each probe writes a state file, a certificate file per new certificate
    # and the anchor's: the errors can reach 4 before both targets probed.
    v, expo = d.wait_for(lambda e: (e.value("tlswatch_state_write_errors_total") or 0) >= 4
                         and all(e.value("tlswatch_probe_success", target=n) is not None
                                 for n in names), 20)
    lab.check(v, "a read-only state_dir counts write errors (>= 4)")
    lab.check(all(expo.value("tlswatch_probe_success", target=n) == 1 for n in names),
              "with a read-only state_dir the daemon keeps probing",
              [expo.value("tlswatch_probe_success", target=n) for n in names])
    status, _, _ = d.request("GET", "/")
    lab.eq(status, 200, "... and serving the status page")
    warn = [l for l in d.stderr().splitlines() if "cannot" in l and "state_dir" in l and "debug:" not in l]
    lab.eq(len(warn), 1, "the read-only state_dir is logged once", "\n".join(warn))
    lab.check(warn and "Read-only file system" in warn[0], "the log says why", "\n".join(warn))
    # make it writable again inside the daemon's namespace: writes resume
    r = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "mount", "-o",
                        "remount,bind,rw", sd, sd], capture_output=True, timeout=60)
    lab.eq(r.returncode, 0, "nsenter remounts the state_dir writable", r.stderr)
    ok = False
    for _ in range(100):
        if all(os.path.exists(state_path(sd, n)) for n in names):
            ok = True
            break
        time.sleep(0.1)
    lab.check(ok, "once writable, the state is written (retried, not given up)")
    lab.check("writing works again" in d.stderr(), "the recovery is logged")
    d.stop()
    srv.stop()


def crash_safety(lab):
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    closed = lab.closed_port()
    sd = os.path.join(lab.tmp, "crash-state")
    names = ["crash-%02d" % i for i in range(30)]
    targets = [(n, srv.address if i % 3 else closed.address) for i, n in enumerate(names)]
    # state_refresh 1ms: every probe rewrites its file, so kills land mid-write
    text = config(lab, L.free_port(), sd, targets, "300ms", "200ms",
                  extra='state_refresh = "1ms";')
    rng = random.Random(4)
    rounds = 12
    for i in range(rounds):
        d = L.Daemon(lab, text, name="crash%d" % i, wait=(i == 0))
        time.sleep(rng.uniform(0.3, 1.2))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d.kill()
    files = glob.glob(os.path.join(sd, "targets", "*.state"))
    lab.eq(len(files), len(names), "after %d kill -9, every target has a state file" % rounds)
    bad = []
    for p in files:
        try:
            with open(p) as f:
                L.parse_state(f.read())
        except (OSError, ValueError) as e:
            bad.append("%s: %s" % (p, e))
    lab.check(not bad, "every state file parses after kill -9 in a loop", "\n".join(bad))
    rc, out, err = L.run_tlswatch(lab, ["show", "--state-dir", sd])
    lab.check(rc == 0 and not err and len(out.splitlines()) == len(names) + 1,
              "tlswatch show reads every state file (exit 0, no complaint)", out + err)
    for p in glob.glob(os.path.join(sd, "certs", "*.pem")):
        with open(p) as f:
            pem = f.read()
        import ssl
        der = ssl.PEM_cert_to_DER_cert(pem)
        if hashlib.sha256(der).hexdigest() + ".pem" != os.path.basename(p):
            lab.check(False, "certificate file %s holds the certificate it is named by" % p)
            break
    else:
        lab.check(True, "every certificate file holds the certificate it is named by")
    # a start removes what a kill left behind (a file of the same name may
    # be there again, written anew by a probe since: another inode or time)
    before = {}
    for p in glob.glob(os.path.join(sd, "*", ".*.tmp")):
        try:
            st = os.stat(p)
            before[p] = (st.st_ino, st.st_mtime_ns)
        except OSError:
            pass
    d = L.Daemon(lab, text, name="crash-final")
    stale = []
    for p, ino in before.items():
        try:
            st = os.stat(p)
            if (st.st_ino, st.st_mtime_ns) == ino:
                stale.append(p)
        except OSError:
            pass
    d.stop()
    lab.note("%d temporary files left by the kills" % len(before))
    lab.check(not stale, "temporary files from the kills are removed at start", "\n".join(stale))
    srv.stop()


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    L.require_tool("unshare", "util-linux")
    L.require_tool("nsenter", "util-linux")
    restart_survival(lab)
    verdict_change(lab)
    endpoint_down(lab)
    damaged_files(lab)
    damaged_after_cert(lab)
    read_only(lab)
    crash_safety(lab)


if __name__ == "__main__":
    L.Lab("state").main(main)
