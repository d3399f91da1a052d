"""The ssh role's lab break (`invoke lab.break`): what a student finds with audit and check, and bootstrap repairs."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("password-login", "a file that sorts before vpskit's sshd drop-in turns password logins back on",
          "printf 'PasswordAuthentication yes\\nKbdInteractiveAuthentication yes\\n' "
          "> /etc/ssh/sshd_config.d/00-lab-break.conf && systemctl reload ssh",
          "audit infra.ssh-key-only (effective sshd -T); check: the ssh role's effective settings",
          "invoke bootstrap (the override is moved aside, sshd reloaded)"),
]
