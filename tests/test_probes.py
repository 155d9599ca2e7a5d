#!/usr/bin/env python3
"""test_probes.py - tlswatchd probes real TLS servers and scripted peers on
loopback and publishes what it saw: verdicts, chain issues, certificates,
failures. One daemon, every scenario at once, short intervals."""

import hashlib
import os
import re
import sys
import time

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

INTERVAL = 3.0          # seconds, "3s" in the config
TIMEOUT = 1.5           # seconds, "1500ms" in the config

# The expected verdicts, one row per TLS scenario:
#   name: (chain file served, key, certificates presented in order,
#          server_name (None: none configured), extra s_server options,
#          verified, verify_error reasons, chain issues, TLS version,
#          trust path leaf..anchor (verified only) for the verified expiry)
SCENARIOS = {
    "good":       ("good-chain.pem", "good.key", ["good", "int"], "good.test", [],
                   True, [], [], "TLS1.3", ["good", "int", "ca"]),
    "expired":    ("expired-chain.pem", "expired.key", ["expired", "int"], "good.test", [],
                   False, ["expired"], [], "TLS1.3", None),
    "notyet":     ("notyet-chain.pem", "notyet.key", ["notyet", "int"], "good.test", [],
                   False, ["not_yet_valid"], [], "TLS1.3", None),
    "wrongname":  ("wrongname-chain.pem", "wrongname.key", ["wrongname", "int"], "good.test", [],
                   False, ["hostname_mismatch"], [], "TLS1.3", None),
    "selfsigned": ("selfsigned.pem", "selfsigned.key", ["selfsigned"], "good.test", [],
                   False, ["self_signed"], [], "TLS1.3", None),
    "noint":      ("noint-chain.pem", "good.key", ["good"], "good.test", [],
                   False, ["unknown_issuer"], ["incomplete"], "TLS1.3", None),
    "untrusted":  ("untrusted-chain.pem", "untrusted.key", ["untrusted", "untrusted-ca"],
                   "good.test", [],
                   False, ["unknown_issuer"], ["root_included"], "TLS1.3", None),
    "tls12":      ("good-chain.pem", "good.key", ["good", "int"], "good.test", ["-tls1_2"],
                   True, [], [], "TLS1.2", ["good", "int", "ca"]),
    "misordered": ("misordered-chain.pem", "deep.key", ["deep", "int", "int2"], "good.test", [],
                   True, [], ["misordered"], "TLS1.3", ["deep", "int2", "int", "ca"]),
    "deep":       ("deep-chain.pem", "deep.key", ["deep", "int2", "int"], "good.test", [],
                   True, [], [], "TLS1.3", ["deep", "int2", "int", "ca"]),
    "rootincl":   ("rootincl-chain.pem", "good.key", ["good", "int", "ca"], "good.test", [],
                   True, [], ["root_included"], "TLS1.3", ["good", "int", "ca"]),
    "dup":        ("dup-chain.pem", "good.key", ["good", "int", "int"], "good.test", [],
                   True, [], ["duplicate"], "TLS1.3", ["good", "int", "ca"]),
    "hostile":    ("hostile-chain.pem", "hostile.key", ["hostile", "int"], "good.test", [],
                   True, [], [], "TLS1.3", ["hostile", "int", "ca"]),
    # no server_name, an IP literal: no SNI, the IP is checked against IP SANs
    "ip4":        ("good-chain.pem", "good.key", ["good", "int"], None, [],
                   True, [], [], "TLS1.3", ["good", "int", "ca"]),
    "v6":         ("good-chain.pem", "good.key", ["good", "int"], None, [],
                   True, [], [], "TLS1.3", ["good", "int", "ca"]),
    # a DNS name: resolved, SNI and name check "localhost" (a DNS SAN);
    # served on both 127.0.0.1 and ::1 at one port, whichever is tried first
    "byname":     ("good-chain.pem", "good.key", ["good", "int"], None, [],
                   True, [], [], "TLS1.3", ["good", "int", "ca"]),
}

# Scripted peers: name -> (stage, allowed reasons)
FAILURES = {
    "closed":  ("connect", ["refused"]),
    "silent":  ("timeout", ["handshake"]),
    "garbage": ("handshake", ["protocol_error", "closed"]),
    "alert":   ("handshake", ["alert_handshake_failure"]),
}

