"""K3s's CIS hardening guide (k3s-io/docs docs/security/hardening-guide.md, "v1.29 and Newer") as the k3s role
applies it with k3s_hardening: the Pod Security Admission file, the audit policy and log folder, the components'
arguments, and protect-kernel-defaults where the kernel already holds the kubelet's values."""

from __future__ import annotations

import yaml

from vpskit.facts import SysctlFact
from vpskit.resources import Directory, File

SERVER_DIR = "/var/lib/rancher/k3s/server"
PSA = f"{SERVER_DIR}/psa.yaml"
AUDIT_POLICY = f"{SERVER_DIR}/audit.yaml"
AUDIT_LOGS = f"{SERVER_DIR}/logs"
# protect-kernel-defaults in a drop-in of its own: written only where the kernel already agrees
KERNEL_DROP_IN = "/etc/rancher/k3s/config.yaml.d/50-vpskit-protect-kernel-defaults.yaml"
# the guide's kernel parameters (hardening-guide.md "Set kernel parameters"): the sysctl role sets these
KERNEL = {"vm.panic_on_oom": 0, "vm.overcommit_memory": 1, "kernel.panic": 10, "kernel.panic_on_oops": 1}
# what the kubelet compares with protect-kernel-defaults (kubernetes pkg/kubelet/cm/container_manager_linux.go
# setupKernelTunables): the guide's four plus the keyring limits, which are the kernel's own defaults
KUBELET_KERNEL = {**KERNEL, "kernel.keys.root_maxkeys": 1000000, "kernel.keys.root_maxbytes": 25000000}
PLATFORM_NAMESPACES = ("kube-system",)
# the guide's kubelet ciphers
CIPHERS = ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,"
           "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305")
# Kubernetes' documented example limits (admission-controllers.md#eventratelimit): the plugin refuses to start
# with no limits (plugin/pkg/admission/eventratelimit validation: "limits: must not be empty"), and the guide
# enables it without giving any
EVENT_LIMITS = [{"type": "Namespace", "qps": 50, "burst": 100, "cacheSize": 2000},
                {"type": "User", "qps": 10, "burst": 50}]
KERNEL_SKIP = ("protect-kernel-defaults left out: the kernel parameters are not at the kubelet's values, which "
               "would stop the kubelet (a container cannot set kernel.* sysctls; on a VM the sysctl role sets them)")


def exempt_namespaces(v: dict) -> list[str]:
    """kube-system, every stack role's namespace (its *_namespace variable) and the inventory's own. Pure."""
    stack = [value for name, value in v.items() if name.endswith("_namespace") and isinstance(value, str) and value]
    return sorted({*PLATFORM_NAMESPACES, *stack, *(v.get("k3s_pod_security_exempt_namespaces") or [])})


def admission_config(v: dict) -> str:
    """The AdmissionConfiguration at PSA: the guide's PodSecurity defaults at k3s_pod_security_level, platform
    namespaces exempted, and EventRateLimit's limits."""
    level = v["k3s_pod_security_level"]
    defaults = {f"{mode}{suffix}": value for mode in ("enforce", "audit", "warn")
                for suffix, value in (("", level), ("-version", "latest"))}
    document = {
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
        "plugins": [
            {"name": "PodSecurity", "configuration": {
                "apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
                "defaults": defaults,
                "exemptions": {"usernames": [], "runtimeClasses": [], "namespaces": exempt_namespaces(v)}}},
            {"name": "EventRateLimit", "configuration": {
                "apiVersion": "eventratelimit.admission.k8s.io/v1alpha1", "kind": "Configuration",
                "limits": EVENT_LIMITS}},
        ]}
    return _render(document)


def audit_policy() -> str:
    """The guide's starter policy: every request's metadata (never a body, which may hold a Secret)."""
    return _render({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]})


def component_args(v: dict, is_server: bool) -> dict[str, list[str]]:
    """The guide's arguments for this host's components (servers: API server, controller-manager, kubelet;
    agents: kubelet). Pure."""
    args = {"kubelet-arg": ["streaming-connection-idle-timeout=5m", f"tls-cipher-suites={CIPHERS}"]}
    if is_server:
        args["kube-apiserver-arg"] = [
            "enable-admission-plugins=NodeRestriction,EventRateLimit", f"admission-control-config-file={PSA}",
            f"audit-log-path={AUDIT_LOGS}/audit.log", f"audit-policy-file={AUDIT_POLICY}",
            f"audit-log-maxage={int(v['k3s_audit_log_maxage'])}",
            f"audit-log-maxbackup={int(v['k3s_audit_log_maxbackup'])}",
            f"audit-log-maxsize={int(v['k3s_audit_log_maxsize'])}",
            "service-account-extend-token-expiration=false"]
        args["kube-controller-manager-arg"] = ["terminated-pod-gc-threshold=100"]
    return args


def merge_args(settings: dict, ours: dict[str, list[str]]) -> dict:
    """settings with the guide's arguments added: an argument the inventory gives itself (k3s_extra_config's
    same key) keeps the inventory's value, and the guide's others stay. Pure."""
    merged = dict(settings)
    for key, entries in ours.items():
        given = merged.get(key) or []
        given = given if isinstance(given, list) else [given]
        names = {str(e).partition("=")[0] for e in given}
        merged[key] = [e for e in entries if e.partition("=")[0] not in names] + list(given)
    return merged


def kernel_ready(live: dict) -> bool:
    """The kubelet would start with protect-kernel-defaults: each value it checks is what it wants."""
    return all(live.get(k, {}).get("value") == str(want) for k, want in KUBELET_KERNEL.items())


def resources(v: dict, is_server: bool, notify: list[str]) -> list:
    """What the switch writes on this host (on: the guide's files; off: the kernel drop-in removed)."""
    if not v["k3s_hardening"]:
        return [File(KERNEL_DROP_IN, state="absent", notify=notify)]
    kernel = File(KERNEL_DROP_IN, content=_render({"protect-kernel-defaults": True}), mode="0600",
                  notify=notify).when(SysctlFact(*KUBELET_KERNEL), kernel_ready, KERNEL_SKIP)
    if not is_server:
        return [Directory("/etc/rancher/k3s/config.yaml.d"), kernel]
    return [Directory("/etc/rancher/k3s/config.yaml.d"), Directory(SERVER_DIR, mode="0700"),
            Directory(AUDIT_LOGS, mode="0700"),
            File(PSA, content=admission_config(v), mode="0600", notify=notify),
            File(AUDIT_POLICY, content=audit_policy(), mode="0600", notify=notify), kernel]


def _render(document: dict) -> str:
    return "# Managed by vpskit (k3s role, k3s_hardening)\n" + yaml.safe_dump(document, sort_keys=False,
                                                                              default_flow_style=False)
