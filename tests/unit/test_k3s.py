"""The k3s role's pure parts: topology, config as data, release sums, the binary decision, kubeconfig merge, ports."""

from __future__ import annotations

import yaml
import pytest

from tests.unit.factstub import StubFacts
from tests.unit.planctx import cluster, member_context
from vpskit.builtin_roles import firewall
from vpskit.builtin_roles.k3s import plan
from vpskit.builtin_roles.k3s.binary import BINARY, K3sBinary, install_script, staged_sums
from vpskit.builtin_roles.k3s.config import config
from vpskit.builtin_roles.k3s.kubeconfig import merge
from vpskit.builtin_roles.k3s.release import parse_sums, release_url, verify_airgap
from vpskit.builtin_roles.k3s.topology import topology
from vpskit.errors import VpskitError
from vpskit.exports import ExportStore, Published
from vpskit.facts import CommandOutputFact, FileFact, FileState, HostInfoFact
from vpskit.resources.ufw import UfwPolicy, UfwRules
from vpskit.roleloader import RoleLibrary, all_defaults, all_specs

DEFAULTS = {k: v.value for k, v in all_defaults(RoleLibrary().all()).items()}
VERSION = DEFAULTS["k3s_version"]


def ctx_for(name, servers, agents=(), store=None, **values):
    inventory = cluster({**DEFAULTS, "vpskit_controller_address": "192.0.2.9", **values}, servers, agents)
    return member_context({}, inventory, name, store)


def cluster_rules(ctx) -> list:
    """The rules the firewall role opens on this member beyond SSH: what the roles declare for it."""
    resources = firewall.plan(ctx).resources
    rules = next(r for r in resources if isinstance(r, UfwRules)).rules
    return [r for r in rules if r.comment != "vpskit: ssh"]


def routed_policy(ctx) -> str:
    return next(r for r in firewall.plan(ctx).resources if isinstance(r, UfwPolicy)).policies["routed"]


def test_topology_single_ha_and_even_numbers():
    assert not topology(ctx_for("s1", ["s1"])).ha
    ha = topology(ctx_for("s2", ["s1", "s2", "s3"], ["a1"]))
    assert ha.ha and not ha.is_first and ha.is_server and ha.first.name == "s1"
    with pytest.raises(VpskitError, match="odd number ≥ 3.*majority"):
        topology(ctx_for("s1", ["s1", "s2"]))


def test_config_for_first_joining_server_and_agent():
    store = ExportStore()
    first = config(ctx_for("s1", ["s1", "s2", "s3"]), topology(ctx_for("s1", ["s1", "s2", "s3"])), None)
    assert first["cluster-init"] is True and "server" not in first and "token" not in first
    assert first["write-kubeconfig-mode"] == "0600" and first["tls-san"] == ["10.0.0.1"]
    joining = ctx_for("s2", ["s1", "s2", "s3"], store=store)
    second = config(joining, topology(joining), "K10abc::server:xyz")
    assert second["server"] == "https://10.0.0.1:6443" and second["token"] == "K10abc::server:xyz"
    assert "cluster-init" not in second
    # K3s's own etcd snapshots on every HA server, kept as many as set
    assert (second["etcd-snapshot-schedule-cron"], second["etcd-snapshot-retention"]) == ("0 */12 * * *", 5)
    single = ctx_for("s1", ["s1"])
    assert "etcd-snapshot-retention" not in config(single, topology(single), None)  # SQLite: no etcd snapshots
    agent_ctx = ctx_for("a1", ["s1"], ["a1"], k3s_node_labels=["tier=web"])
    agent = config(agent_ctx, topology(agent_ctx), "t")
    assert agent["node-label"] == ["tier=web"] and agent["server"] == "https://10.0.0.1:6443"
    assert not {"tls-san", "disable", "cluster-cidr", "write-kubeconfig-mode", "secrets-encryption"} & set(agent)


