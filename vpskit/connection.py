"""SSH connections to one host: strict host keys, key auth, retry with backoff, sudo, counted commands.

This is the only module that imports paramiko (its SSHClient directly: fabric's Connection only wrapped it,
and its invoke configuration cost a run's start-up time for nothing).
"""

from __future__ import annotations

import logging
import os
import select
import shlex
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST
from paramiko.message import Message
from paramiko.ssh_exception import (
    AuthenticationException,
    BadHostKeyException,
    NoValidConnectionsError,
    SSHException,
)

from .errors import ConnectError, HostKeyError, LoginRefusedError
from .keys import Keychain
from .knownhosts import KnownHosts
from .knownhosts import load as load_known_hosts

# paramiko logs a refused login's closed socket as an ERROR, which Python would print to stderr;
# vpskit reports every connection failure itself, with the login it tried
logging.getLogger("paramiko").addHandler(logging.NullHandler())


@dataclass
class Target:
    """Where and how to reach one host."""

    name: str
    address: str
    port: int = 22
    user: str = "root"
    key_file: str | None = None
    known_hosts: list[str] = field(default_factory=list)
    connect_timeout: float = 10.0
    connect_retries: int = 2
    trust_new_hosts: bool = False
    # other (user, port) logins to try when the first is refused, e.g. the admin user once root login is off
    fallbacks: list[tuple[str, int]] = field(default_factory=list)
    # SHA256 fingerprint of the key that worked last time: offered first among the agent's keys
    identity: str | None = None
    # the run's opened key files (a passphrase asked once per key per run); None: this connection's own
    keys: Keychain | None = field(default=None, compare=False, repr=False)

    def logins(self) -> list[tuple[str, int]]:
        result = [(self.user, self.port)]
        return result + [f for f in self.fallbacks if f not in result]


@dataclass
class CommandResult:
    """What one remote command returned."""

    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


def _known_on_another_port(client, hostname: str, key) -> bool:
    """True when the same key is known for this address without a port (vpskit moved sshd's port itself)."""
    if not hostname.startswith("["):
        return False
    bare = hostname[1:].rsplit("]:", 1)[0]
    known = client.get_host_keys().lookup(bare) or {}
    return known.get(key.get_name()) == key


class _RejectUnknownHost(paramiko.MissingHostKeyPolicy):
    """Refuses hosts absent from known_hosts, naming the fingerprint and the way to trust it."""

    def __init__(self, known: KnownHosts | None = None):
        self.known = known or KnownHosts()

    def missing_host_key(self, client, hostname, key):
        refuse_revoked(self.known, hostname, key)
        if _known_on_another_port(client, hostname, key):
            return
        raise HostKeyError(
            f"host key of {hostname} is not in known_hosts "
            f"({key.get_name()} {key.fingerprint}); verify it, then rerun with --trust-new-hosts to record it"
        )


class _TrustAndRecord(paramiko.MissingHostKeyPolicy):
    """Accepts a new host key (asked for with --trust-new-hosts) and appends it to a known_hosts file."""

    def __init__(self, path: str, known: KnownHosts | None = None):
        self.path, self.known = path, known or KnownHosts()

    def missing_host_key(self, client, hostname, key):
        refuse_revoked(self.known, hostname, key)
        if _known_on_another_port(client, hostname, key):
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="ascii") as fh:
            fh.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        client.get_host_keys().add(hostname, key.get_name(), key)


def host_key_known(address: str, ports: list[int], known_hosts: list[str]) -> bool:
    """True when any known_hosts file holds a key for this address on one of these ports (hashed names too)."""
    keys = load_known_hosts(known_hosts).keys
    return any(keys.lookup(address if port == 22 else f"[{address}]:{port}") for port in dict.fromkeys(ports))


def _fingerprint(key) -> str | None:
    try:
        return key.fingerprint if key is not None else None
    except Exception:  # noqa: BLE001 - a key type paramiko cannot hash is simply not remembered
        return None


def _agent_key(identity: str):
    """The SSH agent's key with this fingerprint, or None (no agent, or the key is no longer in it)."""
    try:
        agent = paramiko.Agent()
    except SSHException:
        return None
    for key in agent.get_keys():
        if _fingerprint(key) == identity:
            return key
    agent.close()
    return None


def _is_transient(error: Exception) -> bool:
    """Errors worth retrying: refused or dropped connections, timeouts, banner problems."""
    if isinstance(error, (NoValidConnectionsError, socket.timeout, TimeoutError, ConnectionError, EOFError)):
        return True
    return isinstance(error, SSHException) and not isinstance(error, (AuthenticationException, BadHostKeyException))


