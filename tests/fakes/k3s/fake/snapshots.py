"""`k3s etcd-snapshot save|ls|delete|prune`, on local files (no S3)."""

import json
import socket
import time

from .client import ApiError, http_call
from .config import load_yaml_mapping
from .host import CONFIG_FILE, DATA_DIR, DEFAULT_PORT, Paths, local_api_host, write_file
from .logs import FatalError, iso, log
from .version import VERSION


def snapshot_settings(argv: list[str], paths: Paths, environ: dict) -> tuple[str, list[str], dict]:
    """The subcommand, its names and options; config.yaml supplies data-dir, etcd-snapshot-dir and node-name."""
    options, words, index = {}, [], 0
    value_options = {"etcd-snapshot-dir", "dir", "name", "data-dir", "d", "node-name", "snapshot-retention",
                     "etcd-snapshot-retention", "config", "c"}
    while index < len(argv):
        arg = argv[index]
        index += 1
        if not arg.startswith("-"):
            words.append(arg)
            continue
        name, has_value, value = arg.lstrip("-").partition("=")
        if name.startswith(("s3", "etcd-s3")):
            raise FatalError("the fake k3s does not support S3 snapshots")
        if name in ("etcd-snapshot-compress", "compress"):
            continue
        if name not in value_options:
            raise FatalError(f"flag provided but not defined: -{name}")
        if not has_value:
            value = argv[index] if index < len(argv) else ""
            index += 1
        options[{"dir": "etcd-snapshot-dir", "d": "data-dir", "c": "config"}.get(name, name)] = value
    config = paths.host(options.get("config") or environ.get("K3S_CONFIG_FILE") or CONFIG_FILE)
    settings = load_yaml_mapping(config) if config.exists() else {}
    settings.update(options)
    if not words:
        raise FatalError("usage: k3s etcd-snapshot save|ls|delete|prune")
    return words[0], words[1:], settings


def etcd_snapshot(argv: list[str], paths: Paths, environ: dict) -> int:
    command, names, settings = snapshot_settings(argv, paths, environ)
    data_dir = paths.data_dir(settings)
    if not (data_dir / "server" / "db" / "etcd").is_dir():
        raise FatalError(f"etcd database not found in {settings.get('data-dir') or DATA_DIR}/server/db")
    shown_dir = settings.get("etcd-snapshot-dir") or f"{settings.get('data-dir') or DATA_DIR}/server/db/snapshots"
    folder = paths.host(shown_dir)
    prefix = settings.get("name") or "on-demand"
    if command == "save":
        port = int(settings.get("https-listen-port") or environ.get("FAKE_K3S_PORT") or DEFAULT_PORT)
        try:
            state = http_call(f"https://{local_api_host(settings)}:{port}", "/state")
        except ApiError as exc:
            raise FatalError(f"failed to save snapshot: etcd is not reachable on this server: {exc}") from None
        node = settings.get("node-name") or socket.gethostname()
        name = f"{prefix}-{node}-{int(time.time())}"
        write_file(folder / name, json.dumps({"fake-k3s-snapshot": VERSION, "state": state}, indent=1), 0o600)
        log("info", f"Snapshot {name} saved.")
        return 0
    if command in ("ls", "list", "l"):
        files = sorted(folder.iterdir()) if folder.is_dir() else []
        rows = [("Name", "Location", "Size", "Created")] + [
            (f.name, f"file://{shown_dir.rstrip('/')}/{f.name}", str(f.stat().st_size), iso(f.stat().st_mtime))
            for f in files if f.is_file()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        print("\n".join(" ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows))
        return 0
    if command == "delete":
        if not names:
            raise FatalError("etcd-snapshot delete needs the names of the snapshots to delete")
        missing = [n for n in names if "/" in n or not (folder / n).is_file()]
        for name in names:
            if name not in missing:
                (folder / name).unlink()
                log("info", f"Snapshot {name} deleted.")
        if missing:
            raise FatalError(f"snapshot(s) not found: {', '.join(missing)}")
        return 0
    if command == "prune":
        keep = int(settings.get("snapshot-retention") or settings.get("etcd-snapshot-retention") or 5)
        files = sorted((f for f in folder.glob(f"{prefix}-*") if f.is_file()), key=lambda f: f.stat().st_mtime)
        for old in files[:max(0, len(files) - keep)]:
            old.unlink()
            log("info", f"Removing local snapshot {old.name}")
        return 0
    raise FatalError(f"etcd-snapshot: unknown subcommand {command!r}: use save, ls, delete or prune")
