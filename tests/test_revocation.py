#!/usr/bin/env python3
"""test_revocation.py - what the CA says, end to end, with real parts.

A PKI made at test time by tests/revpki.sh (openssl ca): its CRLs and
caIssuers certificates served by nginx on loopback, its OCSP answers by
`openssl ocsp -index` on loopback, TLS servers by openssl s_server (with
-status_file for staples). One daemon probes every case; then it is
restarted on the same state directory.

Asserted:
- a revoked leaf (CRL and OCSP) and a leaf under a revoked intermediate
  (the root's CRL) fail the verdict with `revoked`, with the reason word;
  good and OCSP-unknown leaves stay verified;
- staples: a good one is used (method ocsp_staple) and counted present; one
  for another certificate, one with a bad signature and an expired one
  (made by openssl ocsp under faketime three days back) are errors and the
  responder answers instead; must-staple without a staple is the chain
  issue must_staple_missing;
- revocation = "hard": a leaf with no source fails (revocation_unknown);
- a CRL distribution point that never answers and an OCSP responder that
  refuses do not fail a soft verdict, and the daemon keeps serving;
- AIA: a leaf served without its intermediate gets aia_completes when the
  caIssuers URL serves it, not when the URL is dead;
- ARI (RFC 9773): windows in the future, open now and in the past;
- the fetch counters, one int.crl request in nginx's access log for the
  1,000 targets under the intermediate, none again after a restart while
  the cache is fresh, and, restarted with a revocation_refresh of 1 s, a
  conditional request nginx answers 304, counted as not_modified, with the
  verdict unchanged.

No Debian package serves ACME renewal information (pebble predates it): the
ARI directory and renewalInfo endpoint here are a small HTTP server scripted
in this file from RFC 9773 section 4, the one scripted peer of this test."""

import base64
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

SERIALS = iter(range(0x5000, 0x6000))
MAX_SIZE = 16384  # fetch.max_size here: big.crl is larger
NSAME = 990       # targets probing the same good server: with the 10 others under the
                  # intermediate, 1,000 targets and one CRL fetch for all
NSAME_ASAN = 190  # under ASan+UBSan (3x slower a handshake): 200 targets under the intermediate
WAIT = 40.0       # seconds any answer may take to show on /metrics (first probes spread over 8 s,
                  # 1,000 handshakes one after another at one s_server)


def run(cmd, cwd=None):
    r = subprocess.run(cmd, capture_output=True, cwd=cwd, timeout=120)
    if r.returncode != 0:
        raise L.HardError("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode,
                                                      r.stdout.decode(errors="replace"),
                                                      r.stderr.decode(errors="replace")))
    return r.stdout.decode()


def cat(out, *parts):
    with open(out, "w") as o:
        for p in parts:
            with open(p) as f:
                o.write(f.read())
    return out


def leaf(pki, name, exts):
    """A leaf for localhost signed by the revocation intermediate outside
    openssl ca's database, with the extensions EXTS (openssl syntax)."""
    ext = os.path.join(pki, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"
                "extendedKeyUsage = serverAuth\nauthorityKeyIdentifier = keyid:always\n"
                "subjectAltName = DNS:localhost,IP:127.0.0.1\n" + exts)
    key, csr, pem = (os.path.join(pki, name + s) for s in (".key", ".csr", ".pem"))
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", key])
    run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=%s.test" % name, "-out", csr])
    run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(pki, "int.pem"),
         "-CAkey", os.path.join(pki, "int.key"), "-set_serial", "0x%x" % next(SERIALS),
         "-days", "30", "-extfile", ext, "-out", pem])
    return pem, key


def serial_of(pem):
    out = run(["openssl", "x509", "-in", pem, "-noout", "-serial"])
    return bytes.fromhex(out.strip().split("=", 1)[1].rjust(2, "0"))


