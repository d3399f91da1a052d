"""K3s on lab hosts, with the fake K3s (tests/fakes/k3s) served by a release mirror on the lab bridge.

3 servers (embedded etcd) + 1 agent hardened and clustered by `invoke bootstrap`; a single air-gapped
server by `invoke k3s`. What the fake cannot show (real containers, real TLS) is listed in the README.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.e2e.conftest import ADMIN, H1, LAB_NAME
from tests.e2e.helpers import STATE_DUMP, invoke, sh
from tests.e2e.k3s_mirror import K3sMirror, write_airgap_dir
from tests.fakes.k3s.examples import WORKLOADS, blocking
from tests.fakes.k3s.events import node_sequences, overlapping_downtimes, overlapping_drains
from vpskit.errors import LoginRefusedError

SERVERS = [f"{LAB_NAME}{i}" for i in (6, 7, 8)]
AGENT = f"{LAB_NAME}9"
SINGLE = f"{LAB_NAME}10"
V1, V2, BAD = "v1.36.4+k3s1", "v1.36.5+k3s1", "v1.36.6+k3s1"
OTHER_CONTEXTS = {"apiVersion": "v1", "kind": "Config", "current-context": "work",
                  "clusters": [{"name": "work", "cluster": {"server": "https://work.example:6443"}},
                               {"name": "home", "cluster": {"server": "https://home.example:6443"}}],
                  "users": [{"name": "work", "user": {"token": "w"}}, {"name": "home", "user": {"token": "h"}}],
                  "contexts": [{"name": "work", "context": {"cluster": "work", "user": "work"}},
                               {"name": "home", "context": {"cluster": "home", "user": "home"}}]}


@pytest.fixture(scope="module")
def mirror(lab, fresh):
    """Hosts 6-10, with python3 for the fake K3s (a test prerequisite, not something vpskit installs)."""
    lab.up(10, "bookworm")
    # one host after another: apt-cacher-ng can stall when several hosts refresh the same lists at once
    apt = "timeout 300 apt-get -o Acquire::Retries=3 -o Acquire::http::Timeout=30"
    install = f"{apt} update -qq && DEBIAN_FRONTEND=noninteractive {apt} install -y -qq python3 python3-yaml >/dev/null"
    for name in [*SERVERS, AGENT, SINGLE]:
        try:
            done = sh(lab, name, install)
        except LoginRefusedError:  # hardened by this module's bootstrap, for a later module: python3 is there
            done = sh(lab, name, "command -v python3", ADMIN)
        assert done.ok, f"{name}: {done.stderr[-1000:]}"
    with K3sMirror(lab.gateway, versions=[V1, V2, BAD]) as served:
        served.corrupt(BAD)
        yield served


def inventory(lab, folder, mirror, groups: dict, **extra) -> str:
    state = lab.load_state()
    lines = ["all:", "  vars:", "    vpskit_user: root", f"    vpskit_ssh_key: {lab.key_path}",
             f"    vpskit_known_hosts: {lab.known_hosts_path}", f"    k3s_release_url: {mirror.base_url}",
             f"    k3s_version: {V1}", "    k3s_ready_timeout: 120",
             *(f"    {k}: {json.dumps(v)}" for k, v in extra.items()), "  children:"]
    for group, names in groups.items():
        lines += [f"    {group}:", "      hosts:"]
        lines += [f"        {n}:\n          vpskit_host: {state.hosts[n].address}" for n in names]
    path = folder / "hosts.yml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def cluster(lab, mirror, tmp_path_factory):
    folder = tmp_path_factory.mktemp("k3s-cluster")
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(OTHER_CONTEXTS))
    path = inventory(lab, folder, mirror, {"k3s_servers": SERVERS, "k3s_agents": [AGENT]},
                     k3s_kubeconfig_path=str(kubeconfig), k3s_context_name="lab")
    return {"inventory": path, "kubeconfig": kubeconfig, "folder": folder}


def nodes(lab, server: str, user: str = ADMIN) -> dict:
    output = sh(lab, server, "k3s kubectl get nodes -o json", user).stdout
    return {n["metadata"]["name"]: n for n in json.loads(output)["items"]}


def ready(node: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


def test_check_mode_on_fresh_hosts_shows_every_step_and_changes_nothing(lab, cluster, tmp_path):
    before = sh(lab, SERVERS[0], STATE_DUMP).stdout
    report = tmp_path / "check.json"
    checked = invoke("check", "-i", cluster["inventory"], "--quiet", "--json", str(report))
    assert checked.returncode == 2, checked.stdout[-3000:] + checked.stderr
    for name in [*SERVERS, AGENT]:
        assert f"{name} | k3s | k3s-binary k3s {V1} | would change: install k3s {V1}" in checked.stdout
    token = json.loads(report.read_text())["exports"][SERVERS[0]]["k3s_token"]
    assert token == {"value": "********", "predicted": True, "play": "k3s first server"}
    assert "Traceback" not in checked.stderr and "exception" not in checked.stderr.lower(), checked.stderr[-2000:]
    assert sh(lab, SERVERS[0], STATE_DUMP).stdout == before


@pytest.fixture(scope="module")
def converged(lab, cluster):
    run = invoke("bootstrap", "-i", cluster["inventory"], "--quiet")
    print(run.stdout[-4000:])
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    return run


def test_three_servers_and_an_agent_form_one_cluster(lab, converged):
    found = nodes(lab, SERVERS[0])
    assert sorted(found) == sorted([*SERVERS, AGENT]) and all(ready(n) for n in found.values())
    assert all(n["status"]["nodeInfo"]["kubeletVersion"] == V1 for n in found.values())
    token = sh(lab, SERVERS[0], "cat /var/lib/rancher/k3s/server/token", ADMIN).stdout.strip()
    assert token and token not in converged.stdout and token not in converged.stderr
    config = sh(lab, SERVERS[1], "cat /etc/rancher/k3s/config.yaml", ADMIN).stdout
    assert f"server: https://{lab.load_state().hosts[SERVERS[0]].address}:6443" in config
    assert sh(lab, SERVERS[0], "stat -c %a /etc/rancher/k3s/config.yaml", ADMIN).stdout.strip() == "600"


def test_the_kubeconfig_is_merged_beside_other_contexts(lab, cluster, converged):
    data = yaml.safe_load(cluster["kubeconfig"].read_text())
    assert [c["name"] for c in data["contexts"]] == ["work", "home", "lab"] and data["current-context"] == "work"
    lab_cluster = next(c for c in data["clusters"] if c["name"] == "lab")["cluster"]
    assert lab_cluster["server"] == f"https://{lab.load_state().hosts[SERVERS[0]].address}:6443"
    assert oct(cluster["kubeconfig"].stat().st_mode & 0o777) == "0o600"


def test_a_second_run_changes_nothing_in_one_command_per_host(lab, cluster, converged, tmp_path):
    report = tmp_path / "again.json"
    again = invoke("bootstrap", "-i", cluster["inventory"], "--quiet", "--json", str(report))
    assert again.returncode == 0, again.stdout[-3000:]
    hosts = json.loads(report.read_text())["hosts"]
    for name in [*SERVERS, AGENT]:
        assert hosts[name]["summary"]["changed"] == 0, [s for s in hosts[name]["steps"] if s["status"] == "changed"]
        # the K3s plays' facts rode in the hardening play's round trip (vpskit/foresight.py)
        assert (hosts[name]["connections"], hosts[name]["commands"], hosts[name]["fact_batches"]) == (1, 1, 1), \
            (hosts[name]["commands"], hosts[name]["fact_batches"])


def test_the_api_answers_members_only(lab, converged):
    api = lab.load_state().hosts[SERVERS[0]].address
    probe = f"timeout 3 bash -c '</dev/tcp/{api}/6443' && echo open || echo closed"
    assert sh(lab, AGENT, probe, ADMIN).stdout.strip() == "open"
    assert sh(lab, H1, probe).stdout.strip() == "closed"  # a lab host outside the cluster
    rules = sh(lab, SERVERS[0], "ufw status", ADMIN).stdout
    assert "2379:2380/tcp" in rules and "8472/udp" in rules and "Anywhere" not in rules.split("6443")[1].splitlines()[0]


def test_audit_reads_the_cluster_and_a_readable_kubeconfig_is_repaired(lab, cluster, converged, tmp_path):
    server = SERVERS[0]
    broken = invoke("lab.break", server, "--scenario", "kubeconfig-readable", "-i", cluster["inventory"])
    assert broken.returncode == 0, broken.stdout + broken.stderr
    report = tmp_path / "audit.json"
    invoke("audit", "-i", cluster["inventory"], "--json", str(report))
    hosts = json.loads(report.read_text())["hosts"]
    found = {i["id"]: i["status"] for i in hosts[server]["items"]}
    assert found["k8s.kubeconfig-mode"] == "fail", hosts[server]
    assert {found[i] for i in ("k8s.version", "k8s.nodes-ready", "k8s.api-not-public")} == {"pass"}, hosts[server]
    assert found["tls.cert-manager"] == "fail"  # the stack is not installed on this cluster
    agent = {i["id"]: i["status"] for i in hosts[AGENT]["items"]}
    assert agent["k8s.version"] == "pass" and agent["k8s.nodes-ready"] == "n/a"
    checked = invoke("check", "-i", cluster["inventory"], "--limit", server, "--quiet")
    assert checked.returncode == 2 and "/etc/rancher/k3s/k3s.yaml 0600" in checked.stdout, checked.stdout[-3000:]
    repaired = invoke("bootstrap", "-i", cluster["inventory"], "--limit", server, "--quiet")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    assert sh(lab, server, "stat -c %a /etc/rancher/k3s/k3s.yaml", ADMIN).stdout.strip() == "600"


def test_a_corrupted_download_installs_nothing(lab, cluster, converged):
    before = sh(lab, SERVERS[0], "sha256sum /usr/local/bin/k3s", ADMIN).stdout
    run = invoke("k3s", "-i", cluster["inventory"], "--limit", SERVERS[0], "--set", f"k3s_version={BAD}")
    assert run.returncode == 1 and "checksum mismatch" in run.stdout and "nothing was installed" in run.stdout
    assert sh(lab, SERVERS[0], "sha256sum /usr/local/bin/k3s", ADMIN).stdout == before
    assert sh(lab, SERVERS[0], "systemctl is-active k3s", ADMIN).stdout.strip() == "active"


def apply_workloads(lab, objects) -> None:
    manifest = yaml.safe_dump_all(objects).replace("'", "'\\''")
    done = sh(lab, SERVERS[0], f"printf '%s' '{manifest}' > /root/workloads.yaml && "
                               "k3s kubectl apply -f /root/workloads.yaml", ADMIN)
    assert done.ok, done.stderr


def cluster_events(lab) -> list[dict]:
    events = json.loads(sh(lab, SERVERS[0], "curl -fsS http://127.0.0.1:6443/events", ADMIN).stdout)
    return events.get("events", events) if isinstance(events, dict) else events


def test_an_upgrade_drains_and_restarts_one_node_at_a_time(lab, cluster, converged):
    apply_workloads(lab, WORKLOADS)
    since = max(e["time"] for e in cluster_events(lab))
    bump = ("--set", f"k3s_version={V2}")
    planned = invoke("check", "-i", cluster["inventory"], "--quiet", *bump)
    for name in [*SERVERS, AGENT]:
        assert f"{name} | k3s | k3s-binary k3s {V2} | would change: upgrade k3s from {V1} to {V2}" in planned.stdout
    upgraded = invoke("k3s.upgrade", "-i", cluster["inventory"], "--yes", *bump)
    assert upgraded.returncode == 0, upgraded.stdout[-4000:] + upgraded.stderr[-2000:]
    found = nodes(lab, SERVERS[0])
    assert all(ready(n) and n["status"]["nodeInfo"]["kubeletVersion"] == V2 for n in found.values())
    events = cluster_events(lab)
    assert {e["node"] for e in events if e["kind"] == "stop"} >= set(SERVERS)
    assert overlapping_downtimes(events) == []
    # every node: cordon → (evictions) → stop → start → Ready → uncordon; never two cordoned at once
    sequences = node_sequences(events, since)
    for name in [*SERVERS, AGENT]:
        # (a node may report Ready anew before its turn: the first server's restart interrupts heartbeats)
        turn = sequences[name][sequences[name].index("cordon"):]
        assert [k for k in turn if k != "evict"] == ["cordon", "stop", "start", "ready", "uncordon"], \
            (name, sequences[name])
        assert "stop" not in sequences[name][:sequences[name].index("cordon")], (name, sequences[name])
    assert any("evict" in sequences[name] for name in [*SERVERS, AGENT])
    assert overlapping_drains([e for e in events if e["time"] >= since]) == []
    pods = json.loads(sh(lab, SERVERS[0], "k3s kubectl get pods -A -o json", ADMIN).stdout)["items"]
    assert all(c["status"] == "True" for p in pods for c in p["status"]["conditions"]), pods
    assert all("unschedulable" not in n["spec"] for n in found.values())


def test_a_budget_that_blocks_a_drain_stops_the_run_with_nothing_restarted(lab, cluster, converged):
    apply_workloads(lab, blocking(SERVERS[1]))
    since = max(e["time"] for e in cluster_events(lab))
    # a config change (a label) restarts every node; db's budget blocks the second server's drain
    run = invoke("k3s", "-i", cluster["inventory"], "--set", f"k3s_version={V2}",
                 "--set", "k3s_drain_timeout=3", "--set", "k3s_node_labels=[vpskit.test/drain=blocked]")
    assert run.returncode == 1, run.stdout[-3000:]
    assert f"{SERVERS[1]}: drain node {SERVERS[1]}: a PodDisruptionBudget allows no eviction of db-" in run.stdout
    assert "uncordoned again, nothing restarted" in run.stdout
    sequences = node_sequences(cluster_events(lab), since)
    # its other pods were evicted (kubectl evicts them all at once) but K3s never stopped there
    assert [k for k in sequences[SERVERS[1]] if k not in ("ready", "evict")] == ["cordon", "uncordon"]
    for name in (SERVERS[2], AGENT):  # the serial play stopped there: never cordoned nor stopped
        assert not {"cordon", "stop"} & set(sequences.get(name, [])), (name, sequences[name])
    assert all("unschedulable" not in n["spec"] for n in nodes(lab, SERVERS[0]).values())


def test_an_air_gapped_single_server_needs_no_download(lab, mirror, tmp_path):
    airgap = write_airgap_dir(tmp_path / "airgap", V1)
    kubeconfig = tmp_path / "kubeconfig"
    path = inventory(lab, tmp_path, mirror, {"k3s_servers": [SINGLE]}, k3s_airgap_dir=str(airgap),
                     k3s_kubeconfig_path=str(kubeconfig))
    mirror.stop()
    try:
        first = invoke("k3s", "-i", path, "--quiet")
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
        assert ready(nodes(lab, SINGLE, "root")[SINGLE]) and kubeconfig.exists()  # not hardened: root logs in
        report = tmp_path / "again.json"
        again = invoke("k3s", "-i", path, "--quiet", "--json", str(report))
        host = json.loads(report.read_text())["hosts"][SINGLE]
        assert again.returncode == 0 and host["summary"]["changed"] == 0 and host["commands"] <= 2
    finally:
        mirror.start()
