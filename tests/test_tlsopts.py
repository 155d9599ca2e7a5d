#!/usr/bin/env python3
"""test_tlsopts.py - per-target TLS settings and addresses = "all".

- A server that requires a client certificate (openssl s_server -Verify 1
  -verify_return_error), probed with and without client_cert.
- A name resolving to 127.0.0.1 and ::1 through a hosts file of ours
  (CARES_HOSTS): the same port serves a good chain on one and an expired
  one on the other; with addresses = "all" both appear, each with its own
  verdict; family = "ipv6" / "ipv4" pick one.
- priority restricts the versions offered; verify_hostname = false skips
  only the name check; server_name = "" sends no SNI.
- tlswatchd -t reports each bad setting as FILE:LINE: SETTING: MESSAGE."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise L.HardError("%r not in the config" % needle)


def check_errors(lab, pki):
    """Every TLS setting checked by -t, with file, line and setting."""
    unreadable = os.path.join(lab.tmp, "no-such.key")
    conf = """\
listen = "127.0.0.1:%d";
targets = (
  { name = "a"; address = "127.0.0.1:443";
    starttls = "gopher"; },
  { name = "b"; address = "127.0.0.1:443";
    client_cert = %s;
    client_key = %s; },
  { name = "c"; address = "127.0.0.1:443";
    client_cert = %s;
    client_key = %s; },
  { name = "d"; address = "127.0.0.1:443";
    family = "ipv5"; addresses = "some"; },
  { name = "e"; address = "127.0.0.1:443";
    family = "ipv6"; },
  { name = "f"; address = "127.0.0.1:443";
    verify_hostname = "no"; },
  { name = "g"; address = "127.0.0.1:443";
    client_cert = %s; }
);
""" % (L.free_port(), L.conf_string(pki.path("client.pem")), L.conf_string(unreadable),
       L.conf_string(pki.path("client.pem")), L.conf_string(pki.path("good.key")),
       L.conf_string(pki.path("client.pem")))
    path = os.path.join(lab.tmp, "bad.conf")
    with open(path, "w") as f:
        f.write(conf)
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.eq(rc, 1, "-t rejects bad TLS settings with status 1", err)
    want = [
        (line_of(conf, "gopher"), "targets.[0].starttls", "unknown protocol \"gopher\""),
        (line_of(conf, "no-such.key"), "targets.[1].client_key", "cannot read"),
        (line_of(conf, "family = \"ipv5\""), "targets.[3].family", "unknown value \"ipv5\""),
        (line_of(conf, "family = \"ipv5\""), "targets.[3].addresses", "unknown value \"some\""),
        (line_of(conf, "family = \"ipv6\""), "targets.[4].family", "is ipv6 but the address is IPv4"),
        (line_of(conf, "verify_hostname"), "targets.[5].verify_hostname", "must be true or false"),
        (line_of(conf, "{ name = \"g\""), "targets.[6].client_key", "missing"),
    ]
    for line, setting, msg in want:
        lab.check(re.search(r"^%s:%d: %s: .*%s" % (re.escape(path), line, re.escape(setting),
                                                    re.escape(msg)), err, re.M),
                  "-t: %s:%d: %s: %s" % (os.path.basename(path), line, setting, msg), err)

    # What only GnuTLS finds: a key that is not the certificate's, and a
    # priority string it cannot parse (with the position), once conf.c
    # found nothing else.
    conf = """\
listen = "127.0.0.1:%d";
priority = "NORMAL:-VERS-TLS1.0:+BOGUS-THING";
targets = (
  { name = "c"; address = "127.0.0.1:443";
    client_cert = %s;
    client_key = %s; },
  { name = "p"; address = "127.0.0.1:443";
    priority = "SECURE256:%%NOPE"; }
);
""" % (L.free_port(), L.conf_string(pki.path("client.pem")), L.conf_string(pki.path("good.key")))
    path = os.path.join(lab.tmp, "gnutls.conf")
    with open(path, "w") as f:
        f.write(conf)
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.eq(rc, 1, "-t rejects what GnuTLS refuses with status 1", err)
    lab.check(re.search(r"^%s:2: priority: bad priority string at position 21 "
                        r"\(\"\+BOGUS-THING\"\)" % re.escape(path), err, re.M),
              "-t: a bad top-level priority string, with GnuTLS's error position", err)
    lab.check(re.search(r"^%s:%d: targets\.\[1\]\.priority: bad priority string at position 11 "
                        % (re.escape(path), line_of(conf, "%NOPE")), err, re.M),
              "-t: a bad per-target priority string, with its position", err)
    lab.check(re.search(r"^%s:%d: targets\.\[0\]\.client_key: .*does not match the certificate"
                        % (re.escape(path), line_of(conf, "good.key")), err, re.M),
              "-t: a key that does not match the client certificate", err)

    # GnuTLS's findings and conf.c's together: every error of the file at
    # once, although a missing ca_file once stopped -t before the scheduler
    # (which alone checked priorities and client certificates) was built.
    conf = """\
