"""Strict checks of one flag's value: its kind (bool, int, str, list) and the extra rule the table names."""

import ipaddress
import re
import urllib.parse

from .flags import ENUMS, TAINT_EFFECTS
from .logs import FatalError


def describe(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    return f"{type(value).__name__} {value!r}"


def coerce(key: str, value, spec: dict, where: str):
    """The value as the fake keeps it (bool, int, str or list of str); FatalError naming the key if it is wrong."""
    kind = spec["kind"]
    wrong = FatalError(f'{where}: "{key}" must be {kind_name(kind)}, not {describe(value)}')
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise wrong
    if kind == "int":
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise wrong
    if kind == "str":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise wrong
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return [str(v) for v in value]
    raise wrong


def kind_name(kind: str) -> str:
    return {"bool": "a boolean", "int": "an integer", "str": "a string", "list": "a list of strings"}[kind]


def split_items(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def check_value(key: str, value, check: str | None, where: str) -> None:
    def bad(why: str):
        raise FatalError(f'{where}: "{key}": {why}')

    if check is None:
        return
    if check == "url":
        parsed = urllib.parse.urlparse(value)
        if parsed.scheme != "https" or not parsed.hostname:
            bad(f"{value!r} is not a server URL like https://<address>:6443")
    elif check == "mode":
        if not re.fullmatch(r"0?[0-7]{3}", value):
            bad(f"{value!r} is not a file mode like \"0600\" (quote it in YAML)")
    elif check in ("ip", "ips"):
        for item in split_items(value):
            try:
                ipaddress.ip_address(item)
            except ValueError:
                bad(f"{item!r} is not an IP address")
    elif check == "cidrs":
        for item in split_items(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                bad(f"{item!r} is not a CIDR")
    elif check == "port":
        if not 0 < value < 65536:
            bad(f"{value} is not a port")
    elif check == "portrange":
        if not re.fullmatch(r"\d+-\d+", value):
            bad(f"{value!r} is not a port range like 30000-32767")
    elif check == "cron":
        if len(value.split()) != 5 and not value.startswith("@"):
            bad(f"{value!r} is not a cron spec of five fields")
    elif check == "labels":
        for item in value:
            if not re.fullmatch(r"[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*", item):
                bad(f"{item!r} is not a label like key=value")
    elif check == "taints":
        for item in value:
            match = re.fullmatch(r"[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(\w+)", item)
            if not match or match.group(2) not in TAINT_EFFECTS:
                bad(f"{item!r} is not a taint like key=value:NoSchedule")
    elif check in ENUMS:
        for item in split_items(value):
            if item not in ENUMS[check]:
                bad(f"{item!r} is not one of {', '.join(sorted(ENUMS[check]))}")
