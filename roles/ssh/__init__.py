"""ssh role: key-only sshd with modern crypto in a first-sorting drop-in, applied commit-confirmed."""

from vpskit.confirm import Confirm
from vpskit.connection import client_algorithms
from vpskit.errors import VpskitError
from vpskit.facts import HostInfoFact
from vpskit.resources import Command, Conffiles, File, Handler, SshdOverrides
from vpskit.role import Login, RolePlan

from .crypto import choose

DROP_IN = "/etc/ssh/sshd_config.d/00-vpskit-hardening.conf"
SOCKET_DROP_IN = "/etc/systemd/system/ssh.socket.d/00-vpskit-port.conf"
RSA_KEY = "/etc/ssh/ssh_host_rsa_key"
# the key's size is the first word ssh-keygen prints: cut out by the shell, not by cut
RSA_KEY_STRONG = f"b=$(ssh-keygen -l -f {RSA_KEY}.pub); [ \"${{b%% *}}\" -ge 3072 ]"
ECDSA_KEYS = ["/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ecdsa_key.pub"]
# sshd is checked as a whole before it reloads; socket-activated sshd (Ubuntu ≥ 22.10) moves port via the socket
RELOAD = ("sshd -t && if systemctl is-active -q ssh.socket; then systemctl daemon-reload && "
          "systemctl restart ssh.socket; else systemctl reload ssh; fi")
RESTORE = ("systemctl daemon-reload; if systemctl is-active -q ssh.socket; then systemctl restart ssh.socket; "
           "else systemctl reload ssh || systemctl restart ssh; fi")


def moduli_filter(min_bits: int) -> Command:
    """Drops group-exchange moduli below min_bits (the file stores size minus one) on the host itself."""
    # awk's own status tells (1: a weak modulus; 2: no file, which the check passes as before): no grep after it
    weak = (f"awk '$1 !~ /^#/ && NF >= 7 && $5 + 1 < {int(min_bits)} {{ weak = 1; exit }} END {{ exit weak }}' "
            "/etc/ssh/moduli; [ $? -ne 1 ]")
    command = Command(
        f"awk '$1 ~ /^#/ || NF < 7 || $5 + 1 >= {int(min_bits)}' /etc/ssh/moduli > /etc/ssh/moduli.vpskit-new "
        "&& chmod 644 /etc/ssh/moduli.vpskit-new && mv /etc/ssh/moduli.vpskit-new /etc/ssh/moduli",
        unless=weak,
        name=f"/etc/ssh/moduli without moduli under {min_bits} bits", notify=["reload sshd"],
        guarded=True, guarded_paths=["/etc/ssh/moduli"],
    )
    return command


def allowed_users(v: dict) -> list[str]:
    """AllowUsers always holds the admin and the login vpskit uses, so the operator cannot be shut out."""
    if not v["ssh_allow_users"]:
        return []
    users = list(v["ssh_allow_users"]) + [v.get("users_admin_name"), v.get("vpskit_login_user")]
    users = [u for u in users if u and not (u == "root" and v["ssh_permit_root_login"] == "no")]
    return list(dict.fromkeys(users))


def check_root_login(v: dict) -> None:
    if v["ssh_permit_root_login"] not in ("no", "prohibit-password", "yes"):
        raise VpskitError(f"ssh_permit_root_login must be no, prohibit-password or yes, not {v['ssh_permit_root_login']!r}")
    if v["ssh_permit_root_login"] == "no" and not v.get("users_admin_name") and v.get("vpskit_user", "root") == "root":
        raise VpskitError("ssh_permit_root_login: no with no admin user (users_admin_name) would lock vpskit out")


def logins(v: dict) -> list[Login]:
    """Once hardened, the admin user on the managed port is the way in; the inventory's port until it moves."""
    user, port = str(v.get("vpskit_user") or "root"), int(v.get("vpskit_port") or 22)
    admin, ssh_port = v.get("users_admin_name"), int(v.get("ssh_port") or port)
    found = [Login(admin, ssh_port), Login(admin, port)] if admin and admin != user else []
    return list(dict.fromkeys([*found, Login(user, ssh_port), Login(user, port)]))


def plan(ctx) -> RolePlan:
    v = ctx.vars
    check_root_login(v)

    def drop_in(facts) -> str:
        crypto = choose(facts.get(HostInfoFact())["openssh_version"], client_algorithms())
        return ctx.render("ssh/00-vpskit-hardening.conf.j2", {"crypto": crypto, "allow_users": allowed_users(v)})

    # every step but the package's reinstall is a change to confirm
    notify, guarded = ["reload sshd"], {"guarded": True}
    resources = [
        # the package's own files (its PAM stack among them) are put back when missing, before the keys are checked
        Conffiles(["openssh-server"]),
        File(DROP_IN, content=drop_in, needs=[HostInfoFact()], mode="0600", validate="sshd -t -f %s", notify=notify,
             **guarded),
        moduli_filter(v["ssh_moduli_min_bits"]),
    ]
    if v["ssh_port"] != 22:
        resources.append(File(SOCKET_DROP_IN, content=f"[Socket]\nListenStream=\nListenStream={v['ssh_port']}\n",
                              notify=notify, **guarded))
    else:
        resources.append(File(SOCKET_DROP_IN, state="absent", notify=notify, **guarded))
    if v["ssh_remove_weak_host_keys"]:
        resources += [File(path, state="absent", notify=notify, **guarded) for path in ECDSA_KEYS]
        resources.append(Command(
            f"rm -f {RSA_KEY} {RSA_KEY}.pub && ssh-keygen -q -t rsa -b 4096 -N '' -f {RSA_KEY}",
            unless=RSA_KEY_STRONG,
            name="RSA host key of at least 3072 bits", notify=notify, guarded_paths=[RSA_KEY], **guarded,
        ))
    # the settings sshd uses are what counts: a line read before the drop-in, or a Match block, can undo it
    resources.append(SshdOverrides(DROP_IN, drop_in, needs=[HostInfoFact()], address=v.get("vpskit_controller_address"),
                                   users=[v.get("users_admin_name"), "root", v.get("vpskit_login_user")],
                                   notify=notify, **guarded))
    return RolePlan(
        "ssh", resources, [Handler("reload sshd", RELOAD)],
        confirm=Confirm(paths=[f"{RSA_KEY}.pub"], restore=RESTORE, timeout=v["ssh_confirm_timeout"]),
        confirm_login=logins(v)[0],
    )
