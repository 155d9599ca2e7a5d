#!/bin/sh
# test_bounded.sh - the harness's time limit works: a test that hangs fails
# with "timed out" soon after its limit, and its children go with it.
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
check() {
	if [ "$1" = 0 ]; then
		echo "ok - $2"
		pass=$((pass + 1))
	else
		echo "not ok - $2"
		fail=$((fail + 1))
	fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s)
# a "test" that hangs, with a child of its own that would outlive it
TLSWATCH_TEST_LIMIT=1 sh "$here/bounded" sh -c "sleep 60 & echo \$! > $tmp/child; wait" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
end=$(date +%s)
check $([ "$rc" = 1 ] && echo 0 || echo 1) "a hung test exits 1 (got $rc)"
check $([ $((end - start)) -le 12 ] && echo 0 || echo 1) "it ends within the limit and the kill grace ($((end - start)) s)"
grep -q "timed out" "$tmp/out"
check $? "it says it timed out"
sleep 0.2
child=$(cat "$tmp/child" 2>/dev/null)
# gone, or a zombie left to whoever inherited it: not running either way
state=$(ps -o stat= -p "$child" 2>/dev/null)
[ -n "$child" ] && case "$state" in "" | Z*) true ;; *) false ;; esac
check $? "the hung test's child was killed too (state '${state}')"

sh "$here/bounded" sh -c "exit 3"
rc=$?
check $([ "$rc" = 3 ] && echo 0 || echo 1) "a test's own exit status passes through (got $rc)"
sh "$here/bounded" true
check $? "a passing test passes"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
