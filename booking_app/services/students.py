"""Each instructor's students: who they are, how their lessons go, and the note and colour staff keep about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .. import wording
from ..domain import bounds
from ..domain.bookings import Role, Status
from ..domain.links import LinkPurpose
from ..domain.students import COLOURS, MAX_STUDENT_NOTE, RECENT_DAYS, colour_problem, may_keep_notes
from ..extensions import db
from ..models import AccessLink, Booking, StudentNote, User
from . import ServiceError, clock
from .booking_filters import holds_slot
from .messages import unread_by_student

# Lessons that took place (or were due to and nobody said otherwise): they count as lessons given.
HELD = (Status.CONFIRMED.value, Status.COMPLETED.value)


@dataclass
class StudentRow:
    """One student of one instructor, as the students list shows them."""

    instructor_id: int
    student: User
    next_at: datetime | None = None
    last_at: datetime | None = None
    recent: int = 0  # lessons held in the last RECENT_DAYS days
    no_shows: int = 0
    lessons: int = 0  # bookings of every status
    unread: int = 0
    note: str = ""
    colour: str | None = None

    @property
    def colour_hex(self) -> str | None:
        """Return the colour's accent, or None without a colour."""
        return COLOURS[self.colour][1] if self.colour in COLOURS else None

    @property
    def invited_only(self) -> bool:
        """Tell whether the student joined from this instructor's invitation and has no booking yet."""
        return self.lessons == 0


def _invited(instructor_ids: list[int]) -> Any:  # a select of (instructor id, student id)
    """(instructor id, student id) of students who joined from an invitation the instructor sent."""
    return (
        sa.select(AccessLink.created_by_id, User.id)
        .join(User, User.email == AccessLink.email)
        .where(
            AccessLink.purpose == LinkPurpose.INVITATION.value,
            AccessLink.used_at.is_not(None),
            AccessLink.created_by_id.in_(instructor_ids),
            User.deleted_at.is_(None),
        )
    )


def student_rows(viewer: User, instructor_ids: list[int], now: datetime) -> list[StudentRow]:
    """Return the students of these instructors, with their lesson figures, in five statements however many."""
    if not instructor_ids:
        return []
    recent_from = now - timedelta(days=RECENT_DAYS)
    held = Booking.status.in_(HELD)
    figures = db.session.execute(
        sa.select(
            Booking.instructor_id,
            Booking.student_id,
            sa.func.min(sa.case((sa.and_(holds_slot(now), Booking.starts_at > now), Booking.starts_at))),
            sa.func.max(sa.case((sa.and_(held, Booking.starts_at <= now), Booking.starts_at))),
            sa.func.count(
                sa.case((sa.and_(held, Booking.starts_at <= now, Booking.starts_at >= recent_from), 1))
            ),
            sa.func.count(sa.case((Booking.status == Status.NO_SHOW.value, 1))),
            sa.func.count(Booking.id),
        )
        .where(Booking.instructor_id.in_(instructor_ids))
        .group_by(Booking.instructor_id, Booking.student_id)
    ).all()
    pairs: dict[tuple[int, int], dict[str, object]] = {}
    for instructor_id, student_id, next_at, last_at, recent, no_shows, lessons in figures:
        pairs[(instructor_id, student_id)] = {
            "next_at": next_at,
            "last_at": last_at,
            "recent": int(recent),
            "no_shows": int(no_shows),
            "lessons": int(lessons),
        }
    for instructor_id, student_id in db.session.execute(_invited(instructor_ids)).all():
        if instructor_id is not None and instructor_id != student_id:
            pairs.setdefault((instructor_id, student_id), {})
    if not pairs:
        return []
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_({s for _, s in pairs}), User.deleted_at.is_(None)))}
    notes = {
        (n.instructor_id, n.student_id): n
        for n in db.session.scalars(
            sa.select(StudentNote).where(StudentNote.instructor_id.in_(instructor_ids))
        )
    }
    unread = unread_by_student(viewer, instructor_ids)
    rows = []
    for (instructor_id, student_id), values in pairs.items():
        person = people.get(student_id)
        if person is None:
            continue
        note = notes.get((instructor_id, student_id))
        rows.append(
            StudentRow(
                instructor_id=instructor_id,
                student=person,
                **values,  # type: ignore[arg-type]
                unread=unread.get((instructor_id, student_id), 0),
                note=note.note if note else "",
                colour=note.colour if note else None,
            )
        )
    rows.sort(key=lambda r: (r.student.name.casefold(), r.student.id))
    return rows


