"""starttls_lab.py - real servers that speak STARTTLS, and scripted peers that
misbehave, for tests/test_starttls_peers.py and tests/test_tlsopts.py.

Every server is a Debian package run by us in the foreground with a
configuration written here, listening on 127.0.0.1 on a port the kernel
picked, presenting the test PKI's good chain. Those that refuse to run as
root run as their package's own user (postgres, mysql); the test directory
is made traversable for them. Stopped by pid through lab.Server.
"""

import os
import pwd
import shutil
import socket
import ssl
import subprocess

import lab as L


def _traversable(lab):
    """Servers that drop to their own user must reach their files."""
    os.chmod(lab.tmp, 0o755)


def _dir(lab, name, owner=None):
    d = os.path.join(lab.tmp, name)
    os.makedirs(d, exist_ok=True)
    if owner:
        pw = pwd.getpwnam(owner)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def _copy_for(lab, src, dst_dir, name, owner, mode):
    dst = os.path.join(dst_dir, name)
    shutil.copyfile(src, dst)
    pw = pwd.getpwnam(owner)
    os.chown(dst, pw.pw_uid, pw.pw_gid)
    os.chmod(dst, mode)
    return dst


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def _require(path, package):
    if not os.path.exists(path):
        raise L.Missing("%s not found: install the Debian package %s" % (path, package))


def dovecot(lab, pki):
    """Dovecot with imap, pop3, lmtp and managesieve, each with STARTTLS.
    Returns (server, {"imap": port, "pop3": port, "lmtp": port, "sieve": port})."""
    _require("/usr/sbin/dovecot", "dovecot-imapd")
    _require("/usr/lib/dovecot/managesieve-login", "dovecot-managesieved")
    _require("/usr/lib/dovecot/lmtp", "dovecot-lmtpd")
    _require("/usr/lib/dovecot/pop3-login", "dovecot-pop3d")
    _traversable(lab)
    d = _dir(lab, "dovecot")
    ports = {p: L.free_port() for p in ("imap", "pop3", "lmtp", "sieve")}
    conf = _write(os.path.join(d, "dovecot.conf"), """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = tlswatch-test-{imap}
protocols = imap pop3 lmtp sieve
listen = 127.0.0.1
ssl = yes
ssl_cert = <{chain}
ssl_key = <{key}
passdb {{
  driver = static
  args = password=unused
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {lmtp}
  }}
}}
service managesieve-login {{
  inet_listener sieve {{
    port = {sieve}
  }}
}}
""".format(d=d, chain=pki.path("good-chain.pem"), key=pki.path("good.key"), **ports))
    srv = L.Server(lab, "dovecot", ["dovecot", "-F", "-c", conf], "127.0.0.1",
                   ports["imap"], "dovecot.out")
    for p in ("pop3", "lmtp", "sieve"):
        if not L.wait_port("127.0.0.1", ports[p], 10.0, srv.proc):
            raise L.HardError("dovecot did not listen for %s on %d" % (p, ports[p]))
    return srv, ports