def _check_host_keys(client, target: Target) -> KnownHosts:
    """Known keys from the inventory's known_hosts and the user's; new keys refused unless trusted."""
    known = load_known_hosts(target.known_hosts, client.get_host_keys())
    record_to = next((os.path.expanduser(p) for p in target.known_hosts), None)
    if target.trust_new_hosts:
        client.set_missing_host_key_policy(_TrustAndRecord(record_to or os.path.expanduser("~/.ssh/known_hosts"),
                                                           known))
    else:
        client.set_missing_host_key_policy(_RejectUnknownHost(known))
    return known


def refuse_revoked(known: KnownHosts, hostname: str, key) -> None:
    if key is not None and known.is_revoked(key):
        raise HostKeyError(f"host key of {hostname} ({key.get_name()} {key.fingerprint}) is marked @revoked in "
                           "known_hosts; refusing it")


def _tcp_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket with Nagle off: SSH sends small packets back to back (exec request, then
    EOF), and Nagle holding the second until the first is ACKed costs a delayed ACK (~40 ms) per command."""
    # an ASCII name or address as bytes: a str makes getaddrinfo load the idna codec (and stringprep), 15 ms
    host = address.encode("ascii") if address.isascii() else address
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise NoValidConnectionsError({(address, port): exc}) from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if "banner" in text.lower() or isinstance(error, EOFError):
        return "sshd dropped it early, as OpenSSH >= 9.8 does for a source address it penalises"
    return text


def tried_logins(address: str, refused: list[tuple[str, int, str]]) -> str:
    """The refused logins as `user@address:port (reason)`, separated by semicolons."""
    return "; ".join(f"{user}@{address}:{port} ({reason})" for user, port, reason in refused)


def refused_message(address: str, refused: list[tuple[str, int, str]], key_file: str | None) -> str:
    """What every login refused by authentication most likely means on a hardened host, and the way back in. Pure."""
    users = list(dict.fromkeys(user for user, _port, _reason in refused)) or ["root"]
    admin = next((user for user in users if user != "root"), users[0])
    keys = f"the key {key_file} (vpskit_ssh_key)" if key_file else "the keys of your SSH agent and ~/.ssh"
    lost = (f"root login is off and ~{admin}/.ssh/authorized_keys no longer holds your public key"
            if admin != "root" else "~root/.ssh/authorized_keys no longer holds your public key")
    wrong = (f"or {key_file} is not the key that was authorised" if key_file
             else "or none of them is the key that was authorised (name it with vpskit_ssh_key)")
    return (f"authentication failed for {tried_logins(address, refused)}. sshd answers but refuses {keys}: "
            f"you are locked out, not cut off. On a host vpskit hardened this most likely means {lost} "
            f"(edited by hand, or replaced by users_admin_keys with users_admin_keys_exclusive), {wrong}. "
            f"To get back in, open your provider's web console or rescue system, put your public key back into "
            f"~{admin}/.ssh/authorized_keys (owned by {admin}, mode 600, in a 700 ~{admin}/.ssh), then rerun vpskit.")


class ShScript(str):
    """A command that is a POSIX sh script, whatever the login user's shell: run under sh once (for a login user
    other than root, the sh that sudo starts is that sh: a second one would be one more process on the host)."""


def sudo_wrap(command: str, user: str) -> str:
    """Runs a shell command as root: directly for root, through non-interactive sudo otherwise."""
    if user == "root":
        return login_command(command)
    return f"sudo -n -H sh -c {shlex.quote(command)}"


def login_command(command: str) -> str:
    """The command as the login shell runs it: an ShScript under sh, any other as it is."""
    return f"sh -c {shlex.quote(command)}" if isinstance(command, ShScript) else command


class Connection:
    """One SSH connection to a host; opened lazily, reused for every command of a run."""

    def __init__(self, target: Target, on_retry=None):
        self.target = target
        self.on_retry = on_retry or (lambda message: None)
        self._client: paramiko.SSHClient | None = None
        self.user, self.port = target.user, target.port
        self.connections_opened = 0
        self.commands_run = 0
        # the key that worked (SHA256 fingerprint), and the logins refused before it: what a run remembers
        self.identity: str | None = None
        self.refused: list[tuple[str, int, str]] = []
        self._warned = False
        # the first command's session channel, opened as soon as the login succeeds (see _open_spare)
        self._spare: tuple[threading.Thread, dict] | None = None

    # -- opening -----------------------------------------------------------------------------
    def open(self) -> None:
        """Connects with the first login that works; transient failures are retried with backoff."""
        if self._client is not None:
            return
        # a key that cannot be opened stops here, before the host sees any attempt
        auth = (self.target.keys or Keychain()).auth(self.target.key_file) if self.target.key_file else None
        attempts = max(1, self.target.connect_retries + 1)
        delay = 1.0
        for attempt in range(1, attempts + 1):
            refused: list[tuple[str, int, str]] = []
            transient: Exception | None = None
            for user, port in self.target.logins():
                try:
                    self._client = self._connect_once(user, port, auth)
                    self.user, self.port = user, port
                    self.connections_opened += 1
                    self.refused = refused
                    self.identity = _fingerprint(getattr(self.transport.auth_handler, "private_key", None))
                    self._open_spare()
                    return
                except HostKeyError:
                    raise
                except BadHostKeyException as exc:
                    raise HostKeyError(
                        f"host key of {exc.hostname} does not match known_hosts "
                        f"(offered {exc.key.get_name()} {exc.key.fingerprint}): refusing to connect; "
                        "if the host was rebuilt, remove its old line from known_hosts"
                    ) from None
                except AuthenticationException as exc:
                    refused.append((user, port, str(exc) or type(exc).__name__))
                except Exception as exc:  # noqa: BLE001 - classified below
                    if not _is_transient(exc):
                        raise ConnectError(self._describe_failure(exc, user, port)) from None
                    transient = exc
            if transient is None:
                raise LoginRefusedError(refused_message(self.target.address, refused, self.target.key_file),
                                        tried_logins(self.target.address, refused))
            if attempt == attempts:
                raise ConnectError(self._describe_failure(transient, *self.target.logins()[-1]))
            self.on_retry(f"connection failed ({_short(transient)}); retrying in {delay:.0f}s")
            time.sleep(delay)
            delay *= 2

    def _describe_failure(self, exc: Exception, user: str, port: int) -> str:
        t = self.target
        text = str(exc) or type(exc).__name__
        hint = ""
        if "banner" in text.lower() or isinstance(exc, EOFError):
            hint = " (sshd dropped the connection early; OpenSSH >= 9.8 may be penalising this source address after failed attempts: wait and retry)"
        return f"cannot connect to {user}@{t.address}:{port} after {t.connect_retries + 1} attempts: {text}{hint}"

    def _warn_skipped(self, known: KnownHosts) -> None:
        if known.skipped and not self._warned:
            self._warned = True
            for why in known.skipped:
                self.on_retry(f"known_hosts: {why}")

    def _connect_once(self, user: str, port: int, auth: dict | None = None) -> paramiko.SSHClient:
        t = self.target
        connect_kwargs = {
            "allow_agent": True,
            "look_for_keys": True,
            "banner_timeout": t.connect_timeout,
            "auth_timeout": t.connect_timeout,
        }
        if auth:
            connect_kwargs.update(auth)
        elif t.identity:
            # paramiko tries an explicit key before the agent's, so the one that worked last time goes first
            remembered = _agent_key(t.identity)
            if remembered is not None:
                connect_kwargs["pkey"] = remembered
        connect_kwargs["sock"] = sock = _tcp_socket(t.address, port, t.connect_timeout)
        client = paramiko.SSHClient()
        try:
            known = _check_host_keys(client, t)
            self._warn_skipped(known)
            client.connect(t.address, port=port, username=user, timeout=t.connect_timeout, **connect_kwargs)
            # a revoked key also listed plainly passes paramiko's own check: ssh refuses it, so do we
            refuse_revoked(known, t.address, client.get_transport().get_remote_server_key())
        except BaseException:
            client.close()
            sock.close()
            raise
        client.get_transport().set_keepalive(15)
        return client

    @property
    def transport(self) -> paramiko.Transport:
        """The open connection's SSH transport (its channels, its socket)."""
        return self._client.get_transport()

    def _open_spare(self) -> None:
        """Asks for the first command's session channel now: its round trip overlaps the run's planning between
        the login and the first command, instead of following it."""
        transport, box = self.transport, {}

        def open_one() -> None:
            try:
                box["channel"] = transport.open_session()
            except Exception:  # noqa: BLE001 - the command opens its own channel and reports the failure
                pass
        thread = threading.Thread(target=open_one, name=f"open-session-{self.target.name}", daemon=True)
        thread.start()
        self._spare = (thread, box)

    def _session_channel(self):
        if self._spare is not None:
            thread, box = self._spare
            self._spare = None
            thread.join()
            if "channel" in box and not box["channel"].closed:
                return box["channel"]
        return self.transport.open_session()

    # -- commands ----------------------------------------------------------------------------
    def run(self, command: str, stdin: bytes | None = None, sudo: bool = True, timeout: float | None = None) -> CommandResult:
        """Runs one shell command (as root unless sudo=False); one round trip."""
        self.open()
        command = sudo_wrap(command, self.user) if sudo else login_command(command)
        self.commands_run += 1
        channel = self._session_channel()
        try:
            _exec_pipelined(channel, command)
            try:
                if stdin:
                    channel.sendall(stdin)
                channel.shutdown_write()
            except OSError:
                pass  # the server refused the exec and closed the channel: its answer below says so
            _exec_answer(channel)
            stdout, stderr = _drain(channel, timeout)
            rc = channel.recv_exit_status()
        finally:
            channel.close()
        result = CommandResult(rc, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))
        if sudo and self.user != "root" and result.rc == 1 and "sudo: a password is required" in result.stderr:
            raise ConnectError(f"{self.user} needs passwordless sudo (NOPASSWD) for vpskit to act as root")
        return result

    def put(self, local_path: str | os.PathLike, remote_path: str,
            progress: Callable[[int, int], None] | None = None) -> None:
        """Streams a local file to `remote_path` over SFTP on the open transport, as the login user.

        `progress(sent, total)` is called as chunks are acknowledged. Failures raise OSError.
        """
        self.open()
        self.commands_run += 1  # an SFTP session is one more channel and exchange, counted like a command
        try:
            sftp = paramiko.SFTPClient.from_transport(self.transport)
            try:
                sftp.put(os.fspath(local_path), remote_path, callback=progress, confirm=True)
            finally:
                sftp.close()
        except SSHException as exc:
            raise OSError(f"SFTP upload to {remote_path} failed: {exc}") from exc

    def local_address(self) -> str | None:
        """Our address on the path to the host (what the host sees, unless there is NAT in between)."""
        self.open()
        try:
            return self.transport.sock.getsockname()[0]
        except (AttributeError, OSError):
            return None

    def close(self) -> None:
        if self._spare is not None:
            thread, _box = self._spare
            self._spare = None
            thread.join(timeout=5)
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _exec_pipelined(channel, command: str) -> None:
    """paramiko's exec_command without waiting for the server's answer: the input and its end follow at once,
    as OpenSSH's client sends them, and the answer is read after (`_exec_answer`). SSH keeps a channel's
    messages in order, so sshd starts the command before it reads the input; one round trip less a command."""
    message = Message()
    message.add_byte(cMSG_CHANNEL_REQUEST)
    message.add_int(channel.remote_chanid)
    message.add_string("exec")
    message.add_boolean(True)
    message.add_string(command)
    channel._event_pending()
    channel.transport._send_user_message(message)


