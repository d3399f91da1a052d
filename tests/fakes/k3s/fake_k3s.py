#!/usr/bin/env python3
"""A FAKE k3s for vpskit's tests only: plain HTTP on 6443 (no TLS, no Kubernetes, no containers); never shipped."""

# What it fakes, for the vpskit K3s role's contract (see tests/fakes/k3s/README.md):
#   k3s --version | server | agent | kubectl get nodes | etcd-snapshot save|ls|delete|prune
# The first server (a server without `server:`) keeps the cluster's state (nodes, start/stop events) in
#   <data-dir>/server/fake-cluster.json; joining servers proxy the API to the server they joined;
#   every node heartbeats once a second, and `Ready` means a heartbeat less than 5 s old.
# FAKE_K3S_ROOT is prefixed to every absolute path it reads or writes; FAKE_K3S_PORT replaces 6443.
# build.py bakes VERSION in, so each version is a different file with a different sha256.

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import platform
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

VERSION = "v1.36.4+k3s1"  # replaced by build.py
GO_VERSION = "go1.24.4"
DEFAULT_PORT = 6443
CONFIG_FILE = "/etc/rancher/k3s/config.yaml"
KUBECONFIG_FILE = "/etc/rancher/k3s/k3s.yaml"
NODE_PASSWORD_FILE = "/etc/rancher/node/password"
DATA_DIR = "/var/lib/rancher/k3s"
HEARTBEAT_SECONDS = 1.0
READY_WITHIN_SECONDS = 5.0
LEARNER_SECONDS = 3.0
JOIN_RETRY_SECONDS = 2.0

# ---------------------------------------------------------------------------------------------------------
# The keys k3s accepts, in config.yaml (without `--`) and as --flags. Written from K3s's documentation:
# docs.k3s.io "k3s server" and "k3s agent" (k3s-io/docs docs/cli/server.md and docs/cli/agent.md, their
# option tables and the "K3s Server CLI Help" / "K3s Agent CLI Help" listings).
# scope: both = server and agent; server = k3s server only; agent = k3s agent only.
# kind: bool | int | str | list (a list also takes one string, as k3s's string-slice flags do).
# check: an extra rule the fake enforces on the value (see CHECKS).
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


class FatalError(Exception):
    """Ends the command with exit status 1 and the message on stderr, as k3s's fatal log lines do."""


def flag_specs() -> dict:
    specs = {}
    for line in FLAG_TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        key, scope, kind, *check = line.split()
        specs[key] = {"scope": scope, "kind": kind, "check": check[0] if check else None}
    return specs


def log(level: str, message: str) -> None:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f'time="{stamp}" level={level} msg="{message}"', file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# paths
class Paths:
    """Every absolute path the fake touches, under FAKE_K3S_ROOT when that is set."""

    def __init__(self, root: str = ""):
        self.root = root.rstrip("/")

    def host(self, path: str | os.PathLike) -> Path:
        path = str(path)
        return Path(self.root + path) if self.root and path.startswith("/") else Path(path)

    def data_dir(self, settings: dict) -> Path:
        return self.host(settings.get("data-dir") or DATA_DIR)


