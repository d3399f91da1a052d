"""A HelmChart rendered by a real helm from a local chart cache, with its values merged as helm-controller does.

The fake renders only when /var/lib/rancher/k3s/fake-helm-tools.yaml says where a helm and a chart cache are
(`{helm: /path/to/helm, charts: /path/to/cache}`; both paths as they are on this machine, not under
FAKE_K3S_ROOT) and the cache holds the chart's package; otherwise `tools()`/`package()` say why not and the fake's
helm controller keeps completing the chart as fake-helm.yaml says (helm.py).
"""

import base64
import os
import re
import subprocess
import tempfile
from pathlib import Path

import yaml

TOOLS = "/var/lib/rancher/k3s/fake-helm-tools.yaml"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML that reads a bare `=` as the string it is (PyYAML alone takes it for the value tag; CRDs of
    prometheus-operator have one), with libyaml when there is one: a big chart's CRDs are megabytes."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class Unavailable(Exception):
    """No real helm or no package for this chart: the fake does not render it (the message says why)."""


def tools(paths) -> dict:
    """{helm, charts, backoff} from the tools file. Raises Unavailable."""
    file = paths.host(TOOLS)
    if not file.is_file():
        raise Unavailable(f"no {TOOLS} naming a helm and a chart cache")
    given = yaml.safe_load(file.read_text()) or {}
    helm, charts = Path(str(given.get("helm", ""))), Path(str(given.get("charts", "")))
    if not given.get("helm") or not os.access(helm, os.X_OK):
        raise Unavailable(f"no executable helm at {given.get('helm')!r} ({TOOLS})")
    if not given.get("charts") or not charts.is_dir():
        raise Unavailable(f"no chart cache folder at {given.get('charts')!r} ({TOOLS})")
    return {"helm": helm, "charts": charts, "backoff": float(given.get("backoff", 10))}


def package_name(spec: dict) -> str:
    """The cache's file for a HelmChart's chart, named as tests/charts/tools.py chart_file_name() names it:
    `cert-manager` v1.18.2 → cert-manager-v1.18.2.tgz, `oci://…/loki` 7.0.0 → loki-7.0.0.tgz; a chart given as
    a URL of a .tgz (K3s's bundled charts) → that file's name."""
    chart = str(spec.get("chart", "")).rstrip("/")
    last = chart.rsplit("/", 1)[-1]
    if "://" in chart and last.endswith(".tgz"):
        return last
    return f"{last}-{spec.get('version', '')}.tgz"


def package(spec: dict, folder: Path, cache: Path) -> Path:
    """The chart package: spec.chartContent (base64 .tgz, which overrides chart and version) or the cache's file.
    Raises Unavailable."""
    if spec.get("chartContent"):
        path = folder / "chart.tgz"
        path.write_bytes(base64.b64decode(spec["chartContent"]))
        return path
    path = cache / package_name(spec)
    if not path.is_file():
        raise Unavailable(f"{path.name} is not in the chart cache {cache}")
    return path


def values_files(spec: dict, config: dict | None, folder: Path) -> list[Path]:
    """The values files in the order klipper-helm passes them (`for VALUES_FILE in /config/*.yaml`, entry
    helm_update), named as helm-controller's chart.go setValuesSecret/valuesSecretAddConfig project them: the
    HelmChart's valuesContent, then its values, then the HelmChartConfig's valuesContent and values — so a
    HelmChartConfig's values win."""
    parts = [("values-0-000-HelmChart-ValuesContent.yaml", spec.get("valuesContent")),
             ("values-0-001-HelmChart-Values.yaml", _yaml(spec.get("values"))),
             ("values-1-000-HelmChartConfig-ValuesContent.yaml", (config or {}).get("valuesContent")),
             ("values-1-001-HelmChartConfig-Values.yaml", _yaml((config or {}).get("values")))]
    files = []
    for name, text in parts:
        if text:
            (folder / name).write_text(text)
            files.append(folder / name)
    return sorted(files)


def _yaml(data) -> str:
    return yaml.safe_dump(data) if data else ""


