#!/bin/sh
# The shipped alerting rules: promtool accepts them, and the unit tests in
# tests/tlswatch-rules.test.yml (every alert fires where it should and stays
# silent where it should) pass. The example scrape config is checked too.
set -u
: "${TEST_SRCDIR:?TEST_SRCDIR is not set (run through make check)}"
top="$TEST_SRCDIR/.."
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
if ! command -v promtool >/dev/null 2>&1; then
	echo "not ok - promtool is missing: apt-get install prometheus"
	echo "0 passed, 1 failed"
	exit 1
fi

out=$(promtool check rules "$top/etc/prometheus/tlswatch-rules.yml" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
check $rc "promtool check rules etc/prometheus/tlswatch-rules.yml"

out=$(promtool test rules "$TEST_SRCDIR/tlswatch-rules.test.yml" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
check $rc "promtool test rules: every alert fires and stays silent where it should"

# Every alert of the file is exercised by a test.
for a in $(sed -n 's/^ *- alert: *//p' "$top/etc/prometheus/tlswatch-rules.yml"); do
	grep -q "alertname: $a\$" "$TEST_SRCDIR/tlswatch-rules.test.yml"
	check $? "alert $a has a promtool test"
done

# The example scrape config, with its rule_files path pointed at the tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/share/tlswatch/prometheus/tlswatch-rules.yml|$top/etc/prometheus/tlswatch-rules.yml|" \
	"$top/etc/prometheus/prometheus.yml" >"$tmp/prometheus.yml"
out=$(promtool check config "$tmp/prometheus.yml" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
check $rc "promtool check config etc/prometheus/prometheus.yml"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
