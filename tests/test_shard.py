#!/usr/bin/env python3
"""test_shard.py - shard = "K/N": three instances sharing one target list
(pulled in with @include, as README shows) probe every target exactly
once between them. Shard 1 says so in its file; shard 2's file says 1/3
and --shard 2/3 overrides it; shard 3 has TLSWATCH_SHARD=3/3 in its
environment, as replicas of one image or template unit would. A bad
--shard or TLSWATCH_SHARD exits 2 naming it."""

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
    for args, env, want in ((["--shard", "4/3"], None, "--shard \"4/3\""),
                            ([], {"TLSWATCH_SHARD": "x"}, "TLSWATCH_SHARD \"x\"")):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([lab.tlswatchd, "-t", "-c", daemons[0].config_path] + args,
                           capture_output=True, env=e, timeout=10)
        err = p.stderr.decode(errors="replace")
        lab.check(p.returncode == 2 and want in err, "a bad %s exits 2 naming it" % want,
                  "status %d: %s" % (p.returncode, err))


if __name__ == "__main__":
    L.Lab("shard").main(main)
