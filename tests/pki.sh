#!/bin/sh
# pki.sh - make the test PKI that the unit and integration tests share.
#
# Usage: sh tests/pki.sh OUTDIR
#
# Everything is regenerated on every run, with dates relative to now, so the
# certificates never go stale. The file names below are a contract with
# tests/test_chain.c and the integration tests; add, don't rename.
#
#   ca.pem/.key            root "tlswatch Test Root CA" (10 years)
#   int.pem/.key           "tlswatch Test Intermediate CA", signed by ca
#   int2.pem/.key          "tlswatch Test Intermediate 2", signed by int
#   good, expired, notyet, soon, wrongname, hostile, client: leaves signed by int
#   month                  a leaf signed by int expiring in 15 days (status page: warn)
#   deep                   leaf signed by int2
#   selfsigned             self-signed leaf (not a CA)
#   untrusted-ca, untrusted: a root never in ca.pem and a leaf it signed
#   *-chain.pem            chains as a server would present them
#   rsa2048, rsa4096, p384, ed25519: leaves signed by int with those keys
#   life400                a 400-day leaf issued yesterday (after 2026-03-15)
#   life390                a 390-day leaf issued 2026-03-01 (before 2026-03-15;
#                          expired from 2027-03-26 on)
#   sct1, sct3             leaves embedding a list of 1 and of 3 SCTs (mkcert -s)
#   good-scts2.ocsp        an OCSP response for good with 2 SCTs in its
#                          singleExtensions (mkcert -d; s_server -status_file)
#   good-scts2.serverinfo  the same 2 SCTs as the TLS extension (s_server -serverinfo)
#   oldroot                a root that expired 100 days ago (not in ca.pem)
#   ca-x-old               ca's key and name cross-signed by oldroot, expired
#                          30 days ago: xsign-chain presents it after good and
#                          int, beside the valid path good, int, ca
#
# Leaves other than wrongname and client carry the SANs DNS:good.test,
# DNS:localhost, IP:127.0.0.1 and IP:::1.
#
# certtool's template parser drops backslashes and cannot carry a newline,
# so the hostile certificate (a subject made to forge a Prometheus series)
# is made by tests/mkcert.c, compiled here with $CC and pkg-config.

set -eu

die() {
	echo "pki.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: sh pki.sh OUTDIR"
out=$1
here=$(cd "$(dirname "$0")" && pwd)
command -v certtool >/dev/null 2>&1 || die "certtool not found (install gnutls-bin)"
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pki.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# certtool reads template dates in the local zone unless told otherwise.
TZ=UTC
export TZ

# A date as a certtool template wants it. "+N days" and "-N days" count from one
# moment taken once, so that two dates of a certificate never straddle a tick of
# the clock (a 91-day certificate came out 91 days and 1 second); anything else is
# an absolute date.
PKI_NOW=$(date -u '+%Y-%m-%d %H:%M:%S UTC') || die "date failed"
when() {
	case $1 in
	[+-]*) set -- "$PKI_NOW $1" ;;
	esac
	date -u -d "$1" '+%Y-%m-%d %H:%M:%S UTC' || die "date -d '$1' failed"
}

# Run certtool quietly; show its output only when it fails.
ct() {
	certtool "$@" >"$tmp/log" 2>&1 || {
		cat "$tmp/log" >&2
		die "certtool $* failed"
	}
}

# key NAME [CERTTOOL-ARGS]: ECDSA P-256 unless told otherwise
key() {
	name=$1
	shift
	[ $# -gt 0 ] || set -- --key-type=ecdsa --curve=secp256r1
	ct --generate-privkey --no-text "$@" --outfile "$out/$name.key"
}

# tmpl NAME CN FROM TO KIND: write a template; KIND is ca, server, client or bare.
tmpl() {
	{
		echo "cn = \"$2\""
		echo "activation_date = \"$(when "$3")\""
		echo "expiration_date = \"$(when "$4")\""
		case $5 in
		ca)
			echo "ca"
			echo "cert_signing_key"
			echo "crl_signing_key"
			;;
		server)
			echo "signing_key"
			echo "tls_www_server"
			echo "dns_name = \"good.test\""
			echo "dns_name = \"localhost\""
			echo "ip_address = \"127.0.0.1\""
			echo "ip_address = \"::1\""
			;;
		wrongname)
			echo "signing_key"
			echo "tls_www_server"
			echo "dns_name = \"wrong.test\""
			;;
		client)
			echo "signing_key"
			echo "tls_www_client"
			;;
		esac
	} >"$tmp/$1.tmpl"
}

# root NAME CN
root() {
	key "$1"
	tmpl "$1" "$2" "-400 days" "+3650 days" ca
	ct --generate-self-signed --load-privkey "$out/$1.key" \
	    --template "$tmp/$1.tmpl" --outfile "$out/$1.pem"
}

