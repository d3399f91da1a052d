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


# Alertmanager receiver types: required keys, optional keys
RECEIVER_KEYS = {
    "slack": ({"url"}, {"channel", "send_resolved"}),
    "email": ({"to", "from", "smarthost"}, {"username", "password", "require_tls", "send_resolved"}),
    "webhook": ({"url"}, {"send_resolved", "max_alerts"}),
}


def receivers_error(receivers) -> str | None:
    """Why a monitoring_receivers list is malformed, else None. Pure."""
    if not isinstance(receivers, list):
        return f"must be a list of receivers, got {type(receivers).__name__}"
    for index, item in enumerate(receivers):
        if not isinstance(item, dict):
            return f"[{index}] must be a mapping with a type ({', '.join(RECEIVER_KEYS)})"
        kind = item.get("type")
        if kind not in RECEIVER_KEYS:
            return f"[{index}]: type must be one of {', '.join(RECEIVER_KEYS)}, got {kind!r}"
        required, optional = RECEIVER_KEYS[kind]
        missing = sorted(required - set(item))
        if missing:
            return f"[{index}] ({kind}): missing {', '.join(missing)}"
        unknown = sorted(set(item) - required - optional - {"type"})
        if unknown:
            return f"[{index}] ({kind}): unknown key {unknown[0]!r} (known: {', '.join(sorted(required | optional))})"
    return None


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
    "monitoring_receivers": receivers_error,
}

# (switches all on, the setting they need): a missing one is an inventory error at the first switch's line
REQUIRED_WHEN = [
    (("monitoring_enabled", "monitoring_grafana_enabled"), "monitoring_grafana_admin_password"),
    (("certs_enabled",), "certs_acme_email"),
]


def value_error(key: str, value) -> str | None:
    """A message when a known key's value is malformed, else None (None values and other keys pass). Pure."""
    check = CHECKS.get(key)
    if check is None or value is None:
        return None
    problem = check(value)
    return f"{key} {problem}" if problem else None