ALL_REASONS = {"expired", "not_yet_valid", "unknown_issuer", "self_signed", "signer_not_ca",
               "hostname_mismatch", "insecure_algorithm", "bad_signature", "revoked", "other",
               "name_constraints", "path_length", "unknown_critical_extension", "purpose",
               "key_usage", "webpki"}
ALL_ISSUES = {"misordered", "incomplete", "root_included", "duplicate"}
COUNTERS = {"tlswatch_probes_total", "process_cpu_seconds_total",
            "tlswatch_scheduler_skipped_total", "tlswatch_verifications_total",
            "tlswatch_chain_changes_total", "tlswatch_state_write_errors_total",
            "tlswatch_fetch_requests_total", "tlswatch_mx_changes_total",
            "tlswatch_probe_requests_total"}
HISTOGRAMS = {"tlswatch_scheduler_lateness_seconds"}
CERT_FAMILIES = ("tlswatch_cert_not_after_timestamp_seconds",
                 "tlswatch_cert_not_before_timestamp_seconds")
CHAIN_FAMILIES = ("tlswatch_chain_verified", "tlswatch_chain_verify_error",
                  "tlswatch_chain_earliest_expiry_timestamp_seconds",
                  "tlswatch_chain_verified_expiry_timestamp_seconds",
                  "tlswatch_chain_certificates", "tlswatch_chain_issue")


def dual_stack_servers(lab, chainfile, keyfile):
    """The same chain served on 127.0.0.1:P and [::1]:P."""
    for _ in range(20):
        port = L.free_port("127.0.0.1")
        if L.free_port_is_free("::1", port):
            a = lab.serve_chain(chainfile, keyfile, host="127.0.0.1", port=port)
            try:
                b = lab.serve_chain(chainfile, keyfile, host="::1", port=port)
            except L.HardError:
                a.stop()
                continue
            return a, b
    raise L.HardError("found no port free on both 127.0.0.1 and ::1")


def labels_ok(lab, expo, target, extra):
    """Every series of TARGET carries its configured labels."""
    bad = [s for s in expo.for_target(target)
           if any(s.labels.get(k) != v for k, v in extra.items())]
    return lab.check(not bad and expo.for_target(target),
                     "%s: every series carries the configured labels %s" % (target, extra),
                     "\n".join(repr(s) for s in bad[:10]) or "no series at all")


def check_common_probe(lab, expo, name, timeout):
    """What every probed target has, success or not."""
    ts = expo.value("tlswatch_probe_timestamp_seconds", target=name)
    lab.check(ts is not None and lab.daemon.start_time - 1 <= ts <= time.time() + 1,
              "%s: probe_timestamp_seconds is a wall-clock time since the start (%s)" % (name, ts))
    dur = expo.value("tlswatch_probe_duration_seconds", target=name)
    lab.check(dur is not None and 0 <= dur < timeout + 0.5,
              "%s: probe_duration_seconds in [0, timeout + 0.5) (%s)" % (name, dur))
    for s in expo.find("tlswatch_probe_stage_duration_seconds", target=name):
        if not (s.labels.get("stage") in ("resolve", "connect", "handshake", "verify")
                and 0 <= s.value <= (dur or 0) + 0.01):
            lab.check(False, "%s: stage duration within the probe's duration" % name, repr(s))
            break
    else:
        lab.check(True, "%s: every stage duration is in [0, probe duration]" % name)
    return dur


