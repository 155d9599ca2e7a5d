#!/usr/bin/env python3
"""test_scan_tls.py - the protocol scan (src/probe/scan.c) through `tlswatch
check --scan`, against real OpenSSL 3.0 servers on loopback: one that
accepts TLS 1.0 only (-tls1 at security level 0), one that accepts only
TLS 1.3, OpenSSL's defaults (TLS 1.2 and 1.3; at security level 1 it has no
SHA-1 signature for TLS 1.0 and 1.1), one at security level 0 with no
version restricted (1.0 to 1.3), and a closed port. Each version's answer,
the target issue legacy_tls_enabled, the exit status, and the regular
probe beside the scan: its verdict and version as without --scan."""

import json
import os
import sys

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

VERSIONS = ("TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3")


def scan(lab, desc, server_address, sni, want, want_status, want_version):
    """--scan --json against one server: each version's answer as want says,
    the status, and the regular probe's own version."""
    args = ["check", server_address, "--scan", "--json", "--timeout", "5s"] + sni
    rc, out, err = L.run_tlswatch(lab, args)
    try:
        obj = json.loads(out)
    except ValueError as e:
        lab.check(False, "%s: --json prints one object" % desc, "%s\n%s\n%s" % (e, out, err))
        return None
    got = obj.get("scan") or {}
    lab.eq(tuple(got.get(v) for v in VERSIONS), want, "%s: the scan's answer per version" % desc,
           out)
    legacy = want[0] == "accepted" or want[1] == "accepted"
    lab.eq(obj.get("target_issues"), ["legacy_tls_enabled"] if legacy else [],
           "%s: legacy_tls_enabled %s" % (desc, "set" if legacy else "not set"), out)
    lab.eq((obj.get("status"), rc), (want_status, L_EXIT[want_status]),
           "%s: status %s" % (desc, want_status), obj.get("summary"))
    lab.eq(obj.get("tls_version"), want_version,
           "%s: the regular probe negotiated %s" % (desc, want_version), out)
    return obj


L_EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def main(lab):
    lab.require_tools()
    pki = lab.pki()
    sni = ["--servername", "good.test", "--cafile", pki.path("ca.pem")]
    chain, key = pki.path("good-chain.pem"), pki.path("good.key")
    tls10 = lab.serve_chain(chain, key, ["-tls1", "-cipher", "ALL@SECLEVEL=0"])
    tls13 = lab.serve_chain(chain, key, ["-tls1_3"])
    default = lab.serve_chain(chain, key)
    level0 = lab.serve_chain(chain, key, ["-cipher", "ALL@SECLEVEL=0"])
    closed = lab.closed_port()

    obj = scan(lab, "TLS 1.0 only", tls10.address, sni,
               ("accepted", "refused", "refused", "refused"), "WARNING", "TLS1.0")
    if obj:
        lab.check(obj["verified"] is True and "legacy TLS (1.0 or 1.1) accepted" in obj["summary"],
                  "TLS 1.0 only: the chain still verifies; the summary says why WARNING",
                  obj["summary"])
    scan(lab, "TLS 1.3 only", tls13.address, sni,
         ("refused", "refused", "refused", "accepted"), "OK", "TLS1.3")
    scan(lab, "OpenSSL's defaults", default.address, sni,
         ("refused", "refused", "accepted", "accepted"), "OK", "TLS1.3")
    scan(lab, "security level 0", level0.address, sni,
         ("accepted", "accepted", "accepted", "accepted"), "WARNING", "TLS1.3")
    # nothing answers: the scan knows nothing, the probe failed as it would
    obj = scan(lab, "closed port", closed.address, sni,
               ("unknown", "unknown", "unknown", "unknown"), "CRITICAL", None)
    if obj:
        lab.eq((obj["fail_stage"], obj["fail_reason"]), ("connect", "refused"),
               "closed port: the probe's own failure is reported")

    # the plain output: one line for the versions, one for the target issue
    rc, out, err = L.run_tlswatch(lab, ["check", tls10.address, "--scan"] + sni)
    lab.check("Protocols:    TLS1.0 accepted, TLS1.1 refused, TLS1.2 refused, TLS1.3 refused\n"
              in out and "Target issues: legacy_tls_enabled\n" in out,
              "TLS 1.0 only: the printout has the scan", out)
    lab.check(out.startswith("TLS WARNING - "), "TLS 1.0 only: WARNING first", out[:200])
    # without --scan nothing of it, and the status is the verdict's alone
    rc, out, err = L.run_tlswatch(lab, ["check", tls10.address, "--json"] + sni)
    obj = json.loads(out) if out.startswith("{") else {}
    lab.eq((rc, obj.get("scan"), obj.get("target_issues"), obj.get("tls_version")),
           (0, None, [], "TLS1.0"), "without --scan: OK, no scan, TLS 1.0 negotiated", out)


if __name__ == "__main__":
    L.Lab("scan_tls").main(main)
