#!/usr/bin/env python3
"""webpki_seeds.py - seeds for tests/fuzz/fuzz_webpki.c.

Usage: python3 tests/fuzz/webpki_seeds.py OUTDIR

Makes the conformance corpus (tests/webpki-corpus.sh) and writes each chain
as a path seed (byte 0: 2, anchored; then the DER of each certificate), and
the hand-made nameConstraints/subjectAltName pairs of test_webpki.c as name
seeds (byte 0: 1; byte 1: the constraints' length; constraints; names)."""

import os
import re
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

def tlv(tag, body):
    """One DER element (lengths up to 65535)."""
    n = len(body)
    if n < 0x80:
        head = bytes([tag, n])
    elif n < 0x100:
        head = bytes([tag, 0x81, n])
    else:
        head = bytes([tag, 0x82, n >> 8, n & 0xff])
    return head + body


def subtrees(tag, *bases):
    return tlv(tag, b"".join(tlv(0x30, b) for b in bases))


DNS = lambda s: tlv(0x82, s.encode())          # noqa: E731
EMAIL = lambda s: tlv(0x81, s.encode())        # noqa: E731
URI = lambda s: tlv(0x86, s.encode())          # noqa: E731
IP = lambda b: tlv(0x87, bytes(b))             # noqa: E731
DIRNAME = tlv(0xa4, tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, bytes([0x55, 4, 10])) +
                                             tlv(0x0c, b"Good")))))

NAME_SEEDS = {
    # permitted DNS good.test, excluded 10.0.0.0/8
    "nc-ok": (tlv(0x30, subtrees(0xa0, DNS("good.test")) +
                  subtrees(0xa1, IP([10, 0, 0, 0, 255, 0, 0, 0]))),
              tlv(0x30, DNS("a.good.test") + IP([10, 1, 2, 3]) + DNS("*.good.test"))),
    # an x400Address subtree before a DNS one (GnuTLS stops at the first)
    "nc-x400": (tlv(0x30, subtrees(0xa0, tlv(0xa3, tlv(0x30, b"")), DNS("good.test"))),
                tlv(0x30, DNS("a.evil.test"))),
    # a maximum; a directory name
    "nc-max": (tlv(0x30, subtrees(0xa0, DIRNAME + tlv(0x81, b"\x05"))),
               tlv(0x30, DIRNAME)),
    # excluded email and URI domains
    "nc-email": (tlv(0x30, subtrees(0xa1, EMAIL("evil.test"), URI(".evil.test"))),
                 tlv(0x30, EMAIL("a@evil.test") + URI("https://x.evil.test/"))),
}


def main(out):
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["sh", os.path.join(HERE, "..", "webpki-corpus.sh"), tmp], check=True)
        for name in sorted(os.listdir(tmp)):
            if not name.endswith("-chain.pem"):
                continue
            with open(os.path.join(tmp, name)) as f:
                text = f.read()
            blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                                text, re.S)
            der = b"".join(ssl.PEM_cert_to_DER_cert(b) for b in blocks)
            with open(os.path.join(out, "path-" + name[:-len("-chain.pem")]), "wb") as f:
                f.write(b"\x02" + der)
    for name, (nc, san) in NAME_SEEDS.items():
        ncb, sanb = nc, san
        with open(os.path.join(out, "names-" + name), "wb") as f:
            f.write(b"\x01" + bytes([len(ncb)]) + ncb + sanb)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: webpki_seeds.py OUTDIR")
    main(sys.argv[1])
