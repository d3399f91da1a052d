"""The flags k3s server and k3s agent accept, as a table, and the fixed values some of them take."""

# The keys k3s accepts, in config.yaml (without `--`) and as --flags. Written from K3s's documentation:
# docs.k3s.io "k3s server" and "k3s agent" (k3s-io/docs docs/cli/server.md and docs/cli/agent.md, their
# option tables and the "K3s Server CLI Help" / "K3s Agent CLI Help" listings).
# scope: both = server and agent; server = k3s server only; agent = k3s agent only.
# kind: bool | int | str | list (a list also takes one string, as k3s's string-slice flags do).
# check: an extra rule the fake enforces on the value (see checks.check_value).
FLAG_TABLE = """
# key                                scope   kind  check
config                               both    str
debug                                both    bool
v                                    both    int
vmodule                              both    str
log                                  both    str
alsologtostderr                      both    bool
token                                both    str
token-file                           both    str
server                               both    str   url
data-dir                             both    str
node-name                            both    str
with-node-id                         both    bool
node-label                           both    list  labels
node-taint                           both    list  taints
image-credential-provider-bin-dir    both    str
image-credential-provider-config     both    str
selinux                              both    bool
lb-server-port                       both    int   port
protect-kernel-defaults              both    bool
container-runtime-endpoint           both    str
default-runtime                      both    str
image-service-endpoint               both    str
pause-image                          both    str
snapshotter                          both    str
private-registry                     both    str
disable-default-registry-endpoint    both    bool
nonroot-devices                      both    bool
node-ip                              both    list  ips
node-external-ip                     both    list  ips
node-internal-dns                    both    list
node-external-dns                    both    list
bind-address                         both    str   ip
resolv-conf                          both    str
flannel-iface                        both    str
flannel-conf                         both    str
flannel-cni-conf                     both    str
kubelet-arg                          both    list
kube-proxy-arg                       both    list
enable-pprof                         both    bool
rootless                             both    bool
prefer-bundled-bin                   both    bool
docker                               both    bool
airgap-extra-registry                both    list
vpn-auth                             both    str
vpn-auth-file                        both    str
disable-apiserver-lb                 agent   bool
https-listen-port                    server  int   port
advertise-address                    server  str   ip
advertise-port                       server  int   port
tls-san                              server  list
tls-san-security                     server  bool
cluster-cidr                         server  list  cidrs
service-cidr                         server  list  cidrs
service-node-port-range              server  str   portrange
cluster-dns                          server  list  ips
cluster-domain                       server  str
flannel-backend                      server  str   flannel
flannel-ipv6-masq                    server  bool
flannel-external-ip                  server  bool
egress-selector-mode                 server  str   egress
servicelb-namespace                  server  str
write-kubeconfig                     server  str
write-kubeconfig-mode                server  str   mode
write-kubeconfig-group               server  str
helm-job-image                       server  str
agent-token                          server  str
agent-token-file                     server  str
cluster-init                         server  bool
cluster-reset                        server  bool
cluster-reset-restore-path           server  str
kube-apiserver-arg                   server  list
etcd-arg                             server  list
kube-controller-manager-arg          server  list
kube-scheduler-arg                   server  list
kube-cloud-controller-manager-arg    server  list
datastore-endpoint                   server  str
datastore-cafile                     server  str
datastore-certfile                   server  str
datastore-keyfile                    server  str
etcd-expose-metrics                  server  bool
etcd-disable-snapshots               server  bool
etcd-snapshot-name                   server  str
etcd-snapshot-schedule-cron          server  str   cron
etcd-snapshot-retention              server  int
etcd-snapshot-dir                    server  str
etcd-snapshot-compress               server  bool
etcd-s3                              server  bool
etcd-s3-endpoint                     server  str
etcd-s3-endpoint-ca                  server  str
etcd-s3-skip-ssl-verify              server  bool
etcd-s3-access-key                   server  str
etcd-s3-secret-key                   server  str
etcd-s3-bucket                       server  str
etcd-s3-region                       server  str
etcd-s3-folder                       server  str
etcd-s3-proxy                        server  str
etcd-s3-config-secret                server  str
etcd-s3-insecure                     server  bool
etcd-s3-timeout                      server  str
default-local-storage-path           server  str
disable                              server  list  components
disable-scheduler                    server  bool
disable-apiserver                    server  bool
disable-controller-manager           server  bool
disable-etcd                         server  bool
disable-cloud-controller             server  bool
disable-kube-proxy                   server  bool
disable-network-policy               server  bool
disable-helm-controller              server  bool
embedded-registry                    server  bool
supervisor-metrics                   server  bool
system-default-registry              server  str
secrets-encryption                   server  bool
secrets-encryption-provider          server  str   provider
disable-agent                        server  bool
"""
# flags k3s removed, and what replaced them (k3s refuses them)
REMOVED_FLAGS = {"no-deploy": "disable", "no-flannel": "flannel-backend: none", "cluster-secret": "token"}
SHORT_FLAGS = {"t": "token", "s": "server", "i": "node-ip", "d": "data-dir", "o": "write-kubeconfig",
               "c": "config", "l": "log", "v": "v"}
ENUMS = {
    "flannel": {"none", "vxlan", "host-gw", "wireguard-native"},
    "components": {"coredns", "servicelb", "traefik", "local-storage", "metrics-server", "runtimes"},
    "egress": {"agent", "cluster", "pod", "disabled"},
    "provider": {"aescbc", "secretbox"},
}
TAINT_EFFECTS = {"NoSchedule", "PreferNoSchedule", "NoExecute"}
# values every server of a cluster must share ("Critical Configuration Values" in docs.k3s.io "k3s server")
CRITICAL_DEFAULTS = {
    "cluster-cidr": "10.42.0.0/16", "service-cidr": "10.43.0.0/16", "cluster-dns": "10.43.0.10",
    "cluster-domain": "cluster.local", "flannel-backend": "vxlan", "egress-selector-mode": "agent",
    "secrets-encryption": False, "secrets-encryption-provider": "aescbc", "embedded-registry": False,
    "disable-cloud-controller": False, "disable-helm-controller": False, "disable-network-policy": False,
    "flannel-external-ip": False, "flannel-ipv6-masq": False,
}


def flag_specs() -> dict:
    specs = {}
    for line in FLAG_TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        key, scope, kind, *check = line.split()
        specs[key] = {"scope": scope, "kind": kind, "check": check[0] if check else None}
    return specs
