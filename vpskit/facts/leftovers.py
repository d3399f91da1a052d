"""vpskit's own temporaries that a killed run left behind, swept at the start of each applying run.

A run killed mid-write leaves its temp file (SIGKILL runs no trap; dash runs no EXIT trap on a signal), and
the write that would sweep it runs only when that folder is written again. So every folder a write, a
download or an upload makes its temp files in is recorded on the host (FOLDERS_RECORD, by `record_folder`,
part of every sweep of one folder), and the first fact round trip of an applying run, once the run holds the
host's lock, sweeps them all: only vpskit's marked names (`.vpskit-`, `.vpskit-dl-`, `.vpskit-upload-` and
mktemp's six characters), only plain files older than SWEEP_MINUTES, only in root's own folders (root does not
act in a folder another user may change). A fact, though it changes the host, as the lock beside it does: it
rides in a round trip the run makes anyway, so a no-op run costs no command more.
"""

from __future__ import annotations

import posixpath

from .base import Fact, q

FOLDERS_RECORD = "/var/lib/vpskit/temp-folders"
TEMP_NAMES = (".vpskit-??????", ".vpskit-dl-??????", ".vpskit-upload-??????")
# a live transfer keeps touching its file: only a dead run's is this old
SWEEP_MINUTES = 60


def record_folder(folder: str, record: str = FOLDERS_RECORD) -> str:
    """Shell that adds `folder` (a shell word) to the record once; it never fails the command it is part of."""
    return (f"{{ mkdir -p {q(posixpath.dirname(record))} && {{ grep -qxF -- {folder} {q(record)} || "
            f"printf '%s\\n' {folder} >> {q(record)}; }}; }} 2>/dev/null || :")


_SWEEP = r"""
grep -qxF "run_id=$run" "$lock" 2>/dev/null || { echo 'held=no'; exit 0; }
[ -f "$record" ] && [ ! -L "$record" ] || exit 0
# one folder a line: split on newlines only, no globbing
set -f
IFS='
'
# shellcheck disable=SC2046
set -- $(awk '/^\// && !seen[$0]++' "$record")
[ "$#" -gt 0 ] || exit 0
# the record keeps the folders that still exist; -maxdepth 0 looks at each folder itself, never through a link
# (find fails for a folder that is gone: what it printed is still the list)
find "$@" -maxdepth 0 -type d 2>/dev/null > "$record.new"
mv -f "$record.new" "$record"
# shellcheck disable=SC2046
set -- $(find "$@" -maxdepth 0 -type d -user 0 2>/dev/null)
[ "$#" -gt 0 ] || exit 0
find "$@" -maxdepth 1 -type f \( @NAMES@ \) -mmin +"$minutes" -print -delete 2>/dev/null
exit 0
"""


class StaleTempsSwept(Fact):
    """Removes the stale temporaries of every recorded folder while this run holds the lock; the value is the
    list of paths removed (None when the run does not hold the lock: nothing is touched)."""

    def __init__(self, run_id: str, lock_path: str, record: str = FOLDERS_RECORD, minutes: int = SWEEP_MINUTES):
        super().__init__(run_id, lock_path, record, int(minutes))

    def command(self) -> str:
        run_id, lock_path, record, minutes = self.args
        names = " -o ".join(f"-name {q(name)}" for name in TEMP_NAMES)
        return (f"run={q(run_id)}; lock={q(lock_path)}; record={q(record)}; minutes={minutes}"
                + _SWEEP.replace("@NAMES@", names))

    def parse(self, output: str, rc: int) -> list[str] | None:
        lines = [line for line in output.splitlines() if line]
        if lines == ["held=no"]:
            return None
        return lines