def check_success(lab, expo, pki, name, row, config_labels):
    (chainfile, _key, presented, _sni, _extra, verified, reasons, issues,
     version, path) = row
    excerpt = expo.excerpt(target=name)
    lab.eq(expo.value("tlswatch_probe_success", target=name), 1.0,
           "%s: probe_success 1" % name, excerpt)
    lab.eq(expo.find("tlswatch_probe_failure_info", target=name), [],
           "%s: no probe_failure_info" % name)
    ok = expo.value("tlswatch_probes_total", target=name, result="success")
    lab.check(ok is not None and ok >= 1, "%s: probes_total{result=\"success\"} >= 1 (%s)"
              % (name, ok))
    bad = expo.value("tlswatch_probes_total", target=name, result="failure")
    lab.check(bad in (None, 0.0), "%s: probes_total{result=\"failure\"} is 0 or absent (%s)"
              % (name, bad))
    check_common_probe(lab, expo, name, TIMEOUT)
    stages = {s.labels.get("stage") for s in
              expo.find("tlswatch_probe_stage_duration_seconds", target=name)}
    lab.check({"connect", "handshake"} <= stages,
              "%s: stage durations include connect and handshake (%s)" % (name, sorted(stages)))

    vs = expo.find("tlswatch_tls_version_info", target=name)
    lab.eq([(s.labels.get("version"), s.value) for s in vs], [(version, 1.0)],
           "%s: tls_version_info{version=%s} 1, and no other" % (name, version))
    cs = expo.find("tlswatch_tls_cipher_info", target=name)
    lab.check(len(cs) == 1 and cs[0].value == 1 and
              re.fullmatch(r"TLS_[A-Z0-9_]+", cs[0].labels.get("cipher", "")),
              "%s: one tls_cipher_info with an IANA suite name (%s)"
              % (name, [s.labels.get("cipher") for s in cs]))

    lab.eq(expo.value("tlswatch_chain_verified", target=name), 1.0 if verified else 0.0,
           "%s: chain_verified %d" % (name, verified), excerpt)
    errs = expo.find("tlswatch_chain_verify_error", target=name)
    lab.eq(sorted(s.labels.get("reason") for s in errs), sorted(reasons),
           "%s: verify_error reasons are exactly %s" % (name, reasons))
    lab.check(all(s.value == 1 for s in errs), "%s: every verify_error sample is 1" % name)
    iss = expo.find("tlswatch_chain_issue", target=name)
    lab.eq(sorted(s.labels.get("issue") for s in iss), sorted(issues),
           "%s: chain issues are exactly %s" % (name, issues))
    lab.check(all(s.value == 1 for s in iss), "%s: every chain_issue sample is 1" % name)
    lab.eq(expo.value("tlswatch_chain_certificates", target=name), float(len(presented)),
           "%s: chain_certificates %d" % (name, len(presented)))

    infos = pki.chain_infos(chainfile)
    lab.eq([i.sha256 for i in infos], [pki.info(n).sha256 for n in presented],
           "%s: (lab) %s holds %s" % (name, chainfile, presented))
    for fam, attr in ((CERT_FAMILIES[0], "not_after"), (CERT_FAMILIES[1], "not_before")):
        samples = expo.find(fam, target=name)
        depths = sorted(s.labels.get("depth", "") for s in samples)
        if not lab.eq(depths, sorted(str(i) for i in range(len(infos))),
                      "%s: %s has one sample per presented certificate (depths)" % (name, fam),
                      expo.excerpt(target=name, names=(fam,))):
            continue
        for s in sorted(samples, key=lambda s: int(s.labels["depth"])):
            d = int(s.labels["depth"])
            want = infos[d]
            got = s.labels
            problems = []
            if got.get("subject") != want.subject:
                problems.append("subject %r, want %r" % (got.get("subject"), want.subject))
            if got.get("issuer") != want.issuer:
                problems.append("issuer %r, want %r" % (got.get("issuer"), want.issuer))
            if got.get("sha256") != want.sha256:
                problems.append("sha256 %r, want %r" % (got.get("sha256"), want.sha256))
            serial = got.get("serial", "")
            if not (re.fullmatch(r"(?:[0-9a-f]{2})+", serial) and
                    int(serial, 16) == int(want.serial, 16)):
                problems.append("serial %r, want %r (lowercase hex)" % (serial, want.serial))
            if s.value != getattr(want, attr):
                problems.append("value %r, want %d" % (s.value, getattr(want, attr)))
            lab.check(not problems, "%s: %s depth %d (%s) has the certificate's subject, "
                      "issuer, sha256, serial and %s" % (name, fam, d, presented[d], attr),
                      "\n".join(problems + [repr(s)]))

    earliest = min(i.not_after for i in infos)
    lab.eq(expo.value("tlswatch_chain_earliest_expiry_timestamp_seconds", target=name),
           float(earliest), "%s: chain_earliest_expiry is the min notAfter presented" % name)
    vexp = expo.value("tlswatch_chain_verified_expiry_timestamp_seconds", target=name)
    if verified:
        want = min(pki.info(n).not_after for n in path)
        lab.eq(vexp, float(want), "%s: chain_verified_expiry is the min notAfter over %s"
               % (name, path))
    else:
        lab.eq(vexp, None, "%s: no chain_verified_expiry when unverified" % name)
    labels_ok(lab, expo, name, config_labels)


