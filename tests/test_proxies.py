#!/usr/bin/env python3
"""test_proxies.py - the proxy dialogues (src/probe/proxy.c) against real
proxies: tinyproxy (HTTP CONNECT) and dante (SOCKS5), from Debian.

tests/proxy_client drives the same state machines the connect stage uses,
then a GnuTLS handshake (src/probe/tls.c) through the tunnel to an openssl
s_server, and prints the leaf's fingerprint. Each proxy also refuses: a
port its rules forbid (proxy_refused), a target that is down or a name it
cannot resolve (proxy_refused), credentials it wants (proxy_auth), and
each is asked in the other's protocol (proxy_error).

Then tlswatchd itself with proxy set: targets through tinyproxy and through
dante see the lab leaf, one the proxy refuses fails as connect/
proxy_refused, and a /probe module through dante probes a name probe_allow
lists and refuses (403) an address it does not."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402


def client(lab, proxy, host, port, sni=None, timeout_ms=10000):
    exe = os.path.join(lab.builddir or ".", "proxy_client")
    if not os.path.exists(exe):
        raise L.Missing("%s not built (make check builds it)" % exe)
    cmd = [exe, proxy, host, str(port)] + ([sni] if sni else [])
    env = L.c_env()
    env["PROXY_CLIENT_TIMEOUT_MS"] = str(timeout_ms)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=20,
                           env=env)
    except subprocess.TimeoutExpired:
        return None, "proxy_client did not end within 20 s"
    out = p.stdout.decode(errors="replace").strip()
    return p.returncode, out + p.stderr.decode(errors="replace")


def tinyproxy(lab, allowed_ports, extra=""):
    L.require_tool("tinyproxy", "tinyproxy")
    port = L.free_port()
    conf = os.path.join(lab.tmp, "tinyproxy-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("Port %d\nListen 127.0.0.1\nTimeout 10\nAllow 127.0.0.1\nLogLevel Info\n"
                "MaxClients 20\n" % port)
        for p in allowed_ports:
            f.write("ConnectPort %d\n" % p)
        f.write(extra)
    return L.Server(lab, "tinyproxy", ["tinyproxy", "-d", "-c", conf], "127.0.0.1", port,
                    "tinyproxy-%d.log" % port)


def dante(lab, rules, method="none"):
    L.require_tool("danted", "dante-server")
    port = L.free_port()
    conf = os.path.join(lab.tmp, "danted-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("logoutput: stderr\n"
                "internal: 127.0.0.1 port = %d\n"
                "external: 127.0.0.1\n"
                "clientmethod: none\n"
                "socksmethod: %s\n"
                "user.privileged: root\n"
                "user.unprivileged: nobody\n"
                "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n" % (port, method))
        f.write(rules)
        f.write("socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: connect error }\n")
    return L.Server(lab, "danted", ["danted", "-f", conf, "-N", "1",
                                    "-p", os.path.join(lab.tmp, "danted-%d.pid" % port)],
                    "127.0.0.1", port, "danted-%d.log" % port)


def expect(lab, rc_out, want, desc):
    rc, out = rc_out
    if want.startswith("ok "):
        lab.check(rc == 0 and out.split("\n")[0] == want, desc, out)
    else:
        lab.check(rc == 1 and out.startswith(want), desc, "got %r, want %r..." % (out, want))


def test(lab):
    pki = lab.pki()
    good = pki.info("good")
    server = lab.openssl_s_server(pki.path("good.pem"), pki.path("good.key"),
                                  pki.path("good-chain.pem"))
    down = lab.closed_port()
    ok = "ok TLS1.3 %s" % good.sha256

    # ---- HTTP CONNECT through tinyproxy
    tp = tinyproxy(lab, [server.port, down.port])
    url = "http://" + tp.address
    expect(lab, client(lab, url, "localhost", server.port, "localhost"), ok,
           "HTTP CONNECT by name through tinyproxy: the handshake sees the lab leaf")
    expect(lab, client(lab, url, "127.0.0.1", server.port), ok,
           "HTTP CONNECT to an IPv4 literal through tinyproxy")
    forbidden = L.free_port()
    expect(lab, client(lab, url, "127.0.0.1", forbidden),
           "failed connect proxy_refused: the proxy answered CONNECT with 403",
           "tinyproxy refusing a port outside ConnectPort is proxy_refused")
    rc, out = client(lab, url, "127.0.0.1", down.port)
    lab.check(rc == 1 and out.startswith("failed connect proxy_refused: the proxy answered "
                                         "CONNECT with 5"),
              "tinyproxy failing to reach a closed port is proxy_refused (5xx)", out)
    auth = tinyproxy(lab, [server.port], 'BasicAuth tlswatch secret\n')
    expect(lab, client(lab, "http://" + auth.address, "localhost", server.port),
           "failed connect proxy_auth: the proxy wants credentials: 407",
           "tinyproxy with BasicAuth is proxy_auth")
    # SOCKS5's greeting has no line end: an HTTP proxy waits for more,
    # and the probe's deadline is what ends it.
    rc, out = client(lab, "socks5://" + tp.address, "localhost", server.port, timeout_ms=1500)
    lab.check(rc == 1 and out.startswith("failed connect timeout"),
              "an HTTP proxy asked in SOCKS5 waits; the deadline ends it", out)
    if L.ipv6_loopback_available():
        s6 = lab.openssl_s_server(pki.path("good.pem"), pki.path("good.key"),
                                  pki.path("good-chain.pem"), host="::1")
        tp6 = tinyproxy(lab, [s6.port])
        expect(lab, client(lab, "http://" + tp6.address, "::1", s6.port), ok,
               "HTTP CONNECT to [::1]:PORT through tinyproxy")
    else:
        lab.note("no IPv6 loopback: the [::1] CONNECT case did not run")

    # ---- SOCKS5 through dante, the name resolved by dante
    d = dante(lab, "socks pass { from: 127.0.0.0/8 to: 127.0.0.1/32 port = %d }\n"
                   "socks pass { from: 127.0.0.0/8 to: 127.0.0.1/32 port = %d }\n"
                   % (server.port, down.port))
    url = "socks5://" + d.address
    expect(lab, client(lab, url, "localhost", server.port, "localhost"), ok,
           "SOCKS5 by name through dante: the handshake sees the lab leaf")
    expect(lab, client(lab, url, "127.0.0.1", server.port), ok,
           "SOCKS5 to an IPv4 literal through dante")
    expect(lab, client(lab, url, "127.0.0.1", forbidden),
           "failed connect proxy_refused: the SOCKS5 proxy answered CONNECT with 2 "
           "(connection not allowed by ruleset)",
           "dante's block rule is proxy_refused, reply 2")
    expect(lab, client(lab, url, "127.0.0.1", down.port),
           "failed connect proxy_refused: the SOCKS5 proxy answered CONNECT with 5 "
           "(connection refused)",
           "dante reaching a closed port is proxy_refused, reply 5")
    expect(lab, client(lab, url, "no-such-host.invalid", server.port),
           "failed connect proxy_refused: the SOCKS5 proxy answered CONNECT with 4 "
           "(host unreachable)",
           "a name goes to dante unresolved: one it cannot resolve is proxy_refused, reply 4")
    du = dante(lab, "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n", method="username")
    expect(lab, client(lab, "socks5://" + du.address, "localhost", server.port),
           "failed connect proxy_auth: the SOCKS5 proxy accepts none of the methods offered",
           "dante wanting a username is proxy_auth")
    expect(lab, client(lab, "http://" + d.address, "localhost", server.port),
           "failed connect proxy_error: the HTTP proxy closed the connection",
           "a SOCKS5 server asked in HTTP is proxy_error")

    # ---- no proxy there at all: an ordinary connect failure
    expect(lab, client(lab, "http://" + down.address, "localhost", server.port),
           "failed connect refused", "a proxy address where nothing listens: refused")

    daemon(lab, pki, good, server, tp, d, forbidden)


def daemon(lab, pki, good, server, tp, d, forbidden):
    """The proxy setting in tlswatchd: per target and per /probe module."""
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
interval = "2s"; timeout = "1500ms"; ca_file = "%s";
probe_endpoint = true;
probe_allow = ( "localhost" );
modules = { socks = { proxy = "socks5://%s"; }; };
targets = (
  { name = "via_http"; address = "localhost:%d"; proxy = "http://%s"; },
  { name = "via_socks"; address = "localhost:%d"; proxy = "socks5h://%s"; },
  { name = "via_refused"; address = "127.0.0.1:%d"; server_name = "localhost";
    proxy = "http://%s"; }
);
""" % (port, pki.path("ca.pem"), d.address, server.port, tp.address, server.port, d.address,
       forbidden, tp.address)
    dm = L.Daemon(lab, conf, name="tlswatchd-proxies")
    lab.daemon = dm

    def settled(e):
        return all(e.find("tlswatch_probe_success", target=t)
                   for t in ("via_http", "via_socks", "via_refused"))
    _, e = dm.wait_for(settled, 10)
    for t in ("via_http", "via_socks"):
        lab.eq(e.value("tlswatch_probe_success", target=t), 1,
               "tlswatchd: target %s is probed through its proxy" % t)
        fps = [s.labels.get("sha256") for s in e.find("tlswatch_cert_not_after_timestamp_seconds",
                                                         target=t, depth="0")]
        lab.eq(fps, [good.sha256], "tlswatchd: %s sees the lab leaf" % t)
    lab.check(e.find("tlswatch_probe_failure_info", target="via_refused", stage="connect",
                     reason="proxy_refused"),
              "tlswatchd: a proxy refusing the port fails as connect/proxy_refused",
              e.excerpt("via_refused"))
    path = "/probe?module=socks&target=localhost:%d" % server.port
    status, _, body = dm.request("GET", path)
    lab.check(status == 200 and "probe_success 1" in body,
              "/probe with a module through dante: probe_success 1", body[:2000])
    status, _, body = dm.request("GET", "/probe?module=socks&target=127.0.0.1:%d" % server.port)
    lab.check(status == 403 and "address not in probe_allow" in body,
              "/probe through a proxy: an address probe_allow does not list is 403", body)
    dm.stop()
    dm.check_sanitizers()


if __name__ == "__main__":
    L.Lab("proxies").main(test)
