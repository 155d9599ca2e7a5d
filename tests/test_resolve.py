#!/usr/bin/env python3
"""test_resolve.py - names resolve through c-ares without blocking, and a
probe moves on to the next address when one refuses.

The test owns the hosts file (c-ares reads CARES_HOSTS instead of
/etc/hosts), so no query leaves the machine: "dual.test" resolves to both
127.0.0.1 and ::1. On one port only ::1 listens, on another only 127.0.0.1;
whichever order the addresses come in, one of the two targets must fall
back to its second address, and both must succeed."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    v6_problem = L.ipv6_loopback_available()
    if v6_problem:
        raise L.Missing("IPv6 loopback is needed for the dual-stack name: %s" % v6_problem)
    pki = lab.pki()

    hosts = os.path.join(lab.tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 dual.test v4only.test\n::1 dual.test v6only.test\n")

    # Each server listens on one family; the same port on the other family
    # is closed, so connecting there is refused at once.
    for _ in range(20):
        v6srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"), host="::1")
        if L.free_port_is_free("127.0.0.1", v6srv.port):
            break
        v6srv.stop()
    else:
        raise L.HardError("no port free on both 127.0.0.1 and ::1")
    for _ in range(20):
        v4srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
        if L.free_port_is_free("::1", v4srv.port):
            break
        v4srv.stop()
    else:
        raise L.HardError("no port free on both ::1 and 127.0.0.1")

    port = L.free_port()
    conf = """\
listen = "127.0.0.1:%d";
ca_file = %s;
interval = "2s";
timeout = "1500ms";
targets = (
  { name = "dual-v6-listens"; address = "dual.test:%d"; server_name = "good.test"; },
  { name = "dual-v4-listens"; address = "dual.test:%d"; server_name = "good.test"; },
  { name = "v6only"; address = "v6only.test:%d"; server_name = "good.test"; },
  { name = "v4only"; address = "v4only.test:%d"; server_name = "good.test"; },
  { name = "both-refuse"; address = "dual.test:%d"; server_name = "good.test"; }
);
""" % (port, L.conf_string(pki.path("ca.pem")), v6srv.port, v4srv.port, v6srv.port,
       v4srv.port, L.free_port())
    d = L.Daemon(lab, conf, env={"CARES_HOSTS": hosts})
    names = ["dual-v6-listens", "dual-v4-listens", "v6only", "v4only", "both-refuse"]
    done, expo = d.wait_for(
        lambda e: all(e.find("tlswatch_probes_total", target=n) for n in names), 10)
    lab.check(done, "every target was probed within 10 s")
    lab.promtool(d.scrape_text())

    for n in ["dual-v6-listens", "dual-v4-listens", "v6only", "v4only"]:
        lab.eq(expo.value("tlswatch_probe_success", target=n), 1.0,
               "%s: the probe succeeded" % n, d.stderr())
        lab.eq(expo.value("tlswatch_chain_verified", target=n), 1.0,
               "%s: the chain verified" % n)
    fi = expo.find("tlswatch_probe_failure_info", target="both-refuse")
    lab.eq([(s.labels["stage"], s.labels["reason"]) for s in fi], [("connect", "refused")],
           "both-refuse: every address refused, reported as connect/refused")

    # The log names the address each probe ended up on.
    err = d.stderr()
    want = {
        "dual-v6-listens": "[::1]:%d" % v6srv.port,
        "dual-v4-listens": "127.0.0.1:%d" % v4srv.port,
        "v6only": "[::1]:%d" % v6srv.port,
        "v4only": "127.0.0.1:%d" % v4srv.port,
    }
    for n, addr in want.items():
        lab.check(re.search(r"target %s: probe ok: .* from %s$" % (re.escape(n), re.escape(addr)),
                            err, re.M),
                  "%s: connected to %s" % (n, addr))
    lab.check(re.search(r"target dual-v(4|6)-listens: connect to address 1 of 2: "
                        r"Connection refused", err),
              "one dual-stack target was refused on its first address and moved on")
    d.stop()


if __name__ == "__main__":
    L.Lab("resolve").main(main)
