#!/usr/bin/env python3
"""test_mail.py - DANE, mail domains and MTA-STS with the real daemon
against the real servers of tests/dns_lab.py: zones signed at test time
served by NSD, Unbound validating them (the daemon's dnssec.resolver),
Postfix presenting chains of the test PKI on port 25, nginx serving
MTA-STS policies over HTTPS.

DANE (address targets with STARTTLS smtp): TLSA 3 1 1 (match), 3 1 1 of a
previous key (mismatch), 2 0 1 on the intermediate (match), 3 1 1 of a
chain the Web PKI refuses (a match that authenticates it), an unsigned
zone (insecure), broken signatures (bogus), no TLSA (no_records); what
dane = "auto" keeps to itself."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import dns_lab as D  # noqa: E402

Z = D.ZONE
# Probes run every INTERVAL; every wait below is bounded by WAIT.
INTERVAL = "2s"
TIMEOUT = "1500ms"
WAIT = 20.0


def daemon_conf(m, port, targets, extra=""):
    return """\
listen = "127.0.0.1:%d";
ca_file = %s;
interval = "%s";
timeout = "%s";
dnssec = { resolver = "%s"; };
%s
targets = (
  %s
);
""" % (port, L.conf_string(m.pki.path("ca.pem")), INTERVAL, TIMEOUT, m.resolver_address,
       extra, ",\n  ".join(targets))


def dane_targets():
    """(name, config line, dane mode) of the DANE cases."""
    out = []
    for host, mode in (("dane-ee", "on"), ("dane-old", "on"), ("dane-ta", "on"),
                       ("dane-none", "on"), ("mx.insecure", "on"), ("mx.bogus", "on"),
                       ("dane-pkixfail", "on"), ("dane-none", "auto"),
                       ("mx.insecure", "auto"), ("dane-old", "auto")):
        name = "%s-%s" % (host, mode)
        out.append((name, '{ name = "%s"; address = "%s.%s:25"; dane = "%s"; }'
                    % (name, host, Z, mode)))
    return out


def check_dane(lab, d):
    want = {
        # name: (status or None when auto keeps it to itself, verified, reason, match)
        "dane-ee-on": ("match", 1, None, "3 1 1"),
        "dane-old-on": ("mismatch", 0, "dane_mismatch", None),
        "dane-ta-on": ("match", 1, None, "2 0 1"),
        "dane-none-on": ("no_records", 1, None, None),
        "mx.insecure-on": ("insecure", 1, None, None),
        "mx.bogus-on": ("bogus", 0, "dane_bogus", None),
        "dane-pkixfail-on": ("match", 1, None, "3 1 1"),
        "dane-none-auto": (None, 1, None, None),
        "mx.insecure-auto": (None, 1, None, None),
        "dane-old-auto": ("mismatch", 0, "dane_mismatch", None),
    }

    def settled(expo):
        for name, (status, verified, _, _) in want.items():
            if expo.value("tlswatch_chain_verified", target=name) != verified:
                return False
            if status is not None and \
                    expo.value("tlswatch_dane_status", target=name, status=status) != 1:
                return False
        return True

    ok, expo = d.wait_for(settled, WAIT)
    lab.check(ok, "every DANE case settles within %.0f s" % WAIT,
              None if ok else expo.excerpt(names=("tlswatch_chain_verified",
                                                  "tlswatch_dane_status",
                                                  "tlswatch_probe_failure_info")))
    for name, (status, verified, reason, match) in sorted(want.items()):
        got = expo.find("tlswatch_dane_status", target=name)
        if status is None:
            lab.check(not got and not expo.find("tlswatch_dane_tlsa_records", target=name),
                      "%s: dane = \"auto\" publishes nothing without authenticated records"
                      % name, repr(got))
        else:
            lab.eq([s.labels["status"] for s in got], [status],
                   "%s: tlswatch_dane_status{status=\"%s\"} is its one series" % (name, status))
        lab.eq(expo.value("tlswatch_chain_verified", target=name), verified,
               "%s: tlswatch_chain_verified %d" % (name, verified))
        reasons = sorted(s.labels["reason"] for s in
                         expo.find("tlswatch_chain_verify_error", target=name))
        lab.eq(reasons, [reason] if reason else [],
               "%s: verify errors %s" % (name, reason or "none"))
        mi = expo.find("tlswatch_dane_match_info", target=name)
        lab.eq([(s.labels["usage"], s.labels["selector"], s.labels["matching_type"])
                for s in mi], [tuple(match.split())] if match else [],
               "%s: tlswatch_dane_match_info %s" % (name, match or "absent"))
    lab.eq(expo.value("tlswatch_dane_tlsa_records", target="dane-ee-on"), 1,
           "dane-ee: one TLSA record")
    lab.eq(expo.value("tlswatch_dane_tlsa_records", target="mx.insecure-on"), 1,
           "mx.insecure: its one (unauthenticated) record is counted")
    lab.eq(expo.value("tlswatch_dane_tlsa_records", target="dane-none-on"), 0,
           "dane-none: no TLSA records")
    lab.check(expo.value("tlswatch_probe_success", target="mx.bogus-on") == 1,
              "bogus TLSA records do not keep the probe from the server")
    return expo


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    t0 = time.monotonic()
    m = D.MailLab(lab)
    lab.note("lab up in %.1f s" % (time.monotonic() - t0))

    port = L.free_port()
    targets = [line for _, line in dane_targets()]
    d = L.Daemon(lab, daemon_conf(m, port, targets))
    t0 = time.monotonic()
    expo = check_dane(lab, d)
    lab.note("DANE settled in %.1f s" % (time.monotonic() - t0))
    lab.promtool(d.scrape_text())
    del expo
    d.stop()


if __name__ == "__main__":
    L.Lab("mail").main(main)
