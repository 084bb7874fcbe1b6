"""POST /api/password/forgot answers 202 the same for any address; POST /api/password/reset 204, then 410."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Effect
from booking_app.services import sessions
from tests.conftest import Users, count, utc

NOW = utc(2027, 2, 1, 12, 0)
NEW = "a brand new passphrase"


@pytest.fixture
def person(app, users):
    app.config["FROZEN_NOW"] = NOW
    return users.make(email="lena@example.test")


def _secret() -> str:
    effect = db.session.scalars(sa.select(Effect).where(Effect.kind == "account_mail").order_by(Effect.id.desc())).first()
    assert effect is not None
    return str(effect.payload["context"]["action_url"].rsplit("/", 1)[-1])


def test_forgot_answers_202_with_the_same_body_for_any_address(client, person):
    known = client.post("/api/password/forgot", json={"email": person.email})
    unknown = client.post("/api/password/forgot", json={"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert known.get_json()["message"].startswith("If an account uses this address")
    assert count(Effect, Effect.kind == "account_mail") == 1


def test_reset_answers_204_then_410_for_the_same_token(client, person):
    here = sessions.start_session(person)
    client.post("/api/password/forgot", json={"email": person.email})
    token = _secret()
    response = client.post("/api/password/reset", json={"token": token, "password": NEW})
    assert response.status_code == 204 and response.get_data() == b""
    db.session.refresh(person)
    assert person.check_password(NEW)
    assert sessions.user_for_session(person.id, here) is None  # every session ended
    again = client.post("/api/password/reset", json={"token": token, "password": "another passphrase"})
    assert again.status_code == 410
    assert again.get_json() == {"error": {"code": "gone",
                                          "message": "This link has already been used. Sign in, or ask for a new one."}}


def test_reset_with_a_made_up_or_expired_token_answers_410(app, client, person):
    made_up = client.post("/api/password/reset", json={"token": "made-up", "password": NEW})
    assert made_up.status_code == 410 and made_up.get_json()["error"]["code"] == "gone"
    client.post("/api/password/forgot", json={"email": person.email})
    app.config["FROZEN_NOW"] = utc(2027, 2, 1, 13, 0)
    expired = client.post("/api/password/reset", json={"token": _secret(), "password": NEW})
    assert expired.status_code == 410 and "expired" in expired.get_json()["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "x" * 300}, "email"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "a\x00b@example.test"}, "email"),
    ({}, "email"),
])
def test_forgot_refuses_bad_input_with_422_naming_the_field(client, body, field):
    response = client.post("/api/password/forgot", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["message"]
    assert count(Effect) == 0


@pytest.mark.parametrize("body", [
    {"token": "t", "password": "short"},
    {"token": "t" * 201, "password": NEW},
    {"token": "t", "password": "x" * 201},
    {"password": NEW},
])
def test_reset_refuses_bad_input_with_422(client, person, body):
    assert client.post("/api/password/reset", json=body).status_code == 422
    db.session.refresh(person)
    assert person.check_password(Users.password)


def test_both_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/password/forgot"]["post"]["responses"]) >= {"202", "422", "429"}
    assert set(paths["/api/password/reset"]["post"]["responses"]) >= {"204", "410", "422"}
