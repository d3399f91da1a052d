"""YAML loading that remembers the file and line of every key, and resolves !env / !file secrets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import InventoryError
from ..secrets import Secret


@dataclass(frozen=True)
class Location:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class LocatedDict(dict):
    """A mapping that knows where it and each of its keys were written."""

    location: Location | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_locations: dict = {}

    def where(self, key) -> Location | None:
        return self.key_locations.get(key, self.location)


# libyaml's parser where PyYAML was built with it (its nodes carry the same marks): a run reads two dozen
# files (every role's defaults and spec, the plays, the inventory), 40 ms in PyYAML's pure-Python parser
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _make_loader(display_path: str, base_dir: Path):
    class Loader(SAFE_LOADER):
        pass

    def construct_mapping(loader, node):
        loader.flatten_mapping(node)
        mapping = LocatedDict()
        mapping.location = Location(display_path, node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in mapping:
                raise InventoryError(f"duplicate key {key!r} (first at line {mapping.key_locations[key].line})",
                                     display_path, line)
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.key_locations[key] = Location(display_path, line)
        return mapping

    def construct_env(loader, node):
        name = loader.construct_scalar(node)
        if name not in os.environ:
            raise InventoryError(f"!env {name}: environment variable {name} is not set", display_path,
                                 node.start_mark.line + 1)
        secret = Secret(os.environ[name])
        secret.source = f"!env {name}"
        return secret

    def construct_file(loader, node):
        raw = loader.construct_scalar(node)
        path = Path(os.path.expanduser(raw))
        path = path if path.is_absolute() else base_dir / path
        try:
            secret = Secret(path.read_text().rstrip("\n"))
        except OSError as exc:
            raise InventoryError(f"!file {raw}: cannot read {path}: {exc.strerror}", display_path,
                                 node.start_mark.line + 1) from None
        secret.source = f"!file {raw}"
        return secret

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor("!env", construct_env)
    Loader.add_constructor("!file", construct_file)
    return Loader


def load_yaml(path: Path, display_path: str | None = None):
    """Parses one YAML file; syntax errors become InventoryError with the file and line."""
    display = display_path or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"cannot read: {exc.strerror}", display) from None
    return parse_yaml(text, display, path.parent)


# an inventory far larger than any real one, once its aliases are expanded: a "billion laughs" file of a few
# hundred bytes would otherwise take seconds and gigabytes to walk
MAX_EXPANDED_NODES = 200_000


def _expanded_size(node, sizes: dict) -> int:
    """How many nodes the document has with every alias written out (memoised: aliases share their node)."""
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a recursive alias counts once instead of looping
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, sizes) for v in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def parse_yaml(text: str, display_path: str, base_dir: Path):
    loader = _make_loader(display_path, base_dir)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise InventoryError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES} values: refused (an "
                                 "alias bomb?)", display_path, node.start_mark.line + 1)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(filter(None, [exc.context, exc.problem]))
        raise InventoryError(f"YAML syntax error: {problem}", display_path, line) from None
    except yaml.YAMLError as exc:
        raise InventoryError(f"YAML error: {exc}", display_path) from None
    finally:
        loader.dispose()
