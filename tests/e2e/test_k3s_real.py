"""K3s as real K3s behaves, on four lab hosts with the fake K3s changed to do what K3s does (issue 19).

Three servers (the first with a node name K3s lowercases) and an agent: the readiness wait finds the name
K3s gives, the agent holds the agent token only; a rebuilt agent and a rebuilt joining server (their K3s
and node password gone) rejoin with `invoke k3s.replace`; and `invoke k3s.uninstall` stops only K3s's own
shims (a decoy shim of another containerd survives), unmounts the pods' mounts before it removes anything
and leaves each host's state as it was before the install.
"""

from __future__ import annotations

import json
import posixpath

import pytest

from tests.e2e.conftest import LAB_NAME
from tests.e2e.helpers import STATE_DUMP, invoke, sh
from tests.e2e.k3s_mirror import K3sMirror
from vpskit.facts.leftovers import FOLDERS_RECORD

SERVER, AGENT, SERVER2, SERVER3 = (f"{LAB_NAME}{i}" for i in (11, 12, 13, 14))
HOSTS = (SERVER, AGENT, SERVER2, SERVER3)
V1 = "v1.36.4+k3s1"
# what K3s leaves outside STATE_DUMP's folders: processes, links, namespaces, mounts, chains, its folders
RUNTIME_DUMP = (
    "ps -e -o args= | grep -e containerd-shim -e 'sleep 2147483647' | grep -v grep | sort; "
    "ip -o link show | awk -F': ' '{print $2}' | sort; ip netns list | sort; "
    "awk '{print $2}' /proc/self/mounts | grep -e /run/k3s -e /var/lib/kubelet -e /run/netns | sort; "
    "iptables-save 2>/dev/null | grep -e '^-A' -e '^:[^ ]* -' | sed 's/ \\[[0-9:]*\\]$//' | sort; "
    "ls -d /var/lib/rancher /var/lib/kubelet /var/lib/cni /run/k3s /run/flannel /etc/rancher 2>/dev/null"
)
DECOY = ("mkdir -p /opt/decoy/bin && printf '#!/bin/sh\\nsleep 2147483647 &\\nwait\\n' "
         "> /opt/decoy/bin/containerd-shim-runc-v2 && chmod 755 /opt/decoy/bin/containerd-shim-runc-v2 && "
         "(setsid /opt/decoy/bin/containerd-shim-runc-v2 -namespace moby </dev/null >/dev/null 2>&1 &)")


def reached(dump: str) -> str:
    """A state dump without network-online.target and the wait-online service that reaches it: K3s's unit wants
    the target (as every network service's does), and once reached it stays active until the next boot; it is
    the host's, not something K3s left. Nor vpskit's record of the folders it made temp files in (the run-start
    sweep's list, which prunes gone folders itself) and the folder that holds it: vpskit's bookkeeping, kept
    after K3s goes (what K3s's install kept there, /var/lib/vpskit/k3s, is still compared)."""
    return "\n".join(line for line in dump.splitlines()
                     if line != "network-online.target" and not line.endswith("-wait-online.service")
                     and not line.startswith((f"{FOLDERS_RECORD} ", f"{posixpath.dirname(FOLDERS_RECORD)} ")))


@pytest.fixture(scope="module")
def hosts(lab):
    lab.up(14, "bookworm", first=11)
    apt = "timeout 300 apt-get -o Acquire::Retries=3"
    for name in HOSTS:
        done = sh(lab, name, f"{apt} update -qq && DEBIAN_FRONTEND=noninteractive {apt} install -y -qq "
                             "python3 python3-yaml iptables procps curl >/dev/null")
        assert done.ok, f"{name}: {done.stderr[-1000:]}"
    with K3sMirror(lab.gateway, versions=[V1]) as served:
        yield served


