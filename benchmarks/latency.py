"""A slow network for the bench: a userspace TCP forwarder on the controller delaying each direction by half an RTT.

`tc netem` does not work in this machine's kernel, so each proxied lab host gets an address of its own on the
lab bridge (the `.200 + n` of its subnet); a forwarder listens there on port 22 and relays to the host's sshd,
holding every chunk for RTT/2 before passing it on, in both directions. The forwarder connects to the host
from that same address, so the host sees the controller at the address vpskit connected from (the fail2ban
ignore list and sshd's Match checks agree with the run), and the login port stays 22.
"""

from __future__ import annotations

import heapq
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

CHUNK = 65536


@dataclass
class Route:
    """One proxied host: the address vpskit connects to, and the host behind it."""

    listen: str
    target: str
    port: int = 22


@dataclass
class LatencyProxy:
    """Forwarders for `routes` on `bridge`, `rtt` seconds of round trip added; a context manager."""

    bridge: str
    routes: list[Route]
    rtt: float
    # when a list: every chunk relayed, as (monotonic time, "up" to the host or "down" from it, bytes), for
    # round_trips
    trace: list | None = None
    _listeners: list[socket.socket] = field(default_factory=list)
    _relayed: list[socket.socket] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "LatencyProxy":
        for route in self.routes:
            subprocess.run(["ip", "addr", "replace", f"{route.listen}/32", "dev", self.bridge], check=True)
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((route.listen, route.port))
            listener.listen(64)
            self._listeners.append(listener)
            threading.Thread(target=self._accept, args=(listener, route), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        for listener in self._listeners:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it: close alone keeps the port
            except OSError:
                pass
            listener.close()
        # close the relayed connections while their address still exists: once it is gone the host never gets
        # their end, and its sshd session (holding the run's lock) lingers until ClientAliveInterval
        for sock in self._relayed:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for route in self.routes:
            subprocess.run(["ip", "addr", "del", f"{route.listen}/32", "dev", self.bridge], check=False,
                           capture_output=True)

    def _accept(self, listener: socket.socket, route: Route) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((route.target, route.port), timeout=10,
                                                    source_address=(route.listen, 0))
            except OSError:
                client.close()
                continue
            self._relayed += [client, upstream]
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for source, sink, way in ((client, upstream, "up"), (upstream, client, "down")):
                DelayedPipe(source, sink, self.rtt / 2, self._tracer(way)).start()

    def _tracer(self, way: str):
        if self.trace is None:
            return None
        return lambda data: self.trace.append((time.monotonic(), way, len(data)))


class DelayedPipe:
    """Reads from `source` and writes each chunk to `sink` `delay` seconds after it arrived, in order."""

    def __init__(self, source: socket.socket, sink: socket.socket, delay: float, on_chunk=None):
        self.source, self.sink, self.delay, self.on_chunk = source, sink, delay, on_chunk
        self.queue: list[tuple[float, int, bytes]] = []
        self.ready = threading.Condition()
        self.count = 0

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.source.recv(CHUNK)
            except OSError:
                data = b""
            if data and self.on_chunk:
                self.on_chunk(data)
            with self.ready:
                self.count += 1
                heapq.heappush(self.queue, (time.monotonic() + self.delay, self.count, data))
                self.ready.notify()
            if not data:
                return

    def _write(self) -> None:
        while True:
            with self.ready:
                while not self.queue:
                    self.ready.wait()
                due, _n, data = self.queue[0]
                left = due - time.monotonic()
                if left > 0:
                    self.ready.wait(left)
                    continue
                heapq.heappop(self.queue)
            try:
                if data:
                    self.sink.sendall(data)
                else:  # the source closed: pass the end on, after the same delay
                    self.sink.shutdown(socket.SHUT_WR)
                    return
            except OSError:
                return


def round_trips(trace: list) -> int:
    """How many times the client waited for the host: turns from chunks going up to a chunk coming down, in the
    order the proxy received them (the TCP connect to the proxy is local, so it is not among them). Pure."""
    ways = [way for _t, way, size in sorted(trace) if size]
    return sum(1 for before, after in zip(ways, ways[1:]) if before == "up" and after == "down")


def proxied_address(subnet_prefix: str, host_number: int) -> str:
    return f"{subnet_prefix}.{200 + host_number}"


def known_hosts_for(known_hosts: str, addresses: dict[str, str]) -> str:
    """The lab's known_hosts with each host's keys also under its proxied address (`addresses`: real → proxied)."""
    lines = known_hosts.splitlines()
    extra = []
    for line in lines:
        name, _, rest = line.partition(" ")
        if name in addresses:
            extra.append(f"{addresses[name]} {rest}")
    return "\n".join([*lines, *extra]) + "\n"
