#!/usr/bin/env bash
# deb-test.sh [WORKDIR] - build the Debian package from this tree and test
# it as Debian tests packages, in Debian 12 chroots. Run by `./bootstrap
# test`, as root (chroot, mount, debootstrap); needs debootstrap, lintian,
# util-linux (unshare) and iproute2 (ip) on the host, and Debian's archive.
#
#   1. The tree (what git tracks, plus new files not ignored) is copied to
#      WORKDIR/src/tlswatch-VERSION (default WORKDIR: build-deb/ in the
#      tree; never the clone's parent, which holds other things).
#   2. `debootstrap --variant=minbase bookworm` makes a base chroot, cached
#      in WORKDIR/chroot (keyed by WORKDIR/chroot.stamp; made again when
#      the key changes or it is a week old); downloaded .debs are kept in
#      WORKDIR/apt-archives.
#   3. In a copy of it with only the build dependencies (apt-get build-dep),
#      `dpkg-buildpackage -us -uc -b` builds the package, running the unit
#      tests; then once more from a copy whose changelog has a higher
#      version (VERSION+test1), for the upgrade. lintian checks the binary
#      package and the source package.
#   4. In a fresh copy of the base: `apt-get install ./tlswatch_*.deb`
#      (dependencies from the archive), then install checks, the unit's own
#      command lines run in a network namespace of their own, an upgrade
#      that keeps a modified conffile, remove, and a purge that leaves no
#      file of the package behind, state directory included.
#
# systemd does not run in a chroot: that the unit is enabled is checked
# (the wants/ link deb-systemd-helper makes), that it starts is not; the
# postinst's start command is checked to be there. Every step has a time
# limit; the last line is "N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$top/build-deb}
suite=bookworm
mirror=http://deb.debian.org/debian
start_time=$SECONDS