def test_joining_hosts_read_the_token_the_first_server_published():
    store = ExportStore()
    with pytest.raises(VpskitError, match="no host has published 'k3s_agent_token'"):
        plan(ctx_for("a1", ["s1"], ["a1"], store=store))
    with pytest.raises(VpskitError, match="no host has published 'k3s_token'"):
        plan(ctx_for("s2", ["s1", "s2", "s3"], store=store))
    store.publish(Published("k3s_token", "K10tok::server:sekrit", "s1", "k3s", secret=True))
    store.publish(Published("k3s_agent_token", "K10tok::node:agentsecret", "s1", "k3s", secret=True))
    rendered = _config_file(plan(ctx_for("a1", ["s1"], ["a1"], store=store)))
    # an agent gets the agent token, never the server token (cluster admin on the agent's host)
    assert rendered.secret and "token: K10tok::node:agentsecret" in rendered.content
    assert "sekrit" not in rendered.content
    joining = yaml.safe_load(_config_file(plan(ctx_for("s2", ["s1", "s2", "s3"], store=store))).content)
    assert joining["token"] == "K10tok::server:sekrit" and joining["agent-token"] == "K10tok::node:agentsecret"


def _config_file(result):
    return next(r for r in result.resources if getattr(r, "path", "") == "/etc/rancher/k3s/config.yaml")


def test_the_first_server_makes_an_agent_token_and_refuses_a_full_token():
    result = plan(ctx_for("s1", ["s1"], ["a1"]))
    first = yaml.safe_load(_config_file(result).content)
    assert first["agent-token-file"] == "/var/lib/vpskit/k3s/agent-token" and "agent-token" not in first
    made = next(r for r in result.resources if r.kind == "command")
    assert made.unless == "test -s /var/lib/vpskit/k3s/agent-token" and made.secret
    chosen = yaml.safe_load(_config_file(plan(ctx_for("s1", ["s1"], k3s_agent_token="a" * 20))).content)
    assert chosen["agent-token"] == "a" * 20 and not any(r.kind == "command" for r in plan(
        ctx_for("s1", ["s1"], k3s_agent_token="a" * 20)).resources)
    with pytest.raises(VpskitError, match="full K10… token cannot start a new cluster"):
        plan(ctx_for("s1", ["s1"], k3s_token="K10abc::server:xyz"))


def test_the_first_server_publishes_url_and_token_and_fetches_the_kubeconfig():
    result = plan(ctx_for("s1", ["s1"], ["a1"]))
    assert [e.name for e in result.exports] == ["k3s_url", "k3s_token", "k3s_agent_token"]
    assert result.exports[0].value == "https://10.0.0.1:6443" and result.exports[1].secret
    assert any(r.kind == "fetch" for r in result.resources)
    assert [h.name for h in result.handlers] == ["restart k3s"]


def test_sums_urls_and_the_install_script():
    text = "a" * 64 + "  k3s\n" + "b" * 64 + " *k3s-airgap-images-amd64.tar.zst\njunk\n"
    assert parse_sums(text) == {"k3s": "a" * 64, "k3s-airgap-images-amd64.tar.zst": "b" * 64}
    assert release_url("https://example.org/dl/", "v1.36.4+k3s1") == "https://example.org/dl/v1.36.4%2Bk3s1"
    script = install_script("v1.36.4+k3s1", "https://example.org/dl", "arm64", airgap=False)
    assert "v1.36.4%2Bk3s1/k3s-arm64" in script and "checksum mismatch" in script and "nothing was installed" in script
    assert "curl" not in install_script("v1.36.4+k3s1", "https://example.org/dl", "amd64", airgap=True)


def binary_facts(binary: FileState, sums: bytes | None, version_output=(0, f"k3s version {VERSION} (abc)\n")):
    sums_state = FileState("file", "root", "root", "0600", content=sums) if sums else FileState("absent")
    return StubFacts([(HostInfoFact(), {"arch": "x86_64"}), (FileFact(BINARY), binary),
                      (FileFact(staged_sums(VERSION)), sums_state),
                      (CommandOutputFact(f"{BINARY} --version"), version_output)])


