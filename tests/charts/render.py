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


def helm_template(helm: Path, package: Path, release: str, namespace: str, values: dict | str,
                  kube_version: str, include_crds: bool = False, extra: tuple[str, ...] = ()) -> list[dict]:
    """The rendered objects (CRDs of the chart's crds/ folder too when include_crds). Raises RenderError."""
    text = values if isinstance(values, str) else yaml.safe_dump(values)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(text)
        handle.flush()
        command = [str(helm), "template", release, str(package), "-n", namespace, "--kube-version", kube_version,
                   "-f", handle.name, *(["--include-crds"] if include_crds else []), *extra]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RenderError(done.stderr.strip() or done.stdout.strip())
    return [d for d in yaml.load_all(done.stdout, Loader=_Loader) if isinstance(d, dict)]
