#!/bin/sh
# etc/bash-completion/tlswatch under bash-completion's own library: the
# options, subcommands and option values it offers for the tlswatchd and
# tlswatch just built (it reads their --help), and the STARTTLS protocols
# it offers are those of src/probe/starttls.c.
set -u
: "${TLSWATCHD:?TLSWATCHD is not set (run through make check)}"
: "${TLSWATCH:?TLSWATCH is not set (run through make check)}"
: "${TEST_SRCDIR:?TEST_SRCDIR is not set (run through make check)}"

lib=$(pkg-config --variable=datadir bash-completion 2>/dev/null)/bash-completion/bash_completion
[ -f "$lib" ] || lib=/usr/share/bash-completion/bash_completion
if ! command -v bash >/dev/null 2>&1 || [ ! -f "$lib" ]; then
	echo "not ok - bash and bash-completion are needed: apt-get install bash-completion"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/files/sub.d"
: >"$tmp/files/a.conf"
: >"$tmp/files/b.pem"

# complete WORD...: what the completion offers for the last WORD, sorted,
# one a line (the first WORD picks tlswatchd's or tlswatch's function).
cat >"$tmp/complete.bash" <<'EOF'
source "$1"
source "$2"
shift 2
COMP_WORDS=()
for w; do
	[ "$w" = "''" ] && w=   # '' stands for the empty word
	COMP_WORDS+=("$w")
done
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
case ${1##*/} in
tlswatchd) f=_tlswatchd ;;
*) f=_tlswatch ;;
esac
$f "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
EOF
complete() {
	timeout 20 bash "$tmp/complete.bash" "$lib" "$TEST_SRCDIR/../etc/bash-completion/tlswatch" "$@" 2>&1
}
pass=0
fail=0
# expect "WORDS" "EXPECTED" DESCRIPTION: EXPECTED one word a line, sorted.
expect() {
	# shellcheck disable=SC2086
	got=$(complete $1)
	want=$(printf '%s\n' $2 | sort)
	[ -z "$2" ] && want=
	if [ "$got" = "$want" ]; then
		echo "ok - $3"
		pass=$((pass + 1))
	else
		echo "not ok - $3"
		echo "#   completing: $1"
		echo "#   expected: $(echo $want)"
		echo "#   got:      $(echo $got)"
		fail=$((fail + 1))
	fi
}
# expect_has "WORDS" "EXPECTED" DESCRIPTION: the offer includes EXPECTED and
# only words that start with "-" (options added later do not fail this).
expect_has() {
	# shellcheck disable=SC2086
	got=$(complete $1)
	r=0
	for w in $2; do
		printf '%s\n' "$got" | grep -qx -- "$w" || r=1
	done
	printf '%s\n' "$got" | grep -qv -- '^-' && r=1
	if [ $r -eq 0 ]; then
		echo "ok - $3"
		pass=$((pass + 1))
	else
		echo "not ok - $3"
		echo "#   completing: $1"
		echo "#   expected at least: $2"
		echo "#   got: $(echo $got)"
		fail=$((fail + 1))
	fi
}
d=$TLSWATCHD t=$TLSWATCH f=$tmp/files

expect_has "$d ''" "--config --state-dir --shard --listen --test --verbose --version --help" \
	"tlswatchd: every option"
expect "$d --st" "--state-dir" "tlswatchd: an option by its prefix"
expect "$d --sh" "--shard" "tlswatchd: --shard by its prefix"
expect "$d -c $f/" "$f/a.conf $f/b.pem $f/sub.d" "tlswatchd -c: files"
expect "$d --config $f/a" "$f/a.conf" "tlswatchd --config: a file by its prefix"
expect "$d --state-dir $f/" "$f/sub.d" "tlswatchd --state-dir: directories only"
expect "$d -s $f/" "$f/sub.d" "tlswatchd -s: directories only"
expect "$d -t --v" "--verbose --version" "tlswatchd: options after a flag"

got=$(complete "$t" "''")
r=0
for w in check show hash-password; do
	printf '%s\n' "$got" | grep -qx -- "$w" || r=1
done
[ $r -eq 0 ] || echo "#   got: $(echo $got)"
if [ $r -eq 0 ]; then echo "ok - tlswatch: the subcommands"; pass=$((pass + 1));
else echo "not ok - tlswatch: the subcommands"; fail=$((fail + 1)); fi
expect "$t sh" "show" "tlswatch: a subcommand by its prefix"
expect_has "$t check x:443 --" \
	"--servername --starttls --cafile --warn --crit --timeout --json --pem --help" \
	"tlswatch check: its options"
expect "$t check x:443 --cafile $f/b" "$f/b.pem" "tlswatch check --cafile: files"
expect "$t check x:443 --servername ''" "" "tlswatch check --servername: nothing to offer"
expect "$t check x:443 --json --pe" "--pem" "tlswatch check: options after a flag"
expect "$t check x:443 --policy p" "private public" "tlswatch check --policy: the policies"
expect_has "$t show --" "--state-dir --pem --help" "tlswatch show: its options"
expect "$t show --state-dir $f/" "$f/sub.d" "tlswatch show --state-dir: directories only"
expect_has "$t hash-password --" "--cost" "tlswatch hash-password: its options"

protos=$(sed -n 's/^[[:space:]]*\[STARTTLS_[A-Z0-9_]*\] = "\([a-z0-9]*\)",$/\1/p' \
	"$TEST_SRCDIR/../src/probe/starttls.c")
[ -n "$protos" ] || echo "# no protocol names found in src/probe/starttls.c"
expect "$t check x:25 --starttls ''" "${protos:-?}" \
	"tlswatch check --starttls: the protocols of src/probe/starttls.c"
expect "$t check x:25 --starttls=p" "pop3 postgres" "tlswatch check --starttls=: by its prefix"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
