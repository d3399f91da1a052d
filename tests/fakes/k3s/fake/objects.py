"""`k3s kubectl get KIND[,KIND…] [-n NS | -A] -o json` for the kinds vpskit's audit reads: what K3s's deploy
controller applied from the auto-deploy folder, what the cluster makes by itself, and the helm controller's
workloads (helm.py), in kubectl's List envelope.

- The deploy controller (k3s-io/k3s pkg/deploy/controller.go) applies every `.yaml`, `.yml` and `.json` file of
  server/manifests, each document an object, and skips FILE when FILE.skip exists. A namespaced object goes to
  metadata.namespace or `default`; one whose namespace does not exist is refused by the API server (not served).
- The API server and controllers add: the namespaces default, kube-system, kube-public and kube-node-lease
  (pkg/controlplane), the `kubernetes.io/metadata.name` label on every Namespace (the NamespaceDefaultLabelName
  admission, 1.21+), a `default` ServiceAccount in each namespace (pkg/controller/serviceaccount), the
  `default/kubernetes` Service, metadata.uid / resourceVersion / creationTimestamp / generation, and the status of
  a workload whose pods are all ready (pods are not faked).
- kubectl (k8s.io/kubectl get.go) prints the kinds in the order asked, each sorted by namespace then name (the
  API server lists in key order); a kind the server does not serve fails the whole call with `error: the server
  doesn't have a resource type "KIND"` (cli-runtime's RESTMapper), as do the monitoring kinds until a CRD for
  them is installed (here: only by a rendered chart, klipper.py).
"""

import datetime
import json
import uuid

import yaml

from . import helm, kinds, klipper

# resource (plural, as kubectl's discovery names it, and its short names) → (apiVersion, kind, namespaced)
RESOURCES = {
    "namespaces": ("v1", "Namespace", False), "serviceaccounts": ("v1", "ServiceAccount", True),
    "services": ("v1", "Service", True), "deployments": ("apps/v1", "Deployment", True),
    "statefulsets": ("apps/v1", "StatefulSet", True), "daemonsets": ("apps/v1", "DaemonSet", True),
    "poddisruptionbudgets": ("policy/v1", "PodDisruptionBudget", True),
    "networkpolicies": ("networking.k8s.io/v1", "NetworkPolicy", True),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler", True),
    "servicemonitors": ("monitoring.coreos.com/v1", "ServiceMonitor", True),
    "podmonitors": ("monitoring.coreos.com/v1", "PodMonitor", True),
}
SHORT = {"ns": "namespaces", "sa": "serviceaccounts", "svc": "services", "deploy": "deployments",
         "sts": "statefulsets", "ds": "daemonsets", "pdb": "poddisruptionbudgets", "netpol": "networkpolicies",
         "hpa": "horizontalpodautoscalers", "smon": "servicemonitors", "pmon": "podmonitors"}
BUILTIN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}


def resource_of(word: str) -> str | None:
    word = SHORT.get(word, word)
    if word in RESOURCES:
        return word
    return next((r for r, (_, kind, _) in RESOURCES.items() if kind.lower() == word), None)


def _plural(kind: str) -> str:
    low = kind.lower()
    return low[:-1] + "ies" if low.endswith("y") else low + "es" if low.endswith("s") else low + "s"


def _real_but_not_faked(word: str) -> bool:
    """A kind real K3s serves (kinds.py) that this fake does not list."""
    return any(word in (k.lower(), _plural(k)) for table in (kinds.BUILTIN, kinds.K3S) for api in table.values()
               for k in api)


def _stamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _applied(paths) -> list[tuple[dict, float]]:
    """The documents of the auto-deploy folder, with their file's time, HelmCharts left to helm.py."""
    folder = paths.host(helm.MANIFESTS)
    found = []
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        if file.suffix not in (".yaml", ".yml", ".json") or file.with_name(file.name + ".skip").exists():
            continue
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except (OSError, yaml.YAMLError):
            continue  # the deploy controller logs the error and applies nothing of the file
        found += [(d, file.stat().st_mtime) for d in documents if isinstance(d, dict) and d.get("kind")
                  and d.get("kind") not in ("HelmChart", "HelmChartConfig")]
    return found


