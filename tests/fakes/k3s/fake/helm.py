"""K3s's helm controller, faked: a HelmChart in the auto-deploy folder gets a helm-install job and workloads.

With a real helm and the chart's package (render.py, fake-helm-tools.yaml), the job runs klipper-helm's script
against the real chart (klipper.py), as helm-controller (k3s-io/helm-controller, read at v0.17.7, commit 21a911f,
pkg/controllers/chart/chart.go) runs it:
- one job `helm-install-NAME` per HelmChart, pod restartPolicy OnFailure, backoffLimit 1000 unless
  spec.backOffLimit (chart.go defaultBackOffLimit, job(), getJobAndRelatedResources): a failing run is restarted
  after the kubelet's crash-loop back-off (10 s doubling, at most 300 s; `backoff` in the tools file scales it), so
  a chart that cannot install keeps its job active, for days, with the last run's log — never Failed;
- the values are the HelmChart's then the HelmChartConfig's of the same name (render.values_files); a
  HelmChartConfig's failurePolicy overrides the HelmChart's (klipper.failure_policy);
- a changed HelmChart or HelmChartConfig replaces the job (chart.go reconcileJob/templateChanged), after the
  running pod is done; a completed job whose release is deployed with the same values is left alone;
- the cluster's kinds (kinds.py) grow with the CRDs installed charts bring and shrink when one is deleted.
The clock starts at the manifest file's modification time, as the real controller starts when K3s applies it;
each `k3s kubectl` call plays every run due by now, in time order, and keeps the result in fake-helm-state.json.

Without a real helm or the chart's package, the job ends as /var/lib/rancher/k3s/fake-helm.yaml says
(`{<chart name>: {outcome: complete|fail|never, seconds: 2, log: "last lines"}}`, default: complete after 2 s)
and its log says that the chart was not rendered and why. With a real chart, `seconds` is each run's length,
`outcome: never` a run that never ends and `outcome: fail` an apply that the cluster refuses (klipper.py).
"""

import json
import sys
import time

import yaml

from . import klipper, render
from .checks import split_items
from .config import config_files, load_yaml_mapping
from .host import CONFIG_FILE, write_file
from .version import VERSION

MANIFESTS = "/var/lib/rancher/k3s/server/manifests"
BEHAVIOUR = "/var/lib/rancher/k3s/fake-helm.yaml"
STATE = "/var/lib/rancher/k3s/fake-helm-state.json"
# what `kubectl delete` was asked to delete, one `namespace kind/name` a line (for tests to read)
DELETED = "/var/lib/rancher/k3s/fake-deleted.log"
# what helm deleted of a rendered release: `chart why namespace kind/name`, why = reinstall|upgrade|delete
UNINSTALLED = "/var/lib/rancher/k3s/fake-uninstalled.log"
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}
DEFAULT_BACKOFF_LIMIT = 1000  # chart.go defaultBackOffLimit
POLICIES = ("abort", "reinstall", "retry")  # the HelmChart CRD's enum (types.go FailurePolicy)


def _objects(paths, kind: str) -> dict:
    found = {}
    folder = paths.host(MANIFESTS)
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except (OSError, yaml.YAMLError):
            continue
        for doc in documents:
            if isinstance(doc, dict) and doc.get("kind") == kind:
                found[doc["metadata"]["name"]] = (doc.get("spec") or {}, file.stat().st_mtime)
    return found


def charts(paths) -> dict:
    """HelmChart name → (spec, the time its file was written). One whose failurePolicy is not in the CRD's enum
    is refused by the API server, so K3s never creates it."""
    return {name: value for name, value in _objects(paths, "HelmChart").items()
            if value[0].get("failurePolicy", "reinstall") in POLICIES}


def configs(paths) -> dict:
    """HelmChartConfig name → (spec, the time its file was written)."""
    return _objects(paths, "HelmChartConfig")


def behaviour(paths, name: str) -> dict:
    file = paths.host(BEHAVIOUR)
    chosen = (yaml.safe_load(file.read_text()) or {}).get(name, {}) if file.is_file() else {}
    return {"outcome": "complete", "seconds": 2, "log": f"installing {name}\nRelease \"{name}\" deployed", **chosen}


def planned_status(paths, name: str, started: float) -> dict:
    plan = behaviour(paths, name)
    if plan["outcome"] == "never" or time.time() - started < float(plan["seconds"]):
        return {"active": 1}
    if plan["outcome"] == "fail":
        return {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                             "message": "Job has reached the specified backoff limit"}]}
    return {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}


def unrendered(paths, spec: dict) -> str | None:
    """Why the fake cannot render this chart, or None when it can."""
    try:
        found = render.tools(paths)
        if not spec.get("chartContent") and not (found["charts"] / render.package_name(spec)).is_file():
            raise render.Unavailable(f"{render.package_name(spec)} is not in the chart cache {found['charts']}")
    except render.Unavailable as exc:
        return str(exc)
    return None


# --- the controller with real charts --------------------------------------------------------------------------

