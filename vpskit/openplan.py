"""A host's first play planned while its connection opens: the login it will most likely use is known (the first
one the login plan tries), and so is the address the controller will have on the path to it (the kernel's route,
asked without sending a packet). Planning the first time imports the play's role modules and compiles their
templates, tens of milliseconds that otherwise follow the handshake; the run keeps those plans only when the
connection opened as expected and plans again otherwise."""

from __future__ import annotations

import socket
import threading
from typing import Callable

from .connection import Target


def expected_runtime(target: Target) -> dict | None:
    """The runtime variables a connection to `target` will give its plans if the first login works; None when
    the route cannot be told without connecting."""
    user, port = target.logins()[0]
    try:
        found = socket.getaddrinfo(target.address.encode("ascii") if target.address.isascii() else target.address,
                                   port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    if not found:
        return None
    family, _type, _proto, _name, address = found[0]
    probe = socket.socket(family, socket.SOCK_DGRAM)
    try:
        probe.connect(address)  # a datagram socket's connect only picks the route: nothing is sent
        local = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return {"vpskit_login_user": user, "vpskit_login_port": port, "vpskit_controller_address": local}


class Background:
    """Runs one call in a thread of its own; `result()` waits for it and raises what it raised."""

    def __init__(self, call: Callable[[], object], name: str):
        self._outcome: tuple[bool, object] | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), name=name, daemon=True)
        self._thread.start()

    def _run(self, call) -> None:
        try:
            self._outcome = (True, call())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as it is
            self._outcome = (False, exc)

    def result(self):
        self._thread.join()
        ok, value = self._outcome
        if not ok:
            raise value
        return value