def test_the_binary_is_compared_with_the_release_sums():
    resource = K3sBinary(VERSION, "https://example.org")
    sums = ("c" * 64 + "  k3s\n").encode()
    good = FileState("file", "root", "root", "0755", sha256="c" * 64)
    assert not resource.check(binary_facts(good, sums)).changed
    missing = resource.check(binary_facts(FileState("absent"), None, (127, "")))
    assert missing.changed and missing.reason.startswith("install k3s") and missing.plan == ("amd64", None)
    assert missing.upgrade is None  # an install moves no version
    old = resource.check(binary_facts(FileState("file", sha256="d" * 64), None, (0, "k3s version v1.35.0+k3s1 (x)")))
    assert old.reason == f"upgrade k3s from v1.35.0+k3s1 to {VERSION}" and old.plan == ("amd64", "v1.35.0+k3s1")
    assert old.upgrade == ("v1.35.0+k3s1", VERSION)  # what k3s.upgrade reads
    tampered = resource.check(binary_facts(FileState("file", sha256="e" * 64), sums))
    assert tampered.changed and "is not the" in tampered.reason and tampered.upgrade is None


@pytest.mark.parametrize("running, refused", [
    ("v1.36.5+k3s1", "cannot be downgraded.*--cluster-reset.*snapshot"),  # a lower patch of the same minor
    ("v1.37.0+k3s1", "cannot be downgraded"),
    ("v1.34.2+k3s1", "skips minor versions.*v1.35 first"),
])
def test_downgrades_and_skipped_minors_are_refused_in_check_mode_too(running, refused):
    resource = K3sBinary(VERSION, "https://example.org")
    facts = binary_facts(FileState("file", sha256="d" * 64), None, (0, f"k3s version {running} (x)"))
    with pytest.raises(VpskitError, match=refused):
        resource.check(facts)


def test_an_etcd_server_saves_a_snapshot_before_its_binary_moves():
    from vpskit.builtin_roles.k3s.binary import snapshot_command
    ha = [r for r in plan(ctx_for("s2", ["s1", "s2", "s3"], k3s_token="t", k3s_agent_token="a")).resources
          if r.kind == "k3s-binary"][0]
    single = [r for r in plan(ctx_for("s1", ["s1"])).resources if r.kind == "k3s-binary"][0]
    assert ha.snapshot and not single.snapshot
    assert snapshot_command("v1.35.3+k3s1") == \
        "/usr/local/bin/k3s etcd-snapshot save --name vpskit-pre-upgrade-v1-35-3-k3s1"


def test_node_names_are_lowercased_as_k3s_does_and_impossible_ones_refused():
    from vpskit.builtin_roles.k3s import ready
    from vpskit.builtin_roles.k3s.nodename import name_error
    upper = ctx_for("Web1", ["Web1"])
    assert config(upper, topology(upper), None)["node-name"] == "web1"
    assert ready(upper, topology(upper)).what.startswith("node web1 Ready")
    with pytest.raises(VpskitError, match="host db_1.*set k3s_node_name, e.g. 'db-1'"):
        plan(ctx_for("db_1", ["db_1"]))
    assert config(ctx_for("db_1", ["db_1"], k3s_node_name="db-1"), topology(ctx_for("db_1", ["db_1"])),
                  None)["node-name"] == "db-1"
    assert name_error("a.b-c") is None and "not a Kubernetes node name" in name_error("-x")


@pytest.mark.parametrize("labels, problem", [
    (["node-role.kubernetes.io/worker=true"], "may not set labels.*kubectl label node"),
    (["example.k8s.io/x=1"], "may not set labels"),
    (["tier"], "not a label"),
    (["tier=a b"], "not a label"),
])
def test_labels_the_kubelet_may_not_set_are_refused_at_load(tmp_path, labels, problem):
    from vpskit.builtin_roles.k3s.labels import labels_error
    assert labels_error(["tier=web", "node.kubernetes.io/pool=a", "topology.kubernetes.io/zone=z1",
                         "example.com/x=y"]) is None
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"k3s_servers": {"hosts": {"s1": {"k3s_node_labels": labels}}}}))
    from vpskit.inventory.loader import load_inventory
    with pytest.raises(VpskitError, match=problem) as caught:
        load_inventory(inventory, all_defaults(RoleLibrary().all()), {"k3s"}, specs=all_specs(RoleLibrary().all()))
    assert "hosts.yml:" in str(caught.value)