def load(paths) -> dict:
    file = paths.host(STATE)
    state = json.loads(file.read_text()) if file.is_file() else {}
    state.setdefault("crds", {})
    state.setdefault("charts", {})
    state.setdefault("deleted", {})
    state["traefik"] = traefik_enabled(paths)
    return state


def save(paths, state: dict) -> None:
    write_file(paths.host(STATE), json.dumps(state, indent=1, sort_keys=True))


def traefik_enabled(paths) -> bool:
    """K3s deploys traefik (and its CRDs) unless `disable: traefik` (config.yaml, drop-ins)."""
    disabled = []
    for file in config_files(paths, CONFIG_FILE):
        try:
            disabled += split_items(load_yaml_mapping(file).get("disable", []))
        except Exception:  # a bad config stops the server itself; here it only means "default"
            continue
    return "traefik" not in disabled


def backoff_limit(spec: dict) -> int:
    limit = spec.get("backOffLimit")
    return DEFAULT_BACKOFF_LIMIT if limit is None else int(limit)


def next_run(record: dict, base: float) -> float | None:
    """When the job's next pod run starts, or None: it completed, failed for good, or a run never ends."""
    runs = record["runs"]
    if not runs:
        return record["started"]
    last = runs[-1]
    if last["ok"] or last["ends"] is None or len(runs) >= max(backoff_limit(record["spec"]), 1):
        return None
    return last["ends"] + min(base * 2 ** (len(runs) - 1), base * 30)


def advance(paths, now: float) -> dict:
    """Plays every pod run of the rendered charts' jobs due by `now`, in time order; returns the state."""
    state = load(paths)
    base = render.tools(paths)["backoff"]
    found, chart_configs = charts(paths), configs(paths)
    kube_version = VERSION.lstrip("v").split("+")[0]
    for name, (spec, written) in found.items():
        if unrendered(paths, spec) or state["deleted"].get(name, -1) >= written:
            continue
        config, config_written = chart_configs.get(name, (None, 0))
        wanted = klipper.release_hash(spec, config)
        record = state["charts"].get(name)
        if record and record["hash"] == wanted:
            continue
        start = max(written, config_written)
        release = record["release"] if record else None
        if record and record["runs"]:
            last = record["runs"][-1]
            if last["ends"] is None:
                continue  # the controller waits for the running pod before it replaces the job
            start = max(start, last["ends"])
        state["charts"][name] = {"hash": wanted, "spec": spec, "config": config, "started": start, "runs": [],
                                 "release": release}
    renders = {}
    while True:
        due = [(at, name) for name, record in state["charts"].items()
               if name in found and (at := next_run(record, base)) is not None and at <= now]
        if not due:
            break
        at, name = min(due)
        record = state["charts"][name]
        plan = behaviour(paths, name)
        ends = None if plan["outcome"] == "never" else at + float(plan["seconds"])
        attempt = klipper.Attempt(name, record, state, at, ends, plan, kube_version, paths, renders)
        ok = attempt.run()
        record["runs"].append({"at": at, "ends": ends, "ok": ok, "log": "\n".join(attempt.log)})
        _record_deleted(paths, name, attempt.deleted)
    save(paths, state)
    return state


def _record_deleted(paths, chart: str, lines: list[str]) -> None:
    if lines:
        log = paths.host(UNINSTALLED)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.writelines(f"{chart} {line}\n" for line in lines)


def rendered_status(record: dict, now: float) -> dict:
    runs = record["runs"]
    last = runs[-1] if runs else None
    if last is None or last["ends"] is None or now < last["ends"] or not (last["ok"] or next_run(record, 1) is None):
        return {"active": 1}
    if last["ok"]:
        return {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    return {"failed": len(runs), "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                                 "message": "Job has reached the specified backoff limit"}]}


def rendered_log(record: dict, now: float) -> str:
    """The last run's log (a crash-looping pod shows its last run's); a run still going shows its first line."""
    runs = [r for r in record["runs"] if r["at"] <= now]
    if not runs:
        return ""
    last = runs[-1]
    running = last["ends"] is None or now < last["ends"]
    return last["log"].split("\n", 1)[0] if running else last["log"]


def _rendered(paths, name: str) -> dict | None:
    """The chart's record when the fake renders it, else None."""
    spec = charts(paths).get(name, ({}, 0))[0]
    if not spec or unrendered(paths, spec):
        return None
    return advance(paths, time.time())["charts"].get(name)


# --- what kubectl asks --------------------------------------------------------------------------------------

def get_job(paths, namespace: str, job: str) -> tuple[int, str]:
    known = charts(paths)
    name = job.removeprefix("helm-install-")
    record = _rendered(paths, name) if name in known else None
    deleted = record is None and name in known and not unrendered(paths, known[name][0])
    if namespace != "kube-system" or not job.startswith("helm-install-") or name not in known or deleted:
        return 1, f'Error from server (NotFound): jobs.batch "{job}" not found'
    status = rendered_status(record, time.time()) if record else planned_status(paths, name, known[name][1])
    return 0, json.dumps({"apiVersion": "batch/v1", "kind": "Job",
                          "metadata": {"name": job, "namespace": namespace}, "status": status}, indent=4)


def get_workloads(paths, namespace: str, kinds: list[str]) -> str:
    """Ready workloads: a rendered release's own, or one Deployment per unrendered chart installed into
    `namespace` (none before its job completed)."""
    items = []
    wanted = {WORKLOAD_KINDS[k] for k in kinds}
    state = advance(paths, time.time()) if _tools_ok(paths) else {"charts": {}}
    for name, (spec, started) in charts(paths).items():
        if not unrendered(paths, spec):
            release = (state["charts"].get(name) or {}).get("release")
            for obj in (release or {}).get("objects", []):
                if obj["kind"] in wanted and obj["namespace"] == namespace:
                    items.append(_ready(obj["kind"], obj["name"], namespace, (obj.get("spec") or {}).get("replicas")))
            continue
        if spec.get("targetNamespace", "default") != namespace or "succeeded" not in planned_status(paths, name,
                                                                                                     started):
            continue
        if "Deployment" in wanted:
            items.append(_ready("Deployment", name, namespace, 1))
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                      indent=4)


def _tools_ok(paths) -> bool:
    try:
        render.tools(paths)
    except render.Unavailable:
        return False
    return True


def ready_status(kind: str, replicas) -> dict:
    """A workload's status once every pod is ready (apps/v1 DeploymentStatus, StatefulSetStatus, DaemonSetStatus)."""
    replicas = 1 if replicas is None else int(replicas)
    return ({"desiredNumberScheduled": 1, "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1}
            if kind == "DaemonSet" else
            {"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas,
             "availableReplicas": replicas})


def _ready(kind: str, name: str, namespace: str, replicas) -> dict:
    replicas = 1 if replicas is None else int(replicas)
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace},
            **({} if kind == "DaemonSet" else {"spec": {"replicas": replicas}}), "status": ready_status(kind, replicas)}


