"""Syntax checks for the inventory values vpskit acts on: addresses, user names, ports, time zones."""

from __future__ import annotations

import ipaddress
import re

DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
POSIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
TZ_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z][A-Za-z0-9_+-]*)*$")
TZ_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?00)?$", re.I)


def address_error(value) -> str | None:
    """Why value is neither an IP address (v4 or v6) nor a DNS name of RFC 1123 labels, else None."""
    text = str(value)
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    labels = name.split(".")
    if text.startswith("[") and text.endswith("]"):
        return f"must be an address without brackets, got {value!r} (the port goes in vpskit_port)"
    if not name or len(name) > 253 or not all(DNS_LABEL.match(label) for label in labels):
        return (f"must be an IP address or a DNS name (letters, digits and inner hyphens in dot-separated "
                f"labels of at most 63), got {value!r}")
    if all(label.isdigit() for label in labels):
        return f"must be an IP address or a DNS name, got {value!r}, which is neither a valid IPv4 address nor a name"
    return None


def user_error(value) -> str | None:
    """Why value is not a portable POSIX user name (lower case, at most 32 characters), else None."""
    if POSIX_USER.match(str(value)):
        return None
    return (f"must be a user name of lower-case letters, digits, '_' and '-' (not starting with a digit or '-', "
            f"at most 32 characters), got {value!r}")


def port_error(value) -> str | None:
    """Why value is not a TCP port number (1-65535), else None."""
    if isinstance(value, int) and 1 <= value <= 65535:
        return None
    return f"must be a TCP port from 1 to 65535, got {value!r}"


def timezone_error(value) -> str | None:
    """Why value cannot be a time zone name (Area/City, Etc/UTC, UTC), else None; whether the host has it is not checked."""
    text = str(value)
    offset = TZ_OFFSET.match(text)
    if offset and offset.group(2).lstrip("0"):
        sign = "-" if offset.group(1) == "+" else "+"
        return (f"must be a time zone name such as Europe/Paris, not an offset: got {value!r}; a fixed offset is "
                f"Etc/GMT{sign}{int(offset.group(2))} (POSIX inverts the sign)")
    if len(text) <= 64 and TZ_NAME.match(text):
        return None
    return (f"must be a time zone name as under /usr/share/zoneinfo (Area/City such as Europe/Paris, Etc/UTC, "
            f"or UTC), got {value!r}")


CHECKS = {
    "vpskit_host": address_error,
    "ansible_host": address_error,
    "vpskit_user": user_error,
    "ansible_user": user_error,
    "users_admin_name": user_error,
    "vpskit_port": port_error,
    "ansible_port": port_error,
    "ssh_port": port_error,
    "base_timezone": timezone_error,
}


def value_error(key: str, value) -> str | None:
    """A message when a known key's value is malformed, else None (None values and other keys pass). Pure."""
    check = CHECKS.get(key)
    if check is None or value is None:
        return None
    problem = check(value)
    return f"{key} {problem}" if problem else None
