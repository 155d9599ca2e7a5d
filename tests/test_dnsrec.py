#!/usr/bin/env python3
"""test_dnsrec.py - TLSA, MX and TXT lookups (src/probe/dnsrec.c) on the
daemon's own event loop (tests/dnsq.c), against the real NSD and Unbound
of tests/dns_lab.py: the DNSSEC status of each answer (secure, insecure,
bogus), authenticated denial, the records exactly as the zone holds them,
a TCP fallback, a changed MX set, a resolver that never answers, and a
name that cannot be asked."""

import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import dns_lab as D  # noqa: E402

Z = D.ZONE


def dnsq(lab, server, queries, timeout_ms=15000):
    """Run tests/dnsq; {(name, type): (fields, [record lines])} and the
    exit status."""
    prog = os.path.join(lab.builddir or ".", "dnsq")
    if not os.path.exists(prog):
        raise L.Missing("%s not built (make check builds it)" % prog)
    args = [prog, "-t", str(timeout_ms), server]
    for name, rtype in queries:
        args += [name, rtype]
    r = subprocess.run(args, capture_output=True, timeout=timeout_ms / 1000 + 10)
    out = {}
    cur = None
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.startswith("  "):
            out[cur][1].append(line.strip())
            continue
        f = line.split()
        cur = (f[0], f[1])
        fields = {"status": f[2]}
        for kv in f[3:]:
            k, _, v = kv.partition("=")
            fields[k] = v
        out[cur] = (fields, [])
    if r.returncode not in (0, 1):
        raise L.HardError("dnsq failed (%d): %s" % (r.returncode,
                                                    r.stderr.decode(errors="replace")))
    return out, r.returncode


def tlsa_line(rdata):
    u, s, m, data = rdata.split()
    return "tlsa %s %s %s %s" % (u, s, m, data.lower())


def main(lab):
    m = D.MailLab(lab)
    server = m.resolver_address
    queries = [
        ("_25._tcp.dane-ee." + Z, "tlsa"),
        ("_25._tcp.dane-old." + Z, "tlsa"),
        ("_25._tcp.dane-ta." + Z, "tlsa"),
        ("_25._tcp.dane-none." + Z, "tlsa"),
        ("_25._tcp.mx.insecure." + Z, "tlsa"),
        ("_25._tcp.mx.bogus." + Z, "tlsa"),
        ("mail." + Z, "mx"),
        ("nomx." + Z, "mx"),
        ("nosuch." + Z, "mx"),
        ("_mta-sts.mail." + Z, "txt"),
        ("_smtp._tls.mail." + Z, "txt"),
        ("_smtp._tls.nosts." + Z, "txt"),
        ("big." + Z, "txt"),
        ("a..b." + Z, "tlsa"),
    ]
    t0 = time.monotonic()
    res, rc = dnsq(lab, server, queries)
    lab.note("%d lookups in %.2f s" % (len(queries), time.monotonic() - t0))
    lab.eq(rc, 0, "every lookup finished within its bound")
    lab.eq(len(res), len(queries), "one result per lookup")

    def check(name, rtype, status, desc, records=None, nxdomain="0", reason=None):
        fields, recs = res.get((name, rtype), ({}, []))
        ok = fields.get("status") == status and (records is None or recs == records)
        if status in ("secure", "insecure"):
            ok = ok and fields.get("nxdomain") == nxdomain
        if reason is not None:
            ok = ok and fields.get("reason") == reason
        lab.check(ok, desc, "got %r %r" % (fields, recs))

    for n in ("dane-ee", "dane-old", "dane-ta"):
        check("_25._tcp.%s.%s" % (n, Z), "tlsa", "secure",
              "%s: the TLSA record, authenticated (AD from the configured resolver), "
              "as the zone holds it" % n, [tlsa_line(m.tlsa[n])])
    check("_25._tcp.dane-none." + Z, "tlsa", "secure",
          "no TLSA in a signed zone: an authenticated denial (NXDOMAIN with AD)",
          [], nxdomain="1")
    check("_25._tcp.mx.insecure." + Z, "tlsa", "insecure",
          "the unsigned zone's TLSA record: insecure, the record still read",
          [tlsa_line(D.tlsa(3, 1, 1, m.good_cert))])
    check("_25._tcp.mx.bogus." + Z, "tlsa", "bogus",
          "a TLSA record whose signature is broken: bogus (SERVFAIL, then data with CD)",
          [], reason="bogus")
    check("mail." + Z, "mx", "secure", "the MX set, by preference, authenticated",
          ["mx 10 mx1." + Z, "mx 20 mx2." + Z])
    check("nomx." + Z, "mx", "secure", "a name without MX: no data, not NXDOMAIN", [])
    check("nosuch." + Z, "mx", "secure", "a name that does not exist: NXDOMAIN, authenticated",
          [], nxdomain="1")
    check("_mta-sts.mail." + Z, "txt", "secure", "the _mta-sts TXT record",
          ["txt " + b"v=STSv1; id=mail1;".hex()])
    check("_smtp._tls.mail." + Z, "txt", "secure", "the TLS-RPT TXT record",
          ["txt " + ("v=TLSRPTv1; rua=mailto:tlsrpt@mail.%s" % Z).encode().hex()])
    check("_smtp._tls.nosts." + Z, "txt", "secure", "no TLS-RPT record", [], nxdomain="1")
    big = sorted("txt " + (("%d" % i) + "x" * 199).encode().hex() for i in range(8))
    fields, recs = res.get(("big." + Z, "txt"), ({}, []))
    lab.check(fields.get("status") == "secure" and sorted(recs) == big,
              "eight 200-byte TXT records (over 1232 bytes: truncated over UDP, "
              "asked again over TCP) all read", "got %r, %d records" % (fields, len(recs)))
    check("a..b." + Z, "tlsa", "error", "a name with an empty label is not asked",
          reason="bad_name")

    # The MX set changes while the resolver runs; the next lookup sees it.
    m.set_mx("change", [(10, "mx1"), (30, "mx3")])
    res, rc = dnsq(lab, server, [("change." + Z, "mx")])
    lab.eq(res.get(("change." + Z, "mx"), ({}, []))[1], ["mx 10 mx1." + Z, "mx 30 mx3." + Z],
           "a changed MX set is read at the next lookup")

    # A resolver that never answers (a UDP socket nobody reads; TCP
    # refused): every lookup fails within c-ares's tries, not forever.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        t0 = time.monotonic()
        res, rc = dnsq(lab, "127.0.0.1:%d" % silent.getsockname()[1],
                       [("mail." + Z, "mx"), ("_25._tcp.mx1." + Z, "tlsa")], 20000)
        took = time.monotonic() - t0
    finally:
        silent.close()
    lab.eq(rc, 0, "lookups at a silent resolver end by themselves")
    for k, v in sorted(res.items()):
        lab.check(v[0].get("status") == "error" and v[0].get("reason") in
                  ("no_answer", "server_failure"),
                  "%s %s at a silent resolver: an error (%s)" % (k[0], k[1], v[0].get("reason")))
    lab.check(took < 15, "and within 15 s (%.1f s)" % took)


if __name__ == "__main__":
    L.Lab("dnsrec").main(main)
