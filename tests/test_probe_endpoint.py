#!/usr/bin/env python3
"""test_probe_endpoint.py - GET /probe, as blackbox_exporter answers it.

Real servers on loopback (openssl s_server with tests/pki.sh's PKI, and
Postfix for STARTTLS) on 127.0.0.2; probe_allow allows only 127.0.0.2/32. One tlswatchd with
probe_endpoint on, prometheus-blackbox-exporter (Debian's) beside it on the
same targets, and a real Prometheus scraping tlswatchd's /probe with the
scrape configuration prometheus-operator generates for a Probe object
(relabelling __address__ into __param_target, instance and module).

Checked:
- every blackbox series the issue names, with blackbox's labels and values,
  side by side with blackbox_exporter's own answer for the same target
  (good chain, wrong name, closed port); probe_success 0 when the chain
  does not verify and no last_chain_expiry then; tlswatch's own series in
  the same answer, labelled with the target;
- 400 for a missing target, an unknown module, a bad target (URL with
  credentials, http://), a bad timeout header; 403 for an address outside
  probe_allow and for a name resolving to one (and no connection made);
- X-Prometheus-Scrape-Timeout-Seconds minus half a second bounds a probe
  of a silent server, capped by the module's timeout;
- STARTTLS targets through /probe against Postfix: an smtp:// URL and a
  module with starttls = "smtp" see the good leaf;
- two requests at once for one probe get one answer from one connection;
  a probe cut short by a reload, and by a stop, answers 503 saying which;
- debug=true answers the probe's log, its metrics and the module;
- probe_cache answers a second request from the first probe, and a
  request for a configured target probed alike from its scheduled result;
- Prometheus scrapes /probe with the operator's relabelling: up 1,
  probe_success 1 under the instance and module labels, and the
  shipped rule (etc/prometheus/tlswatch-probe-rules.yml)
  probe_ssl_earliest_cert_expiry - time() < 86400 * 30
  fires for the expiring target only;
- after a reload with probe_endpoint = false, /probe is a 404."""

import concurrent.futures
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import starttls_lab as S  # noqa: E402

HOST = "127.0.0.2"
BLACKBOX_NAMES = ("probe_success", "probe_duration_seconds", "probe_ssl_earliest_cert_expiry",
                  "probe_ssl_last_chain_expiry_timestamp_seconds", "probe_ssl_last_chain_info",
                  "probe_tls_version_info", "probe_ip_protocol", "probe_dns_lookup_time_seconds",
                  "probe_ip_addr_hash")
# compared value for value with blackbox's answer (durations differ)
COMPARED = ("probe_success", "probe_ssl_earliest_cert_expiry",
            "probe_ssl_last_chain_expiry_timestamp_seconds", "probe_ip_protocol",
            "probe_ip_addr_hash", "probe_tls_version_info")


def get(port, path, headers=None, timeout=10.0):
    return L.http_request_auth("127.0.0.1", port, "GET", path, headers=headers, timeout=timeout)


def probe_path(target, **kw):
    q = {"target": target}
    q.update(kw)
    return "/probe?" + urllib.parse.urlencode(q)


def series(expo, name):
    return [(tuple(sorted(s.labels.items())), s.value) for s in expo.find(name)]


def compare_blackbox(lab, what, ours, theirs, verified=True):
    if not verified:
        # blackbox verifies inside Go's handshake, so a chain that does not
        # verify leaves it without any probe_ssl_* or probe_tls_* series;
        # tlswatch keeps those it saw in a completed handshake (README)
        for name in ("probe_success", "probe_ip_protocol", "probe_ip_addr_hash"):
            lab.eq(series(ours, name), series(theirs, name),
                   "%s: %s as blackbox_exporter's" % (what, name))
        lab.eq(theirs.find("probe_ssl_last_chain_expiry_timestamp_seconds"), [],
               "%s: neither has probe_ssl_last_chain_expiry_timestamp_seconds" % what)
        return
    for name in COMPARED:
        lab.eq(series(ours, name), series(theirs, name),
               "%s: %s as blackbox_exporter's" % (what, name))
    # 0.23 has no serialnumber label: every other label as blackbox's
    mine = [(dict(k), v) for k, v in series(ours, "probe_ssl_last_chain_info")]
    for m, _ in mine:
        m.pop("serialnumber", None)
    bb = [(dict(k), v) for k, v in series(theirs, "probe_ssl_last_chain_info")]
    lab.eq(mine, bb, "%s: probe_ssl_last_chain_info labels as blackbox_exporter's" % what)