def write_file(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.chmod(tmp, mode)
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------------------
# configuration: config.yaml (+ config.yaml.d/*.yaml) then --flags, strictly checked
def describe(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    return f"{type(value).__name__} {value!r}"


def coerce(key: str, value, spec: dict, where: str):
    """The value as the fake keeps it (bool, int, str or list of str); FatalError naming the key if it is wrong."""
    kind = spec["kind"]
    wrong = FatalError(f'{where}: "{key}" must be {kind_name(kind)}, not {describe(value)}')
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise wrong
    if kind == "int":
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise wrong
    if kind == "str":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise wrong
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    raise wrong


def kind_name(kind: str) -> str:
    return {"bool": "a boolean", "int": "an integer", "str": "a string", "list": "a list of strings"}[kind]


def split_items(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def check_value(key: str, value, check: str | None, where: str) -> None:
    def bad(why: str):
        raise FatalError(f'{where}: "{key}": {why}')

    if check is None:
        return
    if check == "url":
        parsed = urllib.parse.urlparse(value)
        if parsed.scheme != "https" or not parsed.hostname:
            bad(f"{value!r} is not a server URL like https://<address>:6443")
    elif check == "mode":
        if not re.fullmatch(r"0?[0-7]{3}", value):
            bad(f"{value!r} is not a file mode like \"0600\" (quote it in YAML)")
    elif check in ("ip", "ips"):
        for item in split_items(value):
            try:
                ipaddress.ip_address(item)
            except ValueError:
                bad(f"{item!r} is not an IP address")
    elif check == "cidrs":
        for item in split_items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                bad(f"{item!r} is not a CIDR")
    elif check == "port":
        if not 0 < value < 65536:
            bad(f"{value} is not a port")
    elif check == "portrange":
        if not re.fullmatch(r"\d+-\d+", value):
            bad(f"{value!r} is not a port range like 30000-32767")
    elif check == "cron":
        if len(value.split()) != 5 and not value.startswith("@"):
            bad(f"{value!r} is not a cron spec of five fields")
    elif check == "labels":
        for item in value:
            if not re.fullmatch(r"[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*", item):
                bad(f"{item!r} is not a label like key=value")
    elif check == "taints":
        for item in value:
            match = re.fullmatch(r"[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(\w+)", item)
            if not match or match.group(2) not in TAINT_EFFECTS:
                bad(f"{item!r} is not a taint like key=value:NoSchedule")
    elif check in ENUMS:
        for item in split_items(value):
            if item not in ENUMS[check]:
                bad(f"{item!r} is not one of {', '.join(sorted(ENUMS[check]))}")


def accept(settings: dict, key: str, value, role: str, specs: dict, where: str, append_lists: bool = False) -> None:
    """Checks one key for this role and merges it: a `key+` (or a --flag after config) appends to a list;
    anything else replaces, as k3s merges config.yaml, its drop-ins and the command line."""
    append = key.endswith("+")
    name = key[:-1] if append else key
    if name in REMOVED_FLAGS:
        raise FatalError(f'{where}: "{name}" was removed from k3s; use {REMOVED_FLAGS[name]}')
    spec = specs.get(name)
    if spec is None:
        raise FatalError(f'{where}: unknown key "{name}": not a k3s {role} flag')
    if spec["scope"] not in ("both", role):
        raise FatalError(f'{where}: "{name}" is a k3s {spec["scope"]} flag; k3s {role} does not accept it')
    value = coerce(name, value, spec, where)
    if spec["kind"] == "list" and spec["check"]:
        value = split_items(value)
    check_value(name, value, spec["check"], where)
    if spec["kind"] == "list" and (append or append_lists):
        settings[name] = settings.get(name, []) + value
    else:
        settings[name] = value


def config_files(paths: Paths, config_path: str) -> list[Path]:
    main = paths.host(config_path)
    drop_ins = sorted(main.with_name(main.name + ".d").glob("*.yaml")) if main.parent.exists() else []
    return ([main] if main.exists() else []) + drop_ins


def load_yaml_mapping(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise FatalError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FatalError(f"{path}: must be a YAML mapping of flag names to values, not {describe(data)}")
    return data


def parse_flags(argv: list[str], specs: dict) -> list[tuple[str, object]]:
    """--key=value, --key value, -t value and bare boolean --key, in order; strict like urfave/cli."""
    pairs, index = [], 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if not arg.startswith("-") or arg in ("-", "--"):
            raise FatalError(f"unexpected argument {arg!r}: k3s takes only flags here")
        name, has_value, value = arg.lstrip("-").partition("=")
        name = SHORT_FLAGS.get(name, name) if not arg.startswith("--") else name
        spec = specs.get(name)
        if spec is None and name not in REMOVED_FLAGS:
            raise FatalError(f"flag provided but not defined: -{name}")
        if spec and spec["kind"] == "bool" and not has_value:
            pairs.append((name, True))
            continue
        if not has_value:
            if index >= len(argv):
                raise FatalError(f"flag needs an argument: -{name}")
            value = argv[index]
            index += 1
        pairs.append((name, value))
    return pairs


def load_settings(role: str, argv: list[str], paths: Paths, environ: dict) -> dict:
    """The effective settings: config.yaml and its drop-ins, then K3S_TOKEN/K3S_URL, then --flags (strict)."""
    specs = flag_specs()
    flags = parse_flags(argv, specs)
    config_path = next((v for k, v in flags if k == "config"), None) or environ.get("K3S_CONFIG_FILE") or CONFIG_FILE
    settings: dict = {}
    for path in config_files(paths, str(config_path)):
        for key, value in load_yaml_mapping(path).items():
            accept(settings, str(key), value, role, specs, str(path))
    for env_name, key in (("K3S_TOKEN", "token"), ("K3S_URL", "server"), ("K3S_NODE_NAME", "node-name")):
        if environ.get(env_name):
            accept(settings, key, environ[env_name], role, specs, env_name)
    for key, value in flags:
        if key != "config":
            accept(settings, key, value, role, specs, f"--{key}", append_lists=True)
    if settings.get("token-file") and not settings.get("token"):
        settings["token"] = paths.host(settings["token-file"]).read_text().strip()
    if settings.get("agent-token-file") and not settings.get("agent-token"):
        settings["agent-token"] = paths.host(settings["agent-token-file"]).read_text().strip()
    return settings


def critical_values(settings: dict) -> dict:
    values = {}
    for key, default in CRITICAL_DEFAULTS.items():
        value = settings.get(key, default)
        values[key] = ",".join(split_items(value)) if isinstance(value, list) else value
    values["servicelb-disabled"] = "servicelb" in split_items(settings.get("disable", []))
    return values


def node_args(role: str, settings: dict) -> list[str]:
    """What real k3s shows in the k3s.io/node-args annotation: the arguments, secrets hidden."""
    args = [role]
    for key, value in sorted(settings.items()):
        for item in (value if isinstance(value, list) else [value]):
            shown = "********" if key in ("token", "agent-token", "etcd-s3-secret-key", "vpn-auth") else item
            args += [f"--{key}", str(shown).lower() if isinstance(shown, bool) else str(shown)]
    return args


# ---------------------------------------------------------------------------------------------------------
# tokens: K10<ca hash>::server:<secret>, as k3s writes them
class Token:
    """A cluster token: the CA hash and the secret part; a bare token is only a secret."""

    def __init__(self, ca_hash: str | None, secret: str, user: str = "server"):
        self.ca_hash, self.secret, self.user = ca_hash, secret, user

    @classmethod
    def parse(cls, text: str) -> "Token":
        text = text.strip()
        if text.startswith("K10") and "::" in text:
            head, rest = text[3:].split("::", 1)
            user, _, secret = rest.partition(":")
            return cls(head, secret, user)
        return cls(None, text)

    def full(self) -> str:
        return f"K10{self.ca_hash}::{self.user}:{self.secret}"

    def admits(self, presented: str, accept_secrets: tuple[str, ...]) -> bool:
        """k3s compares the secret part, and the CA hash too when a full token is presented."""
        other = Token.parse(presented or "")
        if other.ca_hash is not None and other.ca_hash != self.ca_hash:
            return False
        return bool(other.secret) and any(secrets.compare_digest(other.secret, s) for s in accept_secrets if s)


# ---------------------------------------------------------------------------------------------------------
# systemd readiness
def sd_notify(message: str, environ: dict) -> None:
    address = environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message.encode())


# ---------------------------------------------------------------------------------------------------------
# HTTP (plain: a fake)
class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def http_call(base_url: str, path: str, body=None, timeout: float = 3.0):
    """GET (body None) or POST JSON to an https:// server URL spoken as http://; returns the JSON answer."""
    url = re.sub(r"^https://", "http://", base_url.rstrip("/")) + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = str(exc.reason)
        raise ApiError(exc.code, message) from None
    except urllib.error.URLError as exc:
        raise ApiError(0, str(exc.reason)) from None
    except (TimeoutError, socket.timeout):
        raise ApiError(0, "timed out") from None
    except OSError as exc:
        raise ApiError(0, str(exc)) from None


class ApiHandler(BaseHTTPRequestHandler):
    server_version = "fake-k3s"

    def do_GET(self):
        self._answer(None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"error": "body is not JSON"})
            return
        self._answer(body if isinstance(body, dict) else {})

    def _answer(self, body):
        try:
            status, answer = self.server.api.handle(self.command, self.path, body)
        except ApiError as exc:
            status, answer = exc.status or 503, {"error": str(exc)}
        self._send(status, answer)

    def _send(self, status: int, answer: dict) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, api):
        self.api = api
        super().__init__(address, ApiHandler)


def serve(bind: str, port: int, api) -> ApiServer:
    try:
        server = ApiServer((bind, port), api)
    except OSError as exc:
        raise FatalError(f"listen tcp {bind}:{port}: bind: {exc.strerror or exc}") from None
    threading.Thread(target=server.serve_forever, name="api", daemon=True).start()
    return server


# ---------------------------------------------------------------------------------------------------------
# the cluster's state, kept by the first server
class ClusterState:
    """Nodes, their heartbeats and the servers' start/stop events, saved to a JSON file on every change."""

    def __init__(self, path: Path, token: Token, agent_secret: str | None, etcd: bool, critical: dict):
        self.path, self.token, self.agent_secret = path, token, agent_secret
        self.lock = threading.Lock()
        self.data = json.loads(path.read_text()) if path.exists() else {"nodes": {}, "events": []}
        self.data["etcd"] = self.data.get("etcd", False) or etcd
        self.data["critical"] = critical
        self.save()

    @property
    def etcd(self) -> bool:
        return self.data["etcd"]

    def save(self) -> None:
        write_file(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")

    def admits(self, role: str, presented: str) -> bool:
        allowed = (self.token.secret,) if role == "server" else (self.token.secret, self.agent_secret or "")
        return self.token.admits(presented, allowed)

    def join(self, request: dict) -> dict:
        name, role = str(request.get("name") or ""), request.get("role")
        if not name or role not in ("server", "agent"):
            raise ApiError(400, "join needs a node name and a role (server or agent)")
        if not self.admits(role, request.get("token", "")):
            raise ApiError(401, f"token rejected for {role} {name}")
        if role == "server":
            if not self.etcd:
                raise ApiError(409, "this cluster does not use embedded etcd; start its first server with "
                                    "cluster-init to add servers")
            mismatched = [k for k, v in (request.get("critical") or {}).items() if self.data["critical"].get(k) != v]
            if mismatched:
                raise ApiError(409, "critical configuration value mismatch between servers: "
                                    + ", ".join(sorted(mismatched)))
        self.register(name, role, request.get("version"), request.get("password"))
        answer = {"etcd": self.etcd}
        if role == "server":
            answer["token"] = self.token.full()
        return answer

    def register(self, name: str, role: str, version: str, password: str) -> None:
        """Adds the node, or takes it back if its node password matches the one it first came with."""
        with self.lock:
            node = self.data["nodes"].get(name)
            if node and node.get("password") != password:
                raise ApiError(403, f"Node password rejected, duplicate hostname or contents of "
                                    f"'{NODE_PASSWORD_FILE}' may not match server node-passwd entry ({name})")
            if not node:
                node = self.data["nodes"][name] = {"name": name, "created": time.time(), "password": password}
            node.update(role=role, version=version)
            self.save()

    def heartbeat(self, beat: dict) -> dict:
        name = str(beat.get("name") or "")
        if not self.admits(beat.get("role", "agent"), beat.get("token", "")):
            raise ApiError(401, "token rejected")
        now = time.time()
        with self.lock:
            node = self.data["nodes"].get(name)
            if node is None:
                raise ApiError(404, f"node {name} has not joined")
            if node.get("boot_id") != beat.get("boot_id"):
                node["boot_id"], node["boot_seen"] = beat.get("boot_id"), now
            for field in ("role", "version", "addresses", "labels", "taints", "node_args", "images"):
                node[field] = beat.get(field)
            node["last_heartbeat"] = now
            self.save()
        return {}

    def record_event(self, event: dict) -> dict:
        if not self.admits("server", event.pop("token", "")):
            raise ApiError(401, "token rejected")
        with self.lock:
            self.data["events"].append({k: event.get(k) for k in ("node", "kind", "version", "time", "role")})
            self.save()
        return {}

    def node_list(self) -> dict:
        with self.lock:
            nodes = [dict(n) for n in self.data["nodes"].values()]
        return {"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": str(int(time.time()))},
                "items": [node_object(n, self.etcd, time.time()) for n in sorted(nodes, key=lambda n: n["name"])]}

    def dump(self) -> dict:
        with self.lock:
            data = json.loads(json.dumps(self.data))
        for node in data["nodes"].values():
            node.pop("password", None)
        return data


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_object(node: dict, etcd: bool, now: float) -> dict:
    """One Kubernetes-style Node, from what the node last reported."""
    beat = node.get("last_heartbeat")
    fresh = beat is not None and now - beat < READY_WITHIN_SECONDS
    labels = dict(node.get("labels") or {})
    if node.get("role") == "server":
        labels.update({"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"})
        if etcd:
            labels["node-role.kubernetes.io/etcd"] = "true"
    conditions = [{
        "type": "Ready", "status": "True" if fresh else "Unknown",
        "reason": "KubeletReady" if fresh else "NodeStatusUnknown",
        "message": "kubelet is posting ready status" if fresh else "Kubelet stopped posting node status.",
        "lastHeartbeatTime": iso(beat) if beat else None,
    }]
    if node.get("role") == "server" and etcd:
        voter = now - node.get("boot_seen", now) >= LEARNER_SECONDS
        conditions.append({
            "type": "EtcdIsVoter", "status": ("True" if voter else "False") if fresh else "Unknown",
            "reason": "MemberNotLearner" if voter else "MemberIsLearner",
            "message": "Node is a voting member of the etcd cluster" if voter else "Node is a learner",
        })
    addresses = [{"type": t, "address": a} for t, a in (node.get("addresses") or {}).items() if a]
    taints = []
    for taint in node.get("taints") or []:
        key_value, _, effect = taint.rpartition(":")
        key, _, value = key_value.partition("=")
        taints.append({"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect})
    version = node.get("version") or ""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node["name"], "labels": labels, "creationTimestamp": iso(node.get("created", now)),
                     "annotations": {"k3s.io/node-args": json.dumps(node.get("node_args") or []),
                                     "k3s.io/fake": "true"}},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "addresses": addresses + [{"type": "Hostname", "address": node["name"]}],
            "conditions": conditions,
            "images": node.get("images") or [],
            "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux",
                         "architecture": labels.get("kubernetes.io/arch", "amd64"),
                         "containerRuntimeVersion": "containerd://fake-k3s"},
        },
    }


