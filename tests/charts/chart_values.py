"""A chart's own values (values.yaml, each subchart's under its name) and templates, and the keys of given values
that the chart never reads: helm ignores a misspelt key, so a chart with no values.schema.json says nothing."""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class ChartModel:
    values: dict
    text: str  # every template and values.yaml, for `.Values.x.y` references
    subcharts: dict[str, "ChartModel"] = field(default_factory=dict)

    def reads_whole(self, path: list[str]) -> bool:
        """A template takes `.Values.<path>` as a whole (toYaml, with, tpl): any key under it is passed on."""
        dotted = re.escape(".Values." + ".".join(path))
        return re.search(dotted + r"(?![\w.])", self.text) is not None

    def reads(self, path: list[str]) -> bool:
        return re.search(re.escape(".Values." + ".".join(path)) + r"(?![\w])", self.text) is not None


def _load(archive: tarfile.TarFile, root: str) -> ChartModel:
    names = archive.getnames()
    read = lambda name: archive.extractfile(name).read().decode()  # noqa: E731
    values = (yaml.safe_load(read(f"{root}/values.yaml")) or {}) if f"{root}/values.yaml" in names else {}
    text = "\n".join(read(n) for n in names if n.startswith(f"{root}/templates/")
                     or n in (f"{root}/values.yaml", f"{root}/Chart.yaml"))
    # a dependency's condition (`condition: grafana.enabled`) reads that value too
    text += "\n".join(f" .Values.{c.strip()} " for d in yaml.safe_load(read(f"{root}/Chart.yaml")).get(
        "dependencies") or [] for c in str(d.get("condition") or "").split(",") if c.strip())
    model = ChartModel(values, text)
    for dependency in yaml.safe_load(read(f"{root}/Chart.yaml")).get("dependencies") or []:
        sub = _subchart(archive, root, dependency["name"])
        if sub is not None:
            model.subcharts[dependency.get("alias") or dependency["name"]] = sub
    return model


def _subchart(archive: tarfile.TarFile, root: str, name: str) -> ChartModel | None:
    names = archive.getnames()
    if f"{root}/charts/{name}/Chart.yaml" in names:
        return _load(archive, f"{root}/charts/{name}")
    packed = [n for n in names if n.startswith(f"{root}/charts/{name}-") and n.endswith(".tgz")]
    if packed:
        with tarfile.open(fileobj=io.BytesIO(archive.extractfile(packed[0]).read())) as inner:
            return _load(inner, inner.getnames()[0].split("/")[0])
    return None


def chart_model(package: Path) -> ChartModel:
    with tarfile.open(package) as archive:
        return _load(archive, archive.getnames()[0].split("/")[0])


def unknown_keys(values: dict, chart: ChartModel) -> list[str]:
    """Dotted keys of `values` the chart neither has in its values nor reads in a template."""
    return _walk(values, chart, chart.values, [], "")


def _walk(values: dict, chart: ChartModel, defaults, path: list[str], shown: str) -> list[str]:
    found = []
    for key, value in values.items():
        here, label = [*path, str(key)], f"{shown}.{key}" if shown else str(key)
        if not path and key in chart.subcharts:
            if isinstance(value, dict):
                sub = chart.subcharts[key]
                # the parent reads some of its subchart's values itself (additionalDataSources) or as the
                # dependency's condition (grafana.enabled, in its Chart.yaml)
                own = {k: v for k, v in value.items() if k != "global" and not chart.reads([key, str(k)])}
                found.extend(f"{label}.{k}" for k in _walk(own, sub, sub.values, [], ""))
            continue
        known = isinstance(defaults, dict) and key in defaults
        if not known:
            if not chart.reads(here) and not (path and chart.reads_whole(path)) and not _free_form(defaults):
                found.append(label)
            continue
        if isinstance(value, dict) and not _free_form(defaults[key]) and not chart.reads_whole(here):
            found.extend(_walk(value, chart, defaults[key], here, label))
    return found


def _free_form(default) -> bool:
    """An empty map or a null default: the chart takes whatever map is given."""
    return default is None or default == {}
