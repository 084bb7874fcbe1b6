"""The API base: session and bearer sign-in, the error shape, the OpenAPI document, CSRF for sessions."""

from __future__ import annotations

import pytest

from booking_app.extensions import db
from booking_app.models import ApiToken
from booking_app.services.sessions import issue_token, revoke_token
from tests.conftest import sign_in_cookie


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.is_json
    body = response.json["error"]
    assert body["code"] == code
    assert body["message"].endswith(".")


def test_me_answers_for_the_session_user(client, users, auth):
    user = users.make("student", name="Sam Lee", timezone="Europe/Berlin")
    auth.login(user)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json == {"id": user.id, "email": user.email, "name": "Sam Lee", "role": "student",
                              "timezone": "Europe/Berlin", "active": True}


def test_me_answers_for_a_bearer_token(client, users):
    user = users.make("instructor")
    token = issue_token(user, "test")
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["id"] == user.id


def test_me_without_credentials_is_401_json(client):
    _error(client.get("/api/me"), 401, "unauthorized")


def test_a_wrong_token_is_401_json(client, users):
    users.make()
    _error(client.get("/api/me", headers={"Authorization": "Bearer bk_not-a-real-token"}), 401, "unauthorized")


def test_a_revoked_token_is_401_json(client, users):
    user = users.make()
    token = issue_token(user)
    revoke_token(db.session.scalar(db.select(ApiToken.id)), user)
    _error(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")


def test_a_deactivated_users_token_is_401_json(client, users):
    owner, user = users.make("owner"), users.make()
    token = issue_token(user)
    from booking_app.services.users import set_active

    set_active(user, False, acting=owner)
    _error(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")


def test_an_unknown_api_path_is_404_json(client):
    _error(client.get("/api/nothing-here"), 404, "not_found")


def test_the_openapi_document_describes_me_and_bearer_tokens(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert "/api/me" in spec["paths"]
    assert "get" in spec["paths"]["/api/me"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in spec["security"]
    error = spec["components"]["schemas"]["Error"]
    assert "error" in error["properties"]


def test_the_openapi_document_validates(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/openapi.json").json)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_session_post_without_the_csrf_header_is_refused(client, users, app):
    user = users.make()
    sign_in_cookie(client, user)
    response = client.post("/api/me", json={})
    assert response.status_code == 400
    assert response.is_json
    assert response.json["error"]["code"] == "bad_request"


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_session_post_with_the_csrf_header_gets_past_the_check(client, users, app):
    user = users.make()
    sign_in_cookie(client, user)
    page = client.get("/profile").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/api/me", json={}, headers={"X-CSRFToken": token})
    assert response.status_code == 405  # past CSRF: /api/me simply has no POST


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_bearer_post_needs_no_csrf_token(client, users):
    token = issue_token(users.make())
    response = client.post("/api/me", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_partial_and_cut_down_schemas_get_their_own_names():
    from booking_app.api import schema_name
    from booking_app.api.schemas import UserSchema

    assert schema_name(UserSchema) == "User"
    assert schema_name(UserSchema()) == "User"
    assert schema_name(UserSchema(partial=True)) == "UserPatch"
    assert schema_name(UserSchema(only=("id",))) is None