def test_extra_config_keys_are_checked_at_load_and_kept_to_the_right_role(tmp_path):
    from vpskit.inventory.loader import load_inventory
    for extra, problem in (({"disable-apiservr": True}, "did you mean 'disable-apiserver'"),
                           ({"node-name": "x"}, "use k3s_node_name")):
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(yaml.safe_dump({"k3s_servers": {"hosts": {"s1": {"k3s_extra_config": extra}}}}))
        with pytest.raises(VpskitError, match=problem):
            load_inventory(inventory, all_defaults(RoleLibrary().all()), {"k3s"}, specs=all_specs(RoleLibrary().all()))
    extra = {"kube-apiserver-arg": ["a=b"], "disable-etcd": True, "kubelet-arg": ["c=d"], "disable-apiserver-lb": True}
    server = ctx_for("s1", ["s1"], ["a1"], k3s_extra_config=extra)
    agent = ctx_for("a1", ["s1"], ["a1"], k3s_extra_config=extra)
    on_server = config(server, topology(server), None)
    on_agent = config(agent, topology(agent), "t")
    assert "disable-apiserver-lb" not in on_server and on_server["disable-etcd"] is True
    assert on_agent["kubelet-arg"] == ["c=d"] and not {"kube-apiserver-arg", "disable-etcd"} & set(on_agent)


def test_the_api_port_and_a_context_name_per_cluster():
    from vpskit.builtin_roles.k3s import context_name
    moved = ctx_for("s1", ["s1"], ["a1"], k3s_extra_config={"https-listen-port": 7443})
    assert plan(moved).exports[0].value == "https://10.0.0.1:7443"
    assert [r.port for r in cluster_rules(moved) if r.comment.endswith("k3s api")] == ["7443", "7443"]
    one, other = ctx_for("s1", ["s1"]), ctx_for("m1", ["m1"])
    assert context_name(one, topology(one)) == "vpskit-s1-10.0.0.1" != context_name(other, topology(other))
    assert context_name(ctx_for("s1", ["s1"], k3s_context_name="lab"), topology(one)) == "lab"


def test_the_unit_never_times_out_its_start_and_the_restart_is_bounded():
    from vpskit.builtin_roles.k3s import restart_command
    unit = next(r for r in plan(ctx_for("s1", ["s1"])).resources
                if getattr(r, "path", "") == "/etc/systemd/system/k3s.service")
    assert "TimeoutStartSec=0\n" in unit.content  # K3s's own unit (install.sh)
    assert "timeout 300 systemctl restart k3s.service" in restart_command("k3s", 300)
    assert "k3s_ready_timeout" in restart_command("k3s", 300)


def test_the_uninstall_script_stops_only_k3s_and_never_removes_a_mount():
    script = next(r for r in plan(ctx_for("s1", ["s1"])).resources
                  if getattr(r, "path", "") == "/usr/local/bin/k3s-uninstall.sh").content
    assert "pgrep -f 'containerd-shim'" not in script and '"$data/data/"' in script  # K3s's own shims only
    for left_before in ("ip netns delete", "master cni0", "$tool-save", "KUBE-", "/var/lib/cni", "/run/flannel",
                        "/var/lib/kubelet/plugins", "--one-file-system"):
        assert left_before in script, left_before
    import subprocess
    assert subprocess.run(["sh", "-n"], input=script, text=True).returncode == 0


