"""Lesson notes: a summary the student sees (and is mailed), and a private note only staff see, with their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .. import wording
from ..domain.students import (
    MAX_LESSON_SUMMARY,
    MAX_PRIVATE_NOTE,
    PRIVATE_NOTE,
    SUMMARY,
    lesson_notes_refusal,
    may_keep_notes,
)
from ..extensions import db
from ..models import Booking, LessonNoteChange, User
from ..realtime import STUDIO_CHANNEL, publish, user_channel
from . import ServiceError, clock
from .bookings import get_for, status_of
from .notifications import notify
from .students import clean_text, note_problem


@dataclass
class LessonNotesSaved:
    """What writing the lesson notes did."""

    booking: Booking
    changed: list[str]  # the fields that changed, in NOTE_FIELDS order
    mailed: bool  # whether the student is sent the new summary


def is_staff_of(viewer: User, booking: Booking) -> bool:
    """Tell whether the viewer sees a booking as staff: its instructor or the owner, never its student."""
    return viewer.id != booking.student_id and may_keep_notes(
        viewer.id, viewer.is_owner, booking.instructor_id
    )


def notes_refusal(viewer: User, booking: Booking, now: datetime) -> str | None:
    """Return why this staff member cannot write the booking's lesson notes now, else None."""
    return lesson_notes_refusal(status_of(booking, now), booking.starts_at, now)


def write_lesson_notes(
    user: User, booking_id: int, summary: str | None, private_note: str | None, now: datetime | None = None
) -> LessonNotesSaved:
    """Write a started lesson's summary and private note (its instructor or the owner); mail a new summary.

    A field given as None is left as it is. Each change is kept in the lesson notes' history.
    """
    now = now or clock.now()
    booking = get_for(user, booking_id)
    if not is_staff_of(user, booking):
        raise ServiceError(wording.LESSON_NOTES_FORBIDDEN, "forbidden", 403)
    wanted: dict[str, str] = {}
    for name, raw, label, most in (
        (SUMMARY, summary, "lesson summary", MAX_LESSON_SUMMARY),
        (PRIVATE_NOTE, private_note, "private note", MAX_PRIVATE_NOTE),
    ):
        if raw is None:
            continue
        text = clean_text(raw)
        problem = note_problem(text, label, most)
        if problem:
            raise ServiceError(problem, "invalid", 422, field=name)
        wanted[name] = text
    refusal = notes_refusal(user, booking, now)
    if refusal:
        raise ServiceError(refusal, "not_started", 409)
    current = {SUMMARY: booking.lesson_summary, PRIVATE_NOTE: booking.private_note}
    changed = [name for name, text in wanted.items() if text != current[name]]
    if not changed:
        return LessonNotesSaved(booking, [], False)
    values = {"lesson_summary" if name == SUMMARY else "private_note": wanted[name] for name in changed}
    db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking.id)
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(booking, [*values, "updated_at"])
    for name in changed:
        db.session.add(
            LessonNoteChange(booking_id=booking.id, actor_id=user.id, field=name, body=wanted[name], at=now)
        )
    mailed = SUMMARY in changed and bool(wanted[SUMMARY])
    if mailed:
        # The notification carries the mail (services/notifications.py MAIL_FOR_KIND): one per change of summary.
        notify(
            booking.student_id,
            "booking.lesson_summary",
            wording.lesson_summary_notice(
                user.name if user.id == booking.instructor_id else booking.instructor.name,
                wording.when_abbreviated(booking.starts_at, booking.student.timezone or "UTC"),
            ),
            booking_id=booking.id,
        )
    # Staff pages refresh the notes; the student's page refreshes the summary (the event carries no text).
    channels = [user_channel(booking.instructor_id), STUDIO_CHANNEL]
    if SUMMARY in changed:
        channels.append(user_channel(booking.student_id))
    publish(
        channels,
        "booking.notes",
        {"booking_id": booking.id, "instructor_id": booking.instructor_id, "student_id": booking.student_id},
    )
    db.session.commit()
    return LessonNotesSaved(booking, changed, mailed)


def note_history(viewer: User, booking: Booking) -> list[LessonNoteChange]:
    """Return the changes of the booking's lesson notes this viewer may see: staff all, the student the summary's."""
    query = sa.select(LessonNoteChange).where(LessonNoteChange.booking_id == booking.id)
    if not is_staff_of(viewer, booking):
        query = query.where(LessonNoteChange.field == SUMMARY)
    return list(db.session.scalars(query.order_by(LessonNoteChange.id)).unique())


@dataclass
class LessonNotesView:
    """The booking page's lesson notes for one viewer: staff see both notes and may write them once it started."""

    staff: bool
    summary: str
    private_note: str | None  # None for the student: never sent to them
    can_write: bool
    refusal: str | None  # why staff cannot write them yet (or at all)
    changes: list[LessonNoteChange]

    @property
    def shown(self) -> bool:
        """Tell whether the page has anything to show about lesson notes."""
        return self.staff or bool(self.summary)


def lesson_notes_view(viewer: User, booking: Booking, now: datetime) -> LessonNotesView:
    """Build the lesson notes part of the booking page for this viewer."""
    staff = is_staff_of(viewer, booking)
    refusal = notes_refusal(viewer, booking, now) if staff else None
    return LessonNotesView(
        staff=staff,
        summary=booking.lesson_summary,
        private_note=booking.private_note if staff else None,
        can_write=staff and refusal is None,
        refusal=refusal,
        changes=note_history(viewer, booking),
    )
