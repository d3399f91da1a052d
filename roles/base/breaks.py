"""The base role's lab break (`invoke lab.break`)."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("updates-off", "automatic security updates are switched off",
          "sed -i 's/\"1\"/\"0\"/' /etc/apt/apt.conf.d/20auto-upgrades",
          "audit hard.unattended-upgrades; check: the base role", "invoke bootstrap"),
]
