"""Message API: list, send, mark read, unread counts; strangers get 404 JSON; the OpenAPI names it all."""

from __future__ import annotations

import pytest

from booking_app.models import Message
from booking_app.services import messages as svc
from booking_app.services.sessions import issue_token
from tests.conftest import count
from tests.services.test_messages import make_booking


@pytest.fixture
def people(users):
    return users.make("student", name="Maria Lopez"), users.make("instructor", name="Tom Reyes")


@pytest.fixture
def booking(people):
    maria, tom = people
    return make_booking(tom, maria)


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user)}"}


def test_listing_messages_returns_the_thread_oldest_first(client, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, "first")
    svc.send_message(booking, tom, "second")
    response = client.get(f"/api/bookings/{booking.id}/messages", headers=bearer(maria))
    assert response.status_code == 200
    data = response.json
    assert data["booking_id"] == booking.id
    assert [m["body"] for m in data["messages"]] == ["first", "second"]
    assert data["messages"][0]["sender_name"] == "Maria Lopez"
    assert data["messages"][0]["created_at"].endswith("Z")
    assert data["unread"] == 1


def test_sending_creates_the_message_exactly_and_answers_201(client, booking, people):
    maria, _ = people
    body = " Hello,\n\n  spacing kept "
    response = client.post(f"/api/bookings/{booking.id}/messages", json={"body": body}, headers=bearer(maria))
    assert response.status_code == 201
    assert response.json["body"] == body
    assert svc.thread(booking)[0].body == body


@pytest.mark.parametrize(("body", "code"), [("", "invalid"), ("   ", "invalid"), ("x" * 2001, "too_long")])
def test_bad_bodies_are_refused_with_422_and_a_sentence(client, booking, people, body, code):
    maria, _ = people
    response = client.post(f"/api/bookings/{booking.id}/messages", json={"body": body}, headers=bearer(maria))
    assert response.status_code == 422
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"].endswith(".")
    assert count(Message) == 0


def test_a_missing_body_is_refused_with_422(client, booking, people):
    maria, _ = people
    response = client.post(f"/api/bookings/{booking.id}/messages", json={}, headers=bearer(maria))
    assert response.status_code == 422
    assert "body" in response.json["error"]["message"]


def test_strangers_get_404_json_for_reading_and_writing(client, booking, users):
    svc.send_message(booking, booking.student, "secret")
    headers = bearer(users.make("student"))
    for response in (
        client.get(f"/api/bookings/{booking.id}/messages", headers=headers),
        client.post(f"/api/bookings/{booking.id}/messages", json={"body": "hi"}, headers=headers),
        client.post(f"/api/bookings/{booking.id}/messages/read", headers=headers),
        client.get("/api/bookings/424242/messages", headers=headers),
    ):
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
        assert "secret" not in response.get_data(as_text=True)
    assert count(Message) == 1


def test_without_credentials_the_api_answers_401(client, booking):
    assert client.get(f"/api/bookings/{booking.id}/messages").status_code == 401
    assert client.get("/api/bookings/unread").status_code == 401


def test_unread_lists_bookings_with_counts_and_clears_after_marking_read(client, booking, people):
    maria, tom = people
    svc.send_message(booking, maria, "one")
    svc.send_message(booking, maria, "two")
    headers = bearer(tom)
    assert client.get("/api/bookings/unread", headers=headers).json == {
        "bookings": [{"booking_id": booking.id, "unread": 2}], "total": 2,
    }
    read = client.post(f"/api/bookings/{booking.id}/messages/read", headers=headers)
    assert read.status_code == 200 and read.json["last_read_message_id"] == svc.thread(booking)[-1].id
    assert client.get("/api/bookings/unread", headers=headers).json == {"bookings": [], "total": 0}


def test_the_owner_can_use_every_thread_through_the_api(client, booking, users):
    headers = bearer(users.make("owner"))
    assert client.post(f"/api/bookings/{booking.id}/messages", json={"body": "Owner here"}, headers=headers).status_code == 201
    assert client.get(f"/api/bookings/{booking.id}/messages", headers=headers).status_code == 200


@pytest.mark.app_config(MESSAGE_RATE_LIMIT="2/minute")
def test_sending_too_quickly_answers_429_with_a_sentence(client, booking, people):
    maria, _ = people
    headers = bearer(maria)
    for n in range(2):
        assert client.post(f"/api/bookings/{booking.id}/messages", json={"body": str(n)}, headers=headers).status_code == 201
    response = client.post(f"/api/bookings/{booking.id}/messages", json={"body": "3"}, headers=headers)
    assert response.status_code == 429
    assert response.json["error"] == {
        "code": "rate_limited",
        "message": "You are sending messages too quickly. Wait a minute and try again.",
    }
    assert count(Message) == 2


def test_the_openapi_document_describes_the_message_endpoints(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/bookings/{booking_id}/messages"])
    assert "get" in paths["/api/bookings/unread"]
    assert "post" in paths["/api/bookings/{booking_id}/messages/read"]


@pytest.mark.app_config(MESSAGE_RATE_LIMIT="2/minute")
def test_the_form_and_the_api_share_one_sending_budget(client, auth, booking, people):
    maria, _ = people
    auth.login(maria)
    assert client.post(f"/bookings/{booking.id}/messages", data={"body": "by form"}).status_code == 302
    assert client.post(f"/api/bookings/{booking.id}/messages", json={"body": "by api"}, headers=bearer(maria)).status_code == 201
    assert client.post(f"/bookings/{booking.id}/messages", data={"body": "third"}).status_code == 429
    assert count(Message) == 2
