"""POST /api/bookings with student_id: staff book a student in (201 confirmed); refusals answer 403, 409 and 422."""

from __future__ import annotations

import pytest

from booking_app.models import Booking
from booking_app.services.sessions import issue_token
from tests.booking_helpers import NOW, open_hours
from tests.conftest import count

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez")
    open_hours(instructor)
    return instructor


@pytest.fixture
def sam(users):  # type: ignore[no-untyped-def]
    return users.make("student", name="Sam Student")


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(user)}"}


def book(client, who, instructor_id: int, student_id: int, start: str = "2026-02-05T14:00:00Z", **extra):  # type: ignore[no-untyped-def]
    body = {"instructor_id": instructor_id, "start": start, "student_id": student_id, **extra}
    return client.post("/api/bookings", json=body, headers=bearer(who))


def test_the_instructor_books_a_student_in_and_gets_201_with_a_confirmed_booking(client, maria, sam):
    response = book(client, maria, maria.id, sam.id, notes="First lesson")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["status"], body["student_id"], body["instructor_id"]) == ("confirmed", sam.id, maria.id)
    assert (body["start"], body["end"], body["notes"]) == (
        "2026-02-05T14:00:00Z",
        "2026-02-05T15:00:00Z",
        "First lesson",
    )
    assert body["history"] == [
        {
            "at": "2026-02-02T08:00:00Z",
            "actor_id": maria.id,
            "from": None,
            "to": "confirmed",
            "note": "",
        }
    ]


def test_the_same_staff_booking_repeated_answers_200_with_the_same_booking(client, maria, sam):
    first = book(client, maria, maria.id, sam.id)
    second = book(client, maria, maria.id, sam.id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json["id"] == second.json["id"]


def test_the_owner_books_for_any_instructor_inside_the_notice(client, users, maria, sam):
    olivia = users.make("owner")
    response = book(client, olivia, maria.id, sam.id, start="2026-02-02T09:00:00Z")  # an hour from now
    assert response.status_code == 201
    assert response.json["status"] == "confirmed"


def test_a_student_giving_student_id_gets_403_and_nothing_is_written(client, users, maria, sam):
    other = users.make("student")
    response = book(client, sam, maria.id, other.id)
    assert response.status_code == 403
    assert response.json["error"]["message"].startswith("Only instructors and the studio owner can book")
    assert count(Booking) == 0


def test_an_instructor_booking_for_another_instructor_gets_403(client, users, maria, sam):
    ben = users.make("instructor")
    assert book(client, ben, maria.id, sam.id).status_code == 403


def test_a_student_id_that_is_not_an_active_student_gets_422(client, users, maria):
    ben = users.make("instructor")
    for student_id in (ben.id, 999_999):
        response = book(client, maria, maria.id, student_id)
        assert response.status_code == 422
        assert response.json["error"]["code"] == "no_student"


def test_an_overlap_gets_409(client, users, maria, sam):
    assert book(client, maria, maria.id, users.make("student").id).status_code == 201
    response = book(client, maria, maria.id, sam.id, start="2026-02-05T14:00:00Z")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "slot_taken"


@pytest.mark.parametrize("start", ["2026-02-01T14:00:00Z", "2026-02-05T20:00:00Z"])
def test_the_past_or_outside_the_availability_gets_422(client, maria, sam, start):
    response = book(client, maria, maria.id, sam.id, start=start)
    assert response.status_code == 422
    assert response.json["error"]["message"]
    assert count(Booking) == 0


def test_without_student_id_a_staff_member_still_requests_a_lesson_for_themselves(client, users, maria):
    ben = users.make("instructor")
    response = client.post(
        "/api/bookings",
        json={"instructor_id": maria.id, "start": "2026-02-05T14:00:00Z"},
        headers=bearer(ben),
    )
    assert response.status_code == 201
    assert (response.json["status"], response.json["student_id"]) == ("pending", ben.id)


def test_the_openapi_document_describes_student_id(client):
    schema = client.get("/api/openapi.json").json
    request = schema["components"]["schemas"]["BookingRequest"]["properties"]
    assert "student_id" in request
    assert "403" in schema["paths"]["/api/bookings"]["post"]["responses"]
