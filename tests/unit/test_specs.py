"""Resource specs: for each case file under specs/, the facts a host reports → the commands apply runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vpskit.errors import VpskitError
from tests.unit.factstub import MissingFact, StubFacts
from tests.unit.recording import RecordingConnection, RecordingSession
from tests.unit.speccase import Case, CaseError, CaseReader, local_state, resource_classes

SPECS = Path(__file__).parent / "specs"
CASE_FILES = sorted(SPECS.glob("*/*.yml"))


def play(case: Case):
    """What the runner does with one resource: skip condition, check, then apply only a change.

    Returns the skip reason, the outcome, the session (its commands, its connection's puts, its facts' polls)
    and the error apply raised.
    """
    facts = StubFacts(case.facts, origin=str(case.path), polls=case.polls)
    session = RecordingSession(facts=facts, results=list(case.results),
                               connection=RecordingConnection(user=case.login, put_fails=case.put_fails))
    error = None
    reason = case.resource.skip_reason(facts)
    outcome = None
    if reason is None:
        outcome = case.resource.check(facts)
        if outcome.changed:
            try:
                case.resource.apply(session, outcome)
            except VpskitError as exc:
                error = str(exc)
            else:
                case.resource.invalidate(facts)
    return reason, outcome, session, error


def local_as_expected(state: dict | None, expected) -> dict | str | None:
    """A local file's state in the shape its expectation was written in (content only, or content and mode)."""
    if state is None or expected is None:
        return state
    if isinstance(expected, str):
        return state["content"]
    return {key: state[key] for key in expected}


def as_expected(recorded, expected) -> dict | str:
    """A recorded command in the shape its expectation was written in (so a mismatch diffs readably)."""
    if isinstance(expected, str):
        if recorded.stdin is None:
            return recorded.command
        expected = {"command": expected}
    shaped = {"command": recorded.command}
    if "stdin_sha256" in expected:
        shaped["stdin_sha256"] = hashlib.sha256(recorded.stdin or b"").hexdigest()
    elif recorded.stdin is not None or "stdin" in expected:
        shaped["stdin"] = None if recorded.stdin is None else recorded.stdin.decode("utf-8", "replace")
    for key in ("timeout", "step"):
        if key in expected:
            shaped[key] = getattr(recorded, key)
    return shaped


@pytest.fixture(scope="module")
def reader():
    return CaseReader()


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_spec(path, reader, tmp_path):
    try:
        case = reader.read(path, tmp_path)
    except CaseError as exc:
        pytest.fail(str(exc), pytrace=False)
    declared = {fact.key for fact in case.resource.all_facts()}
    extra = [fact for fact, _value in case.facts if fact.key not in declared]
    assert not extra, f"{path}: facts given that {case.resource.title} does not declare: {extra}"
    try:
        skip_reason, outcome, session, error = play(case)
    except MissingFact as exc:
        pytest.fail(str(exc), pytrace=False)
    commands = session.commands
    expect = case.expect
    reason = skip_reason if skip_reason is not None else outcome.reason
    skipped = skip_reason is not None or outcome.skipped
    where = f"{path}: {case.resource.title} → {reason!r}"

    assert skipped is bool(expect.get("skipped", False)), f"{where}: skipped is {skipped}"
    assert bool(outcome and outcome.blocked) is bool(expect.get("blocked", False)), f"{where}: blocked differs"
    if "reason" in expect:
        assert reason == expect["reason"], where
    for fragment in expect.get("diff", []):
        assert outcome.diff and fragment in outcome.diff, f"{where}: diff lacks {fragment!r}:\n{outcome.diff}"
    if "error" in expect:
        assert error and expect["error"] in error, f"{where}: expected an error with {expect['error']!r}, got {error!r}"
    elif error:
        pytest.fail(f"{where}: apply failed: {error}", pytrace=False)
    if "polled" in expect:
        assert sum(session.facts.polled.values()) == expect["polled"], f"{where}: polled {session.facts.polled}"
    for name, wanted in (expect.get("local_after") or {}).items():
        state = local_state(case.workdir / name)
        assert local_as_expected(state, wanted) == wanted, f"{where}: local file {name} differs"
    puts = [{"local": p.local, "remote": p.remote} for p in session.connection.puts]
    assert puts == (expect.get("puts") or []), f"{where}: files put differ"

    if "noop" in expect:
        assert not (outcome and outcome.changed), f"{where}: expected no change"
        assert expect["noop"] in reason, f"{where}: reason lacks {expect['noop']!r}"
        assert commands == [], where
        return
    assert outcome is not None and outcome.changed, f"{where}: expected a change"
    assert all(c.step == case.resource.title for c in commands), f"{where}: a step is not named after the resource"
    wanted = expect["commands"] or []
    recorded = [as_expected(c, wanted[i] if i < len(wanted) else "") for i, c in enumerate(commands)]
    assert recorded == wanted, f"{where}: commands differ"


def test_every_resource_has_spec_cases(reader):
    kinds = {p.parent.name for p in CASE_FILES}
    uncovered = sorted(name for name, cls in resource_classes().items() if cls.kind not in kinds)
    assert not uncovered, f"resources without a case under {SPECS}: {uncovered}"


def test_a_malformed_case_names_its_file(tmp_path, reader):
    path = tmp_path / "file" / "broken.yml"
    path.parent.mkdir()
    path.write_text("resource: File\nargs: {path: /x, content: a}\nfacts: []\n")
    with pytest.raises(CaseError, match=str(path)):
        reader.read(path)
    path.write_text("resource: File\nargs: {path: /x, content: a}\nfacts: []\nnoop: ok\n")
    case = reader.read(path)
    with pytest.raises(MissingFact, match=f"{path}: no value given for fact FileFact"):
        play(case)
    path.write_text("resource: File\nargs: {path: /x, content: a}\nlocal: {a: b}\nfacts: []\nnoop: ok\n")
    with pytest.raises(CaseError, match=f"{path}: this case has local files"):
        reader.read(path)
    path.write_text("resource: File\nargs: {path: /x, content: a}\nlocal: {../a: b}\nfacts: []\nnoop: ok\n")
    with pytest.raises(CaseError, match=f"{path}: local file '../a'"):
        reader.read(path, tmp_path)
    path.write_text("resource: File\nargs: {path: /x, content: a}\nnoop: ok\n"
                    "facts: [{fact: FileFact, args: [/x], value: {kind: absent}, polls: []}]\n")
    with pytest.raises(CaseError, match=rf"{path}: facts\[0\].polls: give a list"):
        reader.read(path)