# --in-netns ACTION ROOT: run by this script under `unshare -n`, in a network
# namespace with only loopback; prints "ok"/"not ok" lines.
if [ "${1:-}" = --in-netns ]; then
	action=$2 root=$3
	ip link set lo up || { echo "not ok - ip link set lo up in a new network namespace"; exit 1; }
	say() { if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
	# fetch PORT PATH: the body of GET PATH, or nothing after 10 s.
	fetch() {
		local deadline=$((SECONDS + 10))
		until exec 3<>"/dev/tcp/127.0.0.1/$1"; do
			[ $SECONDS -lt $deadline ] || return 1
			sleep 0.1
		done 2>/dev/null
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
		timeout 10 cat <&3 | sed '1,/^\r$/d'
		exec 3<&-
	}
	case $action in
	config)
		exec chroot "$root" /usr/sbin/tlswatchd -t -c /etc/tlswatch/tlswatchd.conf
		;;
	serve)
		# The unit's ExecStartPre= and ExecStart= lines, as systemd would
		# run them (as root here, not as the dynamic user).
		unit=$root/lib/systemd/system/tlswatchd.service
		pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
		cmd=$(sed -n 's/^ExecStart=//p' "$unit")
		# shellcheck disable=SC2086
		chroot "$root" $pre >/dev/null 2>&1
		say $? "the unit's ExecStartPre= passes: $pre"
		# shellcheck disable=SC2086
		chroot "$root" $cmd 2>"$root/tmp/serve.log" &
		pid=$!
		body=$(fetch 9793 /metrics)
		case $body in *"tlswatch_config_last_reload_successful 1"*) r=0 ;; *) r=1 ;; esac
		say $r "the unit's ExecStart= serves metrics on 127.0.0.1:9793: $cmd"
		case $body in *'target="'*) r=1 ;; *) r=0 ;; esac
		say $r "the installed configuration watches no target"
		# ExecReload= as systemd runs it: split as a shell would, with
		# $MAINPID in its environment.
		reload=$(sed -n 's/^ExecReload=//p' "$unit")
		eval "set -- $reload"
		MAINPID=$pid chroot "$root" "$@"
		say $? "the unit's ExecReload= runs in a minimal system: $reload"
		sleep 1
		body=$(fetch 9793 /metrics)
		case $body in *"tlswatch_config_last_reload_successful 1"*) r=0 ;; *) r=1 ;; esac
		grep -q 'reload: done' "$root/tmp/serve.log" || r=1
		kill -0 "$pid" 2>/dev/null || r=1
		say $r "the daemon reloaded the installed configuration and runs on"
		kill -TERM "$pid"
		timeout 10 tail --pid="$pid" -f /dev/null
		wait "$pid"
		say $? "SIGTERM stops it with status 0"
		sed 's/^/#   /' "$root/tmp/serve.log"
		rm -f "$root/tmp/serve.log"
		;;
	state)
		# Real state, as the daemon writes it, where systemd keeps a
		# DynamicUser's StateDirectory: a refused port is a result too.
		cat >"$root/tmp/state.conf" <<-'CONF'
			listen = "127.0.0.1:9794";
			interval = "1s";
			timeout = "500ms";
			targets = ( { name = "refused"; address = "127.0.0.1:1"; } );
		CONF
		mkdir -p -m 0700 "$root/var/lib/private"
		chroot "$root" /usr/sbin/tlswatchd -c /tmp/state.conf \
			-s /var/lib/private/tlswatch 2>"$root/tmp/state.log" &
		pid=$!
		deadline=$((SECONDS + 15))
		until [ -s "$root/var/lib/private/tlswatch/targets/refused.state" ] ||
			[ $SECONDS -ge $deadline ]; do
			sleep 0.2
		done
		kill -TERM "$pid"
		wait "$pid"
		[ -s "$root/var/lib/private/tlswatch/targets/refused.state" ]
		say $? "tlswatchd wrote state in /var/lib/private/tlswatch"
		[ ! -e "$root/var/lib/tlswatch" ] && [ ! -L "$root/var/lib/tlswatch" ] &&
			ln -s private/tlswatch "$root/var/lib/tlswatch"
		say $? "/var/lib/tlswatch links to it, as systemd makes it for DynamicUser="
		rm -f "$root/tmp/state.conf" "$root/tmp/state.log"
		;;
	esac
	exit 0
fi

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
# count OUTPUT: echo and count the ok/not ok lines of a --in-netns run.
count() {
	printf '%s\n' "$1"
	pass=$((pass + $(printf '%s\n' "$1" | grep -c '^ok - ')))
	fail=$((fail + $(printf '%s\n' "$1" | grep -c '^not ok - ')))
}
summary() {
	echo "# deb-test took $((SECONDS - start_time)) s"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
# fatal MESSAGE [LOG]: a step the rest depends on failed.
fatal() {
	check 1 "$1"
	[ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" | sed 's/^/#   /'
	summary
	exit 1
}
# step NAME: note the time a step starts, and print how long the last took.
step_name= step_start=$SECONDS
step() {
	[ -n "$step_name" ] && echo "# $step_name: $((SECONDS - step_start)) s"
	step_name=$1 step_start=$SECONDS
}

[ "$(id -u)" = 0 ] || { echo "not ok - deb-test.sh needs root"; echo "0 passed, 1 failed"; exit 1; }
for c in debootstrap lintian piuparts dpkg-source dpkg-parsechangelog unshare ip; do
	command -v "$c" >/dev/null 2>&1 || fatal "$c is missing: run ./bootstrap test"
done

# Mounts are undone whatever happens (ours, and any a killed piuparts
# left under WORKDIR); no chroot is removed while mounted.
mounts=()
umount_all() {
	local i m
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null
	done
	mounts=()
	awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}
trap umount_all EXIT
trap 'umount_all; exit 130' INT TERM
# enter ROOT: mount /proc and the shared apt archive in ROOT.
enter() {
	mount -t proc proc "$1/proc" && mounts+=("$1/proc") &&
		mount --bind "$work/apt-archives" "$1/var/cache/apt/archives" &&
		mounts+=("$1/var/cache/apt/archives")
}
# fresh ROOT: ROOT becomes a copy of the base chroot.
fresh() {
	if grep -q " $1/" /proc/mounts; then
		echo "# $1 still has mounts; not removing it" >&2
		return 1
	fi
	rm -rf "$1" && cp -a "$work/chroot" "$1" || return 1
	# As in every build chroot: packages start no service here.
	printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d" &&
		chmod 755 "$1/usr/sbin/policy-rc.d"
}
# prepare ROOT LOG: ROOT becomes a fresh copy of the base, mounted, with
# current package lists; LOG is started anew.
prepare() {
	fresh "$1" && enter "$1" || fatal "prepare $1"
	: >"$2"
	inroot "$1" 120 apt-get update -q >>"$2" 2>&1 || fatal "apt-get update in $1" "$2"
}
# inroot ROOT SECONDS COMMAND...: run COMMAND in ROOT, bounded.
inroot() {
	local root=$1 secs=$2
	shift 2
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 timeout --kill-after=10 "$secs" \
		chroot "$root" "$@"
}

mkdir -p "$work/apt-archives/partial"
version=$(sed -n 's/^AC_INIT(\[tlswatch\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
debversion=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ -n "$version" ] || fatal "configure.ac's AC_INIT has a version"
case $debversion in "$version" | "$version"+*) r=0 ;; *) r=1 ;; esac
check $r "debian/changelog's version $debversion is configure.ac's $version (or $version+N)"
grep -q '^Depends: ${misc:Depends}, ${shlibs:Depends},$' "$top/debian/control"
check $? "the package's Depends are \${misc:Depends} and \${shlibs:Depends} only"

