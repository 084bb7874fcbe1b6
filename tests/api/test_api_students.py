"""The students API and lesson notes: who may read and write them, their bounds, and a private note kept from students."""

from __future__ import annotations

import pytest
from flask import Flask

from booking_app.extensions import db
from booking_app.models import Booking, LessonNoteChange, StudentNote
from booking_app.services import bookings as booking_service
from booking_app.services.sessions import issue_token
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import count

SECRET = "STAFF-ONLY: parents asked about fees"


@pytest.fixture
def maria(users):  # type: ignore[no-untyped-def]
    instructor = users.make("instructor", name="Maria Lopez")
    open_hours(instructor)
    return instructor


@pytest.fixture
def people(users, maria):  # type: ignore[no-untyped-def]
    return {"maria": maria, "ben": users.make("instructor", name="Ben Brown"),
            "sam": users.make("student", name="Sam Student"), "owner": users.make("owner", name="Olivia Owner")}


@pytest.fixture
def lesson(people) -> Booking:  # type: ignore[no-untyped-def]
    booking = booking_service.request_booking(people["sam"], people["maria"].id, at(5, 10), now=NOW).booking
    booking_service.confirm(people["maria"], booking.id, now=NOW)
    return booking


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(user)}"}


def started(app: Flask) -> None:
    app.config["FROZEN_NOW"] = at(5, 10, 30)


pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)


def test_an_instructor_lists_their_students_with_figures(client, people, lesson):
    response = client.get(f"/api/instructors/{people['maria'].id}/students", headers=bearer(people["maria"]))
    assert response.status_code == 200
    [row] = response.json["students"]
    assert row == {
        "instructor_id": people["maria"].id, "student_id": people["sam"].id, "name": "Sam Student",
        "email": people["sam"].email, "next_lesson_at": "2026-02-05T10:00:00Z", "last_lesson_at": None,
        "lessons_last_90_days": 0, "no_shows": 0, "unread_messages": 0, "note": "", "colour": None,
        "invited_only": False,
    }


def test_only_the_instructor_and_the_owner_read_the_list(client, people, lesson):
    path = f"/api/instructors/{people['maria'].id}/students"
    assert client.get(path, headers=bearer(people["owner"])).status_code == 200
    for who in ("ben", "sam"):
        response = client.get(path, headers=bearer(people[who]))
        assert response.status_code == 403 and response.json["error"]["message"].endswith(".")
    assert client.get(path).status_code == 401
    assert client.get("/api/instructors/999999/students", headers=bearer(people["owner"])).status_code == 404


def test_the_note_and_colour_are_replaced_and_a_colour_outside_the_palette_is_refused(client, people, lesson):
    path = f"/api/instructors/{people['maria'].id}/students/{people['sam'].id}"
    ok = client.put(path, json={"note": "Grade 3 in June", "colour": "purple"}, headers=bearer(people["maria"]))
    assert ok.status_code == 200 and (ok.json["note"], ok.json["colour"]) == ("Grade 3 in June", "purple")
    for body, field in (({"colour": "chartreuse"}, "colour"), ({"note": "x" * 2001}, "note"),
                        ({"note": "a\x00b"}, "note"), ({"note": "\ud800"}, "note")):
        bad = client.put(path, json=body, headers=bearer(people["maria"]))
        assert bad.status_code == 422, body
        assert field in bad.json["error"]["message"]
    assert db.session.get(StudentNote, (people["maria"].id, people["sam"].id)).colour == "purple"
    stranger = client.put(f"/api/instructors/{people['maria'].id}/students/{people['ben'].id}", json={},
                          headers=bearer(people["maria"]))
    assert stranger.status_code == 404


def test_lesson_notes_are_refused_before_the_start_and_from_the_student(app, client, people, lesson):
    path = f"/api/bookings/{lesson.id}/lesson-notes"
    early = client.put(path, json={"summary": "Scales"}, headers=bearer(people["maria"]))
    assert early.status_code == 409 and "started" in early.json["error"]["message"]
    started(app)
    assert client.put(path, json={"summary": "I did well"}, headers=bearer(people["sam"])).status_code == 403
    assert client.put(path, json={"summary": "Hm"}, headers=bearer(people["ben"])).status_code == 404
    assert count(LessonNoteChange) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"summary": "x" * 4001}, "summary"),
    ({"private_note": "y" * 4001}, "private_note"),
    ({"summary": "a\x00b"}, "summary"),
    ({"private_note": "\udfff"}, "private_note"),
    ({"summary": 5}, "summary"),
])
def test_bad_lesson_notes_answer_422_naming_the_field_and_write_nothing(app, client, people, lesson, body, field):
    started(app)
    response = client.put(f"/api/bookings/{lesson.id}/lesson-notes", json=body, headers=bearer(people["maria"]))
    assert response.status_code == 422
    assert field in response.json["error"]["message"]
    assert count(LessonNoteChange) == 0


def test_staff_get_the_private_note_and_the_student_never_does(app, client, people, lesson):
    started(app)
    written = client.put(f"/api/bookings/{lesson.id}/lesson-notes",
                         json={"summary": "Practise the G major scale", "private_note": SECRET},
                         headers=bearer(people["maria"]))
    assert written.status_code == 200
    assert (written.json["lesson_summary"], written.json["private_note"]) == ("Practise the G major scale", SECRET)
    for who in ("maria", "owner"):
        assert client.get(f"/api/bookings/{lesson.id}", headers=bearer(people[who])).json["private_note"] == SECRET
    student = bearer(people["sam"])
    one = client.get(f"/api/bookings/{lesson.id}", headers=student)
    listed = client.get("/api/bookings", headers=student)
    export = client.get("/api/me/export", headers=student)
    assert one.json["lesson_summary"] == "Practise the G major scale" and "private_note" not in one.json
    assert [b.get("private_note") for b in listed.json["bookings"]] == [None]
    for response in (one, listed, export):
        assert SECRET not in response.get_data(as_text=True)
    assert SECRET in client.get("/api/me/export", headers=bearer(people["maria"])).get_data(as_text=True)


def test_the_openapi_document_describes_the_students_and_lesson_notes_routes(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert "get" in paths["/api/instructors/{instructor_id}/students"]
    assert "put" in paths["/api/instructors/{instructor_id}/students/{student_id}"]
    assert "put" in paths["/api/bookings/{booking_id}/lesson-notes"]
