"""Booking messages: who may read and write, length and escaping, unread counts, banner, live events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import Booking, BookingChange, Effect, Message, MessageRead
from booking_app.services import ServiceError
from booking_app.services import messages as svc
from tests.conftest import count, utc

STARTS = utc(2030, 2, 5, 14, 0)


def make_booking(instructor, student, status: str = "confirmed", starts_at=STARTS) -> Booking:
    """Create a booking directly (with its history row), as the booking service would leave it."""
    booking = Booking(
        instructor_id=instructor.id, student_id=student.id, starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1), status=status, expires_at=starts_at,
        created_at=starts_at - timedelta(days=3),
    )
    booking.history.append(BookingChange(actor_id=student.id, from_status=None, to_status="pending",
                                         at=starts_at - timedelta(days=3)))
    db.session.add(booking)
    db.session.commit()
    return booking


@pytest.fixture
def people(users):
    maria = users.make("student", name="Maria Lopez")
    tom = users.make("instructor", name="Tom Reyes")
    return maria, tom


@pytest.fixture
def booking(people):
    maria, tom = people
    return make_booking(tom, maria)


def events_for(redis_client, user_id: int) -> list[dict]:
    """Return the live events sent to a user's channel, oldest first."""
    raw = redis_client.lrange(f"ev:log:user:{user_id}", 0, -1)
    return [json.loads(item) for item in reversed(raw)]


# --- sending ---------------------------------------------------------------------------------------

def test_a_message_is_stored_exactly_as_written(booking, people):
    maria, _ = people
    body = "  Hi Tom!\n\nCan we focus on cross-body lead?\t  "
    message = svc.send_message(booking, maria, body)
    assert db.session.get(Message, message.id).body == body


@pytest.mark.parametrize("length", [1, 2000])
def test_messages_of_one_to_two_thousand_characters_are_accepted(booking, people, length):
    maria, _ = people
    svc.send_message(booking, maria, "é" * length)
    assert count(Message) == 1


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n", None])
def test_empty_or_whitespace_only_messages_are_refused_and_nothing_is_saved(booking, people, body):
    maria, _ = people
    with pytest.raises(ServiceError, match="Write a message before sending it."):
        svc.send_message(booking, maria, body)
    assert count(Message) == 0
    assert count(MessageRead) == 0


def test_a_message_of_2001_characters_is_refused_with_its_length_and_nothing_is_saved(booking, people):
    maria, _ = people
    with pytest.raises(ServiceError, match=r"2000 characters or fewer \(this one has 2001\)"):
        svc.send_message(booking, maria, "x" * 2001)
    assert count(Message) == 0


def test_the_database_itself_refuses_an_overlong_message(booking, people):
    maria, _ = people
    db.session.add(Message(booking_id=booking.id, sender_id=maria.id, body="x" * 2001))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert count(Message) == 0


def test_a_null_character_is_refused_with_a_sentence(booking, people):
    maria, _ = people
    with pytest.raises(ServiceError, match="null character"):
        svc.send_message(booking, maria, "hi\x00there")
    assert count(Message) == 0


def test_a_stranger_can_neither_read_nor_write_a_thread(booking, users):
    stranger = users.make("student")
    other_instructor = users.make("instructor")
    for person in (stranger, other_instructor):
        with pytest.raises(ServiceError) as refused:
            svc.send_message(booking, person, "hello")
        assert refused.value.status == 404
        with pytest.raises(ServiceError):
            svc.booking_for(booking.id, person)
        with pytest.raises(ServiceError):
            svc.mark_read(booking, person)
    assert count(Message) == 0


def test_the_owner_can_read_and_write_every_thread(booking, users):
    owner = users.make("owner", name="Olga Owner")
    assert svc.booking_for(booking.id, owner) is not None
    svc.send_message(booking, owner, "Studio note: room 2 today.")
    assert [m.body for m in svc.thread(booking)] == ["Studio note: room 2 today."]


@pytest.mark.parametrize("status", ["pending", "confirmed", "declined", "expired", "cancelled", "completed", "no_show"])
def test_threads_stay_open_in_every_status(people, status):
    maria, tom = people
    booking = make_booking(tom, maria, status=status)
    svc.send_message(booking, maria, "About that lesson…")
    svc.send_message(booking, tom, "Sure.")
    assert count(Message) == 2


# --- unread counts, reading, the banner ------------------------------------------------------------

def test_unread_counts_are_per_user_per_booking(people, users):
    maria, tom = people
    ana = users.make("student", name="Ana")
    first = make_booking(tom, maria)
    second = make_booking(tom, ana, starts_at=STARTS + timedelta(days=1))
    svc.send_message(first, tom, "Welcome, Maria!")
    svc.send_message(first, maria, "one")
    svc.send_message(first, maria, "two")
    svc.send_message(second, ana, "three")

    third = make_booking(tom, ana, starts_at=STARTS + timedelta(days=2))
    svc.send_message(third, tom, "See you Friday")

    assert svc.unread_counts(tom) == {first.id: 2, second.id: 1}
    assert svc.unread_counts(maria) == {}
    assert svc.unread_counts(ana) == {third.id: 1}


def test_replying_marks_the_thread_read_for_the_one_who_replies(booking, people):
    maria, tom = people
    svc.send_message(booking, maria, "one")
    svc.send_message(booking, maria, "two")
    svc.send_message(booking, tom, "Answering both")
    assert svc.unread_counts(tom) == {}
    assert svc.unread_counts(maria) == {booking.id: 1}


