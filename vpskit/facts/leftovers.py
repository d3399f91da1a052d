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
# shell builtins read the lock and the record: a no-op run (nothing to sweep, no folder gone) starts no program
held=
if [ -f "$lock" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
        [ "$line" = "run_id=$run" ] && held=1
    done < "$lock"
fi
[ -n "$held" ] || { echo 'held=no'; exit 0; }
[ -f "$record" ] && [ ! -L "$record" ] || exit 0
# one folder a line: split on newlines only, no globbing
set -f
IFS='
'
# the record keeps the folders that still exist (a folder itself, never through a link), once each and in
# order; it is rewritten only when that drops a line (or ends the last one)
kept=; seen='
'; count=0; changed=
while IFS= read -r line || { [ -n "$line" ] && changed=1; }; do
    case $line in /*) ;; *) changed=1; continue ;; esac
    case $seen in *"
$line
"*) changed=1; continue ;; esac
    seen="$seen$line
"
    count=$((count + 1))
    if [ -d "$line" ] && [ ! -L "$line" ]; then
        kept="$kept$line
"
    else
        changed=1
    fi
done < "$record"
[ "$count" -gt 0 ] || exit 0
if [ -n "$changed" ]; then
    printf '%s' "$kept" > "$record.new"
    mv -f "$record.new" "$record"
fi
# shellcheck disable=SC2086
set -- $kept
[ "$#" -gt 0 ] || exit 0
# find runs only when some folder holds a name of vpskit's mark (a superset of the names swept)
found=
set +f
for folder in "$@"; do
    for entry in "$folder"/.vpskit-*; do
        if [ -e "$entry" ] || [ -L "$entry" ]; then found=1; break 2; fi
    done
done
set -f
[ -n "$found" ] || exit 0
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
