#!/bin/sh
# run.sh - run the libFuzzer harnesses of a build configured with
# --enable-fuzzing, each for a fixed time, at most JOBS at once.
#
# Usage: sh tests/fuzz/run.sh BUILDDIR [SECONDS [JOBS [NAME...]]]
#        (defaults: 30 seconds each, 2 at a time, every harness)
#
# Each harness starts from its seeds and regression inputs (copied, so the
# tree is never written) and grows its corpus in BUILDDIR/fuzz/corpus/NAME;
# what it finds is saved as BUILDDIR/fuzz/NAME-crash-* (or -timeout-,
# -leak-, -oom-) with its log in
# BUILDDIR/fuzz/NAME.log. One line per harness goes to BUILDDIR/fuzz/results
# ("PASS: NAME ..." or "FAIL: NAME ..."); the exit status is 1 if any failed.
set -eu

[ $# -ge 1 ] || { echo "usage: sh tests/fuzz/run.sh BUILDDIR [SECONDS [JOBS [NAME...]]]" >&2; exit 2; }
build=$(cd "$1" && pwd)
secs=${2:-30}
jobs=${3:-2}
[ $# -gt 3 ] && shift 3 || set --
here=$(cd "$(dirname "$0")" && pwd)
out=$build/fuzz
mkdir -p "$out"
: >"$out/results"

if [ $# -eq 0 ]; then
	for f in "$build"/tests/fuzz/fuzz_*; do
		[ -x "$f" ] && set -- "$@" "${f##*/fuzz_}"
	done
fi
[ $# -gt 0 ] || { echo "run.sh: no harnesses in $build/tests/fuzz (configure --enable-fuzzing)" >&2; exit 1; }

# One harness: its own corpus copy, a time budget, the result line.
one() {
	name=$1
	bin=$build/tests/fuzz/fuzz_$name
	corpus=$out/corpus/$name
	rm -f "$out/$name"-crash-* "$out/$name"-timeout-* "$out/$name"-leak-* "$out/$name"-oom-*
	mkdir -p "$corpus"
	cp "$here/corpus/$name"/* "$corpus"/ 2>/dev/null || true
	[ -d "$here/regress/$name" ] && cp "$here/regress/$name"/* "$corpus"/ 2>/dev/null
	dict=
	[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	# -timeout: one input taking this long is a finding (a hang);
	# -rss_limit_mb: so is growing past this.
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
	    LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$out/$name-" $dict \
	    "$corpus" >"$out/$name.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
		cov=$(grep -o 'cov: [0-9]*' "$out/$name.log" | tail -n 1)
		echo "PASS: $name ($secs s, ${execs:-?} runs, ${cov:-cov: ?})" >>"$out/results"
	else
		echo "FAIL: $name (see $out/$name.log; the input: $(ls "$out/$name"-* 2>/dev/null | head -n 1))" >>"$out/results"
		tail -n 40 "$out/$name.log" >&2
	fi
}

# At most $jobs at once: start them in waves.
n=0
for name in "$@"; do
	one "$name" &

	n=$((n + 1))
	if [ "$n" -ge "$jobs" ]; then
		wait
		n=0
	fi
done
wait
sort "$out/results"
! grep -q '^FAIL' "$out/results"
