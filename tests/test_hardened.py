#!/usr/bin/env python3
"""test_hardened.py - tlswatchd under the restrictions of the hardened
unit, as far as they can be had without systemd as PID 1 (this suite runs
in containers and CI jobs that have none): tests/sandbox.sh gives it a
mount namespace where everything but the state directory is read-only, a
/dev of four nodes, an unprivileged uid, no capabilities and
no_new_privs. Under those, the daemon must check its config, probe, serve
metrics and reload. Not covered here: the seccomp filters
(SystemCallFilter=, RestrictAddressFamilies=, MemoryDenyWriteExecute=),
PrivateTmp=, ProtectProc=/ProcSubset=, PrivateUsers= and the other
namespace options; tests/test_systemd.sh checks the unit's own settings
and rating. Needs root to build the sandbox: skipped (77) otherwise."""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

UID = 61234     # stands in for DynamicUser's pick; owns nothing but the state dir


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    for tool, pkg in (("unshare", "util-linux"), ("setpriv", "util-linux")):
        L.require_tool(tool, pkg)
    sandbox = os.path.join(lab.srcdir, "sandbox.sh")
    pki = lab.pki()
    # what the service may read: config, CA (world-readable, as in /etc)
    os.chmod(lab.tmp, 0o755)
    for root, dirs, files in os.walk(pki.dir):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    state = os.path.join(lab.tmp, "state")
    os.makedirs(state)
    os.chown(state, UID, UID)
    os.chmod(state, 0o700)

    def boxed(*cmd):
        return ["sh", sandbox, state, str(UID)] + list(cmd)

    # the sandbox is real: outside the state dir nothing can be written
    probe = ('touch %s/ok && echo state-writable; touch %s/no 2>/dev/null && echo tmp-writable; '
             'touch /etc/tlswatch-no 2>/dev/null && echo etc-writable; '
             'ls /dev | tr "\\n" " "; grep -E "^(NoNewPrivs|CapEff|CapBnd|Uid):" /proc/self/status'
             % (state, lab.tmp))
    r = subprocess.run(boxed("sh", "-c", probe), capture_output=True, timeout=30)
    out = r.stdout.decode()
    lab.eq(r.returncode, 0, "the sandbox starts", r.stderr.decode())
    lab.check("state-writable" in out, "in the sandbox the state dir is writable", out)
    lab.check("tmp-writable" not in out and "etc-writable" not in out,
              "in the sandbox everything else is read-only", out)
    lab.check(re.search(r"^null random urandom zero (NoNewPrivs|CapEff|CapBnd|Uid)", out, re.M),
              "in the sandbox /dev holds null, random, urandom, zero only", out)
    lab.check(re.search(r"NoNewPrivs:\s+1", out) and re.search(r"CapEff:\s+0+\n", out)
              and re.search(r"CapBnd:\s+0+\n", out) and re.search(r"Uid:\s+%d\b" % UID, out),
              "in the sandbox: uid %d, no capabilities, no_new_privs" % UID, out)

    srv = lab.serve_chain(pki.path("good-chain.pem"), pki.path("good.key"))
    port = L.free_port()
    ca = pki.path("ca.pem")
    conf = """listen = "127.0.0.1:%d";
state_dir = "%s";
interval = "1s"; timeout = "800ms";
targets = ( { name = "good"; address = "%s"; server_name = "good.test"; ca_file = "%s"; } );
""" % (port, state, srv.address, ca)
    path = os.path.join(lab.tmp, "hardened.conf")
    with open(path, "w") as f:
        f.write(conf)
    os.chmod(path, 0o644)
    r = subprocess.run(boxed(lab.tlswatchd, "-t", "-c", path), capture_output=True, timeout=30)
    lab.eq(r.returncode, 0, "tlswatchd -t passes in the sandbox (ExecStartPre)",
           r.stderr.decode())

    # The daemon through a wrapper that execs into the sandbox: same pid, so
    # the harness's signals reach tlswatchd.
    wrapper = os.path.join(lab.tmp, "tlswatchd-sandboxed")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec sh "%s" "%s" %d "%s" "$@"\n' % (sandbox, state, UID,
                                                                 lab.tlswatchd))
    os.chmod(wrapper, 0o755)
    real = lab.tlswatchd
    lab.tlswatchd = wrapper
    try:
        d = L.Daemon(lab, conf, name="tlswatchd-hardened", start_timeout=20)
    finally:
        lab.tlswatchd = real
    lab.daemon = d
    with open("/proc/%d/status" % d.proc.pid) as f:
        status = f.read()
    lab.check(re.search(r"Uid:\s+%d\b" % UID, status) and re.search(r"NoNewPrivs:\s+1", status)
              and re.search(r"CapEff:\s+0+\n", status),
              "the running tlswatchd has uid %d, no capabilities, no_new_privs" % UID)
    got, expo = d.wait_for(lambda e: e.value("tlswatch_chain_verified", target="good") == 1, 15)
    lab.check(got, "sandboxed: the probe succeeds and the chain verifies")
    lab.promtool(expo.text, "sandboxed: promtool accepts the scrape")

    # reload under the sandbox: a second target
    conf2 = conf.replace(");", ', { name = "second"; address = "%s"; '
                         'server_name = "good.test"; ca_file = "%s"; } );' % (srv.address, ca))
    mark = len(d.stderr())
    d.reload(conf2)
    lab.check(d.wait_log("reload: done", 10, mark), "sandboxed: SIGHUP reloads the config",
              d.stderr()[mark:])
    got, expo = d.wait_for(lambda e: e.value("tlswatch_probe_success", target="second") == 1, 10)
    lab.check(got, "sandboxed: the target added by the reload is probed")
    lab.eq(expo.value("tlswatch_config_last_reload_successful"), 1.0,
           "sandboxed: tlswatch_config_last_reload_successful is 1")
    d.stop()


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("# SKIP: building the sandbox (mount namespace, setpriv) needs root")
        sys.exit(77)
    if shutil.which("unshare") is None:
        print("not ok - unshare not found: install util-linux")
        sys.exit(1)
    L.Lab("hardened").main(main)
