"""The e2e lab: three fresh Debian 12 hosts booted once per test session on a bridge of their own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vpskit.lab import Lab

# CI sets this so a machine that cannot run the lab fails loudly instead of skipping
REQUIRE = os.environ.get("VPSKIT_E2E") == "require"
HOSTS = 3


def _lab_possible() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("systemd-nspawn", "mmdebstrap"):
        if not shutil.which(tool):
            return f"needs {tool}"
    return None


@pytest.fixture(scope="session")
def lab():
    why = _lab_possible()
    if why:
        if REQUIRE:
            pytest.fail(f"e2e lab required but unavailable: {why}")
        pytest.skip(f"lab hosts unavailable: {why}")
    lab = Lab(name="test", subnet_prefix="10.213.1", log=lambda m: print(f"[lab] {m}"))
    lab.down()  # a previous run killed midway must not leave stale hosts behind
    lab.up(HOSTS, "bookworm")
    yield lab
    lab.down()


@pytest.fixture(scope="session")
def lab_inventory(lab, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("inventory") / "lab.yml"
    lab.write_inventory(path)
    return path