def postfix(lab, pki, name="postfix", host="127.0.0.1", port=None, chain=None, key=None,
            myhostname="good.test", more_hosts=()):
    """Postfix's smtpd alone, from a configuration directory of ours, on
    HOST:PORT (a port the kernel picks unless given) and on the same port
    of MORE_HOSTS, presenting CHAIN (a PEM file, leaf first; default the
    PKI's good chain) with KEY. NAME names its directory under the test's,
    so several can run at once."""
    _require("/usr/sbin/postfix", "postfix")
    _traversable(lab)
    d = _dir(lab, name)
    conf = _dir(lab, name + "/conf")
    _dir(lab, name + "/queue")
    _dir(lab, name + "/data", owner="postfix")
    if port is None:
        port = L.free_port(host)
    _write(os.path.join(conf, "main.cf"), """\
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = {myhostname}
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
notify_classes =
maillog_file_prefixes = {tmp}
maillog_file = {d}/postfix.log
smtpd_tls_security_level = may
smtpd_tls_chain_files = {key}, {chain}
""".format(d=d, tmp=lab.tmp, myhostname=myhostname,
           key=key or pki.path("good.key"), chain=chain or pki.path("good-chain.pem")))
    # master.cf's host:port entries are what is bound; inet_interfaces only
    # has to name an address configured on an interface (Postfix checks),
    # which 127.0.0.1 is and the rest of 127.0.0.0/8 need not be.
    _write(os.path.join(conf, "master.cf"), "".join(
        "%s:%d inet n - n - - smtpd\n" % (h, port) for h in (host,) + tuple(more_hosts)) + """\
postlog unix-dgram n - n - 1 postlogd
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
tlsmgr unix - - n 1000? 1 tlsmgr
""")
    # "postfix check" makes the queue directories with their owners; then
    # the master runs in the foreground as our child (postfix start-fg
    # would leave it behind when stopped).
    r = subprocess.run(["postfix", "-c", conf, "check"], capture_output=True, timeout=60)
    if r.returncode != 0:
        raise L.HardError("postfix check failed; see %s/postfix.log" % d)
    master = "/usr/lib/postfix/sbin/master"
    _require(master, "postfix")
    srv = L.Server(lab, name, [master, "-c", conf, "-d"], host, port, name + ".out")
    for h in more_hosts:
        if not L.wait_port(h, port, 10.0, srv.proc):
            raise L.HardError("%s did not listen on %s" % (name, L.hostport(h, port)))
    return srv


def postgres(lab, pki):
    """PostgreSQL 15 with ssl = on, as the postgres user."""
    bindir = "/usr/lib/postgresql/15/bin"
    _require(bindir + "/initdb", "postgresql-15")
    _traversable(lab)
    d = _dir(lab, "postgres", owner="postgres")
    data = os.path.join(d, "data")
    r = subprocess.run(["runuser", "-u", "postgres", "--", bindir + "/initdb", "-D", data,
                          "-A", "trust", "-U", "postgres", "--no-sync"],
                         capture_output=True, cwd=d, timeout=300)
    if r.returncode != 0:
        raise L.HardError("initdb failed: %s" % r.stderr.decode(errors="replace"))
    key = _copy_for(lab, pki.path("good.key"), d, "server.key", "postgres", 0o600)
    cert = _copy_for(lab, pki.path("good-chain.pem"), d, "server.pem", "postgres", 0o644)
    port = L.free_port()
    cmd = ["runuser", "-u", "postgres", "--", bindir + "/postgres", "-D", data,
           "-c", "port=%d" % port, "-c", "listen_addresses=127.0.0.1",
           "-c", "unix_socket_directories=" + d, "-c", "ssl=on",
           "-c", "ssl_cert_file=" + cert, "-c", "ssl_key_file=" + key]
    return L.Server(lab, "postgres", cmd, "127.0.0.1", port, "postgres.out")


def slapd(lab, pki):
    """OpenLDAP slapd with one empty LDIF database and StartTLS."""
    _require("/usr/sbin/slapd", "slapd")
    d = _dir(lab, "slapd")
    _dir(lab, "slapd/db")
    port = L.free_port()
    conf = _write(os.path.join(d, "slapd.conf"), """\
include /etc/ldap/schema/core.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_ldif
TLSCertificateFile {chain}
TLSCertificateKeyFile {key}
database ldif
directory {d}/db
suffix "dc=test"
""".format(d=d, chain=pki.path("good-chain.pem"), key=pki.path("good.key")))
    cmd = ["slapd", "-d", "0", "-h", "ldap://127.0.0.1:%d/" % port, "-f", conf]
    return L.Server(lab, "slapd", cmd, "127.0.0.1", port, "slapd.out")


def vsftpd(lab, pki):
    """vsftpd with AUTH TLS (no one ever logs in)."""
    _require("/usr/sbin/vsftpd", "vsftpd")
    d = _dir(lab, "vsftpd")
    empty = _dir(lab, "vsftpd/empty")
    port = L.free_port()
    conf = _write(os.path.join(d, "vsftpd.conf"), """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
ssl_enable=YES
rsa_cert_file={chain}
rsa_private_key_file={key}
secure_chroot_dir={empty}
xferlog_enable=NO
""".format(port=port, chain=pki.path("good-chain.pem"), key=pki.path("good.key"), empty=empty))
    return L.Server(lab, "vsftpd", ["vsftpd", conf], "127.0.0.1", port, "vsftpd.out")


