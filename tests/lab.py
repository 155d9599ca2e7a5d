"""lab.py - the shared harness of tlswatch's integration tests.

Everything a test needs around the daemon, on loopback only (127.0.0.0/8 and
::1): the test PKI (tests/pki.sh), real TLS servers (openssl s_server),
scripted peers no real server can play (silent, garbage, a closed port), the
daemon itself (Daemon), a Prometheus text-format parser, promtool, and a
reporter that prints one "ok - ..." / "not ok - ..." line per check and ends
with "N passed, M failed".

Standard library only; Python 3 as in Debian 12.

Environment (set by automake's `make check`):
  TLSWATCHD       absolute path of the daemon binary
  TEST_SRCDIR     the source tests/ directory (read-only under distcheck)
  TEST_BUILDDIR   the build tests/ directory (writable)
Exit status: 0 pass, 1 fail (a missing tool is a failure), 99 hard error.
Temporary files go under a fresh tempfile.mkdtemp(), never the source tree;
the directory is removed when every check passed and kept (and named) when
one failed. TLSWATCH_TEST_KEEP=1 keeps it always.
"""

import calendar
import hashlib
import http.client
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_HARD = 99

SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                     "ThreadSanitizer", "MemorySanitizer")


class Missing(Exception):
    """A tool or input the tests need is not there: a failure, not a skip."""


class HardError(Exception):
    """The harness itself could not go on (exit 99)."""


class DaemonFailure(Exception):
    """The daemon did something that stops the test from going on (crashed,
    never answered, served an unparsable scrape): a failure (exit 1)."""


# ---------------------------------------------------------------- processes

# Resolved once in the parent: a child between fork and exec must not
# import or load anything (other threads may hold locks).
try:
    import ctypes
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except Exception:  # best effort only
    _prctl = None


def _pdeathsig():
    """In the child: die with the test script, however the script ends."""
    if _prctl is not None:
        _prctl(1, 9)   # PR_SET_PDEATHSIG, SIGKILL


