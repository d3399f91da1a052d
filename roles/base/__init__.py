"""base role: fresh package lists, essential packages, time zone, host name, time sync, security updates."""

from vpskit.facts.base import q
from vpskit.resources import AptCache, AptPolicy, Command, Conffiles, File, Packages, Service
from vpskit.role import RolePlan


def plan(ctx) -> RolePlan:
    v = ctx.vars
    tz = v.get("base_timezone")
    resources = [
        AptCache(valid_time=v["base_apt_cache_valid_time"]),
        # one apt transaction for everything this role installs (tzdata: the zone files the time zone links to)
        Packages(v["base_packages"] + (["tzdata"] if tz else [])
                 + (["systemd-timesyncd"] if v["base_timesync"] else [])
                 + (["unattended-upgrades"] if v["base_unattended_upgrades"] else []),
                 cache_valid_time=v["base_apt_cache_valid_time"]),
    ]
    if tz:
        resources.append(timezone(tz))
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
        own = {"/etc/apt/apt.conf.d/20auto-upgrades": ctx.render("base/20auto-upgrades.j2"),
               "/etc/apt/apt.conf.d/52vpskit-unattended-upgrades": ctx.render("base/52vpskit-unattended-upgrades.j2")}
        resources += [
            # the package's own configuration (50unattended-upgrades) is put back when it goes missing
            Conffiles(["unattended-upgrades"], cache_valid_time=v["base_apt_cache_valid_time"]),
            *(File(path, content=text) for path, text in own.items()),
            # what apt does in the end, whichever file says it
            AptPolicy(own),
            Service("unattended-upgrades", enabled=True, running=True),
        ]
    return RolePlan("base", resources)


def timezone(tz: str) -> Command:
    """/etc/localtime and /etc/timezone name `tz`; a zone the host has no file for fails saying so."""
    zone = f"/usr/share/zoneinfo/{tz}"
    missing = f"time zone {tz}: {zone} does not exist on this host (check base_timezone)"
    return Command(
        f"if [ ! -e {q(zone)} ]; then echo {q(missing)} >&2; exit 1; fi; "
        f"ln -sfn {q(zone)} /etc/localtime && echo {q(tz)} > /etc/timezone",
        unless=f"[ \"$(readlink /etc/localtime)\" = {q(zone)} ] && [ \"$(cat /etc/timezone 2>/dev/null)\" = {q(tz)} ]",
        name=f"timezone {tz}",
    )
