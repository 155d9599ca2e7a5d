#!/usr/bin/env python3
"""test_notify.py - the systemd notification protocol as systemd would see
it: a datagram socket named by $NOTIFY_SOCKET receives READY=1 (only once
the metrics listener accepts connections) with a STATUS= summary,
WATCHDOG=1 at half of $WATCHDOG_USEC, RELOADING=1 with MONOTONIC_USEC then
READY=1 around a reload, and STOPPING=1 on SIGTERM. Run once with a socket
path and once in the abstract namespace ('@')."""

import os
import re
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402


class Listener:
    """The service manager's end: every datagram, with its arrival time,
    and whether the metrics port accepted a connection right then."""

    def __init__(self, lab, abstract, port):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "tlswatch-test-%d-%d" % (os.getpid(), port)
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            path = os.path.join(lab.tmp, "notify-%d.sock" % port)
            self.sock.bind(path)
            self.env = path
        self.sock.settimeout(0.1)
        self.port = port
        self.msgs = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            text = data.decode(errors="replace")
            listening = None
            if "READY=1" in text:
                listening = L.can_connect("127.0.0.1", self.port, 1.0)
            with self.lock:
                self.msgs.append((time.monotonic(), text, listening))

    def wait(self, pred, timeout=10.0, start=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for i, m in enumerate(self.msgs[start:], start):
                    if pred(m[1]):
                        return i, m
            time.sleep(0.02)
        return None, None

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def fields(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def run(lab, abstract):
    how = "abstract socket" if abstract else "socket path"
    port = L.free_port()
    n = Listener(lab, abstract, port)
    closed = lab.closed_port()
    # warn is the configuration's: the STATUS= line counts within it
    conf = ('listen = "127.0.0.1:%d";\ninterval = "1s"; timeout = "500ms"; warn = "10d";\n'
            'targets = ( { name = "down"; address = "%s"; } );\n' % (port, closed.address))
    d = L.Daemon(lab, conf, name="tlswatchd-notify-%s" % ("abstract" if abstract else "path"),
                 wait=False, env={"NOTIFY_SOCKET": n.env, "WATCHDOG_USEC": "400000"})
    try:
        i, m = n.wait(lambda t: "READY=1" in t)
        lab.check(m is not None, "%s: READY=1 arrives" % how, d.stderr())
        if m is None:
            return
        lab.check(m[2], "%s: the metrics listener accepts connections when READY=1 "
                  "arrives" % how)
        st = fields(m[1]).get("STATUS", "")
        lab.check(re.match(r"1 target, \d+ failing, \d+ expiring within 10 days$", st),
                  "%s: READY=1 comes with a STATUS= summary (%r)" % (how, st))
        # the failing target shows in a later STATUS
        _, m = n.wait(lambda t: "STATUS=1 target, 1 failing" in t, 15)
        lab.check(m is not None, "%s: STATUS= reports the failing target" % how)
        # watchdog: pings keep coming, from the loop
        with n.lock:
            start = len(n.msgs)
        time.sleep(1.5)
        with n.lock:
            pings = [t for t, text, _ in n.msgs[start:] if "WATCHDOG=1" in text]
        lab.check(len(pings) >= 3,
                  "%s: WATCHDOG=1 keeps coming with WATCHDOG_USEC=400000 (%d in 1.5 s)"
                  % (how, len(pings)))
        # reload
        with n.lock:
            start = len(n.msgs)
        d.proc.send_signal(signal.SIGHUP)
        i, m = n.wait(lambda t: "RELOADING=1" in t, 10, start)
        lab.check(m is not None, "%s: SIGHUP sends RELOADING=1" % how)
        if m is not None:
            usec = fields(m[1]).get("MONOTONIC_USEC", "")
            now_us = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
            lab.check(usec.isdigit() and abs(int(usec) - now_us) < 60e6,
                      "%s: RELOADING=1 carries MONOTONIC_USEC on CLOCK_MONOTONIC (%r)"
                      % (how, usec))
            j, m2 = n.wait(lambda t: "READY=1" in t, 10, i + 1)
            lab.check(m2 is not None, "%s: READY=1 follows the reload" % how)
        # stop
        with n.lock:
            start = len(n.msgs)
        d.stop()
        _, m = n.wait(lambda t: "STOPPING=1" in t, 5, start)
        lab.check(m is not None, "%s: SIGTERM sends STOPPING=1" % how)
    finally:
        n.close()


def main(lab):
    lab.require_daemon()
    run(lab, abstract=False)
    run(lab, abstract=True)
    # without $NOTIFY_SOCKET nothing is sent and nothing breaks
    port = L.free_port()
    d = L.Daemon(lab, 'listen = "127.0.0.1:%d";\ntargets = ();\n' % port,
                 name="tlswatchd-nonotify")
    d.stop()
    # (paths in the log, such as state file names, may say "notify")
    said = [line for line in d.stderr().splitlines()
            if "notify" in " ".join(w for w in line.split() if "/" not in w).lower()]
    lab.check(not said, "without NOTIFY_SOCKET the daemon logs nothing about notifying",
              "\n".join(said))


if __name__ == "__main__":
    L.Lab("notify").main(main)
