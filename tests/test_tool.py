#!/usr/bin/env python3
"""test_tool.py - `tlswatch check` against real servers on loopback: the
monitoring-plugin first line and exit status for a good chain, one expiring
soon (warning or critical by the thresholds), an expired one, an untrusted
one, a refused port and bad arguments; thresholds as durations and as
fractions of the lifetime; the readable chain, --json, --pem;
hostile certificate fields reach the terminal escaped."""

import hashlib
import json
import os
import re
import ssl
import sys

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import starttls_lab as SL  # noqa: E402

FIRST = re.compile(r"^TLS (OK|WARNING|CRITICAL|UNKNOWN) - (.*?)(?: \| (days_left=\S+))?$")
EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def ders(path):
    with open(path) as f:
        return [ssl.PEM_cert_to_DER_cert(b) for b in L.pem_blocks(f.read())]


def check(lab, desc, args, want, summary_re=None, perf_re=None):
    rc, out, err = L.run_tlswatch(lab, ["check"] + args)
    first = out.splitlines()[0] if out else ""
    m = FIRST.match(first)
    lab.check(m is not None, "%s: the first line follows the plugin convention" % desc,
              "first line: %r\nstderr: %s" % (first, err))
    if m is None:
        return rc, out
    lab.eq((m.group(1), rc), (want, EXIT[want]), "%s: %s, exit %d" % (desc, want, EXIT[want]),
           first)
    if summary_re:
        lab.check(re.search(summary_re, m.group(2)), "%s: summary matches %r" % (desc, summary_re),
                  first)
    if perf_re:
        lab.check(m.group(3) and re.fullmatch(perf_re, m.group(3)),
                  "%s: performance data matches %r" % (desc, perf_re), first)
    return rc, out


