"""baseline role: stricter login.defs, legal banners, module blacklist, no core dumps, audit tooling."""

from vpskit.facts import HostInfoFact
from vpskit.resources import Command, File, Line, Packages, Permissions, Service
from vpskit.role import RolePlan

CONTAINER_AUDIT = "the kernel audit subsystem is not available inside a container"


def not_container(info: dict) -> bool:
    return not info["container"]


def plan(ctx) -> RolePlan:
    v = ctx.vars
    packages = list(v["baseline_packages"]) + (["aide", "aide-common"] if v["baseline_aide"] else [])
    banner = v["baseline_banner"].rstrip("\n") + "\n"
    resources = [Packages(packages)]
    resources += [Line("/etc/login.defs", f"{key} {value}", regexp=rf"^\s*#?\s*{key}\s") for key, value in
                  v["baseline_login_defs"].items()]
    resources += [File("/etc/issue", content=banner), File("/etc/issue.net", content=banner)]
    modules = v["baseline_blacklisted_modules"]
    if modules:
        lines = ["# Managed by vpskit: modules a VPS never needs."]
        # "install … /bin/true" is the form Lynis and CIS checks look for
        lines += [f"blacklist {m}\ninstall {m} /bin/true" for m in modules]
        resources.append(File("/etc/modprobe.d/vpskit-blacklist.conf", content="\n".join(lines) + "\n"))
    if v["baseline_disable_core_dumps"]:
        resources += [
            File("/etc/security/limits.d/vpskit-coredump.conf", content="# Managed by vpskit (the wildcard does not cover root)\n"
                                                                         "* hard core 0\n* soft core 0\nroot hard core 0\nroot soft core 0\n"),
            File("/etc/systemd/coredump.conf.d/vpskit.conf", content="[Coredump]\nStorage=none\nProcessSizeMax=0\n"),
        ]
    resources += [Permissions(path, mode) for path, mode in v["baseline_restricted_modes"].items()]
    if "debsums" in packages and v["baseline_debsums_cron"]:
        resources.append(Line("/etc/default/debsums", f"CRON_CHECK={v['baseline_debsums_cron']}",
                              regexp=r"^CRON_CHECK="))
    if v["baseline_auditd"]:
        resources += [
            Packages(["auditd"]).when(HostInfoFact(), not_container, CONTAINER_AUDIT),
            Service("auditd", enabled=True, running=True).when(HostInfoFact(), not_container, CONTAINER_AUDIT),
        ]
    if "acct" in packages:
        resources.append(Service("acct", enabled=True, running=True).when(
            HostInfoFact(), not_container, "process accounting needs the host kernel; a container may not switch it on"))
    if "sysstat" in packages:
        resources += [Line("/etc/default/sysstat", 'ENABLED="true"', regexp=r"^ENABLED="),
                      Service("sysstat", enabled=True, running=True)]
    if v["baseline_aide"]:
        resources.append(Command("aideinit -y -f >/dev/null", creates="/var/lib/aide/aide.db",
                                 name="initial AIDE database"))
    return RolePlan("baseline", resources)
