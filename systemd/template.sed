# template.sed - tlswatchd@.service from tlswatchd.service.in: the same
# unit and sandbox, one instance per shard. The instance name is the shard
# escaped the systemd way (systemd-escape 1/3 gives 1-3): tlswatchd@1-3
# runs --shard 1/3 (%I is the name unescaped). Every instance reads the one
# configuration; what differs per instance is below.
s|^Description=.*|& (shard %I)|
# -t checks the shard too; the state of each instance is its own.
s|^\(ExecStartPre=.*\)$|\1 --shard %I|
s|^\(ExecStart=.*\)$|\1 --shard %I -s %S/tlswatch-shard/%i|
/^ExecStart=/a\
# Instances on one host each need their own listen address: put\
# TLSWATCH_LISTEN=ADDR[,ADDR...] in instances/INSTANCE.env (e.g.\
# instances/1-3.env). Without the file the configuration's listen is used,\
# which is right for one instance per host.\
Environment=TLSWATCH_LISTEN=\
EnvironmentFile=-@sysconfdir@/tlswatch/instances/%i.env
# Not below /var/lib/tlswatch, which tlswatchd.service owns (under
# DynamicUser= a symlink into /var/lib/private).
s|^StateDirectory=tlswatch$|StateDirectory=tlswatch-shard/%i|
