"""The harden profile written with vpskit resources; `python -m benchmarks.vpskit_profile INVENTORY` runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vpskit.facts.ufw import UfwRule
from vpskit.inventory import load_inventory
from vpskit.report import Reporter
from vpskit.resources import AuthorizedKeys, File, Handler, Packages, Service, User
from vpskit.resources.ufw import UfwPolicy, UfwRules
from vpskit.role import Role, RolePlan
from vpskit.runner import RunOptions, run_roles

from .profile import ADMIN, FILES, MANAGED, PACKAGES, UFW_ALLOWS

NOTIFY = {"/etc/ssh/sshd_config.d/00-bench.conf": ["reload ssh"], "/etc/fail2ban/jail.local": ["restart fail2ban"],
          "/etc/sysctl.d/90-bench.conf": ["apply sysctl"]}
VALIDATE = {"/etc/ssh/sshd_config.d/00-bench.conf": "sshd -t -f %s", "/etc/sudoers.d/benchadmin": "visudo -cf %s"}


class Profile:
    name = "bench"

    def __init__(self, admin_key: str):
        self.admin_key = admin_key

    def plan(self, ctx) -> RolePlan:
        resources = [
            Packages(PACKAGES),
            User(ADMIN, groups=["sudo"]),
            AuthorizedKeys(ADMIN, [self.admin_key]),
        ]
        for path, source, mode in MANAGED:
            resources.append(File(path, content=(FILES / source).read_bytes(), mode=mode,
                                  validate=VALIDATE.get(path), notify=NOTIFY.get(path, [])))
        resources += [
            UfwRules([UfwRule("allow", "tcp", port, "any", f"vpskit: {port}") for port in UFW_ALLOWS]),
            UfwPolicy(),
            Service("fail2ban"),
        ]
        handlers = [Handler("reload ssh", "sshd -t && systemctl reload ssh"),
                    # not run when the service step starts it (its first start reads the jail already)
                    Handler.restart("fail2ban"),
                    Handler("apply sysctl", "sysctl -q -p /etc/sysctl.d/90-bench.conf")]
        return RolePlan("bench", resources, handlers)


def main(inventory: str) -> int:
    inv = load_inventory(inventory)
    hosts = list(inv.hosts.values())
    key_file = hosts[0].get("vpskit_ssh_key")
    profile = Profile(Path(key_file + ".pub").read_text().strip())
    results = run_roles(hosts, [Role("bench", profile, {})], RunOptions(forks=len(hosts)),
                        Reporter(stream=sys.stderr, verbose_ok=False))
    print(json.dumps({"changed": sum(r.count("changed") for r in results),
                      "failed": sum(1 for r in results if r.failed)}))
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
