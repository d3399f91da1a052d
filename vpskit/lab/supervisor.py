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


class Supervisor:
    def __init__(self, name: str, boots: Path, argv: list[str]):
        self.name, self.boots, self.argv = name, boots, argv
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def forward(self, signum, _frame) -> None:
        # a SIGTERM for the host reaches nspawn, which shuts the container down; no boot follows
        self.stopping = True
        if self.child and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        while True:
            network.remove_link(network.veth_name(self.name))  # nspawn cannot add a bridge port that still exists
            with self.boots.open("a") as log:
                log.write(f"{time.time():.3f}\n")
            print(f"[vpskit-lab] booting {self.name}", flush=True)
            self.child = subprocess.Popen(self.argv)
            status = self.child.wait()
            if status != REBOOT_STATUS or self.stopping:
                print(f"[vpskit-lab] {self.name} ended (status {status})", flush=True)
                return 0 if status == REBOOT_STATUS else status
            print(f"[vpskit-lab] {self.name} rebooted itself: booting it again", flush=True)


def supervise(name: str, boots: Path, argv: list[str]) -> int:
    """Runs the host until it ends other than by rebooting; returns nspawn's last status (0 for a reboot)."""
    supervisor = Supervisor(name, boots, argv)
    previous = {sig: signal.signal(sig, supervisor.forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(args: list[str]) -> int:
    if len(args) < 4 or args[2] != "--":
        print("usage: python -m vpskit.lab.supervisor NAME BOOTS_FILE -- systemd-nspawn ARGS", file=sys.stderr)
        return 2
    return supervise(args[0], Path(args[1]), args[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
