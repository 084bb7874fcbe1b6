"""Schemathesis fuzzes every operation of /api/openapi.json as a student, an instructor and the owner.

A short derandomized run against the app in-process, with bearer tokens: no answer may be a server error, and
every answer must match the documented response schema. The world is rebuilt for each role, since the owner's
run deletes and changes things.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask, request_started
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from booking_app.extensions import db
from tests.booking_helpers import NOW
from tests.conftest import _empty_tables, _make_app, fresh_globals, release_app
from tests.matrix_world import build_world

EXAMPLES_PER_OPERATION = 8  # per role and strategy: about a minute per role on a busy 2-core machine




@pytest.fixture(scope="module")
def fuzz_app(test_env: dict[str, str]) -> Iterator[Flask]:
    app = _make_app(test_env, FROZEN_NOW=NOW, RATELIMIT_ENABLED=False)
    request_started.connect(fresh_globals, app)
    with app.app_context():
        yield app
        release_app(app)


def _fuzz_operation(operation: Any, headers: dict[str, str], path_ids: dict[str, int], found: list[str]) -> int:
    """Run one operation's examples; record failures instead of stopping at the first one."""
    known = {p.name: path_ids[p.name] for p in operation.path_parameters if p.name in path_ids}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    calls = 0

    for strategy in strategies:

        @given(case=strategy)
        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            label = f"{case.method} {case.formatted_path} path={case.path_parameters} query={case.query} " \
                    f"body={case.body!r:.300}"
            failures = found
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the test app re-raises what production answers with a 500
                failures.append(f"{label}: raised {exc!r:.300}")
                db.session.rollback()
                return
            try:
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
                problems = getattr(exc, "exceptions", None) or [exc]
                summary = "; ".join(f"{getattr(p, 'title', type(p).__name__)}: {str(getattr(p, 'message', p))[:400]}" for p in problems)
                failures.append(f"{label}: {response.status_code} {response.text[:200]} -> {summary}")
            finally:
                db.session.remove()

        run()
    return calls


@pytest.mark.parametrize("role", ["student", "instructor", "owner"])
def test_the_api_never_answers_5xx_or_off_schema(fuzz_app, role, capsys):
    db.session.remove()
    _empty_tables()
    fuzz_app.extensions["redis"].flushdb()
    world = build_world()
    actor = {"student": "student_a", "instructor": "instructor_a", "owner": "owner"}[role]
    headers = {"Authorization": f"Bearer {world['tokens'][actor]}"}
    names = world["names"]
    path_ids = {"booking_id": int(names["booking"]), "instructor_id": int(names["instructor_a"]),
                "block_id": int(names["block"]), "window_id": int(names["weekly"]), "student_id": int(names["user"]),
                "series_id": int(names["series"])}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    found: list[str] = []
    started = time.monotonic()
    calls = operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/events":
            continue  # an endless event stream; tests/test_realtime.py covers it
        operations += 1
        calls += _fuzz_operation(operation, headers, path_ids, found)
    with capsys.disabled():
        print(f"\nfuzz as {role}: {operations} operations, {calls} cases in {time.monotonic() - started:.1f}s, "
              f"{len(found)} failures")
    assert not found, f"{len(found)} failures:\n" + "\n".join(found)

