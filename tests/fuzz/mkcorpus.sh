#!/bin/sh
# mkcorpus.sh - (re)make the seed corpora in tests/fuzz/corpus/ and the test
# PKI copy in tests/fuzz/pki.c from the tests' own inputs:
#
#   starttls  the server scripts of tests/test_starttls.c (EXPECT and
#             EXPECT_WHOLE, read from the file; its binary replies copied)
#   store     tests/test_store.c's damaged files, and whole state files
#             naming the test PKI's certificates
#   conf      every configuration written by tests/test_conf.c, and
#             etc/tlswatchd.conf
#   escape    the strings tests/test_metrics.c, test_status.c and
#             test_store.c escape, and the hostile certificate's subject
#   certs     the chains of tests/pki.sh (and each certificate), as DER
#   http      requests for every route, method and header we read
#   crl ocsp aia  tests/revpki.sh's CRLs, OCSP responses and issuer
#             certificates, and revcerts.h (the certificates the OCSP seeds
#             answer for); ari and fetch_meta: RFC 9773's examples, our files
#
# Usage: sh tests/fuzz/mkcorpus.sh   (from anywhere; needs certtool,
# python3 and a C compiler, as tests/pki.sh does). The output is committed:
# the corpora do not change from one build to the next.
set -eu
fuzz=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$fuzz/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkcorpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

sh "$top/tests/pki.sh" "$tmp/pki"
sh "$top/tests/revpki.sh" "$tmp/rev" http://127.0.0.1:9/pki http://127.0.0.1:9/ocsp
exec python3 - "$top" "$tmp/pki" "$tmp/rev" <<'EOF'
import base64, hashlib, os, re, shutil, subprocess, sys

top, pki, rev = sys.argv[1], sys.argv[2], sys.argv[3]
fuzz = os.path.join(top, "tests", "fuzz")
corpus = os.path.join(fuzz, "corpus")

def c_strings(text):
    """Each group of adjacent C string literals in text, decoded, with its offset."""
    out = []
    tok = re.compile(r'"((?:[^"\\\n]|\\.)*)"|//[^\n]*|/\*.*?\*/|\'(?:[^\'\\]|\\.)*\'|([A-Za-z_]\w*)|(\s+)|(.)', re.S)
    cur, start, last_macro = None, 0, False
    for m in tok.finditer(text):
        if m.group(1) is not None:
            if cur is None:
                cur, start = b"", m.start()
            cur += unescape(m.group(1))
        elif m.group(3) is not None or (m.group(0).startswith("/") and len(m.group(0)) > 1):
            continue
        elif m.group(2) is not None and cur is not None and m.group(2) in ("FFFD",):
            cur += b"\xef\xbf\xbd"
        else:
            if cur is not None:
                out.append((start, cur))
                cur = None
    if cur is not None:
        out.append((start, cur))
    return out

def unescape(s):
    b, i = bytearray(), 0
    simple = {"n": 10, "r": 13, "t": 9, "0": 0, "\\": 92, '"': 34, "'": 39, "a": 7, "b": 8, "f": 12, "v": 11, "?": 63}
    while i < len(s):
        c = s[i]
        if c != "\\":
            b += c.encode()
            i += 1
            continue
        n = s[i + 1]
        if n == "x":
            j = i + 2
            while j < len(s) and s[j] in "0123456789abcdefABCDEF":
                j += 1
            b.append(int(s[i + 2:j], 16) & 0xff)
            i = j
        elif n in "01234567":
            j = i + 1
            while j < len(s) and j < i + 4 and s[j] in "01234567":
                j += 1
            b.append(int(s[i + 1:j], 8) & 0xff)
            i = j
        else:
            b.append(simple[n])
            i += 2
    return bytes(b)

def calls(text, names):
    """(name, [args as raw text]) for each call of a name in names."""
    res = []
    for m in re.finditer(r'\b(' + "|".join(names) + r')\(', text):
        depth, i, args, cur = 1, m.end(), [], m.end()
        while depth:
            c = text[i]
            if c == '"':
                i += 1
                while text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "," and depth == 1:
                args.append(text[cur:i])
                cur = i + 1
            i += 1
        args.append(text[cur:i - 1])
        res.append((m.group(1), args))
    return res

