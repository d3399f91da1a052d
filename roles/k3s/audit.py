"""The k3s role's audit items: version support, nodes (judged by the role's own node_ready), etcd snapshots,
the kubeconfig's mode (the fact the role's Permissions step reads), the API not open to the world (the
firewall's UfwFact), and K3s's CIS hardening guide (k3s-io/docs docs/security/hardening-guide.md) read from the
server's effective configuration and live kernel parameters. The role applies the guide with k3s_hardening;
these items say what is missing, whoever wrote the configuration.

`ready_workloads` and `component` judge the stack's workloads for the roles that install charts into K3s.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import yaml

from vpskit.audit.cluster.objects import WORKLOAD_KINDS
from vpskit.audit.cluster.where import ClusterAccess, cluster, listed, node_kind, on_servers
from vpskit.audit.model import Finding, Item, Probes
from vpskit.facts.files import FileFact
from vpskit.facts.system import SysctlFact
from vpskit.facts.ufw import UfwFact, sources_allowed

from . import CONFIG, KUBECONFIG, node_ready
from .hardening import KERNEL
from .topology import api_port

# how the audit reads the cluster (the engine's workload items and the stack roles' too): K3s's own kubectl, and
# a server or agent told by its unit (vpskit's and K3s's own installer use these names; a server also runs an agent)
CLUSTER = ClusterAccess("K3s", "k3s kubectl",
                        "if [ -f /etc/systemd/system/k3s.service ]; then echo server; "
                        "elif [ -f /etc/systemd/system/k3s-agent.service ]; then echo agent; else exit 1; fi")
# keys whose values are credentials: left on the host (the probe's output never holds them)
SECRET_KEYS = ("token", "agent-token", "datastore-endpoint", "etcd-s3-access-key", "etcd-s3-secret-key")
PROBES = {
    "k3s_version": "command -v k3s >/dev/null && k3s --version",
    "etcd": "test -d /var/lib/rancher/k3s/server/db/etcd && "
            "find /var/lib/rancher/k3s/server/db/snapshots -maxdepth 1 -type f -printf '%T@ %s %f\\n' 2>/dev/null",
    "kubeconfig": FileFact(KUBECONFIG),
    "ufw": UfwFact(),
    "k3s_config": f'for f in {CONFIG} {CONFIG}.d/*.yaml; do [ -f "$f" ] && {{ echo "--- # $f"; '
                  f"grep -v -E '^[[:space:]]*\"?({'|'.join(SECRET_KEYS)})\"?\\+?[[:space:]]*:' \"$f\"; "
                  "echo; }; done; true",
    "k3s_kernel": SysctlFact(*KERNEL),
}
AUDIT_ARGS = ("audit-log-path", "audit-policy-file", "audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize")
FIX = "k3s_hardening: true, then invoke bootstrap (or by hand, k3s_extra_config: {%s}; hardening-guide.md)"


def server(*names: str) -> dict:
    """The probes of these names (this module's or the shared cluster ones), with the server/agent probe."""
    return {**cluster(CLUSTER, *(n for n in names if n not in PROBES)), **{n: PROBES[n] for n in names if n in PROBES}}


def k3s_minor(version_output: str) -> str | None:
    """'1.36' from `k3s --version` output ('k3s version v1.36.4+k3s1 (…)')."""
    found = re.search(r"v(\d+)\.(\d+)\.\d+", version_output)
    return f"{found.group(1)}.{found.group(2)}" if found else None


def version(p: Probes, v: dict) -> Finding:
    if not node_kind(p):
        return Finding.na("K3s is not installed here")
    minor = k3s_minor(p.out("k3s_version"))
    ends = {str(k): (x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x)))
            for k, x in v["audit_k3s_support"].items()}
    if minor not in ends:
        return Finding.warn(f"{p.out('k3s_version').splitlines()[0]}: minor {minor} not in audit_k3s_support")
    left = (ends[minor] - dt.date.today()).days
    text = f"K3s {minor}: patch support ends {ends[minor]} ({left} days)"
    return Finding.fail(text) if left < 0 else Finding.warn(text) if left < v["audit_k3s_support_warn_days"] \
        else Finding.ok(text)


@on_servers
def nodes_ready(p: Probes, v: dict) -> Finding:
    data = listed(p, "nodes")
    if data is None:
        return Finding.fail("kubectl get nodes failed: the API does not answer")
    # the role's own judge of a node (on any version, voter or not: the audit asks only for Ready)
    states = {n["metadata"]["name"]: node_ready(n, None, False) for n in data["items"]}
    bad = [name for name, ready in states.items() if not ready]
    return Finding.fail(f"not Ready: {', '.join(bad)}") if bad else Finding.ok(f"{len(states)} node(s) Ready")


