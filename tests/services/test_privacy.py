"""A person's data: the export holds their own rows and nobody else's; deleting an account erases it but keeps bookings whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import (
    AccessLink,
    ApiToken,
    Booking,
    BookingChange,
    Notification,
    User,
    UserSession,
    WeeklyWindow,
)
from booking_app.services import ServiceError, effects, links
from booking_app.services.bookings import cancel, confirm, request_booking
from booking_app.services.feed import enable_feed
from booking_app.services.links import LinkPurpose
from booking_app.services.messages import send_message, thread
from booking_app.services.privacy import export_data
from booking_app.services.sessions import issue_token, start_session, user_for_session, user_for_token
from booking_app.services.users import authenticate, change_role, delete_account, set_active
from tests.booking_helpers import NOW, at, open_hours
from tests.conftest import Users

pytestmark = pytest.mark.app_config(FROZEN_NOW=NOW)
PASSWORD = Users.password


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _status(booking_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Booking, booking_id).status)


@pytest.fixture
def studio(users):
    """Sam has two lessons with Ada (one inside the cancellation window) and a thread; Priya and Ben have their own."""
    owner = users.make("owner", name="Olivia Owner")
    ada = users.make("instructor", name="Ada Lovelace", email="ada@example.test")
    ben = users.make("instructor", name="Ben Secret", email="ben.secret@example.test")
    sam = users.make("student", name="Sam Student", email="sam@example.test")
    priya = users.make("student", name="Priya Private", email="priya.private@example.test")
    open_hours(ada)
    open_hours(ben)
    soon = request_booking(sam, ada.id, at(2, 15), None, "Scales please").booking  # 7 hours ahead: inside 24 h
    confirm(ada, soon.id)
    later = request_booking(sam, ada.id, at(10, 10)).booking
    confirm(ada, later.id)
    pending = request_booking(sam, ada.id, at(11, 10)).booking
    send_message(later, sam, "Can we work on the sonata?")
    send_message(later, ada, "Yes, bring the score.")
    other = request_booking(priya, ben.id, at(10, 10), None, "PRIVATE-NOTE-of-priya").booking
    confirm(ben, other.id)
    send_message(other, priya, "PRIVATE-MESSAGE-between-priya-and-ben")
    also_ada = request_booking(priya, ada.id, at(12, 10), None, "PRIYA-NOTE-for-ada").booking
    effects.run_due(NOW)
    return {"owner": owner, "ada": ada, "ben": ben, "sam": sam, "priya": priya, "soon": soon, "later": later,
            "pending": pending, "other": other, "also_ada": also_ada}


# --- export ----------------------------------------------------------------------------------------


def test_the_export_holds_the_users_own_bookings_history_messages_and_notifications(studio):
    data = export_data(studio["sam"])
    assert data["profile"]["email"] == "sam@example.test" and data["profile"]["name"] == "Sam Student"
    assert [b["id"] for b in data["bookings"]] == [studio["soon"].id, studio["later"].id, studio["pending"].id]
    soon = data["bookings"][0]
    assert soon["instructor"] == "Ada Lovelace" and soon["you_are"] == "student" and soon["notes"] == "Scales please"
    assert [h["to_status"] for h in soon["history"]] == ["pending", "confirmed"]
    assert soon["history"][1]["by"] == "Ada Lovelace" and soon["starts_at"] == "2026-02-02T15:00:00Z"
    assert [m["body"] for m in data["messages"]] == ["Can we work on the sonata?", "Yes, bring the score."]
    assert data["messages"][0]["from"] == "you" and data["messages"][1]["from"] == "Ada Lovelace"
    assert data["notifications"] and all(n["created_at"].endswith("Z") for n in data["notifications"])
    assert "teaching" not in data


def test_the_export_holds_nothing_of_other_peoples_bookings_or_addresses(studio):
    text = json.dumps(export_data(studio["sam"]))
    for secret in ("PRIVATE-NOTE-of-priya", "PRIVATE-MESSAGE-between-priya-and-ben", "PRIYA-NOTE-for-ada",
                   "Priya Private", "Ben Secret", "ben.secret@example.test", "priya.private@example.test",
                   "ada@example.test", "Olivia Owner", "password", "pbkdf2", "scrypt"):
        assert secret not in text
    # The instructor sees both students' bookings with them, but nothing of Priya's lesson with Ben.
    ada_text = json.dumps(export_data(studio["ada"]))
    assert "PRIYA-NOTE-for-ada" in ada_text and "Priya Private" in ada_text
    assert "PRIVATE-NOTE-of-priya" not in ada_text and "PRIVATE-MESSAGE-between-priya-and-ben" not in ada_text
    assert "priya.private@example.test" not in ada_text and "Ben Secret" not in ada_text


def test_an_owner_exports_their_own_bookings_not_the_whole_studio(studio):
    data = export_data(studio["owner"])
    assert data["bookings"] == [] and data["messages"] == []
    assert "teaching" in data and data["teaching"]["weekly_windows"] == []


def test_the_export_takes_the_same_number_of_queries_however_much_there_is(studio, users):
    sam, ada = studio["sam"], studio["ada"]
    db.session.expire_all()
    sam = db.session.get(User, sam.id)
    with statements() as few:
        export_data(sam)
    for day in (13, 16, 17, 18):
        lesson = request_booking(sam, ada.id, at(day, 10)).booking
        confirm(ada, lesson.id)
        for n in range(3):
            send_message(lesson, sam, f"Note {n}")
    db.session.expire_all()
    sam = db.session.get(User, sam.id)
    with statements() as many:
        data = export_data(sam)
    assert len(data["bookings"]) == 7 and len(data["messages"]) == 14
    assert len(many) == len(few) <= 7  # one per kind of row: bookings, changes, lesson notes, messages, ...


# --- deletion --------------------------------------------------------------------------------------


def test_deleting_cancels_every_lesson_and_request_ahead_even_inside_the_window_and_tells_the_instructor(studio, inbox):
    sam, ada = studio["sam"], studio["ada"]
    with pytest.raises(ServiceError):  # as a student Sam could not cancel this one himself
        cancel(sam, studio["soon"].id)
    done = delete_account(sam, PASSWORD)
    assert done.cancelled == 3
    assert {_status(studio[k].id) for k in ("soon", "later", "pending")} == {"cancelled"}
    assert _status(studio["other"].id) == "confirmed" and _status(studio["also_ada"].id) == "pending"
    texts = list(db.session.scalars(sa.select(Notification.text).where(Notification.user_id == ada.id,
                                                                         Notification.kind == "booking.cancelled")))
    assert len(texts) == 3 and all("The student deleted their account." in t for t in texts)
    assert not any("Sam" in t for t in texts)  # said without the erased name
    effects.run_due(NOW)
    cancelled = [m for m in inbox.messages if m["Subject"].startswith("Cancelled:")]
    assert len(cancelled) == 3 and {m["To"] for m in cancelled} == {"Ada Lovelace <ada@example.test>"}
    body = cancelled[0].get_body(("plain",)).get_content()
    assert "The student deleted their account." in body and "Student: Deleted user" in body
    # each cancellation is in the booking's history, by the person who left
    change = db.session.scalars(sa.select(BookingChange).where(BookingChange.booking_id == studio["soon"].id)
                                .order_by(BookingChange.id.desc())).first()
    assert change.to_status == "cancelled" and change.actor_id == sam.id


def test_an_instructors_deletion_tells_each_of_their_students_and_removes_their_availability(studio):
    ada = studio["ada"]
    done = delete_account(ada, PASSWORD)
    assert done.cancelled == 4
    for student, key in (("sam", "later"), ("priya", "also_ada")):
        assert _status(studio[key].id) == "cancelled"
        texts = list(db.session.scalars(sa.select(Notification.text).where(
            Notification.user_id == studio[student].id, Notification.booking_id == studio[key].id)))
        assert any("The instructor deleted their account." in t for t in texts)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeeklyWindow)
                             .where(WeeklyWindow.instructor_id == ada.id)) == 0
    assert _status(studio["other"].id) == "confirmed"  # Ben's lesson is not Ada's business


def test_a_deleted_account_is_erased_and_locked_but_its_bookings_and_messages_stay(studio):
    sam = studio["sam"]
    start_session(sam)
    token = issue_token(sam, "script")
    enable_feed(sam)
    _, secret = links.issue(LinkPurpose.PASSWORD_RESET, user=sam)
    db.session.commit()
    booking_ids = {studio[k].id for k in ("soon", "later", "pending")}
    delete_account(sam, PASSWORD)
    db.session.expire_all()
    gone = db.session.get(User, sam.id)
    assert gone.name == "Deleted user" and gone.is_deleted and not gone.active and gone.feed_token is None
    assert gone.email.endswith("@deleted.invalid") and "sam" not in gone.email
    assert authenticate("sam@example.test", PASSWORD) is None and not gone.check_password(PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.user_id == sam.id, UserSession.ended_at.is_(None))) == 0
    assert user_for_token(token) is None
    assert db.session.scalar(sa.select(ApiToken.revoked_at).where(ApiToken.user_id == sam.id)) is not None
    assert links.look_up(LinkPurpose.PASSWORD_RESET, secret)[1].value == "revoked"
    assert db.session.scalar(sa.select(AccessLink.email).where(AccessLink.user_id == sam.id)) == ""
    # bookings keep their rows and their student; messages stay, shown from "Deleted user"
    assert {b.id for b in db.session.scalars(sa.select(Booking).where(Booking.student_id == sam.id))} == booking_ids
    later = db.session.get(Booking, studio["later"].id)
    assert [(m.sender.name, m.body) for m in thread(later)] == [
        ("Deleted user", "Can we work on the sonata?"), ("Ada Lovelace", "Yes, bring the score.")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.user_id == sam.id)) == 0


def test_a_wrong_password_deletes_nothing(studio):
    with pytest.raises(ServiceError) as refused:
        delete_account(studio["sam"], "not the password")
    assert refused.value.status == 403 and "password" in refused.value.message
    db.session.expire_all()
    assert db.session.get(User, studio["sam"].id).name == "Sam Student"
    assert _status(studio["later"].id) == "confirmed"


def test_the_last_owner_must_make_someone_else_owner_first(studio):
    owner = studio["owner"]
    with pytest.raises(ServiceError) as refused:
        delete_account(owner, PASSWORD)
    assert refused.value.status == 409 and "Make someone else owner" in refused.value.message
    change_role(studio["ben"], "owner", acting=owner)
    delete_account(owner, PASSWORD)
    assert db.session.get(User, owner.id).is_deleted


def test_a_deleted_account_cannot_be_reactivated_or_given_a_role(studio):
    sam, owner = studio["sam"], studio["owner"]
    delete_account(sam, PASSWORD)
    for attempt in (lambda: set_active(sam, True, acting=owner), lambda: change_role(sam, "instructor", acting=owner)):
        with pytest.raises(ServiceError) as refused:
            attempt()
        assert refused.value.status == 409


def test_a_deleted_users_session_no_longer_signs_anyone_in(studio):
    sam = studio["sam"]
    secret = start_session(sam)
    assert user_for_session(sam.id, secret) is not None
    delete_account(sam, PASSWORD)
    assert user_for_session(sam.id, secret) is None


def test_deactivating_a_second_owner_releases_only_their_own_requests(studio, users):
    second = users.make("owner", name="Second Owner")
    change = set_active(second, False, acting=studio["owner"])
    assert change.released == 0
    assert _status(studio["pending"].id) == "pending" and _status(studio["also_ada"].id) == "pending"


def test_a_lesson_under_way_is_left_alone(studio):
    delete_account(studio["sam"], PASSWORD, now=at(2, 15, 30))  # the lesson started at 15:00
    assert _status(studio["soon"].id) == "confirmed"
    assert _status(studio["later"].id) == "cancelled"