def check_failure(lab, expo, name, stage, reasons, config_labels, timeout):
    excerpt = expo.excerpt(target=name)
    lab.eq(expo.value("tlswatch_probe_success", target=name), 0.0,
           "%s: probe_success 0" % name, excerpt)
    fi = expo.find("tlswatch_probe_failure_info", target=name)
    got = [(s.labels.get("stage"), s.labels.get("reason"), s.value) for s in fi]
    lab.check(len(got) == 1 and got[0][0] == stage and got[0][2] == 1,
              "%s: one probe_failure_info{stage=\"%s\"} 1" % (name, stage),
              "got %r\n%s" % (got, excerpt))
    reason = got[0][1] if len(got) == 1 else None
    lab.check(reason in reasons, "%s: failure reason %r is one of %s" % (name, reason, reasons))
    fails = expo.value("tlswatch_probes_total", target=name, result="failure")
    lab.check(fails is not None and fails >= 1,
              "%s: probes_total{result=\"failure\"} >= 1 (%s)" % (name, fails))
    oks = expo.value("tlswatch_probes_total", target=name, result="success")
    lab.check(oks in (None, 0.0), "%s: probes_total{result=\"success\"} is 0 or absent (%s)"
              % (name, oks))
    dur = check_common_probe(lab, expo, name, timeout)
    present = sorted({s.name for s in expo.for_target(name)
                      if s.name in CERT_FAMILIES + ("tlswatch_tls_version_info",
                                                    "tlswatch_tls_cipher_info")})
    lab.eq(present, [], "%s: no certificate or TLS version/cipher series" % name)
    chain = sorted({s.name for s in expo.for_target(name) if s.name in CHAIN_FAMILIES})
    if chain:
        lab.note("%s: a failed probe still has chain series: %s" % (name, chain))
    labels_ok(lab, expo, name, config_labels)
    return reason, dur