step "export the tree"
src=$work/src
rm -rf "$src"
mkdir -p "$src/tlswatch-$debversion"
if [ -d "$top/.git" ] || [ -f "$top/.git" ]; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
		tar -C "$top" --null -T - -cf - | tar -C "$src/tlswatch-$debversion" -xf -
else
	tar -C "$top" --exclude='./build*' --exclude=./.git -cf - . |
		tar -C "$src/tlswatch-$debversion" -xf -
fi
[ -f "$src/tlswatch-$debversion/debian/rules" ] || fatal "the tree is copied to $src"
(cd "$src" && timeout 60 dpkg-source -b "tlswatch-$debversion" >"$src/dpkg-source.log" 2>&1)
check $? "dpkg-source -b builds the source package"

step "base chroot"
key="$suite minbase $mirror debootstrap $(dpkg-query -W -f='${Version}' debootstrap)"
if [ -d "$work/chroot" ] && [ -s "$work/chroot.tgz" ] &&
	[ "$(cat "$work/chroot.stamp" 2>/dev/null)" = "$key" ] &&
	[ -z "$(find "$work/chroot.stamp" -mtime +7)" ]; then
	echo "# using the cached $suite chroot ($work/chroot)"
else
	rm -rf "$work/chroot" "$work/chroot.new" "$work/chroot.stamp" "$work/chroot.tgz"
	timeout --kill-after=10 300 debootstrap --variant=minbase "$suite" "$work/chroot.new" "$mirror" \
		>"$work/debootstrap.log" 2>&1 || fatal "debootstrap $suite" "$work/debootstrap.log"
	# piuparts starts from a tarball of it.
	tar -C "$work/chroot.new" -czf "$work/chroot.tgz" . || fatal "tar the base chroot"
	mv "$work/chroot.new" "$work/chroot"
	echo "$key" >"$work/chroot.stamp"
fi
check 0 "a $suite chroot made by debootstrap --variant=minbase"

step "build in a clean chroot"
broot=$work/build-root
log=$work/build.log
prepare "$broot" "$log"
mkdir -p "$broot/build"
cp -a "$src/tlswatch-$debversion" "$broot/build/"
inroot "$broot" 300 apt-get build-dep -y -q --no-install-recommends "/build/tlswatch-$debversion" \
	>>"$log" 2>&1 || fatal "apt-get build-dep installs the build dependencies" "$log"
