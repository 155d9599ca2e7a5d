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
                    history: document.querySelectorAll('#history tbody tr').length,
                    path: Array.from(document.querySelectorAll('#path tbody tr')).map(
                      function (tr) { return {anchor: tr.classList.contains('anchor'),
                                              subject: tr.querySelector('td.subject').textContent};
                      }),
                    runs: document.querySelectorAll('#runs tbody tr').length,
                    pem: (document.querySelector('a[href$="format=pem"]') || {}).href || null};""")
        lab.eq(detail["certs"], 2, "the target page shows both certificates")
        lab.check(HOSTILE_CN in detail["subject"], "the hostile subject is text on the target page",
                  detail["subject"])
        for want in ("ECDSA-SHA256", "DNS:good.test", "IP:127.0.0.1", "days left", "SHA-256"):
            lab.check(want in detail["text"], "the target page shows %r" % want)
        lab.eq(detail["history"], 1, "the target page has a history row")
        lab.eq([p["anchor"] for p in detail["path"]], [False, False, True],
               "the verified path: leaf, intermediate, then the trust anchor")
        lab.check(detail["path"] and "tlswatch Test Root CA" in detail["path"][-1]["subject"],
                  "the anchor (not presented) is shown with its subject", str(detail["path"]))
        lab.check(detail["runs"] >= 1, "the target page shows the probe history (%d runs)"
                  % detail["runs"])
        status, headers, body = d.request("GET", "/targets/hostile?format=pem")
        with open(pki.path("hostile-chain.pem")) as f:
            want_pem = [b.strip() for b in L.pem_blocks(f.read())]
        lab.check(status == 200 and headers.get("content-type", "").startswith(
                  "application/pem-certificate-chain") and detail["pem"]
                  and [b.strip() for b in L.pem_blocks(body)] == want_pem,
                  "the page links the chain as PEM, and it is the chain presented",
                  "%s %s %s" % (status, headers.get("content-type"), body[:200]))
        wd.screenshot(os.path.join(outdir, "status-target.png"))
        d.stop()
        many(lab, wd, servers, closed, ca, outdir)
    finally:
        wd.quit()


MANY = 2000

PAGE_JS = """
return {rows: Array.from(document.querySelectorAll('#targets tbody tr')).map(function (tr) {
          var c = {};
          Array.from(document.querySelectorAll('#targets thead th')).forEach(function (th, i) {
            c[th.getAttribute('data-col')] = tr.cells[i].textContent; });
          c.state = tr.getAttribute('data-state');
          return c; }),
        shown: document.querySelector('#shown').textContent,
        page: document.querySelector('nav.pages .page').textContent,
        next: (document.querySelector('a[rel=next]') || {}).href || null,
        refresh: (document.querySelector('meta[http-equiv=refresh]') || {}).content || null,
        sortLinks: Array.from(document.querySelectorAll('#targets thead th a')).map(
          function (a) { return a.href; })};
