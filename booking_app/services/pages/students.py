"""The students pages' models: an instructor's students list (every instructor's for the owner), and one student."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ... import wording
from ...domain.students import COLOURS
from ...extensions import db
from ...models import Booking, User
from .. import ServiceError
from .. import bookings as booking_service
from ..availability import list_instructors
from ..booking_filters import holds_slot
from ..students import StudentRow, instructor_for, student_for, student_rows

SORTS = {
    "name": "Name",
    "next": "Next lesson",
    "last": "Last lesson",
    "recent": "Lessons in 90 days",
    "unread": "Unread messages",
}


def _sorted(rows: list[StudentRow], sort: str) -> list[StudentRow]:
    by_name = sorted(rows, key=lambda r: (r.student.name.casefold(), r.student.id))
    if sort == "next":  # soonest first, students without a next lesson last
        return sorted(by_name, key=lambda r: (r.next_at is None, r.next_at.timestamp() if r.next_at else 0))
    if sort == "last":  # most recent first
        return sorted(
            by_name, key=lambda r: (r.last_at is None, -(r.last_at.timestamp() if r.last_at else 0))
        )
    if sort == "recent":
        return sorted(by_name, key=lambda r: -r.recent)
    if sort == "unread":
        return sorted(by_name, key=lambda r: -r.unread)
    return by_name


def _matches(row: StudentRow, query: str) -> bool:
    needle = query.casefold()
    return (
        needle in row.student.name.casefold()
        or needle in row.student.email.casefold()
        or needle in row.note.casefold()
    )


@dataclass
class StudentGroup:
    """One instructor's students on the page."""

    instructor: User
    rows: list[StudentRow]


@dataclass
class StudentsPage:
    """What the students list shows: the instructor picker (the owner), each instructor's matching students."""

    viewer: User
    instructors: list[User]  # whose lists the viewer may open
    chosen: User | None  # None: every instructor's (the owner)
    groups: list[StudentGroup]
    query: str
    sort: str
    total: int  # different students before the search (one who learns with two instructors counts once)
    sorts: dict[str, str] = field(default_factory=lambda: dict(SORTS))

    @property
    def shown(self) -> int:
        """Count the students the search left."""
        return sum(len(g.rows) for g in self.groups)


def students_page(
    viewer: User, instructor_id: int | None, query: str, sort: str, now: datetime
) -> StudentsPage:
    """Build the students list: the viewer's own, or for the owner every instructor's (or the one picked)."""
    if not viewer.teaches:
        raise ServiceError(wording.STUDENTS_FORBIDDEN, "forbidden", 403)
    sort = sort if sort in SORTS else "name"
    query = query.strip()[:100]
    if viewer.is_owner:
        instructors = list_instructors()
        chosen = next((i for i in instructors if i.id == instructor_id), None) if instructor_id else None
        if instructor_id and chosen is None:
            chosen = instructor_for(viewer, instructor_id)  # an inactive instructor's list, or a refusal
        shown = [chosen] if chosen else instructors
    else:
        if instructor_id and instructor_id != viewer.id:
            instructor_for(viewer, instructor_id)  # refuses
        instructors, chosen = [viewer], viewer
        shown = [viewer]
    rows = student_rows(viewer, [i.id for i in shown], now)
    groups = []
    for instructor in shown:
        mine = [r for r in rows if r.instructor_id == instructor.id]
        if query:
            mine = [r for r in mine if _matches(r, query)]
        if mine or chosen is not None:
            groups.append(StudentGroup(instructor, _sorted(mine, sort)))
    return StudentsPage(
        viewer=viewer,
        instructors=instructors,
        chosen=chosen,
        groups=groups,
        query=query,
        sort=sort,
        total=len({r.student.id for r in rows}),
    )


@dataclass
class StudentPage:
    """One student as staff see them: their lessons with the instructor, lesson notes, the note and colour."""

    student: User
    instructor: User | None  # whose student; None when the owner looks across every instructor
    row: StudentRow | None
    upcoming: list[Booking]
    past: list[Booking]
    statuses: dict[int, str]
    colours: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(COLOURS))

    @property
    def lessons_with_notes(self) -> list[Booking]:
        """Return the past lessons that have a summary or a private note, newest first."""
        return [b for b in self.past if b.lesson_summary or b.private_note]


PAST_SHOWN = 200


def student_page(viewer: User, student_id: int, instructor_id: int | None, now: datetime) -> StudentPage:
    """Build one student's page for staff (the instructor's own student, or anyone for the owner)."""
    instructor = instructor_for(viewer, instructor_id) if instructor_id else None
    if instructor is None and not viewer.is_owner:
        instructor = viewer
    student = student_for(viewer, student_id, instructor)
    where = [Booking.student_id == student.id]
    if instructor is not None:
        where.append(Booking.instructor_id == instructor.id)
    ahead = sa.and_(holds_slot(now), Booking.ends_at > now)
    upcoming = list(
        db.session.scalars(
            sa.select(Booking).where(*where, ahead).order_by(Booking.starts_at, Booking.id)
        ).unique()
    )
    past = list(
        db.session.scalars(
            sa.select(Booking)
            .where(*where, sa.not_(ahead))
            .order_by(Booking.starts_at.desc(), Booking.id.desc())
            .limit(PAST_SHOWN)
        ).unique()
    )
    row = None
    if instructor is not None:
        row = next(
            (r for r in student_rows(viewer, [instructor.id], now) if r.student.id == student.id), None
        )
    statuses = {b.id: booking_service.status_of(b, now).value for b in (*upcoming, *past)}
    return StudentPage(
        student=student, instructor=instructor, row=row, upcoming=upcoming, past=past, statuses=statuses
    )
