#!/usr/bin/env python3
"""test_reuse.py - a verdict reused for an unchanged chain never outlives
what it depends on.

tlswatchd verifies a chain in full once and reuses the verdict while the
same certificates come back, the trust store and name are the same, and no
certificate's validity boundary has passed. Here a leaf expires a few
seconds into the test, probed every second: the probes before its expiry
reuse the verdict, and the first probe after it must say "expired"."""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

LIFETIME = 12     # seconds the short-lived leaf has left when the test starts


def certtool_leaf(lab, pki, name, not_after):
    """A leaf for good.test signed by the test intermediate, valid from an
    hour ago until not_after (seconds since the epoch)."""
    certtool = L.require_tool("certtool", "gnutls-bin")
    key = os.path.join(lab.tmp, name + ".key")
    tmpl = os.path.join(lab.tmp, name + ".tmpl")
    pem = os.path.join(lab.tmp, name + ".pem")
    fmt = "%Y-%m-%d %H:%M:%S UTC"
    with open(tmpl, "w") as f:
        f.write('cn = "good.test"\ndns_name = "good.test"\n'
                'activation_date = "%s"\nexpiration_date = "%s"\n'
                'tls_www_server\nsigning_key\n'
                % (time.strftime(fmt, time.gmtime(time.time() - 3600)),
                   time.strftime(fmt, time.gmtime(not_after))))
    env = dict(os.environ, TZ="UTC")
    for cmd in (["--generate-privkey", "--key-type=ecdsa", "--curve=secp256r1",
                 "--outfile", key],
                ["--generate-certificate", "--load-privkey", key,
                 "--load-ca-certificate", pki.path("int.pem"),
                 "--load-ca-privkey", pki.path("int.key"),
                 "--template", tmpl, "--outfile", pem]):
        subprocess.run([certtool] + cmd, check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    chain = os.path.join(lab.tmp, name + "-chain.pem")
    with open(chain, "w") as out:
        for part in (pem, pki.path("int.pem")):
            with open(part) as f:
                out.write(f.read())
    return chain, key


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    expires = int(time.time()) + LIFETIME
    chain, key = certtool_leaf(lab, pki, "short", expires)
    srv = lab.serve_chain(chain, key)
    good = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    port = L.free_port()
    d = L.Daemon(lab, """\
listen = "127.0.0.1:%d";
ca_file = %s;
interval = "1s";
timeout = "900ms";
targets = (
  { name = "short"; address = "%s"; server_name = "good.test"; },
  { name = "good"; address = "%s"; server_name = "good.test"; }
);
""" % (port, L.conf_string(pki.path("ca.pem")), srv.address, good.address))

    # Before the expiry: verified, and verdicts are being reused.
    done, expo = d.wait_for(
        lambda e: (e.value("tlswatch_probes_total", target="short", result="success") or 0) >= 4,
        8)
    lab.check(done, "the short-lived leaf was probed several times before it expires")
    lab.check(time.time() < expires, "(those probes happened before the expiry)")
    lab.eq(expo.value("tlswatch_chain_verified", target="short"), 1.0,
           "before notAfter: the chain verifies")
    full = expo.value("tlswatch_verifications_total", kind="full") or 0
    reused = expo.value("tlswatch_verifications_total", kind="reused") or 0
    lab.check(reused >= 4, "unchanged chains reuse their verdict (%d reused, %d full)"
              % (reused, full))
    lab.check(full <= 4, "each target's chain was verified in full about once (%d)" % full)

    # The leaf is valid through notAfter inclusive, expired from notAfter + 1.
    # A probe verifies at most one timeout (0.9 s) before it ends, so one that
    # ended after notAfter + 2 verified after the boundary.
    boundary = expires + 2
    time.sleep(max(0.0, boundary - time.time()))
    done, expo = d.wait_for(
        lambda e: (e.value("tlswatch_probe_timestamp_seconds", target="short") or 0) > boundary
        and e.value("tlswatch_chain_verified", target="short") is not None, 5)
    lab.check(done, "the leaf was probed again after its expiry")
    lab.eq(expo.value("tlswatch_chain_verified", target="short"), 0.0,
           "the first probe after notAfter says the chain does not verify")
    lab.eq(expo.value("tlswatch_chain_verify_error", target="short", reason="expired"), 1.0,
           "... because it expired, though the same chain came back")
    lab.eq(expo.value("tlswatch_chain_verified", target="good"), 1.0,
           "the long-lived target still verifies")
    lab.promtool(d.scrape_text())
    d.stop()


if __name__ == "__main__":
    L.Lab("reuse").main(main)
