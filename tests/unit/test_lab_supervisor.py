"""The lab's supervisor (vpskit/lab/supervisor.py): boots a host again after nspawn's reboot status 133, records
each boot, and ends with any other status; a stand-in program plays nspawn."""

from __future__ import annotations

import sys

from vpskit.lab.supervisor import REBOOT_STATUS, supervise

# exits 133 (the container rebooted) twice, then 0 (powered off)
NSPAWN = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); n = int(p.read_text() or 0) if p.exists() else 0; "
          f"p.write_text(str(n + 1)); sys.exit({REBOOT_STATUS} if n < 2 else 0)")


def test_a_reboot_boots_the_host_again_and_a_power_off_ends_it(tmp_path):
    boots, runs = tmp_path / "host.boots", tmp_path / "runs"
    assert supervise("nohost", boots, [sys.executable, "-c", NSPAWN, str(runs)]) == 0
    assert runs.read_text() == "3" and len(boots.read_text().split()) == 3


def test_another_status_ends_it_with_that_status(tmp_path):
    boots = tmp_path / "host.boots"
    assert supervise("nohost", boots, [sys.executable, "-c", "raise SystemExit(1)"]) == 1
    assert len(boots.read_text().split()) == 1