def check_global(lab, expo, ntargets, names):
    lab.eq(expo.value("tlswatch_targets"), float(ntargets), "tlswatch_targets %d" % ntargets)
    bi = expo.find("tlswatch_build_info")
    lab.check(len(bi) == 1 and bi[0].value == 1 and bi[0].labels.get("version") and
              re.match(r"\d+\.\d+\.\d+", bi[0].labels.get("gnutls_version", "")),
              "tlswatch_build_info{version,gnutls_version} 1", repr(bi))
    d = lab.daemon
    cpu = expo.value("process_cpu_seconds_total")
    lab.check(cpu is not None and cpu >= 0, "process_cpu_seconds_total (%s)" % cpu)
    rss = expo.value("process_resident_memory_bytes")
    lab.check(rss is not None and rss > 1e5, "process_resident_memory_bytes (%s)" % rss)
    fds = expo.value("process_open_fds")
    lab.check(fds is not None and fds >= 3, "process_open_fds (%s)" % fds)
    st = expo.value("process_start_time_seconds")
    lab.check(st is not None and abs(st - d.start_time) < 2.0,
              "process_start_time_seconds is the daemon's start (%s vs %.1f)"
              % (st, d.start_time))
    wrong = ["%s is %s" % (f.name, f.type) for f in expo.families.values()
             if f.type != ("counter" if f.name in COUNTERS else
                           "histogram" if f.name in HISTOGRAMS else "gauge")]
    lab.eq(wrong, [], "counters are counters, histograms histograms, everything else a gauge")
    nohelp = [f.name for f in expo.families.values() if not f.help]
    lab.eq(nohelp, [], "every family has a HELP line")
    stray = sorted({s.labels["target"] for s in expo.samples
                    if "target" in s.labels and s.labels["target"] not in names})
    lab.eq(stray, [], "every target label is a configured target")
    odd = sorted({s.labels.get("reason") for s in expo.find("tlswatch_chain_verify_error")}
                 - ALL_REASONS)
    lab.eq(odd, [], "every verify_error reason is one of the documented sixteen")
    odd = sorted({s.labels.get("issue") for s in expo.find("tlswatch_chain_issue")}
                 - ALL_ISSUES)
    lab.eq(odd, [], "every chain issue is one of the documented four")
    forged = [repr(s) for s in expo.samples if s.labels.get("target") == "forged"]
    forged += [repr(s) for s in expo.samples if s.name == "tlswatch_up"]
    lab.eq(forged, [], "no forged series (target=\"forged\", tlswatch_up)")


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    v6_problem = L.ipv6_loopback_available()
    lab.check(v6_problem is None, "IPv6 loopback [::1] is available for the v6 target",
              v6_problem)

    # ---- the servers
    targets = []     # (name, address, server_name, labels)
    for name, row in SCENARIOS.items():
        chainfile, key, presented, sni, extra = row[:5]
        if name == "v6":
            if v6_problem:
                continue
            srv = lab.serve_chain(pki.path(chainfile), pki.path(key), extra, host="::1")
            addr = srv.address
        elif name == "byname":
            if v6_problem:
                srv = lab.serve_chain(pki.path(chainfile), pki.path(key), extra)
            else:
                srv, _ = dual_stack_servers(lab, pki.path(chainfile), pki.path(key))
            addr = "localhost:%d" % srv.port
        else:
            srv = lab.serve_chain(pki.path(chainfile), pki.path(key), extra)
            addr = srv.address
        ders, proto = L.tls_peer_chain(srv.host, srv.port, sni or "localhost")
        if not lab.eq([hashlib.sha256(d).hexdigest() for d in ders],
                      [pki.info(n).sha256 for n in presented],
                      "(lab) the %s server presents %s" % (name, presented)):
            raise L.HardError("the lab's %s server does not present what it should" % name)
        labels = {"scenario": name}
        if name == "good":
            labels["team"] = "web"
        targets.append((name, addr, sni, labels))
    silent = lab.silent_peer()
    garbage = lab.garbage_peer()
    closed = lab.closed_port()
    alert = lab.alert_peer(40)
    for name, peer in (("silent", silent), ("garbage", garbage), ("closed", closed),
                       ("alert", alert)):
        targets.append((name, peer.address, "good.test", {"scenario": name}))
    names = [t[0] for t in targets]
    config_labels = {t[0]: t[3] for t in targets}

    # ---- the daemon
    port = L.free_port()
    os.makedirs(os.path.join(lab.tmp, "state"))
    lines = [
        'listen = "127.0.0.1:%d";' % port,
        "state_dir = %s;" % L.conf_string(os.path.join(lab.tmp, "state")),
        'interval = "1m";',
        'timeout = "10s";',
        "concurrency = 64;",
        "ca_file = %s;" % L.conf_string(pki.path("ca.pem")),
        "targets = (",
    ]
    for i, (name, addr, sni, labels) in enumerate(targets):
        items = ["name = %s;" % L.conf_string(name), "address = %s;" % L.conf_string(addr)]
        if sni:
            items.append("server_name = %s;" % L.conf_string(sni))
        items.append("labels = { %s };" % " ".join(
            "%s = %s;" % (k, L.conf_string(v)) for k, v in labels.items()))
        items.append('interval = "3s"; timeout = "1500ms";')
        lines.append("  { %s }%s" % (" ".join(items), "," if i + 1 < len(targets) else ""))
    lines.append(");")
    config = "\n".join(lines) + "\n"
    d = lab.daemon = L.Daemon(lab, config)

    # ---- first round: every target probed; note when each first probe ended
    first = {}
    first_texts = []     # the scrapes the first-probe times were read from

    def all_probed(expo):
        for s in expo.find("tlswatch_probe_timestamp_seconds"):
            if s.labels.get("target") not in first:
                first[s.labels.get("target")] = s.value
                if not first_texts or first_texts[-1] is not expo.text:
                    first_texts.append(expo.text)
        return all(sum(s.value for s in expo.find("tlswatch_probes_total", target=n)) > 0
                   for n in names)

    expo0 = d.scrape(check=True)
    lab.eq(expo0.value("tlswatch_targets"), float(len(names)),
           "tlswatch_targets counts every target from the start")
    done, expo = d.wait_for(all_probed, INTERVAL + TIMEOUT + 3.0)
    if not lab.check(done, "every target is probed within interval + timeout + 3 s"):
        missing = [n for n in names
                   if not sum(s.value for s in expo.find("tlswatch_probes_total", target=n))]
        lab.note("never probed: %s" % missing)

    # ---- one scrape, asserted in full
    expo = d.scrape(check=True)
    check_global(lab, expo, len(names), names)
    for name, _addr, _sni, labels in targets:
        if name in SCENARIOS:
            check_success(lab, expo, pki, name, SCENARIOS[name], labels)
    for name, (stage, reasons) in FAILURES.items():
        reason, dur = check_failure(lab, expo, name, stage, reasons, config_labels[name],
                                    TIMEOUT)
        if name == "garbage":
            lab.note("garbage peer: the daemon's reason is %r" % reason)
        if name == "silent":
            lab.check(dur is not None and TIMEOUT - 0.1 <= dur < TIMEOUT + 0.5,
                      "silent: probe_duration is about its timeout: %.1f <= %s < %.1f"
                      % (TIMEOUT - 0.1, dur, TIMEOUT + 0.5))

    # the hostile subject arrives intact, newline and quotes included
    hostile = pki.info("hostile")
    subj = [s.labels.get("subject") for s in expo.find(CERT_FAMILIES[0], target="hostile",
                                                       depth="0")]
    lab.check(subj == [hostile.subject] and "\n" in hostile.subject and '"' in hostile.subject,
              "hostile: the subject label value is the certificate's subject as GnuTLS "
              "prints it, newline and quotes included", "got %r\nwant %r"
              % (subj, hostile.subject))

    # ---- first probes are spread over the first interval
    lab.promtool_all(first_texts, "promtool accepts the scrapes the first-probe times "
                     "come from")
    stamps = sorted((v, n) for n, v in first.items() if n in names)
    if stamps:
        spread = stamps[-1][0] - stamps[0][0]
        lab.note("first probes ended at +%s s after start" % ", +".join(
            "%.2f(%s)" % (v - d.start_time, n) for v, n in stamps))
        lab.check(spread > 0.1, "first probes are spread: not all within 100 ms (%.3f s)"
                  % spread)
        late = [(n, round(v - d.start_time, 2)) for v, n in stamps
                if v - d.start_time > INTERVAL + TIMEOUT + 0.5]
        lab.eq(late, [], "every first probe ends within interval + timeout of the start")
        buckets = {int((v - d.start_time) / (INTERVAL / 6)) for v, _ in stamps}
        lab.check(len(buckets) >= 3, "first probes fall in at least 3 of 6 slices of the "
                  "interval (%d)" % len(buckets))

    # ---- the silent peer does not delay the others
    good0 = expo.value("tlswatch_probes_total", target="good", result="success") or 0
    seen_ts = []
    window_texts = []
    max_held = 0
    t_end = time.monotonic() + 2 * INTERVAL
    while time.monotonic() < t_end:
        e = d.scrape()
        ts = e.value("tlswatch_probe_timestamp_seconds", target="good")
        if ts is not None and (not seen_ts or ts != seen_ts[-1]):
            seen_ts.append(ts)
            window_texts.append(e.text)
        max_held = max(max_held, silent.open_connections())
        time.sleep(0.1)
    lab.promtool_all(window_texts, "promtool accepts the scrapes good's probe times "
                     "come from")
    expo = d.scrape(check=True)
    good1 = expo.value("tlswatch_probes_total", target="good", result="success") or 0
    lab.check(max_held >= 1, "the silent peer held a probe's connection during the window")
    lab.check(good1 - good0 >= 1, "good keeps being probed while the silent peer hangs "
              "(%d more successes in %.0f s)" % (good1 - good0, 2 * INTERVAL))
    gaps = [round(b - a, 3) for a, b in zip(seen_ts, seen_ts[1:])]
    lab.check(gaps and all(INTERVAL - 0.5 <= g <= INTERVAL + 0.5 for g in gaps),
              "good's probes end about one interval apart (%s)" % gaps)
    lab.check(silent.closed_durations and
              all(TIMEOUT - 0.1 <= x < TIMEOUT + 0.5 for x in silent.closed_durations),
              "the daemon hangs up on the silent peer after its timeout (%s)"
              % [round(x, 2) for x in silent.closed_durations])
    few = {n: v for n in names
           for v in [sum(s.value for s in expo.find("tlswatch_probes_total", target=n))]
           if v < 2}
    lab.eq(few, {}, "every target has been probed at least twice by now")
    for name, (stage, reasons) in FAILURES.items():
        fi = expo.find("tlswatch_probe_failure_info", target=name)
        lab.check(len(fi) == 1 and fi[0].labels.get("stage") == stage,
                  "%s: still failing at stage %s" % (name, stage), repr(fi))
    lab.eq(expo.value("tlswatch_probe_success", target="good"), 1.0,
           "good: still probe_success 1")
    lab.check(garbage.accepted >= 1 and all(b[:1] == b"\x16" for b in garbage.first_bytes),
              "the garbage peer was sent TLS handshakes (%s)"
              % [b[:3] for b in garbage.first_bytes])

    d.stop()


if __name__ == "__main__":
    L.Lab("probes").main(main)
