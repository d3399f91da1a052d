"""fail2ban role: the sshd jail on the real SSH port, read from the journal, banning through ufw."""

from vpskit.facts import HostInfoFact
from vpskit.resources import Conffiles, File, Handler, Packages, Service
from vpskit.role import RolePlan

# jail.local is the file fail2ban reads after the packaged jail.conf and jail.d/*.conf
JAIL = "/etc/fail2ban/jail.local"


def ignore_list(v: dict, operator_address: str | None) -> list[str]:
    """Loopback, the declared addresses, and (unless turned off) the operator's address. Pure."""
    addresses = ["127.0.0.1/8", "::1", *v["fail2ban_ignoreip"]]
    if v["fail2ban_ignore_operator"] and operator_address:
        addresses.append(operator_address)
    return list(dict.fromkeys(addresses))


def plan(ctx) -> RolePlan:
    v = ctx.vars
    if not v["fail2ban_enabled"]:
        return RolePlan("fail2ban", [])

    def jail(facts) -> str:
        # the address sshd saw (root logins), else the address we connect from
        operator = facts.get(HostInfoFact()).get("ssh_client") or v.get("vpskit_controller_address")
        return ctx.render("fail2ban/jail.local.j2", {"ignoreip": ignore_list(v, operator)})

    return RolePlan("fail2ban", [
        # python3-systemd lets fail2ban read the journal (Debian 12 has no auth.log without rsyslog)
        Packages(["fail2ban", "python3-systemd"]),
        # jail.conf and the filters jail.local relies on are the package's: put back when missing
        Conffiles(["fail2ban"], notify=["restart fail2ban"]),
        File(JAIL, content=jail, needs=[HostInfoFact()], notify=["restart fail2ban"]),
        Service("fail2ban", enabled=True, running=True),
    ], [Handler("restart fail2ban", "fail2ban-client -t >/dev/null && systemctl restart fail2ban",
                # a first run installs it stopped (the apt policy), writes jail.local, then starts it: no restart
                restarts="fail2ban")])
