"""base role: fresh package lists, essential packages, time zone, host name, time sync, security updates."""

from vpskit.facts.base import q
from vpskit.resources import AptCache, Command, File, Packages, Service
from vpskit.role import RolePlan


def plan(ctx) -> RolePlan:
    v = ctx.vars
    tz = v["base_timezone"]
    resources = [
        AptCache(valid_time=v["base_apt_cache_valid_time"]),
        # one apt transaction for everything this role installs
        Packages(v["base_packages"] + (["systemd-timesyncd"] if v["base_timesync"] else [])
                 + (["unattended-upgrades"] if v["base_unattended_upgrades"] else []),
                 cache_valid_time=v["base_apt_cache_valid_time"]),
        Command(
            f"test -e /usr/share/zoneinfo/{q(tz)} && ln -sfn /usr/share/zoneinfo/{q(tz)} /etc/localtime "
            f"&& echo {q(tz)} > /etc/timezone",
            unless=f"[ \"$(readlink /etc/localtime)\" = /usr/share/zoneinfo/{q(tz)} ] "
                   f"&& [ \"$(cat /etc/timezone 2>/dev/null)\" = {q(tz)} ]",
            name=f"timezone {tz}",
        ),
    ]
    if v.get("base_hostname"):
        name = v["base_hostname"]
        resources.append(Command(
            f"echo {q(name)} > /etc/hostname && hostname {q(name)}",
            unless=f"[ \"$(hostname)\" = {q(name)} ] && [ \"$(cat /etc/hostname)\" = {q(name)} ]",
            name=f"hostname {name}",
        ))
    if v["base_timesync"]:
        resources.append(Service("systemd-timesyncd", enabled=True, running=True))
    if v["base_unattended_upgrades"]:
        resources += [
            File("/etc/apt/apt.conf.d/20auto-upgrades", content=ctx.render("base/20auto-upgrades.j2")),
            File("/etc/apt/apt.conf.d/52vpskit-unattended-upgrades",
                 content=ctx.render("base/52vpskit-unattended-upgrades.j2")),
            Service("unattended-upgrades", enabled=True, running=True),
        ]
    return RolePlan("base", resources)