def _check_staff(viewer: User, instructor: User) -> None:
    if not viewer.teaches:
        raise ServiceError(wording.STUDENTS_FORBIDDEN, "forbidden", 403)
    if not instructor.teaches:
        raise ServiceError(wording.NOT_AN_INSTRUCTOR, "not_found", 404)
    if not may_keep_notes(viewer.id, viewer.is_owner, instructor.id):
        raise ServiceError(wording.STUDENTS_OF_OTHERS, "forbidden", 403)


def instructor_for(viewer: User, instructor_id: int) -> User:
    """Return the instructor whose students the viewer asks about, if the viewer may see them (else refuse)."""
    instructor = db.session.get(User, instructor_id)
    if instructor is None or instructor.is_deleted:
        if not viewer.teaches:
            raise ServiceError(wording.STUDENTS_FORBIDDEN, "forbidden", 403)
        raise ServiceError(wording.NOT_AN_INSTRUCTOR, "not_found", 404)
    _check_staff(viewer, instructor)
    return instructor


def students_of(viewer: User, instructor: User, now: datetime | None = None) -> list[StudentRow]:
    """Return the instructor's students (everyone with a booking with them, and students they invited)."""
    _check_staff(viewer, instructor)
    return student_rows(viewer, [instructor.id], now or clock.now())


def is_student_of(instructor_id: int, student_id: int) -> bool:
    """Tell whether the person booked with the instructor or joined from the instructor's invitation."""
    if instructor_id == student_id:
        return False
    booked = sa.exists().where(Booking.instructor_id == instructor_id, Booking.student_id == student_id)
    invited = sa.exists(_invited([instructor_id]).where(User.id == student_id))
    return bool(db.session.scalar(sa.select(sa.or_(booked, invited))))


def student_for(viewer: User, student_id: int, instructor: User | None) -> User:
    """Return the student the viewer asks about: one of the instructor's (any person for the owner without one)."""
    if not viewer.teaches:
        raise ServiceError(wording.STUDENTS_FORBIDDEN, "forbidden", 403)
    student = db.session.get(User, student_id)
    if student is None:
        raise ServiceError(wording.STUDENT_NOT_FOUND, "not_found", 404)
    if instructor is None:
        if not viewer.is_owner:
            instructor = viewer
        elif Role(student.role) is Role.STUDENT or db.session.scalar(
            sa.select(sa.exists().where(Booking.student_id == student_id))
        ):
            return student
        else:
            raise ServiceError(wording.STUDENT_NOT_FOUND, "not_found", 404)
    _check_staff(viewer, instructor)
    if not is_student_of(instructor.id, student_id):
        raise ServiceError(wording.STUDENT_NOT_FOUND, "not_found", 404)
    return student


def clean_text(raw: str | None) -> str:
    """Return a note as stored: line ends made plain, blank lines around it removed."""
    return (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def note_problem(text: str, label: str, most: int) -> str | None:
    """Return a sentence when a note holds characters that cannot be stored or is too long, else None."""
    return bounds.text_problem(text, label) or (
        wording.text_too_long(label, most) if len(text) > most else None
    )


def set_student_note(
    viewer: User,
    instructor_id: int,
    student_id: int,
    note: str | None,
    colour: str | None,
    now: datetime | None = None,
) -> StudentNote:
    """Keep the instructor's private note and colour for one of their students (the instructor or the owner)."""
    now = now or clock.now()
    instructor = instructor_for(viewer, instructor_id)
    student = student_for(viewer, student_id, instructor)
    text = clean_text(note)
    problem = note_problem(text, "note", MAX_STUDENT_NOTE)
    if problem:
        raise ServiceError(problem, "invalid", 422, field="note")
    colour = (colour or "").strip() or None
    problem = colour_problem(colour)
    if problem:
        raise ServiceError(problem, "invalid", 422, field="colour")
    row = db.session.get(StudentNote, (instructor.id, student.id))
    if row is None:
        row = StudentNote(instructor_id=instructor.id, student_id=student.id, created_at=now)
        db.session.add(row)
    row.note, row.colour, row.updated_at = text, colour, now
    db.session.commit()
    return row
