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

For resources that wait, or carry files between this machine and the host:
  facts: [{fact: CommandOutputFact, args: [...], value: [7, ""], polls: [[7, ""], [0, "ok\n"]]}]
                                       # a CommandOutputFact value is [rc, stdout]; `polls`: the values the fact
                                       # answers each time it is read again after being invalidated, in order
                                       # (the last repeats); give such a case a small interval and timeout
  local: {bundle.tar: "text", kube/config: {content: "text", mode: "0644"}}
                                       # files written under a temp folder (pytest's tmp_path) before the
                                       # resource is built; `<tmp>` in any string of the case is that folder
  login: deploy                        # the user the session's connection logged in as (default root)
  put_fails: "connection reset"        # the connection's put raises OSError with this message
  puts: [{local: <tmp>/bundle.tar, remote: /srv/.vpskit-upload-1}]   # the files put to the host, in order
  polled: 3                            # how many polled values apply read (omit where it depends on timing)
  local_after: {kube/config: {content: "text", mode: "0600"}, other: null}   # local files after apply
                                       # (a string: content only; null: absent)

Tags usable in args: !fact (a Fact: `!fact HostInfoFact` or `!fact [FileFact, /etc/x]`), !ufw_rule (a mapping of
UfwRule fields), !template (a repository template rendered: {name: ..., vars: {...}}), !from_facts (content
computed from facts: a Jinja text in which fact('HostInfoFact').hostname reads a fact).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pkgutil
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import jinja2
import yaml

import vpskit.facts
import vpskit.resources
from vpskit.connection import CommandResult
from vpskit.facts.base import Fact
from vpskit.facts import CommandOutputFact, FileFact, ServiceFact
from vpskit.facts.files import FileState
from vpskit.facts.ufw import UfwFact, UfwRule
from vpskit.resources.base import Resource
from vpskit.templating import Templates

