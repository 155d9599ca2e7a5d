#!/usr/bin/env python3
"""test_webpki_tls.py - verdicts a careful Web PKI verifier agrees with, over
real TLS on loopback: openssl s_server serves chains of the conformance
corpus (tests/webpki-corpus.sh) and tlswatchd and `tlswatch check` probe
them.

- A Let's Encrypt-style chain (leaf, intermediate, root X cross-signed by
  another root; the store holds X) verifies with no chain issue.
- A leaf without serverAuth fails with `purpose`.
- A CA certificate served as the leaf, and an RSA leaf whose key usage is
  keyEncipherment only (TLS 1.3 needs a signature), stop GnuTLS's handshake
  at the server's signature: the chain is still recorded and the verdict
  fails with `key_usage`.
- GnuTLS's shared constraint bit becomes `name_constraints`, `path_length`
  or `key_usage`, and an unknown critical extension its own reason."""

import hashlib
import os
import ssl
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

# name -> (chain, leaf key, server_name, verified, reasons)
SCENARIOS = {
    "pass":          ("pass", "pass", "good.test", True, []),
    "cross":         ("cross", "cross", "good.test", True, []),
    "eku-client":    ("eku-client", "eku-client", "good.test", False, ["purpose"]),
    "leaf-ca":       ("leaf-ca", "leaf-ca", "good.test", False, ["key_usage"]),
    "leaf-kenc":     ("leaf-kenc", "leaf-kenc", "good.test", False, ["key_usage"]),
    "ca-ku":         ("ca-ku", "ca-ku", "good.test", False, ["key_usage"]),
    "pathlen":       ("pathlen", "pathlen", "good.test", False, ["path_length"]),
    "nc-permit-bad": ("nc-permit-bad", "nc-permit-bad", "www.good.test", False,
                      ["name_constraints"]),
    "unknown-crit":  ("unknown-crit", "unknown-crit", "good.test", False,
                      ["unknown_critical_extension"]),
}


def ders(path):
    with open(path) as f:
        return [ssl.PEM_cert_to_DER_cert(b) for b in L.pem_blocks(f.read())]


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    corpus = lab.webpki_corpus()
    roots = corpus.path("roots.pem")

    servers = {}
    for name, (chain, key, sni, _v, _r) in SCENARIOS.items():
        servers[name] = lab.serve_chain(corpus.path(chain + "-chain.pem"),
                                        corpus.path(key + ".key"))

    port = L.free_port()
    lines = ['listen = "127.0.0.1:%d";' % port, "ca_file = %s;" % L.conf_string(roots),
             'interval = "2s";', 'timeout = "1500ms";', "targets = ("]
    for i, (name, row) in enumerate(SCENARIOS.items()):
        lines.append('  { name = %s; address = %s; server_name = %s; }%s' % (
            L.conf_string(name), L.conf_string(servers[name].address), L.conf_string(row[2]),
            "," if i + 1 < len(SCENARIOS) else ""))
    lines.append(");")
    d = lab.daemon = L.Daemon(lab, "\n".join(lines) + "\n")

    def probed_twice(expo):
        return all((expo.value("tlswatch_probes_total", target=n, result="success") or 0) >= 2
                   for n in SCENARIOS)

    done, expo = d.wait_for(probed_twice, 20)
    lab.check(done, "every target is probed successfully twice within 20 s",
              "\n".join(expo.excerpt(target=n) for n in SCENARIOS if not
                        (expo.value("tlswatch_probes_total", target=n, result="success") or 0)))
    expo = d.scrape(check=True)
    for name, (chain, _key, _sni, verified, reasons) in SCENARIOS.items():
        excerpt = expo.excerpt(target=name)
        lab.eq(expo.value("tlswatch_probe_success", target=name), 1.0,
               "%s: the probe succeeds (the handshake gave the chain)" % name, excerpt)
        lab.eq(expo.value("tlswatch_chain_verified", target=name), 1.0 if verified else 0.0,
               "%s: chain_verified %d" % (name, verified), excerpt)
        got = sorted(s.labels["reason"] for s in expo.find("tlswatch_chain_verify_error",
                                                          target=name) if s.value == 1)
        lab.eq(got, sorted(reasons), "%s: verify_error reasons %s" % (name, reasons), excerpt)
        issues = sorted(s.labels["issue"] for s in expo.find("tlswatch_chain_issue", target=name))
        lab.eq(issues, [], "%s: no chain issue" % name, excerpt)
        want = [hashlib.sha256(x).hexdigest() for x in ders(corpus.path(chain + "-chain.pem"))]
        got = [None] * len(want)
        for s in expo.find("tlswatch_cert_not_after_timestamp_seconds", target=name):
            dep = int(s.labels["depth"])
            if dep < len(got):
                got[dep] = s.labels["sha256"]
        lab.eq(got, want, "%s: every presented certificate is recorded, in order" % name)

    # The tool says the same, first line and exit status.
    for name, want_first in (("cross", "TLS OK - "),
                             ("leaf-ca", "TLS CRITICAL - "),
                             ("eku-client", "TLS CRITICAL - ")):
        rc, out, err = L.run_tlswatch(lab, ["check", servers[name].address, "--servername",
                                            SCENARIOS[name][2], "--cafile", roots])
        lab.check(out.startswith(want_first), "tlswatch check %s: %r" % (name, want_first),
                  out[:400] + err)
        for r in SCENARIOS[name][4]:
            lab.check(("Reasons:      %s" % r) in out, "tlswatch check %s names %s" % (name, r),
                      out)
    d.stop()


if __name__ == "__main__":
    L.Lab("webpki_tls").main(main)
