#!/bin/sh
# bench/crl.sh - a CRL of N entries (default 1,000,000, 18-byte random
# serials as Let's Encrypt issues them), made and signed by openssl ca, then
# measured by bench/crl: parse and verify time, memory kept, lookup time.
#
#   bench/crl.sh [N] [BUILD_DIR]      (BUILD_DIR default: build)
#
# openssl takes about half a minute to sign a million entries; the CRL is
# kept in $TMPDIR/tlswatch-bench-crl-N for the next run.
set -eu
n=${1:-1000000}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$top/build}
make -s -C "$build" bench/crl
dir=${TMPDIR:-/tmp}/tlswatch-bench-crl-$n
if [ ! -f "$dir/crl.der" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	cd "$dir"
	python3 - "$n" <<'PY'
import random, sys
n = int(sys.argv[1])
rnd = random.Random(1)
with open("index.txt", "w") as f:
    for _ in range(n):
        serial = "%036X" % rnd.getrandbits(143)
        f.write("R\t300101000000Z\t250101000000Z,keyCompromise\t%s\tunknown\t/CN=x\n" % serial)
PY
	cat >ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = index.txt
crlnumber = crlnumber
default_md = sha256
CNF
	echo 01 >crlnumber
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-out ca.pem -subj "/CN=tlswatch bench CA" -days 30 \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -crldays 7 \
		-out crl.pem 2>/dev/null
	openssl crl -in crl.pem -outform DER -out crl.der
	openssl x509 -in ca.pem -outform DER -out ca.der
	rm -f crl.pem
fi
"$build/bench/crl" "$dir/crl.der" "$dir/ca.der" "$dir/index.txt"
