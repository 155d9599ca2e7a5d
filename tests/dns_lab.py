"""dns_lab.py - DNSSEC, mail servers and MTA-STS on loopback, for the DANE,
mail domain and MTA-STS tests.

All of it real and made at test time:
- zones signed with ldns-keygen and ldns-signzone (ECDSA P-256, NSEC): the
  parent tlswatch.test (the trust anchor), a child delegated with a DS
  whose TLSA signature is broken afterwards (bogus), and a child delegated
  without a DS and never signed (insecure);
- NSD serving those zones, and Unbound validating them with the parent's
  key as its only trust anchor (stub zones point it at NSD); the daemon
  asks Unbound, as it would a validating resolver on a mail host;
- Postfix (tests/starttls_lab.postfix) on port 25 of loopback addresses of
  its own, presenting chains of the test PKI (tests/pki.sh) and leaves
  made here for the zone's names;
- nginx serving MTA-STS policies over HTTPS on port 443 of a loopback
  address of its own, one virtual host per mta-sts.DOMAIN.

Ports 25 and 443 are what MX delivery and RFC 8461 fetches use: those
servers get an address in 127.0.0.0/8 no one else holds (picked at random
and checked free) rather than another port. NSD and Unbound take a port the
kernel picks, on addresses of their own. Every start and wait is bounded.

Needs root (ports below 1024) and the Debian packages nsd, unbound,
ldnsutils, postfix, nginx-light, openssl and gnutls-bin.
"""

import base64
import hashlib
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import time

import lab as L
import starttls_lab as S

ZONE = "tlswatch.test"
TTL = 2   # short enough that a change is seen at once, also through Unbound


def _require_tools():
    for tool, pkg in (("nsd", "nsd"), ("unbound", "unbound"), ("ldns-keygen", "ldnsutils"),
                      ("ldns-signzone", "ldnsutils"), ("drill", "ldnsutils"),
                      ("nginx", "nginx-light"), ("openssl", "openssl"),
                      ("certtool", "gnutls-bin")):
        L.require_tool(tool, pkg)
    if os.geteuid() != 0:
        raise L.Missing("dns_lab needs root: Postfix and nginx listen on ports 25 and 443")


