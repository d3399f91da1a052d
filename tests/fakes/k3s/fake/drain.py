"""`kubectl cordon|uncordon|drain NODE`, `get pods`, and `apply -f` of workloads, against the fake's API.

Copied from k8s.io/kubectl (the snapshot read: pkg/cmd/drain/drain.go, pkg/drain/drain.go, pkg/drain/filters.go,
pkg/drain/cordon.go):
- cordon/uncordon print `node/NAME cordoned` or `node/NAME already cordoned` (drain.go `already`/`changed`);
- drain cordons first, then sorts the node's pods through the filters in filters.go's order, each pod's last
  status winning (so, as upstream's TODO says, the emptyDir warning of a pod that has a controller is dropped):
  DaemonSet pods are an error without --ignore-daemonsets ("cannot delete DaemonSet-managed Pods (use
  --ignore-daemonsets to ignore): ns/pod") and skipped with a warning with it; pods with emptyDir an error
  without --delete-emptydir-data; pods without a controller an error without --force;
- evictions retry a 429 (a PodDisruptionBudget) every 5 s (EvictErrorRetryDelay) with `error when evicting
  pods/"NAME" -n "NS" (will retry after 5s): …` until --timeout (0: for ever), then `global timeout reached`;
  a failed drain prints `error: unable to drain node "N" due to error: …, continuing command...` and `There are
  pending nodes to be drained:`, and exits 1; a good one `pod/NAME evicted` per pod and `node/N drained`;
- --timeout is a Go duration: a number without a unit is refused as pflag refuses it.
"""

import json
import re
import sys
import time

import yaml

from .client import ApiError, http_call

EVICT_RETRY_SECONDS = 5.0
FLAGS = {"--ignore-daemonsets", "--delete-emptydir-data", "--force"}


def cordon(server: str, words: list[str], desired: bool) -> int:
    if len(words) != 1:
        print(f"error: the fake k3s supports {'cordon' if desired else 'uncordon'} NODE", file=sys.stderr)
        return 1
    try:
        changed = http_call(server, "/cordon", {"name": words[0], "unschedulable": desired})["changed"]
    except ApiError as exc:
        print(f"Error from server (NotFound): {exc}" if exc.status == 404 else f"error: {exc}", file=sys.stderr)
        return 1
    state = ("" if changed else "already ") + ("cordoned" if desired else "uncordoned")
    print(f"node/{words[0]} {state}", flush=True)
    return 0


def drain(server: str, words: list[str], flags: set[str], timeout: str | None) -> int:
    unknown = sorted(flags - FLAGS)
    if unknown or len(words) != 1:
        print(f"error: the fake k3s supports drain NODE [{' '.join(sorted(FLAGS))}] [--timeout=DURATION]"
              + (f", not {unknown[0]}" if unknown else ""), file=sys.stderr)
        return 1
    seconds = _duration(timeout) if timeout is not None else 0.0
    if seconds is None:
        print(f'error: invalid argument "{timeout}" for "--timeout" flag: time: missing unit in duration '
              f'"{timeout}"', file=sys.stderr)
        return 1
    node = words[0]
    if cordon(server, [node], True):
        return 1
    pods = [p for p in http_call(server, "/pods")["items"] if p["spec"]["nodeName"] == node]
    evict, warnings, errors = [], {}, {}
    for pod in pods:
        delete, reason, message = _status(pod, flags)
        target = errors if reason == "error" else warnings if reason == "warning" else None
        if target is not None:
            target.setdefault(message, []).append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
        if delete:
            evict.append(pod)
    if errors:
        error = "; ".join(f"cannot delete {m}: {', '.join(p)}" for m, p in errors.items())
        return _failed(node, error)
    if warnings:
        print("Warning: " + "; ".join(f"{m}: {', '.join(p)}" for m, p in warnings.items()), file=sys.stderr, flush=True)
    failures = _evict_all(server, evict, seconds, timeout)
    if failures:
        return _failed(node, failures[0] if len(failures) == 1 else "[" + ", ".join(failures) + "]")
    print(f"node/{node} drained", flush=True)
    return 0