def wait_child(pid, timeout):
    """Wait for child PID at most TIMEOUT seconds; its wait status, or None
    when it had to be killed (it is reaped either way: no test waits
    forever on a child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return None


def require_tool(name, package):
    path = shutil.which(name)
    if path is None:
        raise Missing("%s not found in PATH: install the Debian package %s"
                      % (name, package))
    return path


def c_env():
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    return env


# ---------------------------------------------------------------- ports

def hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now (the kernel's pick)."""
    s = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def free_port_is_free(host, port, udp=False):
    """True if PORT (TCP, or UDP with udp=True) can be bound on HOST right now."""
    s = socket.socket(_family(host), socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def can_connect(host, port, timeout=0.5):
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return False
    s.close()
    return True


def wait_port(host, port, timeout=5.0, proc=None):
    """Wait until host:port accepts a TCP connection. False on timeout or if
    proc (a Popen) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        if can_connect(host, port, 0.2):
            return True
        time.sleep(0.05)
    return False


def ipv6_loopback_available():
    """None when ::1 works, else a message saying why not."""
    if not socket.has_ipv6:
        return "this Python has no IPv6 support"
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError as e:
        return "cannot create an IPv6 socket: %s" % e
    try:
        s.bind(("::1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        c = socket.create_connection(("::1", port), timeout=1)
        c.close()
    except OSError as e:
        return "cannot listen on and connect to [::1]: %s" % e
    finally:
        s.close()
    return None


# ---------------------------------------------------------------- PKI

PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----\r?\n?",
                    re.S)


def pem_blocks(text):
    return [m.group(0).rstrip("\r\n") + "\n" for m in PEM_RE.finditer(text)]


def _openssl_date(s):
    # "Nov 22 10:22:30 2026 GMT" (LC_ALL=C); day may be space padded
    return calendar.timegm(time.strptime(" ".join(s.split()), "%b %d %H:%M:%S %Y %Z"))


class CertInfo:
    """What the daemon must report about one certificate, read with the real
    tools: openssl for dates, serial and fingerprint, certtool (GnuTLS) for
    subject and issuer as GnuTLS prints them."""

    def __init__(self, pem, name="?"):
        self.name = name
        self.pem = pem
        self.der = ssl.PEM_cert_to_DER_cert(pem)
        out = subprocess.run(
            ["openssl", "x509", "-noout", "-startdate", "-enddate", "-serial",
             "-fingerprint", "-sha256"],
            input=pem.encode(), capture_output=True, env=c_env(), check=False, timeout=60)
        if out.returncode != 0:
            raise HardError("openssl x509 failed on %s: %s"
                            % (name, out.stderr.decode(errors="replace")))
        fields = {}
        for line in out.stdout.decode().splitlines():
            k, _, v = line.partition("=")
            fields[k.strip()] = v.strip()
        self.not_before = _openssl_date(fields["notBefore"])
        self.not_after = _openssl_date(fields["notAfter"])
        self.serial = fields["serial"].lower()
        fp = [v for k, v in fields.items() if "Fingerprint" in k][0]
        self.sha256 = fp.replace(":", "").lower()
        if self.sha256 != hashlib.sha256(self.der).hexdigest():
            raise HardError("openssl's SHA-256 fingerprint of %s disagrees with "
                            "hashlib's" % name)
        out = subprocess.run(["certtool", "-i"], input=pem.encode(),
                             capture_output=True, env=c_env(), check=False, timeout=60)
        if out.returncode != 0:
            raise HardError("certtool -i failed on %s: %s"
                            % (name, out.stderr.decode(errors="replace")))
        text = out.stdout.decode("utf-8", errors="replace")
        m = re.search(r"\n\tSubject: (.*?)\n\tSubject Public Key Algorithm:", text, re.S)
        if not m:
            raise HardError("no Subject in certtool -i output for %s" % name)
        self.subject = m.group(1)
        m = re.search(r"\n\tIssuer: (.*?)\n\tValidity:", text, re.S)
        if not m:
            raise HardError("no Issuer in certtool -i output for %s" % name)
        self.issuer = m.group(1)

    def __repr__(self):
        return "CertInfo(%s, subject=%r)" % (self.name, self.subject)


class PKI:
    """The test PKI made by $TEST_SRCDIR/pki.sh (or another script of
    tests/ that takes an output directory: webpki-corpus.sh) into a
    directory of ours."""

    def __init__(self, srcdir, outdir, script_name="pki.sh"):
        self.script_name = script_name
        script = os.path.join(srcdir, script_name)
        if not os.path.exists(script):
            raise Missing("%s not found" % script)
        require_tool("certtool", "gnutls-bin")
        require_tool("openssl", "openssl")
        self.dir = outdir
        r = subprocess.run(["sh", script, outdir], capture_output=True, timeout=300)
        if r.returncode != 0:
            raise HardError("sh %s %s failed (%d):\n%s%s" % (
                script, outdir, r.returncode, r.stdout.decode(errors="replace"),
                r.stderr.decode(errors="replace")))
        self._info = {}

    def path(self, name):
        p = os.path.join(self.dir, name)
        if not os.path.exists(p):
            raise HardError("%s made no %s" % (self.script_name, name))
        return p

    def info(self, name):
        """CertInfo of NAME.pem (a single certificate)."""
        if name not in self._info:
            with open(self.path(name + ".pem")) as f:
                blocks = pem_blocks(f.read())
            if len(blocks) != 1:
                raise HardError("%s.pem holds %d certificates, not 1" % (name, len(blocks)))
            self._info[name] = CertInfo(blocks[0], name)
        return self._info[name]

    def chain_infos(self, chainfile):
        """CertInfo of each certificate in a chain file, in file order."""
        with open(self.path(chainfile)) as f:
            return [CertInfo(b, "%s[%d]" % (chainfile, i))
                    for i, b in enumerate(pem_blocks(f.read()))]


def tls_peer_chain(host, port, server_name=None, extra=()):
    """The certificates a TLS server presents, as DER, in the order sent
    (openssl s_client -showcerts)."""
    cmd = ["openssl", "s_client", "-connect", hostport(host, port), "-showcerts"]
    if server_name:
        cmd += ["-servername", server_name]
    else:
        cmd += ["-noservername"]
    cmd += list(extra)
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10, env=c_env())
    text = r.stdout.decode(errors="replace")
    m = re.search(r"^\s*Protocol\s*:\s*(\S+)", text, re.M)
    proto = m.group(1) if m else None
    if proto is None:
        m = re.search(r"New, (TLSv[0-9.]+), Cipher", text)
        proto = m.group(1) if m else None
    return [ssl.PEM_cert_to_DER_cert(b) for b in pem_blocks(text)], proto


# ---------------------------------------------------------------- real servers

class Server:
    """A server process we started; stop() ends it by its pid."""

    def __init__(self, lab, desc, cmd, host, port, logname):
        self.lab = lab
        self.desc = desc
        self.cmd = cmd
        self.host = host
        self.port = port
        self.log_path = os.path.join(lab.tmp, logname)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=lab.tmp,
                                     preexec_fn=_pdeathsig)
        lab._servers.append(self)
        if not wait_port(host, port, 10.0, self.proc):
            out = self.output()
            self.stop()
            raise HardError("%s did not come up on %s (%s):\n%s"
                            % (desc, hostport(host, port), " ".join(cmd), out))

    @property
    def address(self):
        return hostport(self.host, self.port)

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


# ---------------------------------------------------------------- scripted peers

class _Peer:
    """A listening socket on loopback served by a thread of ours."""

    def __init__(self, lab, desc, host="127.0.0.1"):
        self.lab = lab
        self.desc = desc
        self.host = host
        self.sock = socket.socket(_family(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.accepted = 0          # connections accepted so far
        self.accept_times = []     # time.time() of each accept
        self._thread = threading.Thread(target=self._run, name=desc, daemon=True)
        self._thread.start()
        lab._peers.append(self)

    @property
    def address(self):
        return hostport(self.host, self.port)

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                self._idle()
                continue
            except OSError:
                break
            with self._lock:
                self.accepted += 1
                self.accept_times.append(time.time())
            self._handle(conn)

    def _idle(self):
        pass

    def _handle(self, conn):
        conn.close()

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class SilentPeer(_Peer):
    """Accepts TCP connections and never sends a byte; holds each connection
    open (reading and discarding) until the other side closes it."""

    def __init__(self, lab, host="127.0.0.1"):
        self.conns = []
        self.closed_durations = []   # seconds each connection was held open
        super().__init__(lab, "silent peer", host)

    def _handle(self, conn):
        conn.setblocking(False)
        with self._lock:
            self.conns.append((conn, time.monotonic()))

    def _idle(self):
        with self._lock:
            conns = list(self.conns)
        if not conns:
            return
        r, _, _ = select.select([c for c, _ in conns], [], [], 0)
        for c, t0 in conns:
            if c in r:
                try:
                    data = c.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    with self._lock:
                        self.conns.remove((c, t0))
                        self.closed_durations.append(time.monotonic() - t0)
                    c.close()

    def open_connections(self):
        with self._lock:
            return len(self.conns)

    def wait_connection(self, timeout):
        """Wait until a connection is being held open; True if one is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections() > 0:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        super().stop()
        with self._lock:
            for c, _ in self.conns:
                c.close()
            self.conns = []


class GarbagePeer(_Peer):
    """Accepts, reads what the client sends first (the ClientHello), answers
    with bytes that are not TLS, then closes."""

    HTTP_400 = b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"

    def __init__(self, lab, host="127.0.0.1", payload=None):
        self.payload = payload if payload is not None else self.HTTP_400
        self.first_bytes = []   # the first bytes each client sent
        super().__init__(lab, "garbage peer", host)

    def _handle(self, conn):
        try:
            conn.settimeout(2.0)
            try:
                data = conn.recv(16384)
            except socket.timeout:
                data = b""
            with self._lock:
                self.first_bytes.append(data[:16])
            payload = self.payload
            if payload == "random":
                payload = bytes(random.getrandbits(8) for _ in range(256))
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            # let the client read it before the socket goes away
            conn.settimeout(0.5)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
        except OSError:
            pass
        finally:
            conn.close()


def tls_alert(description, level=2):
    """A TLS alert record (fatal by default), e.g. 40 = handshake_failure."""
    return bytes([0x15, 0x03, 0x03, 0x00, 0x02, level, description])


class ClosedPort:
    """A loopback port where nobody listens: connecting is refused (RST).
    The port stays bound (not listening) by us so nobody else can take it."""

    def __init__(self, lab, host="127.0.0.1"):
        self.host = host
        self.sock = socket.socket(_family(host), socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        lab._peers.append(self)

    @property
    def address(self):
        return hostport(self.host, self.port)

    def stop(self):
        self.sock.close()


# ---------------------------------------------------------------- Prometheus text format

class ParseError(Exception):
    pass


_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Sample:
    __slots__ = ("name", "labels", "value", "timestamp", "line")

    def __init__(self, name, labels, value, timestamp=None, line=0):
        self.name = name
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
        self.line = line

    def __repr__(self):
        return format_sample(self.name, self.labels, self.value).rstrip("\n")


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []


def escape_label_value(v):
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_sample(name, labels, value):
    if labels:
        inner = ",".join('%s="%s"' % (k, escape_label_value(v)) for k, v in labels.items())
        return "%s{%s} %s\n" % (name, inner, _fmt_value(value))
    return "%s %s\n" % (name, _fmt_value(value))


def _fmt_value(v):
    if v != v:
        return "NaN"
    if v == float("inf"):
        return "+Inf"
    if v == float("-inf"):
        return "-Inf"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _parse_value(tok, lineno):
    try:
        return float(tok)
    except ValueError:
        raise ParseError("line %d: bad value %r" % (lineno, tok))


def _parse_labels(line, pos, lineno):
    """line[pos] is '{'. Returns (labels, position after '}')."""
    labels = {}
    pos += 1
    n = len(line)
    while True:
        if pos >= n:
            raise ParseError("line %d: unterminated label set" % lineno)
        if line[pos] == "}":
            return labels, pos + 1
        m = _LABEL_NAME.match(line, pos)
        if not m:
            raise ParseError("line %d: bad label name at column %d" % (lineno, pos + 1))
        lname = m.group(0)
        pos = m.end()
        if line[pos:pos + 2] != '="':
            raise ParseError("line %d: expected =\" after label %s" % (lineno, lname))
        pos += 2
        val = []
        while True:
            if pos >= n:
                raise ParseError("line %d: unterminated value of label %s" % (lineno, lname))
            c = line[pos]
            if c == '"':
                pos += 1
                break
            if c == "\\":
                if pos + 1 >= n:
                    raise ParseError("line %d: dangling backslash" % lineno)
                e = line[pos + 1]
                if e == "\\":
                    val.append("\\")
                elif e == '"':
                    val.append('"')
                elif e == "n":
                    val.append("\n")
                else:
                    raise ParseError("line %d: bad escape \\%s in label %s" % (lineno, e, lname))
                pos += 2
                continue
            val.append(c)
            pos += 1
        if lname in labels:
            raise ParseError("line %d: label %s twice" % (lineno, lname))
        labels[lname] = "".join(val)
        if pos < n and line[pos] == ",":
            pos += 1
            continue
        if pos < n and line[pos] == "}":
            return labels, pos + 1
        raise ParseError("line %d: expected , or } at column %d" % (lineno, pos + 1))


def _family_of(name, families):
    if name in families:
        return name
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            f = families.get(base)
            if f is not None and f.type in ("histogram", "summary"):
                return base
    return name


class Exposition:
    """A parsed scrape: samples in order, families by name; strict about the
    text format (escapes, one TYPE per family, families not interleaved, no
    duplicate series)."""

    def __init__(self, text):
        self.text = text
        self.families = {}
        self.samples = []
        self._parse(text)

    def _parse(self, text):
        if text and not text.endswith("\n"):
            raise ParseError("exposition does not end with a newline")
        seen_series = set()
        finished = set()     # families whose group of lines has ended
        current = None
        for lineno, line in enumerate(text.split("\n")[:-1], 1):
            if line.strip() == "":
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    name = parts[2]
                    if not _METRIC_NAME.fullmatch(name):
                        raise ParseError("line %d: bad metric name %r" % (lineno, name))
                    fam = self.families.get(name)
                    if fam is None:
                        fam = self.families[name] = Family(name)
                    if name in finished or (current not in (None, name) and fam.samples):
                        raise ParseError("line %d: %s %s after its samples ended"
                                         % (lineno, parts[1], name))
                    if current != name and current is not None:
                        finished.add(current)
                    current = name
                    rest = parts[3] if len(parts) > 3 else ""
                    if parts[1] == "TYPE":
                        if fam.type is not None:
                            raise ParseError("line %d: second TYPE for %s" % (lineno, name))
                        if fam.samples:
                            raise ParseError("line %d: TYPE for %s after its samples"
                                             % (lineno, name))
                        if rest not in _TYPES:
                            raise ParseError("line %d: bad type %r" % (lineno, rest))
                        fam.type = rest
                    else:
                        if fam.help is not None:
                            raise ParseError("line %d: second HELP for %s" % (lineno, name))
                        fam.help = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n"
                                          else m.group(1), rest)
                continue
            m = _METRIC_NAME.match(line)
            if not m:
                raise ParseError("line %d: bad sample line %r" % (lineno, line))
            name = m.group(0)
            pos = m.end()
            labels = {}
            if pos < len(line) and line[pos] == "{":
                labels, pos = _parse_labels(line, pos, lineno)
            rest = line[pos:]
            if not rest.startswith((" ", "\t")):
                raise ParseError("line %d: expected a space before the value" % lineno)
            toks = rest.split()
            if len(toks) not in (1, 2):
                raise ParseError("line %d: trailing garbage %r" % (lineno, rest))
            value = _parse_value(toks[0], lineno)
            ts = None
            if len(toks) == 2:
                try:
                    ts = int(toks[1])
                except ValueError:
                    raise ParseError("line %d: bad timestamp %r" % (lineno, toks[1]))
            fname = _family_of(name, self.families)
            if fname in finished:
                raise ParseError("line %d: sample of %s after its group ended" % (lineno, fname))
            if current is not None and current != fname:
                finished.add(current)
            current = fname
            fam = self.families.get(fname)
            if fam is None:
                fam = self.families[fname] = Family(fname)
            key = (name, tuple(sorted(labels.items())))
            if key in seen_series:
                raise ParseError("line %d: duplicate series %s" % (lineno, line))
            seen_series.add(key)
            s = Sample(name, labels, value, ts, lineno)
            fam.samples.append(s)
            self.samples.append(s)

    def find(self, name, **labels):
        """Samples named NAME whose labels include all of LABELS."""
        return [s for s in self.samples if s.name == name
                and all(s.labels.get(k) == v for k, v in labels.items())]

    def one(self, name, **labels):
        """The single matching sample, or None; ParseError-free but raises
        LookupError when several match."""
        found = self.find(name, **labels)
        if len(found) > 1:
            raise LookupError("%d samples of %s%r" % (len(found), name, labels))
        return found[0] if found else None

    def value(self, name, default=None, **labels):
        s = self.one(name, **labels)
        return default if s is None else s.value

    def for_target(self, target):
        return [s for s in self.samples if s.labels.get("target") == target]

    def excerpt(self, target=None, names=None):
        out = []
        for s in self.samples:
            if target is not None and s.labels.get("target") != target:
                continue
            if names is not None and s.name not in names:
                continue
            out.append(repr(s))
        return "\n".join(out)


def promtool_check(text):
    """(exit status, output) of `promtool check metrics` on TEXT."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise Missing("promtool not found in PATH: install the Debian package prometheus")
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


# ---------------------------------------------------------------- HTTP

def http_request(host, port, method="GET", path="/", body=None, timeout=5.0,
                 headers=None, raw=False):
    """(status, headers as a dict with lowercase names, body text; bytes
    as received with raw=True)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        if not raw:
            data = data.decode("utf-8", errors="replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def https_request(host, port, method="GET", path="/", ca=None, cert=None, key=None,
                  auth=None, headers=None, timeout=5.0, server_name=None):
    """Like http_request, over TLS: the server verified against CA (a PEM
    file), with an optional client certificate (CERT, KEY) and basic AUTH
    (user, password). (status, headers, body)."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = server_name is not None
    if cert:
        ctx.load_cert_chain(cert, key)
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    return _request(conn, method, path, auth, headers)


def _request(conn, method, path, auth=None, headers=None):
    hdrs = dict(headers or {})
    if auth is not None:
        import base64
        hdrs["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % auth).encode()).decode()
    try:
        conn.request(method, path, headers=hdrs)
        r = conn.getresponse()
        data = r.read().decode("utf-8", errors="replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def http_request_auth(host, port, method="GET", path="/", auth=None, headers=None,
                      timeout=5.0):
    """http_request with basic AUTH (user, password) and extra HEADERS."""
    return _request(http.client.HTTPConnection(host, port, timeout=timeout),
                    method, path, auth, headers)


def bcrypt_hash(password, prefix="$2b$", cost=4):
    """A bcrypt hash made independently of tlswatch (python3-bcrypt), with
    the given variant prefix ($2a$, $2b$, $2y$: same algorithm)."""
    try:
        import bcrypt
    except ImportError:
        # a Python of its own (pyenv, venv) may lack the Debian module
        py = "/usr/bin/python3"
        if not os.path.exists(py):
            raise Missing("python3-bcrypt is needed: apt-get install python3-bcrypt")
        r = subprocess.run([py, "-c", "import bcrypt,sys; sys.stdout.write(bcrypt.hashpw("
                            "sys.stdin.buffer.read(), bcrypt.gensalt(%d)).decode())" % cost],
                           input=password.encode(), capture_output=True, timeout=60)
        if r.returncode != 0:
            raise Missing("python3-bcrypt is needed: apt-get install python3-bcrypt (%s)"
                          % r.stderr.decode(errors="replace").strip())
        h = r.stdout.decode()
    else:
        h = bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()
    return prefix + h[4:]


def bcrypt_check(password, hashed):
    """Whether python3-bcrypt accepts PASSWORD against HASHED."""
    try:
        import bcrypt
    except ImportError:
        r = subprocess.run(["/usr/bin/python3", "-c",
                            "import bcrypt,sys; p,h=sys.stdin.read().split('\\n',1);"
                            "sys.exit(0 if bcrypt.checkpw(p.encode(),h.strip().encode()) else 1)"],
                           input=(password + "\n" + hashed).encode(), capture_output=True, timeout=60)
        return r.returncode == 0
    return bcrypt.checkpw(password.encode(), hashed.encode())


# ---------------------------------------------------------------- the daemon

def conf_string(s):
    """A libconfig string literal."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Daemon:
    """tlswatchd running in the foreground on CONFIG_TEXT.

    The HTTP address used for /healthz and scrapes is the first listen
    address found in the config, unless http=(host, port) is given."""

    def __init__(self, lab, config_text, name="tlswatchd", args=("-v",), http=None,
                 wait=True, start_timeout=10.0, env=None, prefix=()):
        self.lab = lab
        self.name = name
        self.config_text = config_text
        self.config_path = os.path.join(lab.tmp, name + ".conf")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        if http is None:
            m = re.search(r'listen\s*[=:]\s*[\[(]?\s*"([^"]+)"', config_text)
            if not m:
                raise HardError("no listen address in the config of %s" % name)
            addr = m.group(1)
            mm = re.fullmatch(r"\[(.*)\]:(\d+)|([^:]+):(\d+)", addr)
            if not mm:
                raise HardError("cannot split listen address %r" % addr)
            http = (mm.group(1), int(mm.group(2))) if mm.group(1) else (mm.group(3), int(mm.group(4)))
        self.http = http
        self.stderr_path = os.path.join(lab.tmp, name + ".stderr")
        self._stderr = open(self.stderr_path, "wb")
        args = list(args)
        # Never the system's /var/lib/tlswatch: a config without state_dir
        # gets a directory of the test's own (tlswatchd -s).
        self.state_dir = None
        if "-s" in args:
            self.state_dir = args[args.index("-s") + 1]
        elif not re.search(r"^\s*state_dir\s*[=:]", config_text, re.M):
            self.state_dir = os.path.join(lab.tmp, name + ".state")
            args += ["-s", self.state_dir]
        self.cmd = list(prefix) + [lab.tlswatchd] + args + ["-c", self.config_path]
        self.start_time = time.time()
        proc_env = None
        if env:
            proc_env = dict(os.environ)
            proc_env.update(env)
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr,
                                     cwd=lab.tmp, preexec_fn=_pdeathsig, env=proc_env)
        self.last_scrape = None
        self.returncode = None
        self.stop_seconds = None
        lab._daemons.append(self)
        if wait:
            self.wait_healthy(start_timeout)

    def wait_healthy(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DaemonFailure("%s exited with status %d before answering /healthz:\n%s"
                                % (self.name, self.proc.returncode, self.stderr()))
            try:
                status, _, body = http_request(self.http[0], self.http[1], "GET",
                                               "/healthz", timeout=1.0)
                if status == 200:
                    self.wait_loaded(max(5.0, deadline - time.monotonic()))
                    return
                last = "status %d body %r" % (status, body)
            except OSError as e:
                last = str(e)
            time.sleep(0.05)
        raise DaemonFailure("%s did not answer GET /healthz on %s within %.0f s (%s):\n%s"
                        % (self.name, hostport(*self.http), timeout, last, self.stderr()))

    def wait_loaded(self, timeout):
        """Stored results load while the daemon serves (on the store's
        thread): until it logs that they are in, so that a test can ask for
        what it stored. Quietly gives up after TIMEOUT seconds: a daemon
        without a usable state directory logs no such line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            err = self.stderr()
            if "loaded the last result of" in err or " started: 0 targets" in err:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def stderr(self):
        if not self._stderr.closed:
            self._stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def request(self, method, path, body=None):
        return http_request(self.http[0], self.http[1], method, path, body)

    def scrape_text(self):
        status, headers, body = self.request("GET", "/metrics")
        self.last_scrape = body
        if status != 200:
            raise DaemonFailure("GET /metrics answered %d" % status)
        return body

    def scrape(self, check=False):
        """GET /metrics, parsed. With check=True also promtool-check it and
        report that as a check of its own."""
        text = self.scrape_text()
        try:
            expo = Exposition(text)
        except ParseError as e:
            self.lab.check(False, "scrape parses as Prometheus text format", str(e))
            raise DaemonFailure("unparsable scrape: %s" % e)
        if check:
            self.lab.promtool(text)
        return expo

    def wait_for(self, predicate, timeout, interval=0.1):
        """Scrape every INTERVAL seconds until predicate(exposition) is true.
        Returns (value, exposition); value is None on timeout."""
        deadline = time.monotonic() + timeout
        expo = None
        while True:
            expo = self.scrape()
            v = predicate(expo)
            if v:
                return v, expo
            if time.monotonic() >= deadline:
                return None, expo
            if self.proc.poll() is not None:
                raise DaemonFailure("%s exited with status %d while waiting:\n%s"
                                % (self.name, self.proc.returncode, self.stderr()))
            time.sleep(interval)

    def stop(self, sig=signal.SIGTERM, limit=1.0):
        """Send SIG, wait for the exit, check status 0 within LIMIT seconds
        and a clean stderr. Returns the measured seconds."""
        if self.proc.poll() is not None:
            self.lab.check(False, "%s still running before %s" % (self.name, sig.name),
                           "it had exited with status %d" % self.proc.returncode)
            self.returncode = self.proc.returncode
            self._stderr.close()
            return None
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(limit + 5.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        elapsed = time.monotonic() - t0
        self.stop_seconds = elapsed
        self.returncode = self.proc.returncode
        self.lab.check(self.returncode == 0 and elapsed < limit,
                       "%s exits with status 0 within %.1f s of %s (status %d after %.3f s)"
                       % (self.name, limit, sig.name, self.returncode, elapsed))
        self._stderr.close()
        self.check_sanitizers()
        return elapsed

    def check_sanitizers(self):
        err = self.stderr()
        bad = [m for m in SANITIZER_MARKERS if m in err]
        self.lab.check(not bad, "%s stderr has no sanitizer report" % self.name,
                       "found: %s" % ", ".join(bad) if bad else None)

    def reload(self, config_text=None):
        """Write CONFIG_TEXT (if given) over the config and send SIGHUP."""
        if config_text is not None:
            self.config_text = config_text
            with open(self.config_path, "w") as f:
                f.write(config_text)
        self.proc.send_signal(signal.SIGHUP)

    def wait_log(self, text, timeout=10.0, start=0):
        """Wait until stderr holds TEXT after offset START; True if it does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr()[start:]:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if not self._stderr.closed:
            self._stderr.close()


def run_tlswatch(lab, args, timeout=30.0):
    """Run the tlswatch tool. Returns (status, stdout, stderr)."""
    if not lab.tlswatch:
        raise Missing("TLSWATCH is not set: run through `make check`")
    r = subprocess.run([lab.tlswatch] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, cwd=lab.tmp, env=c_env())
    return (r.returncode, r.stdout.decode("utf-8", errors="replace"),
            r.stderr.decode("utf-8", errors="replace"))


def fnv1a64(text):
    """The hash tlswatchd spreads first probes with (util.c hash64)."""
    h = 14695981039346656037
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) % (1 << 64)
    return h


