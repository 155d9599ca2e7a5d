#!/usr/bin/env python3
"""test_scan_tls.py - the protocol scan (src/probe/scan.c) through `tlswatch
check --scan`, against real OpenSSL 3.0 servers on loopback: one that
accepts TLS 1.0 only (-tls1 at security level 0), one that accepts only
TLS 1.3, OpenSSL's defaults (TLS 1.2 and 1.3; at security level 1 it has no
SHA-1 signature for TLS 1.0 and 1.1), one at security level 0 with no
version restricted (1.0 to 1.3), and a closed port. Each version's answer,
the target issue legacy_tls_enabled, the exit status, and the regular
probe beside the scan: its verdict and version as without --scan.

Then the same servers as targets of tlswatchd with scan = { } (top level
and per target, one turned off with scan = false), at concurrency 1 so that
scans and probes share one slot: tlswatch_tls_version_supported{version}
per target, tlswatch_tls_scan_timestamp_seconds, tlswatch_target_issue
{issue="legacy_tls_enabled"}, nothing of a scan where none answered or none
is configured, a per-target interval rescanning at its own cadence, the
regular probes unaffected (their version, verdict and no failure counted),
answers kept across a reload, every scrape passing promtool; the same on
the API (scan, target_issues, scan_time), the status page and its filter
?issue=legacy_tls_enabled."""

import json
import os
import sys
import time

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

    daemon(lab, {"tls10": tls10, "tls13": tls13, "default": default, "level0": level0,
                 "closed": closed}, pki.path("ca.pem"))


# target -> (server, scan setting, each version's 0/1 or None for no series,
#            the regular probe's version)
DAEMON = {
    "tls10": ("tls10", "", (1, 0, 0, 0), "TLS1.0"),
    "tls13": ("tls13", "", (0, 0, 0, 1), "TLS1.3"),
    "default": ("default", "", (0, 0, 1, 1), "TLS1.3"),
    "level0": ("level0", ' scan = { interval = "2s"; };', (1, 1, 1, 1), "TLS1.3"),
    "off": ("default", " scan = false;", None, "TLS1.3"),
    "closed": ("closed", "", None, None),
}