@on_servers
def nodes_cordoned(p: Probes, v: dict) -> Finding:
    """A node left unschedulable (a drain that was interrupted, a cordon forgotten) takes no new pods."""
    data = listed(p, "nodes")
    if data is None:
        return Finding.fail("kubectl get nodes failed: the API does not answer")
    cordoned = sorted(n["metadata"]["name"] for n in data["items"] if (n.get("spec") or {}).get("unschedulable"))
    if cordoned:
        return Finding.warn(f"cordoned (no new pods scheduled there): {', '.join(cordoned)}; "
                            f"k3s kubectl uncordon {' '.join(cordoned)}")
    return Finding.ok(f"{len(data['items'])} node(s) schedulable")


@on_servers
def snapshots(p: Probes, v: dict) -> Finding:
    if not p.ok("etcd"):
        return Finding.na("SQLite datastore (no embedded etcd): the backups role copies it")
    rows = [line.split(" ", 2) for line in p.out("etcd").splitlines() if line.strip()]
    if not rows:
        return Finding.fail("embedded etcd without any snapshot")
    newest = max(float(r[0]) for r in rows)
    hours = (time.time() - newest) / 3600
    text = f"{len(rows)} snapshot(s), newest {hours:.1f} h old"
    return Finding.fail(text) if hours > v["audit_max_snapshot_age_hours"] else Finding.ok(text)


@on_servers
def kubeconfig_mode(p: Probes, v: dict) -> Finding:
    state = p.fact("kubeconfig")
    if not state.exists:
        return Finding.fail(f"{KUBECONFIG} is missing")
    text = f"{KUBECONFIG} mode {state.mode}, owner {state.owner}"
    return Finding.ok(text) if state.mode == "600" and state.owner == "root" else Finding.fail(text)


@on_servers
def api_not_public(p: Probes, v: dict) -> Finding:
    port, state = api_port(v), p.fact("ufw")
    sources = sources_allowed(state["rules"], port)
    if not state["active"]:
        return Finding.fail(f"ufw is not active: {port} is open to the world")
    if "any" in sources:
        return Finding.fail(f"ufw allows {port} from anywhere")
    return Finding.ok(f"{port} allowed from {len(sources)} cluster source(s) only")


def ready_workloads(data: dict | None) -> dict[str, bool]:
    """namespace/name → whether the workload has all its replicas (a DaemonSet: its pods) ready."""
    ready = {}
    for w in (data or {}).get("items", []):
        if w.get("kind") not in WORKLOAD_KINDS:
            continue
        status, kind = w.get("status", {}), w.get("kind", "")
        if kind == "DaemonSet":
            ok = status.get("numberReady", 0) >= max(status.get("desiredNumberScheduled", 1), 1)
        else:
            ok = status.get("readyReplicas", 0) >= max(w.get("spec", {}).get("replicas", 1), 1)
        ready[f"{w['metadata'].get('namespace', '')}/{w['metadata']['name']}"] = ok
    return ready


def component(word: str, name: str):
    """A judge: the stack's workloads whose names contain `word` exist and are ready."""
    @on_servers
    def judge(p: Probes, v: dict) -> Finding:
        ready = {n: ok for n, ok in ready_workloads(listed(p, "workloads")).items() if word in n.split("/")[1]}
        if not ready:
            return Finding.fail(f"no {name} workload")
        bad = [n for n, ok in ready.items() if not ok]
        return Finding.fail(f"not ready: {', '.join(bad)}") if bad else Finding.ok(f"ready: {', '.join(sorted(ready))}")
    return judge


def effective_config(text: str) -> dict:
    """config.yaml then its drop-ins in order, merged as K3s merges them (k3s-io/k3s pkg/configfilearg): a later
    file's key replaces an earlier one's, `KEY+` appends to a list."""
    merged: dict = {}
    for document in yaml.safe_load_all(text):
        for key, value in (document or {}).items():
            name = str(key).rstrip("+")
            if str(key).endswith("+"):
                old = merged.get(name) or []
                merged[name] = (old if isinstance(old, list) else [old]) + (value if isinstance(value, list) else [value])
            else:
                merged[name] = value
    return merged


def _args(config: dict, key: str) -> dict[str, str]:
    """A component's `*-arg` list as name → value ('name=value' entries, as K3s passes them on)."""
    value = config.get(key) or []
    entries = value if isinstance(value, list) else [value]
    return dict(str(e).partition("=")[::2] for e in entries)


def _config(p: Probes) -> dict:
    return effective_config(p.out("k3s_config"))


@on_servers
def kernel_defaults(p: Probes, v: dict) -> Finding:
    live = {k: found.get("value", "") for k, found in p.fact("k3s_kernel").items()}
    wrong = [f"{k}={live.get(k) or '?'} (want {want})" for k, want in KERNEL.items() if live.get(k) != str(want)]
    protect = _config(p).get("protect-kernel-defaults") is True
    problems = wrong + ([] if protect else ["protect-kernel-defaults not true"])
    return Finding.fail("; ".join(problems)) if problems else \
        Finding.ok("protect-kernel-defaults with the guide's kernel parameters")


