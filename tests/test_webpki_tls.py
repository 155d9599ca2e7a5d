#!/usr/bin/env python3
"""test_webpki_tls.py - Web PKI verdicts over real TLS on loopback: every
chain of the conformance corpus (tests/webpki-corpus.sh) served by openssl
s_server and probed by tlswatchd twice, once under policy = "public" and
once under "private"; and `tlswatch check` on a few.

Asserted for each chain and policy: the probe succeeds (the chain was
received, even where GnuTLS stopped the handshake at the leaf's key
usage); tlswatch_cert_issue{depth,sha256,issue} holds exactly the findings
the corpus was made to trip, on the certificate they concern (by depth and
fingerprint), and tlswatch_anchor_issue{sha256,issue} those on a trust
anchor the server did not send; tlswatch_chain_verify_error holds
GnuTLS's reasons (its constraint bit told apart) plus those the policy
fails the findings with, and chain_verified is 1 exactly when there are
none (so nothing GnuTLS rejects is verified); no chain issue, the
cross-signed chain included; every presented certificate is recorded in
order. Every scrape passes promtool.

The chains GnuTLS's client cannot complete a handshake with (a DSA key, a
P-224 key: no signature algorithm in common) are not served; their
findings are asserted by test_webpki.c on the same corpus."""

import hashlib
import os
import ssl
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

NC = "name_constraints"
PUB = "webpki"
KU = "key_usage"
PURPOSE = "purpose"
LOW = ["-cipher", "DEFAULT@SECLEVEL=0"]    # openssl serves weak certificates only so

# The certificate policy check's words (src/verdict/policy.c), not this test's.
POLICY_WORDS = ("validity_exceeds_limit", "too_few_scts", "expired_ca_in_chain")