def prosody(lab, pki):
    """Prosody (XMPP client-to-server) for the domain good.test."""
    _require("/usr/bin/prosody", "prosody")
    d = _dir(lab, "prosody")
    _dir(lab, "prosody/data")
    _dir(lab, "prosody/certs")
    port = L.free_port()
    _write(os.path.join(d, "prosody.cfg.lua"), """\
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}/certs"
daemonize = false
run_as_root = true
log = {{ {{ levels = {{ min = "info" }}, to = "console" }} }}
modules_enabled = {{ "tls"; "saslauth"; "disco"; }}
modules_disabled = {{ "s2s"; "posix"; }}
c2s_ports = {{ {port} }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
s2s_ports = {{ }}
admin_socket = "{d}/admin.sock"
c2s_require_encryption = true
authentication = "internal_hashed"
VirtualHost "good.test"
  ssl = {{ certificate = "{chain}"; key = "{key}"; }}
""".format(d=d, port=port, chain=pki.path("good-chain.pem"), key=pki.path("good.key")))
    # An absolute path: a relative one that does not exist makes Prosody
    # fall back to /etc/prosody/prosody.cfg.lua, which listens everywhere.
    cfg = os.path.join(d, "prosody.cfg.lua")
    return L.Server(lab, "prosody", ["prosody", "--config", cfg, "-F"],
                    "127.0.0.1", port, "prosody.out")


def mariadb(lab, pki):
    """MariaDB with TLS, as the mysql user, on an empty data directory (no
    grant tables: nobody logs in)."""
    _require("/usr/sbin/mariadbd", "mariadb-server")
    _traversable(lab)
    d = _dir(lab, "mariadb", owner="mysql")
    _dir(lab, "mariadb/data", owner="mysql")
    key = _copy_for(lab, pki.path("good.key"), d, "server.key", "mysql", 0o600)
    cert = _copy_for(lab, pki.path("good-chain.pem"), d, "server.pem", "mysql", 0o644)
    port = L.free_port()
    cmd = ["runuser", "-u", "mysql", "--", "/usr/sbin/mariadbd", "--no-defaults",
           "--datadir=" + d + "/data", "--socket=" + d + "/sock", "--port=%d" % port,
           "--bind-address=127.0.0.1", "--skip-grant-tables", "--skip-log-bin",
           "--pid-file=" + d + "/pid", "--innodb-buffer-pool-size=16M",
           "--ssl-cert=" + cert, "--ssl-key=" + key]
    return L.Server(lab, "mariadb", cmd, "127.0.0.1", port, "mariadb.out")


# ---------------------------------------------------------------- scripted peers

