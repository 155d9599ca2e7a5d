#!/usr/bin/env python3
"""test_alerts.py - the shipped rules and dashboard against the real thing.

tlswatchd probes real servers (openssl s_server on loopback): a certificate
that expires in 5 days, a wrong name, a closed port, a chain without its
intermediate, a target with a client certificate, and one whose server is
replaced by another presenting a new chain mid-test. A real Prometheus
(loopback only) scrapes it and loads etc/prometheus/tlswatch-rules.yml.

Checked: every metric the rules and dashboard name is in a real scrape;
TLSCertificateExpiryCritical fires with the subject and the days left;
TLSChainChanged stays silent after the first start (every chain first
seen) and fires for the renewed target only; and every query of
etc/grafana/tlswatch.json, its variables resolved as Grafana does, is
evaluated by that Prometheus: each succeeds, returns what the lab makes
(the failing, unverified, incomplete, client-certificate and renewed
targets where they belong), keeps to the selected target, and the top-k
panels to k series."""

import json
import os
import re
import shutil
import sys
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

# Metrics the rules and dashboard may name before the daemon exports them.
# Listed here so the check is exact: each is reported as pending, and the
# test fails if one exists already (then it belongs in no list) or if
# anything else is missing.
PENDING = set()
# Metrics this lab cannot make: they exist only for certificates with
# revocation sources or renewal information (tests/test_revocation.py checks
# that each metric of these families the rules and dashboard name is in its
# scrape), or with a Web PKI or policy finding, which this lab's clean
# certificates do not have (tests/test_webpki_tls.py and
# tests/test_policy_tls.py scrape tlswatch_cert_issue for every finding),
# or of a protocol scan, which this lab's targets do not run
# (tests/test_scan_tls.py scrapes tlswatch_tls_version_supported and
# tlswatch_target_issue). Here their queries must evaluate, and may have no
# data.
ELSEWHERE = re.compile(r"^tlswatch_(revocation_|cert_revoked_|ari_|ocsp_staple_|cert_issue$|"
                       r"tls_version_supported$|target_issue$)")

NAME = re.compile(r"\b((?:tlswatch|process)_[a-z0-9_]+)")
# a metric name and its matchers, if any, in a PromQL expression
SELECTOR = re.compile(r"\b((?:tlswatch|process)_[a-z0-9_]+)\b(\{[^}]*\})?")

TARGETS = ("soon", "wrongname", "closed", "noint", "client", "renewed")
TOPK = 2     # the dashboard's $topk in this test: fewer than the targets
RANGE = 30   # seconds: the dashboard's time range ($__range) here


def names_in_rules(path):
    with open(path) as f:
        text = f.read()
    return set(NAME.findall(text))


def dashboard_queries(dash):
    """(panel title, target dict) for every query of every panel."""
    return [(p.get("title", ""), t) for p in dash["panels"] for t in p.get("targets", [])]


def variable_queries(dash):
    return {v["name"]: v["definition"] for v in dash["templating"]["list"]
            if v.get("type") == "query"}


def names_in_dashboard(dash):
    names = set()
    for _, t in dashboard_queries(dash):
        names |= set(NAME.findall(t["expr"]))
    for q in variable_queries(dash).values():
        names |= set(NAME.findall(q))
    return names


def get(port, path, params=None):
    url = "http://127.0.0.1:%d%s" % (port, path)
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


def alerts_named(pport, name, state="firing"):
    try:
        alerts = get(pport, "/api/v1/alerts")["data"]["alerts"]
    except (OSError, ValueError, KeyError):
        return None
    return [a for a in alerts if a["labels"].get("alertname") == name and a["state"] == state]


