"""What the components K3s runs refuse at start from its *-arg lists and protect-kernel-defaults: the kubelet's
kernel check, the API server's admission configuration and audit policy files. K3s exits when they do."""

import yaml

from .logs import FatalError

# kubernetes pkg/kubelet/cm/container_manager_linux.go (setupKernelTunables): what protect-kernel-defaults compares
KUBELET_KERNEL = {"vm.overcommit_memory": 1, "vm.panic_on_oom": 0, "kernel.panic": 10, "kernel.panic_on_oops": 1,
                  "kernel.keys.root_maxkeys": 1000000, "kernel.keys.root_maxbytes": 25000000}
PSS_LEVELS = {"privileged", "baseline", "restricted"}


def args(settings: dict, key: str) -> dict[str, str]:
    """A component's arguments as K3s passes them on (`name=value` entries, a later one replacing)."""
    value = settings.get(key) or []
    return dict(str(e).partition("=")[::2] for e in (value if isinstance(value, list) else [value]))


def check_components(role: str, settings: dict, paths) -> None:
    """Exits as K3s does when its kubelet or (on a server) its API server would not start."""
    if settings.get("protect-kernel-defaults"):
        check_kernel(paths)
    if role == "server":
        apiserver = args(settings, "kube-apiserver-arg")
        plugins = set(filter(None, apiserver.get("enable-admission-plugins", "").split(",")))
        if "admission-control-config-file" in apiserver:
            check_admission(paths, apiserver["admission-control-config-file"], plugins)
        elif "EventRateLimit" in plugins:
            fail_apiserver("EventRateLimit: invalid configuration: limits: Invalid value: null: must not be empty")
        if "audit-policy-file" in apiserver:
            check_audit_policy(paths, apiserver["audit-policy-file"])


def check_kernel(paths) -> None:
    # KernelTunableError: every differing or unreadable value listed, then the kubelet exits
    problems = []
    for key, want in KUBELET_KERNEL.items():
        path = paths.host("/proc/sys/" + key.replace(".", "/"))
        try:
            value = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError) as exc:
            problems.append(f"open {path}: {exc}")
            continue
        if value != want:
            problems.append(f"invalid kernel flag: {key}, expected value: {want}, actual value: {value}")
    if problems:
        raise FatalError(f"kubelet exited: failed to run Kubelet: [{', '.join(problems)}]")


def fail_apiserver(message: str) -> None:
    raise FatalError(f"apiserver exited: {message}")


def _load(paths, path: str, what: str):
    try:
        return yaml.safe_load(paths.host(path).read_text())
    except OSError as exc:
        fail_apiserver(f"unable to read {what} from {path!r} [{exc}]")
    except yaml.YAMLError as exc:
        fail_apiserver(f"unable to decode {what} from {path!r}: {exc}")


def check_admission(paths, path: str, plugins: set) -> None:
    """k8s.io/apiserver pkg/admission/config.go (ReadAdmissionConfiguration) and the plugins' own validation."""
    document = _load(paths, path, "admission control configuration")
    if not isinstance(document, dict) or document.get("kind") != "AdmissionConfiguration":
        fail_apiserver(f"unable to read admission control configuration from {path!r}: not an AdmissionConfiguration")
    configs = {p.get("name"): p.get("configuration") for p in document.get("plugins") or [] if isinstance(p, dict)}
    if "EventRateLimit" in plugins and not (configs.get("EventRateLimit") or {}).get("limits"):
        # plugin/pkg/admission/eventratelimit/apis/eventratelimit/validation/validation.go
        fail_apiserver("EventRateLimit: invalid configuration: limits: Invalid value: null: must not be empty")
    defaults = (configs.get("PodSecurity") or {}).get("defaults") or {}
    for mode in ("enforce", "audit", "warn"):
        if defaults.get(mode, "privileged") not in PSS_LEVELS:
            # k8s.io/pod-security-admission admission/api/validation
            fail_apiserver(f"PodSecurity: invalid configuration: defaults.{mode}: Unsupported value: "
                           f"{defaults[mode]!r}: supported values: \"baseline\", \"privileged\", \"restricted\"")


def check_audit_policy(paths, path: str) -> None:
    """k8s.io/apiserver pkg/audit/policy/reader.go (LoadPolicyFromFile)."""
    document = _load(paths, path, "audit policy")
    if not isinstance(document, dict) or document.get("kind") != "Policy":
        fail_apiserver(f"failed decoding file {path!r}: not an audit Policy")
    if not document.get("rules"):
        fail_apiserver(f"loaded illegal policy with 0 rules from file {path}")