def set_args(spec: dict) -> list[str]:
    """spec.set as helm-controller's chart.go args() passes it: --set for ints, booleans and null, else
    --set-string, sorted by key."""
    args = []
    for key in sorted(spec.get("set") or {}):
        value = spec["set"][key]
        typed = isinstance(value, (bool, int)) or str(value).lower() in ("true", "false", "null")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if not typed:
            text = re.sub(r"(?<!\\),", r"\\,", text)  # an unescaped comma would split the value
        args += ["--set" if typed else "--set-string", f"{key}={text}"]
    return args


def render(paths, name: str, spec: dict, config: dict | None, kube_version: str,
           api_versions: list[str] = ()) -> list[dict]:
    """The chart's objects, rendered as helm install would against a cluster serving `api_versions` (custom
    kinds as `group/version` and `group/version/Kind`: what `.Capabilities.APIVersions.Has` sees; helm's own
    defaults cover the built-in ones), each with `_namespace` (where it lands) and `_crds_dir` True when it comes
    from a chart's crds/ folder (helm install applies those first and never upgrades or deletes them). Raises
    Unavailable, or RenderError with helm's message."""
    found = tools(paths)
    namespace = spec.get("targetNamespace") or "kube-system"
    with tempfile.TemporaryDirectory(prefix="fake-helm-") as temp:
        folder = Path(temp)
        chart = package(spec, folder, found["charts"])
        command = [str(found["helm"]), "template", name, str(chart), "--namespace", namespace,
                   "--kube-version", kube_version, "--include-crds"]
        for file in values_files(spec, config, folder):
            command += ["--values", str(file)]
        command += set_args(spec)
        for api in api_versions:
            command += ["--api-versions", api]
        env = {**os.environ, "HELM_CACHE_HOME": temp, "HELM_CONFIG_HOME": temp, "HELM_DATA_HOME": temp}
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    if done.returncode:
        raise RenderError((done.stderr or done.stdout).strip())
    return documents(done.stdout, namespace)


def crds_dir(paths, spec: dict) -> list[dict]:
    """The CRDs of the chart's crds/ folders (`helm show crds`), which helm install applies before it renders, so
    even when the render then fails (install.go RunWithContext). [] when helm cannot read the chart."""
    found = tools(paths)
    with tempfile.TemporaryDirectory(prefix="fake-helm-") as temp:
        chart = package(spec, Path(temp), found["charts"])
        done = subprocess.run([str(found["helm"]), "show", "crds", str(chart)], capture_output=True, text=True,
                              timeout=300)
    if done.returncode:
        return []
    return [d for d in documents(done.stdout, "") if d.get("kind") == "CustomResourceDefinition"]


class RenderError(Exception):
    """helm template failed: the exception's text is helm's message ("Error: …")."""


def documents(text: str, namespace: str) -> list[dict]:
    """helm's output split into objects, each knowing whether its `# Source:` is a crds/ file, not a template (a
    crds/ file may open with its own `---`, so a source holds until the next one)."""
    objects, source = [], ""
    for chunk in re.split(r"^---\s*$", text, flags=re.M):
        named = re.search(r"^# Source: (\S+)", chunk, flags=re.M)
        source = named.group(1) if named else source
        doc = yaml.load(chunk, Loader=_Loader)  # noqa: S506 (a safe loader)
        if not isinstance(doc, dict) or not doc.get("kind"):
            continue
        doc.setdefault("metadata", {})
        doc["_namespace"] = "" if doc["kind"] in CLUSTER_SCOPED else doc["metadata"].get("namespace") or namespace
        doc["_crds_dir"] = bool(source) and "/templates/" not in source
        objects.append(doc)
    return objects


CLUSTER_SCOPED = {"Namespace", "Node", "PersistentVolume", "CustomResourceDefinition", "ClusterRole",
                  "ClusterRoleBinding", "StorageClass", "PriorityClass", "CSIDriver", "IngressClass", "APIService",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "RuntimeClass",
                  "ClusterIssuer", "VolumeAttributesClass", "ValidatingAdmissionPolicy",
                  "ValidatingAdmissionPolicyBinding", "FlowSchema", "PriorityLevelConfiguration"}
