"""The per-host run lock, taken as a fact: held while the run's SSH connection lives, never released."""

from __future__ import annotations

import getpass
import posixpath
import re
import secrets
import socket
from dataclasses import dataclass

from .base import Fact, q

# on tmpfs, so a reboot clears it; its directory is created 0700
LOCK_PATH = "/run/vpskit/lock"

# comm of the process serving one SSH connection: OpenSSH < 9.8, OpenSSH >= 9.8, Dropbear
CONNECTION_PROCESS_NAMES = ("sshd", "sshd-session", "dropbear")

_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_FIELDS = ("run_id", "operator", "address", "since", "pid", "start")

# shell functions both scripts use to read the lock: POSIX sh
_READING = r"""
# sets run_state, ppid and start from /proc/PID/stat; fails when the process is gone
stat_of() {
    line=
    read -r line < "/proc/$1/stat" || return 1
    # comm (field 2) may hold spaces and parentheses: fields after the last ") " are plain
    # shellcheck disable=SC2086
    set -- ${line##*) }
    run_state=$1
    ppid=$2
    start=${20}
    [ -n "$start" ]
}

# sets old_* from the lock file, and present when it exists
read_lock() {
    old_run_id=; old_operator=; old_address=; old_since=; old_pid=; old_start=; present=
    [ -e "$lock" ] || return 0
    present=1
    while IFS= read -r line; do
        case $line in
            run_id=*) old_run_id=${line#*=} ;;
            operator=*) old_operator=${line#*=} ;;
            address=*) old_address=${line#*=} ;;
            since=*) old_since=${line#*=} ;;
            pid=*) old_pid=${line#*=} ;;
            start=*) old_start=${line#*=} ;;
        esac
    done < "$lock"
}

# the recorded process still runs (same PID, same start time, not a zombie awaiting its parent)
holder_alive() {
    case $old_pid in ''|*[!0-9]*) return 1 ;; esac
    stat_of "$old_pid" && [ "$start" = "$old_start" ] && [ "$run_state" != Z ] && [ "$run_state" != X ]
}
"""

