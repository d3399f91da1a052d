"""One `k3s server` or `k3s agent` process, from start to SIGTERM: the first server, a joining one or an agent."""

import hashlib
import secrets
import signal
import socket
import threading

from .config import critical_values
from .host import DEFAULT_PORT, Paths
from .httpd import ApiServer, serve
from .identity import NodeIdentity
from .link import ClusterLink
from .logs import FatalError, log
from .node_files import NodeFiles
from .notify import sd_notify
from .routes import LocalApi, ProxyApi
from .state import ClusterState
from .tokens import Token
from .kubelet import check_node
from .components import check_components
from .pods import start_pods
from .version import VERSION


class Node(NodeIdentity, NodeFiles, ClusterLink):
    """One `k3s server` or `k3s agent` process, from start to SIGTERM."""

    def __init__(self, role: str, settings: dict, paths: Paths, environ: dict):
        self.role, self.settings, self.paths, self.environ = role, settings, paths, environ
        self.stopping = threading.Event()
        self.boot_id = secrets.token_hex(8)
        self.data_dir = paths.data_dir(settings)
        self.upstream = settings.get("server")
        self.port = int(settings.get("https-listen-port") or environ.get("FAKE_K3S_PORT") or DEFAULT_PORT)
        self.password = self._node_password()
        # k3s-io/k3s pkg/util/net.go (GetHostnameAndIPs): the given or host name, lowercased
        name = (settings.get("node-name") or socket.gethostname()).lower()
        if settings.get("with-node-id"):
            name += "-" + hashlib.sha256(self.password.encode()).hexdigest()[:8]
        self.name = name
        check_node(name, settings.get("node-label", []))
        check_components(role, settings, paths)
        self.token: Token | None = None
        self.state: ClusterState | None = None
        self.api_server: ApiServer | None = None
        self.last_problem = None

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        log("info", f"Starting k3s {self.role} {VERSION} (fake) as node {self.name}")
        if self.role == "agent" or self.upstream:
            started = self.start_joining()
        else:
            started = self.start_first_server()
        if not started:
            return 0
        start_pods(self.data_dir, self.environ)
        self.beat()
        threading.Thread(target=self.heartbeats, name="heartbeat", daemon=True).start()
        sd_notify("READY=1", self.environ)
        log("info", f"k3s {self.role} is up")
        while not self.stopping.wait(0.5):
            pass
        sd_notify("STOPPING=1", self.environ)
        log("info", f"k3s {self.role} received SIGTERM, stopping")
        self.send_event("stop")
        if self.api_server:
            self.api_server.shutdown()
            self.api_server.server_close()
        return 0

    def start_first_server(self) -> bool:
        self.token = self.first_server_token()
        self.write_tokens(self.token)
        etcd = bool(self.settings.get("cluster-init"))
        self.state = ClusterState(self.server_dir() / "fake-cluster.json", self.token,
                                  Token.parse(self.settings.get("agent-token") or "").secret or None,
                                  etcd, critical_values(self.settings))
        if self.state.etcd:
            (self.server_dir() / "db" / "etcd").mkdir(parents=True, exist_ok=True)
        self.state.register(self.name, "server", VERSION, self.password)
        self.api_server = serve(self.settings.get("bind-address") or "0.0.0.0", self.port, LocalApi(self.state))
        self.write_kubeconfig()
        self.send_event("start")
        return True

    def start_joining(self) -> bool:
        missing = [k for k in ("server", "token") if not self.settings.get(k)]
        if missing:
            raise FatalError(f"--{missing[0]} is required")
        answer = self.join()
        if answer is None:
            return False
        if self.role == "agent":
            self.token = Token.parse(str(self.settings["token"]))
            self.send_event("start")
            return True
        self.token = Token.parse(answer["token"])
        self.write_tokens(self.token)
        if answer.get("etcd"):
            (self.server_dir() / "db" / "etcd").mkdir(parents=True, exist_ok=True)
        self.api_server = serve(self.settings.get("bind-address") or "0.0.0.0", self.port, ProxyApi(self.upstream))
        self.write_kubeconfig()
        self.send_event("start")
        return True
