"""The local lab: fresh Debian "VPS" hosts booted with systemd-nspawn on a bridge of their own."""

from .lab import Lab, LabHost

__all__ = ["Lab", "LabHost"]
