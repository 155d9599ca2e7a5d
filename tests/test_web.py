#!/usr/bin/env python3
"""test_web.py - the protected metrics endpoint: TLS, client certificates,
basic auth with bcrypt hashes made by another implementation
(python3-bcrypt), its checks off the loop, cached and rate-limited per
address, the connection and request limits and deadlines, the web block's -t
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


def get_from(port, source, auth=None, path="/metrics", timeout=10.0):
    """(status, headers, body, seconds) of a plain HTTP GET from SOURCE."""
    import http.client
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    st, hd, body = L._request(conn, "GET", path, auth)
    return st, hd, body, time.monotonic() - t0


def check_auth_rate_limit(lab):
    """Failures are limited per address: 5 at once, then 429 with
    Retry-After, the right password included; other addresses unaffected."""
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
targets = ();
web = { basic_auth_users = { alice = "%s"; }; };
""" % (port, L.bcrypt_hash("alicepw", cost=4))
    d = L.Daemon(lab, conf, name="tlswatchd-ratelimit", wait=False)
    if not L.wait_port("127.0.0.1", port, 10.0, d.proc):
        raise L.DaemonFailure("tlswatchd-ratelimit did not listen")
    guesser, other = "127.0.6.1", "127.0.6.2"
    got = [get_from(port, guesser, (u, "wrong%d" % i))[0]
           for i, u in enumerate(["alice", "mallory", "alice", "eve", "alice"])]
    lab.eq(got, [401] * 5, "5 failed checks from an address (unknown users among "
           "them) are answered 401")
    st, hd, body, _ = get_from(port, guesser, ("alice", "wrong6"))
    ra = hd.get("retry-after", "")
    lab.check(st == 429 and ra.isdigit() and 1 <= int(ra) <= 10,
              "the 6th is answered 429 with Retry-After (%s)" % ra, "%d %r" % (st, hd))
    st, _, _, _ = get_from(port, guesser, ("mallory", "x"))
    lab.eq(st, 429, "an unknown user from that address gets 429 too")
    st, _, _, _ = get_from(port, guesser, ("alice", "alicepw"))
    lab.eq(st, 429, "so does the right password from that address: a guess that "
           "happens to be right costs as much as any other")
    st, _, _, _ = get_from(port, guesser)
    lab.eq(st, 401, "a request without credentials still gets 401 (nothing tried)")
    st, _, body, _ = get_from(port, other, ("alice", "alicepw"))
    lab.check(st == 200 and "tlswatch_build_info" in body,
              "the right password from another address gets 200 meanwhile")
    d.stop()
    lab.check("password checks answered 429" in d.stderr(),
              "the 429s are logged in a summary", d.stderr())


def check_auth_off_loop(lab):
    """A password check runs on a worker: the loop answers meanwhile; a
    verified password is remembered; a check in flight survives a reload
    and does not hold up a stop."""
    port = L.free_port()
    hashed = L.bcrypt_hash("slowpw", cost=13)   # a few hundred ms of bcrypt
    conf = """listen = "127.0.0.1:%%d";
targets = ();
web = { basic_auth_users = { slow = "%s"; }; max_connections = %%d; };
""" % hashed
    d = L.Daemon(lab, conf % (port, 16), name="tlswatchd-offloop", wait=False)
    if not L.wait_port("127.0.0.1", port, 10.0, d.proc):
        raise L.DaemonFailure("tlswatchd-offloop did not listen")
    import threading
    res = {}

    def slow_get(key, source):
        res[key] = get_from(port, source, ("slow", "slowpw"))

    t = threading.Thread(target=slow_get, args=("first", "127.0.7.1"))
    t.start()
    time.sleep(0.05)
    st, _, _, took = get_from(port, "127.0.7.2")
    t.join(30)
    first = res.get("first")
    lab.check(first is not None and first[0] == 200, "the right password gets 200",
              repr(first))
    lab.check(st == 401 and first is not None and took < first[3] / 2,
              "while its check runs, another request is answered (401 in %.3f s; the "
              "check took %.3f s)" % (took, first[3] if first else -1))
    st, _, _, again = get_from(port, "127.0.7.1", ("slow", "slowpw"))
    lab.check(st == 200 and first is not None and again < first[3] / 3,
              "the same credentials again are answered from the cache (%.3f s after "
              "%.3f s)" % (again, first[3] if first else -1))
    st, _, _, _ = get_from(port, "127.0.7.1", ("slow", "slowpW"))
    lab.eq(st, 401, "other credentials are checked, not taken from the cache")

    # a reload that replaces the server while a check is in flight: the
    # request is answered by the old server, which then goes
    t = threading.Thread(target=slow_get, args=("reload", "127.0.7.3"))
    t.start()
    time.sleep(0.05)
    start = len(d.stderr())
    d.reload(conf % (port, 15))
    t.join(30)
    got = res.get("reload")
    lab.check(got is not None and got[0] == 200 and got[1].get("connection") == "close",
              "a check in flight across a reload is answered 200 (Connection: close)",
              repr(got))
    lab.check(d.wait_log("reload: done", 10, start), "the reload went through",
              d.stderr()[start:])
    st, _, _, _ = get_from(port, "127.0.7.4", ("slow", "slowpw"))
    lab.eq(st, 200, "the new server answers the right password")

    # stopping with a check in flight: a clean exit, not libmicrohttpd's
    # panic over a suspended connection
    t = threading.Thread(target=slow_get, args=("stop", "127.0.7.5"))
    t.start()
    time.sleep(0.05)
    d.stop(limit=2.0)
    t.join(30)


