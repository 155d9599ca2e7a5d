"""loadgen.py - hostile and well-behaved clients of the metrics endpoint, for
tests/test_endpoint_load.py and bench/endpoint.

Every load is bounded: a fixed number of sockets or threads, a reconnect rate
cap, and a stop() that joins each thread with a deadline. Everything talks to
loopback only; the clients take source addresses from 127.0.0.0/8 (all of it
reaches lo on Linux), so that each attacking "host" has an address of its own
and the well-behaved scraper another.

No packaged tool plays these clients (they must misbehave on purpose: hold a
connection without a request, send a request a byte a second), hence this
script.
"""

import base64
import http.client
import selectors
import socket
import threading
import time


def source_addresses(first, count):
    """COUNT loopback addresses 127.X.Y.Z from FIRST ("127.0.1.1") on."""
    a = [int(x) for x in first.split(".")]
    n = (a[1] << 16) | (a[2] << 8) | a[3]
    return ["127.%d.%d.%d" % (((n + i) >> 16) & 255, ((n + i) >> 8) & 255, (n + i) & 255)
            for i in range(count)]


def _connect_nb(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    return s


class _Holder:
    """Connections kept open from a thread; each one reopened (at most
    REOPEN_RATE a second in all) when the server closes it."""

    def __init__(self, host, port, count, sources, duration, reopen_rate=100.0):
        self.host, self.port = host, port
        self.count, self.sources = count, list(sources)
        self.duration = duration
        self.reopen_rate = reopen_rate
        self.opened = 0          # connections made, reopens included
        self.closed_by_server = 0
        self.lifetimes = []      # seconds from connect to the server's close
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self, timeout=5.0):
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _open(self, sel, i):
        s = _connect_nb(self.host, self.port, self.sources[i % len(self.sources)])
        self.opened += 1
        sel.register(s, selectors.EVENT_READ, (i, self._fresh_state()))
        return s

    def _fresh_state(self):
        return {"sent": 0, "born": time.monotonic()}

    def _tick(self, sel, now):
        """Called about every 50 ms: what the connections send."""

    def _run(self):
        sel = selectors.DefaultSelector()
        end = time.monotonic() + self.duration
        for i in range(self.count):
            try:
                self._open(sel, i)
            except OSError:
                pass
        pending = []          # indexes waiting for a reopen
        budget, last = 0.0, time.monotonic()
        try:
            while not self._stop.is_set() and time.monotonic() < end:
                for key, _ in sel.select(0.05):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if data:
                        continue     # an answer (408, 429): read and ignore
                    sel.unregister(s)
                    s.close()
                    self.closed_by_server += 1
                    self.lifetimes.append(time.monotonic() - key.data[1]["born"])
                    pending.append(key.data[0])
                now = time.monotonic()
                budget = min(budget + (now - last) * self.reopen_rate, self.reopen_rate)
                last = now
                while pending and budget >= 1:
                    budget -= 1
                    try:
                        self._open(sel, pending.pop(0))
                    except OSError:
                        pass
                self._tick(sel, now)
        finally:
            for key in list(sel.get_map().values()):
                try:
                    key.fileobj.close()
                except OSError:
                    pass
            sel.close()

    def open_now(self):
        return self.opened - self.closed_by_server


class IdleFlood(_Holder):
    """COUNT TCP connections that never send a byte."""


