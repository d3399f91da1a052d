"""`k3s kubectl get nodes` (from the server in the kubeconfig); helm-install jobs, workloads and job logs (helm.py);
the objects the audit reads, in one namespace or all (objects.py); cordon, uncordon, drain, get pods and apply of
workloads (drain.py)."""

import datetime
import json
import sys
import time
import urllib.parse

import yaml

from . import drain, helm, objects
from .client import ApiError, http_call
from .host import KUBECONFIG_FILE, Paths


def age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def node_table(items: list[dict]) -> str:
    rows = [("NAME", "STATUS", "ROLES", "AGE", "VERSION")]
    now = time.time()
    for item in items:
        labels = item["metadata"]["labels"]
        roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
        ready = next(c for c in item["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
        created = datetime.datetime.strptime(item["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        rows.append((item["metadata"]["name"], "Ready" if ready else "NotReady", ",".join(roles) or "<none>",
                     age(now - created.replace(tzinfo=datetime.timezone.utc).timestamp()),
                     item["status"]["nodeInfo"]["kubeletVersion"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def kubectl(argv: list[str], paths: Paths, environ: dict) -> int:
    output, words, index, namespace, tail, ignore_missing = None, [], 0, "default", None, False
    selectors, all_namespaces = [], False
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg in ("-o", "--output"):
            output = argv[index] if index < len(argv) else ""
            index += 1
        elif arg.startswith(("-o=", "--output=")):
            output = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2:
            output = arg[2:]
        elif arg in ("-n", "--namespace"):
            namespace = argv[index] if index < len(argv) else ""
            index += 1
        elif arg == "--ignore-not-found":
            ignore_missing = True
        elif arg in ("-A", "--all-namespaces"):
            all_namespaces = True
        elif arg in ("-l", "--selector", "--field-selector") and index < len(argv):
            # kubectl delete KIND -l LABELS --field-selector metadata.name=NAME deletes what matches both
            selectors.append((arg, argv[index]))
            index += 1
        elif arg.startswith(("--namespace=", "--tail=")):
            key, value = arg.split("=", 1)
            namespace, tail = (value, tail) if key == "--namespace" else (namespace, int(value))
        else:
            words.append(arg)
    if words[:1] in (["cordon"], ["uncordon"], ["drain"], ["apply"]) or words[:2] in (["get", "pods"], ["get", "pod"],
                                                                                   ["get", "po"]):
        server = _server(paths, environ)
        return 1 if server is None else _nodes_and_pods(server, words, namespace, selectors, output, all_namespaces)
    if words[:1] == ["delete"] and selectors:
        return helm.delete_selected(paths, namespace, words[1:], selectors)
    if words[:1] == ["delete"] and _node_targets(words[1:]) is not None:
        return _delete_nodes(_node_targets(words[1:]), ignore_missing, paths, environ)
    if words[:1] == ["delete"]:
        return helm.delete(paths, namespace, words[1:])
    if words[:1] == ["get"] and len(words) == 2 and output == "json" and words[1] not in ("nodes", "node", "no"):
        code, text = objects.get(paths, words[1:], namespace, all_namespaces)
        print(text, file=sys.stderr if code else sys.stdout)
        return code
    if words[:1] == ["logs"] or (words[:1] == ["get"] and words[1:2] != ["nodes"] and words[1:2] != ["node"]
                                 and words[1:2] != ["no"]):
        return _helm(words, output, namespace, tail, paths)
    if len(words) not in (2, 3) or words[0] != "get" or words[1] not in ("nodes", "node", "no") \
            or output not in (None, "json", "wide", "name"):
        print("error: the fake k3s supports only: get nodes [NAME] [-o json|wide|name]", file=sys.stderr)
        return 1
    server = _server(paths, environ)
    if server is None:
        return 1
    try:
        items = http_call(server, "/nodes")["items"]
    except ApiError as exc:
        host = urllib.parse.urlparse(server).netloc
        print(f"The connection to the server {host} was refused - did you specify the right host or port? "
              f"({exc})", file=sys.stderr)
        return 1
    if len(words) == 3:
        items = [i for i in items if i["metadata"]["name"] == words[2]]
        if not items:
            print(f'Error from server (NotFound): nodes "{words[2]}" not found', file=sys.stderr)
            return 1
    if output == "json":
        shown = items[0] if len(words) == 3 else {"apiVersion": "v1", "items": items, "kind": "List",
                                                  "metadata": {"resourceVersion": ""}}
        print(json.dumps(shown, indent=4))
    elif output == "name":
        print("\n".join(f"node/{i['metadata']['name']}" for i in items))
    else:
        print(node_table(items))
    return 0


def _nodes_and_pods(server: str, words: list[str], namespace: str, selectors: list, output,
                    all_namespaces: bool) -> int:
    """cordon, uncordon, drain (drain.py), get pods -o json, apply -f FILE."""
    flags = {w for w in words[1:] if w.startswith("-")}
    plain = [w for w in words[1:] if not w.startswith("-")]
    try:
        if words[0] in ("cordon", "uncordon"):
            return drain.cordon(server, plain, words[0] == "cordon")
        if words[0] == "drain":
            timeout = next((f.split("=", 1)[1] for f in flags if f.startswith("--timeout=")), None)
            return drain.drain(server, plain, {f for f in flags if not f.startswith("--timeout=")}, timeout)
        if words[0] == "apply" and words[1:2] == ["-f"] and len(words) == 3:
            return drain.apply_file(server, words[2])
        nodes = [v.split("=", 1)[1] for k, v in selectors if k == "--field-selector" and v.startswith("spec.nodeName=")]
        if words[0] == "get" and output == "json" and len(words) == 2:
            return drain.get_pods(server, None if all_namespaces else namespace, nodes[0] if nodes else None)
    except ApiError as exc:
        host = urllib.parse.urlparse(server).netloc
        print(f"The connection to the server {host} was refused - did you specify the right host or port? "
              f"({exc})", file=sys.stderr)
        return 1
    print("error: the fake k3s supports only: get nodes [NAME] [-o json|wide|name], cordon|uncordon NODE, "
          "drain NODE [flags], apply -f FILE, get pods [-A] [--field-selector spec.nodeName=NODE] -o json",
          file=sys.stderr)
    return 1


def _server(paths: Paths, environ: dict) -> str | None:
    config_path = paths.host(environ.get("KUBECONFIG") or KUBECONFIG_FILE)
    try:
        return yaml.safe_load(config_path.read_text())["clusters"][0]["cluster"]["server"]
    except OSError as exc:
        print(f'error: error loading config file "{config_path}": {exc.strerror.lower()}', file=sys.stderr)
        return None


def _node_targets(words: list[str]) -> list[str] | None:
    """The node names of `delete node A B` / `delete node/A`, or None when this deletes something else."""
    if words[:1] and words[0] in ("node", "nodes", "no"):
        return words[1:]
    if words and all(w.startswith(("node/", "nodes/")) for w in words):
        return [w.split("/", 1)[1] for w in words]
    return None


def _delete_nodes(names: list[str], ignore_missing: bool, paths: Paths, environ: dict) -> int:
    server = _server(paths, environ)
    if server is None:
        return 1
    for name in names:
        try:
            http_call(server, "/delete-node", {"name": name})
            print(f'node "{name}" deleted')
        except ApiError as exc:
            if exc.status == 404 and ignore_missing:
                continue
            print(f"Error from server (NotFound): {exc}" if exc.status == 404 else f"error: {exc}", file=sys.stderr)
            return 1
    return 0


def _helm(words: list[str], output, namespace: str, tail, paths: Paths) -> int:
    """get job NAME -o json | logs job/NAME [--tail=N]."""
    if words[0] == "logs" and len(words) == 2 and words[1].startswith("job/"):
        code, text = helm.job_logs(paths, namespace, words[1][4:], tail)
    elif len(words) == 3 and words[1] in ("job", "jobs") and output == "json":
        code, text = helm.get_job(paths, namespace, words[2])
    else:
        print("error: the fake k3s supports only: get nodes, get job NAME -o json, "
              f"get {','.join(objects.RESOURCES)} [-A] -o json, logs job/NAME", file=sys.stderr)
        return 1
    print(text, file=sys.stderr if code else sys.stdout)
    return code
