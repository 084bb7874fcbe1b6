"""POST /api/invitations: 201 with {id, email, role, expires_at}; 409 for an address with an account; 403 by role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking_app.extensions import db
from booking_app.models import AccessLink
from booking_app.services.sessions import issue_token
from tests.conftest import count, utc

NOW = utc(2026, 12, 3, 15, 0)


def _bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(user, 'test')}"}


@pytest.fixture(autouse=True)
def frozen(app):
    app.config["FROZEN_NOW"] = NOW


def test_the_owner_invites_an_instructor_and_gets_the_invitation_back(client, users):
    owner = users.make("owner", timezone="Europe/Berlin")
    response = client.post("/api/invitations", headers=_bearer(owner),
                           json={"email": "Ana@Example.test", "name": "Ana Ruiz", "role": "instructor"})
    assert response.status_code == 201
    link = db.session.get(AccessLink, response.json["id"])
    assert response.json == {"id": link.id, "email": "ana@example.test", "role": "instructor",
                             "expires_at": (NOW + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert link.data["timezone"] == "Europe/Berlin"  # the inviter's when none is given


def test_an_instructor_invites_a_student_in_a_given_zone(client, users):
    response = client.post("/api/invitations", headers=_bearer(users.make("instructor")),
                           json={"email": "sam@example.test", "name": "Sam", "role": "student",
                                 "timezone": "Asia/Tokyo"})
    assert response.status_code == 201
    assert db.session.get(AccessLink, response.json["id"]).data["timezone"] == "Asia/Tokyo"


def test_an_address_that_already_has_an_account_answers_409(client, users):
    owner = users.make("owner")
    users.make("student", email="taken@example.test")
    response = client.post("/api/invitations", headers=_bearer(owner),
                           json={"email": "taken@example.test", "name": "Taken", "role": "student"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"
    assert "already has an account" in response.json["error"]["message"]


@pytest.mark.parametrize(("who", "role"), [("student", "student"), ("instructor", "instructor"),
                                           ("instructor", "owner")])
def test_a_student_or_an_instructor_giving_a_staff_role_answers_403(client, users, who, role):
    response = client.post("/api/invitations", headers=_bearer(users.make(who)),
                           json={"email": "x@example.test", "name": "X", "role": role})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert count(AccessLink) == 0


def test_without_a_token_it_answers_401(client):
    response = client.post("/api/invitations", json={"email": "x@example.test", "name": "X", "role": "student"})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [
    {"email": "x@example.test", "name": "X", "role": "wizard"},
    {"email": "x" * 250 + "@example.test", "name": "X", "role": "student"},
    {"email": "x@example.test", "name": "x" * 121, "role": "student"},
    {"email": "x@example.test", "name": "X\u0000", "role": "student"},
    {"email": "x@example.test", "name": "X", "role": "student", "timezone": "Mars/Olympus"},
    {"email": "x@example.test", "name": "X", "role": "student", "timezone": "x" * 65},
    {"email": "nope", "name": "X", "role": "student"},
    {"name": "X", "role": "student"},
])
def test_out_of_bounds_fields_are_refused_with_422_and_write_nothing(client, users, body):
    response = client.post("/api/invitations", headers=_bearer(users.make("owner")), json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["message"]
    assert count(AccessLink) == 0


def test_the_openapi_document_describes_the_invitation_call(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/invitations"]["post"]
    assert {"201", "403", "409", "422"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["NewInvitation"]
    assert set(schema["properties"]) == {"email", "name", "role", "timezone"}
    assert set(schema["required"]) == {"email", "name", "role"}