# chain -> (server name, GnuTLS's reasons, {depth: findings}, findings on the
#           anchor, reasons added under public, under private, s_server options)
CASES = {
    "pass": ("good.test", [], {}, [], [], [], []),
    "cross": ("good.test", [], {}, [], [], [], []),
    "nc-permit-ok": ("www.good.test", [], {}, [], [], [], []),
    "nc-permit-bad": ("www.good.test", [NC], {0: ["name_not_permitted"]}, [], [NC], [NC], []),
    "nc-ip": ("www.good.test", [NC], {0: ["name_not_permitted"]}, [], [NC], [NC], []),
    "nc-cn": ("127.0.0.1", [NC], {0: ["name_not_permitted", "cn_not_in_san"]}, [],
              [NC, PUB], [NC], []),
    "nc-invalid": ("www.good.test", [], {0: ["name_constraints_unevaluable", "invalid_dns_name"]},
                   [], [NC, PUB], [NC], []),
    "nc-excluded": ("good.test", [NC], {0: ["name_excluded"]}, [], [NC], [NC], []),
    "nc-wildcard": ("good.test", [], {0: ["name_excluded"]}, [], [NC], [NC], []),
    "nc-email": ("good.test", [NC], {0: ["name_excluded"]}, [], [NC], [NC], []),
    "nc-ex-ok": ("good.test", [], {}, [], [], [], []),
    "nc-dot-ok": ("www.good.test", [], {}, [], [], [], []),
    "nc-dot-bad": ("good.test", [NC], {0: ["name_not_permitted"]}, [], [NC], [NC], []),
    "nc-uri": ("www.good.test", [], {0: ["name_not_permitted"]}, [], [NC], [NC], []),
    "nc-int-san": ("www.good.test", [], {1: ["name_not_permitted"]}, [], [NC], [NC], []),
    "nc-dn-ok": ("good.test", [], {}, [], [], [], []),
    "nc-dn": ("good.test", [], {0: ["name_not_permitted"]}, [], [NC], [NC], []),
    "nc-min": ("good.test", [NC], {0: ["name_constraints_unevaluable"]}, [], [NC], [NC], []),
    "pathlen": ("good.test", ["path_length"], {}, ["path_length_exceeded"],
                ["path_length"], ["path_length"], []),
    "eku-client": ("good.test", [PURPOSE], {0: ["no_server_auth"]}, [], [PURPOSE], [PURPOSE], []),
    "eku-any": ("good.test", [], {0: ["no_server_auth"]}, [], [PURPOSE], [PURPOSE], []),
    "eku-none": ("good.test", [], {0: ["no_eku"]}, [], [PUB], [], []),
    "ca-eku": ("good.test", [PURPOSE], {1: ["ca_eku_excludes_server_auth"]}, [],
               [PURPOSE], [PURPOSE], []),
    "ca-eku-ok": ("good.test", [], {}, [], [], [], []),
    "root-eku": ("good.test", [], {}, ["root_has_eku"], [PUB], [], []),
    "bc-noncrit": ("good.test", [], {1: ["ca_basic_constraints"]}, [], [PUB], [], []),
    "leaf-ca": ("good.test", [], {0: ["no_eku", "leaf_is_ca", "leaf_key_cert_sign",
                                      "leaf_key_usage"]}, [], [PUB, KU], [KU], []),
    "leaf-certsign": ("good.test", [], {0: ["leaf_key_cert_sign"]}, [], [PUB], [], []),
    "leaf-kenc": ("good.test", [], {0: ["leaf_key_usage"]}, [], [KU], [KU], []),
    "ca-ku": ("good.test", [KU], {1: ["ca_key_usage"]}, [], [KU], [KU], []),
    "ca-noku": ("good.test", [], {1: ["ca_no_key_usage"]}, [], [PUB], [], []),
    "v1-ca": ("good.test", ["signer_not_ca"], {1: ["v1_ca"]}, [], [PUB], [], []),
    "aki-missing": ("good.test", [], {0: ["aki_missing"]}, [], [PUB], [], []),
    "aki-crit": ("good.test", [], {0: ["aki_critical"]}, [], [PUB], [], []),
    "ski-crit": ("good.test", [], {0: ["ski_critical"]}, [], [PUB], [], []),
    "ski-missing": ("good.test", [], {1: ["ski_missing"]}, [], [PUB], [], []),
    "serial-zero": ("good.test", [], {0: ["serial_zero"]}, [], [PUB], [], []),
    "serial-neg": ("good.test", [], {0: ["serial_negative"]}, [], [PUB], [], []),
    "serial-long": ("good.test", [], {0: ["serial_too_long"]}, [], [PUB], [], []),
    "serial-20": ("good.test", [], {}, [], [], [], []),
    "no-san": ("good.test", [], {0: ["no_san"]}, [], [PUB], [], []),
    "cn-not-in-san": ("good.test", [], {0: ["cn_not_in_san"]}, [], [PUB], [], []),
    "underscore": ("good.test", [], {0: ["underscore_in_dns_name"]}, [], [PUB], [], []),
    "invalid-dns": ("good.test", [], {0: ["invalid_dns_name"]}, [], [PUB], [], []),
    "wild-psl": ("good.test", [], {0: ["wildcard_on_public_suffix"]}, [], [PUB], [], []),
    "wild-ok": ("good.test", [], {}, [], [], [], []),
    "empty-subject": ("good.test", [], {0: ["empty_subject_san_not_critical"]}, [], [PUB], [], []),
    "empty-subject-ok": ("good.test", [], {}, [], [], [], []),
    "rsa1024": ("good.test", [], {0: ["weak_key"]}, [], [PUB], [], LOW),
    "rsa2048": ("good.test", [], {}, [], [], [], []),
    "ed25519": ("good.test", [], {0: ["disallowed_key_type"]}, [], [PUB], [], []),
    "sha1": ("good.test", ["insecure_algorithm"], {0: ["sha1_signature"]}, [], [PUB], [], LOW),
    "md5": ("good.test", ["insecure_algorithm"], {0: ["md5_signature"]}, [], [PUB], [], LOW),
    "unknown-crit": ("good.test", ["unknown_critical_extension"],
                     {0: ["unknown_critical_extension"]}, [], [PUB], [], []),
    "aia-bad": ("good.test", [], {0: ["aia_malformed"]}, [], [PUB], [], []),
    "aia-crit": ("good.test", [], {0: ["aia_critical"]}, [], [PUB], [], []),
    "aia-ok": ("good.test", [], {}, [], [], [], []),
}
LEAF_KEY = {"root-eku": "root-eku-leaf"}