class ARI(http.server.ThreadingHTTPServer):
    """The scripted ACME server: GET /directory names renewalInfo; GET
    /ari/<AKI>.<serial> (base64url, RFC 9773 4.1) answers the window set for
    that serial, with Retry-After; unknown serials get 404."""

    def __init__(self, windows):
        self.windows = windows      # serial bytes (no sign byte) -> (start, end)
        self.requests = []
        super().__init__(("127.0.0.1", 0), ARIHandler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class ARIHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body, extra=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        srv = self.server
        srv.requests.append(self.path)
        if self.path == "/directory":
            return self.send(200, {"renewalInfo": "http://127.0.0.1:%d/ari" % srv.port})
        if not self.path.startswith("/ari/") or "." not in self.path:
            return self.send(404, None)
        b64 = self.path[5:].split(".", 1)[1]
        try:
            serial = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        except ValueError:
            return self.send(400, None)
        w = srv.windows.get(serial.lstrip(b"\0"))
        if w is None:
            return self.send(404, None)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        body = {"suggestedWindow": {"start": time.strftime(fmt, time.gmtime(w[0])),
                                    "end": time.strftime(fmt, time.gmtime(w[1]))}}
        if len(w) > 2:
            body["explanationURL"] = w[2]
        self.send(200, body, [("Retry-After", "3600")])


def nginx(lab, www, port, ocsp_port, fcgi_sock, cgi, tls_port, tls_chain, tls_key):
    d = os.path.join(lab.tmp, "nginx")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 1024; }