def late_name(prefix, interval_ms, at_least=0.5):
    """A target name whose first probe falls in the later part of its first
    interval (from AT_LEAST of it on), so a test can look at the daemon
    before that probe without racing it."""
    for i in range(100000):
        name = "%s-%d" % (prefix, i)
        if fnv1a64(name) % interval_ms >= at_least * interval_ms:
            return name
    raise HardError("no late name found")


def parse_state(text):
    """A tlswatchd state file (README, "State directory") as a dict; lists
    for cert, history, run and cert_issues. Raises ValueError when it is not complete."""
    lines = text.split("\n")
    if not lines or lines[0] != "format 1":
        raise ValueError("first line is not 'format 1'")
    if not text.endswith("end\n"):
        raise ValueError("no end line")
    out = {"cert": [], "history": [], "run": [], "cert_issues": []}
    for line in lines[1:]:
        if line == "end":
            break
        key, _, val = line.partition(" ")
        if key in ("cert", "history", "run", "cert_issues"):
            out[key].append(val)
        else:
            out[key] = re.sub("%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), val)
    else:
        raise ValueError("no end line")
    for k in ("name", "first_seen"):
        if k not in out:
            raise ValueError("no %s" % k)
    return out


def run_tlswatchd(lab, args, timeout=10.0):
    """Run tlswatchd to completion (e.g. -t). Returns (status, stdout, stderr)."""
    r = subprocess.run([lab.tlswatchd] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, cwd=lab.tmp)
    return (r.returncode, r.stdout.decode("utf-8", errors="replace"),
            r.stderr.decode("utf-8", errors="replace"))


# ---------------------------------------------------------------- the test run

class Lab:
    """One test script's run: its temp dir, what it started, its checks."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.hard = False
        here = os.path.dirname(os.path.abspath(__file__))
        self.srcdir = os.environ.get("TEST_SRCDIR") or here
        self.builddir = os.environ.get("TEST_BUILDDIR")
        self.tlswatchd = os.environ.get("TLSWATCHD")
        self.tlswatch = os.environ.get("TLSWATCH")
        self.tmp = tempfile.mkdtemp(prefix="tlswatch-%s-" % name)
        self._servers = []
        self._peers = []
        self._daemons = []
        self._pki = None
        self.daemon = None       # the daemon a test asserts on, if it likes
        self.t0 = time.monotonic()

    # -- reporting
    def check(self, cond, desc, detail=None):
        if cond:
            self.passed += 1
            print("ok - %s" % desc, flush=True)
        else:
            self.failed += 1
            print("not ok - %s" % desc, flush=True)
            if detail:
                for line in str(detail).splitlines():
                    print("#   %s" % line, flush=True)
        return bool(cond)

    def eq(self, got, want, desc, detail=None):
        msg = "got %r, want %r" % (got, want)
        if detail:
            msg += "\n" + str(detail)
        return self.check(got == want, desc, None if got == want else msg)

    def note(self, text):
        for line in str(text).splitlines():
            print("# %s" % line, flush=True)

    def promtool(self, text, desc="promtool check metrics accepts the scrape"):
        rc, out = promtool_check(text)
        if out.strip():
            self.note("promtool: " + out.strip())
        return self.check(rc == 0, desc, "promtool exit status %d" % rc if rc else None)

    def promtool_all(self, texts, desc):
        """One check: promtool accepts every text in TEXTS."""
        bad = []
        for text in dict.fromkeys(texts):
            rc, out = promtool_check(text)
            if rc != 0:
                bad.append("exit status %d: %s" % (rc, out.strip()))
        return self.check(not bad, "%s (%d scrapes)" % (desc, len(texts)), "\n".join(bad))

    # -- environment
    def require_daemon(self):
        if not self.tlswatchd:
            raise Missing("TLSWATCHD is not set: run through `make check` or set it "
                          "to the daemon binary")
        if not (os.path.isfile(self.tlswatchd) and os.access(self.tlswatchd, os.X_OK)):
            raise Missing("TLSWATCHD=%s is not an executable file (not built?)"
                          % self.tlswatchd)

    def require_tools(self):
        """Every outside tool the integration tests use, checked up front so
        that a missing one fails at once and says what to install."""
        require_tool("openssl", "openssl")
        require_tool("certtool", "gnutls-bin")
        require_tool("promtool", "prometheus")

    def pki(self):
        if self._pki is None:
            self._pki = PKI(self.srcdir, os.path.join(self.tmp, "pki"))
        return self._pki

    def webpki_corpus(self):
        """The Web PKI conformance corpus (tests/webpki-corpus.sh)."""
        if getattr(self, "_corpus", None) is None:
            self._corpus = PKI(self.srcdir, os.path.join(self.tmp, "webpki"),
                               "webpki-corpus.sh")
        return self._corpus

    # -- servers and peers
    def openssl_s_server(self, cert, key, chain=None, extra=(), host="127.0.0.1", port=None):
        """openssl s_server on HOST (loopback) presenting CERT then the
        certificates of CHAIN exactly in file order; never completes a chain
        from any store."""
        require_tool("openssl", "openssl")
        if port is None:
            port = free_port(host)
        cmd = ["openssl", "s_server", "-accept", hostport(host, port),
               "-cert", cert, "-key", key, "-no-CAfile", "-no-CApath", "-no-CAstore",
               "-www", "-quiet", "-naccept", "1000000"]
        if ":" in host:
            cmd.append("-6")
        else:
            cmd.append("-4")
        if chain:
            cmd += ["-cert_chain", chain]
        cmd += list(extra)
        return Server(self, "openssl s_server", cmd, host, port,
                      "s_server-%d.log" % port)

    def serve_chain(self, chainfile, keyfile, extra=(), host="127.0.0.1", port=None):
        """A server presenting the PEM file CHAINFILE exactly: its first
        certificate as the leaf (keyed by KEYFILE), the rest in file order."""
        with open(chainfile) as f:
            blocks = pem_blocks(f.read())
        if not blocks:
            raise HardError("no certificate in %s" % chainfile)
        self._nserve = getattr(self, "_nserve", 0) + 1
        base = os.path.join(self.tmp, "serve%d-%s" % (self._nserve, os.path.basename(chainfile)))
        leaf = base + ".leaf.pem"
        with open(leaf, "w") as f:
            f.write(blocks[0])
        rest = None
        if len(blocks) > 1:
            rest = base + ".rest.pem"
            with open(rest, "w") as f:
                f.write("".join(blocks[1:]))
        return self.openssl_s_server(leaf, keyfile, rest, extra, host, port)

    def gnutls_serv(self, certfile, keyfile, priority=None, allow_all_interfaces=False):
        """gnutls-serv: it has no option to choose the listening address and
        binds every address (0.0.0.0 and ::), which these tests must not do;
        so refused unless the caller accepts that explicitly. The tests use
        openssl_s_server, which listens on loopback only."""
        if not allow_all_interfaces:
            raise HardError("gnutls-serv listens on all addresses; use openssl_s_server")
        require_tool("gnutls-serv", "gnutls-bin")
        port = free_port()
        cmd = ["gnutls-serv", "--port", str(port), "--x509certfile", certfile,
               "--x509keyfile", keyfile, "--quiet", "--http"]
        if priority:
            cmd.append("--priority=" + priority)
        return Server(self, "gnutls-serv", cmd, "127.0.0.1", port,
                      "gnutls-serv-%d.log" % port)

    def silent_peer(self, host="127.0.0.1"):
        return SilentPeer(self, host)

    def garbage_peer(self, host="127.0.0.1", payload=None):
        return GarbagePeer(self, host, payload)

    def alert_peer(self, description=40, host="127.0.0.1"):
        """Answers the ClientHello with a fatal TLS alert (40:
        handshake_failure), then closes."""
        return GarbagePeer(self, host, tls_alert(description))

    def closed_port(self, host="127.0.0.1"):
        return ClosedPort(self, host)

    # -- end
    def cleanup(self):
        for d in self._daemons:
            try:
                d.kill()
            except Exception:
                pass
        for s in self._servers:
            try:
                s.stop()
            except Exception:
                pass
        for p in self._peers:
            try:
                p.stop()
            except Exception:
                pass

    def diagnostics(self):
        for d in self._daemons:
            print("# ---- %s: %s" % (d.name, " ".join(d.cmd)))
            print("# ---- %s stderr (status %s):" % (d.name, d.returncode))
            err = d.stderr() if os.path.exists(d.stderr_path) else ""
            if len(err) > 20000:
                err = "[... %d bytes cut ...]\n" % (len(err) - 20000) + err[-20000:]
            for line in err.splitlines():
                print("#   " + line)
            if d.last_scrape is not None:
                print("# ---- %s last scrape:" % d.name)
                for line in d.last_scrape.splitlines():
                    print("#   " + line)

    def main(self, fn):
        """Run fn(lab), then report and exit with the right status."""
        status = EXIT_PASS
        try:
            fn(self)
        except Missing as e:
            self.check(False, "test prerequisites", str(e))
        except DaemonFailure as e:
            self.check(False, "daemon", str(e))
        except HardError as e:
            self.hard = True
            self.check(False, "harness", str(e))
        except Exception:
            self.hard = True
            self.check(False, "unexpected exception", traceback.format_exc())
        finally:
            self.cleanup()
        if self.failed:
            self.diagnostics()
            status = EXIT_HARD if self.hard else EXIT_FAIL
        keep = os.environ.get("TLSWATCH_TEST_KEEP") == "1"
        if self.failed or keep:
            print("# files kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        print("# %.1f s" % (time.monotonic() - self.t0))
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        sys.exit(status)
