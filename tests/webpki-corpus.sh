#!/bin/sh
# webpki-corpus.sh - make the Web PKI conformance corpus the webpki tests use.
#
# Usage: sh tests/webpki-corpus.sh OUTDIR
#
# Every chain breaks one rule of src/verdict/finding.c's table (or shows one
# rule passing beside it). Made afresh on every run with openssl (x509 -req
# with -extfile, which takes any extension as raw DER where no keyword
# says it) and certtool (a DSA key, a SHA-1 signature). The names are a
# contract with tests/test_webpki.c and the integration tests: add, don't
# rename.
#
#   roots.pem                 every root the corpus trusts: root, root-pl0,
#                             root-eku, root-x
#   root, int                 the plain hierarchy (int signed by root)
#   NAME.pem, NAME.key        a leaf (or the certificate under test)
#   NAME-chain.pem            the chain a server presents, leaf first
#
# Leaves carry CN=good.test and SANs DNS:good.test, DNS:localhost,
# IP:127.0.0.1 and IP:::1 unless the case says otherwise, so that each can
# be served on loopback and checked as "good.test".

set -eu

die() {
	echo "webpki-corpus.sh: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: sh webpki-corpus.sh OUTDIR"
command -v openssl >/dev/null 2>&1 || die "openssl not found"
command -v certtool >/dev/null 2>&1 || die "certtool not found (install gnutls-bin)"
mkdir -p "$1" || die "cannot create $1"
out=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wpcorpus.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
TZ=UTC
export TZ

run() {
	"$@" >"$tmp/log" 2>&1 || {
		cat "$tmp/log" >&2
		die "$* failed"
	}
}

# key NAME [ALG]: ec (P-256, the default), p224, rsa1024, rsa, ed25519, dsa
key() {
	case ${2:-ec} in
	ec) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$1.key" ;;
	p224) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-224 -out "$out/$1.key" ;;
	rsa) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/$1.key" ;;
	rsa1024) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$out/$1.key" ;;
	ed25519) run openssl genpkey -algorithm ED25519 -out "$out/$1.key" ;;
	dsa) run certtool --generate-privkey --key-type=dsa --bits=2048 --no-text --outfile "$out/$1.key" ;;
	*) die "unknown key type $2" ;;
	esac
}

# The extensions of a leaf, CA and root, as -extfile sections. A case
# passes its own lines in $EXT, which replace the default ones.
LEAF_EXT='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1'
CA_EXT='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign'
IDS='subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer'

# root NAME SUBJ [EXT]: a self-signed root.
root() {
	key "$1"
	{
		echo "[req]"
		echo "distinguished_name=dn"
		echo "[dn]"
		echo "[v3]"
		printf '%s\n' "${3:-$CA_EXT}"
		echo "subjectKeyIdentifier=hash"
	} >"$tmp/$1.cnf"
	run openssl req -x509 -new -key "$out/$1.key" -subj "$2" -days 3650 \
	    -set_serial "0x$(openssl rand -hex 16 | sed 's/^./7/')" \
	    -config "$tmp/$1.cnf" -extensions v3 -out "$out/$1.pem"
}

# cert NAME ISSUER SUBJ EXT [KEYALG [x509 options...]]: a certificate
# signed by ISSUER with exactly the extension lines EXT (key identifiers
# are added unless EXT names them, "KEY=none" leaves one out; EXT "none"
# makes a version 1 certificate, without extensions). $SERIAL, when set,
# is its serial number.
cert() {
	name=$1 issuer=$2 subj=$3 ext=$4
	shift 4
	alg=ec
	if [ $# -gt 0 ]; then
		alg=$1
		shift
	fi
	[ -f "$out/$name.key" ] || key "$name" "$alg"
	run openssl req -new -key "$out/$name.key" -subj "$subj" -out "$tmp/$name.csr"
	serial=${SERIAL:-0x$(openssl rand -hex 16 | sed 's/^./7/')}
	if [ "$ext" = none ]; then
		run openssl x509 -req -in "$tmp/$name.csr" -CA "$out/$issuer.pem" \
		    -CAkey "$out/$issuer.key" -days 90 -set_serial "$serial" "$@" \
		    -out "$out/$name.pem"
		return
	fi
	{
		# The identifiers first: EXT may end in a section of its own.
		echo "[v3]"
		case $ext in
		*subjectKeyIdentifier*) ;;
		*) echo "subjectKeyIdentifier=hash" ;;
		esac
		case $ext in
		*authorityKeyIdentifier*) ;;
		*) echo "authorityKeyIdentifier=keyid,issuer" ;;
		esac
		printf '%s\n' "$ext"
	} >"$tmp/$name.ext"
	run openssl x509 -req -in "$tmp/$name.csr" -CA "$out/$issuer.pem" \
	    -CAkey "$out/$issuer.key" -days 90 -set_serial "$serial" "$@" \
	    -extfile "$tmp/$name.ext" -extensions v3 -out "$out/$name.pem"
}

