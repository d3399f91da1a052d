"""The objects of one `kubectl get KINDS -A -o json` batch, read into what the checks need: workloads with their
pod template, and the objects that select pods (PodDisruptionBudgets, NetworkPolicies, Services, monitors).

Field names are the Kubernetes API's (k8s.io/api apps/v1, core/v1, policy/v1, networking/v1, autoscaling/v2;
monitoring.coreos.com/v1 for ServiceMonitor and PodMonitor); absent fields are the API's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# what the audit asks kubectl for in one call (the monitors are CRDs: a separate call, which may fail alone)
BATCH_KINDS = ("namespaces", "serviceaccounts", "deployments", "statefulsets", "daemonsets", "poddisruptionbudgets",
               "networkpolicies", "services", "horizontalpodautoscalers")
MONITOR_KINDS = ("servicemonitors", "podmonitors")


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    spec: dict  # the workload's spec
    pod: dict  # spec.template.spec
    labels: dict  # spec.template.metadata.labels: what selectors match

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"

    @property
    def replicas(self) -> int:
        """spec.replicas (the API defaults it to 1); a DaemonSet runs one a node, counted as 1 here."""
        value = self.spec.get("replicas")
        return 1 if value is None else int(value)

    def containers(self, init: bool = False) -> list[dict]:
        """The app containers, and with init=True the init containers too (Pod Security checks both)."""
        return list(self.pod.get("containers") or []) + (list(self.pod.get("initContainers") or []) if init else [])


@dataclass(frozen=True)
class Cluster:
    """The audited namespaces' objects. `monitors` is None when the ServiceMonitor/PodMonitor kinds are not served."""

    workloads: list[Workload]
    namespaces: dict[str, dict]  # name → labels
    objects: dict[str, list[dict]]  # kind → objects (PodDisruptionBudget, NetworkPolicy, Service, …)
    monitors: list[dict] | None = None
    nodes: int = 1

    def of(self, kind: str, namespace: str) -> list[dict]:
        return [o for o in self.objects.get(kind, []) if _meta(o).get("namespace") == namespace]


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """A metav1.LabelSelector against labels, as apimachinery's LabelSelectorAsSelector reads it: matchLabels and
    every matchExpressions entry must hold; an empty selector ({}) matches everything, a null one nothing."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def service_selects(service: dict, labels: dict) -> bool:
    """A Service's spec.selector (a plain map, not a LabelSelector): none or empty selects no pods."""
    wanted = (service.get("spec") or {}).get("selector") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def _workload(obj: dict) -> Workload:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    return Workload(obj["kind"], _meta(obj).get("namespace", "default"), _meta(obj)["name"], spec,
                    template.get("spec") or {}, (template.get("metadata") or {}).get("labels") or {})


def read_cluster(batch: dict, monitors: dict | None, audited, nodes: int = 1) -> Cluster:
    """The objects of the namespaces `audited(name)` accepts. `batch`, `monitors`: kubectl's List objects."""
    by_kind: dict[str, list[dict]] = {}
    namespaces = {}
    for obj in batch.get("items") or []:
        kind = obj.get("kind", "")
        if kind == "Namespace":
            if audited(_meta(obj).get("name", "")):
                namespaces[_meta(obj)["name"]] = _meta(obj).get("labels") or {}
        elif audited(_meta(obj).get("namespace", "")):
            by_kind.setdefault(kind, []).append(obj)
    workloads = [_workload(o) for kind in WORKLOAD_KINDS for o in by_kind.pop(kind, [])]
    found = None if monitors is None else [m for m in monitors.get("items") or []]
    return Cluster(sorted(workloads, key=lambda w: w.ref), namespaces, by_kind, found, max(1, nodes))


@dataclass(frozen=True)
class Scope:
    """Which namespaces are audited: the listed ones, or every one but the platform's."""

    listed: tuple[str, ...] | None
    platform: frozenset[str] = field(default_factory=frozenset)

    def __call__(self, namespace: str) -> bool:
        return namespace in self.listed if self.listed is not None else namespace not in self.platform


def scope(variables: dict) -> Scope:
    """audit_namespaces, or (null) all but audit_platform_namespaces and every role's `*_namespace` value (the
    namespaces the stack installs itself into)."""
    listed = variables.get("audit_namespaces")
    own = {str(v) for k, v in variables.items() if k.endswith("_namespace") and isinstance(v, str) and v}
    platform = frozenset(set(variables.get("audit_platform_namespaces") or ()) | own)
    return Scope(None if listed is None else tuple(listed), platform)
