#!/bin/sh
# revpki.sh - make the revocation test PKI with openssl ca and openssl ocsp:
# certificates that name CRL distribution points and OCSP responders, the
# CRLs, and OCSP responses.
#
# Usage: sh tests/revpki.sh OUTDIR BASE_URL OCSP_URL
#
#   BASE_URL  where the CRLs and issuer certificates are served:
#             BASE_URL/int.crl, BASE_URL/root.crl, BASE_URL/int.cer, ...
#   OCSP_URL  the OCSP responder the certificates name
#
# Dates are relative to now. The file names are a contract with the tests
# (tests/test_revoke.c and the integration tests); add, don't rename.
#
#   root.pem/.key          "tlswatch Revocation Root" (CA)
#   int.pem/.key           "tlswatch Revocation Intermediate", signed by root;
#                          its CRL DP BASE_URL/root.crl, caIssuers BASE_URL/root.cer
#   int2.pem/.key          "tlswatch Revoked Intermediate", signed by root,
#                          revoked by root.crl (cACompromise)
#   good, revoked, hold, muststaple, highserial: leaves signed by int, CRL DP
#                          BASE_URL/int.crl, OCSP OCSP_URL, caIssuers
#                          BASE_URL/int.cer; revoked is keyCompromise, hold
#                          certificateHold; muststaple has the TLS feature
#                          status_request; highserial's serial starts 0x00 0x87
#   noext                  a leaf signed by int with no AIA and no CRL DP
#   unlisted               a leaf int signed outside its database (serial 0x1234567)
#   under2                 a leaf signed by int2
#   responder.pem/.key     a delegated OCSP signer for int (OCSPSigning, noCheck)
#   rootresponder.pem/.key an OCSP signer issued by root, not by int
#   int.crl, root.crl      DER CRLs (thisUpdate now, nextUpdate in 7 days)
#   int-stale.crl          int's CRL, nextUpdate a day ago
#   int-badsig.crl         int.crl with a byte of its signature changed
#   int-idp.crl            int's CRL scoped by issuingDistributionPoint to
#                          BASE_URL/other.crl
#   int-pem.crl            int.crl in PEM
#   int.cer, root.cer      DER certificates (what caIssuers serves)
#   int.p7c                PKCS#7 certs-only holding int
#   ocsp-NAME.der          OCSP responses, signed by int: good, revoked,
#                          hold, unknown (for unlisted), delegated (good, by
#                          responder), wrongsigner (good, by rootresponder),
#                          nocerts (good, without the signer's certificate),
#                          badsig (nocerts with a byte of the signature changed)
#   req-good.der           the request ocsp-good.der answers
#   index.txt              openssl ca's database for int (for openssl ocsp -index)

set -eu

die() {
	echo "revpki.sh: $*" >&2
	exit 1
}