# leaf NAME ISSUER [EXT [KEYALG [x509 options...]]]: a server leaf.
leaf() {
	n=$1 i=$2
	shift 2
	e=${1:-$LEAF_EXT}
	[ $# -gt 0 ] && shift
	cert "$n" "$i" "${SUBJ:-/CN=good.test}" "$e" "$@"
}

# chain NAME CERT...: NAME-chain.pem, the certificates in the order given.
chain() {
	name=$1
	shift
	: >"$out/$name.tmp"
	for c in "$@"; do
		cat "$out/$c.pem" >>"$out/$name.tmp"
	done
	mv "$out/$name.tmp" "$out/$name-chain.pem"
}

# Lines of the default leaf, with one replaced or added: with KEY=VALUE
# lines on stdin-free arguments ("keyUsage=..."), each replaces the line of
# that key; "-KEY" drops it.
leaf_ext() {
	ext=$LEAF_EXT
	for l in "$@"; do
		k=${l%%=*}
		k=${k#-}
		ext=$(printf '%s\n' "$ext" | grep -v "^$k=" || true)
		case $l in
		-*) ;;
		*) ext=$(printf '%s\n%s' "$ext" "$l") ;;
		esac
	done
	printf '%s\n' "$ext"
}

# DER of a string as hex with colons, for raw extensions.
hexs() {
	printf '%s' "$1" | od -An -tx1 | tr -s ' \n' '::' | sed 's/^://; s/:$//'
}

# ---- the hierarchy ------------------------------------------------------
root root "/CN=webpki Test Root"
cert int root "/CN=webpki Test Intermediate" "$CA_EXT"
leaf pass int
chain pass pass int

# ---- name constraints ----------------------------------------------------
NC_LEAF_EXT=$(leaf_ext "subjectAltName=DNS:www.good.test,IP:127.0.0.1")
cert int-nc root "/CN=webpki NC good.test" "$CA_EXT
nameConstraints=critical,permitted;DNS:good.test,permitted;IP:127.0.0.0/255.0.0.0"
SUBJ=/CN=www.good.test leaf nc-permit-ok int-nc "$NC_LEAF_EXT"
chain nc-permit-ok nc-permit-ok int-nc
SUBJ=/CN=www.good.test leaf nc-permit-bad int-nc \
    "$(leaf_ext "subjectAltName=DNS:www.good.test,DNS:other.test,IP:127.0.0.1")"
chain nc-permit-bad nc-permit-bad int-nc
SUBJ=/CN=www.good.test leaf nc-ip int-nc \
    "$(leaf_ext "subjectAltName=DNS:www.good.test,IP:10.0.0.1")"
chain nc-ip nc-ip int-nc
# CN=evil.test: a host name in the subject, beside an IP-only SAN
SUBJ=/CN=evil.test leaf nc-cn int-nc "$(leaf_ext "subjectAltName=IP:127.0.0.1")"
chain nc-cn nc-cn int-nc
SUBJ=/CN=www.good.test leaf nc-invalid int-nc \
    "$(leaf_ext "subjectAltName=DNS:www.good.test,DNS:bad name.good.test,IP:127.0.0.1")"
chain nc-invalid nc-invalid int-nc

cert int-ex root "/CN=webpki NC excluded" "$CA_EXT
nameConstraints=critical,excluded;DNS:bad.test,excluded;DNS:secret.good.test,excluded;email:evil.test"
leaf nc-excluded int-ex "$(leaf_ext "subjectAltName=DNS:good.test,DNS:x.bad.test")"
chain nc-excluded nc-excluded int-ex
leaf nc-wildcard int-ex "$(leaf_ext "subjectAltName=DNS:good.test,DNS:*.good.test")"
chain nc-wildcard nc-wildcard int-ex
leaf nc-email int-ex "$(leaf_ext "subjectAltName=DNS:good.test,email:a@evil.test")"
chain nc-email nc-email int-ex
leaf nc-ex-ok int-ex "$(leaf_ext "subjectAltName=DNS:good.test,DNS:www.good.test,email:a@good.test")"
chain nc-ex-ok nc-ex-ok int-ex

cert int-dot root "/CN=webpki NC .good.test" "$CA_EXT
nameConstraints=critical,permitted;DNS:.good.test,permitted;URI:.good.test"
SUBJ=/CN=www.good.test leaf nc-dot-ok int-dot \
    "$(leaf_ext "subjectAltName=DNS:www.good.test,URI:https://www.good.test/")"
