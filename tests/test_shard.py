#!/usr/bin/env python3
"""test_shard.py - shard = "K/N": three instances sharing one target list
(pulled in with @include, as README shows) probe every target exactly
once between them. Shard 1 says so in its file; shard 2's file says 1/3
and --shard 2/3 overrides it; shard 3 has TLSWATCH_SHARD=3/3 in its
environment, as replicas of one image or template unit would. A bad
--shard or TLSWATCH_SHARD exits 2 naming it. Then two instances of one
config, as tlswatchd@.service runs them, each on the port its --listen or
TLSWATCH_LISTEN gives."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

N_TARGETS = 60


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    names = ["host-%02d.example.test" % i for i in range(N_TARGETS)]
    targets = os.path.join(lab.tmp, "targets.conf")
    with open(targets, "w") as f:
        f.write("targets = (\n%s\n);\n" % ",\n".join(
            '  { name = "%s"; address = "%s"; server_name = "good.test"; }' % (n, srv.address)
            for n in names))

    daemons = []
    for k in (1, 2, 3):
        port = L.free_port()
        shard = {1: 'shard = "1/3";', 2: 'shard = "1/3";', 3: ""}[k]
        args = ["-v", "--shard", "2/3"] if k == 2 else ["-v"]
        env = {"TLSWATCH_SHARD": "3/3"} if k == 3 else None
        daemons.append(L.Daemon(lab, """\
listen = "127.0.0.1:%d";
%s
ca_file = %s;
interval = "2s";
timeout = "1s";
@include "targets.conf"
""" % (port, shard, L.conf_string(pki.path("ca.pem"))), name="shard%d" % k, args=args,
            env=env))

    seen = {}
    counts = []
    for k, d in enumerate(daemons, 1):
        done, expo = d.wait_for(
            lambda e: e.value("tlswatch_targets") is not None and
            len(e.find("tlswatch_probe_success")) == e.value("tlswatch_targets"), 6)
        lab.check(done, "shard %d/3 has probed all of its targets" % k)
        lab.promtool(d.scrape_text(), "promtool accepts shard %d/3's scrape" % k)
        counts.append(int(expo.value("tlswatch_targets") or 0))
        for s in expo.find("tlswatch_probe_success"):
            seen.setdefault(s.labels["target"], []).append(k)
            lab.check(s.value == 1.0, "shard %d/3: %s probed fine" % (k, s.labels["target"]))
    lab.eq(sum(counts), N_TARGETS, "the shards' tlswatch_targets add up to every target (%s)"
           % counts)
    lab.eq(sorted(seen), sorted(names), "every target is probed by some shard")
    twice = {n: v for n, v in seen.items() if len(v) != 1}
    lab.eq(twice, {}, "no target is probed by two shards")
    lab.check(all(c > 0 for c in counts), "each shard got a share of the targets (%s)" % counts)
    for d in daemons:
        d.stop()
    listen_override(lab, pki, names)
    for args, env, want in ((["--shard", "4/3"], None, "--shard \"4/3\""),
                            ([], {"TLSWATCH_SHARD": "x"}, "TLSWATCH_SHARD \"x\""),
                            (["--listen", "127.0.0.1:1,"], None, "--listen \"\": empty address"),
                            ([], {"TLSWATCH_LISTEN": "127.0.0.1"},
                             "TLSWATCH_LISTEN \"127.0.0.1\": missing port")):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([lab.tlswatchd, "-t", "-c", daemons[0].config_path] + args,
                           capture_output=True, env=e, timeout=10)
        err = p.stderr.decode(errors="replace")
        lab.check(p.returncode == 2 and want in err, "a bad %s exits 2 naming it" % want,
                  "status %d: %s" % (p.returncode, err))


def listen_override(lab, pki, names):
    """Two instances of one config on one host, as tlswatchd@1-2 and
    tlswatchd@2-2 run: the config's listen address is neither's; one has
    --listen, the other TLSWATCH_LISTEN (from its instances/%i.env), each
    its own shard. Scraped on their own ports, their targets add up to all,
    none twice; a reload keeps the override."""
    conf_port = L.free_port()
    config = """\
listen = "127.0.0.1:%d";
ca_file = %s;
interval = "2s";
timeout = "1s";
@include "targets.conf"
""" % (conf_port, L.conf_string(pki.path("ca.pem")))
    pa, pb = L.free_port(), L.free_port("127.0.0.2")
    a = L.Daemon(lab, config, name="listen1", http=("127.0.0.1", pa),
                 args=["-v", "--shard", "1/2", "--listen", "127.0.0.1:%d" % pa])
    b = L.Daemon(lab, config, name="listen2", http=("127.0.0.2", pb), args=["-v"],
                 env={"TLSWATCH_SHARD": "2/2", "TLSWATCH_LISTEN": "127.0.0.2:%d" % pb})
    lab.check(not L.can_connect("127.0.0.1", conf_port),
              "neither instance binds the config's listen address")
    seen = {}
    for k, d in ((1, a), (2, b)):
        done, expo = d.wait_for(
            lambda e: e.value("tlswatch_targets") is not None and
            len(e.find("tlswatch_probe_success")) == e.value("tlswatch_targets"), 6)
        lab.check(done, "instance %d/2 on its own port has probed all of its targets" % k)
        got = [s.labels["target"] for s in expo.find("tlswatch_probe_success")]
        lab.check(len(got) > 0, "instance %d/2 got a share of the targets (%d)" % (k, len(got)))
        for t in got:
            seen.setdefault(t, []).append(k)
    lab.eq(sorted(seen), sorted(names), "the two instances' targets are every target")
    lab.eq({n: v for n, v in seen.items() if len(v) != 1}, {}, "no target on both instances")
    mark = len(a.stderr())
    a.reload()
    lab.check(a.wait_log("reload: done", 10, mark), "instance 1/2 reloads")
    ok, _ = a.wait_for(lambda e: e.value("tlswatch_targets") is not None, 5)
    lab.check(ok and not L.can_connect("127.0.0.1", conf_port),
              "after a reload it still serves on --listen's port, not the config's")
    for d in (a, b):
        d.stop()


if __name__ == "__main__":
    L.Lab("shard").main(main)
