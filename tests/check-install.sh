#!/bin/sh
# check-install.sh DESTDIR PREFIX SYSCONFDIR [BUILDDIR] - after `make install
# DESTDIR=...` of a tree configured with --prefix=PREFIX
# --sysconfdir=SYSCONFDIR, check that everything landed where it belongs.
# With BUILDDIR (the tree that was installed), also edit the installed
# configuration, `make install` again and check the edit is kept, then
# `make uninstall`: it keeps the edited configuration and removes the rest.
# Run by `./bootstrap test`.
set -u
[ $# -eq 3 ] || [ $# -eq 4 ] ||
	{ echo "usage: check-install.sh DESTDIR PREFIX SYSCONFDIR [BUILDDIR]" >&2; exit 2; }
d=$1 prefix=$2 etc=$3 build=${4:-}
conf=$etc/tlswatch/tlswatchd.conf
doc=$prefix/share/doc/tlswatch
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
for f in "$prefix/sbin/tlswatchd" "$prefix/bin/tlswatch"; do
	[ -x "$d$f" ]
	check $? "installed executable $f"
done
for f in "$conf" "$doc/README.md" "$doc/examples/tlswatchd.conf" \
	"$prefix/lib/systemd/system/tlswatchd.service" \
	"$prefix/lib/systemd/system/tlswatchd@.service" \
	"$prefix/share/tlswatch/prometheus/tlswatch-rules.yml" \
	"$prefix/share/tlswatch/prometheus/tlswatch-probe-rules.yml" \
	"$prefix/share/tlswatch/prometheus/prometheus.yml" \
	"$prefix/share/tlswatch/grafana/tlswatch.json" \
	"$prefix/share/man/man8/tlswatchd.8" \
	"$prefix/share/man/man5/tlswatchd.conf.5" \
	"$prefix/share/man/man1/tlswatch.1"; do
	[ -s "$d$f" ]
	check $? "installed $f"
done
unit="$d$prefix/lib/systemd/system/tlswatchd.service"
tpl="$d$prefix/lib/systemd/system/tlswatchd@.service"
grep -q "^ExecStart=$prefix/sbin/tlswatchd -c $conf\$" "$unit"
check $? "the unit runs $prefix/sbin/tlswatchd on $conf"
grep -q "^ExecStart=$prefix/sbin/tlswatchd -c $conf --shard %I " "$tpl"
check $? "the template unit runs $prefix/sbin/tlswatchd on $conf, shard %I"
grep -q '^Documentation=man:tlswatchd(8) man:tlswatchd.conf(5) man:tlswatch(1)$' "$unit"
check $? "the unit names the three man pages in Documentation="
grep -q "$conf" "$d$prefix/share/man/man8/tlswatchd.8"
check $? "tlswatchd(8) names $conf"
grep -q "$doc/examples/tlswatchd.conf" "$d$prefix/share/man/man8/tlswatchd.8"
check $? "tlswatchd(8) names the example in $doc/examples"
"$d$prefix/sbin/tlswatchd" --help | grep -q "(default $conf)"
check $? "tlswatchd reads $conf by default"
! grep -rq '@[a-z_]*@' "$unit" "$tpl" "$d$prefix/share/man/man8/tlswatchd.8"
check $? "no @placeholder@ left in the installed unit and man page"
"$d$prefix/sbin/tlswatchd" -V >/dev/null
check $? "the installed tlswatchd runs"
# configure's default where libjemalloc-dev is installed (bootstrap installs it)
case $("$d$prefix/sbin/tlswatchd" -V) in *", jemalloc "[0-9]*) r=0 ;; *) r=1 ;; esac
check $r "the installed tlswatchd runs with jemalloc"
out=$(echo pw | "$d$prefix/bin/tlswatch" hash-password --cost 4)
case $out in '$2b$04$'*) r=0 ;; *) r=1 ;; esac
check $r "the installed tlswatch hashes a password"

