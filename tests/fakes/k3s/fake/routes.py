"""The HTTP API's routes: the first server's over its ClusterState, a joining server's proxied upstream."""

from .client import ApiError, http_call
from .state import ClusterState


class LocalApi:
    """The first server's API over its ClusterState."""

    def __init__(self, state: ClusterState):
        self.state = state

    def handle(self, method: str, path: str, body):
        path = path.split("?", 1)[0]
        routes = {
            ("GET", "/ping"): lambda: {"pong": True},
            ("GET", "/nodes"): self.state.node_list,
            ("GET", "/events"): lambda: {"events": self.state.dump()["events"]},
            ("GET", "/state"): self.state.dump,
            ("POST", "/join"): lambda: self.state.join(body),
            ("POST", "/heartbeat"): lambda: self.state.heartbeat(body),
            ("POST", "/event"): lambda: self.state.record_event(body),
            ("POST", "/delete-node"): lambda: self.state.delete_node(body),
            ("POST", "/cordon"): lambda: self.state.cordon(body),
            ("POST", "/apply"): lambda: self.state.apply(body),
            ("GET", "/pods"): self.state.pods,
            ("POST", "/evict"): lambda: self.state.evict(body),
        }
        route = routes.get((method, path))
        if route is None:
            raise ApiError(404, f"the fake k3s has no {method} {path}")
        return 200, route()


class ProxyApi:
    """A joining server's API: every request goes on to the server it joined."""

    def __init__(self, upstream: str):
        self.upstream = upstream

    def handle(self, method: str, path: str, body):
        if path == "/ping":
            return 200, {"pong": True}
        return 200, http_call(self.upstream, path, body if method == "POST" else None)