listen = "127.0.0.1:%d";
targets = (
  { name = "p"; address = "127.0.0.1:443";
    priority = "NORMAL:%%NOPE"; },
  { name = "k"; address = "127.0.0.1:443";
    client_cert = %s;
    client_key = %s; },
  { name = "m"; address = "127.0.0.1:443";
    ca_file = %s; }
);
""" % (L.free_port(), L.conf_string(pki.path("client.pem")), L.conf_string(pki.path("ca.pem")),
       L.conf_string(os.path.join(lab.tmp, "no-such-ca.pem")))
    path = os.path.join(lab.tmp, "all.conf")
    with open(path, "w") as f:
        f.write(conf)
    rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
    lab.eq(rc, 1, "-t rejects a file with GnuTLS and conf errors with status 1", err)
    for needle, setting, msg in (("%NOPE", "targets.[0].priority", "bad priority string"),
                                 ("ca.pem", "targets.[1].client_key", "cannot load"),
                                 ("no-such-ca", "targets.[2].ca_file", "cannot read")):
        lab.check(re.search(r"^%s:%d: %s: .*%s" % (re.escape(path), line_of(conf, needle),
                                                    re.escape(setting), re.escape(msg)), err, re.M),
                  "-t reports %s with the others: %s" % (setting, msg), err)
    lab.eq(len([line for line in err.splitlines() if line.strip()]), 3,
           "-t reports those three errors and nothing else", err)


def serve_both(lab, pki):
    """The same port on 127.0.0.1 (good chain) and ::1 (expired chain)."""
    for _ in range(20):
        v4 = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
        if L.free_port_is_free("::1", v4.port):
            try:
                v6 = lab.serve_chain(pki.path("expired-chain.pem"), pki.path("expired.key"),
                                     host="::1", port=v4.port)
            except L.HardError:
                v4.stop()
                continue
            return v4, v6
        v4.stop()
    raise L.HardError("no port free on both 127.0.0.1 and ::1")


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    v6_problem = L.ipv6_loopback_available()
    if v6_problem:
        raise L.Missing("IPv6 loopback is needed: %s" % v6_problem)
    pki = lab.pki()

    check_errors(lab, pki)

    hosts = os.path.join(lab.tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 both.test\n::1 both.test\n")
    v4, v6 = serve_both(lab, pki)

    # Requires a client certificate issued under our CA. TLS 1.2, so that a
    # client without one learns it during its handshake (in TLS 1.3 the
    # server's verdict arrives after the client's handshake is done).
    mtls = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"), extra=[
        "-Verify", "1", "-verify_return_error", "-CAfile", pki.path("ca.pem"), "-tls1_2"])
    # Presents wrongname unless the client asks for good.test by SNI.
    sni = lab.openssl_s_server(pki.path("wrongname.pem"), pki.path("wrongname.key"), extra=[
        "-servername", "good.test", "-cert2", pki.path("good.pem"), "-key2",
        pki.path("good.key")])
    plain = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    # The client presents its chain: the server trusts only the root.
    client_chain = os.path.join(lab.tmp, "client-chain.pem")
    with open(client_chain, "w") as f:
        for part in ("client.pem", "int.pem"):
            with open(pki.path(part)) as g:
                f.write(g.read())

    port = L.free_port()
    conf = """\