[ $# -eq 3 ] || die "usage: sh revpki.sh OUTDIR BASE_URL OCSP_URL"
out=$1
base=$2
ocsp=$3
command -v openssl >/dev/null 2>&1 || die "openssl not found"
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
cd "$out"
rm -rf db-root db-int
mkdir db-root db-int

# Run openssl quietly; show its output only when it fails.
o() {
	openssl "$@" >log 2>&1 || {
		cat log >&2
		die "openssl $* failed"
	}
}

cat >ca.cnf <<EOF
[ca]
default_ca = int
[root]
dir = $out/db-root
certificate = $out/root.pem
private_key = $out/root.key
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[int]
dir = $out/db-int
certificate = $out/int.pem
private_key = $out/int.key
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$base/root.crl
authorityInfoAccess = caIssuers;URI:$base/root.cer
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1
crlDistributionPoints = URI:$base/int.crl
authorityInfoAccess = OCSP;URI:$ocsp,caIssuers;URI:$base/int.cer
[v3_staple]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1
crlDistributionPoints = URI:$base/int.crl
authorityInfoAccess = OCSP;URI:$ocsp,caIssuers;URI:$base/int.cer
tlsfeature = status_request
[v3_noext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier = keyid:always
[v3_under2]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:good.test,DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:$base/int2.crl
[v3_responder]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
authorityKeyIdentifier = keyid:always
[crl_idp]
issuingDistributionPoint = critical,@idp
[idp]
fullname = URI:$base/other.crl
EOF

for d in db-root db-int; do
	: >"$d/index.txt"
	echo 1000 >"$d/crlnumber"
done
# random serials of 16 bytes, as public CAs use (highserial gets its own)
openssl rand -hex 16 | sed 's/^./4/' >db-root/serial
openssl rand -hex 16 | sed 's/^./5/' >db-int/serial

key() {
	o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"
}

# sign NAME CA SECTION CN [DAYS]
sign() {
	key "$1"
	o req -new -key "$1.key" -subj "/CN=$4" -out "$1.csr"
	o ca -batch -config ca.cnf -name "$2" -extensions "$3" -days "${5:-90}" \
		-in "$1.csr" -out "$1.pem" -notext
	rm -f "$1.csr"
}

key root
o req -x509 -new -key root.key -subj "/CN=tlswatch Revocation Root" -days 3650 \
	-config ca.cnf -extensions v3_root -out root.pem
sign int root v3_int "tlswatch Revocation Intermediate" 1825
sign int2 root v3_int "tlswatch Revoked Intermediate" 1825
sign good int v3_leaf good.test
sign revoked int v3_leaf revoked.test
sign hold int v3_leaf hold.test
sign muststaple int v3_staple staple.test
sign noext int v3_noext noext.test
echo 0087654321 >db-int/serial
sign highserial int v3_leaf highserial.test
openssl rand -hex 16 | sed 's/^./6/' >db-int/serial
sign responder int v3_responder "tlswatch OCSP Responder"
sign rootresponder root v3_responder "tlswatch Root OCSP Responder"
# outside openssl ca's databases: under2 (int2 has none), and unlisted,
# which int issued without recording it (its OCSP status is "unknown")
bare() {
	# bare NAME ISSUER SECTION CN SERIAL
	key "$1"
	o req -new -key "$1.key" -subj "/CN=$4" -out "$1.csr"
	o x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$5" \
		-days 90 -extfile ca.cnf -extensions "$3" -out "$1.pem"
	rm -f "$1.csr"
}
bare under2 int2 v3_under2 under2.test 0x7a11
bare unlisted int v3_leaf unlisted.test 0x1234567

# revocations
o ca -config ca.cnf -name int -cert int.pem -keyfile int.key -revoke revoked.pem \
	-crl_reason keyCompromise
o ca -config ca.cnf -name int -cert int.pem -keyfile int.key -revoke hold.pem \
	-crl_hold holdInstructionReject
o ca -config ca.cnf -name root -cert root.pem -keyfile root.key -revoke int2.pem \
	-crl_reason CACompromise

crl() {
	# crl NAME CANAME CERT KEY [openssl ca options]
	n=$1 ca=$2 cert=$3 k=$4
	shift 4
	o ca -config ca.cnf -name "$ca" -cert "$cert" -keyfile "$k" -gencrl -out "$n.pem" "$@"
	o crl -in "$n.pem" -outform DER -out "$n"
	rm -f "$n.pem"
}
crl int.crl int int.pem int.key -crldays 7
crl root.crl root root.pem root.key -crldays 7
then=$(date -u -d '-8 days' +%Y%m%d%H%M%SZ)
gone=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
crl int-stale.crl int int.pem int.key -crl_lastupdate "$then" -crl_nextupdate "$gone"
crl int-idp.crl int int.pem int.key -crldays 7 -crlexts crl_idp
o crl -inform DER -in int.crl -out int-pem.crl

# flip one bit of the fifth byte from the end: inside the signature
# (coreutils only: a package build has no python3)
flip() {
	size=$(wc -c <"$1")
	byte=$(tail -c 5 "$1" | head -c 1 | od -An -tu1 | tr -d ' ')
	head -c $((size - 5)) "$1" >"$2"
	# shellcheck disable=SC2059
	printf "\\$(printf %o $((byte ^ 1)))" >>"$2"
	tail -c 4 "$1" >>"$2"
}
flip int.crl int-badsig.crl

o x509 -in int.pem -outform DER -out int.cer
o x509 -in root.pem -outform DER -out root.cer
o crl2pkcs7 -nocrl -certfile int.pem -outform DER -out int.p7c
cp db-int/index.txt index.txt

# OCSP responses, made by openssl ocsp from requests (no nonce, as we ask)
resp() {
	# resp NAME CERT SIGNER SIGNERKEY [extra]
	n=$1 c=$2 s=$3 k=$4
	shift 4
	o ocsp -issuer int.pem -cert "$c" -no_nonce -reqout "req-$n.der"
	o ocsp -index index.txt -rsigner "$s" -rkey "$k" -CA int.pem -reqin "req-$n.der" \
		-respout "ocsp-$n.der" -ndays 2 "$@"
}
resp good good.pem int.pem int.key
resp revoked revoked.pem int.pem int.key
resp hold hold.pem int.pem int.key
resp delegated good.pem responder.pem responder.key
resp wrongsigner good.pem rootresponder.pem rootresponder.key
# without the signer's certificate the signature ends the response
resp nocerts good.pem int.pem int.key -resp_no_certs
flip ocsp-nocerts.der ocsp-badsig.der
resp unknown unlisted.pem int.pem int.key
for f in req-nocerts.der req-unknown.der req-revoked.der req-hold.der req-delegated.der req-wrongsigner.der; do
	rm -f "$f"
done
rm -f log