def joined(arg):
    return b"".join(s for _, s in c_strings(arg))

def reset(name):
    d = os.path.join(corpus, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d

def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def read(*p):
    with open(os.path.join(*p), "rb") as f:
        return f.read()

def ders_of(path):
    out = []
    for block in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                            read(path).decode(), re.S):
        out.append(base64.b64decode("".join(block.split())))
    return out

# ---------------------------------------------------------------- pki.c
def c_literal(text):
    lines = text.decode().splitlines(True)
    return "\n".join('\t"' + l.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
                     for l in lines)

with open(os.path.join(fuzz, "pki.c"), "w") as f:
    f.write("/* pki.c - the test PKI of tests/pki.sh, for the harnesses (fuzz.h).\n"
            " * Made by tests/fuzz/mkcorpus.sh with the seeds that name these\n"
            " * certificates: remake both together. Test keys, of no use elsewhere. */\n"
            '#include "config.h"\n\n#include "fuzz.h"\n')
    for var, fn in (("fuzz_ca_pem", "ca.pem"), ("fuzz_int_pem", "int.pem"),
                    ("fuzz_good_pem", "good.pem"), ("fuzz_good_key", "good.key")):
        data = read(pki, fn)
        if fn.endswith(".key"):
            # certtool writes the key's text form first; the PEM block is enough
            data = re.search(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----\n",
                             data, re.S).group(0)
        f.write("\nconst char %s[] =\n%s;\n" % (var, c_literal(data)))

def fp(fn):
    return hashlib.sha256(ders_of(os.path.join(pki, fn))[0]).hexdigest()
fp_ca, fp_int, fp_good = fp("ca.pem"), fp("int.pem"), fp("good.pem")

# ---------------------------------------------------------------- starttls
protos = ["SMTP", "LMTP", "IMAP", "POP3", "FTP", "LDAP", "XMPP", "SIEVE", "NNTP", "POSTGRES", "MYSQL"]
d = reset("starttls")
src = read(top, "tests", "test_starttls.c").decode()
n = 0
for name, args in calls(src, ["EXPECT", "EXPECT_WHOLE"]):
    if len(args) < 3 or "STARTTLS_" not in args[0]:
        continue
    p = protos.index(args[0].strip().replace("(p)", "").replace("STARTTLS_", "")) if args[0].strip().startswith("STARTTLS_") else None
    if p is None:
        continue
    steps = [joined(a) for a in args[2:]]
    server = b"".join(steps[1::2])
    # as the test feeds them: a byte at a time, or all at once (EXPECT_WHOLE)
    modes = [0] if name == "EXPECT_WHOLE" else [1]
    for mode in modes:
        write(d, "%s-%02d-%d" % (protos[p].lower(), n, mode), bytes([p, mode]) + server)
    n += 1
P = {x: i for i, x in enumerate(protos)}
def mysql_greeting(caps):
    body = bytes([10]) + b"10.11.6-MariaDB\0" + b"\1" * 12 + b"\0" + bytes([caps & 0xff, caps >> 8 & 0xff]) + b"\0" * 16
    return bytes([len(body), 0, 0, 0]) + body
binary = {
    # copied from tests/test_starttls.c (test_postgres, test_mysql, test_ldap, test_xmpp)
    "postgres-S": (P["POSTGRES"], b"S"), "postgres-N": (P["POSTGRES"], b"N"),
    "postgres-E": (P["POSTGRES"], b"E\0\0\0\x10"), "postgres-SX": (P["POSTGRES"], b"SX"),
    "mysql-ssl": (P["MYSQL"], mysql_greeting(0xffff)),
    "mysql-nossl": (P["MYSQL"], mysql_greeting(0xffff & ~0x800)),
    "mysql-error": (P["MYSQL"], bytes([16, 0, 0, 0, 0xff, 0x69, 0x04]) + b"Host blocked!"),
    "mysql-long": (P["MYSQL"], b"\xff\xff\xff\x00"),
    "ldap-ok": (P["LDAP"], bytes([0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])),
    "ldap-protoerr": (P["LDAP"], bytes([0x30, 0x10, 0x02, 0x01, 0x01, 0x78, 0x0b, 0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x04]) + b"nope"),
    "ldap-unavailable": (P["LDAP"], bytes([0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x34, 0x04, 0x00, 0x04, 0x00])),
    "ldap-long": (P["LDAP"], bytes([0x30, 0x81, 0x0d, 0x02, 0x01, 0x01, 0x78, 0x81, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])),
    "ldap-http": (P["LDAP"], b"HTTP/1.1 400"),
    "ldap-overrun": (P["LDAP"], b"\x30\x05\x02\x09\x01\x78\x00"),
}
head = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams' id='x' from='good.test' version='1.0'>")
tls = (b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
       b"</starttls></stream:features>")