# issue NAME CN FROM TO KIND ISSUER: a certificate for NAME's existing key
issue() {
	tmpl "$1" "$2" "$3" "$4" "$5"
	ct --generate-certificate --load-privkey "$out/$1.key" \
	    --load-ca-certificate "$out/$6.pem" --load-ca-privkey "$out/$6.key" \
	    --template "$tmp/$1.tmpl" --outfile "$out/$1.pem"
}

# signed NAME CN FROM TO KIND ISSUER [KEY-ARGS]
signed() {
	n=$1 c=$2 f=$3 t=$4 k=$5 i=$6
	shift 6
	key "$n" "$@"
	issue "$n" "$c" "$f" "$t" "$k" "$i"
}

# chain NAME CERT...: concatenate certificates into NAME-chain.pem.
chain() {
	name=$1
	shift
	: >"$out/$name.tmp"
	for c in "$@"; do
		cat "$out/$c.pem" >>"$out/$name.tmp"
	done
	mv "$out/$name.tmp" "$out/$name.pem"
}

root ca "tlswatch Test Root CA"
# Intermediates start before the oldest leaf so that no leaf predates its issuer.
signed int "tlswatch Test Intermediate CA" "-365 days" "+1825 days" ca ca
signed int2 "tlswatch Test Intermediate 2" "-365 days" "+1825 days" ca int

signed good good.test "-1 day" "+90 days" server int
signed expired good.test "-60 days" "-2 days" server int
signed notyet good.test "+10 days" "+100 days" server int
signed soon good.test "-1 day" "+5 days" server int
signed month good.test "-1 day" "+15 days" server int
signed wrongname wrong.test "-1 day" "+90 days" wrongname int
signed deep good.test "-1 day" "+90 days" server int2
signed client "tlswatch client" "-1 day" "+90 days" client int

key selfsigned
tmpl selfsigned good.test "-1 day" "+90 days" server
ct --generate-self-signed --load-privkey "$out/selfsigned.key" \
    --template "$tmp/selfsigned.tmpl" --outfile "$out/selfsigned.pem"

root untrusted-ca "Untrusted Root CA"
signed untrusted good.test "-1 day" "+90 days" server untrusted-ca

key hostile
gnutls_flags=$(pkg-config --cflags --libs gnutls) ||
    die "pkg-config knows no gnutls (install libgnutls28-dev)"
# Several flags: splitting is wanted.
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -o "$tmp/mkcert" "$here/mkcert.c" $gnutls_flags \
    2>"$tmp/log" || {
	cat "$tmp/log" >&2
	die "cannot compile $here/mkcert.c"
}
"$tmp/mkcert" "$out/int.pem" "$out/int.key" "$out/hostile.key" \
    "$out/hostile.pem" || die "mkcert failed"

# Certificate policy (src/verdict/policy.c): key types, lifetimes by the
# SC-081 schedule, embedded SCTs, an expired cross-signed CA.
signed rsa2048 good.test "-1 day" "+90 days" server int --key-type=rsa --bits=2048
signed rsa4096 good.test "-1 day" "+90 days" server int --key-type=rsa --bits=4096
signed p384 good.test "-1 day" "+90 days" server int --key-type=ecdsa --curve=secp384r1
signed ed25519 good.test "-1 day" "+90 days" server int --key-type=ed25519
signed life400 good.test "-1 day" "+399 days" server int
signed life390 good.test "2026-03-01 00:00:00 UTC" "2026-03-01 00:00:00 UTC + 390 days" \
    server int
for n in 1 3; do
	key "sct$n"
	"$tmp/mkcert" -s "$n" "$out/int.pem" "$out/int.key" "$out/sct$n.key" \
	    "$out/sct$n.pem" || die "mkcert -s $n failed"
done
"$tmp/mkcert" -d 2 "$out/good.pem" "$out/good-scts2" || die "mkcert -d 2 failed"
key oldroot
tmpl oldroot "tlswatch Test Old Root CA" "-4000 days" "-100 days" ca
ct --generate-self-signed --load-privkey "$out/oldroot.key" \
    --template "$tmp/oldroot.tmpl" --outfile "$out/oldroot.pem"
cp "$out/ca.key" "$out/ca-x-old.key"
issue ca-x-old "tlswatch Test Root CA" "-1000 days" "-30 days" ca oldroot

chain good-chain good int
chain expired-chain expired int
chain notyet-chain notyet int
chain soon-chain soon int
chain month-chain month int
chain wrongname-chain wrongname int
chain untrusted-chain untrusted untrusted-ca
chain deep-chain deep int2 int
chain misordered-chain deep int int2
chain noint-chain good
chain rootincl-chain good int ca
chain dup-chain good int int
chain hostile-chain hostile int
for n in rsa2048 rsa4096 p384 ed25519 life400 life390 sct1 sct3; do
	chain "$n-chain" "$n" int
done
chain xsign-chain good int ca-x-old
exit 0