chain nc-dot-ok nc-dot-ok int-dot
leaf nc-dot-bad int-dot "$(leaf_ext "subjectAltName=DNS:good.test")"
chain nc-dot-bad nc-dot-bad int-dot
SUBJ=/CN=www.good.test leaf nc-uri int-dot \
    "$(leaf_ext "subjectAltName=DNS:www.good.test,URI:https://www.evil.test/")"
chain nc-uri nc-uri int-dot

# An intermediate below the constrained one names what it may not.
cert int-nc2 int-nc "/CN=webpki NC child" "$CA_EXT
subjectAltName=DNS:evil.test"
SUBJ=/CN=www.good.test leaf nc-int-san int-nc2 "$NC_LEAF_EXT"
chain nc-int-san nc-int-san int-nc2 int-nc

cert int-dn root "/O=Good/CN=webpki NC O=Good" "$CA_EXT
nameConstraints=critical,permitted;dirName:dn_good
[dn_good]
O=Good"
SUBJ="/O=Good/CN=good.test" leaf nc-dn-ok int-dn
chain nc-dn-ok nc-dn-ok int-dn
SUBJ="/O=Evil/CN=good.test" leaf nc-dn int-dn
chain nc-dn nc-dn int-dn

# permitted dNSName good.test with minimum 1: nobody evaluates that
nc_min="30:12:a0:10:30:0e:82:09:$(hexs good.test):80:01:01"
cert int-min root "/CN=webpki NC minimum" "$CA_EXT
2.5.29.30=critical,DER:$nc_min"
leaf nc-min int-min
chain nc-min nc-min int-min

# ---- path length ---------------------------------------------------------
root root-pl0 "/CN=webpki Root pathlen 0" "basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign"
cert int-pl root-pl0 "/CN=webpki Intermediate under pathlen 0" "$CA_EXT"
leaf pathlen int-pl
chain pathlen pathlen int-pl

# ---- extended key usage --------------------------------------------------
leaf eku-client int "$(leaf_ext "extendedKeyUsage=clientAuth")"
chain eku-client eku-client int
leaf eku-any int "$(leaf_ext "extendedKeyUsage=anyExtendedKeyUsage")"
chain eku-any eku-any int
leaf eku-none int "$(leaf_ext -extendedKeyUsage)"
chain eku-none eku-none int
cert int-eku root "/CN=webpki Intermediate clientAuth" "$CA_EXT
extendedKeyUsage=clientAuth"
leaf ca-eku int-eku
chain ca-eku ca-eku int-eku
cert int-eku-ok root "/CN=webpki Intermediate serverAuth" "$CA_EXT
extendedKeyUsage=serverAuth,clientAuth"
leaf ca-eku-ok int-eku-ok
chain ca-eku-ok ca-eku-ok int-eku-ok
root root-eku "/CN=webpki Root with EKU" "$CA_EXT
extendedKeyUsage=serverAuth"
cert int-reku root-eku "/CN=webpki Intermediate under EKU root" "$CA_EXT"
leaf root-eku-leaf int-reku
chain root-eku root-eku-leaf int-reku

# ---- basic constraints and key usage -------------------------------------
cert int-bc root "/CN=webpki Intermediate BC not critical" "basicConstraints=CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
leaf bc-noncrit int-bc
chain bc-noncrit bc-noncrit int-bc
leaf leaf-ca int "basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectAltName=DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1"
chain leaf-ca leaf-ca int
leaf leaf-certsign int "$(leaf_ext "keyUsage=critical,digitalSignature,keyCertSign")"
chain leaf-certsign leaf-certsign int
leaf leaf-kenc int "$(leaf_ext "keyUsage=critical,keyEncipherment")" rsa
chain leaf-kenc leaf-kenc int
cert int-ku root "/CN=webpki Intermediate without keyCertSign" "basicConstraints=critical,CA:TRUE
keyUsage=critical,cRLSign"
leaf ca-ku int-ku
chain ca-ku ca-ku int-ku
cert int-noku root "/CN=webpki Intermediate without key usage" "basicConstraints=critical,CA:TRUE"
leaf ca-noku int-noku
chain ca-noku ca-noku int-noku
cert int-v1 root "/CN=webpki Intermediate v1" none
leaf v1-ca int-v1
chain v1-ca v1-ca int-v1

# ---- key identifiers -------------------------------------------------------
leaf aki-missing int "$(leaf_ext "authorityKeyIdentifier=none")"
chain aki-missing aki-missing int
leaf aki-crit int "$(leaf_ext "authorityKeyIdentifier=critical,keyid")"
chain aki-crit aki-crit int
leaf ski-crit int "$(leaf_ext "subjectKeyIdentifier=critical,hash")"
chain ski-crit ski-crit int
cert int-noski root "/CN=webpki Intermediate without SKI" "$CA_EXT
subjectKeyIdentifier=none"
leaf ski-missing int-noski
chain ski-missing ski-missing int-noski

