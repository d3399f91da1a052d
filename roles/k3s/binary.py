"""The K3s binary at /usr/local/bin/k3s: the pinned release's, verified by its sha256 before it is installed."""

from __future__ import annotations

import re
from dataclasses import replace

from vpskit.errors import RemoteError, VpskitError
from vpskit.facts import CommandOutputFact, FileFact, HostInfoFact
from vpskit.facts.base import q
from vpskit.resources import Outcome, Resource
from vpskit.resources.files import LEFTOVER_MINUTES, ON_SIGNAL, sweep_command

from .release import ARCHES, binary_asset, parse_sums, release_url, sums_asset
from .versions import move_error

BINARY = "/usr/local/bin/k3s"
STAGE = "/var/lib/vpskit/k3s"
VERSION = re.compile(r"k3s version (v\S+)")


def staged_sums(version: str) -> str:
    """Where the verified release's sha256 list is kept, so a no-op run compares without downloading."""
    return f"{STAGE}/{version}/sha256sum.txt"


def staged_binary(version: str, arch: str) -> str:
    return f"{STAGE}/{version}/{binary_asset(arch)}"


class K3sBinary(Resource):
    """/usr/local/bin/k3s is the binary `version`'s sha256 list names; downloaded by the host, or staged by Upload."""

    kind = "k3s-binary"

    def __init__(self, version: str, base_url: str, airgap: bool = False, snapshot: bool = False, **kwargs):
        super().__init__(kwargs.pop("name", f"k3s {version}"), **kwargs)
        self.version, self.base_url, self.airgap = version, base_url, airgap
        # an etcd server saves a snapshot before its binary moves: the documented way back from an upgrade
        self.snapshot = snapshot
        self.path = BINARY

    def facts(self):
        # the running version is asked only when the sha256 differs: a no-op starts no k3s process
        return [HostInfoFact(), FileFact(BINARY), FileFact(staged_sums(self.version))]

    def check(self, facts) -> Outcome:
        arch = ARCHES.get(facts.get(HostInfoFact()).get("arch", ""))
        if arch is None:
            return Outcome.block(f"K3s ships for {', '.join(ARCHES)}, not {facts.get(HostInfoFact()).get('arch')}")
        binary, sums = facts.get(FileFact(BINARY)), facts.get(FileFact(staged_sums(self.version)))
        expected = parse_sums(sums.content.decode()).get(binary_asset(arch)) if sums.content else None
        if binary.exists and expected and binary.sha256 == expected:
            return Outcome.ok(f"k3s {self.version} installed (sha256 {expected[:12]}… as the release lists)")
        rc, output = facts.get(CommandOutputFact(f"{BINARY} --version"))
        running = VERSION.search(output) if rc == 0 else None
        source = "the air-gap upload" if self.airgap else release_url(self.base_url, self.version)
        upgrade = None
        if not binary.exists:
            reason = f"install k3s {self.version} from {source}"
        elif running and running.group(1) != self.version:
            refused = move_error(running.group(1), self.version)
            if refused:  # an error, not a block: check mode must refuse it too, not show it as a change
                raise VpskitError(refused)
            upgrade = running.group(1)
            reason = f"upgrade k3s from {upgrade} to {self.version}"
        else:
            reason = f"replace /usr/local/bin/k3s: its sha256 {str(binary.sha256)[:12]}… is not the {self.version} release's"
        return replace(Outcome.change(reason, plan=(arch, upgrade)), upgrade=(upgrade, self.version) if upgrade else None)

    def apply(self, session, outcome: Outcome) -> None:
        arch, upgrade = outcome.plan
        if upgrade and self.snapshot:
            saved = session.run(snapshot_command(upgrade), step=self.title, check=False, timeout=600)
            if not saved.ok:
                raise RemoteError(session.name, self.title, "the etcd snapshot before the upgrade failed, nothing "
                                  f"was upgraded: {(saved.stderr.strip() or saved.stdout.strip())[-600:]}")
        result = session.run(install_script(self.version, self.base_url, arch, self.airgap),
                             step=self.title, check=False, timeout=1800)
        if not result.ok:
            raise RemoteError(session.name, self.title, (result.stderr.strip() or result.stdout.strip())[-800:])

    def invalidate(self, facts) -> None:
        facts.invalidate(lambda key: key[0] == "CommandOutputFact",
                         paths=[BINARY, staged_sums(self.version)])


def snapshot_command(running: str) -> str:
    """An on-demand etcd snapshot named for the version being left (K3s keeps it beside the scheduled ones)."""
    name = "vpskit-pre-upgrade-" + re.sub(r"[^a-z0-9-]", "-", running.lower())
    return f"{BINARY} etcd-snapshot save --name {q(name)}"


def install_script(version: str, base_url: str, arch: str, airgap: bool) -> str:
    """Fetches (or takes the staged) binary and sums, checks the sha256, installs atomically. Pure."""
    asset, stage = binary_asset(arch), f"{STAGE}/{version}"
    url = release_url(base_url, version)
    lines = [
        "set -e",
        f"stage={q(stage)}",
        'mkdir -p "$stage" && chmod 700 "$stage"',
        sweep_command("/usr/local/bin", ".vpskit-k3s-??????", LEFTOVER_MINUTES, kind="d"),
        'work=$(mktemp -d /usr/local/bin/.vpskit-k3s-XXXXXX)',
        "trap 'rm -rf \"$work\"' EXIT",
        ON_SIGNAL,
    ]
    if airgap:
        lines += [f'cp "$stage/{asset}" "$work/k3s"', 'cp "$stage/sha256sum.txt" "$work/sums"']
    else:
        lines += [
            'fetch() { if command -v curl >/dev/null; then curl -fsSL --retry 2 -o "$2" "$1"; '
            'else wget -q -O "$2" "$1"; fi; }',
            f'fetch {q(url + "/" + sums_asset(arch))} "$work/sums"',
            f'fetch {q(url + "/" + asset)} "$work/k3s"',
        ]
    lines += [
        f"want=$(awk '$2 == \"{asset}\" || $2 == \"*{asset}\" {{print $1}}' \"$work/sums\")",
        'got=$(sha256sum "$work/k3s" | cut -d" " -f1)',
        f'if [ -z "$want" ]; then echo "{sums_asset(arch)} of {version} lists no {asset}" >&2; exit 65; fi',
        f'if [ "$got" != "$want" ]; then echo "checksum mismatch for {asset} {version}: the release lists $want, '
        'the file is $got; nothing was installed" >&2; exit 66; fi',
        'chmod 0755 "$work/k3s"',
        f'mv -f "$work/k3s" {BINARY}',
        'cp "$work/sums" "$stage/sha256sum.txt.new" && mv -f "$stage/sha256sum.txt.new" "$stage/sha256sum.txt"',
    ]
    return "\n".join(lines)
