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
dane = "auto" keeps to itself.

Mail domains: a domain with two MX hosts (mx1 at two addresses with a good
chain and a matching TLSA record, mx2 with a chain from an untrusted root
and a TLSA record that does not match it), the implicit MX of a domain
without MX records, a second port nothing listens on, and an MX set changed
while the daemon runs (logged and counted).

MTA-STS (policies fetched from nginx over HTTPS by the daemon's fetcher at
the address Unbound gave): enforce covering both MX hosts (with a TLS-RPT
record), a policy leaving one MX out, a policy host whose certificate comes
from an untrusted root, a malformed policy, no record at all; testing mode
with max_age 3600 on the domain whose MX set changes.

`tlswatch check --mail-domain`: the whole picture and the plugin status of
a good domain, of one with a failing MX host, of one whose policy leaves
an MX host out, and of a domain that does not exist."""

import json
import os
import re
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


MAIL_TARGETS = [
    '{ name = "dom-mail"; mail_domain = "mail.%s"; }' % Z,
    '{ name = "dom-nomx"; mail_domain = "nomx.%s"; ports = (25, %d); }',
    '{ name = "dom-change"; mail_domain = "change.%s"; }' % Z,
    '{ name = "dom-insecure"; mail_domain = "mail.insecure.%s"; }' % Z,
] + ['{ name = "dom-%s"; mail_domain = "%s.%s"; }' % (d, d, Z)
     for d in ("partial", "untrusted", "malformed", "nosts")]

# target: (status, (mode, id, max_age) or None, {mx: covered} or None, tlsrpt)
STS_WANT = {
    "dom-mail": ("ok", ("enforce", "mail1", 86400), {"mx1": 1, "mx2": 1}, 1),
    "dom-partial": ("ok", ("enforce", "partial1", 86400), {"mx1": 1, "mx2": 0}, 0),
    "dom-untrusted": ("policy_cert_invalid", None, None, 0),
    "dom-malformed": ("invalid_policy", None, None, 0),
    "dom-nosts": ("no_record", None, None, 0),
    "dom-nomx": ("no_record", None, None, 0),
    # its MX set is mx3 alone by now (check_mail changed it)
    "dom-change": ("ok", ("testing", "change1", 3600), {"mx3": 1}, 0),
}


def check_sts(lab, d):
    def settled(expo):
        return all(expo.value("tlswatch_mta_sts_status", target=t, status=w[0]) == 1
                   for t, w in STS_WANT.items())

    ok, expo = d.wait_for(settled, WAIT)
    lab.check(ok, "every MTA-STS case settles within %.0f s" % WAIT,
              None if ok else expo.excerpt(names=("tlswatch_mta_sts_status",)))
    for t, (status, pol, cov, rpt) in sorted(STS_WANT.items()):
        lab.eq([s.labels["status"] for s in expo.find("tlswatch_mta_sts_status", target=t)],
               [status], "%s: tlswatch_mta_sts_status{status=\"%s\"} alone" % (t, status))
        info = [(s.labels["mode"], s.labels["id"]) for s in
                expo.find("tlswatch_mta_sts_policy_info", target=t)]
        lab.eq(info, [pol[:2]] if pol else [], "%s: tlswatch_mta_sts_policy_info %s" % (t, pol))
        lab.eq(expo.value("tlswatch_mta_sts_policy_max_age_seconds", target=t),
               pol[2] if pol else None, "%s: max_age" % t)
        got = {s.labels["mx"]: s.value for s in
               expo.find("tlswatch_mta_sts_mx_covered", target=t)}
        lab.eq(got, {"%s.%s" % (k, Z): v for k, v in cov.items()} if cov else {},
               "%s: tlswatch_mta_sts_mx_covered" % t)
        lab.eq(expo.value("tlswatch_tlsrpt_record_present", target=t), rpt,
               "%s: tlswatch_tlsrpt_record_present %d" % (t, rpt))
        lab.check(all(s.labels.get("domain") for s in
                      expo.find("tlswatch_mta_sts_status", target=t)), "%s: domain label" % t)
    lab.check(d.wait_log("MTA-STS of untrusted.%s: policy_cert_invalid" % Z, WAIT),
              "the untrusted policy host is logged")
    return expo


def check_mail(lab, d, m, closed_port):
    def h(n):
        return "%s.%s" % (n, Z)

    mx1, mx2, nomx = h("mx1"), h("mx2"), h("nomx")
    good = sorted(m.good_addrs)

    def rows(expo, target, mx, port="25"):
        return sorted(s.labels.get("address", "") for s in
                      expo.find("tlswatch_probe_success", target=target, mx=mx, port=port))

    def settled(expo):
        return (rows(expo, "dom-mail", mx1) == good and rows(expo, "dom-mail", mx2) != [] and
                expo.value("tlswatch_dane_status", target="dom-mail", mx=mx2,
                           status="mismatch") == 1 and
                rows(expo, "dom-nomx", nomx, str(closed_port)) != [] and
                rows(expo, "dom-change", mx2) != [])

    ok, expo = d.wait_for(settled, WAIT)
    lab.check(ok, "every mail domain settles within %.0f s" % WAIT,
              None if ok else expo.excerpt(names=("tlswatch_probe_success", "tlswatch_mx_info",
                                                  "tlswatch_probe_failure_info")))
    info = sorted((s.labels["target"], s.labels["domain"], s.labels["mx"],
                   s.labels["preference"]) for s in expo.find("tlswatch_mx_info")
                  if s.labels["target"] in ("dom-mail", "dom-nomx", "dom-change"))
    lab.eq(info, [("dom-change", h("change"), mx1, "10"), ("dom-change", h("change"), mx2, "20"),
                  ("dom-mail", h("mail"), mx1, "10"), ("dom-mail", h("mail"), mx2, "20"),
                  ("dom-nomx", h("nomx"), nomx, "0")],
           "tlswatch_mx_info: each MX set by preference; the implicit MX has preference 0")
    lab.eq(rows(expo, "dom-mail", mx1), good, "mx1 is probed at both its addresses")
    for a in good:
        lab.eq(expo.value("tlswatch_chain_verified", target="dom-mail", domain=h("mail"),
                          mx=mx1, port="25", address=a), 1, "mx1 %s: verified" % a)
        lab.eq(expo.value("tlswatch_dane_status", target="dom-mail", mx=mx1, address=a,
                          status="match"), 1, "mx1 %s: DANE match (on for a mail domain)" % a)
    lab.eq(rows(expo, "dom-mail", mx2), [m.bad_addr], "mx2 at its one address")
    lab.eq(expo.value("tlswatch_chain_verified", target="dom-mail", mx=mx2), 0,
           "mx2: its chain fails")
    lab.check(expo.value("tlswatch_chain_verify_error", target="dom-mail", mx=mx2,
                         reason="dane_mismatch") == 1, "mx2: reason dane_mismatch")
    lab.eq(expo.value("tlswatch_chain_verified", target="dom-nomx", mx=nomx, port="25"), 1,
           "the implicit MX is probed and verifies for its name")
    lab.eq(expo.value("tlswatch_dane_status", target="dom-nomx", mx=nomx, port="25",
                      status="no_records"), 1, "the implicit MX has no TLSA records")
    lab.eq(expo.value("tlswatch_probe_success", target="dom-nomx", mx=nomx,
                      port=str(closed_port)), 0,
           "the second port, where nothing listens, fails on its own row")
    lab.eq(expo.value("tlswatch_mx_changes_total", target="dom-change"), 0,
           "no MX change yet")
    # RFC 7672 2.2: an MX answer that is not authenticated: no DANE for its
    # hosts (mx1, signed with a matching TLSA, is judged by the Web PKI alone)
    ok, expo = d.wait_for(lambda e: rows(e, "dom-insecure", mx1) == good, WAIT)
    lab.check(ok, "the unsigned mail domain's MX host is probed at both addresses",
              None if ok else expo.excerpt(target="dom-insecure"))
    lab.eq([s.labels for s in expo.find("tlswatch_dane_status", target="dom-insecure")], [],
           "an unsigned MX answer: no DANE status for its MX hosts")
    lab.eq(expo.find("tlswatch_dane_tlsa_records", target="dom-insecure"), [],
           "an unsigned MX answer: no TLSA records counted")
    for a in good:
        lab.eq(expo.value("tlswatch_chain_verified", target="dom-insecure", mx=mx1, address=a),
               1, "mx1 %s under the unsigned domain: verified by the Web PKI" % a)
    lab.check(not expo.find("tlswatch_probe_success", target="dom-mail", mx=None),
              "every row of a mail domain carries mx", None)
    # the target's own result (status page, API) is its failing row
    status, _h, body = L.http_request(d.http[0], d.http[1], "GET", "/api/targets/dom-mail")
    try:
        api = json.loads(body)
    except ValueError:
        api = {}
    lab.check(status == 200 and api.get("state") == "unverified" and
              "dane_mismatch" in api.get("reasons", []),
              "the API shows dom-mail unverified, from its failing MX host", body[:1500])
    status, _h, body = L.http_request(d.http[0], d.http[1], "GET", "/api/targets/dom-nomx")
    lab.check(status == 200 and '"state":"failing"' in body.replace(" ", ""),
              "dom-nomx: failing (its second port refuses)", body[:600])

    m.set_mx("change", [(5, "mx3")])
    mx3 = h("mx3")

    def changed(expo):
        return (expo.value("tlswatch_mx_changes_total", target="dom-change") == 1 and
                rows(expo, "dom-change", mx3) != [])

    ok, expo = d.wait_for(changed, WAIT)
    lab.check(ok, "the MX change is counted and the new MX probed within %.0f s" % WAIT,
              None if ok else expo.excerpt(target="dom-change"))
    lab.eq(sorted(s.labels["mx"] for s in expo.find("tlswatch_mx_info", target="dom-change")),
           [mx3], "tlswatch_mx_info shows the new MX set")
    lab.eq(sorted(s.labels["mx"] for s in expo.find("tlswatch_probe_success",
                                                     target="dom-change")), [mx3],
           "the old MX hosts' rows are gone")
    lab.eq(expo.value("tlswatch_chain_verified", target="dom-change", mx=mx3), 1,
           "mx3 verifies")
    lab.check(d.wait_log("the MX set of %s changed: 5 %s, was 10 %s, 20 %s"
                         % (h("change"), mx3, mx1, mx2), WAIT),
              "the MX change is logged with both sets")
    return expo


def check_status(lab, d, m):
    """The status page, the target page and the API group a mail domain's
    MX rows under it: each MX host, port and address with its state, DANE
    and MTA-STS coverage; the failing row first, marked by its state."""
    mx1, mx2 = "mx1.%s" % Z, "mx2.%s" % Z
    good = sorted(m.good_addrs)

    def api(name):
        status, _h, body = L.http_request(d.http[0], d.http[1], "GET", "/api/targets/" + name)
        try:
            return status, json.loads(body), body
        except ValueError:
            return status, {}, body

    status, a, body = api("dom-mail")
    rows = [(r.get("mx"), r.get("port"), r.get("address"), r.get("state"), r.get("dane"),
             r.get("mta_sts_covered")) for r in a.get("rows", [])]
    # the failing row first, then the others (addresses in resolver order)
    lab.eq(rows[:1] + sorted(rows[1:]), [(mx2, 25, m.bad_addr, "unverified", "mismatch", True)] +
           [(mx1, 25, x, "ok", "match", True) for x in good],
           "API dom-mail: rows for mx2 (failing, first) and mx1 at both addresses", body[:2000])
    lab.check(status == 200 and a.get("mta_sts") == "ok" and a.get("mta_sts_mode") == "enforce"
              and a.get("mx") == [{"mx": mx1, "preference": 10}, {"mx": mx2, "preference": 20}]
              and "dane_mismatch" in (a.get("rows") or [{}])[0].get("reasons", []),
              "API dom-mail: MTA-STS, the MX set, the failing row's reason", body[:2000])
    _s, a, body = api("dom-partial")
    lab.eq(sorted((r.get("mx"), r.get("mta_sts_covered")) for r in a.get("rows", [])),
           sorted([(mx1, True)] * len(good) + [(mx2, False)]),
           "API dom-partial: mx2 is not covered by the policy", body[:2000])
    status, _h, body = L.http_request(d.http[0], d.http[1], "GET", "/api/targets")
    try:
        lst = {t["name"]: t for t in json.loads(body)["targets"]}
    except (ValueError, KeyError, TypeError):
        lst = {}
    lab.eq(len(lst.get("dom-mail", {}).get("rows", [])), 1 + len(good),
           "the API's list carries the rows too", body[:600])
    others = [t for n, t in lst.items() if not n.startswith("dom-")]
    lab.check(others and all("rows" not in t for t in others),
              "targets that are no mail domain carry no rows", None)

    def mxrows(html):
        return re.findall(r'<tr class="(\w+) mxrow" data-state="\w+"><td class="mxhost">'
                          r'([^<]*)</td><td>(\d+|-)</td><td>(\d+)</td>'
                          r'<td class="address">([^<]*)</td><td>\w+</td><td>[^<]*</td>'
                          r'<td class="dane">(\w+|-)</td><td class="mtasts">([^<]*)</td>', html)

    status, _h, body = L.http_request(d.http[0], d.http[1], "GET", "/targets/dom-mail")
    page = body.decode() if isinstance(body, bytes) else body
    want = ([("unverified", mx2, "20", "25", m.bad_addr, "mismatch", "covered")] +
            [("ok", mx1, "10", "25", x, "match", "covered") for x in good])

    def first_then_sorted(r):
        return r[:1] + sorted(r[1:])

    lab.eq(first_then_sorted(mxrows(page)), want,
           "target page: the MX rows, the failing one marked", page[:1500])
    lab.check("<h2>MX hosts</h2>" in page and "MTA-STS: ok (mode enforce" in page,
              "target page: an MX hosts section with MTA-STS", page[:1500])
    status, _h, body = L.http_request(d.http[0], d.http[1], "GET", "/")
    page = body.decode() if isinstance(body, bytes) else body
    i = page.find('href="/targets/dom-mail"')
    grouped = page[i:page.find("</table>", i)] if i >= 0 else ""
    lab.eq(first_then_sorted(mxrows(grouped)), want,
           "status page: dom-mail's MX rows grouped under it", page[:1500])


def check_tool(lab, m):
    base = ["check", "--resolver", m.resolver_address, "--cafile", m.pki.path("ca.pem"),
            "--timeout", "5s", "--mail-domain"]
    mx1, mx2 = "mx1.%s" % Z, "mx2.%s" % Z

    rc, out, err = L.run_tlswatch(lab, base + ["nosts." + Z])
    lab.eq(rc, 0, "check --mail-domain nosts: OK", out + err)
    lab.check(out.startswith("TLS OK - nosts.%s: 1 MX host, 2 rows" % Z), "nosts: first line",
              out)
    for a in m.good_addrs:
        lab.check("[OK] %s 25 %s: verified" % (mx1, a) in out, "nosts: %s verified" % a, out)
    lab.check("dane: match" in out.lower() or "3 1 1" in out, "nosts: the DANE finding is shown",
              out)
    lab.check("MTA-STS: no_record" in out and "TLS-RPT: no record" in out,
              "nosts: no MTA-STS, no TLS-RPT", out)

    rc, out, err = L.run_tlswatch(lab, base + ["mail." + Z])
    lab.eq(rc, 2, "check --mail-domain mail: CRITICAL (mx2 fails)", out + err)
    lab.check(out.startswith("TLS CRITICAL - mail.%s: 2 MX hosts, 3 rows, 1 not OK: %s 25 %s: "
                             "chain does not verify" % (Z, mx2, m.bad_addr)), "mail: first line",
              out)
    lab.check("dane_mismatch" in out.splitlines()[0], "mail: dane_mismatch named", out)
    lab.check("  10 %s\n  20 %s\n" % (mx1, mx2) in out, "mail: the MX set by preference", out)
    lab.check("MTA-STS: ok, mode enforce, id mail1, max_age 86400" in out and
              "%s: covered" % mx2 in out and "TLS-RPT: record present" in out,
              "mail: MTA-STS and TLS-RPT", out)

    rc, out, err = L.run_tlswatch(lab, base + ["partial." + Z])
    lab.eq(rc, 2, "check --mail-domain partial: CRITICAL", out + err)
    lab.check("%s: NOT covered" % mx2 in out, "partial: mx2 not covered by the policy", out)

    rc, out, err = L.run_tlswatch(lab, base + ["nosuch." + Z])
    lab.eq(rc, 2, "check --mail-domain of a domain that does not exist: CRITICAL", out + err)
    lab.check(out.startswith("TLS CRITICAL - nosuch.%s: resolve failed: nxdomain" % Z),
              "nosuch: nxdomain", out)


def check_reload(lab, d, m, port, targets):
    """A reload keeps an unchanged mail domain's MX set and counters (its
    round in flight, on the old config, cancelled and run again); a changed
    one starts afresh; a removed one goes."""
    before = d.scrape()
    def probes_of(expo):
        return sum(x.value for x in expo.find("tlswatch_probes_total", target="dom-change",
                                              result="success"))

    probes = probes_of(before)
    changed = [t.replace('mail_domain = "nosts.', 'ports = (25, 587); mail_domain = "nosts.')
               for t in targets if '"dom-nomx"' not in t]
    start = len(d.stderr())
    d.reload(daemon_conf(m, port, changed))
    lab.check(d.wait_log("reload: done", WAIT, start), "the reload is done")

    def settled(expo):
        return (probes_of(expo) > probes and
                expo.find("tlswatch_probe_success", target="dom-nosts", port="587") != [])

    ok, expo = d.wait_for(settled, WAIT)
    lab.check(ok, "probes go on after the reload, the changed target with its new port",
              None if ok else expo.excerpt(target="dom-change"))
    lab.eq(expo.value("tlswatch_mx_changes_total", target="dom-change"), 1,
           "an unchanged mail domain keeps its MX change count")
    lab.eq(expo.find("tlswatch_mx_info", target="dom-nomx"), [], "a removed one is gone")


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    t0 = time.monotonic()
    m = D.MailLab(lab)
    lab.note("lab up in %.1f s" % (time.monotonic() - t0))

    port = L.free_port()
    closed_port = L.free_port()
    targets = [line for _, line in dane_targets()]
    targets += [t % (Z, closed_port) if "%d" in t else t for t in MAIL_TARGETS]
    d = L.Daemon(lab, daemon_conf(m, port, targets))
    t0 = time.monotonic()
    expo = check_dane(lab, d)
    lab.note("DANE settled in %.1f s" % (time.monotonic() - t0))
    t0 = time.monotonic()
    check_mail(lab, d, m, closed_port)
    lab.note("mail domains checked in %.1f s" % (time.monotonic() - t0))
    t0 = time.monotonic()
    check_sts(lab, d)
    check_status(lab, d, m)
    lab.note("MTA-STS checked in %.1f s" % (time.monotonic() - t0))
    t0 = time.monotonic()
    check_tool(lab, m)
    lab.note("tlswatch check --mail-domain checked in %.1f s" % (time.monotonic() - t0))
    lab.promtool(d.scrape_text())
    del expo
    check_reload(lab, d, m, port, targets)
    d.check_sanitizers()
    d.stop()


if __name__ == "__main__":
    L.Lab("mail").main(main)