class ScriptPeer(L._Peer):
    """Runs script(conn, peer) for each connection, one at a time; errors
    from a client that went away end that connection quietly."""

    def __init__(self, lab, desc, script, host="127.0.0.1"):
        self.script = script
        self.sent = 0          # bytes sent by the script, all connections
        super().__init__(lab, desc, host)

    def _handle(self, conn):
        conn.settimeout(10)
        try:
            self.script(conn, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def send(self, conn, data):
        # counted as it goes: a client that gives up mid-way (as the daemon
        # must, on a line past its bound) still leaves what went out counted
        view = memoryview(data)
        while view:
            n = conn.send(view)
            with self._lock:
                self.sent += n
            view = view[n:]


def read_line(conn, limit=4096):
    """One CRLF line from conn, or None if it closed."""
    buf = b""
    while not buf.endswith(b"\n"):
        c = conn.recv(1)
        if not c:
            return None
        buf += c
        if len(buf) > limit:
            return None
    return buf.rstrip(b"\r\n")


def nntp_peer(lab, chain, key):
    """An NNTP server as RFC 4642 and RFC 3977 describe it, up to TLS: 200
    greeting, CAPABILITIES listing STARTTLS, then 382 and a real TLS
    handshake (Python's ssl) presenting CHAIN."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)

    def script(conn, peer):
        peer.send(conn, b"200 tlswatch test news server ready (posting allowed)\r\n")
        while True:
            line = read_line(conn)
            if line is None:
                return
            cmd = line.split(b" ")[0].upper()
            if cmd == b"CAPABILITIES":
                peer.send(conn, b"101 Capability list:\r\nVERSION 2\r\nREADER\r\n"
                          b"STARTTLS\r\nLIST ACTIVE NEWSGROUPS\r\n.\r\n")
            elif cmd == b"STARTTLS":
                peer.send(conn, b"382 Continue with TLS negotiation\r\n")
                tls = ctx.wrap_socket(conn, server_side=True)
                try:
                    tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass
                return
            else:
                peer.send(conn, b"500 What?\r\n")

    return ScriptPeer(lab, "nntp peer", script)


def smtp_endless_greeting(lab):
    """Sends "220-" continuation lines for as long as anyone listens."""
    line = b"220-tlswatch test: this greeting never ends " + b"." * 60 + b"\r\n"

    def script(conn, peer):
        while True:
            peer.send(conn, line * 64)

    return ScriptPeer(lab, "endless greeting", script)


def smtp_long_line(lab, size=1 << 20):
    """A greeting line of SIZE bytes (one megabyte), with no end of line."""
    def script(conn, peer):
        peer.send(conn, b"220 " + b"x" * size)
        read_line(conn)

    return ScriptPeer(lab, "megabyte line", script)


def smtp_no_starttls(lab):
    def script(conn, peer):
        peer.send(conn, b"220 plain.test ESMTP\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"250-plain.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        read_line(conn)

    return ScriptPeer(lab, "no STARTTLS", script)


def smtp_refuses(lab):
    def script(conn, peer):
        peer.send(conn, b"220 busy.test ESMTP\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"250-busy.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"454 4.7.0 TLS not available due to local problem\r\n")
        read_line(conn)

    return ScriptPeer(lab, "STARTTLS refused", script)


def imap_closes(lab):
    """Greets, reads the CAPABILITY command, and hangs up mid-exchange."""
    def script(conn, peer):
        peer.send(conn, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        read_line(conn)
        conn.shutdown(socket.SHUT_RDWR)

    return ScriptPeer(lab, "closes mid-exchange", script)


def imap_bare_star(lab):
    """After A1 CAPABILITY, an untagged line that is a bare "*": once read
    beyond the line's end (len - 2 on a line of length 1 wrapped), which
    crashed the daemon. Then a tagged OK without STARTTLS among the
    capabilities: not_offered."""
    def script(conn, peer):
        peer.send(conn, b"* OK x\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"* CAPABILITY IMAP4rev1\r\n*\r\n")
        peer.send(conn, b"A1 OK done\r\n")
        read_line(conn)

    return ScriptPeer(lab, "bare star", script)


def imap_bare_tag(lab):
    """Answers A2 STARTTLS with "* xOK y" and then a bare "A2": the stale
    "OK" left in the buffer by the first line was once read as "A2 OK", and
    the client went on to TLS. A bare tag is a refusal (no OK)."""
    def script(conn, peer):
        peer.send(conn, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"* CAPABILITY IMAP4rev1 STARTTLS\r\nA1 OK done\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"* xOK y\r\nA2\r\n")
        read_line(conn)

    return ScriptPeer(lab, "bare tag", script)


def starttls_injection(lab):
    """Answers STARTTLS with 220 and, in the same write, a command: what
    the reply that lets TLS start must never carry."""
    def script(conn, peer):
        peer.send(conn, b"220 inject.test ESMTP\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"250-inject.test\r\n250 STARTTLS\r\n")
        if read_line(conn) is None:
            return
        peer.send(conn, b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n")
        read_line(conn)

    return ScriptPeer(lab, "injection", script)


def silent(lab):
    return L.SilentPeer(lab)