# ---- serial numbers ------------------------------------------------------
SERIAL=0 leaf serial-zero int
chain serial-zero serial-zero int
SERIAL=-5 leaf serial-neg int
chain serial-neg serial-neg int
# 21 octets, and beside it 20 (the most allowed)
SERIAL=0x7f0102030405060708090a0b0c0d0e0f1011121314 leaf serial-long int
chain serial-long serial-long int
SERIAL=0x7f01020304050607080910111213141516171819 leaf serial-20 int
chain serial-20 serial-20 int

# ---- names ---------------------------------------------------------------
leaf no-san int "$(leaf_ext -subjectAltName)"
chain no-san no-san int
SUBJ=/CN=other.test leaf cn-not-in-san int
chain cn-not-in-san cn-not-in-san int
leaf underscore int "$(leaf_ext "subjectAltName=DNS:good.test,DNS:my_host.good.test")"
chain underscore underscore int
leaf invalid-dns int "$(leaf_ext "subjectAltName=DNS:good.test,DNS:-bad-.good.test")"
chain invalid-dns invalid-dns int
leaf wild-psl int "$(leaf_ext "subjectAltName=DNS:good.test,DNS:*.co.uk")"
chain wild-psl wild-psl int
leaf wild-ok int "$(leaf_ext "subjectAltName=DNS:good.test,DNS:*.good.test")"
chain wild-ok wild-ok int
SUBJ=/ leaf empty-subject int
chain empty-subject empty-subject int
SUBJ=/ leaf empty-subject-ok int \
    "$(leaf_ext "subjectAltName=critical,DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1")"
chain empty-subject-ok empty-subject-ok int

# ---- keys and signatures -------------------------------------------------
leaf rsa1024 int "$LEAF_EXT" rsa1024
chain rsa1024 rsa1024 int
leaf rsa2048 int "$(leaf_ext "keyUsage=critical,digitalSignature,keyEncipherment")" rsa
chain rsa2048 rsa2048 int
leaf p224 int "$LEAF_EXT" p224
chain p224 p224 int
leaf ed25519 int "$LEAF_EXT" ed25519
chain ed25519 ed25519 int
leaf sha1 int "$LEAF_EXT" ec -sha1
chain sha1 sha1 int
cert int-rsa root "/CN=webpki Intermediate RSA" "$CA_EXT" rsa
leaf md5 int-rsa "$LEAF_EXT" ec -md5
chain md5 md5 int-rsa
# DSA through certtool (openssl 3 makes DSA parameters slowly), signed by
# int with certtool's template.
key dsa dsa
{
	echo 'cn = "good.test"'
	echo 'expiration_days = 90'
	echo 'tls_www_server'
	echo 'signing_key'
	echo 'dns_name = "good.test"'
	echo 'dns_name = "localhost"'
	echo 'ip_address = "127.0.0.1"'
	echo 'ip_address = "::1"'
} >"$tmp/dsa.tmpl"
run certtool --generate-certificate --load-privkey "$out/dsa.key" \
    --load-ca-certificate "$out/int.pem" --load-ca-privkey "$out/int.key" \
    --template "$tmp/dsa.tmpl" --outfile "$out/dsa.pem"
chain dsa dsa int

# ---- extensions ----------------------------------------------------------
leaf unknown-crit int "$(leaf_ext "1.3.6.1.4.1.99999.1=critical,DER:05:00")"
chain unknown-crit unknown-crit int
leaf aia-bad int "$(leaf_ext "1.3.6.1.5.5.7.1.1=DER:30:03:02:01:00")"
chain aia-bad aia-bad int
leaf aia-crit int "$(leaf_ext "authorityInfoAccess=critical,caIssuers;URI:http://ca.good.test/int.crt")"
chain aia-crit aia-crit int
leaf aia-ok int "$(leaf_ext "authorityInfoAccess=caIssuers;URI:http://ca.good.test/int.crt")"
chain aia-ok aia-ok int

# ---- a cross-signed root, as Let's Encrypt serves ------------------------
# root-x is trusted; root-y is not. x-cross is root-x's name and key signed
# by root-y. The server sends leaf, int-x, x-cross.
root root-x "/CN=webpki Root X"
root root-y "/CN=webpki Root Y"
cp "$out/root-x.key" "$out/x-cross.key"
cert x-cross root-y "/CN=webpki Root X" "$CA_EXT"
cert int-x root-x "/CN=webpki Intermediate under X" "$CA_EXT"
leaf cross int-x
chain cross cross int-x x-cross

cat "$out/root.pem" "$out/root-pl0.pem" "$out/root-eku.pem" "$out/root-x.pem" \
    >"$out/roots.pem"
exit 0
