"""Which version moves K3s supports: forward, one minor at a time (Kubernetes' version skew policy)."""

from __future__ import annotations

import re

VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)")


def parse(version: str) -> tuple[int, int, int, int] | None:
    match = VERSION.fullmatch(version or "")
    return tuple(int(p) for p in match.groups()) if match else None


def version_error(value) -> str | None:
    """Why k3s_version is not a K3s release name like v1.36.4+k3s1, else None. Pure."""
    return None if isinstance(value, str) and parse(value) else f"must be a K3s release like v1.36.4+k3s1, got {value!r}"


def move_error(running: str, wanted: str) -> str | None:
    """Why moving a node from `running` to `wanted` is not a supported K3s upgrade, else None. Pure."""
    old, new = parse(running), parse(wanted)
    if old is None or new is None or old == new:
        return None
    if new < old:
        return (f"k3s_version {wanted} is older than the {running} this node runs: K3s cannot be downgraded in "
                f"place (the datastore may already have the newer schema; etcd 3.6 refuses older members). "
                f"The supported way back is the documented cluster restore: k3s server --cluster-reset "
                f"--cluster-reset-restore-path=<the snapshot vpskit took before the upgrade> on the first server "
                f"with the old binary, then rejoin the others")
    if (new[0], new[1]) > (old[0], old[1] + 1):
        steps = ", ".join(f"v{old[0]}.{m}" for m in range(old[1] + 1, new[1]))
        return (f"k3s_version {wanted} skips minor versions from {running}: Kubernetes supports upgrading one "
                f"minor at a time; upgrade to the latest patch of {steps} first, in turn, then to {wanted}")
    return None
