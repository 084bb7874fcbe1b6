"""Sign up, sign in, sign out, safe redirects and rate limits."""

from __future__ import annotations

import pytest

from booking_app.auth.routes import safe_next
from booking_app.models import User
from tests.conftest import count


def test_sign_up_creates_a_student_and_signs_them_in(client):
    response = client.post("/signup", data={"name": "Ana Ruiz", "email": "Ana@Example.com ", "password": "longenough", "timezone": "Europe/Madrid"})
    assert response.status_code == 302
    user = User.query.filter_by(email="ana@example.com").one()
    assert (user.role, user.timezone, user.name) == ("student", "Europe/Madrid", "Ana Ruiz")
    assert user.password_hash != "longenough" and user.check_password("longenough")
    assert client.get("/api/me").json["email"] == "ana@example.com"


def test_sign_up_with_a_taken_email_says_so_and_creates_nothing(client, users):
    users.make(email="taken@example.com")
    response = client.post("/signup", data={"name": "B", "email": "taken@example.com", "password": "longenough", "timezone": "UTC"})
    assert response.status_code == 200
    assert b"An account with this email already exists" in response.data
    assert count(User) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password", "short", b"at least 8 characters"),
        ("email", "not-an-email", b"valid email address"),
        ("timezone", "Mars/Olympus", b"Choose a timezone from the list"),
    ],
)
def test_sign_up_refuses_bad_input_with_a_specific_message(client, field, value, message):
    data = {"name": "C", "email": "c@example.com", "password": "longenough", "timezone": "UTC", field: value}
    response = client.post("/signup", data=data)
    assert message in response.data
    assert count(User) == 0


def test_sign_in_with_a_wrong_password_is_refused(client, users):
    user = users.make()
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert b"do not match" in response.data
    assert client.get("/api/me").status_code == 401


def test_sign_in_follows_a_safe_next_and_ignores_an_unsafe_one(client, users, auth):
    user = users.make()
    ok = client.post("/login", data={"email": user.email, "password": users.password, "next": "/profile"})
    assert ok.location == "/profile"
    auth.logout()
    evil = client.post("/login", data={"email": user.email, "password": users.password, "next": "https://evil.example/"})
    assert evil.location == "/"


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil", "javascript:alert(1)", ""])
def test_safe_next_refuses_other_sites(target):
    assert safe_next(target) is None


def test_deactivated_accounts_cannot_sign_in(client, users):
    user = users.make()
    user.active = False
    from booking_app.extensions import db

    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": users.password})
    assert b"deactivated" in response.data


def test_sign_out_ends_the_session(client, users, auth):
    auth.login(users.make())
    assert client.get("/api/me").status_code == 200
    auth.logout()
    assert client.get("/api/me").status_code == 401


def test_sign_in_is_rate_limited(client, users):
    user = users.make()
    statuses = [client.post("/login", data={"email": user.email, "password": "wrong"}).status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[-1] == 429


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_forms_refuse_posts_without_a_csrf_token(client, users):
    user = users.make()
    response = client.post("/login", data={"email": user.email, "password": users.password})
    assert response.status_code == 400
    assert b"The form expired" in response.data
