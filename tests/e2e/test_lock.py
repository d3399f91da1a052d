"""Two runs on one host: the second waits a bounded time, then names the holder; a killed run blocks nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

from tests.e2e.conftest import H2
from tests.e2e.helpers import apply_one, lab_host, sh, wait_for
from tests.e2e.paths import PROJECT_ROOT
from vpskit.resources import Command, File


def slow_step(seconds: int) -> Command:
    return Command(f"sleep {seconds}", unless="false", name=f"hold the host for {seconds}s")


def test_a_second_run_waits_then_names_the_holder(lab):
    first: dict = {}
    holder = threading.Thread(target=lambda: first.update(result=apply_one(lab_host(lab, H2), [slow_step(12)])))
    holder.start()
    try:
        assert wait_for(lambda: sh(lab, H2, "test -s /run/vpskit/lock").ok, timeout=20, interval=0.3)
        started = time.monotonic()
        second = apply_one(lab_host(lab, H2, vpskit_lock_timeout=2), [File("/srv/lock-second.txt", content="x\n")])
        waited = time.monotonic() - started
    finally:
        holder.join()
    assert second.error and "another vpskit run is working on this host: held by" in second.error
    assert "since 20" in second.error and "(vpskit_lock_timeout)" in second.error
    assert 2 <= waited < 10
    assert sh(lab, H2, "test -e /srv/lock-second.txt; echo $?").stdout.strip() == "1"  # it changed nothing
    assert first["result"].error is None
    # once the first run has ended, the next one proceeds at once
    assert apply_one(lab_host(lab, H2, vpskit_lock_timeout=0), [File("/srv/lock-second.txt", content="x\n")]).error is None


def test_a_killed_run_does_not_block_the_next(lab, tmp_path):
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(f"""
        import io
        from tests.e2e.helpers import apply_one, lab_host
        from tests.e2e.test_lock import slow_step
        from vpskit.lab import Lab
        lab = Lab(name={lab.name!r}, subnet_prefix={lab.subnet_prefix!r})
        apply_one(lab_host(lab, {H2!r}), [slow_step(60)])
    """))
    controller = subprocess.Popen([sys.executable, str(script)], cwd=PROJECT_ROOT,
                                  env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: "sleep 60" in sh(lab, H2, "ps -eo args").stdout, timeout=30, interval=0.3)
    finally:
        controller.send_signal(signal.SIGKILL)
        controller.wait()
    started = time.monotonic()
    result = apply_one(lab_host(lab, H2, vpskit_lock_timeout=20), [File("/srv/lock-after-kill.txt", content="y\n")])
    assert result.error is None and time.monotonic() - started < 15
