#!/usr/bin/env python3
"""test_policy_tls.py - certificate policy (src/verdict/policy.c) over real
TLS on loopback: the policy leaves of tests/pki.sh served by openssl
s_server and probed by tlswatchd; then `tlswatch check` on some.

Asserted: tlswatch_cert_key_size{depth,sha256,key_type} for RSA-2048,
RSA-4096, P-384 and Ed25519 leaves and their ECDSA P-256 intermediate;
tlswatch_cert_signature_info{algorithm} and tlswatch_cert_lifetime_seconds
of each presented certificate, against openssl's dates;
tlswatch_cert_scts{source} for the leaf: embedded (lists of 1 and 3), and 2
each from the TLS extension and a stapled OCSP response (s_server
-serverinfo and -status_file, TLS 1.2), 0 from TLS 1.3 not published as a
count; the issues validity_exceeds_limit (a 400-day leaf issued now, not a
390-day leaf issued before 2026-03-15), too_few_scts (1 embedded, not 3,
not 2 delivered, and never under policy "private") and expired_ca_in_chain
(the expired cross-sign presented beside the valid path, under both
policies), each on the certificate it concerns; that none of them fails the
verdict; tlswatch_tls_group_info and _signature_scheme_info; warn = "33%"
judged by the lifetime on the API; the findings in words on the API and
the status page; the filter by issue (?issue=WORD) of the list on both;
`tlswatch check` and its --json. Every scrape passes
promtool."""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

DAY = 86400
POLICY_WORDS = ("validity_exceeds_limit", "too_few_scts", "expired_ca_in_chain")