def start_blackbox(lab, pki):
    bb = L.require_tool("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
    port = L.free_port()
    path = os.path.join(lab.tmp, "blackbox.yml")
    with open(path, "w") as f:
        f.write("""modules:
  tls:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: %s
        server_name: good.test
""" % pki.path("ca.pem"))
    cmd = [bb, "--config.file=" + path, "--web.listen-address=127.0.0.1:%d" % port,
           "--log.level=warn"]
    L.Server(lab, "blackbox_exporter", cmd, "127.0.0.1", port, "blackbox.log")
    return port


def start_prometheus(lab, dport, targets):
    prom = L.require_tool("prometheus", "prometheus")
    pport = L.free_port()
    pdir = os.path.join(lab.tmp, "prometheus")
    os.makedirs(pdir)
    # the shipped blackbox-compatible rules
    top = os.path.dirname(lab.srcdir)
    shutil.copy(os.path.join(top, "etc", "prometheus", "tlswatch-probe-rules.yml"),
                os.path.join(pdir, "rules.yml"))
    # As prometheus-operator writes a Probe with staticConfig targets and
    # module "tls" (its probe/.../tls job).
    with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
        f.write("""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: probe/default/tls
    honor_timestamps: true
    metrics_path: /probe
    scheme: http
    params:
      module: [tls]
    static_configs:
      - targets: %s
        labels:
          namespace: default
    relabel_configs:
      - source_labels: [job]
        target_label: __tmp_prometheus_job_name
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:%d
      - source_labels: [__param_module]
        target_label: module
""" % (json.dumps(targets), dport))
    cmd = [prom, "--config.file=" + os.path.join(pdir, "prometheus.yml"),
           "--storage.tsdb.path=" + os.path.join(pdir, "data"),
           "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"]
    L.Server(lab, "prometheus", cmd, "127.0.0.1", pport, "prometheus.log")
    return pport


def prom_get(pport, path, params=None):
    """The API's JSON answer, or None while Prometheus is not ready (503)."""
    url = "http://127.0.0.1:%d%s" % (pport, path)
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        if e.code == 503:
            return None
        raise


def wait_until(fn, timeout, interval=0.3):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def check_prometheus(lab, pport, good, soon):
    def query(expr):
        r = prom_get(pport, "/api/v1/query", {"query": expr})
        return r["data"]["result"] if r else []

    def alerts():
        r = prom_get(pport, "/api/v1/alerts")
        return r["data"]["alerts"] if r else []

    ups = wait_until(lambda: [r for r in query("up") if r["value"][1] == "1"]
                     if len(query("up")) == 2 else None, 30)
    lab.check(ups and len(ups) == 2, "Prometheus scrapes /probe for both targets (up 1)",
              json.dumps(query("up")))
    ok = query('probe_success{instance="%s",module="tls"}' % good)
    lab.check(ok and ok[0]["value"][1] == "1",
              "probe_success 1 under the operator's instance and module labels", json.dumps(ok))
    firing = wait_until(lambda: [a for a in alerts() if a["state"] == "firing"
                                 and a["labels"]["alertname"] == "ProbeSSLCertExpiringSoon"], 30)
    lab.eq(sorted(a["labels"].get("instance") for a in (firing or [])), [soon],
           "the shipped ProbeSSLCertExpiringSoon (probe_ssl_earliest_cert_expiry - time() < "
           "86400 * 30) fires for the expiring target only")


def main(lab):
    lab.require_daemon()
    pki = lab.pki()
    good = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"), host=HOST)
    soon = lab.serve_chain(pki.path("soon-chain.pem"), pki.path("soon.key"), host=HOST)
    wrong = lab.serve_chain(pki.path("wrongname-chain.pem"), pki.path("wrongname.key"), host=HOST)
    closed = lab.closed_port(host=HOST)
    smtp = S.postfix(lab, pki, host=HOST)
    silent = lab.silent_peer(host=HOST)
    # the same port on 127.0.0.1, outside probe_allow: nobody may connect
    outside = lab.silent_peer(host="127.0.0.1")
    port = L.free_port()
    conf = """listen = "127.0.0.1:%d";
probe_endpoint = true;
probe_allow = ( "127.0.0.2/32" );
probe_cache = "%s";
timeout = "3s";
modules = {
  tls = { ca_file = "%s"; server_name = "good.test"; timeout = "5s"; };
  quick = { ca_file = "%s"; server_name = "good.test"; timeout = "700ms"; };
  mail = { ca_file = "@CA@"; server_name = "good.test"; starttls = "smtp"; };
};
targets = ( { name = "scheduled"; address = "@SOON@"; server_name = "good.test";
              ca_file = "@CA@"; interval = "2s"; timeout = "1s"; } );
""".replace("@SOON@", soon.address).replace("@CA@", pki.path("ca.pem"))
    d = L.Daemon(lab, conf % (port, "0", pki.path("ca.pem"), pki.path("ca.pem")),
                 name="tlswatchd-probe")
    lab.daemon = d
    bport = start_blackbox(lab, pki)
    L.wait_port("127.0.0.1", bport, 10)

    # -- side by side with blackbox_exporter
    for what, srv in (("good chain", good), ("wrong name", wrong), ("closed port", closed)):
        status, headers, body = get(port, probe_path(srv.address, module="tls"))
        lab.eq(status, 200, "%s: /probe answers 200" % what, body[:2000])
        bstatus, _, bbody = get(bport, probe_path(srv.address, module="tls"))
        lab.eq(bstatus, 200, "%s: blackbox_exporter answers 200" % what, bbody[:2000])
        ours, theirs = L.Exposition(body), L.Exposition(bbody)
        if what == "good chain":
            lab.promtool(body, "promtool check metrics accepts a /probe answer")
            missing = [n for n in BLACKBOX_NAMES if not ours.find(n)]
            lab.eq(missing, [], "good chain: every blackbox series the issue names is there")
            lab.check(ours.find("probe_tls_cipher_info"), "good chain: probe_tls_cipher_info",
                      body[:2000])
            lab.eq(ours.value("probe_success"), 1, "good chain: probe_success 1")
            leaf = pki.info("good")
            info = ours.find("probe_ssl_last_chain_info")
            lab.eq(info[0].labels.get("fingerprint_sha256") if info else None,
                   leaf.sha256.lower(), "good chain: fingerprint_sha256 is the leaf's")
            lab.check(ours.find("tlswatch_probe_success", target=srv.address),
                      "good chain: tlswatch's series in the same answer, labelled with the "
                      "target", body[:3000])
        if what == "wrong name":
            lab.eq(ours.value("probe_success"), 0, "wrong name: probe_success 0")
            lab.eq(ours.find("probe_ssl_last_chain_expiry_timestamp_seconds"), [],
                   "wrong name: no last_chain_expiry (not verified)")
            lab.check(ours.find("probe_ssl_earliest_cert_expiry"),
                      "wrong name: earliest_cert_expiry still there", body[:2000])
        if what == "closed port":
            lab.eq(ours.value("probe_success"), 0, "closed port: probe_success 0")
        compare_blackbox(lab, what, ours, theirs, what != "wrong name")

    # -- STARTTLS, against Postfix: from the URL's scheme, and from a module
    for what, target, module in (("smtp:// URL", "smtp://%s" % smtp.address, "tls"),
                                 ("module starttls = smtp", smtp.address, "mail")):
        status, _, body = get(port, probe_path(target, module=module))
        ours = L.Exposition(body)
        info = ours.find("probe_ssl_last_chain_info")
        lab.check(status == 200 and ours.value("probe_success") == 1 and info and
                  info[0].labels.get("fingerprint_sha256") == pki.info("good").sha256.lower()
                  and ours.find("tlswatch_probe_success", target=target),
                  "%s: /probe speaks SMTP STARTTLS to Postfix and sees the good leaf" % what,
                  "status %d\n%s" % (status, body[:2500]))

    # -- refusals
    for path, want, text, desc in (
            ("/probe", 400, "Target parameter is missing", "no target"),
            (probe_path(good.address, module="nope"), 400, 'Unknown module "nope"',
             "an unknown module"),
            (probe_path("https://user:pw@%s/" % good.address), 400, "Bad target",
             "a URL with credentials"),
            (probe_path("http://%s/" % good.address), 400, "Bad target", "an http:// URL"),
            (probe_path("127.0.0.3:%d" % good.port, module="tls"), 403, "not allowed",
             "an address outside probe_allow"),
            (probe_path("vm:%d" % outside.port, module="tls"), 403, "not allowed",
             "a name resolving to an address outside probe_allow")):
        status, _, body = get(port, path)
        lab.eq(status, want, "%s: answered %d" % (desc, want), body)
        lab.check(text in body, "%s: the answer says why (%s)" % (desc, text), body)
    lab.eq(outside.accepted, 0, "no connection was made to the forbidden address")
    status, _, body = get(port, probe_path(good.address, module="tls"),
                          headers={"X-Prometheus-Scrape-Timeout-Seconds": "soon"})
    lab.eq(status, 400, "a bad X-Prometheus-Scrape-Timeout-Seconds: 400", body)

    # -- timeouts: the header less 0.5 s, capped by the module's timeout
    for module, header, want in (("tls", "1.5", 1.0), ("quick", "10", 0.7)):
        t0 = time.monotonic()
        status, _, body = get(port, probe_path(silent.address, module=module),
                              headers={"X-Prometheus-Scrape-Timeout-Seconds": header})
        took = time.monotonic() - t0
        dur = L.Exposition(body).value("probe_duration_seconds") if status == 200 else None
        lab.check(status == 200 and dur is not None and want - 0.05 <= dur <= want + 0.3
                  and took < want + 1.0,
                  "module %s, header %s s: the probe of a silent server ends after %.1f s"
                  % (module, header, want), "status %d, duration %s, took %.2f s\n%s"
                  % (status, dur, took, body[:1500]))

    # -- two requests for the same probe at once: the second joins the first
    before = silent.accepted
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futs = [pool.submit(get, port, probe_path(silent.address, module="quick"))
                for _ in range(2)]
        answers = [f.result(timeout=10) for f in futs]
    durs = [L.Exposition(b).value("probe_duration_seconds") if st == 200 else None
            for st, _, b in answers]
    lab.check(durs[0] is not None and durs[0] == durs[1],
              "two requests at once for one target and module get one probe's answer",
              "durations %s" % durs)
    lab.eq(silent.accepted - before, 1, "a request joining a probe in flight makes no "
           "connection of its own")

    # -- debug=true
    status, headers, body = get(port, probe_path(good.address, module="tls", debug="true"))
    lab.check(status == 200 and "Logs for the probe" in body and "probe_success 1" in body
              and "Module configuration" in body and "server_name: good.test" in body,
              "debug=true answers the log, the metrics and the module", body[:3000])

    # -- probe_cache, through a reload, which cuts a probe in flight short: 503
    pool = concurrent.futures.ThreadPoolExecutor(1)
    before = silent.accepted
    cut = pool.submit(get, port, probe_path(silent.address, module="tls"))
    started = wait_until(lambda: silent.accepted > before, 5, 0.02)
    lab.check(started, "a /probe of the silent server is in flight")
    mark = len(d.stderr())
    d.reload(conf % (port, "30s", pki.path("ca.pem"), pki.path("ca.pem")))
    lab.check(d.wait_log("reload: done", 10, start=mark), "reloaded with probe_cache = 30s")
    status, _, body = cut.result(timeout=10)
    pool.shutdown()
    lab.check(status == 503 and "reloaded during the probe" in body,
              "a /probe cut short by a reload answers 503 saying so", "%d: %s" % (status, body))
    _, _, b1 = get(port, probe_path(good.address, module="tls"))
    _, _, b2 = get(port, probe_path(good.address, module="tls"))
    e1, e2 = L.Exposition(b1), L.Exposition(b2)
    lab.eq(e2.value("probe_duration_seconds"), e1.value("probe_duration_seconds"),
           "probe_cache: the second request is answered from the first probe")
    m = d.scrape()
    lab.eq(m.value("tlswatch_probe_requests_total", answer="cached"), 1,
           "tlswatch_probe_requests_total{answer=\"cached\"} counts it")
    # a configured target probed alike answers from its scheduled result
    d.wait_for(lambda e: e.find("tlswatch_probe_success", target="scheduled"), 10)
    status, _, body = get(port, probe_path(soon.address, module="tls", debug="true"))
    lab.check(status == 200 and "answered from the scheduled target's result" in body
              and "probe_success 1" in body,
              "probe_cache: a configured target probed alike answers from its scheduled result",
              body[:3000])
    lab.eq(d.scrape().value("tlswatch_probe_requests_total", answer="scheduled"), 1,
           "tlswatch_probe_requests_total{answer=\"scheduled\"} counts it")

    # -- a real Prometheus, as prometheus-operator configures it
    pport = start_prometheus(lab, port, [good.address, soon.address])
    check_prometheus(lab, pport, good.address, soon.address)

    # -- off again
    mark = len(d.stderr())
    d.reload(conf.replace("probe_endpoint = true", "probe_endpoint = false")
             % (port, "0", pki.path("ca.pem"), pki.path("ca.pem")))
    lab.check(d.wait_log("reload: done", 10, start=mark), "reloaded with probe_endpoint = false")
    status, _, _ = get(port, probe_path(good.address, module="tls"))
    lab.eq(status, 404, "probe_endpoint = false: /probe is a 404")

    # -- stopping cuts a probe in flight short: 503 too
    mark = len(d.stderr())
    d.reload(conf % (port, "0", pki.path("ca.pem"), pki.path("ca.pem")))
    lab.check(d.wait_log("reload: done", 10, start=mark), "reloaded with probe_endpoint = true")
    pool = concurrent.futures.ThreadPoolExecutor(1)
    before = silent.accepted
    cut = pool.submit(get, port, probe_path(silent.address, module="tls"))
    lab.check(wait_until(lambda: silent.accepted > before, 5, 0.02),
              "a /probe of the silent server is in flight")
    d.stop()
    try:
        status, _, body = cut.result(timeout=10)
    except Exception as e:   # the connection closed unanswered
        status, body = None, repr(e)
    pool.shutdown()
    lab.check(status == 503 and "stopping" in body,
              "a /probe cut short by a stop answers 503 saying so", "%s: %s" % (status, body))
    d.check_sanitizers()


if __name__ == "__main__":
    L.Lab("probe_endpoint").main(main)
