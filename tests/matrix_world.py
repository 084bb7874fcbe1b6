"""The world the authorization matrix and the API fuzzer run in: A's people and objects, and B's.

Student A has a pending and a confirmed lesson with instructor A (a thread, a notification, a calendar feed);
student B has a confirmed lesson with instructor B. Dates are in February 2026, under the frozen clock NOW.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import sqlalchemy as sa

from booking_app.extensions import db
from booking_app.models import AccessLink, ApiToken, Block, Booking, Notification, OneTimeWindow, WeeklyWindow
from tests.booking_helpers import at, open_hours
from tests.conftest import Users


def build_world() -> dict[str, Any]:
    """Create A's and B's people and objects; return placeholders, bearer tokens and user ids by actor."""
    from booking_app.services import bookings, messages
    from booking_app.services.availability import add_block, add_one_time_window
    from booking_app.services.effects import run_due
    from booking_app.services.feed import enable_feed
    from booking_app.services.invitations import invite
    from booking_app.services.notifications import notify
    from booking_app.services.sessions import issue_token

    users = Users()
    people = {
        "owner": users.make("owner", name="Olivia Owner"),
        "instructor_a": users.make("instructor", name="Ada Instructor"),
        "instructor_b": users.make("instructor", name="Ben Instructor"),
        "student_a": users.make("student", name="Sam Student"),
        "student_b": users.make("student", name="Sue Student"),
    }
    ia, ib, sa_, sb = (people[k] for k in ("instructor_a", "instructor_b", "student_a", "student_b"))
    open_hours(ia)
    open_hours(ib)
    one_time = add_one_time_window(ia, ia.id, occurs_on=at(20, 0).date(), start_time=time(18), end_time=time(20),
                                   lesson_minutes=60).item
    add_one_time_window(ib, ib.id, occurs_on=at(20, 0).date(), start_time=time(18), end_time=time(20),
                        lesson_minutes=60)
    block = add_block(ia, ia.id, start_on=at(25, 0).date(), end_on=at(25, 0).date(), start_time=None,
                      end_time=None, reason="Conference").item
    add_block(ib, ib.id, start_on=at(25, 0).date(), end_on=at(25, 0).date(), start_time=None, end_time=None,
              reason="Holiday")
    pending = bookings.request_booking(sa_, ia.id, at(10, 10), None, "First lesson").booking
    confirmed = bookings.request_booking(sa_, ia.id, at(11, 10), None, "").booking
    bookings.confirm(ia, confirmed.id)
    other = bookings.request_booking(sb, ib.id, at(10, 10), None, "").booking
    bookings.confirm(ib, other.id)
    message = messages.send_message(confirmed, sa_, "See you on Wednesday.")
    messages.send_message(confirmed, ia, "Looking forward to it.")
    messages.send_message(other, sb, "Hello Ben.")
    run_due()
    notify(sa_.id, "booking.confirmed", "Ada confirmed your lesson.", booking_id=confirmed.id)
    notify(sb.id, "booking.confirmed", "Ben confirmed your lesson.", booking_id=other.id)
    enable_feed(sa_)
    enable_feed(sb)
    db.session.commit()
    notification = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == sa_.id).order_by(Notification.id.desc())
    ).first()
    weekly = db.session.scalars(
        sa.select(WeeklyWindow).where(WeeklyWindow.instructor_id == ia.id).order_by(WeeklyWindow.id)
    ).first()
    assert notification is not None and weekly is not None and isinstance(one_time, OneTimeWindow)
    assert isinstance(block, Block)
    assert db.session.get(Booking, pending.id).status == "pending"
    invitation = invite(ia, email="ivy@example.test", name="Ivy Invited", role="student")
    past = _past_lesson(ia, sa_)
    names = {
        "invitation": str(invitation.link.id), "invitation_token": invitation.url.rsplit("/", 1)[1],
        "booking": str(confirmed.id), "pending": str(pending.id), "message": str(message.id),
        "notification": str(notification.id), "weekly": str(weekly.id), "one_time": str(one_time.id),
        "block": str(block.id), "instructor_a": str(ia.id), "user": str(sa_.id),
        "token": str(db.session.get(type(sa_), sa_.id).feed_token), "student_a_email": sa_.email,
    }
    names["past"] = str(past.id)
    names.update(_link_names(ia, sa_, pending, confirmed))
    names.update(_series_names(ia, sa_))
    tokens = {actor: issue_token(person, "matrix") for actor, person in people.items()}
    names["token_a"] = str(db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == sa_.id)))
    ids = {actor: person.id for actor, person in people.items()}
    return {"names": names, "tokens": tokens, "ids": ids}


def _series_names(instructor: Any, student: Any) -> dict[str, str]:
    """Return student A's weekly series with instructor A: one pending as asked, one booked in by the instructor."""
    from booking_app.services.bookings import series

    asked = series.request_series(student, instructor.id, at(3, 14), 60, 3).series
    booked = series.request_series(instructor, instructor.id, at(4, 14), 60, 2, student_id=student.id).series
    assert asked is not None and booked is not None
    return {"series": str(asked.id), "series_booked": str(booked.id)}


def _link_names(instructor: Any, student: Any, pending: Booking, confirmed: Booking) -> dict[str, str]:
    """Return the tokens of A's action links (as mailed) and of student A's personal link to instructor A."""
    from booking_app.domain.mail_actions import MailAction
    from booking_app.services import action_tokens, booking_links

    names = {f"act_{action.value}": action_tokens.sign(action, pending, instructor)
             for action in (MailAction.ACCEPT, MailAction.DECLINE)}
    names.update({f"act_{action.value}": action_tokens.sign(action, confirmed, student)
                  for action in (MailAction.CANCEL, MailAction.RESCHEDULE)})
    booking_links.give_link(instructor, student_id=student.id)
    link = db.session.scalars(sa.select(AccessLink).order_by(AccessLink.id.desc())).first()
    assert link is not None
    names["share"] = str(booking_links.link_url(link)).rsplit("/", 1)[-1]
    return names


def restore_rows(rows: dict[str, list[dict[str, Any]]]) -> None:
    """Put every table back to the rows a world was built with (after a request wrote something)."""
    db.session.remove()
    tables = list(db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if rows[table.name] and table.name != "schedule_versions":
                conn.execute(table.insert(), rows[table.name])
        # The rows above bumped the schedule versions (database triggers): put the counters back last.
        versions = db.metadata.tables["schedule_versions"]
        conn.execute(versions.delete())
        if rows["schedule_versions"]:
            conn.execute(versions.insert(), rows["schedule_versions"])


def _past_lesson(instructor: Any, student: Any) -> Booking:
    """Add a lesson of the student with the instructor that took place the day before NOW (lesson notes are open)."""
    from datetime import timedelta

    from tests.booking_helpers import NOW

    starts_at = NOW - timedelta(days=1)
    past = Booking(instructor_id=instructor.id, student_id=student.id, starts_at=starts_at,
                   ends_at=starts_at + timedelta(hours=1), status="completed", expires_at=starts_at, created_at=starts_at,
                   updated_at=starts_at)
    db.session.add(past)
    db.session.commit()
    return past
