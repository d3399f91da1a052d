"""vpskit's roles; ORDER is the sequence `invoke bootstrap` runs them in.

The firewall runs before ssh so that a new SSH port is open before sshd moves to it.
"""

ORDER = ["base", "users", "firewall", "ssh", "fail2ban", "sysctl", "baseline"]
