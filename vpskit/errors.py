"""The errors vpskit raises, each carrying where it happened (file:line, or host and step)."""


class VpskitError(Exception):
    """Base class: a problem vpskit can explain to the user in one message."""


class InventoryError(VpskitError):
    """A mistake in the inventory, located by file and line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path, self.line, self.message = path, line, message
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")


class ConnectError(VpskitError):
    """The host could not be reached or refused us."""


class LoginRefusedError(ConnectError):
    """Every login tried reached sshd and was refused by authentication; `tried` lists them."""

    def __init__(self, message: str, tried: str):
        self.tried = tried
        super().__init__(message)


class HostKeyError(ConnectError):
    """The host's key is unknown or does not match known_hosts."""


class RemoteError(VpskitError):
    """A remote command failed during a named step."""

    def __init__(self, host: str, step: str, message: str):
        self.host, self.step = host, step
        super().__init__(f"{host}: {step}: {message}")


class LabError(VpskitError):
    """The local lab cannot be built or driven on this machine."""


class BlockedError(RemoteError):
    """A step cannot proceed on the host as it is (a directory where a file belongs, a missing unit)."""
