"""The HTTP server a fake k3s server listens with, answering JSON from an API object's handle()."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .client import ApiError
from .logs import FatalError


class ApiHandler(BaseHTTPRequestHandler):
    server_version = "fake-k3s"

    def do_GET(self):
        self._answer(None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"error": "body is not JSON"})
            return
        self._answer(body if isinstance(body, dict) else {})

    def _answer(self, body):
        try:
            status, answer = self.server.api.handle(self.command, self.path, body)
        except ApiError as exc:
            status, answer = exc.status or 503, {"error": str(exc)}
        self._send(status, answer)

    def _send(self, status: int, answer: dict) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, api):
        self.api = api
        super().__init__(address, ApiHandler)


def serve(bind: str, port: int, api) -> ApiServer:
    try:
        server = ApiServer((bind, port), api)
    except OSError as exc:
        raise FatalError(f"listen tcp {bind}:{port}: bind: {exc.strerror or exc}") from None
    threading.Thread(target=server.serve_forever, name="api", daemon=True).start()
    return server
