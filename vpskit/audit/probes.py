"""The read-only shell probes audit items share, by name (all of a host's run in one round trip)."""

from ..facts.base import q
from .cluster.objects import BATCH_KINDS, MONITOR_KINDS
from ..facts.reboot import RebootFact

KUBECTL = "k3s kubectl"

PROBES = {
    "resources": "nproc; cat /proc/loadavg; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo; df -P /",
    "sshd": "sshd -T 2>/dev/null",
    "ufw": "ufw status verbose",
    "listening": "ss -H -tlnu",
    "fail2ban": "fail2ban-client status sshd",
    "node_exporter": "ss -H -tln 'sport = :9100' | grep -q . || systemctl is-active --quiet prometheus-node-exporter",
    "k3s_version": "command -v k3s >/dev/null && k3s --version",
    # by its unit (vpskit's and K3s's own installer use these names): a server also runs an agent
    "k3s_role": "if [ -f /etc/systemd/system/k3s.service ]; then echo server; "
                "elif [ -f /etc/systemd/system/k3s-agent.service ]; then echo agent; else exit 1; fi",
    "nodes": f"{KUBECTL} get nodes -o json",
    "etcd": "test -d /var/lib/rancher/k3s/server/db/etcd && "
            "find /var/lib/rancher/k3s/server/db/snapshots -maxdepth 1 -type f -printf '%T@ %s %f\\n' 2>/dev/null",
    "kubeconfig": "stat -c '%a %U' /etc/rancher/k3s/k3s.yaml",
    "cert_manager": f"{KUBECTL} get deployments -n cert-manager -o json",
    "issuers": f"{KUBECTL} get clusterissuers -o json",
    "certificates": f"{KUBECTL} get certificates -A -o json",
    # the workloads and every object the application items read, in one call; the monitors are CRDs (a call
    # of their own, which fails alone where prometheus-operator is not installed)
    "workloads": f"{KUBECTL} get {','.join(BATCH_KINDS)} -A -o json",
    "monitors": f"{KUBECTL} get {','.join(MONITOR_KINDS)} -A -o json",
    "alert_rules": f"{KUBECTL} get prometheusrules -A -o json",
    # what the monitoring and certs roles wrote to the auto-deploy folder: Alertmanager's root route goes to
    # the inventory's receivers (not the null one), and Traefik's HelmChartConfig carries the redirect
    "receivers": "grep -l -E '^ *receiver: vpskit *$' /var/lib/rancher/k3s/server/manifests/vpskit-monitoring.yaml",
    "redirect": "grep -l -E 'redirectScheme' /var/lib/rancher/k3s/server/manifests/vpskit-certs.yaml",
    "unattended": "apt-config dump",
    "sysctl": "sysctl -n net.ipv4.conf.all.rp_filter net.ipv4.tcp_syncookies net.ipv4.conf.all.accept_redirects "
              "net.ipv4.conf.all.send_redirects net.ipv4.conf.all.accept_source_route",
    "core_dumps": "cat /etc/security/limits.d/*.conf 2>/dev/null; sysctl -n fs.suid_dumpable",
    "backup_cron": "cat /etc/cron.d/vpskit-backup",
    "addresses": "hostname -I",
    # what `invoke reboot` reads (the same fact)
    "reboot": RebootFact().command(),
}


def textfile_probe(folder: str) -> str:
    """The backup metrics node-exporter's textfile collector would read."""
    return f"cat {q(folder)}/*.prom 2>/dev/null"


def fqdn_probe(name: str) -> str:
    """The addresses a DNS name resolves to, as the host's resolver sees them."""
    return f"getent ahosts {q(name)} | cut -d' ' -f1 | sort -u"


def shared(*names: str) -> dict[str, str]:
    """The shared probes of these names, ready for an item's `probes`."""
    return {name: PROBES[name] for name in names}