# POSIX sh (dash). Inputs are shell variables assigned ahead of it: lock, run, operator, given_address, wait_seconds,
# checking (set for a check run: look, do not take).
# The holder is the sshd process serving this connection, recorded as PID + start time (field 22 of
# /proc/PID/stat, which tells a reused PID apart): it exits when the connection closes, so the lock
# needs no release and a killed controller leaves only a stale lock behind.
_LOCK_SCRIPT = _READING + r"""
umask 077
dir=${lock%/*}

# the first process named like an sshd session above this shell, through sudo; sets anchor,
# anchor_start, below (its child on our side, which sshd started with SSH_CONNECTION) and walked
find_anchor() {
    anchor=; below=; walked=; p=$$; steps=0
    while [ "$p" -gt 1 ] && [ "$steps" -lt 64 ]; do
        comm=
        read -r comm < "/proc/$p/comm" || return 1
        walked="$walked $p:$comm"
        case $comm in
            @PATTERN@) anchor=$p; stat_of "$p" || return 1; anchor_start=$start; return 0 ;;
        esac
        stat_of "$p" || return 1
        below=$p; p=$ppid; steps=$((steps + 1))
    done
    return 1
}

# the controller's address as sshd sees it (sudo drops SSH_CONNECTION from our environment, so
# read it from the environment sshd gave the process below it); else what the controller told us
find_address() {
    address=${SSH_CONNECTION%% *}
    if [ -z "$address" ] && [ -n "$below" ]; then
        address=$(tr '\0' '\n' < "/proc/$below/environ" | while IFS= read -r var; do
            case $var in SSH_CONNECTION=*) var=${var#*=}; echo "${var%% *}"; break ;; esac
        done)
    fi
    [ -n "$address" ] || address=$given_address
}

# written whole then renamed, so no reader ever sees half a lock
write_lock() {
    tmp=$lock.tmp.$$
    printf 'run_id=%s\noperator=%s\naddress=%s\nsince=%s\npid=%s\nstart=%s\n' \
        "$run" "$operator" "$address" "$1" "$anchor" "$anchor_start" > "$tmp" && mv -f "$tmp" "$lock"
}

emit() {
    prefix=$1; shift
    for name in run_id operator address since pid start; do
        printf '%s.%s=%s\n' "$prefix" "$name" "$1"
        shift
    done
}

# the lock's folder is root's alone and its parent lets no other user rename it away; sets why otherwise.
# One find prints the owner and mode (octal) of both; the shell judges them
safe_dir() {
    if [ -L "$dir" ] || [ ! -d "$dir" ]; then why="$dir is not a folder (a symbolic link?)"; return 1; fi
    parent=${dir%/*}
    # shellcheck disable=SC2046
    set -- $(find "$dir" "${parent:-/}/" -maxdepth 0 -printf '%U %m\n')
    if [ "$#" -ne 4 ] || [ "$1" != 0 ] || [ $((0$2 & 022)) -ne 0 ]; then
        why="$dir is not root's alone (owner or mode): another user could replace the lock"; return 1
    fi
    # writable by every user and not sticky
    if [ $((0$4 & 01002)) -eq 2 ]; then
        why="${parent:-/} is writable by every user: the lock's folder could be swapped"; return 1
    fi
}

# a check run changes nothing: it waits (bounded) while an apply holds the lock, so it does not report a
# host half-way through one, but it writes no lock, so it never keeps an apply waiting
look() {
    waited=0
    while [ -e "$lock" ]; do
        read_lock
        if [ "$old_run_id" = "$run" ] || ! holder_alive; then break; fi
        if [ "$waited" -ge "$wait_seconds" ]; then
            echo "state=held"
            emit holder "$old_run_id" "$old_operator" "$old_address" "$old_since" "$old_pid" "$old_start"
            return
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "state=clear"
}

main() {
    if [ -n "$checking" ]; then
        look
        return
    fi
    if ! find_anchor; then
        echo "state=error"
        echo "reason=no process named @NAMES@ among the ancestors of the fact shell:$walked"
        return
    fi
    find_address
    # a run racing us may create it first
    [ -d "$dir" ] || mkdir -m 0700 "$dir" || [ -d "$dir" ] || { echo "state=error"; echo "reason=cannot create $dir"; return; }
    if ! safe_dir; then echo "state=error"; echo "reason=$why"; return; fi
    waited=0
    while :; do
        # check-and-write under a kernel lock on the directory, so two runs racing cannot both win;
        # the kernel drops it if we are killed. flock is in util-linux (essential on Debian)
        exec 9< "$dir"
        if command -v flock >/dev/null && ! flock -w 10 9; then
            echo "state=error"; echo "reason=no turn at $dir's mutex within 10 s"; return
        fi
        read_lock
        if [ "$old_run_id" != "$run" ] && holder_alive; then
            if [ "$waited" -lt "$wait_seconds" ]; then
                exec 9<&-
                sleep 1
                waited=$((waited + 1))
                continue
            fi
            echo "state=held"
            emit holder "$old_run_id" "$old_operator" "$old_address" "$old_since" "$old_pid" "$old_start"
            return
        fi
        break
    done
    stale=
    if [ "$old_run_id" = "$run" ]; then
        # ours already; a reconnect gives the run a new sshd process to anchor to
        if [ "$old_pid" != "$anchor" ] || [ "$old_start" != "$anchor_start" ]; then
            write_lock "$old_since"
        fi
    else
        [ -n "$present" ] && stale=1
        stale_run_id=$old_run_id; stale_operator=$old_operator; stale_address=$old_address
        stale_since=$old_since; stale_pid=$old_pid; stale_start=$old_start
        write_lock "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    fi
    read_lock
    if [ "$old_run_id" = "$run" ]; then
        echo "state=acquired"
    else
        echo "state=held"
    fi
    emit holder "$old_run_id" "$old_operator" "$old_address" "$old_since" "$old_pid" "$old_start"
    if [ -n "$stale" ]; then
        emit stale "$stale_run_id" "$stale_operator" "$stale_address" "$stale_since" "$stale_pid" "$stale_start"
    fi
}

main
"""