# target -> (chain file, key, policy, s_server options,
#            {depth: policy issues}, leaf's key (type, bits), {source: SCTs})
CASES = {
    "rsa2048": ("rsa2048-chain.pem", "rsa2048.key", "private", [], {}, ("rsa", 2048),
                {"embedded": 0}),
    "rsa4096": ("rsa4096-chain.pem", "rsa4096.key", "private", [], {}, ("rsa", 4096),
                {"embedded": 0}),
    "p384": ("p384-chain.pem", "p384.key", "private", [], {}, ("ecdsa", 384), {"embedded": 0}),
    "ed25519": ("ed25519-chain.pem", "ed25519.key", "private", [], {}, ("ed25519", 256),
                {"embedded": 0}),
    "life400": ("life400-chain.pem", "life400.key", "public", [],
                {0: ["validity_exceeds_limit", "too_few_scts"]}, ("ecdsa", 256),
                {"embedded": 0}),
    "life390": ("life390-chain.pem", "life390.key", "public", [], {0: ["too_few_scts"]},
                ("ecdsa", 256), {"embedded": 0}),
    "sct1": ("sct1-chain.pem", "sct1.key", "public", [], {0: ["too_few_scts"]},
             ("ecdsa", 256), {"embedded": 1}),
    "sct3": ("sct3-chain.pem", "sct3.key", "public", [], {}, ("ecdsa", 256), {"embedded": 3}),
    "sct1_private": ("sct1-chain.pem", "sct1.key", "private", [], {}, ("ecdsa", 256),
                     {"embedded": 1}),
    "delivered": ("good-chain.pem", "good.key", "public",
                  ["-tls1_2", "-serverinfo", "@good-scts2.serverinfo",
                   "-status_file", "@good-scts2.ocsp"], {}, ("ecdsa", 256),
                  {"embedded": 0, "tls": 2, "ocsp": 2}),
    "tls13": ("good-chain.pem", "good.key", "public", ["-tls1_3"], {0: ["too_few_scts"]},
              ("ecdsa", 256), {"embedded": 0}),
    "xsign": ("xsign-chain.pem", "good.key", "private", [], {2: ["expired_ca_in_chain"]},
              ("ecdsa", 256), {"embedded": 0}),
    "xsign_public": ("xsign-chain.pem", "good.key", "public", [],
                     {0: ["too_few_scts"], 2: ["expired_ca_in_chain"]}, ("ecdsa", 256),
                     {"embedded": 0}),
}


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()
    ca = pki.path("ca.pem")

    servers = {}
    for name, (chain, key, _pol, extra, _i, _k, _s) in CASES.items():
        extra = [pki.path(x[1:]) if x.startswith("@") else x for x in extra]
        servers[name] = lab.serve_chain(pki.path(chain), pki.path(key), extra)

    port = L.free_port()
    lines = ['listen = "127.0.0.1:%d";' % port, "ca_file = %s;" % L.conf_string(ca),
             'interval = "10s";', 'timeout = "5s";', "concurrency = 8;",
             'warn = "33%";', 'crit = "5%";', "targets = ("]
    targets = []
    for name, row in CASES.items():
        targets.append("  { name = %s; address = %s; server_name = \"good.test\"; policy = %s; }"
                       % (L.conf_string(name), L.conf_string(servers[name].address),
                          L.conf_string(row[2])))
    lines.append(",\n".join(targets))
    lines.append(");")
    d = lab.daemon = L.Daemon(lab, "\n".join(lines) + "\n")

    def all_probed(expo):
        return all((expo.value("tlswatch_probes_total", target=t, result="success") or 0) >= 1
                   for t in CASES)

    done, expo = d.wait_for(all_probed, 30)
    lab.check(done, "every target is probed successfully within 30 s",
              ", ".join(t for t in CASES if not
                        expo.value("tlswatch_probes_total", target=t, result="success")))
    expo = d.scrape(check=True)

    for name, (chain, _key, pol, extra, issues, leafkey, scts) in CASES.items():
        t = name
        excerpt = expo.excerpt(target=t)
        certs = pki.chain_infos(chain)
        fps = [c.sha256 for c in certs]

        # the verdict stands: the policy findings are published, not failed
        lab.eq(expo.value("tlswatch_chain_verified", target=t), 1.0,
               "%s: the chain verifies; policy findings never fail it" % t, excerpt)

        # key of every presented certificate
        got = sorted((int(s.labels["depth"]), s.labels["sha256"], s.labels["key_type"], s.value)
                     for s in expo.find("tlswatch_cert_key_size", target=t))
        want = [(0, fps[0], leafkey[0], float(leafkey[1]))]
        want += [(i, fps[i], "ecdsa", 256.0) for i in range(1, len(fps))]
        lab.eq(got, sorted(want), "%s: tlswatch_cert_key_size of each certificate" % t, excerpt)

        # lifetime, against openssl's dates
        got = sorted((int(s.labels["depth"]), s.value)
                     for s in expo.find("tlswatch_cert_lifetime_seconds", target=t))
        want = [(i, float(c.not_after - c.not_before)) for i, c in enumerate(certs)]
        lab.eq(got, want, "%s: tlswatch_cert_lifetime_seconds = notAfter - notBefore" % t,
               excerpt)

        # signature algorithm: one info series per certificate
        sig = {int(s.labels["depth"]): s.labels["algorithm"]
               for s in expo.find("tlswatch_cert_signature_info", target=t) if s.value == 1}
        lab.eq(sorted(sig), list(range(len(fps))),
               "%s: one tlswatch_cert_signature_info per certificate" % t, excerpt)
        lab.eq(sig.get(1), "ecdsa_sha256", "%s: the intermediate is signed ecdsa_sha256" % t)

        # the leaf's SCTs by source
        got = {s.labels["source"]: s.value for s in expo.find("tlswatch_cert_scts", target=t)
               if s.labels.get("depth") == "0"}
        lab.eq(got, {k: float(v) for k, v in scts.items()},
               "%s: tlswatch_cert_scts by source %s" % (t, scts), excerpt)

        # the policy issues, on the certificate they concern
        got = sorted((int(s.labels["depth"]), s.labels["sha256"], s.labels["issue"])
                     for s in expo.find("tlswatch_cert_issue", target=t)
                     if s.value == 1 and s.labels["issue"] in POLICY_WORDS)
        want = sorted((dep, fps[dep], w) for dep, ws in issues.items() for w in ws)
        lab.eq(got, want, "%s: policy issues %s" % (t, issues), excerpt)

    # the handshake's group and signature scheme
    for t, scheme in (("delivered", "ecdsa_secp256r1_sha256"), ("rsa2048", None),
                      ("ed25519", "ed25519")):
        groups = [s.labels["group"] for s in expo.find("tlswatch_tls_group_info", target=t)
                  if s.value == 1]
        lab.check(len(groups) == 1 and groups[0] in ("x25519", "secp256r1", "x448"),
                  "%s: one tlswatch_tls_group_info, a group of GnuTLS's defaults" % t, groups)
        got = [s.labels["scheme"] for s in expo.find("tlswatch_tls_signature_scheme_info",
                                                      target=t) if s.value == 1]
        if scheme is None:
            lab.check(len(got) == 1 and got[0].startswith("rsa_"),
                      "%s: an RSA signature scheme" % t, got)
        else:
            lab.eq(got, [scheme], "%s: tlswatch_tls_signature_scheme_info" % t)

    # warn = "33%": a 390-day certificate with about 115 days left is in warn
    status, _h, body = L.http_request("127.0.0.1", port, "GET", "/api/targets/life390")
    try:
        api = json.loads(body)
    except ValueError:
        api = {}
    life = pki.info("life390")
    left = life.not_after - int(expo.value("tlswatch_probe_timestamp_seconds", target="life390")
                                or 0)
    want_state = "warn" if left < (life.not_after - life.not_before) / 3 else "ok"
    lab.check(status == 200 and api.get("warn") == "33%" and api.get("state") == want_state,
              "the API judges life390 by warn = 33%% of its lifetime (%s)" % want_state,
              body[:1500])
    lab.check(api.get("warn_seconds") == int((life.not_after - life.not_before) * 33 // 100) or
              abs((api.get("warn_seconds") or 0) - (life.not_after - life.not_before) * 0.33) < 2,
              "the API says what 33% of this lifetime is in seconds", body[:600])

    # the findings in words, the API and the status page
    status, _h, body = L.http_request("127.0.0.1", port, "GET", "/api/targets/life400")
    lab.check(status == 200 and "validity_exceeds_limit" in body and "200 days" in body,
              "the API names validity_exceeds_limit and says the 200-day limit", body[:3000])
    status, _h, body = L.http_request("127.0.0.1", port, "GET", "/targets/xsign")
    lab.check(status == 200 and
              '<a href="/?issue=expired_ca_in_chain">expired_ca_in_chain</a>' in body,
              "the status page shows expired_ca_in_chain, a link to the targets with it",
              body[:3000])
    # the filter by issue: the API's list and the status page
    for word in POLICY_WORDS:
        want = sorted(t for t, row in CASES.items()
                      if any(word in ws for ws in row[4].values()))
        status, _h, body = L.http_request("127.0.0.1", port, "GET", "/api/targets?issue=" + word)
        try:
            lst = json.loads(body)
        except ValueError:
            lst = {}
        got = sorted(x.get("name") for x in lst.get("targets", []))
        lab.check(status == 200 and lst.get("issue") == word and got == want and
                  all(word in x.get("cert_issues", []) for x in lst.get("targets", [])),
                  "/api/targets?issue=%s lists exactly %s, with their cert_issues" % (word, want),
                  body[:1500])
    status, _h, body = L.http_request("127.0.0.1", port, "GET",
                                      "/?issue=validity_exceeds_limit")
    lab.check(status == 200 and 'href="/targets/life400"' in body and
              'href="/targets/sct1"' not in body and "1 target with the issue" in body,
              "the status page filtered by validity_exceeds_limit shows life400 alone",
              body[:2000])
    status, _h, body = L.http_request("127.0.0.1", port, "GET", "/api/targets?issue=nonsense")
    lab.check(status == 400 and "issue" in body, "an unknown issue word is a 400", body[:300])
    d.stop()

    # the tool: text and JSON
    rc, out, err = L.run_tlswatch(lab, ["check", servers["sct1"].address, "--servername",
                                        "good.test", "--cafile", ca, "--policy", "public"])
    lab.check(rc == 0 and out.startswith("TLS OK - ") and "SCTs:       embedded 1" in out and
              "too_few_scts" in out,
              "tlswatch check: OK, one embedded SCT and too_few_scts", out[:2000] + err)
    rc, out, err = L.run_tlswatch(lab, ["check", servers["delivered"].address, "--servername",
                                        "good.test", "--cafile", ca, "--policy", "public",
                                        "--json"])
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    pol = (j.get("chain") or [{}])[0].get("policy", {})
    lab.check(rc == 0 and pol.get("scts") == {"embedded": 0, "tls": 2, "ocsp": 2} and
              pol.get("key_type") == "ecdsa" and pol.get("key_size") == 256 and
              j.get("group") and j.get("signature_scheme") == "ecdsa_secp256r1_sha256",
              "tlswatch check --json: the leaf's key, SCTs by source, group and scheme",
              out[:2500] + err)


if __name__ == "__main__":
    L.Lab("policy_tls").main(main)
