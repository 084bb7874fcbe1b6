"""Browser fixtures: the app under gunicorn (gevent) on the test database, and Chromium via Playwright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
LIVE_SECRET_KEY = "browser-test-secret-key-0123456789abcdef"  # the live server's key: signed links made here must match
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]




@pytest.fixture(scope="session")
def live_server(test_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run the app with gunicorn (gevent) on the test database and Redis; return its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("live") / "gunicorn.log"
    env = dict(os.environ)
    env.update(DATABASE_URL=test_env["database_url"], REDIS_URL=test_env["redis_url"],
               INSTANCE_PATH=test_env["instance"], SECRET_KEY=LIVE_SECRET_KEY,
               BASE_URL=f"http://127.0.0.1:{port}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1", "--worker-connections",
         "1000", "--no-control-socket", "--graceful-timeout", "3", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited at start: {log.read_text()[-2000:]}")
            try:
                if requests.get(base + "/login", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within 30 s: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Launch Debian's Chromium through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (browser tests never skip).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """Console errors, page errors and failed requests seen during a test; a test may expect some statuses."""

    problems: list[str] = field(default_factory=list)
    expected: list[tuple[int, str]] = field(default_factory=list)
    expected_console: list[tuple[int, str]] = field(default_factory=list)

    def expect_status(self, status: int, url_part: str) -> None:
        """Allow one response of this status whose URL contains url_part (and the console line Chromium logs for it)."""
        self.expected.append((status, url_part))
        self.expected_console.append((status, url_part))

    def on_console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        for allowed in self.expected_console:
            if f"status of {allowed[0]}" in msg.text and allowed[1] in url:
                self.expected_console.remove(allowed)
                return
        self.problems.append(f"console: {msg.text}")

    def on_response(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.status < 400:
            return
        for allowed in self.expected:
            if allowed[0] == response.status and allowed[1] in response.url:
                self.expected.remove(allowed)
                return
        self.problems.append(f"HTTP {response.status} {response.request.method} {response.url}")

    def on_request_failed(self, request) -> None:  # type: ignore[no-untyped-def]
        failure = request.failure or ""
        # Leaving (or closing) a page aborts what it still had in flight: its live-event stream, fetches,
        # late stylesheets. Only an aborted page load itself is a problem; other failures always are.
        if "ERR_ABORTED" in failure and request.resource_type != "document":
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def browser_context_options() -> dict[str, object]:
    """Override in a test module to change the context (timezone, viewport, locale)."""
    return {"timezone_id": "Europe/Berlin", "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def page(app, browser, live_server, page_problems, browser_context_options) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh page on the live server; the test fails on any console error, page error or failed request."""
    context = browser.new_context(base_url=live_server, **browser_context_options)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", page_problems.on_console)
    page.on("pageerror", lambda exc: page_problems.problems.append(f"page error: {exc.stack or exc}"))
    page.on("response", page_problems.on_response)
    page.on("requestfailed", page_problems.on_request_failed)
    try:
        yield page
    finally:
        page.close()  # closing first lets the live stream end before the context goes
        context.close()
    if page_problems.problems:
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(page_problems.problems))


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save full-page screenshots at 1280 px and 375 px wide into artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    original = page.viewport_size
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(original)
