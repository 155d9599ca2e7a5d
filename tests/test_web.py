#!/usr/bin/env python3
"""test_web.py - the protected metrics endpoint: TLS, client certificates,
basic auth with bcrypt hashes made by another implementation
(python3-bcrypt), the connection and request limits, the web block's -t
errors, and `tlswatch hash-password`."""

import os
import pty
import re
import select
import socket
import ssl
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402


def write(lab, name, text):
    path = os.path.join(lab.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def wait_tls(host, port, proc, timeout=10.0):
    if not L.wait_port(host, port, timeout, proc):
        raise L.DaemonFailure("tlswatchd did not listen on %s:%d" % (host, port))


def check_tls_and_client_certs(lab, pki):
    port = L.free_port()
    cabundle = write(lab, "client-ca.pem",
                     open(pki.path("ca.pem")).read() + open(pki.path("int.pem")).read())
    conf = """listen = "127.0.0.1:%d";
targets = ();
web = { tls_cert_file = "%s"; tls_key_file = "%s"; client_ca_file = "%s"; };
""" % (port, pki.path("good-chain.pem"), pki.path("good.key"), cabundle)
    d = L.Daemon(lab, conf, name="tlswatchd-mtls", wait=False)
    wait_tls("127.0.0.1", port, d.proc)
    ca = pki.path("ca.pem")
    client = write(lab, "client-chain.pem", open(pki.path("client.pem")).read() +
                   open(pki.path("int.pem")).read())
    st, hd, body = L.https_request("127.0.0.1", port, path="/metrics", ca=ca,
                                   cert=client, key=pki.path("client.key"),
                                   server_name="good.test")
    lab.eq(st, 200, "mTLS: a client with a certificate from the client CA gets /metrics")
    lab.check("tlswatch_build_info" in body, "mTLS: the body is the exposition")
    d.last_scrape = body
    try:
        st, _, _ = L.https_request("127.0.0.1", port, path="/metrics", ca=ca)
        lab.eq(st, 403, "mTLS: a client without a certificate is refused with 403")
    except (ssl.SSLError, ConnectionError) as e:
        lab.check(True, "mTLS: a client without a certificate is refused (%s)" % e)
    try:
        st, _, _ = L.https_request("127.0.0.1", port, path="/metrics", ca=ca,
                                   cert=pki.path("untrusted-chain.pem"),
                                   key=pki.path("untrusted.key"))
        lab.eq(st, 403, "mTLS: a client certificate from another CA is refused with 403")
    except (ssl.SSLError, ConnectionError) as e:
        lab.check(True, "mTLS: a client certificate from another CA is refused (%s)" % e)
    # plain HTTP to the TLS port gets no metrics
    try:
        st, _, body = L.http_request("127.0.0.1", port, "GET", "/metrics", timeout=3)
        lab.check("tlswatch_build_info" not in body,
                  "plain HTTP on the TLS port gets no metrics (status %d)" % st)
    except Exception as e:   # http.client gives up on a TLS answer
        lab.check(True, "plain HTTP on the TLS port gets no metrics (%s)" % type(e).__name__)
    d.stop()


def check_basic_auth(lab, pki):
    port = L.free_port()
    pw = "s3cret pass\u00e9"
    users = {"alice": L.bcrypt_hash(pw, "$2b$"), "bob": L.bcrypt_hash("bobpw", "$2y$"),
             "carol": L.bcrypt_hash("carolpw", "$2a$")}
    conf = """listen = "127.0.0.1:%d";
targets = ();
web = { tls_cert_file = "%s"; tls_key_file = "%s";
  basic_auth_users = { %s };
};
""" % (port, pki.path("good-chain.pem"), pki.path("good.key"),
       " ".join('%s = "%s";' % kv for kv in users.items()))
    d = L.Daemon(lab, conf, name="tlswatchd-auth", wait=False)
    wait_tls("127.0.0.1", port, d.proc)
    ca = pki.path("ca.pem")

    def get(auth, path="/metrics"):
        return L.https_request("127.0.0.1", port, path=path, ca=ca, auth=auth)

    for user, p, variant in (("alice", pw, "$2b$"), ("bob", "bobpw", "$2y$"),
                             ("carol", "carolpw", "$2a$")):
        st, _, body = get((user, p))
        lab.eq(st, 200, "basic auth: %s's password (a %s hash from python3-bcrypt) gets 200"
               % (user, variant))
    for desc, auth in (("no credentials", None), ("a wrong password", ("alice", "nope")),
                       ("an unknown user", ("mallory", pw)),
                       ("another user's password", ("bob", pw))):
        st, hd, body = get(auth)
        lab.eq(st, 401, "basic auth: %s gets 401" % desc)
        lab.check(re.match(r'Basic realm="[^"]+"', hd.get("www-authenticate", "")),
                  "basic auth: the 401 for %s carries WWW-Authenticate: Basic realm=..."
                  % desc, repr(hd.get("www-authenticate")))
        lab.check("tlswatch_" not in body, "basic auth: the 401 for %s has no metrics" % desc)
    st, _, _ = get(None, "/healthz")
    lab.eq(st, 401, "basic auth protects /healthz too")
    d.stop()


def check_limits(lab):
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
targets = ();
web = { max_connections = 2; connection_timeout = "5s"; max_request_size = 2048; };
""" % port
    d = L.Daemon(lab, conf, name="tlswatchd-limits")
    # two idle connections take both slots ...
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    time.sleep(0.2)
    # ... so a third waits, unanswered, in the kernel's backlog ...
    third = socket.create_connection(("127.0.0.1", port), timeout=5)
    third.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    third.settimeout(1.0)
    try:
        early = third.recv(4096)
    except socket.timeout:
        early = None
    lab.check(early is None,
              "max_connections = 2: a third concurrent connection is not served "
              "while two are open", repr(early))
    # ... until the idle ones are closed by the timeout, freeing the slots
    closed = 0
    for s in held:
        s.settimeout(15)
        try:
            closed += s.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        s.close()
    lab.eq(closed, 2, "connection_timeout: idle connections are closed by the server")
    third.settimeout(10)
    data = b""
    try:
        while True:
            chunk = third.recv(4096)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    third.close()
    lab.check(data.startswith(b"HTTP/1.1 200"),
              "the waiting connection is served once a slot is free", repr(data[:60]))
    st, _, _ = d.request("GET", "/healthz")
    lab.eq(st, 200, "after the idle connections went, a new client is served")
    # a request larger than max_request_size is refused
    big = {"X-Filler": "a" * 8192}
    try:
        st, _, _ = L.http_request_auth("127.0.0.1", port, "GET", "/metrics", headers=big)
        lab.check(400 <= st < 500, "a request above max_request_size gets a 4xx (%d)" % st)
    except (ConnectionError, OSError) as e:
        lab.check(True, "a request above max_request_size is refused (%s)" % e)
    st, _, _ = d.request("GET", "/healthz")
    lab.eq(st, 200, "the daemon still serves after an oversized request")
    d.stop()


def check_bad_web(lab, pki):
    key_other = pki.path("client.key")
    bad_hash_line = 'basic_auth_users = { alice = "plaintext"; bob = "$2b$10$short"; };'
    cases = [
        ("a missing certificate file", 'tls_cert_file = "%s/nope.pem"; tls_key_file = "%s";'
         % (lab.tmp, pki.path("good.key")), r"web\.tls_cert_file: cannot read .*nope\.pem"),
        ("a key not matching its certificate", 'tls_cert_file = "%s"; tls_key_file = "%s";'
         % (pki.path("good.pem"), key_other), r"web\.tls_key_file: the key does not match"),
        ("a certificate without a key", 'tls_cert_file = "%s";' % pki.path("good.pem"),
         r"web\.tls_cert_file: needs tls_key_file"),
        ("a client CA without TLS", 'client_ca_file = "%s";' % pki.path("ca.pem"),
         r"web\.client_ca_file: needs tls_cert_file"),
        ("a bad hash", bad_hash_line, r"web\.basic_auth_users\.alice: not a crypt\(3\) hash"),
        ("a truncated bcrypt hash", bad_hash_line,
         r"web\.basic_auth_users\.bob: (incomplete|not a hash)"),
        ("too many connections", "max_connections = 0;",
         r"web\.max_connections: must be between"),
        ("an unknown web setting", "tls_certfile = \"x\";", r"web\.tls_certfile: unknown setting"),
    ]
    for desc, body, pat in cases:
        text = 'listen = "127.0.0.1:%d";\ntargets = ();\nweb = {\n  %s\n};\n' % (
            L.free_port(), body)
        path = write(lab, "bad-web.conf", text)
        rc, out, err = L.run_tlswatchd(lab, ["-t", "-c", path])
        lab.eq(rc, 1, "-t with %s exits 1" % desc, err)
        full = "^" + re.escape(path) + r":4: " + pat
        lab.check(any(re.match(full, line) for line in err.splitlines()),
                  "-t with %s says FILE:4: %s" % (desc, pat.replace("\\", "")), err)


def check_hash_password(lab):
    tool = os.environ.get("TLSWATCH")
    if not tool:
        raise L.Missing("TLSWATCH (the tlswatch tool) is not set: run through make check")
    r = subprocess.run([tool, "hash-password", "--cost", "5"], input=b"correct horse\n",
                       capture_output=True, timeout=30)
    out = r.stdout.decode().strip()
    lab.eq(r.returncode, 0, "tlswatch hash-password exits 0", r.stderr.decode())
    lab.check(re.fullmatch(r"\$2b\$05\$[./A-Za-z0-9]{53}", out),
              "tlswatch hash-password --cost 5 prints a $2b$05$ bcrypt hash", out)
    lab.check(L.bcrypt_check("correct horse", out),
              "python3-bcrypt verifies the hash against the password")
    lab.check(not L.bcrypt_check("correct horsE", out),
              "python3-bcrypt rejects another password against it")
    r = subprocess.run([tool, "hash-password", "--cost", "3"], input=b"x\n",
                       capture_output=True, timeout=30)
    lab.check(r.returncode != 0 and b"cost" in r.stderr,
              "tlswatch hash-password --cost 3 is refused", r.stderr.decode())
    r = subprocess.run([tool, "hash-password"], input=b"", capture_output=True, timeout=30)
    lab.check(r.returncode != 0, "tlswatch hash-password with no password exits nonzero")
    check_hash_password_tty(lab, tool)
    r = subprocess.run([tool, "frobnicate"], capture_output=True, timeout=30)
    lab.check(r.returncode == 2 and b"hash-password" in r.stderr,
              "tlswatch with an unknown command exits 2 and lists the commands")


def check_hash_password_tty(lab, tool):
    """On a terminal: prompts, no echo of the password, asked twice."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(tool, [tool, "hash-password", "--cost", "4"])
    out = b""

    def read_until(marker, limit=10.0):
        nonlocal out
        deadline = time.monotonic() + limit
        while marker not in out and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        return marker in out

    ok1 = read_until(b"Password:")
    # Both lines at once, right after the first prompt, as a paste or a
    # fast typist would: once echoed (echo went off after the prompt) and
    # thrown away (TCSAFLUSH), after which the tool waited forever.
    os.write(fd, b"tty-secret\ntty-secret\n")
    ok2 = read_until(b"Again:")
    read_until(b"$2b$04$")
    status = L.wait_child(pid, 10.0)
    lab.check(status is not None, "hash-password on a terminal exits within 10 s "
              "of the typed-ahead answers", out.decode(errors="replace"))
    if status is None:
        status = 0xff00
    try:
        while True:
            chunk = os.read(fd, 1024)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(fd)
    text = out.decode(errors="replace")
    lab.check(ok1 and ok2, "hash-password on a terminal prompts twice", text)
    lab.check("tty-secret" not in text, "hash-password on a terminal does not echo the password",
              text)
    m = re.search(r"\$2b\$04\$[./A-Za-z0-9]{53}", text)
    lab.check(m and os.WEXITSTATUS(status) == 0 and L.bcrypt_check("tty-secret", m.group(0)),
              "hash-password on a terminal prints a hash of what was typed", text)


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    check_hash_password(lab)
    check_bad_web(lab, pki)
    check_tls_and_client_certs(lab, pki)
    check_basic_auth(lab, pki)
    check_limits(lab)


if __name__ == "__main__":
    L.Lab("web").main(main)
