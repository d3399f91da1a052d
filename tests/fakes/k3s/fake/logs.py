"""k3s-style log lines on stderr, and the fatal error that ends a command with one."""

import datetime
import sys


class FatalError(Exception):
    """Ends the command with exit status 1 and the message on stderr, as k3s's fatal log lines do."""


def log(level: str, message: str) -> None:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f'time="{stamp}" level={level} msg="{message}"', file=sys.stderr, flush=True)


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
