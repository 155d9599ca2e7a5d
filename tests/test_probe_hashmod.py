#!/usr/bin/env python3
"""test_probe_hashmod.py - /probe targets sharded across Prometheus servers
with hashmod, as the operator, vmagent and Alloy do.

100 /probe targets (URLs to one openssl s_server on loopback, told apart by
their paths, which /probe ignores); two real Prometheus servers scrape the
same tlswatchd, each keeping one hashmod shard (modulus 2) of the targets.
Checked: each server scrapes a non-empty share, every target successfully
(up 1, probe_success 1); the two shares are disjoint and their union is
every target once."""

import json
import os
import sys

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import test_probe_endpoint as P  # noqa: E402

N = 100


def start_shard(lab, dport, targets, k):
    prom = L.require_tool("prometheus", "prometheus")
    pport = L.free_port()
    pdir = os.path.join(lab.tmp, "prometheus%d" % k)
    os.makedirs(pdir)
    with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
        f.write("""global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: tls
    metrics_path: /probe
    params:
      module: [tls]
    static_configs:
      - targets: %s
    relabel_configs:
      - source_labels: [__address__]
        modulus: 2
        target_label: __tmp_hash
        action: hashmod
      - source_labels: [__tmp_hash]
        regex: "%d"
        action: keep
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:%d
""" % (json.dumps(targets), k, dport))
    cmd = [prom, "--config.file=" + os.path.join(pdir, "prometheus.yml"),
           "--storage.tsdb.path=" + os.path.join(pdir, "data"),
           "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"]
    L.Server(lab, "prometheus shard %d" % k, cmd, "127.0.0.1", pport, "prometheus%d.log" % k)
    return pport


def main(lab):
    lab.require_daemon()
    pki = lab.pki()
    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    targets = ["https://localhost:%d/t%03d" % (srv.port, i) for i in range(N)]
    port = L.free_port()
    d = L.Daemon(lab, """listen = "127.0.0.1:%d";
probe_endpoint = true;
probe_allow = ( "localhost" );
# a Prometheus server keeps a connection per /probe target (README)
web = { max_connections = 256; max_connections_per_address = 128; };
modules = { tls = { ca_file = "%s"; timeout = "1500ms"; }; };
targets = ();
""" % (port, pki.path("ca.pem")), name="tlswatchd-hashmod")
    lab.daemon = d
    ports = [start_shard(lab, port, targets, k) for k in (0, 1)]

    def share(pport):
        r = P.prom_get(pport, "/api/v1/query", {"query": "up"})
        return r["data"]["result"] if r else []

    def settled():
        shares = [share(p) for p in ports]
        return shares if sum(len(s) for s in shares) == N else None

    shares = P.wait_until(settled, 40) or [share(p) for p in ports]
    seen = [sorted(r["metric"]["instance"] for r in s) for s in shares]
    lab.check(all(seen), "each Prometheus keeps a share of the targets (%s)"
              % [len(s) for s in seen])
    lab.eq(sorted(seen[0] + seen[1]), sorted(targets), "the union is every target once")
    lab.eq(sorted(set(seen[0]) & set(seen[1])), [], "no target is in both shares")

    def all_up():
        ok = [P.prom_get(p, "/api/v1/query", {"query": "probe_success == 1 and up == 1"})
              for p in ports]
        return sum(len(o["data"]["result"]) for o in ok if o) == N or None
    lab.check(P.wait_until(all_up, 30), "every target of both shares: up 1 and probe_success 1")
    d.stop()
    d.check_sanitizers()


if __name__ == "__main__":
    L.Lab("probe_hashmod").main(main)
