"""systemd readiness: READY=1 and STOPPING=1 sent to NOTIFY_SOCKET (Type=notify)."""

import socket


def sd_notify(message: str, environ: dict) -> None:
    address = environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message.encode())
