#!/usr/bin/env python3
"""test_statuspage.py - the status page in a real browser: headless Chromium
driven through chromedriver (WebDriver over HTTP, standard library only)
loads GET / from tlswatchd and the test reads the rendered DOM: one row per
target, soonest expiry first, each coloured by its state, the hostile
subject shown as text. A screenshot is saved under the test's output
directory. Also GET /targets/NAME and the JSON API."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

CHROMIUM = "/usr/bin/chromium"

# state -> background colour of its rows (status.c's style sheet)
COLOURS = {
    "ok": "rgb(212, 244, 212)",
    "warn": "rgb(255, 241, 168)",
    "crit": "rgb(255, 197, 138)",
    "unverified": "rgb(247, 176, 176)",
    "failing": "rgb(214, 198, 239)",
}

# as the page shows it (the newline made visible) and as the API carries it
HOSTILE_CN = 'evil\\"} tlswatch_probe_success{target=\\"forged\\"} 1\\nx\\\\y'
HOSTILE_RAW = 'evil\\"} tlswatch_probe_success{target=\\"forged\\"} 1\nx\\\\y'


class WebDriver:
    """Just enough of the W3C WebDriver protocol."""

    def __init__(self, lab):
        self.port = L.free_port()
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=lab.tmp)
        self.log = open(os.path.join(lab.tmp, "chromedriver.log"), "wb")
        self.proc = subprocess.Popen(["chromedriver", "--port=%d" % self.port],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=L._pdeathsig)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise L.HardError("chromedriver did not start")
            time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--user-data-dir=" + self.profile]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        self.session = self._call("POST", "/session", caps, timeout=120)["sessionId"]

    def _call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode())["value"]

    def get(self, url):
        self._call("POST", "/session/%s/url" % self.session, {"url": url}, timeout=120)

    def js(self, script):
        return self._call("POST", "/session/%s/execute/sync" % self.session,
                          {"script": script, "args": []})

    def screenshot(self, path):
        png = base64.b64decode(self._call("GET", "/session/%s/screenshot" % self.session))
        with open(path, "wb") as f:
            f.write(png)
        return png

    def quit(self):
        try:
            self._call("DELETE", "/session/%s" % self.session, timeout=30)
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


ROWS_JS = """
return Array.from(document.querySelectorAll('#targets tbody tr')).map(function (tr) {
  return {state: tr.getAttribute('data-state'),
          name: tr.cells[0].textContent,
          href: tr.cells[0].querySelector('a').getAttribute('href'),
          days: tr.cells[2].textContent,
          subject: tr.querySelector('td.subject').textContent,
          subjectChildren: tr.querySelector('td.subject').children.length,
          colour: getComputedStyle(tr.cells[0]).backgroundColor};
});
"""


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    L.require_tool("chromedriver", "chromium-driver")
    if not os.access(CHROMIUM, os.X_OK):
        raise L.Missing("%s not found: install the Debian package chromium" % CHROMIUM)
    pki = lab.pki()
    ca = L.conf_string(pki.path("ca.pem"))
    servers = {
        "good": lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key")),
        "month": lab.serve_chain(pki.path("month-chain.pem"), pki.path("month.key")),
        "soon": lab.serve_chain(pki.path("soon-chain.pem"), pki.path("soon.key")),
        "expired": lab.serve_chain(pki.path("expired-chain.pem"), pki.path("expired.key")),
        "hostile": lab.serve_chain(pki.path("hostile-chain.pem"), pki.path("hostile.key")),
    }
    closed = lab.closed_port()
    # name -> (address, expected state); a name that needs URL-encoding too
    targets = {
        "good": (servers["good"].address, "ok"),
        "month <15d>": (servers["month"].address, "warn"),
        "soon": (servers["soon"].address, "crit"),
        "expired": (servers["expired"].address, "unverified"),
        "hostile": (servers["hostile"].address, "ok"),
        "closed": (closed.address, "failing"),
    }
    port = L.free_port()
    rows = ",\n".join('  { name = %s; address = "%s"; server_name = "good.test"; ca_file = %s; }'
                      % (L.conf_string(n), a, ca) for n, (a, _) in targets.items())
    text = ('listen = "127.0.0.1:%d";\ninterval = "2s"; timeout = "1s";\n'
            'warn = "21d"; crit = "7d";\ntargets = (\n%s\n);\n' % (port, rows))
    d = L.Daemon(lab, text, name="status")
    v, _ = d.wait_for(lambda e: all(e.value("tlswatch_probe_success", target=n) is not None
                                    for n in targets), 20)
    lab.check(v, "every target probed")

    # the JSON API first: it is what the page shows
    status, headers, body = d.request("GET", "/api/targets")
    lab.eq(status, 200, "GET /api/targets answers 200")
    lab.check(headers.get("content-type", "").startswith("application/json"),
              "GET /api/targets is application/json", headers.get("content-type"))
    api = json.loads(body)
    order = [t["name"] for t in api["targets"]]
    lab.eq({t["name"]: t["state"] for t in api["targets"]},
           {n: s for n, (_, s) in targets.items()}, "the API classifies every target")
    days = [t["days_left"] for t in api["targets"]]
    known = [x for x in days if x is not None]
    lab.check(known == sorted(known) and days[len(known):] == [None] * (len(days) - len(known)),
              "the API lists soonest expiry first, unknown last", str(days))
    hostile = [t for t in api["targets"] if t["name"] == "hostile"][0]
    lab.check(HOSTILE_RAW in hostile["leaf_subject"], "the API carries the hostile subject intact",
              hostile["leaf_subject"])
    status, _, body = d.request("GET", "/api/targets/" + urllib.parse.quote("month <15d>", safe=""))
    lab.check(status == 200 and json.loads(body)["name"] == "month <15d>",
              "GET /api/targets/NAME with an encoded name", body[:300])
    status, _, _ = d.request("GET", "/api/targets/nope")
    lab.eq(status, 404, "an unknown target is 404")
    status, _, _ = d.request("POST", "/")
    lab.eq(status, 405, "POST / is 405")

    outdir = os.environ.get("TEST_BUILDDIR") or lab.tmp
    os.makedirs(outdir, exist_ok=True)
    shot = os.path.join(outdir, "status.png")
    wd = WebDriver(lab)
    try:
        wd.get("http://127.0.0.1:%d/" % port)
        got = wd.js(ROWS_JS)
        lab.eq(len(got), len(targets), "the page has one row per target")
        lab.eq([r["name"] for r in got], order, "rows in the API's order: soonest expiry first")
        for r in got:
            want = targets.get(r["name"], (None, None))[1]
            lab.eq(r["state"], want, "row %r is %s" % (r["name"], want))
            lab.eq(r["colour"], COLOURS.get(want), "row %r is coloured as %s" % (r["name"], want))
        lab.eq(len(set(COLOURS.values())), len(COLOURS), "every state has its own colour")
        order_states = [r["state"] for r in got]
        lab.check(order_states[:3] == ["unverified", "crit", "warn"] and order_states[-1] == "failing",
                  "expired first, then 5 days, then 15 days; the failing target (no expiry) last",
                  str(order_states))
        h = [r for r in got if r["name"] == "hostile"]
        lab.check(h and HOSTILE_CN in h[0]["subject"] and h[0]["subjectChildren"] == 0,
                  "the hostile subject renders as text, no element made of it",
                  h[0]["subject"] if h else "no hostile row")
        month = [r for r in got if r["name"] == "month <15d>"]
        lab.check(month and month[0]["href"] == "/targets/month%20%3C15d%3E",
                  "links URL-encode target names", str(month))
        wd.screenshot(shot)
        lab.check(os.path.getsize(shot) > 1000, "screenshot saved to %s" % shot)

        # the target page: the full chain and its history
        wd.get("http://127.0.0.1:%d/targets/hostile" % port)
        detail = wd.js("""
            return {title: document.querySelector('h1').textContent,
                    certs: document.querySelectorAll('table.cert').length,
                    subject: document.querySelector('#depth0 td.subject').textContent,
                    text: document.body.textContent,
                    history: document.querySelectorAll('#history tbody tr').length};""")
        lab.eq(detail["certs"], 2, "the target page shows both certificates")
        lab.check(HOSTILE_CN in detail["subject"], "the hostile subject is text on the target page",
                  detail["subject"])
        for want in ("ECDSA-SHA256", "DNS:good.test", "IP:127.0.0.1", "days left", "SHA-256"):
            lab.check(want in detail["text"], "the target page shows %r" % want)
        lab.eq(detail["history"], 1, "the target page has a history row")
        wd.screenshot(os.path.join(outdir, "status-target.png"))
    finally:
        wd.quit()
    d.stop()


if __name__ == "__main__":
    L.Lab("statuspage").main(main)
