"""One run of the helm-install job's pod: klipper-helm's `entry` script (k3s-io/klipper-helm, read at
v0.13.3-build20260727, commit 09c5242) with a real `helm template` standing in for `helm install|upgrade`.

What the script and helm do, and the fake copies:
- no release yet → `helm install` (entry helm_update, "No current version and status, safe to install");
- release `deployed` → `helm upgrade` (entry, "Upgrade only if the chart is already deployed");
- release `failed` → FAILURE_POLICY (entry, the `case "${FAILURE_POLICY:-reinstall}"`): `abort` exits 1 and
  waits for an operator; `reinstall` runs `helm uninstall --wait` (every object of the release goes, PVCs the chart
  templates included; only `helm.sh/resource-policy: keep` objects and crds/ CRDs stay) then installs anew;
  `retry` runs `helm upgrade` and exits 0 whatever it returned.
- helm install applies a chart's crds/ CRDs before it renders (helm pkg/action/install.go RunWithContext,
  installCRDs); helm upgrade never touches crds/ (pkg/action/upgrade.go);
- a render error, or an object whose kind the cluster does not serve, fails before the release is stored
  (install.go: "unable to build kubernetes objects from release manifest"; upgrade.go: "… from new release
  manifest"), so the release stays as it was and the next try does the same thing again; the kind message is
  k8s.io/cli-runtime's resource mapper's ("resource mapping not found … ensure CRDs are installed first");
- an upgrade drops the objects the new manifest no longer has (unless kept); `helm uninstall` (also the
  helm-delete job of a deleted HelmChart: entry, `if [[ "$1" = "delete" ]]`) deletes the release's objects.
What a real apply could refuse (immutable fields, webhooks) is not known to the fake: fake-helm.yaml's
`outcome: fail` stands for it (the release is stored as failed, with `log` as helm's message).
"""

import hashlib
import json

from . import kinds, render

KEEP = "helm.sh/resource-policy"
OPERATOR_STS = {"Prometheus": "prometheus", "Alertmanager": "alertmanager"}
CRD = "CustomResourceDefinition"