def ders(path):
    with open(path) as f:
        return [ssl.PEM_cert_to_DER_cert(b) for b in L.pem_blocks(f.read())]


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    corpus = lab.webpki_corpus()
    roots = corpus.path("roots.pem")

    servers = {}
    for name, row in CASES.items():
        servers[name] = lab.serve_chain(corpus.path(name + "-chain.pem"),
                                        corpus.path(LEAF_KEY.get(name, name) + ".key"), row[6])

    port = L.free_port()
    lines = ['listen = "127.0.0.1:%d";' % port, "ca_file = %s;" % L.conf_string(roots),
             'interval = "20s";', 'timeout = "5s";', "concurrency = 16;", "targets = ("]
    targets = []
    for name, row in CASES.items():
        for policy in ("public", "private"):
            targets.append("  { name = %s; address = %s; server_name = %s; policy = %s; }" % (
                L.conf_string("%s_%s" % (name, policy)), L.conf_string(servers[name].address),
                L.conf_string(row[0]), L.conf_string(policy)))
    lines.append(",\n".join(targets))
    lines.append(");")
    d = lab.daemon = L.Daemon(lab, "\n".join(lines) + "\n")
    tnames = ["%s_%s" % (n, p) for n in CASES for p in ("public", "private")]

    def all_probed(expo):
        return all((expo.value("tlswatch_probes_total", target=t, result="success") or 0) +
                   (expo.value("tlswatch_probes_total", target=t, result="failure") or 0) >= 1
                   for t in tnames)

    done, expo = d.wait_for(all_probed, 60)
    lab.check(done, "every target is probed within 60 s",
              ", ".join(t for t in tnames if not
                        (expo.value("tlswatch_probes_total", target=t, result="success") or 0)))
    expo = d.scrape(check=True)
    for name, (sni, gnutls, issues, anchor, pub, priv, _x) in CASES.items():
        presented = ders(corpus.path(name + "-chain.pem"))
        fps = [hashlib.sha256(x).hexdigest() for x in presented]
        for policy, extra in (("public", pub), ("private", priv)):
            t = "%s_%s" % (name, policy)
            excerpt = expo.excerpt(target=t)
            if not lab.eq(expo.value("tlswatch_probe_success", target=t), 1.0,
                          "%s: the probe succeeds" % t, excerpt):
                continue
            want = sorted(set(gnutls) | set(extra))
            got = sorted(s.labels["reason"] for s in expo.find("tlswatch_chain_verify_error",
                                                              target=t) if s.value == 1)
            lab.eq(got, want, "%s: verify_error reasons %s" % (t, want), excerpt)
            lab.eq(expo.value("tlswatch_chain_verified", target=t), 0.0 if want else 1.0,
                   "%s: chain_verified %d" % (t, 0 if want else 1), excerpt)
            # The policy check's words (test_policy_tls.py) are left out: these
            # leaves carry no SCTs, so too_few_scts holds under public.
            got = sorted((int(s.labels["depth"]), s.labels["sha256"], s.labels["issue"])
                         for s in expo.find("tlswatch_cert_issue", target=t)
                         if s.value == 1 and s.labels["issue"] not in POLICY_WORDS)
            wantci = sorted((dep, fps[dep], w) for dep, ws in issues.items() for w in ws)
            lab.eq(got, wantci, "%s: tlswatch_cert_issue %s" % (t, issues), excerpt)
            got = sorted(s.labels["issue"] for s in expo.find("tlswatch_anchor_issue", target=t))
            lab.eq(got, sorted(anchor), "%s: tlswatch_anchor_issue %s" % (t, anchor), excerpt)
            issues_c = sorted(s.labels["issue"] for s in expo.find("tlswatch_chain_issue",
                                                                  target=t))
            lab.eq(issues_c, [], "%s: no chain issue" % t, excerpt)
            got = [None] * len(fps)
            for s in expo.find("tlswatch_cert_not_after_timestamp_seconds", target=t):
                dep = int(s.labels["depth"])
                if dep < len(got):
                    got[dep] = s.labels["sha256"]
            lab.eq(got, fps, "%s: every presented certificate is recorded, in order" % t)

    # The API and the status page say the findings in words.
    status, _h, body = L.http_request("127.0.0.1", port, "GET", "/api/targets/nc-wildcard_public")
    lab.check(status == 200 and 'exclude DNS \\"secret.good.test\\"' in body and
              "name_excluded" in body,
              "the API says what the name constraints exclude and which name breaks them",
              body[:2000])
    status, _h, body = L.http_request("127.0.0.1", port, "GET", "/targets/nc-wildcard_public")
    lab.check(status == 200 and "secret.good.test" in body and "name_excluded" in body,
              "the status page shows the finding in words", body[:2000])

    # The tool says the same, first line and exit status, by policy.
    for name, args, want_first, want_line in (
            ("cross", [], "TLS OK - ", "Verdict:      verified"),
            ("leaf-ca", [], "TLS CRITICAL - ", "Reasons:      key_usage"),
            ("eku-client", [], "TLS CRITICAL - ", "Reasons:      purpose"),
            ("wild-psl", [], "TLS OK - ", "wildcard_on_public_suffix"),
            ("wild-psl", ["--policy", "public"], "TLS CRITICAL - ", "Reasons:      webpki")):
        rc, out, err = L.run_tlswatch(lab, ["check", servers[name].address, "--servername",
                                            CASES[name][0], "--cafile", roots] + args)
        lab.check(out.startswith(want_first) and want_line in out,
                  "tlswatch check %s %s: %r and %r" % (name, " ".join(args), want_first, want_line),
                  out[:1500] + err)
    d.stop()


if __name__ == "__main__":
    L.Lab("webpki_tls").main(main)
