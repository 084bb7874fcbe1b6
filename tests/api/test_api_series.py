"""The series JSON API: the exact forms of issue 13, their statuses and shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from booking_app.extensions import db
from booking_app.models import Block, Booking, LessonSeries
from booking_app.services.sessions import issue_token
from booking_app.services.studio import get_studio
from tests.booking_helpers import open_hours
from tests.conftest import count

NY = "America/New_York"
NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # Monday noon in New York, a week before the spring change
pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)
FIRST = "2026-03-03T22:00:00Z"  # Tuesday 17:00 EST


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez", timezone=NY)
    instructor.instructor_settings.timezone = NY
    db.session.commit()
    open_hours(instructor, time(9), time(19))
    return instructor


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(user)}"}


def payload(maria, **extra):  # type: ignore[no-untyped-def]
    return {"instructor_id": maria.id, "start": FIRST, "lesson_minutes": 60, "weeks": 4, **extra}


def test_requesting_a_series_answers_201_with_its_lessons_and_skipped_weeks(client, users, maria):
    db.session.add(Block(instructor_id=maria.id, start_on=date(2026, 3, 17), end_on=date(2026, 3, 17)))
    db.session.commit()
    sam = users.make("student")
    response = client.post("/api/series", json=payload(maria, notes="Etudes"), headers=bearer(sam))
    assert response.status_code == 201
    body = response.json
    assert [b["start"] for b in body["bookings"]] == [
        "2026-03-03T22:00:00Z",
        "2026-03-10T21:00:00Z",
        "2026-03-24T21:00:00Z",
    ]
    assert {b["status"] for b in body["bookings"]} == {"pending"}
    assert {b["series_id"] for b in body["bookings"]} == {body["id"]}
    assert body["skipped"] == [
        {
            "date": "2026-03-17",
            "reason": "blocked",
            "message": "Tue 17 Mar 2026: the instructor is away (blocked).",
        }
    ]
    assert (body["weekday"], body["start_time"], body["timezone"]) == (2, "17:00", NY)
    again = client.post("/api/series", json=payload(maria, notes="Etudes"), headers=bearer(sam))
    assert again.status_code == 200 and again.json["id"] == body["id"]
    got = client.get(f"/api/series/{body['id']}", headers=bearer(maria))
    assert got.status_code == 200 and got.json["skipped"] == body["skipped"]
    assert (
        client.get(f"/api/bookings/{body['bookings'][0]['id']}", headers=bearer(sam)).json["series_id"]
        == body["id"]
    )


def test_a_dry_run_answers_200_and_writes_nothing(client, users, maria):
    response = client.post(
        "/api/series", json=payload(maria, dry_run=True), headers=bearer(users.make("student"))
    )
    assert response.status_code == 200
    assert response.json["id"] is None and len(response.json["bookings"]) == 4
    assert count(Booking) == 0 and count(LessonSeries) == 0


def test_every_week_skipped_answers_422_and_series_turned_off_answers_403(client, users, maria):
    late = client.post(
        "/api/series",
        json=payload(maria, start="2026-03-03T02:00:00Z"),
        headers=bearer(users.make("student")),
    )
    assert late.status_code == 422 and late.json["error"]["code"] == "nothing_open"
    assert [s["reason"] for s in late.json["error"]["details"]["skipped"]] == ["unavailable"] * 4
    get_studio().series_max_weeks = 0
    db.session.commit()
    off = client.post("/api/series", json=payload(maria), headers=bearer(users.make("student")))
    assert off.status_code == 403 and off.json["error"]["code"] == "series_off"


def test_weeks_beyond_the_studio_maximum_answer_422_naming_the_field(client, users, maria):
    response = client.post(
        "/api/series", json=payload(maria, weeks=13), headers=bearer(users.make("student"))
    )
    assert response.status_code == 422
    assert "12 weeks" in response.json["error"]["message"]
    outside = client.post("/api/series", json=payload(maria, weeks=53), headers=bearer(users.make("student")))
    assert outside.status_code == 422 and "weeks" in outside.json["error"]["message"]


def test_staff_book_a_student_confirmed_at_once_and_a_student_naming_another_gets_403(client, users, maria):
    sam = users.make("student")
    booked = client.post("/api/series", json=payload(maria, student_id=sam.id), headers=bearer(maria))
    assert booked.status_code == 201
    assert {b["status"] for b in booked.json["bookings"]} == {"confirmed"}
    assert booked.json["student_id"] == sam.id
    other = client.post(
        "/api/series",
        json=payload(maria, student_id=sam.id, start="2026-03-03T15:00:00Z"),
        headers=bearer(users.make("student")),
    )
    assert other.status_code == 403


def test_confirm_some_decline_the_rest_then_the_student_cancels_from_a_date(client, users, maria):
    sam = users.make("student")
    created = client.post("/api/series", json=payload(maria), headers=bearer(sam)).json
    ids = [b["id"] for b in created["bookings"]]
    assert (
        client.post(f"/api/series/{created['id']}/confirm", json={}, headers=bearer(sam)).status_code == 403
    )
    answered = client.post(
        f"/api/series/{created['id']}/confirm", json={"booking_ids": ids[:3]}, headers=bearer(maria)
    )
    assert answered.status_code == 200
    assert [b["status"] for b in answered.json["bookings"]] == ["confirmed"] * 3 + ["declined"]
    cancelled = client.post(
        f"/api/series/{created['id']}/cancel", json={"from": "2026-03-10"}, headers=bearer(sam)
    )
    assert cancelled.status_code == 200
    assert [b["status"] for b in cancelled.json["bookings"]] == [
        "confirmed",
        "cancelled",
        "cancelled",
        "declined",
    ]
    assert cancelled.json["kept"] == []


def test_decline_all_and_renew(client, users, maria):
    sam = users.make("student")
    created = client.post("/api/series", json=payload(maria, weeks=2), headers=bearer(sam)).json
    declined = client.post(
        f"/api/series/{created['id']}/decline", json={"reason": "Full term"}, headers=bearer(maria)
    )
    assert {b["status"] for b in declined.json["bookings"]} == {"declined"}
    booked = client.post(
        "/api/series",
        json=payload(maria, weeks=2, student_id=sam.id, start="2026-03-03T15:00:00Z"),
        headers=bearer(maria),
    ).json
    renewed = client.post(f"/api/series/{booked['id']}/renew", json={"weeks": 2}, headers=bearer(maria))
    assert renewed.status_code == 201
    assert [b["start"] for b in renewed.json["bookings"]] == ["2026-03-17T14:00:00Z", "2026-03-24T14:00:00Z"]


def test_a_stranger_gets_404_for_a_series(client, users, maria):
    created = client.post(
        "/api/series", json=payload(maria, weeks=1), headers=bearer(users.make("student"))
    ).json
    assert (
        client.get(f"/api/series/{created['id']}", headers=bearer(users.make("student"))).status_code == 404
    )


def test_the_studio_api_reads_and_changes_series_max_weeks(client, users):
    owner = users.make("owner")
    assert client.get("/api/studio", headers=bearer(owner)).json["series_max_weeks"] == 12
    changed = client.patch("/api/studio", json={"series_max_weeks": 20}, headers=bearer(owner))
    assert changed.status_code == 200 and changed.json["series_max_weeks"] == 20
    assert (
        client.patch("/api/studio", json={"series_max_weeks": 53}, headers=bearer(owner)).status_code == 422
    )


def test_the_openapi_document_describes_the_series_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {
        "/api/series",
        "/api/series/{series_id}",
        "/api/series/{series_id}/confirm",
        "/api/series/{series_id}/decline",
        "/api/series/{series_id}/cancel",
        "/api/series/{series_id}/renew",
    } <= set(paths)
