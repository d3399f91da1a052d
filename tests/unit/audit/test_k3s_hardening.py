"""K3s's CIS hardening guide as audit items: the guide's own config.yaml (k3s-io/docs hardening-guide.md) passes,
a plain install fails naming what is missing, drop-ins merge as K3s merges them, and the probe never brings a
token back."""

from __future__ import annotations

import subprocess

from vpskit.builtin_roles.k3s import audit as cis
from vpskit.audit.model import Probes
from tests.unit.audit.workloads import DEFAULTS, sysctl_read

GUIDE = """protect-kernel-defaults: true
secrets-encryption: true
kube-apiserver-arg:
  - "enable-admission-plugins=NodeRestriction,EventRateLimit"
  - 'admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml'
  - 'audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log'
  - 'audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml'
  - 'audit-log-maxage=30'
  - 'audit-log-maxbackup=10'
  - 'audit-log-maxsize=100'
  - 'service-account-extend-token-expiration=false'
kube-controller-manager-arg:
  - 'terminated-pod-gc-threshold=10'
kubelet-arg:
  - 'streaming-connection-idle-timeout=5m'
  - "tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
"""
PLAIN = "--- # /etc/rancher/k3s/config.yaml\nnode-name: web1\nsecrets-encryption: true\nwrite-kubeconfig-mode: '0600'\n"


def judged(config: str, kernel: str = "0\n1\n10\n1\n") -> dict:
    probes = Probes({"cluster_node": (0, "server\n"), "k3s_config": (0, config), "k3s_kernel": sysctl_read(cis.KERNEL, kernel)})
    return {i.id: i.judge(probes, DEFAULTS) for i in cis.hardening_items(DEFAULTS)}


def test_the_guides_configuration_passes_every_item():
    found = judged(f"--- # /etc/rancher/k3s/config.yaml\n{GUIDE}")
    assert {k: f.status for k, f in found.items()} == {k: "pass" for k in found}, found


def test_a_plain_install_fails_each_part_of_the_guide_naming_it():
    found = judged(PLAIN, kernel="0\n0\n0\n0\n")
    assert found["hard.k3s-secrets-encryption"].status == "pass"
    assert "vm.overcommit_memory=0 (want 1)" in found["hard.k3s-kernel-defaults"].evidence
    assert "protect-kernel-defaults not true" in found["hard.k3s-kernel-defaults"].evidence
    assert "audit-log-path, audit-policy-file" in found["hard.k3s-audit-log"].evidence
    assert "no admission-control-config-file" in found["hard.k3s-admission"].evidence
    assert "kubelet-arg streaming-connection-idle-timeout" in found["hard.k3s-component-args"].evidence
    assert all(f.status == "fail" for k, f in found.items() if k != "hard.k3s-secrets-encryption")


def test_drop_ins_replace_a_key_and_key_plus_appends():
    merged = cis.effective_config("--- # a\nkubelet-arg: [a=1]\nprotect-kernel-defaults: false\n"
                                  "--- # b\nkubelet-arg+: [b=2]\nprotect-kernel-defaults: true\n"
                                  "--- # c\nkube-apiserver-arg: [x=1]\n--- # d\nkube-apiserver-arg: [y=2]\n")
    assert merged == {"kubelet-arg": ["a=1", "b=2"], "protect-kernel-defaults": True, "kube-apiserver-arg": ["y=2"]}


def test_agents_and_hosts_without_k3s_are_not_asked():
    probes = Probes({"cluster_node": (0, "agent\n"), "k3s_config": (0, ""), "k3s_kernel": sysctl_read(cis.KERNEL, "")})
    assert {i.judge(probes, DEFAULTS).status for i in cis.hardening_items(DEFAULTS)} == {"n/a"}


def test_the_probe_reads_the_drop_ins_in_order_and_leaves_credentials_on_the_host(tmp_path):
    folder = tmp_path / "k3s"
    (folder / "config.yaml.d").mkdir(parents=True)
    (folder / "config.yaml").write_text("token: K10server-secret::server:abc\n" + GUIDE)
    (folder / "config.yaml.d" / "20-b.yaml").write_text('"agent-token": agent-secret\nkubelet-arg+: [b=2]\n')
    (folder / "config.yaml.d" / "10-a.yaml").write_text("datastore-endpoint: postgres://u:pw@db/k3s\n")
    command = cis.PROBES["k3s_config"].replace(cis.CONFIG, str(folder / "config.yaml"))
    output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30).stdout
    assert "server-secret" not in output and "agent-secret" not in output and "pw@" not in output
    assert output.index("10-a.yaml") < output.index("20-b.yaml")
    assert judged(output)["hard.k3s-audit-log"].status == "pass"
    assert cis.effective_config(output)["kubelet-arg"][-1] == "b=2"