def test_airgap_folder_is_verified_before_anything_moves(tmp_path):
    import hashlib
    (tmp_path / "k3s").write_bytes(b"binary")
    good = hashlib.sha256(b"binary").hexdigest()
    (tmp_path / "sha256sum-amd64.txt").write_text(f"{good}  k3s\n")
    assert verify_airgap(tmp_path, "amd64") == {"k3s": tmp_path / "k3s"}
    (tmp_path / "k3s").write_bytes(b"tampered")
    with pytest.raises(VpskitError, match=f"the release says {good}; nothing was installed"):
        verify_airgap(tmp_path, "amd64")


K3S_YAML = b"""apiVersion: v1
clusters:
- cluster: {certificate-authority-data: Q0E=, server: 'https://127.0.0.1:6443'}
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
kind: Config
users:
- name: default
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
"""


def test_kubeconfig_merge_keeps_other_contexts_and_is_stable():
    theirs = {"apiVersion": "v1", "kind": "Config", "current-context": "work",
              "clusters": [{"name": "work", "cluster": {"server": "https://w"}},
                           {"name": "home", "cluster": {"server": "https://h"}}],
              "users": [{"name": "work", "user": {"token": "x"}}, {"name": "home", "user": {"token": "y"}}],
              "contexts": [{"name": "work", "context": {"cluster": "work", "user": "work"}},
                           {"name": "home", "context": {"cluster": "home", "user": "home"}}]}
    merged = merge(K3S_YAML, yaml.safe_dump(theirs).encode(), "lab", "https://10.0.0.1:6443")
    data = yaml.safe_load(merged)
    assert [c["name"] for c in data["contexts"]] == ["work", "home", "lab"] and data["current-context"] == "work"
    assert next(c for c in data["clusters"] if c["name"] == "lab")["cluster"]["server"] == "https://10.0.0.1:6443"
    assert merge(K3S_YAML, merged, "lab", "https://10.0.0.1:6443") == merged
    fresh = yaml.safe_load(merge(K3S_YAML, None, "lab", "https://10.0.0.1:6443"))
    assert fresh["current-context"] == "lab"
    with pytest.raises(VpskitError, match="not a mapping"):
        merge(K3S_YAML, b"- a list\n", "lab", "https://x")


def test_cluster_ports_open_only_to_members_and_the_operator():
    rules = cluster_rules(ctx_for("s1", ["s1", "s2", "s3"], ["a1"]))
    api = {r.src for r in rules if r.port == "6443"}
    assert api == {"192.0.2.9", "10.0.0.2", "10.0.0.3", "10.0.0.4"}
    assert {r.src for r in rules if r.port == "2379:2380"} == {"10.0.0.2", "10.0.0.3"}
    assert {r.src for r in rules if r.port == "8472"} == {"10.0.0.2", "10.0.0.3", "10.0.0.4"}
    assert not any(r.src == "any" for r in rules)
    agent = cluster_rules(ctx_for("a1", ["s1"], ["a1"], k3s_flannel_backend="wireguard-native"))
    assert not any(r.port in ("6443", "2379:2380") for r in agent)
    assert {r.port for r in agent if r.proto == "udp"} == {"51820:51821"}
    assert not any(r.port in ("9100", "5001") for r in rules)
    assert routed_policy(ctx_for("a1", ["s1"], ["a1"])) == "allow"  # a member routes its pods' traffic
    loner = plan_context_for_non_member()
    assert cluster_rules(loner) == [] and routed_policy(loner) == "deny"


def plan_context_for_non_member():
    from tests.unit.planctx import plan_context
    return plan_context({**DEFAULTS, "vpskit_controller_address": "192.0.2.9"}, "web")


def test_node_exporter_and_the_embedded_registry_are_reachable_from_every_member():
    rules = cluster_rules(ctx_for("a1", ["s1", "s2", "s3"], ["a1"], monitoring_enabled=True,
                                  k3s_extra_config={"embedded-registry": True}))
    assert {r.src for r in rules if r.port == "9100"} == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}
    assert {r.src for r in rules if r.port == "5001"} == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}


