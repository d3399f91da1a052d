"""A role's typed variable spec (`spec.yml` beside its `defaults.yml`, like Ansible's argument_specs): for a
variable, its type, a named format, allowed values, a check of the role's own, whether it is secret, and the
switches that make it required. The inventory loader checks every value against it with file:line; masking reads
`secret` from it rather than guessing from the name."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import VpskitError
from .formats import FORMATS
from .yamlfile import load_yaml

TYPES = {"bool": bool, "int": int, "number": (int, float), "str": str, "list": list, "dict": dict, "any": None}
FIELDS = {"type", "format", "values", "check", "secret", "required_when"}


@dataclass(frozen=True)
class VarSpec:
    """What one variable may hold. `secret`: True (the whole value) or the keys inside it that are."""

    name: str
    type: type | tuple | None = None
    format: str | None = None
    values: tuple = ()
    check: object = None
    secret: bool | tuple[str, ...] = False
    required_when: tuple[str, ...] = ()

    def error(self, value) -> str | None:
        """Why value breaks the spec (the type is checked before this), else None; None values pass."""
        if value is None:
            return None
        if self.values and value not in self.values:
            return f"{self.name} must be one of {', '.join(map(str, self.values))}, got {value!r}"
        for check in (FORMATS.get(self.format), self.check):
            problem = check(value) if check else None
            if problem:
                return f"{self.name} {problem}"
        return None

    def secret_strings(self, value) -> set[str]:
        """The strings of value that are secret by this spec."""
        if not self.secret or value is None:
            return set()
        keys = None if self.secret is True else set(self.secret)
        found: set[str] = set()

        def walk(item, inside: bool) -> None:
            if isinstance(item, dict):
                for k, v in item.items():
                    walk(v, inside or (keys is not None and k in keys))
            elif isinstance(item, (list, tuple)):
                for v in item:
                    walk(v, inside)
            elif isinstance(item, str) and inside and len(item) >= 4:
                found.add(item)
        walk(value, keys is None)
        return found


class RoleCheck:
    """A spec's `check`: the function of that name in the role's module, looked up at its first call (a run
    whose inventory sets none of a role's checked variables never imports the role for them)."""

    def __init__(self, load_module, name: str, where: str, variable: str):
        self.load_module, self.name, self.where, self.variable = load_module, name, where, variable
        self._function = None

    def resolve(self):
        if self._function is None:
            function = getattr(self.load_module(), self.name, None)
            if not callable(function):
                raise VpskitError(f"{self.where}: {self.variable}: check {self.name!r} is not a function of the "
                                  "role's module")
            self._function = function
        return self._function

    def __call__(self, value):
        return self.resolve()(value)


def load_spec(path, role: str, defaults: dict, module: object = None, display: str | None = None,
              load_module=None) -> dict[str, VarSpec]:
    """The specs of a role's spec.yml (none when it has no file). A mistake in it is the role's: VpskitError
    with the file and line (shown as `display`, roles/ROLE/spec.yml by default). `module`: the role's module,
    its checks looked up now; `load_module`: a function giving it, the checks looked up when first called."""
    if not path.exists():
        return {}
    display = display or f"roles/{role}/{path.name}"
    data = load_yaml(path, display) or {}
    specs = {}
    for name, body in data.items():
        where = f"{display}:{data.where(name).line}" if data.where(name) else display

        def wrong(message: str):
            return VpskitError(f"{where}: {name}: {message}")
        if name not in defaults:
            raise wrong("no such variable in the role's defaults.yml")
        if not isinstance(body, dict) or set(body) - FIELDS:
            raise wrong(f"a spec is a mapping of {', '.join(sorted(FIELDS))}")
        if body.get("type", "any") not in TYPES:
            raise wrong(f"type must be one of {', '.join(TYPES)}")
        if body.get("format") is not None and body["format"] not in FORMATS:
            raise wrong(f"unknown format {body['format']!r} (formats: {', '.join(sorted(FORMATS))})")
        check = None
        if body.get("check") and load_module is not None:
            check = RoleCheck(load_module, str(body["check"]), where, name)
        elif body.get("check"):
            check = getattr(module, str(body["check"]), None)
            if not callable(check):
                raise wrong(f"check {body['check']!r} is not a function of the role's module")
        secret = body.get("secret", False)
        specs[name] = VarSpec(name, TYPES[body.get("type", "any")], body.get("format"),
                              tuple(body.get("values") or ()), check,
                              secret if isinstance(secret, bool) else tuple(secret),
                              tuple(body.get("required_when") or ()))
    return specs