def _run(cmd, what, cwd=None, timeout=60, input=None):
    r = subprocess.run(cmd, capture_output=True, cwd=cwd, timeout=timeout, input=input,
                       env=L.c_env())
    if r.returncode != 0:
        raise L.HardError("%s failed (%s, status %d):\n%s%s" % (
            what, " ".join(cmd), r.returncode, r.stdout.decode(errors="replace"),
            r.stderr.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


# ---------------------------------------------------------------- addresses

def free_address(ports=()):
    """A loopback address 127.X.Y.Z (not 127.0.0.0/16, which other tests
    use) on which every TCP port of PORTS is free."""
    for _ in range(1000):
        addr = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                                 random.randint(1, 254))
        if all(L.free_port_is_free(addr, p) for p in ports):
            return addr
    raise L.HardError("no free loopback address for ports %s" % (ports,))


def free_dns_endpoint():
    """(address, port) of its own where TCP and UDP are both free."""
    for _ in range(100):
        addr = free_address()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((addr, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if L.free_port_is_free(addr, port) and L.free_port_is_free(addr, port, udp=True):
            return addr, port
    raise L.HardError("no loopback address with a free TCP and UDP port")


# ---------------------------------------------------------------- TLSA data

def _pem_der(path):
    with open(path) as f:
        blocks = L.pem_blocks(f.read())
    if not blocks:
        raise L.HardError("no certificate in %s" % path)
    return [ssl.PEM_cert_to_DER_cert(b) for b in blocks]


def spki_der(cert_pem_path):
    """The SubjectPublicKeyInfo of the first certificate in a PEM file, DER,
    as openssl extracts it."""
    pub = _run(["openssl", "x509", "-in", cert_pem_path, "-noout", "-pubkey"],
               "openssl x509 -pubkey")
    r = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub.encode(),
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise L.HardError("openssl pkey failed: %s" % r.stderr.decode(errors="replace"))
    return r.stdout


def key_spki_der(key_path):
    """The SubjectPublicKeyInfo of a private key file, DER."""
    r = subprocess.run(["openssl", "pkey", "-in", key_path, "-pubout", "-outform", "DER"],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise L.HardError("openssl pkey failed: %s" % r.stderr.decode(errors="replace"))
    return r.stdout


def tlsa(usage, selector, mtype, cert_pem_path=None, spki=None):
    """The rdata of a TLSA record (presentation form) for the first
    certificate of CERT_PEM_PATH, or for the public key SPKI (DER)."""
    if selector == 0:
        data = _pem_der(cert_pem_path)[0]
    else:
        data = spki if spki is not None else spki_der(cert_pem_path)
    if mtype == 1:
        data = hashlib.sha256(data).digest()
    elif mtype == 2:
        data = hashlib.sha512(data).digest()
    return "%d %d %d %s" % (usage, selector, mtype, data.hex())


# ---------------------------------------------------------------- certificates

class Certs:
    """Leaves for the lab's names, signed by the test PKI's intermediate
    (trusted) or by its untrusted root, made with certtool."""

    def __init__(self, lab, pki):
        self.lab = lab
        self.pki = pki
        self.dir = os.path.join(lab.tmp, "dnscerts")
        os.makedirs(self.dir, exist_ok=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def key(self, name):
        out = self.path(name + ".key")
        _run(["certtool", "--generate-privkey", "--no-text", "--key-type=ecdsa",
              "--curve=secp256r1", "--outfile", out], "certtool --generate-privkey")
        return out

    def leaf(self, name, dns_names, issuer="int", days=90):
        """NAME.pem/.key: a server leaf for DNS_NAMES signed by ISSUER (a
        PKI name: int or untrusted-ca); NAME-chain.pem: leaf then issuer."""
        key = self.key(name)
        tmpl = self.path(name + ".tmpl")
        with open(tmpl, "w") as f:
            f.write('cn = "%s"\n' % dns_names[0])
            for n in dns_names:
                f.write('dns_name = "%s"\n' % n)
            f.write("signing_key\ntls_www_server\n")
            f.write("expiration_days = %d\n" % days)
        cert = self.path(name + ".pem")
        _run(["certtool", "--generate-certificate", "--load-privkey", key,
              "--load-ca-certificate", self.pki.path(issuer + ".pem"),
              "--load-ca-privkey", self.pki.path(issuer + ".key"),
              "--template", tmpl, "--outfile", cert], "certtool --generate-certificate")
        chain = self.path(name + "-chain.pem")
        with open(chain, "w") as out:
            for p in (cert, self.pki.path(issuer + ".pem")):
                with open(p) as f:
                    out.write(f.read())
        return cert, key, chain


# ---------------------------------------------------------------- zones

class Zone:
    """One zone's records, as (owner relative to the origin or "@", type,
    rdata), written out in presentation form with a fresh serial."""

    def __init__(self, origin, ns_addr):
        self.origin = origin
        self.records = []
        self.serial = int(time.time())
        self.add("@", "NS", "ns.%s." % ZONE)
        if origin == ZONE:
            self.add("ns", "A", ns_addr)

    def add(self, owner, rtype, rdata):
        self.records.append((owner, rtype, rdata))

    def remove(self, owner, rtype=None):
        self.records = [r for r in self.records
                        if not (r[0] == owner and (rtype is None or r[1] == rtype))]

    def text(self):
        lines = ["$ORIGIN %s." % self.origin, "$TTL %d" % TTL,
                 "@ IN SOA ns.%s. hostmaster.%s. %d 3600 600 86400 %d"
                 % (ZONE, ZONE, self.serial, TTL)]
        for owner, rtype, rdata in self.records:
            lines.append("%s IN %s %s" % (owner, rtype, rdata))
        return "\n".join(lines) + "\n"


def txt(s):
    """A TXT rdata of one character-string (RFC 1035 quoting)."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class Signer:
    """ldns-keygen keys (a KSK and a ZSK) for one zone, and ldns-signzone."""

    def __init__(self, d, origin):
        self.dir = d
        self.origin = origin
        self.ksk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin],
                        "ldns-keygen -k", cwd=d).strip()
        self.zsk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", origin],
                        "ldns-keygen", cwd=d).strip()

    def ds(self):
        """The DS record of the KSK (owner, type, rdata as the parent has it)."""
        with open(os.path.join(self.dir, self.ksk + ".ds")) as f:
            parts = f.read().split()
        # owner IN DS keytag alg digesttype digest
        return " ".join(parts[3:])

    def dnskey(self):
        """The KSK as a DNSKEY record line: a trust anchor."""
        with open(os.path.join(self.dir, self.ksk + ".key")) as f:
            return f.read().split(";")[0].strip()

    def sign(self, unsigned, signed):
        _run(["ldns-signzone", "-o", self.origin, "-f", signed, unsigned,
              os.path.join(self.dir, self.ksk), os.path.join(self.dir, self.zsk)],
             "ldns-signzone %s" % self.origin, cwd=self.dir)


def break_signature(signed_path, owner, covered):
    """Make the RRSIG over OWNER's COVERED rrset fail to verify: one byte
    of its signature changed. Returns the line changed."""
    with open(signed_path) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        f_ = line.split()
        if len(f_) > 12 and f_[0].lower() == owner.lower() and f_[3] == "RRSIG" \
                and f_[4] == covered:
            sig = bytearray(base64.b64decode("".join(f_[12:])))
            sig[len(sig) // 2] ^= 0x5a
            lines[i] = " ".join(f_[:12] + [base64.b64encode(bytes(sig)).decode()])
            with open(signed_path + ".tmp", "w") as f:
                f.write("\n".join(lines))
            os.rename(signed_path + ".tmp", signed_path)
            return lines[i]
    raise L.HardError("no RRSIG %s for %s in %s" % (covered, owner, signed_path))


# ---------------------------------------------------------------- queries

class Answer:
    def __init__(self, rcode, flags, records):
        self.rcode = rcode          # "NOERROR", "NXDOMAIN", "SERVFAIL", ...
        self.flags = flags          # set of lowercase flags: qr rd ra ad cd aa
        self.records = records      # [(owner, type, rdata)] of the answer section

    @property
    def secure(self):
        return "ad" in self.flags

    def rdata(self, rtype):
        return [r[2] for r in self.records if r[1] == rtype]

    def __repr__(self):
        return "Answer(%s, %s, %s)" % (self.rcode, sorted(self.flags), self.records)


def drill(addr, port, name, rtype, cd=False, dnssec=True, timeout=5.0):
    """Ask ADDR:PORT for NAME RTYPE with drill (ldnsutils), as any stub
    would: recursion desired, the DO bit set (DNSSEC), CD when asked.
    Returns an Answer, or None when no answer came within TIMEOUT."""
    cmd = ["drill", "-p", str(port)]
    if dnssec:
        cmd.append("-D")
    if cd:
        cmd += ["-o", "CD"]
    cmd += ["@" + addr, name, rtype]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=L.c_env())
    except subprocess.TimeoutExpired:
        return None
    out = r.stdout.decode(errors="replace")
    m = re.search(r"rcode: (\w+)", out)
    fm = re.search(r";; flags: ([a-z ]*);", out)
    if not m or not fm:
        return None
    records = []
    sect = re.search(r";; ANSWER SECTION:\n(.*?)\n\n", out, re.S)
    if sect:
        for line in sect.group(1).splitlines():
            f = line.split(None, 4)
            if len(f) == 5 and not line.startswith(";"):
                records.append((f[0].rstrip(".").lower(), f[3], f[4].strip()))
    return Answer(m.group(1), set(fm.group(1).split()), records)


def wait_answer(addr, port, name, rtype, predicate, timeout, what):
    """Ask until predicate(Answer) holds; the last Answer. HardError after
    TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = drill(addr, port, name, rtype, timeout=min(3.0, timeout))
        if last is not None and predicate(last):
            return last
        if time.monotonic() >= deadline:
            raise L.HardError("%s: %s %s at %s:%d did not become right within %.0f s "
                              "(last: %r)" % (what, name, rtype, addr, port, timeout, last))
        time.sleep(0.1)


# ---------------------------------------------------------------- servers

class Nsd(L.Server):
    """NSD serving ZONES ({origin: signed or plain zone file}) on its own
    address and port. reload() reads changed zone files (SIGHUP)."""

    def __init__(self, lab, d, addr, port, zones):
        self.dir = d
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write("""\
server:
    ip-address: {addr}@{port}
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{d}"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    pidfile: "{d}/nsd.pid"
    logfile: "{d}/nsd.log"
    verbosity: 1
    server-count: 1
    hide-version: yes
remote-control:
    control-enable: no
""".format(addr=addr, port=port, d=d))
            for origin, path in sorted(zones.items()):
                f.write('zone:\n    name: "%s"\n    zonefile: "%s"\n' % (origin, path))
        _run(["nsd-checkconf", conf], "nsd-checkconf")
        super().__init__(lab, "nsd", ["nsd", "-d", "-c", conf], addr, port, "nsd.out")

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)


class Unbound(L.Server):
    """Unbound validating with TRUST_ANCHOR (a DNSKEY line) and sending
    every query for STUBS (origins) to NSD_ADDR:NSD_PORT."""

    def __init__(self, lab, d, addr, port, trust_anchor, stubs, nsd_addr, nsd_port):
        self.dir = d
        ta = os.path.join(d, "trust-anchor")
        with open(ta, "w") as f:
            f.write(trust_anchor + "\n")
        conf = os.path.join(d, "unbound.conf")
        with open(conf, "w") as f:
            f.write("""\
server:
    interface: {addr}@{port}
    port: {port}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    use-syslog: no
    logfile: "{d}/unbound.log"
    verbosity: 1
    val-log-level: 2
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "{ta}"
    qname-minimisation: no
    # RFC 6761 names are refused by default; ours are served by NSD
    local-zone: "test." nodefault
    # a changed zone is seen within a second or two
    cache-max-ttl: {ttl}
    cache-max-negative-ttl: {ttl}
    val-bogus-ttl: 1
    serve-expired: no
    prefetch: no
remote-control:
    control-enable: no
""".format(addr=addr, port=port, d=d, ta=ta, ttl=TTL))
            for origin in stubs:
                f.write("stub-zone:\n    name: \"%s\"\n    stub-addr: %s@%d\n"
                        % (origin, nsd_addr, nsd_port))
        _run(["unbound-checkconf", conf], "unbound-checkconf")
        super().__init__(lab, "unbound", ["unbound", "-d", "-c", conf], addr, port,
                         "unbound.out")


class Nginx(L.Server):
    """nginx-light on ADDR:443 serving one virtual host per mta-sts.DOMAIN:
    SITES is [(server_name, chain, key, policy text or None)]; None serves
    404 for the policy."""

    def __init__(self, lab, d, addr, sites):
        self.dir = d
        www = os.path.join(d, "www")
        servers = []
        for i, (name, chain, key, policy) in enumerate(sites):
            root = os.path.join(www, str(i))
            os.makedirs(os.path.join(root, ".well-known"), exist_ok=True)
            if policy is not None:
                with open(os.path.join(root, ".well-known", "mta-sts.txt"), "w") as f:
                    f.write(policy)
            servers.append("""\
    server {{
        listen {addr}:443 ssl;
        server_name {name};
        ssl_certificate {chain};
        ssl_certificate_key {key};
        root {root};
        location = /.well-known/mta-sts.txt {{ default_type text/plain; }}
    }}
""".format(addr=addr, name=name, chain=chain, key=key, root=root))
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""\
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}; proxy_temp_path {d};
    fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
{servers}}}
""".format(d=d, servers="".join(servers)))
        super().__init__(lab, "nginx", ["nginx", "-c", conf, "-p", d], addr, 443, "nginx.out")

    def requests(self):
        """(host, path, status) of each request so far, from the access log."""
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                text = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            m = re.search(r'"(?:GET|HEAD|POST) (\S+) [^"]*" (\d+)', line)
            if m:
                out.append((m.group(1), int(m.group(2))))
        return out


# ---------------------------------------------------------------- the lab

def policy(mode, mxs, max_age=86400):
    """An MTA-STS policy (RFC 8461 section 3.2), CRLF lines."""
    lines = ["version: STSv1", "mode: %s" % mode]
    lines += ["mx: %s" % m for m in mxs]
    lines.append("max_age: %d" % max_age)
    return "\r\n".join(lines) + "\r\n"


class MailLab:
    """Everything the mail domain tests talk to. Names (all under
    tlswatch.test; the MX hosts probed on port 25):

    DANE (TLSA at _25._tcp.NAME; the names resolve to the good Postfix):
      dane-ee      3 1 1 of the presented leaf: match
      dane-old     3 1 1 of a previous key (the rollover mistake): mismatch
      dane-ta      2 0 1 of the intermediate: match
      dane-none    no TLSA (the zone is signed): no records
      dane-pkixfail 3 1 1 of the bad Postfix's leaf (untrusted root, another
                   name): a match the Web PKI alone refuses
      mx.insecure  3 1 1 that would match, in an unsigned zone: insecure
      mx.bogus     3 1 1 that would match, its signature broken: bogus
    MX hosts:
      mx1 (two A records, both the good Postfix: good chain, 3 1 1 match),
      mx2 (the bad Postfix: a chain from the untrusted root, 3 1 1 of the
      good leaf: mismatch), mx3 (the good Postfix, 3 1 1 match).
    Mail domains:
      mail        MX 10 mx1, 20 mx2; MTA-STS enforce covering both (mx1 by
                  name, mx2 by *.tlswatch.test); TLS-RPT record
      partial     MX 10 mx1, 20 mx2; policy names mx1 only
      untrusted   MX 10 mx1; policy host's certificate from the untrusted root
      malformed   MX 10 mx1; a policy that is not one
      nosts       MX 10 mx1; no _mta-sts record, no TLS-RPT record
      change      MX 10 mx1, 20 mx2 at first (set_mx changes it)
      nomx        no MX; an A record (the good Postfix): the implicit MX
      mail.insecure MX 10 mx1, in the unsigned zone: DANE does not apply
    Also: big (eight TXT records of 200 bytes: truncated over UDP).
    """

    def __init__(self, lab, pki=None):
        _require_tools()
        self.lab = lab
        self.pki = pki or lab.pki()
        self.dir = os.path.join(lab.tmp, "dns")
        os.makedirs(self.dir, exist_ok=True)
        S._traversable(lab)
        os.chmod(self.dir, 0o755)
        self.certs = Certs(lab, self.pki)

        # Addresses first: the zones hold them.
        self.good_addrs = [free_address((25,)), free_address((25,))]
        self.bad_addr = free_address((25,))
        self.sts_addr = free_address((443,))
        self.nsd_addr, self.nsd_port = free_dns_endpoint()
        self.resolver = free_dns_endpoint()

        self.mail_names = ["mx1." + ZONE, "mx3." + ZONE, "dane-ee." + ZONE,
                           "dane-old." + ZONE, "dane-ta." + ZONE, "dane-none." + ZONE,
                           "mx.insecure." + ZONE, "mx.bogus." + ZONE, "nomx." + ZONE]
        self.good_cert, self.good_key, self.good_chain = self.certs.leaf(
            "mail", self.mail_names)
        self.old_key = self.certs.key("mail-previous")
        self.bad_chain = self.pki.path("untrusted-chain.pem")
        self.bad_key = self.pki.path("untrusted.key")
        self.sts_domains = ["mail", "partial", "malformed", "change"]
        sts_cert, sts_key, sts_chain = self.certs.leaf(
            "mta-sts", ["mta-sts.%s.%s" % (d, ZONE) for d in self.sts_domains])
        _, ukey, uchain = self.certs.leaf("mta-sts-untrusted",
                                          ["mta-sts.untrusted." + ZONE], issuer="untrusted-ca")

        # Servers that do not need the zones.
        self.postfix_good = S.postfix(lab, self.pki, name="postfix-good",
                                      host=self.good_addrs[0], port=25,
                                      chain=self.good_chain, key=self.good_key,
                                      myhostname="mx1." + ZONE,
                                      more_hosts=self.good_addrs[1:])
        self.postfix_bad = S.postfix(lab, self.pki, name="postfix-bad", host=self.bad_addr,
                                     port=25, chain=self.bad_chain, key=self.bad_key,
                                     myhostname="mx2." + ZONE)
        self.policies = {
            "mail": policy("enforce", ["mx1." + ZONE, "*." + ZONE]),
            "partial": policy("enforce", ["mx1." + ZONE]),
            "malformed": "this is not\r\nan MTA-STS policy\r\n",
            "change": policy("testing", ["*." + ZONE], max_age=3600),
            "untrusted": policy("enforce", ["*." + ZONE]),
        }
        sites = [("mta-sts.%s.%s" % (d, ZONE), sts_chain, sts_key, self.policies[d])
                 for d in self.sts_domains]
        sites.append(("mta-sts.untrusted." + ZONE, uchain, ukey, self.policies["untrusted"]))
        self.nginx = Nginx(lab, self._sub("nginx"), self.sts_addr, sites)

        # The zones, signed, then NSD and Unbound.
        zd = self._sub("zones")
        self.parent_signer = Signer(zd, ZONE)
        self.bogus_signer = Signer(zd, "bogus." + ZONE)
        self.zone_files = {ZONE: os.path.join(zd, ZONE + ".signed"),
                           "bogus." + ZONE: os.path.join(zd, "bogus." + ZONE + ".signed"),
                           "insecure." + ZONE: os.path.join(zd, "insecure." + ZONE)}
        self.mx = {
            "mail": [(10, "mx1"), (20, "mx2")],
            "partial": [(10, "mx1"), (20, "mx2")],
            "untrusted": [(10, "mx1")],
            "malformed": [(10, "mx1")],
            "nosts": [(10, "mx1")],
            "change": [(10, "mx1"), (20, "mx2")],
        }
        self.tlsa = {}
        self._write_children()
        self._write_parent()
        self.nsd = Nsd(lab, self._sub("nsd"), self.nsd_addr, self.nsd_port, self.zone_files)
        self.unbound = Unbound(lab, self._sub("unbound"), self.resolver[0], self.resolver[1],
                               self.parent_signer.dnskey(), sorted(self.zone_files),
                               self.nsd_addr, self.nsd_port)
        self.check_resolver()
        self.check_policies()

    # -- helpers
    def _sub(self, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        return d

    @property
    def resolver_address(self):
        return L.hostport(*self.resolver)

    def host(self, name):
        """A name of the lab's zone, fully qualified (no trailing dot)."""
        return "%s.%s" % (name, ZONE)

    def _write_children(self):
        good = self.good_cert
        ins = Zone("insecure." + ZONE, self.nsd_addr)
        ins.add("mx", "A", self.good_addrs[0])
        ins.add("_25._tcp.mx", "TLSA", tlsa(3, 1, 1, good))
        # an unsigned mail domain whose MX host is signed (RFC 7672 2.2)
        ins.add("mail", "MX", "10 mx1.%s." % ZONE)
        with open(self.zone_files["insecure." + ZONE], "w") as f:
            f.write(ins.text())
        bog = Zone("bogus." + ZONE, self.nsd_addr)
        bog.add("mx", "A", self.good_addrs[0])
        bog.add("_25._tcp.mx", "TLSA", tlsa(3, 1, 1, good))
        unsigned = os.path.join(self.bogus_signer.dir, "bogus." + ZONE)
        with open(unsigned, "w") as f:
            f.write(bog.text())
        self.bogus_signer.sign(unsigned, self.zone_files["bogus." + ZONE])
        break_signature(self.zone_files["bogus." + ZONE], "_25._tcp.mx.bogus.%s." % ZONE,
                        "TLSA")

    def _write_parent(self):
        z = Zone(ZONE, self.nsd_addr)
        good, ga = self.good_cert, self.good_addrs
        for a in ga:
            z.add("mx1", "A", a)
        z.add("mx2", "A", self.bad_addr)
        for n in ("mx3", "dane-ee", "dane-old", "dane-ta", "dane-none", "nomx"):
            z.add(n, "A", ga[0])
        z.add("dane-pkixfail", "A", self.bad_addr)
        self.tlsa = {
            "mx1": tlsa(3, 1, 1, good),
            "mx2": tlsa(3, 1, 1, good),
            "mx3": tlsa(3, 1, 1, good),
            "dane-ee": tlsa(3, 1, 1, good),
            "dane-old": tlsa(3, 1, 1, spki=key_spki_der(self.old_key)),
            "dane-ta": tlsa(2, 0, 1, self.pki.path("int.pem")),
            # the bad Postfix's leaf, from a root nobody trusts: DANE-EE
            # authenticates what the Web PKI refuses
            "dane-pkixfail": tlsa(3, 1, 1, self.pki.path("untrusted.pem")),
        }
        for n, rd in sorted(self.tlsa.items()):
            z.add("_25._tcp." + n, "TLSA", rd)
        for d, mxs in sorted(self.mx.items()):
            for pref, host in mxs:
                z.add(d, "MX", "%d %s.%s." % (pref, host, ZONE))
        for d in self.sts_domains + ["untrusted"]:
            z.add("_mta-sts." + d, "TXT", txt("v=STSv1; id=%s1;" % d))
            z.add("mta-sts." + d, "A", self.sts_addr)
        z.add("_smtp._tls.mail", "TXT", txt("v=TLSRPTv1; rua=mailto:tlsrpt@mail.%s" % ZONE))
        # An answer larger than a 1232-byte EDNS buffer: it comes over TCP.
        for i in range(8):
            z.add("big", "TXT", txt("%d" % i + "x" * 199))
        # Delegations: bogus with its DS (signed, but broken), insecure without.
        z.add("bogus", "NS", "ns.%s." % ZONE)
        z.add("bogus", "DS", self.bogus_signer.ds())
        z.add("insecure", "NS", "ns.%s." % ZONE)
        # A serial that grows on every rewrite, even within one second.
        self._serial = max(getattr(self, "_serial", 0) + 1, z.serial)
        z.serial = self._serial
        unsigned = os.path.join(self.parent_signer.dir, ZONE)
        with open(unsigned, "w") as f:
            f.write(z.text())
        signed = self.zone_files[ZONE]
        self.parent_signer.sign(unsigned, signed + ".new")
        os.rename(signed + ".new", signed)

    # -- changes while running
    def set_mx(self, domain, mxs, timeout=20.0):
        """Give DOMAIN the MX set MXS ([(preference, host)], hosts under
        tlswatch.test) and wait until Unbound answers with it."""
        self.mx[domain] = list(mxs)
        self._write_parent()
        self.nsd.reload()
        want = sorted("%d %s.%s." % (p, h, ZONE) for p, h in mxs)
        wait_answer(self.nsd_addr, self.nsd_port, "%s.%s" % (domain, ZONE), "MX",
                    lambda a: sorted(a.rdata("MX")) == want, timeout, "NSD after reload")
        wait_answer(self.resolver[0], self.resolver[1], "%s.%s" % (domain, ZONE), "MX",
                    lambda a: a.secure and sorted(a.rdata("MX")) == want, timeout,
                    "Unbound after the MX change")

    # -- the lab checks itself
    def check_resolver(self, timeout=20.0):
        """Unbound must give what each case is for: AD on the signed zone's
        answers, none on the insecure zone's, SERVFAIL (and data with CD)
        for the bogus one. A lab that does not is a harness error."""
        ra, rp = self.resolver
        wait_answer(ra, rp, "_25._tcp.dane-ee." + ZONE, "TLSA",
                    lambda a: a.rcode == "NOERROR" and a.secure and a.rdata("TLSA"),
                    timeout, "signed TLSA")
        wait_answer(ra, rp, "_25._tcp.dane-none." + ZONE, "TLSA",
                    lambda a: a.rcode == "NXDOMAIN" and a.secure, timeout,
                    "authenticated denial")
        wait_answer(ra, rp, "_25._tcp.mx.insecure." + ZONE, "TLSA",
                    lambda a: a.rcode == "NOERROR" and not a.secure and a.rdata("TLSA"),
                    timeout, "insecure TLSA")
        wait_answer(ra, rp, "_25._tcp.mx.bogus." + ZONE, "TLSA",
                    lambda a: a.rcode == "SERVFAIL", timeout, "bogus TLSA")
        a = drill(ra, rp, "_25._tcp.mx.bogus." + ZONE, "TLSA", cd=True)
        if a is None or a.rcode != "NOERROR" or not a.rdata("TLSA"):
            raise L.HardError("Unbound with CD gives no bogus TLSA data: %r" % a)
        wait_answer(ra, rp, "mx.bogus." + ZONE, "A",
                    lambda a: a.secure and a.rdata("A"), timeout, "bogus zone's A")
        wait_answer(ra, rp, "mail." + ZONE, "MX",
                    lambda a: a.secure and len(a.rdata("MX")) == 2, timeout, "MX")

    def fetch_policy(self, domain, timeout=5.0):
        """GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt from nginx,
        verified against the test root for that name as RFC 8461 wants.
        (status, content type, body); ssl.SSLError when it does not verify."""
        name = "mta-sts.%s.%s" % (domain, ZONE)
        ctx = ssl.create_default_context(cafile=self.pki.path("ca.pem"))
        with socket.create_connection((self.sts_addr, 443), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as tls:
                tls.sendall(("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: %s\r\n"
                             "Connection: close\r\n\r\n" % name).encode())
                data = b""
                while len(data) < 1 << 20:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        status = int(lines[0].split()[1])
        ctype = ""
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-type":
                ctype = v.strip()
        return status, ctype, body.decode(errors="replace")

    def check_policies(self):
        """nginx serves each policy as text/plain over a chain that verifies,
        except the untrusted host's, whose chain does not."""
        for d in self.sts_domains:
            status, ctype, body = self.fetch_policy(d)
            if status != 200 or not ctype.startswith("text/plain") or body != self.policies[d]:
                raise L.HardError("nginx serves mta-sts.%s.%s badly: %d %r %r"
                                  % (d, ZONE, status, ctype, body))
        try:
            self.fetch_policy("untrusted")
        except ssl.SSLCertVerificationError:
            pass
        else:
            raise L.HardError("the untrusted policy host's chain verified")
