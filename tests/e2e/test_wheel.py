"""A normal, non-editable install: the wheel carries every role, default, play and template."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile

from tests.e2e.conftest import H3
from tests.e2e.paths import PROJECT_ROOT


def test_the_wheel_installs_and_runs_from_anywhere(lab, lab_inventory, tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(PROJECT_ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("vpskit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "vpskit/builtin_roles/ssh/defaults.yml" in names and "vpskit/builtin_roles/bootstrap.yml" in names
    assert "vpskit/builtin_templates/ssh/00-vpskit-hardening.conf.j2" in names and "vpskit/audit/defaults.yml" in names
    assert not any(n.startswith(("roles/", "benchmarks/", "tests/")) for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # dependencies come from the test venv's site-packages, read as a plain path (its editable vpskit is not)
    site = subprocess.run([str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "venv" / site.split(str(venv) + "/", 1)[1] / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin/pip"), "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run([str(venv / "bin/python"), "-c", "import vpskit; print(vpskit.__file__)"],
                           cwd=outside, capture_output=True, text=True)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    listing = subprocess.run([str(venv / "bin/vpskit"), "--list"], cwd=outside, capture_output=True, text=True)
    assert "bootstrap" in listing.stdout and "bench" not in listing.stdout, listing.stderr
    check = subprocess.run([str(venv / "bin/vpskit"), "check", "-i", str(lab_inventory), "--limit", H3, "--quiet"],
                           cwd=outside, capture_output=True, text=True)
    # exit 2: the fresh host would change; every role planned, templates rendered from the installed package
    assert check.returncode in (0, 2), check.stdout[-3000:] + check.stderr[-2000:]
    assert "00-vpskit-hardening.conf" in check.stdout and "jail.local" in check.stdout
