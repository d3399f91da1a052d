"""Calls to a fake k3s API: JSON over plain HTTP to an https:// server URL, errors as ApiError."""

import json
import re
import socket
import urllib.error
import urllib.request


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def http_call(base_url: str, path: str, body=None, timeout: float = 3.0):
    """GET (body None) or POST JSON to an https:// server URL spoken as http://; returns the JSON answer."""
    url = re.sub(r"^https://", "http://", base_url.rstrip("/")) + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = str(exc.reason)
        raise ApiError(exc.code, message) from None
    except urllib.error.URLError as exc:
        raise ApiError(0, str(exc.reason)) from None
    except (TimeoutError, socket.timeout):
        raise ApiError(0, "timed out") from None
    except OSError as exc:
        raise ApiError(0, str(exc)) from None
