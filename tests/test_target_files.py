#!/usr/bin/env python3
"""test_target_files.py - targets from Prometheus file_sd files
(target_files), watched while tlswatchd runs.

Two openssl s_server lab targets on loopback; a JSON and a YAML file in a
watched directory, written as generators write them (a temporary file
renamed over the old one). Checked, each within a deadline:
- both files' targets are probed, with their labels; __param_module picks
  a module; tlswatch_target_file_last_load_successful and
  tlswatch_target_file_targets per file;
- a target added to a file is probed while the one already there keeps
  its state (its probe counter goes on, no restart);
- a changed label is applied;
- a broken file (JSON syntax error; an unknown module in YAML) is logged
  with file and position, keeps its previous targets, and shows 0 in
  tlswatch_target_file_last_load_successful; so across a reload (SIGHUP);
- fixing it applies the new content;
- a file that vanishes takes its targets (and its file series) with it;
- a file appearing in the directory is picked up."""

import os
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

DEADLINE = 10.0


def write(path, text):
    tmp = os.path.join(os.path.dirname(path), ".tmp-" + os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def probes(e, target):
    return sum(s.value for s in e.find("tlswatch_probes_total", target=target))


def main(lab):
    lab.require_daemon()
    pki = lab.pki()
    s1 = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    s2 = lab.serve_chain(pki.path("soon-chain.pem"), pki.path("soon.key"))
    tdir = os.path.join(lab.tmp, "targets.d")
    os.makedirs(tdir)
    a, b = os.path.join(tdir, "a.json"), os.path.join(tdir, "b.yml")
    t1, t2 = "localhost:%d" % s1.port, "localhost:%d" % s2.port
    t3 = "https://localhost:%d/x" % s2.port
    write(a, '[{"targets": ["%s"], "labels": {"team": "web"}}]\n' % t1)
    write(b, "- targets: [\"%s\"]\n  labels:\n    __param_module: named\n" % t2)
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
interval = "1s"; timeout = "800ms"; ca_file = "%s";
modules = { named = { server_name = "good.test"; }; };
target_files = ( "%s/*.json", "%s/*.yml" );
targets = ();
""" % (port, pki.path("ca.pem"), tdir, tdir)
    d = L.Daemon(lab, conf, name="tlswatchd-tfiles")
    lab.daemon = d

    def has(*ts):
        return lambda e: all(e.find("tlswatch_probe_success", target=t) for t in ts)

    _, e = d.wait_for(has(t1, t2), DEADLINE)
    lab.eq(e.value("tlswatch_probe_success", target=t1), 1, "a.json's target is probed")
    lab.check(e.find("tlswatch_probe_success", target=t1, team="web"),
              "a.json's labels are the target's labels", e.excerpt(t1))
    lab.eq(e.value("tlswatch_probe_success", target=t2), 1,
           "b.yml's target is probed with its module (server_name good.test)")
    lab.check(e.find("tlswatch_target_info", target=t2, server_name="good.test"),
              "__param_module picked the module's server_name", e.excerpt(t2))
    lab.eq(e.value("tlswatch_target_file_last_load_successful", file=a), 1,
           "tlswatch_target_file_last_load_successful 1 for a.json")
    lab.eq(e.value("tlswatch_target_file_targets", file=b), 1,
           "tlswatch_target_file_targets 1 for b.yml")
    lab.promtool(d.scrape_text(), "promtool accepts the scrape with target files")

    # -- a target added; the one there keeps its state
    _, e = d.wait_for(lambda e: probes(e, t1) >= 2, DEADLINE)
    before = probes(e, t1)
    mark = len(d.stderr())
    write(a, '[{"targets": ["%s", "%s"], "labels": {"team": "web"}}]\n' % (t1, t3))
    v, e = d.wait_for(has(t3), DEADLINE)
    lab.check(v, "a target added to a.json is probed", d.stderr()[mark:])
    lab.check(probes(e, t1) >= before, "the target already there kept its counters (%d -> %d)"
              % (before, probes(e, t1)))
    lab.check("target_files: 2 targets kept, 0 changed, 1 added, 0 removed" in d.stderr()[mark:],
              "logged: 2 kept (a.json's and b.yml's), 1 added", d.stderr()[mark:])

    # -- a label changed
    write(a, '[{"targets": ["%s", "%s"], "labels": {"team": "ops"}}]\n' % (t1, t3))
    v, e = d.wait_for(lambda e: e.find("tlswatch_probe_success", target=t1, team="ops"),
                      DEADLINE)
    lab.check(v, "a changed label is applied", e.excerpt(t1))

    # -- broken files keep their targets
    mark = len(d.stderr())
    write(a, '[{"targets": ["%s"], \n' % t1)
    write(b, "- targets: [\"%s\"]\n  labels:\n    __param_module: nope\n" % t2)
    v, e = d.wait_for(lambda e: e.value("tlswatch_target_file_last_load_successful", file=a) == 0
                      and e.value("tlswatch_target_file_last_load_successful", file=b) == 0,
                      DEADLINE)
    lab.check(v, "broken files show tlswatch_target_file_last_load_successful 0")
    lab.check(all(e.find("tlswatch_probe_success", target=t) for t in (t1, t2, t3)),
              "broken files keep their previous targets")
    err = d.stderr()[mark:]
    lab.check(a + ":" in err and "keeps its previous targets" in err,
              "a.json's syntax error is logged with the file and its position", err)
    lab.check(b + ":1:13:" in err and 'unknown module "nope"' in err,
              "b.yml's unknown module is logged with file, line and column", err)
    mark = len(d.stderr())
    d.reload()
    lab.check(d.wait_log("reload: done", DEADLINE, start=mark), "reloaded while broken")
    _, e = d.wait_for(lambda e: e.find("tlswatch_target_file_last_load_successful"), DEADLINE)
    lab.check(all(e.find("tlswatch_probe_success", target=t) for t in (t1, t2, t3)),
              "after a reload the broken files still give their last good targets",
              d.stderr()[mark:])

    # -- fixed; then a file vanishes; then one appears
    write(a, '[{"targets": ["%s"]}]\n' % t1)
    v, e = d.wait_for(lambda e: not e.find("tlswatch_probe_success", target=t3)
                      and e.value("tlswatch_target_file_last_load_successful", file=a) == 1,
                      DEADLINE)
    lab.check(v, "a fixed file applies its new content (a target removed)")
    os.unlink(b)
    v, e = d.wait_for(lambda e: not e.find("tlswatch_probe_success", target=t2)
                      and not e.find("tlswatch_target_file_targets", file=b), DEADLINE)
    lab.check(v, "a file that vanished takes its targets and its file series with it")
    c = os.path.join(tdir, "c.json")
    write(c, '[{"targets": ["%s"]}]' % t3)
    v, e = d.wait_for(has(t3), DEADLINE)
    lab.check(v, "a new file in the directory is picked up")
    d.stop()
    d.check_sanitizers()


if __name__ == "__main__":
    L.Lab("target_files").main(main)