def _exec_answer(channel) -> None:
    """The exec request's answer: returns once sshd accepted it; raises SSHException when it refused."""
    channel._wait_for_event()


def _drain(channel, timeout: float | None) -> tuple[bytes, bytes]:
    """Reads stdout and stderr together (so neither can fill and stall the other) until EOF and exit status."""
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout if timeout else None

    def take() -> None:
        while channel.recv_ready():
            out.extend(channel.recv(65536))
        while channel.recv_stderr_ready():
            err.extend(channel.recv_stderr(65536))

    while not channel.eof_received and not channel.closed:
        if deadline and time.monotonic() > deadline:
            raise TimeoutError(f"remote command did not finish within {timeout:.0f}s")
        # the channel's pipe is readable only while data waits, so this sleeps instead of spinning
        select.select([channel], [], [], 0.5)
        take()
    take()
    remaining = max(0.0, deadline - time.monotonic()) if deadline else None
    if not channel.status_event.wait(remaining):
        raise TimeoutError(f"remote command did not report its exit status within {timeout:.0f}s")
    take()
    return bytes(out), bytes(err)


def client_algorithms() -> dict[str, set[str]]:
    """What vpskit's SSH client can negotiate, so hardening never leaves it without a common algorithm."""
    transport = paramiko.Transport
    return {
        "kex": set(transport._preferred_kex),
        "ciphers": set(transport._preferred_ciphers),
        "macs": set(transport._preferred_macs),
        "host_keys": set(transport._preferred_keys),
    }