def chart_namespaces(paths) -> set[str]:
    """The namespaces the charts install into (helm-controller runs helm with --create-namespace)."""
    return {str(spec.get("targetNamespace") or "default") for spec, _ in charts(paths).values()}


def job_logs(paths, namespace: str, job: str, tail: int | None) -> tuple[int, str]:
    code, _ = get_job(paths, namespace, job)
    if code:
        return 1, f'error: jobs.batch "{job}" not found'
    name = job.removeprefix("helm-install-")
    record = _rendered(paths, name)
    if record is not None:
        lines = rendered_log(record, time.time()).splitlines()
    else:
        why = unrendered(paths, charts(paths)[name][0])
        lines = [f"fake k3s: chart not rendered ({why}); the job ends as {BEHAVIOUR} says",
                 *str(behaviour(paths, name)["log"]).splitlines()]
    return 0, "\n".join(lines[-tail:] if tail else lines)


def delete(paths, namespace: str, objects: list[str]) -> int:
    """`delete kind/name ... [--ignore-not-found]`: recorded, as the objects the real controllers would remove.
    A deleted HelmChart whose release the fake rendered gets helm-controller's helm-delete job (chart.go
    OnRemove; klipper-helm entry `delete`: `helm uninstall --wait`), played at once: what it deletes goes to
    fake-uninstalled.log."""
    if not objects or not all("/" in o for o in objects):
        print("error: the fake k3s deletes only kind/name objects", file=sys.stderr)
        return 1
    log = paths.host(DELETED)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.writelines(f"{namespace} {o}\n" for o in objects)
    if namespace == "kube-system" and _tools_ok(paths):
        _uninstall_deleted(paths, [o.split("/", 1)[1] for o in objects
                                   if o.split("/", 1)[0] in ("helmchart.helm.cattle.io", "helmcharts.helm.cattle.io",
                                                             "helmchart", "helmcharts", "hc")])
    return 0


def delete_selected(paths, namespace: str, kinds: list[str], selectors: list[tuple[str, str]]) -> int:
    """`delete KIND -l LABELS [--field-selector metadata.name=NAME]`: recorded as `namespace KIND/NAME -l LABELS`
    (the fake keeps no labels: a test reads what was asked); a KIND/NAME word or no label selector is refused,
    as kubectl refuses a name together with a selector."""
    labels = [v for k, v in selectors if k in ("-l", "--selector")]
    names = [v.split("=", 1)[1] for k, v in selectors if k == "--field-selector" and v.startswith("metadata.name=")]
    if len(kinds) != 1 or "/" in kinds[0] or not labels:
        print("error: name cannot be provided when a selector is specified", file=sys.stderr)
        return 1
    log = paths.host(DELETED)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"{namespace} {kinds[0]}/{names[0] if names else '*'} -l {labels[0]}\n")
    return 0


def _uninstall_deleted(paths, names: list[str]) -> None:
    if not names:
        return
    now = time.time()
    state = advance(paths, now)
    found = charts(paths)
    for name in names:
        record = state["charts"].pop(name, None)
        if name in found:
            state["deleted"][name] = found[name][1]
        if not record:
            continue
        attempt = klipper.Attempt(name, record, state, now, now, {}, "", paths)
        if record.get("release"):
            attempt.uninstall("delete")
        _record_deleted(paths, name, attempt.deleted)
    save(paths, state)