def test_a_rebuilt_first_server_joins_through_a_survivor_and_the_old_node_is_forgotten():
    from vpskit.builtin_roles.k3s import forget_plan
    store = ExportStore()
    store.publish(Published("k3s_token", "K10tok::server:sekrit", "s2", "k3s", secret=True))
    store.publish(Published("k3s_agent_token", "K10tok::node:agentsecret", "s2", "k3s", secret=True))
    rebuilt = ctx_for("s1", ["s1", "s2", "s3"], store=store, k3s_join_via="s2")
    result = plan(rebuilt)
    settings = yaml.safe_load(_config_file(result).content)
    # not cluster-init (a second cluster): it joins s2, with the survivors' tokens, and publishes nothing
    assert "cluster-init" not in settings and settings["server"] == "https://10.0.0.2:6443"
    assert settings["token"] == "K10tok::server:sekrit" and result.exports == []
    with pytest.raises(VpskitError, match="k3s_join_via 's1' is not another host"):
        plan(ctx_for("s1", ["s1", "s2", "s3"], store=store, k3s_join_via="s1"))
    forget = forget_plan(ctx_for("s2", ["s1", "s2", "s3"], ["Agent1"]), "Agent1")
    command = forget.resources[0]
    assert command.command == "/usr/local/bin/k3s kubectl delete node agent1 --ignore-not-found"
    assert command.unless == "! /usr/local/bin/k3s kubectl get node agent1 >/dev/null 2>&1"
    assert [e.name for e in forget.exports] == ["k3s_url", "k3s_token", "k3s_agent_token"]
    assert forget.exports[0].value == "https://10.0.0.2:6443"
    with pytest.raises(VpskitError, match="not a server"):
        forget_plan(ctx_for("Agent1", ["s1", "s2", "s3"], ["Agent1"]), "s1")


@pytest.mark.parametrize("tag", ["!env", "!file"])
def test_a_token_from_env_or_file_is_written_into_the_config(tmp_path, monkeypatch, tag):
    """The README's own `k3s_token: !env K3S_TOKEN`: the loader's Secret string reaches every YAML K3s reads."""
    from vpskit.inventory import load_inventory
    monkeypatch.setenv("K3S_TOKEN", "chosen-server-token")
    monkeypatch.setenv("K3S_AGENT_TOKEN", "chosen-agent-token")
    for name in ("server", "agent"):
        (tmp_path / name).write_text(f"chosen-{name}-token\n")
    source = {"!env": ("!env K3S_TOKEN", "!env K3S_AGENT_TOKEN"), "!file": (f"!file {tmp_path}/server",
                                                                          f"!file {tmp_path}/agent")}[tag]
    (tmp_path / "hosts.yml").write_text(f"all:\n  vars:\n    k3s_token: {source[0]}\n"
                                        f"    k3s_agent_token: {source[1]}\n  hosts:\n    s1:\n")
    loaded = load_inventory(tmp_path / "hosts.yml", all_defaults(RoleLibrary().all()), specs=all_specs(RoleLibrary().all()))
    token, agent_token = loaded.hosts["s1"].get("k3s_token"), loaded.hosts["s1"].get("k3s_agent_token")
    assert type(token).__name__ == "Secret" and type(agent_token).__name__ == "Secret"
    first = yaml.safe_load(_config_file(plan(ctx_for("s1", ["s1"], k3s_token=token, k3s_agent_token=agent_token))).content)
    assert first["token"] == "chosen-server-token" and first["agent-token"] == "chosen-agent-token"
    store = ExportStore()  # what the first server publishes is the inventory's Secret when it was chosen
    store.publish(Published("k3s_token", token, "s1", "k3s", secret=True))
    store.publish(Published("k3s_agent_token", agent_token, "s1", "k3s", secret=True))
    joining = yaml.safe_load(_config_file(plan(ctx_for("s2", ["s1", "s2", "s3"], store=store))).content)
    agent = yaml.safe_load(_config_file(plan(ctx_for("a1", ["s1"], ["a1"], store=store))).content)
    assert joining["token"] == "chosen-server-token" and agent["token"] == "chosen-agent-token"
