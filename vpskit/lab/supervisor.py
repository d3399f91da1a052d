"""What a provider's hypervisor does for a lab host: boots it again when it reboots itself.

A `reboot` inside a container started with `systemd-nspawn --boot --keep-unit` ends the nspawn process with
exit status 133 (systemd's nspawn.c: "inform systemd about this with the special exit code 133", which
systemd-nspawn@.service restarts through RestartForceExitStatus=133). The lab has no unit, so this small
process stands in for it: it runs nspawn, and runs it again after a 133; any other exit (a power-off, a
signal) ends it. Each boot is a line in `<state>/<name>.boots` (UTC seconds), read by `Lab.boots`.

Run as `python -m vpskit.lab.supervisor NAME BOOTS_FILE -- systemd-nspawn …` (lab.py does).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from . import network

REBOOT_STATUS = 133


def supervise(name: str, boots: Path, argv: list[str]) -> int:
    child: subprocess.Popen | None = None

    def forward(signum, _frame):
        # a SIGTERM for the host reaches nspawn, which shuts the container down; no boot follows
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signum)

    stopping = False
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        network.remove_link(network.veth_name(name))  # nspawn cannot attach a bridge port that still exists
        with boots.open("a") as log:
            log.write(f"{time.time():.3f}\n")
        print(f"[vpskit-lab] booting {name}", flush=True)
        child = subprocess.Popen(argv)
        status = child.wait()
        if status != REBOOT_STATUS or stopping:
            print(f"[vpskit-lab] {name} ended (status {status})", flush=True)
            return 0 if status == REBOOT_STATUS else status
        print(f"[vpskit-lab] {name} rebooted itself: booting it again", flush=True)


def main(args: list[str]) -> int:
    if len(args) < 4 or args[2] != "--":
        print("usage: python -m vpskit.lab.supervisor NAME BOOTS_FILE -- systemd-nspawn ARGS", file=sys.stderr)
        return 2
    return supervise(args[0], Path(args[1]), args[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
