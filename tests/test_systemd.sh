#!/bin/sh
# The shipped unit passes systemd-analyze verify, with its ExecStart pointing
# at the tlswatchd just built, and its ExecStartPre config check passes.
set -u
: "${TLSWATCHD:?TLSWATCHD is not set (run through make check)}"
: "${TEST_SRCDIR:?TEST_SRCDIR is not set (run through make check)}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "not ok - systemd-analyze is missing: apt-get install systemd"
	echo "0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
		pass=$((pass + 1))
	else
		echo "not ok - $2"
		fail=$((fail + 1))
	fi
}

sbindir=$(dirname "$TLSWATCHD")
mkdir -p "$tmp/etc/tlswatch"
cat >"$tmp/etc/tlswatch/tlswatchd.conf" <<CONF
listen = "127.0.0.1:9793";
targets = ( { address = "127.0.0.1:9"; } );
CONF
sed -e "s|@sbindir@|$sbindir|g" -e "s|@sysconfdir@|$tmp/etc|g" \
	-e "s|@TLSWATCH_USER@|tlswatch|g" \
	"$TEST_SRCDIR/../systemd/tlswatchd.service.in" >"$tmp/tlswatchd.service"

# verify looks up every Documentation=man: page with man(1): let it find
# the pages of this tree, not of an installed tlswatch.
: "${TEST_BUILDDIR:?TEST_BUILDDIR is not set (run through make check)}"
mkdir -p "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
ln -s "$TEST_SRCDIR/../man/tlswatch.1" "$tmp/man/man1/"
ln -s "$TEST_SRCDIR/../man/tlswatchd.conf.5" "$tmp/man/man5/"
ln -s "$TEST_BUILDDIR/../man/tlswatchd.8" "$tmp/man/man8/"
MANPATH=$tmp/man
export MANPATH

grep -q '@[A-Za-z_]*@' "$tmp/tlswatchd.service"
check $((1 - $?)) "every @placeholder@ in the unit is substituted"

out=$(systemd-analyze verify "$tmp/tlswatchd.service" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
check $rc "systemd-analyze verify tlswatchd.service"
# verify also exits 0 on some warnings: none are acceptable.
[ -z "$out" ]
check $? "systemd-analyze verify prints no warnings"

# Run the unit's own ExecStartPre and ExecStart lines' binary the way systemd would.
pre=$(sed -n 's/^ExecStartPre=//p' "$tmp/tlswatchd.service")
$pre >/dev/null 2>&1
check $? "ExecStartPre (tlswatchd -t) accepts a valid config"
grep -q "^ExecStart=$TLSWATCHD -c $tmp/etc/tlswatch/tlswatchd.conf\$" "$tmp/tlswatchd.service"
check $? "ExecStart runs the built tlswatchd on the configured file"

# The sandbox: systemd's own rating of the unit, without a running systemd.
sec=$(systemd-analyze security --offline=true "$tmp/tlswatchd.service" 2>&1)
score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
	check 0 "systemd-analyze security rates the unit $score, at most 1.5"
else
	printf '%s\n' "$sec" | grep -E '✗|Overall' | sed 's/^/#   /'
	check 1 "systemd-analyze security rates the unit ${score:-?}, at most 1.5"
fi
for opt in Type=notify WatchdogSec= DynamicUser=yes StateDirectory=tlswatch \
	ConfigurationDirectory=tlswatch ExecReload= \
	'Documentation=man:tlswatchd(8) man:tlswatchd.conf(5) man:tlswatch(1)'; do
	grep -q "^$opt" "$tmp/tlswatchd.service"
	check $? "the unit sets $opt"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
