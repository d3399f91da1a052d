"""A node's link to the cluster: joining (retried), heartbeats once a second, start/stop events."""

import json
import time

from .client import ApiError, http_call
from .config import critical_values
from .host import write_file
from .logs import FatalError, log
from .routes import LocalApi
from .version import VERSION

HEARTBEAT_SECONDS = 1.0
JOIN_RETRY_SECONDS = 2.0


class ClusterLink:
    """Node's cluster calls (a mixin: Node sets its identity, token, state and stopping)."""

    def call(self, path: str, body=None):
        if self.state is not None:
            return LocalApi(self.state).handle("GET" if body is None else "POST", path, body)[1]
        return http_call(self.upstream, path, body)

    def problem(self, message: str | None) -> None:
        """Logs a problem once while it lasts, and when it ends."""
        if message != self.last_problem:
            if message:
                log("error", message)
            elif self.last_problem:
                log("info", "connection to the cluster restored")
            self.last_problem = message

    def join(self) -> dict | None:
        """Asks the server to admit this node, until it does (None if SIGTERM comes first)."""
        request = {"name": self.name, "role": self.role, "version": VERSION, "token": self.settings["token"],
                   "password": self.password, "critical": critical_values(self.settings) if self.role == "server"
                   else None}
        while not self.stopping.is_set():
            try:
                answer = http_call(self.upstream, "/join", request)
                self.problem(None)
                return answer
            except ApiError as exc:
                if exc.status == 409:
                    raise FatalError(f"starting kubernetes: preparing server: failed to join {self.upstream}: {exc}")
                why = {401: "token rejected (401 Unauthorized)", 403: str(exc)}.get(exc.status, str(exc))
                self.problem(f"failed to join the cluster at {self.upstream}: {why}; retrying every "
                             f"{JOIN_RETRY_SECONDS:g}s")
            self.stopping.wait(JOIN_RETRY_SECONDS)
        return None

    def send_event(self, kind: str) -> None:
        """Records a server's start or stop; one that cannot be sent waits in a file for the next start."""
        event = {"node": self.name, "kind": kind, "version": VERSION, "time": time.time(), "role": self.role}
        pending_path = self.server_dir() / "fake-pending-events.json"
        pending = json.loads(pending_path.read_text()) if pending_path.exists() else []
        unsent = []
        for item in pending + [event]:
            try:
                self.call("/event", {**item, "token": self.token.full()})
            except ApiError as exc:
                log("error", f"cannot record {item['kind']} event of {item['node']}: {exc}")
                unsent.append(item)
        if unsent:
            write_file(pending_path, json.dumps(unsent))
        else:
            pending_path.unlink(missing_ok=True)

    def beat(self) -> None:
        """One heartbeat; a node the server has forgotten joins again."""
        try:
            self.call("/heartbeat", self.heartbeat_body())
            self.problem(None)
        except ApiError as exc:
            self.problem(f"heartbeat to {self.upstream or 'this server'} failed: {exc}")
            if exc.status == 404 and self.state is None:
                try:
                    http_call(self.upstream, "/join", {"name": self.name, "role": self.role, "version": VERSION,
                                                       "token": self.credential(), "password": self.password})
                except ApiError:
                    pass

    def heartbeats(self) -> None:
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            self.beat()