EXPECT_KEYS = ("noop", "commands", "reason", "blocked", "skipped", "diff", "error", "puts", "polled", "local_after")
CASE_KEYS = {"resource", "args", "when", "facts", "results", "local", "login", "put_fails", *EXPECT_KEYS}
COMMAND_KEYS = {"command", "stdin", "stdin_sha256", "timeout", "step"}
FACT_KEYS = {"fact", "args", "value", "output", "rc", "polls"}
# stands for the case's temp folder in any string of a case
TMP = "<tmp>"


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
    polls: list[tuple[Fact, list]] = field(default_factory=list)
    login: str = "root"
    put_fails: str | None = None
    workdir: Path | None = None


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

        def until(loader, node):
            source = loader.construct_scalar(node)
            try:
                test = jinja2.Environment(undefined=jinja2.StrictUndefined).compile_expression(source)
            except jinja2.TemplateSyntaxError as exc:
                reader.fail(path, f"!until {source!r}: {exc}")
            return lambda value: bool(test(value=value))

        for tag, constructor in (("!fact", fact), ("!ufw_rule", ufw_rule), ("!template", template),
                                 ("!from_facts", from_facts), ("!until", until)):
            Loader.add_constructor(tag, constructor)
        return Loader

    def read(self, path: Path, workdir: Path | None = None) -> Case:
        """The case in `path`; `workdir` is the folder its local files go in (needed only by cases that have some)."""
        try:
            data = yaml.load(path.read_text(), Loader=self.loader(path))  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            self.fail(path, f"not valid YAML: {exc}")
        if not isinstance(data, dict):
            self.fail(path, "a case is a mapping (resource, args, facts, then noop or commands)")
        if "local" in data or "local_after" in data or holds_placeholder(data):
            if workdir is None:
                self.fail(path, f"this case has local files or {TMP}: read it with a temp folder")
            data = with_placeholder(data, str(workdir))
        unknown = set(data) - CASE_KEYS
        if unknown:
            self.fail(path, f"unknown key(s) {', '.join(sorted(unknown))}; a case may hold {', '.join(sorted(CASE_KEYS))}")
        if ("noop" in data) == ("commands" in data):
            self.fail(path, "give exactly one of `noop: <reason substring>` or `commands: [...]`")
        for entry in data.get("commands") or []:
            if isinstance(entry, dict) and (set(entry) - COMMAND_KEYS or "command" not in entry):
                self.fail(path, f"a command entry is a string or a mapping of {', '.join(sorted(COMMAND_KEYS))} "
                                f"with `command`, not {entry!r}")
        for entry in data.get("puts") or []:
            if not isinstance(entry, dict) or set(entry) != {"local", "remote"}:
                self.fail(path, f"a puts entry is a mapping of local and remote, not {entry!r}")
        for name, spec in {**(data.get("local") or {}), **(data.get("local_after") or {})}.items():
            self.local_path(path, workdir, name)
            if spec is not None and not isinstance(spec, str) and not (isinstance(spec, dict) and "content" in spec
                                                                      and set(spec) <= {"content", "mode"}):
                self.fail(path, f"local file {name}: give its content, or a mapping of content and mode (or null "
                                f"for absent, after apply), not {spec!r}")
        for name, spec in (data.get("local") or {}).items():
            if spec is None:
                self.fail(path, f"local file {name}: give its content")
            write_local(self.local_path(path, workdir, name), spec)
        resource = self.build_resource(path, data)
        entries = list(enumerate(data.get("facts") or []))
        facts = [self.fact_value(path, index, entry) for index, entry in entries]
        polls = [(fact, self.poll_values(path, index, fact, entry["polls"]))
                 for (index, entry), (fact, _value) in zip(entries, facts) if "polls" in entry]
        results = [CommandResult(int(r.get("rc", 0)), r.get("stdout", ""), r.get("stderr", ""))
                   for r in data.get("results") or []]
        expect = {k: data[k] for k in EXPECT_KEYS if k in data}
        return Case(path, resource, facts, results, expect, polls, str(data.get("login", "root")),
                    data.get("put_fails"), workdir)

    def local_path(self, path: Path, workdir: Path, name: str) -> Path:
        """Where the local file named `name` in a case lives: a relative path inside the case's temp folder."""
        relative = PurePosixPath(str(name))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            self.fail(path, f"local file {name!r}: name it relative to the temp folder, without `..`")
        return workdir / relative

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
            resource = resource.when(fact, lambda value, key=key, wanted=wanted: value[key] == wanted, condition["reason"])
        return resource

    def fact_value(self, path: Path, index: int, entry: dict) -> tuple[Fact, object]:
        where = f"facts[{index}]"
        if not isinstance(entry, dict) or "fact" not in entry or ("value" in entry) == ("output" in entry) \
                or set(entry) - FACT_KEYS:
            self.fail(path, f"{where}: give `fact`, optional `args`, one of `value` or `output` (with `rc`), "
                            "and optional `polls`")
        fact = self.make_fact(path, entry["fact"], list(entry.get("args", [])))
        if "output" in entry:
            try:
                return fact, fact.parse(entry["output"], int(entry.get("rc", 0)))
            except Exception as exc:  # noqa: BLE001 - any parser failure is a malformed case
                self.fail(path, f"{where}: {fact!r} cannot parse the given output: {exc}")
        return fact, self.converted(path, where, fact, entry["value"])

    def poll_values(self, path: Path, index: int, fact: Fact, polls) -> list:
        where = f"facts[{index}].polls"
        if not isinstance(polls, list) or not polls:
            self.fail(path, f"{where}: give a list of one or more values")
        return [self.converted(path, f"{where}[{i}]", fact, value) for i, value in enumerate(polls)]

    def converted(self, path: Path, where: str, fact: Fact, value):
        """A fact value as the fact itself would parse it, from its YAML shape."""
        try:
            if isinstance(fact, FileFact):
                return file_state(value)
            if isinstance(fact, UfwFact):
                return ufw_state(value)
            if isinstance(fact, ServiceFact):
                return {**fact.parse("", 0), **value}
            if isinstance(fact, CommandOutputFact):
                rc, stdout = value
                return int(rc), str(stdout)
        except (TypeError, ValueError, KeyError) as exc:
            self.fail(path, f"{where}: {exc}")
        return value


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


def holds_placeholder(data) -> bool:
    """True when a string somewhere in the case's data holds the temp folder placeholder."""
    if isinstance(data, str):
        return TMP in data
    if isinstance(data, dict):
        return any(holds_placeholder(v) for v in data.values())
    if isinstance(data, list):
        return any(holds_placeholder(v) for v in data)
    return False


def with_placeholder(data, workdir: str):
    """The case's data with the temp folder placeholder replaced in every string value."""
    if isinstance(data, str):
        return data.replace(TMP, workdir)
    if isinstance(data, dict):
        return {k: with_placeholder(v, workdir) for k, v in data.items()}
    if isinstance(data, list):
        return [with_placeholder(v, workdir) for v in data]
    return data


def write_local(path: Path, spec: str | dict) -> None:
    """Writes one of a case's local files (content, and mode when given)."""
    spec = {"content": spec} if isinstance(spec, str) else spec
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(str(spec["content"]).encode())
    if "mode" in spec:
        os.chmod(path, int(str(spec["mode"]), 8))


def local_state(path: Path) -> dict | None:
    """A local file as a case's local_after describes it: content and mode, or None when absent."""
    if not path.is_file():
        return None
    return {"content": path.read_bytes().decode("utf-8", "replace"), "mode": f"{stat.S_IMODE(path.stat().st_mode):04o}"}