http {
  client_body_temp_path %(d)s; proxy_temp_path %(d)s;
  fastcgi_temp_path %(d)s; uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
  log_format t '$request_method $request_uri $status inm=[$http_if_none_match] ims=[$http_if_modified_since]';
  access_log %(d)s/access.log t;
  types { application/pkix-crl crl; application/pkix-cert cer; }
  default_type application/octet-stream;
  server { listen 127.0.0.1:%(port)d; root %(www)s; }
  server {
    listen 127.0.0.1:%(tls_port)d ssl;
    ssl_certificate %(tls_chain)s; ssl_certificate_key %(tls_key)s;
    return 204;
  }
  server {
    listen 127.0.0.1:%(ocsp_port)d;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME %(cgi)s;
      fastcgi_pass unix:%(sock)s;
    }
  }
}
""" % {"d": d, "port": port, "www": www, "ocsp_port": ocsp_port, "sock": fcgi_sock,
       "cgi": cgi, "tls_port": tls_port, "tls_chain": tls_chain, "tls_key": tls_key})
    srv = L.Server(lab, "nginx", ["nginx", "-p", d, "-e", os.path.join(d, "error.log"),
                                  "-c", conf], "127.0.0.1", port, "nginx.log")
    srv.access_log = os.path.join(d, "access.log")
    return srv


def access(srv):
    try:
        with open(srv.access_log) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def sanitized(exe):
    """Whether the daemon binary is built with AddressSanitizer."""
    with open(exe, "rb") as f:
        return b"__asan_init" in f.read()


def main(lab):
    global NSAME
    lab.require_daemon()
    if sanitized(lab.tlswatchd):
        NSAME = NSAME_ASAN
        lab.note("an ASan build: %d targets under the intermediate, not 1,000" % (NSAME + 10))
    lab.require_tools()
    L.require_tool("nginx", "nginx-light")
    L.require_tool("fcgiwrap", "fcgiwrap")

    http_port = L.free_port()
    ocsp_port = L.free_port()
    base = "http://127.0.0.1:%d" % http_port
    pki = os.path.join(lab.tmp, "rev")
    run(["sh", os.path.join(lab.srcdir, "revpki.sh"), pki, base,
         "http://127.0.0.1:%d" % ocsp_port])
    p = lambda n: os.path.join(pki, n)  # noqa: E731
    # an expired staple: openssl ocsp cannot backdate a response, so it runs
    # three days in the past (libfaketime); valid one day, it ended 2 days ago
    L.require_tool("faketime", "faketime")
    run(["faketime", "-f", "-3d", "openssl", "ocsp", "-index", p("index.txt"), "-rsigner",
         p("int.pem"), "-rkey", p("int.key"), "-CA", p("int.pem"), "-reqin", p("req-good.der"),
         "-respout", p("ocsp-expired.der"), "-ndays", "1"])
    nu = run(["openssl", "ocsp", "-respin", p("ocsp-expired.der"), "-resp_text", "-noverify"])
    if "Next Update" not in nu:
        raise L.HardError("the expired staple has no nextUpdate:\n" + nu)

    # dead sources: a distribution point that never answers, a refused port
    silent = lab.silent_peer()
    closed = lab.closed_port()
    dead_pem, dead_key = leaf(pki, "deadsrc", (
        "crlDistributionPoints = URI:http://%s/never.crl\n"
        "authorityInfoAccess = OCSP;URI:http://%s/\n") % (silent.address, closed.address))
    deadaia_pem, deadaia_key = leaf(pki, "deadaia",
                                    "authorityInfoAccess = caIssuers;URI:http://%s/int.cer\n"
                                    % closed.address)

    # leaves whose distribution point serves a stale CRL, one with a bad
    # signature, one over the size cap
    bad = {}
    for name, crl in (("stalecrl", "int-stale.crl"), ("badsigcrl", "int-badsig.crl"),
                      ("bigcrl", "big.crl")):
        bad[name] = leaf(pki, name, "crlDistributionPoints = URI:%s/%s\n" % (base, crl))

    www = os.path.join(lab.tmp, "www")
    os.makedirs(www)
    for n in ("int.crl", "root.crl", "int.cer", "root.cer", "int-stale.crl", "int-badsig.crl"):
        with open(p(n), "rb") as f, open(os.path.join(www, n), "wb") as o:
            o.write(f.read())
    with open(os.path.join(www, "big.crl"), "wb") as o:
        o.write(os.urandom(MAX_SIZE + 4096))
    # The OCSP responder: openssl ocsp -index over openssl ca's database,
    # one run per request (-reqin/-respout) as CGI through fcgiwrap behind
    # nginx. Its own server mode (-port) binds every address in OpenSSL 3.0,
    # which a test must not do.
    cgi = os.path.join(lab.tmp, "ocsp.cgi")
    with open(cgi, "w") as f:
        f.write("#!/bin/sh\nprintf 'Content-Type: application/ocsp-response\\r\\n\\r\\n'\n"
                "exec openssl ocsp -index %s -CA %s -rsigner %s -rkey %s -ndays 2 "
                "-reqin /dev/stdin -respout /dev/stdout 2>>%s\n"
                % (p("index.txt"), p("int.pem"), p("int.pem"), p("int.key"),
                   os.path.join(lab.tmp, "ocsp.log")))
    os.chmod(cgi, 0o755)
    sock = os.path.join(lab.tmp, "fcgiwrap.sock")
    fcgi = subprocess.Popen(["fcgiwrap", "-c", "2", "-s", "unix:" + sock],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(lab.tmp, "fcgiwrap.log"), "wb"),
                            preexec_fn=L._pdeathsig)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if time.monotonic() > deadline or fcgi.poll() is not None:
                raise L.HardError("fcgiwrap did not make %s within 10 s" % sock)
            time.sleep(0.02)
        # the good leaf for the NSAME targets: nginx, not s_server, takes
        # their handshakes (s_server serves one connection at a time)
        tls_port = L.free_port()
        web = nginx(lab, www, http_port, ocsp_port, sock, cgi, tls_port,
                    cat(p("good-nginx.pem"), p("good.pem"), p("int.pem")), p("good.key"))
        web.tls_address = "127.0.0.1:%d" % tls_port
        L.wait_port("127.0.0.1", ocsp_port, 10.0)
        L.wait_port("127.0.0.1", tls_port, 10.0)
        run_all(lab, pki, p, web, base, silent, dead_pem, dead_key, deadaia_pem, deadaia_key,
                bad)
    finally:
        fcgi.terminate()
        fcgi.wait(5)


def run_all(lab, pki, p, web, base, silent, dead_pem, dead_key, deadaia_pem, deadaia_key,
            bad):

    now = int(time.time())
    ari = ARI({serial_of(p("good.pem")): (now - 3600, now + 86400, "https://ca.test/why"),
               serial_of(p("unlisted.pem")): (now - 7 * 86400, now - 86400),
               serial_of(p("hold.pem")): (now + 10 * 86400, now + 20 * 86400)})
    try:
        run_cases(lab, pki, p, web, ari, silent, dead_pem, dead_key, deadaia_pem, deadaia_key,
                  base, bad)
    finally:
        ari.stop()


def run_cases(lab, pki, p, web, ari, silent, dead_pem, dead_key, deadaia_pem, deadaia_key,
              base, bad):
    def chain(name, *parts):
        return cat(os.path.join(pki, name + "-served.pem"), *parts)

    s = {}
    s["good"] = lab.serve_chain(chain("good", p("good.pem"), p("int.pem")), p("good.key"))
    s["revoked"] = lab.serve_chain(chain("revoked", p("revoked.pem"), p("int.pem")),
                                   p("revoked.key"))
    s["hold"] = lab.serve_chain(chain("hold", p("hold.pem"), p("int.pem")), p("hold.key"))
    s["under2"] = lab.serve_chain(chain("under2", p("under2.pem"), p("int2.pem")),
                                  p("under2.key"))
    s["unlisted"] = lab.serve_chain(chain("unlisted", p("unlisted.pem"), p("int.pem")),
                                    p("unlisted.key"))
    s["muststaple"] = lab.serve_chain(chain("muststaple", p("muststaple.pem"), p("int.pem")),
                                      p("muststaple.key"))
    s["stapled"] = lab.serve_chain(chain("stapled", p("good.pem"), p("int.pem")), p("good.key"),
                                   extra=["-status_file", p("ocsp-good.der")])
    s["wrongstaple"] = lab.serve_chain(chain("wrongstaple", p("good.pem"), p("int.pem")),
                                       p("good.key"), extra=["-status_file",
                                                             p("ocsp-revoked.der")])
    s["badstaple"] = lab.serve_chain(chain("badstaple", p("good.pem"), p("int.pem")),
                                     p("good.key"), extra=["-status_file", p("ocsp-badsig.der")])
    s["expiredstaple"] = lab.serve_chain(chain("expiredstaple", p("good.pem"), p("int.pem")),
                                         p("good.key"),
                                         extra=["-status_file", p("ocsp-expired.der")])
    s["hard"] = lab.serve_chain(chain("hard", p("noext.pem"), p("int.pem")), p("noext.key"))
    s["deadsrc"] = lab.serve_chain(chain("deadsrc", dead_pem, p("int.pem")), dead_key)
    s["aia"] = lab.serve_chain(chain("aia", p("good.pem")), p("good.key"))
    s["deadaia"] = lab.serve_chain(chain("deadaia", deadaia_pem), deadaia_key)
    for name, (pem, key) in bad.items():
        s[name] = lab.serve_chain(chain(name, pem, p("int.pem")), key)

    targets = []
    for name, srv in s.items():
        extra = ' revocation = "hard";' if name == "hard" else ""
        targets.append('{ name = "%s"; address = "%s"; server_name = "localhost";%s }'
                       % (name, srv.address, extra))
    for i in range(NSAME):
        targets.append('{ name = "same%d"; address = "%s"; server_name = "localhost"; }'
                       % (i, web.tls_address))
    port = L.free_port()
    conf = """\
