#!/bin/sh
# check-install.sh DESTDIR PREFIX SYSCONFDIR - after `make install
# DESTDIR=...` of a tree configured with --prefix=PREFIX
# --sysconfdir=SYSCONFDIR, check that everything landed where it belongs.
# Run by `./bootstrap test`.
set -u
[ $# -eq 3 ] || { echo "usage: check-install.sh DESTDIR PREFIX SYSCONFDIR" >&2; exit 2; }
d=$1 prefix=$2 etc=$3
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
for f in "$etc/tlswatchd.conf" \
	"$prefix/lib/systemd/system/tlswatchd.service" \
	"$prefix/share/tlswatch/prometheus/tlswatch-rules.yml" \
	"$prefix/share/tlswatch/prometheus/prometheus.yml" \
	"$prefix/share/tlswatch/grafana/tlswatch.json" \
	"$prefix/share/man/man8/tlswatchd.8" \
	"$prefix/share/man/man5/tlswatchd.conf.5" \
	"$prefix/share/man/man1/tlswatch.1"; do
	[ -s "$d$f" ]
	check $? "installed $f"
done
unit="$d$prefix/lib/systemd/system/tlswatchd.service"
grep -q "^ExecStart=$prefix/sbin/tlswatchd -c $etc/tlswatchd.conf\$" "$unit"
check $? "the unit runs $prefix/sbin/tlswatchd on $etc/tlswatchd.conf"
grep -q "$etc/tlswatchd.conf" "$d$prefix/share/man/man8/tlswatchd.8"
check $? "tlswatchd(8) names $etc/tlswatchd.conf"
! grep -rq '@[a-z_]*@' "$unit" "$d$prefix/share/man/man8/tlswatchd.8"
check $? "no @placeholder@ left in the installed unit and man page"
"$d$prefix/sbin/tlswatchd" -V >/dev/null
check $? "the installed tlswatchd runs"
out=$(echo pw | "$d$prefix/bin/tlswatch" hash-password --cost 4)
case $out in '$2b$04$'*) r=0 ;; *) r=1 ;; esac
check $r "the installed tlswatch hashes a password"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