@on_servers
def secrets_encryption(p: Probes, v: dict) -> Finding:
    return Finding.ok("secrets-encryption: true") if _config(p).get("secrets-encryption") is True else \
        Finding.fail("secrets-encryption is not on in the K3s config")


@on_servers
def audit_log(p: Probes, v: dict) -> Finding:
    args = _args(_config(p), "kube-apiserver-arg")
    missing = [a for a in AUDIT_ARGS if a not in args]
    return Finding.fail(f"kube-apiserver-arg lacks {', '.join(missing)}") if missing else \
        Finding.ok(f"API server audit log {args['audit-log-path']}, policy {args['audit-policy-file']}")


@on_servers
def admission(p: Probes, v: dict) -> Finding:
    args = _args(_config(p), "kube-apiserver-arg")
    plugins = set(args.get("enable-admission-plugins", "").split(","))
    problems = ([] if "admission-control-config-file" in args else
                ["no admission-control-config-file (the Pod Security Admission configuration)"])
    problems += [f"enable-admission-plugins lacks {x}" for x in ("NodeRestriction", "EventRateLimit")
                 if x not in plugins]
    return Finding.fail("; ".join(problems)) if problems else \
        Finding.ok(f"admission configuration {args['admission-control-config-file']}")


@on_servers
def component_args(p: Probes, v: dict) -> Finding:
    config = _config(p)
    wanted = {"kube-controller-manager-arg": ("terminated-pod-gc-threshold",),
              "kubelet-arg": ("streaming-connection-idle-timeout", "tls-cipher-suites")}
    missing = [f"{key} {name}" for key, names in wanted.items() for name in names if name not in _args(config, key)]
    return Finding.fail(f"lacking: {', '.join(missing)}") if missing else Finding.ok("the guide's component arguments")


def items(v: dict) -> list[Item]:
    return cluster_items(v) + hardening_items(v)


def cluster_items(v: dict) -> list[Item]:
    return [
        Item("k8s.version", "kubernetes", "warning", "K3s version inside its support window", "invoke k3s.upgrade",
             version, server("k3s_version"), rank=10),
        Item("k8s.nodes-ready", "kubernetes", "critical", "All nodes Ready", "invoke k3s", nodes_ready, server("nodes"),
             rank=20),
        Item("k8s.nodes-cordoned", "kubernetes", "warning", "No node left cordoned",
             "k3s kubectl uncordon NODE (on a server), once the node is healthy", nodes_cordoned, server("nodes"),
             rank=30),
        Item("k8s.etcd-snapshots", "kubernetes", "critical", "etcd snapshots recent (HA)", "invoke backups", snapshots,
             server("etcd"), rank=40),
        Item("k8s.kubeconfig-mode", "kubernetes", "critical", "Server kubeconfig private (0600)", "invoke k3s",
             kubeconfig_mode, server("kubeconfig"), rank=50),
        Item("k8s.api-not-public", "kubernetes", "critical", "API (6443) not open to the world", "invoke firewall",
             api_not_public, server("ufw"), rank=60),
    ]


def hardening_items(v: dict) -> list[Item]:
    hardening = server("k3s_config", "k3s_kernel")
    return [
        Item("hard.k3s-kernel-defaults", "hardening", "warning", "K3s: protect-kernel-defaults and its kernel parameters",
             "the kernel parameters (vm.panic_on_oom=0, vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1) "
             "(the sysctl role sets them with k3s_hardening; a container cannot) then "
             + FIX % "protect-kernel-defaults: true", kernel_defaults, hardening, rank=50),
        Item("hard.k3s-secrets-encryption", "hardening", "critical", "K3s: secrets encrypted at rest",
             "invoke k3s (k3s_secrets_encryption: true)", secrets_encryption, hardening, rank=60),
        Item("hard.k3s-audit-log", "hardening", "warning", "K3s: API server audit logging with rotation",
             FIX % "kube-apiserver-arg+: [audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log, "
                   "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml, audit-log-maxage=30, "
                   "audit-log-maxbackup=10, audit-log-maxsize=100]", audit_log, hardening, rank=70),
        Item("hard.k3s-admission", "hardening", "warning", "K3s: Pod Security Admission configuration",
             FIX % "kube-apiserver-arg+: [enable-admission-plugins=NodeRestriction,EventRateLimit, "
                   "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml]", admission, hardening,
             rank=80),
        Item("hard.k3s-component-args", "hardening", "info", "K3s: the guide's controller-manager and kubelet arguments",
             FIX % "kube-controller-manager-arg+: [terminated-pod-gc-threshold=10], kubelet-arg+: "
                   "[streaming-connection-idle-timeout=5m, tls-cipher-suites=…]", component_args, hardening, rank=90),
    ]
