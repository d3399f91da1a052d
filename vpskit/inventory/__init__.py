"""Ansible-shaped inventories: hosts.yml with groups, group_vars/ and host_vars/, merged per host."""

from .model import Host, Inventory
from .loader import load_inventory

__all__ = ["Host", "Inventory", "load_inventory"]