_RELEASE_SCRIPT = r"""
dir=${lock%/*}
if [ -e "$lock" ]; then
    exec 9< "$dir"
    if command -v flock >/dev/null; then flock -w 10 9; fi
    holder_run=
    while IFS= read -r line; do
        case $line in run_id=*) holder_run=${line#*=} ;; esac
    done < "$lock"
    if [ "$holder_run" = "$run" ]; then rm -f "$lock"; fi
fi
true
"""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock: the run, its operator, and the sshd process its connection is."""

    operator: str
    address: str
    since: str
    run_id: str
    pid: int | None
    start: int | None

    def describe(self) -> str:
        run = self.run_id[:8] + ("…" if len(self.run_id) > 8 else "")
        return (f"{self.operator or 'unknown operator'} from {self.address or 'unknown address'} "
                f"since {self.since or 'unknown time'} (run {run or 'unknown'})")


@dataclass(frozen=True)
class LockState:
    """The outcome of asking for the lock; holder is whoever has it now (this run, when acquired)."""

    acquired: bool
    holder: Holder | None
    took_over_stale: Holder | None

    def describe(self) -> str:
        if not self.acquired:
            return f"held by {self.holder.describe()}"
        if self.took_over_stale is not None:
            return f"acquired, taking over the stale lock of {self.took_over_stale.describe()}"
        return "acquired"


class HostLockFact(Fact):
    """Takes the host's run lock for this run, or names who holds it; asking again in the same run succeeds."""

    def __init__(self, run_id: str, operator: str, controller_address: str = "", wait_seconds: int = 0,
                 path: str = LOCK_PATH, checking: bool = False):
        if not _RUN_ID.fullmatch(run_id):
            raise ValueError(f"run id must be 1-64 letters, digits, '-' or '_': {run_id!r}")
        for name, value in (("operator", operator), ("controller address", controller_address)):
            if "\n" in value or "\0" in value:
                raise ValueError(f"{name} must be one line: {value!r}")
        if not posixpath.isabs(path):
            raise ValueError(f"lock path must be absolute: {path!r}")
        super().__init__(run_id, operator, controller_address, int(wait_seconds), path, bool(checking))

    def command(self) -> str:
        run_id, operator, controller_address, wait_seconds, path, checking = self.args
        assignments = (f"lock={q(path)}; run={q(run_id)}; operator={q(operator)}; "
                       f"given_address={q(controller_address)}; wait_seconds={wait_seconds}; "
                       f"checking={'1' if checking else ''}")
        body = (_LOCK_SCRIPT.replace("@PATTERN@", "|".join(CONNECTION_PROCESS_NAMES))
                .replace("@NAMES@", "/".join(CONNECTION_PROCESS_NAMES)))
        return assignments + "\n" + body

    def parse(self, output: str, rc: int) -> LockState:
        fields = {}
        for line in output.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key] = value
        state = fields.get("state")
        if state == "error":
            raise ValueError(f"cannot take the host lock: {fields.get('reason', 'no reason given')}")
        if state == "clear":  # a check run: no apply holds the lock, and none is kept waiting by this run
            return LockState(acquired=True, holder=None, took_over_stale=None)
        if state not in ("acquired", "held") or "holder.run_id" not in fields:
            raise ValueError(f"host lock output is not understood (rc {rc}): {output[:300]!r}")
        holder = _holder(fields, "holder")
        stale = _holder(fields, "stale") if "stale.run_id" in fields else None
        return LockState(acquired=state == "acquired", holder=holder, took_over_stale=stale)


def _holder(fields: dict[str, str], prefix: str) -> Holder:
    values = {name: fields.get(f"{prefix}.{name}", "") for name in _FIELDS}
    return Holder(operator=values["operator"], address=values["address"], since=values["since"],
                  run_id=values["run_id"], pid=_number(values["pid"]), start=_number(values["start"]))


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def release_script(run_id: str, path: str = LOCK_PATH) -> str:
    """A shell script that removes the lock only if this run holds it (a normal run never needs it)."""
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"run id must be 1-64 letters, digits, '-' or '_': {run_id!r}")
    return f"lock={q(path)}; run={q(run_id)}\n" + _RELEASE_SCRIPT


# shows the lock without taking it; with `expect` set (a run id), breaks it if that run still holds it:
# its SSH session (the sshd process recorded, same start time) is ended, so the run behind it cannot go on
_BREAK_SCRIPT = _READING + r"""
dir=${lock%/*}
if [ ! -e "$lock" ]; then echo "state=free"; exit 0; fi
exec 9< "$dir"
if command -v flock >/dev/null && ! flock -w 10 9; then echo "state=error"; exit 0; fi
read_lock
old_alive=
if holder_alive; then old_alive=1; fi
for name in run_id operator address since pid start alive; do eval "printf 'holder.%s=%s\n' $name \"\$old_$name\""; done
if [ -n "$expect" ]; then
    if [ "$old_run_id" != "$expect" ]; then echo "state=changed"; exit 0; fi
    if [ -n "$old_alive" ]; then kill -TERM "$old_pid"; fi
    rm -f "$lock"
    echo "state=broken"
else
    echo "state=held"
fi
"""


def break_script(path: str = LOCK_PATH, expect: str = "") -> str:
    """Shell that shows the lock (expect empty), or breaks it if run `expect` still holds it. See parse_break."""
    if expect and not _RUN_ID.fullmatch(expect):
        raise ValueError(f"run id must be 1-64 letters, digits, '-' or '_': {expect!r}")
    return f"lock={q(path)}; expect={q(expect)}\n" + _BREAK_SCRIPT


def parse_break(output: str) -> tuple[str, Holder | None, bool]:
    """(state: free, held, broken, changed or error; the holder; whether its SSH session was still open)."""
    fields = dict(line.partition("=")[::2] for line in output.splitlines() if "=" in line)
    holder = _holder(fields, "holder") if "holder.run_id" in fields else None
    return fields.get("state", "error"), holder, fields.get("holder.alive") == "1"


def new_run_id() -> str:
    """A random id for one run, made on the controller."""
    return secrets.token_hex(8)


def operator_name() -> str:
    """user@controller-hostname, as the lock records who is running."""
    return f"{getpass.getuser()}@{socket.gethostname()}"