binary["xmpp-done"] = (P["XMPP"], head + tls + b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
binary["xmpp-nottls"] = (P["XMPP"], head + b"<stream:features><mechanisms/></stream:features>")
binary["xmpp-failure"] = (P["XMPP"], head + tls + b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
binary["xmpp-error"] = (P["XMPP"], b"<stream:error><host-unknown/></stream:error>")
for name, (p, data) in binary.items():
    # whole messages, but XMPP's several in chunks of up to 32 bytes (and
    # the connection closed at the end)
    write(d, name, bytes([p, 0x1f if name.startswith("xmpp") else 0]) + data)
write(d, "mysql-ssl-bytewise", bytes([P["MYSQL"] | 0x80, 1]) + binary["mysql-ssl"][1])

# ---------------------------------------------------------------- store
d = reset("store")
src = read(top, "tests", "test_store.c").decode()
m = re.search(r"bad\[\] = \{(.*?)\n\t\};", src, re.S)
for i, (_, s) in enumerate(c_strings(m.group(1))):
    write(d, "damaged-%02d" % i, s)
now = 1767225600
def state(extra, result=True):
    r = ("probe_time %d.250\nprobe_duration 0.052001\nstage_seconds 0.001000 0.002000 0.030000 0.001000 -1.000000\n" % now) if result else ""
    return ("format 1\n" + r + "name good.test:443\nfirst_seen %d.000\nlast_change %d.500\n"
            "chain_changed %d.500\nchain_changes 2\n" % (now - 86400 * 40, now - 3600, now - 3600) + extra + "end\n").encode()
ok = ("result success\npeer 127.0.0.1:443\ntls_version TLS1.3\ncipher TLS_AES_128_GCM_SHA256\n"
      "verified 1\nreasons -\nissues incomplete\nearliest_expiry %d\nverified_expiry %d\n" % (now + 86400, now + 86400))
certs = "cert %s\ncert %s\n" % (fp_good, fp_int)
hist = "history %d.000 %d.500 %s,%s\nhistory %d.000 %d.000 -\n" % (now - 86400 * 40, now - 3600, fp_good, fp_ca, now - 86400 * 50, now - 86400 * 40)
write(d, "success", state(ok + certs + hist))
write(d, "success-nohist", state(ok + certs))
write(d, "failure", state("result failure\nfail_stage connect\nfail_reason refused\nfail_detail Connection refused%0A\npeer [::1]:443\n"
                          "verified 0\nreasons expired,hostname_mismatch\nissues misordered,duplicate\n" + certs + hist))
write(d, "starttls-failure", state("result failure\nfail_stage starttls\nfail_reason not_offered\nfail_detail smtp: STARTTLS is not among the EHLO keywords\n"))
write(d, "no-result", state("verified 1\nreasons -\nissues -\n" + certs, result=False))
write(d, "unknown-key", state("future_key x y\n# a comment\n\n" + ok + certs))
write(d, "escaped-name", state(ok).replace(b"name good.test:443", b"name t/1 \"x\"%0A%25%C3%A9"))
write(d, "history-16", state(ok + certs + "".join("history %d.000 %d.000 %s\n" % (now - 100 * (i + 2), now - 100 * (i + 1), fp_good) for i in range(16))))

# ---------------------------------------------------------------- conf
d = reset("conf")
src = read(top, "tests", "test_conf.c").decode()
seen = set()
for _, s in c_strings(src):
    if len(s) < 24 or s in seen or s.startswith(b"t.conf:") or s.startswith(b"inc/") or not (b"=" in s or b"(" in s):
        continue
    seen.add(s)
    write(d, "test_conf-%03d" % len(seen), s)
write(d, "example", read(top, "etc", "tlswatchd.conf"))
write(d, "web", b'targets = ( { address = "good.test:443"; } );\nweb = {\n\ttls_cert_file = "cert.pem";\n'
      b'\ttls_key_file = "key.pem";\n\tclient_ca_file = "ca.pem";\n'
      b'\tbasic_auth_users = { alice = "$2b$04$7zVhx.pNEVsJmEe7Ls3WcO2lnjJ8sS0dRdR7TntfJ3OUa3nThVVGq"; };\n'
      b'\tmax_connections = 8; connection_timeout = "5s"; max_request_size = 4096;\n};\n')
write(d, "include", b'interval = "1m";\n@include "inc/targets.inc"\n')

# ---------------------------------------------------------------- escape
d = reset("escape")
pieces = []
for fn, funcs in (("test_metrics.c", ["test_escape_specials", "test_escape_utf8"]),
                  ("test_status.c", ["test_html_escape"]), ("test_store.c", ["test_escape"])):
    src = read(top, "tests", fn).decode()
    for f in funcs:
        body = re.search(r"\n" + f + r"\(void \*\*state\)\n\{(.*?)\n\}\n", src, re.S).group(1)
        pieces += [s for _, s in c_strings(body)]
hostile = re.search(r'hostile_subject\[\] =\s*(.*?);', read(top, "tests", "test_chain.c").decode(), re.S).group(1)
pieces.append(joined(hostile))
pieces += [b"\xc2\x9b31m C1 CSI", b"\x1b]0;title\x07", b"%", b"&amp;&#39;&", b"x" * 3000]
seen = []
for s in pieces:
    if s not in seen:
        seen.append(s)
for i, s in enumerate(seen):
    write(d, "s%02d" % i, s)
write(d, "all", b"\0".join(seen[:20]))

# ---------------------------------------------------------------- certs
d = reset("certs")
for fn in sorted(os.listdir(pki)):
    if not fn.endswith(".pem") or fn.endswith(".key"):
        continue
    ders = ders_of(os.path.join(pki, fn))
    if not ders:
        continue
    name = fn[:-4]
    host = 4 if name.startswith("wrongname") else 1
    write(d, name, bytes([host, 0]) + b"".join(ders))
write(d, "good-chain-by-ip", bytes([2, 0]) + b"".join(ders_of(os.path.join(pki, "good-chain.pem"))))
write(d, "good-chain-later", bytes([3, 4]) + b"".join(ders_of(os.path.join(pki, "good-chain.pem"))))
write(d, "good-chain-noname", bytes([0, 0xfe]) + b"".join(ders_of(os.path.join(pki, "good-chain.pem"))))

# ---------------------------------------------------------------- http
d = reset("http")
def url(name):
    return "".join(c if c.isalnum() or c in "-._~" else "%%%02X" % b for c in name for b in [ord(c)] if ord(c) < 128) if name.isascii() else \
        "".join(chr(b) if chr(b).isalnum() or chr(b) in "-._~" else "%%%02X" % b for b in name.encode())
names = ["good.test:443", "a b/c?d#e%f&g", "\u00fcn\u00efc<b>'\""]
reqs = {
    "root": "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "metrics-gzip": "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
    "metrics-plain": "GET /metrics HTTP/1.0\r\nAccept-Encoding: deflate, gzip;q=0, x-gzip ; Q=0.000\r\n\r\n",
    "metrics-star": "GET /metrics HTTP/1.1\r\nAccept-Encoding: br;q=1.0, *;q=0.5\r\n\r\n",
    "head-metrics": "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "healthz": "GET /healthz HTTP/1.1\r\n\r\n",
    "post": "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "nope": "GET /nope HTTP/1.1\r\n\r\n",
    "targets-empty": "GET /targets/ HTTP/1.1\r\n\r\n",
    "api": "GET /api/targets HTTP/1.1\r\n\r\n",
    "api-slash": "GET /api/targets/ HTTP/1.1\r\n\r\n",
    "api-unknown": "GET /api/targets/nope HTTP/1.1\r\n\r\n",
    "query": "GET /?refresh=1&x HTTP/1.1\r\n\r\n",
    "pipelined": "GET /healthz HTTP/1.1\r\n\r\nGET /api/targets HTTP/1.1\r\n\r\n",
    "bad-version": "GET / HTTP/9.9\r\n\r\n",
    "garbage": "\x00\x01\x02 / \r\n\r\n",
}
for i, n in enumerate(names):
    reqs["target-%d" % i] = "GET /targets/%s HTTP/1.1\r\n\r\n" % url(n)
    reqs["api-target-%d" % i] = "GET /api/targets/%s HTTP/1.1\r\n\r\n" % url(n)
for name, r in reqs.items():
    write(d, name, b"\0" + r.encode("latin-1"))
auth = base64.b64encode(b"alice:secret").decode()
write(d, "auth-ok", ("\1GET /api/targets HTTP/1.1\r\nAuthorization: Basic %s\r\n\r\n" % auth).encode())
write(d, "auth-metrics", ("\1GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\nAuthorization: Basic %s\r\n\r\n" % auth).encode())
write(d, "auth-wrong", ("\1GET / HTTP/1.1\r\nAuthorization: Basic %s\r\n\r\n" % base64.b64encode(b"alice:guess").decode()).encode())
write(d, "auth-none", b"\1GET / HTTP/1.1\r\n\r\n")
# ---------------------------------------------------------------- revocation
def rev_der(name):
    return subprocess.run(["openssl", "x509", "-in", os.path.join(rev, name + ".pem"),
                           "-outform", "DER"], capture_output=True, check=True).stdout
with open(os.path.join(fuzz, "revcerts.h"), "w") as f:
    f.write("/* revcerts.h - the certificates the fuzz seeds of corpus/ocsp and corpus/crl\n"
            " * were made for: tests/revpki.sh's int (the issuer) and good and revoked\n"
            " * (leaves), copied here by mkcorpus.sh with the seeds, so that the\n"
            " * harnesses need no files. Regenerate both together. */\n")
    for n in ("int", "good", "revoked"):
        b = rev_der(n)
        f.write("static const unsigned char rev_%s_der[] = {\n" % n)
        for i in range(0, len(b), 12):
            f.write("\t" + ", ".join("0x%02x" % x for x in b[i:i + 12]) + ",\n")
        f.write("};\n")
d = reset("crl")
for n in ("int.crl", "root.crl", "int-stale.crl", "int-idp.crl", "int-badsig.crl", "int-pem.crl"):
    write(d, n, read(rev, n))
d = reset("ocsp")
for n in sorted(os.listdir(rev)):
    if n.startswith("ocsp-"):
        write(d, n, read(rev, n))
d = reset("aia")
for n in ("int.cer", "int.p7c", "int.pem", "root.cer"):
    write(d, n, read(rev, n))
d = reset("ari")
write(d, "directory", b'\0{"newNonce":"https://acme.example/nonce","renewalInfo":"https://acme.example/renewal-info"}')
write(d, "window", b'\1{"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"},"explanationURL":"https://acme.example.com/docs/ari"}')
write(d, "window-offsets", b'\1{"suggestedWindow":{"start":"2025-01-02T04:00:00.5+01:00","end":"2025-01-03T04:00:00-05:00"}}')
write(d, "time", b"\x022025-01-02T04:00:00.123Z")
write(d, "base64url", b"\x03\x69\x88\x5b\x6b\x87")
write(d, "certid", b"\x04" + rev_der("highserial"))
d = reset("fetch_meta")
write(d, "crl", b"tlswatch-fetch 1\nurl http://crl.example/int.crl\nkind crl\n"
      b"fetched 1763800000.500\nfresh_until 1763900000.000\netag \"6925f3a1-1c\"\n"
      b"last_modified Tue, 25 Nov 2025 18:26:09 GMT\ncontent_type application/pkix-crl\n"
      b"body_size 28\nbody_sha256 " + b"0123456789abcdef" * 4 + b"\nend\n")
write(d, "ari", b"tlswatch-fetch 1\nurl https://acme.example/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\n"
      b"kind ari\nfetched 1763800000.000\nfresh_until 1763821600.000\nretry_after 1763821600.000\n"
      b"body_size 0\nbody_sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      b"new_key ignored\nend\n")

for name in sorted(os.listdir(corpus)):
    print("%s: %d seeds" % (name, len(os.listdir(os.path.join(corpus, name)))))
EOF
