"""Molecule scenarios as CI runs them: ssh and firewall pass create → converge → idempotence → verify → destroy,
and a deliberately non-idempotent fixture fails Molecule's idempotence step, naming the step that changed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import LAB_SUBNET
from tests.e2e.paths import PROJECT_ROOT

FIXTURES = Path(__file__).parent.parent / "fixtures" / "molecule"


def molecule(scenario: str, **env: str) -> subprocess.CompletedProcess:
    """`molecule test -s scenario` from the project root, with this venv's tools first on PATH, uncoloured."""
    bin_dir = str(Path(sys.executable).parent)
    # a lab of its own beside the suite's, on a /24 derived from the suite's (10.213.1 → 10.213.40) unless set
    prefix, third = LAB_SUBNET.rsplit(".", 1)
    subnet = os.environ.get("VPSKIT_MOLECULE_SUBNET") or f"{prefix}.{int(third) + 39}"
    full_env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "NO_COLOR": "1", "PY_COLORS": "0",
                "ANSIBLE_FORCE_COLOR": "0", "VPSKIT_MOLECULE_SUBNET": subnet, **env}
    return subprocess.run([os.path.join(bin_dir, "molecule"), "test", "-s", scenario], cwd=PROJECT_ROOT,
                          env=full_env, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("scenario", ["ssh", "firewall"])
def test_scenario_passes_every_step(lab_capable, scenario):
    run = molecule(scenario)
    output = run.stdout + run.stderr
    print(output[-3000:])
    assert run.returncode == 0, output[-6000:]
    for step in ("converge", "idempotence", "verify"):
        assert re.search(rf"{scenario} \S+ {step}: Executed: Successful", output), step


def test_a_non_idempotent_role_fails_the_idempotence_step(lab_capable):
    run = molecule("not-idempotent", MOLECULE_GLOB=str(FIXTURES.relative_to(PROJECT_ROOT) / "*" / "molecule.yml"))
    output = run.stdout + run.stderr
    print(output[-3000:])
    assert run.returncode != 0
    assert "Idempotence test failed" in output, output[-6000:]
    assert "changed: [localhost] => (item=stamp: command stamp the time)" in output, output[-6000:]