"""


def many(lab, wd, servers, closed, ca, outdir):
    """2,000 targets: the page filters by state, label and text, sorts by a
    column either way and pages, all on the server (links and a GET form: no
    script of the page's own; the test's script only reads the DOM)."""
    # most fail at once (a closed port): 400 handshakes a round, so that a
    # loaded machine (or ASan) probes every target within the interval and
    # no ok target times out into failing
    def kind(i):
        return "ok" if i % 10 == 0 else "unverified" if i % 10 == 1 else "failing"
    addr = {"failing": closed.address, "unverified": servers["expired"].address,
            "ok": servers["good"].address}
    port = L.free_port()
    rows = ",\n".join('  { name = "t%04d.example"; address = "%s"; server_name = "good.test"; '
                      'ca_file = %s; labels = { team = "%s"; }; }'
                      % (i, addr[kind(i)], ca, "red" if i % 2 else "blue") for i in range(MANY))
    # first probes are spread over the first interval: a short one, so that
    # every target has a result within it
    # (a timeout long enough that a loaded machine or ASan does not turn
    # an ok target into a failing one: the filters are compared with the
    # states the addresses give)
    text = ('listen = "127.0.0.1:%d";\ninterval = "20s"; timeout = "10s"; concurrency = 64;\n'
            'targets = (\n%s\n);\n' % (port, rows))
    d = L.Daemon(lab, text, name="many")

    def all_probed(e):
        return len(e.find("tlswatch_probe_success")) == MANY
    v, _ = d.wait_for(all_probed, 60)
    lab.check(v, "%d targets probed" % MANY)
    base = "http://127.0.0.1:%d/" % port

    wd.get(base)
    p = wd.js(PAGE_JS)
    lab.eq(len(p["rows"]), 250, "2,000 targets: the first page has 250 rows")
    lab.check("1 to 250 of %d" % MANY in p["shown"] and "page 1 of 8" in p["page"],
              "the page says which rows of how many it shows", p["shown"] + " / " + p["page"])
    lab.check(all(r.get("address") and r.get("sni") == "good.test" and r.get("labels")
                  and r.get("starttls") is not None for r in p["rows"]),
              "each row shows address, SNI, STARTTLS and labels", str(p["rows"][:2]))
    lab.eq(p["refresh"], None, "no refresh unless asked")

    # follow "next" as a user would: page 2 continues where page 1 ended
    first = [r["name"] for r in p["rows"]]
    wd.get(p["next"])
    p2 = wd.js(PAGE_JS)
    lab.check("251 to 500" in p2["shown"] and not set(first) & {r["name"] for r in p2["rows"]},
              "page 2 holds the next 250 rows, none of page 1's", p2["shown"])

    # the filter form, submitted as a user would (the form's own GET)
    wd.get(base)
    wd.js("""var f = document.getElementById('filter');
             f.querySelector('input[value=ok]').checked = true;
             f.querySelector('input[name=label]').value = 'team=blue';
             f.submit(); return 1;""")
    deadline = time.monotonic() + 30
    while "state=ok" not in wd.js("return location.search;"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    p = wd.js(PAGE_JS)
    want = sorted("t%04d.example" % i for i in range(MANY) if kind(i) == "ok" and i % 2 == 0)
    lab.eq(sorted(r["name"] for r in p["rows"]), want,
           "state=ok and label team=blue: exactly the %d ok blue targets" % len(want))
    lab.check(all(r["state"] == "ok" for r in p["rows"]), "every row shown is ok")

    # text in the name, any case
    wd.get(base + "?q=T012")
    p = wd.js(PAGE_JS)
    lab.eq(sorted(r["name"] for r in p["rows"]), ["t%04d.example" % i for i in range(120, 130)],
           "q=T012 finds the names holding t012, any case")

    # sort by name, down, via the heading's link (clicked twice: up, then down)
    wd.get(base)
    link = [h for h in wd.js(PAGE_JS)["sortLinks"] if "sort=name" in h][0]
    wd.get(link)
    up = wd.js(PAGE_JS)
    lab.eq([r["name"] for r in up["rows"]][:3], ["t0000.example", "t0001.example", "t0002.example"],
           "the Target heading sorts by name, up")
    link = [h for h in up["sortLinks"] if "sort=name" in h][0]
    wd.get(link)
    down = wd.js(PAGE_JS)
    names = [r["name"] for r in down["rows"]]
    lab.eq(names[:2], ["t1999.example", "t1998.example"], "clicked again, down")
    lab.eq(names, sorted(names, reverse=True), "the whole page in descending order")

    # paging bounds and refresh
    wd.get(base + "?sort=name&per_page=300&page=7&refresh=30")
    p = wd.js(PAGE_JS)
    lab.eq([r["name"] for r in p["rows"]], ["t%04d.example" % i for i in range(1800, 2000)],
           "per_page=300, page 7: the last 200 names")
    lab.eq(p["next"], None, "the last page has no next link")
    lab.check(p["refresh"] is not None and p["refresh"].startswith("30"),
              "refresh=30 makes a meta refresh of 30 s", str(p["refresh"]))
    wd.screenshot(os.path.join(outdir, "status-many.png"))

    # the API takes the same filters; a bad parameter is refused with why
    status, _, body = d.request("GET", "/api/targets?state=unverified&label=team%3Dred&sort=name")
    api = json.loads(body) if status == 200 else {}
    want = sorted("t%04d.example" % i for i in range(MANY) if kind(i) == "unverified" and i % 2)
    lab.eq([t["name"] for t in api.get("targets", [])], want,
           "the API filters as the page does (state, label) and sorts by name")
    lab.eq(api.get("total"), MANY, "the API says how many targets there are in all")
    status, _, body = d.request("GET", "/api/targets?state=nonsense")
    lab.check(status == 400 and "state" in body and "ok" in body,
              "an unknown state is refused (400), naming the parameter and the choices", body)
    d.stop(limit=5.0)   # 2,000 state files are drained at shutdown


if __name__ == "__main__":
    L.Lab("statuspage").main(main)
