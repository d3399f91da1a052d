"""Checklist items from K3s's CIS hardening guide (k3s-io/docs docs/security/hardening-guide.md), read from the
server's effective K3s configuration and live kernel parameters. The k3s role applies the guide with k3s_hardening;
these items say what is missing, whoever wrote the configuration."""

from __future__ import annotations

import yaml

from .items_cluster import on_servers
from .model import Finding, Item, Probes
from .probes import shared

CONFIG = "/etc/rancher/k3s/config.yaml"
# the guide's kernel parameters, which the kubelet checks with protect-kernel-defaults
KERNEL = {"vm.panic_on_oom": "0", "vm.overcommit_memory": "1", "kernel.panic": "10", "kernel.panic_on_oops": "1"}
# keys whose values are credentials: left on the host (the probe's output never holds them)
SECRET_KEYS = ("token", "agent-token", "datastore-endpoint", "etcd-s3-access-key", "etcd-s3-secret-key")
PROBES = {
    "k3s_config": f'for f in {CONFIG} {CONFIG}.d/*.yaml; do [ -f "$f" ] && {{ echo "--- # $f"; '
                  f"grep -v -E '^[[:space:]]*\"?({'|'.join(SECRET_KEYS)})\"?\\+?[[:space:]]*:' \"$f\"; "
                  "echo; }; done; true",
    "k3s_kernel": f"sysctl -n {' '.join(KERNEL)}",
}
AUDIT_ARGS = ("audit-log-path", "audit-policy-file", "audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize")
FIX = "k3s_hardening: true, then invoke bootstrap (or by hand, k3s_extra_config: {%s}; hardening-guide.md)"


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
    live = dict(zip(KERNEL, p.out("k3s_kernel").split())) if p.ok("k3s_kernel") else {}
    wrong = [f"{k}={live.get(k, '?')} (want {want})" for k, want in KERNEL.items() if live.get(k) != want]
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
    needs = {**shared("k3s_role"), **PROBES}
    return [
        Item("hard.k3s-kernel-defaults", "hardening", "warning", "K3s: protect-kernel-defaults and its kernel parameters",
             "the kernel parameters (vm.panic_on_oom=0, vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1) "
             "(the sysctl role sets them with k3s_hardening; a container cannot) then "
             + FIX % "protect-kernel-defaults: true", kernel_defaults, needs),
        Item("hard.k3s-secrets-encryption", "hardening", "critical", "K3s: secrets encrypted at rest",
             "invoke k3s (k3s_secrets_encryption: true)", secrets_encryption, needs),
        Item("hard.k3s-audit-log", "hardening", "warning", "K3s: API server audit logging with rotation",
             FIX % "kube-apiserver-arg+: [audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log, "
                   "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml, audit-log-maxage=30, "
                   "audit-log-maxbackup=10, audit-log-maxsize=100]", audit_log, needs),
        Item("hard.k3s-admission", "hardening", "warning", "K3s: Pod Security Admission configuration",
             FIX % "kube-apiserver-arg+: [enable-admission-plugins=NodeRestriction,EventRateLimit, "
                   "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml]", admission, needs),
        Item("hard.k3s-component-args", "hardening", "info", "K3s: the guide's controller-manager and kubelet arguments",
             FIX % "kube-controller-manager-arg+: [terminated-pod-gc-threshold=10], kubelet-arg+: "
                   "[streaming-connection-idle-timeout=5m, tls-cipher-suites=…]", component_args, needs),
    ]
