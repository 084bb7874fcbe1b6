"""The load balancers' health check answers at once and touches nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask, template_rendered
from flask.testing import FlaskClient

from tests.conftest import Auth, Users
from tests.services.test_dashboard_helpers import counting


def _get_healthz(app: Flask, client: FlaskClient) -> tuple[Any, int, list[str]]:
    rendered: list[str] = []

    def record(sender: Flask, template: Any, **_: Any) -> None:
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        with counting() as counter:
            response = client.get("/healthz")
    finally:
        template_rendered.disconnect(record, app)
    return response, counter.count, rendered


def test_healthz_answers_ok_without_sql(app: Flask, client: FlaskClient) -> None:
    response, statements, rendered = _get_healthz(app, client)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"
    assert statements == 0
    assert rendered == []


def test_healthz_loads_no_user_for_a_signed_in_browser(app: Flask, client: FlaskClient, users: Users, auth: Auth) -> None:
    student = users.make("student")
    assert auth.login(student).status_code == 302
    response, statements, rendered = _get_healthz(app, client)
    assert response.status_code == 200
    assert statements == 0
    assert rendered == []
    assert "Set-Cookie" not in response.headers

