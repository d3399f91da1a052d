"""`helm template` of a chart package with given values, for a Kubernetes version, as a list of documents."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import yaml


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading with YAML 1.1's `=` (the "value" type) read as the string it is in Kubernetes (Go's YAML has no
    such type): prometheus-operator's CRDs carry `- =` among their enums."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class RenderError(Exception):
    """helm refused to render: its message is the exception's."""


def helm_template(helm: Path, package: Path, release: str, namespace: str, values: dict | str | list,
                  kube_version: str, include_crds: bool = False) -> list[dict]:
    """The rendered objects (CRDs of the chart's crds/ folder too when include_crds). `values` may be a list of
    layers, later ones over earlier (helm's repeated -f). Raises RenderError."""
    layers = values if isinstance(values, list) else [values]
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for index, layer in enumerate(layers):
            files += ["-f", str(Path(folder) / f"values-{index}.yaml")]
            Path(files[-1]).write_text(layer if isinstance(layer, str) else yaml.safe_dump(layer))
        command = [str(helm), "template", release, str(package), "-n", namespace, "--kube-version", kube_version,
                   *files, *(["--include-crds"] if include_crds else [])]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RenderError(done.stderr.strip() or done.stdout.strip())
    return [d for d in yaml.load_all(done.stdout, Loader=_Loader) if isinstance(d, dict)]