listen = "127.0.0.1:%d";
ca_file = %s;
interval = "8s";
timeout = "3s";
revocation = "soft";
fetch = { timeout = "2s"; max_size = %d; };
acme_directories = ( "http://127.0.0.1:%d/directory" );
targets = (
  %s
);
""" % (port, L.conf_string(p("root.pem")), MAX_SIZE, ari.port, ",\n  ".join(targets))
    state = os.path.join(lab.tmp, "state")
    d = L.Daemon(lab, conf, args=("-v", "-s", state))

    def by_target(e, name, **labels):
        """NAME's value per target in one pass (a scrape has 1,000 targets)."""
        return {x.labels.get("target"): x.value for x in e.find(name, **labels)}

    def status(e, target, method, depth="0"):
        got = [x.labels["status"] for x in e.find("tlswatch_revocation_status", target=target,
                                                  method=method, depth=depth)]
        return got[0] if len(got) == 1 else None

    def settled(e):
        want = {("good", "crl"): "good", ("good", "ocsp"): "good",
                ("revoked", "crl"): "revoked", ("revoked", "ocsp"): "revoked",
                ("hold", "crl"): "revoked", ("unlisted", "ocsp"): "unknown",
                ("stapled", "ocsp_staple"): "good", ("wrongstaple", "ocsp"): "good",
                ("badstaple", "ocsp"): "good", ("expiredstaple", "ocsp"): "good",
                ("deadsrc", "crl"): "error",
                ("deadsrc", "ocsp"): "error", ("stalecrl", "crl"): "error",
                ("badsigcrl", "crl"): "error", ("bigcrl", "crl"): "error"}
        want[("under2", "crl", "1")] = "revoked"
        missing = ["%s %s: %s" % (k[0], k[1], status(e, *k)) for k, v in want.items()
                   if status(e, *k) != v]
        missing += ["ari %s" % t for t in ("good", "hold", "unlisted")
                    if e.value("tlswatch_ari_window_start_timestamp_seconds", target=t) is None]
        if not e.find("tlswatch_chain_issue", target="aia", issue="aia_completes"):
            missing.append("aia_completes")
        ver = by_target(e, "tlswatch_chain_verified")
        missing += ["same%d" % i for i in range(NSAME) if ver.get("same%d" % i) != 1]
        unmet[:] = [(round(time.monotonic() - t0, 1), missing)] + unmet[:1]
        return not missing

    t0 = time.monotonic()
    unmet = []
    ok, e = d.wait_for(settled, WAIT, interval=0.3)
    lab.check(ok, "every revocation answer arrived within %.0f s (%.1f s)"
              % (WAIT, time.monotonic() - t0), "still missing: %s" % unmet)
    lab.note("the scrape before the last was missing: %s" % (unmet[1:],))
    lab.promtool(d.scrape_text())
    # every revocation and renewal metric the shipped rules and dashboard
    # name is here (tests/test_alerts.py cannot make them)
    top = os.path.join(lab.srcdir, "..")
    with open(os.path.join(top, "etc", "prometheus", "tlswatch-rules.yml")) as f:
        named = set(re.findall(r"\btlswatch_[a-z0-9_]+", f.read()))
    with open(os.path.join(top, "etc", "grafana", "tlswatch.json")) as f:
        named |= set(re.findall(r"\btlswatch_[a-z0-9_]+", f.read()))
    named = {n for n in named if re.match(r"tlswatch_(revocation_|cert_revoked_|ari_|ocsp_staple_)", n)}
    lab.check(len(named) >= 5 and named <= {s.name for s in e.samples},
              "every revocation and renewal metric of the rules and dashboard is scraped",
              sorted(named - {s.name for s in e.samples}))

    def verified(t):
        return e.value("tlswatch_chain_verified", target=t)

    def reasons(t):
        return sorted(x.labels["reason"] for x in e.find("tlswatch_chain_verify_error", target=t))

    for t in ("good", "unlisted", "stapled", "wrongstaple", "badstaple", "expiredstaple",
              "deadsrc", "muststaple",
              "stalecrl", "badsigcrl", "bigcrl"):
        lab.eq(verified(t), 1.0, "%s: verified (soft: no source says revoked)" % t,
               reasons(t))
    for t in ("revoked", "hold", "under2"):
        lab.eq(verified(t), 0.0, "%s: not verified" % t)
        lab.eq(reasons(t), ["revoked"], "%s: the reason is revoked" % t)
    lab.eq(e.value("tlswatch_cert_revoked_timestamp_seconds", target="revoked", depth="0",
                   reason="key_compromise") is not None, True,
           "revoked leaf: tlswatch_cert_revoked_timestamp_seconds with reason key_compromise")
    rv = e.find("tlswatch_cert_revoked_timestamp_seconds", target="under2")
    lab.eq([(x.labels["depth"], x.labels["reason"]) for x in rv], [("1", "ca_compromise")],
           "under2: its intermediate is revoked by the root's CRL (ca_compromise)")
    lab.eq([x.labels["reason"] for x in e.find("tlswatch_cert_revoked_timestamp_seconds",
                                               target="hold")],
           ["certificate_hold"], "hold: reason certificate_hold")
    lab.eq(reasons("hard"), ["revocation_unknown"],
           "revocation = hard: a leaf no source answers for fails with revocation_unknown")
    nu = e.value("tlswatch_revocation_next_update_timestamp_seconds", target="good", depth="0",
                 method="crl")
    lab.check(nu is not None and time.time() + 6 * 86400 < nu < time.time() + 8 * 86400,
              "the CRL's nextUpdate (7 days) is published", nu)
    lab.eq(e.value("tlswatch_ocsp_staple_present", target="stapled"), 1.0,
           "stapled: tlswatch_ocsp_staple_present 1")
    lab.eq(e.value("tlswatch_ocsp_staple_present", target="good"), 0.0,
           "good (no staple): tlswatch_ocsp_staple_present 0")
    for t in ("wrongstaple", "badstaple", "expiredstaple"):
        lab.eq(status(e, t, "ocsp_staple"), "error", "%s: the staple is an error" % t)
    lab.eq(e.value("tlswatch_ocsp_staple_present", target="expiredstaple"), 1.0,
           "expiredstaple: a staple was sent (tlswatch_ocsp_staple_present 1)")
    lab.check(e.find("tlswatch_chain_issue", target="muststaple", issue="must_staple_missing"),
              "must-staple leaf without a staple: chain issue must_staple_missing")
    lab.check(not e.find("tlswatch_chain_issue", target="stapled", issue="must_staple_missing"),
              "no must_staple_missing where the leaf does not ask for it")
    lab.eq(verified("aia"), 0.0, "aia: an incomplete chain stays not verified")
    lab.check(not e.find("tlswatch_chain_issue", target="deadaia", issue="aia_completes"),
              "deadaia: a dead caIssuers URL is not aia_completes")
    # ARI
    for t, (lo, hi) in {"good": (-3600, 86400), "unlisted": (-7 * 86400, -86400),
                        "hold": (10 * 86400, 20 * 86400)}.items():
        st = e.value("tlswatch_ari_window_start_timestamp_seconds", target=t)
        en = e.value("tlswatch_ari_window_end_timestamp_seconds", target=t)
        now = time.time()
        lab.check(st is not None and en is not None and abs(st - (now + lo)) < 120
                  and abs(en - (now + hi)) < 120, "%s: the ARI window is published" % t,
                  (st, en))
    lab.check(e.find("tlswatch_ari_explanation_info", target="good",
                     url="https://ca.test/why"), "good: tlswatch_ari_explanation_info{url}")
    # the probe is not delayed by the silent distribution point
    dur = e.value("tlswatch_probe_duration_seconds", target="deadsrc")
    lab.check(dur is not None and dur < 1.5, "deadsrc: the probe took %s s, not the fetch's 2 s"
              % dur)
    # one fetch per URL for the whole daemon
    log = access(web)
    ncrl = sum(1 for line in log if line.startswith("GET /int.crl "))
    lab.eq(ncrl, 1, "nginx served int.crl once for %d targets under the intermediate"
           % (NSAME + 10), "\n".join(log))
    lab.check(any(line.startswith("GET /big.crl 200") for line in log),
              "nginx sent big.crl: the size cap, not the server, made it an error")
    lab.eq(e.value("tlswatch_fetch_requests_total", kind="crl", result="ok"), 4.0,
           "tlswatch_fetch_requests_total{kind=crl,result=ok}: int.crl, root.crl, the stale "
           "and the badly signed one (HTTP was fine)")
    lab.check((e.value("tlswatch_fetch_requests_total", kind="crl", result="error") or 0) >= 3,
              "tlswatch_fetch_requests_total{kind=crl,result=error} counts the dead ones")
    lab.check((e.value("tlswatch_fetch_requests_total", kind="ocsp", result="ok") or 0) >= 4,
              "tlswatch_fetch_requests_total{kind=ocsp,result=ok}")
    lab.check((e.value("tlswatch_fetch_requests_total", kind="ari", result="ok") or 0) >= 3,
              "tlswatch_fetch_requests_total{kind=ari,result=ok}")
    lab.check((e.value("tlswatch_fetch_cache_entries") or 0) >= 4, "tlswatch_fetch_cache_entries")
    # the API has the revocation JSON
    code, _, body = d.request("GET", "/api/targets/revoked")
    lab.check(code == 200 and b'"revoked":true' in body.replace(b" ", b"") if isinstance(body, bytes) else '"revoked":true' in body.replace(" ", ""),
              "GET /api/targets/revoked shows the revoked certificate", body[:400])
    for t, want in (("stalecrl", "nextUpdate"), ("badsigcrl", "signature"),
                    ("bigcrl", "size")):
        code, _, body = d.request("GET", "/api/targets/" + t)
        try:
            src = [x for x in json.loads(body)["checks"]["revocation"]["certificates"][0]
                   ["sources"] if x["method"] == "crl"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            src = {}
        lab.check(want in (src.get("error") or ""), "%s: the API says why the CRL is "
                  "unusable (%s)" % (t, want), src)
    code, _, body = d.request("GET", "/api/targets")
    try:
        states = {x["name"]: x["state"] for x in json.loads(body)["targets"]}
    except (ValueError, KeyError, TypeError):
        states = {}
    lab.check(states.get("revoked") == "revoked" and states.get("under2") == "revoked"
              and states.get("hard") == "unverified" and states.get("good") == "ok",
              "the API's states: revoked for revoked certificates, unverified for "
              "revocation_unknown, ok for good", states)
    code, _, page = d.request("GET", "/")
    lab.check(code == 200 and 'class="revoked"' in page and "tr.revoked td{" in page,
              "the status page gives revoked rows their own class and colour")
    code, _, page = d.request("GET", "/targets/good")
    lab.check(code == 200 and "renewal window" in page and "ocsp" in page,
              "the target page shows the ARI window and the OCSP answer")
    d.stop(limit=3.0)

    # tlswatch check: the same answers, fetched by the tool itself
    def check(name, *extra):
        return L.run_tlswatch(lab, ["check", s[name].address, "--servername", "localhost",
                                    "--cafile", p("root.pem"), "--timeout", "3s"] + list(extra))
    rc, out, err = check("revoked")
    lab.check(rc == 2 and out.startswith("TLS CRITICAL") and "revoked" in out.splitlines()[0]
              and "crl %s/int.crl: revoked (key_compromise" % base in out,
              "tlswatch check: a revoked leaf is CRITICAL, with the CRL's word and reason",
              "status %d\n%s%s" % (rc, out, err))
    rc, out, err = check("revoked", "--no-fetch")
    lab.check(rc == 0 and "not fetched" in out and ": revoked" not in out,
              "tlswatch check --no-fetch: nothing fetched, nothing revoked",
              "status %d\n%s%s" % (rc, out, err))
    rc, out, err = check("good", "--acme-directory", "http://127.0.0.1:%d/directory" % ari.port,
                         "--json")
    try:
        j = json.loads(out)
        findings = json.dumps(j.get("findings"))
    except ValueError:
        j, findings = {}, ""
    lab.check(rc == 0 and j.get("verified") is True and "renewal window" in findings
              and "ocsp" in findings, "tlswatch check --json: the ARI window and the OCSP "
              "answer among the findings", "status %d\n%s%s" % (rc, out, err))
    rc, out, err = check("aia")
    lab.check(rc == 2 and "aia_completes" in out, "tlswatch check: aia_completes on an "
              "incomplete chain whose caIssuers URL completes it", "status %d\n%s%s"
              % (rc, out, err))

    # Restart on the same state: served from the cache, nginx not asked again
    def same_crl_good(e):
        got = {x.labels["target"] for x in e.find("tlswatch_revocation_status", method="crl",
                                                  depth="0", status="good")}
        return all("same%d" % i in got for i in range(NSAME))

    before = len(access(web))
    d2 = L.Daemon(lab, conf, name="tlswatchd2", args=("-v", "-s", state))
    ok, e = d2.wait_for(lambda e: status(e, "revoked", "crl") == "revoked"
                        and status(e, "good", "crl") == "good"
                        and status(e, "under2", "crl", "1") == "revoked"
                        and same_crl_good(e),
                        WAIT, interval=0.3)
    lab.check(ok, "after a restart the CRL answers come back")
    lab.eq(e.value("tlswatch_chain_verified", target="revoked"),
           0.0, "after a restart the revoked leaf still fails")
    new = access(web)[before:]
    lab.eq([x for x in new if "/int.crl" in x or "/root.crl" in x], [],
           "after a restart nginx was not asked for int.crl or root.crl (the cache is fresh)")
    lab.check((e.value("tlswatch_fetch_requests_total", kind="crl", result="ok") or 0) == 0,
              "after a restart tlswatch_fetch_requests_total{kind=crl,result=ok} is 0")
    d2.stop(limit=3.0)

    # A conditional request: with revocation_refresh = 1 s on a new
    # state_dir, int.crl is fetched and cached fresh for 1 s; a restart on
    # that state finds it stale and revalidates it with its validators,
    # nginx answers 304, the counter says not_modified, and the verdict
    # stands on the cached copy. (A running daemon asks again no sooner
    # than 60 s after an answer, CADATA_RETRY_SECONDS, too long to wait
    # for here; the cache's conditional request is the same either way.)
    conf3 = conf.replace('revocation = "soft";', 'revocation = "soft";\nrevocation_refresh = "1s";')
    conf3 = re.sub(r"targets = \(.*\);", lambda _: "targets = (\n  %s\n);" % ",\n  ".join(
        '{ name = "%s"; address = "%s"; server_name = "localhost"; interval = "2s"; '
        'timeout = "1s"; }' % (n, s[n].address) for n in ("good", "revoked")), conf3, flags=re.S)
    state3 = os.path.join(lab.tmp, "state3")
    d3 = L.Daemon(lab, conf3, name="tlswatchd3", args=("-v", "-s", state3))
    ok, e = d3.wait_for(lambda e: status(e, "revoked", "crl") == "revoked"
                        and status(e, "good", "crl") == "good", WAIT, interval=0.3)
    lab.check(ok, "revocation_refresh 1 s: the CRL answers arrive", e.excerpt("revoked"))
    d3.stop(limit=3.0)
    time.sleep(1.1)  # the condition is the clock: past the 1 s the CRL is fresh for
    before = len(access(web))
    t3 = time.time()
    d3 = L.Daemon(lab, conf3, name="tlswatchd3b", args=("-v", "-s", state3))

    def revalidated(e):
        c304 = [x for x in access(web)[before:] if x.startswith("GET /int.crl 304 ")]
        return (c304 and status(e, "revoked", "crl") == "revoked"
                and status(e, "good", "crl") == "good"
                and all((e.value("tlswatch_probe_timestamp_seconds", target=n) or 0) >= t3
                        for n in ("good", "revoked"))
                and (e.value("tlswatch_fetch_requests_total", kind="crl",
                             result="not_modified") or 0) >= 1) and c304
    c304, e = d3.wait_for(revalidated, WAIT, interval=0.3)
    lab.check(c304, "revocation_refresh 1 s: nginx answered a conditional GET /int.crl with 304",
              "\n".join(access(web)[before:]))
    # (nginx logs an absent header as "-")
    lab.check(bool(c304) and ("inm=[-]" not in c304[0] or "ims=[-]" not in c304[0]),
              "the request carried If-None-Match or If-Modified-Since", c304)
    lab.check((e.value("tlswatch_fetch_requests_total", kind="crl", result="not_modified")
               or 0) >= 1, "tlswatch_fetch_requests_total{kind=crl,result=not_modified} "
              "counts the 304")
    lab.eq(e.value("tlswatch_chain_verified", target="revoked"), 0.0,
           "after the 304 the revoked leaf, probed again, still fails (the cached CRL holds)")
    lab.eq(status(e, "good", "crl"), "good", "after the 304 good, probed again, is still good "
           "by the CRL")
    d3.stop(limit=3.0)
    # Never called good meanwhile: the cache's stale copy is used at once
    # while it is revalidated, and a verdict still waiting for it keeps the
    # stored revoked (history.c's hold_late_reasons).
    log3 = d3.stderr()
    said = [x for x in log3.splitlines() if "target revoked:" in x and "chain verified" in x]
    lab.eq(said, [], "restarted on a stale cache, the revoked leaf is never called verified",
           log3[-3000:])

    # Verdict reuse ends at the data's nextUpdate: a leaf whose CRL is due
    # in 15 s (openssl ca -crlsec), probed every 2 s under the default
    # revocation_refresh (1 h). Its verdict is reused while the CRL is
    # current; once nextUpdate passes, the chain is judged again and the
    # CRL, now stale, is an error.
    soon_pem, soon_key = leaf(pki, "soon", "crlDistributionPoints = URI:%s/int-soon.crl\n"
                              % base)
    srv = lab.serve_chain(chain("soon", soon_pem, p("int.pem")), soon_key)
    soon_crl = os.path.join(lab.tmp, "www", "int-soon.crl")
    run(["openssl", "ca", "-config", p("ca.cnf"), "-name", "int", "-cert", p("int.pem"),
         "-keyfile", p("int.key"), "-gencrl", "-crlsec", "15", "-out", soon_crl + ".pem"], cwd=pki)
    run(["openssl", "crl", "-in", soon_crl + ".pem", "-outform", "DER", "-out", soon_crl])
    conf4 = re.sub(r"targets = \(.*\);", lambda _: 'targets = (\n  { name = "soon"; address = '
                   '"%s"; server_name = "localhost"; interval = "2s"; timeout = "1s"; }\n);' % srv.address, conf,
                   flags=re.S)
    d4 = L.Daemon(lab, conf4, name="tlswatchd4", args=("-v", "-s", os.path.join(lab.tmp,
                                                                               "state4")))
    nu, e = d4.wait_for(lambda e: status(e, "soon", "crl") == "good" and (e.value(
        "tlswatch_verifications_total", kind="reused") or 0) >= 1 and e.value(
        "tlswatch_revocation_next_update_timestamp_seconds", target="soon", depth="0",
        method="crl"), 12.0, interval=0.2)
    lab.check(nu and nu > time.time(), "soon: good by its CRL (due in 15 s), the verdict reused "
              "while the CRL is current", e.excerpt("soon") if e else None)
    if nu:
        _, e = d4.wait_for(lambda e: status(e, "soon", "crl") == "error",
                           max(0.0, nu - time.time()) + 8.0, interval=0.2)
        at = time.time()
        lab.eq(status(e, "soon", "crl"), "error", "soon: after the CRL's nextUpdate the chain "
               "was judged again (the stale CRL is an error)")
        lab.check(at >= nu - 1.0, "soon: the verdict held until nextUpdate (judged again "
                  "%.1f s after it)" % (at - nu))
    d4.stop(limit=3.0)
    silent.stop()


if __name__ == "__main__":
    L.Lab("revocation").main(main)
