"""The fake k3s run as local processes on loopback: strict config, tokens, joins, readiness, snapshots, events."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.fakes.k3s.build import build_fake_k3s, fake_k3s_bytes

VERSION = "v1.36.4+k3s1"
TOKEN = "correct-horse"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class FakeHost:
    """One fake k3s "host": its own root folder (FAKE_K3S_ROOT), port and config."""

    def __init__(self, binary: Path, root: Path, port: int):
        self.binary, self.root, self.port = binary, root, port

    def path(self, absolute: str) -> Path:
        return Path(str(self.root) + absolute)

    def write_config(self, config: dict | str) -> None:
        path = self.path("/etc/rancher/k3s/config.yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))

    def env(self, **extra) -> dict:
        return {**os.environ, "FAKE_K3S_ROOT": str(self.root), "FAKE_K3S_PORT": str(self.port), **extra}

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = self.env()
        env.pop("NOTIFY_SOCKET", None)
        return subprocess.run([sys.executable, str(self.binary), *args], env=env, capture_output=True, text=True,
                              timeout=30)

    def api(self, path: str):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=3) as response:
            return json.loads(response.read())


class Daemon:
    """A `k3s server` or `k3s agent` process with a notify socket of its own, as systemd would give it."""

    def __init__(self, host: FakeHost, role: str, args=()):
        self.host = host
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        address = f"fake-k3s-test-{secrets.token_hex(6)}"
        self.notify.bind("\0" + address)
        self.log_path = host.root / f"{role}.log"
        host.root.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, str(host.binary), role, *args],
                                         env=host.env(NOTIFY_SOCKET="@" + address),
                                         stdout=log, stderr=subprocess.STDOUT)
        self.messages: list[str] = []

    def wait_ready(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while "READY=1" not in self.messages:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not self._pending():
                return False
            self.notify.settimeout(min(left, 0.2))
            try:
                self.messages.append(self.notify.recv(4096).decode())
            except TimeoutError:
                continue
        return True

    def _pending(self) -> bool:
        self.notify.setblocking(False)
        try:
            self.messages.append(self.notify.recv(4096).decode())
            return True
        except BlockingIOError:
            return False

    def log(self) -> str:
        return self.log_path.read_text()

    def exit_code(self, timeout: float = 10) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM to this process (by its pid), as systemctl stop sends; SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.notify.close()


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    return build_fake_k3s(VERSION, tmp_path_factory.mktemp("bin") / "k3s")


@pytest.fixture
def hosts(binary, tmp_path):
    made = []

    def make(name: str) -> FakeHost:
        made.append(FakeHost(binary, tmp_path / name, free_port()))
        return made[-1]

    return make


@pytest.fixture
def start():
    started: list[Daemon] = []

    def start_daemon(host: FakeHost, role: str, *args: str) -> Daemon:
        started.append(Daemon(host, role, args))
        return started[-1]

    yield start_daemon
    for daemon in started:
        daemon.stop()


def server_config(**extra) -> dict:
    return {"token": TOKEN, "bind-address": "127.0.0.1", **extra}


def nodes_by_name(host: FakeHost) -> dict:
    return {item["metadata"]["name"]: item for item in host.api("/nodes")["items"]}


def condition(node: dict, kind: str) -> str | None:
    return next((c["status"] for c in node["status"]["conditions"] if c["type"] == kind), None)


# -- the binary ------------------------------------------------------------------------------------------
def test_version_is_baked_in_and_printed_like_k3s(binary, tmp_path):
    out = subprocess.run([sys.executable, str(binary), "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert re.fullmatch(r"k3s version v1\.36\.4\+k3s1 \([0-9a-f]{8}\)\ngo version go1\.24\.\d+\n", out.stdout)
    newer = build_fake_k3s("v1.36.5+k3s1", tmp_path / "k3s-newer")
    assert binary.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert fake_k3s_bytes(VERSION) == binary.read_bytes()  # the same version always gives the same bytes
    assert stat.S_IMODE(newer.stat().st_mode) == 0o755
    assert hashlib.sha256(newer.read_bytes()).digest() != hashlib.sha256(binary.read_bytes()).digest()
    assert "v1.36.5+k3s1" in subprocess.run([sys.executable, str(newer), "--version"], capture_output=True,
                                            text=True).stdout


def test_build_refuses_a_malformed_version(tmp_path):
    with pytest.raises(ValueError):
        build_fake_k3s("1.36.4", tmp_path / "k3s")


# -- strict configuration ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role, config, named", [
    ("server", {"tls-san": {"a": "b"}}, "tls-san"),
    ("server", {"secrets-encryption": "yes"}, "secrets-encryption"),
    ("server", {"etcd-snapshot-retention": "many"}, "etcd-snapshot-retention"),
    ("server", {"disable": ["traefik", "treafik"]}, "disable"),
    ("server", {"flannel-backend": "wireguard"}, "flannel-backend"),
    ("server", {"node-label": ["no-equals-sign"]}, "node-label"),
    ("server", {"node-taint": ["k=v:Sometimes"]}, "node-taint"),
    ("server", {"server": "http://10.0.0.1:6443"}, "server"),
    ("server", {"no-deploy": ["traefik"]}, "no-deploy"),
    ("server", "write-kubeconfig-mode: 0600\n", "write-kubeconfig-mode"),  # unquoted: YAML reads octal 384
    ("server", "- token\n", "mapping"),
])
def test_a_config_k3s_would_refuse_fails_naming_the_key(hosts, role, config, named):
    host = hosts("h")
    host.write_config(config)
    result = host.run(role)
    assert result.returncode == 1
    assert named in result.stderr and "level=fatal" in result.stderr, result.stderr


def test_config_keys_k3s_does_not_define_for_the_command_are_skipped_with_a_warning(hosts, start):
    # k3s-io/k3s pkg/configfilearg/parser.go, stripInvalidFlags: warn and skip, for unknown and other-role keys
    server = hosts("s")
    server.write_config(server_config(**{"node-name": "s", "tls-sans": ["a"], "disable-apiserver-lb": True,
                                         "disable-etcd": False}))
    daemon = start(server, "server")
    assert daemon.wait_ready(), daemon.log()
    assert "Unknown flag --tls-sans found in config.yaml, skipping" in daemon.log()
    assert "Unknown flag --disable-apiserver-lb found in config.yaml, skipping" in daemon.log()
    assert "disable-etcd" not in daemon.log().split("skipping")[0]  # a real server flag, taken
    agent = hosts("a")
    agent.write_config({"token": TOKEN, "server": f"https://127.0.0.1:{server.port}", "node-name": "a",
                        "cluster-init": True, "write-kubeconfig-mode": "0600"})
    joined = start(agent, "agent")
    assert joined.wait_ready(), joined.log()
    assert "Unknown flag --cluster-init found in config.yaml, skipping" in joined.log()


def test_node_names_are_lowercased_and_labels_the_kubelet_may_not_set_stop_k3s(hosts, start):
    host = hosts("s")
    host.write_config(server_config(**{"node-name": "Web1", "node-label": ["node.kubernetes.io/pool=a"]}))
    daemon = start(host, "server")
    assert daemon.wait_ready(), daemon.log()
    assert "web1" in nodes_by_name(host) and "Web1" not in nodes_by_name(host)
    daemon.stop()
    host.write_config(server_config(**{"node-name": "web1", "node-label": ["node-role.kubernetes.io/worker=true"]}))
    result = host.run("server")
    assert result.returncode == 1 and "unknown 'kubernetes.io' or 'k8s.io' labels" in result.stderr
    host.write_config(server_config(**{"node-name": "db_1"}))
    result = host.run("server")
    assert result.returncode == 1 and "RFC 1123" in result.stderr


def test_flags_on_the_command_line_are_strict_too(hosts):
    host = hosts("h")
    result = host.run("server", "--tls-sans", "x")
    assert result.returncode == 1 and "flag provided but not defined: -tls-sans" in result.stderr
    result = host.run("agent", "--server", "https://127.0.0.1:1", "--token", "t", "--cluster-init")
    assert result.returncode == 1 and "cluster-init" in result.stderr


def test_an_agent_needs_a_server_and_a_token(hosts):
    host = hosts("h")
    host.write_config({"token": "x"})
    result = host.run("agent")
    assert result.returncode == 1 and "--server is required" in result.stderr
    host.write_config({"server": "https://127.0.0.1:6443"})
    result = host.run("agent")
    assert result.returncode == 1 and "--token is required" in result.stderr


def test_config_drop_ins_and_flags_are_merged(hosts, start):
    host = hosts("s")
    host.write_config(server_config(**{"node-label": ["from=config"]}))
    drop_in = host.path("/etc/rancher/k3s/config.yaml.d/10-extra.yaml")
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text("node-label+: [from=dropin]\nnode-name: merged\n")
    server = start(host, "server", "--node-label", "from=flag", "--node-taint=dedicated=db:NoSchedule")
    assert server.wait_ready(), server.log()
    node = nodes_by_name(host)["merged"]
    assert {"from": "flag"}.items() <= node["metadata"]["labels"].items()
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]
    args = json.loads(node["metadata"]["annotations"]["k3s.io/node-args"])
    assert args.count("--node-label") == 3 and TOKEN not in args


# -- a single server ---------------------------------------------------------------------------------------
def test_a_server_writes_its_token_and_kubeconfig_and_serves_nodes(hosts, start):
    host = hosts("s1")
    host.write_config(server_config(**{"node-name": "s1", "write-kubeconfig-mode": "0640",
                                       "node-label": ["tier=db"], "node-ip": "127.0.0.1"}))
    server = start(host, "server")
    assert server.wait_ready(), server.log()
    token = host.path("/var/lib/rancher/k3s/server/token").read_text().strip()
    assert re.fullmatch(rf"K10[0-9a-f]{{64}}::server:{TOKEN}", token)
    assert host.path("/var/lib/rancher/k3s/server/node-token").read_text().strip() == token
    kubeconfig_path = host.path("/etc/rancher/k3s/k3s.yaml")
    assert stat.S_IMODE(kubeconfig_path.stat().st_mode) == 0o640
    kubeconfig = yaml.safe_load(kubeconfig_path.read_text())
    assert kubeconfig["apiVersion"] == "v1"
    assert [c["name"] for c in kubeconfig["clusters"]] == ["default"]
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{host.port}"
    assert kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]
    assert set(kubeconfig["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}
    assert kubeconfig["contexts"][0]["name"] == "default"
    node = nodes_by_name(host)["s1"]
    assert condition(node, "Ready") == "True"
    assert condition(node, "EtcdIsVoter") is None  # not an etcd cluster
    assert node["status"]["nodeInfo"]["kubeletVersion"] == VERSION
    labels = node["metadata"]["labels"]
    assert labels["node-role.kubernetes.io/control-plane"] == "true" and labels["tier"] == "db"
    assert "node-role.kubernetes.io/etcd" not in labels
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]


def test_a_server_without_a_token_makes_one(hosts, start):
    host = hosts("s1")
    host.write_config({"bind-address": "127.0.0.1"})
    assert start(host, "server").wait_ready()
    token = host.path("/var/lib/rancher/k3s/server/token").read_text().strip()
    assert re.fullmatch(r"K10[0-9a-f]{64}::server:[0-9a-f]{32}", token)


def test_kubectl_prints_the_node_list(hosts, start):
    host = hosts("s1")
    host.write_config(server_config(**{"node-name": "s1"}))
    assert start(host, "server").wait_ready()
    listing = host.run("kubectl", "get", "nodes", "-o", "json")
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert data["kind"] == "List" and [i["metadata"]["name"] for i in data["items"]] == ["s1"]
    table = host.run("kubectl", "get", "nodes").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert table[1].split()[:3] == ["s1", "Ready", "control-plane,master"]
    unsupported = host.run("kubectl", "get", "pods", "-A")
    assert unsupported.returncode == 1 and "the fake k3s supports only: get nodes" in unsupported.stderr


def test_kubectl_without_a_running_server_fails(hosts):
    host = hosts("s1")
    assert host.run("kubectl", "get", "nodes").returncode == 1


def test_a_changed_token_on_an_initialised_server_is_refused(hosts, start):
    host = hosts("s1")
    host.write_config(server_config())
    first = start(host, "server")
    assert first.wait_ready()
    first.stop()
    host.write_config(server_config(token="another"))
    result = host.run("server")
    assert result.returncode == 1 and "different token" in result.stderr


# -- joining -----------------------------------------------------------------------------------------------
def test_an_agent_with_the_right_token_joins_and_is_ready(hosts, start):
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    worker.write_config({"token": TOKEN, "server": f"https://127.0.0.1:{first.port}", "node-name": "a1",
                         "node-label": ["role=worker"]})
    agent = start(worker, "agent")
    assert agent.wait_ready(), agent.log()
    node = wait_for(lambda: nodes_by_name(first).get("a1"), 5)
    assert wait_for(lambda: condition(nodes_by_name(first)["a1"], "Ready") == "True", 5)
    assert "node-role.kubernetes.io/control-plane" not in node["metadata"]["labels"]
    assert node["metadata"]["labels"]["role"] == "worker"


def test_an_agent_may_present_the_full_node_token(hosts, start):
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    full = first.path("/var/lib/rancher/k3s/server/node-token").read_text().strip()
    worker.write_config({"token": full, "server": f"https://127.0.0.1:{first.port}", "node-name": "a1"})
    assert start(worker, "agent").wait_ready()
    wrong_hash = "K10" + "0" * 64 + "::server:" + TOKEN
    other = hosts("a2")
    other.write_config({"token": wrong_hash, "server": f"https://127.0.0.1:{first.port}", "node-name": "a2"})
    assert not start(other, "agent").wait_ready(timeout=3)


def test_an_agent_with_a_wrong_token_never_joins(hosts, start):
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    worker.write_config({"token": "wrong", "server": f"https://127.0.0.1:{first.port}", "node-name": "a1"})
    agent = start(worker, "agent")
    assert not agent.wait_ready(timeout=4)
    assert agent.proc.poll() is None  # still retrying, as k3s does
    assert "token rejected" in agent.log()
    assert "a1" not in nodes_by_name(first)


def test_an_agent_whose_server_does_not_answer_keeps_retrying(hosts, start):
    worker = hosts("a1")
    worker.write_config({"token": TOKEN, "server": f"https://127.0.0.1:{free_port()}", "node-name": "a1"})
    agent = start(worker, "agent")
    assert not agent.wait_ready(timeout=3)
    assert "failed to join the cluster" in agent.log()
    agent.stop()
    assert agent.proc.returncode == 0


def test_a_second_server_needs_an_etcd_cluster(hosts, start):
    first, second = hosts("s1"), hosts("s2")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    second.write_config(server_config(**{"node-name": "s2", "server": f"https://127.0.0.1:{first.port}"}))
    joining = start(second, "server")
    assert joining.exit_code() == 1 and "cluster-init" in joining.log()


def test_a_server_with_a_mismatched_critical_value_cannot_join(hosts, start):
    first, second = hosts("s1"), hosts("s2")
    first.write_config(server_config(**{"node-name": "s1", "cluster-init": True}))
    assert start(first, "server").wait_ready()
    second.write_config(server_config(**{"node-name": "s2", "server": f"https://127.0.0.1:{first.port}",
                                         "flannel-backend": "wireguard-native"}))
    joining = start(second, "server")
    assert joining.exit_code() == 1 and "flannel-backend" in joining.log()


def test_an_ha_cluster_has_voters_events_and_survives_a_restart(hosts, start):
    first, second = hosts("s1"), hosts("s2")
    first.write_config(server_config(**{"node-name": "s1", "cluster-init": True}))
    assert start(first, "server").wait_ready()
    second.write_config(server_config(**{"node-name": "s2", "server": f"https://127.0.0.1:{first.port}"}))
    joined = start(second, "server")
    assert joined.wait_ready(), joined.log()
    assert second.path("/var/lib/rancher/k3s/server/token").read_text() == \
        first.path("/var/lib/rancher/k3s/server/token").read_text()
    nodes = wait_for(lambda: (n := nodes_by_name(second)) and "s2" in n and n, 5)  # served through s2's proxy
    assert nodes["s2"]["metadata"]["labels"]["node-role.kubernetes.io/etcd"] == "true"
    assert condition(nodes["s2"], "EtcdIsVoter") == "False"  # a learner just after its start
    assert wait_for(lambda: condition(nodes_by_name(first)["s2"], "EtcdIsVoter") == "True", 6)
    kubectl = second.run("kubectl", "get", "nodes", "-o", "json")
    assert sorted(i["metadata"]["name"] for i in json.loads(kubectl.stdout)["items"]) == ["s1", "s2"]

    joined.stop()
    restarted = start(second, "server")
    assert restarted.wait_ready()
    events = [(e["node"], e["kind"]) for e in first.api("/events")["events"] if e["kind"] in ("start", "stop")]
    assert events == [("s1", "start"), ("s2", "start"), ("s2", "stop"), ("s2", "start")]
    assert all(e["version"] == VERSION and e["time"] for e in first.api("/events")["events"])


def test_the_first_server_keeps_the_cluster_across_a_restart(hosts, start):
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1", "cluster-init": True}))
    server = start(first, "server")
    assert server.wait_ready()
    token = first.path("/var/lib/rancher/k3s/server/token").read_text()
    worker.write_config({"token": TOKEN, "server": f"https://127.0.0.1:{first.port}", "node-name": "a1"})
    assert start(worker, "agent").wait_ready()
    server.stop()
    assert start(first, "server").wait_ready()
    assert first.path("/var/lib/rancher/k3s/server/token").read_text() == token
    assert set(nodes_by_name(first)) == {"s1", "a1"}
    assert wait_for(lambda: condition(nodes_by_name(first)["a1"], "Ready") == "True", 5)
    kinds = [e["kind"] for e in first.api("/events")["events"] if e["node"] == "s1" and e["kind"] != "ready"]
    assert kinds == ["start", "stop", "start"]


def test_a_node_that_stops_heartbeating_turns_unknown(hosts, start):
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    worker.write_config({"token": TOKEN, "server": f"https://127.0.0.1:{first.port}", "node-name": "a1"})
    agent = start(worker, "agent")
    assert agent.wait_ready()
    agent.stop()
    assert wait_for(lambda: condition(nodes_by_name(first)["a1"], "Ready") == "Unknown", 8)


# -- etcd snapshots ----------------------------------------------------------------------------------------
def test_etcd_snapshots_are_refused_without_etcd(hosts, start):
    host = hosts("s1")
    host.write_config(server_config())
    assert start(host, "server").wait_ready()
    result = host.run("etcd-snapshot", "save")
    assert result.returncode == 1 and "etcd database not found" in result.stderr


def test_etcd_snapshots_save_list_and_delete(hosts, start):
    host = hosts("s1")
    host.write_config(server_config(**{"node-name": "s1", "cluster-init": True}))
    assert start(host, "server").wait_ready()
    saved = host.run("etcd-snapshot", "save")
    assert saved.returncode == 0, saved.stderr
    name = re.search(r"Snapshot (on-demand-s1-\d+) saved", saved.stderr).group(1)
    snapshot = host.path(f"/var/lib/rancher/k3s/server/db/snapshots/{name}")
    assert "s1" in json.loads(snapshot.read_text())["state"]["nodes"]
    listing = host.run("etcd-snapshot", "ls").stdout.splitlines()
    assert listing[0].split() == ["Name", "Location", "Size", "Created"]
    assert listing[1].split()[:2] == [name, f"file:///var/lib/rancher/k3s/server/db/snapshots/{name}"]
    deleted = host.run("etcd-snapshot", "delete", name)
    assert deleted.returncode == 0 and not snapshot.exists()
    assert host.run("etcd-snapshot", "delete", name).returncode == 1


def test_etcd_snapshots_go_to_the_configured_dir(hosts, start):
    host = hosts("s1")
    host.write_config(server_config(**{"node-name": "s1", "cluster-init": True,
                                       "etcd-snapshot-dir": "/srv/snapshots"}))
    assert start(host, "server").wait_ready()
    assert host.run("etcd-snapshot", "save").returncode == 0
    assert len(list(host.path("/srv/snapshots").iterdir())) == 1


# -- reading the events ------------------------------------------------------------------------------------
def test_downtimes_in_turn_do_not_overlap_but_two_at_once_do():
    from tests.fakes.k3s.events import down_windows, overlapping_downtimes

    def event(node, kind, at):
        return {"node": node, "kind": kind, "time": at, "version": VERSION, "role": "server"}

    in_turn = [event("s1", "start", 0), event("s2", "start", 1), event("s1", "stop", 10), event("s1", "start", 12),
               event("s2", "stop", 13), event("s2", "start", 15)]
    assert down_windows(in_turn) == [("s1", 10, 12), ("s2", 13, 15)]
    assert overlapping_downtimes(in_turn) == []
    together = in_turn[:3] + [event("s2", "stop", 11), event("s1", "start", 12), event("s2", "start", 15)]
    assert overlapping_downtimes(together) == [(("s1", 10, 12), ("s2", 11, 15))]
    still_down = in_turn + [event("s1", "stop", 20), event("s2", "stop", 30)]
    assert len(overlapping_downtimes(still_down)) == 1


# -- the release mirror and air-gap folders -----------------------------------------------------------------
def test_the_mirror_serves_releases_a_corrupted_binary_and_stops(tmp_path):
    from tests.e2e.k3s_mirror import K3sMirror, write_airgap_dir

    def get(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.read()

    with K3sMirror("127.0.0.1", free_port(), versions=[VERSION, "v1.36.5+k3s1"]) as mirror:
        assert mirror.url(VERSION, "k3s") == f"{mirror.base_url}/v1.36.4%2Bk3s1/k3s"
        sums = dict(reversed(line.split("  ")) for line in get(mirror.url(VERSION, "sha256sum-amd64.txt"))
                    .decode().splitlines())
        assert set(sums) == {"k3s", "k3s-airgap-images-amd64.tar.zst"}
        for asset, digest in sums.items():
            assert hashlib.sha256(get(mirror.url(VERSION, asset))).hexdigest() == digest
        assert b"v1.36.5+k3s1" in get(mirror.url("v1.36.5+k3s1", "k3s"))
        mirror.corrupt(VERSION)
        assert hashlib.sha256(get(mirror.url(VERSION, "k3s"))).hexdigest() != sums["k3s"]
        mirror.repair(VERSION)
        assert hashlib.sha256(get(mirror.url(VERSION, "k3s"))).hexdigest() == sums["k3s"]
        assert "/v1.36.4+k3s1/k3s" in mirror.requests
        mirror.stop()
        with pytest.raises(OSError):
            get(mirror.url(VERSION, "k3s"))

    folder = write_airgap_dir(tmp_path / "airgap", VERSION)
    assert sorted(p.name for p in folder.iterdir()) == ["k3s", "k3s-airgap-images-amd64.tar.zst",
                                                        "sha256sum-amd64.txt"]
    check = subprocess.run(["sha256sum", "-c", "sha256sum-amd64.txt"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_a_rebuilt_host_is_refused_by_its_node_password_until_its_node_is_deleted(hosts, start):
    first, worker = hosts("s1"), hosts("a1")
    first.write_config(server_config(**{"node-name": "s1"}))
    assert start(first, "server").wait_ready()
    worker.write_config({"token": TOKEN, "server": f"https://127.0.0.1:{first.port}", "node-name": "a1"})
    old = start(worker, "agent")
    assert old.wait_ready(), old.log()
    old.stop()
    worker.path("/etc/rancher/node/password").unlink()  # the host was rebuilt: a new node password
    rebuilt = start(worker, "agent")
    assert not rebuilt.wait_ready(3) and "Node password rejected" in rebuilt.log()
    rebuilt.stop()
    kubectl = lambda *args: first.run("kubectl", *args)  # noqa: E731
    deleted = kubectl("delete", "node", "a1")
    assert deleted.returncode == 0 and 'node "a1" deleted' in deleted.stdout, deleted.stderr
    assert kubectl("delete", "node", "a1").returncode == 1
    assert kubectl("delete", "node/a1", "--ignore-not-found").returncode == 0
    again = start(worker, "agent")
    assert again.wait_ready(), again.log()
    assert "a1" in nodes_by_name(first)


def test_the_hardening_guides_files_and_kernel_are_checked_as_the_components_check_them(hosts, start):
    from vpskit.builtin_roles.k3s import hardening
    from tests.unit.test_k3s import ctx_for
    ctx = ctx_for("s1", ["s1"], k3s_hardening=True)
    host = hosts("s")
    guide = {**hardening.component_args(ctx.vars, True), "protect-kernel-defaults": True}
    host.write_config(server_config(**{"node-name": "s1", **guide}))
    for key, value in hardening.KUBELET_KERNEL.items():
        kernel = host.path("/proc/sys/" + key.replace(".", "/"))
        kernel.parent.mkdir(parents=True, exist_ok=True)
        kernel.write_text(f"{value}\n")
    # the admission file is read at start: missing, the API server (and k3s) exits
    result = host.run("server")
    assert result.returncode == 1 and "unable to read admission control configuration" in result.stderr
    for path, text in ((hardening.PSA, hardening.admission_config(ctx.vars)), (hardening.AUDIT_POLICY,
                                                                               hardening.audit_policy())):
        host.path(path).parent.mkdir(parents=True, exist_ok=True)
        host.path(path).write_text(text)
    daemon = start(host, "server")
    assert daemon.wait_ready(), daemon.log()
    daemon.stop()
    # EventRateLimit with no limits, an empty audit policy, a kernel value the kubelet does not want: each ends k3s
    host.path(hardening.PSA).write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\n")
    result = host.run("server")
    assert result.returncode == 1 and "limits: Invalid value: null: must not be empty" in result.stderr
    host.path(hardening.PSA).write_text(hardening.admission_config(ctx.vars))
    host.path(hardening.AUDIT_POLICY).write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n")
    result = host.run("server")
    assert result.returncode == 1 and "illegal policy with 0 rules" in result.stderr
    host.path(hardening.AUDIT_POLICY).write_text(hardening.audit_policy())
    host.path("/proc/sys/kernel/panic").write_text("0\n")
    result = host.run("server")
    assert result.returncode == 1 and "invalid kernel flag: kernel.panic, expected value: 10, actual value: 0" \
        in result.stderr
