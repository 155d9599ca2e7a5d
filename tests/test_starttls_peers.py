#!/usr/bin/env python3
"""test_starttls_peers.py - every STARTTLS protocol against a real server (or, for
NNTP, a peer scripted from RFC 4642), and hostile peers that each get their
own clear failure within the probe's timeout.

Real servers, from Debian packages, on 127.0.0.1 with configurations
written here (tests/starttls_lab.py): Postfix (smtp), Dovecot (imap, pop3,
lmtp, sieve), PostgreSQL, OpenLDAP slapd, vsftpd (ftp), Prosody (xmpp),
MariaDB (mysql)."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
import starttls_lab as S  # noqa: E402

TIMEOUT = 3.0


def main(lab):
    lab.require_daemon()
    lab.require_tools()
    pki = lab.pki()

    # Real servers first: each protocol must complete a handshake.
    real = {}
    dv, dports = S.dovecot(lab, pki)
    for proto in ("imap", "pop3", "lmtp", "sieve"):
        real[proto] = dports[proto]
    real["smtp"] = S.postfix(lab, pki).port
    real["postgres"] = S.postgres(lab, pki).port
    real["ldap"] = S.slapd(lab, pki).port
    real["ftp"] = S.vsftpd(lab, pki).port
    real["xmpp"] = S.prosody(lab, pki).port
    real["mysql"] = S.mariadb(lab, pki).port
    real["nntp"] = S.nntp_peer(lab, pki.path("good-chain.pem"), pki.path("good.key")).port

    hostile = {
        "endless": ("smtp", S.smtp_endless_greeting(lab), "protocol_error"),
        "longline": ("smtp", S.smtp_long_line(lab), "protocol_error"),
        "noauth": ("smtp", S.smtp_no_starttls(lab), "not_offered"),
        "refused": ("smtp", S.smtp_refuses(lab), "refused"),
        "closes": ("imap", S.imap_closes(lab), "closed"),
        "injection": ("smtp", S.starttls_injection(lab), "protocol_error"),
        "imap-bare-star": ("imap", S.imap_bare_star(lab), "not_offered"),
        "imap-bare-tag": ("imap", S.imap_bare_tag(lab), "refused"),
    }
    silent = S.silent(lab)

    targets = []
    for proto, port in sorted(real.items()):
        targets.append('{ name = "%s"; address = "127.0.0.1:%d"; starttls = "%s"; }'
                       % (proto, port, proto))
    for name, (proto, peer, _) in sorted(hostile.items()):
        targets.append('{ name = "%s"; address = "%s"; starttls = "%s"; }'
                       % (name, peer.address, proto))
    targets.append('{ name = "silent"; address = "%s"; starttls = "smtp"; }' % silent.address)
    # The port table: nothing here listens on 127.0.0.2:5432 or :587; only
    # what the target is probed with matters.
    targets.append('{ name = "table-pg"; address = "127.0.0.2:5432"; interval = "1h"; }')
    targets.append('{ name = "table-submission"; address = "127.0.0.2:587"; interval = "1h"; }')
    targets.append('{ name = "table-forced"; address = "127.0.0.2:587"; starttls = "none"; '
                   'interval = "1h"; }')
    port = L.free_port()
    conf = """\
listen = "127.0.0.1:%d";
ca_file = %s;
server_name = "good.test";
interval = "4s";
timeout = "%dms";
targets = (
  %s
);
""" % (port, L.conf_string(pki.path("ca.pem")), int(TIMEOUT * 1000), ",\n  ".join(targets))
    # server_name is per target; put it on each one.
    conf = conf.replace('server_name = "good.test";\n', "")
    conf = conf.replace('starttls = "', 'server_name = "good.test"; starttls = "')
    d = L.Daemon(lab, conf)

    names = list(real) + list(hostile) + ["silent"]
    # A server slow to fork its first worker under load may miss one
    # round; wait (within bounds) for a round in which each succeeds.
    done, expo = d.wait_for(
        lambda e: all(e.find("tlswatch_probes_total", target=n) for n in names) and
        all(e.value("tlswatch_probe_success", target=p) == 1.0 for p in real), 40)
    lab.check(done, "every STARTTLS target was probed, every real server's probe "
              "succeeded, within 40 s", d.stderr())
    lab.promtool(d.scrape_text())

    for proto in sorted(real):
        lab.eq(expo.value("tlswatch_probe_success", target=proto), 1.0,
               "%s: the probe through STARTTLS succeeded" % proto,
               "failure: %s" % expo.find("tlswatch_probe_failure_info", target=proto))
        lab.eq(expo.value("tlswatch_chain_verified", target=proto), 1.0,
               "%s: the server's chain verified" % proto)
        st = expo.find("tlswatch_probe_stage_duration_seconds", target=proto, stage="starttls")
        lab.check(len(st) == 1, "%s: the starttls stage was timed" % proto)
        info = expo.find("tlswatch_target_info", target=proto)
        lab.check(len(info) == 1 and info[0].labels.get("starttls") == proto and
                  info[0].labels.get("server_name") == "good.test",
                  "%s: tlswatch_target_info says starttls=%s" % (proto, proto), info)

    for name, (proto, peer, reason) in sorted(hostile.items()):
        fi = expo.find("tlswatch_probe_failure_info", target=name)
        lab.eq([(s.labels["stage"], s.labels["reason"]) for s in fi], [("starttls", reason)],
               "%s: fails at starttls with %s" % (name, reason))
        dur = expo.value("tlswatch_probe_duration_seconds", target=name)
        lab.check(dur is not None and dur <= TIMEOUT + 0.5,
                  "%s: the probe ended within its timeout (%.3f s)" % (name, dur or -1))
    fi = expo.find("tlswatch_probe_failure_info", target="silent")
    lab.eq([(s.labels["stage"], s.labels["reason"]) for s in fi], [("timeout", "starttls")],
           "a peer that never greets: the deadline hits during starttls")
    dur = expo.value("tlswatch_probe_duration_seconds", target="silent")
    lab.check(dur is not None and dur <= TIMEOUT + 0.5,
              "silent: the probe ended by its deadline (%.3f s)" % (dur or -1))
    # The peer got more than a line's bound (4096 bytes) out before the
    # daemon gave up on it: the bound, not the end of the line, ended it.
    # (How much of the megabyte the kernel took before the daemon closed
    # depends on timing, so no more than that is asserted.)
    lab.check(hostile["longline"][1].sent > 4096,
              "the long line went out past the line bound (%d bytes)"
              % hostile["longline"][1].sent)

    for name, want in (("table-pg", "postgres"), ("table-submission", "smtp"),
                       ("table-forced", "none")):
        info = expo.find("tlswatch_target_info", target=name)
        lab.check(len(info) == 1 and info[0].labels.get("starttls") == want,
                  "%s: the port table gives starttls=%s" % (name, want), info)

    # Peer text is quoted in the log, escaped, one line per event.
    err = d.stderr()
    lab.check("target refused: probe failed at starttls: refused" in err and
              "454 4.7.0 TLS not available" in err,
              "the log quotes the server's refusal")
    d.stop()


if __name__ == "__main__":
    L.Lab("starttls").main(main)