check 0 "apt-get build-dep installs the build dependencies in a clean chroot"
# Both builds use every core (dh builds in parallel only when told to).
jobs=$(nproc)
inroot "$broot" 600 sh -c "cd /build/tlswatch-$debversion &&
	DEB_BUILD_OPTIONS=parallel=$jobs dpkg-buildpackage -us -uc -b" \
	>>"$log" 2>&1 || fatal "dpkg-buildpackage -us -uc -b in a chroot with only the build dependencies" "$log"
check 0 "dpkg-buildpackage -us -uc -b in a chroot with only the build dependencies"
grep -q '^# PASS: *[1-9]' "$log" && ! grep -q '^# FAIL: *[1-9]' "$log"
check $? "the package build ran the unit tests, and they passed"

# Every pkg-config module configure.ac asks for comes from a package the
# Build-Depends name, not from one pulled in by another.
bd=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control")
for m in $(sed -n 's/.*PKG_CHECK_\(MODULES\|VAR\)(\[[A-Za-z_]*\], \[\([a-z0-9.-]*\).*/\2/p' "$top/configure.ac"); do
	pc=$(inroot "$broot" 20 pkg-config --path "$m" 2>/dev/null)
	pkg=$([ -n "$pc" ] && inroot "$broot" 20 dpkg -S "$pc" 2>/dev/null | sed 's/:.*//')
	printf '%s\n' "$bd" | grep -q "[ ,]${pkg:-?}[ ,(]"
	check $? "configure.ac's pkg-config module $m: its package ${pkg:-?} is in Build-Depends"
done

# The upgrade: the same tree with a higher version in its changelog.
upversion=$debversion+test1
mkdir -p "$broot/build/up"
cp -a "$src/tlswatch-$debversion" "$broot/build/up/tlswatch-$upversion"
ch=$broot/build/up/tlswatch-$upversion/debian/changelog
{
	printf 'tlswatch (%s) unstable; urgency=medium\n\n' "$upversion"
	printf '  * Rebuilt by tests/deb-test.sh to test an upgrade.\n\n'
	printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l "$ch" -S Maintainer)" "$(date -R)"
	cat "$ch"
} >"$ch.new" && mv "$ch.new" "$ch"
inroot "$broot" 600 sh -c "cd /build/up/tlswatch-$upversion &&
	DEB_BUILD_OPTIONS='nocheck parallel=$jobs' dpkg-buildpackage -us -uc -b" \
	>>"$log" 2>&1 || fatal "dpkg-buildpackage of $upversion" "$log"
check 0 "dpkg-buildpackage of the same tree as version $upversion"
umount_all
out=$work/out
rm -rf "$out"
mkdir -p "$out"
cp "$broot"/build/*.deb "$broot"/build/*.changes "$broot"/build/*.buildinfo "$out/" &&
	cp "$broot"/build/up/tlswatch_"$upversion"_*.deb "$out/" || fatal "copy the packages to $out"
deb=$(ls "$out"/tlswatch_"$debversion"_*.deb)
updeb=$(ls "$out"/tlswatch_"$upversion"_*.deb)

step "lintian"
# Errors and warnings fail; informational tags are shown.
lout=$(timeout 300 lintian --fail-on error,warning --display-info "$out"/tlswatch_"$debversion"_*.changes \
	"$src/tlswatch_$debversion.dsc" 2>&1)
r=$?
printf '%s\n' "$lout" | grep -v '^running with root privileges' | sed 's/^/#   /'
check $r "lintian: no error and no warning on the binary and source packages"

step "install"
iroot=$work/install-root
log=$work/install.log
prepare "$iroot" "$log"
# What the chroot holds before: after purge, nothing named tlswatch is new.
snapshot() {
	(cd "$1" && find . -xdev \( -path ./proc -o -path ./tmp -o -path ./var/cache/apt \
		-o -path ./var/lib/apt/lists -o -path ./var/log \) -prune -o -print) | sort
}
snapshot "$iroot" >"$work/before.list"
cp "$deb" "$updeb" "$iroot/tmp/"
inroot "$iroot" 240 apt-get install -y -q "/tmp/${deb##*/}" >>"$log" 2>&1
check $? "apt-get install ./${deb##*/}, its dependencies from the archive" ||
	fatal "the package installs" "$log"