@pytest.fixture(scope="module")
def inventory(lab, hosts, tmp_path_factory):
    folder = tmp_path_factory.mktemp("k3s-real")
    state = lab.load_state()
    path = folder / "hosts.yml"
    path.write_text("\n".join([
        "all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
        f"    vpskit_known_hosts: {lab.known_hosts_path}", f"    k3s_release_url: {hosts.base_url}",
        f"    k3s_version: {V1}", "    k3s_ready_timeout: 90", f"    k3s_kubeconfig_path: {folder / 'kubeconfig'}",
        "  children:",
        "    k3s_servers:", "      hosts:", f"        {SERVER}:", f"          vpskit_host: {state.hosts[SERVER].address}",
        "          k3s_node_name: Srv-A",
        *(line for name in (SERVER2, SERVER3)
          for line in (f"        {name}:", f"          vpskit_host: {state.hosts[name].address}")),
        "    k3s_agents:", "      hosts:", f"        {AGENT}:", f"          vpskit_host: {state.hosts[AGENT].address}",
    ]) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def before(lab, hosts):
    for name in HOSTS:
        # test_backups shares host 11 and leaves its stand-in K3s datastore in /var/lib/rancher, which K3s's
        # uninstall rightly removes: the host is taken as it is without it
        assert sh(lab, name, "test -e /usr/local/bin/k3s || rm -rf /var/lib/rancher").ok
        assert sh(lab, name, DECOY).ok
    return {n: (sh(lab, n, STATE_DUMP).stdout, sh(lab, n, RUNTIME_DUMP).stdout) for n in HOSTS}


@pytest.fixture(scope="module")
def installed(lab, inventory, before):
    run = invoke("k3s", "-i", inventory, "--quiet")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


def test_the_wait_finds_the_lowercased_name_and_the_agent_holds_the_agent_token_only(lab, installed):
    nodes = json.loads(sh(lab, SERVER, "k3s kubectl get nodes -o json").stdout)["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(["srv-a", AGENT, SERVER2, SERVER3])
    server_token = sh(lab, SERVER, "cat /var/lib/rancher/k3s/server/token").stdout.strip()
    agent_config = sh(lab, AGENT, "cat /etc/rancher/k3s/config.yaml").stdout
    assert "::node:" in agent_config and server_token.rpartition(":")[2] not in agent_config


@pytest.mark.parametrize("rebuilt", [AGENT, SERVER2])
def test_a_rebuilt_host_rejoins_with_k3s_replace(lab, inventory, installed, rebuilt):
    wiped = invoke("k3s.uninstall", "-i", inventory, "--limit", rebuilt, "--yes")  # as a rebuilt host: no K3s,
    assert wiped.returncode == 0, wiped.stdout[-3000:]                           # a new node password
    assert not sh(lab, rebuilt, "test -e /etc/rancher/node/password").ok
    replaced = invoke("k3s.replace", rebuilt, "-i", inventory, "--yes")
    assert replaced.returncode == 0, replaced.stdout[-4000:] + replaced.stderr[-2000:]
    assert f"forget node {rebuilt}" in replaced.stdout
    nodes = json.loads(sh(lab, SERVER, "k3s kubectl get nodes -o json").stdout)["items"]
    node = next(n for n in nodes if n["metadata"]["name"] == rebuilt)
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
    again = invoke("k3s", "-i", inventory, "--quiet")
    assert again.returncode == 0 and "changed:" not in again.stdout, again.stdout[-3000:]


def test_uninstall_leaves_the_hosts_as_they_were_and_other_containers_running(lab, inventory, before, installed):
    for name in HOSTS:  # the fake's pods are there to clean
        runtime = sh(lab, name, RUNTIME_DUMP).stdout
        assert "/var/lib/rancher/k3s/data/fake/bin/containerd-shim-runc-v2" in runtime, runtime
        assert "cni-" in runtime and "KUBE-SERVICES" in runtime and "/var/lib/kubelet/pods/" in runtime, runtime
    removed = invoke("k3s.uninstall", "-i", inventory, "--yes")
    assert removed.returncode == 0, removed.stdout[-4000:] + removed.stderr[-2000:]
    for name in HOSTS:
        state, runtime = before[name]
        assert sh(lab, name, RUNTIME_DUMP).stdout == runtime  # the decoy shim and its child still run
        assert "/opt/decoy/bin/containerd-shim-runc-v2" in runtime
        assert reached(sh(lab, name, STATE_DUMP).stdout) == reached(state)