def wait_until(fn, timeout, interval=0.5):
    """fn() until it returns something true, or None after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def query(pport, expr, instant=True):
    """Evaluate EXPR: instant at now, or as a range over the last RANGE
    seconds in 1 s steps. Returns (status, warnings, result or error)."""
    now = time.time()
    try:
        if instant:
            r = get(pport, "/api/v1/query", {"query": expr, "time": "%.3f" % now})
        else:
            r = get(pport, "/api/v1/query_range", {"query": expr, "start": "%.3f" % (now - RANGE),
                                                   "end": "%.3f" % now, "step": "1"})
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        return "error", [], body
    except (OSError, ValueError) as e:
        return "error", [], str(e)
    return r.get("status"), r.get("warnings", []), r["data"]["result"]


def label_values(pport, definition, resolve):
    """Grafana's label_values(SELECTOR, LABEL) for a Prometheus variable:
    the label's values among the series SELECTOR matches."""
    m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", definition)
    if not m:
        raise L.HardError("not a label_values() query: %r" % definition)
    sel, label = resolve(m.group(1)), m.group(2)
    r = get(pport, "/api/v1/label/%s/values" % label, {"match[]": sel})
    return sorted(r["data"])


def regex_value(values):
    """A multi-value variable as Grafana writes it into a regex matcher."""
    esc = [re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", v) for v in values]
    return esc[0] if len(esc) == 1 else "(%s)" % "|".join(esc)


def substitute(expr, var):
    for k in sorted(var, key=len, reverse=True):
        expr = expr.replace("$" + k, var[k])
    return expr


def check_selectors(lab, dash, per_target):
    """Every tlswatch_ selector of every query keeps to the job and
    instance variables, and to the target variable where series have one."""
    bad = []
    for title, t in dashboard_queries(dash):
        for name, matchers in SELECTOR.findall(t["expr"]):
            want = ['job=~"$job"', 'instance=~"$instance"']
            if name in per_target:
                want.append('target=~"$target"')
            missing = [w for w in want if w not in (matchers or "")]
            if missing:
                bad.append("%s: %s%s lacks %s" % (title, name, matchers, ", ".join(missing)))
    lab.check(not bad, "every dashboard selector keeps to $job, $instance (and $target)",
              "\n".join(bad))


def started_lab(lab, pki):
    soon = lab.serve_chain(pki.path("soon-chain.pem"), pki.path("soon.key"))
    bad = lab.serve_chain(pki.path("wrongname-chain.pem"), pki.path("wrongname.key"))
    noint = lab.serve_chain(pki.path("noint-chain.pem"), pki.path("good.key"))
    good = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    renewed = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    closed = lab.closed_port()
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
interval = "2s"; timeout = "1s";
ca_file = "%s";
targets = (
  { name = "soon"; address = "%s"; server_name = "good.test"; labels = { env = "test"; }; },
  { name = "wrongname"; address = "%s"; server_name = "good.test"; },
  { name = "closed"; address = "%s"; },
  { name = "noint"; address = "%s"; server_name = "good.test"; },
  { name = "client"; address = "%s"; server_name = "good.test";
    client_cert = "%s"; client_key = "%s"; },
  { name = "renewed"; address = "%s"; server_name = "good.test"; }
);
""" % (port, pki.path("ca.pem"), soon.address, bad.address, closed.address, noint.address,
       good.address, pki.path("client.pem"), pki.path("client.key"), renewed.address)
    d = L.Daemon(lab, conf, name="tlswatchd-alerts")
    lab.daemon = d
    return d, port, renewed


def start_prometheus(lab, rules, port):
    prom = L.require_tool("prometheus", "prometheus")
    pport = L.free_port()
    pdir = os.path.join(lab.tmp, "prometheus")
    os.makedirs(pdir)
    shutil.copy(rules, os.path.join(pdir, "tlswatch-rules.yml"))
    with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
        f.write("""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - tlswatch-rules.yml
scrape_configs:
  - job_name: tlswatch
    static_configs:
      - targets: ["127.0.0.1:%d"]
""" % port)
    cmd = [prom, "--config.file=" + os.path.join(pdir, "prometheus.yml"),
           "--storage.tsdb.path=" + os.path.join(pdir, "data"),
           "--web.listen-address=127.0.0.1:%d" % pport,
           "--log.level=warn"]
    L.Server(lab, "prometheus", cmd, "127.0.0.1", pport, "prometheus.log")
    return pport


def check_expiry_alert(lab, pki, pport):
    firing = wait_until(lambda: alerts_named(pport, "TLSCertificateExpiryCritical"), 45)
    lab.check(firing, "Prometheus shows TLSCertificateExpiryCritical firing",
              json.dumps(alerts_named(pport, "TLSCertificateExpiryCritical", "pending"))[:3000])
    if not firing:
        return
    a = firing[0]
    lab.eq(a["labels"].get("target"), "soon", "the critical alert is for the target 'soon'")
    lab.eq(a["labels"].get("env"), "test", "the alert carries the target's configured labels")
    lab.eq(a["labels"].get("severity"), "critical", "the alert's severity is critical")
    desc = a["annotations"].get("description", "")
    m = re.search(r"expires in (\d+\.\d) days", desc)
    want = (pki.info("soon").not_after - time.time()) / 86400
    lab.check(m and abs(float(m.group(1)) - want) < 0.2,
              "the annotation gives the days left (%.1f)" % want, desc)
    subj = pki.info("soon").subject
    lab.check(subj in desc, "the annotation names the subject (%s)" % subj, desc)
    alerts = get(pport, "/api/v1/alerts")["data"]["alerts"]
    others = [x["labels"]["target"] for x in alerts
              if x["labels"].get("alertname", "").startswith("TLSCertificateExp")
              and x["labels"].get("target") != "soon"]
    lab.eq(others, [], "no expiry alert for targets with 90-day certificates or none")


def last_evaluation(pport, rule):
    """When Prometheus last evaluated RULE, in seconds since the epoch."""
    for g in get(pport, "/api/v1/rules")["data"]["groups"]:
        for r in g["rules"]:
            if r["name"] == rule:
                ts = r.get("lastEvaluation", "")
                m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", ts)
                if m:
                    t = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
                    return t - time.timezone + float(m.group(2) or 0)
    return 0.0


def check_chain_changed(lab, pki, pport, renewed):
    # After a first start every target's chain is "first seen": the
    # timestamp is recent, the counter 0. The rule must stay silent.
    def recent():
        res = query(pport, "time() - tlswatch_chain_changed_timestamp_seconds < 3600")[2]
        return res if isinstance(res, list) and len(res) >= 5 else None

    first = sorted(r["metric"]["target"] for r in wait_until(recent, 30) or [])
    lab.check(len(first) >= 5, "after the first start the change timestamp is recent for the "
              "probed targets (%s): the case that made TLSChainChanged fire" % ", ".join(first))
    t0 = time.time()
    evaluated = wait_until(lambda: last_evaluation(pport, "TLSChainChanged") > t0 + 1, 20)
    lab.check(evaluated, "Prometheus evaluated TLSChainChanged after the chains were first seen")
    quiet = alerts_named(pport, "TLSChainChanged", state="firing")
    pending = alerts_named(pport, "TLSChainChanged", state="pending")
    lab.eq(sorted(a["labels"]["target"] for a in (quiet or []) + (pending or [])), [],
           "TLSChainChanged is silent after a first start")

    # A new chain on the same address: month-chain instead of good-chain.
    host, port = renewed.address.rsplit(":", 1)
    renewed.stop()
    lab.serve_chain(pki.path("month-chain.pem"), pki.path("month.key"), port=int(port))
    firing = wait_until(lambda: alerts_named(pport, "TLSChainChanged"), 30)
    lab.eq(sorted(a["labels"]["target"] for a in firing or []), ["renewed"],
           "TLSChainChanged fires for the renewed target, and only for it")
    if firing:
        desc = firing[0]["annotations"].get("description", "")
        lab.check(pki.info("month").subject in desc and "expires in 1" in desc,
                  "its annotation names the new leaf and its days left", desc)


def check_dashboard(lab, pki, dash, pport, daemon_port, expo):
    instance = "127.0.0.1:%d" % daemon_port
    # --- the variables, resolved as Grafana's label_values() does
    varq = variable_queries(dash)
    lab.eq(sorted(varq), ["instance", "job", "target"],
           "the dashboard has job, instance and target variables")
    var = {"job": ".*", "instance": ".*", "target": ".*", "topk": str(TOPK),
           "__range": "%ds" % RANGE, "__rate_interval": "10s", "__interval": "1s"}
    got = {}
    for name in ("job", "instance", "target"):
        got[name] = label_values(pport, varq[name], lambda s: substitute(s, var))
    lab.eq(got["job"], ["tlswatch"], "$job offers the scrape job")
    lab.eq(got["instance"], [instance], "$instance offers the daemon's address")
    lab.eq(got["target"], sorted(TARGETS), "$target offers every configured target")
    topk = [v for v in dash["templating"]["list"] if v["name"] == "topk"]
    lab.check(topk and topk[0].get("type") == "custom", "the dashboard has a topk variable")

    # --- every query, with every variable at All
    results = {}
    failed = []
    for title, t in dashboard_queries(dash):
        expr = substitute(t["expr"], var)
        status, warnings, res = query(pport, expr, instant=bool(t.get("instant")))
        results[(title, t["refId"])] = res
        if status != "success" or warnings:
            failed.append("%s [%s]: %s %s: %s" % (title, t["refId"], status, warnings, res))
        elif not res and not all(ELSEWHERE.match(n) for n in NAME.findall(expr)):
            failed.append("%s [%s]: no data: %s" % (title, t["refId"], expr))
    lab.check(not failed, "Prometheus evaluates each of the dashboard's %d queries, each with data"
              % len(dashboard_queries(dash)), "\n".join(failed))

    def targets_of(title, ref="A"):
        return sorted({r["metric"].get("target") for r in results.get((title, ref)) or []})

    def value_of(title, ref="A"):
        res = results.get((title, ref)) or []
        return float(res[0]["value"][1]) if res and "value" in res[0] else None

    lab.eq(value_of("Targets"), float(len(TARGETS)), "the Targets stat counts every target")
    lab.eq(targets_of("Failing targets"), ["closed"], "the failing-targets table: the closed port")
    lab.eq(targets_of("Unverified chains and why"), ["noint", "wrongname"],
           "the unverified table: the wrong name and the missing intermediate")
    issues = {(r["metric"].get("target"), r["metric"].get("issue"))
              for r in results.get(("Chain issues", "A")) or []}
    lab.check(issues and all(t == "noint" for t, _ in issues),
              "the chain-issues table lists the incomplete chain only (%s)"
              % ", ".join("%s/%s" % i for i in sorted(issues)))
    versions = {r["metric"].get("version"): float(r["value"][1])
                for r in results.get(("TLS versions", "A")) or []}
    lab.eq(sum(versions.values()), 5.0, "the TLS versions panel counts the 5 targets that "
           "completed a handshake (%s)" % versions)
    ciphers = results.get(("TLS version and cipher by target", "A")) or []
    lab.check(len(ciphers) == 5 and all(r["metric"].get("cipher") and r["metric"].get("version")
                                        for r in ciphers),
              "the version-and-cipher table has both for each of the 5", json.dumps(ciphers)[:2000])
    client = results.get(("Client certificates by days left", "A")) or []
    days = (pki.info("client").not_after - time.time()) / 86400
    lab.check([r["metric"].get("target") for r in client] == ["client"] and
              abs(float(client[0]["value"][1]) - days) < 0.01,
              "the client-certificate table shows the client target's certificate (%.1f days)"
              % days, json.dumps(client))
    lab.eq(targets_of("Chain changes"), ["renewed"], "the chain-changes panel shows the renewal only")
    slow = results.get(("Probe latency: the $topk slowest targets", "A")) or []
    probed = len(expo.find("tlswatch_probe_duration_seconds"))
    lab.check(probed > TOPK and 0 < len(slow) <= TOPK,
              "the latency panel draws the %d slowest of %d targets over the whole range (%d series)"
              % (TOPK, probed, len(slow)))
    soonest = results.get(("Certificate expiry (days): the $topk soonest", "A")) or []
    steps_ok = all(sum(1 for r in soonest if any(v[0] == ts for v in r["values"])) <= TOPK
                   for ts in {v[0] for r in soonest for v in r["values"]})
    lab.check(soonest and steps_ok and "soon" in [r["metric"].get("target") for r in soonest],
              "the expiry graph draws at most %d series at a time, 'soon' among them" % TOPK)
    lab.check(all(results.get(("Probe latency across targets", ref)) for ref in "ABCD"),
              "the latency quantiles across targets have data")

    # --- the target variable narrows every per-target query
    one = dict(var, target=regex_value(["soon"]))
    leaks = []
    for title, t in dashboard_queries(dash):
        status, warnings, res = query(pport, substitute(t["expr"], one), instant=bool(t.get("instant")))
        if status != "success":
            leaks.append("%s: %s %s" % (title, status, res))
            continue
        other = sorted({r["metric"]["target"] for r in res if r["metric"].get("target", "soon") != "soon"})
        if other:
            leaks.append("%s: %s" % (title, ", ".join(other)))
    lab.check(not leaks, "with $target = soon no query returns another target", "\n".join(leaks))
    lab.eq(value_of_query(pport, substitute(
        [t for ti, t in dashboard_queries(dash) if ti == "Targets"][0]["expr"], one)), 1.0,
        "with $target = soon the Targets stat says 1")
    # a job that is not there: the daemon-wide stats go empty
    none = dict(var, job="nosuchjob")
    res = query(pport, substitute([t for ti, t in dashboard_queries(dash)
                                   if ti == "Probes queued"][0]["expr"], none))[2]
    lab.eq(res, [], "with $job matching nothing the queue stat has no data")


def value_of_query(pport, expr):
    status, _, res = query(pport, expr)
    return float(res[0]["value"][1]) if status == "success" and res else None


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    top = os.path.join(lab.srcdir, "..")
    rules = os.path.join(top, "etc", "prometheus", "tlswatch-rules.yml")
    with open(os.path.join(top, "etc", "grafana", "tlswatch.json")) as f:
        dash = json.load(f)
    pki = lab.pki()
    d, port, renewed = started_lab(lab, pki)
    got, expo = d.wait_for(lambda e: all(e.value("tlswatch_probe_timestamp_seconds", target=t)
                                         for t in TARGETS), 15)
    lab.check(got, "every target probed once")
    lab.promtool(expo.text)

    # --- every metric named by the rules and the dashboard is scraped
    in_rules = names_in_rules(rules)
    in_dash = names_in_dashboard(dash)
    lab.check(len(in_rules) >= 8 and len(in_dash) >= 8,
              "names found in the rules (%d) and the dashboard (%d)"
              % (len(in_rules), len(in_dash)))
    scraped = set(expo.families) | {s.name for s in expo.samples}
    for where, names in (("rules", in_rules), ("dashboard", in_dash)):
        missing = sorted(n for n in names - scraped - PENDING if not ELSEWHERE.match(n))
        lab.check(not missing, "every metric the %s name is in a real scrape" % where,
                  "missing: %s" % ", ".join(missing))
        pending = sorted(names & PENDING)
        if pending:
            lab.note("%s: pending: %s" % (where, ", ".join(pending)))
    lab.check(not (PENDING & scraped),
              "the pending metrics are not exported yet (else drop them from PENDING)",
              ", ".join(sorted(PENDING & scraped)))
    lab.check(dash.get("uid") and dash.get("panels"), "the dashboard parses, with panels")
    titles = " | ".join(p.get("title", "") for p in dash["panels"])
    for want in ("days left", "Failing", "Unverified", "Chain changes", "Chain issues",
                 "TLS versions", "Client certificates", "latency"):
        lab.check(want in titles, "the dashboard has a panel on %s" % want, titles)
    per_target = {s.name for s in expo.samples if "target" in s.labels}
    check_selectors(lab, dash, per_target)

    # --- a real Prometheus with the shipped rules
    pport = start_prometheus(lab, rules, port)
    check_expiry_alert(lab, pki, pport)
    with open(rules) as f:
        shipped = sorted(re.findall(r"^\s*- alert: *(\S+)", f.read(), re.M))
    try:
        loaded = sorted(r["name"] for g in get(pport, "/api/v1/rules")["data"]["groups"]
                        for r in g["rules"])
    except (OSError, ValueError, KeyError) as e:
        loaded = [str(e)]
    lab.eq(loaded, shipped, "Prometheus loaded the %d shipped rules" % len(shipped))
    check_chain_changed(lab, pki, pport, renewed)

    # --- the dashboard's queries against what Prometheus scraped
    time.sleep(2)   # a few scrapes after the renewal, for the rate windows
    check_dashboard(lab, pki, dash, pport, port, d.scrape())
    d.stop()


if __name__ == "__main__":
    L.Lab("alerts").main(main)