def daemon(lab, servers, ca):
    lab.require_daemon()
    port = L.free_port()
    lines = ['listen = "127.0.0.1:%d";' % port, "ca_file = %s;" % L.conf_string(ca),
             'interval = "3s";', 'timeout = "1s";', "concurrency = 1;",
             'scan = { interval = "1h"; };', "targets = ("]
    lines.append(",\n".join(
        '  { name = "%s"; address = %s; server_name = "good.test";%s }'
        % (name, L.conf_string(servers[srv].address), setting)
        for name, (srv, setting, _w, _v) in DAEMON.items()))
    lines.append(");")
    text = "\n".join(lines) + "\n"
    d = lab.daemon = L.Daemon(lab, text)

    def scanned(expo):
        return all(expo.value("tlswatch_tls_scan_timestamp_seconds", target=t)
                   for t, row in DAEMON.items() if row[2] is not None) and \
            all(sum(s.value for s in expo.find("tlswatch_probes_total", target=t)) >= 1
                for t in DAEMON)

    t0 = time.time()
    done, expo = d.wait_for(scanned, 30)
    lab.check(done, "every target probed and every scanning one scanned within 30 s at concurrency 1",
              expo.excerpt(names=["tlswatch_tls_scan_timestamp_seconds"]) if expo else None)
    lab.check(d.wait_log("target closed: scan: no version answered", 10),
              "the closed port's scan ran and answered nothing", d.stderr()[-2000:])
    expo = d.scrape(check=True)
    for t, (_srv, _setting, want, version) in DAEMON.items():
        excerpt = expo.excerpt(target=t)
        got = {s.labels["version"]: s.value
               for s in expo.find("tlswatch_tls_version_supported", target=t)}
        lab.eq(got, dict(zip(VERSIONS, map(float, want))) if want else {},
               "%s: tlswatch_tls_version_supported %s" % (t, want), excerpt)
        stamp = expo.value("tlswatch_tls_scan_timestamp_seconds", target=t)
        lab.check((stamp is None) == (want is None) and
                  (stamp is None or t0 - 2 <= stamp <= time.time() + 1),
                  "%s: tlswatch_tls_scan_timestamp_seconds %s" %
                  (t, "absent" if want is None else "of this run"), excerpt)
        legacy = [s.value for s in expo.find("tlswatch_target_issue", target=t,
                                            issue="legacy_tls_enabled")]
        want_legacy = [1.0] if want and (want[0] or want[1]) else []
        lab.eq(legacy, want_legacy, "%s: legacy_tls_enabled %s" %
               (t, "set" if want_legacy else "absent"), excerpt)
        # the regular probe as without a scan
        lab.eq(expo.value("tlswatch_probe_success", target=t), 1.0 if version else 0.0,
               "%s: the regular probe %s" % (t, "succeeds" if version else "fails"), excerpt)
        if version:
            lab.eq((expo.value("tlswatch_tls_version_info", target=t, version=version),
                    expo.value("tlswatch_chain_verified", target=t),
                    expo.value("tlswatch_probes_total", target=t, result="failure") or 0.0),
                   (1.0, 1.0, 0.0),
                   "%s: the probe negotiates %s, verifies, and no scan counts as a failure"
                   % (t, version), excerpt)
    lab.check(all((s.value or 0) <= 1 for s in expo.find("tlswatch_scheduler_in_flight_probes")),
              "scans and probes together within concurrency 1")

    # the API and the status page: each target's scan and target issues
    names = {0: "refused", 1: "accepted"}
    for t, (_srv, _setting, want, version) in DAEMON.items():
        status, _h, body = d.request("GET", "/api/targets/" + t)
        try:
            obj = json.loads(body)
        except ValueError:
            obj = {}
        legacy = bool(want and (want[0] or want[1]))
        want_scan = (dict(zip(VERSIONS, (names[x] for x in want))) if want else
                     None if t == "off" else dict.fromkeys(VERSIONS, "unknown"))
        lab.eq((status, obj.get("scan"), obj.get("target_issues"), obj.get("scan_time") is None),
               (200, want_scan, ["legacy_tls_enabled"] if legacy else [], want is None),
               "%s: the API's scan, target_issues and scan_time" % t, body[:1500])
    status, _h, body = d.request("GET", "/api/targets?issue=legacy_tls_enabled")
    try:
        lst = json.loads(body)
    except ValueError:
        lst = {}
    lab.eq((status, sorted(x.get("name") for x in lst.get("targets", []))),
           (200, ["level0", "tls10"]), "?issue=legacy_tls_enabled lists tls10 and level0",
           body[:1500])
    status, _h, body = d.request("GET", "/targets/tls10")
    lab.check(status == 200 and "TLS1.0 accepted, TLS1.1 refused, TLS1.2 refused, "
              "TLS1.3 refused (scanned " in body and
              '<a href="/?issue=legacy_tls_enabled">legacy_tls_enabled</a>' in body,
              "tls10's page: the protocols and the target issue, linked", body[:3000])
    status, _h, body = d.request("GET", "/targets/off")
    lab.check(status == 200 and "Protocols" not in body, "off's page: no scan rows", body[:3000])

    # level0's own interval: scanned again 2 s later, the others not
    first = {t: expo.value("tlswatch_tls_scan_timestamp_seconds", target=t) for t in DAEMON}
    done, expo = d.wait_for(lambda e: (e.value("tlswatch_tls_scan_timestamp_seconds",
                                               target="level0") or 0) > first["level0"], 15)
    lab.check(done, "level0 (scan interval 2s) is scanned again within 15 s",
              expo.excerpt(target="level0"))
    lab.eq({t: expo.value("tlswatch_tls_scan_timestamp_seconds", target=t)
            for t in DAEMON if t != "level0"},
           {t: v for t, v in first.items() if t != "level0"},
           "the others (scan interval 1h) are not scanned again")

    # a reload that changes nothing keeps every answer
    start = len(d.stderr())
    d.reload()
    lab.check(d.wait_log("reload: 6 targets kept", 10, start), "the reload keeps every target",
              d.stderr()[start:])
    expo = d.scrape(check=True)
    lab.eq({s.labels["target"] for s in expo.find("tlswatch_target_issue",
                                                   issue="legacy_tls_enabled")},
           {"tls10", "level0"}, "after the reload: legacy_tls_enabled as before")
    lab.eq(expo.value("tlswatch_tls_scan_timestamp_seconds", target="tls10"), first["tls10"],
           "after the reload: tls10's scan is kept, not repeated")
    d.stop()


if __name__ == "__main__":
    L.Lab("scan_tls").main(main)
