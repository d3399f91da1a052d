"""Facts: each is a shell command plus a pure parser of its output; gathered in batches."""

from .base import Fact
from .files import FileFact, FileState
from .lock import Holder, HostLockFact, LockState
from .packages import AptCacheAgeFact, PackagesFact
from .system import CommandFact, CommandOutputFact, HostInfoFact, SysctlFact
from .services import ServiceFact
from .users import GroupFact, UserFact, AuthorizedKeysFact

__all__ = [
    "Fact", "FileFact", "FileState", "AptCacheAgeFact", "PackagesFact", "CommandFact", "CommandOutputFact",
    "HostInfoFact", "SysctlFact", "ServiceFact", "GroupFact", "UserFact", "AuthorizedKeysFact", "HostLockFact",
    "LockState", "Holder",
]
