"""The embedded Redis lives exactly as long as the process that started it; one-off commands start none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY")}
    env.update(INSTANCE_PATH=str(instance), RATELIMIT_ENABLED="false", PYTHONUNBUFFERED="1")
    return env


def _flask(instance: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=_env(instance),
                          capture_output=True, text=True, timeout=timeout)


def _processes_using(instance: Path) -> dict[int, str]:
    """Return pid -> command line of every process whose command line names this instance folder."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if str(instance) in cmdline or f"INSTANCE_PATH={instance}".encode() in environ:
            found[int(entry.name)] = cmdline
    found.pop(os.getpid(), None)
    return found


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _redis_servers(instance: Path) -> list[str]:
    return [cmd for cmd in _processes_using(instance).values() if "redis-server" in cmd]


def _wait_until(check, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False




def test_one_off_commands_on_the_default_settings_start_no_redis(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    upgraded = _flask(instance, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    created = _flask(instance, "users", "create", "ana@example.test", "--name", "Ana Ruiz",
                     "--role", "instructor", "--password", "a-good-password")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().isdigit()
    assert _redis_servers(instance) == []
    assert not (instance / "redis.sock").exists()


@pytest.mark.parametrize("how", ["exits", "is killed"])
def test_a_script_that_creates_the_app_takes_its_redis_with_it(tmp_path: Path, how: str) -> None:
    instance = tmp_path / "instance"
    script = "from booking_app import create_app; app = create_app(); print('ready', flush=True); import time; time.sleep(60)"
    if how == "exits":
        script = "from booking_app import create_app; app = create_app(); print(app.extensions['redis'].ping())"
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=_env(instance), stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.strip() in ("ready", "True"), first
        if how == "is killed":
            assert len(_redis_servers(instance)) == 1  # it did start one while it lives
            proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _wait_until(lambda: _redis_servers(instance) == [], 10), _redis_servers(instance)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_flask_up_restarts_its_worker_and_leaves_nothing_behind(tmp_path: Path, stop_signal: signal.Signals) -> None:
    instance = tmp_path / "instance"
    port = free_port()
    up = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "up", "--no-seed", "--port", str(port)],
                          cwd=ROOT, env=_env(instance), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def serving() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert _wait_until(serving, 60), "the app did not start"
        def workers() -> list[int]:
            return [pid for pid, cmd in _processes_using(instance).items()
                    if cmd.endswith("worker.py ") and _parent_of(pid) == up.pid]

        def children_of(parent: int) -> list[int]:
            return [pid for pid in _processes_using(instance) if _parent_of(pid) == parent]

        assert _wait_until(lambda: len(workers()) == 1)
        first_worker = workers()[0]
        assert _wait_until(lambda: len(children_of(first_worker)) == 1), "the worker's scheduler did not start"
        scheduler = children_of(first_worker)[0]
        os.kill(first_worker, signal.SIGKILL)
        assert _wait_until(lambda: (now := workers()) != [] and now[0] != first_worker), "the worker was not restarted"
        assert _wait_until(lambda: _parent_of(scheduler) is None), "the killed worker's scheduler lives on"
        assert len(_redis_servers(instance)) == 1
        up.send_signal(stop_signal)
        up.wait(timeout=30)
    finally:
        if up.poll() is None:
            up.kill()
    assert _wait_until(lambda: _processes_using(instance) == {}, 20), _processes_using(instance)
