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
unit_sed() {
	sed -e "s|@sbindir@|$sbindir|g" -e "s|@sysconfdir@|$tmp/etc|g" \
		-e "s|@TLSWATCH_USER@|tlswatch|g"
}
unit_sed <"$TEST_SRCDIR/../systemd/tlswatchd.service.in" >"$tmp/tlswatchd.service"
# The template as Makefile.am makes it, verified as the instance of shard 1/3.
sed -f "$TEST_SRCDIR/../systemd/template.sed" "$TEST_SRCDIR/../systemd/tlswatchd.service.in" |
	unit_sed >"$tmp/tlswatchd@1-3.service"

# verify looks up every Documentation=man: page with man(1): let it find
# the pages of this tree, not of an installed tlswatch.
: "${TEST_BUILDDIR:?TEST_BUILDDIR is not set (run through make check)}"
mkdir -p "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
ln -s "$TEST_SRCDIR/../man/tlswatch.1" "$tmp/man/man1/"
ln -s "$TEST_SRCDIR/../man/tlswatchd.conf.5" "$tmp/man/man5/"
ln -s "$TEST_BUILDDIR/../man/tlswatchd.8" "$tmp/man/man8/"
MANPATH=$tmp/man
export MANPATH

for u in tlswatchd.service tlswatchd@1-3.service; do
	grep -q '@[A-Za-z_]*@' "$tmp/$u"
	check $((1 - $?)) "every @placeholder@ in $u is substituted"

	out=$(systemd-analyze verify "$tmp/$u" 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out"
	check $rc "systemd-analyze verify $u"
	# verify also exits 0 on some warnings: none are acceptable.
	[ -z "$out" ]
	check $? "systemd-analyze verify $u prints no warnings"
done

# Run the unit's own ExecStartPre and ExecStart lines' binary the way systemd would.
pre=$(sed -n 's/^ExecStartPre=//p' "$tmp/tlswatchd.service")
$pre >/dev/null 2>&1
check $? "ExecStartPre (tlswatchd -t) accepts a valid config"
grep -q "^ExecStart=$TLSWATCHD -c $tmp/etc/tlswatch/tlswatchd.conf\$" "$tmp/tlswatchd.service"
check $? "ExecStart runs the built tlswatchd on the configured file"

# The sandbox: systemd's own rating of the unit, without a running systemd.
for u in tlswatchd.service tlswatchd@1-3.service; do
	sec=$(systemd-analyze security --offline=true "$tmp/$u" 2>&1)
	score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		check 0 "systemd-analyze security rates $u $score, at most 1.5"
	else
		printf '%s\n' "$sec" | grep -E '✗|Overall' | sed 's/^/#   /'
		check 1 "systemd-analyze security rates $u ${score:-?}, at most 1.5"
	fi
done
for opt in Type=notify WatchdogSec= DynamicUser=yes StateDirectory=tlswatch \
	ConfigurationDirectory=tlswatch ExecReload= \
	'Documentation=man:tlswatchd(8) man:tlswatchd.conf(5) man:tlswatch(1)'; do
	grep -q "^$opt" "$tmp/tlswatchd.service"
	check $? "the unit sets $opt"
done

# The template: the instance name is the shard, the state and the listen
# address the instance's own. Its command lines with the specifiers
# systemd would fill in for tlswatchd@1-3 (%I: the name unescaped).
tpl=$tmp/tlswatchd@1-3.service
shard=$(systemd-escape -u 1-3)
[ "$shard" = 1/3 ]
check $? "systemd-escape -u 1-3 is the shard 1/3 (got $shard)"
spec() {
	sed -n "s/^$1=//p" "$tpl" | sed -e "s|%I|$shard|g" -e "s|%i|1-3|g" -e "s|%S|$tmp/state|g"
}
grep -q "^ExecStart=$TLSWATCHD -c $tmp/etc/tlswatch/tlswatchd.conf --shard %I -s %S/tlswatch-shard/%i\$" "$tpl"
check $? "the template runs --shard %I with a state directory per instance"
grep -q '^StateDirectory=tlswatch-shard/%i$' "$tpl"
check $? "the template's StateDirectory= is one per instance"
envf=$(spec EnvironmentFile)
[ "$envf" = "-$tmp/etc/tlswatch/instances/1-3.env" ]
check $? "the template reads an optional instances/%i.env (got $envf)"
for opt in Type=notify WatchdogSec= DynamicUser=yes ConfigurationDirectory=tlswatch \
	'Environment=TLSWATCH_LISTEN=$' '\[Install\]'; do
	grep -q "^$opt" "$tpl"
	check $? "the template sets $opt"
done
mkdir -p "$tmp/etc/tlswatch/instances"
echo "TLSWATCH_LISTEN=127.0.0.1:29793,127.0.0.2:29793" >"$tmp/etc/tlswatch/instances/1-3.env"
pre=$(spec ExecStartPre)
out=$(env $(cat "${envf#-}") $pre 2>&1)
check $? "the template's ExecStartPre accepts shard $shard and the instance's TLSWATCH_LISTEN"
echo "TLSWATCH_LISTEN=127.0.0.1:x" >"$tmp/etc/tlswatch/instances/1-3.env"
out=$(env $(cat "${envf#-}") $pre 2>&1)
rc=$?
case $out in *'TLSWATCH_LISTEN "127.0.0.1:x": bad port'*) r=0 ;; *) r=1 ;; esac
[ $rc -eq 2 ] && [ $r -eq 0 ]
check $? "a bad TLSWATCH_LISTEN in the instance's file exits 2 naming it (status $rc: $out)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
