"""base role: fresh package lists, essential packages, time zone, host name and time sync."""

from vpskit.facts.base import q
from vpskit.resources import AptCache, Command, Packages, Service
from vpskit.roles import RolePlan


def plan(v: dict) -> RolePlan:
    tz = v["base_timezone"]
    resources = [
        AptCache(valid_time=v["base_apt_cache_valid_time"]),
        Packages(v["base_packages"] + (["systemd-timesyncd"] if v["base_timesync"] else []),
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
    return RolePlan("base", resources)