def test_your_own_messages_are_never_unread_for_you(booking, people):
    maria, tom = people
    svc.send_message(booking, tom, "Welcome!")
    svc.send_message(booking, maria, "Thanks")
    assert svc.unread_counts(maria) == {}
    assert svc.unread_counts(tom) == {booking.id: 1}


def test_unread_counts_take_one_query(people, users):
    maria, tom = people
    for day in range(3):
        student = users.make("student")
        b = make_booking(tom, student, starts_at=STARTS + timedelta(days=day))
        svc.send_message(b, student, "hi")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.expire_all()
    assert tom.role == "instructor"  # load the user first: only the two reads below may run
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        counts = svc.unread_counts(tom)
        banner = svc.newest_unread(tom)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(counts) == 3
    assert banner is not None
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


def test_opening_a_thread_marks_it_read(booking, people):
    maria, tom = people
    svc.send_message(booking, maria, "one")
    svc.send_message(booking, maria, "two")
    svc.mark_read(booking, tom)
    assert svc.unread_counts(tom) == {}
    svc.send_message(booking, maria, "three")
    assert svc.unread_counts(tom) == {booking.id: 1}


def test_the_banner_shows_the_newest_unread_message_with_sender_lesson_and_first_words(people, users):
    maria, tom = people
    booking = make_booking(tom, maria)
    svc.send_message(booking, maria, "Hello")
    long = "Can we focus on cross-body lead? " * 5
    latest = svc.send_message(booking, maria, long)
    banner = svc.newest_unread(tom)
    assert banner is not None
    assert banner.message_id == latest.id
    assert banner.sender_name == "Maria Lopez"
    assert banner.lesson_starts_at == STARTS
    assert banner.preview.startswith("Can we focus on cross-body lead?")
    assert banner.preview.endswith("…") and len(banner.preview) <= svc.PREVIEW_CHARS + 1
    assert svc.newest_unread(maria) is None


def test_dismissing_the_banner_hides_it_but_keeps_the_thread_unread(booking, people):
    maria, tom = people
    message = svc.send_message(booking, maria, "Can we focus on cross-body lead?")
    svc.dismiss_banner(booking, tom, message.id)
    assert svc.newest_unread(tom) is None
    assert svc.unread_counts(tom) == {booking.id: 1}
    newer = svc.send_message(booking, maria, "And spins?")
    assert svc.newest_unread(tom).message_id == newer.id


def test_an_owner_follows_a_thread_once_they_write_in_it(booking, people, users):
    maria, tom = people
    owner = users.make("owner")
    svc.send_message(booking, maria, "hi")
    assert svc.unread_counts(owner) == {}
    svc.send_message(booking, owner, "Studio here.")
    svc.send_message(booking, maria, "Thanks!")
    assert svc.unread_counts(owner) == {booking.id: 1}


def test_preview_flattens_line_breaks_and_cuts_at_a_word():
    assert svc.preview("Line one\n\nline two") == "Line one line two"
    cut = svc.preview("word " * 40)
    assert cut.endswith("word…")


# --- live events -----------------------------------------------------------------------------------

def test_sending_publishes_message_sent_after_commit_to_both_parties(booking, people, redis_client):
    maria, tom = people
    message = svc.send_message(booking, maria, "Can we focus on cross-body lead?")
    for user in (tom, maria):
        sent = [e for e in events_for(redis_client, user.id) if e["type"] == "message.sent"]
        assert len(sent) == 1
        assert sent[0]["data"] == {
            "booking_id": booking.id, "message_id": message.id, "sender_id": maria.id,
            "sender_name": "Maria Lopez", "preview": "Can we focus on cross-body lead?",
            "lesson_starts_at": "2030-02-05T14:00:00Z",
        }


def test_a_refused_message_publishes_nothing(booking, people, redis_client):
    maria, tom = people
    with pytest.raises(ServiceError):
        svc.send_message(booking, maria, " ")
    assert events_for(redis_client, tom.id) == []


def test_strangers_and_other_owners_get_no_message_events(booking, people, users, redis_client):
    maria, _ = people
    stranger = users.make("student")
    owner = users.make("owner")
    svc.send_message(booking, maria, "private")
    assert events_for(redis_client, stranger.id) == []
    assert events_for(redis_client, owner.id) == []
    assert redis_client.lrange("ev:log:studio", 0, -1) == []


def test_marking_read_tells_only_the_readers_own_tabs(booking, people, redis_client):
    maria, tom = people
    message = svc.send_message(booking, maria, "hi")
    svc.mark_read(booking, tom)
    read = [e for e in events_for(redis_client, tom.id) if e["type"] == "message.read"]
    assert [e["data"] for e in read] == [{"booking_id": booking.id, "last_read_message_id": message.id}]
    assert [e for e in events_for(redis_client, maria.id) if e["type"] == "message.read"] == []
    svc.mark_read(booking, tom)  # nothing new: no second event
    assert len([e for e in events_for(redis_client, tom.id) if e["type"] == "message.read"]) == 1


def test_sending_queues_the_batched_mail_for_the_other_party_in_the_same_transaction(booking, people):
    maria, tom = people
    svc.send_message(booking, maria, "one")
    svc.send_message(booking, maria, "two")
    queued = db.session.scalars(sa.select(Effect).where(Effect.kind == "mail")).all()
    assert [(e.payload["user_id"], e.payload["template"]) for e in queued] == [(tom.id, "messages")]
    with pytest.raises(ServiceError):
        svc.send_message(booking, tom, "")
    assert count(Effect, Effect.kind == "mail") == 1