# The installed default is valid and watches nothing until edited; the
# example targets it carries in comments are valid once uncommented.
out=$("$d$prefix/sbin/tlswatchd" -t -c "$d$conf" 2>&1)
check $? "tlswatchd -t accepts the installed $conf"
case $out in *"configuration OK (0 targets)"*) r=0 ;; *) r=1; echo "# $out" ;; esac
check $r "the installed $conf has no target"
grep -q '^listen = "127\.0\.0\.1:[0-9]*";$' "$d$conf"
check $? "the installed $conf listens on loopback only"
tmp=$(mktemp -d)
sed -e '/^targets = ();$/d' -e 's/^#targets = (/targets = (/' -e 's/^#\t/\t/' \
	-e 's/^#);$/);/' "$d$conf" >"$tmp/uncommented.conf"
out=$("$d$prefix/sbin/tlswatchd" -t -c "$tmp/uncommented.conf" 2>&1)
r=$?
case $out in *"configuration OK (0 targets)"*) r=1 ;; esac
[ $r -eq 0 ] || echo "# $out"
check $r "the commented example targets of $conf are valid once uncommented"
rm -rf "$tmp"
# The bash completion, where bash-completion's loader finds it for both
# commands (tlswatchd is a link to tlswatch).
comp=$prefix/share/bash-completion/completions
[ -s "$d$comp/tlswatch" ] && [ "$(readlink "$d$comp/tlswatchd")" = tlswatch ]
check $? "installed $comp/tlswatch and its link $comp/tlswatchd"
lib=/usr/share/bash-completion/bash_completion
if [ -f "$lib" ]; then
	out=$(BASH_COMPLETION_USER_DIR="$d$prefix/share/bash-completion" timeout 20 bash -c \
		'. "$1"; __load_completion tlswatch; __load_completion tlswatchd;
		complete -p tlswatch tlswatchd' sh "$lib" 2>&1)
	case $out in *"-F _tlswatch tlswatch"*"-F _tlswatchd tlswatchd"*) r=0 ;; *) r=1; echo "# $out" ;; esac
	check $r "bash-completion's loader loads the completion of tlswatch and tlswatchd"
fi
cmp -s "$d$doc/examples/tlswatchd.conf" "$d$conf"
check $((1 - $?)) "the example in $doc/examples is not the installed default"

if [ -n "$build" ]; then
	# make install again over an edited configuration: the edit stays, the
	# rest is installed anew (a removed file comes back).
	echo '# edited by check-install.sh' >>"$d$conf"
	rm -f "$d$prefix/share/tlswatch/grafana/tlswatch.json"
	make -C "$build" install DESTDIR="$d" >/dev/null 2>&1
	check $? "make install again over an edited $conf"
	[ -s "$d$prefix/share/tlswatch/grafana/tlswatch.json" ]
	check $? "the second make install installed the files anew"
	tail -n 1 "$d$conf" | grep -q '^# edited by check-install.sh$'
	check $? "the second make install kept the edited $conf"
	make -C "$build" uninstall DESTDIR="$d" >/dev/null 2>&1
	check $? "make uninstall"
	[ ! -e "$d$prefix/sbin/tlswatchd" ] && [ ! -e "$d$doc/README.md" ]
	check $? "make uninstall removed the programs and documentation"
	grep -q '^# edited by check-install.sh$' "$d$conf"
	check $? "make uninstall kept the edited $conf"
	# Unedited again, it goes with the rest.
	sed -i '/^# edited by check-install.sh$/d' "$d$conf"
	make -C "$build" install DESTDIR="$d" >/dev/null 2>&1 &&
		make -C "$build" uninstall DESTDIR="$d" >/dev/null 2>&1
	[ ! -e "$d$conf" ]
	check $? "make uninstall removed the unedited $conf"
	left=$(find "$d" -type f | head -n 5)
	[ -z "$left" ] || echo "# left behind: $left"
	[ -z "$left" ]
	check $? "nothing is left after make uninstall"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
