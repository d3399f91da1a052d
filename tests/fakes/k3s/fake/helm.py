"""K3s's helm controller, faked: a HelmChart in the auto-deploy folder gets a helm-install job and workloads.

How each chart's job ends is the test's choice, in /var/lib/rancher/k3s/fake-helm.yaml:
`{<chart name>: {outcome: complete|fail|never, seconds: 2, log: "last lines"}}` (default: complete after 2 s).
The clock starts at the manifest file's modification time, as the real controller starts when K3s applies it.
"""

import json
import sys
import time

import yaml

MANIFESTS = "/var/lib/rancher/k3s/server/manifests"
BEHAVIOUR = "/var/lib/rancher/k3s/fake-helm.yaml"
# what `kubectl delete` was asked to delete, one `namespace kind/name` a line (for tests to read)
DELETED = "/var/lib/rancher/k3s/fake-deleted.log"
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}


def charts(paths) -> dict:
    """HelmChart name → (spec, the time its file was written)."""
    found = {}
    folder = paths.host(MANIFESTS)
    for file in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except (OSError, yaml.YAMLError):
            continue
        for doc in documents:
            if isinstance(doc, dict) and doc.get("kind") == "HelmChart":
                found[doc["metadata"]["name"]] = (doc.get("spec") or {}, file.stat().st_mtime)
    return found


def behaviour(paths, name: str) -> dict:
    file = paths.host(BEHAVIOUR)
    chosen = (yaml.safe_load(file.read_text()) or {}).get(name, {}) if file.is_file() else {}
    return {"outcome": "complete", "seconds": 2, "log": f"installing {name}\nRelease \"{name}\" deployed", **chosen}


def job_status(paths, name: str, started: float) -> dict:
    plan = behaviour(paths, name)
    if plan["outcome"] == "never" or time.time() - started < float(plan["seconds"]):
        return {"active": 1}
    if plan["outcome"] == "fail":
        return {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                             "message": "Job has reached the specified backoff limit"}]}
    return {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}


def get_job(paths, namespace: str, job: str) -> tuple[int, str]:
    known = charts(paths)
    name = job.removeprefix("helm-install-")
    if namespace != "kube-system" or not job.startswith("helm-install-") or name not in known:
        return 1, f'Error from server (NotFound): jobs.batch "{job}" not found'
    status = job_status(paths, name, known[name][1])
    return 0, json.dumps({"apiVersion": "batch/v1", "kind": "Job",
                          "metadata": {"name": job, "namespace": namespace}, "status": status}, indent=4)


def get_workloads(paths, namespace: str, kinds: list[str]) -> str:
    """One ready Deployment per chart installed into `namespace` (none before its job completed)."""
    items = []
    for name, (spec, started) in charts(paths).items():
        if spec.get("targetNamespace", "default") != namespace or "succeeded" not in job_status(paths, name, started):
            continue
        if "deployments" in kinds:
            items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": name, "namespace": namespace},
                          "spec": {"replicas": 1}, "status": {"replicas": 1, "readyReplicas": 1,
                                                              "updatedReplicas": 1, "availableReplicas": 1}})
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                      indent=4)


def job_logs(paths, namespace: str, job: str, tail: int | None) -> tuple[int, str]:
    code, _ = get_job(paths, namespace, job)
    if code:
        return 1, f'error: jobs.batch "{job}" not found'
    lines = str(behaviour(paths, job.removeprefix("helm-install-"))["log"]).splitlines()
    return 0, "\n".join(lines[-tail:] if tail else lines)


def delete(paths, namespace: str, objects: list[str]) -> int:
    """`delete kind/name ... [--ignore-not-found]`: recorded, as the objects the real controllers would remove."""
    if not objects or not all("/" in o for o in objects):
        print("error: the fake k3s deletes only kind/name objects", file=sys.stderr)
        return 1
    log = paths.host(DELETED)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.writelines(f"{namespace} {o}\n" for o in objects)
    return 0