listen = "127.0.0.1:%d";
ca_file = %s;
interval = "3s";
timeout = "2s";
targets = (
  { name = "all"; address = "both.test:%d"; server_name = "good.test"; addresses = "all"; },
  { name = "first"; address = "both.test:%d"; server_name = "good.test"; },
  { name = "v6"; address = "both.test:%d"; server_name = "good.test"; family = "ipv6"; },
  { name = "v4"; address = "both.test:%d"; server_name = "good.test"; family = "ipv4"; },
  { name = "mtls-without"; address = "127.0.0.1:%d"; server_name = "good.test"; },
  { name = "mtls-with"; address = "127.0.0.1:%d"; server_name = "good.test";
    client_cert = %s; client_key = %s; },
  { name = "sni"; address = "127.0.0.1:%d"; server_name = "good.test"; },
  { name = "no-sni"; address = "127.0.0.1:%d"; server_name = ""; },
  { name = "tls12"; address = "127.0.0.1:%d"; server_name = "good.test";
    priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"; },
  { name = "name-checked"; address = "127.0.0.1:%d"; server_name = "other.test"; },
  { name = "name-skipped"; address = "127.0.0.1:%d"; server_name = "other.test";
    verify_hostname = false; }
);
""" % (port, L.conf_string(pki.path("ca.pem")), v4.port, v4.port, v4.port, v4.port,
       mtls.port, mtls.port, L.conf_string(client_chain),
       L.conf_string(pki.path("client.key")), sni.port, sni.port, plain.port, plain.port,
       plain.port)
    d = L.Daemon(lab, conf, env={"CARES_HOSTS": hosts})
    names = ["all", "first", "v6", "v4", "mtls-without", "mtls-with", "sni", "no-sni", "tls12",
             "name-checked", "name-skipped"]
    succeed = ["first", "v6", "v4", "mtls-with", "sni", "no-sni", "tls12", "name-checked",
               "name-skipped"]
    done, expo = d.wait_for(
        lambda e: all(e.find("tlswatch_probes_total", target=n) for n in names) and
        all(e.value("tlswatch_probe_success", target=n) == 1.0 for n in succeed) and
        len(e.find("tlswatch_probe_success", target="all")) == 2, 20)
    lab.check(done, "every target was probed, and those that should succeeded, within 20 s",
              d.stderr())
    lab.promtool(d.scrape_text())

    # addresses = "all": one set of series per address, each its own verdict.
    ok = expo.find("tlswatch_probe_success", target="all")
    lab.eq(sorted(s.labels.get("address") for s in ok), ["127.0.0.1", "::1"],
           "all: both addresses are published, each with an address label")
    lab.eq(expo.value("tlswatch_chain_verified", target="all", address="127.0.0.1"), 1.0,
           "all: 127.0.0.1 (good chain) verifies")
    lab.eq(expo.value("tlswatch_chain_verified", target="all", address="::1"), 0.0,
           "all: ::1 (expired chain) does not")
    lab.eq([s.labels["reason"] for s in
            expo.find("tlswatch_chain_verify_error", target="all", address="::1")],
           ["expired"], "all: ::1 fails with reason expired")
    lab.eq(len(expo.find("tlswatch_probes_total", target="all", address="::1")), 2,
           "all: each address has its own probe counters")
    na = [s for s in expo.for_target("first") if "address" in s.labels and
          s.name != "tlswatch_target_info"]
    lab.eq(na, [], "first: addresses = \"first\" publishes no address label")
    info = expo.find("tlswatch_target_info", target="all")
    lab.check(len(info) == 1 and info[0].labels.get("address") == "both.test:%d" % v4.port,
              "all: tlswatch_target_info names the configured address", info)

    # family picks the address: ::1 serves the expired chain.
    lab.eq(expo.value("tlswatch_chain_verified", target="v6"), 0.0,
           "family = ipv6: probed ::1 (expired chain)")
    lab.eq(expo.value("tlswatch_chain_verified", target="v4"), 1.0,
           "family = ipv4: probed 127.0.0.1 (good chain)")

    # Mutual TLS.
    fi = expo.find("tlswatch_probe_failure_info", target="mtls-without")
    lab.check(len(fi) == 1 and fi[0].labels["stage"] == "handshake" and
              fi[0].labels["reason"].startswith("alert_"),
              "mtls-without: the server ends the handshake with an alert", fi)
    lab.eq(expo.value("tlswatch_probe_success", target="mtls-with"), 1.0,
           "mtls-with: the handshake completes with client_cert", d.stderr())
    lab.eq(expo.value("tlswatch_chain_verified", target="mtls-with"), 1.0,
           "mtls-with: and the server's chain verifies")
    client = pki.info("client")
    lab.eq(expo.value("tlswatch_client_cert_not_after_timestamp_seconds", target="mtls-with"),
           float(client.not_after), "the client certificate's notAfter is published")
    lab.eq(expo.find("tlswatch_client_cert_not_after_timestamp_seconds", target="mtls-without"),
           [], "no client certificate, no client certificate series")

    # SNI.
    good = pki.info("good")
    subj = {s.labels["subject"] for s in
            expo.find("tlswatch_cert_not_after_timestamp_seconds", target="sni", depth="0")}
    lab.eq(subj, {good.subject}, "server_name = good.test: SNI selects the good certificate")
    wrong = pki.info("wrongname")
    subj = {s.labels["subject"] for s in
            expo.find("tlswatch_cert_not_after_timestamp_seconds", target="no-sni", depth="0")}
    lab.eq(subj, {wrong.subject}, "server_name = \"\": no SNI, the default certificate")
    info = expo.find("tlswatch_target_info", target="no-sni")
    lab.check(len(info) == 1 and info[0].labels.get("server_name") == "",
              "no-sni: tlswatch_target_info has server_name=\"\"", info)

    # priority.
    lab.eq([s.labels["version"] for s in expo.find("tlswatch_tls_version_info", target="tls12")],
           ["TLS1.2"], "priority restricts the probe to TLS 1.2")

    # verify_hostname.
    lab.eq([s.labels["reason"] for s in
            expo.find("tlswatch_chain_verify_error", target="name-checked")],
           ["hostname_mismatch"], "a wrong server_name fails the name check")
    lab.eq(expo.value("tlswatch_chain_verified", target="name-skipped"), 1.0,
           "verify_hostname = false: the same chain verifies without the name check")
    d.stop()


if __name__ == "__main__":
    L.Lab("tlsopts").main(main)
