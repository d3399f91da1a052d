"""Reads one resource spec case (YAML): the resource to build, the facts the host reports, what must happen.

A case file holds:
  resource: File                       # a class from vpskit.resources
  args: {path: /etc/motd, content: "hi\n"}
  when: [{fact: HostInfoFact, key: container, equals: false, reason: "..."}]   # optional skip conditions
  facts:
    - {fact: FileFact, args: [/etc/motd], value: {kind: file, mode: "0644", content: "hi\n"}}
    - {fact: ServiceFact, args: [ssh], output: "LoadState=loaded\n...", rc: 0}   # parsed by the fact itself
  results: [{rc: 65, stderr: "..."}]   # optional: what each command returns (default: success)
  # then either
  noop: "substring of the reason"
  # or
  commands:
    - "a command"                      # run without stdin
    - {command: "...", stdin: "literal text"}      # or stdin_sha256: <hex>
  # and optionally: reason (exact), blocked, skipped, diff (substrings), error (substring)

Tags usable in args: !fact (a Fact: `!fact HostInfoFact` or `!fact [FileFact, /etc/x]`), !ufw_rule (a mapping of
UfwRule fields), !template (a repository template rendered: {name: ..., vars: {...}}), !from_facts (content
computed from facts: a Jinja text in which fact('HostInfoFact').hostname reads a fact).
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

import vpskit.facts
import vpskit.resources
from vpskit.connection import CommandResult
from vpskit.facts.base import Fact
from vpskit.facts.files import FileState
from vpskit.facts.ufw import UfwFact, UfwRule
from vpskit.resources.base import Resource
from vpskit.templating import Templates

CASE_KEYS = {"resource", "args", "when", "facts", "results", "noop", "commands", "reason", "blocked", "skipped",
             "diff", "error"}
COMMAND_KEYS = {"command", "stdin", "stdin_sha256", "timeout", "step"}


class CaseError(Exception):
    """A case file that cannot be read as a case; the message starts with its path."""


def _classes_in(package, base: type) -> dict[str, type]:
    """Every public subclass of `base` defined in the modules of `package`, by class name."""
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    found, todo = {}, [base]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith(package.__name__ + ".") and not cls.__name__.startswith("_"):
            found[cls.__name__] = cls
    return found


def resource_classes() -> dict[str, type]:
    # FlushHandlers is a marker the runner acts on, not a resource with commands of its own
    return {name: cls for name, cls in _classes_in(vpskit.resources, Resource).items()
            if cls not in (Resource, vpskit.resources.FlushHandlers)}


def fact_classes() -> dict[str, type]:
    return {name: cls for name, cls in _classes_in(vpskit.facts, Fact).items() if cls is not Fact}


class FromFacts:
    """File content computed from facts, as roles pass a function: Jinja text with fact(name, *args)."""

    def __init__(self, text: str, make_fact):
        self.text, self.make_fact = text, make_fact

    def __call__(self, facts) -> str:
        template = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True).from_string(self.text)
        return template.render(fact=lambda name, *args: facts.get(self.make_fact(name, list(args))))


@dataclass
class Case:
    path: Path
    resource: Resource
    facts: list[tuple[Fact, object]]
    results: list[CommandResult]
    expect: dict = field(default_factory=dict)


class CaseReader:
    """Builds Case objects from files; every error names the file."""

    def __init__(self):
        self.resources = resource_classes()
        self.facts = fact_classes()

    def fail(self, path: Path, message: str):
        raise CaseError(f"{path}: {message}")

    def make_fact(self, path: Path, name: str, args: list) -> Fact:
        if name not in self.facts:
            self.fail(path, f"unknown fact class {name!r} (known: {', '.join(sorted(self.facts))})")
        try:
            return self.facts[name](*args)
        except TypeError as exc:
            self.fail(path, f"fact {name}{tuple(args)!r}: {exc}")

    def loader(self, path: Path) -> type:
        """A safe YAML loader that knows this format's tags (bound to `path` for error messages)."""
        reader = self

        class Loader(yaml.SafeLoader):
            pass

        def fact(loader, node):
            if isinstance(node, yaml.ScalarNode):
                return reader.make_fact(path, loader.construct_scalar(node), [])
            name, *args = loader.construct_sequence(node, deep=True)
            return reader.make_fact(path, name, args)

        def ufw_rule(loader, node):
            fields = loader.construct_mapping(node, deep=True)
            try:
                return UfwRule(**{k: str(v) for k, v in fields.items()})
            except TypeError as exc:
                reader.fail(path, f"!ufw_rule {fields}: {exc}")

        def template(loader, node):
            spec = loader.construct_mapping(node, deep=True)
            return Templates().render(spec["name"], spec.get("vars", {}))

        def from_facts(loader, node):
            return FromFacts(loader.construct_scalar(node), lambda name, args: reader.make_fact(path, name, args))

        for tag, constructor in (("!fact", fact), ("!ufw_rule", ufw_rule), ("!template", template),
                                 ("!from_facts", from_facts)):
            Loader.add_constructor(tag, constructor)
        return Loader

    def read(self, path: Path) -> Case:
        try:
            data = yaml.load(path.read_text(), Loader=self.loader(path))  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            self.fail(path, f"not valid YAML: {exc}")
        if not isinstance(data, dict):
            self.fail(path, "a case is a mapping (resource, args, facts, then noop or commands)")
        unknown = set(data) - CASE_KEYS
        if unknown:
            self.fail(path, f"unknown key(s) {', '.join(sorted(unknown))}; a case may hold {', '.join(sorted(CASE_KEYS))}")
        if ("noop" in data) == ("commands" in data):
            self.fail(path, "give exactly one of `noop: <reason substring>` or `commands: [...]`")
        for entry in data.get("commands") or []:
            if isinstance(entry, dict) and (set(entry) - COMMAND_KEYS or "command" not in entry):
                self.fail(path, f"a command entry is a string or a mapping of {', '.join(sorted(COMMAND_KEYS))} "
                                f"with `command`, not {entry!r}")
        resource = self.build_resource(path, data)
        facts = [self.fact_value(path, index, entry) for index, entry in enumerate(data.get("facts") or [])]
        results = [CommandResult(int(r.get("rc", 0)), r.get("stdout", ""), r.get("stderr", ""))
                   for r in data.get("results") or []]
        expect = {k: data[k] for k in ("noop", "commands", "reason", "blocked", "skipped", "diff", "error") if k in data}
        return Case(path, resource, facts, results, expect)

    def build_resource(self, path: Path, data: dict) -> Resource:
        name = data.get("resource")
        if name not in self.resources:
            self.fail(path, f"resource {name!r} is not one of {', '.join(sorted(self.resources))}")
        cls = self.resources[name]
        if path.parent.name != cls.kind:
            self.fail(path, f"a {name} case belongs under specs/{cls.kind}/, not specs/{path.parent.name}/")
        args = data.get("args") or {}
        try:
            resource = cls(**args)
        except (TypeError, ValueError) as exc:
            self.fail(path, f"{name}(**args) failed: {exc}")
        for condition in data.get("when") or []:
            fact = self.make_fact(path, condition["fact"], condition.get("args", []))
            key, wanted = condition["key"], condition["equals"]
            resource.when(fact, lambda value, key=key, wanted=wanted: value[key] == wanted, condition["reason"])
        return resource

    def fact_value(self, path: Path, index: int, entry: dict) -> tuple[Fact, object]:
        where = f"facts[{index}]"
        if not isinstance(entry, dict) or "fact" not in entry or ("value" in entry) == ("output" in entry):
            self.fail(path, f"{where}: give `fact`, optional `args`, and one of `value` or `output` (with `rc`)")
        fact = self.make_fact(path, entry["fact"], list(entry.get("args", [])))
        if "output" in entry:
            try:
                return fact, fact.parse(entry["output"], int(entry.get("rc", 0)))
            except Exception as exc:  # noqa: BLE001 - any parser failure is a malformed case
                self.fail(path, f"{where}: {fact!r} cannot parse the given output: {exc}")
        value = entry["value"]
        try:
            if entry["fact"] == "FileFact":
                return fact, file_state(value)
            if entry["fact"] == "UfwFact":
                return fact, ufw_state(value)
            if entry["fact"] == "ServiceFact":
                return fact, {**fact.parse("", 0), **value}
        except (TypeError, ValueError, KeyError) as exc:
            self.fail(path, f"{where}: {exc}")
        return fact, value


def file_state(value: dict) -> FileState:
    """A FileState from a mapping; a file's size and sha256 follow from its content unless given."""
    value = dict(value)
    kind = value.pop("kind")
    if kind not in ("absent", "file", "directory", "link", "other"):
        raise ValueError(f"kind {kind!r} is not absent, file, directory, link or other")
    if kind in ("file", "directory"):
        value.setdefault("owner", "root")
        value.setdefault("group", "root")
        value.setdefault("mode", "0644" if kind == "file" else "0755")
        value["mode"] = str(value["mode"]).rjust(4, "0")
    content = value.get("content")
    if isinstance(content, str):
        value["content"] = content = content.encode()
    if content is not None:
        value.setdefault("size", len(content))
        value.setdefault("sha256", hashlib.sha256(content).hexdigest())
    return FileState(kind, **value)


def ufw_state(value: dict) -> dict:
    """ufw's state: what an empty probe reports, overridden by the mapping; rules given as mappings."""
    state = {**UfwFact().parse("", 0), **value}
    state["rules"] = [r if isinstance(r, UfwRule) else UfwRule(**{k: str(v) for k, v in r.items()})
                      for r in state["rules"]]
    return state
