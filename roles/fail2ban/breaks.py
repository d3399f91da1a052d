"""The fail2ban role's lab break (`invoke lab.break`)."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("fail2ban-stopped", "fail2ban is stopped, so nothing bans brute-force attempts", "systemctl stop fail2ban",
          "audit net.fail2ban; check: the fail2ban role", "invoke bootstrap"),
]
