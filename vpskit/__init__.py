"""vpskit: provision Debian/Ubuntu VPSes over SSH, idempotently, from an Ansible-shaped inventory."""

__version__ = "0.1.0"