def _served(obj: dict, namespace: str | None, created: float) -> dict:
    obj = json.loads(json.dumps(obj))
    meta = obj.setdefault("metadata", {})
    if namespace is not None:
        meta["namespace"] = namespace
    key = f"{obj['kind']}/{namespace or ''}/{meta.get('name')}"
    meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, key)))
    meta.setdefault("resourceVersion", "1")
    meta.setdefault("creationTimestamp", _stamp(created))
    if obj["kind"] == "Namespace":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active"}
    if obj["kind"] in WORKLOADS:
        meta.setdefault("generation", 1)
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        obj["status"] = helm.ready_status(obj["kind"], replicas)
    return obj


def cluster_objects(paths) -> dict[str, list[dict]]:
    """kind → every object the cluster holds of the kinds in RESOURCES."""
    by_kind: dict[str, list[dict]] = {kind: [] for _, kind, _ in RESOURCES.values()}
    namespaced = {kind for _, kind, scoped in RESOURCES.values() if scoped}
    applied = _applied(paths)
    names = set(BUILTIN_NAMESPACES) | {(d.get("metadata") or {}).get("name") for d, _ in applied
                                       if d["kind"] == "Namespace"} | helm.chart_namespaces(paths)
    by_kind["Namespace"] = [_served({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}, None, 0)
                            for n in names - {d["metadata"]["name"] for d, _ in applied if d["kind"] == "Namespace"}]
    by_kind["ServiceAccount"] = [_served({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
                                         n, 0) for n in names]
    by_kind["Service"] = [_served({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes"},
                                   "spec": {"clusterIP": "10.43.0.1", "ports": [{"name": "https", "port": 443,
                                            "protocol": "TCP", "targetPort": 6443}], "type": "ClusterIP"}},
                                  "default", 0)]
    for doc, created in applied:
        kind = doc["kind"]
        if kind not in by_kind:
            continue
        namespace = ((doc.get("metadata") or {}).get("namespace") or "default") if kind in namespaced else None
        if namespace is not None and namespace not in names:
            continue
        if kind == "ServiceAccount":  # the manifest's default account replaces the controller's
            by_kind[kind] = [a for a in by_kind[kind] if (a["metadata"]["namespace"], a["metadata"]["name"]) !=
                             (namespace, doc["metadata"].get("name"))]
        by_kind[kind].append(_served(doc, namespace, created))
    for namespace in sorted(names):
        for item in json.loads(helm.get_workloads(paths, namespace, list(helm.WORKLOAD_KINDS)))["items"]:
            by_kind[item["kind"]].append(item)
    return by_kind


def _custom_served(paths, api: str, kind: str) -> bool:
    state = helm.load(paths)
    return f"{api} {kind}" in klipper.served(state, float("inf"))


def get(paths, words: list[str], namespace: str, all_namespaces: bool) -> tuple[int, str]:
    """`get R1,R2 -o json`: (exit status, output)."""
    wanted = []
    for word in ",".join(words).split(","):
        resource = resource_of(word)
        if resource is None and _real_but_not_faked(word):
            return 1, f"error: the fake k3s does not list {word} (it lists {', '.join(RESOURCES)})"
        if resource is None or (RESOURCES[resource][0].startswith("monitoring.") and
                                not _custom_served(paths, *RESOURCES[resource][:2])):
            return 1, f'error: the server doesn\'t have a resource type "{word}"'
        wanted.append(resource)
    everything = cluster_objects(paths)
    items = []
    for resource in dict.fromkeys(wanted):
        api, kind, scoped = RESOURCES[resource]
        chosen = [o for o in everything[kind] if not scoped or all_namespaces or o["metadata"]["namespace"] == namespace]
        items += sorted(chosen, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        for item in items:
            item.setdefault("apiVersion", api)
    return 0, json.dumps({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
                         indent=4)
