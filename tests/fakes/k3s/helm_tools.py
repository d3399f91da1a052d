"""Points a fake K3s's helm controller at a real helm and a chart cache (its fake-helm-tools.yaml), for tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.charts.tools import chart_cache, require_helm, unavailable

TOOLS = "/var/lib/rancher/k3s/fake-helm-tools.yaml"  # fake/render.py TOOLS


def write_helm_tools(root: Path, charts: Path | None = None, backoff: float = 10.0) -> Path:
    """Writes the tools file under the fake's FAKE_K3S_ROOT `root`: this machine's helm and `charts` (default the
    offline chart cache), the first restart delay `backoff`. Skips the test saying why (fails under CI) when
    there is no helm or no cache."""
    helm = require_helm()
    charts = charts or chart_cache()
    if charts is None:
        unavailable("no chart cache (VPSKIT_CHART_CACHE or ../shared/charts)")
    path = Path(str(root) + TOOLS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"helm": str(helm), "charts": str(charts), "backoff": backoff}))
    return path
