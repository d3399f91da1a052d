"""The firewall role's lab break (`invoke lab.break`)."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("ufw-disabled", "the firewall is switched off", "ufw --force disable",
          "audit net.firewall; check: the firewall role", "invoke bootstrap"),
]
