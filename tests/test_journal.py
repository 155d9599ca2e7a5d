#!/usr/bin/env python3
"""test_journal.py - tlswatchd's log lines carry syslog priority prefixes
(<3>..<7>, sd-daemon(3)) when stderr is the journal: JOURNAL_STREAM names
stderr's device and inode, as systemd sets it for StandardError=journal
(systemd.exec(5)). With the variable naming another file (a redirection
that inherited it), or without it, the lines are plain.

No journald runs here: stderr is a file whose device and inode are put in
JOURNAL_STREAM, which is all tlswatchd can know of the journal (it is
exactly the check sd_journal_stream_fd(3) documents)."""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True   # nothing written in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

PREFIXED = re.compile(r"^<([3-7])>(.*)$")


def stream_of(path):
    """JOURNAL_STREAM's value for the file at PATH, created if need be."""
    open(path, "ab").close()
    st = os.stat(path)
    return "%d:%d" % (st.st_dev, st.st_ino)


def conf(port, closed):
    return """listen = "127.0.0.1:%d";
interval = "1s"; timeout = "500ms";
targets = ( { name = "closed"; address = "%s"; } );
""" % (port, closed)


def run(lab, name, env, closed):
    port = L.free_port()
    d = L.Daemon(lab, conf(port, closed), name=name, env=env)
    got, _ = d.wait_for(lambda e: e.value("tlswatch_probe_timestamp_seconds", target="closed"), 10)
    lab.check(got, "%s: the target is probed" % name)
    n = len(d.stderr())
    d.reload("listen = \"127.0.0.1:%d\";\ntargets = ( { address = 5; } );\n" % port)
    lab.check(d.wait_log("configuration refused", 10, n), "%s: the bad reload is refused" % name)
    d.stop()
    return [l for l in d.stderr().splitlines() if l]


def main(lab):
    lab.require_daemon()
    closed = lab.closed_port().address

    # --- stderr is the journal's stream
    name = "tlswatchd-journal"
    path = os.path.join(lab.tmp, name + ".stderr")   # Daemon keeps the inode
    journal = stream_of(path)
    lines = run(lab, name, {"JOURNAL_STREAM": journal}, closed)
    bare = [l for l in lines if not PREFIXED.match(l)]
    lab.check(lines and not bare, "on the journal every line starts with a priority <3>..<7>",
              "\n".join(bare[:10]))
    prio = {}
    for l in lines:
        m = PREFIXED.match(l)
        if m:
            prio.setdefault(m.group(2), int(m.group(1)))

    def level_of(pattern):
        return [p for text, p in prio.items() if re.search(pattern, text)]

    lab.eq(sorted(set(level_of(r"^tlswatchd \S+ started"))), [6], "the start is info (<6>)")
    lab.eq(sorted(set(level_of(r"^debug: "))) or [None], [7], "debug lines (-v) are <7>")
    lab.eq(sorted(set(level_of(r"^reload: configuration refused"))), [4],
           "a refused reload is a warning (<4>)")
    lab.eq(sorted(set(level_of(r"^reload: .*:\d+: "))), [4],
           "the refused reload's reason (file, line, setting) is a warning too")
    lab.eq(sorted(set(level_of(r"stopping"))), [6], "the stop is info (<6>)")
    named = [l for l in lines if l.split(">", 1)[-1].startswith("tlswatchd: ")]
    lab.eq(named, [], "the journal names the program itself: no 'tlswatchd: ' in the text")

    # --- configuration errors, from -t and from a start that fails: errors (<3>),
    # each line still FILE:LINE: SETTING after the prefix
    bad = os.path.join(lab.tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write('listen = "127.0.0.1:%d";\ntargets = ( { address = 5; },\n'
                '  { address = "nope"; } );\n' % L.free_port())
    for args, what in ((["-t", "-c", bad], "-t"), (["-c", bad], "a start")):
        epath = os.path.join(lab.tmp, "errors.stderr")
        with open(epath, "wb") as err:
            st = os.fstat(err.fileno())
            r = subprocess.run([lab.tlswatchd] + args, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=err, timeout=10, cwd=lab.tmp,
                               env=dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino)))
        with open(epath) as f:
            got = [l for l in f.read().splitlines() if l]
        lab.eq(r.returncode, 1, "%s of a bad configuration exits 1" % what)
        lab.check(len(got) == 2 and all(re.match(r"^<3>%s:\d+: targets\.\[[01]\]\.address: "
                                                 % re.escape(bad), l) for l in got),
                  "%s: each configuration error is an error (<3>) naming file, line and setting"
                  % what, "\n".join(got))
        plain = subprocess.run([lab.tlswatchd] + args, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=10, cwd=lab.tmp,
                               env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"})
        lines = [l for l in plain.stderr.decode().splitlines() if l]
        lab.check(len(lines) == 2 and all(l.startswith(bad + ":") for l in lines),
                  "%s without the journal: the errors start with the file name" % what,
                  "\n".join(lines))

    # --- stderr redirected elsewhere, JOURNAL_STREAM inherited: plain
    lines = run(lab, "tlswatchd-redirected", {"JOURNAL_STREAM": journal}, closed)
    bad = [l for l in lines if not l.startswith("tlswatchd: ")]
    lab.check(lines and not bad, "with JOURNAL_STREAM naming another file every line is plain",
              "\n".join(bad[:10]))

    # --- no JOURNAL_STREAM: plain
    os.environ.pop("JOURNAL_STREAM", None)   # as when run under a unit
    lines = run(lab, "tlswatchd-plain", {}, closed)
    bad = [l for l in lines if not l.startswith("tlswatchd: ")]
    lab.check(lines and not bad, "without JOURNAL_STREAM every line is plain", "\n".join(bad[:10]))


if __name__ == "__main__":
    L.Lab("journal").main(main)