class Slowloris(_Holder):
    """COUNT connections each sending a request line and then its headers
    one byte per second, headers that never end."""

    LINE = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
    REQUEST = LINE + b"X-Slow: " + b"a" * 4096

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.bytes_sent = 0

    def _tick(self, sel, now):
        for key in list(sel.get_map().values()):
            st = key.data[1]
            # the request line at once, then a header byte a second
            due = len(self.LINE) + int(now - st["born"]) + 1
            if st["sent"] >= due or st["sent"] >= len(self.REQUEST):
                continue
            try:
                n = key.fileobj.send(self.REQUEST[st["sent"]:due])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue     # not connected yet, or reset: the read side sees it
            st["sent"] += n
            self.bytes_sent += n


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Guessers:
    """COUNT clients, each from its own address, sending requests with wrong
    passwords back to back (a new connection each) for DURATION seconds."""

    def __init__(self, host, port, count, sources, duration, user="prometheus"):
        self.host, self.port = host, port
        self.sources = list(sources)[:count]
        self.duration = duration
        self.user = user
        self.status = {}           # HTTP status -> count
        self.errors = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(count)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self, timeout=10.0):
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def _run(self, i):
        end = time.monotonic() + self.duration
        n = 0
        while not self._stop.is_set() and time.monotonic() < end:
            n += 1
            conn = http.client.HTTPConnection(self.host, self.port, timeout=10,
                                              source_address=(self.sources[i], 0))
            try:
                conn.request("GET", "/metrics", headers={
                    "Authorization": basic(self.user, "guess-%d-%d" % (i, n))})
                r = conn.getresponse()
                r.read()
                with self._lock:
                    self.status[r.status] = self.status.get(r.status, 0) + 1
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.errors += 1
                time.sleep(0.01)
            finally:
                conn.close()

    def total(self):
        return sum(self.status.values())


class Scraper:
    """The well-behaved client: GET PATH every PERIOD seconds on a new
    connection from SOURCE, each with a TIMEOUT; records (start, seconds,
    status or the error's name)."""

    def __init__(self, host, port, source="127.0.0.1", path="/metrics", auth=None,
                 period=0.25, timeout=10.0):
        self.host, self.port, self.source = host, port, source
        self.path, self.period, self.timeout = path, period, timeout
        self.headers = {"Authorization": basic(*auth)} if auth else {}
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self, timeout=None):
        self._stop.set()
        self._thread.join(timeout if timeout is not None else self.timeout + 5)
        return not self._thread.is_alive()

    def one(self):
        t0 = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                          source_address=(self.source, 0))
        try:
            conn.request("GET", self.path, headers=self.headers)
            r = conn.getresponse()
            body = r.read()
            what = r.status if body else "empty"
        except (OSError, http.client.HTTPException) as e:
            what = type(e).__name__
        finally:
            conn.close()
        return t0, time.monotonic() - t0, what

    def _run(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            res = self.one()
            with self._lock:
                self.results.append(res)
            self._stop.wait(max(0.0, self.period - (time.monotonic() - t0)))

    def since(self, t):
        with self._lock:
            return [r for r in self.results if r[0] >= t]


def latency_summary(results):
    """(count, answered 200, median s, worst s); a failure counts as its
    time to fail."""
    if not results:
        return 0, 0, float("nan"), float("nan")
    lat = sorted(r[1] for r in results)
    ok = sum(1 for r in results if r[2] == 200)
    return len(results), ok, lat[len(lat) // 2], lat[-1]


class ProbeClock:
    """A TCP port the daemon probes: it records when each probe connects
    (the probe's start, as the target sees it) and closes at once, so every
    probe fails fast and its timing is the scheduler's alone."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.times = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.times.append(time.monotonic())
            c.close()

    def stop(self):
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()

    def worst_gap(self, start, end):
        """The longest time between two probes within [start, end]."""
        t = [x for x in self.times if start <= x <= end]
        if len(t) < 2:
            return float("nan"), len(t)
        return max(b - a for a, b in zip(t, t[1:])), len(t)


def histogram(text, name):
    """[(le, cumulative count)] of histogram NAME in exposition TEXT."""
    import re
    out = []
    for line in text.splitlines():
        m = re.match(r'^%s_bucket\{le="([^"]+)"\} (\S+)$' % re.escape(name), line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out.append((le, float(m.group(2))))
    return sorted(out)


def quantile(q, before, after):
    """The upper bound of the bucket holding quantile Q of the observations
    made between two scrapes of a histogram (None when there are none)."""
    inc = [(le, a - b) for (le, a), (_, b) in zip(after, before)]
    total = inc[-1][1] if inc else 0
    if total <= 0:
        return None, 0
    for le, c in inc:
        if c >= q * total:
            return le, int(total)
    return float("inf"), int(total)
