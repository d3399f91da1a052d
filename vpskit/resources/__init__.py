"""Resources: the declarative primitives roles are written with; each checks, diffs, then applies."""

from .base import FlushHandlers, Handler, ImmutableResource, Outcome, Plan, Resource, VersionChange
from .apt import AptCache, Conffiles, Packages
from .aptpolicy import AptPolicy
from .command import Command
from .cron import CronJob
from .download import Download
from .files import Block, Directory, File, Line, Permissions
from .services import Service
from .sshd import SshdOverrides
from .sysctl import Sysctl
from .transfer import Fetch, Upload
from .users import AuthorizedKeys, Group, User
from .wait import Wait

__all__ = [
    "FlushHandlers", "Handler", "ImmutableResource", "Outcome", "Plan", "Resource", "VersionChange", "AptCache", "AptPolicy", "Conffiles", "Packages", "Command",
    "CronJob", "Download", "Block", "Directory", "File", "Line", "Permissions", "Service", "SshdOverrides", "Sysctl", "AuthorizedKeys", "Group", "User",
    "Fetch", "Upload", "Wait",
]