def main(lab):
    lab.require_tools()
    pki = lab.pki()
    ca = pki.path("ca.pem")
    good = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    soon = lab.serve_chain(pki.path("soon-chain.pem"), pki.path("soon.key"))
    expired = lab.serve_chain(pki.path("expired-chain.pem"), pki.path("expired.key"))
    untrusted = lab.serve_chain(pki.path("untrusted-chain.pem"), pki.path("untrusted.key"))
    hostile = lab.serve_chain(pki.path("hostile-chain.pem"), pki.path("hostile.key"))
    closed = lab.closed_port()
    sni = ["--servername", "good.test", "--cafile", ca]

    rc, out = check(lab, "good", [good.address] + sni, "OK", r"chain verified, expires in (89|90)\.\d days",
                    r"days_left=(89|90)\.\d+;21;7")
    good_ders = ders(pki.path("good-chain.pem"))
    fps = [hashlib.sha256(d).hexdigest() for d in good_ders]
    for want in ("Certificate 0", "Certificate 1", "Subject:    CN=good.test",
                 "Issuer:     CN=tlswatch Test Intermediate CA",
                 "SANs:       DNS:good.test, DNS:localhost, IP:127.0.0.1, IP:::1",
                 "SHA-256:    " + fps[0], "SHA-256:    " + fps[1], "Signature:  ECDSA-SHA256",
                 "256 bits", "days left", "Verdict:      verified", "Chain issues: -"):
        lab.check(want in out, "good: the chain printout has %r" % want, out)

    check(lab, "soon, --warn 21d --crit 3d", [soon.address, "--warn", "21d", "--crit", "3d"] + sni,
          "WARNING", r"expires in [45]\.\d days", r"days_left=[45]\.\d+;21;3")
    check(lab, "soon, --crit 7d", [soon.address, "--crit", "7d"] + sni, "CRITICAL",
          r"expires in [45]\.\d days", r"days_left=[45]\.\d+;21;7")
    # thresholds as fractions of the lifetime: soon lives 6 days and has 5 left
    check(lab, "soon, --warn 33%", [soon.address, "--warn", "33%", "--crit", "10%"] + sni, "OK",
          r"expires in [45]\.\d days", r"days_left=[45]\.\d+;1\.98;0\.60")
    check(lab, "soon, --warn 90%", [soon.address, "--warn", "90%", "--crit", "10%"] + sni,
          "WARNING", r"expires in [45]\.\d days", r"days_left=[45]\.\d+;5\.40;0\.60")
    check(lab, "soon, --crit 85% beside --warn 21d",
          [soon.address, "--warn", "21d", "--crit", "85%"] + sni, "CRITICAL", None,
          r"days_left=[45]\.\d+;21;5\.10")
    check(lab, "good, --warn 99%", [good.address, "--warn", "99%"] + sni, "WARNING",
          None, r"days_left=(89|90)\.\d+;90\.09;7")
    check(lab, "refused, --warn 33%", [closed.address, "--warn", "33%"] + sni, "CRITICAL",
          r"connect failed", r"days_left=U;;7")
    check(lab, "bad --warn 100%", [good.address, "--warn", "100%"], "UNKNOWN", "--warn")
    check(lab, "--crit 50% above --warn 33%", [good.address, "--warn", "33%", "--crit", "50%"],
          "UNKNOWN", "--crit must not be above --warn")
    check(lab, "expired", [expired.address] + sni, "CRITICAL",
          r"chain does not verify: expired", r"days_left=-\d\.\d+;21;7")
    check(lab, "untrusted", [untrusted.address] + sni, "CRITICAL",
          r"chain does not verify: unknown_issuer")
    check(lab, "wrong name", [good.address, "--servername", "other.test", "--cafile", ca],
          "CRITICAL", r"hostname_mismatch")
    check(lab, "refused", [closed.address] + sni, "CRITICAL", r"connect failed: refused",
          r"days_left=U;21;7")

    check(lab, "no arguments", [], "UNKNOWN")
    check(lab, "no port", ["127.0.0.1"], "UNKNOWN", "missing port")
    check(lab, "two endpoints", [good.address, good.address], "UNKNOWN")
    check(lab, "unknown option", [good.address, "--bogus"], "UNKNOWN")
    check(lab, "bad --warn", [good.address, "--warn", "soon"], "UNKNOWN", "--warn")
    check(lab, "--crit above --warn", [good.address, "--warn", "7d", "--crit", "21d"], "UNKNOWN")
    check(lab, "unreadable --cafile", [good.address, "--cafile", "/nonexistent/ca.pem"], "UNKNOWN")
    check(lab, "unknown --starttls", [good.address, "--starttls", "gopher"] + sni, "UNKNOWN",
          "bad --starttls gopher")
    # a real mail server: the SMTP dialogue, then the handshake and verdict
    smtp = SL.postfix(lab, pki)
    check(lab, "--starttls smtp against Postfix", [smtp.address, "--starttls", "smtp"] + sni,
          "OK")
    check(lab, "--starttls none against Postfix's plaintext port",
          [smtp.address, "--starttls", "none", "--timeout", "2s"] + sni, "CRITICAL")

    # --json: one object, the documented members
    rc, out, err = L.run_tlswatch(lab, ["check", good.address, "--json"] + sni)
    try:
        obj = json.loads(out)
    except ValueError as e:
        obj = None
        lab.check(False, "--json prints one JSON object", "%s\n%s" % (e, out))
    if obj is not None:
        lab.eq((obj["status"], obj["exit"], rc), ("OK", 0, 0), "--json: status and exit agree")
        lab.eq([c["sha256"] for c in obj["chain"]], fps, "--json: the chain's fingerprints in order")
        lab.eq(obj["chain"][0]["sans"], ["DNS:good.test", "DNS:localhost", "IP:127.0.0.1", "IP:::1"],
               "--json: the leaf's SANs")
        lab.check(obj["verified"] is True and obj["reasons"] == [] and obj["tls_version"] == "TLS1.3",
                  "--json: verdict, reasons and TLS version", out)
        lab.eq((obj["warn"], obj["warn_seconds"], obj["crit"], obj["crit_seconds"]),
               ("21d", 21 * 86400, "7d", 7 * 86400), "--json: the thresholds, as set and in seconds")
    rc, out, err = L.run_tlswatch(lab, ["check", soon.address, "--json", "--warn", "50%"] + sni)
    obj = json.loads(out) if out.startswith("{") else {}
    lab.eq((obj.get("warn"), obj.get("warn_seconds")), ("50%", 3 * 86400),
           "--json: a fraction of the lifetime, in seconds for this certificate", out)
    rc, out, err = L.run_tlswatch(lab, ["check", closed.address, "--json"] + sni)
    obj = json.loads(out) if out.startswith("{") else {}
    lab.check(rc == 2 and obj.get("fail_stage") == "connect" and obj.get("fail_reason") == "refused",
              "--json for a refused port: CRITICAL with stage and reason", out)

    # monitoring-plugins spellings: -H/-p, -S, -w/-c/-t, -4, -q
    host, port = good.address.rsplit(":", 1)
    rc, out = check(lab, "-H -p -S -w -c -t -4", ["-H", host, "-p", port, "-S", "good.test",
                    "--cafile", ca, "-w", "100d", "-c", "3d", "-t", "5s", "-4"], "WARNING",
                    r"expires in (89|90)\.\d days", r"days_left=(89|90)\.\d+;100;3")
    rc, out = check(lab, "-q", [good.address, "-q"] + sni, "OK")
    lab.eq(len(out.splitlines()), 1, "-q prints the first line only", out)
    # -4/-6: a name with both families (a hosts file of ours, CARES_HOSTS)
    # where only 127.0.0.1 listens
    hosts = os.path.join(lab.tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 both.test\n::1 both.test\n")
    os.environ["CARES_HOSTS"] = hosts
    try:
        check(lab, "-4 to a name of both families", ["-H", "both.test", "-p", port, "-4"] + sni,
              "OK")
        check(lab, "-6 to it: ::1 does not listen", ["-H", "both.test", "-p", port, "-6"] + sni,
              "CRITICAL", r"connect failed")
    finally:
        del os.environ["CARES_HOSTS"]
    check(lab, "-H and HOST:PORT both", ["-H", host, good.address] + sni, "UNKNOWN",
          "one of HOST:PORT")
    check(lab, "-p without -H", [good.address, "-p", port] + sni, "UNKNOWN", "one of HOST:PORT")
    # a hostname mismatch names the name asked for and the names presented
    check(lab, "mismatch names both sides", [good.address, "-S", "other.test", "--cafile", ca],
          "CRITICAL", r"hostname_mismatch \(expected other\.test; the certificate names "
          r"DNS:good\.test, DNS:localhost, IP:127\.0\.0\.1, IP:::1\)")
    check(lab, "--no-verify-hostname", [good.address, "-S", "other.test", "--cafile", ca,
          "--no-verify-hostname"], "OK", r"chain verified")
    # --priority: TLS 1.2 only is what the handshake gets; a bad string is UNKNOWN
    rc, out = check(lab, "--priority", [good.address, "--priority",
                    "NORMAL:-VERS-ALL:+VERS-TLS1.2"] + sni, "OK")
    lab.check("TLS1.2" in out, "--priority NORMAL:-VERS-ALL:+VERS-TLS1.2: a TLS 1.2 handshake",
              out[:400])
    check(lab, "bad --priority", [good.address, "--priority", "NORMAL:+NOPE"] + sni, "UNKNOWN",
          "NOPE|priority")
    # a client certificate, to a server that requires one (TLS 1.2: the refusal
    # comes within the handshake)
    mtls = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"), extra=[
        "-Verify", "1", "-verify_return_error", "-CAfile", ca, "-tls1_2"])
    client_chain = os.path.join(lab.tmp, "client-chain.pem")
    with open(client_chain, "w") as f:
        for part in ("client.pem", "int.pem"):
            with open(pki.path(part)) as g:
                f.write(g.read())
    check(lab, "no client certificate where one is required", [mtls.address] + sni, "CRITICAL",
          "handshake failed")
    check(lab, "--client-cert/--client-key", [mtls.address, "--client-cert", client_chain,
          "--client-key", pki.path("client.key")] + sni, "OK", "chain verified")
    check(lab, "--client-cert alone", [mtls.address, "--client-cert", client_chain] + sni,
          "UNKNOWN", "go together")
    mtls.stop()
    # --file: a local chain, no network
    rc, out = check(lab, "--file good", ["--file", pki.path("good-chain.pem"), "-S", "good.test",
                    "--cafile", ca], "OK", r"chain verified, expires in (89|90)\.\d days")
    lab.check("Read file " in out and "Subject:    CN=good.test" in out,
              "--file prints the chain it read", out[:400])
    check(lab, "--file incomplete (leaf only)", ["--file", pki.path("noint-chain.pem"), "-S",
          "good.test", "--cafile", ca], "CRITICAL", r"chain does not verify: .*issuer")
    check(lab, "--file expired", ["--file", pki.path("expired-chain.pem"), "-S", "good.test",
          "--cafile", ca], "CRITICAL", r"chain does not verify: expired")
    check(lab, "--file without -S: no name check", ["--file", pki.path("good-chain.pem"),
          "--cafile", ca], "OK", r"chain verified")
    check(lab, "--file, wrong name", ["--file", pki.path("good-chain.pem"), "-S", "other.test",
          "--cafile", ca], "CRITICAL", r"hostname_mismatch \(expected other\.test")
    notpem = os.path.join(lab.tmp, "not.pem")
    with open(notpem, "w") as f:
        f.write("hello\n")
    check(lab, "--file with no certificate", ["--file", notpem], "UNKNOWN", "no PEM certificate")
    check(lab, "--file missing", ["--file", os.path.join(lab.tmp, "nope.pem")], "UNKNOWN",
          "nope.pem")
    rc, out, err = L.run_tlswatch(lab, ["check", "--file", pki.path("good-chain.pem"), "-S",
                                        "good.test", "--cafile", ca, "--json"])
    obj = json.loads(out) if out.startswith("{") else {}
    lab.check(rc == 0 and obj.get("status") == "OK" and len(obj.get("chain", [])) == 2,
              "--file --json: the object with both certificates", out[:300])

    # --json asked: UNKNOWN is JSON too (a bad trust file, a bad flag before --json)
    for what, args in (("a missing --cafile", ["check", good.address, "--cafile",
                                               os.path.join(lab.tmp, "no-such-ca.pem"), "--json"]),
                       ("a bad flag", ["check", "--no-such-flag", good.address, "--json"]),
                       ("a bad --warn", ["check", good.address, "--json", "--warn", "213503982339d"])):
        rc, out, err = L.run_tlswatch(lab, args)
        try:
            obj = json.loads(out)
        except ValueError:
            obj = {}
        lab.check(rc == 3 and obj.get("status") == "UNKNOWN" and obj.get("exit") == 3
                  and obj.get("summary"), "--json with %s: an UNKNOWN JSON object" % what, out)

    # --pem: exactly the certificates presented
    rc, out, err = L.run_tlswatch(lab, ["check", good.address, "--pem"] + sni)
    got = [ssl.PEM_cert_to_DER_cert(b) for b in L.pem_blocks(out)]
    lab.check(rc == 0 and out.startswith("TLS OK - "), "--pem keeps the plugin first line", out[:200])
    lab.eq(got == good_ders, True, "--pem writes the presented chain as PEM")

    # hostile fields: escaped, never a raw newline or escape character
    rc, out, err = L.run_tlswatch(lab, ["check", hostile.address] + sni)
    subj = [l for l in out.splitlines() if l.startswith("  Subject:")]
    lab.check(subj and 'evil\\"} tlswatch_probe_success{target=\\"forged\\"} 1\\nx\\\\y' in subj[0],
              "hostile subject printed on one line with its newline and backslash escaped",
              "\n".join(subj))
    lab.check("\x1b" not in out and not any(l.startswith("x\\") for l in out.splitlines()),
              "no raw control character reaches the terminal")

    # help
    rc, out, err = L.run_tlswatch(lab, ["--help"])
    lab.check(rc == 0 and "check" in out and "show" in out, "tlswatch --help lists the commands", out)
    rc, out, err = L.run_tlswatch(lab, ["check", "--help"])
    lab.check(rc == 0 and "--servername" in out and "--json" in out, "tlswatch check --help", out)
    # --help and the man page name the same options
    man = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "man", "tlswatch.1")
    with open(man) as f:
        page = f.read().replace("\\-", "-")
    opts = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+|-[A-Za-z0-9])\b", out)))
    lab.check(opts and all(o in page for o in opts),
              "every option of check --help is in tlswatch(1)",
              "missing: %s" % [o for o in opts if o not in page])
    rc, out, err = L.run_tlswatch(lab, ["show", "--help"])
    lab.check(rc == 0 and "--state-dir" in out, "tlswatch show --help", out)
    rc, out, err = L.run_tlswatch(lab, ["frobnicate"])
    lab.eq(rc, 2, "an unknown command exits 2")


if __name__ == "__main__":
    L.Lab("tool").main(main)