class LocalApi:
    """The first server's API over its ClusterState."""

    def __init__(self, state: ClusterState):
        self.state = state

    def handle(self, method: str, path: str, body):
        path = path.split("?", 1)[0]
        routes = {
            ("GET", "/ping"): lambda: {"pong": True},
            ("GET", "/nodes"): self.state.node_list,
            ("GET", "/events"): lambda: {"events": self.state.dump()["events"]},
            ("GET", "/state"): self.state.dump,
            ("POST", "/join"): lambda: self.state.join(body),
            ("POST", "/heartbeat"): lambda: self.state.heartbeat(body),
            ("POST", "/event"): lambda: self.state.record_event(body),
        }
        route = routes.get((method, path))
        if route is None:
            raise ApiError(404, f"the fake k3s has no {method} {path}")
        return 200, route()


class ProxyApi:
    """A joining server's API: every request goes on to the server it joined."""

    def __init__(self, upstream: str):
        self.upstream = upstream

    def handle(self, method: str, path: str, body):
        if path == "/ping":
            return 200, {"pong": True}
        return 200, http_call(self.upstream, path, body if method == "POST" else None)


# ---------------------------------------------------------------------------------------------------------
# a running node: the first server, a joining server or an agent
def host_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def local_api_host(settings: dict) -> str:
    """Where this host reaches its own API: loopback, unless k3s was bound to one address."""
    bind = str(settings.get("bind-address") or "0.0.0.0")
    return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind


def outbound_address(host: str, port: int) -> str:
    """The local address the kernel would use to reach host (a UDP connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            return sock.getsockname()[0]
    except OSError:
        return "127.0.0.1"


class Node:
    """One `k3s server` or `k3s agent` process, from start to SIGTERM."""

    def __init__(self, role: str, settings: dict, paths: Paths, environ: dict):
        self.role, self.settings, self.paths, self.environ = role, settings, paths, environ
        self.stopping = threading.Event()
        self.boot_id = secrets.token_hex(8)
        self.data_dir = paths.data_dir(settings)
        self.upstream = settings.get("server")
        self.port = int(settings.get("https-listen-port") or environ.get("FAKE_K3S_PORT") or DEFAULT_PORT)
        self.password = self._node_password()
        name = settings.get("node-name") or socket.gethostname()
        if settings.get("with-node-id"):
            name += "-" + hashlib.sha256(self.password.encode()).hexdigest()[:8]
        self.name = name
        self.token: Token | None = None
        self.state: ClusterState | None = None
        self.api_server: ApiServer | None = None
        self.last_problem = None

    # -- identity ----------------------------------------------------------------------------------------
    def _node_password(self) -> str:
        path = self.paths.host(NODE_PASSWORD_FILE)
        if not path.exists():
            write_file(path, secrets.token_hex(16) + "\n")
        return path.read_text().strip()

    def addresses(self) -> dict:
        ips = split_items(self.settings.get("node-ip", []))
        if ips:
            internal = ips[0]
        elif self.upstream:
            parsed = urllib.parse.urlparse(self.upstream)
            internal = outbound_address(parsed.hostname, parsed.port or DEFAULT_PORT)
        else:
            internal = outbound_address("192.0.2.1", 9)
        external = split_items(self.settings.get("node-external-ip", []))
        return {"InternalIP": internal, "ExternalIP": external[0] if external else None}

    def labels(self) -> dict:
        arch = host_arch()
        labels = {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
                  "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch,
                  "beta.kubernetes.io/instance-type": "k3s", "node.kubernetes.io/instance-type": "k3s"}
        for item in self.settings.get("node-label", []):
            key, _, value = item.partition("=")
            labels[key] = value
        return labels

    def images(self) -> list:
        folder = self.data_dir / "agent" / "images"
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        return [{"names": [f"fake-airgap/{f.name}"], "sizeBytes": f.stat().st_size} for f in files if f.is_file()]

    def heartbeat_body(self) -> dict:
        return {"name": self.name, "role": self.role, "version": VERSION, "boot_id": self.boot_id,
                "token": self.credential(),
                "addresses": self.addresses(), "labels": self.labels(),
                "taints": self.settings.get("node-taint", []), "node_args": node_args(self.role, self.settings),
                "images": self.images()}

    def credential(self) -> str:
        """What this node presents: a server the cluster's full token, an agent the token it was given."""
        return self.token.full() if self.role == "server" and self.token else str(self.settings.get("token"))

    # -- files -------------------------------------------------------------------------------------------
    def server_dir(self) -> Path:
        return self.data_dir / "server"

    def write_tokens(self, token: Token) -> None:
        for name in ("token", "node-token"):
            write_file(self.server_dir() / name, token.full() + "\n")
        if self.settings.get("agent-token"):
            agent = Token(token.ca_hash, Token.parse(self.settings["agent-token"]).secret, "node")
            write_file(self.server_dir() / "agent-token", agent.full() + "\n")

    def first_server_token(self) -> Token:
        """The cluster token: kept from an earlier start, else from config, else random (as k3s does)."""
        path = self.server_dir() / "token"
        configured = Token.parse(str(self.settings["token"])) if self.settings.get("token") else None
        if path.exists():
            token = Token.parse(path.read_text())
            if configured and configured.secret != token.secret:
                raise FatalError("starting kubernetes: preparing server: bootstrap data already found and "
                                 "encrypted with different token")
            return token
        ca_hash = (configured.ca_hash if configured else None) or secrets.token_hex(32)
        return Token(ca_hash, configured.secret if configured else secrets.token_hex(16))

    def write_kubeconfig(self) -> None:
        path = self.paths.host(self.settings.get("write-kubeconfig") or KUBECONFIG_FILE)
        mode = int(self.settings.get("write-kubeconfig-mode") or "0600", 8)

        def pem(what: str) -> str:
            text = f"-----BEGIN {what}-----\nFAKE-K3S {self.token.ca_hash} {self.name}\n-----END {what}-----\n"
            return base64.b64encode(text.encode()).decode()

        api_url = f"https://{local_api_host(self.settings)}:{self.port}"
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": "default",
            "clusters": [{"name": "default", "cluster": {"server": api_url,
                                                         "certificate-authority-data": pem("CERTIFICATE")}}],
            "users": [{"name": "default", "user": {"client-certificate-data": pem("CERTIFICATE"),
                                                   "client-key-data": pem("EC PRIVATE KEY")}}],
            "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
        }
        write_file(path, yaml.safe_dump(kubeconfig, sort_keys=False), mode)
        group = self.settings.get("write-kubeconfig-group")
        if group:
            try:
                os.chown(path, -1, __import__("grp").getgrnam(group).gr_gid)
            except (KeyError, PermissionError) as exc:
                log("warning", f"cannot give {path} to group {group}: {exc}")

    # -- talking to the cluster --------------------------------------------------------------------------
    def call(self, path: str, body=None):
        if self.state is not None:
            return LocalApi(self.state).handle("GET" if body is None else "POST", path, body)[1]
        return http_call(self.upstream, path, body)

    def problem(self, message: str | None) -> None:
        """Logs a problem once while it lasts, and when it ends."""
        if message != self.last_problem:
            if message:
                log("error", message)
            elif self.last_problem:
                log("info", "connection to the cluster restored")
            self.last_problem = message

    def join(self) -> dict | None:
        """Asks the server to admit this node, until it does (None if SIGTERM comes first)."""
        request = {"name": self.name, "role": self.role, "version": VERSION, "token": self.settings["token"],
                   "password": self.password, "critical": critical_values(self.settings) if self.role == "server"
                   else None}
        while not self.stopping.is_set():
            try:
                answer = http_call(self.upstream, "/join", request)
                self.problem(None)
                return answer
            except ApiError as exc:
                if exc.status == 409:
                    raise FatalError(f"starting kubernetes: preparing server: failed to join {self.upstream}: {exc}")
                why = {401: "token rejected (401 Unauthorized)", 403: str(exc)}.get(exc.status, str(exc))
                self.problem(f"failed to join the cluster at {self.upstream}: {why}; retrying every "
                             f"{JOIN_RETRY_SECONDS:g}s")
            self.stopping.wait(JOIN_RETRY_SECONDS)
        return None

    def send_event(self, kind: str) -> None:
        """Records a server's start or stop; one that cannot be sent waits in a file for the next start."""
        event = {"node": self.name, "kind": kind, "version": VERSION, "time": time.time(), "role": self.role}
        pending_path = self.server_dir() / "fake-pending-events.json"
        pending = json.loads(pending_path.read_text()) if pending_path.exists() else []
        unsent = []
        for item in pending + [event]:
            try:
                self.call("/event", {**item, "token": self.token.full()})
            except ApiError as exc:
                log("error", f"cannot record {item['kind']} event of {item['node']}: {exc}")
                unsent.append(item)
        if unsent:
            write_file(pending_path, json.dumps(unsent))
        else:
            pending_path.unlink(missing_ok=True)

    def beat(self) -> None:
        """One heartbeat; a node the server has forgotten joins again."""
        try:
            self.call("/heartbeat", self.heartbeat_body())
            self.problem(None)
        except ApiError as exc:
            self.problem(f"heartbeat to {self.upstream or 'this server'} failed: {exc}")
            if exc.status == 404 and self.state is None:
                try:
                    http_call(self.upstream, "/join", {"name": self.name, "role": self.role, "version": VERSION,
                                                       "token": self.credential(), "password": self.password})
                except ApiError:
                    pass

    def heartbeats(self) -> None:
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            self.beat()

    # -- lifecycle ---------------------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        log("info", f"Starting k3s {self.role} {VERSION} (fake) as node {self.name}")
        if self.role == "agent" or self.upstream:
            started = self.start_joining()
        else:
            started = self.start_first_server()
        if not started:
            return 0
        self.beat()
        threading.Thread(target=self.heartbeats, name="heartbeat", daemon=True).start()
        sd_notify("READY=1", self.environ)
        log("info", f"k3s {self.role} is up")
        while not self.stopping.wait(0.5):
            pass
        sd_notify("STOPPING=1", self.environ)
        log("info", f"k3s {self.role} received SIGTERM, stopping")
        if self.role == "server":
            self.send_event("stop")
        if self.api_server:
            self.api_server.shutdown()
            self.api_server.server_close()
        return 0

    def start_first_server(self) -> bool:
        self.token = self.first_server_token()
        self.write_tokens(self.token)
        etcd = bool(self.settings.get("cluster-init"))
        self.state = ClusterState(self.server_dir() / "fake-cluster.json", self.token,
                                  Token.parse(self.settings.get("agent-token") or "").secret or None,
                                  etcd, critical_values(self.settings))
        if self.state.etcd:
            (self.server_dir() / "db" / "etcd").mkdir(parents=True, exist_ok=True)
        self.state.register(self.name, "server", VERSION, self.password)
        self.api_server = serve(self.settings.get("bind-address") or "0.0.0.0", self.port, LocalApi(self.state))
        self.write_kubeconfig()
        self.send_event("start")
        return True

    def start_joining(self) -> bool:
        missing = [k for k in ("server", "token") if not self.settings.get(k)]
        if missing:
            raise FatalError(f"--{missing[0]} is required")
        answer = self.join()
        if answer is None:
            return False
        if self.role == "agent":
            self.token = Token.parse(str(self.settings["token"]))
            return True
        self.token = Token.parse(answer["token"])
        self.write_tokens(self.token)
        if answer.get("etcd"):
            (self.server_dir() / "db" / "etcd").mkdir(parents=True, exist_ok=True)
        self.api_server = serve(self.settings.get("bind-address") or "0.0.0.0", self.port, ProxyApi(self.upstream))
        self.write_kubeconfig()
        self.send_event("start")
        return True