def closed_by_server(sock, timeout):
    """Whether the server closes SOCK (EOF or reset) within TIMEOUT s; the
    seconds it took, or None."""
    t0 = time.monotonic()
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return time.monotonic() - t0
    except ConnectionResetError:
        return time.monotonic() - t0
    except socket.timeout:
        return None


def check_limits(lab):
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
targets = ();
web = { max_connections = 2; connection_timeout = "2s"; max_request_size = 2048;
        max_connections_per_address = 2; request_line_timeout = "1500ms";
        header_timeout = "3s"; };
""" % port
    d = L.Daemon(lab, conf, name="tlswatchd-limits")
    # two connections that stall after their first byte take both slots
    # (one that sends nothing the kernel does not even hand over: see
    # check_deferred) ...
    held = []
    for _ in range(2):
        held.append(socket.create_connection(("127.0.0.1", port), timeout=5,
                                             source_address=("127.0.5.1", 0)))
        held[-1].sendall(b"G")
        time.sleep(0.1)
    time.sleep(0.1)
    # ... and a third, with a request, takes the slot of the older one
    t0 = time.monotonic()
    third = socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=("127.0.5.2", 0))
    third.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = b""
    third.settimeout(2.0)
    try:
        while not answer.endswith(b"ok\n"):
            chunk = third.recv(4096)
            if not chunk:
                break
            answer += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    took = time.monotonic() - t0
    third.close()
    lab.check(answer.startswith(b"HTTP/1.1 200") and took < 1.0,
              "max_connections = 2, both slots idle: a third connection is served at "
              "once (%.3f s)" % took, repr(answer[:80]))
    first_closed = closed_by_server(held[0], 0.5)
    second_closed = closed_by_server(held[1], 0.1)
    lab.check(first_closed is not None and second_closed is None,
              "the newcomer evicted the oldest idle connection, and only it",
              "first closed: %r, second closed: %r" % (first_closed, second_closed))
    # request_line_timeout: no request line 1.5 s after accept, and it goes
    t = closed_by_server(held[1], 5.0)
    lab.check(t is not None and t < 2.5,
              "request_line_timeout = 1500ms: a connection without a request line is "
              "closed (after %s s more)" % (t and "%.2f" % t))
    for s in held:
        s.close()

    # max_connections_per_address = 2: a third from one address is refused
    # at once, another address is still served
    mine = [socket.create_connection(("127.0.0.1", port), timeout=5,
                                     source_address=("127.0.5.3", 0)) for _ in range(3)]
    for s in mine:
        s.sendall(b"G")
    refused = closed_by_server(mine[2], 1.0)
    lab.check(refused is not None,
              "max_connections_per_address = 2: a third connection from the address "
              "is closed at once")
    lab.check(closed_by_server(mine[0], 0.1) is None and
              closed_by_server(mine[1], 0.1) is None,
              "... and its first two stay open")
    st, _, _ = L.http_request("127.0.0.1", port, "GET", "/healthz", timeout=2)
    lab.eq(st, 200, "a client from another address is served meanwhile")
    for s in mine:
        s.close()

    # header_timeout: a request line at once, then a header byte every
    # 0.3 s: the idle timeout alone would never fire; the connection goes
    # at 3 s after accept all the same
    slow = socket.create_connection(("127.0.0.1", port), timeout=5,
                                    source_address=("127.0.5.4", 0))
    t0 = time.monotonic()
    slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    slow.settimeout(0.3)
    gone = None
    while time.monotonic() - t0 < 8.0:
        try:
            slow.send(b"a")
        except OSError:
            gone = time.monotonic() - t0
            break
        try:
            if slow.recv(4096) == b"":
                gone = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            gone = time.monotonic() - t0
            break
    slow.close()
    lab.check(gone is not None and 2.8 < gone < 4.5,
              "header_timeout = 3s: headers trickling a byte every 0.3 s are cut off "
              "3 s after accept (at %s s)" % (gone and "%.2f" % gone))

    # libmicrohttpd 0.9.75 closes the connection after an answer given
    # before the request's end (as ours are): no connection is kept alive
    ka = socket.create_connection(("127.0.0.1", port), timeout=5)
    ka.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    ka.settimeout(2.0)
    try:
        while True:
            chunk = ka.recv(4096)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        got = None
    ka.close()
    lab.check(got is not None and got.startswith(b"HTTP/1.1 200") and
              b"\r\nConnection: close\r\n" in got,
              "an HTTP/1.1 request is answered and its connection closed", repr(got))

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
    err = d.stderr()
    lab.check(re.search(r"httpd: \d+ waiting connections evicted at max_connections", err),
              "the evictions and refusals are logged, in a summary", err)
    lab.check("Server reached connection limit" not in err,
              "libmicrohttpd's line per refused connection is not logged", err)


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
        ("no connection per address", "max_connections_per_address = 0;",
         r"web\.max_connections_per_address: must be between 1 and"),
        ("a header deadline below 100 ms", 'header_timeout = "50ms";',
         r"web\.header_timeout: must be between 100ms and 1h"),
        ("a request line deadline beyond the header deadline",
         'request_line_timeout = "20s"; header_timeout = "10s";',
         r"web\.request_line_timeout: 20s is longer than header_timeout \(10s\)"),
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
    check_auth_rate_limit(lab)
    check_auth_off_loop(lab)
    check_limits(lab)


if __name__ == "__main__":
    L.Lab("web").main(main)
