"""The effective settings: config.yaml, its drop-ins, K3S_* variables and --flags, merged as k3s does."""

from pathlib import Path

import yaml

from .checks import check_value, coerce, describe, split_items
from .flags import CRITICAL_DEFAULTS, REMOVED_FLAGS, SHORT_FLAGS, flag_specs
from .host import CONFIG_FILE, Paths
from .logs import FatalError, log


def accept(settings: dict, key: str, value, role: str, specs: dict, where: str, append_lists: bool = False,
           from_file: bool = False) -> None:
    """Checks one key for this role and merges it: a `key+` (or a --flag after config) appends to a list;
    anything else replaces, as k3s merges config.yaml, its drop-ins and the command line."""
    append = key.endswith("+")
    name = key[:-1] if append else key
    if name in REMOVED_FLAGS:
        raise FatalError(f'{where}: "{name}" was removed from k3s; use {REMOVED_FLAGS[name]}')
    spec = specs.get(name)
    if spec is None or spec["scope"] not in ("both", role):
        if from_file:
            # k3s-io/k3s pkg/configfilearg/parser.go (stripInvalidFlags): a config-file key the command does not
            # define, unknown or of the other role, is logged and skipped; the command line stays strict
            log("warning", f"Unknown flag --{name} found in config.yaml, skipping")
            return
        if spec is None:
            raise FatalError(f'{where}: unknown key "{name}": not a k3s {role} flag')
        raise FatalError(f'{where}: "{name}" is a k3s {spec["scope"]} flag; k3s {role} does not accept it')
    value = coerce(name, value, spec, where)
    if spec["kind"] == "list" and spec["check"]:
        value = split_items(value)
    check_value(name, value, spec["check"], where)
    if spec["kind"] == "list" and (append or append_lists):
        settings[name] = settings.get(name, []) + value
    else:
        settings[name] = value


def config_files(paths: Paths, config_path: str) -> list[Path]:
    main = paths.host(config_path)
    drop_ins = sorted(main.with_name(main.name + ".d").glob("*.yaml")) if main.parent.exists() else []
    return ([main] if main.exists() else []) + drop_ins


def load_yaml_mapping(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise FatalError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FatalError(f"{path}: must be a YAML mapping of flag names to values, not {describe(data)}")
    return data


def parse_flags(argv: list[str], specs: dict) -> list[tuple[str, object]]:
    """--key=value, --key value, -t value and bare boolean --key, in order; strict like urfave/cli."""
    pairs, index = [], 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if not arg.startswith("-") or arg in ("-", "--"):
            raise FatalError(f"unexpected argument {arg!r}: k3s takes only flags here")
        name, has_value, value = arg.lstrip("-").partition("=")
        name = SHORT_FLAGS.get(name, name) if not arg.startswith("--") else name
        spec = specs.get(name)
        if spec is None and name not in REMOVED_FLAGS:
            raise FatalError(f"flag provided but not defined: -{name}")
        if spec and spec["kind"] == "bool" and not has_value:
            pairs.append((name, True))
            continue
        if not has_value:
            if index >= len(argv):
                raise FatalError(f"flag needs an argument: -{name}")
            value = argv[index]
            index += 1
        pairs.append((name, value))
    return pairs


def load_settings(role: str, argv: list[str], paths: Paths, environ: dict) -> dict:
    """The effective settings: config.yaml and its drop-ins, then K3S_TOKEN/K3S_URL, then --flags (strict)."""
    specs = flag_specs()
    flags = parse_flags(argv, specs)
    config_path = next((v for k, v in flags if k == "config"), None) or environ.get("K3S_CONFIG_FILE") or CONFIG_FILE
    settings: dict = {}
    for path in config_files(paths, str(config_path)):
        for key, value in load_yaml_mapping(path).items():
            accept(settings, str(key), value, role, specs, str(path), from_file=True)
    for env_name, key in (("K3S_TOKEN", "token"), ("K3S_URL", "server"), ("K3S_NODE_NAME", "node-name")):
        if environ.get(env_name):
            accept(settings, key, environ[env_name], role, specs, env_name)
    for key, value in flags:
        if key != "config":
            accept(settings, key, value, role, specs, f"--{key}", append_lists=True)
    if settings.get("token-file") and not settings.get("token"):
        settings["token"] = paths.host(settings["token-file"]).read_text().strip()
    if settings.get("agent-token-file") and not settings.get("agent-token"):
        settings["agent-token"] = paths.host(settings["agent-token-file"]).read_text().strip()
    return settings


def critical_values(settings: dict) -> dict:
    values = {}
    for key, default in CRITICAL_DEFAULTS.items():
        value = settings.get(key, default)
        values[key] = ",".join(split_items(value)) if isinstance(value, list) else value
    values["servicelb-disabled"] = "servicelb" in split_items(settings.get("disable", []))
    return values


def node_args(role: str, settings: dict) -> list[str]:
    """What real k3s shows in the k3s.io/node-args annotation: the arguments, secrets hidden."""
    args = [role]
    for key, value in sorted(settings.items()):
        for item in (value if isinstance(value, list) else [value]):
            shown = "********" if key in ("token", "agent-token", "etcd-s3-secret-key", "vpn-auth") else item
            args += [f"--{key}", str(shown).lower() if isinstance(shown, bool) else str(shown)]
    return args