[ "$(inroot "$iroot" 10 dpkg-query -W -f='${Status} ${Version}' tlswatch)" = "install ok installed $debversion" ]
check $? "dpkg says tlswatch $debversion is installed"

inroot "$iroot" 10 dpkg -L tlswatch >"$work/files.list"
missing=0
while IFS= read -r f; do
	[ -e "$iroot$f" ] || [ -L "$iroot$f" ] || { echo "#   missing: $f"; missing=1; }
done <"$work/files.list"
check $missing "every path dpkg -L lists is there ($(wc -l <"$work/files.list") paths)"
bad=0
for f in /usr/sbin/tlswatchd /usr/bin/tlswatch /etc/tlswatch/tlswatchd.conf \
	/lib/systemd/system/tlswatchd.service \
	/usr/share/tlswatch/prometheus/tlswatch-rules.yml /usr/share/tlswatch/prometheus/prometheus.yml \
	/usr/share/tlswatch/grafana/tlswatch.json \
	/usr/share/man/man8/tlswatchd.8.gz /usr/share/man/man5/tlswatchd.conf.5.gz \
	/usr/share/man/man1/tlswatch.1.gz \
	/usr/share/bash-completion/completions/tlswatch /usr/share/bash-completion/completions/tlswatchd \
	/usr/share/doc/tlswatch/copyright /usr/share/doc/tlswatch/README.md.gz \
	/usr/share/doc/tlswatch/examples/tlswatchd.conf; do
	grep -qx "$f" "$work/files.list" || { echo "#   not in the package: $f"; bad=1; }
done
check $bad "the package holds the programs, unit, config, rules, dashboard, man pages, completion and docs"
[ "$(inroot "$iroot" 10 dpkg-query -W -f='${Conffiles}' tlswatch | awk '{ print $1 }' | sed '/^$/d')" = \
	/etc/tlswatch/tlswatchd.conf ]
check $? "/etc/tlswatch/tlswatchd.conf is the package's conffile"
inroot "$iroot" 10 sh -c 'tlswatchd -V && tlswatch --help' >/dev/null 2>&1
check $? "the installed tlswatchd and tlswatch run (their libraries are installed)"
case $(inroot "$iroot" 10 tlswatchd -V 2>&1) in *", jemalloc "[0-9]*) r=0 ;; *) r=1 ;; esac
check $r "the packaged tlswatchd runs with jemalloc (debian/rules --with-jemalloc)"
out1=$(timeout 30 unshare -n bash "$0" --in-netns config "$iroot" 2>&1)
check $? "tlswatchd -t -c /etc/tlswatch/tlswatchd.conf passes"
case $out1 in *"configuration OK (0 targets)"*) r=0 ;; *) r=1; printf '#   %s\n' "$out1" ;; esac
check $r "the installed configuration has no target"
wants=/etc/systemd/system/multi-user.target.wants/tlswatchd.service
[ "$(readlink "$iroot$wants")" = /lib/systemd/system/tlswatchd.service ]
check $? "the unit is enabled: $wants links to it"
grep -q "deb-systemd-invoke \$_dh_action 'tlswatchd.service'" "$iroot/var/lib/dpkg/info/tlswatch.postinst"
check $? "the postinst starts the unit where systemd runs (not provable in a chroot)"
count "$(timeout 60 unshare -n bash "$0" --in-netns serve "$iroot" 2>&1 ||
	echo "not ok - the unit's command lines in a network namespace (status $?)")"
