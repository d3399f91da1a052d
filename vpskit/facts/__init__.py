"""Facts: each is a shell command plus a pure parser of its output; gathered in batches."""

from .base import Fact
from .files import FileFact, FileState
from .lock import Holder, HostLockFact, LockState
from .packages import AptCacheAgeFact, AptPolicyFact, ConffilesFact, PackagesFact
from .system import CommandFact, CommandOutputFact, HostInfoFact, SysctlFact
from .services import ServiceFact
from .sshd import SshdConfigFact, SshdEffectiveFact
from .users import GroupFact, UserFact, AuthorizedKeysFact

__all__ = [
    "Fact", "AptPolicyFact", "ConffilesFact", "FileFact", "FileState", "AptCacheAgeFact", "PackagesFact", "CommandFact", "CommandOutputFact",
    "HostInfoFact", "SysctlFact", "ServiceFact", "GroupFact", "UserFact", "AuthorizedKeysFact", "HostLockFact",
    "LockState", "Holder", "SshdConfigFact", "SshdEffectiveFact",
]