def release_hash(spec: dict, config: dict | None) -> str:
    """What helm-controller's configHash covers (chart.go hashObjects: the job template and the values)."""
    text = json.dumps({"spec": spec, "config": config}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def failure_policy(spec: dict, config: dict | None) -> str:
    """reinstall unless the HelmChart says otherwise; a HelmChartConfig's wins (chart.go getJobAndRelatedResources)."""
    return (config or {}).get("failurePolicy") or spec.get("failurePolicy") or "reinstall"


def served(cluster: dict, at: float) -> set[str]:
    """The kinds the cluster serves at time `at`: the fresh cluster's and those of CRDs installed by then."""
    added = {k for k, v in cluster["crds"].items() if v["at"] <= at}
    return kinds.served_at_start(cluster["traefik"]) | added


def api_versions(cluster: dict, at: float) -> list[str]:
    """What helm's capabilities list for the custom kinds served at `at` (discovery: group/version and
    group/version/Kind), sorted."""
    builtin = {f"{api} {kind}" for api, names in kinds.BUILTIN.items() for kind in names}
    custom = served(cluster, at) - builtin
    return sorted({part for item in custom for part in (item.split(" ")[0], item.replace(" ", "/"))})


def mapping_errors(objects: list[dict], serving: set[str]) -> list[str]:
    errors = []
    for obj in objects:
        if f"{obj.get('apiVersion')} {obj.get('kind')}" in serving:
            continue
        api = str(obj.get("apiVersion", ""))
        meta = obj.get("metadata") or {}
        errors.append(f'resource mapping not found for name: "{meta.get("name", "")}" namespace: '
                      f'"{meta.get("namespace", "")}" from "": no matches for kind "{obj.get("kind")}" in version '
                      f'"{api}"\nensure CRDs are installed first')
    return errors


def summary(objects: list[dict]) -> list[dict]:
    """What the fake keeps of a release's objects."""
    kept = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        kept.append({"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": meta.get("name"),
                     "namespace": obj["_namespace"], "crds_dir": obj["_crds_dir"],
                     "keep": (meta.get("annotations") or {}).get(KEEP) == "keep",
                     "spec": _kept_spec(obj)})
    return kept


def _kept_spec(obj: dict):
    spec = obj.get("spec") or {}
    if obj.get("kind") == CRD:
        return {"group": spec.get("group"), "names": {"kind": (spec.get("names") or {}).get("kind")},
                "versions": [{"name": v.get("name"), "served": v.get("served", True)}
                             for v in spec.get("versions") or []]}
    if obj.get("apiVersion") == "monitoring.coreos.com/v1" and obj.get("kind") in OPERATOR_STS:
        # prometheus-operator makes a StatefulSet `KIND-NAME` whose claims come from spec.storage
        template = (spec.get("storage") or {}).get("volumeClaimTemplate")
        prefix = f"{OPERATOR_STS[obj['kind']]}-{(obj.get('metadata') or {}).get('name')}"
        claim = ((template.get("metadata") or {}).get("name") or f"{prefix}-db") if template else None
        return {"statefulSet": prefix, "volumeClaimTemplates": [claim] if claim else [],
                "whenDeleted": (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted", "Retain")}
    if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
        return {"replicas": spec.get("replicas", 1),
                "volumeClaimTemplates": [(t.get("metadata") or {}).get("name")
                                         for t in spec.get("volumeClaimTemplates") or []],
                "whenDeleted": (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted", "Retain")}
    return None


class Attempt:
    """One pod run: its log lines, whether it exited 0, and how it changed the release and the cluster."""

    def __init__(self, chart: str, record: dict, cluster: dict, at: float, ends: float | None, plan: dict,
                 kube_version: str, paths, renders: dict | None = None):
        self.chart, self.record, self.cluster, self.at, self.ends = chart, record, cluster, at, ends
        self.plan, self.kube_version, self.paths = plan, kube_version, paths
        self.renders = {} if renders is None else renders  # one kubectl call's renders, by release hash
        self.log: list[str] = []
        self.deleted: list[str] = []  # "why namespace kind/name" of what helm deleted

    def run(self) -> bool:
        spec, config = self.record["spec"], self.record.get("config")
        release = self.record.get("release")
        namespace = spec.get("targetNamespace") or "kube-system"
        if not release:
            return self.install(namespace)
        if release["status"] == "deployed":
            self.log.append(f"Already installed {self.chart}")
            self.log.append(f"Upgrading {self.chart}")
            return self.upgrade(namespace)
        policy = failure_policy(spec, config)
        if policy == "abort":
            self.log.append(f"Release status is '{release['status']}' and failure policy is 'abort'; "
                            "waiting for operator intervention")
            return False
        if policy == "retry":
            self.log.append(f"Upgrading {self.chart} from failed state")
            self.upgrade(namespace)
            return True  # entry: `helm upgrade …` then `exit 0`
        self.uninstall("reinstall")
        self.log.append("Deleted")
        return self.install(namespace)

    def _render(self, verb: str):
        self.log.append(" ".join(["+ helm", verb, *job_args(self.chart, self.record["spec"])]))
        apis = api_versions(self.cluster, self.at)
        key = (self.record["hash"], tuple(apis))
        if key not in self.renders:
            try:
                self.renders[key] = render.render(self.paths, self.chart, self.record["spec"],
                                                  self.record.get("config"), self.kube_version, apis)
            except render.RenderError as exc:
                self.renders[key] = str(exc)
        if isinstance(self.renders[key], str):
            prefix = "INSTALLATION FAILED" if verb == "install" else "UPGRADE FAILED"
            self.log.append(_failed(self.renders[key], prefix))
            return None
        return self.renders[key]

    def install(self, namespace: str) -> bool:
        objects = self._render("install")
        if objects is None:
            for crd in render.crds_dir(self.paths, self.record["spec"]):  # applied before helm rendered
                self._add_crd(crd, self.at)
            return False
        for obj in objects:
            if obj["_crds_dir"] and obj["kind"] == CRD:
                self._add_crd(obj, self.at)
        errors = mapping_errors([o for o in objects if not o["_crds_dir"]], served(self.cluster, self.at))
        if errors:
            self.log.append(_failed("unable to build kubernetes objects from release manifest: " + _join(errors),
                                    "INSTALLATION FAILED"))
            return False
        return self._apply(objects, 1, namespace, "INSTALLATION FAILED")

    def upgrade(self, namespace: str) -> bool:
        objects = self._render("upgrade")
        if objects is None:
            return False
        templates = [o for o in objects if not o["_crds_dir"]]
        errors = mapping_errors(templates, served(self.cluster, self.at))
        if errors:
            self.log.append(_failed("unable to build kubernetes objects from new release manifest: "
                                    + _join(errors), "UPGRADE FAILED"))
            return False
        old = self.record["release"]
        if not self._apply(templates, old["revision"] + 1, namespace, "UPGRADE FAILED"):
            return False
        new = {_key(o) for o in self.record["release"]["objects"]}
        for obj in old["objects"]:
            if not obj["crds_dir"] and not obj["keep"] and _key(obj) not in new:
                self._delete(obj, "upgrade")
        return True

    def _apply(self, objects: list[dict], revision: int, namespace: str, failed: str) -> bool:
        kept = summary(objects)
        if self.plan.get("outcome") == "fail":
            self.record["release"] = {"revision": revision, "status": "failed", "objects": kept}
            self.log.append(_failed(str(self.plan.get("log") or "the apply failed"), failed))
            return False
        done = self.ends if self.ends is not None else float("inf")
        for obj in objects:
            if obj["kind"] == CRD and not obj["_crds_dir"]:
                self._add_crd(obj, done)
        self.record["release"] = {"revision": revision, "status": "deployed", "objects": kept}
        self.log += [f"NAME: {self.chart}", f"NAMESPACE: {namespace}", "STATUS: deployed", f"REVISION: {revision}"]
        return True

    def uninstall(self, why: str) -> None:
        """`helm uninstall --wait`: the release's objects but kept ones and crds/ CRDs (pkg/action/uninstall.go)."""
        release = self.record.get("release") or {"objects": [], "status": "unknown"}
        self.log.append(f"Uninstalling {release['status']} helm chart")
        for obj in release["objects"]:
            if not obj["crds_dir"] and not obj["keep"]:
                self._delete(obj, why)
        self.record["release"] = None

    def _delete(self, obj: dict, why: str) -> None:
        self.deleted.append(f"{why} {obj['namespace'] or '-'} {obj['kind'].lower()}/{obj['name']}")
        if obj["kind"] == CRD:
            for kind in kinds.crd_kinds(obj):
                self.cluster["crds"].pop(kind, None)
        spec = obj.get("spec") or {}
        if spec.get("whenDeleted") == "Delete" and obj["kind"] in ("StatefulSet", *OPERATOR_STS):
            sts = spec.get("statefulSet") or obj["name"]
            for claim in spec.get("volumeClaimTemplates") or []:  # the StatefulSet controller deletes them
                self.deleted.append(f"{why} {obj['namespace']} persistentvolumeclaim/{claim}-{sts}-*")

    def _add_crd(self, obj: dict, at: float) -> None:
        for kind in kinds.crd_kinds(obj):
            self.cluster["crds"].setdefault(kind, {"at": at, "chart": self.chart})


def job_args(chart: str, spec: dict) -> list[str]:
    """The helm command line of the job, as chart.go args() and the entry script build it (values files by name)."""
    args = ["--namespace", spec.get("targetNamespace") or "kube-system"]
    args += ["--create-namespace"] if spec.get("createNamespace") else []
    args += ["--version", str(spec["version"])] if spec.get("version") else []
    source = f"{chart}/{spec.get('chart')}" if spec.get("repo") else spec.get("chart")
    return [*args, chart, str(source)]


def _key(obj: dict) -> str:
    return f"{obj['apiVersion']} {obj['kind']} {obj['namespace']} {obj['name']}"


def _join(errors: list[str]) -> str:
    """Several errors as helm aggregates them: `[a, b]`."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def _failed(message: str, prefix: str) -> str:
    """helm's command line prints `Error: INSTALLATION FAILED: …` (pkg/cmd/install.go), `UPGRADE FAILED` likewise."""
    message = message.removeprefix("Error: ")
    return f"Error: {prefix}: {message}"
