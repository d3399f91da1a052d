"""`invoke charts`: each chart vpskit pins, the newest one in the chart cache, and whether each renders with
vpskit's values and validates (objects against Kubernetes and the charts' CRDs, values against the chart).
Bumping a pin is then: change the default, run `invoke charts` and the tests."""

from __future__ import annotations

import re
import tarfile

import pytest
import yaml

from .chart_values import chart_model, unknown_keys
from .crds import CrdSchemas, validate_object
from .render import RenderError
from .tools import chart_cache, chart_file_name, helm_binary
from .written import (K3S_TRAEFIK_CHART, chart_crds, documents, helm_charts, kubernetes_minor, render_chart,
                      render_traefik)

# chart → the variable that pins it
PINS = {"cert-manager": "certs_chart_version", "kube-prometheus-stack": "monitoring_chart_version",
        "loki": "logging_loki_chart_version", "alloy": "logging_alloy_chart_version"}


def _version_key(version: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", version.split("+")[0])[:3])


def cached_versions(chart: str) -> list[str]:
    """Versions of a chart in the cache, oldest first (K3s's own +up builds left out)."""
    cache = chart_cache()
    name = chart_file_name(chart, "X").removesuffix("-X.tgz")
    found = [p.name[len(name) + 1:-4] for p in cache.glob(f"{name}-*.tgz")] if cache else []
    return sorted((v for v in found if "+" not in v and re.match(r"v?\d", v)), key=_version_key)


def _kube_range(chart: str, version: str) -> str:
    with tarfile.open(chart_cache() / chart_file_name(chart, version)) as archive:
        root = archive.getnames()[0].split("/")[0]
        return yaml.safe_load(archive.extractfile(f"{root}/Chart.yaml").read()).get("kubeVersion") or "any"


def _status(render, values: dict, package_chart: str, version: str, pinned_crds: list[dict]) -> str:
    try:
        objects = render()
        # a chart at another version is checked against its own CRDs where it ships them
        schemas = CrdSchemas(pinned_crds + [o for o in objects if o["kind"] == "CustomResourceDefinition"])
        for document in objects:
            validate_object(document, schemas, kubernetes_minor())
    except RenderError as exc:
        return "render error: " + str(exc).splitlines()[-1][:120]
    except Exception as exc:  # a validation error of any kind is the answer, not a crash
        return "invalid: " + str(exc).splitlines()[0][:120]
    unknown = unknown_keys(values, chart_model(chart_cache() / chart_file_name(package_chart, version)))
    return f"ok ({len(objects)} objects)" if not unknown else "values it does not read: " + ", ".join(unknown)


def report() -> tuple[str, bool]:
    """The table as Markdown, and whether every pinned chart renders and validates."""
    if helm_binary() is None or chart_cache() is None:
        return "no helm or no chart cache (scripts/install-helm; VPSKIT_CHART_CACHE or ../shared/charts)", False
    schemas = list(chart_crds())
    rows, ok = [], True
    for chart in helm_charts("full"):
        name, spec = chart["metadata"]["name"], chart["spec"]
        values = yaml.safe_load(spec["valuesContent"])
        newest = (cached_versions(spec["chart"]) or [spec["version"]])[-1]
        pinned = _status(lambda: render_chart(chart), values, spec["chart"], spec["version"], schemas)
        latest = pinned if newest == spec["version"] else _status(
            lambda: render_chart(chart, version=newest, include_crds=True), values, spec["chart"], newest, schemas)
        ok = ok and pinned.startswith("ok")
        rows.append(f"| {name} | `{PINS[name]}` | {spec['version']} | {pinned} | {newest} | {latest} | "
                    f"{_kube_range(spec['chart'], spec['version'])} |")
    bundled = K3S_TRAEFIK_CHART.rsplit("-", 1)[1]
    config = next(d for d in documents("full") if d["kind"] == "HelmChartConfig")
    values = yaml.safe_load(config["spec"]["valuesContent"])
    traefik = _status(lambda: render_traefik("full"), values, "traefik", bundled, schemas)
    newest = cached_versions("traefik")[-1]
    later = _status(lambda: render_traefik("full", f"traefik-{newest}", include_crds=True), values, "traefik", newest, schemas)
    ok = ok and traefik.startswith("ok")
    rows.append(f"| traefik (K3s's, HelmChartConfig) | `k3s_version` | {bundled} | {traefik} | {newest} | {later} | "
                f"{_kube_range('traefik', bundled)} |")
    head = (f"Charts rendered by {helm_binary()} for Kubernetes {kubernetes_minor()} with the values of a full "
            "inventory\n\n| chart | pinned by | pinned | renders and validates | newest in cache | newest with "
            "vpskit's values | chart's kubeVersion |\n| --- | --- | --- | --- | --- | --- | --- |")
    return "\n".join([head, *rows]), ok


def main() -> int:
    try:
        text, ok = report()
    except pytest.skip.Exception as exc:  # tools.unavailable skips in tests; here it is the answer
        text, ok = str(exc), False
    print(text)
    return 0 if ok else 1