count "$(timeout 60 unshare -n bash "$0" --in-netns state "$iroot" 2>&1 ||
	echo "not ok - tlswatchd writing state (status $?)")"

step "upgrade"
conf=$iroot/etc/tlswatch/tlswatchd.conf
echo '# edited by deb-test.sh' >>"$conf"
inroot "$iroot" 240 apt-get install -y -q "/tmp/${updeb##*/}" >>"$log" 2>&1
check $? "apt-get install ./${updeb##*/} upgrades the package"
[ "$(inroot "$iroot" 10 dpkg-query -W -f='${Status} ${Version}' tlswatch)" = "install ok installed $upversion" ]
check $? "dpkg says tlswatch $upversion is installed"
tail -n 1 "$conf" | grep -qx '# edited by deb-test.sh'
check $? "the upgrade kept the modified conffile"
[ -s "$iroot/var/lib/tlswatch/targets/refused.state" ]
check $? "the upgrade kept the state directory"
[ "$(readlink "$iroot$wants")" = /lib/systemd/system/tlswatchd.service ]
check $? "the unit is still enabled after the upgrade"

step "remove and purge"
inroot "$iroot" 10 dpkg -L tlswatch >"$work/files.list"
inroot "$iroot" 120 apt-get remove -y -q tlswatch >>"$log" 2>&1
check $? "apt-get remove tlswatch"
[ ! -e "$iroot/usr/sbin/tlswatchd" ] && grep -qx '# edited by deb-test.sh' "$conf" &&
	[ -s "$iroot/var/lib/private/tlswatch/targets/refused.state" ]
check $? "remove takes the programs and keeps the conffile and the state"
inroot "$iroot" 120 apt-get purge -y -q tlswatch >>"$log" 2>&1
check $? "apt-get purge tlswatch"
[ -z "$(inroot "$iroot" 10 dpkg-query -W -f='${Status}' tlswatch 2>/dev/null)" ]
check $? "dpkg no longer knows tlswatch"
left=0
while IFS= read -r f; do
	# Directories the package shares with others stay; its own go.
	if [ -d "$iroot$f" ]; then
		case $f in *tlswatch*) echo "#   left: $f/"; left=1 ;; esac
	elif [ -e "$iroot$f" ] || [ -L "$iroot$f" ]; then
		echo "#   left: $f"
		left=1
	fi
done <"$work/files.list"
check $left "purge removed every file and directory of the package"
[ ! -e "$iroot/var/lib/private/tlswatch" ] && [ ! -L "$iroot/var/lib/tlswatch" ] &&
	[ ! -e "$iroot/var/lib/tlswatch" ]
check $? "purge removed the state directory and its /var/lib/tlswatch link"
# /var/lib/private is systemd's (made here in its stead): not the package's.
rmdir "$iroot/var/lib/private" 2>/dev/null
snapshot "$iroot" >"$work/after.list"
new=$(comm -13 "$work/before.list" "$work/after.list" | grep -i tlswatch)
[ -n "$new" ] && printf '#   left: %s\n' $new
[ -z "$new" ]
check $? "nothing named tlswatch is left anywhere in the chroot (unit links, helper state, /etc)"
umount_all

step "piuparts"
# Debian's own install and purge test, in a chroot of its own: no file
# left or modified, no broken symlink, no process left running.
rm -rf "$work/piuparts"
mkdir -p "$work/piuparts"
timeout --kill-after=10 300 piuparts -b "$work/chroot.tgz" -d "$suite" -m "$mirror" \
	--keep-sources-list --no-upgrade-test --tmpdir "$work/piuparts" "$deb" \
	>"$work/piuparts.log" 2>&1
r=$?
umount_all
grep -q 'INFO: PASS: All tests' "$work/piuparts.log" || r=1
[ $r -eq 0 ] || grep -E 'FAIL|ERROR' "$work/piuparts.log" | tail -n 20 | sed 's/^/#   /'
check $r "piuparts: installation and purging test"
step ""
summary