# ---------------------------------------------------------------------------------------------------------
# k3s kubectl get nodes
def age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def node_table(items: list[dict]) -> str:
    rows = [("NAME", "STATUS", "ROLES", "AGE", "VERSION")]
    now = time.time()
    for item in items:
        labels = item["metadata"]["labels"]
        roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
        ready = next(c for c in item["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
        created = datetime.datetime.strptime(item["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        rows.append((item["metadata"]["name"], "Ready" if ready else "NotReady", ",".join(roles) or "<none>",
                     age(now - created.replace(tzinfo=datetime.timezone.utc).timestamp()),
                     item["status"]["nodeInfo"]["kubeletVersion"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def kubectl(argv: list[str], paths: Paths, environ: dict) -> int:
    output, words, index = None, [], 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg in ("-o", "--output"):
            output = argv[index] if index < len(argv) else ""
            index += 1
        elif arg.startswith(("-o=", "--output=")):
            output = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2:
            output = arg[2:]
        else:
            words.append(arg)
    if len(words) not in (2, 3) or words[0] != "get" or words[1] not in ("nodes", "node", "no") \
            or output not in (None, "json", "wide", "name"):
        print("error: the fake k3s supports only: get nodes [NAME] [-o json|wide|name]", file=sys.stderr)
        return 1
    config_path = paths.host(environ.get("KUBECONFIG") or KUBECONFIG_FILE)
    try:
        server = yaml.safe_load(config_path.read_text())["clusters"][0]["cluster"]["server"]
    except OSError as exc:
        print(f'error: error loading config file "{config_path}": {exc.strerror.lower()}', file=sys.stderr)
        return 1
    try:
        items = http_call(server, "/nodes")["items"]
    except ApiError as exc:
        host = urllib.parse.urlparse(server).netloc
        print(f"The connection to the server {host} was refused - did you specify the right host or port? "
              f"({exc})", file=sys.stderr)
        return 1
    if len(words) == 3:
        items = [i for i in items if i["metadata"]["name"] == words[2]]
        if not items:
            print(f'Error from server (NotFound): nodes "{words[2]}" not found', file=sys.stderr)
            return 1
    if output == "json":
        shown = items[0] if len(words) == 3 else {"apiVersion": "v1", "items": items, "kind": "List",
                                                  "metadata": {"resourceVersion": ""}}
        print(json.dumps(shown, indent=4))
    elif output == "name":
        print("\n".join(f"node/{i['metadata']['name']}" for i in items))
    else:
        print(node_table(items))
    return 0


# ---------------------------------------------------------------------------------------------------------
# k3s etcd-snapshot save|ls|delete|prune
def snapshot_settings(argv: list[str], paths: Paths, environ: dict) -> tuple[str, list[str], dict]:
    """The subcommand, its names and options; config.yaml supplies data-dir, etcd-snapshot-dir and node-name."""
    options, words, index = {}, [], 0
    value_options = {"etcd-snapshot-dir", "dir", "name", "data-dir", "d", "node-name", "snapshot-retention",
                     "etcd-snapshot-retention", "config", "c"}
    while index < len(argv):
        arg = argv[index]
        index += 1
        if not arg.startswith("-"):
            words.append(arg)
            continue
        name, has_value, value = arg.lstrip("-").partition("=")
        if name.startswith(("s3", "etcd-s3")):
            raise FatalError("the fake k3s does not support S3 snapshots")
        if name in ("etcd-snapshot-compress", "compress"):
            continue
        if name not in value_options:
            raise FatalError(f"flag provided but not defined: -{name}")
        if not has_value:
            value = argv[index] if index < len(argv) else ""
            index += 1
        options[{"dir": "etcd-snapshot-dir", "d": "data-dir", "c": "config"}.get(name, name)] = value
    config = paths.host(options.get("config") or environ.get("K3S_CONFIG_FILE") or CONFIG_FILE)
    settings = load_yaml_mapping(config) if config.exists() else {}
    settings.update(options)
    if not words:
        raise FatalError("usage: k3s etcd-snapshot save|ls|delete|prune")
    return words[0], words[1:], settings


def etcd_snapshot(argv: list[str], paths: Paths, environ: dict) -> int:
    command, names, settings = snapshot_settings(argv, paths, environ)
    data_dir = paths.data_dir(settings)
    if not (data_dir / "server" / "db" / "etcd").is_dir():
        raise FatalError(f"etcd database not found in {settings.get('data-dir') or DATA_DIR}/server/db")
    shown_dir = settings.get("etcd-snapshot-dir") or f"{settings.get('data-dir') or DATA_DIR}/server/db/snapshots"
    folder = paths.host(shown_dir)
    prefix = settings.get("name") or "on-demand"
    if command == "save":
        port = int(settings.get("https-listen-port") or environ.get("FAKE_K3S_PORT") or DEFAULT_PORT)
        try:
            state = http_call(f"https://{local_api_host(settings)}:{port}", "/state")
        except ApiError as exc:
            raise FatalError(f"failed to save snapshot: etcd is not reachable on this server: {exc}") from None
        node = settings.get("node-name") or socket.gethostname()
        name = f"{prefix}-{node}-{int(time.time())}"
        write_file(folder / name, json.dumps({"fake-k3s-snapshot": VERSION, "state": state}, indent=1), 0o600)
        log("info", f"Snapshot {name} saved.")
        return 0
    if command in ("ls", "list", "l"):
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        rows = [("Name", "Location", "Size", "Created")] + [
            (f.name, f"file://{shown_dir.rstrip('/')}/{f.name}", str(f.stat().st_size), iso(f.stat().st_mtime))
            for f in files if f.is_file()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        print("\n".join(" ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows))
        return 0
    if command == "delete":
        if not names:
            raise FatalError("etcd-snapshot delete needs the names of the snapshots to delete")
        missing = [n for n in names if "/" in n or not (folder / n).is_file()]
        for name in names:
            if name not in missing:
                (folder / name).unlink()
                log("info", f"Snapshot {name} deleted.")
        if missing:
            raise FatalError(f"snapshot(s) not found: {', '.join(missing)}")
        return 0
    if command == "prune":
        keep = int(settings.get("snapshot-retention") or settings.get("etcd-snapshot-retention") or 5)
        files = sorted((f for f in folder.glob(f"{prefix}-*") if f.is_file()), key=lambda f: f.stat().st_mtime)
        for old in files[:max(0, len(files) - keep)]:
            old.unlink()
            log("info", f"Removing local snapshot {old.name}")
        return 0
    raise FatalError(f"etcd-snapshot: unknown subcommand {command!r}: use save, ls, delete or prune")


# ---------------------------------------------------------------------------------------------------------
def version_text() -> str:
    commit = hashlib.sha256(VERSION.encode()).hexdigest()[:8]
    return f"k3s version {VERSION} ({commit})\ngo version {GO_VERSION}"


def main(argv: list[str], environ: dict) -> int:
    paths = Paths(environ.get("FAKE_K3S_ROOT", ""))
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: k3s --version | server | agent | kubectl get nodes | etcd-snapshot  (a fake, for tests)")
        return 0 if argv else 1
    if argv[0] in ("--version", "-v"):
        print(version_text())
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command in ("server", "agent"):
            return Node(command, load_settings(command, rest, paths, environ), paths, environ).run()
        if command == "kubectl":
            return kubectl(rest, paths, environ)
        if command == "etcd-snapshot":
            return etcd_snapshot(rest, paths, environ)
    except FatalError as exc:
        log("fatal", str(exc))
        return 1
    print(f"the fake k3s does not implement {command!r}: only --version, server, agent, kubectl get nodes, "
          "etcd-snapshot", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dict(os.environ)))
