#!/bin/sh
# sandbox.sh STATE_DIR UID CMD... - run CMD the way the hardened unit
# (systemd/tlswatchd.service.in) would, as far as that works without
# systemd: in a mount namespace of its own where every mount is read-only
# (ProtectSystem=strict, ProtectHome) but STATE_DIR (StateDirectory=),
# with a /dev of null, zero, random and urandom only (PrivateDevices=), as
# an unprivileged uid and gid (DynamicUser=) with no supplementary groups,
# no capabilities at all (CapabilityBoundingSet=, AmbientCapabilities=)
# and no_new_privs (NoNewPrivileges=). Needs root (to set this up) and
# util-linux's unshare and setpriv. The command is exec'd: it keeps this
# script's pid, so signals reach it.
set -eu
[ "${SANDBOX_INNER:-}" = 1 ] || {
	SANDBOX_INNER=1 exec unshare --mount --propagation private -- sh "$0" "$@"
}
state=$1 uid=$2
shift 2

# a private /dev, built beside the state dir before everything turns read-only
dev=$(mktemp -d "$state/../dev.XXXXXX")
mount -n -t tmpfs -o mode=0755,nosuid,noexec tmpfs "$dev"
for n in null zero random urandom; do
	: >"$dev/$n"
	mount -n --bind "/dev/$n" "$dev/$n"
done
# every mount read-only, deepest first doesn't matter for remount
awk '{ print $5 }' /proc/self/mountinfo | sort -u | while read -r mp; do
	mount -n -o remount,bind,ro "$mp" 2>/dev/null || true
done
mount -n --move "$dev" /dev
mount -n --bind "$state" "$state"
mount -n -o remount,bind,rw "$state"
exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs \
	--inh-caps=-all --bounding-set=-all -- "$@"
