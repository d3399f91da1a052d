"""The cluster's state, kept by the first server: nodes, heartbeats, start/stop events, in a JSON file."""

import json
import threading
import time
from pathlib import Path

from .client import ApiError
from .host import NODE_PASSWORD_FILE, write_file
from .nodes import READY_WITHIN_SECONDS, node_object
from .tokens import Token
from . import workloads


class ClusterState:
    """Nodes, their heartbeats and the servers' start/stop events, saved to a JSON file on every change."""

    def __init__(self, path: Path, token: Token, agent_secret: str | None, etcd: bool, critical: dict):
        self.path, self.token, self.agent_secret = path, token, agent_secret
        self.lock = threading.Lock()
        self.data = json.loads(path.read_text()) if path.exists() else {"nodes": {}, "events": []}
        self.data["etcd"] = self.data.get("etcd", False) or etcd
        self.data["critical"] = critical
        self.save()

    @property
    def etcd(self) -> bool:
        return self.data["etcd"]

    def save(self) -> None:
        write_file(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")

    def admits(self, role: str, presented: str) -> bool:
        allowed = (self.token.secret,) if role == "server" else (self.token.secret, self.agent_secret or "")
        return self.token.admits(presented, allowed)

    def join(self, request: dict) -> dict:
        name, role = str(request.get("name") or ""), request.get("role")
        if not name or role not in ("server", "agent"):
            raise ApiError(400, "join needs a node name and a role (server or agent)")
        if not self.admits(role, request.get("token", "")):
            raise ApiError(401, f"token rejected for {role} {name}")
        if role == "server":
            if not self.etcd:
                raise ApiError(409, "this cluster does not use embedded etcd; start its first server with "
                                    "cluster-init to add servers")
            mismatched = [k for k, v in (request.get("critical") or {}).items() if self.data["critical"].get(k) != v]
            if mismatched:
                raise ApiError(409, "critical configuration value mismatch between servers: "
                                    + ", ".join(sorted(mismatched)))
        self.register(name, role, request.get("version"), request.get("password"))
        answer = {"etcd": self.etcd}
        if role == "server":
            answer["token"] = self.token.full()
        return answer

    def register(self, name: str, role: str, version: str, password: str) -> None:
        """Adds the node, or takes it back if its node password matches the one it first came with."""
        with self.lock:
            node = self.data["nodes"].get(name)
            if node and node.get("password") != password:
                raise ApiError(403, f"Node password rejected, duplicate hostname or contents of "
                                    f"'{NODE_PASSWORD_FILE}' may not match server node-passwd entry ({name})")
            if not node:
                node = self.data["nodes"][name] = {"name": name, "created": time.time(), "password": password}
            node.update(role=role, version=version)
            self.save()

    def delete_node(self, request: dict) -> dict:
        """`kubectl delete node NAME`: the Node goes, and with it its node password (docs.k3s.io, "Agent
        Registration": deleting the node cleans up its node-password secret so a host may rejoin by that name)."""
        name = str(request.get("name") or "")
        with self.lock:
            if self.data["nodes"].pop(name, None) is None:
                raise ApiError(404, f'nodes "{name}" not found')
            self.save()
        return {"deleted": name}

    def heartbeat(self, beat: dict) -> dict:
        name = str(beat.get("name") or "")
        if not self.admits(beat.get("role", "agent"), beat.get("token", "")):
            raise ApiError(401, "token rejected")
        now = time.time()
        with self.lock:
            node = self.data["nodes"].get(name)
            if node is None:
                raise ApiError(404, f"node {name} has not joined")
            if node.get("boot_id") != beat.get("boot_id"):
                node["boot_id"], node["boot_seen"] = beat.get("boot_id"), now
                # the first heartbeat of a start: the node is Ready from here on (recorded for order checks)
                self.data["events"].append({"node": name, "kind": "ready", "version": beat.get("version"),
                                            "time": now, "role": beat.get("role")})
            for field in ("role", "version", "addresses", "labels", "taints", "node_args", "images"):
                node[field] = beat.get(field)
            node["last_heartbeat"] = now
            self.save()
        return {}

    def record_event(self, event: dict) -> dict:
        if not self.admits(event.get("role") or "server", event.pop("token", "")):
            raise ApiError(401, "token rejected")
        with self.lock:
            self.data["events"].append({k: event.get(k) for k in ("node", "kind", "version", "time", "role")})
            self.save()
        return {}

    def _ready_nodes(self, now: float) -> set[str]:
        return {n for n, node in self.data["nodes"].items()
                if node.get("last_heartbeat") is not None and now - node["last_heartbeat"] < READY_WITHIN_SECONDS}

    def cordon(self, request: dict) -> dict:
        """kubectl cordon/uncordon (k8s.io/kubectl pkg/drain/cordon.go): spec.unschedulable set, or already so."""
        name, desired = str(request.get("name") or ""), bool(request.get("unschedulable"))
        now = time.time()
        with self.lock:
            node = self.data["nodes"].get(name)
            if node is None:
                raise ApiError(404, f'nodes "{name}" not found')
            changed = bool(node.get("unschedulable")) != desired
            if changed:
                node["unschedulable"] = desired
                self.data["events"].append({"node": name, "kind": "cordon" if desired else "uncordon",
                                            "time": now, "role": node.get("role")})
                self.save()
        return {"changed": changed}

    def apply(self, request: dict) -> dict:
        with self.lock:
            lines = workloads.apply(self.data, request.get("objects") or [])
            workloads.reconcile(self.data, self._ready_nodes(time.time()), time.time())
            self.save()
        return {"lines": lines}

    def pods(self) -> dict:
        now = time.time()
        with self.lock:
            ready = self._ready_nodes(now)
            workloads.reconcile(self.data, ready, now)
            self.save()
            items = [workloads.pod_object(p, ready, now) for p in sorted(self.data.get("pods", {}).values(),
                                                                          key=lambda p: (p["namespace"], p["name"]))]
        return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}

    def evict(self, request: dict) -> dict:
        now = time.time()
        with self.lock:
            ready = self._ready_nodes(now)
            workloads.reconcile(self.data, ready, now)
            evicted = workloads.evict(self.data, str(request.get("namespace")), str(request.get("name")), ready, now)
            self.data["events"].append({"node": evicted["node"], "kind": "evict", "time": now,
                                        "pod": evicted["evicted"]})
            self.save()
        return evicted

    def node_list(self) -> dict:
        with self.lock:
            nodes = [dict(n) for n in self.data["nodes"].values()]
        return {"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": str(int(time.time()))},
                "items": [node_object(n, self.etcd, time.time()) for n in sorted(nodes, key=lambda n: n["name"])]}

    def dump(self) -> dict:
        with self.lock:
            data = json.loads(json.dumps(self.data))
        for node in data["nodes"].values():
            node.pop("password", None)
        return data