def _status(pod: dict, flags: set[str]) -> tuple[bool, str, str]:
    """(delete, okay|skip|warning|error, message) after filters.go's filters in order, the last one winning."""
    owner = next((o for o in pod["metadata"].get("ownerReferences", []) if o.get("controller")), None)
    if owner and owner["kind"] == "DaemonSet":
        if "--ignore-daemonsets" not in flags:
            return False, "error", "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
        return False, "warning", "ignoring DaemonSet-managed Pods"
    if any("emptyDir" in v for v in pod["spec"].get("volumes") or []) and "--delete-emptydir-data" not in flags:
        return False, "error", "Pods with local storage (use --delete-emptydir-data to override)"
    if owner is None:
        if "--force" not in flags:
            return False, "error", "Pods that declare no controller (use --force to override)"
        return True, "warning", "deleting Pods that declare no controller"
    # the unreplicated filter's Okay replaces the local-storage warning (filters.go's TODO): nothing said
    return True, "okay", ""


def _evict_all(server: str, pods: list[dict], seconds: float, shown: str | None) -> list[str]:
    deadline = time.monotonic() + seconds if seconds else float("inf")
    failures, pending = [], list(pods)
    for pod in pending:
        print(f"evicting pod {pod['metadata']['namespace']}/{pod['metadata']['name']}", flush=True)
    while pending:
        retry = []
        for pod in pending:
            namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            if time.monotonic() >= deadline:
                failures.append(f'error when evicting pods/"{name}" -n "{namespace}": global timeout reached: {shown}')
                continue
            try:
                http_call(server, "/evict", {"namespace": namespace, "name": name})
                print(f"pod/{name} evicted", flush=True)
            except ApiError as exc:
                if exc.status == 404:
                    continue
                if exc.status != 429:
                    failures.append(f'error when evicting pods/"{name}" -n "{namespace}": {exc}')
                    continue
                print(f'error when evicting pods/"{name}" -n "{namespace}" (will retry after '
                      f'{EVICT_RETRY_SECONDS:g}s): {str(exc).split(". ")[0]}.', file=sys.stderr, flush=True)
                retry.append(pod)
        if retry:
            time.sleep(min(EVICT_RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
            for pod in retry:
                print(f"evicting pod {pod['metadata']['namespace']}/{pod['metadata']['name']}", flush=True)
        pending = retry
    return failures


def _failed(node: str, error: str) -> int:
    print(f'error: unable to drain node "{node}" due to error: {error}, continuing command...', file=sys.stderr)
    print(f"There are pending nodes to be drained:\n {node}", file=sys.stderr)
    print(f"error: {error}", file=sys.stderr)
    return 1


def _duration(text: str) -> float | None:
    """A Go duration (time.ParseDuration), the units kubectl's users write: 90s, 5m, 1h30m, 0."""
    if text == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def get_pods(server: str, namespace: str | None, node: str | None) -> int:
    """get pods [-A | -n NS] [--field-selector spec.nodeName=NODE] -o json."""
    items = [p for p in http_call(server, "/pods")["items"]
             if (namespace is None or p["metadata"]["namespace"] == namespace)
             and (node is None or p["spec"]["nodeName"] == node)]
    print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                     indent=2))
    return 0


def apply_file(server: str, path: str) -> int:
    try:
        text = sys.stdin.read() if path == "-" else open(path).read()
    except OSError as exc:
        print(f'error: the path "{path}" does not exist' if exc.errno == 2 else f"error: {exc}", file=sys.stderr)
        return 1
    objects = [d for d in yaml.safe_load_all(text) if d]
    try:
        lines = http_call(server, "/apply", {"objects": objects})["lines"]
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0
